/*
 * undo.c — undo records and popping blocks (chain layer). A block committed
 * above the finalized height keeps, in the `undo` table under its be64
 * height, what popping it needs: the previous head record and the previous
 * value (or absence) of every state key it wrote. Its block, id, receipts
 * and tx index entries need no record: they are new keys, found from the
 * block itself. The state tree needs none either: it is a function of the
 * entries, so the old values applied as one more batch restore it exactly.
 * Records at or below the finalized height are deleted as finality moves.
 *
 * Record: u8 version (1) ‖ head[96] (chain_head_encode) ‖ u32 count ‖
 * (u8 klen ‖ state key ‖ u8 had ‖ [u32 vlen ‖ value])*.
 */
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"

#define LOG "chain"
#define UNDO_VERSION 1
#define PRUNE_MAX 4096 /* records deleted per block: bounds one commit's work */

int chain_undo_write(ssp_chain *c, ssp_txn *t, ssp_state *st, uint64_t height,
                     const ssp_head *prev)
{
	ssp_buf b;
	uint8_t hv[96], k[8];
	uint32_t count = 0;
	size_t at;
	int rc;
	ssp_buf_init(&b, (size_t)1 << 31);
	chain_head_encode(hv, prev);
	ssp_buf_u8(&b, UNDO_VERSION);
	ssp_buf_put(&b, hv, sizeof hv);
	at = b.len;
	ssp_buf_u32(&b, 0);
	rc = ssp_state_undo_encode(st, &b, &count);
	if (!rc) {
		for (int i = 0; i < 4; i++)
			b.data[at + i] = (uint8_t)(count >> (8 * i));
		ssp_be64_put(k, height);
		rc = ssp_txn_put(t, c->t_undo, k, 8, b.data, b.len);
	}
	ssp_buf_free(&b);
	return rc;
}

typedef struct {
	uint64_t finalized;
	uint8_t keys[64][8];
	size_t n;
} prune_scan;

static int prune_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	prune_scan *p = arg;
	(void)v;
	(void)vl;
	if (kl != 8 || ssp_be64_get(k) > p->finalized) return 1;
	memcpy(p->keys[p->n++], k, 8);
	return p->n == sizeof p->keys / sizeof p->keys[0];
}

int chain_undo_prune(ssp_chain *c, ssp_txn *t, uint64_t finalized)
{
	/* usually the lowest record is above the final height (or there is none): one seek */
	for (;;) {
		prune_scan p = {.finalized = finalized};
		int rc = ssp_txn_scan(t, c->t_undo, NULL, 0, prune_visit, &p);
		if (rc < 0) return rc;
		for (size_t i = 0; i < p.n; i++)
			if ((rc = ssp_txn_del(t, c->t_undo, p.keys[i], 8))) return rc;
		if (p.n < sizeof p.keys / sizeof p.keys[0]) return 0;
	}
}

/* ------------------------------------------------------------------ pop */

void ssp_popped_free(ssp_popped *p)
{
	if (!p) return;
	for (size_t i = 0; i < p->n; i++)
		free(p->raw[i]);
	free(p->raw);
	free(p->len);
	memset(p, 0, sizeof *p);
}

static int popped_add(ssp_popped *p, const uint8_t *raw, size_t n)
{
	uint8_t **r = ssp_realloc(p->raw, (p->n + 1) * sizeof *r);
	if (!r) return SSP_ERR_NOMEM;
	p->raw = r;
	size_t *l = ssp_realloc(p->len, (p->n + 1) * sizeof *l);
	if (!l) return SSP_ERR_NOMEM;
	p->len = l;
	uint8_t *copy = ssp_malloc(n ? n : 1);
	if (!copy) return SSP_ERR_NOMEM;
	memcpy(copy, raw, n);
	p->raw[p->n] = copy;
	p->len[p->n++] = n;
	return 0;
}

/*
 * Pops block `height` (the current head `cur` of the txn): restores its
 * state keys and the tree, deletes its block data and undo record, and sets
 * *prev to the head before it.
 */
static int pop_one(ssp_chain *c, ssp_txn *t, const ssp_head *cur, ssp_head *prev,
                   ssp_popped *out)
{
	uint8_t k[8];
	const void *v;
	size_t vl, n;
	const uint8_t *raw;
	ssp_block b = {0};
	smt_item *items = NULL;
	ssp_hash root;
	ssp_rd r;
	int rc;
	ssp_be64_put(k, cur->height);
	rc = ssp_txn_get(t, c->t_undo, k, 8, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		SSP_LOGE(LOG, "database corrupt at height %llu: no undo record for a block above the "
		         "finalized height", (unsigned long long)cur->height);
		return SSP_ERR_DBCORRUPT;
	}
	if (rc) return rc;
	/* the record's bytes move when the txn writes: copy them first */
	uint8_t *rec = ssp_malloc(vl ? vl : 1);
	if (!rec) return SSP_ERR_NOMEM;
	memcpy(rec, v, vl);
	ssp_rd_init(&r, rec, vl);
	uint8_t ver = ssp_rd_u8(&r);
	const uint8_t *hv = ssp_rd_view(&r, 96);
	uint32_t count = ssp_rd_u32(&r);
	if (r.err || ver != UNDO_VERSION || chain_head_decode(prev, hv, 96) ||
	    prev->height + 1 != cur->height || count > vl) {
		rc = SSP_ERR_DBCORRUPT;
		goto out;
	}
	items = ssp_malloc((count ? count : 1) * sizeof *items);
	if (!items) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < count && !rc; i++) {
		uint8_t kl = ssp_rd_u8(&r);
		const uint8_t *key = ssp_rd_view(&r, kl);
		int had = ssp_rd_bool(&r);
		size_t ol = 0;
		const uint8_t *old = had == 1 ? ssp_rd_bytes(&r, SSP_STATE_VAL_MAX, &ol) : NULL;
		if (r.err) {
			rc = SSP_ERR_DBCORRUPT;
			break;
		}
		ssp_smt_path(&items[i].path, key, kl);
		items[i].del = !old;
		if (old) {
			ssp_smt_value_hash(&items[i].vhash, old, ol);
			rc = ssp_txn_put(t, c->t_state, key, kl, old, ol);
		} else {
			memset(&items[i].vhash, 0, sizeof items[i].vhash);
			rc = ssp_txn_del(t, c->t_state, key, kl);
		}
	}
	if (!rc && ssp_rd_end(&r)) rc = SSP_ERR_DBCORRUPT;
	if (!rc) rc = ssp_smt_update(t, c->t_smt, items, count, &root, NULL);
	if (!rc && memcmp(root.b, prev->state_root.b, 32)) {
		SSP_LOGE(LOG, "database corrupt at height %llu: popping gives another state root "
		         "than the parent's", (unsigned long long)cur->height);
		rc = SSP_ERR_DBCORRUPT;
	}
	/* the block, its id, receipts and tx index entries */
	if (!rc) rc = ssp_chain_read_block(c, t, cur->height, &raw, &n);
	if (rc == SSP_ERR_NOTFOUND) rc = SSP_ERR_DBCORRUPT;
	/* decoded from the copy: the map's bytes may move as the txn deletes */
	if (!rc) rc = popped_add(out, raw, n);
	if (!rc) rc = ssp_block_decode(&b, out->raw[out->n - 1], n, n);
	if (rc && rc != SSP_ERR_NOMEM && !ssp_err_local(rc)) rc = SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < b.ntx && !rc; i++)
		rc = ssp_txn_del(t, c->t_txidx, b.txs[i].txid.b, 32);
	if (!rc) rc = ssp_txn_del(t, c->t_blockid, b.hdr.id.b, 32);
	if (!rc) rc = ssp_txn_del(t, c->t_rcpts, k, 8);
	if (!rc) rc = ssp_txn_del(t, c->t_blocks, k, 8);
	if (!rc) rc = ssp_txn_del(t, c->t_undo, k, 8);
out:
	ssp_block_free(&b);
	free(items);
	free(rec);
	return rc;
}

int chain_pop_in(ssp_chain *c, ssp_txn *t, uint64_t height, ssp_head *head, ssp_popped *got)
{
	ssp_head cur = c->head, prev;
	uint8_t hv[96];
	int rc = 0;
	while (!rc && cur.height > height) {
		rc = pop_one(c, t, &cur, &prev, got);
		if (!rc) cur = prev;
	}
	if (!rc) {
		/* finality never moves back: the final height stays (it is at or below `height`) */
		if (cur.finalized < c->head.finalized) cur.finalized = c->head.finalized;
		chain_head_encode(hv, &cur);
		rc = ssp_txn_put(t, c->t_meta, "head", 4, hv, sizeof hv);
	}
	*head = cur;
	return rc;
}

int ssp_chain_pop_to(ssp_chain *c, uint64_t height, ssp_popped *out)
{
	ssp_txn *t = NULL;
	ssp_head cur;
	ssp_popped got = {0};
	int rc;
	if (out) memset(out, 0, sizeof *out);
	chain_assert_owner(c);
	if (c->fatal) return c->fatal;
	if (c->executing) return SSP_ERR_BUSY;
	if (height >= c->head.height) return 0;
	if (height < c->head.finalized) return SSP_ERR_FINAL_POP;
	rc = ssp_store_write(c->store, &t);
	if (!rc) rc = chain_pop_in(c, t, height, &cur, &got);
	if (!rc) {
		rc = ssp_txn_commit(t);
	} else if (t) {
		ssp_txn_end(t);
	}
	t = NULL;
	if (rc) {
		ssp_popped_free(&got);
		if (!c->fatal) {
			c->fatal = rc;
			SSP_LOGE(LOG, "cannot pop to height %llu: %s — the chain stops; nothing was "
			         "written", (unsigned long long)height, ssp_strerror(rc));
		}
		return rc;
	}
	SSP_LOGI(LOG, "popped %llu block(s): head %llu -> %llu",
	         (unsigned long long)(c->head.height - cur.height),
	         (unsigned long long)c->head.height, (unsigned long long)cur.height);
	c->head = cur;
	if (c->check_invariants) {
		int ck = chain_check_invariants(c); /* as after a commit */
		if (ck && !ssp_err_local(ck)) {
			SSP_LOGE(LOG, "invariant violated after popping to %llu: %s",
			         (unsigned long long)height, ssp_strerror(ck));
			c->fatal = ck;
		}
	}
	if (out)
		*out = got;
	else
		ssp_popped_free(&got);
	return 0;
}

int ssp_chain_pop(ssp_chain *c, ssp_popped *out)
{
	if (out) memset(out, 0, sizeof *out);
	if (c->head.height == 0) return SSP_ERR_FINAL_POP;
	return ssp_chain_pop_to(c, c->head.height - 1, out);
}

/* ------------------------------------------------------------ reading */

int chain_undo_read(const ssp_chain *c, ssp_txn *t, uint64_t height, ssp_head *prev,
                    chain_undo_visit fn, void *arg)
{
	uint8_t k[8];
	const void *v;
	size_t vl;
	ssp_rd r;
	ssp_be64_put(k, height);
	int rc = ssp_txn_get(t, c->t_undo, k, 8, &v, &vl);
	if (rc) return rc;
	ssp_rd_init(&r, v, vl);
	uint8_t ver = ssp_rd_u8(&r);
	const uint8_t *hv = ssp_rd_view(&r, 96);
	uint32_t count = ssp_rd_u32(&r);
	if (r.err || ver != UNDO_VERSION || chain_head_decode(prev, hv, 96) ||
	    prev->height + 1 != height || count > vl)
		return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t kl = ssp_rd_u8(&r);
		const uint8_t *key = ssp_rd_view(&r, kl);
		int had = ssp_rd_bool(&r);
		size_t ol = 0;
		const uint8_t *old = had == 1 ? ssp_rd_bytes(&r, SSP_STATE_VAL_MAX, &ol) : NULL;
		if (r.err || kl == 0) return SSP_ERR_DBCORRUPT;
		if ((rc = fn(arg, key, kl, old, ol))) return rc;
	}
	return ssp_rd_end(&r) ? SSP_ERR_DBCORRUPT : 0;
}
