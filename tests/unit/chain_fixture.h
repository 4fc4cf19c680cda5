/*
 * chain_fixture.h — helpers shared by the chain-layer unit tests (test
 * infrastructure, header-only): fixed keys from seeds, transfer signing,
 * a genesis builder, temporary datadirs and an open store+chain+mempool.
 * Every helper asserts through cmocka, so include it after <cmocka.h>.
 */
#ifndef SSP_TEST_CHAIN_FIXTURE_H
#define SSP_TEST_CHAIN_FIXTURE_H

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssp/chain.h"

#define FX_UNUSED __attribute__((unused))
#define FX_CHAIN_ID "ssp-test"
#define FX_GENESIS_MS 1700000000000ULL /* 2023-11-14: in the past, so imports accept it */

/* ------------------------------------------------------------------ keys */

typedef struct {
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_addr addr;
	char text[96]; /* bech32m "dssp1..." */
} fx_key;

/* A key whose 32-byte seed (ed25519) or scalar (p256) is `fill` repeated. */
static FX_UNUSED void fx_key_make(fx_key *k, int type, uint8_t fill)
{
	uint8_t raw[32];
	memset(raw, fill, sizeof raw);
	assert_int_equal(ssp_seckey_from_raw(&k->sk, type, raw, sizeof raw), 0);
	assert_int_equal(ssp_key_public(&k->pk, &k->sk), 0);
	ssp_addr_from_pubkey(&k->addr, &k->pk);
	ssp_addr_encode(k->text, sizeof k->text, "dssp", &k->addr);
}

/* ------------------------------------------------------------ transfers */

typedef struct {
	const char *chain_id; /* NULL = FX_CHAIN_ID */
	const ssp_addr *to;
	uint64_t amount;
	uint64_t fee;
	uint64_t nonce;
	uint64_t expiry;
	bool pubkey;
	const char *memo;
} fx_xfer;

/* Signs a transfer; returns malloc'd bytes (caller frees). */
static FX_UNUSED uint8_t *fx_sign_transfer(const fx_key *from, const fx_xfer *x, size_t *n,
                                           ssp_hash *txid)
{
	ssp_buf pb;
	ssp_transfer t = {.to = *x->to, .amount = x->amount};
	t.memo = (const uint8_t *)(x->memo ? x->memo : "");
	t.memo_len = (uint32_t)strlen((const char *)t.memo);
	ssp_buf_init(&pb, 4096);
	ssp_transfer_encode(&pb, &t);
	assert_int_equal(pb.err, 0);
	ssp_tx_build b = {.chain_id = x->chain_id ? x->chain_id : FX_CHAIN_ID,
	                  .type = SSP_TX_TRANSFER,
	                  .nonce = x->nonce,
	                  .fee = x->fee,
	                  .expiry = x->expiry,
	                  .payload = pb.data,
	                  .payload_len = pb.len,
	                  .include_pubkey = x->pubkey};
	uint8_t *out = NULL;
	ssp_hash id;
	assert_int_equal(ssp_tx_sign(&out, n, txid ? txid : &id, &b, &from->sk), 0);
	ssp_buf_free(&pb);
	return out;
}

/* ------------------------------------------------------------------ genesis */

typedef struct {
	const char *chain_id; /* NULL = FX_CHAIN_ID */
	uint64_t time_ms;     /* 0 = FX_GENESIS_MS */
	const fx_key *producer;
	const fx_key *liquid[4]; /* private placement, split evenly (first takes the rest) */
	const fx_key *foundation;
	const fx_key *team;
	uint64_t month_seconds;     /* 0 = default */
	uint32_t max_block_txs;     /* 0 = default */
	uint64_t block_interval_ms; /* 0 = 100 */
	uint32_t max_expiry_blocks; /* 0 = default */
} fx_genesis_spec;

/* The JSON document of a genesis; caller frees. Min fee 0.00001, 0.0000001 per byte. */
static FX_UNUSED char *fx_genesis_json(const fx_genesis_spec *s)
{
	char prod[96], amt[SSP_AMOUNT_STR];
	json_t *g = json_object(), *params = json_object(), *al = json_array();
	size_t nl = 0;
	ssp_pubkey_text(prod, sizeof prod, &s->producer->pk);
	json_object_set_new(g, "chain_id", json_string(s->chain_id ? s->chain_id : FX_CHAIN_ID));
	json_object_set_new(g, "network", json_string("dev"));
	json_object_set_new(g, "genesis_time",
	                    json_integer((json_int_t)(s->time_ms ? s->time_ms : FX_GENESIS_MS)));
	json_object_set_new(g, "producer", json_string(prod));
	json_object_set_new(params, "min_fee", json_string("0.00001"));
	/* 100 ms slots (the minimum): tests step block times by 500 ms or across a boundary */
	json_object_set_new(
	    params, "block_interval_ms",
	    json_integer(s->block_interval_ms ? (json_int_t)s->block_interval_ms : 100));
	json_object_set_new(params, "fee_per_byte", json_string("0.0000001"));
	if (s->month_seconds)
		json_object_set_new(params, "month_seconds",
		                    json_integer((json_int_t)s->month_seconds));
	if (s->max_block_txs)
		json_object_set_new(params, "max_block_txs", json_integer(s->max_block_txs));
	if (s->max_expiry_blocks)
		json_object_set_new(params, "max_expiry_blocks",
		                    json_integer(s->max_expiry_blocks));
	json_object_set_new(g, "params", params);
	while (nl < 4 && s->liquid[nl])
		nl++;
	uint64_t pp = SSP_TOTAL_SUPPLY / 100 * 25;
	for (size_t i = 0; i < nl; i++) {
		uint64_t a = pp / nl + (i == 0 ? pp % nl : 0);
		ssp_amount_format(amt, sizeof amt, a, SSP_DECIMALS);
		json_array_append_new(al,
		                      json_pack("{s:s, s:s, s:s}", "category", "private_placement",
		                                "address", s->liquid[i]->text, "amount", amt));
	}
	json_array_append_new(al, json_pack("{s:s, s:s, s:s}", "category", "foundation", "address",
	                                    s->foundation->text, "amount", "2000000000"));
	json_array_append_new(al, json_pack("{s:s, s:s, s:s}", "category", "team", "address",
	                                    s->team->text, "amount", "1000000000"));
	json_array_append_new(
	    al, json_pack("{s:s, s:s}", "category", "ecosystem_pool", "amount", "4500000000"));
	json_object_set_new(g, "allocations", al);
	char *text = json_dumps(g, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(g);
	assert_non_null(text);
	return text;
}

static FX_UNUSED ssp_genesis *fx_genesis(const char *json)
{
	ssp_genesis *g = NULL;
	char why[256];
	int rc = ssp_genesis_parse(&g, json, strlen(json), why, sizeof why);
	if (rc) fprintf(stderr, "genesis rejected: %s\n", why);
	assert_int_equal(rc, 0);
	return g;
}

/* ------------------------------------------------------------- datadirs */

static FX_UNUSED int fx_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb, (void)flag, (void)f;
	return remove(path);
}

/* Temp dirs still present; removed at exit, so a failed test leaves none. */
static char fx_dirs[64][64];

static FX_UNUSED void fx_rmdir(const char *dir)
{
	for (size_t i = 0; i < 64; i++)
		if (!strcmp(fx_dirs[i], dir)) fx_dirs[i][0] = 0;
	assert_int_equal(nftw(dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static FX_UNUSED void fx_rmdirs_at_exit(void)
{
	for (size_t i = 0; i < 64; i++)
		if (fx_dirs[i][0]) nftw(fx_dirs[i], fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates a fresh directory under /tmp; the caller passes a char[64]. */
static FX_UNUSED void fx_tmpdir(char dir[64])
{
	static bool hooked;
	snprintf(dir, 64, "/tmp/ssp-chaintest-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (!hooked) hooked = atexit(fx_rmdirs_at_exit) == 0;
	for (size_t i = 0; i < 64; i++)
		if (!fx_dirs[i][0]) {
			snprintf(fx_dirs[i], sizeof fx_dirs[i], "%s", dir);
			break;
		}
}

/* ---------------------------------------------------- store + chain + pool */

typedef struct {
	char dir[64];
	bool own_dir;
	ssp_store *store;
	ssp_chain *chain;
	ssp_mempool *pool;
	void *mods;                  /* modules' per-chain states (tests above chain) */
	void (*mods_free)(void *ms); /* frees mods after the chain closes */
} fx_node;

/* Opens a node in `dir` (NULL: a fresh temp dir, removed by fx_node_close). */
static FX_UNUSED void fx_node_open_opts(fx_node *n, const char *dir, const ssp_genesis *g,
                                        const ssp_mempool_opts *mo)
{
	ssp_store_opts so = {.map_size = (size_t)64 << 20, .no_sync = true};
	ssp_mempool_opts def = {0};
	memset(n, 0, sizeof *n);
	if (dir) {
		snprintf(n->dir, sizeof n->dir, "%s", dir);
	} else {
		fx_tmpdir(n->dir);
		n->own_dir = true;
	}
	assert_int_equal(ssp_store_open(&n->store, n->dir, &so), 0);
	assert_int_equal(ssp_chain_open(&n->chain, n->store, g, NULL, 0), 0);
	ssp_chain_set_check_invariants(n->chain, true);
	assert_int_equal(ssp_mempool_new(&n->pool, n->chain, mo ? mo : &def), 0);
}

static FX_UNUSED void fx_node_open(fx_node *n, const char *dir, const ssp_genesis *g)
{
	fx_node_open_opts(n, dir, g, NULL);
}

/* Closes everything; keep_dir leaves the datadir for a reopen. */
static FX_UNUSED void fx_node_close(fx_node *n, bool keep_dir)
{
	ssp_mempool_free(n->pool);
	ssp_chain_close(n->chain);
	if (n->mods_free) n->mods_free(n->mods);
	n->mods = NULL;
	ssp_store_close(n->store);
	if (n->own_dir && !keep_dir) fx_rmdir(n->dir);
	n->pool = NULL;
	n->chain = NULL;
	n->store = NULL;
}

static FX_UNUSED ssp_account fx_account(const fx_node *n, const ssp_addr *a)
{
	ssp_txn *rt;
	ssp_account acc;
	assert_int_equal(ssp_store_read(n->store, &rt), 0);
	assert_int_equal(ssp_chain_read_account(n->chain, rt, a, &acc), 0);
	ssp_txn_end(rt);
	return acc;
}

static FX_UNUSED ssp_supply fx_supply(const fx_node *n)
{
	ssp_txn *rt;
	ssp_supply s;
	assert_int_equal(ssp_store_read(n->store, &rt), 0);
	assert_int_equal(ssp_chain_read_supply(n->chain, rt, &s), 0);
	ssp_txn_end(rt);
	return s;
}

static FX_UNUSED void fx_check_supply(const fx_node *n)
{
	ssp_txn *rt;
	assert_int_equal(ssp_store_read(n->store, &rt), 0);
	assert_int_equal(ssp_chain_check_supply(n->chain, rt), 0);
	ssp_txn_end(rt);
}

/* Produces one block at time_ms (slot = height) and checks the supply invariant. */
static FX_UNUSED ssp_block_info fx_produce(fx_node *n, const fx_key *producer, uint64_t time_ms)
{
	ssp_block_info info;
	ssp_signer s;
	uint64_t h = ssp_chain_head(n->chain)->height + 1;
	ssp_signer_soft(&s, &producer->sk);
	assert_int_equal(ssp_produce_block(n->chain, n->pool, &s,
	                                   ssp_chain_slot_at(n->chain, time_ms), time_ms, &info),
	                 0);
	assert_int_equal(info.height, h);
	assert_int_equal(ssp_chain_head(n->chain)->height, h);
	fx_check_supply(n);
	return info;
}

/* A malloc'd copy of the encoded block at height. */
static FX_UNUSED uint8_t *fx_block_copy(const fx_node *n, uint64_t height, size_t *len)
{
	ssp_txn *rt;
	const uint8_t *raw;
	assert_int_equal(ssp_store_read(n->store, &rt), 0);
	assert_int_equal(ssp_chain_read_block(n->chain, rt, height, &raw, len), 0);
	uint8_t *copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, raw, *len);
	ssp_txn_end(rt);
	return copy;
}

/* Adds a signed transfer to the node's pool; returns the mempool's code. */
static FX_UNUSED int fx_submit(fx_node *n, const fx_key *from, const fx_xfer *x, ssp_hash *txid)
{
	size_t len;
	ssp_hash id, got;
	uint8_t *raw = fx_sign_transfer(from, x, &len, &id);
	int rc = ssp_mempool_add(n->pool, raw, len, false, &got);
	free(raw);
	if (!rc) assert_memory_equal(got.b, id.b, 32);
	if (txid) *txid = id;
	return rc;
}

/* ------------------------------------------------------ hand-built blocks */

/*
 * Encodes a block from a header and tx bytes. With signer, the header is
 * (re-)signed over its unsigned encoding under SSP_DOM_BLOCK first.
 * Returns malloc'd bytes of exactly *len.
 */
static FX_UNUSED uint8_t *fx_block_encode(ssp_header *h, const uint8_t *const *txs,
                                          const size_t *lens, size_t ntx, const fx_key *signer,
                                          const char *chain_id, size_t *len)
{
	ssp_buf b;
	ssp_buf_init(&b, (size_t)64 << 20);
	if (signer) {
		ssp_header_encode(&b, h, false);
		assert_int_equal(b.err, 0);
		assert_int_equal(
		    ssp_sign(&h->sig, &signer->sk, SSP_DOM_BLOCK, chain_id, b.data, b.len), 0);
		ssp_buf_reset(&b);
	}
	ssp_header_encode(&b, h, true);
	ssp_buf_u32(&b, (uint32_t)ntx);
	for (size_t i = 0; i < ntx; i++)
		ssp_buf_bytes(&b, txs[i], lens[i]);
	assert_int_equal(b.err, 0);
	uint8_t *out = malloc(b.len);
	assert_non_null(out);
	memcpy(out, b.data, b.len);
	*len = b.len;
	ssp_buf_free(&b);
	return out;
}

/* The tx root of raw txs (decoding each). */
static FX_UNUSED void fx_tx_root(ssp_hash *root, const uint8_t *const *txs, const size_t *lens,
                                 size_t ntx)
{
	ssp_hash *ids = calloc(ntx ? ntx : 1, sizeof *ids);
	assert_non_null(ids);
	for (size_t i = 0; i < ntx; i++)
		ssp_sha256(&ids[i], txs[i], lens[i]);
	ssp_merkle_root(root, ids, ntx);
	free(ids);
}

/*
 * A block on top of the node's head holding exactly these txs, signed by
 * `signer` as producer, with the right tx root and zero receipt and state
 * roots: for blocks that must fail before the roots are compared.
 */
static FX_UNUSED uint8_t *fx_block_build(const fx_node *n, const fx_key *signer,
                                         const uint8_t *const *txs, const size_t *lens, size_t ntx,
                                         uint64_t time_ms, size_t *len)
{
	const ssp_head *hd = ssp_chain_head(n->chain);
	ssp_header h;
	memset(&h, 0, sizeof h);
	h.height = hd->height + 1;
	h.prev_id = hd->id;
	h.slot = ssp_chain_slot_at(n->chain, time_ms);
	h.timestamp_ms = time_ms;
	h.producer = signer->addr;
	fx_tx_root(&h.tx_root, txs, lens, ntx);
	return fx_block_encode(&h, txs, lens, ntx, signer,
	                       ssp_genesis_chain_id(ssp_chain_genesis(n->chain)), len);
}

/*
 * A consensus for chain tests: the genesis producer in every slot, and
 * final height = head − *lag (ctx points at the lag, so a test may move it):
 *   static const ssp_consensus C = {.producer = fx_lag_producer,
 *           .finalized = fx_lag_finalized, .ctx = &lag};
 */
static FX_UNUSED int fx_lag_producer(void *ctx, const ssp_chain *c, const ssp_head *parent,
                                     uint64_t slot, ssp_pubkey *key)
{
	(void)ctx;
	(void)parent;
	(void)slot;
	*key = *ssp_genesis_producer_key(ssp_chain_genesis(c));
	return 0;
}

static FX_UNUSED uint64_t fx_lag_finalized(void *ctx, const ssp_chain *c, const ssp_head *head)
{
	uint64_t lag = *(const uint64_t *)ctx;
	(void)c;
	return head->height > lag ? head->height - lag : 0;
}

#endif
