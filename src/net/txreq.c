/*
 * txreq.c — the tx request tracker (net layer): which announced txids to
 * fetch, from which peer, and when to ask again (the idea of Bitcoin Core's
 * TxRequestTracker, much simplified). Every txid a peer announces that is
 * not known here waits in that peer's queue (oldest first) until the peer
 * owes fewer than TX_REQ_MAX answers; then it is asked of that peer alone.
 * One table entry per txid dedupes across peers: a txid waiting or being
 * fetched from one peer is not asked of another that announces it too (that
 * peer is remembered as the alternative); a request not answered within
 * TX_REQ_TIMEOUT_MS is asked of the alternative, or of the same peer again,
 * TX_REQ_TRIES times in all, then forgotten (a later announcement starts
 * over). Bounds: TXQ_PEER_MAX queued per peer, TXQ_MAX txids tracked and
 * TXQ_RING_TOTAL queue slots over all peers; beyond, the oldest queued go
 * first (of the announcing peer, else of the longest queue). Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

#define LOG "net"
#define TXQ_SLOTS (2 * TXQ_MAX) /* the table stays at most half full */
#define EXPIRE_EVERY_MS 250

typedef struct txe {
	ssp_hash id;
	uint64_t peer;   /* waiting: the peer whose queue holds it; requested: asked of */
	uint64_t alt;    /* another peer that announced it, 0 if none */
	uint64_t req_ms; /* when it was asked; 0 while it waits in a queue */
	uint64_t ann_bits; /* the echo bits of every peer that announced it */
	uint32_t home;   /* its slot by hash */
	uint8_t tries;
	bool used;
} txe;

static uint32_t home_of(const ssp_net *n, const ssp_hash *id)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;
	crypto_shorthash(h, id->b, 32, n->txq_key);
	memcpy(&v, h, 8);
	return (uint32_t)(v & (TXQ_SLOTS - 1));
}

static txe *find(ssp_net *n, const ssp_hash *id)
{
	if (!n->txq || !n->txq_count) return NULL;
	for (uint32_t i = home_of(n, id);; i = (i + 1) & (TXQ_SLOTS - 1)) {
		txe *e = &n->txq[i];
		if (!e->used) return NULL;
		if (!memcmp(e->id.b, id->b, 32)) return e;
	}
}

/* A new entry (id not tracked, txq_count < TXQ_MAX); NULL without memory. */
static txe *insert(ssp_net *n, const ssp_hash *id)
{
	if (!n->txq) {
		if (!(n->txq = ssp_calloc(TXQ_SLOTS, sizeof *n->txq))) return NULL;
		n->txq_slots = TXQ_SLOTS;
		randombytes_buf(n->txq_key, sizeof n->txq_key);
	}
	uint32_t h = home_of(n, id), i = h;
	while (n->txq[i].used)
		i = (i + 1) & (TXQ_SLOTS - 1);
	n->txq[i] = (txe){.id = *id, .home = h, .used = true};
	n->txq_count++;
	atomic_store(&n->stats.tx_queued, n->txq_count);
	return &n->txq[i];
}

/* Forgets e (backward-shift deletion: no tombstones). Pointers into the table are void after. */
static void remove_entry(ssp_net *n, txe *e)
{
	uint32_t i = (uint32_t)(e - n->txq), j = i;
	for (;;) {
		j = (j + 1) & (TXQ_SLOTS - 1);
		if (!n->txq[j].used) break;
		uint32_t k = n->txq[j].home;
		/* can the entry at j move back to i? only if its home is not in (i, j] */
		bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
		if (stays) continue;
		n->txq[i] = n->txq[j];
		i = j;
	}
	n->txq[i].used = false;
	n->txq_count--;
	atomic_store(&n->stats.tx_queued, n->txq_count);
}

/* ------------------------------------------------------- per-peer queues */

static bool ring_push(peer *p, const ssp_hash *id, bool front)
{
	ssp_net *n = p->net;
	if (p->annq_len == p->annq_cap) {
		if (p->annq_cap >= TXQ_PEER_MAX) return false;
		uint32_t cap = p->annq_cap ? 2 * p->annq_cap : 256;
		ssp_hash *q = ssp_malloc(cap * sizeof *q);
		if (!q) return false;
		for (uint32_t k = 0; k < p->annq_len; k++)
			q[k] = p->annq[(p->annq_head + k) & (p->annq_cap - 1)];
		free(p->annq);
		p->annq = q;
		p->annq_cap = cap;
		p->annq_head = 0;
	}
	if (front) {
		p->annq_head = (p->annq_head - 1) & (p->annq_cap - 1);
		p->annq[p->annq_head] = *id;
	} else {
		p->annq[(p->annq_head + p->annq_len) & (p->annq_cap - 1)] = *id;
	}
	p->annq_len++;
	n->txq_ring_total++;
	return true;
}

static ssp_hash ring_pop(peer *p)
{
	ssp_hash id = p->annq[p->annq_head];
	p->annq_head = (p->annq_head + 1) & (p->annq_cap - 1);
	p->annq_len--;
	p->net->txq_ring_total--;
	if (!p->annq_len && p->annq_cap > 1024) { /* a burst went through: give the memory back */
		free(p->annq);
		p->annq = NULL;
		p->annq_cap = p->annq_head = 0;
	}
	return id;
}

/* The entry of a txid that waits in p's queue, or NULL (a stale queue slot). */
static txe *waiting_in(peer *p, const ssp_hash *id)
{
	txe *e = find(p->net, id);
	return e && !e->req_ms && e->peer == p->id ? e : NULL;
}

/* Drops the oldest slot of p's queue (forgetting its txid if it waits there). */
static void drop_oldest(peer *p)
{
	ssp_hash id = ring_pop(p);
	txe *e = waiting_in(p, &id);
	if (e) {
		remove_entry(p->net, e);
		atomic_fetch_add(&p->net->stats.tx_announce_dropped, 1);
	}
}

static peer *open_peer(ssp_net *n, uint64_t id)
{
	peer *p = id ? net_peer_by_id(n, id) : NULL;
	return p && p->state == C_OPEN ? p : NULL;
}

/* ----------------------------------------------------------- the tracker */

void net_txq_announced(peer *p, const ssp_hash *id)
{
	ssp_net *n = p->net;
	txe *e = find(n, id);
	if (e) { /* waiting or asked elsewhere: p is the alternative if that fails */
		if (e->peer != p->id) e->alt = p->id;
		e->ann_bits |= p->echo_bit;
		return;
	}
	if (p->annq_len >= TXQ_PEER_MAX) drop_oldest(p);
	while (n->txq_count >= TXQ_MAX || n->txq_ring_total >= TXQ_RING_TOTAL) {
		peer *longest = NULL; /* every waiting txid is in a queue: this ends */
		for (peer *q = n->peers; q; q = q->next)
			if (q->annq_len && (!longest || q->annq_len > longest->annq_len)) longest = q;
		if (!longest) break;
		drop_oldest(longest);
	}
	if (n->txq_count >= TXQ_MAX || !(e = insert(n, id))) {
		atomic_fetch_add(&n->stats.tx_announce_dropped, 1);
		return;
	}
	e->peer = p->id;
	e->ann_bits = p->echo_bit;
	if (!ring_push(p, id, false)) {
		remove_entry(n, e);
		atomic_fetch_add(&n->stats.tx_announce_dropped, 1);
	}
}

bool net_txq_received(peer *p, const ssp_hash *id, uint64_t *announcers)
{
	ssp_net *n = p->net;
	txe *e = find(n, id);
	bool asked = false;
	*announcers = e ? e->ann_bits : 0;
	if (e && e->req_ms) {
		peer *q = e->peer == p->id ? p : net_peer_by_id(n, e->peer);
		if (q && q->tx_requested) q->tx_requested--;
		asked = q == p;
	}
	if (e) remove_entry(n, e); /* its queue slot, if any, is stale now */
	if (!asked && p->tx_late) { /* asked before a timeout: late, not unrequested */
		p->tx_late--;
		asked = true;
	}
	return asked;
}

void net_txq_have(ssp_net *n, const ssp_hash *id)
{
	txe *e = find(n, id);
	if (e && !e->req_ms) remove_entry(n, e); /* asked already: the answer is welcome */
}

void net_txq_drain(peer *p)
{
	ssp_net *n = p->net;
	uint64_t now = ssp_now_ms();
	/*
	 * Nothing more asked while the txs asked for and those received but not checked
	 * yet reach TXCHK_GATE: requested txs never meet the check backlog's bound
	 * (TXCHK_MAX), so only unrequested ones are ever dropped there.
	 */
	uint64_t inflight = n->chk_txs;
	for (peer *q = n->peers; q; q = q->next)
		inflight += q->tx_requested;
	while (p->state == C_OPEN && p->annq_len && p->tx_requested < TX_REQ_MAX &&
	       inflight < TXCHK_GATE) {
		ssp_hash want[NET_INV_MAX];
		uint32_t k = 0;
		while (p->annq_len && k < NET_INV_MAX && p->tx_requested < TX_REQ_MAX) {
			ssp_hash id = ring_pop(p);
			txe *e = waiting_in(p, &id);
			if (!e) continue;
			if (net_tx_known(n, &id)) {
				remove_entry(n, e);
				continue;
			}
			e->req_ms = now;
			e->tries++;
			want[k++] = id;
			p->tx_requested++;
			inflight++;
		}
		if (!k) break;
		atomic_fetch_add(&n->stats.tx_requests, k);
		ssp_buf b;
		ssp_buf_init(&b, 4 + 32 * NET_INV_MAX);
		net_inv_encode(&b, want, k);
		if (net_send_buf(p, NET_GET_TX, &b)) break; /* dropped: the requests time out */
	}
}

/* A request of e timed out: ask again (another announcer first) or forget it. */
static void expire(ssp_net *n, txe *e)
{
	peer *was = net_peer_by_id(n, e->peer), *to = open_peer(n, e->alt);
	atomic_fetch_add(&n->stats.tx_request_timeouts, 1);
	if (was) {
		if (was->tx_requested) was->tx_requested--;
		if (was->tx_late < 4 * TX_REQ_MAX) was->tx_late++;
	}
	if (to) /* the other announcer; the one that was slow becomes the alternative */
		e->alt = was && was->state == C_OPEN ? was->id : 0;
	else if (was && was->state == C_OPEN && e->tries < TX_REQ_TRIES)
		to = was; /* its queue was full or its loop busy: ask it again */
	e->req_ms = 0;
	if (to && e->tries < 2 * TX_REQ_TRIES) {
		e->peer = to->id;
		if (n->txq_ring_total < TXQ_RING_TOTAL && ring_push(to, &e->id, true)) return;
	}
	remove_entry(n, e);
}

void net_txq_tick(ssp_net *n)
{
	uint64_t now = ssp_now_ms();
	if (n->txq && n->txq_count && now - n->txq_expired_ms >= EXPIRE_EVERY_MS) {
		n->txq_expired_ms = now;
		for (size_t i = 0; i < TXQ_SLOTS; i++) {
			txe *e = &n->txq[i];
			/* a removal shifts a later entry into slot i: look at it again */
			while (e->used && e->req_ms && now - e->req_ms > TX_REQ_TIMEOUT_MS) {
				size_t before = n->txq_count;
				expire(n, e);
				if (n->txq_count == before) break;
			}
		}
	}
	for (peer *p = n->peers; p; p = p->next)
		if (p->annq_len) net_txq_drain(p);
}

void net_txq_peer_gone(peer *p)
{
	ssp_net *n = p->net;
	/* what it was asked times out and goes to an alternative then */
	while (p->annq_len) {
		ssp_hash id = ring_pop(p);
		txe *e = waiting_in(p, &id);
		if (!e) continue;
		peer *to = open_peer(n, e->alt);
		if (to && to != p && n->txq_ring_total < TXQ_RING_TOTAL && ring_push(to, &id, false)) {
			e->peer = to->id;
			e->alt = 0;
		} else {
			remove_entry(n, e);
		}
	}
	free(p->annq);
	p->annq = NULL;
	p->annq_cap = p->annq_head = 0;
	p->tx_requested = 0;
}

void net_txq_free(ssp_net *n)
{
	free(n->txq);
	n->txq = NULL;
	n->txq_count = n->txq_slots = 0;
}
