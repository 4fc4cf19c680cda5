/*
 * dpos_prod.c — productivity and block rewards of the staking module
 * (modules layer; ssp/dpos.h, docs/internals/dpos.md): from the block
 * context the consensus gives every block (ssp_block_start.ctx: the
 * slot's producer, the finality of the parent's branch, the producers of
 * the slots skipped since the parent), the block hook counts each
 * delegate's produced and missed slots, puts a delegate below 85% over
 * its window on probation (left out of elections), deactivates one that
 * stopped producing, and pays every produced block its block reward once
 * the block is final on its branch. Everything is a function of the
 * chain's blocks (never of votes seen or timing), so every node writes
 * the same state.
 *
 * State (under the chain's state table, u8 table id || key):
 *   SSP_TB_DPOS_PROD     account[20] -> u8 version=1 | u8 flags (1 produced_any,
 *                                       2 deactivated) | u64 probation_until |
 *                                       u64 consecutive_misses | u64 last_slot |
 *                                       u64 produced | u64 missed | u64 block_rewards |
 *                                       u8 n | n x (u64 round | u32 produced | u32 missed)
 *   SSP_TB_DPOS_BLOCKPAY u64 BE height -> account[20] | u64 amount: a produced block's
 *                                       reward, paid and deleted once its height is at or
 *                                       below the branch's final height
 *   SSP_TB_DPOS_META     "bp_n"      -> u64: the number of BLOCKPAY records
 *
 * Money: a paid block reward moves from the pool to the reward escrow and
 * is owed to the delegate's own account (dpos_reward_block), so the supply
 * invariant and ssp_dpos_reward_check hold as for round rewards.
 */
#include <stdlib.h>
#include <string.h>

#include "dpos_internal.h"

typedef unsigned __int128 u128;

#define PROD_VERSION 1
#define F_PRODUCED 1
#define F_DEACTIVATED 2

static const char k_bp_n[] = "bp_n";

/* ---------------------------------------------------------------- records */

static void prod_encode(ssp_buf *b, const ssp_dpos_prod *p)
{
	ssp_buf_u8(b, PROD_VERSION);
	ssp_buf_u8(b, (uint8_t)((p->produced_any ? F_PRODUCED : 0) |
	                        (p->deactivated ? F_DEACTIVATED : 0)));
	ssp_buf_u64(b, p->probation_until);
	ssp_buf_u64(b, p->consecutive_misses);
	ssp_buf_u64(b, p->last_slot);
	ssp_buf_u64(b, p->produced);
	ssp_buf_u64(b, p->missed);
	ssp_buf_u64(b, p->block_rewards);
	ssp_buf_u8(b, (uint8_t)p->n);
	for (uint32_t i = 0; i < p->n; i++) {
		ssp_buf_u64(b, p->win[i].round);
		ssp_buf_u32(b, p->win[i].produced);
		ssp_buf_u32(b, p->win[i].missed);
	}
}

static int prod_decode(ssp_dpos_prod *p, const void *v, size_t n)
{
	ssp_rd r;
	memset(p, 0, sizeof *p);
	ssp_rd_init(&r, v, n);
	uint8_t ver = ssp_rd_u8(&r), fl = ssp_rd_u8(&r);
	p->produced_any = fl & F_PRODUCED;
	p->deactivated = fl & F_DEACTIVATED;
	p->probation_until = ssp_rd_u64(&r);
	p->consecutive_misses = ssp_rd_u64(&r);
	p->last_slot = ssp_rd_u64(&r);
	p->produced = ssp_rd_u64(&r);
	p->missed = ssp_rd_u64(&r);
	p->block_rewards = ssp_rd_u64(&r);
	p->n = ssp_rd_u8(&r);
	if (ver != PROD_VERSION || fl & ~(F_PRODUCED | F_DEACTIVATED) ||
	    p->n > SSP_DPOS_PROD_WINDOW_MAX)
		return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < p->n; i++) {
		p->win[i].round = ssp_rd_u64(&r);
		p->win[i].produced = ssp_rd_u32(&r);
		p->win[i].missed = ssp_rd_u32(&r);
		if (i && p->win[i].round <= p->win[i - 1].round) return SSP_ERR_DBCORRUPT;
	}
	return ssp_rd_end(&r) ? SSP_ERR_DBCORRUPT : 0;
}

int ssp_dpos_prod_get(ssp_state *st, const ssp_addr *account, ssp_dpos_prod *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DPOS_PROD, account->b, SSP_ADDR_LEN, &v, &vl);
	return rc ? rc : prod_decode(out, v, vl);
}

static int prod_put(ssp_state *st, const ssp_addr *account, const ssp_dpos_prod *p)
{
	ssp_buf b;
	ssp_buf_init(&b, 64 + SSP_DPOS_PROD_WINDOW_MAX * 16);
	prod_encode(&b, p);
	int rc = b.err
	             ? b.err
	             : ssp_state_put(st, SSP_TB_DPOS_PROD, account->b, SSP_ADDR_LEN, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

void ssp_dpos_prod_window(const ssp_dpos_prod *p, uint64_t round, uint32_t window,
                          uint64_t *produced, uint64_t *missed)
{
	*produced = *missed = 0;
	for (uint32_t i = 0; i < p->n; i++)
		if (p->win[i].round < round && p->win[i].round + window >= round) {
			*produced += p->win[i].produced;
			*missed += p->win[i].missed;
		}
}

bool ssp_dpos_on_probation(const ssp_dpos_prod *p, uint64_t round)
{
	return p->probation_until > round;
}

/* Counts one slot of `round` in the window, dropping rounds older than the window. */
static void win_add(ssp_dpos_prod *p, uint32_t window, uint64_t round, bool produced)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->n; i++) /* keep the rounds still in a window ending at round */
		if (p->win[i].round + window > round) p->win[k++] = p->win[i];
	p->n = k;
	uint32_t i = 0;
	while (i < p->n && p->win[i].round < round)
		i++;
	if (i == p->n || p->win[i].round != round) {
		if (p->n == SSP_DPOS_PROD_WINDOW_MAX) { /* cannot happen: window <= the max */
			memmove(&p->win[0], &p->win[1], (p->n - 1) * sizeof p->win[0]);
			p->n--;
			i = i ? i - 1 : 0;
		}
		memmove(&p->win[i + 1], &p->win[i], (p->n - i) * sizeof p->win[0]);
		p->win[i] = (ssp_dpos_prod_round){.round = round};
		p->n++;
	}
	if (produced)
		p->win[i].produced++;
	else
		p->win[i].missed++;
}

/* ------------------------------------------------------- keys to delegates */

/*
 * The delegate accounts of the keys of a block's context: the members of
 * the sets recorded for the last rounds (a key that produced or missed a
 * slot is a member of the set in force, elected at one of the rounds
 * before), else a registered delegate with that node key (the genesis
 * set, before any record). found[i] false: no delegate (it earns nothing).
 */
typedef struct {
	const ssp_pubkey *key;
	ssp_addr account;
	bool found;
} key_ref;

typedef struct {
	key_ref *k;
	size_t n, left;
	int err;
} key_scan;

static int visit_key(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	key_scan *s = arg;
	ssp_delegate d;
	if ((s->err = ssp_dpos_delegate_decode(&d, k, kl, v, vl))) return 1;
	if (d.status != SSP_DELEGATE_REGISTERED) return 0;
	for (size_t i = 0; i < s->n; i++)
		if (!s->k[i].found && ssp_pubkey_eq(s->k[i].key, &d.node_key)) {
			s->k[i].account = d.account;
			s->k[i].found = true;
			s->left--;
		}
	return s->left ? 0 : 1;
}

static int resolve_keys(ssp_state *st, uint64_t round, key_ref *k, size_t n)
{
	ssp_dpos_member *m = NULL;
	size_t nm, left = n;
	int rc = 0;
	if (!n) return 0;
	m = ssp_malloc(SSP_DPOS_SET_MAX * sizeof *m);
	if (!m) return SSP_ERR_NOMEM;
	/* the set in force was elected at round - 1, or earlier while that election was not
	 * final on the branch yet */
	for (uint64_t back = 1; back <= 3 && back <= round && left && !rc; back++) {
		rc = ssp_dpos_set_read(st, round - back, m, &nm, NULL);
		if (rc == SSP_ERR_NOTFOUND) {
			rc = 0;
			continue;
		}
		for (size_t i = 0; i < n && !rc; i++)
			for (size_t j = 0; j < nm && !k[i].found; j++)
				if (ssp_pubkey_eq(k[i].key, &m[j].key)) {
					k[i].account = m[j].account;
					k[i].found = true;
					left--;
				}
	}
	free(m);
	if (rc || !left) return rc;
	key_scan s = {.k = k, .n = n, .left = left};
	rc = ssp_state_scan(st, SSP_TB_DPOS_DELEGATE, visit_key, &s);
	return rc == 1 ? s.err : rc;
}

/* ------------------------------------------------------ records in memory */

typedef struct {
	ssp_addr account;
	ssp_dpos_prod p;
	bool dirty, fresh;
} prod_ent;

typedef struct {
	prod_ent *e;
	size_t n, cap;
	int err;
} prod_set;

static prod_ent *ent_push(prod_set *s, const ssp_addr *a)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		prod_ent *e = realloc(s->e, cap * sizeof *e);
		if (!e) return NULL;
		s->e = e;
		s->cap = cap;
	}
	prod_ent *x = &s->e[s->n++];
	memset(x, 0, sizeof *x);
	x->account = *a;
	return x;
}

static int visit_prod(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	prod_set *s = arg;
	ssp_addr a;
	if (kl != SSP_ADDR_LEN) {
		s->err = SSP_ERR_DBCORRUPT;
		return 1;
	}
	memcpy(a.b, k, SSP_ADDR_LEN);
	prod_ent *x = ent_push(s, &a);
	if (!x) {
		s->err = SSP_ERR_NOMEM;
		return 1;
	}
	if ((s->err = prod_decode(&x->p, v, vl))) return 1;
	return 0;
}

/* The record of account (loaded, or read from the state, or a new one at slot). */
static int ent_get(ssp_state *st, prod_set *s, const ssp_addr *a, uint64_t slot, prod_ent **out)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(s->e[i].account.b, a->b, SSP_ADDR_LEN)) {
			*out = &s->e[i];
			return 0;
		}
	prod_ent *x = ent_push(s, a);
	if (!x) return SSP_ERR_NOMEM;
	int rc = ssp_dpos_prod_get(st, a, &x->p);
	if (rc == SSP_ERR_NOTFOUND) {
		memset(&x->p, 0, sizeof x->p);
		x->p.last_slot = slot; /* deactivation counts from its first slot */
		x->fresh = true;
		rc = 0;
	}
	if (rc) {
		s->n--;
		return rc;
	}
	*out = x;
	return 0;
}

/* ----------------------------------------------------------- block rewards */

typedef struct {
	uint64_t final, height[SSP_DPOS_BLOCKPAY_PER_BLOCK + 1];
	ssp_addr account[SSP_DPOS_BLOCKPAY_PER_BLOCK + 1];
	uint64_t amount[SSP_DPOS_BLOCKPAY_PER_BLOCK + 1];
	bool forfeit; /* the first one is forfeited (too many waiting), not paid */
	size_t n;
	int err;
} pay_scan;

static int bp_decode(ssp_addr *a, uint64_t *amount, const void *v, size_t vl)
{
	if (vl != SSP_ADDR_LEN + 8) return SSP_ERR_DBCORRUPT;
	memcpy(a->b, v, SSP_ADDR_LEN);
	*amount = ssp_le64_get((const uint8_t *)v + SSP_ADDR_LEN);
	return *amount ? 0 : SSP_ERR_DBCORRUPT;
}

static int visit_pay(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	pay_scan *s = arg;
	if (kl != 8) {
		s->err = SSP_ERR_DBCORRUPT;
		return 1;
	}
	uint64_t h = ssp_be64_get(k);
	if (h > s->final && !(s->forfeit && s->n == 0)) return 1; /* heights ascend */
	if ((s->err = bp_decode(&s->account[s->n], &s->amount[s->n], v, vl))) return 1;
	s->height[s->n++] = h;
	/* a forfeited record does not count against what a block pays */
	return s->n >= SSP_DPOS_BLOCKPAY_PER_BLOCK + (s->forfeit ? 1 : 0) ? 1 : 0;
}

/* Pays (or forfeits) the waiting block rewards the branch made final; the records go. */
static int pay_final(ssp_state *st, prod_set *ps, uint64_t final, uint64_t slot, uint64_t *pending)
{
	pay_scan *s = ssp_calloc(1, sizeof *s);
	if (!s) return SSP_ERR_NOMEM;
	s->final = final;
	s->forfeit = *pending >= SSP_DPOS_BLOCKPAY_PENDING_MAX;
	int rc = ssp_state_scan(st, SSP_TB_DPOS_BLOCKPAY, visit_pay, s);
	if (rc == 1) rc = s->err;
	for (size_t i = 0; i < s->n && !rc; i++) {
		uint8_t k[8];
		ssp_be64_put(k, s->height[i]);
		if ((rc = ssp_state_del(st, SSP_TB_DPOS_BLOCKPAY, k, 8))) break;
		if (!*pending) {
			rc = SSP_ERR_DBCORRUPT; /* the count is below the records */
			break;
		}
		(*pending)--;
		if (i == 0 && s->forfeit && s->height[0] > final) continue; /* stays in the pool */
		uint64_t pool, amount = s->amount[i];
		prod_ent *x;
		if ((rc = ssp_state_pool_get(st, &pool))) break;
		if (amount > pool) amount = pool;
		if (!amount) continue;
		if ((rc = dpos_reward_block(st, &s->account[i], amount)) ||
		    (rc = ent_get(st, ps, &s->account[i], slot, &x)))
			break;
		if (ssp_add_u64(&x->p.block_rewards, x->p.block_rewards, amount))
			x->p.block_rewards = UINT64_MAX;
		x->dirty = true;
	}
	free(s);
	return rc;
}

typedef struct {
	const ssp_addr *a;
	uint64_t n, amount;
	int err;
} pending_count;

static int visit_count(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	pending_count *c = arg;
	ssp_addr a;
	uint64_t amount;
	if (kl != 8 || (c->err = bp_decode(&a, &amount, v, vl))) {
		if (!c->err) c->err = SSP_ERR_DBCORRUPT;
		return 1;
	}
	if (!memcmp(a.b, c->a->b, SSP_ADDR_LEN)) {
		c->n++;
		c->amount += amount;
	}
	return 0;
}

int ssp_dpos_blockpay_pending(ssp_state *st, const ssp_addr *account, uint64_t *n, uint64_t *amount)
{
	pending_count c = {.a = account};
	int rc = ssp_state_scan(st, SSP_TB_DPOS_BLOCKPAY, visit_count, &c);
	if (rc == 1) rc = c.err;
	*n = rc ? 0 : c.n;
	*amount = rc ? 0 : c.amount;
	return rc;
}

/* ---------------------------------------------------------------- the hook */

/* Judges every record at round's first block: probation ends, begins; deactivation. */
static int judge(ssp_state *st, const ssp_dpos_params *p, prod_set *ps, uint64_t round,
                 uint64_t slot, dpos_prod_out *out)
{
	/* at least half the window's rounds of slots before a verdict (a member has a slot
	 * a round at least) */
	uint64_t min_slots = (p->prod_window_rounds + 1) / 2;
	for (size_t i = 0; i < ps->n; i++) {
		prod_ent *x = &ps->e[i];
		ssp_dpos_prod *r = &x->p;
		uint64_t made, missed;
		if (r->deactivated) continue;
		if (r->probation_until && round >= r->probation_until) {
			r->probation_until = 0; /* served: a fresh window from here */
			r->n = 0;
			x->dirty = true;
		}
		if (!r->probation_until) {
			ssp_dpos_prod_window(r, round, p->prod_window_rounds, &made, &missed);
			if (made + missed >= min_slots &&
			    (u128)made * 10000 < (u128)(made + missed) * SSP_DPOS_PROD_MIN_BP) {
				/* the window stays as judged (it has no slots meanwhile) and starts
				 * over when probation ends */
				r->probation_until = round + p->probation_rounds;
				x->dirty = true;
			}
		}
		if (r->consecutive_misses > p->deactivate_misses && slot >= r->last_slot &&
		    slot - r->last_slot >= p->deactivate_slots) {
			ssp_delegate d;
			int rc = ssp_dpos_delegate_get(st, &x->account, &d);
			if (rc == SSP_ERR_NOTFOUND) continue;
			if (rc) return rc;
			if (d.status != SSP_DELEGATE_REGISTERED) continue;
			if (out->ndeact == SSP_DPOS_DEACT_PER_BLOCK)
				continue; /* the next round's */
			out->deact[out->ndeact++] = x->account;
			r->deactivated = true;
			r->probation_until = 0;
			r->consecutive_misses = 0;
			r->n = 0;
			x->dirty = true;
		}
	}
	return 0;
}

int dpos_prod_begin(const dpos_chain *dc, ssp_state *st, const ssp_block_start *b,
                    dpos_prod_out *out)
{
	const ssp_dpos_params *p = ssp_genesis_dpos(dc->g);
	const ssp_block_context *cx = b->ctx;
	const uint64_t n = p->set_size, round = b->slot / n;
	const bool first = b->height > 1 && b->parent_slot / n < round;
	prod_set ps = {0};
	key_ref *k = NULL;
	uint64_t pending = 0;
	int rc = 0;
	out->ndeact = 0;
	if (!cx || (!cx->has_producer && !cx->nmissed && !cx->has_final)) return 0;
	/* the whole table for the verdicts, read before this block writes any of it */
	if (first) {
		rc = ssp_state_scan(st, SSP_TB_DPOS_PROD, visit_prod, &ps);
		if (rc == 1) rc = ps.err;
		if (rc) goto out;
	}
	/* the block's keys: its producer last */
	size_t nk = cx->nmissed + (cx->has_producer ? 1 : 0);
	k = ssp_calloc(nk ? nk : 1, sizeof *k);
	if (!k) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < cx->nmissed; i++)
		k[i].key = &cx->missed[i].key;
	if (cx->has_producer) k[nk - 1].key = &cx->producer;
	if ((rc = resolve_keys(st, round, k, nk))) goto out;
	for (size_t i = 0; i < nk && !rc; i++) {
		bool made = cx->has_producer && i == nk - 1;
		uint64_t s = made ? b->slot : cx->missed[i].slot;
		prod_ent *x;
		if (!k[i].found) continue;
		if ((rc = ent_get(st, &ps, &k[i].account, s, &x))) break;
		win_add(&x->p, p->prod_window_rounds, s / n, made);
		if (made) {
			x->p.produced++;
			x->p.consecutive_misses = 0;
			x->p.last_slot = s;
			x->p.produced_any = true;
		} else {
			x->p.missed++;
			x->p.consecutive_misses++;
		}
		x->dirty = true;
	}
	if (!rc && first) rc = judge(st, p, &ps, round, b->slot, out);
	/* block rewards: pay what the branch made final, then record this block's */
	if (!rc) rc = dpos_meta_get(st, k_bp_n, &pending);
	uint64_t pending0 = pending;
	if (!rc && cx->has_final) rc = pay_final(st, &ps, cx->branch_final, b->slot, &pending);
	if (!rc && cx->has_final && cx->has_producer && k[nk - 1].found) {
		ssp_delegate d;
		rc = ssp_dpos_delegate_get(st, &k[nk - 1].account, &d);
		uint64_t amount = (uint64_t)((u128)ssp_dpos_emission(p, round, round + 1) *
		                             SSP_DPOS_BLOCK_SHARE_BP / 10000 / n);
		if (rc == SSP_ERR_NOTFOUND) {
			rc = 0;
		} else if (!rc && d.status == SSP_DELEGATE_REGISTERED && amount) {
			uint8_t key[8], v[SSP_ADDR_LEN + 8];
			ssp_be64_put(key, b->height);
			memcpy(v, d.account.b, SSP_ADDR_LEN);
			ssp_le64_put(v + SSP_ADDR_LEN, amount);
			rc = ssp_state_put(st, SSP_TB_DPOS_BLOCKPAY, key, 8, v, sizeof v);
			if (!rc) pending++;
		}
	}
	/* written only when it changes: a block that records and pays nothing writes nothing */
	if (!rc && pending != pending0) rc = dpos_meta_set(st, k_bp_n, pending);
	for (size_t i = 0; i < ps.n && !rc; i++)
		if (ps.e[i].dirty) rc = prod_put(st, &ps.e[i].account, &ps.e[i].p);
out:
	free(k);
	free(ps.e);
	return rc;
}

int dpos_prod_end(const dpos_chain *dc, ssp_state *st, const ssp_block_start *b,
                  const dpos_prod_out *out)
{
	for (size_t i = 0; i < out->ndeact; i++) {
		ssp_delegate d;
		int rc = ssp_dpos_delegate_get(st, &out->deact[i], &d);
		if (rc) return rc;
		d.status = SSP_DELEGATE_DEACTIVATED; /* its self-stake stays locked in the record */
		d.updated_height = b->height;
		if ((rc = dpos_put_delegate(st, &d))) return rc;
	}
	(void)dc;
	return 0;
}

bool dpos_prod_excluded(ssp_state *st, const ssp_addr *account, uint64_t round, int *err)
{
	ssp_dpos_prod r;
	int rc = ssp_dpos_prod_get(st, account, &r);
	*err = rc == SSP_ERR_NOTFOUND ? 0 : rc;
	return !rc && (r.deactivated || ssp_dpos_on_probation(&r, round));
}

int dpos_prod_reactivate(ssp_state *st, const ssp_addr *account)
{
	ssp_dpos_prod r;
	int rc = ssp_dpos_prod_get(st, account, &r);
	if (rc == SSP_ERR_NOTFOUND) return 0;
	if (rc) return rc;
	r.deactivated = false;
	r.probation_until = 0;
	r.consecutive_misses = 0;
	r.n = 0;
	return prod_put(st, account, &r);
}
