/*
 * prove_past.c — state proofs at a past height (chain layer): any height
 * from the finalized one up to the head, so a light client can check a
 * value against a final header while the head moves on. Only the head's
 * tree is stored; the tree at height h is rebuilt in memory from it and the
 * undo records of blocks h+1..head (each holds the previous value of every
 * key its block wrote): the earliest record's old value of each key is its
 * value at h, applied as one batch to an overlay of the head's tree
 * (smt_ovl), so nothing is written and the chain's writer is never waited
 * for — the whole request is one LMDB read txn. The rebuilt root must be h's
 * state_root (from the record of block h+1), else the database is corrupt.
 *
 * Bounds, because any RPC client can ask: at most SSP_PROVE_PAST_KEYS keys
 * changed above h (SSP_ERR_RANGE past it), a proportional cap on the
 * overlay's positions, and SSP_PROVE_PAST_CONCURRENCY rebuilds at a time per
 * chain (SSP_ERR_BUSY for the next: retry).
 */
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "smt_internal.h"

#define LOG "chain"

typedef struct {
	smt_item it;
	uint64_t seq;         /* record order: lower heights first */
	const uint8_t *value; /* the old value (borrowed from the read txn), NULL: absent */
	size_t vlen;
} past_item;

typedef struct {
	past_item *v;
	size_t n, cap;
	uint64_t seq;
} past_col;

static int past_visit(void *arg, const uint8_t *key, size_t kl, const uint8_t *old, size_t ol)
{
	past_col *pc = arg;
	if (pc->n == SSP_PROVE_PAST_KEYS) return SSP_ERR_RANGE;
	if (pc->n == pc->cap) {
		size_t nc = pc->cap ? 2 * pc->cap : 256;
		past_item *nv = ssp_realloc(pc->v, nc * sizeof *nv);
		if (!nv) return SSP_ERR_NOMEM;
		pc->v = nv;
		pc->cap = nc;
	}
	past_item *p = &pc->v[pc->n++];
	ssp_smt_path(&p->it.path, key, kl);
	p->it.del = !old;
	if (old)
		ssp_smt_value_hash(&p->it.vhash, old, ol);
	else
		memset(&p->it.vhash, 0, sizeof p->it.vhash);
	p->seq = pc->seq++;
	p->value = old;
	p->vlen = ol;
	return 0;
}

static int past_cmp(const void *a, const void *b)
{
	const past_item *x = a, *y = b;
	int c = memcmp(x->it.path.b, y->it.path.b, 32);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The proof at `height` (finalized <= height < head) into *head, *val, proof. */
static int prove_past(const ssp_chain *c, ssp_txn *rt, const ssp_head *cur, uint64_t height,
                      const ssp_hash *path, const void **val, size_t *vlen, ssp_head *at,
                      ssp_sproof *p)
{
	past_col pc = {0};
	smt_item *items = NULL;
	smt_ovl *ovl = NULL;
	ssp_hash root;
	int rc = 0;
	for (uint64_t h = height + 1; h <= cur->height && !rc; h++) {
		ssp_head prev;
		rc = chain_undo_read(c, rt, h, &prev, past_visit, &pc);
		if (rc == SSP_ERR_NOTFOUND) rc = SSP_ERR_PRUNED; /* finalized meanwhile */
		if (!rc && h == height + 1) *at = prev;
	}
	if (rc) goto out;
	/* each key's value at `height`: the old value in the lowest record that wrote it */
	if (pc.n) qsort(pc.v, pc.n, sizeof *pc.v, past_cmp);
	items = ssp_malloc((pc.n ? pc.n : 1) * sizeof *items);
	if (!items) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	size_t n = 0;
	for (size_t i = 0; i < pc.n; i++) {
		if (i && !memcmp(pc.v[i].it.path.b, pc.v[i - 1].it.path.b, 32)) continue;
		items[n++] = pc.v[i].it;
		if (!memcmp(pc.v[i].it.path.b, path->b, 32)) {
			*val = pc.v[i].value;
			*vlen = pc.v[i].vlen;
		}
	}
	rc = smt_ovl_new(&ovl, 32 * n + 4096);
	if (!rc) rc = smt_update_ovl(rt, c->t_smt, ovl, items, n, &root, NULL);
	if (rc == SSP_ERR_TOOBIG) rc = SSP_ERR_RANGE;
	if (!rc && memcmp(root.b, at->state_root.b, 32)) {
		SSP_LOGE(LOG,
		         "database corrupt: the state tree rebuilt at height %llu from the undo "
		         "records is not that block's state root",
		         (unsigned long long)height);
		rc = SSP_ERR_DBCORRUPT;
	}
	if (!rc) rc = smt_prove_ovl(rt, c->t_smt, ovl, path, p);
out:
	smt_ovl_free(ovl);
	free(items);
	free(pc.v);
	return rc;
}

int ssp_chain_prove_at(const ssp_chain *c, ssp_txn *rt, uint64_t height, uint8_t table,
                       const void *key, size_t klen, ssp_head *head, const void **val, size_t *vlen,
                       ssp_buf *proof)
{
	uint8_t k[1 + SSP_STATE_KEY_MAX];
	ssp_head cur;
	ssp_hash path;
	ssp_sproof *p = NULL;
	*val = NULL;
	*vlen = 0;
	if (klen > SSP_STATE_KEY_MAX) return SSP_ERR_TOOBIG;
	int rc = ssp_chain_read_head(c, rt, &cur);
	if (rc) return rc;
	if (height == SSP_PROVE_HEAD) height = cur.height;
	if (height == SSP_PROVE_FINAL) height = cur.finalized;
	if (height > cur.height) return SSP_ERR_NOTFOUND;
	if (height < cur.finalized) return SSP_ERR_PRUNED;
	if (height == cur.height)
		return ssp_chain_prove(c, rt, table, key, klen, head, val, vlen, proof);
	ssp_chain *mc = (ssp_chain *)c; /* only the atomic counter changes */
	if (atomic_fetch_add(&mc->past_proofs, 1) >= SSP_PROVE_PAST_CONCURRENCY) {
		rc = SSP_ERR_BUSY;
		goto out;
	}
	k[0] = table;
	if (klen) memcpy(k + 1, key, klen);
	ssp_smt_path(&path, k, klen + 1);
	/* the head's value, unless a block above `height` wrote the key (prove_past says) */
	rc = ssp_txn_get(rt, c->t_state, k, klen + 1, val, vlen);
	if (rc == SSP_ERR_NOTFOUND) {
		*val = NULL;
		*vlen = 0;
		rc = 0;
	}
	p = ssp_malloc(sizeof *p);
	if (!rc && !p) rc = SSP_ERR_NOMEM;
	if (!rc) rc = prove_past(c, rt, &cur, height, &path, val, vlen, head, p);
	if (!rc && (p->kind == SSP_SPROOF_PRESENT) != (*val != NULL)) rc = SSP_ERR_DBCORRUPT;
	if (!rc && *val) {
		ssp_hash vh;
		ssp_smt_value_hash(&vh, *val, *vlen);
		if (memcmp(vh.b, p->value_hash.b, 32)) rc = SSP_ERR_DBCORRUPT;
	}
	if (!rc) {
		ssp_sproof_encode(proof, p);
		rc = proof->err;
	}
out:
	if (rc) {
		*val = NULL;
		*vlen = 0;
	}
	free(p);
	atomic_fetch_sub(&mc->past_proofs, 1);
	return rc;
}
