/*
 * test_net_forkdb.c — the fork database and round-robin fork choice
 * (consensus layer, used by the net's chain thread): a chain on branch A
 * learns branch B from its tip down (an orphan, its ancestor request, the
 * blocks it shares with the chain refused as known), fork choice picks B
 * (one block more) and the switch gives the replica's head; the popped A
 * blocks become a stored branch that loses; the tie-breaks (height, then the
 * earlier first slot, then the lower id); a block marked bad takes its
 * descendants and is refused again; bad signatures and producers, stale
 * heights, the block, byte and orphan bounds and the orphan expiry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain_fixture.h"
#include "ssp/consensus.h"

static fx_key PROD, OTHER, ALICE, FOUND, TEAM;
static ssp_genesis *G;

static uint64_t g_lag10 = 10;
static const ssp_consensus LAG10 = {
    .producer = fx_lag_producer, .finalized = fx_lag_finalized, .ctx = &g_lag10};

#define T0 FX_GENESIS_MS

static void open_node(fx_node *n)
{
	fx_node_open(n, NULL, G);
	ssp_chain_set_consensus(n->chain, &LAG10);
}

static ssp_hash block_id(const uint8_t *raw, size_t len)
{
	ssp_header h;
	ssp_rd r;
	ssp_rd_init(&r, raw, len);
	assert_int_equal(ssp_header_read(&h, &r), 0);
	return h.id;
}

static void test_forkdb_switch(void **state)
{
	(void)state;
	fx_node x, y;
	ssp_rr *rr;
	ssp_forkchoice fc;
	ssp_forkdb *f;
	ssp_fork_plan plan;
	uint8_t *b[7] = {0};
	size_t bl[7];
	ssp_block_info bi;
	open_node(&x);
	open_node(&y);
	assert_int_equal(ssp_rr_new(&rr, G), 0);
	ssp_rr_forkchoice(rr, &fc);
	assert_int_equal(ssp_forkdb_new(&f, &fc, 0, 0), 0);
	/* blocks 1..3 on both; A = 4, 5 on x; B = 4', 5', 6' on y (other slots) */
	for (int h = 1; h <= 3; h++) {
		fx_produce(&x, &PROD, T0 + 1000 * (uint64_t)h);
		size_t len;
		uint8_t *raw = fx_block_copy(&x, (uint64_t)h, &len);
		assert_int_equal(ssp_chain_import(y.chain, NULL, raw, len, &bi), 0);
		b[h] = raw;
		bl[h] = len;
	}
	fx_produce(&x, &PROD, T0 + 4000);
	fx_produce(&x, &PROD, T0 + 5000);
	for (int h = 4; h <= 6; h++) {
		fx_produce(&y, &PROD, T0 + 1000 * (uint64_t)h + 300);
		b[h] = fx_block_copy(&y, (uint64_t)h, &bl[h]);
	}
	uint64_t now = 1000000;

	/* B's tip alone: an orphan; fork choice asks its sender for the heights below */
	assert_int_equal(ssp_forkdb_add(f, x.chain, b[6], bl[6], 7, now), 0);
	assert_int_equal(ssp_forkdb_add(f, x.chain, b[6], bl[6], 7, now), SSP_ERR_EXISTS);
	assert_int_equal(ssp_forkdb_best(f, x.chain, &plan), 0);
	assert_int_equal(plan.n, 0);
	assert_int_equal(plan.nwant, 1);
	assert_int_equal(plan.want[0].peer, 7);
	assert_int_equal(plan.want[0].from, 1); /* the final height is 0 */
	assert_int_equal(plan.want[0].count, 5);
	ssp_fork_plan_free(&plan);
	/* the answer: 1..3 are the chain's own (refused as known), 4', 5' link B */
	for (int h = 1; h <= 3; h++)
		assert_int_equal(ssp_forkdb_add(f, x.chain, b[h], bl[h], 7, now), SSP_ERR_EXISTS);
	assert_int_equal(ssp_forkdb_add(f, x.chain, b[4], bl[4], 7, now), 0);
	assert_int_equal(ssp_forkdb_add(f, x.chain, b[5], bl[5], 8, now), 0);
	assert_int_equal(ssp_forkdb_count(f), 3);
	assert_int_equal(ssp_forkdb_best(f, x.chain, &plan), 0);
	assert_int_equal(plan.nwant, 0);
	assert_int_equal(plan.fork_height, 3);
	assert_int_equal(plan.n, 3);
	for (size_t i = 0; i < 3; i++) {
		ssp_hash id = block_id(b[4 + i], bl[4 + i]);
		assert_memory_equal(plan.id[i].b, id.b, 32);
		assert_int_equal(plan.len[i], bl[4 + i]);
	}
	assert_int_equal(plan.peer[1], 8);

	/* the switch: x ends where y is */
	ssp_popped p;
	size_t bad;
	assert_int_equal(ssp_chain_switch(x.chain, x.pool, plan.fork_height, plan.raw, plan.len,
	                                  plan.n, &p, &bad, NULL),
	                 0);
	assert_memory_equal(ssp_chain_head(x.chain)->id.b, ssp_chain_head(y.chain)->id.b, 32);
	assert_memory_equal(ssp_chain_head(x.chain)->state_root.b,
	                    ssp_chain_head(y.chain)->state_root.b, 32);
	for (size_t i = 0; i < plan.n; i++)
		ssp_forkdb_remove(f, &plan.id[i]);
	ssp_fork_plan_free(&plan);
	assert_int_equal(ssp_forkdb_count(f), 0);
	/* the popped A blocks: a stored branch that loses (2 blocks against 3) */
	assert_int_equal(p.n, 2);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(ssp_forkdb_add(f, x.chain, p.raw[i], p.len[i], 0, now), 0);
	ssp_popped_free(&p);
	assert_int_equal(ssp_forkdb_best(f, x.chain, &plan), 0);
	assert_int_equal(plan.n, 0);
	assert_int_equal(plan.nwant, 0);
	ssp_fork_plan_free(&plan);
	/* pruning at finality: nothing is at or below the final height yet */
	ssp_forkdb_prune(f, x.chain, now);
	assert_int_equal(ssp_forkdb_count(f), 2);

	/* marked bad: the block and its descendants go, and come back refused */
	ssp_hash a4 = block_id(b[4], bl[4]); /* (B's 4', on the chain now: any id works) */
	(void)a4;
	size_t l4, l5;
	fx_node z;
	open_node(&z);
	for (int h = 1; h <= 3; h++)
		assert_int_equal(ssp_chain_import(z.chain, NULL, b[h], bl[h], &bi), 0);
	fx_produce(&z, &PROD, T0 + 4000 + 600);
	fx_produce(&z, &PROD, T0 + 5000 + 600);
	uint8_t *c4 = fx_block_copy(&z, 4, &l4), *c5 = fx_block_copy(&z, 5, &l5);
	ssp_hash c4id = block_id(c4, l4), c5id = block_id(c5, l5);
	assert_int_equal(ssp_forkdb_add(f, x.chain, c4, l4, 9, now), 0);
	assert_int_equal(ssp_forkdb_add(f, x.chain, c5, l5, 9, now), 0);
	assert_int_equal(ssp_forkdb_count(f), 4);
	ssp_forkdb_mark_bad(f, &c4id, SSP_ERR_BLOCK_STATE);
	assert_int_equal(ssp_forkdb_count(f), 2);
	assert_int_equal(ssp_forkdb_add(f, x.chain, c4, l4, 9, now), SSP_ERR_BLOCK_STATE);
	assert_int_equal(ssp_forkdb_add(f, x.chain, c5, l5, 9, now), SSP_ERR_BLOCK_PREV);
	assert_int_equal(ssp_forkdb_add(f, x.chain, c5, l5, 9, now), SSP_ERR_BLOCK_PREV);
	(void)c5id;
	free(c4);
	free(c5);
	fx_node_close(&z, false);

	ssp_forkdb_free(f);
	ssp_rr_free(rr);
	for (int h = 1; h <= 6; h++)
		free(b[h]);
	fx_node_close(&x, false);
	fx_node_close(&y, false);
}

static void test_forkchoice_rules(void **state)
{
	(void)state;
	ssp_rr *rr;
	ssp_forkchoice fc;
	assert_int_equal(ssp_rr_new(&rr, G), 0);
	ssp_rr_forkchoice(rr, &fc);
	ssp_branch a = {.tip_height = 10, .first_slot = 20}, b = a;
	memset(a.first_id.b, 0x22, 32);
	memset(b.first_id.b, 0x11, 32);
	b.tip_height = 11; /* more blocks wins, whatever the slot */
	b.first_slot = 99;
	assert_true(fc.compare(fc.ctx, &b, &a) > 0 && fc.compare(fc.ctx, &a, &b) < 0);
	b.tip_height = 10; /* a tie: the earlier first slot */
	assert_true(fc.compare(fc.ctx, &a, &b) > 0 && fc.compare(fc.ctx, &b, &a) < 0);
	b.first_slot = 20; /* the same slot (a double signer): the lower id */
	assert_true(fc.compare(fc.ctx, &b, &a) > 0 && fc.compare(fc.ctx, &a, &b) < 0);
	assert_int_equal(fc.compare(fc.ctx, &a, &a), 0);
	ssp_branch e = {.tip_height = 10, .empty = true}; /* our chain without a block there */
	a.tip_height = 10;
	assert_true(fc.compare(fc.ctx, &a, &e) > 0 && fc.compare(fc.ctx, &e, &a) < 0);
	ssp_rr_free(rr);
}

/* A header-only block: height, parent, slot; signed by `by` (PROD's slot in a one-producer set). */
static uint8_t *lone_block(const fx_key *by, uint64_t height, uint8_t prev_fill, uint64_t slot,
                           size_t *len)
{
	ssp_header h;
	memset(&h, 0, sizeof h);
	h.height = height;
	memset(h.prev_id.b, prev_fill, 32);
	h.slot = slot;
	h.timestamp_ms = T0 + slot * 100;
	h.producer = by->addr;
	return fx_block_encode(&h, NULL, NULL, 0, by, FX_CHAIN_ID, len);
}

/* Round-robin fork choice, but the block `waiting` is "not checkable yet" (NOTFOUND). */
typedef struct {
	ssp_forkchoice rr;
	ssp_hash waiting;
	bool wait;
} waiting_fc;

static int wait_check(void *ctx, const ssp_chain *c, const ssp_header *h)
{
	waiting_fc *w = ctx;
	if (w->wait && !memcmp(h->id.b, w->waiting.b, 32)) return SSP_ERR_NOTFOUND;
	return w->rr.check_header(w->rr.ctx, c, h);
}

static int wait_compare(void *ctx, const ssp_branch *a, const ssp_branch *b)
{
	waiting_fc *w = ctx;
	return w->rr.compare(w->rr.ctx, a, b);
}

/*
 * A branch whose last block waits for a check (under BFT: a round whose set
 * depends on an election this node has not executed yet, SSP_ERR_BFT_SET)
 * is switched to up to the block before it, and the waiting block is
 * checked and taken after: a branch held entirely in the fork database must
 * not wait for a check only the switch can make possible (test_net_partition
 * 3/1, CI). Without the rule the checked part is no tip and plan.n stays 0.
 */
static void test_forkdb_waiting_tip(void **state)
{
	(void)state;
	fx_node x, y;
	ssp_rr *rr;
	ssp_forkdb *f;
	ssp_fork_plan plan;
	ssp_block_info bi;
	uint8_t *b[7] = {0};
	size_t bl[7];
	waiting_fc w = {.wait = true};
	open_node(&x);
	open_node(&y);
	assert_int_equal(ssp_rr_new(&rr, G), 0);
	ssp_rr_forkchoice(rr, &w.rr);
	ssp_forkchoice fc = {.compare = wait_compare, .check_header = wait_check, .ctx = &w};
	assert_int_equal(ssp_forkdb_new(&f, &fc, 0, 0), 0);
	/* 1..3 on both; A = 4 on x; B = 4', 5', 6' on y, 6' waiting */
	for (int h = 1; h <= 3; h++) {
		fx_produce(&x, &PROD, T0 + 1000 * (uint64_t)h);
		size_t len;
		uint8_t *raw = fx_block_copy(&x, (uint64_t)h, &len);
		assert_int_equal(ssp_chain_import(y.chain, NULL, raw, len, &bi), 0);
		free(raw);
	}
	fx_produce(&x, &PROD, T0 + 4000);
	for (int h = 4; h <= 6; h++) {
		fx_produce(&y, &PROD, T0 + 1000 * (uint64_t)h + 300);
		b[h] = fx_block_copy(&y, (uint64_t)h, &bl[h]);
	}
	w.waiting = block_id(b[6], bl[6]);
	uint64_t now = 1000000;
	for (int h = 4; h <= 6; h++)
		assert_int_equal(ssp_forkdb_add(f, x.chain, b[h], bl[h], 7, now), 0);
	/* the checked part of B (4', 5': two blocks against A's one) is the plan */
	assert_int_equal(ssp_forkdb_best(f, x.chain, &plan), 0);
	assert_int_equal(plan.fork_height, 3);
	assert_int_equal(plan.n, 2);
	ssp_hash id5 = block_id(b[5], bl[5]);
	assert_memory_equal(plan.id[1].b, id5.b, 32);
	ssp_popped p;
	size_t bad;
	assert_int_equal(ssp_chain_switch(x.chain, x.pool, plan.fork_height, plan.raw, plan.len,
	                                  plan.n, &p, &bad, NULL),
	                 0);
	for (size_t i = 0; i < plan.n; i++)
		ssp_forkdb_remove(f, &plan.id[i]);
	ssp_fork_plan_free(&plan);
	ssp_popped_free(&p);
	assert_memory_equal(ssp_chain_head(x.chain)->id.b, id5.b, 32);
	/* now it can be checked: 6' extends the head */
	w.wait = false;
	assert_int_equal(ssp_forkdb_best(f, x.chain, &plan), 0);
	assert_int_equal(plan.n, 1);
	assert_memory_equal(plan.id[0].b, w.waiting.b, 32);
	ssp_fork_plan_free(&plan);
	for (int h = 4; h <= 6; h++)
		free(b[h]);
	ssp_forkdb_free(f);
	ssp_rr_free(rr);
	fx_node_close(&x, false);
	fx_node_close(&y, false);
}

static void test_forkdb_bounds(void **state)
{
	(void)state;
	fx_node x;
	ssp_rr *rr;
	ssp_forkchoice fc;
	ssp_forkdb *f;
	size_t len;
	uint8_t *raw;
	open_node(&x);
	assert_int_equal(ssp_rr_new(&rr, G), 0);
	ssp_rr_forkchoice(rr, &fc);
	assert_int_equal(ssp_forkdb_new(&f, &fc, 0, 0), 0);
	/* a wrong producer, a bad signature, an impossible or stale height, garbage */
	raw = lone_block(&OTHER, 5, 1, 50, &len);
	assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 0), SSP_ERR_BLOCK_PRODUCER);
	free(raw);
	raw = lone_block(&PROD, 5, 1, 50, &len);
	raw[len - 5] ^= 1; /* the signature (before the u32 tx count) */
	assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 0), SSP_ERR_BADSIG);
	free(raw);
	raw = lone_block(&PROD, 60, 1, 50, &len);
	assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 0), SSP_ERR_BLOCK_TIME);
	free(raw);
	raw = lone_block(&PROD, 0, 1, 50, &len);
	assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 0), SSP_ERR_FINAL_POP);
	free(raw);
	static const uint8_t junk[7] = {1, 2, 3};
	assert_int_equal(ssp_forkdb_add(f, x.chain, junk, sizeof junk, 1, 0), SSP_ERR_DECODE);
	/* orphans: at most SSP_FORKDB_ORPHANS, then BUSY; they expire */
	for (int i = 0; i < SSP_FORKDB_ORPHANS; i++) {
		raw = lone_block(&PROD, 5, (uint8_t)(i + 1), 50 + (uint64_t)i, &len);
		assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 1000), 0);
		free(raw);
	}
	raw = lone_block(&PROD, 5, 0xee, 200, &len);
	assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 1000), SSP_ERR_BUSY);
	ssp_fork_plan plan;
	assert_int_equal(ssp_forkdb_best(f, x.chain, &plan), 0);
	assert_int_equal(plan.n, 0);
	assert_int_equal(plan.nwant, SSP_FORKDB_WANTS); /* bounded per round */
	ssp_fork_plan_free(&plan);
	ssp_forkdb_prune(f, x.chain, 1000 + SSP_FORKDB_ORPHAN_MS - 1);
	assert_int_equal(ssp_forkdb_count(f), SSP_FORKDB_ORPHANS);
	ssp_forkdb_prune(f, x.chain, 1000 + SSP_FORKDB_ORPHAN_MS + 1);
	assert_int_equal(ssp_forkdb_count(f), 0);
	assert_int_equal(ssp_forkdb_bytes(f), 0);
	assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 1000), 0);
	free(raw);
	ssp_forkdb_free(f);
	/* blocks and bytes: a database of 2 blocks, then one of fewer bytes than a block */
	assert_int_equal(ssp_forkdb_new(&f, &fc, 2, 0), 0);
	for (int i = 0; i < 3; i++) {
		raw = lone_block(&PROD, 5, (uint8_t)(i + 1), 60 + (uint64_t)i, &len);
		assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 0),
		                 i < 2 ? 0 : SSP_ERR_BUSY);
		free(raw);
	}
	ssp_forkdb_free(f);
	assert_int_equal(ssp_forkdb_new(&f, &fc, 0, 100), 0);
	raw = lone_block(&PROD, 5, 1, 60, &len);
	assert_true(len > 100);
	assert_int_equal(ssp_forkdb_add(f, x.chain, raw, len, 1, 0), SSP_ERR_BUSY);
	free(raw);
	ssp_forkdb_free(f);
	ssp_rr_free(rr);
	fx_node_close(&x, false);
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
	fx_key_make(&PROD, SSP_KEY_ED25519, 0x01);
	fx_key_make(&OTHER, SSP_KEY_ED25519, 0x02);
	fx_key_make(&ALICE, SSP_KEY_ED25519, 0xa1);
	fx_key_make(&FOUND, SSP_KEY_ED25519, 0xf0);
	fx_key_make(&TEAM, SSP_KEY_ED25519, 0x7e);
	fx_genesis_spec s = {
	    .producer = &PROD, .liquid = {&ALICE}, .foundation = &FOUND, .team = &TEAM};
	char *j = fx_genesis_json(&s);
	G = fx_genesis(j);
	free(j);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ssp_genesis_free(G);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forkchoice_rules),
	    cmocka_unit_test(test_forkdb_switch),
	    cmocka_unit_test(test_forkdb_bounds),
	    cmocka_unit_test(test_forkdb_waiting_tip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
