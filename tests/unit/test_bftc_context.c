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
#include "bftc_fixture.h"
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
