/*
 * test_chain_ledger.c — the ledger end to end (chain layer): genesis
 * validation and initial state, mempool admission and every rejection code,
 * replacement, caps and eviction, fee priority, expiry, block production,
 * fees to the pool, team vesting, the foundation's grant lock, the supply
 * invariant after every block, reopening a datadir, and importing blocks
 * (identical state on a second node; every kind of tampering rejected with
 * its own error). Each test runs in its own temporary datadir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain/mempool_internal.h"
#include "chain_fixture.h"

#define COIN SSP_COIN
#define LIQ (625000000ULL * COIN) /* each of the four private-placement holders */
#define FOUND_AMT (2000000000ULL * COIN)
#define TEAM_AMT (1000000000ULL * COIN)
#define POOL_AMT (4500000000ULL * COIN)
#define FEE 100000ULL /* 0.001 SSP */
#define T0 FX_GENESIS_MS
#define MONTH_MS (2592000ULL * 1000) /* the default vesting month */
#define BIG ((size_t)64 << 20)

static fx_key PROD, ALICE, CAROL, DAVE, ERIN, FOUND, TEAM, BOB;
static char *J_DEF, *J_FAST, *J_ONE;
static ssp_genesis *G_DEF;  /* default month (30 days) */
static ssp_genesis *G_FAST; /* month_seconds = 1: a month is 1000 ms */
static ssp_genesis *G_ONE;  /* max_block_txs = 1 */

static fx_genesis_spec spec(void)
{
	fx_genesis_spec s = {.producer = &PROD,
	                     .liquid = {&ALICE, &CAROL, &DAVE, &ERIN},
	                     .foundation = &FOUND,
	                     .team = &TEAM};
	return s;
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
	fx_key_make(&PROD, SSP_KEY_ED25519, 0x01);
	fx_key_make(&ALICE, SSP_KEY_ED25519, 0xa1);
	fx_key_make(&CAROL, SSP_KEY_P256, 0x0c);
	fx_key_make(&DAVE, SSP_KEY_ED25519, 0xd1);
	fx_key_make(&ERIN, SSP_KEY_ED25519, 0xe1);
	fx_key_make(&FOUND, SSP_KEY_ED25519, 0xf0);
	fx_key_make(&TEAM, SSP_KEY_ED25519, 0x7e);
	fx_key_make(&BOB, SSP_KEY_ED25519, 0xb0);
	fx_genesis_spec s = spec();
	J_DEF = fx_genesis_json(&s);
	s.month_seconds = 1;
	J_FAST = fx_genesis_json(&s);
	s.month_seconds = 0;
	s.max_block_txs = 1;
	J_ONE = fx_genesis_json(&s);
	G_DEF = fx_genesis(J_DEF);
	G_FAST = fx_genesis(J_FAST);
	G_ONE = fx_genesis(J_ONE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ssp_genesis_free(G_DEF);
	ssp_genesis_free(G_FAST);
	ssp_genesis_free(G_ONE);
	free(J_DEF);
	free(J_FAST);
	free(J_ONE);
	return 0;
}

/* A transfer with the usual fee and a far expiry. */
static fx_xfer xf(const fx_key *to, uint64_t amount, uint64_t nonce, bool pubkey)
{
	fx_xfer x = {.to = &to->addr,
	             .amount = amount,
	             .fee = FEE,
	             .nonce = nonce,
	             .expiry = 1000,
	             .pubkey = pubkey};
	return x;
}

static int submit(fx_node *n, const fx_key *from, fx_xfer x, ssp_hash *id)
{
	return fx_submit(n, from, &x, id);
}

/* The txids of block `height`, in block order; returns the count. */
static size_t block_txids(const fx_node *n, uint64_t height, ssp_hash *out, size_t max)
{
	size_t len;
	ssp_block b;
	uint8_t *raw = fx_block_copy(n, height, &len);
	assert_int_equal(ssp_block_decode(&b, raw, len, BIG), 0);
	assert_true(b.ntx <= max);
	for (uint32_t i = 0; i < b.ntx; i++)
		out[i] = b.txs[i].txid;
	size_t k = b.ntx;
	ssp_block_free(&b);
	free(raw);
	return k;
}

/* ------------------------------------------------------------------ genesis */

static int parse_json(json_t *doc, char *why, size_t whylen)
{
	char *text = json_dumps(doc, JSON_PRESERVE_ORDER);
	ssp_genesis *g = NULL;
	int rc = ssp_genesis_parse(&g, text, strlen(text), why, whylen);
	if (rc == 0)
		assert_non_null(g);
	else
		assert_null(g);
	ssp_genesis_free(g);
	free(text);
	return rc;
}

static json_t *alloc_at(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "allocations"), i);
}

/* Sets allocation i's amount (as base units) and parses. */
static int with_amount(size_t i, uint64_t units, char *why)
{
	json_t *doc = json_loads(J_DEF, 0, NULL);
	char amt[SSP_AMOUNT_STR];
	ssp_amount_format(amt, sizeof amt, units, SSP_DECIMALS);
	json_object_set_new(alloc_at(doc, i), "amount", json_string(amt));
	int rc = parse_json(doc, why, 256);
	json_decref(doc);
	return rc;
}

static void test_genesis_rejections(void **state)
{
	(void)state;
	char why[256];
	json_t *doc;
	ssp_genesis *g;
	/* allocations: 0-3 liquid, 4 foundation, 5 team, 6 pool */
	assert_int_equal(with_amount(0, LIQ, why), 0);
	assert_string_equal(why, "ok");
	/* shares off by one base unit, either way */
	assert_int_equal(with_amount(0, LIQ + 1, why), SSP_ERR_GENESIS);
	assert_non_null(strstr(why, "private_placement"));
	assert_int_equal(with_amount(0, LIQ - 1, why), SSP_ERR_GENESIS);
	assert_int_equal(with_amount(4, FOUND_AMT + 1, why), SSP_ERR_GENESIS);
	assert_non_null(strstr(why, "foundation"));
	assert_int_equal(with_amount(5, TEAM_AMT - 1, why), SSP_ERR_GENESIS);
	assert_non_null(strstr(why, "team"));
	assert_int_equal(with_amount(6, POOL_AMT + 1, why), SSP_ERR_GENESIS);
	assert_non_null(strstr(why, "ecosystem_pool"));
	/* the total right but one unit moved between categories */
	doc = json_loads(J_DEF, 0, NULL);
	json_object_set_new(alloc_at(doc, 5), "amount", json_string("999999999.99999999"));
	json_object_set_new(alloc_at(doc, 6), "amount", json_string("4500000000.00000001"));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_decref(doc);
	/* a zero amount */
	doc = json_loads(J_DEF, 0, NULL);
	json_object_set_new(alloc_at(doc, 1), "amount", json_string("0"));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_object_set_new(alloc_at(doc, 1), "amount", json_integer(625000000));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_decref(doc);

	/* a duplicate address, in the same and in another category */
	doc = json_loads(J_DEF, 0, NULL);
	json_object_set_new(alloc_at(doc, 1), "address", json_string(ALICE.text));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	assert_non_null(strstr(why, "twice"));
	json_decref(doc);
	doc = json_loads(J_DEF, 0, NULL);
	json_object_set_new(alloc_at(doc, 5), "address", json_string(FOUND.text));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_decref(doc);
	/* an address of another network, a broken one, the pool with an address */
	doc = json_loads(J_DEF, 0, NULL);
	char taddr[96];
	ssp_addr_encode(taddr, sizeof taddr, "tssp", &ALICE.addr);
	json_object_set_new(alloc_at(doc, 0), "address", json_string(taddr));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	char broken[96];
	snprintf(broken, sizeof broken, "%s", ALICE.text);
	broken[strlen(broken) - 1] = broken[strlen(broken) - 1] == 'q' ? 'p' : 'q';
	json_object_set_new(alloc_at(doc, 0), "address", json_string(broken));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_decref(doc);
	doc = json_loads(J_DEF, 0, NULL);
	json_object_set_new(alloc_at(doc, 6), "address", json_string(BOB.text));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_decref(doc);

	/* the producer */
	const char *bad_prod[] = {
	    "ed25519:zz",
	    "ed25519:",
	    "rsa:00",
	    "ed25519",
	    "ed25519:0000000000000000000000000000000000000000000000000000000000000000",
	    "p256:040000000000000000000000000000000000000000000000000000000000000000"};
	for (size_t i = 0; i < sizeof bad_prod / sizeof bad_prod[0]; i++) {
		doc = json_loads(J_DEF, 0, NULL);
		json_object_set_new(doc, "producer", json_string(bad_prod[i]));
		assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
		assert_non_null(strstr(why, "producer"));
		json_decref(doc);
	}
	doc = json_loads(J_DEF, 0, NULL);
	json_object_del(doc, "producer");
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_object_set_new(doc, "producer", json_integer(1));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	/* a p256 producer is fine */
	char ptext[96];
	ssp_pubkey_text(ptext, sizeof ptext, &CAROL.pk);
	json_object_set_new(doc, "producer", json_string(ptext));
	assert_int_equal(parse_json(doc, why, sizeof why), 0);
	json_decref(doc);

	/* an unknown or missing category */
	doc = json_loads(J_DEF, 0, NULL);
	json_object_set_new(alloc_at(doc, 0), "category", json_string("marketing"));
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	assert_non_null(strstr(why, "marketing"));
	json_object_del(alloc_at(doc, 0), "category");
	assert_int_equal(parse_json(doc, why, sizeof why), SSP_ERR_GENESIS);
	json_decref(doc);

	/* top-level fields */
	struct {
		const char *key;
		json_t *val;
	} bad_top[] = {
	    {"chain_id", json_string("")},
	    {"chain_id", json_string("Upper")},
	    {"chain_id", json_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")},
	    {"chain_id", json_integer(5)},
	    {"network", json_string("moon")},
	    {"genesis_time", json_integer(0)},
	    {"genesis_time", json_integer(-5)},
	    {"genesis_time", json_string("1700000000000")},
	    {"params", json_string("fast")},
	    {"allocations", json_array()},
	    {"allocations", json_object()},
	};
	for (size_t i = 0; i < sizeof bad_top / sizeof bad_top[0]; i++) {
		doc = json_loads(J_DEF, 0, NULL);
		json_object_set_new(doc, bad_top[i].key, bad_top[i].val);
		if (parse_json(doc, why, sizeof why) != SSP_ERR_GENESIS)
			fail_msg("top-level case %zu (%s) accepted", i, bad_top[i].key);
		json_decref(doc);
	}
	/* params out of range */
	struct {
		const char *key;
		json_t *val;
	} bad_params[] = {
	    {"month_seconds", json_integer(0)},      {"block_interval_ms", json_integer(99)},
	    {"max_block_bytes", json_integer(4095)}, {"max_block_txs", json_integer(0)},
	    {"max_expiry_blocks", json_integer(0)},  {"min_fee", json_integer(1000)},
	    {"min_fee", json_string("0.000000001")}, {"fee_per_byte", json_string("-1")},
	};
	for (size_t i = 0; i < sizeof bad_params / sizeof bad_params[0]; i++) {
		doc = json_loads(J_DEF, 0, NULL);
		json_object_set_new(json_object_get(doc, "params"), bad_params[i].key,
		                    bad_params[i].val);
		if (parse_json(doc, why, sizeof why) != SSP_ERR_GENESIS)
			fail_msg("params case %zu (%s) accepted", i, bad_params[i].key);
		json_decref(doc);
	}

	/* malformed JSON */
	const char *bad_text[] = {"", "{", "[]", "null", "{\"chain_id\": }", "\xff\xfe"};
	for (size_t i = 0; i < sizeof bad_text / sizeof bad_text[0]; i++) {
		g = (ssp_genesis *)1;
		assert_int_equal(
		    ssp_genesis_parse(&g, bad_text[i], strlen(bad_text[i]), why, sizeof why),
		    SSP_ERR_GENESIS);
		assert_null(g);
	}
	/* the valid document cut short */
	assert_int_equal(ssp_genesis_parse(&g, J_DEF, strlen(J_DEF) - 2, why, sizeof why),
	                 SSP_ERR_GENESIS);
	/* a duplicated key, at the top and inside an allocation */
	size_t jl = strlen(J_DEF);
	char *dup = malloc(jl + 64);
	snprintf(dup, jl + 64, "{\"chain_id\": \"ssp-x\",%s", J_DEF + 1);
	assert_int_equal(ssp_genesis_parse(&g, dup, strlen(dup), why, sizeof why), SSP_ERR_GENESIS);
	assert_non_null(strstr(why, "JSON"));
	const char *cat = strstr(J_DEF, "\"category\"");
	assert_non_null(cat);
	size_t off = (size_t)(cat - J_DEF);
	memcpy(dup, J_DEF, off);
	snprintf(dup + off, jl + 64 - off, "\"amount\": \"1\", %s", cat);
	assert_int_equal(ssp_genesis_parse(&g, dup, strlen(dup), why, sizeof why), SSP_ERR_GENESIS);
	free(dup);

	/* and the document itself parses, with what it says */
	assert_int_equal(ssp_genesis_parse(&g, J_FAST, strlen(J_FAST), why, sizeof why), 0);
	assert_string_equal(ssp_genesis_chain_id(g), FX_CHAIN_ID);
	assert_string_equal(ssp_genesis_network(g), "dev");
	assert_string_equal(ssp_genesis_hrp(g), "dssp");
	assert_int_equal(ssp_genesis_time_ms(g), T0);
	assert_memory_equal(ssp_genesis_producer(g)->b, PROD.addr.b, SSP_ADDR_LEN);
	assert_memory_equal(ssp_genesis_producer_key(g)->b, PROD.pk.b, 32);
	assert_int_equal(ssp_genesis_params(g)->month_seconds, 1);
	assert_int_equal(ssp_genesis_params(g)->min_fee, 1000);
	assert_int_equal(ssp_genesis_params(g)->fee_per_byte, 10);
	assert_int_equal(ssp_genesis_params(G_DEF)->month_seconds, 2592000);
	/* different documents, different hashes */
	assert_memory_not_equal(ssp_genesis_hash(g)->b, ssp_genesis_hash(G_DEF)->b, 32);
	ssp_genesis_free(g);
}

static void test_genesis_state(void **state)
{
	(void)state;
	fx_node n, m;
	fx_node_open(&n, NULL, G_DEF);
	const ssp_head *h = ssp_chain_head(n.chain);
	ssp_hash zero = {{0}};
	assert_int_equal(h->height, 0);
	assert_int_equal(h->timestamp_ms, T0);
	assert_memory_not_equal(h->state_root.b, zero.b, 32);
	/* block 0 is stored and is the head */
	size_t len;
	ssp_block b;
	uint8_t *raw = fx_block_copy(&n, 0, &len);
	assert_int_equal(ssp_block_decode(&b, raw, len, BIG), 0);
	assert_int_equal(b.ntx, 0);
	assert_int_equal(b.hdr.height, 0);
	assert_memory_equal(b.hdr.id.b, h->id.b, 32);
	assert_memory_equal(b.hdr.state_root.b, h->state_root.b, 32);
	assert_memory_equal(b.hdr.producer.b, PROD.addr.b, SSP_ADDR_LEN);
	ssp_block_free(&b);
	free(raw);

	ssp_account a = fx_account(&n, &ALICE.addr);
	assert_int_equal(a.balance, LIQ);
	assert_int_equal(a.locked, 0);
	assert_int_equal(a.nonce, 0);
	assert_false(a.has_key);
	assert_int_equal(a.grant_lock_ms, 0);
	a = fx_account(&n, &CAROL.addr);
	assert_int_equal(a.balance, LIQ);
	a = fx_account(&n, &FOUND.addr);
	assert_int_equal(a.balance, FOUND_AMT);
	assert_int_equal(a.locked, 0);
	assert_int_equal(a.grant_lock_ms, 24 * MONTH_MS);
	a = fx_account(&n, &TEAM.addr);
	assert_int_equal(a.balance, 0);
	assert_int_equal(a.locked, TEAM_AMT);
	a = fx_account(&n, &BOB.addr);
	assert_int_equal(a.balance, 0);
	assert_int_equal(a.locked, 0);
	assert_false(a.has_key);
	ssp_supply s = fx_supply(&n);
	assert_int_equal(s.total, SSP_TOTAL_SUPPLY);
	assert_int_equal(s.pool, POOL_AMT);
	assert_int_equal(s.locked, TEAM_AMT);
	assert_int_equal(s.circulating, 4 * LIQ + FOUND_AMT);
	fx_check_supply(&n);

	/* the same genesis elsewhere gives the same block 0 */
	fx_node_open(&m, NULL, G_DEF);
	assert_memory_equal(ssp_chain_head(m.chain)->id.b, h->id.b, 32);
	assert_memory_equal(ssp_chain_head(m.chain)->state_root.b, h->state_root.b, 32);
	fx_node_close(&m, false);
	/* another genesis (another month length) does not */
	fx_node_open(&m, NULL, G_FAST);
	assert_memory_not_equal(ssp_chain_head(m.chain)->state_root.b, h->state_root.b, 32);
	fx_node_close(&m, false);
	fx_node_close(&n, false);
}

/* -------------------------------------------------------- transfers, fees */

static void test_transfer_and_fees(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash id1, id2, id3;
	fx_node_open(&n, NULL, G_DEF);
	fx_xfer x = xf(&BOB, 150000000, 0, true);
	x.memo = "first";
	assert_int_equal(submit(&n, &ALICE, x, &id1), 0);
	assert_int_equal(ssp_mempool_count(n.pool), 1);
	assert_true(ssp_mempool_has(n.pool, &id1));
	assert_int_equal(ssp_mempool_pending_nonce(n.pool, &ALICE.addr), 1);
	assert_int_equal(ssp_mempool_pending_nonce(n.pool, &BOB.addr), 0);
	const ssp_hash g0 = ssp_chain_head(n.chain)->id;

	ssp_block_info info = fx_produce(&n, &PROD, T0 + 1000);
	assert_int_equal(info.ntx, 1);
	assert_int_equal(ssp_mempool_count(n.pool), 0);
	assert_int_equal(ssp_mempool_bytes(n.pool), 0);
	assert_false(ssp_mempool_has(n.pool, &id1));
	ssp_account a = fx_account(&n, &ALICE.addr), b = fx_account(&n, &BOB.addr);
	assert_int_equal(a.balance, LIQ - 150000000 - FEE);
	assert_int_equal(a.nonce, 1);
	assert_true(a.has_key);
	assert_int_equal(a.key.type, SSP_KEY_ED25519);
	assert_memory_equal(a.key.b, ALICE.pk.b, 32);
	assert_int_equal(b.balance, 150000000);
	assert_int_equal(b.nonce, 0);
	assert_int_equal(fx_supply(&n).pool, POOL_AMT + FEE);

	/* the block as stored */
	size_t len;
	ssp_block blk;
	uint8_t *raw = fx_block_copy(&n, 1, &len);
	assert_int_equal(len, info.bytes);
	assert_int_equal(ssp_block_decode(&blk, raw, len, BIG), 0);
	assert_int_equal(blk.hdr.height, 1);
	assert_int_equal(blk.hdr.slot, 10); /* 1000 ms after genesis in 100 ms slots */
	assert_int_equal(blk.hdr.timestamp_ms, T0 + 1000);
	assert_memory_equal(blk.hdr.prev_id.b, g0.b, 32);
	assert_memory_equal(blk.hdr.producer.b, PROD.addr.b, SSP_ADDR_LEN);
	assert_memory_equal(blk.hdr.id.b, info.id.b, 32);
	assert_memory_equal(blk.hdr.id.b, ssp_chain_head(n.chain)->id.b, 32);
	assert_memory_equal(blk.hdr.state_root.b, ssp_chain_head(n.chain)->state_root.b, 32);
	assert_int_equal(blk.ntx, 1);
	assert_memory_equal(blk.txs[0].txid.b, id1.b, 32);
	ssp_hash root;
	ssp_merkle_root(&root, &id1, 1);
	assert_memory_equal(blk.hdr.tx_root.b, root.b, 32);
	/* the producer's signature over the unsigned header */
	ssp_buf hb;
	ssp_buf_init(&hb, 4096);
	ssp_header_encode(&hb, &blk.hdr, false);
	assert_int_equal(
	    ssp_verify(&PROD.pk, SSP_DOM_BLOCK, FX_CHAIN_ID, hb.data, hb.len, &blk.hdr.sig), 0);
	ssp_buf_free(&hb);
	ssp_block_free(&blk);
	free(raw);
	/* indexes and the receipt */
	ssp_txn *rt;
	uint64_t height;
	uint32_t index;
	ssp_receipt r;
	assert_int_equal(ssp_store_read(n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_txloc(n.chain, rt, &id1, &height, &index), 0);
	assert_int_equal(height, 1);
	assert_int_equal(index, 0);
	assert_int_equal(ssp_chain_read_block_height(n.chain, rt, &info.id, &height), 0);
	assert_int_equal(height, 1);
	assert_int_equal(ssp_chain_read_receipt(n.chain, rt, 1, 0, &r), 0);
	assert_memory_equal(r.txid.b, id1.b, 32);
	assert_int_equal(r.status, SSP_RCPT_OK);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.fee_paid, FEE);
	ssp_receipt_free(&r);
	assert_int_equal(ssp_chain_read_receipt(n.chain, rt, 1, 1, &r), SSP_ERR_NOTFOUND);
	ssp_head hd;
	assert_int_equal(ssp_chain_read_head(n.chain, rt, &hd), 0);
	assert_int_equal(hd.height, 1);
	assert_memory_equal(hd.id.b, info.id.b, 32);
	ssp_txn_end(rt);

	/* a keyless second tx (the key is on chain now) and a p256 sender with a higher fee */
	x = xf(&BOB, 50000000, 1, false);
	assert_int_equal(submit(&n, &ALICE, x, &id2), 0);
	x = xf(&DAVE, 7 * COIN, 0, true);
	x.fee = 3 * FEE;
	assert_int_equal(submit(&n, &CAROL, x, &id3), 0);
	info = fx_produce(&n, &PROD, T0 + 2000);
	assert_int_equal(info.ntx, 2);
	a = fx_account(&n, &ALICE.addr);
	assert_int_equal(a.balance, LIQ - 200000000 - 2 * FEE);
	assert_int_equal(a.nonce, 2);
	assert_int_equal(fx_account(&n, &BOB.addr).balance, 200000000);
	a = fx_account(&n, &CAROL.addr);
	assert_int_equal(a.balance, LIQ - 7 * COIN - 3 * FEE);
	assert_true(a.has_key);
	assert_int_equal(a.key.type, SSP_KEY_P256);
	assert_memory_equal(a.key.b, CAROL.pk.b, 33);
	assert_int_equal(fx_account(&n, &DAVE.addr).balance, LIQ + 7 * COIN);
	/* every fee went to the pool; nothing was burned */
	ssp_supply s = fx_supply(&n);
	assert_int_equal(s.pool, POOL_AMT + 5 * FEE);
	assert_int_equal(s.locked, TEAM_AMT);
	assert_int_equal(s.total, SSP_TOTAL_SUPPLY);
	ssp_hash ids[4];
	assert_int_equal(block_txids(&n, 2, ids, 4), 2);
	assert_memory_equal(ids[0].b, id3.b, 32); /* the richer tx first */
	assert_memory_equal(ids[1].b, id2.b, 32);
	/* an empty block changes nothing but the head */
	info = fx_produce(&n, &PROD, T0 + 3000);
	assert_int_equal(info.ntx, 0);
	assert_int_equal(fx_supply(&n).pool, POOL_AMT + 5 * FEE);
	fx_node_close(&n, false);
}

static void test_nonce_order(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash a0, a1, a2, d0, tmp;
	fx_node_open(&n, NULL, G_DEF);
	fx_xfer x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &a0), 0);
	x = xf(&BOB, 2 * COIN, 1, false);
	x.fee = 10 * FEE; /* a richer later nonce still waits for its predecessor */
	assert_int_equal(submit(&n, &ALICE, x, &a1), 0);
	x = xf(&BOB, 3 * COIN, 3, false);
	assert_int_equal(submit(&n, &ALICE, x, &tmp), SSP_ERR_NONCE_GAP);
	assert_int_equal(ssp_mempool_rejected(n.pool, &tmp), SSP_ERR_NONCE_GAP);
	x = xf(&BOB, 3 * COIN, 2, false);
	assert_int_equal(submit(&n, &ALICE, x, &a2), 0);
	x = xf(&BOB, COIN, 0, true);
	x.fee = 5 * FEE;
	assert_int_equal(submit(&n, &DAVE, x, &d0), 0);
	assert_int_equal(ssp_mempool_pending_nonce(n.pool, &ALICE.addr), 3);
	assert_int_equal(ssp_mempool_count(n.pool), 4);

	ssp_block_info info = fx_produce(&n, &PROD, T0 + 1000);
	assert_int_equal(info.ntx, 4);
	ssp_hash ids[8];
	assert_int_equal(block_txids(&n, 1, ids, 8), 4);
	/* dave's head tx pays more than alice's head tx; alice's stay in nonce order */
	assert_memory_equal(ids[0].b, d0.b, 32);
	assert_memory_equal(ids[1].b, a0.b, 32);
	assert_memory_equal(ids[2].b, a1.b, 32);
	assert_memory_equal(ids[3].b, a2.b, 32);
	ssp_account a = fx_account(&n, &ALICE.addr);
	assert_int_equal(a.nonce, 3);
	assert_int_equal(a.balance, LIQ - 6 * COIN - 12 * FEE);
	assert_int_equal(fx_account(&n, &BOB.addr).balance, 7 * COIN);
	/* used nonces are refused now, the next one is taken */
	x = xf(&BOB, 9, 2, false);
	assert_int_equal(submit(&n, &ALICE, x, &tmp), SSP_ERR_NONCE_LOW);
	x = xf(&BOB, 9, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &tmp), SSP_ERR_NONCE_LOW);
	assert_int_equal(ssp_mempool_rejected(n.pool, &tmp), SSP_ERR_NONCE_LOW);
	x = xf(&BOB, 9, 4, false);
	assert_int_equal(submit(&n, &ALICE, x, &tmp), SSP_ERR_NONCE_GAP);
	x = xf(&BOB, 9, 3, false);
	assert_int_equal(submit(&n, &ALICE, x, &tmp), 0);
	assert_int_equal(ssp_mempool_pending_nonce(n.pool, &ALICE.addr), 4);
	fx_node_close(&n, false);
}

/* Every admission rejection, with its code. */
static void test_rejections(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash id, old;
	fx_xfer x;
	fx_node_open(&n, NULL, G_DEF);
	/* first use without the key */
	x = xf(&BOB, COIN, 0, false);
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_NOKEY);
	assert_int_equal(ssp_mempool_rejected(n.pool, &id), SSP_ERR_NOKEY);
	/* fee below the minimum: min_fee + fee_per_byte * size, exactly */
	x = xf(&BOB, COIN, 0, true);
	x.fee = 0;
	size_t len;
	uint8_t *raw = fx_sign_transfer(&ALICE, &x, &len, &id);
	free(raw);
	uint64_t min = ssp_chain_min_fee(n.chain, len);
	assert_int_equal(min, 1000 + 10 * len);
	x.fee = min - 1;
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_FEE_LOW);
	x.fee = 1;
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_FEE_LOW);
	/* expiry: at or below the head, and too far ahead */
	x = xf(&BOB, COIN, 0, true);
	x.expiry = 0;
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_EXPIRED);
	x.expiry = 100002; /* head 0: the next block accepts up to 1 + 100000 */
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_EXPIRY_FAR);
	/* no funds, too much, just enough */
	x = xf(&ALICE, COIN, 0, true);
	assert_int_equal(submit(&n, &BOB, x, &id), SSP_ERR_BALANCE);
	x = xf(&BOB, LIQ - FEE + 1, 0, true);
	assert_int_equal(submit(&n, &ERIN, x, &id), SSP_ERR_BALANCE);
	x = xf(&BOB, LIQ - FEE, 0, true);
	x.expiry = 100000; /* the farthest allowed */
	assert_int_equal(submit(&n, &ERIN, x, &id), 0);
	x = xf(&BOB, 1, 1, false); /* the pending tx spent it all */
	assert_int_equal(submit(&n, &ERIN, x, &id), SSP_ERR_BALANCE);
	/* another chain */
	x = xf(&BOB, COIN, 0, true);
	x.chain_id = "ssp-other";
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_CHAINID);
	/* to self */
	x = xf(&ALICE, COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_SELF_TRANSFER);
	/* zero amount: a bad payload */
	x = xf(&BOB, 0, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_PAYLOAD);
	/* an unknown type, properly signed */
	{
		ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
		                  .type = 9,
		                  .fee = FEE,
		                  .expiry = 10,
		                  .payload = (const uint8_t *)"x",
		                  .payload_len = 1,
		                  .include_pubkey = true};
		ssp_hash got;
		assert_int_equal(ssp_tx_sign(&raw, &len, &id, &b, &ALICE.sk), 0);
		assert_int_equal(ssp_mempool_add(n.pool, raw, len, false, &got), SSP_ERR_TXTYPE);
		free(raw);
	}
	/* a bad signature (one memo byte changed after signing) */
	x = xf(&BOB, COIN, 0, true);
	x.memo = "abc";
	raw = fx_sign_transfer(&ALICE, &x, &len, &id);
	raw[len - SSP_SIG_LEN - 1 - 33 - 1] ^= 0x03; /* last memo byte: 'c' -> '`' */
	{
		ssp_hash got;
		assert_int_equal(ssp_mempool_add(n.pool, raw, len, false, &got), SSP_ERR_BADSIG);
		assert_false(ssp_mempool_has(n.pool, &got));
		assert_int_equal(ssp_mempool_rejected(n.pool, &got), SSP_ERR_BADSIG);
		/* garbage */
		assert_int_equal(ssp_mempool_add(n.pool, raw, 10, false, &got), SSP_ERR_TRUNCATED);
	}
	free(raw);
	assert_int_equal(ssp_mempool_count(n.pool), 1); /* erin's */

	/* duplicates and replacement */
	x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &DAVE, x, &old), 0);
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_DUPLICATE);
	assert_memory_equal(id.b, old.b, 32);
	assert_int_equal(ssp_mempool_count(n.pool), 2);
	x.amount = 2 * COIN;
	x.fee = FEE * 11 / 10 - 1; /* 9.999% more */
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_FEE_REPLACE);
	assert_int_equal(ssp_mempool_rejected(n.pool, &id), SSP_ERR_FEE_REPLACE);
	assert_true(ssp_mempool_has(n.pool, &old));
	x.fee = FEE; /* same fee */
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_FEE_REPLACE);
	x.fee = FEE * 11 / 10; /* exactly 10% more */
	assert_int_equal(submit(&n, &DAVE, x, &id), 0);
	assert_true(ssp_mempool_has(n.pool, &id));
	assert_false(ssp_mempool_has(n.pool, &old));
	assert_int_equal(ssp_mempool_rejected(n.pool, &old), SSP_ERR_FEE_REPLACE);
	assert_int_equal(ssp_mempool_count(n.pool), 2);
	/* a replacement that would overdraw the sender */
	x.amount = LIQ;
	x.fee = 2 * FEE;
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_BALANCE);
	/* gaps */
	x = xf(&BOB, COIN, 2, false);
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_NONCE_GAP);

	ssp_block_info info = fx_produce(&n, &PROD, T0 + 1000);
	assert_int_equal(info.ntx, 2);
	/* the replacement was the one included */
	assert_int_equal(fx_account(&n, &DAVE.addr).balance, LIQ - 2 * COIN - FEE * 11 / 10);
	assert_int_equal(fx_account(&n, &ERIN.addr).balance, 0);
	x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_NONCE_LOW);
	/* expiry is relative to the head: 1 is now in the past */
	x = xf(&BOB, COIN, 1, false);
	x.expiry = 1;
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_EXPIRED);
	x.expiry = 2;
	assert_int_equal(submit(&n, &DAVE, x, &id), 0);
	fx_node_close(&n, false);
}

/* An exact-minimum-fee transfer: sign once to learn the size, then at its minimum. */
static fx_xfer xf_min(const fx_node *n, const fx_key *from, const fx_key *to, uint64_t nonce,
                      bool pubkey)
{
	fx_xfer x = xf(to, COIN, nonce, pubkey);
	size_t len;
	ssp_hash id;
	x.fee = 0;
	free(fx_sign_transfer(from, &x, &len, &id));
	x.fee = ssp_chain_min_fee(n->chain, len);
	return x;
}

/*
 * Regression: an equal priority never evicts what is pending (the newcomer
 * once sorted before every tail), and a first tx carrying its key at the
 * minimum fee ranks equal to a keyless one at its minimum, so it is not
 * pushed out by it (fee per byte would have ranked it lower).
 */
static void test_mempool_equal_priority(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash c0, id;
	fx_node_open(&n, NULL, G_DEF);
	/* alice's key goes on chain first */
	assert_int_equal(submit(&n, &ALICE, xf(&BOB, COIN, 0, true), &id), 0);
	assert_int_equal(fx_produce(&n, &PROD, T0 + 1000).ntx, 1);
	ssp_mempool *pool, *main_pool = n.pool;
	ssp_mempool_opts o = {.max_count = 1};
	assert_int_equal(ssp_mempool_new(&pool, n.chain, &o), 0);
	n.pool = pool;
	fx_xfer x = xf_min(&n, &CAROL, &BOB, 0, true);
	assert_int_equal(submit(&n, &CAROL, x, &c0), 0);
	/* same shape, same fee: refused, carol's stays */
	x = xf_min(&n, &DAVE, &BOB, 0, true);
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_MEMPOOL_FULL);
	/* keyless (smaller, more per byte) at its own minimum: still refused */
	x = xf_min(&n, &ALICE, &BOB, 1, false);
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_MEMPOOL_FULL);
	assert_true(ssp_mempool_has(pool, &c0));
	/* paying more over its minimum does evict */
	x.fee = x.fee * 2;
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	assert_false(ssp_mempool_has(pool, &c0));
	assert_int_equal(ssp_mempool_rejected(pool, &c0), SSP_ERR_MEMPOOL_FULL);
	n.pool = main_pool;
	ssp_mempool_free(pool);
	fx_node_close(&n, false);
}

/*
 * The producer's hold (ssp_mempool_set_hold): a block takes a tx once
 * `need` peers are known to hold it or once it waited hold_ms; a sender's
 * txs in nonce order up to its first one not ripe. No hold set: all at once.
 */
static void test_mempool_hold(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash a[3], c0, id;
	fx_node_open(&n, NULL, G_DEF);
	for (uint64_t k = 0; k < 3; k++)
		assert_int_equal(submit(&n, &ALICE, xf(&BOB, COIN, k, k == 0), &a[k]), 0);
	assert_int_equal(submit(&n, &CAROL, xf(&BOB, COIN, 0, true), &c0), 0);
	ssp_mempool_set_hold(n.pool, 3600 * 1000, 2);
	/* nobody holds them yet and they are fresh: an empty block */
	assert_int_equal(fx_produce(&n, &PROD, T0 + 1000).ntx, 0);
	/* alice's nonce 0 and 2 held by two peers, 1 by one (saying so twice), carol's by one */
	ssp_mempool_echo(n.pool, &a[0], 1, 0x3);
	ssp_mempool_echo(n.pool, &a[2], 1, 0x1);
	ssp_mempool_echo(n.pool, &a[2], 1, 0x8);
	ssp_mempool_echo(n.pool, &a[1], 1, 0x1);
	ssp_mempool_echo(n.pool, &a[1], 1, 0x1);
	ssp_mempool_echo(n.pool, &c0, 1, 0x4);
	ssp_block_info info = fx_produce(&n, &PROD, T0 + 2000);
	assert_int_equal(info.ntx, 1); /* alice's 0 only: her 2 waits behind her 1 */
	ssp_hash got[4];
	assert_int_equal(block_txids(&n, info.height, got, 4), 1);
	assert_memory_equal(got[0].b, a[0].b, 32);
	/* one more peer for alice's 1: her 1 and 2 go; carol's still waits */
	ssp_mempool_echo(n.pool, &a[1], 1, (uint64_t)1 << 63);
	info = fx_produce(&n, &PROD, T0 + 3000);
	assert_int_equal(info.ntx, 2);
	assert_true(ssp_mempool_has(n.pool, &c0));
	/* the wait is over (hold 0): carol's goes too */
	ssp_mempool_set_hold(n.pool, 0, 2);
	assert_int_equal(fx_produce(&n, &PROD, T0 + 4000).ntx, 1);
	/* no peers needed (a node alone): a new tx goes at once */
	ssp_mempool_set_hold(n.pool, 3600 * 1000, 0);
	assert_int_equal(submit(&n, &CAROL, xf(&BOB, COIN, 1, false), &id), 0);
	assert_int_equal(fx_produce(&n, &PROD, T0 + 5000).ntx, 1);
	fx_node_close(&n, false);
}

/*
 * Regression (issue 12): 70,000 free bad-signature submissions evicted the
 * remembered reasons of honest txs. Invalid submissions now fill a ring of
 * their own; txs dropped after admission and txs refused at admission keep
 * theirs, and the newest reason of a tx wins across the rings.
 */
static void test_mempool_rejection_memory(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash c0, d0, id, first_bad;
	fx_node_open(&n, NULL, G_DEF);
	ssp_mempool *pool, *main_pool = n.pool;
	ssp_mempool_opts o = {.max_count = 1, .rejected_memory = 64, .invalid_memory = 16};
	assert_int_equal(ssp_mempool_new(&pool, n.chain, &o), 0);
	n.pool = pool;
	/* carol's tx is admitted, then evicted by a richer one: dropped after admission */
	fx_xfer x = xf_min(&n, &CAROL, &BOB, 0, true);
	assert_int_equal(submit(&n, &CAROL, x, &c0), 0);
	x = xf_min(&n, &ALICE, &BOB, 0, true);
	x.fee *= 2;
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	assert_int_equal(ssp_mempool_rejected(pool, &c0), SSP_ERR_MEMPOOL_FULL);
	/* dave's is refused at admission */
	x = xf_min(&n, &DAVE, &BOB, 0, true);
	assert_int_equal(submit(&n, &DAVE, x, &d0), SSP_ERR_MEMPOOL_FULL);
	assert_int_equal(ssp_mempool_rejected(pool, &d0), SSP_ERR_MEMPOOL_FULL);

	/* bad signatures through admission, then 70,000 more as the node notes them */
	size_t len;
	uint8_t *raw = fx_sign_transfer(&DAVE,
	                                &(fx_xfer){.to = &BOB.addr,
	                                           .amount = 1,
	                                           .fee = FEE,
	                                           .nonce = 0,
	                                           .expiry = 1000,
	                                           .pubkey = true},
	                                &len, NULL);
	for (uint32_t i = 0; i < 100; i++) {
		memcpy(raw + len - 8, &i, sizeof i);
		assert_int_equal(ssp_mempool_add(pool, raw, len, false, &id), SSP_ERR_BADSIG);
		if (i == 0) first_bad = id;
	}
	free(raw);
	assert_int_equal(ssp_mempool_rejected(pool, &id), SSP_ERR_BADSIG);
	ssp_hash junk = {0};
	for (uint32_t i = 0; i < 70000; i++) {
		memcpy(junk.b, &i, sizeof i);
		junk.b[31] = 1;
		ssp_mempool_note_invalid(pool, &junk, SSP_ERR_BADSIG);
	}
	assert_int_equal(ssp_mempool_rejected(pool, &junk), SSP_ERR_BADSIG);
	assert_int_equal(ssp_mempool_rejected(pool, &first_bad), 0); /* its ring forgot it */
	assert_int_equal(ssp_mempool_rejected(pool, &c0), SSP_ERR_MEMPOOL_FULL);
	assert_int_equal(ssp_mempool_rejected(pool, &d0), SSP_ERR_MEMPOOL_FULL);

	/* the newest reason wins, whichever ring holds it */
	ssp_mempool_note_invalid(pool, &c0, SSP_ERR_CHAINID);
	assert_int_equal(ssp_mempool_rejected(pool, &c0), SSP_ERR_CHAINID);
	ssp_mempool_note_rejected(pool, &c0, SSP_ERR_NONCE_GAP);
	assert_int_equal(ssp_mempool_rejected(pool, &c0), SSP_ERR_NONCE_GAP);
	/* a full ring forgets its oldest first, and only that */
	for (uint32_t i = 0; i < 64; i++) {
		memcpy(junk.b, &i, sizeof i);
		junk.b[31] = 2;
		ssp_mempool_note_rejected(pool, &junk, SSP_ERR_NONCE_GAP);
	}
	assert_int_equal(ssp_mempool_rejected(pool, &d0), 0);
	assert_int_equal(ssp_mempool_rejected(pool, &junk), SSP_ERR_NONCE_GAP);
	n.pool = main_pool;
	ssp_mempool_free(pool);
	fx_node_close(&n, false);
}

/*
 * A tx dropped with VM_NODELIMIT (node-local VM limits: no fee was paid)
 * drops its successors and pauses its sender for 600 blocks; others are
 * unaffected, and the pause ends.
 */
static void test_mempool_pause(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash a0, a1, c0, id;
	fx_node_open(&n, NULL, G_DEF);
	assert_int_equal(submit(&n, &ALICE, xf(&BOB, COIN, 0, true), &a0), 0);
	assert_int_equal(submit(&n, &ALICE, xf(&BOB, COIN, 1, false), &a1), 0);
	assert_int_equal(submit(&n, &CAROL, xf(&BOB, COIN, 0, true), &c0), 0);
	ssp_mempool_drop_tx(n.pool, &a0, SSP_ERR_VM_NODELIMIT);
	assert_false(ssp_mempool_has(n.pool, &a0));
	assert_false(ssp_mempool_has(n.pool, &a1));
	assert_int_equal(ssp_mempool_rejected(n.pool, &a0), SSP_ERR_VM_NODELIMIT);
	assert_int_equal(submit(&n, &ALICE, xf(&BOB, 2 * COIN, 0, true), &id), SSP_ERR_PAUSED);
	assert_int_equal(ssp_mempool_rejected(n.pool, &id), SSP_ERR_PAUSED);
	assert_true(ssp_mempool_has(n.pool, &c0));
	assert_int_equal(submit(&n, &DAVE, xf(&BOB, COIN, 0, true), &id), 0);
	/* another reason to drop does not pause */
	ssp_mempool_drop_tx(n.pool, &id, SSP_ERR_BALANCE);
	assert_int_equal(submit(&n, &DAVE, xf(&BOB, 2 * COIN, 0, true), &id), 0);
	/* 600 blocks later alice may submit again */
	ssp_mempool_after_block(n.pool, NULL, 0, 599);
	assert_int_equal(submit(&n, &ALICE, xf(&BOB, 3 * COIN, 0, true), &id), SSP_ERR_PAUSED);
	ssp_mempool_after_block(n.pool, NULL, 0, 600);
	assert_int_equal(submit(&n, &ALICE, xf(&BOB, 3 * COIN, 0, true), &id), 0);
	fx_node_close(&n, false);
}

static void test_mempool_caps(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash a0, a1, c0, e0, id;
	fx_node_open(&n, NULL, G_DEF);
	ssp_mempool *pool;
	ssp_mempool_opts o = {.max_count = 3};
	assert_int_equal(ssp_mempool_new(&pool, n.chain, &o), 0);
	ssp_mempool *main_pool = n.pool;
	n.pool = pool;
	fx_xfer x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &a0), 0);
	x = xf(&BOB, COIN, 1, false); /* keyless: smaller, so more per byte than a0 */
	assert_int_equal(submit(&n, &ALICE, x, &a1), 0);
	x = xf(&BOB, COIN, 0, true);
	x.fee = 2 * FEE;
	assert_int_equal(submit(&n, &CAROL, x, &c0), 0);
	assert_int_equal(ssp_mempool_count(pool), 3);
	/* full: a tx paying no more per byte than the cheapest tail is refused */
	x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &DAVE, x, &id), SSP_ERR_MEMPOOL_FULL);
	assert_int_equal(ssp_mempool_rejected(pool, &id), SSP_ERR_MEMPOOL_FULL);
	/* the cheapest tail is alice's own: she cannot push it out */
	x = xf(&BOB, COIN, 2, false);
	x.fee = 50 * FEE;
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_MEMPOOL_FULL);
	/* a richer tx from someone else evicts that tail */
	x = xf(&BOB, COIN, 0, true);
	x.fee = 10 * FEE;
	assert_int_equal(submit(&n, &ERIN, x, &e0), 0);
	assert_int_equal(ssp_mempool_count(pool), 3);
	assert_true(ssp_mempool_has(pool, &e0));
	assert_true(ssp_mempool_has(pool, &a0));
	assert_true(ssp_mempool_has(pool, &c0));
	assert_false(ssp_mempool_has(pool, &a1));
	assert_int_equal(ssp_mempool_rejected(pool, &a1), SSP_ERR_MEMPOOL_FULL);
	assert_int_equal(ssp_mempool_pending_nonce(pool, &ALICE.addr), 1);
	/* and the next rich one evicts a0 — alice's queue stays gap-free */
	x = xf(&BOB, COIN, 0, true);
	x.fee = 10 * FEE;
	assert_int_equal(submit(&n, &DAVE, x, &id), 0);
	assert_false(ssp_mempool_has(pool, &a0));
	assert_int_equal(ssp_mempool_pending_nonce(pool, &ALICE.addr), 0);
	ssp_block_info info = fx_produce(&n, &PROD, T0 + 1000);
	assert_int_equal(info.ntx, 3);
	assert_int_equal(ssp_mempool_count(pool), 0);
	ssp_mempool_free(pool);

	/* per-sender cap */
	o = (ssp_mempool_opts){.max_per_sender = 2};
	assert_int_equal(ssp_mempool_new(&pool, n.chain, &o), 0);
	n.pool = pool;
	x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	x = xf(&BOB, COIN, 1, false);
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	x = xf(&BOB, COIN, 2, false);
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_MEMPOOL_FULL);
	x = xf(&BOB, COIN, 1, true);
	assert_int_equal(submit(&n, &DAVE, x, &id), 0);
	ssp_mempool_free(pool);

	/* byte cap: room for two txs with a key */
	x = xf(&BOB, COIN, 0, true);
	uint8_t *raw = fx_sign_transfer(&ALICE, &x, &o.max_bytes, &id);
	free(raw);
	o = (ssp_mempool_opts){.max_bytes = 2 * o.max_bytes + 10};
	assert_int_equal(ssp_mempool_new(&pool, n.chain, &o), 0);
	n.pool = pool;
	x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	assert_int_equal(submit(&n, &FOUND, x, &id), 0);
	x = xf(&BOB, COIN, 1, false);
	x.fee = FEE / 2; /* poorer per byte than both: nothing to evict */
	assert_int_equal(submit(&n, &ERIN, x, &id), SSP_ERR_MEMPOOL_FULL);
	assert_int_equal(ssp_mempool_count(pool), 2);
	assert_true(ssp_mempool_bytes(pool) <= o.max_bytes);
	ssp_mempool_free(pool);
	n.pool = main_pool;
	fx_node_close(&n, false);
}

static void test_fee_priority(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash a, d, e, c;
	fx_node_open(&n, NULL, G_DEF);
	fx_xfer x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &a), 0);
	x.fee = 3 * FEE;
	assert_int_equal(submit(&n, &DAVE, x, &d), 0);
	x.fee = FEE; /* ties alice: arrival order decides */
	assert_int_equal(submit(&n, &ERIN, x, &e), 0);
	x.fee = 2 * FEE; /* p256: 1 byte longer, still richer than FEE */
	assert_int_equal(submit(&n, &CAROL, x, &c), 0);
	fx_produce(&n, &PROD, T0 + 1000);
	ssp_hash ids[8];
	assert_int_equal(block_txids(&n, 1, ids, 8), 4);
	assert_memory_equal(ids[0].b, d.b, 32);
	assert_memory_equal(ids[1].b, c.b, 32);
	assert_memory_equal(ids[2].b, a.b, 32);
	assert_memory_equal(ids[3].b, e.b, 32);
	assert_int_equal(fx_supply(&n).pool, POOL_AMT + 7 * FEE);
	fx_node_close(&n, false);
}

static void test_expiry_eviction(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash a0, a1, d0, e0;
	fx_node_open(&n, NULL, G_ONE); /* one tx per block */
	fx_xfer x = xf(&BOB, COIN, 0, true);
	x.expiry = 1;
	assert_int_equal(submit(&n, &ALICE, x, &a0), 0);
	x = xf(&BOB, COIN, 1, false);
	x.expiry = 100;
	assert_int_equal(submit(&n, &ALICE, x, &a1), 0);
	x = xf(&BOB, COIN, 0, true);
	x.fee = 5 * FEE;
	x.expiry = 50;
	assert_int_equal(submit(&n, &DAVE, x, &d0), 0);
	x.fee = 2 * FEE;
	x.expiry = 2;
	assert_int_equal(submit(&n, &ERIN, x, &e0), 0);
	assert_int_equal(ssp_mempool_count(n.pool), 4);

	ssp_block_info info = fx_produce(&n, &PROD, T0 + 1000);
	assert_int_equal(info.ntx, 1);
	ssp_hash ids[2];
	assert_int_equal(block_txids(&n, 1, ids, 2), 1);
	assert_memory_equal(ids[0].b, d0.b, 32);
	/* alice's first tx expired at height 1; her second went with it */
	assert_false(ssp_mempool_has(n.pool, &a0));
	assert_false(ssp_mempool_has(n.pool, &a1));
	assert_int_equal(ssp_mempool_rejected(n.pool, &a0), SSP_ERR_EXPIRED);
	assert_int_equal(ssp_mempool_rejected(n.pool, &a1), SSP_ERR_EXPIRED);
	assert_true(ssp_mempool_has(n.pool, &e0));
	assert_int_equal(ssp_mempool_count(n.pool), 1);
	/* erin's expiry 2 is the last height that may include it */
	info = fx_produce(&n, &PROD, T0 + 2000);
	assert_int_equal(info.ntx, 1);
	assert_int_equal(fx_account(&n, &ERIN.addr).nonce, 1);
	assert_int_equal(fx_account(&n, &ALICE.addr).nonce, 0);
	assert_int_equal(fx_account(&n, &ALICE.addr).balance, LIQ);
	assert_int_equal(fx_account(&n, &BOB.addr).balance, 2 * COIN);
	assert_int_equal(ssp_mempool_count(n.pool), 0);
	fx_node_close(&n, false);
}

/* --------------------------------------------------------- vesting, grants */

static void test_team_vesting(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash id;
	const uint64_t step = TEAM_AMT / 12, last = TEAM_AMT - 11 * step;
	assert_int_equal(step, 8333333333333333ULL);
	assert_int_equal(last, 8333333333333337ULL);
	fx_node_open(&n, NULL, G_FAST);
	/* nothing is spendable yet */
	fx_xfer x = xf(&BOB, 1, 0, true);
	assert_int_equal(submit(&n, &TEAM, x, &id), SSP_ERR_BALANCE);
	/* half a month: nothing released */
	fx_produce(&n, &PROD, T0 + 500);
	ssp_account t = fx_account(&n, &TEAM.addr);
	assert_int_equal(t.balance, 0);
	assert_int_equal(t.locked, TEAM_AMT);
	assert_int_equal(fx_supply(&n).locked, TEAM_AMT);
	uint64_t spent = 0, released = 0;
	for (uint64_t k = 1; k <= 12; k++) {
		/* one ms before the step: still locked */
		fx_produce(&n, &PROD, T0 + k * 1000 - 1);
		t = fx_account(&n, &TEAM.addr);
		assert_int_equal(t.locked, TEAM_AMT - released);
		/* at the step's time: released */
		ssp_block_info info = fx_produce(&n, &PROD, T0 + k * 1000);
		released += k == 12 ? last : step;
		t = fx_account(&n, &TEAM.addr);
		assert_int_equal(t.locked, TEAM_AMT - released);
		assert_int_equal(t.balance, released - spent);
		assert_int_equal(fx_supply(&n).locked, TEAM_AMT - released);
		if (k == 1) {
			assert_int_equal(info.ntx, 0);
			/* cannot spend what is still locked */
			x = xf(&BOB, step, 0, true);
			assert_int_equal(submit(&n, &TEAM, x, &id), SSP_ERR_BALANCE);
			x = xf(&BOB, step - FEE + 1, 0, true);
			assert_int_equal(submit(&n, &TEAM, x, &id), SSP_ERR_BALANCE);
			/* the released part is spendable: all of it */
			x = xf(&BOB, step - FEE, 0, true);
			assert_int_equal(submit(&n, &TEAM, x, &id), 0);
			spent = step;
		}
		if (k == 2) assert_int_equal(info.ntx, 0); /* it went in the k=2 "-1" block */
	}
	assert_int_equal(t.locked, 0);
	assert_int_equal(t.balance, TEAM_AMT - step);
	assert_int_equal(fx_account(&n, &BOB.addr).balance, step - FEE);
	ssp_supply s = fx_supply(&n);
	assert_int_equal(s.locked, 0);
	assert_int_equal(s.pool, POOL_AMT + FEE);
	assert_int_equal(s.circulating, SSP_TOTAL_SUPPLY - POOL_AMT - FEE);
	fx_node_close(&n, false);
}

/* A block importing a tx that spends locked team funds is rejected. */
static void test_team_locked_in_block(void **state)
{
	(void)state;
	fx_node n;
	fx_node_open(&n, NULL, G_FAST);
	fx_xfer x = xf(&BOB, COIN, 0, true);
	size_t tl, bl;
	ssp_hash id;
	uint8_t *tx = fx_sign_transfer(&TEAM, &x, &tl, &id);
	const uint8_t *txs[1] = {tx};
	uint8_t *blk = fx_block_build(&n, &PROD, txs, &tl, 1, T0 + 500, &bl);
	ssp_block_info info;
	assert_int_equal(ssp_chain_import(n.chain, n.pool, blk, bl, &info), SSP_ERR_BLOCK_TX);
	free(blk);
	/* even after the first release, an amount over the released part */
	fx_produce(&n, &PROD, T0 + 1000);
	free(tx);
	x = xf(&BOB, TEAM_AMT / 12, 0, true);
	tx = fx_sign_transfer(&TEAM, &x, &tl, &id);
	txs[0] = tx;
	blk = fx_block_build(&n, &PROD, txs, &tl, 1, T0 + 1500, &bl);
	assert_int_equal(ssp_chain_import(n.chain, n.pool, blk, bl, &info), SSP_ERR_BLOCK_TX);
	assert_int_equal(ssp_chain_head(n.chain)->height, 1);
	assert_int_equal(fx_account(&n, &TEAM.addr).nonce, 0);
	free(blk);
	free(tx);
	fx_node_close(&n, false);
}

static void test_foundation_grant(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash id;
	const uint64_t lock_ms = 24 * 1000; /* 24 months of 1 s */
	fx_node_open(&n, NULL, G_FAST);
	assert_int_equal(fx_account(&n, &FOUND.addr).grant_lock_ms, lock_ms);
	fx_xfer x = xf(&BOB, COIN, 0, true); /* liquid, for bob's fees */
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	x = xf(&BOB, 100 * COIN, 0, true);
	assert_int_equal(submit(&n, &FOUND, x, &id), 0);
	fx_produce(&n, &PROD, T0 + 1000);
	ssp_account b = fx_account(&n, &BOB.addr), f = fx_account(&n, &FOUND.addr);
	assert_int_equal(b.balance, COIN);
	assert_int_equal(b.locked, 100 * COIN);
	assert_int_equal(b.grant_lock_ms, 0);
	assert_int_equal(f.balance, FOUND_AMT - 100 * COIN - FEE);
	assert_int_equal(f.locked, 0);
	ssp_supply s = fx_supply(&n);
	assert_int_equal(s.locked, fx_account(&n, &TEAM.addr).locked + 100 * COIN);

	/* the grant cannot be spent */
	x = xf(&CAROL, 50 * COIN, 0, true);
	assert_int_equal(submit(&n, &BOB, x, &id), SSP_ERR_BALANCE);
	/* nor in a block that someone else builds */
	{
		size_t tl, bl;
		uint8_t *tx = fx_sign_transfer(&BOB, &x, &tl, &id);
		const uint8_t *txs[1] = {tx};
		uint8_t *blk = fx_block_build(&n, &PROD, txs, &tl, 1, T0 + 1500, &bl);
		ssp_block_info info;
		assert_int_equal(ssp_chain_import(n.chain, n.pool, blk, bl, &info),
		                 SSP_ERR_BLOCK_TX);
		free(blk);
		free(tx);
	}
	/* bob's liquid coin is his to spend */
	x = xf(&CAROL, COIN / 2, 0, true);
	assert_int_equal(submit(&n, &BOB, x, &id), 0);
	fx_produce(&n, &PROD, T0 + 2000);
	b = fx_account(&n, &BOB.addr);
	assert_int_equal(b.balance, COIN / 2 - FEE);
	assert_int_equal(b.locked, 100 * COIN);
	/* one ms before the 24 months: still locked */
	fx_produce(&n, &PROD, T0 + 1000 + lock_ms - 1);
	assert_int_equal(fx_account(&n, &BOB.addr).locked, 100 * COIN);
	assert_int_equal(fx_supply(&n).locked, 100 * COIN); /* the team is fully vested */
	fx_produce(&n, &PROD, T0 + 1000 + lock_ms);
	b = fx_account(&n, &BOB.addr);
	assert_int_equal(b.locked, 0);
	assert_int_equal(b.balance, 100 * COIN + COIN / 2 - FEE);
	assert_int_equal(fx_supply(&n).locked, 0);
	/* spendable now; what bob sends on is liquid (only the foundation locks) */
	x = xf(&CAROL, 50 * COIN, 1, false);
	assert_int_equal(submit(&n, &BOB, x, &id), 0);
	fx_produce(&n, &PROD, T0 + 1000 + lock_ms + 100); /* the next 100 ms slot */
	ssp_account c = fx_account(&n, &CAROL.addr);
	assert_int_equal(c.balance, LIQ + 50 * COIN + COIN / 2);
	assert_int_equal(c.locked, 0);
	/* a second grant locks from its own block's time */
	x = xf(&DAVE, 7 * COIN, 1, false);
	assert_int_equal(submit(&n, &FOUND, x, &id), 0);
	uint64_t t2 = T0 + 1000 + lock_ms + 200; /* a slot boundary */
	fx_produce(&n, &PROD, t2);
	assert_int_equal(fx_account(&n, &DAVE.addr).locked, 7 * COIN);
	assert_int_equal(fx_account(&n, &DAVE.addr).balance, LIQ);
	fx_produce(&n, &PROD, t2 + lock_ms - 1);
	assert_int_equal(fx_account(&n, &DAVE.addr).locked, 7 * COIN);
	fx_produce(&n, &PROD, t2 + lock_ms);
	assert_int_equal(fx_account(&n, &DAVE.addr).locked, 0);
	assert_int_equal(fx_account(&n, &DAVE.addr).balance, LIQ + 7 * COIN);
	fx_node_close(&n, false);
}

/* ------------------------------------------------------------------ reopen */

static void test_reopen(void **state)
{
	(void)state;
	fx_node n, other;
	ssp_hash id;
	fx_node_open(&n, NULL, G_DEF);
	fx_xfer x = xf(&BOB, 3 * COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	fx_produce(&n, &PROD, T0 + 1000);
	x = xf(&ALICE, COIN, 0, true);
	assert_int_equal(submit(&n, &CAROL, x, &id), 0);
	fx_produce(&n, &PROD, T0 + 2000);
	fx_produce(&n, &PROD, T0 + 3000);
	ssp_head h = *ssp_chain_head(n.chain);
	ssp_account a = fx_account(&n, &ALICE.addr), b = fx_account(&n, &BOB.addr);
	ssp_supply s = fx_supply(&n);

	/* the datadir is locked while open */
	ssp_store *st2;
	ssp_store_opts so = {.map_size = (size_t)64 << 20, .no_sync = true};
	assert_int_equal(ssp_store_open(&st2, n.dir, &so), SSP_ERR_DBLOCKED);

	char dir[64];
	snprintf(dir, sizeof dir, "%s", n.dir);
	fx_node_close(&n, true);
	fx_node_open(&n, dir, G_DEF);
	n.own_dir = true;
	const ssp_head *h2 = ssp_chain_head(n.chain);
	assert_int_equal(h2->height, 3);
	assert_memory_equal(h2->id.b, h.id.b, 32);
	assert_memory_equal(h2->state_root.b, h.state_root.b, 32);
	assert_int_equal(h2->timestamp_ms, h.timestamp_ms);
	assert_int_equal(h2->slot, h.slot);
	ssp_account a2 = fx_account(&n, &ALICE.addr), b2 = fx_account(&n, &BOB.addr);
	assert_int_equal(a2.balance, a.balance);
	assert_int_equal(a2.balance, LIQ - 3 * COIN - FEE + COIN);
	assert_int_equal(a2.nonce, 1);
	assert_true(a2.has_key);
	assert_memory_equal(a2.key.b, ALICE.pk.b, 32);
	assert_int_equal(b2.balance, b.balance);
	ssp_supply s2 = fx_supply(&n);
	assert_int_equal(s2.pool, s.pool);
	assert_int_equal(s2.locked, s.locked);
	fx_check_supply(&n);
	/* and it goes on from there */
	x = xf(&BOB, COIN, 1, false);
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	ssp_block_info info = fx_produce(&n, &PROD, T0 + 4000);
	assert_int_equal(info.ntx, 1);
	size_t len;
	ssp_block blk;
	uint8_t *raw = fx_block_copy(&n, 4, &len);
	assert_int_equal(ssp_block_decode(&blk, raw, len, BIG), 0);
	assert_memory_equal(blk.hdr.prev_id.b, h.id.b, 32);
	ssp_block_free(&blk);
	free(raw);
	fx_node_close(&n, true);

	/* the datadir belongs to this chain: another genesis is refused */
	ssp_store *st;
	ssp_chain *c;
	assert_int_equal(ssp_store_open(&st, dir, &so), 0);
	assert_int_equal(ssp_chain_open(&c, st, G_FAST, NULL, 0), SSP_ERR_DBVERSION);
	assert_null(c);
	ssp_store_close(st);
	fx_node_open(&other, dir, G_DEF);
	assert_int_equal(ssp_chain_head(other.chain)->height, 4);
	other.own_dir = true;
	fx_node_close(&other, false);
}

/* ------------------------------------------------------------------ import */

static void assert_same_state(const fx_node *a, const fx_node *b)
{
	const ssp_head *ha = ssp_chain_head(a->chain), *hb = ssp_chain_head(b->chain);
	assert_int_equal(ha->height, hb->height);
	assert_memory_equal(ha->id.b, hb->id.b, 32);
	assert_memory_equal(ha->state_root.b, hb->state_root.b, 32);
	const fx_key *keys[] = {&ALICE, &CAROL, &DAVE, &ERIN, &FOUND, &TEAM, &BOB};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		ssp_account x = fx_account(a, &keys[i]->addr), y = fx_account(b, &keys[i]->addr);
		assert_int_equal(x.balance, y.balance);
		assert_int_equal(x.locked, y.locked);
		assert_int_equal(x.nonce, y.nonce);
		assert_int_equal(x.has_key, y.has_key);
	}
	assert_int_equal(fx_supply(a).pool, fx_supply(b).pool);
	assert_int_equal(fx_supply(a).locked, fx_supply(b).locked);
}

static void test_import_replay(void **state)
{
	(void)state;
	fx_node a, b;
	ssp_hash id, pend;
	fx_node_open(&a, NULL, G_FAST);
	fx_node_open(&b, NULL, G_FAST);
	/* B already holds one of the txs A will include */
	fx_xfer x = xf(&BOB, 2 * COIN, 0, true);
	size_t pl;
	uint8_t *praw = fx_sign_transfer(&ALICE, &x, &pl, &pend);
	assert_int_equal(ssp_mempool_add(a.pool, praw, pl, false, &id), 0);
	assert_int_equal(ssp_mempool_add(b.pool, praw, pl, false, &id), 0);
	free(praw);
	x = xf(&ALICE, 3 * COIN, 0, true);
	assert_int_equal(submit(&a, &CAROL, x, &id), 0);
	fx_produce(&a, &PROD, T0 + 1000);
	x = xf(&DAVE, 4 * COIN, 0, true);
	assert_int_equal(submit(&a, &FOUND, x, &id), 0); /* a grant lock */
	x = xf(&CAROL, COIN, 1, false);
	assert_int_equal(submit(&a, &ALICE, x, &id), 0);
	fx_produce(&a, &PROD, T0 + 2000);
	fx_produce(&a, &PROD, T0 + 3500); /* team releases on the way */
	x = xf(&ERIN, COIN, 0, true);
	assert_int_equal(submit(&a, &BOB, x, &id), 0);
	fx_produce(&a, &PROD, T0 + 4000);

	for (uint64_t h = 1; h <= 4; h++) {
		size_t len;
		ssp_block_info info;
		uint8_t *raw = fx_block_copy(&a, h, &len);
		assert_int_equal(ssp_chain_import(b.chain, b.pool, raw, len, &info), 0);
		assert_int_equal(info.height, h);
		assert_int_equal(info.bytes, len);
		fx_check_supply(&b);
		if (h == 1) {
			/* the included tx left B's pool */
			assert_false(ssp_mempool_has(b.pool, &pend));
			assert_int_equal(ssp_mempool_count(b.pool), 0);
		}
		/* the same block again no longer extends the head */
		assert_int_equal(ssp_chain_import(b.chain, b.pool, raw, len, &info),
		                 SSP_ERR_BLOCK_HEIGHT);
		free(raw);
	}
	assert_same_state(&a, &b);
	assert_int_equal(fx_account(&b, &DAVE.addr).locked, 4 * COIN);
	/* the receipts and tx index were built too */
	ssp_txn *rt;
	uint64_t height;
	uint32_t index;
	assert_int_equal(ssp_store_read(b.store, &rt), 0);
	assert_int_equal(ssp_chain_read_txloc(b.chain, rt, &pend, &height, &index), 0);
	assert_int_equal(height, 1);
	ssp_txn_end(rt);
	fx_node_close(&a, false);
	fx_node_close(&b, false);
}

typedef struct {
	ssp_block blk;
	ssp_header h;
	const uint8_t *tx[16];
	size_t len[16];
	size_t n;
} parsed;

static void parse_block(parsed *p, const uint8_t *raw, size_t len)
{
	assert_int_equal(ssp_block_decode(&p->blk, raw, len, BIG), 0);
	p->h = p->blk.hdr;
	p->n = p->blk.ntx;
	assert_true(p->n <= 16);
	for (size_t i = 0; i < p->n; i++) {
		p->tx[i] = p->blk.txs[i].raw;
		p->len[i] = p->blk.txs[i].raw_len;
	}
}

/* Re-encodes p (with signer: re-signed) and imports it into n; returns the code. */
static int import_variant(fx_node *n, parsed *p, const fx_key *signer)
{
	size_t len;
	ssp_block_info info;
	uint8_t *raw = fx_block_encode(&p->h, p->tx, p->len, p->n, signer, FX_CHAIN_ID, &len);
	int rc = ssp_chain_import(n->chain, n->pool, raw, len, &info);
	free(raw);
	return rc;
}

static void test_import_tampered(void **state)
{
	(void)state;
	fx_node a, b;
	ssp_hash id;
	fx_node_open(&a, NULL, G_DEF);
	fx_node_open(&b, NULL, G_DEF);
	fx_xfer x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&a, &ALICE, x, &id), 0);
	x.fee = 2 * FEE;
	assert_int_equal(submit(&a, &CAROL, x, &id), 0);
	fx_produce(&a, &PROD, T0 + 1000);
	size_t len;
	uint8_t *raw = fx_block_copy(&a, 1, &len);
	parsed p;
	ssp_block_info info;
	parse_block(&p, raw, len);
	assert_int_equal(p.n, 2);
	const ssp_header orig = p.h;

	/* re-encoding unchanged and re-signing (ed25519: deterministic) is the same block */
	{
		size_t l2;
		uint8_t *same = fx_block_encode(&p.h, p.tx, p.len, p.n, &PROD, FX_CHAIN_ID, &l2);
		assert_int_equal(l2, len);
		assert_memory_equal(same, raw, len);
		free(same);
	}
	/* any header change without a new signature: BADSIG */
	p.h.state_root.b[0] ^= 1;
	assert_int_equal(import_variant(&b, &p, NULL), SSP_ERR_BADSIG);
	/* re-signed, the state root itself is checked */
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_STATE);
	p.h = orig;
	p.h.tx_root.b[5] ^= 0x40;
	assert_int_equal(import_variant(&b, &p, NULL), SSP_ERR_BADSIG);
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_ROOT);
	p.h = orig;
	p.h.receipts_root.b[31] ^= 0x80;
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_ROOT);
	p.h = orig;
	p.h.height = 2;
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_HEIGHT);
	p.h.height = 0;
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_HEIGHT);
	p.h = orig;
	p.h.prev_id.b[0] ^= 1;
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_PREV);
	/* another producer, signing for itself */
	p.h = orig;
	p.h.producer = ALICE.addr;
	assert_int_equal(import_variant(&b, &p, &ALICE), SSP_ERR_BLOCK_PRODUCER);
	/* the right producer field, the wrong key */
	p.h = orig;
	assert_int_equal(import_variant(&b, &p, &ALICE), SSP_ERR_BADSIG);
	/* a signature for another chain */
	{
		size_t l2;
		p.h = orig;
		uint8_t *other = fx_block_encode(&p.h, p.tx, p.len, p.n, &PROD, "ssp-other", &l2);
		assert_int_equal(ssp_chain_import(b.chain, b.pool, other, l2, &info),
		                 SSP_ERR_BADSIG);
		free(other);
	}
	/* timestamps: not after the head, or from the future */
	p.h = orig;
	p.h.timestamp_ms = T0;
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_TIME);
	p.h.timestamp_ms = ssp_now_ms() + 60000;
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_TIME);
	/* the txs swapped: tx root fixed up, the receipts root no longer matches */
	p.h = orig;
	{
		const uint8_t *t0 = p.tx[0];
		size_t l0 = p.len[0];
		p.tx[0] = p.tx[1];
		p.len[0] = p.len[1];
		p.tx[1] = t0;
		p.len[1] = l0;
		fx_tx_root(&p.h.tx_root, p.tx, p.len, 2);
		assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_ROOT);
		p.tx[1] = p.tx[0];
		p.len[1] = p.len[0];
		p.tx[0] = t0;
		p.len[0] = l0;
	}
	/* a tx with a bad signature inside (tx root recomputed) */
	p.h = orig;
	{
		uint8_t *bad = malloc(p.len[1]);
		memcpy(bad, p.tx[1], p.len[1]);
		bad[p.len[1] - 1] ^= 0x01;
		const uint8_t *keep = p.tx[1];
		p.tx[1] = bad;
		fx_tx_root(&p.h.tx_root, p.tx, p.len, 2);
		assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_TX);
		/* and a valid tx signed by the wrong key */
		fx_xfer y = xf(&BOB, COIN, 0, true);
		size_t yl;
		uint8_t *yraw = fx_sign_transfer(&DAVE, &y, &yl, &id);
		memcpy(yraw + 12, CAROL.addr.b, 20); /* claims carol: key mismatch, not decodable */
		p.tx[1] = yraw;
		p.len[1] = yl;
		assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_KEYMISMATCH);
		free(yraw);
		p.tx[1] = keep;
		p.len[1] = p.blk.txs[1].raw_len;
		free(bad);
	}
	/* the same tx twice */
	p.h = orig;
	p.tx[1] = p.tx[0];
	p.len[1] = p.len[0];
	fx_tx_root(&p.h.tx_root, p.tx, p.len, 2);
	assert_int_equal(import_variant(&b, &p, &PROD), SSP_ERR_BLOCK_TX);
	p.tx[1] = p.blk.txs[1].raw;
	p.len[1] = p.blk.txs[1].raw_len;
	/* framing */
	{
		uint8_t *longer = malloc(len + 1);
		memcpy(longer, raw, len);
		longer[len] = 0;
		assert_int_equal(ssp_chain_import(b.chain, b.pool, longer, len + 1, &info),
		                 SSP_ERR_TRAILING);
		assert_int_equal(ssp_chain_import(b.chain, b.pool, raw, len - 1, &info),
		                 SSP_ERR_TRUNCATED);
		free(longer);
	}
	/* every failure left B at genesis, and the real block still imports */
	assert_int_equal(ssp_chain_head(b.chain)->height, 0);
	assert_int_equal(fx_account(&b, &ALICE.addr).balance, LIQ);
	assert_int_equal(ssp_chain_import(b.chain, b.pool, raw, len, &info), 0);
	assert_same_state(&a, &b);
	ssp_block_free(&p.blk);
	free(raw);
	fx_node_close(&a, false);
	fx_node_close(&b, false);
}

/*
 * A pending tx that became invalid while its sender has later nonces
 * pending: production drops it and its successors and goes on. Here a
 * conflicting tx of the same nonce arrives in an imported block, so alice's
 * next pending tx can no longer be paid for.
 */
static void test_produce_drops_invalid_sender(void **state)
{
	(void)state;
	fx_node a, b;
	ssp_hash n0, n1, n2, d0, id;
	fx_node_open(&a, NULL, G_DEF);
	fx_node_open(&b, NULL, G_DEF);
	fx_xfer x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&a, &ALICE, x, &n0), 0);
	x = xf(&BOB, COIN, 1, false);
	assert_int_equal(submit(&a, &ALICE, x, &n1), 0);
	x = xf(&BOB, COIN, 2, false);
	assert_int_equal(submit(&a, &ALICE, x, &n2), 0);
	x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&a, &DAVE, x, &d0), 0);
	/* elsewhere, alice spends nearly everything with nonce 0 */
	x = xf(&CAROL, LIQ - FEE - 10, 0, true);
	assert_int_equal(submit(&b, &ALICE, x, &id), 0);
	fx_produce(&b, &PROD, T0 + 1000);
	size_t len;
	ssp_block_info info;
	uint8_t *raw = fx_block_copy(&b, 1, &len);
	assert_int_equal(ssp_chain_import(a.chain, a.pool, raw, len, &info), 0);
	free(raw);
	assert_false(ssp_mempool_has(a.pool, &n0));
	assert_int_equal(ssp_mempool_rejected(a.pool, &n0), SSP_ERR_NONCE_LOW);
	assert_int_equal(ssp_mempool_count(a.pool), 3);
	info = fx_produce(&a, &PROD, T0 + 2000);
	assert_int_equal(info.ntx, 1); /* dave's */
	assert_int_equal(ssp_mempool_count(a.pool), 0);
	assert_int_equal(ssp_mempool_rejected(a.pool, &n1), SSP_ERR_BALANCE);
	assert_int_equal(ssp_mempool_rejected(a.pool, &n2), SSP_ERR_BALANCE);
	assert_int_equal(fx_account(&a, &ALICE.addr).balance, 10);
	assert_int_equal(fx_account(&a, &ALICE.addr).nonce, 1);
	assert_int_equal(fx_account(&a, &DAVE.addr).nonce, 1);
	fx_node_close(&a, false);
	fx_node_close(&b, false);
}

/*
 * The key of a keyless account must come with its first pending tx: a
 * replacement of that tx without the key is refused, even though a later
 * pending tx (or the replaced one) carried it.
 */
static void test_replacement_keeps_key(void **state)
{
	(void)state;
	fx_node n;
	ssp_hash n0, n1, id;
	fx_node_open(&n, NULL, G_DEF);
	fx_xfer x = xf(&BOB, COIN, 0, true);
	assert_int_equal(submit(&n, &ALICE, x, &n0), 0);
	x = xf(&BOB, COIN, 1, false); /* verified with the key of the pending nonce 0 */
	assert_int_equal(submit(&n, &ALICE, x, &n1), 0);
	x = xf(&BOB, 2 * COIN, 0, false);
	x.fee = 2 * FEE;
	assert_int_equal(submit(&n, &ALICE, x, &id), SSP_ERR_NOKEY);
	assert_true(ssp_mempool_has(n.pool, &n0));
	/* with the key, the replacement is fine */
	x.pubkey = true;
	assert_int_equal(submit(&n, &ALICE, x, &id), 0);
	ssp_block_info info = fx_produce(&n, &PROD, T0 + 1000);
	assert_int_equal(info.ntx, 2);
	assert_int_equal(fx_account(&n, &BOB.addr).balance, 3 * COIN);
	assert_int_equal(fx_account(&n, &ALICE.addr).nonce, 2);
	fx_node_close(&n, false);
}

/* The stateless and signature checks the RPC layer calls directly. */
static void test_check_and_verify(void **state)
{
	(void)state;
	fx_node n;
	ssp_tx tx;
	size_t len;
	ssp_txn *rt;
	fx_node_open(&n, NULL, G_DEF);
	fx_xfer x = xf(&BOB, COIN, 1, false);
	uint8_t *keyless = fx_sign_transfer(&ALICE, &x, &len, NULL);
	assert_int_equal(ssp_tx_decode(&tx, keyless, len), 0);
	assert_int_equal(ssp_chain_check_tx(n.chain, &tx), 0);
	assert_int_equal(ssp_store_read(n.store, &rt), 0);
	assert_int_equal(ssp_chain_verify_tx(n.chain, rt, &tx), SSP_ERR_NOKEY);
	ssp_txn_end(rt);
	/* once alice's key is on chain, the keyless tx verifies against it */
	ssp_hash id;
	assert_int_equal(submit(&n, &ALICE, xf(&BOB, COIN, 0, true), &id), 0);
	fx_produce(&n, &PROD, T0 + 1000);
	assert_int_equal(ssp_store_read(n.store, &rt), 0);
	assert_int_equal(ssp_chain_verify_tx(n.chain, rt, &tx), 0);
	keyless[len - 1] ^= 1;
	assert_int_equal(ssp_tx_decode(&tx, keyless, len), 0);
	assert_int_equal(ssp_chain_verify_tx(n.chain, rt, &tx), SSP_ERR_BADSIG);
	/* bob's tx claiming alice's key on record does not verify either */
	uint8_t *bobs = fx_sign_transfer(&BOB, &x, &len, NULL);
	memcpy(bobs + 12, ALICE.addr.b, 20);
	assert_int_equal(ssp_tx_decode(&tx, bobs, len), 0);
	assert_int_equal(ssp_chain_verify_tx(n.chain, rt, &tx), SSP_ERR_BADSIG);
	ssp_txn_end(rt);
	free(bobs);
	free(keyless);
	/* stateless checks, one code each */
	struct {
		fx_xfer x;
		int rc;
	} cases[] = {
	    {xf(&BOB, COIN, 0, true), 0},
	    {xf(&ALICE, COIN, 0, true), SSP_ERR_SELF_TRANSFER},
	    {xf(&BOB, 0, 0, true), SSP_ERR_PAYLOAD},
	};
	for (size_t i = 0; i < 3; i++) {
		uint8_t *raw = fx_sign_transfer(&ALICE, &cases[i].x, &len, NULL);
		assert_int_equal(ssp_tx_decode(&tx, raw, len), 0);
		assert_int_equal(ssp_chain_check_tx(n.chain, &tx), cases[i].rc);
		free(raw);
	}
	x = xf(&BOB, COIN, 0, true);
	x.chain_id = "ssp-other";
	uint8_t *raw = fx_sign_transfer(&ALICE, &x, &len, NULL);
	assert_int_equal(ssp_tx_decode(&tx, raw, len), 0);
	assert_int_equal(ssp_chain_check_tx(n.chain, &tx), SSP_ERR_CHAINID);
	free(raw);
	x.chain_id = NULL;
	x.fee = 1000; /* min_fee alone, without the per-byte part */
	raw = fx_sign_transfer(&ALICE, &x, &len, NULL);
	assert_int_equal(ssp_tx_decode(&tx, raw, len), 0);
	assert_int_equal(ssp_chain_check_tx(n.chain, &tx), SSP_ERR_FEE_LOW);
	free(raw);
	{
		ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
		                  .type = 0x7fff,
		                  .fee = FEE,
		                  .expiry = 5,
		                  .include_pubkey = true};
		assert_int_equal(ssp_tx_sign(&raw, &len, &id, &b, &ALICE.sk), 0);
		assert_int_equal(ssp_tx_decode(&tx, raw, len), 0);
		assert_int_equal(ssp_chain_check_tx(n.chain, &tx), SSP_ERR_TXTYPE);
		free(raw);
	}
	assert_non_null(ssp_chain_txtype(n.chain, SSP_TX_TRANSFER));
	assert_string_equal(ssp_chain_txtype(n.chain, SSP_TX_TRANSFER)->name, "transfer");
	assert_null(ssp_chain_txtype(n.chain, 0x7fff));
	fx_node_close(&n, false);
}

/* The devnet genesis builder makes a document the parser accepts. */
static void test_dev_genesis(void **state)
{
	(void)state;
	char *json = ssp_genesis_dev_json(&ALICE.addr, &PROD.pk, T0);
	assert_non_null(json);
	ssp_genesis *g = fx_genesis(json);
	assert_string_equal(ssp_genesis_chain_id(g), "ssp-devnet");
	assert_string_equal(ssp_genesis_hrp(g), "dssp");
	assert_int_equal(ssp_genesis_time_ms(g), T0);
	assert_memory_equal(ssp_genesis_producer(g)->b, PROD.addr.b, SSP_ADDR_LEN);
	fx_node n;
	fx_node_open(&n, NULL, g);
	assert_int_equal(fx_account(&n, &ALICE.addr).balance, 4 * LIQ);
	ssp_supply s = fx_supply(&n);
	assert_int_equal(s.pool, POOL_AMT);
	assert_int_equal(s.locked, TEAM_AMT);
	fx_node_close(&n, false);
	ssp_genesis_free(g);
	free(json);
}

/* ------------------------------------------------------------- slots */

/*
 * An empty block on a's head at `time_ms` in `slot`, signed by signer: its
 * roots from executing it (then aborted) when the slot is acceptable, else
 * zero roots (the slot check comes first).
 */
static uint8_t *slot_block(fx_node *a, const fx_key *signer, uint64_t slot, uint64_t time_ms,
                           size_t *len)
{
	const ssp_head *hd = ssp_chain_head(a->chain);
	ssp_header h;
	ssp_exec *x;
	memset(&h, 0, sizeof h);
	if (ssp_chain_begin(a->chain, &x, slot, time_ms) == 0) {
		assert_int_equal(ssp_exec_header(x, &h, &signer->addr), 0);
		ssp_exec_abort(x);
	}
	h.height = hd->height + 1;
	h.prev_id = hd->id;
	h.slot = slot;
	h.timestamp_ms = time_ms;
	h.producer = signer->addr;
	return fx_block_encode(&h, NULL, NULL, 0, signer, FX_CHAIN_ID, len);
}

/* Odd slots belong to ALICE, even ones to PROD: a stand-in for a real schedule. */
static int alternate(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
                     ssp_pubkey *key)
{
	(void)ctx;
	(void)c;
	(void)parent;
	*key = slot % 2 ? ALICE.pk : PROD.pk;
	return 0;
}

static uint64_t final_two_behind(void *ctx, const ssp_chain *c, const ssp_head *head)
{
	(void)ctx;
	(void)c;
	return head->height >= 2 ? head->height - 2 : 0;
}

/*
 * The slot rules an imported block must meet (a block's slot follows its
 * parent's; its timestamp lies inside its slot; a time ahead of this
 * node's clock is "not yet", never invalid), and the producer and the
 * finality rule come from the consensus interface.
 */
static void test_import_slot_rules(void **state)
{
	(void)state;
	fx_node n;
	size_t len;
	uint8_t *b;
	ssp_block_info info;
	fx_node_open(&n, NULL, G_DEF);
	uint64_t t = T0 + 1000, s = ssp_chain_slot_at(n.chain, t);
	assert_int_equal(s, 10);
	assert_int_equal(ssp_chain_slot_start(n.chain, s), t);
	/* the slot does not match the timestamp */
	b = slot_block(&n, &PROD, s + 1, t, &len);
	assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), SSP_ERR_BLOCK_TIME);
	free(b);
	b = slot_block(&n, &PROD, s, t + 100, &len);
	assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), SSP_ERR_BLOCK_TIME);
	free(b);
	/* a block from the future is refused for now, not as invalid */
	uint64_t later = ssp_now_ms() + 60000;
	b = slot_block(&n, &PROD, ssp_chain_slot_at(n.chain, later), later, &len);
	assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), SSP_ERR_BLOCK_EARLY);
	free(b);
	/* a good one */
	b = slot_block(&n, &PROD, s, t, &len);
	assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), 0);
	free(b);
	assert_int_equal(ssp_chain_head(n.chain)->slot, s);
	/* the same slot again, a later time in it: the slot must move on */
	b = slot_block(&n, &PROD, s, t + 50, &len);
	assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), SSP_ERR_BLOCK_TIME);
	free(b);
	/* with another schedule, PROD may not sign odd slots, ALICE may */
	ssp_consensus cs = {.producer = alternate, .finalized = final_two_behind};
	ssp_chain_set_consensus(n.chain, &cs);
	b = slot_block(&n, &PROD, s + 1, t + 100, &len);
	assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), SSP_ERR_BLOCK_PRODUCER);
	free(b);
	/* ALICE's key named as producer but PROD's signature */
	{
		const ssp_head *hd = ssp_chain_head(n.chain);
		ssp_header h;
		memset(&h, 0, sizeof h);
		h.height = hd->height + 1;
		h.prev_id = hd->id;
		h.slot = s + 1;
		h.timestamp_ms = t + 100;
		h.producer = ALICE.addr;
		b = fx_block_encode(&h, NULL, NULL, 0, &PROD, FX_CHAIN_ID, &len);
		assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), SSP_ERR_BADSIG);
		free(b);
	}
	b = slot_block(&n, &ALICE, s + 1, t + 100, &len);
	assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), 0);
	free(b);
	for (int k = 2; k <= 4; k++) {
		b = slot_block(&n, k % 2 ? &ALICE : &PROD, s + (uint64_t)k, t + 100 * (uint64_t)k,
		               &len);
		assert_int_equal(ssp_chain_import(n.chain, NULL, b, len, &info), 0);
		free(b);
	}
	/* the finality rule is the interface's: two behind the head */
	assert_int_equal(ssp_chain_head(n.chain)->height, 5);
	assert_int_equal(ssp_chain_head(n.chain)->finalized, 3);
	fx_node_close(&n, false);
}

/* The execute/build/commit steps by hand: a header that disagrees with the execution is refused. */
static void test_exec_steps(void **state)
{
	(void)state;
	fx_node n;
	ssp_exec *x;
	ssp_header h;
	ssp_block_info info;
	ssp_signer sg;
	fx_node_open(&n, NULL, G_DEF);
	ssp_signer_soft(&sg, &PROD.sk);
	uint64_t t = T0 + 1000;
	assert_int_equal(ssp_chain_begin(n.chain, &x, ssp_chain_slot_at(n.chain, t), t), 0);
	/* one exec at a time: it holds the writer */
	ssp_exec *y;
	assert_int_equal(ssp_chain_begin(n.chain, &y, ssp_chain_slot_at(n.chain, t), t),
	                 SSP_ERR_BUSY);
	assert_int_equal(ssp_exec_candidates(x, NULL, 0), 0);
	assert_int_equal(ssp_exec_header(x, &h, &PROD.addr), 0);
	h.state_root.b[0] ^= 1; /* a header that lies about the result */
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	ssp_header_encode(&b, &h, false);
	assert_int_equal(ssp_sign(&h.sig, &PROD.sk, SSP_DOM_BLOCK, FX_CHAIN_ID, b.data, b.len), 0);
	assert_int_equal(ssp_chain_commit(n.chain, x, &h, &info), SSP_ERR_BLOCK_STATE);
	assert_int_equal(ssp_chain_head(n.chain)->height, 0);
	assert_int_equal(ssp_chain_fatal(n.chain), 0); /* a verdict, not a local failure */
	/* the same steps with the honest header commit */
	assert_int_equal(ssp_chain_begin(n.chain, &x, ssp_chain_slot_at(n.chain, t), t), 0);
	assert_int_equal(ssp_exec_header(x, &h, &PROD.addr), 0);
	ssp_buf_reset(&b);
	ssp_header_encode(&b, &h, false);
	assert_int_equal(ssp_sign(&h.sig, &PROD.sk, SSP_DOM_BLOCK, FX_CHAIN_ID, b.data, b.len), 0);
	assert_int_equal(ssp_chain_commit(n.chain, x, &h, &info), 0);
	assert_int_equal(ssp_chain_head(n.chain)->height, 1);
	ssp_buf_free(&b);
	/* an aborted exec leaves the chain as it was */
	assert_int_equal(
	    ssp_chain_begin(n.chain, &x, ssp_chain_slot_at(n.chain, t + 1000), t + 1000), 0);
	ssp_exec_abort(x);
	assert_int_equal(ssp_chain_head(n.chain)->height, 1);
	fx_produce(&n, &PROD, t + 1000);
	fx_node_close(&n, false);
}

/*
 * ssp_chain_import_many checks block h+1 while h commits: a sender whose
 * key arrives in block 1 and who signs block 2 without it is checked at
 * execution (the key is not in the snapshot the checker read), and a bad
 * signature there is still refused.
 */
static void test_import_many_keys(void **state)
{
	(void)state;
	fx_node a, b, c;
	ssp_hash id;
	ssp_block_info info[3];
	size_t len[3], done;
	uint8_t *raw[3];
	fx_node_open(&a, NULL, G_DEF);
	fx_node_open(&b, NULL, G_DEF);
	fx_node_open(&c, NULL, G_DEF);
	assert_int_equal(submit(&a, &ALICE, xf(&BOB, COIN, 0, true), &id), 0);
	fx_produce(&a, &PROD, T0 + 1000);
	assert_int_equal(submit(&a, &ALICE, xf(&BOB, COIN, 1, false), &id), 0);
	fx_produce(&a, &PROD, T0 + 2000);
	fx_produce(&a, &PROD, T0 + 3000);
	for (int i = 0; i < 3; i++)
		raw[i] = fx_block_copy(&a, (uint64_t)i + 1, &len[i]);
	assert_int_equal(
	    ssp_chain_import_many(b.chain, NULL, (const uint8_t *const *)raw, len, 3, info, &done),
	    0);
	assert_int_equal(done, 3);
	assert_memory_equal(ssp_chain_head(b.chain)->state_root.b,
	                    ssp_chain_head(a.chain)->state_root.b, 32);
	/* block 2 was prepared before block 1 (which brings Alice's key) committed: the
	 * pipeline's key hints let it check block 2's signature in parallel anyway */
	assert_int_equal(info[1].ntx, 1);
	assert_int_equal(info[1].sigs_at_exec, 0);
	/* block 2's tx with a broken signature, the block re-signed by its producer */
	ssp_block blk;
	assert_int_equal(ssp_block_decode(&blk, raw[1], len[1], BIG), 0);
	size_t tl = blk.txs[0].raw_len;
	uint8_t *tx = malloc(tl);
	memcpy(tx, blk.txs[0].raw, tl);
	tx[tl - 1] ^= 1;
	ssp_header h = blk.hdr;
	const uint8_t *txs[1] = {tx};
	size_t bad_len;
	uint8_t *bad = fx_block_encode(&h, txs, &tl, 1, &PROD, FX_CHAIN_ID, &bad_len);
	ssp_block_free(&blk);
	free(raw[1]);
	raw[1] = bad;
	len[1] = bad_len;
	assert_int_equal(
	    ssp_chain_import_many(c.chain, NULL, (const uint8_t *const *)raw, len, 2, info, &done),
	    SSP_ERR_BLOCK_TX);
	assert_int_equal(done, 1);
	assert_int_equal(ssp_chain_head(c.chain)->height, 1);
	assert_int_equal(ssp_chain_fatal(c.chain), 0);
	free(tx);
	for (int i = 0; i < 3; i++)
		free(raw[i]);
	fx_node_close(&a, false);
	fx_node_close(&b, false);
	fx_node_close(&c, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_genesis_rejections),
	    cmocka_unit_test(test_genesis_state),
	    cmocka_unit_test(test_transfer_and_fees),
	    cmocka_unit_test(test_nonce_order),
	    cmocka_unit_test(test_rejections),
	    cmocka_unit_test(test_mempool_caps),
	    cmocka_unit_test(test_mempool_pause),
	    cmocka_unit_test(test_mempool_equal_priority),
	    cmocka_unit_test(test_mempool_hold),
	    cmocka_unit_test(test_mempool_rejection_memory),
	    cmocka_unit_test(test_fee_priority),
	    cmocka_unit_test(test_expiry_eviction),
	    cmocka_unit_test(test_team_vesting),
	    cmocka_unit_test(test_team_locked_in_block),
	    cmocka_unit_test(test_foundation_grant),
	    cmocka_unit_test(test_reopen),
	    cmocka_unit_test(test_import_replay),
	    cmocka_unit_test(test_import_tampered),
	    cmocka_unit_test(test_produce_drops_invalid_sender),
	    cmocka_unit_test(test_replacement_keeps_key),
	    cmocka_unit_test(test_check_and_verify),
	    cmocka_unit_test(test_dev_genesis),
	    cmocka_unit_test(test_import_slot_rules),
	    cmocka_unit_test(test_exec_steps),
	    cmocka_unit_test(test_import_many_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
