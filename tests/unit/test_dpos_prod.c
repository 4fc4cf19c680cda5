/*
 * Unit tests of the staking module's productivity and block rewards
 * (src/modules/dpos_prod.c, docs/internals/dpos.md): a consensus stub
 * gives each block the context the test scripts (the slot's producer, the
 * finality of the parent's branch, the skipped slots), so the rules are
 * checked block by block — a block's reward paid exactly when its
 * branch's finality passes it, never twice, nothing for a producer that
 * is no delegate; misses counted from skipped slots; probation below 85%
 * and its end; deactivation and registering again; the elections leaving
 * out who is on probation or deactivated; the supply invariant after
 * every block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain_fixture.h"
#include "module_fixture.h"
#include "ssp/dpos.h"
#include "ssp/modules.h"

#define FEE 100000
#define COIN SSP_COIN
#define SET_SIZE 3
#define WINDOW 4
#define PROBATION 2
#define DEACT_MISSES 3
#define DEACT_SLOTS 30

/* accounts alice, bob, carol (delegates alpha, bravo, charlie with node keys n1..n3) */
static fx_key producer, alice, bob, carol, foundation, team, n1, n2, n3;

static uint8_t fill_of(const fx_key *k)
{
	return k == &alice ? 2 : k == &bob ? 3 : k == &carol ? 4 : 0;
}

/* ------------------------------------------------------- scripted context */

static ssp_block_context script;
static bool missed; /* charlie's last slot was skipped: the next block names it (rotate) */

static int ctx_producer(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
                        ssp_pubkey *key)
{
	return fx_lag_producer(ctx, c, parent, slot, key);
}

static int ctx_context(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
                       ssp_block_context *out)
{
	(void)ctx;
	(void)c;
	(void)parent;
	(void)slot;
	*out = script;
	return 0;
}

static const uint64_t lag = 1000;
static const ssp_consensus cons = {.producer = ctx_producer,
                                   .finalized = fx_lag_finalized,
                                   .block_context = ctx_context,
                                   .ctx = (void *)&lag};

/* ------------------------------------------------------------------ chain */

static void open_node(tnode *t)
{
	fx_genesis_spec spec = {.producer = &producer,
	                        .liquid = {&alice, &bob},
	                        .foundation = &foundation,
	                        .team = &team};
	char *json = fx_genesis_json(&spec);
	json_t *g = json_loads(json, 0, NULL);
	free(json);
	assert_non_null(g);
	json_object_set_new(g, "dpos",
	                    json_pack("{s:i, s:i, s:s, s:i, s:i, s:i, s:s, s:i, s:i, s:i, s:i}",
	                              "vote_unlock_slots", 30, "self_unlock_slots", 60,
	                              "min_self_stake", "100", "set_size", SET_SIZE, "standby", 0,
	                              "max_rank", 10, "round_reward", "30", "prod_window_rounds",
	                              WINDOW, "probation_rounds", PROBATION, "deactivate_misses",
	                              DEACT_MISSES, "deactivate_slots", DEACT_SLOTS));
	json = json_dumps(g, 0);
	json_decref(g);
	memset(t, 0, sizeof *t);
	t->g = fx_genesis(json);
	free(json);
	fx_module_node_open(&t->n, t->g, (size_t)64 << 20);
	ssp_chain_set_consensus(t->n.chain, &cons);
	t->time_ms = FX_GENESIS_MS + 50;
	memset(&script, 0, sizeof script);
	missed = false;
}

/* The module's part of the supply: stakes and the reward escrow agree with the records. */
static void check_dpos(tnode *t)
{
	ssp_txn *rt;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_dpos_check(t->n.chain, rt, NULL), 0);
	assert_int_equal(ssp_dpos_reward_check(t->n.chain, rt, NULL), 0);
	ssp_txn_end(rt);
}

/* A block at `slot` (fx_produce checks the chain's supply invariant); its tx count. */
static uint32_t block_at(tnode *t, uint64_t slot)
{
	t->time_ms = FX_GENESIS_MS + slot * 100 + 50;
	uint32_t n = fx_produce(&t->n, &producer, t->time_ms).ntx;
	check_dpos(t);
	return n;
}

static uint64_t head_slot(tnode *t)
{
	return ssp_chain_head(t->n.chain)->slot;
}

static int run(tnode *t, const fx_key *k, uint16_t type, const ssp_dpos_payload *p)
{
	uint8_t f = fill_of(k);
	ssp_buf pb;
	ssp_buf_init(&pb, 4096);
	if (type == SSP_TX_TRANSFER) {
		ssp_buf_put(&pb, p->name, SSP_ADDR_LEN); /* the test passes the address there */
		ssp_buf_u64(&pb, p->amount);
		ssp_buf_u32(&pb, 0);
	} else {
		ssp_dpos_payload_encode(&pb, type, p);
	}
	assert_int_equal(pb.err, 0);
	ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
	                  .type = type,
	                  .nonce = t->nonce[f],
	                  .fee = FEE,
	                  .expiry = ssp_chain_head(t->n.chain)->height + 100,
	                  .payload = pb.data,
	                  .payload_len = pb.len,
	                  .include_pubkey = !t->known[f]};
	uint8_t *raw;
	size_t len;
	ssp_hash id, got;
	assert_int_equal(ssp_tx_sign(&raw, &len, &id, &b, &k->sk), 0);
	ssp_buf_free(&pb);
	int rc = ssp_mempool_add(t->n.pool, raw, len, false, &got);
	free(raw);
	if (rc) return rc;
	if (block_at(t, head_slot(t) + 1) == 1) {
		t->nonce[f]++;
		t->known[f] = true;
		return 0;
	}
	rc = ssp_mempool_rejected(t->n.pool, &id);
	assert_true(rc < 0);
	return rc;
}

static ssp_dpos_payload reg(const char *name, const fx_key *node)
{
	ssp_dpos_payload p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	p.commission_bp = 1000;
	p.node_key = node->pk;
	p.amount = 100 * COIN;
	memset(p.onion.b, 0xab, 32);
	return p;
}

/* alpha (alice, n1), bravo (bob, n2), charlie (carol, n3), each voted for with its own stake */
static void three_delegates(tnode *t)
{
	ssp_dpos_payload x;
	memset(&x, 0, sizeof x);
	memcpy(x.name, carol.addr.b, SSP_ADDR_LEN);
	x.amount = 1000 * COIN;
	assert_int_equal(run(t, &alice, SSP_TX_TRANSFER, &x), 0);
	const fx_key *who[3] = {&alice, &bob, &carol}, *node[3] = {&n1, &n2, &n3};
	static const char *const names[3] = {"alpha", "bravo", "charlie"};
	for (int i = 0; i < 3; i++) {
		ssp_dpos_payload r = reg(names[i], node[i]), s, v;
		assert_int_equal(run(t, who[i], SSP_TX_DELEGATE_REGISTER, &r), 0);
		memset(&s, 0, sizeof s);
		s.amount = (uint64_t)(50 + 10 * i) * COIN;
		assert_int_equal(run(t, who[i], SSP_TX_STAKE, &s), 0);
		memset(&v, 0, sizeof v);
		v.nvotes = 1;
		snprintf(v.votes[0], sizeof v.votes[0], "%s", names[i]);
		assert_int_equal(run(t, who[i], SSP_TX_VOTE, &v), 0);
	}
}

/* ---------------------------------------------------------------- reads */

static bool prod_of(tnode *t, const fx_key *k, ssp_dpos_prod *p)
{
	ssp_txn *rt;
	ssp_state *st;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	int rc = ssp_dpos_prod_get(st, &k->addr, p);
	ssp_state_close(st);
	ssp_txn_end(rt);
	if (rc == SSP_ERR_NOTFOUND) {
		memset(p, 0, sizeof *p);
		return false;
	}
	assert_int_equal(rc, 0);
	return true;
}

static uint64_t pending_of(tnode *t, const fx_key *k, uint64_t *amount)
{
	ssp_txn *rt;
	ssp_state *st;
	uint64_t n;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_dpos_blockpay_pending(st, &k->addr, &n, amount), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return n;
}

static ssp_delegate delegate_of(tnode *t, const fx_key *k)
{
	ssp_txn *rt;
	ssp_state *st;
	ssp_delegate d;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_dpos_delegate_get(st, &k->addr, &d), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return d;
}

static uint64_t pool_of(tnode *t)
{
	return fx_supply(&t->n).pool;
}

/* Is k's account in the set the first block of `round` elected? */
static bool elected(tnode *t, uint64_t round, const fx_key *k)
{
	ssp_txn *rt;
	ssp_dpos_member *m;
	size_t n;
	bool in = false;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_dpos_set_get(t->n.chain, rt, round, &m, &n), 0);
	ssp_txn_end(rt);
	for (size_t i = 0; i < n; i++)
		in |= !memcmp(m[i].account.b, k->addr.b, SSP_ADDR_LEN);
	free(m);
	return in;
}

static void ctx_none(void)
{
	memset(&script, 0, sizeof script);
}

static void ctx_set(const fx_key *prod, bool has_final, uint64_t final)
{
	ctx_none();
	if (prod) {
		script.has_producer = true;
		script.producer = prod->pk;
	}
	script.has_final = has_final;
	script.branch_final = final;
}

static void ctx_miss(uint64_t slot, const fx_key *k)
{
	script.missed[script.nmissed++] = (ssp_block_missed){slot, k->pk};
}

/* ---------------------------------------------------------- block rewards */

/*
 * A block's reward (30 SSP a round x 30% / 3 slots = 3 SSP) is recorded at
 * the block and paid when the branch's finality reaches its height: not
 * before, exactly once, from the pool to the delegate's own owed.
 */
static void test_block_rewards(void **state)
{
	(void)state;
	tnode t;
	open_node(&t);
	three_delegates(&t);
	const uint64_t each = 30 * COIN * 3000 / 10000 / SET_SIZE;
	ssp_dpos_prod p;

	/* a block by alpha's node key, its branch final nowhere near */
	uint64_t h0 = ssp_chain_head(t.n.chain)->height + 1, amount;
	ctx_set(&n1, true, h0 - 1);
	block_at(&t, head_slot(&t) + 1);
	assert_int_equal(pending_of(&t, &alice, &amount), 1);
	assert_true(amount == each);
	assert_true(!prod_of(&t, &alice, &p) || p.block_rewards == 0);
	/* more blocks by alpha, finality below h0: nothing paid */
	for (int i = 0; i < 3; i++) {
		ctx_set(&n1, true, h0 - 1);
		block_at(&t, head_slot(&t) + 1);
	}
	assert_int_equal(pending_of(&t, &alice, &amount), 4);
	assert_true(prod_of(&t, &alice, &p) && p.block_rewards == 0 && p.produced == 4);
	/* finality reaches h0: h0's reward alone is paid; the records of the others stay */
	uint64_t owed0, pend, owed1, pool0 = pool_of(&t);
	{
		ssp_txn *rt;
		ssp_state *st;
		assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
		assert_int_equal(ssp_chain_state_view(t.n.chain, rt, &st), 0);
		assert_int_equal(ssp_dpos_rewards_get(st, &alice.addr, &owed0, &pend), 0);
		ssp_state_close(st);
		ssp_txn_end(rt);
	}
	ctx_set(&n2, true, h0); /* a block by bravo's node */
	uint64_t slot = head_slot(&t) + 1;
	bool round_start = slot % SET_SIZE == 0;
	block_at(&t, slot);
	assert_true(prod_of(&t, &alice, &p) && p.block_rewards == each);
	assert_int_equal(pending_of(&t, &alice, &amount), 3);
	assert_int_equal(pending_of(&t, &bob, &amount), 1);
	{
		ssp_txn *rt;
		ssp_state *st;
		assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
		assert_int_equal(ssp_chain_state_view(t.n.chain, rt, &st), 0);
		assert_int_equal(ssp_dpos_rewards_get(st, &alice.addr, &owed1, &pend), 0);
		ssp_state_close(st);
		ssp_txn_end(rt);
	}
	/* alpha's own: the whole block reward (plus its commission when a round was paid) */
	assert_true(owed1 - owed0 >= each);
	if (!round_start) assert_true(owed1 - owed0 == each && pool0 - pool_of(&t) == each);
	/* the same finality again: paid once */
	ctx_set(&n2, true, h0);
	block_at(&t, head_slot(&t) + 1);
	assert_true(prod_of(&t, &alice, &p) && p.block_rewards == each);
	/* a producer key that is no delegate's node key earns nothing, is counted nowhere */
	ctx_set(&foundation, true, h0);
	block_at(&t, head_slot(&t) + 1);
	assert_int_equal(pending_of(&t, &alice, &amount) + pending_of(&t, &bob, &amount), 5);
	assert_false(prod_of(&t, &foundation, &p));
	/* finality passes every block: all paid, no record left */
	uint64_t top = ssp_chain_head(t.n.chain)->height;
	ctx_set(NULL, true, top);
	block_at(&t, head_slot(&t) + 1);
	assert_int_equal(pending_of(&t, &alice, &amount), 0);
	assert_int_equal(pending_of(&t, &bob, &amount), 0);
	assert_true(prod_of(&t, &alice, &p) && p.block_rewards == 4 * each);
	assert_true(prod_of(&t, &bob, &p) && p.block_rewards == 2 * each);
	/* a consensus without finality per branch (round-robin): nothing recorded */
	ctx_set(&n1, false, 0);
	block_at(&t, head_slot(&t) + 1);
	assert_int_equal(pending_of(&t, &alice, &amount), 0);
	tnode_close(&t);
}

/*
 * More waiting rewards than SSP_DPOS_BLOCKPAY_PER_BLOCK: paid over the
 * next blocks, the oldest first, each once.
 */
static void test_block_rewards_bound(void **state)
{
	(void)state;
	tnode t;
	open_node(&t);
	three_delegates(&t);
	const uint64_t each = 30 * COIN * 3000 / 10000 / SET_SIZE;
	uint64_t h0 = ssp_chain_head(t.n.chain)->height, amount;
	const int n = SSP_DPOS_BLOCKPAY_PER_BLOCK + 10;
	for (int i = 0; i < n; i++) {
		ctx_set(&n1, true, h0);
		block_at(&t, head_slot(&t) + 1);
	}
	assert_int_equal(pending_of(&t, &alice, &amount), n);
	ctx_set(NULL, true, ssp_chain_head(t.n.chain)->height);
	block_at(&t, head_slot(&t) + 1);
	assert_int_equal(pending_of(&t, &alice, &amount), n - SSP_DPOS_BLOCKPAY_PER_BLOCK);
	ctx_set(NULL, true, ssp_chain_head(t.n.chain)->height);
	block_at(&t, head_slot(&t) + 1);
	assert_int_equal(pending_of(&t, &alice, &amount), 0);
	ssp_dpos_prod p;
	assert_true(prod_of(&t, &alice, &p) && p.block_rewards == (uint64_t)n * each);
	tnode_close(&t);
}

/* ------------------------------------------------------------ productivity */

/*
 * One block a slot, alpha, bravo and charlie in turn (slot mod 3), charlie's
 * node down: the next block names charlie's slot as missed. Returns the
 * last slot produced.
 */
static uint64_t rotate(tnode *t, uint64_t from, uint64_t to, bool charlie_down, bool charlie_in)
{
	const fx_key *keys[3] = {&n1, &n2, &n3};
	uint64_t last = 0;
	for (uint64_t s = from; s < to; s++) {
		const fx_key *k = charlie_in ? keys[s % 3] : keys[s % 2];
		if (k == &n3 && charlie_down) {
			missed = true;
			continue;
		}
		ctx_set(k, true, 0);
		if (missed) ctx_miss(s - 1, &n3);
		missed = false;
		block_at(t, s);
		last = s;
	}
	return last;
}

static void test_probation(void **state)
{
	(void)state;
	tnode t;
	ssp_dpos_prod p;
	open_node(&t);
	three_delegates(&t);
	/* a round start, then two rounds of everyone producing */
	uint64_t s0 = (head_slot(&t) / SET_SIZE + 1) * SET_SIZE;
	rotate(&t, s0, s0 + 2 * SET_SIZE, false, true);
	assert_true(prod_of(&t, &carol, &p) && p.produced == 2 && p.missed == 0);
	uint64_t r = (s0 + 2 * SET_SIZE) / SET_SIZE;
	assert_true(elected(&t, r - 1, &carol));
	/* charlie's node goes down: its slot of round r (the last) is skipped */
	rotate(&t, r * SET_SIZE, (r + 1) * SET_SIZE, true, true);
	assert_true(prod_of(&t, &carol, &p));
	assert_true(p.produced == 2 && p.missed == 0 && p.probation_until == 0);
	uint64_t w0, w1;
	ssp_dpos_prod_window(&p, r + 1, WINDOW, &w0, &w1);
	assert_true(w0 == 2 && w1 == 0);
	/* the block of r+1's first slot (alpha's) names it: 2 produced of 3 in the window is
	 * below 85% with enough slots (2) to judge: probation from that round's start */
	rotate(&t, (r + 1) * SET_SIZE, (r + 1) * SET_SIZE + 1, true, true);
	assert_true(prod_of(&t, &carol, &p));
	assert_true(p.missed == 1 && p.consecutive_misses == 1);
	assert_true(p.probation_until == r + 1 + PROBATION);
	ssp_dpos_prod_window(&p, r + 1, WINDOW, &w0, &w1);
	assert_true(w0 == 2 && w1 == 1); /* kept as judged while on probation */
	assert_true(ssp_dpos_on_probation(&p, r + 1));
	/* left out of the election held at that block, the others in */
	assert_false(elected(&t, r + 1, &carol));
	assert_true(elected(&t, r + 1, &alice) && elected(&t, r + 1, &bob));
	/* the checks below count from r + 2 */
	r--;
	/* the others are fine */
	assert_true(prod_of(&t, &alice, &p) && p.probation_until == 0 && p.missed == 0);
	/* while on probation it has no slots (alpha and bravo take turns); it is out of every
	 * election until probation ends, then elected again */
	rotate(&t, (r + 2) * SET_SIZE + 1, (r + 2 + PROBATION) * SET_SIZE, false, false);
	for (uint64_t x = r + 3; x < r + 2 + PROBATION; x++)
		assert_false(elected(&t, x, &carol));
	rotate(&t, (r + 2 + PROBATION) * SET_SIZE, (r + 2 + PROBATION) * SET_SIZE + 1, false,
	       false);
	assert_true(elected(&t, r + 2 + PROBATION, &carol));
	assert_true(prod_of(&t, &carol, &p) && p.probation_until == 0 && p.n == 0);
	tnode_close(&t);
}

/*
 * More than DEACT_MISSES consecutive misses and no block for DEACT_SLOTS
 * slots: deactivated at a round's start (status, out of the election, its
 * self-stake still locked); registering again brings it back with the old
 * self-stake added to the new.
 */
static void test_deactivation(void **state)
{
	(void)state;
	tnode t;
	ssp_dpos_prod p;
	open_node(&t);
	three_delegates(&t);
	uint64_t s0 = (head_slot(&t) / SET_SIZE + 1) * SET_SIZE;
	uint64_t last = rotate(&t, s0, s0 + SET_SIZE, false, true);
	(void)last;
	ssp_delegate d = delegate_of(&t, &carol);
	uint64_t self = d.self_stake;
	/* charlie down for long: probation first (its slots keep coming here: the script
	 * counts them as if it were still scheduled), then deactivation */
	uint64_t s = s0 + SET_SIZE;
	for (; s < s0 + SET_SIZE + 4 * DEACT_SLOTS; s += SET_SIZE) {
		rotate(&t, s, s + SET_SIZE, true, true);
		if (delegate_of(&t, &carol).status == SSP_DELEGATE_DEACTIVATED) break;
	}
	d = delegate_of(&t, &carol);
	assert_int_equal(d.status, SSP_DELEGATE_DEACTIVATED);
	assert_true(d.self_stake == self);
	assert_true(ssp_dpos_capped_weight(&d) == 0);
	assert_true(prod_of(&t, &carol, &p) && p.deactivated && p.consecutive_misses == 0);
	uint64_t r = head_slot(&t) / SET_SIZE;
	assert_false(elected(&t, r, &carol));
	/* it registers again: back, its old self-stake added */
	ctx_none();
	ssp_dpos_payload rg = reg("charlie", &n3);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_REGISTER, &rg), 0);
	d = delegate_of(&t, &carol);
	assert_int_equal(d.status, SSP_DELEGATE_REGISTERED);
	assert_true(d.self_stake == self + rg.amount);
	assert_true(prod_of(&t, &carol, &p) && !p.deactivated && p.probation_until == 0);
	uint64_t s1 = (head_slot(&t) / SET_SIZE + 1) * SET_SIZE;
	rotate(&t, s1, s1 + 1, false, true);
	assert_true(elected(&t, s1 / SET_SIZE, &carol));
	tnode_close(&t);
}

/* Deactivated, then unregistered: its self-stake starts unlocking; no verdict pends. */
static void test_deactivated_unregister(void **state)
{
	(void)state;
	tnode t;
	ssp_dpos_prod p;
	open_node(&t);
	three_delegates(&t);
	uint64_t s0 = (head_slot(&t) / SET_SIZE + 1) * SET_SIZE;
	rotate(&t, s0, s0 + SET_SIZE, false, true);
	uint64_t self = delegate_of(&t, &carol).self_stake;
	for (uint64_t s = s0 + SET_SIZE; s < s0 + SET_SIZE + 4 * DEACT_SLOTS; s += SET_SIZE) {
		rotate(&t, s, s + SET_SIZE, true, true);
		if (delegate_of(&t, &carol).status == SSP_DELEGATE_DEACTIVATED) break;
	}
	assert_int_equal(delegate_of(&t, &carol).status, SSP_DELEGATE_DEACTIVATED);
	ctx_none();
	ssp_dpos_payload none;
	memset(&none, 0, sizeof none);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_UNREGISTER, &none), 0);
	ssp_delegate d = delegate_of(&t, &carol);
	assert_int_equal(d.status, SSP_DELEGATE_UNREGISTERED);
	assert_true(d.self_stake == 0);
	ssp_txn *rt;
	ssp_state *st;
	ssp_staker sk;
	assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t.n.chain, rt, &st), 0);
	assert_int_equal(ssp_dpos_staker_get(st, &carol.addr, &sk), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	bool unlocking = false;
	for (uint32_t i = 0; i < sk.nunlock; i++)
		unlocking |= sk.unlock[i].kind == SSP_UNLOCK_SELF && sk.unlock[i].amount == self;
	assert_true(unlocking);
	assert_true(prod_of(&t, &carol, &p) && !p.deactivated);
	/* a second unregister: not a delegate any more */
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_UNREGISTER, &none),
	                 SSP_ERR_DPOS_NOT_DELEGATE);
	tnode_close(&t);
}

/* The same blocks on another node, imported: the same state (a function of the blocks). */
static void test_replay(void **state)
{
	(void)state;
	tnode t, u;
	open_node(&t);
	three_delegates(&t);
	uint64_t s0 = (head_slot(&t) / SET_SIZE + 1) * SET_SIZE;
	rotate(&t, s0, s0 + 6 * SET_SIZE, true, true);
	open_node(&u);
	uint64_t h = ssp_chain_head(t.n.chain)->height;
	uint8_t **raw = calloc(h, sizeof *raw);
	size_t *len = calloc(h, sizeof *len), bad = 0;
	for (uint64_t i = 0; i < h; i++)
		raw[i] = fx_block_copy(&t.n, i + 1, &len[i]);
	/* the context the imported blocks get is what the test's consensus says: replay the
	 * same script block by block */
	ctx_none();
	(void)bad;
	ssp_import *ip;
	ssp_block_info info;
	const fx_key *keys[3] = {&n1, &n2, &n3};
	uint64_t prev = 0;
	for (uint64_t i = 0; i < h; i++) {
		ssp_header hd;
		ssp_rd rd;
		ssp_rd_init(&rd, raw[i], len[i]);
		assert_int_equal(ssp_header_read(&hd, &rd), 0);
		if (hd.slot >= s0) {
			ctx_set(keys[hd.slot % 3], true, 0);
			if (hd.slot > s0 && hd.slot - prev == 2) ctx_miss(hd.slot - 1, &n3);
		} else {
			ctx_none();
		}
		prev = hd.slot;
		assert_int_equal(ssp_chain_prepare(u.n.chain, NULL, &ip, raw[i], len[i]), 0);
		assert_int_equal(ssp_chain_import_prepared(u.n.chain, NULL, ip, &info), 0);
	}
	assert_memory_equal(ssp_chain_head(u.n.chain)->state_root.b,
	                    ssp_chain_head(t.n.chain)->state_root.b, 32);
	for (uint64_t i = 0; i < h; i++)
		free(raw[i]);
	free(raw);
	free(len);
	tnode_close(&u);
	tnode_close(&t);
}

/* The productivity knobs: defaults, and hashed only when the genesis names one. */
static void test_genesis_knobs(void **state)
{
	(void)state;
	fx_genesis_spec spec = {.producer = &producer,
	                        .liquid = {&alice, &bob},
	                        .foundation = &foundation,
	                        .team = &team};
	char *json = fx_genesis_json(&spec);
	json_t *g = json_loads(json, 0, NULL);
	free(json);
	json_object_set_new(g, "dpos", json_pack("{s:s}", "min_self_stake", "100"));
	char *a = json_dumps(g, 0);
	json_object_set_new(json_object_get(g, "dpos"), "prod_window_rounds", json_integer(24));
	char *b = json_dumps(g, 0);
	json_object_set_new(json_object_get(g, "dpos"), "prod_window_rounds",
	                    json_integer(SSP_DPOS_PROD_WINDOW_MAX + 1));
	char *c = json_dumps(g, 0);
	json_decref(g);
	ssp_genesis *ga = fx_genesis(a), *gb = fx_genesis(b), *gc = NULL;
	char why[128];
	const ssp_dpos_params *d = ssp_genesis_dpos(ga);
	assert_true(d->prod_window_rounds == 24 && d->probation_rounds == 6 &&
	            d->deactivate_misses == 50 && d->deactivate_slots == 14 * 864000);
	/* the same values, named: another hash (present), older files keep theirs */
	assert_memory_not_equal(ssp_genesis_hash(ga)->b, ssp_genesis_hash(gb)->b, 32);
	assert_int_equal(ssp_genesis_parse(&gc, c, strlen(c), why, sizeof why), SSP_ERR_GENESIS);
	ssp_genesis_free(ga);
	ssp_genesis_free(gb);
	free(a);
	free(b);
	free(c);
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	fx_key_make(&producer, SSP_KEY_ED25519, 1);
	fx_key_make(&alice, SSP_KEY_ED25519, 2);
	fx_key_make(&bob, SSP_KEY_ED25519, 3);
	fx_key_make(&carol, SSP_KEY_ED25519, 4);
	fx_key_make(&foundation, SSP_KEY_ED25519, 5);
	fx_key_make(&team, SSP_KEY_ED25519, 6);
	fx_key_make(&n1, SSP_KEY_ED25519, 11);
	fx_key_make(&n2, SSP_KEY_ED25519, 12);
	fx_key_make(&n3, SSP_KEY_ED25519, 13);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_rewards),
	    cmocka_unit_test(test_block_rewards_bound),
	    cmocka_unit_test(test_probation),
	    cmocka_unit_test(test_deactivation),
	    cmocka_unit_test(test_deactivated_unregister),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_genesis_knobs),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
