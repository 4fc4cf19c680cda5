/*
 * ssp/dpos.h — the staking module on chain (modules layer; issue 9,
 * ARCHITECTURE §6): delegates registered with a name, commission, URL,
 * node key, self-stake and the first element of their hash onion; stake,
 * unstake with unlock delays and withdraw; approval voting for up to 30
 * delegates; capped weight = min(votes, 10 x self-stake); and the election
 * as a pure function over a snapshot of weights. The election is not wired
 * into block production yet (the genesis producer set still produces).
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

enum {
	SSP_TB_DPOS_DELEGATE = SSP_TB_MODULE_FIRST + 24, /* account addr -> delegate record */
	SSP_TB_DPOS_NAME = SSP_TB_MODULE_FIRST + 25,     /* name -> account addr */
	SSP_TB_DPOS_STAKER = SSP_TB_MODULE_FIRST + 26, /* account addr -> stake, votes, unlocking */
	SSP_TB_DPOS_META = SSP_TB_MODULE_FIRST + 27,   /* "held", "round" -> u64 */
	SSP_TB_DPOS_ACC = SSP_TB_MODULE_FIRST + 28,    /* delegate addr -> u128 reward per vote */
	SSP_TB_DPOS_REWARD = SSP_TB_MODULE_FIRST + 29, /* account addr -> owed, snapshots */
	SSP_TB_DPOS_EVIDENCE = SSP_TB_MODULE_FIRST + 30, /* delegate addr | u64 BE slot -> height */
};

/* The share of a round's emission paid per round to delegates and voters (basis points). */
#define SSP_DPOS_ROUND_SHARE_BP 7000

typedef enum {
	SSP_DELEGATE_REGISTERED = 1,
	SSP_DELEGATE_UNREGISTERED = 2, /* keeps its name and record; may register again */
	SSP_DELEGATE_BANNED = 3,       /* slashed: may register again after banned_until_slot */
} ssp_delegate_status;

/* A delegate slashed this many times is banned for good. */
#define SSP_DPOS_SLASHES_MAX 3
/* What a slash takes of the self-stake (basis points); half to the pool, half to the reporter. */
#define SSP_DPOS_SLASH_BP 1000

/* An unlocking entry's origin. */
typedef enum { SSP_UNLOCK_VOTE = 1, SSP_UNLOCK_SELF = 2 } ssp_unlock_kind;

/* Unlocking entries per account (unstakes with the same unlock slot merge). */
#define SSP_DPOS_UNLOCKS_MAX 16
/* capped weight = min(votes, SSP_DPOS_CAP_FACTOR x self-stake) */
#define SSP_DPOS_CAP_FACTOR 10

typedef struct {
	ssp_addr account;
	char name[SSP_DPOS_NAME_MAX + 1];
	uint8_t status;
	uint16_t commission_bp;
	char url[SSP_DPOS_URL_MAX + 1];
	ssp_pubkey node_key;
	uint64_t self_stake;
	uint64_t votes; /* the stake of every account that votes for it */
	ssp_hash onion; /* the committed first element of its hash onion */
	uint64_t registered_height;
	uint64_t updated_height;
	uint8_t slashes;            /* times punished for double signing */
	uint64_t banned_until_slot; /* BANNED: may register again from this slot (UINT64_MAX: never) */
} ssp_delegate;

typedef struct {
	uint8_t kind;
	uint64_t amount;
	uint64_t unlock_slot; /* withdrawable in a block of this slot or later */
} ssp_unlock;

typedef struct {
	ssp_addr account;
	uint64_t staked; /* locked, counted for every delegate voted for */
	uint32_t nvotes;
	ssp_addr votes[SSP_DPOS_VOTES_MAX]; /* delegate accounts */
	uint32_t nunlock;
	ssp_unlock unlock[SSP_DPOS_UNLOCKS_MAX];
} ssp_staker;

/* min(votes, 10 x self-stake) for a registered delegate (saturating), else 0. */
uint64_t ssp_dpos_capped_weight(const ssp_delegate *d);

/* Committed reads (RPC, tests) through a state view or a tx's state. */
SSP_WUR int ssp_dpos_delegate_get(ssp_state *st, const ssp_addr *account, ssp_delegate *out);
SSP_WUR int ssp_dpos_delegate_by_name(ssp_state *st, const char *name, ssp_delegate *out);
/* An account without stake, votes or unlocking entries reads as zeros (never NOTFOUND). */
SSP_WUR int ssp_dpos_staker_get(ssp_state *st, const ssp_addr *account, ssp_staker *out);
/* The keyless account that holds every stake and unlocking entry (no key can spend it). */
void ssp_dpos_escrow(ssp_addr *out);
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

extern const ssp_module ssp_dpos_module;

#ifdef __cplusplus
}
#endif
#endif
