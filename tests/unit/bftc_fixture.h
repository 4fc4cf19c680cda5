/*
 * bftc_fixture.h — what the in-process tests of the node's BFT layer share
 * (test_bftc.c, test_bftc_context.c): a BFT genesis of NP producers with
 * their onion commitments, nodes that open a chain with ssp_bftc as its
 * consensus, producing in turn, voting and importing. Test code only.
 */
#ifndef SSP_TEST_BFTC_FIXTURE_H
#define SSP_TEST_BFTC_FIXTURE_H

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

#endif
