/*
 * dpos_elect.c — the election (modules layer; ssp/dpos.h): a pure,
 * deterministic function from a snapshot of capped weights and a round
 * seed to a delegate set. No I/O, no clock, no state: the consensus layer
 * (and its simulator) will call it on the weights of a final snapshot
 * block; today only tests and the RPC ranking's order rely on it.
 *
 * Ranking: weight descending, then the delegate's account address
 * ascending (bytewise). The address cannot be chosen to win a tie cheaply
 * beyond grinding keys, and it is the one total order every node agrees on
 * without extra state (registration height would tie too).
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/dpos.h"

static int cand_cmp(const void *a, const void *b)
{
	const ssp_dpos_cand *x = a, *y = b;
	if (x->weight != y->weight) return x->weight > y->weight ? -1 : 1;
	return memcmp(x->id.b, y->id.b, SSP_ADDR_LEN);
}

static void le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An unbiased draw in [0, total) for draw i: rejection sampling over SHA-256 outputs. */
static uint64_t draw(const ssp_hash *seed, uint32_t i, uint64_t total)
{
	static const char tag[] = "ssp-dpos-standby";
	/* 2^64 mod total: values at or above 2^64 - rem would favour the low residues */
	uint64_t rem = (UINT64_MAX % total + 1) % total;
	for (uint32_t attempt = 0;; attempt++) {
		uint8_t msg[sizeof tag - 1 + 32 + 8];
		ssp_hash h;
		memcpy(msg, tag, sizeof tag - 1);
		memcpy(msg + sizeof tag - 1, seed->b, 32);
		le32_put(msg + sizeof tag - 1 + 32, i);
		le32_put(msg + sizeof tag - 1 + 36, attempt);
		ssp_sha256(&h, msg, sizeof msg);
		uint64_t x = ssp_le64_get(h.b);
		if (rem == 0 || x < UINT64_MAX - rem + 1) return x % total;
	}
}

int ssp_dpos_elect(ssp_dpos_cand *out, size_t *nout, const ssp_dpos_cand *cands, size_t n,
                   uint32_t set_size, uint32_t standby, uint32_t max_rank, const ssp_hash *seed)
{
	ssp_dpos_cand *s;
	size_t m = 0, k = 0;
	*nout = 0;
	if (set_size == 0 || standby >= set_size || max_rank < set_size) return SSP_ERR_INVAL;
	s = ssp_malloc((n ? n : 1) * sizeof *s);
	if (!s) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		if (cands[i].weight) s[m++] = cands[i];
	qsort(s, m, sizeof *s, cand_cmp);
	for (size_t i = 1; i < m; i++)
		if (!memcmp(s[i - 1].id.b, s[i].id.b, SSP_ADDR_LEN)) {
			free(s);
			return SSP_ERR_INVAL;
		}
	size_t top = set_size - standby;
	for (; k < top && k < m; k++)
		out[k] = s[k];
	/* the lottery pool: ranks top+1..max_rank, i.e. s[top .. min(m, max_rank)) */
	size_t lo = top, hi = m < max_rank ? m : max_rank;
	for (uint32_t i = 0; i < standby && lo < hi; i++) {
		uint64_t total = 0;
		for (size_t j = lo; j < hi; j++)
			if (ssp_add_u64(&total, total, s[j].weight)) {
				/* capped weights sum to at most 10 x the supply: cannot happen */
				free(s);
				return SSP_ERR_RANGE;
			}
		uint64_t x = draw(seed, i, total);
		size_t j = lo;
		while (x >= s[j].weight) {
			x -= s[j].weight;
			j++;
		}
		out[k++] = s[j];
		/* without replacement: keep the pool in rank order */
		memmove(&s[j], &s[j + 1], (hi - j - 1) * sizeof *s);
		hi--;
	}
	*nout = k;
	free(s);
	return 0;
}
