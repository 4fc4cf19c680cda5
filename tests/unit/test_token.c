/*
 * test_token.c — IOT_Coin (modules layer): the payload codec, every
 * operation and every rejection through real blocks (mempool + produce),
 * the creation fee reaching the pool with the supply invariant intact,
 * Transfer/Approval events in receipts, the operations' atomicity when
 * called directly, the committed state scan and the token_* RPC methods.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain_fixture.h"
#include "module_fixture.h"
#include "ssp/modules.h"
#include "ssp/token.h"

#define T0 (FX_GENESIS_MS + 1000)
#define FEE 100000 /* 0.001 SSP: above min_fee + fee_per_byte x size for every tx here */
#define CREATE_FEE (100 * SSP_COIN) /* the genesis default token_create_fee */

static fx_key producer, alice, bob, carol, foundation, team;

/* A node with the registered modules' tx types (the fixture opens one without). */
static void tnode_open(tnode *t)
{
	tnode_open_with(t, &producer, &alice, &bob, &foundation, &team, T0);
}

static uint64_t *nonce_of(tnode *t, const fx_key *k)
{
	uint8_t fill = k == &alice ? 2 : k == &bob ? 3 : k == &carol ? 4 : 0;
	assert_true(fill != 0);
	return &t->nonce[fill];
}

/* Signs a tx of the sender's next nonce and adds it to the pool; returns the pool's code. */
static int submit_raw(tnode *t, const fx_key *k, uint16_t type, const uint8_t *payload, size_t n,
                      ssp_hash *txid)
{
	uint64_t *nonce = nonce_of(t, k);
	ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
	                  .type = type,
	                  .nonce = *nonce,
	                  .fee = FEE,
	                  .expiry = ssp_chain_head(t->n.chain)->height + 100,
	                  .payload = payload,
	                  .payload_len = n,
	                  .include_pubkey = *nonce == 0};
	uint8_t *raw;
	size_t len;
	ssp_hash id, got;
	assert_int_equal(ssp_tx_sign(&raw, &len, &id, &b, &k->sk), 0);
	int rc = ssp_mempool_add(t->n.pool, raw, len, false, &got);
	free(raw);
	if (txid) *txid = id;
	return rc;
}

static int submit(tnode *t, const fx_key *k, uint16_t type, const ssp_token_payload *p,
                  ssp_hash *txid)
{
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	ssp_token_payload_encode(&b, type, p);
	assert_int_equal(b.err, 0);
	int rc = submit_raw(t, k, type, b.data, b.len, txid);
	ssp_buf_free(&b);
	return rc;
}

/* Produces a block (checking the supply invariant); returns its tx count. */
static uint32_t produce(tnode *t)
{
	t->time_ms += 1000;
	return fx_produce(&t->n, &producer, t->time_ms).ntx;
}

/* Submits one tx and produces a block; 0 if included, else the error it was dropped with. */
static int run(tnode *t, const fx_key *k, uint16_t type, const ssp_token_payload *p, ssp_hash *txid)
{
	ssp_hash id;
	int rc = submit(t, k, type, p, &id);
	if (txid) *txid = id;
	if (rc) return rc;
	uint32_t n = produce(t);
	if (n == 1) {
		(*nonce_of(t, k))++;
		return 0;
	}
	assert_int_equal(n, 0);
	rc = ssp_mempool_rejected(t->n.pool, &id);
	assert_true(rc < 0);
	return rc;
}

static ssp_token_payload pl(const char *symbol)
{
	ssp_token_payload p;
	memset(&p, 0, sizeof p);
	snprintf(p.symbol, sizeof p.symbol, "%s", symbol);
	return p;
}

static ssp_token_payload pl_create(const char *symbol, const char *name, uint8_t decimals,
                                   uint64_t max, uint32_t flags)
{
	ssp_token_payload p = pl(symbol);
	snprintf(p.name, sizeof p.name, "%s", name);
	p.decimals = decimals;
	p.max_supply = max;
	p.flags = flags;
	return p;
}

static ssp_token_payload pl_to(const char *symbol, const fx_key *to, uint64_t amount)
{
	ssp_token_payload p = pl(symbol);
	p.to = to->addr;
	p.amount = amount;
	return p;
}

/* ---------------------------------------------------------------- reads */

static ssp_token_info token(tnode *t, const char *symbol)
{
	ssp_txn *rt;
	ssp_state *st;
	ssp_token_info info;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_token_get(st, symbol, &info), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return info;
}

static int token_rc(tnode *t, const char *symbol)
{
	ssp_txn *rt;
	ssp_state *st;
	ssp_token_info info;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	int rc = ssp_token_get(st, symbol, &info);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return rc;
}

static uint64_t balance(tnode *t, const char *symbol, const fx_key *k)
{
	ssp_txn *rt;
	ssp_state *st;
	uint64_t v;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_token_balance(st, symbol, &k->addr, &v), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return v;
}

static uint64_t allowance(tnode *t, const char *symbol, const fx_key *owner, const fx_key *spender)
{
	ssp_txn *rt;
	ssp_state *st;
	uint64_t v;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, rt, &st), 0);
	assert_int_equal(ssp_token_allowance(st, symbol, &owner->addr, &spender->addr, &v), 0);
	ssp_state_close(st);
	ssp_txn_end(rt);
	return v;
}

/* The events of an included tx as a JSON array of {emitter, name, fields}. */
static json_t *events_of(tnode *t, const ssp_hash *txid)
{
	ssp_txn *rt;
	uint64_t height;
	uint32_t idx;
	ssp_receipt r;
	ssp_event ev;
	size_t off = 0;
	int rc;
	json_t *arr = json_array();
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_txloc(t->n.chain, rt, txid, &height, &idx), 0);
	assert_int_equal(ssp_chain_read_receipt(t->n.chain, rt, height, idx, &r), 0);
	ssp_txn_end(rt);
	assert_int_equal(r.status, SSP_RCPT_OK);
	while ((rc = ssp_events_next(r.events, r.events_len, &off, &ev)) == 1) {
		char emitter[96];
		json_t *fields = NULL;
		assert_int_equal(ssp_val_check(ev.fields, ev.fields_len), 0);
		assert_int_equal(ssp_val_to_json(&fields, ev.fields, ev.fields_len), 0);
		ssp_addr_encode(emitter, sizeof emitter, "dssp", &ev.emitter);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "emitter", emitter, "name",
		                                     ev.name, "fields", fields));
	}
	assert_int_equal(rc, 0);
	ssp_receipt_free(&r);
	return arr;
}

/* Asserts event i: name, token emitter, and fields exactly {symbol, [from], [to], value}. */
static void assert_transfer_event(json_t *events, size_t i, const char *symbol, const fx_key *from,
                                  const fx_key *to, json_int_t value)
{
	json_t *e = json_array_get(events, i);
	ssp_addr em;
	char emtext[96];
	assert_non_null(e);
	ssp_token_address(&em, symbol);
	ssp_addr_encode(emtext, sizeof emtext, "dssp", &em);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "Transfer");
	assert_string_equal(json_string_value(json_object_get(e, "emitter")), emtext);
	json_t *f = json_object_get(e, "fields");
	assert_int_equal(json_object_size(f), 2 + (from != NULL) + (to != NULL));
	assert_string_equal(json_string_value(json_object_get(f, "symbol")), symbol);
	if (from)
		assert_string_equal(json_string_value(json_object_get(f, "from")), from->text);
	else
		assert_null(json_object_get(f, "from"));
	if (to)
		assert_string_equal(json_string_value(json_object_get(f, "to")), to->text);
	else
		assert_null(json_object_get(f, "to"));
	assert_true(json_is_integer(json_object_get(f, "value")));
	assert_int_equal(json_integer_value(json_object_get(f, "value")), value);
}

/* --------------------------------------------------------------- codec */

static void roundtrip(uint16_t type, const ssp_token_payload *p, size_t want_len)
{
	ssp_buf b;
	ssp_token_payload q;
	ssp_buf_init(&b, 4096);
	ssp_token_payload_encode(&b, type, p);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, want_len);
	assert_int_equal(ssp_token_payload_decode(&q, type, b.data, b.len), 0);
	assert_string_equal(q.symbol, p->symbol);
	assert_int_equal(q.amount, p->amount);
	/* every strict prefix is truncated, one more byte is trailing */
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(ssp_token_payload_decode(&q, type, b.data, i), SSP_ERR_PAYLOAD);
	ssp_buf_u8(&b, 0);
	assert_int_equal(ssp_token_payload_decode(&q, type, b.data, b.len), SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
}

static int decode_create(const ssp_token_payload *p)
{
	ssp_buf b;
	ssp_token_payload q;
	ssp_buf_init(&b, 4096);
	/* bypass the encoder's length limits by writing the fields by hand */
	ssp_buf_u8(&b, (uint8_t)strlen(p->symbol));
	ssp_buf_put(&b, p->symbol, strlen(p->symbol));
	ssp_buf_u8(&b, (uint8_t)strlen(p->name));
	ssp_buf_put(&b, p->name, strlen(p->name));
	ssp_buf_u8(&b, p->decimals);
	ssp_buf_u64(&b, p->max_supply);
	ssp_buf_u32(&b, p->flags);
	int rc = ssp_token_payload_decode(&q, SSP_TX_TOKEN_CREATE, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

static void test_token_payload_codec(void **state)
{
	(void)state;
	ssp_token_payload p = pl_create("PARK", "Parking Credit", 2, 100000000, 3);
	roundtrip(SSP_TX_TOKEN_CREATE, &p, 1 + 4 + 1 + 14 + 1 + 8 + 4);
	{
		ssp_buf b;
		ssp_token_payload q;
		ssp_buf_init(&b, 256);
		ssp_token_payload_encode(&b, SSP_TX_TOKEN_CREATE, &p);
		assert_int_equal(ssp_token_payload_decode(&q, SSP_TX_TOKEN_CREATE, b.data, b.len),
		                 0);
		assert_string_equal(q.name, "Parking Credit");
		assert_int_equal(q.decimals, 2);
		assert_int_equal(q.max_supply, 100000000);
		assert_int_equal(q.flags, 3);
		/* the same bytes are not a burn's payload, and not a token payload at all for 1 */
		assert_int_equal(ssp_token_payload_decode(&q, SSP_TX_TOKEN_BURN, b.data, b.len),
		                 SSP_ERR_PAYLOAD);
		assert_int_equal(ssp_token_payload_decode(&q, SSP_TX_TRANSFER, b.data, b.len),
		                 SSP_ERR_TXTYPE);
		ssp_buf_free(&b);
	}
	ssp_token_payload t = pl_to("PARK", &bob, 1250);
	roundtrip(SSP_TX_TOKEN_ISSUE, &t, 1 + 4 + 20 + 8);
	roundtrip(SSP_TX_TOKEN_TRANSFER, &t, 1 + 4 + 20 + 8);
	roundtrip(SSP_TX_TOKEN_BURN, &t, 1 + 4 + 8);
	t.spender = carol.addr;
	roundtrip(SSP_TX_TOKEN_APPROVE, &t, 1 + 4 + 20 + 8);
	t.owner = alice.addr;
	roundtrip(SSP_TX_TOKEN_TRANSFER_FROM, &t, 1 + 4 + 20 + 20 + 8);

	/* ranges */
	const char *bad_symbols[] = {"P", "park", "1PARK", "PARK-X", "ABCDEFGHIJKLM", "", "PA RK"};
	for (size_t i = 0; i < sizeof bad_symbols / sizeof *bad_symbols; i++) {
		ssp_token_payload q = pl_create("PARK", "x", 0, 1, 3);
		memcpy(q.symbol, bad_symbols[i],
		       strlen(bad_symbols[i]) + 1 > sizeof q.symbol ? sizeof q.symbol - 1
		                                                    : strlen(bad_symbols[i]) + 1);
		if (strlen(bad_symbols[i]) >= sizeof q.symbol) {
			/* too long for the struct: hand-encode 13 letters */
			ssp_buf b;
			ssp_buf_init(&b, 64);
			ssp_buf_u8(&b, 13);
			ssp_buf_put(&b, "ABCDEFGHIJKLM", 13);
			ssp_buf_u64(&b, 1);
			assert_int_equal(
			    ssp_token_payload_decode(&q, SSP_TX_TOKEN_BURN, b.data, b.len),
			    SSP_ERR_PAYLOAD);
			ssp_buf_free(&b);
			continue;
		}
		assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	}
	ssp_token_payload q = pl_create("AB", "x", 18, INT64_MAX, 0);
	assert_int_equal(decode_create(&q), 0); /* the extremes that are allowed */
	q = pl_create("A23456789012", "x", 0, 1, 1);
	assert_int_equal(decode_create(&q), 0);
	q.decimals = 19;
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "x", 0, 0, 3);
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "x", 0, (uint64_t)INT64_MAX + 1, 3);
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "x", 0, 1, 4);
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "", 0, 1, 3);
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "bad\xff", 0, 1, 3);
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "tab\there", 0, 1, 3);
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "\xc0\xaf", 0, 1, 3); /* overlong '/' */
	assert_int_equal(decode_create(&q), SSP_ERR_PAYLOAD);
	q = pl_create("PARK", "Park \xe2\x82\xac", 0, 1, 3); /* the euro sign is fine */
	assert_int_equal(decode_create(&q), 0);
	memset(q.name, 'n', SSP_TOKEN_NAME_MAX);
	q.name[SSP_TOKEN_NAME_MAX] = 0;
	assert_int_equal(decode_create(&q), 0);

	/* zero amounts: only approve (a revocation) takes one; above INT64_MAX never */
	static const uint16_t types[] = {SSP_TX_TOKEN_ISSUE, SSP_TX_TOKEN_TRANSFER,
	                                 SSP_TX_TOKEN_BURN, SSP_TX_TOKEN_APPROVE,
	                                 SSP_TX_TOKEN_TRANSFER_FROM};
	for (size_t i = 0; i < 5; i++) {
		ssp_buf b;
		ssp_token_payload r;
		for (int k = 0; k < 2; k++) {
			t.amount = k ? (uint64_t)INT64_MAX + 1 : 0;
			ssp_buf_init(&b, 256);
			ssp_token_payload_encode(&b, types[i], &t);
			int want = !k && types[i] == SSP_TX_TOKEN_APPROVE ? 0 : SSP_ERR_PAYLOAD;
			assert_int_equal(ssp_token_payload_decode(&r, types[i], b.data, b.len),
			                 want);
			ssp_buf_free(&b);
		}
	}
	/* the encoder refuses a type that is not a token type */
	ssp_buf b;
	ssp_buf_init(&b, 256);
	ssp_token_payload_encode(&b, SSP_TX_TRANSFER, &t);
	assert_int_equal(b.err, SSP_ERR_INVAL);
	ssp_buf_free(&b);
}

static void test_token_symbol_and_address(void **state)
{
	(void)state;
	assert_true(ssp_token_symbol_valid("PARK"));
	assert_true(ssp_token_symbol_valid("A1"));
	assert_true(ssp_token_symbol_valid("ABCDEFGHIJKL"));
	assert_false(ssp_token_symbol_valid("ABCDEFGHIJKLM"));
	assert_false(ssp_token_symbol_valid("A"));
	assert_false(ssp_token_symbol_valid("1A"));
	assert_false(ssp_token_symbol_valid("Park"));
	assert_false(ssp_token_symbol_valid(""));
	assert_false(ssp_token_symbol_valid(NULL));
	/* names: strict UTF-8 (ssp_utf8_valid) without any control character, NUL included */
	assert_true(ssp_token_name_valid("Park \xe2\x82\xac", 8));
	assert_true(ssp_token_name_valid("nb\xc2\xa0sp", 6)); /* U+00A0 is not a control */
	assert_false(ssp_token_name_valid("Nul\0name", 8));
	assert_false(ssp_token_name_valid("del\x7f", 4));
	assert_false(ssp_token_name_valid("c1\xc2\x85", 4));      /* U+0085 NEL */
	assert_false(ssp_token_name_valid("sur\xed\xa0\x80", 6)); /* U+D800 */
	assert_false(ssp_token_name_valid("cut\xe2\x82", 5));
	/* a symbol or name with a NUL inside is refused by the tx decoder, not cut short */
	static const uint8_t sym_nul[] = "\x05PARK\0\x01x\x00\x01\0\0\0\0\0\0\0\x03\0\0\0";
	ssp_token_payload q;
	assert_int_equal(
	    ssp_token_payload_decode(&q, SSP_TX_TOKEN_CREATE, sym_nul, sizeof sym_nul - 1),
	    SSP_ERR_PAYLOAD);
	static const uint8_t name_nul[] = "\x04PARK\x03x\0y\x00\x01\0\0\0\0\0\0\0\x03\0\0\0";
	assert_int_equal(
	    ssp_token_payload_decode(&q, SSP_TX_TOKEN_CREATE, name_nul, sizeof name_nul - 1),
	    SSP_ERR_PAYLOAD);
	static const uint8_t name_ok[] = "\x04PARK\x03xzy\x00\x01\0\0\0\0\0\0\0\x03\0\0\0";
	assert_int_equal(
	    ssp_token_payload_decode(&q, SSP_TX_TOKEN_CREATE, name_ok, sizeof name_ok - 1), 0);
	assert_string_equal(q.name, "xzy");
	ssp_addr a;
	ssp_hash h;
	ssp_token_address(&a, "PARK");
	ssp_sha256(&h, "ssp/token/PARK", 14);
	assert_memory_equal(a.b, h.b, SSP_ADDR_LEN);
}

/* ----------------------------------------------------------- lifecycle */

static int count_entries(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k, (void)kl, (void)v;
	assert_int_equal(vl, 8);
	(*(size_t *)arg)++;
	return 0;
}

static void test_token_lifecycle(void **state)
{
	(void)state;
	tnode t;
	ssp_hash id;
	json_t *ev;
	tnode_open(&t);
	ssp_account a0 = fx_account(&t.n, &alice.addr);
	ssp_supply s0 = fx_supply(&t.n);

	/* create: the creation fee and the tx fee move to the pool */
	ssp_token_payload p = pl_create("PARK", "Parking Credit", 2, 100000000, 3);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_CREATE, &p, &id), 0);
	ssp_token_info info = token(&t, "PARK");
	assert_string_equal(info.symbol, "PARK");
	assert_string_equal(info.name, "Parking Credit");
	assert_int_equal(info.decimals, 2);
	assert_int_equal(info.max_supply, 100000000);
	assert_int_equal(info.supply, 0);
	assert_memory_equal(info.issuer.b, alice.addr.b, SSP_ADDR_LEN);
	assert_int_equal(info.flags, 3);
	assert_int_equal(info.created_height, 1);
	ssp_account a1 = fx_account(&t.n, &alice.addr);
	ssp_supply s1 = fx_supply(&t.n);
	assert_int_equal(a0.balance - a1.balance, CREATE_FEE + FEE);
	assert_int_equal(s1.pool - s0.pool, CREATE_FEE + FEE);
	ev = events_of(&t, &id);
	assert_int_equal(json_array_size(ev), 0); /* mintable: nothing issued yet */
	json_decref(ev);

	/* issue: a Transfer without "from" */
	ssp_token_payload q = pl_to("PARK", &alice, 500000);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_ISSUE, &q, &id), 0);
	assert_int_equal(balance(&t, "PARK", &alice), 500000);
	assert_int_equal(token(&t, "PARK").supply, 500000);
	ev = events_of(&t, &id);
	assert_int_equal(json_array_size(ev), 1);
	assert_transfer_event(ev, 0, "PARK", NULL, &alice, 500000);
	json_decref(ev);

	/* transfer */
	q = pl_to("PARK", &bob, 125050);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_TRANSFER, &q, &id), 0);
	assert_int_equal(balance(&t, "PARK", &alice), 374950);
	assert_int_equal(balance(&t, "PARK", &bob), 125050);
	ev = events_of(&t, &id);
	assert_transfer_event(ev, 0, "PARK", &alice, &bob, 125050);
	json_decref(ev);

	/* self-transfer (EIP-20 allows it): balance unchanged, event emitted */
	q = pl_to("PARK", &alice, 100);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_TRANSFER, &q, &id), 0);
	assert_int_equal(balance(&t, "PARK", &alice), 374950);
	ev = events_of(&t, &id);
	assert_transfer_event(ev, 0, "PARK", &alice, &alice, 100);
	json_decref(ev);

	/* approve: an Approval event */
	q = pl("PARK");
	q.spender = bob.addr;
	q.amount = 30000;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_APPROVE, &q, &id), 0);
	assert_int_equal(allowance(&t, "PARK", &alice, &bob), 30000);
	ev = events_of(&t, &id);
	json_t *e = json_array_get(ev, 0), *f = json_object_get(e, "fields");
	assert_string_equal(json_string_value(json_object_get(e, "name")), "Approval");
	assert_int_equal(json_object_size(f), 4);
	assert_string_equal(json_string_value(json_object_get(f, "symbol")), "PARK");
	assert_string_equal(json_string_value(json_object_get(f, "owner")), alice.text);
	assert_string_equal(json_string_value(json_object_get(f, "spender")), bob.text);
	assert_int_equal(json_integer_value(json_object_get(f, "value")), 30000);
	json_decref(ev);

	/* transfer_from: bob moves alice's tokens to carol within the allowance */
	q = pl_to("PARK", &carol, 20000);
	q.owner = alice.addr;
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_TRANSFER_FROM, &q, &id), 0);
	assert_int_equal(allowance(&t, "PARK", &alice, &bob), 10000);
	assert_int_equal(balance(&t, "PARK", &alice), 354950);
	assert_int_equal(balance(&t, "PARK", &carol), 20000);
	ev = events_of(&t, &id);
	assert_int_equal(json_array_size(ev), 1);
	assert_transfer_event(ev, 0, "PARK", &alice, &carol, 20000);
	json_decref(ev);

	/* approve overwrites; 0 revokes and removes the entry */
	q = pl("PARK");
	q.spender = bob.addr;
	q.amount = 7;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_APPROVE, &q, NULL), 0);
	assert_int_equal(allowance(&t, "PARK", &alice, &bob), 7);
	q.amount = 0;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_APPROVE, &q, &id), 0);
	assert_int_equal(allowance(&t, "PARK", &alice, &bob), 0);
	ev = events_of(&t, &id);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(json_array_get(ev, 0), "fields"), "value")),
	                 0);
	json_decref(ev);

	/* burn: a Transfer without "to"; the supply shrinks */
	q = pl("PARK");
	q.amount = 4950;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_BURN, &q, &id), 0);
	assert_int_equal(balance(&t, "PARK", &alice), 350000);
	assert_int_equal(token(&t, "PARK").supply, 495050);
	ev = events_of(&t, &id);
	assert_transfer_event(ev, 0, "PARK", &alice, NULL, 4950);
	json_decref(ev);

	/* a whole balance moves: its entry disappears (alice and carol hold PARK, not bob) */
	q = pl_to("PARK", &alice, 125050);
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_TRANSFER, &q, NULL), 0);
	assert_int_equal(balance(&t, "PARK", &bob), 0);
	assert_int_equal(balance(&t, "PARK", &alice), 475050);
	{
		ssp_txn *rt;
		size_t n = 0;
		assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
		assert_int_equal(ssp_chain_state_scan(t.n.chain, rt, SSP_TB_TOKEN_BAL, NULL, 0,
		                                      count_entries, &n),
		                 0);
		ssp_txn_end(rt);
		assert_int_equal(n, 2);
	}

	/* a fixed-supply token: everything issued to the creator at creation */
	p = pl_create("FIX", "Fixed", 0, 1000, SSP_TOKEN_FLAG_BURNABLE);
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_CREATE, &p, &id), 0);
	assert_int_equal(balance(&t, "FIX", &bob), 1000);
	assert_int_equal(token(&t, "FIX").supply, 1000);
	ev = events_of(&t, &id);
	assert_transfer_event(ev, 0, "FIX", NULL, &bob, 1000);
	json_decref(ev);
	/* issuing up to max_supply exactly is fine, one more is not (checked below too) */
	p = pl_create("CAP", "Capped", 18, INT64_MAX, 3);
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_CREATE, &p, NULL), 0);
	q = pl_to("CAP", &bob, INT64_MAX);
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_ISSUE, &q, NULL), 0);
	assert_int_equal(balance(&t, "CAP", &bob), INT64_MAX);
	fx_check_supply(&t.n);
	tnode_close(&t);
}

/* ----------------------------------------------------------- rejections */

static void test_token_rejections(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	ssp_token_payload p = pl_create("PARK", "Parking Credit", 2, 1000, 3);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_CREATE, &p, NULL), 0);
	ssp_token_payload q = pl_to("PARK", &alice, 600);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_ISSUE, &q, NULL), 0);
	ssp_supply s0 = fx_supply(&t.n);

	/* stateless: the mempool refuses malformed payloads */
	ssp_token_payload bad = pl_create("park", "x", 2, 1000, 3);
	assert_int_equal(submit(&t, &bob, SSP_TX_TOKEN_CREATE, &bad, NULL), SSP_ERR_PAYLOAD);
	bad = pl_create("PARK2", "x", 19, 1000, 3);
	assert_int_equal(submit(&t, &bob, SSP_TX_TOKEN_CREATE, &bad, NULL), SSP_ERR_PAYLOAD);
	bad = pl_create("PARK2", "", 2, 1000, 3);
	assert_int_equal(submit(&t, &bob, SSP_TX_TOKEN_CREATE, &bad, NULL), SSP_ERR_PAYLOAD);
	bad = pl_create("PARK2", "x", 2, 0, 3);
	assert_int_equal(submit(&t, &bob, SSP_TX_TOKEN_CREATE, &bad, NULL), SSP_ERR_PAYLOAD);
	bad = pl_to("PARK", &bob, 0);
	assert_int_equal(submit(&t, &alice, SSP_TX_TOKEN_TRANSFER, &bad, NULL), SSP_ERR_PAYLOAD);
	assert_int_equal(submit(&t, &alice, SSP_TX_TOKEN_ISSUE, &bad, NULL), SSP_ERR_PAYLOAD);
	assert_int_equal(submit(&t, &alice, SSP_TX_TOKEN_BURN, &bad, NULL), SSP_ERR_PAYLOAD);
	assert_int_equal(submit(&t, &alice, SSP_TX_TOKEN_TRANSFER_FROM, &bad, NULL),
	                 SSP_ERR_PAYLOAD);
	assert_int_equal(
	    submit_raw(&t, &alice, SSP_TX_TOKEN_TRANSFER, (const uint8_t *)"\x04PARK", 5, NULL),
	    SSP_ERR_PAYLOAD);

	/* stateful: admitted, then dropped by the block with the operation's error */
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_CREATE, &p, NULL), SSP_ERR_EXISTS);
	q = pl_to("PARK", &bob, 1);
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_ISSUE, &q, NULL),
	                 SSP_ERR_INVAL); /* not issuer */
	q = pl_to("PARK", &alice, 401);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_ISSUE, &q, NULL), SSP_ERR_OVERFLOW);
	q = pl_to("NOPE", &alice, 1);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_ISSUE, &q, NULL), SSP_ERR_NOTFOUND);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_TRANSFER, &q, NULL), SSP_ERR_NOTFOUND);
	q = pl_to("PARK", &bob, 601);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_TRANSFER, &q, NULL), SSP_ERR_BALANCE);
	q = pl_to("PARK", &alice, 1);
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_TRANSFER, &q, NULL), SSP_ERR_BALANCE);
	q = pl("PARK");
	q.amount = 601;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_BURN, &q, NULL), SSP_ERR_BALANCE);
	q = pl("NOPE");
	q.spender = bob.addr;
	q.amount = 1;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_APPROVE, &q, NULL), SSP_ERR_NOTFOUND);

	/* allowance exceeded, and the owner's balance short of an allowance */
	q = pl("PARK");
	q.spender = bob.addr;
	q.amount = 700;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_APPROVE, &q, NULL), 0);
	q = pl_to("PARK", &bob, 701);
	q.owner = alice.addr;
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_TRANSFER_FROM, &q, NULL), SSP_ERR_BALANCE);
	q.amount = 650; /* allowed, but alice holds 600 */
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_TRANSFER_FROM, &q, NULL), SSP_ERR_BALANCE);
	assert_int_equal(allowance(&t, "PARK", &alice, &bob), 700); /* untouched */
	q.amount = 1;
	q.owner = carol.addr; /* no allowance at all */
	assert_int_equal(run(&t, &bob, SSP_TX_TOKEN_TRANSFER_FROM, &q, NULL), SSP_ERR_BALANCE);

	/* flags: a fixed-supply token cannot be issued, a non-burnable one not burned */
	p = pl_create("FIX", "Fixed", 0, 10, 0);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_CREATE, &p, NULL), 0);
	q = pl_to("FIX", &alice, 1);
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_ISSUE, &q, NULL), SSP_ERR_INVAL);
	q = pl("FIX");
	q.amount = 1;
	assert_int_equal(run(&t, &alice, SSP_TX_TOKEN_BURN, &q, NULL), SSP_ERR_INVAL);

	/* the creation fee: carol has 1 SSP, enough for the tx fee but not the creation fee */
	{
		fx_xfer x = {.to = &carol.addr,
		             .amount = SSP_COIN,
		             .fee = FEE,
		             .nonce = *nonce_of(&t, &alice),
		             .expiry = ssp_chain_head(t.n.chain)->height + 10};
		assert_int_equal(fx_submit(&t.n, &alice, &x, NULL), 0);
		assert_int_equal(produce(&t), 1);
		(*nonce_of(&t, &alice))++;
	}
	p = pl_create("POOR", "Poor", 0, 10, 3);
	/* refused at admission: spend() counts the creation fee */
	assert_int_equal(submit(&t, &carol, SSP_TX_TOKEN_CREATE, &p, NULL), SSP_ERR_BALANCE);
	assert_int_equal(run(&t, &carol, SSP_TX_TOKEN_CREATE, &p, NULL), SSP_ERR_BALANCE);
	assert_int_equal(token_rc(&t, "POOR"), SSP_ERR_NOTFOUND);
	assert_int_equal(fx_account(&t.n, &carol.addr).balance, SSP_COIN);

	/* nothing above changed PARK */
	ssp_token_info info = token(&t, "PARK");
	assert_int_equal(info.supply, 600);
	assert_int_equal(balance(&t, "PARK", &alice), 600);
	assert_int_equal(balance(&t, "PARK", &bob), 0);
	assert_true(fx_supply(&t.n).pool >= s0.pool);
	fx_check_supply(&t.n);
	tnode_close(&t);
}

/* ------------------------------------------------------ direct operations */

static void test_token_ops_direct(void **state)
{
	(void)state;
	tnode t;
	ssp_txn *rt;
	ssp_state *st;
	ssp_receipt r;
	tnode_open(&t);
	assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
	assert_int_equal(ssp_chain_state_view(t.n.chain, rt, &st), 0);
	memset(&r, 0, sizeof r);
	ssp_txctx c = {.st = st,
	               .params = ssp_genesis_params(t.g),
	               .chain_id = FX_CHAIN_ID,
	               .hrp = "dssp",
	               .height = 7,
	               .time_ms = T0,
	               .rcpt = &r};
	const ssp_addr *A = &alice.addr, *B = &bob.addr;

	/* malformed creates */
	assert_int_equal(ssp_token_create(&c, A, "park", "x", 0, 1, 3), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_create(&c, A, "P", "x", 0, 1, 3), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_create(&c, A, "PARK", "", 0, 1, 3), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_create(&c, A, "PARK", "\x01", 0, 1, 3), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_create(&c, A, "PARK", "x", 19, 1, 3), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_create(&c, A, "PARK", "x", 0, 0, 3), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_create(&c, A, "PARK", "x", 0, 1, 8), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_create(&c, A, "PARK", "x", 0, (uint64_t)INT64_MAX + 1, 3),
	                 SSP_ERR_RANGE);
	/* a poor caller: the zero account */
	ssp_addr nobody;
	memset(nobody.b, 0x55, SSP_ADDR_LEN);
	size_t mark = ssp_state_mark(st);
	assert_int_equal(ssp_token_create(&c, &nobody, "PARK", "x", 0, 10, 3), SSP_ERR_BALANCE);
	assert_int_equal(ssp_state_mark(st), mark); /* nothing left behind */

	ssp_account before;
	assert_int_equal(ssp_state_account(st, A, &before), 0);
	assert_int_equal(ssp_token_create(&c, A, "PARK", "Parking", 2, 1000, 3), 0);
	ssp_account after;
	assert_int_equal(ssp_state_account(st, A, &after), 0);
	assert_int_equal(before.balance - after.balance, CREATE_FEE);
	assert_int_equal(ssp_token_create(&c, B, "PARK", "Other", 2, 1000, 3), SSP_ERR_EXISTS);
	ssp_token_info info;
	assert_int_equal(ssp_token_get(st, "PARK", &info), 0);
	assert_int_equal(info.created_height, 7);
	assert_int_equal(ssp_token_get(st, "NOPE", &info), SSP_ERR_NOTFOUND);
	assert_int_equal(ssp_token_get(st, "nope", &info), SSP_ERR_INVAL);

	/* zero amounts */
	assert_int_equal(ssp_token_issue(&c, A, "PARK", A, 0), SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_token_transfer(&c, A, "PARK", B, 0), SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_token_burn(&c, A, "PARK", 0), SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_token_transfer_from(&c, B, "PARK", A, B, 0), SSP_ERR_PAYLOAD);
	assert_int_equal(ssp_token_approve(&c, A, "PARK", B, (uint64_t)INT64_MAX + 1),
	                 SSP_ERR_RANGE);
	assert_int_equal(ssp_token_approve(&c, A, "PARK", B, INT64_MAX), 0);

	/* atomic: a failing op leaves no events and no state behind */
	uint64_t ev_before = ssp_receipt_events_mark(&r);
	size_t changes = ssp_state_mark(st);
	assert_int_equal(ssp_token_issue(&c, A, "PARK", B, 1001), SSP_ERR_OVERFLOW);
	assert_int_equal(ssp_token_issue(&c, B, "PARK", B, 1), SSP_ERR_INVAL);
	assert_int_equal(ssp_token_transfer(&c, A, "PARK", B, 1), SSP_ERR_BALANCE);
	assert_int_equal(ssp_token_transfer_from(&c, B, "PARK", A, B, 1), SSP_ERR_BALANCE);
	assert_int_equal(ssp_receipt_events_mark(&r), ev_before);
	assert_int_equal(ssp_state_mark(st), changes);

	assert_int_equal(ssp_token_issue(&c, A, "PARK", A, 1000), 0);
	assert_int_equal(ssp_token_issue(&c, A, "PARK", A, 1), SSP_ERR_OVERFLOW);
	assert_int_equal(ssp_token_transfer_from(&c, B, "PARK", A, B, 400), 0);
	uint64_t v;
	assert_int_equal(ssp_token_allowance(st, "PARK", A, B, &v), 0);
	assert_int_equal(v, INT64_MAX - 400);
	assert_int_equal(ssp_token_balance(st, "PARK", B, &v), 0);
	assert_int_equal(v, 400);
	assert_int_equal(ssp_token_burn(&c, B, "PARK", 400), 0);
	assert_int_equal(ssp_token_get(st, "PARK", &info), 0);
	assert_int_equal(info.supply, 600);
	/* burned tokens can be issued again: max_supply caps what exists */
	assert_int_equal(ssp_token_issue(&c, A, "PARK", B, 400), 0);

	/* events: create(0) approve issue transfer_from burn issue = 5 */
	size_t off = 0, n = 0;
	ssp_event ev;
	while (ssp_events_next(r.events, r.events_len, &off, &ev) == 1) {
		assert_int_equal(ssp_val_check(ev.fields, ev.fields_len), 0);
		n++;
	}
	assert_int_equal(n, 5);

	ssp_receipt_free(&r);
	ssp_state_close(st); /* the view's changes vanish */
	ssp_txn_end(rt);
	assert_int_equal(token_rc(&t, "PARK"), SSP_ERR_NOTFOUND);
	tnode_close(&t);
}

/* ------------------------------------------------------ scan and RPC */

typedef struct {
	char seen[16][SSP_TOKEN_SYMBOL_MAX + 1];
	size_t n;
} seen_t;

static int collect(void *arg, const ssp_token_info *info)
{
	seen_t *s = arg;
	snprintf(s->seen[s->n++], sizeof s->seen[0], "%s", info->symbol);
	return s->n == 16;
}

static int count_keys(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k, (void)v, (void)vl;
	size_t *n = arg;
	assert_int_equal(kl, 5 + SSP_ADDR_LEN); /* "PARK" 0x00 addr */
	(*n)++;
	return 0;
}

static json_t *call(tnode *t, ssp_module_env *env, const char *method, const char *params,
                    int *code)
{
	(void)t;
	return fx_module_call(&ssp_token_module, env, method, params, code);
}

static void test_token_scan_and_rpc(void **state)
{
	(void)state;
	tnode t;
	ssp_txn *rt;
	int code;
	char buf[512];
	tnode_open(&t);
	const char *syms[] = {"PARK", "AB", "ABC", "Z9"};
	for (size_t i = 0; i < 4; i++) {
		ssp_token_payload p = pl_create(syms[i], "Token", (uint8_t)(i ? i : 3), 1000000, 3);
		assert_int_equal(submit(&t, &alice, SSP_TX_TOKEN_CREATE, &p, NULL), 0);
		(*nonce_of(&t, &alice))++;
	}
	assert_int_equal(produce(&t), 4);
	ssp_token_payload q = pl_to("PARK", &bob, 1250);
	assert_int_equal(submit(&t, &alice, SSP_TX_TOKEN_ISSUE, &q, NULL), 0);
	(*nonce_of(&t, &alice))++;
	q = pl_to("PARK", &carol, 1);
	assert_int_equal(submit(&t, &alice, SSP_TX_TOKEN_ISSUE, &q, NULL), 0);
	(*nonce_of(&t, &alice))++;
	q = pl("PARK");
	q.spender = carol.addr;
	q.amount = 5;
	assert_int_equal(submit(&t, &bob, SSP_TX_TOKEN_APPROVE, &q, NULL), 0);
	(*nonce_of(&t, &bob))++;
	assert_int_equal(produce(&t), 3);

	/* the committed scan stays inside its table and sorts by bytes */
	seen_t s = {0};
	assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
	assert_int_equal(ssp_token_scan(t.n.chain, rt, NULL, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.seen[0], "AB");
	assert_string_equal(s.seen[1], "ABC");
	assert_string_equal(s.seen[2], "PARK");
	assert_string_equal(s.seen[3], "Z9");
	memset(&s, 0, sizeof s);
	assert_int_equal(ssp_token_scan(t.n.chain, rt, "AC", collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.seen[0], "PARK");
	size_t nbal = 0;
	assert_int_equal(
	    ssp_chain_state_scan(t.n.chain, rt, SSP_TB_TOKEN_BAL, NULL, 0, count_keys, &nbal), 0);
	assert_int_equal(nbal, 2);
	nbal = 0;
	assert_int_equal(
	    ssp_chain_state_scan(t.n.chain, rt, SSP_TB_TOKEN_BAL, "PARK", 4, count_keys, &nbal), 0);
	assert_int_equal(nbal, 2);
	nbal = 0; /* past the last balance: the allowance table that follows is not visited */
	assert_int_equal(
	    ssp_chain_state_scan(t.n.chain, rt, SSP_TB_TOKEN_BAL, "Q", 1, count_keys, &nbal), 0);
	assert_int_equal(nbal, 0);
	uint8_t big[SSP_STATE_KEY_MAX + 1] = {0};
	assert_int_equal(
	    ssp_chain_state_scan(t.n.chain, rt, SSP_TB_TOKEN, big, sizeof big, count_keys, &nbal),
	    SSP_ERR_TOOBIG);
	ssp_txn_end(rt);

	/* RPC */
	ssp_module_env env = {.chain = t.n.chain, .store = t.n.store, .genesis = t.g};
	json_t *r = call(&t, &env, "token_get", "{\"symbol\":\"PARK\"}", &code);
	assert_int_equal(code, 0);
	assert_string_equal(json_string_value(json_object_get(r, "symbol")), "PARK");
	assert_string_equal(json_string_value(json_object_get(r, "name")), "Token");
	assert_int_equal(json_integer_value(json_object_get(r, "decimals")), 3);
	assert_string_equal(json_string_value(json_object_get(r, "max_supply")), "1000");
	assert_string_equal(json_string_value(json_object_get(r, "supply")), "1.251");
	assert_string_equal(json_string_value(json_object_get(r, "issuer")), alice.text);
	assert_int_equal(json_integer_value(json_object_get(r, "flags")), 3);
	assert_true(json_is_true(json_object_get(r, "mintable")));
	assert_int_equal(json_integer_value(json_object_get(r, "created_height")), 1);
	json_decref(r);

	snprintf(buf, sizeof buf, "{\"symbol\":\"PARK\",\"address\":\"%s\"}", bob.text);
	r = call(&t, &env, "token_balance", buf, &code);
	assert_int_equal(code, 0);
	assert_string_equal(json_string_value(json_object_get(r, "balance")), "1.25");
	assert_string_equal(json_string_value(json_object_get(r, "address")), bob.text);
	json_decref(r);
	snprintf(buf, sizeof buf, "{\"symbol\":\"PARK\",\"address\":\"%s\"}", alice.text);
	r = call(&t, &env, "token_balance", buf, &code);
	assert_string_equal(json_string_value(json_object_get(r, "balance")), "0");
	json_decref(r);
	snprintf(buf, sizeof buf, "{\"symbol\":\"PARK\",\"owner\":\"%s\",\"spender\":\"%s\"}",
	         bob.text, carol.text);
	r = call(&t, &env, "token_allowance", buf, &code);
	assert_int_equal(code, 0);
	assert_string_equal(json_string_value(json_object_get(r, "allowance")), "0.005");
	json_decref(r);

	r = call(&t, &env, "token_list", NULL, &code);
	assert_int_equal(code, 0);
	assert_int_equal(json_array_size(json_object_get(r, "tokens")), 4);
	assert_null(json_object_get(r, "next"));
	json_decref(r);
	r = call(&t, &env, "token_list", "{\"limit\":2}", &code);
	assert_int_equal(json_array_size(json_object_get(r, "tokens")), 2);
	assert_string_equal(json_string_value(json_object_get(r, "next")), "PARK");
	json_decref(r);
	r = call(&t, &env, "token_list", "{\"from\":\"PARK\",\"limit\":2}", &code);
	assert_int_equal(json_array_size(json_object_get(r, "tokens")), 2);
	assert_null(json_object_get(r, "next"));
	json_decref(r);

	/* errors */
	assert_null(call(&t, &env, "token_get", "{\"symbol\":\"NOPE\"}", &code));
	assert_int_equal(code, SSP_RPC_NOT_FOUND);
	assert_null(call(&t, &env, "token_get", "{\"symbol\":\"park\"}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&t, &env, "token_get", "{}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&t, &env, "token_get", "[\"PARK\"]", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(
	    call(&t, &env, "token_balance", "{\"symbol\":\"PARK\",\"address\":\"x\"}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	snprintf(buf, sizeof buf, "{\"symbol\":\"NOPE\",\"address\":\"%s\"}", bob.text);
	assert_null(call(&t, &env, "token_balance", buf, &code));
	assert_int_equal(code, SSP_RPC_NOT_FOUND);
	assert_null(call(&t, &env, "token_allowance", "{\"symbol\":\"PARK\"}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&t, &env, "token_list", "{\"limit\":101}", &code));
	assert_int_equal(code, SSP_RPC_LIMIT);
	assert_null(call(&t, &env, "token_list", "{\"limit\":0}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&t, &env, "token_list", "{\"from\":5}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);

	/* the module is registered with its six tx types */
	size_t nm, nt;
	const ssp_module *const *mods = ssp_modules_all(&nm);
	bool found = false;
	for (size_t i = 0; i < nm; i++)
		found |= mods[i] == &ssp_token_module;
	assert_true(found);
	assert_int_equal(ssp_token_module.ntxtypes, 6);
	const ssp_txreg *types = ssp_modset_txtypes(t.n.mods, &nt);
	for (uint16_t id = SSP_TX_TOKEN_CREATE; id <= SSP_TX_TOKEN_TRANSFER_FROM; id++) {
		found = false;
		for (size_t i = 0; i < nt; i++)
			found |= types[i].type->id == id;
		assert_true(found);
		assert_non_null(ssp_chain_txtype(t.n.chain, id));
	}
	tnode_close(&t);
}

/* to_json of every type, as tx_get shows them. */
static void test_token_tx_json(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	ssp_token_payload p = pl_create("PARK", "Parking Credit", 2, 100000000, 1);
	ssp_buf b;
	ssp_buf_init(&b, 256);
	ssp_token_payload_encode(&b, SSP_TX_TOKEN_CREATE, &p);
	ssp_tx_build tb = {.chain_id = FX_CHAIN_ID,
	                   .type = SSP_TX_TOKEN_CREATE,
	                   .fee = FEE,
	                   .expiry = 10,
	                   .payload = b.data,
	                   .payload_len = b.len};
	uint8_t *raw;
	size_t len;
	ssp_hash id;
	ssp_tx tx;
	assert_int_equal(ssp_tx_sign(&raw, &len, &id, &tb, &alice.sk), 0);
	assert_int_equal(ssp_tx_decode(&tx, raw, len), 0);
	const ssp_txtype *tt = ssp_chain_txtype(t.n.chain, SSP_TX_TOKEN_CREATE);
	assert_string_equal(tt->name, "token_create");
	assert_int_equal(tt->check(NULL, &tx), 0);
	/* a create counts its creation fee at admission */
	const ssp_params *gp = ssp_genesis_params(ssp_chain_genesis(t.n.chain));
	assert_true(gp->token_create_fee > 0);
	assert_int_equal(tt->spend(NULL, &tx, gp), gp->token_create_fee);
	json_t *j = tt->to_json(&tx, "dssp");
	assert_string_equal(json_string_value(json_object_get(j, "symbol")), "PARK");
	assert_string_equal(json_string_value(json_object_get(j, "max_supply")), "1000000");
	assert_string_equal(json_string_value(json_object_get(j, "max_supply_units")), "100000000");
	assert_true(json_is_false(json_object_get(j, "mintable")));
	json_decref(j);
	free(raw);

	ssp_buf_reset(&b);
	ssp_token_payload q = pl_to("PARK", &bob, 1250);
	q.owner = carol.addr;
	ssp_token_payload_encode(&b, SSP_TX_TOKEN_TRANSFER_FROM, &q);
	tb.type = SSP_TX_TOKEN_TRANSFER_FROM;
	tb.payload = b.data;
	tb.payload_len = b.len;
	assert_int_equal(ssp_tx_sign(&raw, &len, &id, &tb, &alice.sk), 0);
	assert_int_equal(ssp_tx_decode(&tx, raw, len), 0);
	tt = ssp_chain_txtype(t.n.chain, SSP_TX_TOKEN_TRANSFER_FROM);
	j = tt->to_json(&tx, "dssp");
	assert_string_equal(json_string_value(json_object_get(j, "owner")), carol.text);
	assert_string_equal(json_string_value(json_object_get(j, "to")), bob.text);
	assert_string_equal(json_string_value(json_object_get(j, "amount_units")), "1250");
	json_decref(j);
	free(raw);
	ssp_buf_free(&b);
	tnode_close(&t);
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
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_payload_codec),
	    cmocka_unit_test(test_token_symbol_and_address),
	    cmocka_unit_test(test_token_lifecycle),
	    cmocka_unit_test(test_token_rejections),
	    cmocka_unit_test(test_token_ops_direct),
	    cmocka_unit_test(test_token_scan_and_rpc),
	    cmocka_unit_test(test_token_tx_json),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
