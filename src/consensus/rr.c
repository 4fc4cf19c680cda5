/*
 * rr.c — round-robin producer schedule and last-irreversible-block
 * finality (consensus layer, above chain). The producer of slot s is
 * producers[s mod n] of the genesis set. A block is final once more than
 * 2/3 of the set (distinct producers) has produced on top of it; the
 * producer of a committed block is a function of its slot, so the window
 * of recent (height, slot) pairs the finality rule needs is kept here,
 * fed by the finalized() callback the chain calls for every new head.
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/consensus.h"

#define WINDOW 1024 /* recent blocks remembered; finality deeper than this waits */

struct ssp_rr {
	const ssp_pubkey *keys;
	size_t n;
	uint64_t height[WINDOW]; /* height[h % WINDOW] == h when known */
	uint64_t slot[WINDOW];
	bool known[WINDOW];
};

int ssp_rr_new(ssp_rr **out, const ssp_genesis *g)
{
	ssp_rr *r = ssp_calloc(1, sizeof *r);
	if (!r) return SSP_ERR_NOMEM;
	r->n = ssp_genesis_producers(g, &r->keys);
	*out = r;
	return 0;
}

void ssp_rr_free(ssp_rr *r)
{
	free(r);
}

size_t ssp_rr_count(const ssp_rr *r)
{
	return r->n;
}

const ssp_pubkey *ssp_rr_slot_producer(const ssp_rr *r, uint64_t slot)
{
	return &r->keys[slot % r->n];
}

static void remember(ssp_rr *r, uint64_t height, uint64_t slot)
{
	size_t i = height % WINDOW;
	r->height[i] = height;
	r->slot[i] = slot;
	r->known[i] = true;
}

uint64_t ssp_rr_lib(const ssp_rr *r, uint64_t top, const uint64_t *slots, size_t n_blocks)
{
	uint8_t seen[SSP_GENESIS_PRODUCERS_MAX] = {0};
	size_t distinct = 0;
	for (size_t i = 0; i < n_blocks && i < top; i++) {
		size_t p = slots[i] % r->n;
		if (!seen[p]) {
			seen[p] = 1;
			distinct++;
		}
		if (distinct * 3 > r->n * 2) return top - i - 1; /* blocks top-i..top are on it */
	}
	return 0;
}

static int rr_producer(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
                       ssp_pubkey *key)
{
	(void)c;
	(void)parent;
	*key = *ssp_rr_slot_producer(ctx, slot);
	return 0;
}

static uint64_t rr_finalized(void *ctx, const ssp_chain *c, const ssp_head *head)
{
	ssp_rr *r = ctx;
	uint64_t slots[WINDOW];
	size_t n = 0;
	(void)c;
	remember(r, head->height, head->slot);
	for (uint64_t h = head->height; h > 0 && n < WINDOW; h--, n++) {
		size_t i = h % WINDOW;
		if (!r->known[i] || r->height[i] != h) break;
		slots[n] = r->slot[i];
	}
	return ssp_rr_lib(r, head->height, slots, n);
}

int ssp_rr_load(ssp_rr *r, const ssp_chain *c)
{
	ssp_txn *rt = NULL;
	ssp_head hd;
	int rc = ssp_store_read(ssp_chain_store(c), &rt);
	if (rc) return rc;
	rc = ssp_chain_read_head(c, rt, &hd);
	for (uint64_t h = hd.height; !rc && h > 0 && hd.height - h < WINDOW; h--) {
		const uint8_t *raw;
		size_t len;
		ssp_header hdr;
		ssp_rd rd;
		rc = ssp_chain_read_block(c, rt, h, &raw, &len);
		if (rc) break;
		ssp_rd_init(&rd, raw, len);
		rc = ssp_header_read(&hdr, &rd);
		if (!rc) remember(r, h, hdr.slot);
	}
	ssp_txn_end(rt);
	return rc;
}

/* An abandoned branch switch: the window may hold the other branch's slots; reload it. */
static void rr_reset(void *ctx, const ssp_chain *c)
{
	ssp_rr *r = ctx;
	memset(r->known, 0, sizeof r->known);
	if (ssp_rr_load(r, c))
		memset(r->known, 0, sizeof r->known); /* finality then waits for new blocks */
}

/*
 * No block context (ssp_consensus.block_context NULL), like the chain's
 * default consensus: finality here is the last-irreversible-block rule over
 * the blocks seen, not a function of a branch's own contents, and missed
 * slots are not tracked. So the staking module records no block reward
 * (that 30% of the emission stays in the pool) and counts no produced or
 * missed slot on a round-robin chain; and a chain built with the default
 * consensus (ssp_mkchain) replays under this one to the same state.
 */
void ssp_rr_consensus(ssp_rr *r, ssp_consensus *out)
{
	*out = (ssp_consensus){
	    .producer = rr_producer, .finalized = rr_finalized, .reset = rr_reset, .ctx = r};
}

/* ------------------------------------------------------------ fork choice */

static int rr_compare(void *ctx, const ssp_branch *a, const ssp_branch *b)
{
	(void)ctx;
	if (a->tip_height != b->tip_height) return a->tip_height > b->tip_height ? 1 : -1;
	if (a->empty || b->empty) return a->empty == b->empty ? 0 : a->empty ? -1 : 1;
	if (a->first_slot != b->first_slot) return a->first_slot < b->first_slot ? 1 : -1;
	int d = memcmp(a->first_id.b, b->first_id.b, 32);
	return d < 0 ? 1 : d > 0 ? -1 : 0;
}

static int rr_check_header(void *ctx, const ssp_chain *c, const ssp_header *h)
{
	if (h->height == 0 || h->height > h->slot + 1) return SSP_ERR_BLOCK_TIME;
	return ssp_header_check_sig(h, ssp_genesis_chain_id(ssp_chain_genesis(c)),
	                            ssp_rr_slot_producer(ctx, h->slot));
}

void ssp_rr_forkchoice(ssp_rr *r, ssp_forkchoice *out)
{
	*out = (ssp_forkchoice){.compare = rr_compare, .check_header = rr_check_header, .ctx = r};
}
