/*
 * smt_internal.h — the state tree in LMDB (chain layer, private): the sparse
 * Merkle tree behind every header's state_root, stored as one record per
 * tree position in the `smt` table and updated in the block's write txn.
 */
#ifndef SSP_SMT_INTERNAL_H
#define SSP_SMT_INTERNAL_H

#include "ssp/chain.h"
#include "ssp/stateproof.h"

/* One changed state key of a batch: its path, and its new value's hash or a delete. */
typedef struct {
	ssp_hash path, vhash;
	bool del;
} smt_item;

/*
 * Applies a batch (any order; sorted here, in place; paths distinct) to the
 * tree in table tb through the write txn t, and sets *root. Each position on
 * the union of the written paths is read, rehashed and written once.
 * `ops`, when not NULL, counts the positions visited (bench).
 */
SSP_WUR int ssp_smt_update(ssp_txn *t, ssp_table tb, smt_item *items, size_t n, ssp_hash *root,
                           uint64_t *ops);
/* The root of the tree the txn sees. */
SSP_WUR int ssp_smt_root(ssp_txn *t, ssp_table tb, ssp_hash *root);
/* The proof for a path in the tree the txn sees (any thread, read txn). */
SSP_WUR int ssp_smt_prove(ssp_txn *t, ssp_table tb, const ssp_hash *path, ssp_sproof *out);

/*
 * An overlay of tree positions in memory over a (read) txn: the same
 * update, root and prove, with every write kept in the overlay, so a past
 * version of the tree can be rebuilt without the write txn. At most
 * max_positions positions (SSP_ERR_TOOBIG past it: the caller's bound on
 * work and memory). One thread at a time.
 */
typedef struct smt_ovl smt_ovl;
SSP_WUR int smt_ovl_new(smt_ovl **out, size_t max_positions);
void smt_ovl_free(smt_ovl *o);
SSP_WUR int smt_update_ovl(ssp_txn *t, ssp_table tb, smt_ovl *ovl, smt_item *items, size_t n,
                           ssp_hash *root, uint64_t *ops);
SSP_WUR int smt_root_ovl(ssp_txn *t, ssp_table tb, smt_ovl *ovl, ssp_hash *root);
SSP_WUR int smt_prove_ovl(ssp_txn *t, ssp_table tb, smt_ovl *ovl, const ssp_hash *path,
                          ssp_sproof *out);

/*
 * The reference: the root of the canonical tree over sorted, distinct leaves,
 * computed in memory from nothing else (verify-db, tests). No allocation.
 */
void ssp_smt_root_of(ssp_hash *root, const smt_item *sorted, size_t n);
int ssp_smt_item_cmp(const void *a, const void *b);

#endif
