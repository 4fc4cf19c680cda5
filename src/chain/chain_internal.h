/*
 * chain_internal.h — declarations shared inside the chain layer (private):
 * the chain object, which chain.c (open, genesis, reads) and exec.c
 * (execute, commit, import) share.
 */
#ifndef SSP_CHAIN_INTERNAL_H
#define SSP_CHAIN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "ssp/chain.h"
#include "state_internal.h"

extern const ssp_txtype ssp_transfer_type;

#define CHAIN_MAX_TYPES 64
#define CHAIN_MAX_HOOKS 16

struct ssp_chain;
/*
 * The invariants checked after a commit, a pop and a branch switch (debug
 * builds, --check-invariants): the supply, every block hook's check and
 * the stored state tree against every entry. 0, a local failure (the check
 * could not run), or what is violated.
 */
int chain_check_invariants(struct ssp_chain *c);

struct ssp_chain {
	ssp_store *store;
	const ssp_genesis *g;
	ssp_table t_state, t_meta, t_blocks, t_blockid, t_txidx, t_rcpts;
	ssp_table t_smt;  /* the state tree (smt.c) */
	ssp_table t_undo; /* undo records of blocks above the finalized height */
	ssp_txreg types[CHAIN_MAX_TYPES];
	size_t ntypes;
	ssp_sender_hook hooks[CHAIN_MAX_HOOKS]; /* set once before use; read by any thread */
	size_t nhooks;
	ssp_block_hook bhooks[CHAIN_MAX_HOOKS]; /* likewise */
	size_t nbhooks;
	ssp_head head;
	ssp_consensus cons;
	ssp_block_context *bctx; /* the block hooks' context (cons.block_context), made on first use */
	ssp_workpool *pool; /* borrowed; NULL = verify on the caller's thread */
	bool check_invariants;
	bool keep_undo; /* an undo record for every block, none pruned (--verify-db's replay) */
	uint64_t exec_budget_us; /* producer: stop taking candidates after this (0: never) */
	bool executing;          /* an ssp_exec holds the write txn */
	atomic_int past_proofs;  /* past-height proofs being built (any thread; prove_past.c) */
	/* restricted accounts the last committed block wrote (owner thread; for the mempool) */
	ssp_addr *restricted;
	size_t nrestricted;
	int fatal; /* poisoned by a local failure: every later change fails with it */
#ifdef SSP_DEBUG
	bool has_owner;
	pthread_t owner; /* the first thread that changed the chain */
#endif
};

/* Debug builds: asserts that the calling thread is the chain's owner (the first writer). */
void chain_assert_owner(ssp_chain *c);

void chain_head_encode(uint8_t out[96], const ssp_head *h);
SSP_WUR int chain_head_decode(ssp_head *h, const void *p, size_t n);
/*
 * Undo records (undo.c). chain_undo_write stores block `height`'s record —
 * the previous head and the previous value of every key the overlay changed
 * — in the block's write txn (before the overlay is flushed);
 * chain_undo_prune deletes the records at or below `finalized`.
 */
SSP_WUR int chain_undo_write(ssp_chain *c, ssp_txn *t, ssp_state *st, uint64_t height,
                             const ssp_head *prev);
SSP_WUR int chain_undo_prune(ssp_chain *c, ssp_txn *t, uint64_t finalized);
/*
 * Reads block `height`'s undo record through t (any txn): *prev gets the
 * head before the block, and fn sees each state key the block wrote with
 * its previous value (old NULL: the key was absent), all borrowed until t
 * changes or ends; fn's non-zero return stops and is returned.
 * SSP_ERR_NOTFOUND when there is no record (final or not committed).
 */
typedef int (*chain_undo_visit)(void *arg, const uint8_t *key, size_t kl, const uint8_t *old,
                                size_t ol);
SSP_WUR int chain_undo_read(const ssp_chain *c, ssp_txn *t, uint64_t height, ssp_head *prev,
                            chain_undo_visit fn, void *arg);
/*
 * Pops every block above `height` inside the write txn t (undo.c): restores
 * state and tree, deletes the blocks' data and writes the parent's head
 * record (finality never moves back). *head gets that head; the popped
 * blocks' bytes are appended to *got, highest first. c->head is not changed.
 */
SSP_WUR int chain_pop_in(ssp_chain *c, ssp_txn *t, uint64_t height, ssp_head *head,
                         ssp_popped *got);
/*
 * Imports a prepared block inside the write txn t without committing it
 * (exec.c; a branch switch): the same checks as ssp_chain_import_prepared,
 * c->head moves to the block. ip stays the caller's.
 */
SSP_WUR int chain_import_nested(ssp_chain *c, ssp_txn *t, ssp_import *ip, ssp_block_info *info);
/* The decoded block of a prepared import (borrowed from ip). */
const ssp_block *chain_import_block(const ssp_import *ip);
/* The exec's block is signed by this node: its commit records the slot (meta signed_slot). */
void chain_exec_mark_signed(ssp_exec *x);
SSP_WUR int chain_signed_slot_put(ssp_chain *c, ssp_txn *t, uint64_t slot, const ssp_hash *id);
SSP_WUR int chain_put_block(ssp_chain *c, ssp_txn *t, const ssp_header *h, const uint8_t *raw,
                            size_t n);
uint64_t chain_tx_gas(const ssp_chain *c, const ssp_tx *tx);
/*
 * Applies the overlay's write set to the state tree in its write txn and
 * sets *root (the new state root); *nkeys and *ops (may be NULL) count the
 * keys and tree positions.
 */
SSP_WUR int chain_state_root(ssp_chain *c, ssp_txn *t, ssp_state *st, ssp_hash *root,
                             uint32_t *nkeys, uint64_t *ops);

#endif
