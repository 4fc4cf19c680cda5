/*
 * ssp/consensus.h — the public API of libssp_consensus: the producer
 * schedule, finality rule and fork choice behind the chain's ssp_consensus
 * and the fork database's ssp_forkchoice interfaces, and the fork database
 * itself. This first version is a fixed producer set from genesis taking
 * turns by slot (round-robin) with the last-irreversible-block rule for
 * finality and "most blocks above the last final block" for fork choice;
 * the DPoS issue replaces this module, not its callers.
 *
 * Threading: an ssp_rr is used by the chain's owner thread (through the
 * ssp_consensus callbacks) and read by others only through
 * ssp_rr_slot_producer and the ssp_forkchoice callbacks, which read
 * immutable data. An ssp_forkdb belongs to the chain's owner thread.
 */
#ifndef SSP_CONSENSUS_H
#define SSP_CONSENSUS_H
#include "ssp/bft.h"
#include "ssp/chain.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssp_rr ssp_rr;

/* A round-robin schedule over ssp_genesis_producers(g) (borrowed; must outlive it). */
SSP_WUR int ssp_rr_new(ssp_rr **out, const ssp_genesis *g);
void ssp_rr_free(ssp_rr *r);
/*
 * Reads the (height, slot) of the last blocks of the committed chain, so
 * finality after a restart is computed from the same window (any thread
 * before the chain is shared; reads through a store read txn).
 */
SSP_WUR int ssp_rr_load(ssp_rr *r, const ssp_chain *c);
/* The ssp_consensus object over r (ctx = r). */
void ssp_rr_consensus(ssp_rr *r, ssp_consensus *out);
/* The producer of a slot: producers[slot mod n]. Any thread. */
const ssp_pubkey *ssp_rr_slot_producer(const ssp_rr *r, uint64_t slot);
/* Number of producers. */
size_t ssp_rr_count(const ssp_rr *r);
/*
 * The last-irreversible-block rule: the highest height h such that the
 * blocks above h, up to the head, were made by more than 2/3 of the
 * producer set (distinct producers). Exposed for the unit test: slots[i]
 * is the slot of block height top - i, n_blocks of them.
 */
uint64_t ssp_rr_lib(const ssp_rr *r, uint64_t top, const uint64_t *slots, size_t n_blocks);

/* ------------------------------------------------------------ fork choice */

/*
 * A branch above a fork point, as fork choice sees it. tip_height is the
 * height of its last block; first_slot and first_id describe its first
 * block above the fork point (a branch with no block there has
 * tip_height == the fork point and is never better than one with blocks).
 */
typedef struct {
	uint64_t tip_height;
	uint64_t first_slot;
	ssp_hash first_id;
	bool empty; /* no block above the fork point */
	ssp_hash tip_id; /* its last block (the fork point's block when empty) */
	uint64_t tip_time_ms;
} ssp_branch;

/*
 * What the fork database asks the consensus layer (the DPoS issue replaces
 * the object, not its callers). Both callbacks are deterministic functions
 * of their arguments and the committed chain, so every node holding the
 * same blocks picks the same branch.
 */
typedef struct {
	/*
	 * Two branches above the same fork point (at or above the finalized
	 * height): > 0 when a is better, < 0 when b is, 0 when they are one.
	 */
	int (*compare)(void *ctx, const ssp_branch *a, const ssp_branch *b);
	/*
	 * A cheap check of a header before its block is stored: the producer
	 * of its slot signed it. 0 or a validity error (the sender is at fault);
	 * SSP_ERR_FINAL_POP: it conflicts with the final block (stale, no
	 * blame); SSP_ERR_NOTFOUND: it can only be checked once its parent is
	 * (it is kept unchecked, bounded like orphans, and checked again when
	 * its parent is). The block is verified completely only when it is
	 * applied.
	 */
	int (*check_header)(void *ctx, const ssp_chain *c, const ssp_header *h);
	void *ctx;
} ssp_forkchoice;

/*
 * Round-robin fork choice: the branch with more blocks above the fork
 * point (equivalently above the last final block, which every candidate
 * shares) wins; on a tie, the one whose first block has the earlier slot
 * (it was made first, in its producer's turn); then the lower first block
 * id (two blocks for one slot: a double-signing producer). Any thread.
 */
void ssp_rr_forkchoice(ssp_rr *r, ssp_forkchoice *out);

/* --------------------------------------------------------- BFT consensus */

/*
 * The BFT consensus of a node (bftc.c; issue 9, docs/internals/consensus.md):
 * the pure machine of ssp/bft.h over the genesis producer set (a genesis
 * with a "bft" object), fed with every block the chain commits or the fork
 * database stores and every vote of the network, behind ssp_consensus
 * (producer of a slot on its branch, hash-onion reveal and QC checks,
 * finality from votes) and ssp_forkchoice (latest justified block, then
 * the later tip, then the lower id). Signatures are checked here; the
 * machine gets verified input. Owner thread of the chain only.
 */
typedef struct ssp_bftc ssp_bftc;

#define SSP_BFTC_VOTE_LEN 147

typedef struct {
	uint64_t votes_ok;    /* votes of others verified and counted */
	uint64_t votes_bad;   /* refused: a bad signature or an invalid link */
	uint64_t votes_early; /* for a block not known yet (kept by the caller, retried) */
	uint64_t votes_made;  /* this node's own */
	uint64_t qcs_made;    /* QCs this node put in its blocks */
	uint64_t evidence;    /* equivocations seen (two blocks for a slot, double, surround vote) */
	uint64_t blocks_added; /* blocks the machine took (a vote waiting for one may count now) */
	/* filled by ssp_bftc_info */
	uint64_t justified, final, blocks_held;
	uint32_t set_size;
	int me; /* this node's index in the set, -1 when it is not a producer */
	bool conflicted;
} ssp_bftc_stats;

/* g (borrowed) must have a "bft" object. SSP_ERR_INVAL otherwise. */
SSP_WUR int ssp_bftc_new(ssp_bftc **out, const ssp_genesis *g);
/*
 * Elected sets (ssp/bft.h ssp_bft_set_elected), read from a block's state
 * by the layer that knows the staking module: the set the first block of
 * `round` elected, 0 and *out (its arrays the callee's until the next
 * call), or SSP_ERR_NOTFOUND when it elected none. Set before
 * ssp_bftc_load; without one the genesis set produces for ever.
 */
typedef int (*ssp_bftc_elector)(void *ctx, ssp_state *st, uint64_t round, ssp_bft_set *out);
void ssp_bftc_set_elector(ssp_bftc *b, ssp_bftc_elector fn, void *ctx);
/* Slots per round: with an elector, the genesis dpos set_size (<= 256), else the
 * genesis producers. */
uint32_t ssp_bftc_round_len(const ssp_bftc *b);
void ssp_bftc_free(ssp_bftc *b);
/*
 * Builds the machine from the committed chain (every header from height
 * 1; their signatures were verified when committed) and the vote
 * watermark record. Before the chain is shared.
 */
SSP_WUR int ssp_bftc_load(ssp_bftc *b, const ssp_chain *c);
void ssp_bftc_consensus(ssp_bftc *b, ssp_consensus *out);
void ssp_bftc_forkchoice(ssp_bftc *b, ssp_forkchoice *out);

/*
 * A producer's hash-onion secret: SHA-256 of its signature over a fixed
 * message under SSP_DOM_ONION (so an HSM key works, and nothing else needs
 * keeping). SSP_ERR_KEYTYPE when the key's signatures are not
 * deterministic (P-256): BFT producers need Ed25519 keys.
 */
SSP_WUR int ssp_bftc_onion_secret(ssp_hash *out, const ssp_signer *s, const char *chain_id);
/*
 * This node produces and votes with s (copied; its ctx borrowed): its key
 * must be in the set (SSP_ERR_NOTFOUND) and its onion must be the
 * genesis commitment (SSP_ERR_BFT_REVEAL). Computes the onion once
 * (onion_layers hashes).
 */
SSP_WUR int ssp_bftc_set_producer(ssp_bftc *b, const ssp_signer *s);
/* The producer of slot on the branch ending at parent; NULL for an unknown parent. */
const ssp_pubkey *ssp_bftc_slot_producer(ssp_bftc *b, const ssp_hash *parent, uint64_t slot);
/*
 * May this node produce slot on parent (its turn, the participation rule)?
 * 0, or why not (SSP_ERR_BLOCK_PRODUCER, SSP_ERR_BFT_PARTICIPATION, ...).
 */
SSP_WUR int ssp_bftc_may_produce(ssp_bftc *b, const ssp_hash *parent, uint64_t slot);
/*
 * A vote from the network (SSP_BFTC_VOTE_LEN bytes): decoded, verified,
 * counted. 0 (*fresh: new, to relay); SSP_ERR_NOTFOUND: its blocks are
 * not known yet (keep it, try again after blocks); SSP_ERR_DECODE,
 * SSP_ERR_BADSIG, SSP_ERR_INVAL: the sender is at fault.
 */
SSP_WUR int ssp_bftc_vote_in(ssp_bftc *b, const uint8_t *raw, size_t n, bool *fresh);
/*
 * This node's vote for the chain's head, if it has not voted for it and
 * its watermark allows: the watermark is written through the chain
 * (ssp_chain_write_vote_record, durable) before the vote is signed. 0 and
 * out filled; SSP_ERR_EXISTS / SSP_ERR_BFT_UNSAFE / SSP_ERR_NOTFOUND:
 * nothing to send; a local error.
 */
SSP_WUR int ssp_bftc_vote_out(ssp_bftc *b, ssp_chain *c, uint8_t out[SSP_BFTC_VOTE_LEN]);
/* The machine's final height if its final block is on the chain's branch, else 0. */
uint64_t ssp_bftc_final_on(const ssp_bftc *b, const ssp_chain *c);
/* The machine holds block id: it took it (checked), the final block or above. */
bool ssp_bftc_holds(const ssp_bftc *b, const ssp_hash *id);
void ssp_bftc_info(const ssp_bftc *b, ssp_bftc_stats *out);

/*
 * Equivocation the consensus found, with the signed bytes a slashing tx
 * needs (bftc_evidence.c keeps the last headers and each voter's last
 * vote signatures it verified, bounded): kind is an ssp_bft_ev_kind.
 * complete is false when a half was no longer kept (nothing to submit).
 */
typedef struct {
	uint8_t kind;       /* SSP_BFT_EV_DOUBLE_BLOCK, _DOUBLE_VOTE or _SURROUND */
	bool complete;      /* both halves below are filled */
	ssp_pubkey key;     /* the offender's key */
	uint64_t slot;      /* DOUBLE_BLOCK: the slot */
	uint8_t *header[2]; /* DOUBLE_BLOCK: the two encoded signed headers (malloc'd) */
	size_t header_len[2];
	ssp_vote_link vote[2]; /* votes: the two links (vote[0] the earlier seen) */
	ssp_sig sig[2];        /* and their signatures under key */
} ssp_bftc_evidence;

/*
 * The oldest evidence found and not taken yet: true and *out filled (free its
 * headers with ssp_bftc_evidence_clear), false when none. At most 64 wait
 * (the oldest are dropped past that): take them after every step.
 */
bool ssp_bftc_evidence_take(ssp_bftc *b, ssp_bftc_evidence *out);
/* Frees what e holds (kind, key and slot stay). */
void ssp_bftc_evidence_clear(ssp_bftc_evidence *e);

/* ---------------------------------------------------------- fork database */

/*
 * The fork database: blocks of competing branches received from peers,
 * keyed by block id, each above the finalized height. Bounded in blocks
 * and bytes (and in orphans: blocks whose parent is unknown, kept at most
 * SSP_FORKDB_ORPHAN_MS while their ancestors are fetched). Used by the
 * chain's owner thread only (it reads the chain through read txns).
 */
typedef struct ssp_forkdb ssp_forkdb;

#define SSP_FORKDB_BLOCKS 512
#define SSP_FORKDB_BYTES ((size_t)64 << 20)
#define SSP_FORKDB_ORPHANS 256
#define SSP_FORKDB_ORPHAN_MS 20000

/* fc is copied (its ctx borrowed). 0 for max_blocks/max_bytes: the defaults above. */
SSP_WUR int ssp_forkdb_new(ssp_forkdb **out, const ssp_forkchoice *fc, size_t max_blocks,
                           size_t max_bytes);
void ssp_forkdb_free(ssp_forkdb *f);

/*
 * Stores a copy of an encoded block from `peer` (0: this node, e.g. a
 * popped block). Reads only its header. Returns 0 when stored, or:
 * SSP_ERR_EXISTS (already in the database or on the chain),
 * SSP_ERR_FINAL_POP (at or below the finalized height: stale, no blame),
 * SSP_ERR_BUSY (full, or too many orphans: no blame),
 * a validity error (malformed header, wrong producer or signature, a
 * block known to be invalid or built on one): the sender is at fault.
 */
SSP_WUR int ssp_forkdb_add(ssp_forkdb *f, const ssp_chain *c, const uint8_t *raw, size_t n,
                           uint64_t peer, uint64_t now_ms);
/* Forgets a block (applied, or no longer wanted). */
void ssp_forkdb_remove(ssp_forkdb *f, const ssp_hash *id);
/* Remembers id as invalid (err) and drops it and every stored block built on it. */
void ssp_forkdb_mark_bad(ssp_forkdb *f, const ssp_hash *id, int err);
/*
 * Drops blocks at or below the finalized height, branches that conflict
 * with a final block and orphans older than SSP_FORKDB_ORPHAN_MS.
 */
void ssp_forkdb_prune(ssp_forkdb *f, const ssp_chain *c, uint64_t now_ms);
size_t ssp_forkdb_count(const ssp_forkdb *f);
size_t ssp_forkdb_bytes(const ssp_forkdb *f);

/* A branch to switch to: blocks borrowed from the database until it changes. */
#define SSP_FORKDB_WANTS 8
typedef struct {
	uint64_t fork_height;    /* the last block both branches share */
	const uint8_t **raw;     /* heights fork_height+1 .. (owned array, borrowed bytes) */
	size_t *len;
	uint64_t *peer;
	ssp_hash *id;
	size_t n;
	/* ancestors to fetch: for orphans, (peer, the heights below the lowest one) */
	struct {
		uint64_t peer, from;
		uint32_t count;
	} want[SSP_FORKDB_WANTS];
	size_t nwant;
} ssp_fork_plan;

/*
 * Fork choice over the stored branches against the chain's own: fills
 * *plan with the best branch that fork choice prefers to the chain's
 * (plan->n = 0 when the chain's is best), never one whose fork point is
 * below the finalized height, and with the ancestor requests orphans need.
 * Free with ssp_fork_plan_free. Returns 0 or a local failure.
 */
SSP_WUR int ssp_forkdb_best(ssp_forkdb *f, const ssp_chain *c, ssp_fork_plan *plan);
void ssp_fork_plan_free(ssp_fork_plan *p);

#ifdef __cplusplus
}
#endif
#endif
