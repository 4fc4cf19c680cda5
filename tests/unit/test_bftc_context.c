/*
 * test_bftc_context.c — the block context the BFT consensus gives the
 * chain's block hooks (bftc.c ssp_consensus.block_context; the staking
 * module pays block rewards and counts missed slots from it): the slot's
 * producer, the finality of the parent's branch by its own QCs — the same
 * on a node that saw every vote and on one that imported the blocks alone —
 * the producers of skipped slots (one round at most, none after genesis),
 * and the same answers from the contexts bftc kept when the parents were
 * dropped before the chain imported their children.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "chain_fixture.h"
#include "ssp/consensus.h"

#define NP 4
#define LAYERS 64
#define SLOT_MS 100
#define LINK 80

static fx_key K[NP], OTHER, FOUND, TEAM;
static ssp_genesis *G;

/* ------------------------------------------------------------ genesis */

static void commitment(char hex[65], const fx_key *k, const char *chain_id, uint32_t layers)
{
	ssp_hash d, x;
	ssp_sig sig;
	ssp_onion_secret_digest(&d, chain_id);
	assert_int_equal(ssp_sign_digest(&sig, &k->sk, &d), 0);
	ssp_onion_secret(&x, &sig);
	for (uint32_t i = 0; i < layers; i++)
		ssp_sha256(&x, x.b, 32);
	sodium_bin2hex(hex, 65, x.b, 32);
}

/* A genesis with producers keys[0..n) and their onions (layers deep). */
static ssp_genesis *bft_genesis(const fx_key *keys, size_t n, uint32_t layers)
{
	fx_genesis_spec s = {.producer = &keys[0],
	                     .liquid = {&OTHER},
	                     .foundation = &FOUND,
	                     .team = &TEAM,
	                     .block_interval_ms = SLOT_MS};
	char *text = fx_genesis_json(&s);
	json_t *j = json_loads(text, 0, NULL), *pl = json_array(), *ol = json_array();
	free(text);
	assert_non_null(j);
	json_object_del(j, "producer");
	for (size_t i = 0; i < n; i++) {
		char pk[96], hex[65];
		ssp_pubkey_text(pk, sizeof pk, &keys[i].pk);
		commitment(hex, &keys[i], FX_CHAIN_ID, layers);
		json_array_append_new(pl, json_string(pk));
		json_array_append_new(ol, json_string(hex));
	}
	json_object_set_new(j, "producers", pl);
	json_object_set_new(j, "bft",
	                    json_pack("{s:i, s:o}", "onion_layers", (int)layers, "onion", ol));
	text = json_dumps(j, 0);
	json_decref(j);
	ssp_genesis *g = fx_genesis(text);
	free(text);
	return g;
}

/* --------------------------------------------------------------- nodes */

typedef struct {
	fx_node n;
	ssp_bftc *b;
} bn;

static void bn_open(bn *x, const char *dir)
{
	ssp_consensus cs;
	fx_node_open(&x->n, dir, G);
	assert_int_equal(ssp_bftc_new(&x->b, G), 0);
	ssp_bftc_consensus(x->b, &cs);
	ssp_chain_set_consensus(x->n.chain, &cs);
	assert_int_equal(ssp_bftc_load(x->b, x->n.chain), 0);
}

static void bn_close(bn *x, bool keep_dir)
{
	fx_node_close(&x->n, keep_dir);
	ssp_bftc_free(x->b);
	x->b = NULL;
}

static const ssp_head *head(const bn *x)
{
	return ssp_chain_head(x->n.chain);
}

static int key_index(const ssp_pubkey *pk)
{
	for (int i = 0; i < NP; i++)
		if (pk->len == K[i].pk.len && !memcmp(pk->b, K[i].pk.b, pk->len)) return i;
	fail_msg("slot producer outside the set");
	return -1;
}

static void be_producer(bn *x, int i)
{
	ssp_signer s;
	ssp_signer_soft(&s, &K[i].sk);
	assert_int_equal(ssp_bftc_set_producer(x->b, &s), 0);
}

/* One block on A at the first slot >= from (0: the head's next) whose producer may produce. */
static int produce_from(bn *a, uint64_t from)
{
	const ssp_head *hd = head(a);
	ssp_hash parent = hd->id;
	uint64_t s = from ? from : hd->slot + 1;
	for (;; s++) {
		const ssp_pubkey *pk = ssp_bftc_slot_producer(a->b, &parent, s);
		assert_non_null(pk);
		int i = key_index(pk);
		be_producer(a, i);
		if (ssp_bftc_may_produce(a->b, &parent, s)) continue;
		ssp_signer sg;
		ssp_block_info info;
		ssp_signer_soft(&sg, &K[i].sk);
		int rc = ssp_produce_block(a->n.chain, a->n.pool, &sg, s,
		                           FX_GENESIS_MS + s * SLOT_MS, &info);
		if (rc)
			fprintf(stderr, "producing slot %llu: %s\n", (unsigned long long)s,
			        ssp_strerror(rc));
		assert_int_equal(rc, 0);
		assert_int_equal(head(a)->slot, s);
		return i;
	}
}

/* The header of a block (h->qc borrows from the returned bytes: free them after). */
static uint8_t *header_at(const bn *x, uint64_t height, ssp_header *h)
{
	size_t len;
	ssp_rd rd;
	uint8_t *raw = fx_block_copy(&x->n, height, &len);
	ssp_rd_init(&rd, raw, len);
	assert_int_equal(ssp_header_read(h, &rd), 0);
	return raw;
}

static ssp_hash id_at(const bn *x, uint64_t height)
{
	ssp_header h;
	free(header_at(x, height, &h));
	return h.id;
}

/* ----------------------------------------------------------------- votes */

static void put_link(uint8_t *p, uint64_t sh, const ssp_hash *sid, uint64_t th, const ssp_hash *tid)
{
	ssp_le64_put(p, sh);
	memcpy(p + 8, sid->b, 32);
	ssp_le64_put(p + 40, th);
	memcpy(p + 48, tid->b, 32);
}

/* The wire vote of producer `voter` for the link. */
static void make_vote(uint8_t out[SSP_BFTC_VOTE_LEN], int voter, uint64_t sh, const ssp_hash *sid,
                      uint64_t th, const ssp_hash *tid)
{
	ssp_hash d;
	ssp_sig sig;
	out[0] = 1;
	out[1] = (uint8_t)voter;
	out[2] = 0;
	put_link(out + 3, sh, sid, th, tid);
	ssp_sig_digest(&d, SSP_DOM_VOTE, FX_CHAIN_ID, out + 3, LINK);
	assert_int_equal(ssp_sign_digest(&sig, &K[voter].sk, &d), 0);
	memcpy(out + 3 + LINK, sig.b, SSP_SIG_LEN);
}

/* Every producer's vote for A's head, from A's justified block, given to A. */
static void vote_all(bn *a)
{
	ssp_bftc_stats st;
	ssp_bftc_info(a->b, &st);
	const ssp_head *hd = head(a);
	ssp_hash src = st.justified ? id_at(a, st.justified) : id_at(a, 0);
	for (int i = 0; i < NP; i++) {
		uint8_t v[SSP_BFTC_VOTE_LEN];
		bool fresh;
		make_vote(v, i, st.justified, &src, hd->height, &hd->id);
		assert_int_equal(ssp_bftc_vote_in(a->b, v, sizeof v, &fresh), 0);
	}
}

/* A: n blocks, each voted for by all; B (if given) imports them. */
static void grow(bn *a, bn *b, int n)
{
	for (int k = 0; k < n; k++) {
		produce_from(a, 0);
		vote_all(a);
		if (b) {
			size_t len;
			ssp_block_info info;
			uint8_t *raw = fx_block_copy(&a->n, head(a)->height, &len);
			assert_int_equal(ssp_chain_import(b->n.chain, NULL, raw, len, &info), 0);
			free(raw);
			assert_memory_equal(head(b)->id.b, head(a)->id.b, 32);
		}
	}
}

/* ------------------------------------------------------------ contexts */

static ssp_block_context ctx_of(bn *x, uint64_t slot)
{
	ssp_consensus cs;
	ssp_block_context out;
	memset(&out, 0, sizeof out);
	ssp_bftc_consensus(x->b, &cs);
	assert_non_null(cs.block_context);
	assert_int_equal(cs.block_context(cs.ctx, x->n.chain, head(x), slot, &out), 0);
	return out;
}

static bool key_eq(const ssp_pubkey *a, const ssp_pubkey *b)
{
	return a->type == b->type && a->len == b->len && !memcmp(a->b, b->b, a->len);
}

static bool ctx_eq(const ssp_block_context *a, const ssp_block_context *b)
{
	if (a->has_producer != b->has_producer || a->has_final != b->has_final ||
	    a->branch_final != b->branch_final || a->nmissed != b->nmissed ||
	    !key_eq(&a->producer, &b->producer))
		return false;
	for (uint32_t i = 0; i < a->nmissed; i++)
		if (a->missed[i].slot != b->missed[i].slot ||
		    !key_eq(&a->missed[i].key, &b->missed[i].key))
			return false;
	return true;
}

/* A (every vote) and B (blocks only) answer alike; finality by the branch's QCs. */
static void test_context(void **state)
{
	(void)state;
	bn a, b;
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	/* after genesis: nobody missed the slots before the chain started */
	ssp_block_context c = ctx_of(&a, 7);
	assert_true(c.has_producer && c.has_final && c.nmissed == 0 && c.branch_final == 0);
	assert_true(key_eq(&c.producer, ssp_bftc_slot_producer(a.b, &head(&a)->id, 7)));
	grow(&a, &b, 10);
	uint64_t s = head(&a)->slot;
	for (uint64_t next = s + 1; next <= s + 3; next++) {
		ssp_block_context ca = ctx_of(&a, next), cb = ctx_of(&b, next);
		assert_true(ctx_eq(&ca, &cb));
		/* A saw the votes for its head (final one further in its view); the branch's
		 * QCs make final what B knows from the headers alone */
		assert_true(ca.branch_final <= head(&a)->height);
		assert_int_equal(ca.branch_final, head(&b)->finalized);
		assert_true(ca.branch_final >= 6);
		assert_true(key_eq(&ca.producer, ssp_bftc_slot_producer(a.b, &head(&a)->id, next)));
		assert_int_equal(ca.nmissed, next - s - 1);
		for (uint32_t i = 0; i < ca.nmissed; i++) {
			assert_int_equal(ca.missed[i].slot, s + 1 + i);
			assert_true(key_eq(&ca.missed[i].key,
			                   ssp_bftc_slot_producer(a.b, &head(&a)->id, s + 1 + i)));
		}
	}
	/* a long gap: one round of misses (the last NP slots) */
	c = ctx_of(&a, s + 100);
	assert_int_equal(c.nmissed, NP);
	assert_int_equal(c.missed[0].slot, s + 100 - NP);
	assert_int_equal(c.missed[NP - 1].slot, s + 99);
	bn_close(&b, false);
	bn_close(&a, false);
}

/*
 * B's machine takes A's headers first (the fork database's check) and
 * finalises far ahead of B's chain, dropping the parents; B's chain then
 * imports the blocks one by one: each context is what A answered on the
 * live parent (kept with the block when B's machine took it).
 */
static void test_context_dropped_parent(void **state)
{
	(void)state;
	enum { N = 90 };
	bn a, b;
	static ssp_block_context want[N + 1];
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	for (int k = 1; k <= N; k++) {
		ssp_head before = *head(&a);
		/* every 7th block skips a slot (its producer's miss) */
		produce_from(&a, k % 7 == 0 ? before.slot + 2 : 0);
		vote_all(&a);
		ssp_consensus cs;
		ssp_bftc_consensus(a.b, &cs);
		memset(&want[k], 0, sizeof want[k]);
		/* the parent is still live in A: its final block is below A's head */
		assert_int_equal(
		    cs.block_context(cs.ctx, a.n.chain, &before, head(&a)->slot, &want[k]), 0);
	}
	ssp_forkchoice fc;
	ssp_bftc_forkchoice(b.b, &fc);
	for (uint64_t h = 1; h <= N; h++) {
		ssp_header hd;
		uint8_t *raw = header_at(&a, h, &hd);
		assert_int_equal(fc.check_header(fc.ctx, b.n.chain, &hd), 0);
		free(raw);
	}
	ssp_bftc_stats st;
	ssp_bftc_info(b.b, &st);
	assert_true(st.final > 70); /* from the headers' QCs: far above B's chain (0) */
	size_t skipped = 0, dropped = 0;
	for (uint64_t h = 1; h <= N; h++) {
		ssp_header hd;
		free(header_at(&a, h, &hd));
		dropped += !ssp_bftc_holds(b.b, &head(&b)->id); /* answered from the kept context */
		ssp_block_context got = ctx_of(&b, hd.slot);
		assert_true(ctx_eq(&got, &want[h]));
		skipped += got.nmissed;
		size_t len;
		ssp_block_info info;
		uint8_t *raw = fx_block_copy(&a.n, h, &len);
		assert_int_equal(ssp_chain_import(b.n.chain, NULL, raw, len, &info), 0);
		free(raw);
	}
	assert_true(skipped >= N / 7);
	assert_true(dropped >= 10);
	assert_memory_equal(head(&b)->id.b, head(&a)->id.b, 32);
	/* a parent nobody kept a context for: refused like its producer (no blame) */
	ssp_consensus cs;
	ssp_block_context none;
	ssp_head fake = *head(&b);
	memset(fake.id.b, 0x5a, 32);
	ssp_bftc_consensus(b.b, &cs);
	assert_int_equal(cs.block_context(cs.ctx, b.n.chain, &fake, fake.slot + 1, &none),
	                 SSP_ERR_BFT_CONFLICT);
	bn_close(&b, false);
	bn_close(&a, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_context),
	    cmocka_unit_test(test_context_dropped_parent),
	};
	if (ssp_core_init()) return 1;
	for (int i = 0; i < NP; i++)
		fx_key_make(&K[i], SSP_KEY_ED25519, (uint8_t)(0x11 * (i + 1)));
	fx_key_make(&OTHER, SSP_KEY_ED25519, 0x77);
	fx_key_make(&FOUND, SSP_KEY_ED25519, 0x55);
	fx_key_make(&TEAM, SSP_KEY_ED25519, 0x66);
	G = bft_genesis(K, NP, LAYERS);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	ssp_genesis_free(G);
	return rc;
}
