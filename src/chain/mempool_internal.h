/*
 * mempool_internal.h — what block production needs from the mempool
 * (chain layer, private): the entries, priority selection, and the
 * reconciliation after a block.
 */
#ifndef SSP_MEMPOOL_INTERNAL_H
#define SSP_MEMPOOL_INTERNAL_H

#include "ssp/chain.h"

typedef struct mp_sender mp_sender;

typedef struct mp_entry {
	ssp_tx tx; /* borrows raw */
	uint8_t *raw;
	uint64_t seq;    /* arrival order: the tie-break */
	uint64_t cost;   /* fee + type spend */
	uint64_t minfee; /* the least fee this tx could pay (its size's minimum) */
	mp_sender *s;
	struct mp_entry *next; /* txid bucket chain */
} mp_entry;

/*
 * Fills out[] (capacity max) with ready txs in priority order: the highest
 * fee relative to its own minimum first among each sender's next nonce. Returns the count.
 * A sender whose tx fails during the block is skipped by the caller
 * through ssp_mempool_block_sender.
 */
size_t ssp_mempool_select(ssp_mempool *m, mp_entry **out, size_t max, size_t max_bytes);
/* Drops entry e and every later-nonce tx of its sender, remembering err. */
void ssp_mempool_drop_from(ssp_mempool *m, mp_entry *e, int err);
/* After a block at `height` committed: removes its txs, expired ones, refreshes senders. */
void ssp_mempool_after_block(ssp_mempool *m, const ssp_tx *txs, size_t n, uint64_t height);

#endif
