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
	ssp_hash want[NET_INV_MAX];
	uint32_t k = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		ssp_hash id;
		memcpy(id.b, v->ids + 32 * i, 32);
		if (tset_find(n->seen, &id)) continue;
		if (p->tx_requested >= TX_REQ_MAX) break; /* it owes us too many already */
		if (n->cfg.have_tx(n->cfg.ctx, &id)) {
			(void)tset_add(n->seen, &id, SIZE_MAX);
			continue;
		}
		(void)tset_add(n->seen, &id, SIZE_MAX);
		want[k++] = id;
		p->tx_requested++;
	}
	if (!k) return;
	ssp_buf b;
	ssp_buf_init(&b, 4 + 32 * NET_INV_MAX);
	net_inv_encode(&b, want, k);
	(void)net_send_buf(p, NET_GET_TX, &b);
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

void net_on_tx(peer *p, const uint8_t *raw, size_t len)
{
	ssp_net *n = p->net;
	ssp_hash txid;
	bool fault = false;
	if (p->tx_requested)
		p->tx_requested--;
	else if (p->tx_forgiven)
		p->tx_forgiven--; /* asked for before its debt faded: still requested */
	else
		net_misbehave(p, 5, "unrequested tx");
	p->txs_in++;
	atomic_fetch_add(&n->stats.txs_in, 1);
	int rc = n->cfg.tx(n->cfg.ctx, raw, len, &txid, &fault);
	if (fault) {
		char w[96];
		snprintf(w, sizeof w, "invalid tx: %s", ssp_strerror(rc));
		net_misbehave(p, 50, w);
		return;
	}
	if (!rc) ssp_net_tx_added(n, raw, len, &txid);
}

/* ------------------------------------------------------------ tx gossip */

void ssp_net_tx_added(ssp_net *n, const uint8_t *raw, size_t len, const ssp_hash *txid)
{
	tent *e = tset_add(n->cache, txid, TXCACHE_BYTES);
	(void)tset_add(n->seen, txid, SIZE_MAX);
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
