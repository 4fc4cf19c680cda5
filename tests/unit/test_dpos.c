/*
 * test_dpos.c — the staking module (modules layer) through real blocks
 * (mempool + produce): delegates registered, updated, unregistered and
 * registered again; stake, approval votes (replacing the set), unstake,
 * withdraw after the unlock delay (vote stake and self-stake each with its
 * own delay, in slots from the genesis "dpos" object); the capped weight
 * min(votes, 10 x self-stake); the supply invariant after every block (the
 * chain's, and the module's escrow check). Every refusal gets its own error
 * and leaves nothing written: duplicate names, double registration, a
 * self-stake below the minimum, updates by non-delegates, votes for
 * unknown or unregistered delegates, a delegate named twice, 31 votes,
 * unstaking more than staked, withdrawing before the unlock, a 17th
 * unlocking entry, amounts past INT64_MAX. Plus the strict payload codec
 * (every truncated prefix and trailing byte), the election's fixed vectors
 * and the RPC methods. The elected sets: a record at each round's first
 * block once someone has weight (none before), 9-byte references to the
 * full record while the set is unchanged, onion_round of a registration,
 * the strict set-record codec; genesis delegates (stakes out of their
 * allocations, the invariants at height 0, the strict genesis list).
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

#define T0 (FX_GENESIS_MS + 1000)
#define FEE 100000
#define COIN SSP_COIN
/* 100 ms slots and 1 s between blocks: 10 slots per block */
#define VOTE_UNLOCK_SLOTS 30
#define SELF_UNLOCK_SLOTS 60
#define EVIDENCE_SLOTS 200
#define BAN_SLOTS 100

static fx_key producer, alice, bob, carol, foundation, team, dave;

static uint8_t fill_of(const fx_key *k)
{
	return k == &alice ? 2 : k == &bob ? 3 : k == &carol ? 4 : k == &dave ? 7 : 0;
}

/* The test genesis as JSON (dpos: set_size 3, standby 1, max_rank 10); caller decrefs. */
static json_t *genesis_json(const char *round_reward)
{
	fx_genesis_spec spec = {.producer = &producer,
	                        .liquid = {&alice, &bob},
	                        .foundation = &foundation,
	                        .team = &team};
	char *json = fx_genesis_json(&spec);
	json_error_t je;
	json_t *g = json_loads(json, 0, &je);
	free(json);
	assert_non_null(g);
	json_object_set_new(g, "dpos",
	                    json_pack("{s:i, s:i, s:s, s:i, s:i, s:i}", "vote_unlock_slots",
	                              VOTE_UNLOCK_SLOTS, "self_unlock_slots", SELF_UNLOCK_SLOTS,
	                              "min_self_stake", "100", "set_size", 3, "standby", 1,
	                              "max_rank", 10));
	json_object_set_new(json_object_get(g, "dpos"), "evidence_slots", json_integer(EVIDENCE_SLOTS));
	json_object_set_new(json_object_get(g, "dpos"), "ban_slots", json_integer(BAN_SLOTS));
	if (round_reward)
		json_object_set_new(json_object_get(g, "dpos"), "round_reward",
		                    json_string(round_reward));
	return g;
}

/* Opens t on a genesis JSON (consumed). */
static void tnode_open_genesis(tnode *t, json_t *g)
{
	char *json = json_dumps(g, 0);
	json_decref(g);
	memset(t, 0, sizeof *t);
	t->g = fx_genesis(json);
	free(json);
	fx_module_node_open(&t->n, t->g, (size_t)64 << 20);
	t->time_ms = T0;
}

/* round_reward: NULL for none, else the SSP the pool emits per round (3 slots) */
static void tnode_open_rewards(tnode *t, const char *round_reward)
{
	tnode_open_genesis(t, genesis_json(round_reward));
}

static void tnode_open(tnode *t)
{
	tnode_open_rewards(t, NULL);
}

/* The module's part of the supply: records, votes and escrow agree. */
static uint64_t check_dpos(tnode *t)
{
	ssp_txn *rt;
	uint64_t held;
	ssp_addr ea;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_dpos_check(t->n.chain, rt, &held), 0);
	ssp_txn_end(rt);
	ssp_dpos_escrow(&ea);
	assert_true(fx_account(&t->n, &ea).balance == held); /* nobody sent SSP to it here */
	uint64_t due;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_dpos_reward_check(t->n.chain, rt, &due), 0);
	ssp_txn_end(rt);
	ssp_dpos_reward_escrow(&ea);
	/* the escrow holds every claim, plus division remainders: under a unit per delegate
	 * and payout (two delegates here, at most a few hundred payouts per test) */
	assert_true(fx_account(&t->n, &ea).balance >= due);
	assert_true(fx_account(&t->n, &ea).balance - due < 2048);
	return held;
}

static uint32_t produce(tnode *t)
{
	t->time_ms += 1000;
	uint32_t n = fx_produce(&t->n, &producer, t->time_ms).ntx; /* checks the chain's supply */
	check_dpos(t);
	return n;
}

static int run_raw(tnode *t, const fx_key *k, uint16_t type, const uint8_t *payload, size_t n)
{
	uint8_t f = fill_of(k);
	assert_true(f != 0);
	ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
	                  .type = type,
	                  .nonce = t->nonce[f],
	                  .fee = FEE,
	                  .expiry = ssp_chain_head(t->n.chain)->height + 100,
	                  .payload = payload,
	                  .payload_len = n,
	                  .include_pubkey = !t->known[f]};
	uint8_t *raw;
	size_t len;
	ssp_hash id, got;
	assert_int_equal(ssp_tx_sign(&raw, &len, &id, &b, &k->sk), 0);
	int rc = ssp_mempool_add(t->n.pool, raw, len, false, &got);
	free(raw);
	if (rc) return rc;
	uint32_t nt = produce(t);
	if (nt == 1) {
		t->nonce[f]++;
		t->known[f] = true;
		return 0;
	}
	assert_int_equal(nt, 0);
	rc = ssp_mempool_rejected(t->n.pool, &id);
	assert_true(rc < 0);
	return rc;
}

static int run(tnode *t, const fx_key *k, uint16_t type, const ssp_dpos_payload *p)
{
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	ssp_dpos_payload_encode(&b, type, p);
	assert_int_equal(b.err, 0);
	int rc = run_raw(t, k, type, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

static void fund(tnode *t, const fx_key *to, uint64_t amount)
{
	ssp_buf pb;
	ssp_buf_init(&pb, 512);
	ssp_buf_put(&pb, to->addr.b, SSP_ADDR_LEN);
	ssp_buf_u64(&pb, amount);
	ssp_buf_u32(&pb, 0);
	assert_int_equal(run_raw(t, &alice, SSP_TX_TRANSFER, pb.data, pb.len), 0);
	ssp_buf_free(&pb);
}

static ssp_dpos_payload reg(const char *name, uint64_t self_stake, const fx_key *node)
{
	ssp_dpos_payload p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	p.commission_bp = 1000;
	snprintf(p.url, sizeof p.url, "https://%s.example", name);
	p.node_key = node->pk;
	p.amount = self_stake;
	memset(p.onion.b, 0xab, 32);
	return p;
}

static ssp_dpos_payload amount(uint64_t a)
{
	ssp_dpos_payload p;
	memset(&p, 0, sizeof p);
	p.amount = a;
	return p;
}

static ssp_dpos_payload votes(size_t n, const char *const *names)
{
	ssp_dpos_payload p;
	memset(&p, 0, sizeof p);
	p.nvotes = (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		snprintf(p.votes[i], sizeof p.votes[i], "%s", names[i]);
	return p;
}

static const ssp_dpos_payload none; /* unregister, withdraw */

static ssp_delegate delegate(tnode *t, const char *name)
{
	ssp_txn *rt;
	ssp_state *st;
	ssp_delegate d;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_dpos_delegate_by_name(st, name, &d), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return d;
}

static ssp_staker staker(tnode *t, const fx_key *k)
{
	ssp_txn *rt;
	ssp_state *st;
	ssp_staker s;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_dpos_staker_get(st, &k->addr, &s), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return s;
}

static uint64_t balance(tnode *t, const fx_key *k)
{
	return fx_account(&t->n, &k->addr).balance;
}

/* ------------------------------------------------------------------ codec */

static void each_prefix_and_trailer_refused(uint16_t type, const ssp_dpos_payload *p)
{
	ssp_buf b;
	ssp_dpos_payload d;
	ssp_buf_init(&b, 4096);
	ssp_dpos_payload_encode(&b, type, p);
	assert_int_equal(b.err, 0);
	assert_int_equal(ssp_dpos_payload_decode(&d, type, b.data, b.len), 0);
	/* the decoded payload encodes to the same bytes */
	ssp_buf again;
	ssp_buf_init(&again, 4096);
	ssp_dpos_payload_encode(&again, type, &d);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	ssp_buf_free(&again);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(ssp_dpos_payload_decode(&d, type, b.data, n), SSP_ERR_PAYLOAD);
	uint8_t *longer = malloc(b.len + 1);
	memcpy(longer, b.data, b.len);
	for (unsigned v = 0; v < 256; v += 85) {
		longer[b.len] = (uint8_t)v;
		assert_int_equal(ssp_dpos_payload_decode(&d, type, longer, b.len + 1),
		                 SSP_ERR_PAYLOAD);
	}
	free(longer);
	ssp_buf_free(&b);
}

static void refused(uint16_t type, const ssp_dpos_payload *p)
{
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	ssp_dpos_payload_encode(&b, type, p);
	assert_int_equal(b.err, SSP_ERR_INVAL);
	ssp_buf_free(&b);
}

static void test_payload_codec(void **state)
{
	(void)state;
	static const char *const two[] = {"alpha", "beta-2"};
	ssp_dpos_payload p = reg("alpha", 100 * COIN, &alice), d;
	each_prefix_and_trailer_refused(SSP_TX_DELEGATE_REGISTER, &p);
	p.url[0] = 0; /* an empty URL is fine */
	each_prefix_and_trailer_refused(SSP_TX_DELEGATE_REGISTER, &p);
	each_prefix_and_trailer_refused(SSP_TX_DELEGATE_UPDATE, &p);
	p.amount = 0; /* update: nothing added */
	each_prefix_and_trailer_refused(SSP_TX_DELEGATE_UPDATE, &p);
	p = reg("alpha", 100 * COIN, &bob); /* a p256 node key */
	each_prefix_and_trailer_refused(SSP_TX_DELEGATE_REGISTER, &p);
	ssp_dpos_payload a = amount(5);
	each_prefix_and_trailer_refused(SSP_TX_STAKE, &a);
	each_prefix_and_trailer_refused(SSP_TX_UNSTAKE, &a);
	ssp_dpos_payload v = votes(2, two);
	each_prefix_and_trailer_refused(SSP_TX_VOTE, &v);
	v = votes(0, NULL);
	each_prefix_and_trailer_refused(SSP_TX_VOTE, &v);
	/* empty payloads: any byte is trailing */
	uint8_t z = 0;
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_WITHDRAW, NULL, 0), 0);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_DELEGATE_UNREGISTER, NULL, 0), 0);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_WITHDRAW, &z, 1), SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_DELEGATE_UNREGISTER, &z, 1),
	                 SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_TRANSFER, NULL, 0), SSP_ERR_TXTYPE);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_REWARDS_CLAIM, NULL, 0), 0);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_REWARDS_CLAIM, &z, 1), SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_EVIDENCE, NULL, 0), SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_EVIDENCE_VOTES, NULL, 0),
	                 SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_dpos_payload_decode(&d, 0x4a, NULL, 0), SSP_ERR_TXTYPE);
	/* vote evidence: name, two votes of 144 bytes */
	ssp_dpos_payload e;
	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "alpha");
	for (int i = 0; i < 2; i++) {
		e.vote[i] = (ssp_vote_link){3, {{1}}, 7 + (uint64_t)i, {{2}}};
		memset(e.vote_sig[i].b, 0x40 + i, SSP_SIG_LEN);
	}
	each_prefix_and_trailer_refused(SSP_TX_EVIDENCE_VOTES, &e);
	e.vote[1].src_height = e.vote[1].tgt_height; /* not a vote anyone signs */
	refused(SSP_TX_EVIDENCE_VOTES, &e);
	{
		ssp_buf vb;
		ssp_buf_init(&vb, 512);
		e.vote[1].src_height = 1;
		ssp_dpos_payload_encode(&vb, SSP_TX_EVIDENCE_VOTES, &e);
		assert_int_equal(vb.err, 0);
		assert_int_equal(vb.len, 1 + 5 + 2 * SSP_DPOS_VOTE_LEN);
		/* the second vote's source height (after name, vote 0) raised to its target's */
		ssp_le64_put(vb.data + 6 + SSP_DPOS_VOTE_LEN, 8);
		assert_int_equal(
		    ssp_dpos_payload_decode(&d, SSP_TX_EVIDENCE_VOTES, vb.data, vb.len),
		    SSP_ERR_PAYLOAD);
		ssp_le64_put(vb.data + 6 + SSP_DPOS_VOTE_LEN, 7);
		assert_int_equal(
		    ssp_dpos_payload_decode(&d, SSP_TX_EVIDENCE_VOTES, vb.data, vb.len), 0);
		ssp_buf_free(&vb);
	}

	/* what the encoder refuses to write */
	static const char *const bad_names[] = {"Alice",
	                                        "al",
	                                        "1abc",
	                                        "-abc",
	                                        "a b c",
	                                        "ab\xc3\xa9",
	                                        "abcdefghijklmnopqrstuvwxyz0123456"};
	for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
		p = reg("alpha", COIN, &alice);
		snprintf(p.name, sizeof p.name, "%s", bad_names[i]);
		if (strlen(bad_names[i]) <= SSP_DPOS_NAME_MAX)
			refused(SSP_TX_DELEGATE_REGISTER, &p);
		assert_false(ssp_dpos_name_valid(bad_names[i], strlen(bad_names[i])));
	}
	p = reg("alpha", COIN, &alice);
	p.commission_bp = 10001;
	refused(SSP_TX_DELEGATE_REGISTER, &p);
	p = reg("alpha", COIN, &alice);
	snprintf(p.url, sizeof p.url, "has space");
	refused(SSP_TX_DELEGATE_UPDATE, &p);
	p = reg("alpha", 0, &alice);
	refused(SSP_TX_DELEGATE_REGISTER, &p);
	p = reg("alpha", (uint64_t)INT64_MAX + 1, &alice);
	refused(SSP_TX_DELEGATE_REGISTER, &p);
	refused(SSP_TX_DELEGATE_UPDATE, &p);
	p = reg("alpha", COIN, &alice);
	memset(&p.node_key, 0, sizeof p.node_key);
	refused(SSP_TX_DELEGATE_REGISTER, &p);
	a = amount(0);
	refused(SSP_TX_STAKE, &a);
	a = amount((uint64_t)INT64_MAX + 1);
	refused(SSP_TX_UNSTAKE, &a);
	v = votes(0, NULL);
	v.nvotes = SSP_DPOS_VOTES_MAX + 1;
	for (uint32_t i = 0; i < v.nvotes && i < SSP_DPOS_VOTES_MAX; i++)
		snprintf(v.votes[i], sizeof v.votes[i], "d%03u", i);
	refused(SSP_TX_VOTE, &v);
	refused(0x4a, &none);
	refused(SSP_TX_EVIDENCE_VOTES, &none); /* no name, and 0 -> 0 votes */
	refused(SSP_TX_EVIDENCE, &none); /* no name, no headers */

	/* what the decoder refuses: hand-made bytes */
	uint8_t big[9] = {0};
	ssp_le64_put(big, (uint64_t)INT64_MAX + 1);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_STAKE, big, 8), SSP_ERR_PAYLOAD);
	memset(big, 0, 8);
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_STAKE, big, 8), SSP_ERR_PAYLOAD);
	uint8_t many[1] = {SSP_DPOS_VOTES_MAX + 1};
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_VOTE, many, 1), SSP_ERR_PAYLOAD);
	uint8_t upper[] = {1, 5, 'A', 'l', 'p', 'h', 'a'};
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_VOTE, upper, sizeof upper),
	                 SSP_ERR_PAYLOAD);
	upper[2] = 'a';
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_VOTE, upper, sizeof upper), 0);
	/* a register payload with commission 10001, and one with a URL byte 0x20 */
	ssp_buf b;
	ssp_buf_init(&b, 512);
	p = reg("alpha", COIN, &alice);
	ssp_dpos_payload_encode(&b, SSP_TX_DELEGATE_REGISTER, &p);
	assert_int_equal(b.err, 0);
	b.data[6] = 0x11; /* commission u16 LE after u8 5 + "alpha": 0x2711 = 10001 */
	b.data[7] = 0x27;
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_DELEGATE_REGISTER, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	b.data[6] = 0xe8;
	b.data[7] = 0x03;
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_DELEGATE_REGISTER, b.data, b.len), 0);
	b.data[9] = ' '; /* the URL's first byte */
	assert_int_equal(ssp_dpos_payload_decode(&d, SSP_TX_DELEGATE_REGISTER, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
}

/* ------------------------------------------------------------- operations */

static void test_delegates(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	ssp_addr ea;
	ssp_dpos_escrow(&ea);
	uint64_t a0 = balance(&t, &alice);

	ssp_dpos_payload p = reg("alice-node", 1000 * COIN, &dave);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), 0);
	assert_true(balance(&t, &alice) == a0 - 1000 * COIN - FEE);
	assert_true(fx_account(&t.n, &ea).balance == 1000 * COIN);
	ssp_delegate d = delegate(&t, "alice-node");
	assert_memory_equal(d.account.b, alice.addr.b, SSP_ADDR_LEN);
	assert_int_equal(d.status, SSP_DELEGATE_REGISTERED);
	assert_true(d.self_stake == 1000 * COIN && d.votes == 0);
	assert_int_equal(d.commission_bp, 1000);
	assert_string_equal(d.url, "https://alice-node.example");
	assert_memory_equal(d.node_key.b, dave.pk.b, dave.pk.len);
	assert_int_equal(d.onion.b[0], 0xab);
	assert_true(ssp_dpos_capped_weight(&d) == 0);

	/* one name, one registration per account, a minimum self-stake; refused txs leave
	 * nothing behind: no fee, no stake, the escrow as it was */
	uint64_t b0 = balance(&t, &bob);
	p = reg("alice-node", 1000 * COIN, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), SSP_ERR_DPOS_NAME);
	p = reg("alice-two", 1000 * COIN, &dave);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), SSP_ERR_DPOS_REGISTERED);
	p = reg("bob-node", 100 * COIN - 1, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), SSP_ERR_DPOS_SELF_STAKE);
	/* more than the balance: refused at admission */
	p = reg("bob-node", (uint64_t)INT64_MAX, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), SSP_ERR_BALANCE);
	assert_true(balance(&t, &bob) == b0);
	assert_true(fx_account(&t.n, &ea).balance == 1000 * COIN);
	p = reg("bob-node", 10000 * COIN, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), 0);
	assert_true(balance(&t, &bob) == b0 - 10000 * COIN - FEE);

	/* update: only a registered delegate; commission, URL, key and more self-stake */
	fund(&t, &carol, 1000000 * COIN);
	p = reg("carol", 0, &carol);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_UPDATE, &p), SSP_ERR_DPOS_NOT_DELEGATE);
	p = reg("ignored", 500 * COIN, &carol);
	p.commission_bp = 250;
	snprintf(p.url, sizeof p.url, "https://new.example/x?y=1");
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_UPDATE, &p), 0);
	d = delegate(&t, "alice-node");
	assert_true(d.self_stake == 1500 * COIN);
	assert_int_equal(d.commission_bp, 250);
	assert_string_equal(d.url, "https://new.example/x?y=1");
	assert_memory_equal(d.node_key.b, carol.pk.b, carol.pk.len);
	assert_true(check_dpos(&t) == 11500 * COIN);
	tnode_close(&t);
}

static void test_stake_vote_unstake(void **state)
{
	(void)state;
	static const char *const ab[] = {"alice-node", "bob-node"};
	static const char *const b_only[] = {"bob-node"};
	static const char *const unknown[] = {"bob-node", "nobody"};
	static const char *const twice[] = {"bob-node", "alice-node", "bob-node"};
	tnode t;
	tnode_open(&t);
	ssp_dpos_payload p = reg("alice-node", 1500 * COIN, &alice);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = reg("bob-node", 10000 * COIN, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), 0);
	fund(&t, &carol, 100000 * COIN);
	uint64_t c0 = balance(&t, &carol);

	/* stake, then vote for both: each gets the whole stake (approval voting) */
	p = amount(50000 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	assert_true(balance(&t, &carol) == c0 - 50000 * COIN - FEE);
	p = votes(2, ab);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), 0);
	ssp_delegate da = delegate(&t, "alice-node"), db = delegate(&t, "bob-node");
	assert_true(da.votes == 50000 * COIN && db.votes == 50000 * COIN);
	/* capped: alice's 1,500 self-stake caps her at 15,000; bob's 10,000 at 100,000 */
	assert_true(ssp_dpos_capped_weight(&da) == 15000 * COIN);
	assert_true(ssp_dpos_capped_weight(&db) == 50000 * COIN);
	/* staking more raises every delegate voted for */
	p = amount(10000 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	assert_true(delegate(&t, "alice-node").votes == 60000 * COIN);
	assert_true(delegate(&t, "bob-node").votes == 60000 * COIN);

	/* refused votes change nothing */
	ssp_staker before = staker(&t, &carol);
	p = votes(2, unknown);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), SSP_ERR_DPOS_UNKNOWN);
	p = votes(3, twice);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), SSP_ERR_DPOS_VOTES);
	/* 31 names: the codec refuses the payload (hand-built: the encoder would not) */
	uint8_t raw[1 + 31 * 6];
	raw[0] = 31;
	for (int i = 0; i < 31; i++) {
		char nm[6];
		snprintf(nm, sizeof nm, "d%04d", i);
		raw[1 + 6 * i] = 5;
		memcpy(raw + 2 + 6 * i, nm, 5);
	}
	assert_int_equal(run_raw(&t, &carol, SSP_TX_VOTE, raw, sizeof raw), SSP_ERR_PAYLOAD);
	ssp_staker after = staker(&t, &carol);
	assert_memory_equal(&before, &after, sizeof before);
	assert_true(delegate(&t, "alice-node").votes == 60000 * COIN);

	/* a new vote replaces the set */
	p = votes(1, b_only);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), 0);
	assert_true(delegate(&t, "alice-node").votes == 0);
	assert_true(delegate(&t, "bob-node").votes == 60000 * COIN);
	after = staker(&t, &carol);
	assert_int_equal(after.nvotes, 1);
	assert_memory_equal(after.votes[0].b, bob.addr.b, SSP_ADDR_LEN);

	/* unstake: not more than staked; the rest unlocks after 30 slots (3 blocks) */
	p = amount(60000 * COIN + 1);
	assert_int_equal(run(&t, &carol, SSP_TX_UNSTAKE, &p), SSP_ERR_DPOS_STAKE);
	p = amount(20000 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_UNSTAKE, &p), 0);
	assert_true(delegate(&t, "bob-node").votes == 40000 * COIN);
	after = staker(&t, &carol);
	assert_true(after.staked == 40000 * COIN);
	assert_int_equal(after.nunlock, 1);
	assert_int_equal(after.unlock[0].kind, SSP_UNLOCK_VOTE);
	assert_true(after.unlock[0].amount == 20000 * COIN);
	uint64_t unstaked_slot = ssp_chain_head(t.n.chain)->slot;
	assert_true(after.unlock[0].unlock_slot == unstaked_slot + VOTE_UNLOCK_SLOTS);
	/* withdraw before the unlock: refused, twice (slots +10, +20) */
	assert_int_equal(run(&t, &carol, SSP_TX_WITHDRAW, &none), SSP_ERR_DPOS_NOTHING);
	assert_int_equal(run(&t, &carol, SSP_TX_WITHDRAW, &none), SSP_ERR_DPOS_NOTHING);
	/* the block of slot +30 may withdraw */
	uint64_t c1 = balance(&t, &carol);
	assert_int_equal(run(&t, &carol, SSP_TX_WITHDRAW, &none), 0);
	assert_true(ssp_chain_head(t.n.chain)->slot == unstaked_slot + VOTE_UNLOCK_SLOTS);
	assert_true(balance(&t, &carol) == c1 + 20000 * COIN - FEE);
	assert_int_equal(staker(&t, &carol).nunlock, 0);
	assert_int_equal(run(&t, &carol, SSP_TX_WITHDRAW, &none), SSP_ERR_DPOS_NOTHING);

	/* votes with nothing staked are allowed and weigh nothing; unstaking all keeps votes */
	p = amount(40000 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_UNSTAKE, &p), 0);
	assert_true(delegate(&t, "bob-node").votes == 0);
	p = votes(0, NULL);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), 0);
	after = staker(&t, &carol);
	assert_true(after.staked == 0 && after.nvotes == 0 && after.nunlock == 1);
	for (int i = 0; i < 3; i++)
		produce(&t);
	assert_int_equal(run(&t, &carol, SSP_TX_WITHDRAW, &none), 0);
	/* an account with nothing left has no record */
	ssp_txn *rt;
	const void *v;
	size_t vl;
	ssp_state *st;
	assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t.n.chain, rt, &st), 0);
	assert_int_equal(ssp_state_get(st, SSP_TB_DPOS_STAKER, carol.addr.b, SSP_ADDR_LEN, &v, &vl),
	                 SSP_ERR_NOTFOUND);
	ssp_state_close(st);
	ssp_txn_end(rt);
	assert_true(balance(&t, &carol) == c0 - 9 * FEE); /* refused txs cost nothing */
	assert_true(check_dpos(&t) == 11500 * COIN);
	tnode_close(&t);
}

static void test_unregister(void **state)
{
	(void)state;
	static const char *const a[] = {"alice-node"};
	tnode t;
	tnode_open(&t);
	ssp_dpos_payload p = reg("alice-node", 1000 * COIN, &alice);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), 0);
	fund(&t, &carol, 10000 * COIN);
	p = amount(5000 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	p = votes(1, a);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), 0);
	uint64_t a0 = balance(&t, &alice);

	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_UNREGISTER, &none),
	                 SSP_ERR_DPOS_NOT_DELEGATE);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_UNREGISTER, &none), 0);
	uint64_t at = ssp_chain_head(t.n.chain)->slot + SELF_UNLOCK_SLOTS;
	ssp_delegate d = delegate(&t, "alice-node");
	assert_int_equal(d.status, SSP_DELEGATE_UNREGISTERED);
	assert_true(d.self_stake == 0 && d.votes == 5000 * COIN);
	assert_true(ssp_dpos_capped_weight(&d) == 0);
	ssp_staker s = staker(&t, &alice);
	assert_int_equal(s.nunlock, 1);
	assert_int_equal(s.unlock[0].kind, SSP_UNLOCK_SELF);
	assert_true(s.unlock[0].amount == 1000 * COIN && s.unlock[0].unlock_slot == at);
	/* no new votes for it, no second unregister, no updates; its name stays reserved */
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), SSP_ERR_DPOS_UNKNOWN);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_UNREGISTER, &none),
	                 SSP_ERR_DPOS_NOT_DELEGATE);
	ssp_dpos_payload up = reg("x", 0, &alice);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_UPDATE, &up), SSP_ERR_DPOS_NOT_DELEGATE);
	ssp_dpos_payload r = reg("alice-node", 1000 * COIN, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &r), SSP_ERR_DPOS_NAME);
	/* the self-stake unlocks after 60 slots: the 5th block since is still too early */
	assert_int_equal(run(&t, &alice, SSP_TX_WITHDRAW, &none), SSP_ERR_DPOS_NOTHING);
	assert_true(ssp_chain_head(t.n.chain)->slot == at - 10);
	assert_int_equal(run(&t, &alice, SSP_TX_WITHDRAW, &none), 0);
	/* fees: the unregister and the withdraw (refused txs cost nothing) */
	assert_true(balance(&t, &alice) == a0 - 2 * FEE + 1000 * COIN);

	/* registering again (under a new name) frees the old name; carol's votes still count */
	r = reg("alice-again", 200 * COIN, &alice);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &r), 0);
	d = delegate(&t, "alice-again");
	assert_true(d.votes == 5000 * COIN && ssp_dpos_capped_weight(&d) == 2000 * COIN);
	r = reg("alice-node", 100 * COIN, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &r), 0);
	tnode_close(&t);
}

static void test_unlock_bound(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	fund(&t, &carol, 1000 * COIN);
	ssp_dpos_payload p = amount(100 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	p = amount(COIN);
	/* one entry per block (each its own unlock slot): 16 at most */
	for (int i = 0; i < SSP_DPOS_UNLOCKS_MAX; i++)
		assert_int_equal(run(&t, &carol, SSP_TX_UNSTAKE, &p), 0);
	ssp_staker before = staker(&t, &carol);
	assert_int_equal(before.nunlock, SSP_DPOS_UNLOCKS_MAX);
	assert_true(before.staked == 84 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_UNSTAKE, &p), SSP_ERR_DPOS_UNLOCKS);
	ssp_staker after = staker(&t, &carol);
	assert_memory_equal(&before, &after, sizeof before);
	/* withdrawing what has unlocked makes room: the first 15 entries by now */
	assert_int_equal(run(&t, &carol, SSP_TX_WITHDRAW, &none), 0);
	after = staker(&t, &carol);
	assert_int_equal(after.nunlock, 1);
	assert_int_equal(run(&t, &carol, SSP_TX_UNSTAKE, &p), 0);
	/* a stake past what the account holds, and one whose sum would overflow */
	p = amount((uint64_t)INT64_MAX);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), SSP_ERR_BALANCE);
	check_dpos(&t);
	tnode_close(&t);
}

/* --------------------------------------------------------------- election */

static ssp_dpos_cand cand(uint8_t id, uint64_t w)
{
	ssp_dpos_cand c;
	memset(&c, 0, sizeof c);
	memset(c.id.b, id, SSP_ADDR_LEN);
	c.weight = w;
	return c;
}

static void test_election(void **state)
{
	(void)state;
	ssp_dpos_cand in[12], out[8];
	size_t n;
	ssp_hash seed;
	memset(seed.b, 0x42, 32);
	/* ids 1..12, weights 10,20,…,120; id 6 ties with id 5 (both 50), id 12 has weight 0 */
	for (int i = 0; i < 12; i++)
		in[i] = cand((uint8_t)(i + 1), (uint64_t)(i + 1) * 10);
	in[5].weight = 50;
	in[11].weight = 0;

	/* standby 0: a literal top 4, ties by id ascending */
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 4, 0, 10, &seed), 0);
	assert_int_equal(n, 4);
	static const uint8_t top4[] = {11, 10, 9, 8};
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i].id.b[0], top4[i]);
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 8, 0, 10, &seed), 0);
	static const uint8_t top8[] = {11, 10, 9, 8, 7, 5, 6, 4};
	for (int i = 0; i < 8; i++)
		assert_int_equal(out[i].id.b[0], top8[i]);

	/* the fixed vector (tests/tools/dpos_elect_ref.py computes the same): top 3 + 2 drawn
	 * from ranks 4..8 (ids 8, 7, 5, 6, 4) with seed 0x42 x 32 */
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 5, 2, 8, &seed), 0);
	assert_int_equal(n, 5);
	static const uint8_t vec[] = {11, 10, 9, 6, 8};
	for (int i = 0; i < 5; i++)
		assert_int_equal(out[i].id.b[0], vec[i]);
	/* another seed draws differently; the top never changes */
	memset(seed.b, 0x07, 32);
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 5, 2, 8, &seed), 0);
	static const uint8_t vec2[] = {11, 10, 9, 8, 7};
	for (int i = 0; i < 5; i++)
		assert_int_equal(out[i].id.b[0], vec2[i]);

	/* the input order does not matter */
	ssp_dpos_cand rev[12], out2[8];
	size_t n2;
	for (int i = 0; i < 12; i++)
		rev[i] = in[11 - i];
	assert_int_equal(ssp_dpos_elect(out2, &n2, rev, 12, 5, 2, 8, &seed), 0);
	assert_int_equal(n2, n);
	assert_memory_equal(out2, out, n * sizeof *out);

	/* stake-weighted: over many seeds, the heavier of two pool members is drawn more */
	ssp_dpos_cand two[3] = {cand(1, 1000), cand(2, 900), cand(3, 100)};
	int heavy = 0;
	for (int s = 0; s < 2000; s++) {
		memset(seed.b, 0, 32);
		seed.b[0] = (uint8_t)s;
		seed.b[1] = (uint8_t)(s >> 8);
		assert_int_equal(ssp_dpos_elect(out, &n, two, 3, 2, 1, 3, &seed), 0);
		assert_int_equal(n, 2);
		assert_int_equal(out[0].id.b[0], 1);
		heavy += out[1].id.b[0] == 2;
	}
	assert_true(heavy > 1700 && heavy < 1900); /* expected 1800 */

	/* fewer candidates than seats; zero weights never elected; the pool stops at max_rank */
	assert_int_equal(ssp_dpos_elect(out, &n, two, 3, 8, 2, 8, &seed), 0);
	assert_int_equal(n, 3);
	ssp_dpos_cand zeros[2] = {cand(1, 0), cand(2, 0)};
	assert_int_equal(ssp_dpos_elect(out, &n, zeros, 2, 2, 1, 2, &seed), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 3, 1, 3, &seed), 0);
	assert_int_equal(n, 3); /* the pool is rank 3 alone */
	assert_int_equal(out[2].id.b[0], 9);

	/* misuse */
	ssp_dpos_cand dup[2] = {cand(1, 5), cand(1, 7)};
	assert_int_equal(ssp_dpos_elect(out, &n, dup, 2, 2, 0, 2, &seed), SSP_ERR_INVAL);
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 2, 2, 8, &seed), SSP_ERR_INVAL);
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 4, 1, 3, &seed), SSP_ERR_INVAL);
	assert_int_equal(ssp_dpos_elect(out, &n, in, 12, 0, 0, 3, &seed), SSP_ERR_INVAL);
	assert_int_equal(ssp_dpos_elect(out, &n, NULL, 0, 3, 1, 5, &seed), 0);
	assert_int_equal(n, 0);
}

/* -------------------------------------------------------------------- RPC */

static json_t *call(ssp_module_env *env, const char *method, const char *params, int *code)
{
	return fx_module_call(&ssp_dpos_module, env, method, params, code);
}

static void test_rpc(void **state)
{
	(void)state;
	static const char *const ab[] = {"alice-node", "bob-node"};
	char params[256];
	int code;
	tnode t;
	tnode_open(&t);
	ssp_dpos_payload p = reg("alice-node", 1000 * COIN, &alice);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = reg("bob-node", 10000 * COIN, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), 0);
	fund(&t, &carol, 100000 * COIN);
	p = amount(50000 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	p = votes(2, ab);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), 0);
	p = amount(1000 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_UNSTAKE, &p), 0);
	ssp_module_env env = {.chain = t.n.chain, .store = t.n.store, .genesis = t.g};

	json_t *r = call(&env, "dpos_getDelegates", NULL, &code);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
	assert_true(json_is_null(json_object_get(r, "next")));
	json_t *first = json_array_get(json_object_get(r, "delegates"), 0);
	json_t *second = json_array_get(json_object_get(r, "delegates"), 1);
	assert_string_equal(json_string_value(json_object_get(first, "name")), "bob-node");
	assert_int_equal(json_integer_value(json_object_get(first, "rank")), 1);
	assert_string_equal(json_string_value(json_object_get(first, "capped_weight")), "49000");
	assert_string_equal(json_string_value(json_object_get(second, "name")), "alice-node");
	assert_string_equal(json_string_value(json_object_get(second, "capped_weight")), "10000");
	assert_string_equal(json_string_value(json_object_get(second, "votes")), "49000");
	assert_string_equal(json_string_value(json_object_get(second, "self_stake")), "1000");
	assert_string_equal(json_string_value(json_object_get(second, "status")), "registered");
	json_decref(r);
	r = call(&env, "dpos_getDelegates", "{\"limit\":1}", &code);
	assert_int_equal(json_array_size(json_object_get(r, "delegates")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "next")), 2);
	json_decref(r);
	r = call(&env, "dpos_getDelegates", "{\"start\":2,\"limit\":1}", &code);
	first = json_array_get(json_object_get(r, "delegates"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "name")), "alice-node");
	json_decref(r);
	assert_null(call(&env, "dpos_getDelegates", "{\"limit\":101}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&env, "dpos_getDelegates", "{\"start\":0}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&env, "dpos_getDelegates", "[1]", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);

	r = call(&env, "dpos_getDelegate", "{\"name\":\"alice-node\"}", &code);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "rank")), 2);
	assert_string_equal(json_string_value(json_object_get(r, "address")), alice.text);
	json_decref(r);
	snprintf(params, sizeof params, "{\"address\":\"%s\"}", bob.text);
	r = call(&env, "dpos_getDelegate", params, &code);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "bob-node");
	json_decref(r);
	assert_null(call(&env, "dpos_getDelegate", "{\"name\":\"nobody\"}", &code));
	assert_int_equal(code, SSP_RPC_NOT_FOUND);
	assert_null(call(&env, "dpos_getDelegate", "{\"name\":\"No Body\"}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	snprintf(params, sizeof params, "{\"address\":\"%s\"}", carol.text);
	assert_null(call(&env, "dpos_getDelegate", params, &code));
	assert_int_equal(code, SSP_RPC_NOT_FOUND);
	assert_null(call(&env, "dpos_getDelegate", "{}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);

	r = call(&env, "dpos_getVotes", params, &code);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "staked")), "49000");
	assert_int_equal(json_array_size(json_object_get(r, "votes")), 2);
	json_t *u = json_array_get(json_object_get(r, "unlocking"), 0);
	assert_string_equal(json_string_value(json_object_get(u, "amount")), "1000");
	assert_string_equal(json_string_value(json_object_get(u, "kind")), "stake");
	assert_false(json_is_true(json_object_get(u, "unlocked")));
	assert_string_equal(json_string_value(json_object_get(r, "withdrawable")), "0");
	json_decref(r);
	snprintf(params, sizeof params, "{\"address\":\"%s\"}", dave.text);
	r = call(&env, "dpos_getVotes", params, &code); /* nothing staked: zeros */
	assert_string_equal(json_string_value(json_object_get(r, "staked")), "0");
	json_decref(r);
	assert_null(call(&env, "dpos_getVotes", "{\"address\":\"x\"}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	tnode_close(&t);
}

/* The module is in the one table with its seven tx types, each resolvable by the chain. */
static void test_registered(void **state)
{
	(void)state;
	tnode t;
	size_t nm, nt;
	bool found = false;
	tnode_open(&t);
	const ssp_module *const *mods = ssp_modules_all(&nm);
	for (size_t i = 0; i < nm; i++)
		found |= mods[i] == &ssp_dpos_module;
	assert_true(found);
	assert_int_equal(ssp_dpos_module.ntxtypes, 10);
	assert_int_equal(ssp_dpos_module.nmethods, 6);
	const ssp_txreg *types = ssp_modset_txtypes(t.n.mods, &nt);
	for (uint16_t id = SSP_TX_DELEGATE_REGISTER; id <= SSP_TX_EVIDENCE_VOTES; id++) {
		size_t hits = 0;
		for (size_t i = 0; i < nt; i++)
			hits += types[i].type->id == id;
		assert_int_equal(hits, 1);
		assert_non_null(ssp_chain_txtype(t.n.chain, id));
	}
	tnode_close(&t);
}

/* ------------------------------------------------------------------ genesis */

/* ---------------------------------------------------------------- rewards */

static void rewards_of(tnode *t, const fx_key *k, uint64_t *owed, uint64_t *pend)
{
	ssp_txn *rt;
	ssp_state *st;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_dpos_rewards_get(st, &k->addr, owed, pend), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
}

static uint64_t reward_escrow(tnode *t)
{
	ssp_addr ea;
	ssp_dpos_reward_escrow(&ea);
	return fx_account(&t->n, &ea).balance;
}

static bool near(uint64_t a, uint64_t b, uint64_t slack)
{
	return a > b ? a - b <= slack : b - a <= slack;
}

static void test_emission(void **state)
{
	(void)state;
	ssp_dpos_params p = {.round_reward = 100, .halving_rounds = 10};
	assert_true(ssp_dpos_emission(&p, 0, 10) == 1000);
	assert_true(ssp_dpos_emission(&p, 0, 20) == 1500);
	assert_true(ssp_dpos_emission(&p, 5, 15) == 750);
	assert_true(ssp_dpos_emission(&p, 7, 7) == 0);
	/* halvings end at 0: the whole schedule is below twice the first epoch */
	uint64_t all = ssp_dpos_emission(&p, 0, 100000);
	assert_true(all < 2000 && all == ssp_dpos_emission(&p, 0, 1000));
	assert_true(ssp_dpos_emission(&p, 64 * 10, 64 * 10 + 5) == 0);
	p.halving_rounds = 0;
	assert_true(ssp_dpos_emission(&p, 3, 1003) == 100000);
	p.round_reward = (uint64_t)1 << 63;
	assert_true(ssp_dpos_emission(&p, 0, 4) == UINT64_MAX); /* saturates */
	p.round_reward = 0;
	assert_true(ssp_dpos_emission(&p, 0, 1000) == 0);
}

/*
 * Round rewards through real blocks: 10 SSP per round of 3 slots, 70% to the
 * delegates pro rata to capped weight, each delegate's commission owed to it
 * and the rest to its voters by stake (accumulators), claimable at any time;
 * a stake change settles first; nothing to claim is refused.
 */
static void test_rewards(void **state)
{
	(void)state;
	tnode t;
	tnode_open_rewards(&t, "10");
	fund(&t, &carol, 1000 * COIN);
	fund(&t, &dave, 1000 * COIN);
	ssp_dpos_payload a = reg("alpha", 100 * COIN, &carol), b = reg("bravo", 100 * COIN, &dave);
	b.commission_bp = 2000;
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &a), 0);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &b), 0);
	/* no weight yet: nothing paid, the emission stays in the pool */
	assert_true(reward_escrow(&t) == 0);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &(ssp_dpos_payload){.amount = 50 * COIN}), 0);
	assert_int_equal(run(&t, &dave, SSP_TX_STAKE, &(ssp_dpos_payload){.amount = 150 * COIN}), 0);
	static const char *const ab[] = {"alpha", "bravo"}, *const a1[] = {"alpha"};
	ssp_dpos_payload v = votes(2, ab);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &v), 0);
	v = votes(1, a1);
	assert_int_equal(run(&t, &dave, SSP_TX_VOTE, &v), 0);
	/* weights now: alpha 200 (carol 50 + dave 150), bravo 50 (carol) */
	uint64_t ow[4][2], after[4][2];
	const fx_key *who[4] = {&alice, &bob, &carol, &dave};
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++)
			rewards_of(&t, who[i], &ow[i][0], &ow[i][1]);
		uint64_t e0 = reward_escrow(&t);
		uint64_t s0 = (t.time_ms - FX_GENESIS_MS) / 100 / 3;
		produce(&t);
		uint64_t k = (t.time_ms - FX_GENESIS_MS) / 100 / 3 - s0; /* rounds that ended */
		assert_true(k >= 3);
		uint64_t paid = reward_escrow(&t) - e0;
		uint64_t A = 10 * COIN * k * 7000 / 10000;
		uint64_t alpha = A * 200 / 250, bravo = A * 50 / 250;
		assert_true(paid == alpha + bravo);
		for (int i = 0; i < 4; i++)
			rewards_of(&t, who[i], &after[i][0], &after[i][1]);
		/* commissions: 10% of alpha's share to alice, 20% of bravo's to bob */
		assert_true(after[0][0] - ow[0][0] == alpha / 10);
		assert_true(after[1][0] - ow[1][0] == bravo / 5);
		/* voters: carol 50/200 of alpha's 90% and all of bravo's 80%; dave 150/200 */
		uint64_t c = alpha * 9 / 10 / 4 + bravo * 4 / 5, d = alpha * 9 / 10 * 3 / 4;
		assert_true(near(after[2][1] - ow[2][1], c, 4));
		assert_true(near(after[3][1] - ow[3][1], d, 4));
		assert_true(after[2][0] == ow[2][0] && after[3][0] == ow[3][0]);
	}
	/* a claim pays owed + pending (and this block's payout, made before the tx) */
	uint64_t o, p, o2, p2, bal = balance(&t, &carol);
	rewards_of(&t, &carol, &o, &p);
	assert_true(o == 0 && p > 0);
	uint64_t e0 = reward_escrow(&t);
	assert_int_equal(run(&t, &carol, SSP_TX_REWARDS_CLAIM, &none), 0);
	rewards_of(&t, &carol, &o2, &p2);
	assert_true(o2 == 0 && p2 == 0);
	uint64_t got = balance(&t, &carol) + FEE - bal;
	assert_true(got > p && got - p < e0); /* no more than this block paid on top */
	/* an unstake settles what the stake earned into owed; then nothing more accrues */
	rewards_of(&t, &dave, &o, &p);
	assert_int_equal(run(&t, &dave, SSP_TX_UNSTAKE, &(ssp_dpos_payload){.amount = 150 * COIN}),
	                 0);
	rewards_of(&t, &dave, &o2, &p2);
	assert_true(p2 == 0 && o2 > o + p);
	produce(&t);
	uint64_t o3, p3;
	rewards_of(&t, &dave, &o3, &p3);
	assert_true(o3 == o2 && p3 == 0);
	/* alpha now weighs 50: its voters' part goes to carol alone */
	assert_true(delegate(&t, "alpha").votes == 50 * COIN);
	bal = balance(&t, &dave);
	assert_int_equal(run(&t, &dave, SSP_TX_REWARDS_CLAIM, &none), 0);
	assert_true(balance(&t, &dave) + FEE - bal == o2);
	assert_int_equal(run(&t, &dave, SSP_TX_REWARDS_CLAIM, &none), SSP_ERR_DPOS_NOTHING);
	/* alice's commission is claimable too */
	rewards_of(&t, &alice, &o, &p);
	assert_true(o > 0 && p == 0);
	assert_int_equal(run(&t, &alice, SSP_TX_REWARDS_CLAIM, &none), 0);
	rewards_of(&t, &alice, &o2, &p2);
	assert_true(o2 == 0 && p2 == 0);

	/* another node imports the whole chain in ONE write txn (a switch from genesis: the
	 * block hook reads the delegates as the earlier blocks of that txn left them) and
	 * ends with the same state, block by block (every header's roots are checked) */
	tnode u;
	tnode_open_rewards(&u, "10");
	uint64_t h = ssp_chain_head(t.n.chain)->height;
	uint8_t **raw = calloc(h, sizeof *raw);
	size_t *len = calloc(h, sizeof *len), bad = 0;
	for (uint64_t i = 0; i < h; i++)
		raw[i] = fx_block_copy(&t.n, i + 1, &len[i]);
	assert_int_equal(ssp_chain_switch(u.n.chain, u.n.pool, 0, (const uint8_t *const *)raw, len,
	                                  h, NULL, &bad, NULL),
	                 0);
	assert_true(ssp_chain_head(u.n.chain)->height == h);
	assert_memory_equal(ssp_chain_head(u.n.chain)->state_root.b,
	                    ssp_chain_head(t.n.chain)->state_root.b, 32);
	rewards_of(&u, &carol, &o, &p);
	rewards_of(&t, &carol, &o2, &p2);
	assert_true(o == o2 && p == p2 && p > 0);
	for (uint64_t i = 0; i < h; i++)
		free(raw[i]);
	free(raw);
	free(len);
	tnode_close(&u);
	tnode_close(&t);
}

/* --------------------------------------------------------------- evidence */

/* An encoded header of `slot` signed by k; v varies the state root (two blocks, one slot). */
static uint8_t *signed_header(const fx_key *k, uint64_t slot, uint8_t v, size_t *len)
{
	ssp_header h;
	ssp_buf b;
	memset(&h, 0, sizeof h);
	h.height = 5;
	h.slot = slot;
	h.timestamp_ms = FX_GENESIS_MS + slot * 100 + 1;
	h.producer = k->addr;
	memset(h.state_root.b, v, 32);
	ssp_buf_init(&b, 1 << 16);
	ssp_header_encode(&b, &h, false);
	assert_int_equal(ssp_sign(&h.sig, &k->sk, SSP_DOM_BLOCK, FX_CHAIN_ID, b.data, b.len), 0);
	ssp_buf_reset(&b);
	ssp_header_encode(&b, &h, true);
	uint8_t *out = malloc(b.len);
	assert_non_null(out);
	memcpy(out, b.data, b.len);
	*len = b.len;
	ssp_buf_free(&b);
	return out;
}

/* Evidence that `signer` signed two blocks for `slot` (the second one `v2`), against name. */
static int evidence(tnode *t, const fx_key *reporter, const char *name, const fx_key *signer,
                    uint64_t slot, uint64_t slot2, uint8_t v2, bool bad_sig)
{
	ssp_dpos_payload p;
	size_t la, lb;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	uint8_t *a = signed_header(signer, slot, 1, &la), *b = signed_header(signer, slot2, v2, &lb);
	if (bad_sig) b[lb - 1] ^= 1;
	p.header[0] = a;
	p.header_len[0] = (uint32_t)la;
	p.header[1] = b;
	p.header_len[1] = (uint32_t)lb;
	int rc = run(t, reporter, SSP_TX_EVIDENCE, &p);
	free(a);
	free(b);
	return rc;
}

static uint64_t now_slot(tnode *t)
{
	return ssp_chain_head(t->n.chain)->slot;
}

static uint64_t self_unlocking(tnode *t, const fx_key *k)
{
	ssp_staker s = staker(t, k);
	uint64_t sum = 0;
	for (uint32_t i = 0; i < s.nunlock; i++)
		if (s.unlock[i].kind == SSP_UNLOCK_SELF) sum += s.unlock[i].amount;
	return sum;
}

/*
 * Two blocks for one slot signed by a delegate's node key: anyone's evidence
 * slashes 10% of its self-stake (half to the pool, half to the reporter) and
 * bans it; the rest of its self-stake unlocks; the same slot is punished once;
 * a banned delegate is slashed from its unlocking self-stake; it may register
 * again after the ban, never after the third slash. Forged, mismatched, stale
 * and future evidence is refused with nothing written.
 */
static void test_evidence(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	fund(&t, &carol, 100 * COIN);
	fund(&t, &dave, 1000 * COIN);
	/* alpha: alice's delegate, carol's key signs its blocks */
	ssp_dpos_payload a = reg("alpha", 1000 * COIN, &carol);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &a), 0);
	assert_int_equal(run(&t, &dave, SSP_TX_STAKE, &(ssp_dpos_payload){.amount = 50 * COIN}), 0);
	static const char *const a1[] = {"alpha"};
	ssp_dpos_payload v = votes(1, a1);
	assert_int_equal(run(&t, &dave, SSP_TX_VOTE, &v), 0);
	uint64_t s = now_slot(&t) - 5;

	/* what is not evidence (nothing is written, no fee) */
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s, s, 1, false), SSP_ERR_DPOS_EVIDENCE);
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s, s - 1, 2, false),
	                 SSP_ERR_DPOS_EVIDENCE);
	assert_int_equal(evidence(&t, &bob, "alpha", &dave, s, s, 2, false), SSP_ERR_DPOS_EVIDENCE);
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s, s, 2, true), SSP_ERR_DPOS_EVIDENCE);
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s + 1000, s + 1000, 2, false),
	                 SSP_ERR_DPOS_EVIDENCE);
	assert_int_equal(evidence(&t, &bob, "nobody", &carol, s, s, 2, false), SSP_ERR_DPOS_UNKNOWN);
	assert_true(delegate(&t, "alpha").status == SSP_DELEGATE_REGISTERED);

	/* the first slash: 100 SSP of 1000, 50 to bob, 50 back to the pool */
	uint64_t bob0 = balance(&t, &bob), pool0 = fx_supply(&t.n).pool;
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s, s, 2, false), 0);
	ssp_delegate d = delegate(&t, "alpha");
	assert_true(d.status == SSP_DELEGATE_BANNED && d.self_stake == 0 && d.slashes == 1);
	assert_true(d.banned_until_slot == now_slot(&t) + BAN_SLOTS);
	assert_true(ssp_dpos_capped_weight(&d) == 0 && d.votes == 50 * COIN);
	assert_true(balance(&t, &bob) + FEE - bob0 == 50 * COIN);
	assert_true(fx_supply(&t.n).pool >= pool0 + 50 * COIN); /* + the fees of the block */
	assert_true(self_unlocking(&t, &alice) == 900 * COIN);
	/* punished once per slot, whoever reports it */
	assert_int_equal(evidence(&t, &dave, "alpha", &carol, s, s, 3, false), SSP_ERR_DPOS_PUNISHED);
	/* banned: no registering, no votes for it */
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &a), SSP_ERR_DPOS_BANNED);
	assert_int_equal(run(&t, &dave, SSP_TX_VOTE, &v), SSP_ERR_DPOS_UNKNOWN);

	/* another slot of the same incident (before the ban began) is covered by the ban */
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s - 1, s - 1, 2, false),
	                 SSP_ERR_DPOS_PUNISHED);
	assert_true(delegate(&t, "alpha").slashes == 1);
	/* an offence after the ban began: 10% of the self-stake still unlocking */
	produce(&t);
	uint64_t s2 = now_slot(&t);
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s2, s2, 2, false), 0);
	d = delegate(&t, "alpha");
	assert_true(d.slashes == 2 && self_unlocking(&t, &alice) == 810 * COIN);
	/* the ban ends: alpha registers again (the slashes stay counted) */
	while (now_slot(&t) < d.banned_until_slot)
		produce(&t);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &a), 0);
	d = delegate(&t, "alpha");
	assert_true(d.status == SSP_DELEGATE_REGISTERED && d.slashes == 2 &&
	            d.banned_until_slot == 0 && d.votes == 50 * COIN);
	/* stale evidence (older than the window) is refused */
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s - 2, s - 2, 2, false),
	                 SSP_ERR_DPOS_EVIDENCE);
	/* the third slash bans it for good */
	uint64_t s3 = now_slot(&t) - 1;
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, s3, s3, 2, false), 0);
	d = delegate(&t, "alpha");
	assert_true(d.slashes == 3 && d.banned_until_slot == UINT64_MAX);
	for (int i = 0; i < 12; i++)
		produce(&t);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &a), SSP_ERR_DPOS_BANNED);
	tnode_close(&t);
}

/* A vote src -> tgt (ids filled with a and b) signed by k, as a vote evidence half. */
static void signed_vote(ssp_dpos_payload *p, int i, const fx_key *k, uint64_t src, uint8_t a,
                        uint64_t tgt, uint8_t b)
{
	ssp_hash d;
	memset(&p->vote[i], 0, sizeof p->vote[i]);
	p->vote[i].src_height = src;
	memset(p->vote[i].src_id.b, a, 32);
	p->vote[i].tgt_height = tgt;
	memset(p->vote[i].tgt_id.b, b, 32);
	ssp_vote_digest(&d, FX_CHAIN_ID, &p->vote[i]);
	assert_int_equal(ssp_sign_digest(&p->vote_sig[i], &k->sk, &d), 0);
}

/* Vote evidence against name: votes (s0 -> t0, ids 1/1) and (s1 -> t1, ids 1/b1) by k. */
static int vevidence(tnode *t, const fx_key *reporter, const char *name, const fx_key *k,
                     uint64_t s0, uint64_t t0, uint64_t s1, uint64_t t1, uint8_t b1)
{
	ssp_dpos_payload p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	signed_vote(&p, 0, k, s0, 1, t0, 1);
	signed_vote(&p, 1, k, s1, 1, t1, b1);
	return run(t, reporter, SSP_TX_EVIDENCE_VOTES, &p);
}

static uint64_t head_height(tnode *t)
{
	return ssp_chain_head(t->n.chain)->height;
}

/*
 * Two conflicting finality votes signed by a delegate's node key (tx 0x49):
 * a double vote or a surround vote slashes and bans like two blocks for a
 * slot; the pair's higher target height is punished once (and never
 * collides with a slot punished for two blocks); identical, compatible,
 * forged, foreign and stale votes are refused with nothing written. The
 * module's supply check runs after every block (produce).
 */
static void test_evidence_votes(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	fund(&t, &carol, 300 * COIN);
	fund(&t, &dave, 300 * COIN);
	ssp_dpos_payload a = reg("alpha", 1000 * COIN, &carol);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &a), 0);
	while (head_height(&t) < 12)
		produce(&t);
	uint64_t h = head_height(&t);

	/* not evidence */
	assert_int_equal(vevidence(&t, &bob, "alpha", &carol, h - 3, h - 1, h - 3, h - 1, 1),
	                 SSP_ERR_DPOS_EVIDENCE); /* one vote twice */
	assert_int_equal(vevidence(&t, &bob, "alpha", &carol, h - 5, h - 3, h - 3, h - 1, 2),
	                 SSP_ERR_DPOS_EVIDENCE); /* consecutive votes, no conflict */
	assert_int_equal(vevidence(&t, &bob, "alpha", &carol, h - 5, h - 2, h - 3, h - 1, 2),
	                 SSP_ERR_DPOS_EVIDENCE); /* overlapping, not surrounding */
	assert_int_equal(vevidence(&t, &bob, "alpha", &dave, h - 3, h - 1, h - 3, h - 1, 2),
	                 SSP_ERR_DPOS_EVIDENCE); /* another key signed */
	{
		ssp_dpos_payload p;
		memset(&p, 0, sizeof p);
		snprintf(p.name, sizeof p.name, "alpha");
		signed_vote(&p, 0, &carol, h - 3, 1, h - 1, 1);
		signed_vote(&p, 1, &carol, h - 3, 1, h - 1, 2);
		p.vote_sig[1].b[0] ^= 1; /* forged */
		assert_int_equal(run(&t, &bob, SSP_TX_EVIDENCE_VOTES, &p), SSP_ERR_DPOS_EVIDENCE);
		signed_vote(&p, 1, &carol, h - 3, 1, h - 1, 2);
		p.vote[1].tgt_height = h - 2; /* signed for another link */
		assert_int_equal(run(&t, &bob, SSP_TX_EVIDENCE_VOTES, &p), SSP_ERR_DPOS_EVIDENCE);
	}
	assert_int_equal(vevidence(&t, &bob, "nobody", &carol, h - 3, h - 1, h - 3, h - 1, 2),
	                 SSP_ERR_DPOS_UNKNOWN);
	assert_true(delegate(&t, "alpha").status == SSP_DELEGATE_REGISTERED &&
	            delegate(&t, "alpha").slashes == 0);

	/* a double vote at h - 1: 100 SSP of 1000, 50 to bob, banned */
	uint64_t bob0 = balance(&t, &bob), pool0 = fx_supply(&t.n).pool;
	assert_int_equal(vevidence(&t, &bob, "alpha", &carol, h - 3, h - 1, h - 3, h - 1, 2), 0);
	ssp_delegate d = delegate(&t, "alpha");
	assert_true(d.status == SSP_DELEGATE_BANNED && d.self_stake == 0 && d.slashes == 1);
	assert_true(balance(&t, &bob) + FEE - bob0 == 50 * COIN);
	assert_true(fx_supply(&t.n).pool >= pool0 + 50 * COIN);
	assert_true(self_unlocking(&t, &alice) == 900 * COIN);
	/* replayed, in the other order, by someone else, or another conflict at that height */
	assert_int_equal(vevidence(&t, &bob, "alpha", &carol, h - 3, h - 1, h - 3, h - 1, 2),
	                 SSP_ERR_DPOS_PUNISHED);
	assert_int_equal(vevidence(&t, &dave, "alpha", &carol, h - 3, h - 1, h - 3, h - 1, 3),
	                 SSP_ERR_DPOS_PUNISHED);
	assert_int_equal(vevidence(&t, &dave, "alpha", &carol, h - 6, h - 1, h - 4, h - 2, 2),
	                 SSP_ERR_DPOS_PUNISHED); /* a surround with the same outer target */
	assert_true(delegate(&t, "alpha").slashes == 1);

	/* a surround vote before the ban (s-6 -> s around s-4 -> s-2, s at or below the
	 * banning block) is covered by it: one incident, one ban */
	uint64_t s = delegate(&t, "alpha").updated_height; /* the banning block */
	assert_true(s >= h && s >= 6);
	assert_int_equal(vevidence(&t, &bob, "alpha", &carol, s - 6, s, s - 4, s - 2, 2),
	                 SSP_ERR_DPOS_PUNISHED);
	/* one after it (targets above the banning block): another offence, 10% of 900; then
	 * two blocks for a slot after the ban began: another kind, the keys never collide */
	produce(&t);
	s = head_height(&t) + 1;
	assert_int_equal(vevidence(&t, &bob, "alpha", &carol, s - 6, s, s - 4, s - 2, 2), 0);
	assert_true(delegate(&t, "alpha").slashes == 2 && self_unlocking(&t, &alice) == 810 * COIN);
	produce(&t); /* the second ban began at the last block's slot */
	uint64_t bs = now_slot(&t);
	assert_int_equal(evidence(&t, &bob, "alpha", &carol, bs, bs, 2, false), 0);
	d = delegate(&t, "alpha");
	assert_true(d.slashes == 3 && d.banned_until_slot == UINT64_MAX);

	/* a target height above the chain's is the delegate's signature all the same; a pair
	 * whose higher target is more than evidence_slots blocks old is refused */
	ssp_dpos_payload b = reg("beta", 100 * COIN, &dave), g = reg("gamma", 100 * COIN, &bob);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_REGISTER, &b), 0);
	assert_int_equal(run(&t, &dave, SSP_TX_DELEGATE_REGISTER, &g), 0);
	uint64_t hb = head_height(&t);
	assert_int_equal(vevidence(&t, &bob, "beta", &dave, hb + 5, hb + 9, hb + 6, hb + 9, 1), 0);
	while (head_height(&t) <= EVIDENCE_SLOTS + 3)
		produce(&t);
	/* the tx's block is head + 1: a higher target below head + 1 - window is stale */
	uint64_t old = head_height(&t) + 1 - EVIDENCE_SLOTS - 1;
	assert_int_equal(vevidence(&t, &carol, "gamma", &bob, old - 2, old, old - 1, old, 2),
	                 SSP_ERR_DPOS_EVIDENCE);
	old = head_height(&t) + 1 - EVIDENCE_SLOTS; /* that block was made: the oldest in it */
	/* gamma's is punished; beta's, before its ban, is covered by it */
	assert_int_equal(vevidence(&t, &carol, "gamma", &bob, old - 2, old, old - 1, old, 2), 0);
	old = head_height(&t) + 1 - EVIDENCE_SLOTS;
	assert_int_equal(vevidence(&t, &bob, "beta", &dave, old - 2, old, old - 1, old, 2),
	                 SSP_ERR_DPOS_PUNISHED);
	assert_true(delegate(&t, "beta").slashes == 1 && delegate(&t, "gamma").slashes == 1);
	tnode_close(&t);
}

/* ssp_dpos_delegate_by_key: the delegate whose node key it is, a registered one first. */
static void test_delegate_by_key(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	fund(&t, &carol, 1000 * COIN);
	ssp_dpos_payload a = reg("alpha", 100 * COIN, &dave), c = reg("gamma", 100 * COIN, &dave);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &a), 0);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_UNREGISTER, &none), 0);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_REGISTER, &c), 0);
	ssp_txn *rt;
	ssp_delegate d;
	assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
	assert_int_equal(ssp_dpos_delegate_by_key(t.n.chain, rt, &dave.pk, &d), 0);
	assert_string_equal(d.name, "gamma");
	assert_int_equal(ssp_dpos_delegate_by_key(t.n.chain, rt, &bob.pk, &d), SSP_ERR_NOTFOUND);
	ssp_txn_end(rt);
	tnode_close(&t);
}

static void test_genesis_params(void **state)
{
	(void)state;
	fx_genesis_spec spec = {.producer = &producer,
	                        .liquid = {&alice, &bob},
	                        .foundation = &foundation,
	                        .team = &team};
	char *json = fx_genesis_json(&spec);
	ssp_genesis *g = fx_genesis(json);
	/* no "dpos" object: 3 and 28 days of 100 ms slots, the architecture's set */
	const ssp_dpos_params *d = ssp_genesis_dpos(g);
	assert_true(d->vote_unlock_slots == 3 * 864000 && d->self_unlock_slots == 28 * 864000);
	assert_true(d->min_self_stake == 10000 * COIN);
	assert_int_equal(d->set_size, 99);
	assert_int_equal(d->standby, 4);
	assert_int_equal(d->max_rank, 200);
	ssp_hash h0 = *ssp_genesis_hash(g);
	ssp_genesis_free(g);
	/* an explicit object (even of the defaults) is hashed; bad values are refused */
	static const char *const objs[] = {"{}",
	                                   "{\"standby\": 99}",
	                                   "{\"max_rank\": 98}",
	                                   "{\"vote_unlock_slots\": 0}",
	                                   "{\"min_self_stake\": \"0\"}",
	                                   "{\"set_size\": 0}",
	                                   "{\"reward_ranks\": 0}",
	                                   "{\"round_reward\": 5}",
	                                   "[]"};
	json_error_t je;
	for (size_t i = 0; i < sizeof objs / sizeof *objs; i++) {
		json_t *gj = json_loads(json, 0, &je);
		json_object_set_new(gj, "dpos", json_loads(objs[i], JSON_DECODE_ANY, &je));
		char *text = json_dumps(gj, 0);
		char why[256];
		ssp_genesis *g2 = NULL;
		int rc = ssp_genesis_parse(&g2, text, strlen(text), why, sizeof why);
		if (i == 0) {
			assert_int_equal(rc, 0);
			assert_memory_not_equal(ssp_genesis_hash(g2)->b, h0.b, 32);
		} else {
			assert_int_equal(rc, SSP_ERR_GENESIS);
		}
		ssp_genesis_free(g2);
		free(text);
		json_decref(gj);
	}
	free(json);
}

/* ------------------------------------------------------------ elected sets */

#define SET_SIZE 3 /* the test genesis's */

static uint64_t head_round(tnode *t)
{
	return ssp_chain_head(t->n.chain)->slot / SET_SIZE;
}

static int set_get(tnode *t, uint64_t round, ssp_dpos_member **m, size_t *n)
{
	ssp_txn *rt;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	int rc = ssp_dpos_set_get(t->n.chain, rt, round, m, n);
	ssp_txn_end(rt);
	return rc;
}

/* The raw record of round (its bytes copied to out, cap 256); its length or 0 when none. */
static size_t set_raw(tnode *t, uint64_t round, uint8_t *out)
{
	ssp_txn *rt;
	ssp_state *st;
	uint8_t k[8];
	const void *v;
	size_t vl = 0;
	ssp_be64_put(k, round);
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	int rc = ssp_state_get(st, SSP_TB_DPOS_SET, k, 8, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) vl = 0;
	else assert_int_equal(rc, 0);
	if (vl && vl <= 256) memcpy(out, v, vl);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return vl;
}

static void member_is(const ssp_dpos_member *m, const ssp_delegate *d)
{
	assert_memory_equal(m->account.b, d->account.b, SSP_ADDR_LEN);
	assert_int_equal(m->key.type, d->node_key.type);
	assert_int_equal(m->key.len, d->node_key.len);
	assert_memory_equal(m->key.b, d->node_key.b, d->node_key.len);
	assert_memory_equal(m->onion.b, d->onion.b, 32);
	assert_true(m->onion_round == d->onion_round);
}

/*
 * A record at the first block of every round (every block here: 10 slots per
 * block, 3 per round) once someone has weight, none before; a reference when
 * the set did not change, always to the full record; onion_round = the
 * registering block's round.
 */
static void test_sets(void **state)
{
	(void)state;
	tnode t;
	ssp_dpos_member *m = NULL;
	size_t n = 0;
	uint8_t raw[256];
	uint64_t r;
	tnode_open(&t);
	ssp_txn *rt;

	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), SSP_ERR_NOTFOUND);
	ssp_dpos_payload p = reg("alpha", 1000 * COIN, &dave);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), 0);
	uint64_t reg_round = head_round(&t);
	ssp_delegate alpha = delegate(&t, "alpha");
	assert_true(alpha.onion_round == reg_round);
	/* registered, but no weight: still no candidate, no record */
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), SSP_ERR_NOTFOUND);
	assert_int_equal(set_raw(&t, head_round(&t), raw), 0);
	assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
	assert_int_equal(ssp_dpos_set_latest(t.n.chain, rt, &r), SSP_ERR_NOTFOUND);
	ssp_txn_end(rt);

	p = amount(100 * COIN);
	assert_int_equal(run(&t, &alice, SSP_TX_STAKE, &p), 0);
	static const char *const va[] = {"alpha"};
	p = votes(1, va);
	assert_int_equal(run(&t, &alice, SSP_TX_VOTE, &p), 0);
	/* the vote's block began before the vote: its round has no record */
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), SSP_ERR_NOTFOUND);
	produce(&t);
	uint64_t full = head_round(&t);
	assert_int_equal(set_get(&t, full, &m, &n), 0);
	assert_int_equal(n, 1);
	member_is(&m[0], &alpha);
	free(m);
	size_t len = set_raw(&t, full, raw);
	assert_int_equal(raw[0], SSP_DPOS_SET_FULL);
	assert_int_equal(len, 1 + 4 + 20 + 2 + 32 + 32 + 8);
	/* unchanged: 9-byte references, each to the full record */
	for (int i = 0; i < 3; i++) {
		produce(&t);
		assert_int_equal(set_raw(&t, head_round(&t), raw), 9);
		assert_int_equal(raw[0], SSP_DPOS_SET_REF);
		assert_true(ssp_le64_get(raw + 1) == full);
		assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
		assert_int_equal(n, 1);
		member_is(&m[0], &alpha);
		free(m);
		/* the same from a state (what the consensus layer reads at commit) */
		ssp_state *st;
		uint64_t fr = 0;
		m = malloc(SSP_DPOS_SET_MAX * sizeof *m);
		assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
		assert_int_equal(ssp_chain_state_view(t.n.chain, rt, &st), 0);
		assert_int_equal(ssp_dpos_set_read(st, head_round(&t), m, &n, &fr), 0);
		assert_true(n == 1 && fr == full);
		member_is(&m[0], &alpha);
		assert_int_equal(ssp_dpos_set_read(st, head_round(&t) - 1, m, &n, NULL),
		                 SSP_ERR_NOTFOUND);
		ssp_state_close(st);
		ssp_txn_end(rt);
		free(m);
	}
	/* a round no block began has none */
	assert_int_equal(set_get(&t, head_round(&t) - 1, &m, &n), SSP_ERR_NOTFOUND);
	/* dpos_getElection: the latest by default, names resolved, the reference's full round */
	ssp_module_env env = {.chain = t.n.chain, .store = t.n.store, .genesis = t.g};
	int code;
	char params[64];
	json_t *e = call(&env, "dpos_getElection", NULL, &code);
	assert_non_null(e);
	assert_true((uint64_t)json_integer_value(json_object_get(e, "round")) == head_round(&t));
	assert_true((uint64_t)json_integer_value(json_object_get(e, "applies_to_round")) ==
	            head_round(&t) + 1);
	assert_true((uint64_t)json_integer_value(json_object_get(e, "reference_round")) == full);
	json_t *em = json_array_get(json_object_get(e, "members"), 0);
	assert_int_equal(json_array_size(json_object_get(e, "members")), 1);
	assert_string_equal(json_string_value(json_object_get(em, "name")), "alpha");
	assert_true((uint64_t)json_integer_value(json_object_get(em, "onion_round")) == reg_round);
	assert_string_equal(json_string_value(json_object_get(em, "onion")),
	                    "abababababababababababababababababababababababababababababababab");
	json_decref(e);
	snprintf(params, sizeof params, "{\"round\": %llu}", (unsigned long long)full);
	e = call(&env, "dpos_getElection", params, &code);
	assert_non_null(e);
	assert_null(json_object_get(e, "reference_round"));
	json_decref(e);
	snprintf(params, sizeof params, "{\"round\": %llu}", (unsigned long long)full - 1);
	assert_null(call(&env, "dpos_getElection", params, &code));
	assert_int_equal(code, SSP_RPC_NOT_FOUND);
	assert_null(call(&env, "dpos_getElection", "{\"round\": -1}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
	assert_int_equal(ssp_dpos_set_latest(t.n.chain, rt, &r), 0);
	ssp_txn_end(rt);
	assert_true(r == head_round(&t));

	/* two more delegates with weight: top 2 by weight, then the standby draw */
	fund(&t, &carol, 100000 * COIN);
	p = reg("beta", 1000 * COIN, &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = reg("gamma", 1000 * COIN, &carol);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = amount(300 * COIN);
	assert_int_equal(run(&t, &bob, SSP_TX_STAKE, &p), 0);
	static const char *const vb[] = {"beta", "gamma"};
	p = votes(2, vb);
	assert_int_equal(run(&t, &bob, SSP_TX_VOTE, &p), 0);
	p = amount(50 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	static const char *const vc[] = {"gamma"};
	p = votes(1, vc);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), 0);
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 3);
	ssp_delegate gamma = delegate(&t, "gamma"), beta = delegate(&t, "beta");
	member_is(&m[0], &gamma); /* 350 */
	member_is(&m[1], &beta);  /* 300 */
	member_is(&m[2], &alpha); /* 100: the only one left to draw */
	assert_true(gamma.onion_round != alpha.onion_round);
	free(m);
	tnode_close(&t);
}

/* Every truncation, trailing byte and out-of-range field of a set record is DBCORRUPT. */
/*
 * The churn bound (set_size 3 here: one newcomer per election): alpha alone,
 * then one vote gives beta and gamma weight at once: the next record adds the
 * stronger of them only, the one after that the other (a set grows by the
 * bound per round); alpha unregistering leaves the ranking and is replaced
 * on top of the bound.
 */
static void test_churn(void **state)
{
	(void)state;
	tnode t;
	ssp_dpos_member *m = NULL;
	size_t n = 0;
	tnode_open(&t);
	fund(&t, &bob, 3000 * COIN);
	fund(&t, &carol, 3000 * COIN);
	ssp_dpos_payload p = reg("alpha", 1000 * COIN, &dave);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = reg("beta", 1000 * COIN, &carol);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = reg("gamma", 1000 * COIN, &bob);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = amount(300 * COIN);
	assert_int_equal(run(&t, &alice, SSP_TX_STAKE, &p), 0);
	static const char *const va[] = {"alpha"}, *const vbg[] = {"beta", "gamma"};
	p = votes(1, va);
	assert_int_equal(run(&t, &alice, SSP_TX_VOTE, &p), 0);
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 1);
	free(m);
	/* beta 600, gamma 500: both weighted by one block */
	p = amount(500 * COIN);
	assert_int_equal(run(&t, &bob, SSP_TX_STAKE, &p), 0);
	p = amount(100 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	static const char *const vb[] = {"beta"};
	p = votes(1, vb);
	assert_int_equal(run(&t, &carol, SSP_TX_VOTE, &p), 0);
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 2); /* beta entered alone (the carol vote's block) */
	free(m);
	p = votes(2, vbg);
	assert_int_equal(run(&t, &bob, SSP_TX_VOTE, &p), 0);
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 3);
	free(m);
	tnode_close(&t);

	/* two newcomers at once: the bound lets the stronger in first */
	tnode_open(&t);
	fund(&t, &bob, 3000 * COIN);
	fund(&t, &carol, 3000 * COIN);
	p = reg("alpha", 1000 * COIN, &dave);
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = reg("beta", 1000 * COIN, &carol);
	assert_int_equal(run(&t, &bob, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = reg("gamma", 1000 * COIN, &bob);
	assert_int_equal(run(&t, &carol, SSP_TX_DELEGATE_REGISTER, &p), 0);
	p = amount(300 * COIN);
	assert_int_equal(run(&t, &alice, SSP_TX_STAKE, &p), 0);
	p = votes(1, va);
	assert_int_equal(run(&t, &alice, SSP_TX_VOTE, &p), 0);
	p = amount(100 * COIN);
	assert_int_equal(run(&t, &carol, SSP_TX_STAKE, &p), 0);
	p = amount(500 * COIN);
	assert_int_equal(run(&t, &bob, SSP_TX_STAKE, &p), 0);
	p = votes(2, vbg); /* beta and gamma 500 each from one tx */
	assert_int_equal(run(&t, &bob, SSP_TX_VOTE, &p), 0);
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 2); /* alpha and one newcomer */
	ssp_delegate alpha = delegate(&t, "alpha");
	assert_true(!memcmp(m[0].account.b, alpha.account.b, SSP_ADDR_LEN) ||
	            !memcmp(m[1].account.b, alpha.account.b, SSP_ADDR_LEN));
	free(m);
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 3);
	free(m);
	/* alpha leaves the ranking: replaced on top of the bound (no newcomer is left
	 * here, so the set is beta and gamma) */
	assert_int_equal(run(&t, &alice, SSP_TX_DELEGATE_UNREGISTER, &none), 0);
	produce(&t);
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 2);
	free(m);
	tnode_close(&t);
}

static void test_set_codec(void **state)
{
	(void)state;
	ssp_dpos_member m[2], *got = malloc(SSP_DPOS_SET_MAX * sizeof *got);
	ssp_buf b;
	uint8_t kind;
	size_t n;
	uint64_t ref;
	memset(m, 0, sizeof m);
	m[0].account = alice.addr;
	m[0].key = dave.pk;
	memset(m[0].onion.b, 1, 32);
	m[0].onion_round = UINT64_MAX;
	m[1].account = bob.addr;
	m[1].key = bob.pk; /* p256 */
	memset(m[1].onion.b, 2, 32);
	m[1].onion_round = 7;
	ssp_buf_init(&b, 4096);
	ssp_dpos_set_encode_full(&b, m, 2);
	assert_int_equal(b.err, 0);
	assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, b.data, b.len), 0);
	assert_int_equal(kind, SSP_DPOS_SET_FULL);
	assert_int_equal(n, 2);
	assert_memory_equal(got[1].key.b, bob.pk.b, bob.pk.len);
	assert_true(got[0].onion_round == UINT64_MAX && got[1].onion_round == 7);
	ssp_buf again;
	ssp_buf_init(&again, 4096);
	ssp_dpos_set_encode_full(&again, got, n);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	ssp_buf_free(&again);
	uint8_t *x = malloc(b.len + 1);
	memcpy(x, b.data, b.len);
	for (size_t k = 0; k < b.len; k++)
		assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, x, k),
		                 SSP_ERR_DBCORRUPT);
	x[b.len] = 0;
	assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, x, b.len + 1),
	                 SSP_ERR_DBCORRUPT);
	/* kind, count, key length, a member twice */
	static const size_t at[] = {0, 1, 1 + 4 + 20 + 1};
	for (size_t i = 0; i < 3; i++) {
		uint8_t save = x[at[i]];
		for (unsigned v = 0; v < 256; v++) {
			x[at[i]] = (uint8_t)v;
			if (v == save) continue;
			assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, x, b.len),
			                 SSP_ERR_DBCORRUPT);
		}
		x[at[i]] = save;
	}
	free(x);
	ssp_buf_reset(&b);
	m[1].account = m[0].account;
	ssp_dpos_set_encode_full(&b, m, 2);
	assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, b.data, b.len),
	                 SSP_ERR_DBCORRUPT);
	ssp_buf_reset(&b);
	ssp_dpos_set_encode_full(&b, m, 0);
	assert_int_equal(b.err, SSP_ERR_INVAL);
	/* references: to an earlier round only, nine bytes exactly */
	ssp_buf_reset(&b);
	ssp_dpos_set_encode_ref(&b, 4);
	assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, b.data, b.len), 0);
	assert_true(kind == SSP_DPOS_SET_REF && ref == 4 && n == 0);
	assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 4, b.data, b.len),
	                 SSP_ERR_DBCORRUPT);
	for (size_t k = 0; k < b.len; k++)
		assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, b.data, k),
		                 SSP_ERR_DBCORRUPT);
	ssp_buf_u8(&b, 0);
	assert_int_equal(ssp_dpos_set_decode(&kind, got, &n, &ref, 5, b.data, b.len),
	                 SSP_ERR_DBCORRUPT);
	ssp_buf_free(&b);
	free(got);
}

/* A consensus whose headers carry a reveal: block k's is 32 bytes of k, none when k % 4 == 3. */
static int reveal_prepare(void *ctx, const ssp_chain *c, ssp_header *h)
{
	(void)ctx;
	(void)c;
	h->seed_len = h->height % 4 == 3 ? 0 : 32;
	memset(h->seed_reveal, (int)(h->height & 0xff), h->seed_len);
	return 0;
}

static ssp_hash meta_hash(tnode *t, const char *key)
{
	ssp_txn *rt;
	ssp_state *st;
	const void *v;
	size_t vl;
	ssp_hash h;
	memset(&h, 0, sizeof h);
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	int rc = ssp_state_get(st, SSP_TB_DPOS_META, key, strlen(key), &v, &vl);
	if (rc != SSP_ERR_NOTFOUND) {
		assert_int_equal(rc, 0);
		assert_int_equal(vl, 32);
		memcpy(h.b, v, 32);
	}
	ssp_state_close(st);
	ssp_txn_end(rt);
	return h;
}

/*
 * The module's round seed: the reveals of blocks in the first ceil(2n/3)
 * slots of a round XORed (a block's hook folds its parent's), folded at the
 * round's first block into SHA-256("ssp-bft-seed" | seed | acc | u64le R);
 * recomputed here from the blocks' slots and reveals.
 */
static void test_seed(void **state)
{
	(void)state;
	static const uint64_t lag = 0;
	const ssp_consensus cs = {.producer = fx_lag_producer,
	                          .finalized = fx_lag_finalized,
	                          .prepare = reveal_prepare,
	                          .ctx = (void *)&lag};
	/* steps in slots (100 ms): within a round, across one, skipping rounds */
	static const unsigned steps[] = {1, 1, 1, 1, 2, 1, 3, 1, 1, 7, 1, 1, 1, 2, 1, 1, 1, 10, 1};
	tnode t;
	ssp_hash seed, acc, reveal;
	uint64_t pslot = 0;
	bool saw_acc = false; /* an accumulator carried between blocks of one round */
	tnode_open(&t);
	ssp_chain_set_consensus(t.n.chain, &cs);
	memset(&seed, 0, sizeof seed);
	memset(&acc, 0, sizeof acc);
	memset(&reveal, 0, sizeof reveal);
	t.time_ms = FX_GENESIS_MS + 50;
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		t.time_ms += 100 * steps[i];
		fx_produce(&t.n, &producer, t.time_ms);
		const ssp_head *h = ssp_chain_head(t.n.chain);
		if (pslot % SET_SIZE < 2) /* ceil(2 x 3 / 3) */
			for (int k = 0; k < 32; k++)
				acc.b[k] ^= reveal.b[k];
		if (pslot / SET_SIZE < h->slot / SET_SIZE) {
			uint8_t msg[12 + 32 + 32 + 8];
			memcpy(msg, "ssp-bft-seed", 12);
			memcpy(msg + 12, seed.b, 32);
			memcpy(msg + 44, acc.b, 32);
			ssp_le64_put(msg + 76, h->slot / SET_SIZE);
			ssp_sha256(&seed, msg, sizeof msg);
			memset(&acc, 0, sizeof acc);
		}
		ssp_hash got_seed = meta_hash(&t, "seed"), got_acc = meta_hash(&t, "seed_acc");
		assert_memory_equal(got_seed.b, seed.b, 32);
		assert_memory_equal(got_acc.b, acc.b, 32);
		saw_acc |= !ssp_hash_is_zero(&acc);
		/* this block's reveal is folded by the next */
		memset(&reveal, 0, sizeof reveal);
		if (h->height % 4 != 3) memset(reveal.b, (int)(h->height & 0xff), 32);
		pslot = h->slot;
	}
	assert_true(!ssp_hash_is_zero(&seed) && saw_acc);
	tnode_close(&t);
}

/* One genesis delegate for alice (node key dave), as JSON; fields may be changed after. */
static json_t *genesis_delegate(const char *name, const fx_key *k, const fx_key *node,
                                const char *self, const char *stake)
{
	char addr[128], key[160];
	ssp_addr_encode(addr, sizeof addr, ssp_network_hrp("dev"), &k->addr);
	ssp_pubkey_text(key, sizeof key, &node->pk);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", name, "address", addr,
	                 "node_key", key, "onion",
	                 "abababababababababababababababababababababababababababababababab",
	                 "self_stake", self, "stake", stake);
}

static int parse_with(json_t *g, json_t *delegates, ssp_genesis **out)
{
	char why[256];
	json_object_set_new(json_object_get(g, "dpos"), "delegates", delegates);
	char *text = json_dumps(g, 0);
	int rc = ssp_genesis_parse(out, text, strlen(text), why, sizeof why);
	free(text);
	return rc;
}

/*
 * Genesis delegates are registered at height 0: their stakes leave their
 * allocations for the escrow (the supply invariant and ssp_dpos_check hold
 * at height 0), onion_round is round -1, and the first round's election
 * picks them. The list is strict.
 */
static void test_genesis_delegates(void **state)
{
	(void)state;
	tnode t, plain;
	tnode_open(&plain);
	uint64_t a0 = balance(&plain, &alice), b0 = balance(&plain, &bob);
	json_t *g = genesis_json(NULL), *dl = json_array();
	json_array_append_new(dl, genesis_delegate("alpha", &alice, &dave, "1000", "500"));
	json_array_append_new(dl, genesis_delegate("beta", &bob, &bob, "100", "0"));
	json_object_set_new(json_object_get(g, "dpos"), "delegates", dl);
	tnode_open_genesis(&t, g);
	assert_memory_not_equal(ssp_genesis_hash(t.g)->b, ssp_genesis_hash(plain.g)->b, 32);
	tnode_close(&plain);
	assert_true(check_dpos(&t) == 1600 * COIN);
	assert_true(balance(&t, &alice) == a0 - 1500 * COIN);
	assert_true(balance(&t, &bob) == b0 - 100 * COIN);
	ssp_delegate d = delegate(&t, "alpha");
	assert_int_equal(d.status, SSP_DELEGATE_REGISTERED);
	assert_true(d.self_stake == 1000 * COIN && d.votes == 500 * COIN);
	assert_true(d.onion_round == UINT64_MAX);
	assert_memory_equal(d.node_key.b, dave.pk.b, dave.pk.len);
	assert_int_equal(d.onion.b[31], 0xab);
	ssp_staker s = staker(&t, &alice);
	assert_true(s.staked == 500 * COIN && s.nvotes == 1);
	assert_memory_equal(s.votes[0].b, alice.addr.b, SSP_ADDR_LEN);
	assert_true(delegate(&t, "beta").votes == 0);
	/* the first round's election: alpha only (beta has no weight) */
	produce(&t);
	ssp_dpos_member *m;
	size_t n;
	assert_int_equal(set_get(&t, head_round(&t), &m, &n), 0);
	assert_int_equal(n, 1);
	member_is(&m[0], &d);
	free(m);
	ssp_module_env env = {.chain = t.n.chain, .store = t.n.store, .genesis = t.g};
	int code;
	json_t *e = call(&env, "dpos_getElection", NULL, &code);
	assert_non_null(e);
	json_t *em = json_array_get(json_object_get(e, "members"), 0);
	assert_int_equal(json_integer_value(json_object_get(em, "onion_round")), -1); /* round -1 */
	assert_string_equal(json_string_value(json_object_get(em, "name")), "alpha");
	json_decref(e);
	/* its stake unstakes like any other */
	ssp_dpos_payload p = amount(200 * COIN);
	assert_int_equal(run(&t, &alice, SSP_TX_UNSTAKE, &p), 0);
	assert_true(delegate(&t, "alpha").votes == 300 * COIN);
	tnode_close(&t);

	/* strict: unknown fields, names, addresses and keys listed twice, stakes not covered */
	ssp_genesis *g2 = NULL;
	g = genesis_json(NULL);
	dl = json_array();
	json_array_append_new(dl, genesis_delegate("alpha", &alice, &dave, "1000", "500"));
	assert_int_equal(parse_with(g, dl, &g2), 0);
	ssp_genesis_free(g2);
	json_t *bad[10];
	size_t nb = 0;
	bad[nb] = json_array();
	json_array_append_new(bad[nb], genesis_delegate("alpha", &alice, &dave, "1000", "500"));
	json_object_set_new(json_array_get(bad[nb++], 0), "url", json_string("x"));
	bad[nb] = json_array();
	json_array_append_new(bad[nb], genesis_delegate("alpha", &alice, &dave, "1000", "500"));
	json_array_append_new(bad[nb++], genesis_delegate("alpha", &bob, &bob, "1000", "500"));
	bad[nb] = json_array();
	json_array_append_new(bad[nb], genesis_delegate("alpha", &alice, &dave, "1000", "500"));
	json_array_append_new(bad[nb++], genesis_delegate("beta", &alice, &bob, "1000", "500"));
	bad[nb] = json_array();
	json_array_append_new(bad[nb], genesis_delegate("alpha", &alice, &dave, "1000", "500"));
	json_array_append_new(bad[nb++], genesis_delegate("beta", &bob, &dave, "1000", "500"));
	bad[nb] = json_array(); /* more than alice's allocation */
	json_array_append_new(bad[nb++],
	                      genesis_delegate("alpha", &alice, &dave, "1000", "9000000000"));
	bad[nb] = json_array(); /* carol has no allocation */
	json_array_append_new(bad[nb++], genesis_delegate("alpha", &carol, &dave, "100", "0"));
	bad[nb] = json_array(); /* below min_self_stake */
	json_array_append_new(bad[nb++], genesis_delegate("alpha", &alice, &dave, "99", "0"));
	bad[nb] = json_array();
	json_array_append_new(bad[nb], genesis_delegate("alpha", &alice, &dave, "100", "0"));
	json_object_set_new(json_array_get(bad[nb++], 0), "onion", json_string("abab"));
	bad[nb] = json_array(); /* a bad name */
	json_array_append_new(bad[nb++], genesis_delegate("Alpha", &alice, &dave, "100", "0"));
	bad[nb++] = json_array(); /* empty */
	for (size_t i = 0; i < nb; i++) {
		g2 = NULL;
		assert_int_equal(parse_with(g, bad[i], &g2), SSP_ERR_GENESIS);
		assert_null(g2);
	}
	json_decref(g);
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	fx_key_make(&producer, SSP_KEY_ED25519, 1);
	fx_key_make(&alice, SSP_KEY_ED25519, 2);
	fx_key_make(&bob, SSP_KEY_P256, 3);
	fx_key_make(&carol, SSP_KEY_ED25519, 4);
	fx_key_make(&foundation, SSP_KEY_ED25519, 5);
	fx_key_make(&team, SSP_KEY_ED25519, 6);
	fx_key_make(&dave, SSP_KEY_ED25519, 7);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_payload_codec),
	    cmocka_unit_test(test_delegates),
	    cmocka_unit_test(test_stake_vote_unstake),
	    cmocka_unit_test(test_unregister),
	    cmocka_unit_test(test_unlock_bound),
	    cmocka_unit_test(test_election),
	    cmocka_unit_test(test_rpc),
	    cmocka_unit_test(test_genesis_params),
	    cmocka_unit_test(test_emission),
	    cmocka_unit_test(test_rewards),
	    cmocka_unit_test(test_evidence),
	    cmocka_unit_test(test_evidence_votes),
	    cmocka_unit_test(test_delegate_by_key),
	    cmocka_unit_test(test_registered),
	    cmocka_unit_test(test_sets),
	    cmocka_unit_test(test_churn),
	    cmocka_unit_test(test_set_codec),
	    cmocka_unit_test(test_seed),
	    cmocka_unit_test(test_genesis_delegates),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
