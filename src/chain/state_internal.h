/*
 * state_internal.h — how the chain drives an ssp_state: create it over a
 * write txn, hash its write set, flush it into LMDB (chain layer, private).
 */
#ifndef SSP_STATE_INTERNAL_H
#define SSP_STATE_INTERNAL_H

#include "ssp/chain.h"
#include "smt_internal.h"

/* The state overlay reads through `t` (borrowed) from table `tb`. */
SSP_WUR int ssp_state_new(ssp_state **out, ssp_txn *t, ssp_table tb);
void ssp_state_free(ssp_state *st);
/*
 * The write set as a batch for the state tree: one item per changed key
 * (path, value hash or delete). *out is owned by the caller (free()).
 */
SSP_WUR int ssp_state_smt_items(ssp_state *st, smt_item **out, size_t *n);
/*
 * Appends, for each changed key, its value before this overlay (read through
 * the txn, so call before ssp_state_flush): u8 klen ‖ key ‖ u8 had ‖
 * [u32 vlen ‖ value]. Sets *count to the number of keys.
 */
SSP_WUR int ssp_state_undo_encode(ssp_state *st, ssp_buf *b, uint32_t *count);
/* Writes every surviving change into the txn. */
SSP_WUR int ssp_state_flush(ssp_state *st);
/*
 * The addresses of the restricted accounts this state wrote (each write of
 * one, even if rolled back later: a superset), borrowed until st is freed.
 * The mempool re-checks their pending txs after the block commits.
 */
size_t ssp_state_restricted(const ssp_state *st, const ssp_addr **out);
/* Number of live changed keys. */
size_t ssp_state_changes(const ssp_state *st);

/* Supply codecs shared with the read path (the account codec: ssp/proto.h). */
SSP_WUR int ssp_supply_get(ssp_state *st, uint64_t *locked, uint64_t *pool);
SSP_WUR int ssp_supply_set(ssp_state *st, uint64_t locked, uint64_t pool);
SSP_WUR int ssp_supply_decode(const void *p, size_t n, uint64_t *locked, uint64_t *pool);

#endif
