/*
 * test_bftc.c — the BFT consensus of a node (consensus layer, bftc.c)
 * in-process, over real chains in temp datadirs: a 4-producer genesis with
 * a "bft" object; chain A produces with the slot's producer (the consensus
 * switched to that key per block) and receives hand-signed votes, chain B
 * imports A's blocks and finalises from their QCs alone. Must-fail headers
 * (a flipped or missing onion reveal, a producer not the slot's, QCs with a
 * flipped signature, too few bits, a wrong n, trailing bytes, a bit beyond
 * n), each with its exact error and B's head unmoved; the vote decoder's
 * verdicts; finality after reload; the vote watermark (written before a
 * vote, and after a restart never a second vote for a target height);
 * damaged watermark records refused as a corrupt database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "bftc_fixture.h"
		}
	}
}

/* --------------------------------------------------------- block variants */

typedef struct {
	ssp_block blk;
	uint8_t *raw;
	size_t len;
	uint8_t qc[SSP_QC_MAX + 64];
	size_t qc_len;
	int producer;
} variant;

/* A's head block, decoded, with its QC copied out (to be changed). */
static void variant_of_head(variant *v, const bn *a)
{
	memset(v, 0, sizeof *v);
	v->raw = fx_block_copy(&a->n, head(a)->height, &v->len);
	assert_int_equal(ssp_block_decode(&v->blk, v->raw, v->len, v->len), 0);
	assert_int_equal(v->blk.ntx, 0);
	memcpy(v->qc, v->blk.hdr.qc, v->blk.hdr.qc_len);
	v->qc_len = v->blk.hdr.qc_len;
	v->producer = -1;
	for (int i = 0; i < NP; i++)
		if (!memcmp(K[i].addr.b, v->blk.hdr.producer.b, SSP_ADDR_LEN)) v->producer = i;
	assert_true(v->producer >= 0);
}

static void variant_free(variant *v)
{
	ssp_block_free(&v->blk);
	free(v->raw);
}

/* Imports into b the header h (qc from v) signed by signer; asserts b's head did not move. */
static int import_header(bn *b, ssp_header *h, const fx_key *signer)
{
	size_t len;
	ssp_block_info info;
	ssp_head before = *head(b);
	uint8_t *raw = fx_block_encode(h, NULL, NULL, 0, signer, FX_CHAIN_ID, &len);
	int rc = ssp_chain_import(b->n.chain, NULL, raw, len, &info);
	free(raw);
	if (rc) {
		assert_int_equal(head(b)->height, before.height);
		assert_memory_equal(head(b)->id.b, before.id.b, 32);
		assert_int_equal(ssp_chain_fatal(b->n.chain), 0);
	}
	return rc;
}

/* The variant's header with its (changed) QC, re-signed by its real producer. */
static int import_variant(bn *b, variant *v)
{
	ssp_header h = v->blk.hdr;
	h.qc = v->qc_len ? v->qc : NULL;
	h.qc_len = (uint32_t)v->qc_len;
	return import_header(b, &h, &K[v->producer]);
}

/* QC layout with n = 4: link(80) | u16 n | bitmap(1) | sigs. */
#define QC_N (LINK)
#define QC_BM (LINK + 2)
#define QC_SIGS (LINK + 3)

static int qc_bits(const variant *v)
{
	return __builtin_popcount(v->qc[QC_BM]);
}

/* ---------------------------------------------------------------- tests */

/* A produces with the slot's producer, B imports; B finalises from the QCs alone. */
static void test_produce_import_finality(void **state)
{
	(void)state;
	bn a, b;
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	/* set_producer can be called again and again (one key at a time) */
	for (int i = 0; i < NP; i++)
		be_producer(&a, i);
	grow(&a, &b, 12);
	assert_int_equal(head(&b)->height, 12);
	/* every header carries a 32-byte reveal, and after the first votes a QC */
	size_t qcs = 0;
	for (uint64_t h = 1; h <= 12; h++) {
		ssp_header hd;
		uint8_t *raw = header_at(&b, h, &hd);
		assert_int_equal(hd.seed_len, 32);
		qcs += hd.qc_len > 0;
		free(raw);
	}
	assert_true(qcs >= 10);
	/* finality from QCs in headers: B was given no vote */
	uint64_t fb = head(&b)->finalized;
	assert_true(fb >= 8);
	assert_int_equal(ssp_bftc_final_on(b.b, b.n.chain), fb);
	/* A saw the votes for its head after committing it: final one block further, which
	 * the chain learns between blocks (as the node does) */
	uint64_t fa = ssp_bftc_final_on(a.b, a.n.chain);
	assert_int_equal(fa, head(&a)->height - 1);
	assert_true(head(&a)->finalized < fa);
	assert_int_equal(ssp_chain_advance_final(a.n.chain, fa), 0);
	assert_int_equal(head(&a)->finalized, fa);
	assert_true(fa >= fb);
	ssp_bftc_stats st;
	ssp_bftc_info(b.b, &st);
	assert_int_equal(st.final, fb);
	assert_int_equal(st.set_size, NP);
	assert_int_equal(st.me, -1);
	assert_int_equal(st.evidence, 0);
	/* B reloaded from its committed chain: the same finality */
	char dir[64];
	snprintf(dir, sizeof dir, "%s", b.n.dir);
	bn_close(&b, true);
	bn_open(&b, dir);
	assert_int_equal(ssp_bftc_final_on(b.b, b.n.chain), fb);
	assert_int_equal(head(&b)->finalized, fb);
	/* and it goes on importing (the pipelined path) */
	grow(&a, NULL, 3);
	const uint8_t *raws[3];
	size_t lens[3], done = 0;
	ssp_block_info infos[3];
	for (int k = 0; k < 3; k++)
		raws[k] = fx_block_copy(&a.n, 13 + (uint64_t)k, &lens[k]);
	assert_int_equal(ssp_chain_import_many(b.n.chain, NULL, raws, lens, 3, infos, &done), 0);
	assert_int_equal(done, 3);
	for (int k = 0; k < 3; k++)
		free((void *)raws[k]);
	assert_memory_equal(head(&b)->id.b, head(&a)->id.b, 32);
	assert_true(head(&b)->finalized > fb);
	assert_int_equal(ssp_bftc_final_on(b.b, b.n.chain), head(&b)->finalized);
	b.n.own_dir = true;
	bn_close(&b, false);
	bn_close(&a, false);
}

/* Headers whose reveal or producer is wrong: refused with the exact error. */
static void test_bad_reveal_and_producer(void **state)
{
	(void)state;
	bn a, b;
	variant v;
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	grow(&a, &b, 5);
	produce_from(&a, 0);
	variant_of_head(&v, &a);
	ssp_header h;

	/* one bit of the reveal flipped, re-signed by its real producer */
	h = v.blk.hdr;
	h.seed_reveal[7] ^= 0x10;
	assert_int_equal(import_header(&b, &h, &K[v.producer]), SSP_ERR_BFT_REVEAL);
	/* no reveal */
	h = v.blk.hdr;
	h.seed_len = 0;
	assert_int_equal(import_header(&b, &h, &K[v.producer]), SSP_ERR_BFT_REVEAL);
	/* a 64-byte reveal holding the right 32 first */
	h = v.blk.hdr;
	h.seed_len = 64;
	memset(h.seed_reveal + 32, 0, 32);
	assert_int_equal(import_header(&b, &h, &K[v.producer]), SSP_ERR_BFT_REVEAL);
	/* the previous element of the onion (already revealed): a replay */
	h = v.blk.hdr;
	ssp_hash prev;
	ssp_sha256(&prev, h.seed_reveal, 32);
	memcpy(h.seed_reveal, prev.b, 32);
	assert_int_equal(import_header(&b, &h, &K[v.producer]), SSP_ERR_BFT_REVEAL);
	/* the next element (one this producer reveals only in the next round) */
	h = v.blk.hdr;
	{
		ssp_hash d, x;
		ssp_sig sig;
		ssp_onion_secret_digest(&d, FX_CHAIN_ID);
		assert_int_equal(ssp_sign_digest(&sig, &K[v.producer].sk, &d), 0);
		ssp_onion_secret(&x, &sig);
		uint64_t round = h.slot / NP;
		for (uint64_t i = 0; i < LAYERS - round - 2; i++)
			ssp_sha256(&x, x.b, 32);
		ssp_hash chk;
		ssp_sha256(&chk, x.b, 32);
		assert_memory_equal(chk.b, v.blk.hdr.seed_reveal, 32); /* x is the next element */
		memcpy(h.seed_reveal, x.b, 32);
	}
	assert_int_equal(import_header(&b, &h, &K[v.producer]), SSP_ERR_BFT_REVEAL);
	/* signed by a producer of the set that is not the slot's (its own address in it) */
	int other = (v.producer + 1) % NP;
	h = v.blk.hdr;
	h.producer = K[other].addr;
	int rc = import_header(&b, &h, &K[other]);
	assert_int_equal(rc, SSP_ERR_BLOCK_PRODUCER);
	assert_false(ssp_err_local(rc));
	/* the slot's address, another key's signature */
	h = v.blk.hdr;
	rc = import_header(&b, &h, &K[other]);
	assert_int_equal(rc, SSP_ERR_BADSIG);
	/* a key outside the set */
	h = v.blk.hdr;
	h.producer = OTHER.addr;
	rc = import_header(&b, &h, &OTHER);
	assert_int_equal(rc, SSP_ERR_BLOCK_PRODUCER);
	/* the real block still imports */
	assert_int_equal(import_variant(&b, &v), 0);
	assert_memory_equal(head(&b)->id.b, head(&a)->id.b, 32);
	variant_free(&v);
	bn_close(&b, false);
	bn_close(&a, false);
}

/* QCs that are wrong in one way each: SSP_ERR_BFT_QC, B unmoved; the real one imports. */
static void test_bad_qc(void **state)
{
	(void)state;
	bn a, b;
	variant v, w;
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	grow(&a, &b, 5);
	produce_from(&a, 0);
	variant_of_head(&v, &a);
	assert_true(v.qc_len > 0);
	assert_int_equal(v.qc[QC_N] | v.qc[QC_N + 1] << 8, NP);
	int bits = qc_bits(&v);
	assert_true(bits >= 3);
	assert_int_equal(v.qc_len, QC_SIGS + (size_t)bits * SSP_SIG_LEN);

	/* one signature byte flipped (each signature in turn) */
	for (int s = 0; s < bits; s++) {
		w = v;
		w.qc[QC_SIGS + (size_t)s * SSP_SIG_LEN + 5] ^= 1;
		assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	}
	/* a byte of the link flipped: the signatures no longer match */
	w = v;
	w.qc[50] ^= 1;
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	/* fewer than a quorum (3 of 4): the last bits and their signatures dropped */
	w = v;
	while (qc_bits(&w) > 2) {
		int top = 31 - __builtin_clz(w.qc[QC_BM]);
		w.qc[QC_BM] &= (uint8_t) ~(1u << top);
		w.qc_len -= SSP_SIG_LEN;
	}
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	w.qc[QC_BM] = 0; /* no voter at all */
	w.qc_len = QC_SIGS;
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	/* n wrong: 3, 5, 8, 0 */
	static const uint16_t ns[] = {3, 5, 8, 0, 0xffff};
	for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
		w = v;
		w.qc[QC_N] = (uint8_t)ns[k];
		w.qc[QC_N + 1] = (uint8_t)(ns[k] >> 8);
		assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	}
	/* trailing bytes: one, and a whole extra signature */
	w = v;
	w.qc[w.qc_len++] = 0;
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	w = v;
	memcpy(w.qc + w.qc_len, w.qc + QC_SIGS, SSP_SIG_LEN);
	w.qc_len += SSP_SIG_LEN;
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	/* truncated: one byte short, and only the link */
	w = v;
	w.qc_len--;
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	w = v;
	w.qc_len = LINK;
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	/* a bit beyond n (bit 4..7), with a signature for it appended */
	for (int bit = NP; bit < 8; bit++) {
		w = v;
		w.qc[QC_BM] |= (uint8_t)(1u << bit);
		memcpy(w.qc + w.qc_len, w.qc + QC_SIGS, SSP_SIG_LEN);
		w.qc_len += SSP_SIG_LEN;
		assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	}
	/* a signature moved to another voter's slot (both bits set, order swapped) */
	if (bits >= 2) {
		w = v;
		uint8_t t[SSP_SIG_LEN];
		memcpy(t, w.qc + QC_SIGS, SSP_SIG_LEN);
		memcpy(w.qc + QC_SIGS, w.qc + QC_SIGS + SSP_SIG_LEN, SSP_SIG_LEN);
		memcpy(w.qc + QC_SIGS + SSP_SIG_LEN, t, SSP_SIG_LEN);
		assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	}
	/* source height >= target height (signed over, so it fails either way) */
	w = v;
	memcpy(w.qc, w.qc + 40, 40);
	assert_int_equal(import_variant(&b, &w), SSP_ERR_BFT_QC);
	/* the real block imports, and B's finality goes on */
	uint64_t f = head(&b)->finalized;
	assert_int_equal(import_variant(&b, &v), 0);
	assert_memory_equal(head(&b)->id.b, head(&a)->id.b, 32);
	assert_true(head(&b)->finalized >= f);
	variant_free(&v);
	bn_close(&b, false);
	bn_close(&a, false);
}

/* The vote decoder's verdicts. */
static void test_vote_in(void **state)
{
	(void)state;
	bn a, b;
	bool fresh;
	uint8_t v[SSP_BFTC_VOTE_LEN + 1], w[SSP_BFTC_VOTE_LEN + 1];
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	grow(&a, &b, 4);
	/* a link B has no signatures for: its head from its justified block */
	ssp_bftc_stats st;
	ssp_bftc_info(b.b, &st);
	ssp_hash src = id_at(&b, st.justified), tgt = head(&b)->id;
	uint64_t th = head(&b)->height;
	make_vote(v, 2, st.justified, &src, th, &tgt);
	assert_int_equal(ssp_bftc_vote_in(b.b, v, SSP_BFTC_VOTE_LEN, &fresh), 0);
	assert_true(fresh);
	assert_int_equal(ssp_bftc_vote_in(b.b, v, SSP_BFTC_VOTE_LEN, &fresh), 0);
	assert_false(fresh);
	/* a flipped signature (of a vote not seen yet) */
	make_vote(v, 3, st.justified, &src, th, &tgt);
	memcpy(w, v, sizeof w);
	w[3 + LINK + 9] ^= 0x40;
	assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh), SSP_ERR_BADSIG);
	assert_false(fresh);
	/* another voter's index on a good signature */
	memcpy(w, v, sizeof w);
	w[1] = 1;
	assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh), SSP_ERR_BADSIG);
	/* wrong length, version, voter, heights */
	assert_int_equal(ssp_bftc_vote_in(b.b, v, SSP_BFTC_VOTE_LEN - 1, &fresh), SSP_ERR_DECODE);
	assert_int_equal(ssp_bftc_vote_in(b.b, v, SSP_BFTC_VOTE_LEN + 1, &fresh), SSP_ERR_DECODE);
	assert_int_equal(ssp_bftc_vote_in(b.b, v, 0, &fresh), SSP_ERR_DECODE);
	for (int ver = 0; ver < 256; ver += 2) { /* 0, 2, ..., 254 */
		memcpy(w, v, sizeof w);
		w[0] = (uint8_t)ver;
		assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh),
		                 SSP_ERR_DECODE);
	}
	static const uint16_t voters[] = {NP, NP + 1, 256, 0xffff};
	for (size_t k = 0; k < sizeof voters / sizeof *voters; k++) {
		memcpy(w, v, sizeof w);
		w[1] = (uint8_t)voters[k];
		w[2] = (uint8_t)(voters[k] >> 8);
		assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh),
		                 SSP_ERR_DECODE);
	}
	make_vote(w, 3, th, &tgt, th, &tgt); /* source height == target height */
	assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh), SSP_ERR_DECODE);
	make_vote(w, 3, th, &tgt, st.justified, &src); /* backwards */
	assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh), SSP_ERR_DECODE);
	/* blocks B does not know (yet): the target, then the source */
	ssp_hash unknown;
	memset(unknown.b, 0xab, 32);
	make_vote(w, 3, st.justified, &src, th + 1, &unknown);
	assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh), SSP_ERR_NOTFOUND);
	make_vote(w, 3, th - 1, &unknown, th, &tgt);
	assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh), SSP_ERR_NOTFOUND);
	/* a source that is not an ancestor of the target (a known block above the final one,
	 * named at a wrong height) is the sender's fault, not a decode error and not local */
	ssp_hash g0 = id_at(&b, th - 1);
	make_vote(w, 3, th - 2, &g0, th, &tgt);
	int rc = ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh);
	assert_true(rc != 0 && !ssp_err_local(rc) && rc != SSP_ERR_NOTFOUND);
	/* the good vote of voter 3 still counts */
	assert_int_equal(ssp_bftc_vote_in(b.b, v, SSP_BFTC_VOTE_LEN, &fresh), 0);
	assert_true(fresh);
	ssp_bftc_info(b.b, &st);
	assert_int_equal(st.votes_ok, 2);
	assert_true(st.votes_bad >= 2);
	assert_int_equal(st.votes_early, 2);
	/* a vote from a QC in a header B imported is known already */
	ssp_header hh;
	uint8_t *raw = header_at(&b, th, &hh);
	assert_true(hh.qc_len >= QC_SIGS + SSP_SIG_LEN);
	int first = __builtin_ctz(hh.qc[QC_BM]);
	w[0] = 1;
	w[1] = (uint8_t)first;
	w[2] = 0;
	memcpy(w + 3, hh.qc, LINK);
	memcpy(w + 3 + LINK, hh.qc + QC_SIGS, SSP_SIG_LEN);
	assert_int_equal(ssp_bftc_vote_in(b.b, w, SSP_BFTC_VOTE_LEN, &fresh), 0);
	assert_false(fresh);
	free(raw);
	bn_close(&b, false);
	bn_close(&a, false);
}

/* The watermark: durable before the vote, and a restart never votes twice for a height. */
static void test_vote_out_restart(void **state)
{
	(void)state;
	bn a;
	uint8_t v1[SSP_BFTC_VOTE_LEN], v2[SSP_BFTC_VOTE_LEN];
	bool fresh;
	char dir[64];
	bn_open(&a, NULL);
	snprintf(dir, sizeof dir, "%s", a.n.dir);
	/* no producer: nothing to send */
	assert_int_equal(ssp_bftc_vote_out(a.b, a.n.chain, v1), SSP_ERR_NOTFOUND);
	grow(&a, NULL, 6);
	produce_from(&a, 0); /* a head nobody voted for yet */
	const int me = 1;
	be_producer(&a, me);
	uint8_t *rec = NULL;
	size_t rl = 0;
	ssp_txn *rt;
	assert_int_equal(ssp_store_read(a.n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_vote_record(a.n.chain, rt, &rec, &rl), 0);
	ssp_txn_end(rt);
	assert_null(rec);
	assert_int_equal(rl, 0);
	assert_int_equal(ssp_bftc_vote_out(a.b, a.n.chain, v1), 0);
	assert_int_equal(v1[0], 1);
	assert_int_equal(v1[1] | v1[2] << 8, me);
	assert_int_equal(ssp_le64_get(v1 + 3 + 40), head(&a)->height);
	assert_memory_equal(v1 + 3 + 48, head(&a)->id.b, 32);
	/* a vote any node accepts */
	ssp_hash d;
	ssp_sig sig;
	ssp_sig_digest(&d, SSP_DOM_VOTE, FX_CHAIN_ID, v1 + 3, LINK);
	memcpy(sig.b, v1 + 3 + LINK, SSP_SIG_LEN);
	assert_int_equal(ssp_verify_digest(&K[me].pk, &d, &sig), 0);
	assert_int_equal(ssp_bftc_vote_in(a.b, v1, sizeof v1, &fresh), 0);
	/* the record holds the link */
	assert_int_equal(ssp_store_read(a.n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_vote_record(a.n.chain, rt, &rec, &rl), 0);
	ssp_txn_end(rt);
	assert_non_null(rec);
	assert_true(rl >= 1 + LINK);
	assert_int_equal(rec[0], 1);
	assert_memory_equal(rec + 1, v1 + 3, LINK);
	free(rec);
	/* again for the same head: nothing */
	assert_int_equal(ssp_bftc_vote_out(a.b, a.n.chain, v2), SSP_ERR_EXISTS);
	uint64_t th = head(&a)->height;
	ssp_hash voted = head(&a)->id;

	/* restart */
	bn_close(&a, true);
	bn_open(&a, dir);
	a.n.own_dir = true;
	be_producer(&a, me);
	int rc = ssp_bftc_vote_out(a.b, a.n.chain, v2);
	assert_true(rc == SSP_ERR_EXISTS || rc == SSP_ERR_BFT_UNSAFE);
	/* another block at the voted height (the head popped, a later slot): no vote for it */
	ssp_popped p;
	uint64_t slot = head(&a)->slot;
	assert_int_equal(ssp_chain_pop(a.n.chain, &p), 0);
	ssp_popped_free(&p);
	produce_from(&a, slot + 1);
	assert_int_equal(head(&a)->height, th);
	assert_memory_not_equal(head(&a)->id.b, voted.b, 32);
	rc = ssp_bftc_vote_out(a.b, a.n.chain, v2);
	assert_int_equal(rc, SSP_ERR_BFT_UNSAFE);
	/* and once more after another restart */
	bn_close(&a, true);
	bn_open(&a, dir);
	a.n.own_dir = true;
	be_producer(&a, me);
	assert_memory_not_equal(head(&a)->id.b, voted.b, 32);
	rc = ssp_bftc_vote_out(a.b, a.n.chain, v2);
	assert_true(rc == SSP_ERR_EXISTS || rc == SSP_ERR_BFT_UNSAFE);
	/* a higher head: votes again, above the watermark */
	produce_from(&a, 0);
	be_producer(&a, me);
	assert_int_equal(ssp_bftc_vote_out(a.b, a.n.chain, v2), 0);
	assert_true(ssp_le64_get(v2 + 3 + 40) > th);
	bn_close(&a, false);
}

static void flip_meta(const char *dir, const char *key, size_t at)
{
	ssp_store *st;
	ssp_store_opts so = {.map_size = (size_t)64 << 20, .no_sync = true};
	ssp_table tb;
	ssp_txn *t;
	const void *v;
	size_t vl;
	assert_int_equal(ssp_store_open(&st, dir, &so), 0);
	assert_int_equal(ssp_store_table(st, "meta", &tb), 0);
	assert_int_equal(ssp_store_write(st, &t), 0);
	assert_int_equal(ssp_txn_get(t, tb, key, strlen(key), &v, &vl), 0);
	uint8_t *copy = malloc(vl);
	assert_non_null(copy);
	memcpy(copy, v, vl);
	assert_true(at < vl);
	copy[at] ^= 0x01;
	assert_int_equal(ssp_txn_put(t, tb, key, strlen(key), copy, vl), 0);
	assert_int_equal(ssp_txn_commit(t), 0);
	free(copy);
	ssp_store_close(st);
}

/* Writes a vote record into the chain in dir (no consensus loaded: it may be bad). */
static void write_record(const char *dir, const uint8_t *rec, size_t n)
{
	ssp_store *st;
	ssp_store_opts so = {.map_size = (size_t)64 << 20, .no_sync = true};
	ssp_chain *c;
	assert_int_equal(ssp_store_open(&st, dir, &so), 0);
	assert_int_equal(ssp_chain_open(&c, st, G, NULL, 0), 0);
	assert_int_equal(ssp_chain_write_vote_record(c, rec, n), 0);
	ssp_chain_close(c);
	ssp_store_close(st);
}

/* Opens the chain in dir and loads a consensus; the first error. */
static int open_and_load(const char *dir)
{
	ssp_store *st;
	ssp_store_opts so = {.map_size = (size_t)64 << 20, .no_sync = true};
	ssp_chain *c = NULL;
	ssp_bftc *b = NULL;
	assert_int_equal(ssp_store_open(&st, dir, &so), 0);
	int rc = ssp_chain_open(&c, st, G, NULL, 0);
	if (!rc) rc = ssp_bftc_new(&b, G);
	if (!rc) rc = ssp_bftc_load(b, c);
	ssp_bftc_free(b);
	ssp_chain_close(c);
	ssp_store_close(st);
	return rc;
}

/* A damaged watermark: a corrupt database, never a fresh start that could vote again. */
static void test_vote_record_damaged(void **state)
{
	(void)state;
	bn a;
	uint8_t v[SSP_BFTC_VOTE_LEN];
	char dir[64];
	bn_open(&a, NULL);
	snprintf(dir, sizeof dir, "%s", a.n.dir);
	grow(&a, NULL, 5);
	produce_from(&a, 0);
	be_producer(&a, 0);
	assert_int_equal(ssp_bftc_vote_out(a.b, a.n.chain, v), 0);
	uint8_t *rec = NULL, *saved;
	size_t rl = 0;
	ssp_txn *rt;
	assert_int_equal(ssp_store_read(a.n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_vote_record(a.n.chain, rt, &rec, &rl), 0);
	ssp_txn_end(rt);
	assert_true(rl > 1 + LINK); /* with the QC that justified its source */
	saved = rec;
	bn_close(&a, true);
	assert_int_equal(open_and_load(dir), 0);

	/* a byte of the stored value (record or checksum) flipped: the chain's checksum */
	size_t spots[] = {0, 1, 40, rl - 1, rl, rl + 7};
	for (size_t k = 0; k < sizeof spots / sizeof *spots; k++) {
		flip_meta(dir, "bft_vote", spots[k]);
		assert_int_equal(open_and_load(dir), SSP_ERR_DBCORRUPT);
		flip_meta(dir, "bft_vote", spots[k]);
		assert_int_equal(open_and_load(dir), 0);
	}
	/* a record the chain's checksum covers but this consensus cannot read */
	uint8_t bad[1 + LINK + SSP_QC_MAX];
	assert_true(rl <= sizeof bad);
	struct {
		size_t at, len; /* flip byte at (SIZE_MAX: none); write len bytes */
	} cases[] = {
	    {0, rl},                  /* version 0 */
	    {SIZE_MAX, 1 + LINK - 1}, /* too short */
	    {SIZE_MAX, 1},            /* the version alone */
	    {rl - 1, rl},             /* a QC signature byte */
	    {1 + LINK + 3, rl},       /* the QC's link */
	    {SIZE_MAX, rl - 1},       /* the QC one byte short */
	    {1 + LINK + LINK, rl},    /* the QC's n */
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		memcpy(bad, saved, rl);
		if (cases[k].at != SIZE_MAX) bad[cases[k].at] ^= 0x01;
		write_record(dir, bad, cases[k].len);
		assert_int_equal(open_and_load(dir), SSP_ERR_DBCORRUPT);
	}
	/* the good record back: loads, and the restarted producer does not vote twice */
	write_record(dir, saved, rl);
	bn_open(&a, dir);
	a.n.own_dir = true;
	be_producer(&a, 0);
	int rc = ssp_bftc_vote_out(a.b, a.n.chain, v);
	assert_true(rc == SSP_ERR_EXISTS || rc == SSP_ERR_BFT_UNSAFE);
	free(saved);
	bn_close(&a, false);
}

/* set_producer: a key outside the set, and a key whose onion is not the genesis one. */
static void test_set_producer(void **state)
{
	(void)state;
	bn a;
	ssp_signer s;
	bn_open(&a, NULL);
	ssp_signer_soft(&s, &OTHER.sk);
	assert_int_equal(ssp_bftc_set_producer(a.b, &s), SSP_ERR_NOTFOUND);
	ssp_bftc_stats st;
	ssp_bftc_info(a.b, &st);
	assert_int_equal(st.me, -1);
	be_producer(&a, 2);
	ssp_bftc_info(a.b, &st);
	assert_int_equal(st.me, 2);
	bn_close(&a, false);

	/* a genesis whose commitment for K[1] has one layer too many */
	fx_genesis_spec gs = {.producer = &K[0],
	                      .liquid = {&OTHER},
	                      .foundation = &FOUND,
	                      .team = &TEAM,
	                      .block_interval_ms = SLOT_MS};
	char *text = fx_genesis_json(&gs);
	json_t *j = json_loads(text, 0, NULL), *pl = json_array(), *ol = json_array();
	free(text);
	json_object_del(j, "producer");
	for (int i = 0; i < NP; i++) {
		char pk[96], hex[65];
		ssp_pubkey_text(pk, sizeof pk, &K[i].pk);
		commitment(hex, &K[i], FX_CHAIN_ID, LAYERS + (i == 1));
		json_array_append_new(pl, json_string(pk));
		json_array_append_new(ol, json_string(hex));
	}
	json_object_set_new(j, "producers", pl);
	json_object_set_new(j, "bft", json_pack("{s:i, s:o}", "onion_layers", LAYERS, "onion", ol));
	text = json_dumps(j, 0);
	json_decref(j);
	ssp_genesis *g2 = fx_genesis(text);
	free(text);
	ssp_bftc *b;
	assert_int_equal(ssp_bftc_new(&b, g2), 0);
	ssp_signer_soft(&s, &K[1].sk);
	assert_int_equal(ssp_bftc_set_producer(b, &s), SSP_ERR_BFT_REVEAL);
	ssp_signer_soft(&s, &K[0].sk);
	assert_int_equal(ssp_bftc_set_producer(b, &s), 0);
	ssp_bftc_free(b);
	ssp_genesis_free(g2);
}

/* A genesis without "bft", and one with the most producers the genesis allows. */
static void test_new(void **state)
{
	(void)state;
	ssp_bftc *b = (ssp_bftc *)1;
	fx_genesis_spec gs = {
	    .producer = &K[0], .liquid = {&OTHER}, .foundation = &FOUND, .team = &TEAM};
	char *text = fx_genesis_json(&gs);
	ssp_genesis *g = fx_genesis(text);
	free(text);
	assert_int_equal(ssp_bftc_new(&b, g), SSP_ERR_INVAL);
	assert_null(b);
	ssp_genesis_free(g);
	/* SSP_BFT_MAX_N producers: accepted */
	static fx_key many[SSP_GENESIS_PRODUCERS_MAX];
	for (int i = 0; i < SSP_GENESIS_PRODUCERS_MAX; i++) {
		uint8_t raw[32] = {0};
		raw[0] = (uint8_t)i;
		raw[1] = (uint8_t)(i >> 8);
		raw[2] = 0x5a;
		assert_int_equal(ssp_seckey_from_raw(&many[i].sk, SSP_KEY_ED25519, raw, 32), 0);
		assert_int_equal(ssp_key_public(&many[i].pk, &many[i].sk), 0);
		ssp_addr_from_pubkey(&many[i].addr, &many[i].pk);
	}
	g = bft_genesis(many, SSP_GENESIS_PRODUCERS_MAX, 2);
	assert_int_equal(ssp_bftc_new(&b, g), 0);
	ssp_bftc_free(b);
	ssp_genesis_free(g);
	/* every allocation of ssp_bftc_new failing in turn: SSP_ERR_NOMEM, nothing leaked or
	 * touched after it was freed (ASan) */
	ssp_fault_arm(SSP_FAULT_ALLOC, UINT64_MAX, false);
	assert_int_equal(ssp_bftc_new(&b, G), 0);
	uint64_t allocs = ssp_fault_count(SSP_FAULT_ALLOC);
	ssp_fault_arm(SSP_FAULT_ALLOC, 0, false);
	ssp_bftc_free(b);
	assert_true(allocs >= 2);
	for (uint64_t k = 1; k <= allocs; k++) {
		ssp_fault_arm(SSP_FAULT_ALLOC, k, false);
		int rc = ssp_bftc_new(&b, G);
		ssp_fault_arm(SSP_FAULT_ALLOC, 0, false);
		assert_int_equal(rc, SSP_ERR_NOMEM);
		assert_null(b);
	}
}

/*
 * A header whose consensus fields are right but whose state root is wrong, signed by
 * its real producer: the chain refuses it after the consensus check let it into the
 * machine; the producer's real block for that slot still imports (the machine counts
 * the two headers as its equivocation, which they are) and finality goes on.
 */
static void test_refused_after_check(void **state)
{
	(void)state;
	bn a, b;
	variant v;
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	grow(&a, &b, 5);
	produce_from(&a, 0);
	variant_of_head(&v, &a);
	ssp_header h = v.blk.hdr;
	h.state_root.b[0] ^= 1;
	ssp_bftc_stats before, after;
	ssp_bftc_info(b.b, &before);
	assert_int_equal(import_header(&b, &h, &K[v.producer]), SSP_ERR_BLOCK_STATE);
	ssp_bftc_info(b.b, &after);
	assert_int_equal(after.blocks_held, before.blocks_held + 1); /* kept by the machine */
	uint64_t f = head(&b)->finalized;
	assert_int_equal(import_variant(&b, &v), 0);
	assert_memory_equal(head(&b)->id.b, head(&a)->id.b, 32);
	ssp_bftc_info(b.b, &after);
	assert_int_equal(after.evidence, before.evidence + 1);
	grow(&a, &b, 2);
	assert_true(head(&b)->finalized > f);
	variant_free(&v);
	bn_close(&b, false);
	bn_close(&a, false);
}

/* The fork database's header check (ssp_bftc_forkchoice): orphans kept, bad ones refused. */
static void test_forkdb(void **state)
{
	(void)state;
	bn a, b;
	ssp_forkchoice fc;
	ssp_forkdb *f;
	uint64_t now = FX_GENESIS_MS + 100000;
	bn_open(&a, NULL);
	bn_open(&b, NULL);
	grow(&a, &b, 4);
	grow(&a, NULL, 2); /* 5 and 6: B does not have them */
	ssp_bftc_forkchoice(b.b, &fc);
	assert_int_equal(ssp_forkdb_new(&f, &fc, 0, 0), 0);
	size_t l5, l6;
	uint8_t *r5 = fx_block_copy(&a.n, 5, &l5), *r6 = fx_block_copy(&a.n, 6, &l6);
	/* 6 first: its parent is unknown, kept as an orphan */
	assert_int_equal(ssp_forkdb_add(f, b.n.chain, r6, l6, 7, now), 0);
	/* 5 with its QC spoiled, or its reveal: refused */
	ssp_header h5;
	uint8_t *raw5 = header_at(&a, 5, &h5);
	uint8_t qc[SSP_QC_MAX];
	assert_true(h5.qc_len > QC_SIGS);
	memcpy(qc, h5.qc, h5.qc_len);
	qc[h5.qc_len - 1] ^= 1;
	ssp_header bad = h5;
	bad.qc = qc;
	int prod = -1;
	for (int i = 0; i < NP; i++)
		if (!memcmp(K[i].addr.b, h5.producer.b, SSP_ADDR_LEN)) prod = i;
	assert_true(prod >= 0);
	size_t bl;
	uint8_t *braw = fx_block_encode(&bad, NULL, NULL, 0, &K[prod], FX_CHAIN_ID, &bl);
	assert_int_equal(ssp_forkdb_add(f, b.n.chain, braw, bl, 7, now), SSP_ERR_BFT_QC);
	free(braw);
	bad = h5;
	bad.seed_reveal[0] ^= 1;
	braw = fx_block_encode(&bad, NULL, NULL, 0, &K[prod], FX_CHAIN_ID, &bl);
	assert_int_equal(ssp_forkdb_add(f, b.n.chain, braw, bl, 7, now), SSP_ERR_BFT_REVEAL);
	free(braw);
	bad = h5;
	braw = fx_block_encode(&bad, NULL, NULL, 0, &K[(prod + 1) % NP], FX_CHAIN_ID, &bl);
	assert_int_equal(ssp_forkdb_add(f, b.n.chain, braw, bl, 7, now), SSP_ERR_BADSIG);
	free(braw);
	free(raw5);
	/* the real 5: stored, and fork choice takes 5..6 */
	assert_int_equal(ssp_forkdb_add(f, b.n.chain, r5, l5, 7, now), 0);
	assert_int_equal(ssp_forkdb_add(f, b.n.chain, r5, l5, 7, now), SSP_ERR_EXISTS);
	ssp_fork_plan plan;
	assert_int_equal(ssp_forkdb_best(f, b.n.chain, &plan), 0);
	assert_int_equal(plan.n, 2);
	assert_int_equal(plan.fork_height, 4);
	ssp_fork_plan_free(&plan);
	ssp_forkdb_free(f);
	free(r5);
	free(r6);
	bn_close(&b, false);
	bn_close(&a, false);
}

/* A used-up onion: production stops with SSP_ERR_BFT_REVEAL, nothing committed. */
static void test_onion_used_up(void **state)
{
	(void)state;
	ssp_genesis *g0 = G;
	G = bft_genesis(K, NP, 2); /* rounds 0 and 1: slots up to 2 * NP - 1 */
	bn a;
	bn_open(&a, NULL);
	while (head(&a)->slot < 2 * NP - 1)
		produce_from(&a, 0);
	assert_int_equal(head(&a)->slot, 2 * NP - 1);
	ssp_head before = *head(&a);
	for (uint64_t s = 2 * NP; s < 3 * NP; s++) {
		const ssp_pubkey *pk = ssp_bftc_slot_producer(a.b, &before.id, s);
		assert_non_null(pk);
		int i = key_index(pk);
		ssp_signer sg;
		ssp_block_info info;
		be_producer(&a, i);
		ssp_signer_soft(&sg, &K[i].sk);
		assert_int_equal(ssp_produce_block(a.n.chain, a.n.pool, &sg, s,
		                                   FX_GENESIS_MS + s * SLOT_MS, &info),
		                 SSP_ERR_BFT_REVEAL);
		assert_int_equal(ssp_chain_fatal(a.n.chain), 0);
		assert_memory_equal(head(&a)->id.b, before.id.b, 32);
	}
	bn_close(&a, false);
	ssp_genesis_free(G);
	G = g0;
}

/* The watermark cannot be written: no vote leaves, and the next try votes. */
static void test_vote_out_write_fails(void **state)
{
	(void)state;
	bn a;
	uint8_t v[SSP_BFTC_VOTE_LEN];
	bn_open(&a, NULL);
	grow(&a, NULL, 4);
	produce_from(&a, 0);
	be_producer(&a, 3);
	ssp_bftc_stats st;
	ssp_fault_arm(SSP_FAULT_WRITE, 1, true);
	memset(v, 0, sizeof v);
	int rc = ssp_bftc_vote_out(a.b, a.n.chain, v);
	ssp_fault_arm(SSP_FAULT_WRITE, 0, false);
	assert_true(ssp_err_local(rc));
	ssp_bftc_info(a.b, &st);
	assert_int_equal(st.votes_made, 0);
	for (size_t i = 0; i < sizeof v; i++)
		assert_int_equal(v[i], 0);
	uint8_t *rec = NULL;
	size_t rl = 0;
	ssp_txn *rt;
	assert_int_equal(ssp_store_read(a.n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_vote_record(a.n.chain, rt, &rec, &rl), 0);
	ssp_txn_end(rt);
	assert_int_equal(rl, 0);
	free(rec);
	assert_int_equal(ssp_bftc_vote_out(a.b, a.n.chain, v), 0);
	assert_int_equal(v[1], 3);
	bn_close(&a, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_produce_import_finality),
	    cmocka_unit_test(test_bad_reveal_and_producer),
	    cmocka_unit_test(test_bad_qc),
	    cmocka_unit_test(test_vote_in),
	    cmocka_unit_test(test_refused_after_check),
	    cmocka_unit_test(test_forkdb),
	    cmocka_unit_test(test_onion_used_up),
	    cmocka_unit_test(test_vote_out_restart),
	    cmocka_unit_test(test_vote_record_damaged),
	    cmocka_unit_test(test_vote_out_write_fails),
	    cmocka_unit_test(test_set_producer),
	    cmocka_unit_test(test_new),
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
