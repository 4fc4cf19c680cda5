/*
 * test_chain_mapfull.c — a full LMDB map stops block production with
 * SSP_ERR_MAPFULL, leaves the last committed block whole and the chain
 * object refusing work; reopening with a bigger map continues the chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/chain.h"

static char dir[64];
static ssp_seckey prod, alice;
static ssp_pubkey prodpk, alicepk;
static ssp_addr alice_addr;

static char *genesis_json(void)
{
	char pk[96], a[96], f[96], t[96];
	ssp_addr fa, ta;
	memset(fa.b, 0xf1, 20);
	memset(ta.b, 0x7e, 20);
	ssp_pubkey_text(pk, sizeof pk, &prodpk);
	ssp_addr_encode(a, sizeof a, "dssp", &alice_addr);
	ssp_addr_encode(f, sizeof f, "dssp", &fa);
	ssp_addr_encode(t, sizeof t, "dssp", &ta);
	char *s = malloc(4096);
	snprintf(
	    s, 4096,
	    "{\"chain_id\":\"mapfull\",\"network\":\"dev\",\"genesis_time\":1000,"
	    "\"producer\":\"%s\",\"params\":{\"block_interval_ms\":1000},\"allocations\":["
	    "{\"category\":\"private_placement\",\"address\":\"%s\",\"amount\":\"2500000000\"},"
	    "{\"category\":\"foundation\",\"address\":\"%s\",\"amount\":\"2000000000\"},"
	    "{\"category\":\"team\",\"address\":\"%s\",\"amount\":\"1000000000\"},"
	    "{\"category\":\"ecosystem_pool\",\"amount\":\"4500000000\"}]}",
	    pk, a, f, t);
	return s;
}

static int submit_transfer(ssp_chain *c, ssp_mempool *m, uint64_t nonce, uint64_t expiry)
{
	ssp_transfer t = {.amount = 1};
	ssp_buf pl;
	uint8_t *raw;
	size_t n;
	ssp_hash id;
	memset(t.to.b, (int)(nonce % 251) + 1, 20);
	ssp_buf_init(&pl, 1024);
	ssp_transfer_encode(&pl, &t);
	ssp_tx_build b = {.chain_id = "mapfull",
	                  .type = SSP_TX_TRANSFER,
	                  .nonce = nonce,
	                  .fee = 100000,
	                  .expiry = expiry,
	                  .payload = pl.data,
	                  .payload_len = pl.len,
	                  .include_pubkey = nonce == 0};
	int rc = ssp_tx_sign(&raw, &n, &id, &b, &alice);
	ssp_buf_free(&pl);
	if (rc) return rc;
	rc = ssp_mempool_add(m, raw, n, false, &id);
	free(raw);
	(void)c;
	return rc;
}

static void test_mapfull(void **state)
{
	(void)state;
	char why[256];
	ssp_genesis *g;
	char *gj = genesis_json();
	assert_int_equal(ssp_genesis_parse(&g, gj, strlen(gj), why, sizeof why), 0);
	free(gj);

	ssp_store *st;
	ssp_chain *c;
	ssp_mempool *m;
	ssp_store_opts so = {.map_size = 1 << 20, .no_sync = true}; /* 1 MiB: fills quickly */
	assert_int_equal(ssp_store_open(&st, dir, &so), 0);
	assert_int_equal(ssp_chain_open(&c, st, g, NULL, 0), 0);
	ssp_chain_set_check_invariants(c, true);
	ssp_mempool_opts mo = {0};
	assert_int_equal(ssp_mempool_new(&m, c, &mo), 0);

	ssp_signer signer;
	ssp_signer_soft(&signer, &prod);
	uint64_t nonce = 0, t = 2000;
	int rc = 0;
	ssp_block_info info;
	for (int blk = 0; blk < 200 && !rc; blk++) {
		uint64_t h = ssp_chain_head(c)->height;
		for (int k = 0; k < 200; k++)
			assert_int_equal(submit_transfer(c, m, nonce++, h + 50), 0);
		t += 1000;
		rc = ssp_produce_block(c, m, &signer, ssp_chain_slot_at(c, t), t, &info);
	}
	assert_int_equal(rc, SSP_ERR_MAPFULL);
	uint64_t last = ssp_chain_head(c)->height;
	assert_true(last > 0);
	/* the chain object is poisoned: it refuses to go on */
	assert_int_equal(
	    ssp_produce_block(c, m, &signer, ssp_chain_slot_at(c, t + 1000), t + 1000, &info),
	    SSP_ERR_MAPFULL);
	ssp_mempool_free(m);
	ssp_chain_close(c);
	ssp_store_close(st);

	/* reopen with room: the last committed block is whole and the chain continues */
	so.map_size = 64 << 20;
	assert_int_equal(ssp_store_open(&st, dir, &so), 0);
	assert_int_equal(ssp_chain_open(&c, st, g, NULL, 0), 0);
	assert_int_equal(ssp_chain_head(c)->height, last);
	ssp_txn *rt;
	assert_int_equal(ssp_store_read(st, &rt), 0);
	assert_int_equal(ssp_chain_check_supply(c, rt), 0);
	ssp_account a;
	assert_int_equal(ssp_chain_read_account(c, rt, &alice_addr, &a), 0);
	ssp_txn_end(rt);
	assert_int_equal(ssp_mempool_new(&m, c, &mo), 0);
	assert_int_equal(submit_transfer(c, m, a.nonce, last + 10), 0);
	assert_int_equal(
	    ssp_produce_block(c, m, &signer, ssp_chain_slot_at(c, t + 2000), t + 2000, &info), 0);
	assert_int_equal(info.ntx, 1);
	assert_int_equal(ssp_chain_head(c)->height, last + 1);
	ssp_mempool_free(m);
	ssp_chain_close(c);
	ssp_store_close(st);
	ssp_genesis_free(g);
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	snprintf(dir, sizeof dir, "/tmp/ssp-mapfull-XXXXXX");
	if (!mkdtemp(dir)) return -1;
	uint8_t seed[32];
	memset(seed, 7, 32);
	if (ssp_seckey_from_raw(&prod, SSP_KEY_ED25519, seed, 32) || ssp_key_public(&prodpk, &prod))
		return -1;
	memset(seed, 9, 32);
	if (ssp_seckey_from_raw(&alice, SSP_KEY_ED25519, seed, 32) ||
	    ssp_key_public(&alicepk, &alice))
		return -1;
	ssp_addr_from_pubkey(&alice_addr, &alicepk);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_mapfull)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
