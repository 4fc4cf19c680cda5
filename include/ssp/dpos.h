/*
 * ssp/dpos.h — the staking module on chain (modules layer; issue 9,
 * ARCHITECTURE §6): delegates registered with a name, commission, URL,
 * node key, self-stake and the first element of their hash onion; stake,
 * unstake with unlock delays and withdraw; approval voting for up to 30
 * delegates; capped weight = min(votes, 10 x self-stake); the election
 * as a pure function over a snapshot of weights, and the set it elected at
 * the start of every round, recorded in state for the consensus
 * (ssp_dpos_set_get).
 * docs/dpos.md is the user guide, docs/internals/dpos.md the byte layouts.
 *
 * Conventions as elsewhere: fallible functions return 0 or a negative
 * ssp_err; reads go through a tx's state or a read-only state view.
 */
#ifndef SSP_DPOS_H
#define SSP_DPOS_H

#include "ssp/modules.h"
#include "ssp/proto_dpos.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The state tables, the delegate and staker records and their codecs: ssp/proto_dpos.h. */

/* The share of a round's emission paid per round to delegates and voters (basis points). */
#define SSP_DPOS_ROUND_SHARE_BP 7000

/* min(votes, 10 x self-stake) for a registered delegate (saturating), else 0. */
uint64_t ssp_dpos_capped_weight(const ssp_delegate *d);

/* Committed reads (RPC, tests) through a state view or a tx's state. */
SSP_WUR int ssp_dpos_delegate_get(ssp_state *st, const ssp_addr *account, ssp_delegate *out);
SSP_WUR int ssp_dpos_delegate_by_name(ssp_state *st, const char *name, ssp_delegate *out);
/*
 * The delegate whose current node key is `key` (committed state through rt):
 * a registered one if any, else the first in account order (a delegate that
 * left can still be slashed). SSP_ERR_NOTFOUND when none. A scan of every
 * delegate record (O(delegates)): for the node's evidence reporter, which
 * runs it once per offence. Any thread.
 */
SSP_WUR int ssp_dpos_delegate_by_key(const ssp_chain *c, ssp_txn *rt, const ssp_pubkey *key,
                                     ssp_delegate *out);
/* An account without stake, votes or unlocking entries reads as zeros (never NOTFOUND). */
SSP_WUR int ssp_dpos_staker_get(ssp_state *st, const ssp_addr *account, ssp_staker *out);
/*
 * The staking part of the supply invariant: the sum of every self-stake,
 * stake and unlocking entry equals the "held" total, which the escrow
 * account's balance covers (it holds exactly that unless someone sent SSP
 * to it, which then stays there). Checks every delegate's votes against
 * the stakes voting for it too. SSP_ERR_SUPPLY when anything differs;
 * *held (may be NULL) gets the total. Full scan of the module's tables.
 */
SSP_WUR int ssp_dpos_check(const ssp_chain *c, ssp_txn *rt, uint64_t *held);

/* ----------------------------------------------------------------- rewards */

/* The keyless account that holds every paid and unclaimed reward. */
void ssp_dpos_reward_escrow(ssp_addr *out);
/*
 * What an account may claim: *owed (settled: commissions, and voter
 * rewards settled when its stake or votes changed) and *pending (what its
 * current stake earned through its votes since). O(its votes).
 */
SSP_WUR int ssp_dpos_rewards_get(ssp_state *st, const ssp_addr *account, uint64_t *owed,
                                 uint64_t *pending);
/* The emission of rounds [a, b) under p's schedule (saturating). Pure. */
uint64_t ssp_dpos_emission(const ssp_dpos_params *p, uint64_t a, uint64_t b);
/*
 * The rewards part of the supply invariant: the reward escrow covers every
 * account's owed + pending. SSP_ERR_SUPPLY otherwise; *due (may be NULL)
 * gets the sum. Full scan of the reward records.
 */
SSP_WUR int ssp_dpos_reward_check(const ssp_chain *c, ssp_txn *rt, uint64_t *due);

/*
 * Every registered delegate ranked by capped weight (highest first, ties by
 * account address ascending: the same order the election uses). *out is
 * malloc'd (caller frees), *n its length. SSP_ERR_TOOBIG over max entries.
 */
SSP_WUR int ssp_dpos_ranking(const ssp_chain *c, ssp_txn *rt, size_t max, ssp_delegate **out,
                             size_t *n);

/* ------------------------------------------------------------ productivity */

/*
 * What the share of a round's emission paid per produced block is (basis
 * points; the rest of SSP_DPOS_ROUND_SHARE_BP): a block of round r earns
 * emission(r) x 30% / set_size, paid once the block is final on its branch.
 */
#define SSP_DPOS_BLOCK_SHARE_BP (10000 - SSP_DPOS_ROUND_SHARE_BP)
/* Productivity below this (basis points of the slots a delegate had) puts it on probation. */
#define SSP_DPOS_PROD_MIN_BP 8500
/* Block rewards waiting for finality, at most (the oldest is forfeited past it: it stays in the
 * pool), and paid per block at most (the rest the next blocks). */
#define SSP_DPOS_BLOCKPAY_PENDING_MAX 4096
#define SSP_DPOS_BLOCKPAY_PER_BLOCK 64

/* One round of a delegate's productivity window. */
typedef struct {
	uint64_t round;
	uint32_t produced, missed;
} ssp_dpos_prod_round;

/*
 * A delegate's productivity record (SSP_TB_DPOS_PROD, written by the
 * module's block hook; docs/internals/dpos.md): made at its first slot
 * as a member of an elected set.
 */
typedef struct {
	bool produced_any;     /* it produced a block since the record began */
	bool deactivated;      /* deactivated by the hook (until it registers again) */
	uint64_t probation_until; /* on probation until the first block of this round (0: not) */
	uint64_t consecutive_misses;
	uint64_t last_slot;    /* its last block's slot, or its first counted slot before any */
	uint64_t produced, missed; /* totals since the record began */
	uint64_t block_rewards;    /* block rewards paid to it, in total (base units) */
	uint32_t n;                /* window entries, rounds ascending (<= SSP_DPOS_PROD_WINDOW_MAX) */
	ssp_dpos_prod_round win[SSP_DPOS_PROD_WINDOW_MAX];
} ssp_dpos_prod;

/* A delegate's record; SSP_ERR_NOTFOUND when it has none (never had a slot). */
SSP_WUR int ssp_dpos_prod_get(ssp_state *st, const ssp_addr *account, ssp_dpos_prod *out);
/*
 * Slots produced and missed over the rounds [round - window, round) of its
 * window (the rounds before `round`, as the hook judges it at round's
 * first block).
 */
void ssp_dpos_prod_window(const ssp_dpos_prod *p, uint64_t round, uint32_t window,
                          uint64_t *produced, uint64_t *missed);
/* On probation when the elections of `round` are held. */
bool ssp_dpos_on_probation(const ssp_dpos_prod *p, uint64_t round);
/* Block rewards recorded and not paid yet for this delegate (a scan of the pending records,
 * at most SSP_DPOS_BLOCKPAY_PENDING_MAX): *n blocks, *amount in total. */
SSP_WUR int ssp_dpos_blockpay_pending(ssp_state *st, const ssp_addr *account, uint64_t *n,
                                      uint64_t *amount);

/* ---------------------------------------------------------------- election */

typedef struct {
	ssp_addr id; /* the delegate's account */
	uint64_t weight;
} ssp_dpos_cand;

/*
 * The election, a pure function (no I/O, no clock, no global state): from
 * a snapshot of capped weights, the top set_size - standby by weight (ties
 * by id, ascending bytes) plus `standby` drawn by a weight-proportional
 * lottery, without replacement, from ranks set_size-standby+1..max_rank,
 * seeded by `seed` (draw i uses SHA-256("ssp-dpos-standby" | seed | u32 i |
 * u32 attempt), rejection-sampled so the draw is unbiased). Candidates of
 * weight 0 are never elected. out (capacity >= set_size) gets the top in
 * rank order, then the standbys in draw order; *nout their count (fewer
 * than set_size when there are not enough candidates). SSP_ERR_INVAL for a
 * duplicate id or standby >= set_size or max_rank < set_size; SSP_ERR_NOMEM.
 */
SSP_WUR int ssp_dpos_elect(ssp_dpos_cand *out, size_t *nout, const ssp_dpos_cand *cands, size_t n,
                           uint32_t set_size, uint32_t standby, uint32_t max_rank,
                           const ssp_hash *seed);

/* ------------------------------------------------------------ elected sets */

/*
 * The set the first block of round `round` elected (for round + 1; the
 * records are written by the module's block hook, docs/internals/dpos.md):
 * *out (malloc'd, the caller frees it with free) gets *n >= 1 members in
 * election order (the top by capped weight, then the standby draws), a
 * reference record resolved to the full record it repeats. Read through rt
 * (committed state: the records of the blocks rt sees). SSP_ERR_NOTFOUND
 * when that block wrote none: no block began that round on this chain, no
 * delegate had weight > 0, or the genesis has no "dpos" object;
 * SSP_ERR_DBCORRUPT for a damaged record. Any thread.
 */
SSP_WUR int ssp_dpos_set_get(const ssp_chain *c, ssp_txn *rt, uint64_t round, ssp_dpos_member **out,
                             size_t *n);
/*
 * The same from a state (a block's state as the consensus layer sees it at
 * commit, or a view): m (capacity SSP_DPOS_SET_MAX, the caller's) gets the
 * *n members; *full_round (may be NULL) the round of the full record a
 * reference resolved to (round itself for a full record). SSP_ERR_NOTFOUND,
 * SSP_ERR_DBCORRUPT as above. The state's owner thread.
 */
SSP_WUR int ssp_dpos_set_read(ssp_state *st, uint64_t round, ssp_dpos_member *m, size_t *n,
                              uint64_t *full_round);
/* The round of the latest recorded set in rt's state; SSP_ERR_NOTFOUND when there is none. */
SSP_WUR int ssp_dpos_set_latest(const ssp_chain *c, ssp_txn *rt, uint64_t *round);

extern const ssp_module ssp_dpos_module;

#ifdef __cplusplus
}
#endif
#endif
