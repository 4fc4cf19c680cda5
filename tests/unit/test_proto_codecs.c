/*
 * test_proto_codecs.c — what moved to libssp_proto so that the wallet links
 * no node library (proto layer; this test links ssp_proto alone): the devnet
 * genesis text is byte for byte what the jansson builder it replaced wrote
 * (that builder is kept here as the reference), public keys as text, the
 * account record, the token payload codec, checks and balance key, the contract payload
 * codecs, address and fee. The byte layouts themselves are frozen by
 * test_tx_vectors and the state vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ssp/core.h"
#include "ssp/proto.h"
#include "ssp/proto_contract.h"
#include "ssp/proto_token.h"

static int setup(void **state)
{
	(void)state;
	return ssp_core_init();
}

/* The devnet builder as src/chain/genesis.c had it (jansson). */
static void ref_addr(ssp_addr *a, const char *label)
{
	ssp_hash h;
	ssp_sha256(&h, label, strlen(label));
	memcpy(a->b, h.b, SSP_ADDR_LEN);
}

static char *ref_dev_json(const ssp_addr *dev, const ssp_pubkey *producer, uint64_t time_ms)
{
	char devs[96], prod[96], fnd[96], team[96];
	ssp_addr f, t;
	ref_addr(&f, "smartshare/devnet/foundation");
	ref_addr(&t, "smartshare/devnet/team");
	ssp_addr_encode(devs, sizeof devs, "dssp", dev);
	ssp_pubkey_text(prod, sizeof prod, producer);
	ssp_addr_encode(fnd, sizeof fnd, "dssp", &f);
	ssp_addr_encode(team, sizeof team, "dssp", &t);
	json_t *g = json_pack(
	    "{s:s, s:s, s:I, s:s, s:{s:i, s:i, s:i, s:s, s:s, s:i, s:i}, "
	    "s:{s:i, s:i, s:s, s:i, s:i, s:i, s:s, s:i, s:i, s:i, s:i, s:i}, s:["
	    "{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s}]}",
	    "chain_id", "ssp-devnet", "network", "dev", "genesis_time", (json_int_t)time_ms,
	    "producer", prod, "params", "block_interval_ms", 1000, "max_block_bytes", 1 << 20,
	    "max_block_txs", 20000, "min_fee", "0.00001", "fee_per_byte", "0.0000001",
	    "month_seconds", 2592000, "max_expiry_blocks", 100000,
	    "dpos", "vote_unlock_slots", 5, "self_unlock_slots", 10, "min_self_stake", "100",
	    "set_size", 21, "standby", 0, "max_rank", 200, "round_reward", "100", "ban_slots", 60,
	    "prod_window_rounds", 24, "probation_rounds", 3, "deactivate_misses", 20,
	    "deactivate_slots", 240,
	    "allocations",
	    "category",
	    "private_placement", "address", devs, "amount", "2500000000", "category", "foundation",
	    "address", fnd, "amount", "2000000000", "category", "team", "address", team, "amount",
	    "1000000000", "category", "ecosystem_pool", "amount", "4500000000");
	if (!g) return NULL;
	char *s = json_dumps(g, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(g);
	return s;
}

static void test_genesis_dev_json(void **state)
{
	(void)state;
	const uint64_t times[] = {0, 1, 1234567890123ULL, (uint64_t)INT64_MAX};
	for (int type = SSP_KEY_ED25519; type <= SSP_KEY_P256; type++) {
		for (int k = 0; k < 4; k++) {
			ssp_seckey sk;
			ssp_pubkey pk, dk;
			ssp_addr dev;
			assert_int_equal(ssp_key_generate(&sk, &pk, type), 0);
			assert_int_equal(ssp_key_generate(&sk, &dk, SSP_KEY_ED25519), 0);
			ssp_seckey_wipe(&sk);
			ssp_addr_from_pubkey(&dev, &dk);
			char *got = ssp_genesis_dev_json(&dev, &pk, times[k]);
			char *want = ref_dev_json(&dev, &pk, times[k]);
			assert_non_null(got);
			assert_non_null(want);
			assert_string_equal(got, want);
			free(got);
			free(want);
		}
	}
}

static void test_pubkey_text(void **state)
{
	(void)state;
	for (int type = SSP_KEY_ED25519; type <= SSP_KEY_P256; type++) {
		ssp_seckey sk;
		ssp_pubkey pk, back;
		char text[80], upper[80];
		assert_int_equal(ssp_key_generate(&sk, &pk, type), 0);
		ssp_seckey_wipe(&sk);
		ssp_pubkey_text(text, sizeof text, &pk);
		assert_int_equal(strncmp(text, type == SSP_KEY_P256 ? "p256:" : "ed25519:",
		                         type == SSP_KEY_P256 ? 5 : 8),
		                 0);
		assert_int_equal(strlen(text), strlen(ssp_key_type_name(type)) + 1 + 2 * pk.len);
		assert_int_equal(ssp_pubkey_text_parse(&back, text), 0);
		assert_memory_equal(&back, &pk, sizeof pk);
		/* hex in either case */
		strcpy(upper, text);
		for (char *p = strchr(upper, ':') + 1; *p; p++)
			if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
		assert_int_equal(ssp_pubkey_text_parse(&back, upper), 0);
		assert_memory_equal(&back, &pk, sizeof pk);
		/* truncated, no type, unknown type, trailing junk */
		text[strlen(text) - 2] = 0;
		assert_int_not_equal(ssp_pubkey_text_parse(&back, text), 0);
	}
	ssp_pubkey pk;
	assert_int_equal(ssp_pubkey_text_parse(&pk, "00ff"), SSP_ERR_BADKEY);
	assert_int_equal(ssp_pubkey_text_parse(&pk, "rsa:00ff"), SSP_ERR_KEYTYPE);
	assert_int_equal(ssp_pubkey_text_parse(&pk, "averyveryverylongtypename:00"),
	                 SSP_ERR_BADKEY);
}

static void test_account_record(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_account a = {.balance = 5, .locked = 6, .nonce = 7, .grant_lock_ms = 8}, b;
	ssp_buf buf;
	ssp_buf_init(&buf, 4096);
	ssp_account_encode(&buf, &a);
	assert_int_equal(buf.err, 0);
	assert_int_equal(buf.len, 33);
	assert_int_equal(ssp_account_decode(&b, buf.data, buf.len), 0);
	assert_memory_equal(&a, &b, sizeof a);
	/* trailing byte, short record */
	assert_int_equal(ssp_account_decode(&b, buf.data, buf.len - 1), SSP_ERR_DBCORRUPT);
	ssp_buf_u8(&buf, 0);
	assert_int_equal(ssp_account_decode(&b, buf.data, buf.len), SSP_ERR_DBCORRUPT);
	ssp_buf_free(&buf);
	/* with a key; an unknown key type is corrupt */
	a.has_key = true;
	assert_int_equal(ssp_key_generate(&sk, &a.key, SSP_KEY_P256), 0);
	ssp_seckey_wipe(&sk);
	ssp_buf_init(&buf, 4096);
	ssp_account_encode(&buf, &a);
	assert_int_equal(buf.len, 33 + 1 + 33);
	assert_int_equal(ssp_account_decode(&b, buf.data, buf.len), 0);
	assert_memory_equal(&a, &b, sizeof a);
	buf.data[33] = 9;
	assert_int_equal(ssp_account_decode(&b, buf.data, buf.len), SSP_ERR_DBCORRUPT);
	ssp_buf_free(&buf);
	/* restricted: one trailing flags byte (1), only when set; any other flags are corrupt */
	a.restricted = true;
	ssp_buf_init(&buf, 4096);
	ssp_account_encode(&buf, &a);
	assert_int_equal(buf.len, 33 + 1 + 33 + 1);
	assert_int_equal(ssp_account_decode(&b, buf.data, buf.len), 0);
	assert_memory_equal(&a, &b, sizeof a);
	buf.data[buf.len - 1] = 2;
	assert_int_equal(ssp_account_decode(&b, buf.data, buf.len), SSP_ERR_DBCORRUPT);
	ssp_buf_free(&buf);
}

static void test_token_codec(void **state)
{
	(void)state;
	ssp_token_payload p = {.symbol = "PARK",
	                       .name = "Park",
	                       .decimals = 2,
	                       .max_supply = 1000,
	                       .flags = SSP_TOKEN_FLAG_BURNABLE},
	                  q;
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	ssp_token_payload_encode(&b, SSP_TX_TOKEN_CREATE, &p);
	assert_int_equal(b.err, 0);
	assert_int_equal(ssp_token_payload_decode(&q, SSP_TX_TOKEN_CREATE, b.data, b.len), 0);
	assert_memory_equal(&p, &q, sizeof p);
	assert_int_equal(ssp_token_payload_decode(&q, SSP_TX_TRANSFER, b.data, b.len),
	                 SSP_ERR_TXTYPE);
	ssp_buf_free(&b);
	/* not a token type: the encoder refuses */
	ssp_buf_init(&b, 4096);
	ssp_token_payload_encode(&b, SSP_TX_TRANSFER, &p);
	assert_int_equal(b.err, SSP_ERR_INVAL);
	ssp_buf_free(&b);
	assert_true(ssp_token_symbol_valid("PARK"));
	assert_false(ssp_token_symbol_valid("park"));
	assert_true(ssp_token_name_valid("Park", 4));
	assert_false(ssp_token_name_valid("", 0));
	/* a balance's state key: symbol ‖ 0x00 ‖ holder; 0 for a symbol that is not one */
	uint8_t k[SSP_TOKEN_SYMBOL_MAX + 1 + SSP_ADDR_LEN];
	ssp_addr holder;
	memset(holder.b, 0xab, SSP_ADDR_LEN);
	assert_int_equal(ssp_token_balance_key(k, "PARK", &holder), 5 + SSP_ADDR_LEN);
	assert_memory_equal(k, "PARK\0", 5);
	assert_memory_equal(k + 5, holder.b, SSP_ADDR_LEN);
	assert_int_equal(ssp_token_balance_key(k, "park", &holder), 0);
	assert_int_equal(SSP_TB_TOKEN_BAL, SSP_TB_MODULE_FIRST + 1);
}

static void test_contract_codec(void **state)
{
	(void)state;
	ssp_buf args, b;
	ssp_contract_call c = {.fn = "transfer", .value = 3, .gas_limit = 1000}, d;
	ssp_buf_init(&args, 4096);
	ssp_buf_init(&b, 4096);
	ssp_buf_u8(&args, SSP_VAL_TABLE);
	ssp_buf_u32(&args, 0);
	memset(c.contract.b, 7, SSP_ADDR_LEN);
	c.args = args.data;
	c.args_len = (uint32_t)args.len;
	ssp_contract_call_encode(&b, &c);
	assert_int_equal(b.err, 0);
	assert_int_equal(ssp_contract_call_decode(&d, b.data, b.len), 0);
	assert_string_equal(d.fn, "transfer");
	assert_int_equal(d.value, 3);
	assert_int_equal(d.gas_limit, 1000);
	assert_memory_equal(d.contract.b, c.contract.b, SSP_ADDR_LEN);
	ssp_buf_free(&b);
	/* gas over the cap is refused by the decoder */
	c.gas_limit = SSP_CONTRACT_GAS_MAX + 1;
	ssp_buf_init(&b, 4096);
	ssp_contract_call_encode(&b, &c);
	assert_int_equal(ssp_contract_call_decode(&d, b.data, b.len), SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
	ssp_buf_free(&args);
	/* the address depends on creator and nonce */
	ssp_addr cr = {{1}}, a1, a2;
	ssp_contract_address(&a1, &cr, 0);
	ssp_contract_address(&a2, &cr, 1);
	assert_memory_not_equal(a1.b, a2.b, SSP_ADDR_LEN);
	/* min_fee + fee_per_byte × len + gas × gas_price, overflow refused */
	ssp_params p = {.min_fee = 10, .fee_per_byte = 2, .gas_price = 3};
	uint64_t fee;
	assert_int_equal(ssp_contract_min_fee(&p, 100, 1000, &fee), 0);
	assert_int_equal(fee, 10 + 200 + 3000);
	p.gas_price = UINT64_MAX;
	assert_int_equal(ssp_contract_min_fee(&p, 100, 2, &fee), SSP_ERR_OVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_genesis_dev_json), cmocka_unit_test(test_pubkey_text),
	    cmocka_unit_test(test_account_record),   cmocka_unit_test(test_token_codec),
	    cmocka_unit_test(test_contract_codec),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
