/*
 * sync.c — block sync and fork requests (net layer): the window of blocks
 * fetched ahead of the head from several peers, the blocks served to peers
 * that ask, and the requests the chain thread's fork database makes (a
 * competing head and its ancestors). The window and the fork inbox are
 * shared with the chain thread under `slock`; the rest runs on the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_internal.h"

#define LOG "net"

/*
 * Sends a fork request (loop thread, without slock: a send may drop the
 * peer, which takes slock).
 */
static void freq_send(ssp_net *n, freq q)
{
	peer *p = net_peer_by_id(n, q.peer);
	if (!p || p->state != C_OPEN) return; /* the request expires unanswered */
	ssp_buf b;
	net_get_blocks g = {q.from, q.count};
	ssp_buf_init(&b, 16);
	net_get_blocks_encode(&b, &g);
	(void)net_send_buf(p, NET_GET_BLOCKS, &b);
}

/* Adds a fork request (slock held); the oldest gives way when the table is full. */
static freq *freq_add(ssp_net *n, uint64_t peer_id, uint64_t from, uint32_t count)
{
	for (size_t i = 0; i < n->nfreqs; i++) /* the same request again: refresh it */
		if (n->freqs[i].peer == peer_id && n->freqs[i].from == from &&
		    n->freqs[i].count == count) {
			n->freqs[i].sent = false;
			return &n->freqs[i];
		}
	if (n->nfreqs == FORK_REQS) {
		memmove(n->freqs, n->freqs + 1, (FORK_REQS - 1) * sizeof *n->freqs);
		n->nfreqs--;
	}
	n->freqs[n->nfreqs] = (freq){.peer = peer_id, .from = from, .count = count};
	return &n->freqs[n->nfreqs++];
}

/*
 * A peer at our height with another head: a competing branch the sync
 * window never fetches (it asks only for heights above ours). Fetch that
 * head once; the chain thread's fork database asks for its ancestors.
 */
void net_fork_check(peer *p)
{
	ssp_net *n = p->net;
	ssp_net_head h;
	n->cfg.head(n->cfg.ctx, &h);
	if (h.height == 0 || !memcmp(p->head.id.b, h.id.b, 32) ||
	    !memcmp(p->fork_asked.b, p->head.id.b, 32))
		return;
	if (p->head.height != h.height) {
		/*
		 * A peer below (or at) us whose chain is final further than ours holds a
		 * branch we must weigh: ours may be one the others outvoted (a producer that
		 * ran ahead alone). Fetch its head unless it is on our chain.
		 */
		if (p->head.height > h.height || p->head.finalized <= h.finalized) return;
		ssp_txn *rt = NULL;
		uint64_t at;
		bool ours = !ssp_store_read(ssp_chain_store(n->cfg.chain), &rt) &&
		            !ssp_chain_read_block_height(n->cfg.chain, rt, &p->head.id, &at);
		if (rt) ssp_txn_end(rt);
		if (ours) return;
	}
	p->fork_asked = p->head.id;
	pthread_mutex_lock(&n->slock);
	freq *q = freq_add(n, p->id, p->head.height, 1);
	q->sent = true;
	q->t_ms = ssp_now_ms();
	freq copy = *q;
	pthread_mutex_unlock(&n->slock);
	freq_send(n, copy);
}

/* --------------------------------------------------------------- gossip */

/*
 * Sends the blocks the peer asked for while its send queue is below
 * SERVE_SENDQ; the rest waits until the queue drains (on_written), so big
 * blocks are all served without more than SERVE_SENDQ + one block queued.
 */
void net_serve_blocks(peer *p)
{
	ssp_net *n = p->net;
	ssp_txn *rt = NULL;
	if (p->state != C_OPEN || ssp_store_read(ssp_chain_store(n->cfg.chain), &rt)) return;
	while (p->nserve && p->sendq < SERVE_SENDQ && p->state == C_OPEN) {
		const uint8_t *raw;
		size_t len;
		int rc = ssp_chain_read_block(n->cfg.chain, rt, p->serve[0].from, &raw, &len);
		/* not there (yet), or a local read error: the peer asks elsewhere */
		if (!rc) rc = net_send_frame(p, NET_BLOCK, raw, len);
		p->serve[0].from++;
		if (rc || !--p->serve[0].count) {
			memmove(p->serve, p->serve + 1, --p->nserve * sizeof *p->serve);
		}
	}
	ssp_txn_end(rt);
}

void net_on_get_blocks(peer *p, const net_get_blocks *g)
{
	if (p->nserve == SERVE_RANGES) return; /* it asks faster than it reads: it asks again */
	p->serve[p->nserve].from = g->from;
	p->serve[p->nserve].count = g->count;
	p->nserve++;
	net_serve_blocks(p);
}

void net_on_block(peer *p, const uint8_t *raw, size_t len)
{
	ssp_net *n = p->net;
	uint64_t h;
	bool ready = false;
	if (net_block_height(&h, raw, len)) {
		net_misbehave(p, SCORE_BAN, "malformed block");
		return;
	}
	p->blocks_in++;
	atomic_fetch_add(&n->stats.blocks_in, 1);
	if (p->inflight) p->inflight--;
	p->last_block_ms = ssp_now_ms();
	if (h > p->head.height) p->head.height = h;
	pthread_mutex_lock(&n->slock);
	sslot *s = &n->win[h % SYNC_WIN];
	if (h >= n->base && h < n->base + SYNC_WIN && s->height == h && s->st == S_REQUESTED &&
	    n->win_bytes + len <= SYNC_BYTES) {
		uint8_t *copy = malloc(len);
		if (copy) {
			memcpy(copy, raw, len);
			s->raw = copy;
			s->len = len;
			s->st = S_HAVE;
			s->peer = p->id;
			n->win_bytes += len;
		}
	} else {
		/* not for the window: an answer to a fork request from this peer? */
		for (size_t i = 0; i < n->nfreqs; i++) {
			freq *q = &n->freqs[i];
			if (!q->sent || q->peer != p->id || h < q->from || h >= q->from + q->count)
				continue;
			if (n->nfinbox < FORK_INBOX && n->finbox_bytes + len <= FORK_BYTES) {
				uint8_t *copy = malloc(len);
				if (copy) {
					memcpy(copy, raw, len);
					n->finbox[n->nfinbox++] = (fblock){copy, len, p->id};
					n->finbox_bytes += len;
					ready = true;
				}
			}
			break;
		}
	}
	sslot *b = &n->win[n->base % SYNC_WIN];
	ready = ready || (b->height == n->base && b->st == S_HAVE);
	pthread_mutex_unlock(&n->slock);
	if (ready) n->cfg.blocks_ready(n->cfg.ctx);
}

/* ----------------------------------------------------------------- sync */

/* A peer that has height h and room for more requests, round-robin. */
static peer *pick_peer(ssp_net *n, uint64_t h)
{
	size_t count = 0;
	for (peer *p = n->peers; p; p = p->next)
		count++;
	if (!count) return NULL;
	for (size_t k = 0; k < count; k++) {
		size_t want = (size_t)((n->rr + k) % count), i = 0;
		for (peer *p = n->peers; p; p = p->next, i++) {
			if (i != want) continue;
			if (p->state == C_OPEN && p->head.height >= h && p->inflight < PEER_INFLIGHT &&
			    p->sendq < SERVE_SENDQ) {
				n->rr = n->rr + k + 1;
				return p;
			}
		}
	}
	return NULL;
}

/* Does the node hold block id (on its chain, or judged off it)? */
static bool holds(ssp_net *n, ssp_txn **rt, const ssp_hash *id)
{
	uint64_t at;
	if (n->cfg.have_block && n->cfg.have_block(n->cfg.ctx, id)) return true;
	if (!n->cfg.chain) return false;
	if (!*rt && ssp_store_read(ssp_chain_store(n->cfg.chain), rt)) return false;
	return ssp_chain_read_block_height(n->cfg.chain, *rt, id, &at) == 0;
}

/* The best height among peers ahead of `height` whose head the node does not hold. */
static uint64_t best_unheld(ssp_net *n, uint64_t height)
{
	uint64_t best = 0;
	ssp_txn *rt = NULL;
	for (peer *p = n->peers; p; p = p->next)
		if (p->state == C_OPEN && p->head.height > height && p->head.height > best &&
		    !holds(n, &rt, &p->head.id))
			best = p->head.height;
	ssp_txn_end(rt);
	return best;
}

/*
 * Plans block requests: heights from the next one to import up to the
 * window's end (and the best peer's height), in runs of SYNC_BATCH from
 * one peer each, spread round-robin over peers. Loop thread.
 */
void net_sync_tick(ssp_net *n)
{
	ssp_net_head h;
	uint64_t now = ssp_now_ms(), best = 0;
	if (n->stopping) return;
	n->cfg.head(n->cfg.ctx, &h);
	for (peer *p = n->peers; p; p = p->next)
		if (p->state == C_OPEN && p->head.height > best) best = p->head.height;
	atomic_store(&n->stats.best_height, best);
	atomic_store(&n->best_unheld, best_unheld(n, h.height));
	pthread_mutex_lock(&n->slock);
	if (n->base < h.height + 1) n->base = h.height + 1;
	for (size_t i = 0; i < SYNC_WIN; i++) { /* what fell below the base is stale */
		sslot *s = &n->win[i];
		if (s->st != S_EMPTY && (s->height < n->base || s->height >= n->base + SYNC_WIN)) {
			if (s->st == S_HAVE) n->win_bytes -= s->len;
			free(s->raw);
			*s = (sslot){0};
		}
	}
	for (uint64_t ht = n->base; now >= n->retry_after_ms && ht < n->base + SYNC_WIN && ht <= best;
	     ht++) {
		sslot *s = &n->win[ht % SYNC_WIN];
		peer *from = s->st == S_REQUESTED ? net_peer_by_id(n, s->peer) : NULL;
		/* a peer still delivering (big blocks take a while) is not late */
		if (s->st == S_REQUESTED && s->height == ht && now - s->t_ms > SYNC_TIMEOUT_MS &&
		    (!from || now - from->last_block_ms > SYNC_TIMEOUT_MS)) {
			peer *slow = from;
			s->st = S_EMPTY;
			if (slow) {
				if (slow->inflight) slow->inflight--;
				net_misbehave(slow, 10, "requested block not delivered in time");
			}
		}
		if (s->st != S_EMPTY || n->win_bytes > SYNC_BYTES) continue;
		uint32_t run = 1;
		while (run < SYNC_BATCH && ht + run < n->base + SYNC_WIN && ht + run <= best &&
		       n->win[(ht + run) % SYNC_WIN].st == S_EMPTY)
			run++;
		peer *p = pick_peer(n, ht + run - 1);
		while (!p && run > 1)
			p = pick_peer(n, ht + --run - 1);
		if (!p) continue;
		ssp_buf b;
		net_get_blocks g = {ht, run};
		ssp_buf_init(&b, 16);
		net_get_blocks_encode(&b, &g);
		if (net_send_buf(p, NET_GET_BLOCKS, &b)) continue;
		p->inflight += run;
		for (uint32_t k = 0; k < run; k++)
			n->win[(ht + k) % SYNC_WIN] = (sslot){.height = ht + k,
			                                      .st = S_REQUESTED,
			                                      .peer = p->id,
			                                      .t_ms = now};
		ht += run - 1;
	}
	pthread_mutex_unlock(&n->slock);
}

size_t ssp_net_take_blocks(ssp_net *n, uint8_t **raws, size_t *lens, uint64_t *peers, size_t max)
{
	size_t k = 0;
	pthread_mutex_lock(&n->slock);
	while (k < max) {
		sslot *s = &n->win[n->base % SYNC_WIN];
		if (s->height != n->base || s->st != S_HAVE) break;
		raws[k] = s->raw;
		lens[k] = s->len;
		peers[k] = s->peer;
		n->win_bytes -= s->len;
		*s = (sslot){0};
		n->base++;
		k++;
	}
	pthread_mutex_unlock(&n->slock);
	return k;
}

/*
 * A refused block that is no fault of its sender: a local failure, a block
 * ahead of our clock, one off our final block, a full fork database, a
 * delegate set not known here yet.
 */
static bool blameless(int err)
{
	return ssp_err_local(err) || err == SSP_ERR_BLOCK_EARLY || err == SSP_ERR_BFT_CONFLICT ||
	       err == SSP_ERR_FINAL_POP || err == SSP_ERR_BUSY || err == SSP_ERR_BFT_SET;
}

void ssp_net_block_failed(ssp_net *n, uint64_t height, uint64_t peer_id, int err)
{
	pthread_mutex_lock(&n->slock);
	n->base = height;
	for (size_t i = 0; i < SYNC_WIN; i++) {
		free(n->win[i].raw);
		n->win[i] = (sslot){0};
	}
	n->win_bytes = 0;
	/* a block that does not extend our head may come from a fork (no blame, retried
	 * slowly: switching branches comes with the fork database) */
	bool fork = err == SSP_ERR_BLOCK_PREV || err == SSP_ERR_BLOCK_HEIGHT;
	n->retry_after_ms = ssp_now_ms() + (err == SSP_ERR_BLOCK_EARLY ? 500 : fork ? 2000 : 1000);
	if (!blameless(err) && !fork && n->npenalties < sizeof n->penalties / sizeof *n->penalties)
		n->penalties[n->npenalties++] = (penalty){peer_id, err};
	if (!n->closed) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->slock);
}

void ssp_net_peer_failed(ssp_net *n, uint64_t peer_id, int err)
{
	if (blameless(err) || !peer_id) return;
	pthread_mutex_lock(&n->slock);
	if (n->npenalties < sizeof n->penalties / sizeof *n->penalties)
		n->penalties[n->npenalties++] = (penalty){peer_id, err};
	if (!n->closed) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->slock);
}

void ssp_net_request_blocks(ssp_net *n, uint64_t peer_id, uint64_t from, uint32_t count)
{
	if (!count || !from) return;
	if (count > NET_GET_BLOCKS_MAX) count = NET_GET_BLOCKS_MAX;
	pthread_mutex_lock(&n->slock);
	(void)freq_add(n, peer_id, from, count);
	if (!n->closed) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->slock);
}

size_t ssp_net_take_fork_blocks(ssp_net *n, uint8_t **raws, size_t *lens, uint64_t *peers,
                                size_t max)
{
	size_t k = 0;
	pthread_mutex_lock(&n->slock);
	while (k < max && k < n->nfinbox) {
		raws[k] = n->finbox[k].raw;
		lens[k] = n->finbox[k].len;
		peers[k] = n->finbox[k].peer;
		n->finbox_bytes -= n->finbox[k].len;
		k++;
	}
	memmove(n->finbox, n->finbox + k, (n->nfinbox - k) * sizeof *n->finbox);
	n->nfinbox -= k;
	pthread_mutex_unlock(&n->slock);
	return k;
}

/* Sends queued fork requests and forgets answered or expired ones (loop thread). */
void net_fork_requests(ssp_net *n)
{
	uint64_t now = ssp_now_ms();
	freq out[FORK_REQS];
	size_t nout = 0;
	pthread_mutex_lock(&n->slock);
	for (size_t i = 0; i < n->nfreqs;) {
		freq *q = &n->freqs[i];
		if (!q->sent) {
			q->sent = true;
			q->t_ms = now;
			out[nout++] = *q;
		}
		if (now - q->t_ms < SYNC_TIMEOUT_MS) {
			i++;
			continue;
		}
		memmove(q, q + 1, (n->nfreqs - i - 1) * sizeof *q);
		n->nfreqs--;
	}
	pthread_mutex_unlock(&n->slock);
	for (size_t i = 0; i < nout; i++)
		freq_send(n, out[i]);
}

void ssp_net_head_changed(ssp_net *n)
{
	pthread_mutex_lock(&n->slock);
	if (!n->closed) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->slock);
}

bool ssp_net_synced(ssp_net *n, uint64_t head_height)
{
	bool ready = atomic_load(&n->heard) || n->cfg.npeers == 0 ||
	             ssp_now_ms() - n->start_ms > HANDSHAKE_MS;
	return ready && atomic_load(&n->best_unheld) <= head_height;
}
