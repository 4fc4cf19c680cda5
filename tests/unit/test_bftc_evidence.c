/*
 * test_bftc_evidence.c — the raw material of evidence (src/consensus/
 * bftc_evidence.c, private to bftc): signed headers and vote signatures
 * noted, both halves found for the machine's evidence, what is no longer
 * kept reported as incomplete, and every bound (128 headers, 64 links per
 * voter, 64 queued). Memory ownership is checked by the ASan build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/bftc_evidence.h"

static ssp_pubkey key(uint8_t v)
{
	ssp_pubkey k;
	memset(&k, 0, sizeof k);
	k.type = SSP_KEY_ED25519;
	k.len = 32;
	memset(k.b, v, 32);
	return k;
}

static ssp_header header(uint64_t slot, uint8_t v)
{
	ssp_header h;
	memset(&h, 0, sizeof h);
	h.height = 9;
	h.slot = slot;
	memset(h.state_root.b, v, 32);
	memset(h.sig.b, v ^ 0x5a, SSP_SIG_LEN);
	return h;
}

static ssp_hash id_of(uint8_t v)
{
	ssp_hash id;
	memset(id.b, v, 32);
	return id;
}

static void assert_encoded(const ssp_bftc_evidence *x, int i, const ssp_header *h)
{
	ssp_buf b;
	ssp_buf_init(&b, 1 << 16);
	ssp_header_encode(&b, h, true);
	assert_int_equal(x->header_len[i], b.len);
	assert_memory_equal(x->header[i], b.data, b.len);
	ssp_buf_free(&b);
}

static void test_double_block(void **state)
{
	(void)state;
	bftc_ev *e;
	ssp_bftc_evidence x;
	assert_int_equal(bftc_ev_new(&e), 0);
	ssp_header a = header(5, 1), b = header(5, 2);
	ssp_hash ia = id_of(1), ib = id_of(2);
	bftc_ev_header(e, &a, &ia);
	bftc_ev_header(e, &b, &ib);
	bftc_ev_header(e, &b, &ib); /* noted once */
	ssp_bft_evidence ev = {.kind = SSP_BFT_EV_DOUBLE_BLOCK, .key = key(7), .slot = 5};
	ev.block[0] = ia;
	ev.block[1] = ib;
	bftc_ev_found(e, &ev);
	assert_true(bftc_ev_take(e, &x));
	assert_true(x.complete && x.kind == SSP_BFT_EV_DOUBLE_BLOCK && x.slot == 5);
	assert_memory_equal(x.key.b, ev.key.b, 32);
	assert_encoded(&x, 0, &a);
	assert_encoded(&x, 1, &b);
	ssp_bftc_evidence_clear(&x);
	assert_null(x.header[0]);
	assert_true(x.kind == SSP_BFT_EV_DOUBLE_BLOCK && x.slot == 5);
	assert_false(bftc_ev_take(e, &x));

	/* 128 headers kept: after 128 more, the first is gone and the evidence incomplete */
	for (uint32_t i = 0; i < 128; i++) {
		ssp_header h = header(100 + i, 3);
		ssp_hash id;
		memset(id.b, 0, 32);
		memcpy(id.b, &i, sizeof i);
		id.b[31] = 0xee;
		bftc_ev_header(e, &h, &id);
	}
	bftc_ev_found(e, &ev);
	assert_true(bftc_ev_take(e, &x));
	assert_false(x.complete);
	assert_null(x.header[0]);
	assert_null(x.header[1]);
	assert_true(x.kind == SSP_BFT_EV_DOUBLE_BLOCK && x.slot == 5);
	ssp_bftc_evidence_clear(&x);
	bftc_ev_free(e);
}

static void vote(bftc_ev *e, const ssp_pubkey *k, uint64_t s, uint8_t si, uint64_t t, uint8_t ti,
                 uint8_t sig)
{
	ssp_bft_ref src = {s, id_of(si)}, tgt = {t, id_of(ti)};
	ssp_sig g;
	memset(g.b, sig, SSP_SIG_LEN);
	bftc_ev_vote(e, k, &src, &tgt, &g);
}

static void test_votes(void **state)
{
	(void)state;
	bftc_ev *e;
	ssp_bftc_evidence x;
	ssp_pubkey k = key(7), other = key(8);
	assert_int_equal(bftc_ev_new(&e), 0);
	vote(e, &k, 1, 1, 5, 2, 0x11);
	vote(e, &other, 1, 1, 5, 3, 0x33);
	vote(e, &k, 1, 1, 5, 3, 0x22);
	ssp_bft_evidence ev = {.kind = SSP_BFT_EV_DOUBLE_VOTE, .key = k};
	ev.vote[0] = (ssp_bft_vote){3, {1, id_of(1)}, {5, id_of(2)}};
	ev.vote[1] = (ssp_bft_vote){3, {1, id_of(1)}, {5, id_of(3)}};
	bftc_ev_found(e, &ev);
	assert_true(bftc_ev_take(e, &x));
	assert_true(x.complete && x.kind == SSP_BFT_EV_DOUBLE_VOTE);
	assert_true(x.vote[0].src_height == 1 && x.vote[0].tgt_height == 5 &&
	            x.vote[0].tgt_id.b[0] == 2 && x.sig[0].b[0] == 0x11);
	assert_true(x.vote[1].tgt_id.b[0] == 3 && x.sig[1].b[0] == 0x22);
	assert_int_equal(ssp_votes_conflict(&x.vote[0], &x.vote[1]), SSP_VOTES_DOUBLE);
	ssp_bftc_evidence_clear(&x);
	/* the same link under another key is not this key's */
	ev.key = other;
	bftc_ev_found(e, &ev);
	assert_true(bftc_ev_take(e, &x));
	assert_false(x.complete);
	ssp_bftc_evidence_clear(&x);

	/* 64 links per voter: repeats (QCs) do not use room; the 65th new one drops the first */
	ev.key = k;
	for (int i = 0; i < 10; i++)
		vote(e, &k, 1, 1, 5, 3, 0x22);
	for (uint64_t t = 10; t < 10 + 62; t++)
		vote(e, &k, 1, 1, t, 9, 0x44);
	bftc_ev_found(e, &ev);
	assert_true(bftc_ev_take(e, &x) && x.complete);
	ssp_bftc_evidence_clear(&x);
	vote(e, &k, 1, 1, 200, 9, 0x44);
	bftc_ev_found(e, &ev);
	assert_true(bftc_ev_take(e, &x));
	assert_false(x.complete); /* 1 -> 5 (id 2), the first noted, is gone */
	ssp_bftc_evidence_clear(&x);
	bftc_ev_free(e);
}

static void test_queue_and_voters_bounded(void **state)
{
	(void)state;
	bftc_ev *e;
	ssp_bftc_evidence x;
	assert_int_equal(bftc_ev_new(&e), 0);
	ssp_header a = header(5, 1), b = header(5, 2);
	ssp_hash ia = id_of(1), ib = id_of(2);
	bftc_ev_header(e, &a, &ia);
	bftc_ev_header(e, &b, &ib);
	/* 70 found, 64 kept: the oldest six dropped (and freed) */
	for (uint64_t i = 0; i < 70; i++) {
		ssp_bft_evidence ev = {.kind = SSP_BFT_EV_DOUBLE_BLOCK, .key = key(7), .slot = i};
		ev.block[0] = ia;
		ev.block[1] = ib;
		bftc_ev_found(e, &ev);
	}
	for (uint64_t i = 6; i < 70; i++) {
		assert_true(bftc_ev_take(e, &x));
		assert_true(x.complete && x.slot == i);
		ssp_bftc_evidence_clear(&x);
	}
	assert_false(bftc_ev_take(e, &x));
	/* more voters than kept (512): the least recently heard makes room */
	for (uint32_t v = 0; v < 600; v++) {
		ssp_pubkey k = key(0);
		memcpy(k.b, &v, sizeof v);
		vote(e, &k, 1, 1, 5, 2, 0x11);
	}
	ssp_pubkey last = key(0), first = key(0);
	uint32_t lv = 599, fv = 0;
	memcpy(last.b, &lv, sizeof lv);
	memcpy(first.b, &fv, sizeof fv);
	vote(e, &last, 1, 1, 5, 3, 0x22);
	ssp_bft_evidence ev = {.kind = SSP_BFT_EV_DOUBLE_VOTE, .key = last};
	ev.vote[0] = (ssp_bft_vote){0, {1, id_of(1)}, {5, id_of(2)}};
	ev.vote[1] = (ssp_bft_vote){0, {1, id_of(1)}, {5, id_of(3)}};
	bftc_ev_found(e, &ev);
	ev.key = first;
	bftc_ev_found(e, &ev);
	assert_true(bftc_ev_take(e, &x) && x.complete);
	ssp_bftc_evidence_clear(&x);
	assert_true(bftc_ev_take(e, &x) && !x.complete);
	ssp_bftc_evidence_clear(&x);
	/* left queued: freed with the store */
	bftc_ev_found(e, &(ssp_bft_evidence){.kind = SSP_BFT_EV_DOUBLE_BLOCK, .block = {ia, ib}});
	bftc_ev_free(e);
	bftc_ev_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_double_block),
	    cmocka_unit_test(test_votes),
	    cmocka_unit_test(test_queue_and_voters_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
