/*
 * test_chain_statevec.c — state-test vectors (chain layer), in the manner of
 * Ethereum's state tests: each tests/vectors/state/NAME.json holds a full
 * genesis, named keys (32-byte seeds), and blocks of transfers, each with
 * either the state root the chain must reach or the error its import must
 * fail with. Any consensus change — state layout, fee, lock or vesting
 * rules, the state-root formula — changes a pinned root and fails here.
 *
 * How a block is built: for an expected root, the txs go through a
 * throwaway node's mempool and ssp_chain_produce at the block's time; the
 * node under test imports exactly those bytes and must reach the pinned
 * root (and both nodes must agree). For an expected error, the block is
 * built by hand on the head of the node under test — the txs in the
 * vector's order, the right tx root, zero receipt and state roots, signed
 * by the producer — and ssp_chain_import must fail with that error name.
 * The throwaway node never sees a rejected block, so the two stay in step.
 *
 * Format: {"description", "genesis": {...}, "keys": {"producer": SEED, NAME:
 * SEED | "p256:"SEED, ...}, "blocks": [{"time_ms", "txs": [{"from": NAME,
 * "to": NAME|address, "amount": "1.5", "fee": "0.001", "nonce", "expiry",
 * "pubkey": bool, "memo"?, "chain_id"?}], "expect": {"state_root": HEX,
 * "accounts"?: {NAME: {"balance"?, "locked"?, "nonce"?}}, "supply"?:
 * {"pool"?, "locked"?}} | {"error": "BLOCK_TX"}}]}. Block times must be in
 * the past (import refuses blocks from the future) and strictly increasing.
 *
 * SSP_STATEVEC_PRINT=1 prints every root instead of comparing it (to pin
 * new vectors; review the diff before committing new roots).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain_fixture.h"

#define VEC_DIR "tests/vectors/state"
#define MAX_KEYS 32
#define MAX_TXS 64

typedef struct {
	char name[32];
	fx_key key;
} named_key;

typedef struct {
	const char *file;
	json_t *doc;
	named_key keys[MAX_KEYS];
	size_t nkeys;
	const fx_key *producer;
	ssp_genesis *g;
	fx_node test, prod; /* the node under test, the throwaway producer */
	bool print;
} vec;

static const fx_key *key_by_name(const vec *v, const char *name)
{
	for (size_t i = 0; i < v->nkeys; i++)
		if (!strcmp(v->keys[i].name, name)) return &v->keys[i].key;
	return NULL;
}

static void hex32(char out[65], const uint8_t *b)
{
	ssp_hex_encode(out, b, 32);
}

static uint64_t amount(const vec *v, json_t *o, const char *field)
{
	uint64_t a = 0;
	const char *s = json_string_value(json_object_get(o, field));
	if (!s || ssp_amount_parse(&a, s, SSP_DECIMALS))
		fail_msg("%s: \"%s\" must be an SSP decimal string", v->file, field);
	return a;
}

static uint64_t uint_field(const vec *v, json_t *o, const char *field)
{
	json_t *x = json_object_get(o, field);
	if (!json_is_integer(x) || json_integer_value(x) < 0)
		fail_msg("%s: \"%s\" must be a non-negative integer", v->file, field);
	return (uint64_t)json_integer_value(x);
}

/* A key name or a bech32m address. */
static ssp_addr resolve(const vec *v, const char *who)
{
	const fx_key *k = key_by_name(v, who);
	ssp_addr a;
	if (k) return k->addr;
	if (ssp_addr_decode(&a, ssp_genesis_hrp(v->g), who))
		fail_msg("%s: \"%s\" is neither a key name nor an address", v->file, who);
	return a;
}

static void load_keys(vec *v)
{
	json_t *keys = json_object_get(v->doc, "keys");
	const char *name;
	json_t *val;
	if (!json_is_object(keys)) fail_msg("%s: needs a \"keys\" object", v->file);
	json_object_foreach(keys, name, val)
	{
		const char *text = json_string_value(val);
		int type = SSP_KEY_ED25519;
		uint8_t seed[32];
		named_key *nk = &v->keys[v->nkeys];
		assert_true(v->nkeys < MAX_KEYS);
		assert_true(strlen(name) < sizeof nk->name);
		if (!text) fail_msg("%s: key %s must be a string", v->file, name);
		if (!strncmp(text, "p256:", 5)) {
			type = SSP_KEY_P256;
			text += 5;
		} else if (!strncmp(text, "ed25519:", 8)) {
			text += 8;
		}
		if (ssp_hex_decode(seed, 32, text, strlen(text)))
			fail_msg("%s: key %s must be 32 bytes of hex", v->file, name);
		snprintf(nk->name, sizeof nk->name, "%s", name);
		assert_int_equal(ssp_seckey_from_raw(&nk->key.sk, type, seed, 32), 0);
		assert_int_equal(ssp_key_public(&nk->key.pk, &nk->key.sk), 0);
		ssp_addr_from_pubkey(&nk->key.addr, &nk->key.pk);
		ssp_addr_encode(nk->key.text, sizeof nk->key.text, "dssp", &nk->key.addr);
		v->nkeys++;
	}
	v->producer = key_by_name(v, "producer");
	if (!v->producer) fail_msg("%s: needs a \"producer\" key", v->file);
}

/* Signs the block's txs; returns the count. Bytes are malloc'd into raw[]. */
static size_t sign_txs(const vec *v, json_t *blk, uint8_t **raw, size_t *len)
{
	json_t *txs = json_object_get(blk, "txs"), *t;
	size_t i;
	if (!json_is_array(txs)) fail_msg("%s: a block needs \"txs\" (may be empty)", v->file);
	assert_true(json_array_size(txs) <= MAX_TXS);
	json_array_foreach(txs, i, t)
	{
		const char *from = json_string_value(json_object_get(t, "from"));
		const char *to = json_string_value(json_object_get(t, "to"));
		const fx_key *k = from ? key_by_name(v, from) : NULL;
		if (!k || !to)
			fail_msg("%s: tx %zu needs a known \"from\" and a \"to\"", v->file, i);
		ssp_addr dest = resolve(v, to);
		json_t *pk = json_object_get(t, "pubkey");
		fx_xfer x = {.chain_id = json_string_value(json_object_get(t, "chain_id")),
		             .to = &dest,
		             .amount = amount(v, t, "amount"),
		             .fee = amount(v, t, "fee"),
		             .nonce = uint_field(v, t, "nonce"),
		             .expiry = uint_field(v, t, "expiry"),
		             .pubkey = json_is_true(pk),
		             .memo = json_string_value(json_object_get(t, "memo"))};
		if (!json_is_boolean(pk))
			fail_msg("%s: tx %zu needs \"pubkey\": true|false", v->file, i);
		if (!x.chain_id) x.chain_id = ssp_genesis_chain_id(v->g);
		raw[i] = fx_sign_transfer(k, &x, &len[i], NULL);
	}
	return json_array_size(txs);
}

/* Optional balance and supply expectations after a block. */
static void check_expect(const vec *v, size_t bi, json_t *exp)
{
	json_t *accts = json_object_get(exp, "accounts"), *a;
	const char *who;
	json_object_foreach(accts, who, a)
	{
		ssp_addr addr = resolve(v, who);
		ssp_account acc = fx_account(&v->test, &addr);
		struct {
			const char *field;
			uint64_t have;
		} f[] = {{"balance", acc.balance}, {"locked", acc.locked}};
		for (size_t k = 0; k < 2; k++) {
			if (!json_object_get(a, f[k].field)) continue;
			uint64_t want = amount(v, a, f[k].field);
			if (want != f[k].have) {
				char w[SSP_AMOUNT_STR], h[SSP_AMOUNT_STR];
				ssp_amount_format(w, sizeof w, want, SSP_DECIMALS);
				ssp_amount_format(h, sizeof h, f[k].have, SSP_DECIMALS);
				fail_msg("%s block %zu: %s %s is %s, want %s", v->file, bi, who,
				         f[k].field, h, w);
			}
		}
		if (json_object_get(a, "nonce") && uint_field(v, a, "nonce") != acc.nonce)
			fail_msg("%s block %zu: %s nonce is %llu", v->file, bi, who,
			         (unsigned long long)acc.nonce);
	}
	json_t *sup = json_object_get(exp, "supply");
	if (sup) {
		ssp_supply s = fx_supply(&v->test);
		if (json_object_get(sup, "pool") && amount(v, sup, "pool") != s.pool)
			fail_msg("%s block %zu: pool is %llu", v->file, bi,
			         (unsigned long long)s.pool);
		if (json_object_get(sup, "locked") && amount(v, sup, "locked") != s.locked)
			fail_msg("%s block %zu: locked is %llu", v->file, bi,
			         (unsigned long long)s.locked);
	}
}

static void run_block(vec *v, size_t bi, json_t *blk)
{
	uint8_t *raw[MAX_TXS];
	size_t len[MAX_TXS], n = sign_txs(v, blk, raw, len);
	uint64_t time_ms = uint_field(v, blk, "time_ms");
	json_t *exp = json_object_get(blk, "expect");
	const char *want_root = json_string_value(json_object_get(exp, "state_root"));
	const char *want_err = json_string_value(json_object_get(exp, "error"));
	ssp_block_info info;
	if (!want_err && !json_object_get(exp, "state_root"))
		fail_msg("%s block %zu: expect needs \"state_root\" or \"error\"", v->file, bi);

	if (want_err) {
		size_t bl;
		uint8_t *b = fx_block_build(&v->test, v->producer, (const uint8_t *const *)raw, len,
		                            n, time_ms, &bl);
		ssp_head before = *ssp_chain_head(v->test.chain);
		int rc = ssp_chain_import(v->test.chain, v->test.pool, b, bl, &info);
		if (strcmp(ssp_errname(rc), want_err))
			fail_msg("%s block %zu: import gave %s, want %s", v->file, bi,
			         ssp_errname(rc), want_err);
		/* a rejected block changes nothing */
		assert_memory_equal(ssp_chain_head(v->test.chain)->id.b, before.id.b, 32);
		if (v->print) printf("%s block %zu: %s\n", v->file, bi, want_err);
		free(b);
	} else {
		for (size_t i = 0; i < n; i++) {
			ssp_hash id;
			int rc = ssp_mempool_add(v->prod.pool, raw[i], len[i], false, &id);
			if (rc)
				fail_msg("%s block %zu tx %zu: mempool says %s", v->file, bi, i,
				         ssp_errname(rc));
		}
		info = fx_produce(&v->prod, v->producer, time_ms);
		if (info.ntx != n)
			fail_msg("%s block %zu: %u of %zu txs included", v->file, bi, info.ntx, n);
		size_t bl;
		uint8_t *b = fx_block_copy(&v->prod, info.height, &bl);
		int rc = ssp_chain_import(v->test.chain, v->test.pool, b, bl, &info);
		if (rc) fail_msg("%s block %zu: import failed: %s", v->file, bi, ssp_errname(rc));
		free(b);
		const ssp_head *ht = ssp_chain_head(v->test.chain),
		               *hp = ssp_chain_head(v->prod.chain);
		assert_memory_equal(ht->id.b, hp->id.b, 32);
		assert_memory_equal(ht->state_root.b, hp->state_root.b, 32);
		char have[65];
		hex32(have, ht->state_root.b);
		if (v->print) {
			printf("%s block %zu: %s\n", v->file, bi, have);
		} else if (!want_root || strcmp(have, want_root)) {
			fail_msg("%s block %zu: state root %s, pinned %s", v->file, bi, have,
			         want_root ? want_root : "(none)");
		}
		fx_check_supply(&v->test);
		check_expect(v, bi, exp);
	}
	for (size_t i = 0; i < n; i++)
		free(raw[i]);
}

static int vec_setup(void **state)
{
	vec *v = calloc(1, sizeof *v);
	if (!v) return -1;
	v->file = *state;
	*state = v;
	return 0;
}

/* Runs after a failure too, so no temporary datadir is left behind. */
static int vec_teardown(void **state)
{
	vec *v = *state;
	fx_node_close(&v->test, false);
	fx_node_close(&v->prod, false);
	ssp_genesis_free(v->g);
	json_decref(v->doc);
	free(v);
	return 0;
}

static void run_vector(void **state)
{
	vec *v = *state;
	char path[512], why[256];
	json_error_t je;
	v->print = getenv("SSP_STATEVEC_PRINT") && !strcmp(getenv("SSP_STATEVEC_PRINT"), "1");
	snprintf(path, sizeof path, "%s/%s", VEC_DIR, v->file);
	v->doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!v->doc) fail_msg("%s: %s (line %d)", path, je.text, je.line);
	if (!json_is_string(json_object_get(v->doc, "description")))
		fail_msg("%s: needs a \"description\"", v->file);
	load_keys(v);
	char *gtext = json_dumps(json_object_get(v->doc, "genesis"), JSON_PRESERVE_ORDER);
	assert_non_null(gtext);
	int rc = ssp_genesis_parse(&v->g, gtext, strlen(gtext), why, sizeof why);
	free(gtext);
	if (rc) fail_msg("%s: genesis rejected: %s", v->file, why);
	assert_memory_equal(ssp_genesis_producer(v->g)->b, v->producer->addr.b, SSP_ADDR_LEN);
	fx_node_open(&v->test, NULL, v->g);
	fx_node_open(&v->prod, NULL, v->g);
	json_t *blocks = json_object_get(v->doc, "blocks"), *blk;
	size_t bi;
	if (!json_is_array(blocks) || json_array_size(blocks) == 0)
		fail_msg("%s: needs a non-empty \"blocks\" array", v->file);
	json_array_foreach(blocks, bi, blk) run_block(v, bi, blk);
	/* both nodes end on the same block */
	assert_memory_equal(ssp_chain_head(v->test.chain)->id.b,
	                    ssp_chain_head(v->prod.chain)->id.b, 32);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	if (ssp_core_init()) return 1;
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
	d = opendir(VEC_DIR);
	if (!d) {
		fprintf(stderr, "cannot open %s (run from the repository root)\n", VEC_DIR);
		return 1;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".json")) continue;
		names = realloc(names, (n + 1) * sizeof *names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	/* a vanished directory must not pass */
	if (n < 10) {
		fprintf(stderr, "%s: only %zu vectors; expected at least 10\n", VEC_DIR, n);
		return 1;
	}
	qsort(names, n, sizeof *names, by_name);
	struct CMUnitTest *tests = calloc(n, sizeof *tests);
	for (size_t i = 0; i < n; i++) {
		tests[i].name = names[i];
		tests[i].test_func = run_vector;
		tests[i].setup_func = vec_setup;
		tests[i].teardown_func = vec_teardown;
		tests[i].initial_state = names[i];
	}
	int rc = _cmocka_run_group_tests("statevec", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	return rc;
}
