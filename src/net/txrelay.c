/*
 * txrelay.c — tx relay (net layer): txids announced (INV), fetched
 * (GET_TX) and served (TX), the seen set and the cache of raw txs served
 * to peers. Loop thread only.
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

/* ------------------------------------------------------------- tx sets */

static size_t tslot(const ssp_hash *id)
{
	uint64_t v;
	memcpy(&v, id->b, 8);
	return (size_t)(v & (TXSET_CAP - 1));
}

static tent *tmap_find(tmap *m, const ssp_hash *id)
{
	if (!m->e) return NULL;
	for (size_t i = tslot(id), k = 0; k < TXSET_CAP; k++, i = (i + 1) & (TXSET_CAP - 1)) {
		if (!m->e[i].used) return NULL;
		if (!memcmp(m->e[i].id.b, id->b, 32)) return &m->e[i];
	}
	return NULL;
}

void net_tmap_clear(tmap *m)
{
	if (m->e)
		for (size_t i = 0; i < TXSET_CAP; i++)
			free(m->e[i].raw);
	free(m->e);
	m->e = NULL;
	m->count = m->bytes = 0;
}

/* Two generations: when the newer one fills, the older is dropped (bounded memory). */
static tent *tset_find(tmap g[2], const ssp_hash *id)
{
	tent *e = tmap_find(&g[0], id);
	return e ? e : tmap_find(&g[1], id);
}

static tent *tset_add(tmap g[2], const ssp_hash *id, size_t bytes_cap)
{
	if (g[0].count >= TXSET_CAP / 2 || g[0].bytes > bytes_cap) {
		net_tmap_clear(&g[1]);
		g[1] = g[0];
		g[0] = (tmap){0};
	}
	if (!g[0].e && !(g[0].e = ssp_calloc(TXSET_CAP, sizeof *g[0].e))) return NULL;
	for (size_t i = tslot(id);; i = (i + 1) & (TXSET_CAP - 1)) {
		tent *e = &g[0].e[i];
		if (!e->used) {
			e->used = true;
			e->id = *id;
			g[0].count++;
			return e;
		}
		if (!memcmp(e->id.b, id->b, 32)) return e;
	}
}

void net_on_inv(peer *p, const net_inv *v)
{
	ssp_net *n = p->net;
	ssp_hash echo[NET_INV_MAX];
	size_t k = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		ssp_hash id;
		memcpy(id.b, v->ids + 32 * i, 32);
		tent *e = tset_find(n->seen, &id), *c;
		/* admitted here: the peer holds it too; being checked (or refused): told on
		 * admission */
		if (!e)
			net_txq_announced(p, &id);
		else if ((c = tset_find(n->cache, &id)) && c->raw)
			echo[k++] = id;
		else
			e->echo_bits |= p->echo_bit;
	}
	if (k && p->echo_bit && n->cfg.tx_echo) n->cfg.tx_echo(n->cfg.ctx, echo, k, p->echo_bit);
	net_txq_drain(p);
}

void net_on_get_tx(peer *p, const net_inv *v)
{
	ssp_net *n = p->net;
	for (uint32_t i = 0; i < v->n && p->sendq < SERVE_SENDQ; i++) {
		ssp_hash id;
		memcpy(id.b, v->ids + 32 * i, 32);
		tent *e = tset_find(n->cache, &id);
		if (e && e->raw) (void)net_send_frame(p, NET_TX, e->raw, e->len);
	}
}

/* ------------------------------------------- txs from peers: checked off the loop */

/*
 * A tx's signature check costs tens of microseconds; a peer's answer to one
 * GET_TX is 256 of them. Checked on the loop, a burst held up block
 * announcements and transfers behind it (the 4-node testnet's propagation
 * p99). So the loop only files a received tx into a job; the job is checked
 * on libuv's pool (TXCHK_JOBS at once) and its txs admitted back on the
 * loop, jobs in the order they were filled, so txs are admitted in the order
 * they arrived (a sender's nonces too).
 */
static void chk_work(uv_work_t *req)
{
	chkjob *j = req->data;
	bool again = false;
	for (size_t i = 0; i < j->count; i++) {
		ssp_net_tx *t = &j->tx[i].t;
		if (j->tx[i].checked) continue;
		j->net->cfg.tx_check(j->net->cfg.ctx, t);
		again = again || (!t->rc && !t->verified);
	}
	/*
	 * A new account's later txs (no key on chain, none pending yet) with its first,
	 * which carries the key, in the same job: checked again with that key, here,
	 * rather than by the mempool on the loop.
	 */
	for (size_t i = 0; again && i < j->count; i++) {
		ssp_net_tx *t = &j->tx[i].t;
		if (t->rc || t->verified || t->tx.has_pubkey) continue;
		for (size_t k = 0; k < j->count; k++) {
			const ssp_net_tx *c = &j->tx[k].t;
			if (!c->rc && c->tx.has_pubkey &&
			    !memcmp(c->tx.from.b, t->tx.from.b, sizeof t->tx.from.b)) {
				t->key_hint = &c->tx.pubkey;
				j->net->cfg.tx_check(j->net->cfg.ctx, t);
				t->key_hint = NULL;
				break;
			}
		}
	}
}

/* The echo bits the seen set gathered for id (both generations). */
static uint64_t seen_echoes(ssp_net *n, const ssp_hash *id)
{
	tent *a = tmap_find(&n->seen[0], id), *b = tmap_find(&n->seen[1], id);
	return (a ? a->echo_bits : 0) | (b ? b->echo_bits : 0);
}

static void chk_admit(ssp_net *n, chktx *c)
{
	n->cfg.tx_admit(n->cfg.ctx, &c->t);
	peer *p = net_peer_by_id(n, c->peer);
	if (c->t.fault) {
		if (p && p->state == C_OPEN) {
			char w[96];
			snprintf(w, sizeof w, "invalid tx: %s", ssp_strerror(c->t.rc));
			net_misbehave(p, 50, w);
		}
	} else if (!c->t.rc) {
		/* its sender holds it, and the peers that announced it */
		uint64_t held = c->echo_bits | seen_echoes(n, &c->id) | (p ? p->echo_bit : 0);
		if (p) p->txs_ok++;
		ssp_net_tx_added(n, c->t.raw, c->t.len, &c->id);
		if (held && n->cfg.tx_echo) n->cfg.tx_echo(n->cfg.ctx, &c->id, 1, held);
	}
}

static void chk_free(chkjob *j)
{
	for (size_t i = 0; i < j->count; i++)
		free((void *)j->tx[i].t.raw);
	free(j);
}

/* A job's check is over (loop): admit every finished job at the head, in order. */
static void chk_done(uv_work_t *req, int status)
{
	chkjob *j = req->data;
	ssp_net *n = j->net;
	(void)status; /* UV_ECANCELED at stop: freed like the others */
	j->done = true;
	while (n->chk_head && n->chk_head->done) {
		chkjob *d = n->chk_head;
		n->chk_head = d->next;
		if (!n->chk_head) n->chk_tail = NULL;
		for (size_t i = 0; i < d->count && !n->stopping; i++)
			chk_admit(n, &d->tx[i]);
		n->chk_txs -= d->count;
		n->chk_bytes -= d->bytes;
		n->chk_jobs--;
		chk_free(d);
	}
	atomic_store(&n->stats.tx_checking, n->chk_txs);
}

static void chk_submit(ssp_net *n)
{
	chkjob *j = n->chk_fill;
	n->chk_fill = NULL;
	if (n->chk_tail)
		n->chk_tail->next = j;
	else
		n->chk_head = j;
	n->chk_tail = j;
	n->chk_jobs++;
	j->req.data = j;
	if (uv_queue_work(n->loop, &j->req, chk_work, chk_done)) { /* (cannot fail) */
		chk_work(&j->req);
		chk_done(&j->req, 0);
	}
}

/* The loop's check phase: a partly filled job goes to the pool if it has room. */
void net_chk_flush(uv_check_t *h)
{
	ssp_net *n = h->data;
	if (n->chk_fill && n->chk_jobs < TXCHK_JOBS) chk_submit(n);
}

void net_chk_stop(ssp_net *n)
{
	for (chkjob *j = n->chk_head; j; j = j->next) /* not started yet: after_work at once */
		(void)uv_cancel((uv_req_t *)&j->req);
	if (n->chk_fill) {
		n->chk_txs -= n->chk_fill->count;
		n->chk_bytes -= n->chk_fill->bytes;
		chk_free(n->chk_fill);
	}
	n->chk_fill = NULL;
	atomic_store(&n->stats.tx_checking, n->chk_txs);
}

/* Files c (its bytes copied) into the job being filled; false if the backlog is full. */
static bool chk_queue(ssp_net *n, chktx *c)
{
	uint8_t *copy = NULL;
	size_t len = c->t.len;
	if (n->chk_txs >= TXCHK_MAX || n->chk_bytes + len > TXCHK_BYTES ||
	    (!n->chk_fill && !(n->chk_fill = ssp_calloc(1, sizeof *n->chk_fill))) ||
	    !(copy = malloc(len)))
		return false;
	memcpy(copy, c->t.raw, len);
	if (c->checked && c->t.tx.raw == c->t.raw) { /* its decoding borrows the bytes: rebase */
		c->t.tx.raw = copy;
		if (c->t.tx.payload) c->t.tx.payload = copy + (c->t.tx.payload - c->t.raw);
	}
	c->t.raw = copy;
	chkjob *j = n->chk_fill;
	j->net = n;
	j->tx[j->count++] = *c;
	j->bytes += len;
	n->chk_txs++;
	n->chk_bytes += len;
	atomic_store(&n->stats.tx_checking, n->chk_txs);
	if (j->count == TXCHK_BATCH) chk_submit(n);
	return true;
}

void net_on_tx(peer *p, const uint8_t *raw, size_t len)
{
	ssp_net *n = p->net;
	ssp_hash id;
	uint64_t announcers;
	ssp_sha256(&id, raw, len); /* the txid it claims to be (SHA-256 of its bytes) */
	if (!net_txq_received(p, &id, &announcers)) net_misbehave(p, 5, "unrequested tx");
	if (p->state == C_CLOSING) return;
	p->txs_in++;
	atomic_fetch_add(&n->stats.txs_in, 1);
	/* answers make room: ask for more in full batches */
	if (p->annq_len && TX_REQ_MAX - p->tx_requested >= NET_INV_MAX / 4) net_txq_drain(p);
	if (tset_find(n->seen, &id)) return; /* here already, or being checked */
	chktx c = {.t = {.raw = raw, .len = len}, .peer = p->id, .echo_bits = announcers, .id = id};
	if (p->txs_ok < TX_TRUST) {
		/*
		 * A peer's first txs are checked here, one by one: one that sends bad txs
		 * (a fresh node id costs nothing) is banned after two checks, not after
		 * the thousand it was asked for were checked on the pool. Admitted at
		 * once only if nothing received before it still waits (arrival order).
		 */
		(void)tset_add(n->seen, &id, SIZE_MAX);
		n->cfg.tx_check(n->cfg.ctx, &c.t);
		c.checked = true;
		/* (a bad one is scored now, whatever waits; a full backlog: admitted now) */
		if (c.t.fault || (!n->chk_head && !n->chk_fill) || !chk_queue(n, &c))
			chk_admit(n, &c);
		return;
	}
	if (!chk_queue(n, &c)) {
		/* more than the pool checks: unrequested txs (requests stop at TXCHK_GATE), or
		 * memory short. Not admitted; not in the seen set (fetched if announced again) */
		atomic_fetch_add(&n->stats.tx_check_dropped, 1);
		return;
	}
	/* in the seen set from now on: another peer's copy is not fetched or checked again
	 * (a txid is the hash of the bytes: whatever the verdict, it is this one's) */
	(void)tset_add(n->seen, &id, SIZE_MAX);
}

bool net_tx_known(ssp_net *n, const ssp_hash *id)
{
	if (tset_find(n->seen, id)) return true;
	if (!n->cfg.have_tx(n->cfg.ctx, id)) return false;
	(void)tset_add(n->seen, id, SIZE_MAX);
	return true;
}

/* ------------------------------------------------------------ tx gossip */

void ssp_net_tx_added(ssp_net *n, const uint8_t *raw, size_t len, const ssp_hash *txid)
{
	tent *e = tset_add(n->cache, txid, TXCACHE_BYTES);
	(void)tset_add(n->seen, txid, SIZE_MAX);
	net_txq_have(n, txid);
	if (e && !e->raw && (e->raw = malloc(len))) {
		memcpy(e->raw, raw, len);
		e->len = (uint32_t)len;
		n->cache[0].bytes += len;
	}
	/* a burst (a tx_submitBatch of thousands) is announced now rather than cut off */
	if (n->ninvq == INVQ_MAX) net_flush_inv(n);
	n->invq[n->ninvq++] = *txid;
}

void net_flush_inv(ssp_net *n)
{
	for (size_t off = 0; off < n->ninvq; off += NET_INV_MAX) {
		uint32_t k = (uint32_t)(n->ninvq - off < NET_INV_MAX ? n->ninvq - off : NET_INV_MAX);
		for (peer *p = n->peers; p; p = p->next) {
			if (p->state != C_OPEN) continue;
			ssp_buf b;
			ssp_buf_init(&b, 4 + 32 * NET_INV_MAX);
			net_inv_encode(&b, n->invq + off, k);
			(void)net_send_buf(p, NET_INV, &b);
		}
	}
	n->ninvq = 0;
}

/* ---------------------------------------------- txs given back by a reorg */

void ssp_net_txs_returned(ssp_net *n, const ssp_tx *txs, size_t count)
{
	pthread_mutex_lock(&n->slock);
	if (!n->retq && count) n->retq = ssp_calloc(RETQ_MAX, sizeof *n->retq);
	for (size_t i = 0; n->retq && i < count && n->nretq < RETQ_MAX; i++) {
		if (n->retq_bytes + txs[i].raw_len > RETQ_BYTES) break;
		uint8_t *raw = malloc(txs[i].raw_len);
		if (!raw) break;
		memcpy(raw, txs[i].raw, txs[i].raw_len);
		n->retq[n->nretq++] = (retx){raw, txs[i].raw_len, txs[i].txid};
		n->retq_bytes += txs[i].raw_len;
	}
	if (!n->closed && count) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->slock);
}

void net_retq_flush(ssp_net *n)
{
	retx *q;
	size_t k;
	pthread_mutex_lock(&n->slock);
	q = n->retq;
	k = n->nretq;
	n->retq = NULL;
	n->nretq = n->retq_bytes = 0;
	pthread_mutex_unlock(&n->slock);
	for (size_t i = 0; i < k; i++) {
		ssp_net_tx_added(n, q[i].raw, q[i].len, &q[i].txid);
		free(q[i].raw);
	}
	if (k) {
		atomic_fetch_add(&n->stats.txs_reannounced, k);
		SSP_LOGI(LOG, "%zu tx(s) given back by a branch switch announced again", k);
	}
	free(q);
}

void net_retq_free(ssp_net *n)
{
	for (size_t i = 0; i < n->nretq; i++)
		free(n->retq[i].raw);
	free(n->retq);
	n->retq = NULL;
	n->nretq = 0;
}
