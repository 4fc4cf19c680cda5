/*
 * bft_onion.c — the hash onion (consensus layer, ssp/bft.h): a delegate
 * commits SHA-256^k(secret) and each of its blocks reveals the next
 * preimage, so its contribution to the round seed was fixed when it
 * registered and it can only withhold it, never choose it.
 */
#include "ssp/bft.h"

static void iterate(ssp_hash *h, uint64_t times)
{
	for (uint64_t i = 0; i < times; i++) {
		ssp_hash t;
		ssp_sha256(&t, h->b, 32);
		*h = t;
	}
}

void ssp_bft_onion_commit(ssp_hash *out, const ssp_hash *secret, uint32_t k)
{
	*out = *secret;
	iterate(out, k);
}

int ssp_bft_onion_element(ssp_hash *out, const ssp_hash *secret, uint32_t k, uint64_t i)
{
	if (i > k) return SSP_ERR_RANGE;
	*out = *secret;
	iterate(out, k - i);
	return 0;
}

bool ssp_bft_onion_check(const ssp_hash *reveal, const ssp_hash *prev, uint64_t steps)
{
	ssp_hash h = *reveal;
	if (steps == 0) return false;
	iterate(&h, steps);
	uint8_t d = 0;
	for (int i = 0; i < 32; i++)
		d |= (uint8_t)(h.b[i] ^ prev->b[i]);
	return d == 0;
}
