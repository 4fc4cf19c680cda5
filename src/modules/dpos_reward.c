/*
 * dpos_reward.c — round rewards of the staking module (modules layer;
 * ssp/dpos.h): the emission schedule of the genesis paid out of the pool at
 * every round boundary, split between delegates (their commission) and
 * their voters through reward-per-vote accumulators, so that paying a round
 * costs O(delegates paid) and a claim O(votes of the claimer) — never a
 * loop over voters.
 *
 * State (under the chain's state table, u8 table id || key):
 *   SSP_TB_DPOS_ACC     delegate[20] -> u128 acc (LE): reward units per unit of
 *                                       vote stake, scaled by 2^64, wrapping
 *   SSP_TB_DPOS_REWARD  account[20]  -> u64 owed | u8 n | n x u128 snap, the acc of
 *                                       each delegate the account votes for (in
 *                                       the order of its staker record) when its
 *                                       reward was last settled
 *   SSP_TB_DPOS_META    "round"      -> u64: the rounds below it are paid
 *
 * An account's claimable reward = owed + sum over its votes of
 * staked x (acc - snap) / 2^64. Whenever its stake or its votes change
 * (stake, unstake, vote) the sum is settled into owed first and the snaps
 * move to the accumulators of the new votes (dpos_reward_sync), so the
 * formula only ever applies to a stake that did not change. Accumulators
 * wrap (mod 2^128) like Uniswap's fee growth: only differences are used,
 * and a difference is what one stake unit earned, at most the supply x 2^64.
 *
 * Money: what a round pays moves from the pool to one keyless reward
 * escrow account (ssp_dpos_reward_escrow) and from there to claimers, so
 * the chain's supply invariant (balances + locks + pool) holds without
 * knowing this file; dpos_reward_check ties the escrow to the records.
 * Division remainders (below one base unit per delegate and round) stay in
 * the escrow, unclaimed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpos_internal.h"

typedef unsigned __int128 u128;

void ssp_dpos_reward_escrow(ssp_addr *out)
{
	ssp_hash h;
	static const char label[] = "smartshare/dpos/reward-escrow";
	ssp_sha256(&h, label, sizeof label - 1);
	memcpy(out->b, h.b, SSP_ADDR_LEN);
}

/* ---------------------------------------------------------------- records */

static int acc_get(ssp_state *st, const ssp_addr *d, u128 *acc)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DPOS_ACC, d->b, SSP_ADDR_LEN, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		*acc = 0;
		return 0;
	}
	if (rc) return rc;
	if (vl != 16) return SSP_ERR_DBCORRUPT;
	*acc = (u128)ssp_le64_get((const uint8_t *)v + 8) << 64 | ssp_le64_get(v);
	return 0;
}

static int acc_put(ssp_state *st, const ssp_addr *d, u128 acc)
{
	uint8_t v[16];
	ssp_le64_put(v, (uint64_t)acc);
	ssp_le64_put(v + 8, (uint64_t)(acc >> 64));
	return ssp_state_put(st, SSP_TB_DPOS_ACC, d->b, SSP_ADDR_LEN, v, 16);
}

typedef struct {
	uint64_t owed;
	uint32_t n;
	u128 snap[SSP_DPOS_VOTES_MAX];
} reward_rec;

static int rec_decode(reward_rec *r, const void *p, size_t n)
{
	ssp_rd rd;
	memset(r, 0, sizeof *r);
	ssp_rd_init(&rd, p, n);
	r->owed = ssp_rd_u64(&rd);
	r->n = ssp_rd_u8(&rd);
	if (r->n > SSP_DPOS_VOTES_MAX) return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < r->n; i++) {
		uint64_t lo = ssp_rd_u64(&rd), hi = ssp_rd_u64(&rd);
		r->snap[i] = (u128)hi << 64 | lo;
	}
	/* an empty record is deleted, never stored */
	if (ssp_rd_end(&rd) || (!r->owed && !r->n)) return SSP_ERR_DBCORRUPT;
	return 0;
}

static int rec_get(ssp_state *st, const ssp_addr *a, reward_rec *r)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DPOS_REWARD, a->b, SSP_ADDR_LEN, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		memset(r, 0, sizeof *r);
		return 0;
	}
	return rc ? rc : rec_decode(r, v, vl);
}

static int rec_put(ssp_state *st, const ssp_addr *a, const reward_rec *r)
{
	if (!r->owed && !r->n) {
		int rc = ssp_state_del(st, SSP_TB_DPOS_REWARD, a->b, SSP_ADDR_LEN);
		return rc == SSP_ERR_NOTFOUND ? 0 : rc;
	}
	uint8_t v[8 + 1 + 16 * SSP_DPOS_VOTES_MAX];
	size_t n = 0;
	ssp_le64_put(v, r->owed);
	v[8] = (uint8_t)r->n;
	n = 9;
	for (uint32_t i = 0; i < r->n; i++, n += 16) {
		ssp_le64_put(v + n, (uint64_t)r->snap[i]);
		ssp_le64_put(v + n + 8, (uint64_t)(r->snap[i] >> 64));
	}
	return ssp_state_put(st, SSP_TB_DPOS_REWARD, a->b, SSP_ADDR_LEN, v, n);
}

/* ------------------------------------------------------------- arithmetic */

/* floor(s x d / 2^64) for a stake s and an accumulator difference d; RANGE past 64 bits. */
static int earned(uint64_t *out, uint64_t s, u128 d)
{
	u128 hi = (u128)s * (uint64_t)(d >> 64); /* < 2^128: two 64-bit factors */
	u128 lo = ((u128)s * (uint64_t)d) >> 64;
	u128 sum = hi + lo;
	if (sum < hi || sum > UINT64_MAX) return SSP_ERR_RANGE;
	*out = (uint64_t)sum;
	return 0;
}

/* What s's votes earned since r's snaps (r->n must be s->nvotes). */
static int pending(ssp_state *st, const ssp_staker *s, const reward_rec *r, uint64_t *out)
{
	*out = 0;
	if (r->n != s->nvotes) return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < s->nvotes; i++) {
		u128 acc;
		uint64_t e;
		int rc = acc_get(st, &s->votes[i], &acc);
		if (rc || (rc = earned(&e, s->staked, acc - r->snap[i])) ||
		    (rc = ssp_add_u64(out, *out, e)))
			return rc == SSP_ERR_RANGE || rc == SSP_ERR_OVERFLOW ? SSP_ERR_DBCORRUPT
			                                                     : rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- settling */

int dpos_reward_sync(ssp_state *st, const ssp_staker *before, const ssp_staker *after)
{
	reward_rec r;
	uint64_t p;
	int rc = rec_get(st, &before->account, &r);
	if (rc || (rc = pending(st, before, &r, &p)) || (rc = ssp_add_u64(&r.owed, r.owed, p)))
		return rc;
	r.n = after->nvotes;
	for (uint32_t i = 0; i < after->nvotes; i++)
		if ((rc = acc_get(st, &after->votes[i], &r.snap[i]))) return rc;
	return rec_put(st, &after->account, &r);
}

int ssp_dpos_rewards_get(ssp_state *st, const ssp_addr *account, uint64_t *owed, uint64_t *pend)
{
	ssp_staker s;
	reward_rec r;
	int rc = ssp_dpos_staker_get(st, account, &s);
	if (rc || (rc = rec_get(st, account, &r)) || (rc = pending(st, &s, &r, pend))) return rc;
	*owed = r.owed;
	return 0;
}

int dpos_reward_claim(ssp_txctx *c, const ssp_tx *tx)
{
	ssp_staker s;
	reward_rec r;
	ssp_account e;
	ssp_addr ea;
	uint64_t p, pay;
	int rc = ssp_dpos_staker_get(c->st, &tx->from, &s);
	if (rc || (rc = rec_get(c->st, &tx->from, &r)) || (rc = pending(c->st, &s, &r, &p)) ||
	    (rc = ssp_add_u64(&pay, r.owed, p)))
		return rc;
	if (!pay) return SSP_ERR_DPOS_NOTHING;
	r.owed = 0;
	for (uint32_t i = 0; i < s.nvotes; i++)
		if ((rc = acc_get(c->st, &s.votes[i], &r.snap[i]))) return rc;
	ssp_dpos_reward_escrow(&ea);
	if ((rc = rec_put(c->st, &tx->from, &r)) || (rc = ssp_state_account(c->st, &ea, &e)))
		return rc;
	if (e.balance < pay) return SSP_ERR_DBCORRUPT; /* the escrow holds every claim */
	e.balance -= pay;
	if ((rc = ssp_state_set_account(c->st, &ea, &e))) return rc;
	return ssp_state_credit(c->st, &tx->from, pay, 0);
}

/* --------------------------------------------------------------- emission */

/* The emission of rounds [a, b) under the schedule (saturating). */
uint64_t ssp_dpos_emission(const ssp_dpos_params *p, uint64_t a, uint64_t b)
{
	uint64_t sum = 0;
	while (a < b) {
		uint64_t epoch = p->halving_rounds ? a / p->halving_rounds : 0;
		if (epoch >= 64) break;
		uint64_t end = b;
		if (p->halving_rounds && (epoch + 1) * p->halving_rounds < b)
			end = (epoch + 1) * p->halving_rounds;
		uint64_t per = p->round_reward >> epoch, part;
		if (ssp_mul_u64(&part, end - a, per) || ssp_add_u64(&sum, sum, part))
			return UINT64_MAX;
		a = end;
	}
	return sum;
}

/* Adds amount to what account is owed (a delegate's commission). */
static int owe(ssp_state *st, const ssp_addr *a, uint64_t amount)
{
	reward_rec r;
	int rc = rec_get(st, a, &r);
	if (rc || (rc = ssp_add_u64(&r.owed, r.owed, amount))) return rc;
	return rec_put(st, a, &r);
}

int dpos_reward_block(ssp_state *st, const ssp_addr *account, uint64_t amount)
{
	ssp_addr ea;
	ssp_dpos_reward_escrow(&ea);
	int rc = ssp_state_pool_pay(st, &ea, amount);
	return rc ? rc : owe(st, account, amount);
}

/* Pays `amount` to the delegates in l (ranked), pro rata to capped weight. */
static int pay_round(ssp_state *st, const dpos_dlist *l, size_t n, uint64_t amount)
{
	u128 total = 0;
	uint64_t paid = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		total += ssp_dpos_capped_weight(&l->d[i]);
	for (size_t i = 0; i < n && !rc; i++) {
		const ssp_delegate *d = &l->d[i];
		uint64_t share = (uint64_t)((u128)amount * ssp_dpos_capped_weight(d) / total);
		uint64_t comm =
		    (uint64_t)((u128)share * d->commission_bp / SSP_DPOS_COMMISSION_MAX);
		uint64_t voters = share - comm;
		u128 acc;
		/* weight > 0, so votes > 0 */
		if (voters && !(rc = acc_get(st, &d->account, &acc)))
			rc = acc_put(st, &d->account, acc + ((u128)voters << 64) / d->votes);
		if (!rc && comm) rc = owe(st, &d->account, comm);
		if (!rc) rc = ssp_add_u64(&paid, paid, share);
	}
	if (rc || !paid) return rc;
	ssp_addr ea;
	ssp_dpos_reward_escrow(&ea);
	return ssp_state_pool_pay(st, &ea, paid);
}

int dpos_reward_begin(void *mod, ssp_state *st, const ssp_block_start *b)
{
	const dpos_chain *dc = mod;
	const ssp_dpos_params *p = ssp_genesis_dpos(dc->g);
	uint64_t next, cur = b->slot / p->set_size, pool;
	if (!p->round_reward) return 0;
	int rc = dpos_meta_get(st, "round", &next);
	if (rc || cur <= next) return rc; /* the round under way is paid once it has ended */
	if ((rc = dpos_meta_set(st, "round", cur)) || (rc = ssp_state_pool_get(st, &pool)))
		return rc;
	uint64_t amount = ssp_dpos_emission(p, next, cur);
	if (amount > pool) amount = pool;
	/* 70% per round to the delegates; the 30% block part is paid per block (dpos_prod.c) */
	amount = (uint64_t)((u128)amount * SSP_DPOS_ROUND_SHARE_BP / 10000);
	if (!amount) return 0;
	dpos_dlist l = {.max = SIZE_MAX, .registered_only = true};
	rc = ssp_state_scan(st, SSP_TB_DPOS_DELEGATE, dpos_dlist_visit, &l);
	if (rc == 1) rc = l.err;
	if (!rc && l.n) {
		qsort(l.d, l.n, sizeof *l.d, dpos_rank_cmp);
		size_t n = 0; /* the top reward_ranks with weight (ranked first) */
		while (n < l.n && n < p->reward_ranks && ssp_dpos_capped_weight(&l.d[n]))
			n++;
		if (n) rc = pay_round(st, &l, n, amount);
	}
	free(l.d);
	return rc;
}

/* ------------------------------------------------------------------ check */

typedef struct {
	ssp_state *st;
	uint64_t due;
	int err;
} due_sum;

static int visit_due(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	due_sum *s = arg;
	ssp_addr a;
	uint64_t pend;
	if (kl != SSP_ADDR_LEN) {
		s->err = SSP_ERR_DBCORRUPT;
		return 1;
	}
	reward_rec r;
	ssp_staker st;
	memcpy(a.b, k, SSP_ADDR_LEN);
	if ((s->err = rec_decode(&r, v, vl)) || (s->err = ssp_dpos_staker_get(s->st, &a, &st)) ||
	    (s->err = pending(s->st, &st, &r, &pend)) ||
	    (s->err = ssp_add_u64(&s->due, s->due, r.owed)) ||
	    (s->err = ssp_add_u64(&s->due, s->due, pend)))
		return 1;
	return 0;
}

int ssp_dpos_reward_check(const ssp_chain *c, ssp_txn *rt, uint64_t *due)
{
	due_sum s = {0};
	ssp_account e;
	ssp_addr ea;
	int rc = ssp_chain_state_view(c, rt, &s.st);
	if (rc) return rc;
	rc = ssp_chain_state_scan(c, rt, SSP_TB_DPOS_REWARD, NULL, 0, visit_due, &s);
	if (rc == 1) rc = s.err == SSP_ERR_OVERFLOW ? SSP_ERR_SUPPLY : s.err;
	ssp_dpos_reward_escrow(&ea);
	if (!rc) rc = ssp_chain_read_account(c, rt, &ea, &e);
	if (!rc && e.balance < s.due) rc = SSP_ERR_SUPPLY;
	if (!rc && due) *due = s.due;
	ssp_state_close(s.st);
	return rc;
}
