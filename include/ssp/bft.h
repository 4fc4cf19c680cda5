/*
 * ssp/bft.h — the DPoS-99 consensus rules as a pure state machine
 * (consensus layer, part of libssp_consensus; issue 9, ARCHITECTURE §6):
 * the round order (sort by SHA-256(seed | key)), the hash onion and the
 * round seed, Casper-FFG votes and quorum certificates, justification and
 * finality, fork choice, the signing watermark, evidence of equivocation
 * and the participation rule. docs/internals/consensus.md explains it;
 * tests/sim/sim.c runs 4..200 copies of it against a simulated network.
 *
 * Pure: no I/O, no clock, no globals, no randomness. Time enters only as
 * the slot and timestamp fields of the blocks given to it. Signatures are
 * checked OUTSIDE: every block and vote handed to the machine was already
 * verified by the caller (block signed by the key of its `producer`, vote
 * signed by its `voter`, every bit of a QC backed by a verified vote), so
 * the simulator can run 200 delegates fast. The machine's verdicts on a
 * block or vote are a function of its inputs; a local failure (memory) is
 * SSP_ERR_NOMEM, never a verdict (ssp_err_local).
 *
 * In sspd through ssp_bftc (ssp/consensus.h, bftc.c) when the genesis has a
 * "bft" object. Delegate sets change between rounds (ssp_bft_set_elected):
 * the first block of a round on a branch elects the set for the rounds
 * after it, used by the first block of a later round on a branch whose
 * own QCs make that electing block final; until then the set in force
 * stays. Round r's set never depends on the view, only on the branch.
 *
 * Conventions as in ssp/core.h: fallible functions return 0 or a negative
 * ssp_err; predicates return bool; arguments are context, outputs, inputs.
 * An ssp_bft object belongs to one thread (even its lookups update a
 * cache of round orders); the free functions are thread-safe.
 */
#ifndef SSP_BFT_H
#define SSP_BFT_H

#include "ssp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Delegates per set at most (the QC bitmap's width). */
#define SSP_BFT_MAX_N 256
#define SSP_BFT_BITMAP_WORDS (SSP_BFT_MAX_N / 64)

/* A block as a checkpoint: every block is one (height = FFG epoch). */
typedef struct {
	uint64_t height;
	ssp_hash id;
} ssp_bft_ref;

/* ------------------------------------------------------------- schedule */

/* floor(2n/3) + 1: the votes a QC needs. */
uint32_t ssp_bft_quorum(uint32_t n);

/* The round of a slot: slot / n (slot 0 is genesis, in round 0). */
static inline uint64_t ssp_bft_round(uint64_t slot, uint32_t n)
{
	return slot / n;
}

/*
 * The order of a round: order[i] (capacity n) = the index into keys of the
 * delegate producing slot i of the round (slot round*n + i). Delegates are
 * sorted by SHA-256(seed[32] | key.type | key.len | key.b[0..len)) as
 * big-endian numbers, ties (only for equal keys) by index. SSP_ERR_INVAL
 * for n == 0 or n > SSP_BFT_MAX_N.
 */
SSP_WUR int ssp_bft_order(uint32_t *order, const ssp_pubkey *keys, uint32_t n,
                          const ssp_hash *seed);

/*
 * Whether a slot's reveal counts toward the next round's seed: the first
 * ceil(2n/3) slots of its round (the "window"; the last third of a round
 * can no longer change the seed, so the order of round r+1 is fixed before
 * the round ends and no late producer can choose it).
 */
bool ssp_bft_in_seed_window(uint64_t slot, uint32_t n);

/*
 * The seed combiner, XOR: acc ^= reveal. XOR is order-independent, so the
 * seed does not depend on which of two branches' blocks came first, and a
 * producer's only choice is to withhold its block (which it cannot hide:
 * a missed slot), never to pick its reveal (fixed by its commitment).
 */
void ssp_bft_seed_fold(ssp_hash *acc, const ssp_hash *reveal);

/*
 * The seed of `round` from the last round before it that had a block on the
 * branch (prev_seed its seed, acc the XOR of that round's window reveals):
 * SHA-256("ssp-bft-seed" | prev_seed | acc | u64le round). Rounds without
 * blocks in between cost nothing (the round number is hashed in).
 */
void ssp_bft_seed_next(ssp_hash *out, const ssp_hash *prev_seed, const ssp_hash *acc,
                       uint64_t round);

/* Blocks in at least 33% of a round's n slots. */
bool ssp_bft_participation_ok(uint32_t blocks_last_round, uint32_t n);

/*
 * The participation rule for a block at `slot`, from the producer's view:
 * prev = slots of the previous round it holds a block for (any branch),
 * cur = slots of this round before `slot` it holds a block for, last_slot
 * = the latest slot before `slot` it holds a block for. Produce when the
 * previous round had 33% (round 0 always), or this round has had 33% of
 * its slots so far (a network coming back fills every slot), or there was
 * no block for a whole round (everyone stopped: somebody must restart the
 * chain, or a stall would be permanent). Counted over the view, not the
 * branch: after a partition heals, fork choice may pick the minority's
 * branch (a later tip), and a branch count would then stop every producer
 * for a round. A producer cut off in a minority of fewer than a third
 * stops after a round, then makes at most a short burst per silent round
 * (harmless: its branch cannot be justified).
 */
bool ssp_bft_may_produce(uint32_t prev, uint32_t cur, uint64_t slot, uint64_t last_slot,
                         uint32_t n);

/* ------------------------------------------------------------ hash onion */

/*
 * A delegate's hash onion of length k: element i = SHA-256^(k-i)(secret),
 * so element 0 = SHA-256^k(secret) is the commitment registered on chain
 * and SHA-256(element i+1) = element i. Its block in round r reveals
 * element r+1. Verification needs only the last element seen.
 */
void ssp_bft_onion_commit(ssp_hash *out, const ssp_hash *secret, uint32_t k);
/* Element i (1..k) of the onion; SSP_ERR_RANGE past its end (O(k - i) hashes). */
SSP_WUR int ssp_bft_onion_element(ssp_hash *out, const ssp_hash *secret, uint32_t k, uint64_t i);
/*
 * True when SHA-256^steps(reveal) == prev (steps >= 1): reveal is the
 * element `steps` places after prev. The caller bounds steps (the machine
 * by the onion length).
 */
bool ssp_bft_onion_check(const ssp_hash *reveal, const ssp_hash *prev, uint64_t steps);

/* ------------------------------------------------------ votes, watermark */

/* A Casper-FFG vote: source = the voter's highest justified block, target = the block. */
typedef struct {
	uint32_t voter; /* index into the delegate set */
	ssp_bft_ref source, target;
} ssp_bft_vote;

/* A quorum certificate: one link and the voters (their signatures travel outside). */
typedef struct {
	ssp_bft_ref source, target;
	uint64_t bits[SSP_BFT_BITMAP_WORDS]; /* bit i: delegate i voted source -> target */
} ssp_bft_qc;

uint32_t ssp_bft_qc_count(const ssp_bft_qc *qc);

/*
 * What a delegate has signed, persisted (in the same txn as the block, or
 * before a vote is sent) so a restart or a failover copy never signs a
 * conflicting block or vote. All zero: nothing signed yet.
 */
typedef struct {
	uint64_t block_slot;     /* the highest slot a block was signed for (0: none) */
	ssp_bft_ref vote_source; /* the last vote signed (vote_target.height 0: none) */
	ssp_bft_ref vote_target;
	/*
	 * The QC that justified vote_source (all zero for genesis). Votes never
	 * go back to a lower source, so a delegate that restarts without it
	 * could not vote until others justify its source again, which may
	 * need its own vote: it hands this QC back with ssp_bft_add_qc and
	 * puts it in its next block.
	 */
	ssp_bft_qc source_qc;
} ssp_bft_watermark;

/*
 * May a block for `slot` be signed? Only for a slot above every slot signed
 * before (never two blocks for one slot, not even the same one again: send
 * the stored block instead). 0 and *next = the watermark to persist BEFORE
 * the block leaves, or SSP_ERR_BFT_UNSAFE (*next untouched).
 */
SSP_WUR int ssp_bft_may_sign_block(ssp_bft_watermark *next, const ssp_bft_watermark *wm,
                                   uint64_t slot);
/*
 * May the vote source -> target be signed? Votes are monotone: the target
 * height above the last vote's and the source height not below the last
 * source's, which rules out both a double vote (two targets at one height)
 * and a surround vote in either direction. The identical last vote again
 * is allowed (a re-send). 0 and *next to persist before sending (with
 * source_qc, the QC justifying the source, from ssp_bft_vote_for; NULL
 * keeps the one in wm), or SSP_ERR_BFT_UNSAFE; SSP_ERR_INVAL when
 * source.height >= target.height.
 */
SSP_WUR int ssp_bft_may_vote(ssp_bft_watermark *next, const ssp_bft_watermark *wm,
                             const ssp_bft_ref *source, const ssp_bft_ref *target,
                             const ssp_bft_qc *source_qc);

/* ------------------------------------------------------------- evidence */

typedef enum {
	SSP_BFT_EV_NONE = 0,
	SSP_BFT_EV_DOUBLE_BLOCK = 1, /* two blocks for one slot by one key */
	SSP_BFT_EV_DOUBLE_VOTE = 2,  /* two different votes with one target height */
	SSP_BFT_EV_SURROUND = 3,     /* a.source < b.source and b.target < a.target */
} ssp_bft_ev_kind;

typedef struct {
	uint8_t kind; /* ssp_bft_ev_kind */
	uint32_t offender; /* index in the set of the slot's (votes: the target's) round */
	ssp_pubkey key;    /* the offender's key (indexes differ between rounds' sets) */
	uint64_t slot;        /* DOUBLE_BLOCK: the slot */
	ssp_hash block[2];    /* DOUBLE_BLOCK: the two block ids */
	ssp_bft_vote vote[2]; /* DOUBLE_VOTE, SURROUND: the two votes (vote[0] the earlier seen) */
} ssp_bft_evidence;

/* How two votes of one voter conflict: SSP_BFT_EV_NONE, _DOUBLE_VOTE or _SURROUND. */
ssp_bft_ev_kind ssp_bft_votes_conflict(const ssp_bft_vote *a, const ssp_bft_vote *b);
/*
 * The rule a slashing tx applies (beyond the signatures, checked outside):
 * the two halves are by the offender and really conflict.
 */
bool ssp_bft_evidence_valid(const ssp_bft_evidence *e);

/* ---------------------------------------------------------- fork choice */

/* A branch as fork choice sees it. */
typedef struct {
	uint64_t justified_height; /* its latest justified block */
	uint64_t tip_time_ms;      /* its tip's timestamp */
	ssp_hash tip_id;
} ssp_bft_branch;

/*
 * > 0 when a is better, < 0 when b is, 0 when they are one: the latest
 * justified block, then the later tip timestamp, then the lower tip id.
 * (Branches that do not contain the final block are never candidates.)
 */
int ssp_bft_branch_cmp(const ssp_bft_branch *a, const ssp_bft_branch *b);

/* --------------------------------------------------------- the machine */

/*
 * One node's view: the block tree from its final block up, the QCs it has
 * seen (in blocks or assembled from votes), justification, finality, the
 * fork-choice head, and the votes it has seen (for evidence). Bounded by
 * what is above the final block, however long the chain: once the final
 * block moves, every block that is not it or a descendant of it is gone
 * for every question (get, descends, producer, votes, ...), and its memory
 * is freed in amortised O(1) per block (compaction, compact_min below);
 * the final block becomes the root. Vote records (heights and ids,
 * SSP_BFT_VOTES_KEPT per voter) outlive their blocks, so evidence against
 * a vote made before is still found. max_blocks bounds the live blocks.
 * docs/internals/consensus.md, "What it keeps".
 */
typedef struct ssp_bft ssp_bft;

#define SSP_BFT_VOTES_KEPT 256
/*
 * A QC in a block of height h must have its source at height >= h - this
 * (a rule of the branch alone, like every block rule): the machine keeps
 * the final path's last SSP_BFT_QC_HORIZON blocks (id, and whether a QC on
 * the path justified it) after dropping them, so every node checks a QC
 * the same way whatever its final height.
 */
#define SSP_BFT_QC_HORIZON 1024

/*
 * A delegate set. Member i's onion: onion[i] is an element of it and
 * onion_round[i] the round it counts as revealed in (UINT64_MAX: round -1,
 * the commitment of a genesis delegate; a delegate registered in round R0
 * has its commitment at R0), so its block in round r reveals the element
 * r - onion_round[i] places further (r + 1 for round -1), and it can
 * produce while that index is at most onion_len. onion_round NULL: all
 * UINT64_MAX.
 */
typedef struct {
	uint32_t n; /* 1..SSP_BFT_MAX_N */
	const ssp_pubkey *keys;
	const ssp_hash *onion;
	const uint64_t *onion_round;
	uint32_t quorum; /* out only (ssp_bft_block_set, ssp_bft_slot_set) */
} ssp_bft_set;

typedef struct {
	uint32_t n;               /* the genesis set: delegates, 1..SSP_BFT_MAX_N */
	const ssp_pubkey *keys;   /* n keys; copied */
	const ssp_hash *onion;    /* n onion commitments (element 0, round -1); copied */
	uint32_t onion_len;       /* k: elements 1..k can be revealed */
	uint32_t round_len;       /* slots per round, 1..SSP_BFT_MAX_N; 0: n */
	/* Sets change: a block that begins a round elects (ssp_bft_set_elected);
	 * false: the genesis set for ever, nothing waits for elections. */
	bool elections;
	ssp_hash genesis_id;      /* height 0, slot 0: justified and final */
	uint64_t genesis_time_ms; /* slot s spans [genesis + s*slot_ms, + slot_ms) */
	ssp_hash genesis_seed;    /* round 0's seed */
	uint32_t slot_ms;
	uint32_t max_blocks; /* 0: 65536 */
	/* 0: ssp_bft_quorum(n). Anything else breaks safety: for the simulator's
	 * self-check (ssp_sim --break quorum) only. */
	uint32_t quorum_override;
	/* Compaction (see ssp_bft_count): it runs once the final block moved and
	 * max(compact_min, blocks kept last time) blocks were added since; 0: 64;
	 * 1: on every move of the final block. Answers do not depend on it. */
	uint32_t compact_min;
	/* Never drop a block (tests compare against it; memory grows without bound). */
	bool no_compact;
} ssp_bft_params;

/* A header as the machine needs it (its signature already verified). */
typedef struct {
	ssp_hash id, parent;
	uint64_t height, slot, time_ms;
	uint32_t producer; /* index of the signing key */
	ssp_hash reveal;   /* onion element round(slot)+1 of the producer */
	bool has_qc;
	ssp_bft_qc qc; /* a link whose target is on this block's branch */
} ssp_bft_block;

/* p is copied. SSP_ERR_INVAL for bad parameters, SSP_ERR_NOMEM. */
SSP_WUR int ssp_bft_new(ssp_bft **out, const ssp_bft_params *p);
void ssp_bft_free(ssp_bft *m);

/*
 * Adds a block. 0: stored (the head, justification and finality may have
 * moved); SSP_ERR_EXISTS: known (the final block or above); SSP_ERR_NOTFOUND:
 * its parent is unknown (keep it, fetch the parent, add it again; also a
 * block on a branch the final block left behind, once its parent is gone:
 * fetching ends in CONFLICT); SSP_ERR_BUSY: more than max_blocks live
 * blocks (no blame); SSP_ERR_BFT_SET: it begins a round whose set depends
 * on an election not told yet (no blame: ssp_bft_set_elected, then add it
 * again); SSP_ERR_NOMEM (local). Validity errors (the sender is
 * at fault): SSP_ERR_BFT_CONFLICT (not above the final block: at or below
 * its height, or at the next height on another parent), SSP_ERR_BLOCK_HEIGHT,
 * SSP_ERR_BLOCK_TIME (slot not after its parent's, or the timestamp outside
 * its slot), SSP_ERR_BLOCK_PRODUCER (not the producer of its slot on its
 * branch), SSP_ERR_BFT_REVEAL (wrong onion reveal), SSP_ERR_BFT_QC (fewer
 * than a quorum, a link not on its branch, or a source the branch's own
 * QCs do not justify: every branch carries its whole chain of
 * justifications, so following one branch is enough; a source below the
 * final block is taken as justified). A QC whose target is at or below the
 * final height is not checked against the tree: the block stays valid and
 * the QC serves as evidence only. A second valid block of a producer for
 * one slot is stored and its evidence queued; so is every conflict between
 * the QC's votes and votes seen before.
 */
SSP_WUR int ssp_bft_add_block(ssp_bft *m, const ssp_bft_block *b);

/*
 * Adds a vote (to assemble QCs and to find equivocation); its voter is an
 * index into the set of its target's round. 0: counted (or a duplicate),
 * or a target at or below the final height (recorded for evidence only:
 * it can no longer matter for finality; with elections, only when this
 * view knows the target's set — a block it held, or one of the final path
 * within SSP_BFT_QC_HORIZON: an index into an unknown set names no key,
 * and the vote is dropped); SSP_ERR_NOTFOUND: its target, or
 * its source above the final block, is unknown (keep it and try again
 * after more blocks; its voter's key is not known yet, so it is not
 * recorded for evidence until then);
 * SSP_ERR_INVAL: the source is not an ancestor of the target (or a height
 * is wrong) or the voter is out of range (sender at fault); SSP_ERR_NOMEM.
 * A source below the final block counts as justified. A vote conflicting
 * with one seen before (its blocks known or not, dropped or not) queues the
 * evidence and is not counted.
 */
SSP_WUR int ssp_bft_add_vote(ssp_bft *m, const ssp_bft_vote *v);

/*
 * Evidence found by add_block/add_vote, oldest first: true and *out filled,
 * false when none is left. The queue keeps SSP_BFT_EVIDENCE_QUEUE records
 * (older ones are dropped past that: take them after every call).
 */
#define SSP_BFT_EVIDENCE_QUEUE 64
bool ssp_bft_evidence_pop(ssp_bft *m, ssp_bft_evidence *out);
/* True once two conflicting blocks were both final in this view (safety broken:
 * more than 1/3 equivocated); the first final block stays final. Since blocks
 * off the final block are dropped, no view can see this any more: it stays
 * false (kept for the API; the evidence of the > 1/3 is what remains). */
bool ssp_bft_conflicted(const ssp_bft *m);

/* The fork-choice head, the last final block, the highest justified block. */
void ssp_bft_head(const ssp_bft *m, ssp_bft_ref *out);
void ssp_bft_final(const ssp_bft *m, ssp_bft_ref *out);
void ssp_bft_justified(const ssp_bft *m, ssp_bft_ref *out);
bool ssp_bft_is_justified(const ssp_bft *m, const ssp_hash *id);
/* True if a known block (the final block or a descendant of it; a dropped
 * block is unknown): *out (may be NULL) gets its header, QC included
 * (genesis: height 0, slot 0, producer UINT32_MAX). */
bool ssp_bft_get(const ssp_bft *m, ssp_bft_block *out, const ssp_hash *id);
/* True when a and b are known and a is b or an ancestor of b. */
bool ssp_bft_descends(const ssp_bft *m, const ssp_hash *a, const ssp_hash *b);
/*
 * The height of the latest justified block on the branch ending at tip (a
 * known block), counting only blocks above the final one (the final
 * block's height when none is): what fork choice compares first.
 * SSP_ERR_NOTFOUND for an unknown tip.
 */
SSP_WUR int ssp_bft_branch_justified(const ssp_bft *m, uint64_t *height, const ssp_hash *tip);
/*
 * The highest block the QCs of the branch ending at `id` make final (a QC
 * from a block to its child in a block of the branch, up to and including
 * id itself): a function of that branch alone, whatever votes this view
 * has seen (0 when none does). Exact for every block the machine holds,
 * live or not. For a block of the final path it no longer holds (dropped
 * below the final block) it answers the block's own height and returns
 * SSP_ERR_EXISTS: the block is final, so that is a lower bound of its
 * branch's finality, but may be above the branch-only value (callers that
 * need the exact value keep it from when the block was held, as bftc.c
 * does). SSP_ERR_NOTFOUND for any other block.
 */
SSP_WUR int ssp_bft_branch_final(const ssp_bft *m, const ssp_hash *id, uint64_t *height);
/* Blocks held: the final block and above, plus those the next compaction
 * drops (a figure; ssp_bft_get tells what is known). */
size_t ssp_bft_count(const ssp_bft *m);
/* The i-th block held (0 <= i < count), parents before children (0: the root,
 * genesis or the final block once compaction ran; it may include blocks that
 * are no longer live: check ssp_bft_descends from the final block). */
void ssp_bft_at(const ssp_bft *m, ssp_bft_block *out, size_t i);

/*
 * The vote an honest delegate casts for `target` (a known block): source =
 * the highest justified block on its branch; *qc (may be NULL) gets the QC
 * that justified the source (all zero for genesis), for the watermark. The
 * caller checks ssp_bft_may_vote before signing. SSP_ERR_NOTFOUND for an
 * unknown target, SSP_ERR_INVAL for the final block (genesis at first).
 */
SSP_WUR int ssp_bft_vote_for(const ssp_bft *m, ssp_bft_vote *out, ssp_bft_qc *qc, uint32_t voter,
                             const ssp_hash *target);

/*
 * Adds a QC known from elsewhere (a restarted delegate's watermark, or a
 * QC gossiped on its own; its votes' signatures checked by the caller). 0
 * (also for a target at or below the final height: evidence only);
 * SSP_ERR_NOTFOUND: a block of it above the final one is unknown (try again later);
 * SSP_ERR_BFT_QC: fewer than a quorum, or the source is not an ancestor of
 * the target; SSP_ERR_NOMEM.
 */
SSP_WUR int ssp_bft_add_qc(ssp_bft *m, const ssp_bft_qc *qc);

/* The producer of `slot` on the branch ending at `parent` (a known block with a lower slot):
 * its index in the slot's set (ssp_bft_slot_set); SSP_ERR_BFT_SET as there. */
SSP_WUR int ssp_bft_producer(ssp_bft *m, uint32_t *out, const ssp_hash *parent, uint64_t slot);

/* --------------------------------------------------------- delegate sets */

/*
 * What the first block of a round (id, a known block: live, or on the final
 * path within SSP_BFT_QC_HORIZON) elected for the rounds after its own:
 * set (copied; its members are indexed in an order that depends on the
 * membership alone: the genesis set's order when they are the genesis
 * members, else sorted by key type, length and bytes — an election's
 * weight order changes no index), or NULL when it elected none (the set in
 * force stays).
 * Until this is told, blocks that need it get SSP_ERR_BFT_SET (no blame:
 * add them again after). Told twice: the first answer stays (0).
 * SSP_ERR_NOTFOUND: the block is unknown; SSP_ERR_INVAL: it does not
 * begin a round, or a bad set; SSP_ERR_NOMEM.
 */
SSP_WUR int ssp_bft_set_elected(ssp_bft *m, const ssp_hash *id, const ssp_bft_set *set);
/*
 * The set of a known block's round (live, or on the final path within the
 * horizon): the set its votes and a QC targeting it are counted in.
 * *out's arrays belong to the machine until its next change.
 */
SSP_WUR int ssp_bft_block_set(const ssp_bft *m, ssp_bft_set *out, const ssp_bft_ref *block);
/*
 * The set of a block at `slot` on `parent` and the index of the slot's
 * producer in it. SSP_ERR_NOTFOUND (unknown parent), SSP_ERR_BLOCK_TIME (a
 * slot not after the parent's), SSP_ERR_BFT_SET (the election it depends
 * on was not told yet).
 */
SSP_WUR int ssp_bft_slot_set(ssp_bft *m, ssp_bft_set *out, uint32_t *producer,
                             const ssp_hash *parent, uint64_t slot);
/* The index of key in set, or UINT32_MAX. */
uint32_t ssp_bft_set_index(const ssp_bft_set *set, const ssp_pubkey *key);
/* Slots of the round before slot's round this view holds a block for (any
 * branch; exact for any slot after the final block's: dropped blocks' slots
 * from the round before the final block's round on are kept). */
uint32_t ssp_bft_participation(const ssp_bft *m, uint64_t slot);

/*
 * A block template for `slot` by delegate `me` on top of `parent`: fills
 * parent, height, slot, producer and the best QC this view has for the
 * branch (the highest-target link with a quorum whose target is the parent
 * or an ancestor of it, not yet justified by the branch, and whose source
 * the branch justifies). The caller sets reveal, time_ms and id, checks
 * ssp_bft_may_sign_block, persists, signs. SSP_ERR_BLOCK_PRODUCER when it is
 * not me's slot, SSP_ERR_BLOCK_TIME for a slot not after the parent's,
 * SSP_ERR_BFT_PARTICIPATION when ssp_bft_may_produce says no (participation
 * in the last round below 33%), SSP_ERR_NOTFOUND for an unknown parent.
 */
SSP_WUR int ssp_bft_propose(ssp_bft *m, ssp_bft_block *out, uint32_t me, const ssp_hash *parent,
                            uint64_t slot);

#ifdef __cplusplus
}
#endif
#endif
