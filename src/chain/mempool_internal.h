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
	uint64_t t_ms;       /* when it was admitted (monotonic clock) */
	uint64_t echo_bits;  /* the peers known to hold it, one bit each (ssp_mempool_echo) */
	mp_sender *s;
	struct mp_entry *next; /* txid bucket chain */
} mp_entry;

/* Ready txs copied out of the pool (the pool may change while a block is built). */
typedef struct {
	ssp_tx *txs;    /* each borrows from arena */
	uint8_t *arena; /* their encoded bytes */
	size_t n;
} mp_batch;

/*
 * Copies up to max ready txs (at most max_bytes) out of the pool in
 * priority order: the highest fee over its minimum first among each
 * sender's next nonce. Free with mp_batch_free. Thread-safe.
 */
SSP_WUR int ssp_mempool_take(ssp_mempool *m, mp_batch *b, size_t max, size_t max_bytes);
void mp_batch_free(mp_batch *b);
/* Drops the tx (if still pooled) and every later-nonce tx of its sender, remembering err. */
void ssp_mempool_drop_tx(ssp_mempool *m, const ssp_hash *txid, int err);
/* After a block at `height` committed: removes its txs, expired ones, refreshes senders. */
void ssp_mempool_after_block(ssp_mempool *m, const ssp_tx *txs, size_t n, uint64_t height);

#endif
