/*
 * bft_schedule.c — the round order, the seed and the participation rule
 * (consensus layer, ssp/bft.h): pure functions of their arguments. The
 * order of a round sorts the delegates by SHA-256(seed | key); the seed of
 * round r+1 hashes round r's seed with the XOR of the onion reveals in the
 * first two thirds of round r's slots.
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/bft.h"

uint32_t ssp_bft_quorum(uint32_t n)
{
	return (uint32_t)((uint64_t)n * 2 / 3) + 1;
}

typedef struct {
	ssp_hash h;
	uint32_t i;
} ranked;

static int ranked_cmp(const void *pa, const void *pb)
{
	const ranked *a = pa, *b = pb;
	int d = memcmp(a->h.b, b->h.b, 32);
	if (d) return d;
	return a->i < b->i ? -1 : a->i > b->i;
}

int ssp_bft_order(uint32_t *order, const ssp_pubkey *keys, uint32_t n, const ssp_hash *seed)
{
	ranked r[SSP_BFT_MAX_N];
	if (n == 0 || n > SSP_BFT_MAX_N) return SSP_ERR_INVAL;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t tl[2] = {keys[i].type, keys[i].len};
		const void *parts[3] = {seed->b, tl, keys[i].b};
		size_t lens[3] = {32, 2,
		                  keys[i].len <= SSP_PUBKEY_MAX ? keys[i].len : SSP_PUBKEY_MAX};
		ssp_sha256v(&r[i].h, parts, lens, 3);
		r[i].i = i;
	}
	qsort(r, n, sizeof r[0], ranked_cmp);
	for (uint32_t i = 0; i < n; i++)
		order[i] = r[i].i;
	return 0;
}

bool ssp_bft_in_seed_window(uint64_t slot, uint32_t n)
{
	return slot % n < ((uint64_t)n * 2 + 2) / 3;
}

void ssp_bft_seed_fold(ssp_hash *acc, const ssp_hash *reveal)
{
	for (size_t i = 0; i < 32; i++)
		acc->b[i] ^= reveal->b[i];
}

void ssp_bft_seed_next(ssp_hash *out, const ssp_hash *prev_seed, const ssp_hash *acc,
                       uint64_t round)
{
	static const char tag[] = "ssp-bft-seed";
	uint8_t r[8];
	for (int i = 0; i < 8; i++)
		r[i] = (uint8_t)(round >> (8 * i));
	const void *parts[4] = {tag, prev_seed->b, acc->b, r};
	size_t lens[4] = {sizeof tag - 1, 32, 32, 8};
	ssp_sha256v(out, parts, lens, 4);
}

bool ssp_bft_participation_ok(uint32_t blocks_last_round, uint32_t n)
{
	return (uint64_t)blocks_last_round * 100 >= (uint64_t)n * 33;
}

bool ssp_bft_may_produce(uint32_t prev, uint32_t cur, uint64_t slot, uint64_t last_slot, uint32_t n)
{
	uint64_t pos = slot % n;
	if (ssp_bft_round(slot, n) == 0 || ssp_bft_participation_ok(prev, n)) return true;
	if (pos > 0 && (uint64_t)cur * 100 >= pos * 33) return true;
	return slot > last_slot && slot - last_slot > n;
}
