/*
 * test_chain_merkle.c — Merkle roots and inclusion proofs (chain layer):
 * roots for 0..33 leaves against an independent recursive reference
 * (RFC 6962's split at the largest power of two, which is what carrying
 * the odd node up amounts to), proofs for every index, every kind of
 * tampering, and the duplicate-last-leaf attack (CVE-2012-2459).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/chain.h"

#define MAXN 33

static ssp_hash L[64]; /* L[i] = SHA-256("leaf" || i) */

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	for (int i = 0; i < 64; i++) {
		uint8_t m[5] = {'l', 'e', 'a', 'f', (uint8_t)i};
		ssp_sha256(&L[i], m, sizeof m);
	}
	return 0;
}

/* ---------------------------------------------------- reference (RFC 6962) */

static void ref_leaf(ssp_hash *out, const ssp_hash *h)
{
	uint8_t m[33];
	m[0] = 0;
	memcpy(m + 1, h->b, 32);
	ssp_sha256(out, m, sizeof m);
}

static void ref_node(ssp_hash *out, const ssp_hash *a, const ssp_hash *b)
{
	uint8_t m[65];
	m[0] = 1;
	memcpy(m + 1, a->b, 32);
	memcpy(m + 33, b->b, 32);
	ssp_sha256(out, m, sizeof m);
}

static void ref_root(ssp_hash *out, const ssp_hash *v, size_t n)
{
	if (n == 1) {
		ref_leaf(out, v);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	ssp_hash a, b;
	ref_root(&a, v, k);
	ref_root(&b, v + k, n - k);
	ref_node(out, &a, &b);
}

/* ------------------------------------------------------------------ roots */

static void test_empty_root(void **state)
{
	(void)state;
	ssp_hash r, zero = {{0}};
	memset(&r, 0xaa, sizeof r);
	ssp_merkle_root(&r, NULL, 0);
	assert_memory_equal(r.b, zero.b, 32);
	ssp_merkle_root(&r, L, 0);
	assert_memory_equal(r.b, zero.b, 32);
	ssp_merkle_proof pf;
	assert_int_equal(ssp_merkle_prove(&pf, L, 0, 0), SSP_ERR_RANGE);
}

static void test_roots_match_reference(void **state)
{
	(void)state;
	ssp_hash roots[MAXN + 1];
	for (size_t n = 1; n <= MAXN; n++) {
		ssp_hash want;
		ref_root(&want, L, n);
		ssp_merkle_root(&roots[n], L, n);
		assert_memory_equal(roots[n].b, want.b, 32);
	}
	/* spelled out by hand for the small shapes */
	ssp_hash l0, l1, l2, l3, l4, n01, n23, n0123, r;
	ref_leaf(&l0, &L[0]);
	ref_leaf(&l1, &L[1]);
	ref_leaf(&l2, &L[2]);
	ref_leaf(&l3, &L[3]);
	ref_leaf(&l4, &L[4]);
	assert_memory_equal(roots[1].b, l0.b, 32); /* one leaf: its leaf hash */
	ref_node(&n01, &l0, &l1);
	assert_memory_equal(roots[2].b, n01.b, 32);
	ref_node(&r, &n01, &l2); /* the odd third leaf is carried up, not doubled */
	assert_memory_equal(roots[3].b, r.b, 32);
	ref_node(&n23, &l2, &l3);
	ref_node(&n0123, &n01, &n23);
	assert_memory_equal(roots[4].b, n0123.b, 32);
	ref_node(&r, &n0123, &l4); /* five: the fifth carried up two levels */
	assert_memory_equal(roots[5].b, r.b, 32);
	/* every prefix of the list has its own root */
	for (size_t a = 1; a <= MAXN; a++)
		for (size_t b = a + 1; b <= MAXN; b++)
			assert_memory_not_equal(roots[a].b, roots[b].b, 32);
	/* order matters */
	ssp_hash sw[2] = {L[1], L[0]};
	ssp_merkle_root(&r, sw, 2);
	assert_memory_not_equal(r.b, roots[2].b, 32);
}

/* [a,b,c] and [a,b,c,c] (and every list with its last leaf doubled) differ. */
static void test_duplicate_last_leaf(void **state)
{
	(void)state;
	ssp_hash v[MAXN + 1];
	for (size_t n = 1; n <= MAXN; n++) {
		ssp_hash r1, r2;
		memcpy(v, L, n * sizeof *v);
		v[n] = v[n - 1];
		ssp_merkle_root(&r1, v, n);
		ssp_merkle_root(&r2, v, n + 1);
		assert_memory_not_equal(r1.b, r2.b, 32);
	}
	/* the exact case from the brief */
	ssp_hash abc[3] = {L[0], L[1], L[2]}, abcc[4] = {L[0], L[1], L[2], L[2]}, r3, r4;
	ssp_merkle_root(&r3, abc, 3);
	ssp_merkle_root(&r4, abcc, 4);
	assert_memory_not_equal(r3.b, r4.b, 32);
	/* inner nodes offered as leaves do not reproduce the root (leaf/node tags) */
	ssp_hash l[4], inner[2], r;
	for (int i = 0; i < 4; i++)
		ref_leaf(&l[i], &L[i]);
	ref_node(&inner[0], &l[0], &l[1]);
	ref_node(&inner[1], &l[2], &l[3]);
	ssp_merkle_root(&r4, L, 4);
	ssp_merkle_root(&r, inner, 2);
	assert_memory_not_equal(r.b, r4.b, 32);
	/* nor does the 64-byte concatenation of two leaf hashes read as one leaf */
	ssp_merkle_root(&r, l, 2);
	assert_memory_not_equal(r.b, r4.b, 32);
}

/* ----------------------------------------------------------------- proofs */

/* Path shape of (index, count): per level, 0 = no sibling, 1 = sibling right, 2 = left. */
static size_t shape(uint8_t out[64], size_t idx, size_t n)
{
	size_t k = 0;
	while (n > 1) {
		size_t sib = idx ^ 1;
		out[k++] = sib < n ? (idx & 1 ? 2 : 1) : 0;
		idx /= 2;
		n = (n + 1) / 2;
	}
	return k;
}

static int same_shape(size_t i, size_t n, size_t j, size_t m)
{
	uint8_t a[64], b[64];
	size_t ka = shape(a, i, n), kb = shape(b, j, m);
	/* levels without a sibling leave the hash unchanged: compare the sibling steps */
	uint8_t ca[64], cb[64];
	size_t x = 0, y = 0;
	for (size_t k = 0; k < ka; k++)
		if (a[k]) ca[x++] = a[k];
	for (size_t k = 0; k < kb; k++)
		if (b[k]) cb[y++] = b[k];
	return x == y && !memcmp(ca, cb, x);
}

static void test_proofs_every_index(void **state)
{
	(void)state;
	size_t coincidences = 0, count_checks = 0;
	for (size_t n = 1; n <= MAXN; n++) {
		ssp_hash root;
		ssp_merkle_root(&root, L, n);
		for (size_t i = 0; i < n; i++) {
			ssp_merkle_proof pf, bad;
			assert_int_equal(ssp_merkle_prove(&pf, L, n, i), 0);
			assert_int_equal(pf.index, i);
			assert_int_equal(pf.count, n);
			/* depth: one sibling per level where one exists */
			uint8_t sh[64];
			size_t levels = shape(sh, i, n), sibs = 0;
			for (size_t k = 0; k < levels; k++)
				sibs += sh[k] != 0;
			assert_int_equal(pf.depth, sibs);
			assert_int_equal(ssp_merkle_verify(&root, &L[i], &pf), 1);

			/* a wrong leaf */
			assert_int_equal(ssp_merkle_verify(&root, &L[(i + 1) % 64], &pf), 0);
			assert_int_equal(ssp_merkle_verify(&root, &L[40], &pf), 0);
			/* a wrong root */
			ssp_hash r2 = root;
			r2.b[31] ^= 1;
			assert_int_equal(ssp_merkle_verify(&r2, &L[i], &pf), 0);
			/* every other index of the same tree */
			for (size_t j = 0; j < n; j++) {
				if (j == i) continue;
				bad = pf;
				bad.index = (uint32_t)j;
				assert_int_equal(ssp_merkle_verify(&root, &L[i], &bad), 0);
			}
			/* an index out of range */
			bad = pf;
			bad.index = (uint32_t)n;
			assert_int_equal(ssp_merkle_verify(&root, &L[i], &bad), 0);
			/* each sibling, one bit flipped */
			for (uint32_t k = 0; k < pf.depth; k++) {
				bad = pf;
				bad.siblings[k].b[k % 32] ^= 0x10;
				assert_int_equal(ssp_merkle_verify(&root, &L[i], &bad), 0);
			}
			/* a sibling too many or too few */
			if (pf.depth < SSP_MERKLE_MAX_DEPTH) {
				bad = pf;
				bad.depth++;
				assert_int_equal(ssp_merkle_verify(&root, &L[i], &bad), 0);
			}
			if (pf.depth > 0) {
				bad = pf;
				bad.depth--;
				assert_int_equal(ssp_merkle_verify(&root, &L[i], &bad), 0);
			}
			bad = pf;
			bad.depth = SSP_MERKLE_MAX_DEPTH + 1;
			assert_int_equal(ssp_merkle_verify(&root, &L[i], &bad), 0);
			/* another count: fails whenever the path it implies differs */
			bad = pf;
			bad.count = 0;
			assert_int_equal(ssp_merkle_verify(&root, &L[i], &bad), 0);
			for (size_t m = 1; m <= 2 * MAXN; m++) {
				if (m == n) continue;
				bad = pf;
				bad.count = (uint32_t)m;
				int ok = ssp_merkle_verify(&root, &L[i], &bad);
				if (i < m && same_shape(i, n, i, m)) {
					/* the root does not commit to the count (see the test
					 * below) */
					assert_int_equal(ok, 1);
					coincidences++;
				} else {
					assert_int_equal(ok, 0);
					count_checks++;
				}
			}
		}
	}
	/* both kinds were exercised, in numbers fixed by the tree shape */
	assert_int_equal(count_checks, 30513);
	assert_int_equal(coincidences, 5952);
}

/*
 * A documented limit: like RFC 6962, the root commits to the leaves, not to
 * their count, so (index, count) is only as trustworthy as the count the
 * verifier takes from elsewhere. Inclusion itself is never forgeable.
 */
static void test_count_not_committed(void **state)
{
	(void)state;
	ssp_hash root;
	ssp_merkle_proof pf;
	/* index 0 of 5 leaves hashes up exactly like index 0 of 6 */
	ssp_merkle_root(&root, L, 5);
	assert_int_equal(ssp_merkle_prove(&pf, L, 5, 0), 0);
	assert_int_equal(pf.depth, 3);
	pf.count = 6;
	assert_int_equal(ssp_merkle_verify(&root, &L[0], &pf), 1);
	/* index 2 of 3 (carried up, one left sibling) looks like index 1 of 2 */
	ssp_merkle_root(&root, L, 3);
	assert_int_equal(ssp_merkle_prove(&pf, L, 3, 2), 0);
	assert_int_equal(pf.depth, 1);
	pf.index = 1;
	pf.count = 2;
	assert_int_equal(ssp_merkle_verify(&root, &L[2], &pf), 1);
	/* but the leaf still has to be the one in the tree */
	assert_int_equal(ssp_merkle_verify(&root, &L[1], &pf), 0);
}

/* The carried odd node: in 3, 5, 7 leaves the last leaf has fewer siblings. */
static void test_carried_odd_node(void **state)
{
	(void)state;
	ssp_merkle_proof pf;
	ssp_hash root, l2, l4, l6, n45, want;
	/* n = 3, index 2: no sibling at the bottom, (l0l1) on the left above */
	assert_int_equal(ssp_merkle_prove(&pf, L, 3, 2), 0);
	assert_int_equal(pf.depth, 1);
	ssp_hash l0, l1, n01;
	ref_leaf(&l0, &L[0]);
	ref_leaf(&l1, &L[1]);
	ref_node(&n01, &l0, &l1);
	assert_memory_equal(pf.siblings[0].b, n01.b, 32);
	ref_leaf(&l2, &L[2]);
	ref_node(&want, &n01, &l2);
	ssp_merkle_root(&root, L, 3);
	assert_memory_equal(root.b, want.b, 32);
	assert_int_equal(ssp_merkle_verify(&root, &L[2], &pf), 1);
	/* n = 5, index 4: carried twice, one sibling (the first four) */
	assert_int_equal(ssp_merkle_prove(&pf, L, 5, 4), 0);
	assert_int_equal(pf.depth, 1);
	ssp_merkle_root(&root, L, 5);
	assert_int_equal(ssp_merkle_verify(&root, &L[4], &pf), 1);
	/* n = 7, index 6: sibling (l4l5) one level up, then the first four */
	assert_int_equal(ssp_merkle_prove(&pf, L, 7, 6), 0);
	assert_int_equal(pf.depth, 2);
	ref_leaf(&l4, &L[4]);
	ssp_hash l5;
	ref_leaf(&l5, &L[5]);
	ref_node(&n45, &l4, &l5);
	assert_memory_equal(pf.siblings[0].b, n45.b, 32);
	ref_leaf(&l6, &L[6]);
	ssp_merkle_root(&root, L, 7);
	assert_int_equal(ssp_merkle_verify(&root, &L[6], &pf), 1);
	/* a doubled last node would have needed l6 itself as a sibling: not accepted */
	ssp_merkle_proof dbl = pf;
	dbl.depth = 3;
	dbl.siblings[2] = dbl.siblings[1];
	dbl.siblings[1] = dbl.siblings[0];
	dbl.siblings[0] = L[6];
	assert_int_equal(ssp_merkle_verify(&root, &L[6], &dbl), 0);
}

static void test_prove_range_and_large(void **state)
{
	(void)state;
	ssp_merkle_proof pf;
	assert_int_equal(ssp_merkle_prove(&pf, L, 5, 5), SSP_ERR_RANGE);
	assert_int_equal(ssp_merkle_prove(&pf, L, 5, 1000), SSP_ERR_RANGE);
	/* a larger tree: 1025 leaves needs 11 levels; check a spread of indices */
	size_t n = 1025;
	ssp_hash *v = malloc(n * sizeof *v), root, want;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		uint8_t m[8];
		ssp_le64_put(m, i);
		ssp_sha256(&v[i], m, 8);
	}
	ssp_merkle_root(&root, v, n);
	ref_root(&want, v, n);
	assert_memory_equal(root.b, want.b, 32);
	const size_t idx[] = {0, 1, 511, 512, 1000, 1023, 1024};
	for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
		assert_int_equal(ssp_merkle_prove(&pf, v, n, idx[k]), 0);
		assert_int_equal(ssp_merkle_verify(&root, &v[idx[k]], &pf), 1);
		assert_int_equal(ssp_merkle_verify(&root, &v[(idx[k] + 1) % n], &pf), 0);
	}
	/* the last leaf of 1025 is carried up ten times: a single sibling */
	assert_int_equal(ssp_merkle_prove(&pf, v, n, 1024), 0);
	assert_int_equal(pf.depth, 1);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_root),
	    cmocka_unit_test(test_roots_match_reference),
	    cmocka_unit_test(test_duplicate_last_leaf),
	    cmocka_unit_test(test_proofs_every_index),
	    cmocka_unit_test(test_count_not_committed),
	    cmocka_unit_test(test_carried_odd_node),
	    cmocka_unit_test(test_prove_range_and_large),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
