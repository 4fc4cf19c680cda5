/*
 * test_chain_corrupt.c — nothing read from disk is trusted (chain + store):
 * a stored block altered below the head is refused by ssp_chain_read_block
 * (SSP_ERR_DBCORRUPT) while its neighbours still read, an altered head
 * block makes ssp_chain_open refuse the datadir, and a truncated chain.mdb
 * is refused by ssp_store_open instead of being mapped past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chain_fixture.h"

#define T0 FX_GENESIS_MS

static fx_key PROD, ALICE, CAROL, DAVE, ERIN, FOUND, TEAM, BOB;
static ssp_genesis *G;
static char *J;

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
	fx_key_make(&PROD, SSP_KEY_ED25519, 0x01);
	fx_key_make(&ALICE, SSP_KEY_ED25519, 0xa1);
	fx_key_make(&CAROL, SSP_KEY_ED25519, 0x0c);
	fx_key_make(&DAVE, SSP_KEY_ED25519, 0xd1);
	fx_key_make(&ERIN, SSP_KEY_ED25519, 0xe1);
	fx_key_make(&FOUND, SSP_KEY_ED25519, 0xf0);
	fx_key_make(&TEAM, SSP_KEY_ED25519, 0x7e);
	fx_key_make(&BOB, SSP_KEY_ED25519, 0xb0);
	fx_genesis_spec s = {.producer = &PROD,
	                     .liquid = {&ALICE, &CAROL, &DAVE, &ERIN},
	                     .foundation = &FOUND,
	                     .team = &TEAM};
	J = fx_genesis_json(&s);
	G = fx_genesis(J);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ssp_genesis_free(G);
	free(J);
	return 0;
}

/*
 * Three blocks of transfers in a new datadir, closed and left in dir (the
 * test removes it); returns block `which`'s bytes (caller frees).
 */
static uint8_t *make_chain(char dir[64], uint64_t which, size_t *len)
{
	fx_node n;
	fx_node_open(&n, NULL, G);
	for (uint64_t i = 0; i < 3; i++) {
		fx_xfer x = {.to = &BOB.addr,
		             .amount = SSP_COIN,
		             .fee = 100000,
		             .nonce = i,
		             .expiry = 1000,
		             .pubkey = i == 0};
		assert_int_equal(fx_submit(&n, &ALICE, &x, NULL), 0);
		fx_produce(&n, &PROD, T0 + 1000 * (i + 1));
	}
	uint8_t *b = fx_block_copy(&n, which, len);
	snprintf(dir, 64, "%s", n.dir);
	fx_node_close(&n, true);
	return b;
}

/* Opens the datadir make_chain left in dir again; fx_node_close removes it. */
static void reopen(fx_node *n, const char *dir)
{
	fx_node_open(n, dir, G);
	n->own_dir = true;
}

/* Opens dir's store as the fixture does; returns ssp_store_open's code. */
static int open_store(ssp_store **st, const char *dir)
{
	ssp_store_opts so = {.map_size = (size_t)64 << 20, .no_sync = true};
	return ssp_store_open(st, dir, &so);
}

/* Flips one bit of the copy of `what` inside dir/chain.mdb, `back` bytes from its end. */
static void flip_in_file(const char *dir, const uint8_t *what, size_t len, size_t back)
{
	char path[128];
	snprintf(path, sizeof path, "%s/chain.mdb", dir);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	assert_true(size > 0);
	uint8_t *img = malloc((size_t)size);
	assert_non_null(img);
	rewind(f);
	assert_int_equal(fread(img, 1, (size_t)size, f), (size_t)size);
	long at = -1;
	for (long i = 0; i + (long)len <= size && at < 0; i++)
		if (!memcmp(img + i, what, len)) at = i;
	assert_true(at >= 0);
	at += (long)(len - back);
	img[at] ^= 0x01;
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	assert_int_equal(fwrite(img + at, 1, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	free(img);
}

static int read_block(fx_node *n, uint64_t h)
{
	ssp_txn *rt;
	const uint8_t *raw;
	size_t len;
	assert_int_equal(ssp_store_read(n->store, &rt), 0);
	int rc = ssp_chain_read_block(n->chain, rt, h, &raw, &len);
	ssp_txn_end(rt);
	return rc;
}

static void test_altered_block_below_head(void **state)
{
	(void)state;
	fx_node n;
	size_t len;
	char dir[64];
	uint8_t *b2 = make_chain(dir, 2, &len);
	flip_in_file(dir, b2, len, 10); /* inside the tx's signature: the tx root breaks */
	reopen(&n, dir);                /* the head (block 3) is intact */
	assert_int_equal(read_block(&n, 2), SSP_ERR_DBCORRUPT);
	assert_int_equal(read_block(&n, 1), 0);
	assert_int_equal(read_block(&n, 3), 0);
	fx_node_close(&n, false);
	free(b2);
}

static void test_altered_header(void **state)
{
	(void)state;
	fx_node n;
	size_t len;
	char dir[64];
	uint8_t *b1 = make_chain(dir, 1, &len);
	flip_in_file(dir, b1, 40, 20); /* in prev_id: the block's id changes */
	reopen(&n, dir);
	assert_int_equal(read_block(&n, 1), SSP_ERR_DBCORRUPT);
	fx_node_close(&n, false);
	free(b1);
}

static void test_altered_head(void **state)
{
	(void)state;
	size_t len;
	char dir[64];
	uint8_t *b3 = make_chain(dir, 3, &len);
	flip_in_file(dir, b3, len, 10);
	ssp_store *st;
	ssp_chain *c;
	assert_int_equal(open_store(&st, dir), 0);
	assert_int_equal(ssp_chain_open(&c, st, G, NULL, 0), SSP_ERR_DBCORRUPT);
	ssp_store_close(st);
	fx_rmdir(dir);
	free(b3);
}

static void test_truncated_file(void **state)
{
	(void)state;
	size_t len;
	char dir[64], path[128];
	free(make_chain(dir, 1, &len));
	snprintf(path, sizeof path, "%s/chain.mdb", dir);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size / 2), 0);
	ssp_store *st = NULL;
	assert_int_equal(open_store(&st, dir), SSP_ERR_DBCORRUPT);
	assert_null(st);
	fx_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_altered_block_below_head),
	    cmocka_unit_test(test_altered_header),
	    cmocka_unit_test(test_altered_head),
	    cmocka_unit_test(test_truncated_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
