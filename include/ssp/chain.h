/*
 * ssp/chain.h — the public API of libssp_chain: transactions, receipts,
 * blocks, Merkle proofs, genesis, ledger state, the transaction-type
 * registry, the mempool and the state transition. Sits above store and core.
 *
 * Threading (the one place this is stated): an ssp_chain is owned by one
 * thread — the node's chain thread (producer or follower) — for every call
 * that changes it (execute, commit, import, produce, set_*); debug builds
 * assert it. Read helpers that take an ssp_store read txn, and the
 * stateless checks (ssp_chain_check_tx, ssp_chain_verify_tx), run on any
 * thread. The mempool is thread-safe (its own mutex): RPC threads and the
 * node's loop admit while the chain thread builds a block from it.
 *
 * Error classes: see ssp_err_local in ssp/core.h. A block or tx is invalid
 * only for its own content; a local failure while executing or committing
 * poisons the chain object (every later change fails with that error) and
 * the node must stop.
 */
#ifndef SSP_CHAIN_H
#define SSP_CHAIN_H

#include <jansson.h>
#include <stdbool.h>

#include "ssp/core.h"
#include "ssp/proto.h"
#include "ssp/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Transactions and the transfer payload: ssp/proto.h. */

/* Receipts, Merkle roots and proofs, the block header: ssp/proto.h. */

/* ------------------------------------------------------------------ blocks */

/* A block: header bytes | u32 tx count | (u32 len + tx bytes)*. */
typedef struct {
	ssp_header hdr;
	uint32_t ntx;
	ssp_tx *txs; /* owned array; each tx borrows from raw */
	const uint8_t *raw;
	size_t raw_len;
} ssp_block;

/* Strictly decodes a block, borrowing raw. Free with ssp_block_free. */
SSP_WUR int ssp_block_decode(ssp_block *b, const uint8_t *raw, size_t n, size_t max_bytes);
void ssp_block_free(ssp_block *b);

/* ----------------------------------------------------------------- genesis */

/* The chain parameters (ssp_params): ssp/proto.h. */

/* The most rounds a delegate's productivity window spans (its record keeps one entry each). */
#define SSP_DPOS_PROD_WINDOW_MAX 64

/*
 * The staking module's genesis parameters (the optional "dpos" object;
 * docs/internals/dpos.md). Unlock delays are in slots, so a genesis with
 * short slots or its own values (devnets, tests) unlocks sooner. Defaults:
 * 3 days and 28 days of slots, 10,000 SSP, 99 / 4 / 200.
 */
typedef struct {
	uint64_t vote_unlock_slots; /* unstaked vote stake unlocks after this many slots */
	uint64_t self_unlock_slots; /* an unregistered delegate's self-stake, after this many */
	uint64_t min_self_stake;    /* base units a delegate registers with, at least */
	uint32_t set_size;          /* active delegates per round */
	uint32_t standby;           /* of them drawn by lottery (0: a literal top set_size) */
	uint32_t max_rank;          /* the lottery draws from ranks set_size-standby+1..max_rank */
	/*
	 * The emission schedule (rounds of set_size slots): the pool pays
	 * round_reward base units per round, halved every halving_rounds
	 * rounds (0: never), never more than it holds; 70% go to the
	 * reward_ranks delegates of highest capped weight (pro rata), the 30%
	 * block part stays in the pool until blocks are paid on finality.
	 * round_reward 0 (the default): no emission.
	 */
	uint64_t round_reward;
	uint64_t halving_rounds;
	uint32_t reward_ranks;
	/*
	 * Double signing: evidence of a slot older than evidence_slots is
	 * refused; a slashed delegate is banned for ban_slots (for good after
	 * its third slash). Defaults: 28 days of slots each.
	 */
	uint64_t evidence_slots;
	uint64_t ban_slots;
	/*
	 * Productivity (docs/dpos.md): a delegate that produced fewer than 85%
	 * of its slots over its last prod_window_rounds rounds (<= 64) goes on
	 * probation for probation_rounds rounds (left out of the elections);
	 * one with more than deactivate_misses consecutive missed slots and no
	 * block for deactivate_slots slots is deactivated until it registers
	 * again. Defaults: 24 rounds, 6 rounds, 50 misses, 14 days of slots.
	 */
	uint32_t prod_window_rounds; /* <= SSP_DPOS_PROD_WINDOW_MAX */
	uint32_t probation_rounds;
	uint32_t deactivate_misses;
	uint64_t deactivate_slots;
} ssp_dpos_params;

/* The parsed genesis; an opaque object owned by the caller. */
typedef struct ssp_genesis ssp_genesis;

/* Parses and validates a genesis JSON document (allocation shares, sums, addresses). */
SSP_WUR int ssp_genesis_parse(ssp_genesis **out, const char *json, size_t n, char *why,
                              size_t whylen);
SSP_WUR int ssp_genesis_load(ssp_genesis **out, const char *path, char *why, size_t whylen);
void ssp_genesis_free(ssp_genesis *g);
const char *ssp_genesis_chain_id(const ssp_genesis *g);
const char *ssp_genesis_network(const ssp_genesis *g);
const char *ssp_genesis_hrp(const ssp_genesis *g);
const ssp_params *ssp_genesis_params(const ssp_genesis *g);
const ssp_dpos_params *ssp_genesis_dpos(const ssp_genesis *g);
/* True when the genesis has a "dpos" object (ssp_genesis_dpos gives defaults otherwise). */
bool ssp_genesis_has_dpos(const ssp_genesis *g);
const ssp_hash *ssp_genesis_hash(const ssp_genesis *g);
/* The single producer's address and key (DPoS replaces this with the delegate set). */
const ssp_addr *ssp_genesis_producer(const ssp_genesis *g);
const ssp_pubkey *ssp_genesis_producer_key(const ssp_genesis *g);
/*
 * The producer set: the genesis "producers" array (round-robin by slot, see
 * src/consensus), or the single `producer` when the genesis has no array.
 * *keys is borrowed from g. Returns the count (>= 1).
 */
#define SSP_GENESIS_PRODUCERS_MAX 256
size_t ssp_genesis_producers(const ssp_genesis *g, const ssp_pubkey **keys);
/* True when the genesis lists a "producers" array. */
bool ssp_genesis_has_producer_set(const ssp_genesis *g);
/*
 * True when the genesis has a "bft" object: the producer set runs the BFT
 * consensus (ssp/bft.h: hash-onion reveals, votes, finality) instead of
 * round-robin. *onion (may be NULL) gets one onion commitment per producer
 * (borrowed), *layers the onion's length.
 */
bool ssp_genesis_bft(const ssp_genesis *g, const ssp_hash **onion, uint32_t *layers);
/* Public keys as text (the genesis file's spelling): ssp_pubkey_text in ssp/core.h. */
uint64_t ssp_genesis_time_ms(const ssp_genesis *g);

/* The devnet genesis document (ssp_genesis_dev_json): ssp/proto.h. */

/* ----------------------------------------------------------------- accounts */

/* The account record (ssp_account, its codec): ssp/proto.h. */

typedef struct {
	uint64_t total;
	uint64_t circulating; /* total - locked - pool */
	uint64_t locked;
	uint64_t pool;
} ssp_supply;

/* ------------------------------------------------------------------- state */

/*
 * The state of the block being applied: a write overlay over the committed
 * LMDB state with savepoints. All consensus state lives in one LMDB table
 * keyed by u8 table id || key; a module owns the ids it registers.
 * Only the chain's owner thread uses an ssp_state. The table ids and key
 * limits are in ssp/proto.h (a state proof names a table and key).
 */
typedef struct ssp_state ssp_state;

/* *v is borrowed until the next change to the state. SSP_ERR_NOTFOUND if absent. */
SSP_WUR int ssp_state_get(ssp_state *st, uint8_t table, const void *k, size_t kl, const void **v,
                          size_t *vl);
SSP_WUR int ssp_state_put(ssp_state *st, uint8_t table, const void *k, size_t kl, const void *v,
                          size_t vl);
SSP_WUR int ssp_state_del(ssp_state *st, uint8_t table, const void *k, size_t kl);
/* Reads an account; an unknown address yields a zero account. */
SSP_WUR int ssp_state_account(ssp_state *st, const ssp_addr *a, ssp_account *out);
SSP_WUR int ssp_state_set_account(ssp_state *st, const ssp_addr *a, const ssp_account *acc);
/* Moves amount from the pool to an account / from an account to the pool. */
SSP_WUR int ssp_state_pool_pay(ssp_state *st, const ssp_addr *to, uint64_t amount);
SSP_WUR int ssp_state_pool_add(ssp_state *st, uint64_t amount);
/* What the pool holds now. */
SSP_WUR int ssp_state_pool_get(ssp_state *st, uint64_t *pool);
/* Credits `to`, locking the amount until unlock_ms when unlock_ms > 0. */
SSP_WUR int ssp_state_credit(ssp_state *st, const ssp_addr *to, uint64_t amount,
                             uint64_t unlock_ms);

/* Savepoints: a nested undo log. Rollback undoes every change since the mark. */
/*
 * Visits every entry of `table` (key without the table byte) in key order,
 * as the txn under st holds it: for a block hook at the block's start, the
 * state the blocks before left. SSP_ERR_INTERNAL when st itself has
 * changed the table (those changes are not in the txn yet); a visitor
 * returning non-zero stops the scan (that value is returned, 1 = stop).
 */
SSP_WUR int ssp_state_scan(ssp_state *st, uint8_t table, ssp_txn_visit fn, void *arg);
size_t ssp_state_mark(ssp_state *st);
void ssp_state_rollback(ssp_state *st, size_t mark);

/* ---------------------------------------------------------- tx type registry */

typedef struct {
	ssp_state *st;
	const ssp_params *params;
	const char *chain_id;
	const char *hrp;
	uint64_t height;
	uint64_t time_ms;
	ssp_receipt *rcpt; /* the tx's receipt, filled by the chain and the type */
	void *mod;         /* the tx type's per-chain module state (ssp_txreg.mod) */
	/*
	 * The block came from elsewhere (ssp_chain_import: replay, later P2P),
	 * not from this node's producer. Node-local resource caps that are not
	 * consensus rules (the VM's live-memory and allocation caps) are looser
	 * then, so a tx its producer ran within them cannot exceed them here.
	 */
	bool validating;
	/* the block being executed (ssp_txctx_block_height); NULL outside a block */
	const struct ssp_exec *exec;
} ssp_txctx;

/*
 * The height of the committed block with this id on the chain executing
 * c (the block's ancestors: on a fork, only that fork's blocks), or
 * SSP_ERR_NOTFOUND. Deterministic on every node that executes the block.
 */
SSP_WUR int ssp_txctx_block_height(const ssp_txctx *c, const ssp_hash *id, uint64_t *height);

/*
 * A transaction type. The chain has charged the fee and advanced the nonce
 * before apply runs. apply returning an error makes the tx invalid: all its
 * changes are undone and it is not included — unless the error is a local
 * failure (ssp_err_local: out of memory, I/O …), which is never the tx's
 * fault: the chain then stops (see "Error classes" below). A type that
 * wants a failed tx recorded on chain (fee kept) returns 0 with
 * rcpt->status = FAILED.
 *
 * Callbacks get the type's per-chain module state `mod` (ssp_txreg) —
 * check and spend as their first argument, apply as ssp_txctx.mod — so no
 * module keeps process-wide state. check and spend may run on any thread
 * and must only read `mod`; apply runs on the chain's owner thread.
 */
typedef struct {
	uint16_t id;
	const char *name;
	/* Stateless payload check (canonical decode, ranges). */
	int (*check)(void *mod, const ssp_tx *tx);
	/* SSP the tx can move out of the sender beyond its fee (mempool admission). */
	uint64_t (*spend)(void *mod, const ssp_tx *tx, const ssp_params *p);
	int (*apply)(ssp_txctx *c, const ssp_tx *tx);
	/* The payload as JSON for RPC; new reference or NULL. */
	json_t *(*to_json)(const ssp_tx *tx, const char *hrp);
	/* Gas this tx may use (counted against the block's max_block_gas); NULL = 0. */
	uint64_t (*gas_limit)(const ssp_tx *tx);
} ssp_txtype;

/* A registered tx type and the per-chain state its callbacks get. */
typedef struct {
	const ssp_txtype *type;
	void *mod;
} ssp_txreg;

/*
 * A sender hook: a module's say over who may send. The chain calls every
 * registered hook for a tx whose sender's account is `restricted` (and for
 * no other tx: the hot path pays one flag test on the account it reads
 * anyway), at mempool admission through a view of the committed state and
 * at execution through the block's state at the tx's position, before the
 * fee is charged. A hook returning an error makes the tx invalid: refused
 * at admission, left out by a producer, and a block carrying it is invalid
 * (SSP_ERR_BLOCK_TX) — like a bad nonce, so a sender a module has shut out
 * (a revoked device, whose key may be in other hands) cannot even spend its
 * balance on fees. It must be a deterministic function of st and tx. Runs
 * on any thread; `mod` is only read.
 */
typedef struct {
	int (*check)(void *mod, ssp_state *st, const ssp_tx *tx);
	void *mod;
} ssp_sender_hook;

typedef struct ssp_chain ssp_chain;

/* Where a block starts, as a block hook sees it. */
typedef struct {
	uint64_t height, slot, time_ms;
	uint64_t parent_slot; /* the slot of the block before (0 for block 1) */
	/*
	 * The parent block's seed_reveal when it is 32 bytes (a BFT onion
	 * reveal), else zeros (block 1, a chain without BFT). The parent's, not
	 * the block's own: a producer's consensus sets its header's reveal
	 * after execution, so the block's own is not known when it begins.
	 */
	ssp_hash parent_reveal;
	/*
	 * What the consensus layer says about the block (its block_context
	 * callback, below; all zero/false without one): the key that may
	 * produce it, the height its parent's branch's own QCs make final,
	 * and the producers of the slots skipped between the parent's slot and
	 * this one on this branch (at most one round of them: the last
	 * ones). Borrowed for the duration of the hook.
	 */
	const struct ssp_block_context *ctx;
} ssp_block_start;

/* At most this many skipped slots a block context names (one round of the largest set). */
#define SSP_BLOCK_MISSED_MAX 256

/* A slot skipped before a block, and the key whose turn it was. */
typedef struct {
	uint64_t slot;
	ssp_pubkey key;
} ssp_block_missed;

/*
 * The consensus layer's facts about a block about to begin, a
 * deterministic function of its parent's branch and its slot (filled by
 * ssp_consensus.block_context; the chain zeroes it first).
 */
typedef struct ssp_block_context {
	bool has_producer; /* producer is set */
	bool has_final;    /* the consensus tracks finality per branch: branch_final is set */
	ssp_pubkey producer;
	uint64_t branch_final; /* final by the QCs of the parent's branch (<= the parent's height) */
	uint32_t nmissed;      /* <= SSP_BLOCK_MISSED_MAX, slots ascending */
	ssp_block_missed missed[SSP_BLOCK_MISSED_MAX];
} ssp_block_context;

/*
 * A block hook: a module's work that belongs to blocks rather than to txs
 * (the staking module's round rewards). `begin` runs at the start of every
 * block, produced or imported, after the due locks are released and before
 * the first tx, in the block's state (so the state root, undo records and
 * proofs cover what it writes). It must be a deterministic function of st
 * and b, and must not fail on a sound state: any error it returns stops
 * the chain (poisoned, like a failed commit), never a block's verdict.
 * `check` (optional) is the module's part of the invariants, run after a
 * block commits when the chain checks invariants (debug builds,
 * --check-invariants): SSP_ERR_SUPPLY or SSP_ERR_DBCORRUPT stop the node.
 */
typedef struct {
	int (*begin)(void *mod, ssp_state *st, const ssp_block_start *b);
	int (*check)(void *mod, const ssp_chain *c, ssp_txn *rt);
	void *mod;
} ssp_block_hook;

/* ------------------------------------------------------------------- chain */

typedef struct {
	uint64_t height;
	ssp_hash id;
	ssp_hash state_root;
	uint64_t timestamp_ms;
	uint64_t slot;
	uint64_t finalized;
} ssp_head;

/*
 * Opens (or initialises from genesis) the chain in an open store. The chain
 * borrows store, genesis and the extra tx types (modules) with their
 * per-chain states; they must outlive it. Fails with SSP_ERR_DBVERSION if
 * the store holds another chain.
 */
SSP_WUR int ssp_chain_open(ssp_chain **out, ssp_store *st, const ssp_genesis *g,
                           const ssp_txreg *types, size_t ntypes);
void ssp_chain_close(ssp_chain *c);

/* Owner-thread view of the head. */
const ssp_head *ssp_chain_head(const ssp_chain *c);
const ssp_genesis *ssp_chain_genesis(const ssp_chain *c);
ssp_store *ssp_chain_store(const ssp_chain *c);
const ssp_txtype *ssp_chain_txtype(const ssp_chain *c, uint16_t id);
/* The registration (type and module state) of type id, or NULL. */
const ssp_txreg *ssp_chain_txreg(const ssp_chain *c, uint16_t id);
/*
 * Registers the modules' sender hooks (copied; each mod borrowed, must
 * outlive the chain). Call once, right after ssp_chain_open and before any
 * block or admission (ssp_modset_open_chain does). At most 16.
 */
SSP_WUR int ssp_chain_set_sender_hooks(ssp_chain *c, const ssp_sender_hook *hooks, size_t n);
/* Likewise the modules' block hooks (ssp_modset_attach registers both). At most 16. */
SSP_WUR int ssp_chain_set_block_hooks(ssp_chain *c, const ssp_block_hook *hooks, size_t n);
/*
 * Runs the sender hooks on tx against st when acc (the sender's account
 * as st has it) is restricted; 0 otherwise. Any thread.
 */
SSP_WUR int ssp_chain_check_sender(const ssp_chain *c, ssp_state *st, const ssp_account *acc,
                                   const ssp_tx *tx);
/* Check the supply invariant after every block (debug builds do by default). */
void ssp_chain_set_check_invariants(ssp_chain *c, bool on);
/* The names of the store tables the chain keeps (ssp_store_check's `known`). */
const char *const *ssp_chain_tables(size_t *n);
/*
 * Write an undo record for every block committed from now on, final or not,
 * and prune none: `sspd --verify-db` replays the chain with this on so that
 * every stored undo record has a replayed one to be compared with. Owner.
 */
void ssp_chain_set_keep_undo(ssp_chain *c, bool on);
/*
 * The producer's time budget, a local policy (never a validity rule):
 * ssp_exec_candidates takes no further candidate once executing the block
 * has taken `us` microseconds (the tx running then finishes; the rest stay
 * in the mempool). 0 = no budget. Default: half the block interval.
 * Importing a block is never cut short. Chain owner thread only.
 */
void ssp_chain_set_exec_budget(ssp_chain *c, uint64_t us);

/* Minimum fee of an encoded tx of n bytes. */
uint64_t ssp_chain_min_fee(const ssp_chain *c, size_t n);

/*
 * Stateless checks of a decoded tx: chain id, known type, payload, fee
 * minimum. Thread-safe.
 */
SSP_WUR int ssp_chain_check_tx(const ssp_chain *c, const ssp_tx *tx);
/*
 * Verifies the signature with the tx's pubkey or the key on chain (read
 * through rt). SSP_ERR_NOKEY when neither has it. Thread-safe.
 */
SSP_WUR int ssp_chain_verify_tx(const ssp_chain *c, ssp_txn *rt, const ssp_tx *tx);

/* What a committed block was. */
typedef struct {
	uint64_t height;
	ssp_hash id;
	uint32_t ntx;
	size_t bytes;
	uint64_t apply_ns;  /* building and applying */
	uint64_t commit_ns; /* the durable LMDB commit */
	uint32_t sigs_at_exec; /* imported: tx signatures checked serially while executing (their
	                          keys were unknown when the block was prepared) */
	uint64_t root_ns;   /* updating the state tree (inside apply_ns) */
	uint32_t root_keys; /* state keys the block wrote (tree paths updated) */
	uint64_t root_ops;  /* tree positions visited */
	uint64_t timestamp_ms; /* the block's own timestamp (its producer's clock) */
} ssp_block_info;

/* -------------------------------------------------------- consensus interface */

/*
 * What the chain asks the consensus layer: who may sign the block of a
 * slot, and which height is final. The chain validates every block's
 * producer and slot through it, so the network and DPoS layers replace
 * this one object, not the chain. Callbacks run on the chain's owner
 * thread and must be deterministic functions of the chain's committed
 * state (never of timing or local failures).
 */
typedef struct {
	/* The key that may sign the block of `slot` extending `parent`; 0 or an error. */
	int (*producer)(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
	                ssp_pubkey *key);
	/* The final height once `head` is committed (never above head->height). */
	uint64_t (*finalized)(void *ctx, const ssp_chain *c, const ssp_head *head);
	/*
	 * Optional (NULL: nothing to do). A branch switch was abandoned after
	 * `finalized` had been called for some of its blocks: forget what was
	 * learnt from them and reload from the committed chain (read txns).
	 */
	void (*reset)(void *ctx, const ssp_chain *c);
	/*
	 * Optional (NULL: nothing more). The consensus layer's own rules for a
	 * header whose producer signature was checked against producer():
	 * e.g. the BFT module's hash-onion reveal and quorum certificate. 0 or
	 * a validity error; deterministic in the header and its branch.
	 */
	int (*check)(void *ctx, const ssp_chain *c, const ssp_header *h);
	/*
	 * Optional (NULL: nothing to add). Fills what the consensus layer puts
	 * in a header this node is about to sign (seed_reveal, finality_qc:
	 * h->qc may point into ctx until the next call). An error stops the
	 * production of that block (e.g. not this node's slot).
	 */
	int (*prepare)(void *ctx, const ssp_chain *c, ssp_header *h);
	/*
	 * Optional. Block h was executed and is being committed; st is its
	 * state (the consensus layer reads what the block wrote there: the
	 * staking module's election). Called before the commit finishes: what
	 * it learns must be a function of the block alone. parent_slot: the
	 * slot of the block it builds on (a switch's read txns still see the
	 * old branch, so it is passed, not read).
	 */
	void (*committed)(void *ctx, const ssp_chain *c, ssp_state *st, const ssp_header *h,
	                  uint64_t parent_slot);
	/*
	 * Optional (NULL: block hooks see no context). The facts block hooks
	 * get about the block of `slot` on `parent` (the chain's head when it
	 * is called): *out is zeroed by the chain; fill what this consensus
	 * knows. Must be a deterministic function of the parent's branch and
	 * the slot (never of votes seen or timing), since the staking
	 * module's rewards and productivity follow from it. An error stops
	 * that block (a local one poisons the chain, as for any block start).
	 */
	int (*block_context)(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
	                     ssp_block_context *out);
	void *ctx;
} ssp_consensus;

/*
 * Replaces the chain's consensus (copied; ctx borrowed). The default is
 * the genesis producer in every slot and "final = head".
 */
void ssp_chain_set_consensus(ssp_chain *c, const ssp_consensus *cs);
/* The slot a time falls in: (time - genesis time) / block interval; 0 before genesis. */
uint64_t ssp_chain_slot_at(const ssp_chain *c, uint64_t time_ms);
/* The first millisecond of a slot. */
uint64_t ssp_chain_slot_start(const ssp_chain *c, uint64_t slot);
/*
 * Verifies imported blocks' tx signatures on this pool (borrowed; NULL =
 * on the calling thread).
 */
void ssp_chain_set_workpool(ssp_chain *c, ssp_workpool *pool);
/* The error that poisoned the chain, or 0. */
int ssp_chain_fatal(const ssp_chain *c);

/* ----------------------------------------------------- execute, build, commit */

/*
 * A block being executed on top of the head: its state changes, receipts
 * and roots, not yet committed. It holds the store's write txn (the one
 * writer) until ssp_chain_commit or ssp_exec_abort. Producers, followers
 * and the consensus layer all go through these steps:
 *
 *   ssp_chain_begin -> ssp_exec_candidates (producer) | ssp_exec_block (import)
 *   -> ssp_exec_header (roots; an unsigned header) -> sign -> ssp_chain_commit
 *
 * A step that fails with a validity error leaves the chain as it was
 * (abort the exec); one that fails with a local failure (ssp_err_local)
 * also poisons the chain.
 */
typedef struct ssp_exec ssp_exec; /* (struct ssp_exec: also in ssp_txctx) */

/*
 * Starts a block of `slot` at `time_ms` on the head: checks the slot
 * (after the head's, and time_ms inside it), takes the write txn and
 * releases the locks that are due. SSP_ERR_BLOCK_TIME for a bad slot/time.
 */
SSP_WUR int ssp_chain_begin(ssp_chain *c, ssp_exec **out, uint64_t slot, uint64_t time_ms);
/*
 * Producer: applies candidates in order, leaving out each tx that is no
 * longer valid (and its sender's later ones; see ssp_exec_dropped) and
 * stopping at the block's limits or once the chain's time budget is spent
 * (ssp_chain_set_exec_budget; at least one candidate is always tried).
 * txs are borrowed until commit/abort. Fails only with a local failure.
 */
SSP_WUR int ssp_exec_candidates(ssp_exec *x, const ssp_tx *txs, size_t n);
/*
 * Import: applies a block's txs, every one of which must be valid
 * (SSP_ERR_BLOCK_TX, SSP_ERR_BLOCK_LIMIT otherwise). verified[i] says tx
 * i's signature was already checked (NULL: check each here). txs borrowed.
 */
SSP_WUR int ssp_exec_block(ssp_exec *x, const ssp_tx *txs, size_t n, const bool *verified);
/*
 * The block's unsigned header: height, parent, slot, time, producer and
 * the tx, receipts and state roots of what was executed.
 */
SSP_WUR int ssp_exec_header(ssp_exec *x, ssp_header *h, const ssp_addr *producer);
/* The txs the exec left out and why (producer), borrowed from x. */
size_t ssp_exec_dropped(const ssp_exec *x, const ssp_hash **txids, const int **errs);
/* The txs included so far, borrowed from x. */
size_t ssp_exec_included(const ssp_exec *x, const ssp_tx *const **txs);
/* Ends an exec without committing; the chain is as before begin. NULL is fine. */
void ssp_exec_abort(ssp_exec *x);

/*
 * Commits an executed block under the signed header h (from
 * ssp_exec_header, or an imported block's): h must match what was executed
 * (SSP_ERR_BLOCK_ROOT / BLOCK_STATE / BLOCK_HEIGHT / BLOCK_TIME otherwise)
 * and carry a valid signature by the slot's producer (BLOCK_PRODUCER /
 * BADSIG). Writes the block, its receipts, index, state and head in one
 * LMDB txn. Always consumes x. A failed write poisons the chain.
 */
SSP_WUR int ssp_chain_commit(ssp_chain *c, ssp_exec *x, const ssp_header *h, ssp_block_info *info);

/*
 * Popping blocks (reorgs). Each block committed above the finalized height
 * keeps an undo record until it is final (docs/internals/chain.md).
 * ssp_chain_pop_to pops every block above `height` in ONE LMDB write txn:
 * the state, the state tree, the head and the state root become exactly
 * what they were at `height`; the blocks, their receipts, tx index entries
 * and undo records go. SSP_ERR_FINAL_POP when height is below the finalized
 * height (nothing changes); popping to the head is a no-op. Owner thread
 * only, not during an exec (SSP_ERR_BUSY). On success *out (may be NULL)
 * holds the popped blocks' bytes, highest first, so the caller can decode
 * them (ssp_block_decode) and give their txs back to the mempool. A local
 * failure leaves the disk untouched and poisons the chain, as for import.
 */
typedef struct {
	uint8_t **raw; /* owned, each block's bytes */
	size_t *len;
	size_t n;
} ssp_popped;
SSP_WUR int ssp_chain_pop_to(ssp_chain *c, uint64_t height, ssp_popped *out);
/* Pops the head block (ssp_chain_pop_to(c, head - 1, out)). */
SSP_WUR int ssp_chain_pop(ssp_chain *c, ssp_popped *out);
void ssp_popped_free(ssp_popped *p);

/*
 * The slot of the last block this datadir's producer signed, recorded in
 * the block's own commit by ssp_produce_block (0 if none). Any thread.
 * The record (meta "signed_slot") is u64 LE slot ‖ id of that block ‖ an
 * 8-byte checksum (older versions wrote the slot alone); ssp_chain_open
 * checks it, and against the chain.
 */
SSP_WUR int ssp_chain_read_signed_slot(const ssp_chain *c, ssp_txn *rt, uint64_t *slot);

/*
 * The consensus layer's vote watermark (meta "bft_vote", opaque to the
 * chain; at most 32 KiB): written in its own durable LMDB txn BEFORE the
 * vote it allows leaves the node, stored with an 8-byte checksum that
 * ssp_chain_open checks. Write: the chain's owner thread. Read: any
 * thread; *out malloc'd (NULL and *n = 0 when there is none).
 */
SSP_WUR int ssp_chain_write_vote_record(ssp_chain *c, const uint8_t *rec, size_t n);
SSP_WUR int ssp_chain_read_vote_record(const ssp_chain *c, ssp_txn *rt, uint8_t **out, size_t *n);
/*
 * Raises the final height to `height` (an ancestor of the head the
 * consensus layer found final between blocks, from votes): the head
 * record is rewritten and undo records at or below it are dropped, in one
 * durable txn. Nothing happens for a height at or below the final one or
 * above the head. Owner thread.
 */
SSP_WUR int ssp_chain_advance_final(ssp_chain *c, uint64_t height);

/* A block signer: the producer key stays outside the chain (a keystore, later an HSM). */
typedef struct {
	/* Signs the 32-byte digest of a header (ssp_sig_digest under SSP_DOM_BLOCK). */
	int (*sign)(void *ctx, ssp_sig *sig, const ssp_hash *digest);
	void *ctx;
	ssp_pubkey pub;
} ssp_signer;

/* A signer over a software key (borrowed; must outlive the signer). */
void ssp_signer_soft(ssp_signer *s, const ssp_seckey *sk);

/* ---------------------------------------------------------------- mempool */

/*
 * Pending transactions. Thread-safe: every function takes the pool's
 * mutex, so one thread may admit while the chain's writer builds a block
 * (ssp_chain_produce copies its candidates out under the lock).
 */
typedef struct ssp_mempool ssp_mempool;

typedef struct {
	size_t max_count;
	size_t max_bytes;
	uint32_t max_per_sender; /* pending txs per sender */
	size_t rejected_memory;  /* remembered rejections for tx_get: dropped, and refused */
	size_t invalid_memory;   /* remembered submissions that failed decode/checks/signature */
} ssp_mempool_opts;

SSP_WUR int ssp_mempool_new(ssp_mempool **out, ssp_chain *c, const ssp_mempool_opts *o);
void ssp_mempool_free(ssp_mempool *m);

/*
 * Admits a tx (copying raw). `verified` says the signature was already
 * checked; otherwise the key is taken from the tx, the chain or an earlier
 * pending tx of the sender, and checked here.
 */
SSP_WUR int ssp_mempool_add(ssp_mempool *m, const uint8_t *raw, size_t n, bool verified,
                            ssp_hash *txid);
/*
 * The same for a tx the caller already decoded and passed through
 * ssp_chain_check_tx (the RPC threads do both in parallel), so the pool's
 * owner does not repeat them. tx's bytes are copied.
 */
SSP_WUR int ssp_mempool_add_checked(ssp_mempool *m, const ssp_tx *tx, bool verified,
                                    ssp_hash *txid);
/* 1 if pending. */
int ssp_mempool_has(const ssp_mempool *m, const ssp_hash *txid);
/* The error a tx was rejected or dropped with (the latest), or 0 if unknown. */
int ssp_mempool_rejected(const ssp_mempool *m, const ssp_hash *txid);
/*
 * Records, for tx_get, a tx refused by the stateful admission rules
 * outside the pool (ssp_mempool_add records its own refusals).
 */
void ssp_mempool_note_rejected(ssp_mempool *m, const ssp_hash *txid, int err);
/*
 * Records a submission that failed the stateless checks or its signature.
 * Kept apart from the other rejections, in a ring of invalid_memory
 * entries, so that free junk cannot push honest txs' reasons out.
 */
void ssp_mempool_note_invalid(ssp_mempool *m, const ssp_hash *txid, int err);
/*
 * Gives txs back to the pool after a branch switch: txs[0..n) (the popped
 * blocks' txs, oldest first, signatures already checked) are admitted
 * again under the current committed state, and every sender they touch is
 * re-queued from its nonce on the new branch — the given txs first, then
 * its earlier pending ones — so the nonces stay contiguous. A tx no longer
 * valid (its nonce used by the new branch, balance …) is refused and
 * remembered for tx_get. Returns how many of txs were admitted.
 */
size_t ssp_mempool_readd(ssp_mempool *m, const ssp_tx *txs, size_t n);
/*
 * Which pending txs a block may take: those that `need` peers are known to
 * hold (ssp_mempool_echo: they announced it, or sent it; `need` <= 64), or
 * that were admitted hold_ms ago or more (monotonic clock); a sender's txs in nonce order up to its
 * first one not ripe. A block whose txs the network already has is checked
 * and committed by every node without verifying their signatures again
 * (they did on admission), so it propagates at transfer and execution speed;
 * a tx waits at most hold_ms for that. Default (0, 0): every tx at once, as
 * for a node without peers. Any thread.
 */
void ssp_mempool_set_hold(ssp_mempool *m, uint64_t hold_ms, uint32_t need);
/*
 * The peers in `peers` (a bit each: the net numbers its open peers 0..63) hold
 * these txs: they announced them, or sent them. A peer counts once however
 * often it says so. Any thread.
 */
void ssp_mempool_echo(ssp_mempool *m, const ssp_hash *txids, size_t n, uint64_t peers);
/*
 * The key a pending tx of the sender carried (its first, for an account with
 * no key on chain yet): true and *out set, else false. Any thread.
 */
bool ssp_mempool_sender_key(ssp_mempool *m, const ssp_addr *a, ssp_pubkey *out);
/* Next nonce for the sender counting pending txs. */
uint64_t ssp_mempool_pending_nonce(ssp_mempool *m, const ssp_addr *a);
size_t ssp_mempool_count(const ssp_mempool *m);
size_t ssp_mempool_bytes(const ssp_mempool *m);

/*
 * Switches to another branch in ONE LMDB write txn: pops every block above
 * fork_height (as ssp_chain_pop_to) and imports raw[0..n) (encoded blocks
 * of heights fork_height+1.., each extending the previous), every one
 * fully verified as ssp_chain_import does (decoding, producer in slot and
 * its signature, every tx signature, execution, the three roots) before the
 * txn commits. All or nothing:
 *  - SSP_ERR_FINAL_POP when fork_height is below the finalized height,
 *    SSP_ERR_BLOCK_HEIGHT when it is above the head; nothing changes;
 *  - a validity error of block i (or SSP_ERR_BLOCK_EARLY: not yet): the
 *    txn is aborted, nothing changes, *bad = i and the error is returned
 *    (the chain is not poisoned);
 *  - a local failure (ssp_err_local): nothing is written and the chain is
 *    poisoned, as for import.
 * On success *out (may be NULL) holds the popped blocks' bytes, highest
 * first, and, with m, the pool is reconciled: the new branch's txs leave
 * it and the popped blocks' txs that the new branch does not include come
 * back (ssp_mempool_readd); *readded (may be NULL) counts them. Owner
 * thread only, not during an exec (SSP_ERR_BUSY).
 */
SSP_WUR int ssp_chain_switch(ssp_chain *c, ssp_mempool *m, uint64_t fork_height,
                             const uint8_t *const *raw, const size_t *len, size_t n,
                             ssp_popped *out, size_t *bad, size_t *readded);

/* ------------------------------------------------------- block production */

/*
 * The producer's composition of the steps above (it adds nothing to
 * them): takes the mempool's best candidates (the pool keeps admitting
 * meanwhile), executes them in `slot` at time_ms, signs the header with
 * the signer and commits; then drops the txs found invalid and the
 * included ones from the pool. A local failure poisons the chain: the
 * caller must stop. Chain owner thread only.
 */
SSP_WUR int ssp_produce_block(ssp_chain *c, ssp_mempool *m, const ssp_signer *signer, uint64_t slot,
                              uint64_t time_ms, ssp_block_info *info);

/*
 * Validates and commits an encoded block from elsewhere (a peer, a
 * follower's source, replay). Before the write txn is taken: size,
 * decoding, height, parent, slot, the producer's signature, and every
 * tx's signature (in parallel on the chain's work pool; txs pending in m,
 * if given, were checked on admission). Then it executes the block and
 * commits it if its roots match. A validity error leaves the chain as it
 * was; a local failure poisons it. With m, the pool is reconciled after.
 * SSP_ERR_BLOCK_EARLY: the block's time is ahead of this node's clock
 * (not invalid; retry later).
 */
SSP_WUR int ssp_chain_import(ssp_chain *c, ssp_mempool *m, const uint8_t *raw, size_t n,
                             ssp_block_info *info);

/*
 * The two halves of ssp_chain_import, so a node can check block h+1 while
 * it commits block h. ssp_chain_prepare (any thread; raw must outlive the
 * result): size, decoding, limits and every tx signature whose key is
 * known (from the tx, the committed state or an earlier tx of the block;
 * the rest are checked at execution). ssp_chain_import_prepared (owner
 * thread): height, parent, slot, producer signature, execution, commit;
 * it always frees ip.
 */
typedef struct ssp_import ssp_import;
SSP_WUR int ssp_chain_prepare(const ssp_chain *c, ssp_mempool *m, ssp_import **out,
                              const uint8_t *raw, size_t n);
SSP_WUR int ssp_chain_import_prepared(ssp_chain *c, ssp_mempool *m, ssp_import *ip,
                                      ssp_block_info *info);
void ssp_import_free(ssp_import *ip);
/*
 * Imports n consecutive blocks, preparing block i+1 on a second thread
 * while block i executes and commits (owner thread). Stops at the first
 * error, which it returns; *done = blocks imported, infos[0..*done) filled.
 */
SSP_WUR int ssp_chain_import_many(ssp_chain *c, ssp_mempool *m, const uint8_t *const *raw,
                                  const size_t *len, size_t n, ssp_block_info *infos, size_t *done);

/* ------------------------------------------------------- reads (any thread) */

SSP_WUR int ssp_chain_read_head(const ssp_chain *c, ssp_txn *rt, ssp_head *out);
SSP_WUR int ssp_chain_read_account(const ssp_chain *c, ssp_txn *rt, const ssp_addr *a,
                                   ssp_account *out);
SSP_WUR int ssp_chain_read_supply(const ssp_chain *c, ssp_txn *rt, ssp_supply *out);
/* Encoded block at height; *raw borrowed until rt ends. */
SSP_WUR int ssp_chain_read_block(const ssp_chain *c, ssp_txn *rt, uint64_t height,
                                 const uint8_t **raw, size_t *n);
SSP_WUR int ssp_chain_read_block_height(const ssp_chain *c, ssp_txn *rt, const ssp_hash *id,
                                        uint64_t *height);
SSP_WUR int ssp_chain_read_txloc(const ssp_chain *c, ssp_txn *rt, const ssp_hash *txid,
                                 uint64_t *height, uint32_t *index);
/*
 * The receipts of block `height` as stored: u32 n ‖ (u32 len ‖ receipt
 * encoding)* in tx order, *raw borrowed until rt ends (tx_get hashes each
 * encoding for the receipt's proof against receipts_root).
 */
SSP_WUR int ssp_chain_read_receipts_raw(const ssp_chain *c, ssp_txn *rt, uint64_t height,
                                        const uint8_t **raw, size_t *len);
/* Receipt `index` of block `height` (caller frees with ssp_receipt_free). */
SSP_WUR int ssp_chain_read_receipt(const ssp_chain *c, ssp_txn *rt, uint64_t height, uint32_t index,
                                   ssp_receipt *out);
/*
 * A read-only view of the committed state through a read txn (RPC threads):
 * the same ssp_state_* reads a tx sees. Changes made to the view stay in
 * memory and vanish with it. Free with ssp_state_close before ending rt.
 */
SSP_WUR int ssp_chain_state_view(const ssp_chain *c, ssp_txn *rt, ssp_state **out);
void ssp_state_close(ssp_state *st);

/*
 * Visits the committed entries of state table `table` whose keys (without
 * the table byte) are >= start[0..slen) (every entry when start is NULL) in
 * byte order, until fn returns non-zero (returned) or the table ends (0).
 * fn sees the key without the table byte; key and value are borrowed until
 * rt ends. Reads committed state only (not a view's changes). Any thread.
 */
SSP_WUR int ssp_chain_state_scan(const ssp_chain *c, ssp_txn *rt, uint8_t table, const void *start,
                                 size_t slen, ssp_txn_visit fn, void *arg);

/* Full scan: sum of balances, locks and pool equals the total supply. */
SSP_WUR int ssp_chain_check_supply(const ssp_chain *c, ssp_txn *rt);

/*
 * A state proof (ssp/stateproof.h) for key[0..klen) of state table `table`
 * at the head rt sees: *head is that head (its state_root is what the proof
 * verifies against), *val and *vlen the value (borrowed until rt ends; NULL when
 * the key is absent), and the encoded proof is appended to `proof`.
 * SSP_ERR_TOOBIG for a key over SSP_STATE_KEY_MAX; SSP_ERR_DBCORRUPT when
 * the stored tree's root is not the head's. Any thread.
 */
SSP_WUR int ssp_chain_prove(const ssp_chain *c, ssp_txn *rt, uint8_t table, const void *key,
                            size_t klen, ssp_head *head, const void **val, size_t *vlen,
                            ssp_buf *proof);
/*
 * The same proof at a past height: any height from the finalized one
 * (SSP_PROVE_FINAL) up to the head (SSP_PROVE_HEAD, or the head's number:
 * ssp_chain_prove). Below the head, the tree at `height` is rebuilt in
 * memory from the head's and the undo records of the blocks above it,
 * inside rt only: the chain's commits never wait for it. *head is the head
 * record of `height` (its id and state_root are that block's). Errors:
 * SSP_ERR_NOTFOUND above the head, SSP_ERR_PRUNED below the finalized height,
 * SSP_ERR_RANGE when blocks above `height` wrote more than SSP_PROVE_PAST_KEYS
 * keys, SSP_ERR_BUSY when SSP_PROVE_PAST_CONCURRENCY rebuilds are running
 * (retry), SSP_ERR_DBCORRUPT when the rebuilt root is not the block's. Any
 * thread.
 */
#define SSP_PROVE_HEAD UINT64_MAX
#define SSP_PROVE_FINAL (UINT64_MAX - 1)
#define SSP_PROVE_PAST_KEYS 8192
#define SSP_PROVE_PAST_CONCURRENCY 1
SSP_WUR int ssp_chain_prove_at(const ssp_chain *c, ssp_txn *rt, uint64_t height, uint8_t table,
                               const void *key, size_t klen, ssp_head *head, const void **val,
                               size_t *vlen, ssp_buf *proof);
/*
 * Recomputes the state root from every state entry (a full scan; nothing of
 * the stored tree is read) and compares it with the stored tree's root and
 * the head's: SSP_ERR_DBCORRUPT when any differ. *entries (may be NULL)
 * counts the entries. Any thread (verify-db, tests, debug builds).
 */
SSP_WUR int ssp_chain_check_state_root(const ssp_chain *c, ssp_txn *rt, uint64_t *entries);

#ifdef __cplusplus
}
#endif
#endif
