/*
 * dpos.c — the staking module on chain (modules layer; ssp/dpos.h): the
 * state records, the operations the staking tx types run, the consistency
 * check of the module's part of the supply and the ranking. Payloads and
 * tx types are in dpos_tx.c, RPC methods in dpos_rpc.c, the election in
 * dpos_elect.c; this file also assembles ssp_dpos_module.
 *
 * State (under the chain's state table, u8 table id || key):
 *   SSP_TB_DPOS_DELEGATE account[20] -> u8 len + name | u8 status | u16 commission |
 *                                       u8 len + url | u8 key type | u8 len + key |
 *                                       u64 self_stake | u64 votes | onion[32] |
 *                                       u64 registered_height | u64 updated_height
 *   SSP_TB_DPOS_NAME     name        -> account[20]
 *   SSP_TB_DPOS_STAKER   account[20] -> u64 staked | u8 n | n x delegate[20] |
 *                                       u8 m | m x (u8 kind | u64 amount | u64 unlock_slot)
 *   SSP_TB_DPOS_META     "held"      -> u64 (every self-stake, stake and unlocking entry)
 *
 * Money: staking moves SSP from the sender's balance to one keyless escrow
 * account (ssp_dpos_escrow); withdrawing moves it back. So the chain's
 * supply invariant (balances + locks + pool = total) counts every stake as
 * that account's balance without knowing this module, and ssp_dpos_check
 * ties the escrow to the records. A delegate's `votes` is kept up to date
 * on every stake, unstake and vote (at most 30 records per tx); the capped
 * weight is computed on read from votes and self-stake (two numbers, one
 * min), so nothing else needs to be maintained.
 */
#include <stdlib.h>
#include <string.h>

#include "dpos_internal.h"

static const char held_key[] = "held";

/* ---------------------------------------------------------------- records */

uint64_t ssp_dpos_capped_weight(const ssp_delegate *d)
{
	uint64_t cap;
	if (d->status != SSP_DELEGATE_REGISTERED) return 0;
	if (ssp_mul_u64(&cap, d->self_stake, SSP_DPOS_CAP_FACTOR)) cap = UINT64_MAX;
	return d->votes < cap ? d->votes : cap;
}

int ssp_dpos_delegate_get(ssp_state *st, const ssp_addr *account, ssp_delegate *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DPOS_DELEGATE, account->b, SSP_ADDR_LEN, &v, &vl);
	return rc ? rc : ssp_dpos_delegate_decode(out, account->b, SSP_ADDR_LEN, v, vl);
}

int ssp_dpos_delegate_by_name(ssp_state *st, const char *name, ssp_delegate *out)
{
	const void *v;
	size_t vl, nl = strlen(name);
	ssp_addr a;
	if (!ssp_dpos_name_valid(name, nl)) return SSP_ERR_INVAL;
	int rc = ssp_state_get(st, SSP_TB_DPOS_NAME, name, nl, &v, &vl);
	if (rc) return rc;
	if (vl != SSP_ADDR_LEN) return SSP_ERR_DBCORRUPT;
	memcpy(a.b, v, SSP_ADDR_LEN);
	rc = ssp_dpos_delegate_get(st, &a, out);
	if (rc == SSP_ERR_NOTFOUND || (!rc && strcmp(out->name, name)))
		rc = SSP_ERR_DBCORRUPT; /* the index names a record that is not there */
	return rc;
}

int ssp_dpos_staker_get(ssp_state *st, const ssp_addr *account, ssp_staker *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DPOS_STAKER, account->b, SSP_ADDR_LEN, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		memset(out, 0, sizeof *out);
		out->account = *account;
		return 0;
	}
	return rc ? rc : ssp_dpos_staker_decode(out, account->b, SSP_ADDR_LEN, v, vl);
}

int dpos_put_delegate(ssp_state *st, const ssp_delegate *d)
{
	ssp_buf b;
	ssp_buf_init(&b, 512);
	ssp_dpos_delegate_encode(&b, d);
	int rc = b.err ? b.err
	               : ssp_state_put(st, SSP_TB_DPOS_DELEGATE, d->account.b, SSP_ADDR_LEN, b.data,
	                               b.len);
	ssp_buf_free(&b);
	return rc;
}

int dpos_put_staker(ssp_state *st, const ssp_staker *s)
{
	if (!s->staked && !s->nvotes && !s->nunlock) {
		int rc = ssp_state_del(st, SSP_TB_DPOS_STAKER, s->account.b, SSP_ADDR_LEN);
		return rc == SSP_ERR_NOTFOUND ? 0 : rc;
	}
	ssp_buf b;
	ssp_buf_init(&b, 1024);
	ssp_dpos_staker_encode(&b, s);
	int rc = b.err ? b.err
	               : ssp_state_put(st, SSP_TB_DPOS_STAKER, s->account.b, SSP_ADDR_LEN, b.data,
	                               b.len);
	ssp_buf_free(&b);
	return rc;
}

uint64_t dpos_slot_of(const ssp_genesis *g, uint64_t time_ms)
{
	uint64_t t0 = ssp_genesis_time_ms(g);
	return time_ms <= t0 ? 0 : (time_ms - t0) / ssp_genesis_params(g)->block_interval_ms;
}

/* ----------------------------------------------------------------- escrow */

int dpos_meta_get(ssp_state *st, const char *key, uint64_t *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DPOS_META, key, strlen(key), &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		*out = 0;
		return 0;
	}
	if (rc) return rc;
	if (vl != 8) return SSP_ERR_DBCORRUPT;
	*out = ssp_le64_get(v);
	return 0;
}

int dpos_meta_set(ssp_state *st, const char *key, uint64_t value)
{
	uint8_t v[8];
	ssp_le64_put(v, value);
	return ssp_state_put(st, SSP_TB_DPOS_META, key, strlen(key), v, 8);
}

static int held_get(ssp_state *st, uint64_t *held)
{
	return dpos_meta_get(st, held_key, held);
}

static int held_set(ssp_state *st, uint64_t held)
{
	return dpos_meta_set(st, held_key, held);
}

/* from's balance -> the escrow (SSP_ERR_BALANCE when it has less). */
static int escrow_in(ssp_state *st, const ssp_addr *from, uint64_t amount)
{
	ssp_account a, e;
	ssp_addr ea;
	uint64_t held;
	int rc;
	ssp_dpos_escrow(&ea);
	if ((rc = ssp_state_account(st, from, &a))) return rc;
	if (a.balance < amount) return SSP_ERR_BALANCE;
	a.balance -= amount;
	if ((rc = ssp_state_set_account(st, from, &a)) || (rc = ssp_state_account(st, &ea, &e)) ||
	    (rc = ssp_add_u64(&e.balance, e.balance, amount)) ||
	    (rc = ssp_state_set_account(st, &ea, &e)) || (rc = held_get(st, &held)) ||
	    (rc = ssp_add_u64(&held, held, amount)))
		return rc;
	return held_set(st, held);
}

int dpos_escrow_take(ssp_state *st, uint64_t amount)
{
	ssp_account e;
	ssp_addr ea;
	uint64_t held;
	int rc;
	ssp_dpos_escrow(&ea);
	if ((rc = ssp_state_account(st, &ea, &e)) || (rc = held_get(st, &held))) return rc;
	if (e.balance < amount || held < amount) return SSP_ERR_DBCORRUPT;
	e.balance -= amount;
	if ((rc = ssp_state_set_account(st, &ea, &e))) return rc;
	return held_set(st, held - amount);
}

/* The escrow -> to's balance. The escrow always holds what the records say. */
static int escrow_out(ssp_state *st, const ssp_addr *to, uint64_t amount)
{
	int rc = dpos_escrow_take(st, amount);
	return rc ? rc : ssp_state_credit(st, to, amount, 0);
}

/* ------------------------------------------------------------- operations */

/* Adds (add) or removes `amount` to or from the votes of every delegate s votes for. */
static int apply_votes(ssp_state *st, const ssp_staker *s, uint64_t amount, bool add)
{
	for (uint32_t i = 0; i < s->nvotes; i++) {
		ssp_delegate d;
		int rc = ssp_dpos_delegate_get(st, &s->votes[i], &d);
		if (rc) return rc == SSP_ERR_NOTFOUND ? SSP_ERR_DBCORRUPT : rc;
		if (add) {
			if ((rc = ssp_add_u64(&d.votes, d.votes, amount))) return rc;
		} else if (d.votes < amount) {
			return SSP_ERR_DBCORRUPT;
		} else {
			d.votes -= amount;
		}
		if ((rc = dpos_put_delegate(st, &d))) return rc;
	}
	return 0;
}

/* A new unlocking entry; one with the same kind and slot grows instead. */
int dpos_add_unlock(ssp_staker *s, uint8_t kind, uint64_t amount, uint64_t slot)
{
	for (uint32_t i = 0; i < s->nunlock; i++)
		if (s->unlock[i].kind == kind && s->unlock[i].unlock_slot == slot)
			return ssp_add_u64(&s->unlock[i].amount, s->unlock[i].amount, amount);
	if (s->nunlock == SSP_DPOS_UNLOCKS_MAX) return SSP_ERR_DPOS_UNLOCKS;
	s->unlock[s->nunlock++] = (ssp_unlock){.kind = kind, .amount = amount, .unlock_slot = slot};
	return 0;
}

static int op_register(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	const dpos_chain *dc = c->mod;
	ssp_delegate d, other;
	bool had = false, deactivated = false;
	int rc = ssp_dpos_delegate_get(c->st, &tx->from, &d);
	if (!rc) {
		if (d.status == SSP_DELEGATE_REGISTERED) return SSP_ERR_DPOS_REGISTERED;
		if (d.status == SSP_DELEGATE_DEACTIVATED) deactivated = true;
		if (d.status == SSP_DELEGATE_BANNED &&
		    dpos_slot_of(dc->g, c->time_ms) < d.banned_until_slot)
			return SSP_ERR_DPOS_BANNED;
		had = true;
	} else if (rc != SSP_ERR_NOTFOUND) {
		return rc;
	}
	rc = ssp_dpos_delegate_by_name(c->st, p->name, &other);
	if (!rc && memcmp(other.account.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_DPOS_NAME;
	if (rc && rc != SSP_ERR_NOTFOUND) return rc;
	if (p->amount < ssp_genesis_dpos(dc->g)->min_self_stake) return SSP_ERR_DPOS_SELF_STAKE;
	if ((rc = escrow_in(c->st, &tx->from, p->amount))) return rc;
	/* registering again under another name frees the old one */
	if (had && strcmp(d.name, p->name) &&
	    (rc = ssp_state_del(c->st, SSP_TB_DPOS_NAME, d.name, strlen(d.name))))
		return rc;
	if (!had) {
		memset(&d, 0, sizeof d);
		d.account = tx->from;
		/* votes cast for it while it was unregistered still count: keep d.votes */
	}
	memcpy(d.name, p->name, sizeof d.name);
	d.status = SSP_DELEGATE_REGISTERED;
	d.banned_until_slot = 0; /* the slashes stay counted */
	d.commission_bp = p->commission_bp;
	memcpy(d.url, p->url, sizeof d.url);
	d.node_key = p->node_key;
	/* a deactivated delegate's self-stake stayed locked in its record: it adds up */
	if (deactivated) {
		if ((rc = ssp_add_u64(&d.self_stake, d.self_stake, p->amount)) ||
		    (rc = dpos_prod_reactivate(c->st, &tx->from)))
			return rc;
	} else {
		d.self_stake = p->amount;
	}
	d.onion = p->onion;
	/* its block in round r reveals onion element r - onion_round */
	d.onion_round = dpos_slot_of(dc->g, c->time_ms) / ssp_genesis_dpos(dc->g)->set_size;
	d.registered_height = d.updated_height = c->height;
	if ((rc = ssp_state_put(c->st, SSP_TB_DPOS_NAME, d.name, strlen(d.name), d.account.b,
	                        SSP_ADDR_LEN)))
		return rc;
	return dpos_put_delegate(c->st, &d);
}

static int read_own(ssp_txctx *c, const ssp_tx *tx, ssp_delegate *d)
{
	int rc = ssp_dpos_delegate_get(c->st, &tx->from, d);
	if (rc == SSP_ERR_NOTFOUND || (!rc && d->status != SSP_DELEGATE_REGISTERED))
		return SSP_ERR_DPOS_NOT_DELEGATE;
	return rc;
}

static int op_update(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	ssp_delegate d;
	int rc = read_own(c, tx, &d);
	if (rc) return rc;
	if (p->amount) {
		if ((rc = ssp_add_u64(&d.self_stake, d.self_stake, p->amount)) ||
		    (rc = escrow_in(c->st, &tx->from, p->amount)))
			return rc;
	}
	d.commission_bp = p->commission_bp;
	memcpy(d.url, p->url, sizeof d.url);
	d.node_key = p->node_key;
	d.updated_height = c->height;
	return dpos_put_delegate(c->st, &d);
}

static int op_unregister(ssp_txctx *c, const ssp_tx *tx)
{
	const dpos_chain *dc = c->mod;
	ssp_delegate d;
	ssp_staker s;
	/* a deactivated delegate may leave too (its self-stake unlocks) */
	int rc = ssp_dpos_delegate_get(c->st, &tx->from, &d);
	if (!rc && d.status == SSP_DELEGATE_DEACTIVATED)
		rc = dpos_prod_reactivate(c->st, &tx->from);
	else
		rc = read_own(c, tx, &d);
	if (rc || (rc = ssp_dpos_staker_get(c->st, &tx->from, &s))) return rc;
	uint64_t slot = dpos_slot_of(dc->g, c->time_ms), at;
	if ((rc = ssp_add_u64(&at, slot, ssp_genesis_dpos(dc->g)->self_unlock_slots)) ||
	    (rc = dpos_add_unlock(&s, SSP_UNLOCK_SELF, d.self_stake, at)))
		return rc;
	d.status = SSP_DELEGATE_UNREGISTERED;
	d.self_stake = 0;
	d.updated_height = c->height;
	if ((rc = dpos_put_staker(c->st, &s))) return rc;
	return dpos_put_delegate(c->st, &d);
}

static int op_stake(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	ssp_staker s, before;
	int rc = ssp_dpos_staker_get(c->st, &tx->from, &s);
	before = s;
	if (rc || (rc = ssp_add_u64(&s.staked, s.staked, p->amount)) ||
	    (rc = escrow_in(c->st, &tx->from, p->amount)) ||
	    (rc = apply_votes(c->st, &s, p->amount, true)) ||
	    (rc = dpos_reward_sync(c->st, &before, &s)))
		return rc;
	return dpos_put_staker(c->st, &s);
}

static int op_unstake(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	const dpos_chain *dc = c->mod;
	ssp_staker s, before;
	int rc = ssp_dpos_staker_get(c->st, &tx->from, &s);
	if (rc) return rc;
	if (s.staked < p->amount) return SSP_ERR_DPOS_STAKE;
	before = s;
	uint64_t at;
	if ((rc = ssp_add_u64(&at, dpos_slot_of(dc->g, c->time_ms),
	                      ssp_genesis_dpos(dc->g)->vote_unlock_slots)) ||
	    (rc = dpos_add_unlock(&s, SSP_UNLOCK_VOTE, p->amount, at)))
		return rc;
	s.staked -= p->amount;
	if ((rc = apply_votes(c->st, &s, p->amount, false)) ||
	    (rc = dpos_reward_sync(c->st, &before, &s)))
		return rc;
	return dpos_put_staker(c->st, &s);
}

static int op_vote(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	ssp_staker s, before;
	ssp_addr want[SSP_DPOS_VOTES_MAX];
	int rc = ssp_dpos_staker_get(c->st, &tx->from, &s);
	if (rc) return rc;
	before = s;
	for (uint32_t i = 0; i < p->nvotes; i++) {
		ssp_delegate d;
		rc = ssp_dpos_delegate_by_name(c->st, p->votes[i], &d);
		if (rc == SSP_ERR_NOTFOUND || (!rc && d.status != SSP_DELEGATE_REGISTERED))
			return SSP_ERR_DPOS_UNKNOWN;
		if (rc) return rc;
		for (uint32_t j = 0; j < i; j++)
			if (!memcmp(want[j].b, d.account.b, SSP_ADDR_LEN))
				return SSP_ERR_DPOS_VOTES;
		want[i] = d.account;
	}
	/* the new set replaces the old one: take the stake off, then put it on */
	if ((rc = apply_votes(c->st, &s, s.staked, false))) return rc;
	s.nvotes = p->nvotes;
	memcpy(s.votes, want, p->nvotes * sizeof *want);
	if ((rc = apply_votes(c->st, &s, s.staked, true)) ||
	    (rc = dpos_reward_sync(c->st, &before, &s)))
		return rc;
	return dpos_put_staker(c->st, &s);
}

static int op_withdraw(ssp_txctx *c, const ssp_tx *tx)
{
	const dpos_chain *dc = c->mod;
	ssp_staker s;
	uint64_t slot = dpos_slot_of(dc->g, c->time_ms), total = 0;
	uint32_t keep = 0;
	int rc = ssp_dpos_staker_get(c->st, &tx->from, &s);
	if (rc) return rc;
	for (uint32_t i = 0; i < s.nunlock; i++) {
		if (s.unlock[i].unlock_slot <= slot) {
			if ((rc = ssp_add_u64(&total, total, s.unlock[i].amount))) return rc;
		} else {
			s.unlock[keep++] = s.unlock[i];
		}
	}
	if (!total) return SSP_ERR_DPOS_NOTHING;
	s.nunlock = keep;
	if ((rc = dpos_put_staker(c->st, &s))) return rc;
	return escrow_out(c->st, &tx->from, total);
}

int dpos_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	switch (tx->type) {
	case SSP_TX_DELEGATE_REGISTER:
		return op_register(c, tx, p);
	case SSP_TX_DELEGATE_UPDATE:
		return op_update(c, tx, p);
	case SSP_TX_DELEGATE_UNREGISTER:
		return op_unregister(c, tx);
	case SSP_TX_STAKE:
		return op_stake(c, tx, p);
	case SSP_TX_UNSTAKE:
		return op_unstake(c, tx, p);
	case SSP_TX_VOTE:
		return op_vote(c, tx, p);
	case SSP_TX_WITHDRAW:
		return op_withdraw(c, tx);
	case SSP_TX_REWARDS_CLAIM:
		return dpos_reward_claim(c, tx);
	case SSP_TX_EVIDENCE:
		return dpos_evidence_apply(c, tx, p);
	case SSP_TX_EVIDENCE_VOTES:
		return dpos_evidence_votes_apply(c, tx, p);
	default:
		return SSP_ERR_TXTYPE;
	}
}

/* ------------------------------------------------------- ranking and check */

int dpos_dlist_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	dpos_dlist *l = arg;
	ssp_delegate d;
	if ((l->err = ssp_dpos_delegate_decode(&d, k, kl, v, vl))) return 1;
	if (l->registered_only && d.status != SSP_DELEGATE_REGISTERED) return 0;
	if (l->n == l->max) {
		l->err = SSP_ERR_TOOBIG;
		return 1;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		ssp_delegate *nd = realloc(l->d, cap * sizeof *nd);
		if (!nd) {
			l->err = SSP_ERR_NOMEM;
			return 1;
		}
		l->d = nd;
		l->cap = cap;
	}
	l->d[l->n++] = d;
	return 0;
}

int dpos_rank_cmp(const void *a, const void *b)
{
	const ssp_delegate *x = a, *y = b;
	uint64_t wx = ssp_dpos_capped_weight(x), wy = ssp_dpos_capped_weight(y);
	if (wx != wy) return wx > wy ? -1 : 1;
	return memcmp(x->account.b, y->account.b, SSP_ADDR_LEN);
}

static int load_delegates(const ssp_chain *c, ssp_txn *rt, size_t max, bool registered_only,
                          dpos_dlist *l)
{
	memset(l, 0, sizeof *l);
	l->max = max;
	l->registered_only = registered_only;
	int rc = ssp_chain_state_scan(c, rt, SSP_TB_DPOS_DELEGATE, NULL, 0, dpos_dlist_visit, l);
	if (rc == 1) rc = l->err;
	if (rc) {
		free(l->d);
		l->d = NULL;
	}
	return rc;
}

int ssp_dpos_ranking(const ssp_chain *c, ssp_txn *rt, size_t max, ssp_delegate **out, size_t *n)
{
	dpos_dlist l;
	*out = NULL;
	*n = 0;
	int rc = load_delegates(c, rt, max, true, &l);
	if (rc) return rc;
	if (l.n) qsort(l.d, l.n, sizeof *l.d, dpos_rank_cmp);
	*out = l.d;
	*n = l.n;
	return 0;
}

typedef struct {
	ssp_delegate *d; /* sorted by account */
	size_t n;
	uint64_t *votes; /* recomputed from the stakers */
	uint64_t held;
	int err;
} checker;

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(((const ssp_delegate *)a)->account.b, ((const ssp_delegate *)b)->account.b,
	              SSP_ADDR_LEN);
}

static int visit_staker(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	checker *ck = arg;
	ssp_staker s;
	if ((ck->err = ssp_dpos_staker_decode(&s, k, kl, v, vl))) return 1;
	if (ssp_add_u64(&ck->held, ck->held, s.staked)) goto bad;
	for (uint32_t i = 0; i < s.nunlock; i++)
		if (ssp_add_u64(&ck->held, ck->held, s.unlock[i].amount)) goto bad;
	for (uint32_t i = 0; i < s.nvotes; i++) {
		ssp_delegate key;
		key.account = s.votes[i];
		ssp_delegate *d = bsearch(&key, ck->d, ck->n, sizeof *ck->d, addr_cmp);
		size_t j = d ? (size_t)(d - ck->d) : 0;
		if (!d || ssp_add_u64(&ck->votes[j], ck->votes[j], s.staked)) goto bad;
	}
	return 0;
bad:
	ck->err = SSP_ERR_SUPPLY;
	return 1;
}

int ssp_dpos_check(const ssp_chain *c, ssp_txn *rt, uint64_t *held)
{
	dpos_dlist l;
	checker ck = {0};
	ssp_account e;
	ssp_addr ea;
	ssp_state *st = NULL;
	uint64_t stored;
	int rc = load_delegates(c, rt, SIZE_MAX, false, &l);
	if (rc) return rc;
	ck.d = l.d;
	ck.n = l.n;
	if (l.n) qsort(l.d, l.n, sizeof *l.d, addr_cmp);
	ck.votes = ssp_calloc(l.n ? l.n : 1, sizeof *ck.votes);
	if (!ck.votes) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++)
		if (ssp_add_u64(&ck.held, ck.held, l.d[i].self_stake)) {
			rc = SSP_ERR_SUPPLY;
			goto out;
		}
	rc = ssp_chain_state_scan(c, rt, SSP_TB_DPOS_STAKER, NULL, 0, visit_staker, &ck);
	if (rc == 1) rc = ck.err;
	if (rc) goto out;
	for (size_t i = 0; i < l.n; i++)
		if (ck.votes[i] != l.d[i].votes) rc = SSP_ERR_SUPPLY;
	ssp_dpos_escrow(&ea);
	if (!rc) rc = ssp_chain_read_account(c, rt, &ea, &e);
	if (!rc) rc = ssp_chain_state_view(c, rt, &st);
	if (!rc) rc = held_get(st, &stored);
	if (!rc && (stored != ck.held || e.balance < stored)) rc = SSP_ERR_SUPPLY;
	if (!rc && held) *held = stored;
out:
	if (st) ssp_state_close(st);
	free(ck.votes);
	free(l.d);
	return rc;
}

/* ------------------------------------------------------------------ module */

/* The module's part of the invariants (--check-invariants): stakes, then rewards. */
static int dpos_check_hook(void *mod, const ssp_chain *c, ssp_txn *rt)
{
	(void)mod;
	int rc = ssp_dpos_check(c, rt, NULL);
	return rc ? rc : ssp_dpos_reward_check(c, rt, NULL);
}

/*
 * The block hook: productivity and block rewards (whose verdicts the
 * election reads), the elected set (at a round's first block), the round
 * rewards, then the deactivations (written last: the election and the
 * round rewards scan the delegate table, which must not have changed in
 * the block yet).
 */
static int dpos_begin(void *mod, ssp_state *st, const ssp_block_start *b)
{
	const dpos_chain *dc = mod;
	dpos_prod_out po = {0};
	int rc = 0;
	/* a genesis without "dpos" keeps the state it had before sets were recorded */
	if (!ssp_genesis_has_dpos(dc->g)) return dpos_reward_begin(mod, st, b);
	if ((rc = dpos_prod_begin(dc, st, b, &po)) || (rc = dpos_set_begin(dc, st, b)) ||
	    (rc = dpos_reward_begin(mod, st, b)))
		return rc;
	return dpos_prod_end(dc, st, b, &po);
}

static int dpos_chain_new(void **out, const ssp_genesis *g)
{
	dpos_chain *dc = ssp_calloc(1, sizeof *dc);
	if (!dc) return SSP_ERR_NOMEM;
	dc->g = g;
	*out = dc;
	return 0;
}

static void dpos_chain_free(void *st)
{
	free(st);
}

const ssp_module ssp_dpos_module = {
    .name = "dpos",
    .txtypes = ssp_dpos_txtypes,
    .ntxtypes = DPOS_NTXTYPES,
    .methods = ssp_dpos_methods,
    .nmethods = DPOS_NMETHODS,
    .chain_new = dpos_chain_new,
    .chain_free = dpos_chain_free,
    .begin_block = dpos_begin,
    .check = dpos_check_hook,
};
