/*
 * test_chain_smt.c — the state tree (src/chain/smt.c) and the state-proof
 * verifier (src/core/stateproof.c): random states and batches of puts and
 * deletes against an independent reference written here (the root recomputed
 * from every leaf with plain SHA-256 and the documented rules), membership
 * and non-membership proofs for every key, each kind of tampered proof
 * rejected, and a batch followed by its reverse restores the table byte for
 * byte (what popping a block relies on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain/smt_internal.h"
#include "chain_fixture.h"
#include "ssp/stateproof.h"
#include "ssp/store.h"

/* ---------------------------------------------------------- the reference */

typedef struct {
	uint8_t key[8];
	uint32_t val; /* 0 = absent */
} ref_kv;

#define NKEYS 600

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void ref_sha(uint8_t out[32], uint8_t tag, const uint8_t *a, const uint8_t *b)
{
	const void *parts[3] = {&tag, a, b};
	size_t lens[3] = {1, 32, 32};
	ssp_sha256v((ssp_hash *)out, parts, lens, 3);
}

typedef struct {
	uint8_t path[32], leaf[32];
} ref_leaf;

static int ref_cmp(const void *a, const void *b)
{
	return memcmp(((const ref_leaf *)a)->path, ((const ref_leaf *)b)->path, 32);
}

static int bit(const uint8_t *p, unsigned i)
{
	return (p[i / 8] >> (7 - i % 8)) & 1;
}

/* The compacted tree by its definition: empty = 0, one entry = its leaf, else node(l, r). */
static void ref_hash(uint8_t out[32], const ref_leaf *v, size_t n, unsigned d)
{
	if (n == 0) {
		memset(out, 0, 32);
		return;
	}
	if (n == 1) {
		memcpy(out, v[0].leaf, 32);
		return;
	}
	size_t m = 0;
	while (m < n && !bit(v[m].path, d))
		m++;
	uint8_t l[32], r[32];
	ref_hash(l, v, m, d + 1);
	ref_hash(r, v + m, n - m, d + 1);
	ref_sha(out, 1, l, r);
}

static void val_bytes(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t)v;
	out[1] = (uint8_t)(v >> 8);
	out[2] = (uint8_t)(v >> 16);
	out[3] = (uint8_t)(v >> 24);
}

static void ref_root(ssp_hash *root, const ref_kv *kv, size_t n)
{
	ref_leaf *v = malloc((n + 1) * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!kv[i].val) continue;
		uint8_t vb[4], vh[32];
		ssp_sha256((ssp_hash *)v[k].path, kv[i].key, 8);
		val_bytes(vb, kv[i].val);
		ssp_sha256((ssp_hash *)vh, vb, 4);
		ref_sha(v[k].leaf, 0, v[k].path, vh);
		k++;
	}
	qsort(v, k, sizeof *v, ref_cmp);
	ref_hash(root->b, v, k, 0);
	free(v);
}

/* ---------------------------------------------------------------- helpers */

typedef struct {
	char dir[64];
	ssp_store *s;
	ssp_table tb;
} tstore;

static void ts_open(tstore *t)
{
	ssp_store_opts o = {.map_size = 64u << 20, .no_sync = true};
	fx_tmpdir(t->dir);
	assert_int_equal(ssp_store_open(&t->s, t->dir, &o), 0);
	assert_int_equal(ssp_store_table(t->s, "smt", &t->tb), 0);
}

static void ts_close(tstore *t)
{
	ssp_store_close(t->s);
}

/* Applies the changes kv[i].val -> nv[i] for the selected indexes in one batch. */
static void apply(tstore *t, ref_kv *kv, const size_t *idx, const uint32_t *nv, size_t n,
                  ssp_hash *root)
{
	smt_item *it = calloc(n ? n : 1, sizeof *it);
	ssp_txn *w;
	for (size_t i = 0; i < n; i++) {
		ssp_smt_path(&it[i].path, kv[idx[i]].key, 8);
		it[i].del = nv[i] == 0;
		if (nv[i]) {
			uint8_t vb[4];
			val_bytes(vb, nv[i]);
			ssp_smt_value_hash(&it[i].vhash, vb, 4);
		}
		kv[idx[i]].val = nv[i];
	}
	assert_int_equal(ssp_store_write(t->s, &w), 0);
	assert_int_equal(ssp_smt_update(w, t->tb, it, n, root, NULL), 0);
	assert_int_equal(ssp_txn_commit(w), 0);
	free(it);
}

static int dump_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	ssp_buf *b = arg;
	ssp_buf_bytes(b, k, kl);
	ssp_buf_bytes(b, v, vl);
	return 0;
}

static void dump(tstore *t, ssp_buf *b)
{
	ssp_txn *r;
	ssp_buf_init(b, 64u << 20);
	assert_int_equal(ssp_store_read(t->s, &r), 0);
	assert_int_equal(ssp_txn_scan(r, t->tb, NULL, 0, dump_visit, b), 0);
	ssp_txn_end(r);
	assert_int_equal(b->err, 0);
}

static void prove_n(tstore *t, const uint8_t *key, size_t kl, ssp_buf *out, ssp_hash *root)
{
	ssp_txn *r;
	ssp_sproof p;
	ssp_hash path;
	ssp_smt_path(&path, key, kl);
	assert_int_equal(ssp_store_read(t->s, &r), 0);
	assert_int_equal(ssp_smt_prove(r, t->tb, &path, &p), 0);
	if (root) assert_int_equal(ssp_smt_root(r, t->tb, root), 0);
	ssp_txn_end(r);
	ssp_buf_init(out, SSP_SPROOF_MAX_BYTES);
	ssp_sproof_encode(out, &p);
	assert_int_equal(out->err, 0);
}

static void prove(tstore *t, const uint8_t key[8], ssp_buf *out, ssp_hash *root)
{
	prove_n(t, key, 8, out, root);
}

static void check_all_proofs(tstore *t, const ref_kv *kv, size_t n, const ssp_hash *root)
{
	for (size_t i = 0; i < n; i++) {
		ssp_buf p;
		uint8_t vb[4];
		prove(t, kv[i].key, &p, NULL);
		val_bytes(vb, kv[i].val);
		if (kv[i].val) {
			assert_int_equal(ssp_sproof_check(root, kv[i].key, 8, vb, 4, p.data, p.len), 0);
			assert_int_equal(ssp_sproof_check(root, kv[i].key, 8, NULL, 0, p.data, p.len),
			                 SSP_ERR_PROOF);
			val_bytes(vb, kv[i].val + 1);
			assert_int_equal(ssp_sproof_check(root, kv[i].key, 8, vb, 4, p.data, p.len),
			                 SSP_ERR_PROOF);
		} else {
			assert_int_equal(ssp_sproof_check(root, kv[i].key, 8, NULL, 0, p.data, p.len), 0);
			assert_int_equal(ssp_sproof_check(root, kv[i].key, 8, vb, 4, p.data, p.len),
			                 SSP_ERR_PROOF);
		}
		ssp_buf_free(&p);
	}
}

/* ------------------------------------------------------------------ tests */

static void test_random_batches(void **state)
{
	(void)state;
	tstore t;
	ref_kv *kv = calloc(NKEYS, sizeof *kv);
	size_t idx[NKEYS];
	uint32_t nv[NKEYS];
	ssp_hash root, want, stored;
	ts_open(&t);
	for (size_t i = 0; i < NKEYS; i++) {
		ssp_le64_put(kv[i].key, rnd());
		if (i % 7 == 0) kv[i].key[0] = 0x42; /* (paths are hashed: key prefixes do not matter) */
	}
	/* the empty tree */
	ref_root(&want, kv, NKEYS);
	assert_true(ssp_hash_is_zero(&want));
	for (int round = 0; round < 40; round++) {
		/* a batch: a random subset, each key set, changed or deleted */
		size_t n = 0, size = round < 5 ? (size_t)1 << round : 1 + rnd() % (NKEYS / 2);
		bool used[NKEYS] = {0};
		for (size_t j = 0; j < size; j++) {
			size_t i = rnd() % NKEYS;
			if (used[i]) continue;
			used[i] = true;
			idx[n] = i;
			nv[n++] = rnd() % 4 == 0 ? 0 : (uint32_t)(rnd() % 1000000) + 1;
		}
		apply(&t, kv, idx, nv, n, &root);
		ref_root(&want, kv, NKEYS);
		assert_memory_equal(root.b, want.b, 32);
		ssp_buf p;
		prove(&t, kv[0].key, &p, &stored);
		ssp_buf_free(&p);
		assert_memory_equal(stored.b, want.b, 32);
		if (round % 8 == 7) check_all_proofs(&t, kv, NKEYS, &root);
	}
	check_all_proofs(&t, kv, NKEYS, &root);
	/* delete everything: nothing stays in the table */
	size_t n = 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (kv[i].val) {
			idx[n] = i;
			nv[n++] = 0;
		}
	apply(&t, kv, idx, nv, n, &root);
	assert_true(ssp_hash_is_zero(&root));
	ssp_buf d;
	dump(&t, &d);
	assert_int_equal(d.len, 0);
	ssp_buf_free(&d);
	ts_close(&t);
	free(kv);
}

/* One key at a time, and single-key trees: the leaf moves up and down. */
static void test_small_trees(void **state)
{
	(void)state;
	tstore t;
	ref_kv kv[5] = {0};
	ssp_hash root, want;
	ts_open(&t);
	for (size_t i = 0; i < 5; i++)
		ssp_le64_put(kv[i].key, i * 977);
	uint32_t seq[][5] = {{1, 0, 0, 0, 0}, {1, 2, 0, 0, 0}, {0, 2, 0, 0, 0}, {0, 2, 3, 4, 5},
	                     {9, 0, 0, 0, 5}, {0, 0, 0, 0, 5}, {0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}};
	for (size_t s = 0; s < sizeof seq / sizeof seq[0]; s++) {
		size_t idx[5];
		uint32_t nv[5];
		size_t n = 0;
		for (size_t i = 0; i < 5; i++)
			if (kv[i].val != seq[s][i]) {
				idx[n] = i;
				nv[n++] = seq[s][i];
			}
		apply(&t, kv, idx, nv, n, &root);
		ref_root(&want, kv, 5);
		assert_memory_equal(root.b, want.b, 32);
		check_all_proofs(&t, kv, 5, &root);
	}
	ts_close(&t);
}

/* A batch and its reverse give the same table, byte for byte. */
static void test_reverse_restores(void **state)
{
	(void)state;
	tstore t;
	ref_kv *kv = calloc(NKEYS, sizeof *kv);
	size_t idx[NKEYS];
	uint32_t nv[NKEYS], old[NKEYS];
	ssp_hash r0, r1, r2;
	ts_open(&t);
	for (size_t i = 0; i < NKEYS; i++) {
		ssp_le64_put(kv[i].key, rnd());
		idx[i] = i;
		nv[i] = i % 3 ? (uint32_t)i + 1 : 0;
	}
	apply(&t, kv, idx, nv, NKEYS, &r0);
	ssp_buf before, after;
	dump(&t, &before);
	for (int round = 0; round < 10; round++) {
		size_t n = 0;
		bool used[NKEYS] = {0};
		for (size_t j = 0; j < 50; j++) {
			size_t i = rnd() % NKEYS;
			if (used[i]) continue;
			used[i] = true;
			idx[n] = i;
			old[n] = kv[i].val;
			nv[n++] = rnd() % 3 == 0 ? 0 : (uint32_t)rnd() | 1;
		}
		apply(&t, kv, idx, nv, n, &r1);
		apply(&t, kv, idx, old, n, &r2);
		assert_memory_equal(r0.b, r2.b, 32);
		dump(&t, &after);
		assert_int_equal(before.len, after.len);
		assert_memory_equal(before.data, after.data, before.len);
		ssp_buf_free(&after);
	}
	ssp_buf_free(&before);
	ts_close(&t);
	free(kv);
}

/* Root over crafted items (paths given, not hashed) by the reference. */
static void ref_root_items(ssp_hash *root, const smt_item *it, size_t n)
{
	ref_leaf *v = malloc((n + 1) * sizeof *v);
	for (size_t i = 0; i < n; i++) {
		memcpy(v[i].path, it[i].path.b, 32);
		ref_sha(v[i].leaf, 0, it[i].path.b, it[i].vhash.b);
	}
	qsort(v, n, sizeof *v, ref_cmp);
	ref_hash(root->b, v, n, 0);
	free(v);
}

static void update_items(tstore *t, const smt_item *in, size_t n, ssp_hash *root)
{
	smt_item *it = malloc((n ? n : 1) * sizeof *it);
	ssp_txn *w;
	memcpy(it, in, n * sizeof *it);
	assert_int_equal(ssp_store_write(t->s, &w), 0);
	assert_int_equal(ssp_smt_update(w, t->tb, it, n, root, NULL), 0);
	assert_int_equal(ssp_txn_commit(w), 0);
	free(it);
}

/*
 * Paths sharing 255, 200 and 100 bits (crafted, as no key search could):
 * leaves at depth 256, long chains of single-child branches, and a delete
 * that collapses such a chain — the table must equal a fresh build of the
 * same entries, record for record.
 */
static void test_deep_paths(void **state)
{
	(void)state;
	smt_item it[5];
	ssp_hash root, want;
	memset(it, 0, sizeof it);
	for (int i = 0; i < 5; i++) {
		memset(it[i].path.b, 0x5a, 32);
		memset(it[i].vhash.b, i + 1, 32);
	}
	it[1].path.b[31] ^= 0x01; /* shares 255 bits with it[0] */
	it[2].path.b[25] ^= 0x80; /* shares 200 bits */
	it[3].path.b[12] ^= 0x08; /* shares 100 bits */
	it[4].path.b[0] ^= 0x80;  /* shares none */
	tstore t, fresh;
	ts_open(&t);
	update_items(&t, it, 5, &root);
	ref_root_items(&want, it, 5);
	assert_memory_equal(root.b, want.b, 32);
	/* delete the depth-256 pair's one half: the other moves up to depth 201 */
	smt_item del = it[1];
	del.del = true;
	update_items(&t, &del, 1, &root);
	smt_item left[4] = {it[0], it[2], it[3], it[4]};
	ref_root_items(&want, left, 4);
	assert_memory_equal(root.b, want.b, 32);
	ts_open(&fresh);
	update_items(&fresh, left, 4, &want);
	assert_memory_equal(root.b, want.b, 32);
	ssp_buf a, b;
	dump(&t, &a);
	dump(&fresh, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	ssp_buf_free(&a);
	ssp_buf_free(&b);
	/* and back: the same table as the first build */
	update_items(&t, &it[1], 1, &root);
	ref_root_items(&want, it, 5);
	assert_memory_equal(root.b, want.b, 32);
	/* everything deleted in one batch */
	for (int i = 0; i < 5; i++)
		it[i].del = true;
	update_items(&t, it, 5, &root);
	assert_true(ssp_hash_is_zero(&root));
	dump(&t, &a);
	assert_int_equal(a.len, 0);
	ssp_buf_free(&a);
	ts_close(&t);
	ts_close(&fresh);
}

/* Every kind of damage to a proof is rejected. */
static void test_tampered_proofs(void **state)
{
	(void)state;
	tstore t;
	ref_kv *kv = calloc(200, sizeof *kv);
	size_t idx[200];
	uint32_t nv[200];
	ssp_hash root, other;
	ts_open(&t);
	for (size_t i = 0; i < 200; i++) {
		ssp_le64_put(kv[i].key, rnd());
		idx[i] = i;
		nv[i] = i < 150 ? (uint32_t)i + 1 : 0; /* 50 absent keys */
	}
	apply(&t, kv, idx, nv, 200, &root);
	other = root;
	other.b[5] ^= 1;
	int kinds[3] = {0};
	for (size_t i = 0; i < 200; i++) {
		ssp_buf p;
		ssp_sproof d;
		uint8_t vb[4], *q;
		const uint8_t *value = kv[i].val ? vb : NULL;
		val_bytes(vb, kv[i].val);
		prove(&t, kv[i].key, &p, NULL);
		assert_int_equal(ssp_sproof_decode(&d, p.data, p.len), 0);
		kinds[d.kind]++;
		assert_true(d.depth >= 1 && d.depth < 40); /* about log2(150) */
		assert_int_equal(ssp_sproof_check(&root, kv[i].key, 8, value, 4, p.data, p.len), 0);
		/* another root */
		assert_int_equal(ssp_sproof_check(&other, kv[i].key, 8, value, 4, p.data, p.len),
		                 SSP_ERR_PROOF);
		/* another key (this proof is not its proof) */
		assert_int_equal(
		    ssp_sproof_check(&root, kv[(i + 1) % 200].key, 8, value, 4, p.data, p.len),
		    SSP_ERR_PROOF);
		/* truncated at every length, padded */
		for (size_t n = 0; n < p.len; n++)
			assert_int_equal(ssp_sproof_check(&root, kv[i].key, 8, value, 4, p.data, n),
			                 SSP_ERR_PROOF);
		q = malloc(p.len + 1);
		memcpy(q, p.data, p.len);
		q[p.len] = 0;
		assert_int_equal(ssp_sproof_check(&root, kv[i].key, 8, value, 4, q, p.len + 1),
		                 SSP_ERR_PROOF);
		/* every single bit flipped */
		for (size_t n = 0; n < p.len * 8; n += (i < 20 ? 1 : 7)) {
			q[n / 8] ^= (uint8_t)(1u << (n % 8));
			assert_int_equal(ssp_sproof_check(&root, kv[i].key, 8, value, 4, q, p.len),
			                 SSP_ERR_PROOF);
			q[n / 8] ^= (uint8_t)(1u << (n % 8));
		}
		free(q);
		/* reordered siblings: swap two non-empty ones */
		ssp_sproof e = d;
		int a = -1, b = -1;
		for (int j = 0; j < d.depth; j++)
			if (!ssp_hash_is_zero(&d.siblings[j])) {
				if (a < 0)
					a = j;
				else if (b < 0 && memcmp(d.siblings[j].b, d.siblings[a].b, 32))
					b = j;
			}
		if (b >= 0) {
			ssp_buf x;
			e.siblings[a] = d.siblings[b];
			e.siblings[b] = d.siblings[a];
			ssp_buf_init(&x, SSP_SPROOF_MAX_BYTES);
			ssp_sproof_encode(&x, &e);
			assert_int_equal(ssp_sproof_check(&root, kv[i].key, 8, value, 4, x.data, x.len),
			                 SSP_ERR_PROOF);
			ssp_buf_free(&x);
		}
		/* wrong depth: one level fewer, one more (an empty or a copied sibling) */
		for (int delta = -1; delta <= 1; delta += 2) {
			for (int fill = 0; fill < 2; fill++) {
				ssp_buf x;
				e = d;
				if (delta < 0 && d.depth == 0) continue;
				e.depth = (uint16_t)(d.depth + delta);
				if (delta > 0) {
					if (fill)
						e.siblings[d.depth] = d.siblings[0];
					else
						memset(&e.siblings[d.depth], 0, 32);
				}
				ssp_buf_init(&x, SSP_SPROOF_MAX_BYTES);
				ssp_sproof_encode(&x, &e);
				assert_int_equal(
				    ssp_sproof_check(&root, kv[i].key, 8, value, 4, x.data, x.len),
				    SSP_ERR_PROOF);
				ssp_buf_free(&x);
			}
		}
		/* a present key's proof passed off as absence and vice versa */
		if (d.kind == SSP_SPROOF_PRESENT) {
			ssp_buf x;
			e = d;
			e.kind = SSP_SPROOF_EMPTY;
			ssp_buf_init(&x, SSP_SPROOF_MAX_BYTES);
			ssp_sproof_encode(&x, &e);
			assert_int_equal(ssp_sproof_check(&root, kv[i].key, 8, NULL, 0, x.data, x.len),
			                 SSP_ERR_PROOF);
			ssp_buf_free(&x);
		}
		ssp_buf_free(&p);
	}
	assert_true(kinds[SSP_SPROOF_PRESENT] == 150);
	assert_true(kinds[SSP_SPROOF_EMPTY] + kinds[SSP_SPROOF_OTHER] == 50);
	ts_close(&t);
	free(kv);
}

/* The decoder's strictness on hand-made bytes. */
static void test_decode_strict(void **state)
{
	(void)state;
	ssp_sproof d;
	uint8_t b[3 + 1 + 32 + 32];
	/* empty tree: kind 1, depth 0 */
	uint8_t e[3] = {1, 0, 0};
	assert_int_equal(ssp_sproof_decode(&d, e, 3), 0);
	ssp_hash zero = {{0}};
	bool present = true;
	assert_int_equal(ssp_sproof_verify(&present, NULL, &zero, "k", 1, e, 3), 0);
	assert_false(present);
	e[0] = 3; /* unknown kind */
	assert_int_equal(ssp_sproof_decode(&d, e, 3), SSP_ERR_DECODE);
	uint8_t deep[3] = {1, 0x01, 0x01}; /* depth 257 */
	assert_int_equal(ssp_sproof_decode(&d, deep, 3), SSP_ERR_DECODE);
	/* depth 3, bitmap with bit 5 set: past the depth */
	memset(b, 0, sizeof b);
	b[0] = 0;
	b[1] = 3;
	b[3] = 0x20;
	assert_int_equal(ssp_sproof_decode(&d, b, 4 + 32), SSP_ERR_NONCANON);
	/* a listed sibling of zeros */
	b[3] = 0x01;
	assert_int_equal(ssp_sproof_decode(&d, b, 4 + 32 + 32), SSP_ERR_NONCANON);
	b[4] = 1;
	assert_int_equal(ssp_sproof_decode(&d, b, 4 + 32 + 32), 0);
	assert_int_equal(ssp_sproof_decode(&d, b, 4 + 32 + 31), SSP_ERR_TRUNCATED);
}

/*
 * tests/vectors/smt_kat.json: fixed sets of state keys and values, the root
 * of each and the proof bytes of every key and of two absent ones — what a
 * second implementation (a device SDK) checks itself against; re-derived
 * independently by tests/tools/smt_kat_check.py. SSP_SMT_KAT_WRITE=1 rewrites
 * the file (only for an intended change of the rules; review the diff).
 */
#define KAT_PATH "tests/vectors/smt_kat.json"

static json_t *jhex(const void *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	ssp_hex_encode(s, p, n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static json_t *kat_doc(void)
{
	static const size_t sizes[] = {0, 1, 2, 3, 5, 16, 40};
	json_t *sets = json_array();
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		size_t n = sizes[si];
		tstore t;
		ssp_txn *w;
		ssp_hash root;
		ts_open(&t);
		smt_item *it = calloc(n + 1, sizeof *it);
		json_t *entries = json_array(), *proofs = json_array();
		uint8_t keys[42][21], vals[42][12];
		size_t vlen[42];
		for (size_t i = 0; i < n + 2; i++) {
			/* account-like keys: 0x01 ‖ 20 bytes; values of varying length */
			uint8_t seed[9] = {'k', 0, 0, 0, 0, 0, 0, (uint8_t)si, (uint8_t)i};
			ssp_hash h;
			ssp_sha256(&h, seed, sizeof seed);
			keys[i][0] = 1;
			memcpy(keys[i] + 1, h.b, 20);
			vlen[i] = 1 + i % 12;
			for (size_t j = 0; j < vlen[i]; j++)
				vals[i][j] = (uint8_t)(i * 7 + j);
		}
		for (size_t i = 0; i < n; i++) {
			ssp_smt_path(&it[i].path, keys[i], 21);
			ssp_smt_value_hash(&it[i].vhash, vals[i], vlen[i]);
			json_array_append_new(entries, json_pack("{s:o, s:o}", "key", jhex(keys[i], 21),
			                                         "value", jhex(vals[i], vlen[i])));
		}
		assert_int_equal(ssp_store_write(t.s, &w), 0);
		assert_int_equal(ssp_smt_update(w, t.tb, it, n, &root, NULL), 0);
		assert_int_equal(ssp_txn_commit(w), 0);
		for (size_t i = 0; i < n + 2; i++) { /* the last two keys are absent */
			ssp_buf p;
			prove_n(&t, keys[i], 21, &p, NULL);
			/* the vector is only as good as the verifier's verdict on it */
			assert_int_equal(ssp_sproof_check(&root, keys[i], 21, i < n ? vals[i] : NULL,
			                                  vlen[i], p.data, p.len),
			                 0);
			json_array_append_new(
			    proofs, json_pack("{s:o, s:b, s:o}", "key", jhex(keys[i], 21), "present",
			                      i < n, "proof", jhex(p.data, p.len)));
			ssp_buf_free(&p);
		}
		json_array_append_new(sets, json_pack("{s:o, s:o, s:o}", "entries", entries, "root",
		                                      jhex(root.b, 32), "proofs", proofs));
		free(it);
		ts_close(&t);
	}
	return json_pack("{s:i, s:s, s:o}", "version", 1, "rules",
	                 "docs/internals/state.md: path=SHA-256(key), leaf=SHA-256(0x00||path||"
	                 "SHA-256(value)), node=SHA-256(0x01||left||right), empty=32 zero bytes",
	                 "sets", sets);
}

static void test_kat(void **state)
{
	(void)state;
	json_t *doc = kat_doc();
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (getenv("SSP_SMT_KAT_WRITE") && !strcmp(getenv("SSP_SMT_KAT_WRITE"), "1")) {
		FILE *f = fopen(KAT_PATH, "w");
		assert_non_null(f);
		fprintf(f, "%s\n", text);
		fclose(f);
	}
	FILE *f = fopen(KAT_PATH, "r");
	if (!f) fail_msg("cannot open %s (run from the repository root)", KAT_PATH);
	char *have = calloc(1, 4 << 20);
	size_t n = fread(have, 1, (4 << 20) - 1, f);
	fclose(f);
	if (n == 0 || have[n - 1] != '\n' || strlen(text) != n - 1 || memcmp(have, text, n - 1)) {
		fprintf(stderr, "%s differs from what the tree makes now:\n%s\n", KAT_PATH, text);
		fail_msg("state-tree vectors changed (SSP_SMT_KAT_WRITE=1 to regenerate)");
	}
	free(have);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_batches), cmocka_unit_test(test_small_trees),
	    cmocka_unit_test(test_reverse_restores), cmocka_unit_test(test_tampered_proofs),
	    cmocka_unit_test(test_decode_strict), cmocka_unit_test(test_kat),
	    cmocka_unit_test(test_deep_paths)};
		return cmocka_run_group_tests(tests, NULL, NULL);
}
