/*
 * test_bft.c — the consensus rules' pure state machine (consensus layer,
 * ssp/bft.h): the round order against a vector computed with Python's
 * hashlib (sort by SHA-256(seed | type | len | key)), the seed and the
 * window, the hash onion, the quorum at n = 4, 99, 100, 200, a chain on a
 * 4-delegate machine (wrong producer, forged reveal, bad QCs refused;
 * votes justify, the direct child finalises; a QC in a block does the same
 * for another view; a branch must carry its own justifications), double
 * and surround votes and two blocks for one slot found as evidence, the
 * watermark's refusals, fork choice's order and the participation rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ssp/bft.h"

#define N 4
#define K 64
#define SLOT_MS 1000
#define G_MS 5000

static ssp_pubkey keys[N];
static ssp_hash secrets[N], onion[N];
static ssp_bft_params P;
static uint32_t id_counter;

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	for (int i = 0; i < N; i++) {
		keys[i].type = SSP_KEY_ED25519;
		keys[i].len = 32;
		memset(keys[i].b, i + 1, 32);
		memset(secrets[i].b, 0x40 + i, 32);
		ssp_bft_onion_commit(&onion[i], &secrets[i], K);
	}
	P = (ssp_bft_params){.n = N,
	                     .keys = keys,
	                     .onion = onion,
	                     .onion_len = K,
	                     .genesis_time_ms = G_MS,
	                     .slot_ms = SLOT_MS};
	memset(P.genesis_id.b, 0x99, 32);
	memset(P.genesis_seed.b, 0x11, 32);
	return 0;
}

static ssp_bft_ref ref(const ssp_bft_block *b)
{
	return (ssp_bft_ref){b->height, b->id};
}

/* A valid block at `slot` on `parent` (its producer, reveal, time, a fresh id). */
static ssp_bft_block mk(ssp_bft *m, const ssp_hash *parent, uint64_t slot)
{
	ssp_bft_block b, pb;
	uint32_t p;
	assert_true(ssp_bft_get(m, &pb, parent));
	assert_int_equal(ssp_bft_producer(m, &p, parent, slot), 0);
	memset(&b, 0, sizeof b);
	b.parent = *parent;
	b.height = pb.height + 1;
	b.slot = slot;
	b.producer = p;
	b.time_ms = G_MS + slot * SLOT_MS + 10;
	assert_int_equal(ssp_bft_onion_element(&b.reveal, &secrets[p], K, slot / N + 1), 0);
	uint32_t c = ++id_counter;
	ssp_sha256(&b.id, &c, sizeof c);
	return b;
}

static void vote(ssp_bft *m, uint32_t voter, const ssp_bft_block *src, const ssp_bft_block *tgt)
{
	ssp_bft_vote v = {voter, ref(src), ref(tgt)};
	assert_int_equal(ssp_bft_add_vote(m, &v), 0);
}

static ssp_bft_block genesis_block(ssp_bft *m)
{
	ssp_bft_block g;
	assert_true(ssp_bft_get(m, &g, &P.genesis_id));
	return g;
}

/* ------------------------------------------------------------- schedule */

static void test_order_vector(void **state)
{
	(void)state;
	ssp_pubkey k5[5];
	ssp_hash seed;
	uint32_t order[5];
	for (int i = 0; i < 5; i++) {
		k5[i].type = SSP_KEY_ED25519;
		k5[i].len = 32;
		memset(k5[i].b, i + 1, 32);
	}
	for (int i = 0; i < 32; i++)
		seed.b[i] = (uint8_t)i;
	assert_int_equal(ssp_bft_order(order, k5, 5, &seed), 0);
	/* python3: sorted(range(5), key=lambda i: (sha256(seed + bytes([1, 32]) + bytes([i+1]*32)),
	 * i)) */
	static const uint32_t want[5] = {4, 3, 0, 2, 1};
	assert_memory_equal(order, want, sizeof want);
	/* another seed, another order (for these keys), still a permutation */
	seed.b[0] ^= 1;
	assert_int_equal(ssp_bft_order(order, k5, 5, &seed), 0);
	uint32_t seen = 0;
	for (int i = 0; i < 5; i++)
		seen |= 1u << order[i];
	assert_int_equal(seen, 0x1f);
	assert_int_equal(ssp_bft_order(order, k5, 0, &seed), SSP_ERR_INVAL);
	assert_int_equal(ssp_bft_order(order, k5, SSP_BFT_MAX_N + 1, &seed), SSP_ERR_INVAL);
}

static void test_seed(void **state)
{
	(void)state;
	ssp_hash seed, acc, out, want;
	for (int i = 0; i < 32; i++)
		seed.b[i] = (uint8_t)i;
	memset(&acc, 0, sizeof acc);
	ssp_bft_seed_next(&out, &seed, &acc, 7);
	/* python3: sha256(b"ssp-bft-seed" + seed + bytes(32) + (7).to_bytes(8, "little")) */
	assert_int_equal(
	    ssp_hex_decode(want.b, 32,
	                   "2a1553bfa88de4188b4bc606f60170cd021a4752d470c00d33b93857bddfd6c1", 64),
	    0);
	assert_memory_equal(out.b, want.b, 32);
	/* XOR: order-independent, and folding a reveal twice cancels it */
	ssp_hash r1, r2, a = {{0}}, b = {{0}};
	memset(r1.b, 0x5a, 32);
	memset(r2.b, 0xc3, 32);
	ssp_bft_seed_fold(&a, &r1);
	ssp_bft_seed_fold(&a, &r2);
	ssp_bft_seed_fold(&b, &r2);
	ssp_bft_seed_fold(&b, &r1);
	assert_memory_equal(a.b, b.b, 32);
	/* the window: the first ceil(2n/3) slots of a round */
	assert_true(ssp_bft_in_seed_window(0, 4));
	assert_true(ssp_bft_in_seed_window(2, 4));
	assert_false(ssp_bft_in_seed_window(3, 4));
	assert_true(ssp_bft_in_seed_window(4, 4));
	assert_true(ssp_bft_in_seed_window(65, 99));
	assert_false(ssp_bft_in_seed_window(66, 99));
}

static void test_onion(void **state)
{
	(void)state;
	ssp_hash secret, c, e1, e2, e3, want;
	memset(&secret, 0, sizeof secret);
	ssp_bft_onion_commit(&c, &secret, 3);
	/* python3: sha256^3(bytes(32)) */
	assert_int_equal(
	    ssp_hex_decode(want.b, 32,
	                   "12771355e46cd47c71ed1721fd5319b383cca3a1f9fce3aa1c8cd3bd37af20d7", 64),
	    0);
	assert_memory_equal(c.b, want.b, 32);
	assert_int_equal(ssp_bft_onion_element(&e1, &secret, 3, 1), 0);
	assert_int_equal(ssp_bft_onion_element(&e2, &secret, 3, 2), 0);
	assert_int_equal(ssp_bft_onion_element(&e3, &secret, 3, 3), 0);
	assert_memory_equal(e3.b, secret.b, 32);
	assert_true(ssp_bft_onion_check(&e1, &c, 1));
	assert_true(ssp_bft_onion_check(&e2, &e1, 1));
	assert_true(ssp_bft_onion_check(&e3, &c, 3)); /* two rounds missed */
	assert_false(ssp_bft_onion_check(&e2, &c, 1));
	assert_false(ssp_bft_onion_check(&e1, &c, 0));
	assert_false(ssp_bft_onion_check(&c, &e1, 1)); /* backwards */
	ssp_hash bad = e1;
	bad.b[31] ^= 1;
	assert_false(ssp_bft_onion_check(&bad, &c, 1));
	assert_int_equal(ssp_bft_onion_element(&e1, &secret, 3, 4), SSP_ERR_RANGE);
}

static void test_quorum(void **state)
{
	(void)state;
	assert_int_equal(ssp_bft_quorum(4), 3);
	assert_int_equal(ssp_bft_quorum(99), 67);
	assert_int_equal(ssp_bft_quorum(100), 67);
	assert_int_equal(ssp_bft_quorum(200), 134);
	assert_int_equal(ssp_bft_quorum(1), 1);
	assert_int_equal(ssp_bft_quorum(3), 3);
	/* two quorums always share more than a third: an honest delegate */
	for (uint32_t n = 1; n <= SSP_BFT_MAX_N; n++) {
		uint32_t q = ssp_bft_quorum(n), f = (n - 1) / 3;
		assert_true(2 * q - n > f);
		assert_true(n - f >= q); /* the honest alone reach it */
	}
	ssp_bft_qc qc = {0};
	qc.bits[0] = 0x7;
	qc.bits[3] = 1ULL << 63;
	assert_int_equal(ssp_bft_qc_count(&qc), 4);
}

static void test_participation(void **state)
{
	(void)state;
	assert_true(ssp_bft_participation_ok(33, 100));
	assert_false(ssp_bft_participation_ok(32, 100));
	assert_true(ssp_bft_participation_ok(2, 4));
	assert_false(ssp_bft_participation_ok(1, 4));
	/* round 0: always */
	assert_true(ssp_bft_may_produce(0, 0, 3, 0, 4));
	/* round 2, previous round 1 of 4 blocks, this round none yet: refuse */
	assert_false(ssp_bft_may_produce(1, 0, 9, 7, 4));
	assert_true(ssp_bft_may_produce(2, 0, 9, 7, 4));
	/* this round has been full so far: produce (a network coming back) */
	assert_true(ssp_bft_may_produce(0, 2, 10, 9, 4));
	/* no block on the branch for a whole round: restart */
	assert_true(ssp_bft_may_produce(0, 0, 12, 7, 4));
	assert_false(ssp_bft_may_produce(0, 0, 11, 7, 4));
}

/* ----------------------------------------------------------- the machine */

static void test_block_validity(void **state)
{
	(void)state;
	ssp_bft *m;
	assert_int_equal(ssp_bft_new(&m, &P), 0);
	ssp_bft_block b = mk(m, &P.genesis_id, 1), x;
	/* the wrong producer */
	x = b;
	x.producer = (b.producer + 1) % N;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BLOCK_PRODUCER);
	/* a forged reveal, and a reveal of the wrong round (one step too far) */
	x = b;
	x.reveal.b[0] ^= 1;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BFT_REVEAL);
	x = b;
	assert_int_equal(ssp_bft_onion_element(&x.reveal, &secrets[b.producer], K, 2), 0);
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BFT_REVEAL);
	/* height, slot and time */
	x = b;
	x.height = 2;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BLOCK_HEIGHT);
	x = b;
	x.time_ms = G_MS + 2 * SLOT_MS;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BLOCK_TIME);
	x = b;
	x.slot = UINT64_MAX / 2;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BLOCK_TIME); /* no wrap-around */
	/* an unknown parent; at height 1 its parent can only be the final block (genesis) */
	x = b;
	x.parent.b[0] ^= 1;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BFT_CONFLICT);
	x.height = 2;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_NOTFOUND);
	/* a QC with fewer than a quorum */
	x = b;
	x.has_qc = true;
	x.qc.source = x.qc.target = (ssp_bft_ref){0, P.genesis_id};
	x.qc.bits[0] = 0x3;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BFT_QC);
	assert_int_equal(ssp_bft_add_block(m, &b), 0);
	assert_int_equal(ssp_bft_add_block(m, &b), SSP_ERR_EXISTS);
	/* slot not after its parent's */
	x = mk(m, &b.id, 2);
	x.slot = 1;
	x.time_ms = G_MS + SLOT_MS;
	assert_int_equal(ssp_bft_add_block(m, &x), SSP_ERR_BLOCK_TIME);
	/* the producer's next block, rounds later, reveals several steps on */
	ssp_bft_block c = mk(m, &b.id, 13);
	assert_int_equal(ssp_bft_add_block(m, &c), 0);
	ssp_bft_ref h;
	ssp_bft_head(m, &h);
	assert_memory_equal(h.id.b, c.id.b, 32);
	ssp_bft_free(m);
}

static void test_justify_finalize(void **state)
{
	(void)state;
	ssp_bft *m, *o;
	assert_int_equal(ssp_bft_new(&m, &P), 0);
	assert_int_equal(ssp_bft_new(&o, &P), 0);
	ssp_bft_block g = genesis_block(m);
	ssp_bft_block b1 = mk(m, &g.id, 1);
	assert_int_equal(ssp_bft_add_block(m, &b1), 0);
	ssp_bft_block b2 = mk(m, &b1.id, 2);
	assert_int_equal(ssp_bft_add_block(m, &b2), 0);
	/* two votes are not a quorum of 4; the third is */
	vote(m, 0, &g, &b1);
	vote(m, 1, &g, &b1);
	assert_false(ssp_bft_is_justified(m, &b1.id));
	vote(m, 1, &g, &b1); /* a duplicate counts once */
	assert_false(ssp_bft_is_justified(m, &b1.id));
	vote(m, 2, &g, &b1);
	assert_true(ssp_bft_is_justified(m, &b1.id));
	ssp_bft_ref f, j;
	ssp_bft_final(m, &f);
	assert_int_equal(f.height,
	                 0); /* genesis -> b1 skips nothing, but genesis was final already */
	/* the honest vote for b2 now starts at b1; its QC finalises b1 (direct child) */
	ssp_bft_vote v;
	ssp_bft_qc sqc;
	assert_int_equal(ssp_bft_vote_for(m, &v, &sqc, 3, &b2.id), 0);
	assert_int_equal(v.source.height, 1);
	assert_memory_equal(v.source.id.b, b1.id.b, 32);
	assert_int_equal(ssp_bft_qc_count(&sqc), 3); /* the QC that justified b1 */
	for (uint32_t i = 0; i < 3; i++)
		vote(m, i, &b1, &b2);
	assert_true(ssp_bft_is_justified(m, &b2.id));
	ssp_bft_final(m, &f);
	ssp_bft_justified(m, &j);
	assert_int_equal(f.height, 1);
	assert_memory_equal(f.id.b, b1.id.b, 32);
	assert_int_equal(j.height, 2);

	/* another view learns the same from QCs carried in blocks */
	assert_int_equal(ssp_bft_add_block(o, &b1), 0);
	assert_int_equal(ssp_bft_add_block(o, &b2), 0);
	ssp_bft_block b3;
	assert_int_equal(ssp_bft_propose(m, &b3, mk(m, &b2.id, 3).producer, &b2.id, 3), 0);
	assert_true(b3.has_qc); /* the best link the branch lacks: genesis -> b1 */
	assert_int_equal(b3.qc.target.height, 1);
	ssp_bft_block t = mk(m, &b2.id, 3);
	b3.reveal = t.reveal;
	b3.time_ms = t.time_ms;
	b3.id = t.id;
	assert_int_equal(ssp_bft_add_block(m, &b3), 0);
	/* a QC whose source the branch has not justified is refused: b1 -> b2 needs b1 first */
	ssp_bft_block bad = mk(m, &b2.id, 3);
	bad.has_qc = true;
	bad.qc.source = ref(&b1);
	bad.qc.target = ref(&b2);
	bad.qc.bits[0] = 0x7;
	assert_int_equal(ssp_bft_add_block(o, &bad), SSP_ERR_BFT_QC);
	/* a QC for a block not on the branch is refused too */
	ssp_bft_block side = mk(o, &g.id, 2);
	assert_int_equal(ssp_bft_add_block(o, &side), 0);
	bad = mk(o, &side.id, 3);
	bad.has_qc = true;
	bad.qc.source = ref(&g);
	bad.qc.target = ref(&b1);
	bad.qc.bits[0] = 0x7;
	assert_int_equal(ssp_bft_add_block(o, &bad), SSP_ERR_BFT_QC);
	assert_int_equal(ssp_bft_add_block(o, &b3), 0);
	assert_true(ssp_bft_is_justified(o, &b1.id));
	ssp_bft_block b4;
	uint32_t p4;
	assert_int_equal(ssp_bft_producer(m, &p4, &b3.id, 4), 0);
	assert_int_equal(ssp_bft_propose(m, &b4, p4, &b3.id, 4), 0);
	assert_true(b4.has_qc);
	assert_int_equal(b4.qc.target.height, 2); /* b1 -> b2 */
	t = mk(m, &b3.id, 4);
	b4.reveal = t.reveal;
	b4.time_ms = t.time_ms;
	b4.id = t.id;
	assert_int_equal(ssp_bft_add_block(o, &b4), 0);
	ssp_bft_final(o, &f);
	assert_int_equal(f.height, 1);
	/* the final block is never reverted: a block off it is refused (built on a fresh
	 * view: this one no longer holds genesis) */
	assert_false(ssp_bft_get(o, NULL, &g.id));
	ssp_bft *fresh;
	assert_int_equal(ssp_bft_new(&fresh, &P), 0);
	ssp_bft_block off = mk(fresh, &g.id, 5);
	ssp_bft_free(fresh);
	assert_int_equal(ssp_bft_add_block(o, &off), SSP_ERR_BFT_CONFLICT);
	/* the side branch is gone for every question: its block and a child of it (whose
	 * parent, at the final height, can only be the final block) conflict */
	assert_false(ssp_bft_get(o, NULL, &side.id));
	bad.has_qc = false;
	assert_int_equal(ssp_bft_add_block(o, &bad), SSP_ERR_BFT_CONFLICT);
	assert_int_equal(ssp_bft_add_block(o, &side), SSP_ERR_BFT_CONFLICT);
	/* and the side branch (no justified block) is not the head */
	ssp_bft_ref h;
	ssp_bft_head(o, &h);
	assert_memory_equal(h.id.b, b4.id.b, 32);
	/* a restarted view takes a QC back (the watermark's) */
	ssp_bft *r;
	assert_int_equal(ssp_bft_new(&r, &P), 0);
	assert_int_equal(ssp_bft_add_qc(r, &sqc), SSP_ERR_NOTFOUND);
	assert_int_equal(ssp_bft_add_block(r, &b1), 0);
	assert_int_equal(ssp_bft_add_qc(r, &sqc), 0);
	assert_true(ssp_bft_is_justified(r, &b1.id));
	sqc.bits[0] = 1;
	assert_int_equal(ssp_bft_add_qc(r, &sqc), SSP_ERR_BFT_QC);
	ssp_bft_free(r);
	ssp_bft_free(m);
	ssp_bft_free(o);
}

static void test_evidence(void **state)
{
	(void)state;
	ssp_bft_vote a = {1, {0, {{0}}}, {5, {{1}}}}, b = a;
	/* the same vote: no conflict; another target at one height: a double vote */
	assert_int_equal(ssp_bft_votes_conflict(&a, &b), SSP_BFT_EV_NONE);
	b.target.id.b[0] = 2;
	assert_int_equal(ssp_bft_votes_conflict(&a, &b), SSP_BFT_EV_DOUBLE_VOTE);
	b = a;
	b.source.height = 1; /* same target height, another source */
	assert_int_equal(ssp_bft_votes_conflict(&a, &b), SSP_BFT_EV_DOUBLE_VOTE);
	/* surround, both ways; nested sources or targets alone are fine */
	ssp_bft_vote in = {1, {2, {{3}}}, {3, {{4}}}}, out = {1, {1, {{5}}}, {4, {{6}}}};
	assert_int_equal(ssp_bft_votes_conflict(&in, &out), SSP_BFT_EV_SURROUND);
	assert_int_equal(ssp_bft_votes_conflict(&out, &in), SSP_BFT_EV_SURROUND);
	ssp_bft_vote later = {1, {2, {{3}}}, {6, {{7}}}};
	assert_int_equal(ssp_bft_votes_conflict(&in, &later), SSP_BFT_EV_NONE);
	ssp_bft_vote other = in;
	other.voter = 2;
	assert_int_equal(ssp_bft_votes_conflict(&out, &other), SSP_BFT_EV_NONE);
	ssp_bft_evidence e = {.kind = SSP_BFT_EV_SURROUND, .offender = 1, .vote = {in, out}};
	assert_true(ssp_bft_evidence_valid(&e));
	e.offender = 2;
	assert_false(ssp_bft_evidence_valid(&e));
	e = (ssp_bft_evidence){.kind = SSP_BFT_EV_DOUBLE_VOTE, .offender = 1, .vote = {in, out}};
	assert_false(ssp_bft_evidence_valid(&e)); /* a surround is no double vote */

	/* in the machine: votes and blocks */
	ssp_bft *m;
	assert_int_equal(ssp_bft_new(&m, &P), 0);
	ssp_bft_block g = genesis_block(m), b1 = mk(m, &g.id, 1);
	assert_int_equal(ssp_bft_add_block(m, &b1), 0);
	ssp_bft_block b2 = mk(m, &b1.id, 2);
	assert_int_equal(ssp_bft_add_block(m, &b2), 0);
	ssp_bft_block b3 = mk(m, &b2.id, 3);
	assert_int_equal(ssp_bft_add_block(m, &b3), 0);
	ssp_bft_evidence ev;
	assert_false(ssp_bft_evidence_pop(m, &ev));
	/* another branch at height 2, in slot 3 of round 0: the same producer as b3's
	 * (one order per round for every branch), so two blocks for one slot */
	ssp_bft_block c2 = mk(m, &b1.id, 3);
	assert_int_equal(c2.producer, b3.producer);
	assert_int_equal(ssp_bft_add_block(m, &c2), 0);
	assert_true(ssp_bft_evidence_pop(m, &ev));
	assert_int_equal(ev.kind, SSP_BFT_EV_DOUBLE_BLOCK);
	assert_int_equal(ev.offender, b3.producer);
	assert_int_equal(ev.slot, 3);
	assert_true(ssp_bft_evidence_valid(&ev));
	assert_false(ssp_bft_evidence_pop(m, &ev));
	vote(m, 0, &g, &b2);
	vote(m, 0, &g, &c2); /* double vote: not counted, evidence */
	assert_true(ssp_bft_evidence_pop(m, &ev));
	assert_int_equal(ev.kind, SSP_BFT_EV_DOUBLE_VOTE);
	assert_int_equal(ev.offender, 0);
	assert_true(ssp_bft_evidence_valid(&ev));
	vote(m, 1, &b1, &b2);
	vote(m, 1, &g, &b3); /* surrounds 1 -> 2 */
	assert_true(ssp_bft_evidence_pop(m, &ev));
	assert_int_equal(ev.kind, SSP_BFT_EV_SURROUND);
	assert_int_equal(ev.offender, 1);
	vote(m, 2, &g, &b3);
	vote(m, 2, &b1, &b2); /* surrounded by 0 -> 3 */
	assert_true(ssp_bft_evidence_pop(m, &ev));
	assert_int_equal(ev.kind, SSP_BFT_EV_SURROUND);
	vote(m, 3, &g, &b1);
	vote(m, 3, &b1, &b2); /* monotone: fine */
	assert_false(ssp_bft_evidence_pop(m, &ev));
	/* a vote whose source is not an ancestor of its target */
	ssp_bft_vote bad = {3, ref(&c2), ref(&b3)};
	assert_int_equal(ssp_bft_add_vote(m, &bad), SSP_ERR_INVAL);
	/* and again, on the same parent */
	ssp_bft_block d = b3;
	d.time_ms += 100;
	d.id.b[0] ^= 0xff;
	assert_int_equal(ssp_bft_add_block(m, &d), 0);
	assert_true(ssp_bft_evidence_pop(m, &ev));
	assert_int_equal(ev.kind, SSP_BFT_EV_DOUBLE_BLOCK);
	assert_int_equal(ev.offender, b3.producer);
	assert_int_equal(ev.slot, 3);
	assert_true(ssp_bft_evidence_valid(&ev));
	ssp_bft_free(m);
}

static void test_watermark(void **state)
{
	(void)state;
	ssp_bft_watermark wm = {0}, next;
	ssp_bft_ref g = {0, {{0}}}, a1 = {1, {{1}}}, a2 = {2, {{2}}}, b2 = {2, {{3}}},
	            a3 = {3, {{4}}}, a5 = {5, {{5}}};
	/* blocks: strictly increasing slots, never the same slot twice */
	assert_int_equal(ssp_bft_may_sign_block(&next, &wm, 7), 0);
	assert_int_equal(next.block_slot, 7);
	wm = next;
	assert_int_equal(ssp_bft_may_sign_block(&next, &wm, 7), SSP_ERR_BFT_UNSAFE);
	assert_int_equal(ssp_bft_may_sign_block(&next, &wm, 6), SSP_ERR_BFT_UNSAFE);
	assert_int_equal(ssp_bft_may_sign_block(&next, &wm, 8), 0);
	/* votes */
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &g, &a2, NULL), 0);
	wm = next;
	assert_int_equal(wm.vote_target.height, 2);
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &g, &a2, NULL), 0); /* the same again */
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &g, &b2, NULL),
	                 SSP_ERR_BFT_UNSAFE); /* double */
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &a1, &a2, NULL),
	                 SSP_ERR_BFT_UNSAFE); /* double */
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &g, &a1, NULL),
	                 SSP_ERR_BFT_UNSAFE); /* lower */
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &a1, &a5, NULL), 0);
	wm = next;
	/* surround: a lower source over the last vote */
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &g, &(ssp_bft_ref){6, {{6}}}, NULL),
	                 SSP_ERR_BFT_UNSAFE);
	/* surrounded: inside the last vote */
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &a2, &a3, NULL), SSP_ERR_BFT_UNSAFE);
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &a5, &a5, NULL), SSP_ERR_INVAL);
	/* the QC of the source rides along */
	ssp_bft_qc qc = {.source = g, .target = a5};
	qc.bits[0] = 7;
	assert_int_equal(ssp_bft_may_vote(&next, &wm, &a5, &(ssp_bft_ref){6, {{6}}}, &qc), 0);
	assert_int_equal(next.source_qc.bits[0], 7);
	assert_int_equal(next.block_slot, 7);
}

static void test_fork_choice(void **state)
{
	(void)state;
	ssp_bft_branch a = {3, 1000, {{1}}}, b = {2, 5000, {{0}}};
	assert_true(ssp_bft_branch_cmp(&a, &b) > 0); /* the latest justified block first */
	assert_true(ssp_bft_branch_cmp(&b, &a) < 0);
	b.justified_height = 3;
	assert_true(ssp_bft_branch_cmp(&b, &a) > 0); /* then the later timestamp */
	b.tip_time_ms = 1000;
	assert_true(ssp_bft_branch_cmp(&b, &a) > 0); /* then the lower id */
	assert_int_equal(ssp_bft_branch_cmp(&a, &a), 0);

	/* in the machine: a short branch with a justified block beats a later, longer one */
	ssp_bft *m;
	assert_int_equal(ssp_bft_new(&m, &P), 0);
	ssp_bft_block g = genesis_block(m), x1 = mk(m, &g.id, 1);
	assert_int_equal(ssp_bft_add_block(m, &x1), 0);
	ssp_bft_block y1 = mk(m, &g.id, 2);
	assert_int_equal(ssp_bft_add_block(m, &y1), 0);
	ssp_bft_block y2 = mk(m, &y1.id, 3);
	assert_int_equal(ssp_bft_add_block(m, &y2), 0);
	ssp_bft_ref h;
	ssp_bft_head(m, &h);
	assert_memory_equal(h.id.b, y2.id.b, 32); /* nothing justified: the later tip */
	for (uint32_t i = 0; i < 3; i++)
		vote(m, i, &g, &x1);
	ssp_bft_head(m, &h);
	assert_memory_equal(h.id.b, x1.id.b, 32);
	ssp_bft_free(m);
}

static void test_propose(void **state)
{
	(void)state;
	ssp_bft *m;
	ssp_bft_block b;
	assert_int_equal(ssp_bft_new(&m, &P), 0);
	uint32_t p;
	assert_int_equal(ssp_bft_producer(m, &p, &P.genesis_id, 1), 0);
	assert_int_equal(ssp_bft_propose(m, &b, (p + 1) % N, &P.genesis_id, 1),
	                 SSP_ERR_BLOCK_PRODUCER);
	assert_int_equal(ssp_bft_propose(m, &b, p, &P.genesis_id, 0), SSP_ERR_BLOCK_TIME);
	assert_int_equal(ssp_bft_propose(m, &b, p, &P.genesis_id, 1), 0);
	assert_int_equal(b.height, 1);
	assert_false(b.has_qc);
	/* one block in round 1, then round 2: participation 1 of 4 < 33% refuses */
	ssp_bft_block b5 = mk(m, &P.genesis_id, 5);
	assert_int_equal(ssp_bft_add_block(m, &b5), 0);
	assert_int_equal(ssp_bft_participation(m, 8), 1); /* round 1: b5 alone */
	assert_int_equal(ssp_bft_participation(m, 3), N); /* round 0: always */
	assert_int_equal(ssp_bft_producer(m, &p, &b5.id, 8), 0);
	assert_int_equal(ssp_bft_propose(m, &b, p, &b5.id, 8), SSP_ERR_BFT_PARTICIPATION);
	/* counted over the view: a block of round 1 on another branch makes it 2 of 4 */
	ssp_bft_block o6 = mk(m, &P.genesis_id, 6);
	assert_int_equal(ssp_bft_add_block(m, &o6), 0);
	assert_int_equal(ssp_bft_participation(m, 8), 2);
	assert_int_equal(ssp_bft_propose(m, &b, p, &b5.id, 8), 0);
	/* a whole round without any block: somebody restarts the chain */
	assert_int_equal(ssp_bft_producer(m, &p, &b5.id, 13), 0);
	assert_int_equal(ssp_bft_propose(m, &b, p, &b5.id, 13), 0);
	ssp_bft_free(m);
}

static void test_bounds(void **state)
{
	(void)state;
	ssp_bft *m;
	ssp_bft_params q = P;
	q.max_blocks = 3; /* genesis and two more */
	q.onion_len = 1;  /* round 0 only */
	assert_int_equal(ssp_bft_new(&m, &q), 0);
	ssp_bft_block b1 = mk(m, &P.genesis_id, 1);
	assert_int_equal(ssp_bft_add_block(m, &b1), 0);
	/* round 1 would need onion element 2 of a 1-element onion */
	ssp_bft_block late = mk(m, &b1.id, 2);
	uint32_t p5;
	assert_int_equal(ssp_bft_producer(m, &p5, &b1.id, 5), 0);
	late.slot = 5;
	late.time_ms = G_MS + 5 * SLOT_MS;
	late.producer = p5;
	/* the right element of the committed onion: only the length bound refuses it */
	assert_int_equal(ssp_bft_onion_element(&late.reveal, &secrets[p5], K, 2), 0);
	assert_int_equal(ssp_bft_add_block(m, &late), SSP_ERR_BFT_REVEAL);
	ssp_bft_block b2 = mk(m, &b1.id, 2);
	assert_int_equal(ssp_bft_add_block(m, &b2), 0);
	ssp_bft_block b3 = mk(m, &b2.id, 3);
	assert_int_equal(ssp_bft_add_block(m, &b3), SSP_ERR_BUSY);
	assert_int_equal(ssp_bft_count(m), 3);
	ssp_bft_free(m);
	q = P;
	q.n = 0;
	assert_int_equal(ssp_bft_new(&m, &q), SSP_ERR_INVAL);
	q.n = SSP_BFT_MAX_N + 1;
	assert_int_equal(ssp_bft_new(&m, &q), SSP_ERR_INVAL);
}

/* ------------------------------------------------------------- a long chain */

#define LONG_BLOCKS 20000
#define LONG_K (LONG_BLOCKS / N + 2)

static ssp_hash *long_onion[N]; /* long_onion[i][e]: element e of delegate i's onion */
static ssp_hash long_commit[N];

static void long_setup(ssp_bft_params *q)
{
	for (int i = 0; i < N; i++) {
		if (!long_onion[i]) {
			long_onion[i] = calloc(LONG_K + 1, sizeof *long_onion[i]);
			assert_non_null(long_onion[i]);
			long_onion[i][LONG_K] = secrets[i];
			for (uint32_t e = LONG_K; e-- > 0;)
				ssp_sha256(&long_onion[i][e], long_onion[i][e + 1].b, 32);
		}
		long_commit[i] = long_onion[i][0];
	}
	*q = P;
	q->onion = long_commit;
	q->onion_len = LONG_K;
}

/* The next block of the long chain on m's head: proposed by m (so it carries the QC
 * m has and the branch lacks), one block per slot. */
static ssp_bft_block long_next(ssp_bft *m, uint64_t slot)
{
	ssp_bft_ref h;
	ssp_bft_head(m, &h);
	uint32_t p;
	assert_int_equal(ssp_bft_producer(m, &p, &h.id, slot), 0);
	ssp_bft_block b;
	assert_int_equal(ssp_bft_propose(m, &b, p, &h.id, slot), 0);
	b.time_ms = G_MS + slot * SLOT_MS + 10;
	b.reveal = long_onion[p][slot / N + 1];
	uint32_t c = ++id_counter;
	ssp_sha256(&b.id, &c, sizeof c);
	return b;
}

/* Three of the four delegates vote for b the honest way. */
static void long_votes(ssp_bft *m, const ssp_bft_block *b)
{
	for (uint32_t i = 0; i < 3; i++) {
		ssp_bft_vote v;
		assert_int_equal(ssp_bft_vote_for(m, &v, NULL, i, &b->id), 0);
		assert_int_equal(ssp_bft_add_vote(m, &v), 0);
	}
}

static bool ref_same(const ssp_bft_ref *a, const ssp_bft_ref *b)
{
	return a->height == b->height && !memcmp(a->id.b, b->id.b, 32);
}

/* Every answer the node asks for, equal in two views. */
static void same_answers(ssp_bft *a, ssp_bft *b, uint64_t slot)
{
	ssp_bft_ref ra, rb;
	ssp_bft_head(a, &ra);
	ssp_bft_head(b, &rb);
	assert_true(ref_same(&ra, &rb));
	ssp_bft_final(a, &ra);
	ssp_bft_final(b, &rb);
	assert_true(ref_same(&ra, &rb));
	ssp_bft_justified(a, &ra);
	ssp_bft_justified(b, &rb);
	assert_true(ref_same(&ra, &rb));
	ssp_bft_head(a, &ra);
	for (uint64_t t = slot + 1; t <= slot + 2 * N; t++) {
		uint32_t pa, pb;
		assert_int_equal(ssp_bft_producer(a, &pa, &ra.id, t), 0);
		assert_int_equal(ssp_bft_producer(b, &pb, &ra.id, t), 0);
		assert_int_equal(pa, pb);
		assert_int_equal(ssp_bft_participation(a, t), ssp_bft_participation(b, t));
		ssp_bft_block xa, xb;
		int rca = ssp_bft_propose(a, &xa, pa, &ra.id, t),
		    rcb = ssp_bft_propose(b, &xb, pb, &ra.id, t);
		assert_int_equal(rca, rcb);
		if (!rca) assert_memory_equal(&xa, &xb, sizeof xa);
	}
	ssp_bft_vote va, vb;
	ssp_bft_qc qa, qb;
	int rca = ssp_bft_vote_for(a, &va, &qa, 3, &ra.id),
	    rcb = ssp_bft_vote_for(b, &vb, &qb, 3, &ra.id);
	assert_int_equal(rca, rcb);
	if (!rca) {
		assert_int_equal(va.voter, vb.voter);
		assert_true(ref_same(&va.source, &vb.source) && ref_same(&va.target, &vb.target));
		assert_true(ref_same(&qa.source, &qb.source) && ref_same(&qa.target, &qb.target));
		assert_memory_equal(qa.bits, qb.bits, sizeof qa.bits);
	}
	uint64_t ja, jb;
	assert_int_equal(ssp_bft_branch_justified(a, &ja, &ra.id), 0);
	assert_int_equal(ssp_bft_branch_justified(b, &jb, &ra.id), 0);
	assert_int_equal(ja, jb);
}

/*
 * Compaction changes no answer: three views fed the same blocks and votes
 * (K = 64, K = 1 and never) agree on head, finality, producers, proposals
 * and votes at every block, with a fork that the final block leaves behind
 * every 50 blocks and a gap of missed slots now and then.
 */
static void test_compact_same(void **state)
{
	(void)state;
	ssp_bft_params q, q1, q0;
	long_setup(&q);
	q1 = q0 = q;
	q1.compact_min = 1;
	q0.no_compact = true;
	ssp_bft *v[3];
	assert_int_equal(ssp_bft_new(&v[0], &q), 0);
	assert_int_equal(ssp_bft_new(&v[1], &q1), 0);
	assert_int_equal(ssp_bft_new(&v[2], &q0), 0);
	uint64_t slot = 0;
	for (uint32_t k = 0; k < 1500; k++) {
		slot += k % 97 == 96 ? 3 : 1; /* missed slots */
		ssp_bft_block b = long_next(v[2], slot);
		if (k % 50 == 25) { /* a side block on the head's parent: a dead branch soon */
			ssp_bft_block hb, side;
			assert_true(ssp_bft_get(v[2], &hb, &b.parent));
			if (hb.height > 0) {
				uint32_t p;
				assert_int_equal(ssp_bft_producer(v[2], &p, &hb.parent, slot), 0);
				assert_int_equal(ssp_bft_propose(v[2], &side, p, &hb.parent, slot), 0);
				side.time_ms = G_MS + slot * SLOT_MS + 20;
				side.reveal = long_onion[p][slot / N + 1];
				uint32_t c = ++id_counter;
				ssp_sha256(&side.id, &c, sizeof c);
				for (int i = 0; i < 3; i++) {
					int rc = ssp_bft_add_block(v[i], &side);
					assert_true(rc == 0 || rc == SSP_ERR_BFT_CONFLICT);
				}
			}
		}
		for (int i = 0; i < 3; i++)
			assert_int_equal(ssp_bft_add_block(v[i], &b), 0);
		ssp_bft_vote vs[3];
		for (uint32_t i = 0; i < 3; i++)
			assert_int_equal(ssp_bft_vote_for(v[2], &vs[i], NULL, i, &b.id), 0);
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				assert_int_equal(ssp_bft_add_vote(v[i], &vs[j]), 0);
		same_answers(v[0], v[2], slot);
		same_answers(v[1], v[2], slot);
	}
	assert_true(ssp_bft_count(v[1]) < 10);
	assert_true(ssp_bft_count(v[0]) < 200);
	assert_true(ssp_bft_count(v[2]) > 1500);
	for (int i = 0; i < 3; i++)
		ssp_bft_free(v[i]);
}

/* A vote made before its blocks were dropped still catches a surround and a double vote. */
static void test_compact_evidence(void **state)
{
	(void)state;
	ssp_bft_params q;
	long_setup(&q);
	q.compact_min = 1;
	ssp_bft *m;
	assert_int_equal(ssp_bft_new(&m, &q), 0);
	ssp_bft_block bl[40];
	for (uint64_t slot = 1; slot <= 40; slot++) {
		bl[slot - 1] = long_next(m, slot);
		assert_int_equal(ssp_bft_add_block(m, &bl[slot - 1]), 0);
		if (slot == 6) { /* delegate 3's one vote: b2 -> b5 (no quorum) */
			ssp_bft_vote w = {3, ref(&bl[1]), ref(&bl[4])};
			assert_int_equal(ssp_bft_add_vote(m, &w), 0);
		}
		long_votes(m, &bl[slot - 1]);
	}
	ssp_bft_ref f;
	ssp_bft_final(m, &f);
	assert_true(f.height > 30);
	assert_false(ssp_bft_get(m, NULL, &bl[4].id)); /* b5 was dropped */
	ssp_bft_evidence e;
	while (ssp_bft_evidence_pop(m, &e)) {
	}
	/* b1 -> b39 surrounds it: the source is below the final block, the target live */
	ssp_bft_vote w = {3, ref(&bl[0]), ref(&bl[38])};
	assert_int_equal(ssp_bft_add_vote(m, &w), 0);
	assert_true(ssp_bft_evidence_pop(m, &e));
	assert_int_equal(e.kind, SSP_BFT_EV_SURROUND);
	assert_int_equal(e.offender, 3);
	assert_int_equal(e.vote[0].source.height, 2);
	assert_memory_equal(e.vote[0].target.id.b, bl[4].id.b, 32);
	assert_true(ssp_bft_evidence_valid(&e));
	/* b3 -> b4, both dropped: surrounded by b2 -> b5 (evidence only, 0) */
	w = (ssp_bft_vote){3, ref(&bl[2]), ref(&bl[3])};
	assert_int_equal(ssp_bft_add_vote(m, &w), 0);
	assert_true(ssp_bft_evidence_pop(m, &e));
	assert_int_equal(e.kind, SSP_BFT_EV_SURROUND);
	/* b1 -> b5: a double vote (target height 5) */
	w = (ssp_bft_vote){3, ref(&bl[0]), ref(&bl[4])};
	assert_int_equal(ssp_bft_add_vote(m, &w), 0);
	assert_true(ssp_bft_evidence_pop(m, &e));
	assert_int_equal(e.kind, SSP_BFT_EV_DOUBLE_VOTE);
	assert_false(ssp_bft_evidence_pop(m, &e));
	/* the final block's own QC is taken back by a view that is past it: 0, no effect */
	ssp_bft_qc qc = {.source = ref(&bl[1]), .target = ref(&bl[2]), .bits = {0x7}};
	assert_int_equal(ssp_bft_add_qc(m, &qc), 0);
	ssp_bft_free(m);
}

/*
 * A double vote whose second half targets a block this view never held, on
 * a branch the final block has left behind (its first half, for the final
 * branch, was counted): without elections every block's set is the genesis
 * set, so the voter is known and the evidence is found.
 */
static void test_offbranch_vote(void **state)
{
	(void)state;
	ssp_bft *m;
	assert_int_equal(ssp_bft_new(&m, &P), 0);
	ssp_bft_block g = genesis_block(m), a1 = mk(m, &g.id, 1), b1 = mk(m, &g.id, 2);
	assert_int_equal(ssp_bft_add_block(m, &a1), 0);
	ssp_bft_block a2 = mk(m, &a1.id, 3);
	assert_int_equal(ssp_bft_add_block(m, &a2), 0);
	for (uint32_t v = 0; v < 3; v++)
		vote(m, v, &g, &a1);
	for (uint32_t v = 0; v < 3; v++)
		vote(m, v, &a1, &a2);
	ssp_bft_ref f;
	ssp_bft_final(m, &f);
	assert_int_equal(f.height, 1); /* a1: b1 (never held) is off the final branch */
	ssp_bft_evidence e;
	while (ssp_bft_evidence_pop(m, &e)) {
	}
	ssp_bft_vote w = {0, ref(&g), ref(&b1)}; /* delegate 0 voted genesis -> a1 before */
	assert_int_equal(ssp_bft_add_vote(m, &w), 0);
	assert_true(ssp_bft_evidence_pop(m, &e));
	assert_int_equal(e.kind, SSP_BFT_EV_DOUBLE_VOTE);
	assert_int_equal(e.offender, 0);
	assert_memory_equal(&e.key, &keys[0], sizeof e.key);
	assert_true(ssp_bft_evidence_valid(&e));
	ssp_bft_free(m);
}

/* A full machine drops what the final block left behind before it says BUSY. */
static void test_compact_full(void **state)
{
	(void)state;
	ssp_bft_params q;
	long_setup(&q);
	q.max_blocks = 8; /* below K = 64: only the forced compaction keeps it going */
	ssp_bft *m;
	assert_int_equal(ssp_bft_new(&m, &q), 0);
	for (uint64_t slot = 1; slot <= 100; slot++) {
		ssp_bft_block b = long_next(m, slot);
		assert_int_equal(ssp_bft_add_block(m, &b), 0);
		long_votes(m, &b);
		assert_true(ssp_bft_count(m) <= 8);
	}
	ssp_bft_ref f;
	ssp_bft_final(m, &f);
	assert_true(f.height >= 97);
	ssp_bft_free(m);
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * 20,000 blocks of 4 delegates: a voting view (blocks and votes) proposes
 * every block, a second view learns finality from the blocks' QCs alone.
 * Both keep finality moving; prints blocks held and the time per block
 * (a figure, never a verdict).
 */
/*
 * A block's verdict is a function of its branch, not of the view: A sees
 * every vote (its final block runs ahead, it compacts on every move), B only
 * the blocks (its final height lags, as after a restart that rebuilt from
 * headers). Every block A proposes is valid in both; for each, mutants whose
 * QC names another recent source (justified by votes only, by a QC on the
 * branch, or not at all) get the same verdict from both.
 */
static void test_views_agree(void **state)
{
	(void)state;
	ssp_bft_params q;
	long_setup(&q);
	q.compact_min = 1;
	ssp_bft *a, *b;
	assert_int_equal(ssp_bft_new(&a, &q), 0);
	q.compact_min = 0;
	assert_int_equal(ssp_bft_new(&b, &q), 0);
	ssp_hash hist[64];
	uint64_t hh[64];
	uint32_t nh = 0, differ_final = 0, mutants = 0, refused = 0;
	hist[nh] = P.genesis_id;
	hh[nh++] = 0;
	for (uint64_t slot = 1; slot <= 300; slot++) {
		ssp_bft_block x = long_next(a, slot);
		assert_int_equal(ssp_bft_add_block(a, &x), 0);
		assert_int_equal(ssp_bft_add_block(b, &x), 0);
		/* mutants: the same block at its slot with another QC (a sibling: both agree) */
		for (uint32_t k = nh > 6 ? nh - 6 : 0; k + 1 < nh && slot % 5 == 0; k++) {
			ssp_bft_block y = x;
			y.has_qc = true;
			y.qc.source = (ssp_bft_ref){hh[k], hist[k]};
			y.qc.target = (ssp_bft_ref){hh[nh - 1], hist[nh - 1]};
			y.qc.bits[0] = 0xf;
			uint32_t c = ++id_counter;
			ssp_sha256(&y.id, &c, sizeof c);
			int ra = ssp_bft_add_block(a, &y), rb = ssp_bft_add_block(b, &y);
			assert_int_equal(ra, rb);
			mutants++;
			refused += ra != 0;
			ssp_bft_evidence e;
			while (ssp_bft_evidence_pop(a, &e) || ssp_bft_evidence_pop(b, &e)) {
			}
		}
		long_votes(a, &x);
		ssp_bft_ref fa, fb;
		ssp_bft_final(a, &fa);
		ssp_bft_final(b, &fb);
		differ_final += fa.height != fb.height;
		if (nh == 64) {
			memmove(hist, hist + 1, 63 * sizeof *hist);
			memmove(hh, hh + 1, 63 * sizeof *hh);
			nh--;
		}
		hist[nh] = x.id;
		hh[nh++] = x.height;
	}
	/* blocks without QCs, justified in A by votes only (A's final passes them, B's does not):
	 * a QC naming one of them as its source is refused by both views (lenient "a source
	 * below my final block is justified" let A accept it and B refuse it) */
	ssp_bft_block s[3];
	uint64_t slot = 301;
	for (int i = 0; i < 3; i++, slot++) {
		s[i] = long_next(a, slot);
		s[i].has_qc = false;
		memset(&s[i].qc, 0, sizeof s[i].qc);
		assert_int_equal(ssp_bft_add_block(a, &s[i]), 0);
		assert_int_equal(ssp_bft_add_block(b, &s[i]), 0);
		long_votes(a, &s[i]);
	}
	ssp_bft_ref fa, fb;
	ssp_bft_final(a, &fa);
	ssp_bft_final(b, &fb);
	assert_true(fa.height >= s[0].height && fb.height < s[0].height);
	ssp_bft_block z = long_next(a, slot);
	z.has_qc = true;
	z.qc.source = ref(&s[0]);
	z.qc.target = ref(&s[1]);
	memset(z.qc.bits, 0, sizeof z.qc.bits);
	z.qc.bits[0] = 0xf;
	assert_int_equal(ssp_bft_add_block(a, &z), SSP_ERR_BFT_QC);
	assert_int_equal(ssp_bft_add_block(b, &z), SSP_ERR_BFT_QC);
	printf("views: final differed after %u of 300 blocks; %u mutant QCs, the same verdict from "
	       "both (%u refused)\n",
	       differ_final, mutants, refused);
	assert_true(differ_final > 100); /* the views really differed */
	assert_true(mutants > 100);
	ssp_bft_free(a);
	ssp_bft_free(b);
}

/* ------------------------------------------------------------ set changes */

/* The secret behind a key of keys (0..N-1) or nkeys (N..2N-1). */
static ssp_pubkey nkeys[N];
static ssp_hash nsecrets[N], nonion[N];
/* test_reregister: keys[0]'s second onion, revealed under set entries with a round */
static ssp_hash rr_secret;
static bool rr_on;

static const ssp_hash *secret_of(const ssp_pubkey *k)
{
	for (int i = 0; i < N; i++) {
		if (!memcmp(k->b, keys[i].b, 32)) return &secrets[i];
		if (!memcmp(k->b, nkeys[i].b, 32)) return &nsecrets[i];
	}
	fail_msg("unknown key");
	return NULL;
}

/*
 * The slot's producer proposes on parent (the template's QC included), the
 * block is added, and with `votes` every member of its set votes for it.
 */
static ssp_bft_block grow(ssp_bft *m, const ssp_hash *parent, uint64_t slot, bool votes)
{
	ssp_bft_set st;
	uint32_t p;
	ssp_bft_block b;
	int rc = ssp_bft_slot_set(m, &st, &p, parent, slot);
	if (rc) fail_msg("slot %llu: %s", (unsigned long long)slot, ssp_strerror(rc));
	assert_int_equal(ssp_bft_propose(m, &b, p, parent, slot), 0);
	uint64_t r = slot / N, base = st.onion_round[p];
	const ssp_hash *sec = secret_of(&st.keys[p]);
	if (rr_on && base != UINT64_MAX && !memcmp(st.keys[p].b, keys[0].b, 32)) sec = &rr_secret;
	assert_int_equal(
	    ssp_bft_onion_element(&b.reveal, sec, K, base == UINT64_MAX ? r + 1 : r - base), 0);
	b.time_ms = G_MS + slot * SLOT_MS + 10;
	uint32_t c = ++id_counter;
	ssp_sha256(&b.id, &c, sizeof c);
	assert_int_equal(ssp_bft_add_block(m, &b), 0);
	for (uint32_t i = 0; votes && i < st.n; i++) {
		ssp_bft_vote v;
		assert_int_equal(ssp_bft_vote_for(m, &v, NULL, i, &b.id), 0);
		assert_int_equal(ssp_bft_add_vote(m, &v), 0);
	}
	return b;
}

static bool set_is(ssp_bft *m, const ssp_bft_block *b, const ssp_pubkey *ks)
{
	ssp_bft_set st;
	ssp_bft_ref r = ref(b);
	assert_int_equal(ssp_bft_block_set(m, &st, &r), 0);
	if (st.n != N) return false;
	for (uint32_t i = 0; i < N; i++)
		if (ssp_bft_set_index(&st, &ks[i]) == UINT32_MAX) return false;
	return true;
}

/*
 * Rounds of 4 slots. The first block of round 1 (slot 4) elects four new
 * keys registered in round 1. With votes, the branch's QCs make it final
 * before round 2, so round 2 is produced, voted and finalised by the new
 * keys; without votes (no QCs) the same election never applies and the
 * genesis set goes on. A round's first block waits (SSP_ERR_BFT_SET) until
 * the election it depends on is told; NULL keeps the set in force.
 */
static void test_set_change(void **state)
{
	(void)state;
	uint64_t nround[N];
	for (int i = 0; i < N; i++) {
		nkeys[i].type = SSP_KEY_ED25519;
		nkeys[i].len = 32;
		memset(nkeys[i].b, i + 11, 32);
		memset(nsecrets[i].b, 0x60 + i, 32);
		ssp_bft_onion_commit(&nonion[i], &nsecrets[i], K);
		nround[i] = 1;
	}
	ssp_bft_set ns = {.n = N, .keys = nkeys, .onion = nonion, .onion_round = nround};
	for (int voted = 1; voted >= 0; voted--) {
		ssp_bft_params p = P;
		p.elections = true;
		ssp_bft *m;
		assert_int_equal(ssp_bft_new(&m, &p), 0);
		ssp_bft_block b = genesis_block(m), f1 = b;
		for (uint64_t s = 1; s <= 7; s++) {
			b = grow(m, &b.id, s, voted);
			if (s == 4) f1 = b;
			if (s == 1) /* a block of round 0 does not begin a round it elects for */
				assert_int_equal(ssp_bft_set_elected(m, &b.id, &ns), SSP_ERR_INVAL);
		}
		ssp_bft_set st;
		uint32_t pr;
		assert_int_equal(ssp_bft_slot_set(m, &st, &pr, &b.id, 8),
		                 voted ? SSP_ERR_BFT_SET : 0);
		assert_int_equal(ssp_bft_set_elected(m, &f1.id, &ns), 0);
		assert_int_equal(ssp_bft_set_elected(m, &f1.id, NULL), 0); /* the first answer stays */
		ssp_bft_block r2 = grow(m, &b.id, 8, voted);
		assert_true(set_is(m, &r2, voted ? nkeys : keys));
		assert_true(set_is(m, &b, keys)); /* round 1 stays the genesis set's */
		/* a block of slot 8 by a key of the other set, or with its old onion, is refused */
		ssp_bft_block bad = r2;
		bad.id.b[0] ^= 0xff;
		bad.producer = (r2.producer + 1) % N;
		assert_int_equal(ssp_bft_add_block(m, &bad), SSP_ERR_BLOCK_PRODUCER);
		bad.producer = r2.producer;
		assert_int_equal(ssp_bft_onion_element(&bad.reveal, &secrets[0], K, 3), 0);
		assert_int_equal(ssp_bft_add_block(m, &bad), SSP_ERR_BFT_REVEAL);
		b = r2;
		for (uint64_t s = 9; s <= 11; s++)
			b = grow(m, &b.id, s, voted);
		/* round 3 waits for what slot 8 elected; NULL: the set in force stays */
		assert_int_equal(ssp_bft_slot_set(m, &st, &pr, &b.id, 12),
		                 voted ? SSP_ERR_BFT_SET : 0);
		assert_int_equal(ssp_bft_set_elected(m, &r2.id, NULL), 0);
		for (uint64_t s = 12; s <= 14; s++)
			b = grow(m, &b.id, s, voted);
		assert_true(set_is(m, &b, voted ? nkeys : keys));
		ssp_bft_ref f;
		ssp_bft_final(m, &f);
		if (voted) /* the new set's votes finalise its blocks */
			assert_true(f.height >= 12);
		else
			assert_int_equal(f.height, 0);
		ssp_bft_free(m);
	}
}

/*
 * A delegate that registers again (keys[0]: a new onion, counted from round
 * 1) goes on producing with its old onion while the set in force carries
 * its old entry (rounds 1 and 2: the election at slot 4 keeps the set; the
 * one at slot 8 carries the new entry, later ones none). From round 3 it reveals from the
 * new onion, as its set entry says (bftc's prepare does exactly that):
 * accepted, whether its last old block is above the final block (it
 * produces in round 3: the branch walk) or final (it misses round 3 and
 * comes back in round 4: the per-key table, from a round after its
 * registration). A reveal from the old onion under the new entry is refused.
 */
static void test_reregister(void **state)
{
	(void)state;
	ssp_hash on[N];
	uint64_t rd[N];
	memset(rr_secret.b, 0x77, 32);
	for (int i = 0; i < N; i++) {
		on[i] = onion[i];
		rd[i] = UINT64_MAX;
	}
	ssp_bft_onion_commit(&on[0], &rr_secret, K);
	rd[0] = 1;
	ssp_bft_set rs = {.n = N, .keys = keys, .onion = on, .onion_round = rd};
	for (int skip = 0; skip <= 1; skip++) {
		ssp_bft_params p = P;
		p.elections = true;
		ssp_bft *m;
		assert_int_equal(ssp_bft_new(&m, &p), 0);
		rr_on = true;
		ssp_bft_block b = genesis_block(m);
		uint64_t old_h = 0, first_new = 0;
		for (uint64_t s = 1; s <= 20; s++) {
			ssp_bft_set st;
			uint32_t pr;
			assert_int_equal(ssp_bft_slot_set(m, &st, &pr, &b.id, s), 0);
			bool k0 = !memcmp(st.keys[pr].b, keys[0].b, 32);
			if (skip && k0 && s >= 12 && s < 16)
				continue; /* it misses its round-3 slot */
			if (k0 && s >= 12 && !first_new) {
				first_new = s;
				ssp_bft_ref f;
				ssp_bft_final(m, &f);
				if (skip)
					assert_true(f.height >= old_h); /* its old block is final */
				else
					assert_true(f.height < old_h); /* above the final block */
			}
			uint64_t pslot = b.slot;
			b = grow(m, &b.id, s, true);
			const ssp_bft_set *e = s == 8 ? &rs : NULL;
			if (s / N != pslot / N) /* a round's first block elects: rs at slot 8 */
				assert_int_equal(ssp_bft_set_elected(m, &b.id, e), 0);
			if (k0 && s < 12) old_h = b.height;
			if (k0 &&
			    s >= 12) { /* the same slot revealing from the old onion: refused */
				ssp_bft_block bad = b;
				bad.id.b[0] ^= 0xff;
				assert_int_equal(
				    ssp_bft_onion_element(&bad.reveal, &secrets[0], K, s / N + 1),
				    0);
				assert_int_equal(ssp_bft_add_block(m, &bad), SSP_ERR_BFT_REVEAL);
			}
		}
		assert_true(old_h >= 8 && first_new >= (skip ? 16u : 12u));
		ssp_bft_ref f;
		ssp_bft_final(m, &f);
		assert_true(f.height >= 16);
		rr_on = false;
		ssp_bft_free(m);
	}
}

static void test_long_chain(void **state)
{
	(void)state;
	ssp_bft_params q;
	long_setup(&q);
	ssp_bft *m, *o;
	assert_int_equal(ssp_bft_new(&m, &q), 0);
	assert_int_equal(ssp_bft_new(&o, &q), 0);
	size_t held_max = 0;
	uint64_t t_m = 0, t_o = 0;
	for (uint64_t slot = 1; slot <= LONG_BLOCKS; slot++) {
		ssp_bft_block b = long_next(m, slot);
		uint64_t t0 = now_ns();
		assert_int_equal(ssp_bft_add_block(m, &b), 0);
		long_votes(m, &b);
		uint64_t t1 = now_ns();
		assert_int_equal(ssp_bft_add_block(o, &b), 0);
		uint64_t t2 = now_ns();
		t_m += t1 - t0;
		t_o += t2 - t1;
		if (ssp_bft_count(m) > held_max) held_max = ssp_bft_count(m);
		if (ssp_bft_count(o) > held_max) held_max = ssp_bft_count(o);
		if (slot % 1000 == 0) {
			ssp_bft_ref f;
			ssp_bft_final(m, &f);
			assert_true(f.height + 3 >= slot);
			ssp_bft_final(o, &f);
			assert_true(f.height + 4 >= slot);
		}
	}
	assert_true(held_max < 200); /* compaction: bounded by the blocks above the final one */
	print_message("long chain: %u blocks, held at most %zu; add_block+3 votes %.0f ns, "
	              "add_block (QC view) %.0f ns per block\n",
	              LONG_BLOCKS, held_max, (double)t_m / LONG_BLOCKS, (double)t_o / LONG_BLOCKS);
	ssp_bft_free(m);
	ssp_bft_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_vector),
	    cmocka_unit_test(test_seed),
	    cmocka_unit_test(test_onion),
	    cmocka_unit_test(test_quorum),
	    cmocka_unit_test(test_participation),
	    cmocka_unit_test(test_block_validity),
	    cmocka_unit_test(test_justify_finalize),
	    cmocka_unit_test(test_evidence),
	    cmocka_unit_test(test_watermark),
	    cmocka_unit_test(test_fork_choice),
	    cmocka_unit_test(test_propose),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_long_chain),
	    cmocka_unit_test(test_views_agree),
	    cmocka_unit_test(test_compact_same),
	    cmocka_unit_test(test_compact_evidence),
	    cmocka_unit_test(test_compact_full),
	    cmocka_unit_test(test_offbranch_vote),
	    cmocka_unit_test(test_set_change),
	    cmocka_unit_test(test_reregister),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
