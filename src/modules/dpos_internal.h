/*
 * dpos_internal.h — what the files of the staking module share (modules
 * layer, private): record codecs, the operations and the tx-type and RPC
 * tables dpos.c assembles into ssp_dpos_module.
 */
#ifndef SSP_DPOS_INTERNAL_H
#define SSP_DPOS_INTERNAL_H

#include "ssp/dpos.h"

#define DPOS_NTXTYPES 10
#define DPOS_NMETHODS 6

extern const ssp_txtype *const ssp_dpos_txtypes[DPOS_NTXTYPES];
extern const ssp_rpc_method ssp_dpos_methods[DPOS_NMETHODS];

/* The per-chain state of the module's tx types (their `mod`). */
typedef struct {
	const ssp_genesis *g;
} dpos_chain;

/* Record codecs: ssp_dpos_delegate_decode etc. in ssp/proto_dpos.h (libssp_proto). */

/* The slot a block time falls in under genesis g. */
uint64_t dpos_slot_of(const ssp_genesis *g, uint64_t time_ms);

/* The tx operations (dpos.c); the sender is tx->from. */
SSP_WUR int dpos_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p);

/* Escrow moves and records shared with dpos_evidence.c (dpos.c). */
SSP_WUR int dpos_put_delegate(ssp_state *st, const ssp_delegate *d);
SSP_WUR int dpos_put_staker(ssp_state *st, const ssp_staker *s);
SSP_WUR int dpos_add_unlock(ssp_staker *s, uint8_t kind, uint64_t amount, uint64_t slot);
/* Takes amount out of the stake escrow (and the "held" total) without paying anyone. */
SSP_WUR int dpos_escrow_take(ssp_state *st, uint64_t amount);

/* The evidence tx (dpos_evidence.c): slashes and bans a delegate that signed two blocks
 * for one slot. */
SSP_WUR int dpos_evidence_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p);
/* The vote evidence tx (0x49): the same slash for a double or surround vote. */
SSP_WUR int dpos_evidence_votes_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p);

/* The staking module's counters in SSP_TB_DPOS_META ("held", "round"): absent reads 0. */
SSP_WUR int dpos_meta_get(ssp_state *st, const char *key, uint64_t *out);
SSP_WUR int dpos_meta_set(ssp_state *st, const char *key, uint64_t value);

/* Delegate records gathered by a scan of SSP_TB_DPOS_DELEGATE (dpos_dlist_visit as the
 * visitor): up to max (else err = SSP_ERR_TOOBIG), registered ones only if asked. */
typedef struct {
	ssp_delegate *d; /* malloc'd */
	size_t n, cap, max;
	bool registered_only;
	int err;
} dpos_dlist;
int dpos_dlist_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl);

/* Ranking order: capped weight descending, then account ascending (ssp_delegate *). */
int dpos_rank_cmp(const void *a, const void *b);

/* Elected sets (dpos_set.c). */
/* At a round's first block: folds the reveals into the seed, elects and records the set. */
SSP_WUR int dpos_set_begin(const dpos_chain *dc, ssp_state *st, const ssp_block_start *b);
/* Reading a set from a state: ssp_dpos_set_read (ssp/dpos.h). */

/* Rewards (dpos_reward.c). */
/* Settles before's reward into owed; the snaps follow after's votes (same account). */
SSP_WUR int dpos_reward_sync(ssp_state *st, const ssp_staker *before, const ssp_staker *after);
/* The claim tx: owed + pending -> balance (DPOS_NOTHING when 0). */
SSP_WUR int dpos_reward_claim(ssp_txctx *c, const ssp_tx *tx);
/* The block hook: pays the rounds that ended (mod: the dpos_chain). */
SSP_WUR int dpos_reward_begin(void *mod, ssp_state *st, const ssp_block_start *b);
/* A block reward: amount (<= the pool) from the pool to the reward escrow, owed to account. */
SSP_WUR int dpos_reward_block(ssp_state *st, const ssp_addr *account, uint64_t amount);

/* Productivity and block rewards (dpos_prod.c). */
#define SSP_DPOS_DEACT_PER_BLOCK 16 /* deactivations one block writes (more: the next round's) */
typedef struct {
	ssp_addr deact[SSP_DPOS_DEACT_PER_BLOCK]; /* delegates to deactivate at the block's end */
	size_t ndeact;
} dpos_prod_out;
/*
 * The hook's first part (before the election, which reads its verdicts):
 * counts the block's produced and missed slots, judges every record at a
 * round's first block, pays the block rewards its branch made final and
 * records the block's own. Deactivations are written by dpos_prod_end,
 * after the election and the round rewards have scanned the delegates.
 */
SSP_WUR int dpos_prod_begin(const dpos_chain *dc, ssp_state *st, const ssp_block_start *b,
                            dpos_prod_out *out);
SSP_WUR int dpos_prod_end(const dpos_chain *dc, ssp_state *st, const ssp_block_start *b,
                          const dpos_prod_out *out);
/* Left out of the election held at round's first block (probation, deactivated)? *err: a read
 * failure (then false). */
bool dpos_prod_excluded(ssp_state *st, const ssp_addr *account, uint64_t round, int *err);
/* A deactivated delegate registers again: its record starts over (totals kept). */
SSP_WUR int dpos_prod_reactivate(ssp_state *st, const ssp_addr *account);

#endif
