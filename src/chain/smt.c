/*
 * smt.c — the sparse Merkle tree of the state, in LMDB (chain layer). Its
 * root is the header's state_root; the hashing rules are core's
 * (ssp/stateproof.h), so what a light client verifies is what is built here.
 *
 * Layout (docs/internals/state.md): one record per non-empty position of the
 * compacted tree, keyed by the position — the path's first ⌈d/8⌉ bytes with
 * the bits past depth d cleared, then u8 (d mod 256); the length tells d = 0
 * from d = 256. A branch (two or more entries below) is
 * `0x00 ‖ u8 flags ‖ left[32] ‖ right[32]` (flags: bit 0 the left child is a
 * leaf, bit 1 the right one); a leaf is `0x01 ‖ path[32] ‖ value_hash[32]`.
 * An empty position has no record. Records exist exactly at the positions of
 * the canonical tree, which depends only on the set of entries, so a batch
 * and its reverse restore the table byte for byte (undo relies on this).
 *
 * Only the tree of the committed head is stored; LMDB's MVCC snapshots give
 * each reader the tree of the head it sees, and old versions cost nothing.
 * A past tree (a height between the finalized one and the head, for proofs)
 * is the head's seen through an in-memory overlay (smt_ovl): the undo
 * records' old values applied as one batch whose writes land in memory,
 * never in the txn, which is only read.
 */
#include <stdlib.h>
#include <string.h>

#include "smt_internal.h"

enum { K_EMPTY = 0, K_LEAF = 1, K_BRANCH = 2 };

typedef struct {
	uint8_t kind;
	ssp_hash h;           /* the subtree's hash */
	ssp_hash path, vhash; /* K_LEAF */
} sres;

typedef struct {
	ssp_txn *t;
	ssp_table tb;
	smt_ovl *ovl; /* non-NULL: writes go here, reads look here first (t is only read) */
	uint64_t ops;
	bool want_branch_hash; /* get_pos computes a branch's own hash */
} smt_ctx;

/* ------------------------------------------------------------- overlay */

/* One position's record in memory: vl 0 = deleted (a tombstone over the txn's). */
typedef struct {
	uint8_t kl, vl, used;
	uint8_t k[34];
	uint8_t v[66];
} ovl_ent;

struct smt_ovl {
	ovl_ent *e;
	size_t cap, n, max;
};

int smt_ovl_new(smt_ovl **out, size_t max_positions)
{
	smt_ovl *o = ssp_calloc(1, sizeof *o);
	if (!o) return SSP_ERR_NOMEM;
	o->cap = 1024;
	o->max = max_positions;
	o->e = ssp_calloc(o->cap, sizeof *o->e);
	if (!o->e) {
		free(o);
		return SSP_ERR_NOMEM;
	}
	*out = o;
	return 0;
}

void smt_ovl_free(smt_ovl *o)
{
	if (!o) return;
	free(o->e);
	free(o);
}

static size_t ovl_slot(const smt_ovl *o, const uint8_t *k, size_t kl)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: the keys are hash prefixes already */
	for (size_t i = 0; i < kl; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	size_t i = h & (o->cap - 1);
	while (o->e[i].used && (o->e[i].kl != kl || memcmp(o->e[i].k, k, kl)))
		i = (i + 1) & (o->cap - 1);
	return i;
}

static int ovl_put(smt_ovl *o, const uint8_t *k, size_t kl, const void *v, size_t vl)
{
	size_t i = ovl_slot(o, k, kl);
	if (!o->e[i].used) {
		if (o->n == o->max)
			return SSP_ERR_TOOBIG; /* the caller's bound on work and memory */
		if (2 * (o->n + 1) > o->cap) {
			size_t oc = o->cap;
			ovl_ent *old = o->e;
			o->e = ssp_calloc(2 * oc, sizeof *o->e);
			if (!o->e) {
				o->e = old;
				return SSP_ERR_NOMEM;
			}
			o->cap = 2 * oc;
			for (size_t j = 0; j < oc; j++)
				if (old[j].used) o->e[ovl_slot(o, old[j].k, old[j].kl)] = old[j];
			free(old);
			i = ovl_slot(o, k, kl);
		}
		o->n++;
		o->e[i].used = 1;
		o->e[i].kl = (uint8_t)kl;
		memcpy(o->e[i].k, k, kl);
	}
	o->e[i].vl = (uint8_t)vl;
	if (vl) memcpy(o->e[i].v, v, vl);
	return 0;
}

/* A position's record through the overlay, then the txn. */
static int pos_get(smt_ctx *x, const uint8_t *k, size_t kl, const void **v, size_t *vl)
{
	if (x->ovl) {
		size_t i = ovl_slot(x->ovl, k, kl);
		if (x->ovl->e[i].used) {
			if (!x->ovl->e[i].vl) return SSP_ERR_NOTFOUND;
			*v = x->ovl->e[i].v;
			*vl = x->ovl->e[i].vl;
			return 0;
		}
	}
	return ssp_txn_get(x->t, x->tb, k, kl, v, vl);
}

static int pos_put(smt_ctx *x, const uint8_t *k, size_t kl, const void *v, size_t vl)
{
	return x->ovl ? ovl_put(x->ovl, k, kl, v, vl) : ssp_txn_put(x->t, x->tb, k, kl, v, vl);
}

static size_t pos_key(uint8_t *k, const ssp_hash *path, unsigned d)
{
	size_t nb = (d + 7) / 8;
	memcpy(k, path->b, nb);
	if (d % 8) k[nb - 1] &= (uint8_t)(0xff << (8 - d % 8));
	k[nb] = (uint8_t)d;
	return nb + 1;
}

/* Reads the record at (d, prefix of path): kind, and for a branch its children. */
static int get_pos(smt_ctx *x, const ssp_hash *path, unsigned d, sres *r, uint8_t *flags,
                   ssp_hash *l, ssp_hash *rt)
{
	uint8_t k[34];
	const void *v;
	size_t vl;
	int rc = pos_get(x, k, pos_key(k, path, d), &v, &vl);
	x->ops++;
	if (rc == SSP_ERR_NOTFOUND) {
		r->kind = K_EMPTY;
		memset(&r->h, 0, 32);
		return 0;
	}
	if (rc) return rc;
	const uint8_t *p = v;
	if (vl == 66 && p[0] == 0 && p[1] <= 3) {
		r->kind = K_BRANCH;
		*flags = p[1];
		memcpy(l->b, p + 2, 32);
		memcpy(rt->b, p + 34, 32);
		/* the branch's own hash only when asked (the batch update never needs it) */
		if (x->want_branch_hash)
			ssp_smt_node(&r->h, l, rt);
		else
			memset(&r->h, 0, sizeof r->h);
		return 0;
	}
	if (vl == 65 && p[0] == 1) {
		r->kind = K_LEAF;
		memcpy(r->path.b, p + 1, 32);
		memcpy(r->vhash.b, p + 33, 32);
		ssp_smt_leaf(&r->h, &r->path, &r->vhash);
		return 0;
	}
	return SSP_ERR_DBCORRUPT;
}

static int put_leaf(smt_ctx *x, const ssp_hash *path, unsigned d, const sres *leaf)
{
	uint8_t k[34], v[65];
	v[0] = 1;
	memcpy(v + 1, leaf->path.b, 32);
	memcpy(v + 33, leaf->vhash.b, 32);
	return pos_put(x, k, pos_key(k, path, d), v, sizeof v);
}

static int put_branch(smt_ctx *x, const ssp_hash *path, unsigned d, const sres *l, const sres *r)
{
	uint8_t k[34], v[66];
	v[0] = 0;
	v[1] = (uint8_t)((l->kind == K_LEAF) | (r->kind == K_LEAF) << 1);
	memcpy(v + 2, l->h.b, 32);
	memcpy(v + 34, r->h.b, 32);
	return pos_put(x, k, pos_key(k, path, d), v, sizeof v);
}

static int del_pos(smt_ctx *x, const ssp_hash *path, unsigned d)
{
	uint8_t k[34];
	size_t kl = pos_key(k, path, d);
	return x->ovl ? ovl_put(x->ovl, k, kl, NULL, 0) : ssp_txn_del(x->t, x->tb, k, kl);
}

int ssp_smt_item_cmp(const void *a, const void *b)
{
	return memcmp(((const smt_item *)a)->path.b, ((const smt_item *)b)->path.b, 32);
}

/* First index in [lo, hi) whose path has bit d set (items sorted). */
static size_t split(const smt_item *it, size_t lo, size_t hi, unsigned d)
{
	while (lo < hi && !ssp_smt_bit(&it[lo].path, d))
		lo++;
	return lo;
}

/*
 * Combines two children at depth d+1 into the position at depth d and writes
 * the children's records: old_l/old_r are the kinds stored at the children's
 * positions before, changed_l/changed_r whether their result is new (an
 * unchanged child keeps its record). The position d's own record is written
 * here only for a branch; for a leaf or empty result the caller places it.
 */
static int combine(smt_ctx *x, const ssp_hash *path, unsigned d, sres *l, sres *r, uint8_t old_l,
                   uint8_t old_r, bool changed_l, bool changed_r, sres *out)
{
	sres *c[2] = {l, r};
	uint8_t old[2] = {old_l, old_r};
	bool changed[2] = {changed_l, changed_r};
	ssp_hash cp[2];
	int rc = 0;
	/* each child's position: the path prefix with bit d cleared / set */
	for (int i = 0; i < 2; i++) {
		cp[i] = *path;
		if (i)
			cp[i].b[d >> 3] |= (uint8_t)(0x80 >> (d & 7));
		else
			cp[i].b[d >> 3] &= (uint8_t)~(0x80 >> (d & 7));
	}
	bool branch = !((l->kind == K_EMPTY && r->kind != K_BRANCH) ||
	                (r->kind == K_EMPTY && l->kind != K_BRANCH));
	if (branch) {
		for (int i = 0; i < 2 && !rc; i++) {
			if (!changed[i]) continue;
			if (c[i]->kind == K_LEAF)
				rc = put_leaf(x, &cp[i], d + 1, c[i]);
			else if (c[i]->kind == K_EMPTY && old[i] != K_EMPTY)
				rc = del_pos(x, &cp[i], d + 1);
		}
		if (!rc) rc = put_branch(x, path, d, l, r);
		out->kind = K_BRANCH;
		ssp_smt_node(&out->h, &l->h, &r->h);
		return rc;
	}
	/* at most one leaf below: it moves up to d; the children's positions empty */
	for (int i = 0; i < 2 && !rc; i++)
		if (old[i] != K_EMPTY && (changed[i] || c[i]->kind == K_LEAF))
			rc = del_pos(x, &cp[i], d + 1);
	*out = l->kind == K_LEAF ? *l : *r; /* both empty: r is empty */
	return rc;
}

/* Builds the subtree at depth d over sorted leaves that had no records below d. */
static int build(smt_ctx *x, unsigned d, const sres *lv, size_t n, sres *out)
{
	if (n == 0) {
		memset(out, 0, sizeof *out);
		return 0;
	}
	if (n == 1) {
		*out = lv[0];
		return 0;
	}
	if (d >= SSP_SPROOF_MAX_DEPTH) return SSP_ERR_INTERNAL; /* equal paths */
	size_t m = 0;
	while (m < n && !ssp_smt_bit(&lv[m].path, d))
		m++;
	sres l, r;
	int rc = build(x, d + 1, lv, m, &l);
	if (!rc) rc = build(x, d + 1, lv + m, n - m, &r);
	x->ops++;
	return rc ? rc : combine(x, &lv[0].path, d, &l, &r, K_EMPTY, K_EMPTY, true, true, out);
}

/* Reads the leaf record at a child position (an untouched leaf that may move up). */
static int read_leaf(smt_ctx *x, const ssp_hash *path, unsigned d, sres *out)
{
	uint8_t f;
	ssp_hash a, b;
	int rc = get_pos(x, path, d, out, &f, &a, &b);
	if (!rc && out->kind != K_LEAF) rc = SSP_ERR_DBCORRUPT;
	return rc;
}

static int update(smt_ctx *x, unsigned d, smt_item *it, size_t n, sres *out)
{
	sres cur;
	uint8_t flags = 0;
	ssp_hash lh, rh;
	int rc = get_pos(x, &it[0].path, d, &cur, &flags, &lh, &rh);
	if (rc) return rc;
	if (cur.kind == K_BRANCH) {
		if (d >= SSP_SPROOF_MAX_DEPTH) return SSP_ERR_DBCORRUPT;
		size_t m = split(it, 0, n, d);
		sres l = {.h = lh}, r = {.h = rh};
		uint8_t old_l = ssp_hash_is_zero(&lh) ? K_EMPTY : (flags & 1) ? K_LEAF : K_BRANCH;
		uint8_t old_r = ssp_hash_is_zero(&rh) ? K_EMPTY : (flags & 2) ? K_LEAF : K_BRANCH;
		l.kind = old_l;
		r.kind = old_r;
		if (m > 0 && (rc = update(x, d + 1, it, m, &l))) return rc;
		if (m < n && (rc = update(x, d + 1, it + m, n - m, &r))) return rc;
		/* an untouched leaf child whose sibling emptied moves up: read its record */
		if (m == 0 && old_l == K_LEAF && r.kind == K_EMPTY) {
			ssp_hash p = it[0].path;
			p.b[d >> 3] &= (uint8_t)~(0x80 >> (d & 7));
			if ((rc = read_leaf(x, &p, d + 1, &l))) return rc;
		}
		if (m == n && old_r == K_LEAF && l.kind == K_EMPTY) {
			ssp_hash p = it[0].path;
			p.b[d >> 3] |= (uint8_t)(0x80 >> (d & 7));
			if ((rc = read_leaf(x, &p, d + 1, &r))) return rc;
		}
		return combine(x, &it[0].path, d, &l, &r, old_l, old_r, m > 0, m < n, out);
	}
	/* empty or one leaf here: rebuild this subtree from its entries */
	sres stack[8], *lv = stack;
	size_t nl = 0;
	if (n + 1 > sizeof stack / sizeof stack[0]) {
		lv = ssp_malloc((n + 1) * sizeof *lv);
		if (!lv) return SSP_ERR_NOMEM;
	}
	bool kept = cur.kind == K_LEAF;
	for (size_t i = 0; i < n; i++) {
		int c = kept ? memcmp(cur.path.b, it[i].path.b, 32) : 1;
		if (c == 0) kept = false; /* rewritten or deleted by the batch */
		if (kept && c < 0) {
			lv[nl++] = cur;
			kept = false;
		}
		if (!it[i].del) {
			sres *e = &lv[nl++];
			e->kind = K_LEAF;
			e->path = it[i].path;
			e->vhash = it[i].vhash;
			ssp_smt_leaf(&e->h, &e->path, &e->vhash);
		}
	}
	if (kept) lv[nl++] = cur;
	rc = build(x, d, lv, nl, out);
	if (lv != stack) free(lv);
	return rc;
}

int ssp_smt_update(ssp_txn *t, ssp_table tb, smt_item *items, size_t n, ssp_hash *root,
                   uint64_t *ops)
{
	return smt_update_ovl(t, tb, NULL, items, n, root, ops);
}

int smt_update_ovl(ssp_txn *t, ssp_table tb, smt_ovl *ovl, smt_item *items, size_t n,
                   ssp_hash *root, uint64_t *ops)
{
	smt_ctx x = {.t = t, .tb = tb, .ovl = ovl};
	sres r;
	int rc;
	if (n == 0) return smt_root_ovl(t, tb, ovl, root);
	qsort(items, n, sizeof *items, ssp_smt_item_cmp);
	for (size_t i = 1; i < n; i++)
		if (!ssp_smt_item_cmp(&items[i - 1], &items[i])) return SSP_ERR_INTERNAL;
	uint8_t old_flags;
	ssp_hash a, b;
	sres old;
	/* the root position: what was there decides whether a leaf or empty result writes */
	rc = get_pos(&x, &items[0].path, 0, &old, &old_flags, &a, &b);
	if (!rc) rc = update(&x, 0, items, n, &r);
	if (!rc) {
		if (r.kind == K_LEAF)
			rc = put_leaf(&x, &items[0].path, 0, &r);
		else if (r.kind == K_EMPTY && old.kind != K_EMPTY)
			rc = del_pos(&x, &items[0].path, 0);
	}
	if (!rc) *root = r.h;
	if (ops) *ops += x.ops;
	return rc;
}

int ssp_smt_root(ssp_txn *t, ssp_table tb, ssp_hash *root)
{
	return smt_root_ovl(t, tb, NULL, root);
}

int smt_root_ovl(ssp_txn *t, ssp_table tb, smt_ovl *ovl, ssp_hash *root)
{
	smt_ctx x = {.t = t, .tb = tb, .ovl = ovl, .want_branch_hash = true};
	sres r;
	uint8_t f;
	ssp_hash a, b, zero = {{0}};
	int rc = get_pos(&x, &zero, 0, &r, &f, &a, &b);
	if (!rc) *root = r.h;
	return rc;
}

int ssp_smt_prove(ssp_txn *t, ssp_table tb, const ssp_hash *path, ssp_sproof *out)
{
	return smt_prove_ovl(t, tb, NULL, path, out);
}

int smt_prove_ovl(ssp_txn *t, ssp_table tb, smt_ovl *ovl, const ssp_hash *path, ssp_sproof *out)
{
	smt_ctx x = {.t = t, .tb = tb, .ovl = ovl};
	memset(out, 0, sizeof *out);
	for (unsigned d = 0;; d++) {
		sres r;
		uint8_t f;
		ssp_hash l, rr;
		int rc = get_pos(&x, path, d, &r, &f, &l, &rr);
		if (rc) return rc;
		out->depth = (uint16_t)d;
		if (r.kind == K_EMPTY) {
			out->kind = SSP_SPROOF_EMPTY;
			return 0;
		}
		if (r.kind == K_LEAF) {
			out->kind = memcmp(r.path.b, path->b, 32) ? SSP_SPROOF_OTHER : SSP_SPROOF_PRESENT;
			out->value_hash = r.vhash;
			out->other_path = out->kind == SSP_SPROOF_OTHER ? r.path : (ssp_hash){{0}};
			return 0;
		}
		if (d >= SSP_SPROOF_MAX_DEPTH) return SSP_ERR_DBCORRUPT;
		out->siblings[d] = ssp_smt_bit(path, d) ? l : rr;
	}
}

static void root_of(ssp_hash *h, const smt_item *it, size_t n, unsigned d)
{
	if (n == 0) {
		memset(h, 0, sizeof *h);
		return;
	}
	if (n == 1) {
		ssp_smt_leaf(h, &it[0].path, &it[0].vhash);
		return;
	}
	size_t m = split(it, 0, n, d);
	ssp_hash l, r;
	root_of(&l, it, m, d + 1);
	root_of(&r, it + m, n - m, d + 1);
	ssp_smt_node(h, &l, &r);
}

void ssp_smt_root_of(ssp_hash *root, const smt_item *sorted, size_t n)
{
	root_of(root, sorted, n, 0);
}
