/*
 * votes.c — consensus votes on the wire (net layer): VOTE frames from
 * peers, deduplicated by a keyed digest of their bytes (peers choose the
 * bytes, so the set is keyed with a secret SipHash key), queued for the
 * chain thread, which verifies them; only the votes it verified and found
 * new come back here (ssp_net_vote_relay) to be sent to every other peer.
 * The net never interprets a vote: its bytes are the consensus layer's.
 */
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

#define LOG "net"

typedef struct vmsg {
	uint8_t *raw;
	size_t len;
	uint64_t peer;
} vmsg;

static uint64_t vdigest(const ssp_net *n, const uint8_t *raw, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, raw, len, n->vseen_key);
	uint64_t d = ssp_le64_get(h);
	return d ? d : 1; /* 0 marks an empty slot */
}

static bool vseen_has(const ssp_net *n, uint64_t d)
{
	for (int g = 0; g < 2; g++) {
		if (!n->vseen[g]) continue;
		for (size_t j = d & (2 * VOTE_SEEN - 1);; j = (j + 1) & (2 * VOTE_SEEN - 1)) {
			if (!n->vseen[g][j]) break;
			if (n->vseen[g][j] == d) return true;
		}
	}
	return false;
}

/* Remembers d; at VOTE_SEEN entries the older generation goes. False when out of memory. */
static bool vseen_add(ssp_net *n, uint64_t d)
{
	if (!n->vseen[0]) {
		randombytes_buf(n->vseen_key, sizeof n->vseen_key);
		if (!(n->vseen[0] = ssp_calloc(2 * VOTE_SEEN, sizeof(uint64_t)))) return false;
	}
	if (n->vseen_n == VOTE_SEEN) {
		free(n->vseen[1]);
		n->vseen[1] = n->vseen[0];
		if (!(n->vseen[0] = ssp_calloc(2 * VOTE_SEEN, sizeof(uint64_t)))) {
			n->vseen[0] = n->vseen[1];
			n->vseen[1] = NULL;
			memset(n->vseen[0], 0, 2 * VOTE_SEEN * sizeof(uint64_t));
		}
		n->vseen_n = 0;
	}
	size_t j = d & (2 * VOTE_SEEN - 1);
	while (n->vseen[0][j])
		j = (j + 1) & (2 * VOTE_SEEN - 1);
	n->vseen[0][j] = d;
	n->vseen_n++;
	return true;
}

void net_on_vote(peer *p, const uint8_t *raw, size_t len)
{
	ssp_net *n = p->net;
	atomic_fetch_add(&n->stats.votes_in, 1);
	if (!n->cfg.votes) { /* a round-robin chain has no votes to count */
		atomic_fetch_add(&n->stats.votes_dropped, 1);
		return;
	}
	if (!len) {
		net_misbehave(p, SCORE_BAN, "empty vote");
		return;
	}
	uint64_t d = vdigest(n, raw, len);
	if (vseen_has(n, d)) {
		atomic_fetch_add(&n->stats.votes_dup, 1);
		return;
	}
	if (!vseen_add(n, d)) return;
	uint8_t *copy = malloc(len);
	if (!copy) return;
	memcpy(copy, raw, len);
	pthread_mutex_lock(&n->slock);
	if (!n->vin) n->vin = ssp_calloc(VOTE_INBOX, sizeof *n->vin);
	bool queued = n->vin && n->nvin < VOTE_INBOX;
	if (queued) n->vin[n->nvin++] = (vmsg){copy, len, p->id};
	pthread_mutex_unlock(&n->slock);
	if (!queued) {
		free(copy);
		atomic_fetch_add(&n->stats.votes_dropped, 1);
		return;
	}
	n->cfg.blocks_ready(n->cfg.ctx); /* wakes the chain thread */
}

void ssp_net_vote_failed(ssp_net *n, uint64_t peer_id, int err)
{
	if (ssp_err_local(err) || !peer_id) return;
	pthread_mutex_lock(&n->slock);
	if (n->npenalties < sizeof n->penalties / sizeof *n->penalties)
		n->penalties[n->npenalties++] = (penalty){peer_id, err, true};
	if (!n->closed) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->slock);
}

size_t ssp_net_take_votes(ssp_net *n, uint8_t **raws, size_t *lens, uint64_t *peers, size_t max)
{
	size_t k = 0;
	pthread_mutex_lock(&n->slock);
	while (k < max && k < n->nvin) {
		raws[k] = n->vin[k].raw;
		lens[k] = n->vin[k].len;
		peers[k] = n->vin[k].peer;
		k++;
	}
	if (k) {
		memmove(n->vin, n->vin + k, (n->nvin - k) * sizeof *n->vin);
		n->nvin -= k;
	}
	pthread_mutex_unlock(&n->slock);
	return k;
}

void ssp_net_vote_relay(ssp_net *n, const uint8_t *raw, size_t len, uint64_t from_peer)
{
	if (!len || len > SSP_NET_VOTE_MAX) return;
	uint8_t *copy = malloc(len);
	if (!copy) return;
	memcpy(copy, raw, len);
	pthread_mutex_lock(&n->slock);
	if (!n->vout) n->vout = ssp_calloc(VOTE_OUTBOX, sizeof *n->vout);
	bool queued = n->vout && n->nvout < VOTE_OUTBOX;
	if (queued) n->vout[n->nvout++] = (vmsg){copy, len, from_peer};
	if (queued && !n->closed) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->slock);
	if (!queued) free(copy);
}

void net_votes_flush(ssp_net *n)
{
	vmsg *q;
	size_t k;
	pthread_mutex_lock(&n->slock);
	q = n->vout;
	k = n->nvout;
	n->vout = NULL;
	n->nvout = 0;
	pthread_mutex_unlock(&n->slock);
	for (size_t i = 0; i < k; i++) {
		(void)vseen_add(n, vdigest(n, q[i].raw, q[i].len)); /* not echoed back to us */
		for (peer *p = n->peers; p; p = p->next)
			if (p->state == C_OPEN && p->id != q[i].peer)
				(void)net_send_frame(p, NET_VOTE, q[i].raw, q[i].len);
		atomic_fetch_add(&n->stats.votes_relayed, 1);
		free(q[i].raw);
	}
	free(q);
}

void net_votes_free(ssp_net *n)
{
	for (size_t i = 0; i < n->nvin; i++)
		free(n->vin[i].raw);
	for (size_t i = 0; i < n->nvout; i++)
		free(n->vout[i].raw);
	free(n->vin);
	free(n->vout);
	free(n->vseen[0]);
	free(n->vseen[1]);
	n->vin = n->vout = NULL;
	n->nvin = n->nvout = 0;
}
