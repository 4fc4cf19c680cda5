/*
 * switch.c — switching to another branch (chain layer): pops the blocks
 * above a fork point and imports the other branch's blocks in ONE LMDB
 * write txn, every block verified exactly as an import is, so a reader (an
 * RPC thread, a restart after kill -9) sees the old branch or the new one,
 * never a mix. Which branch is better is not decided here (the consensus
 * layer's fork choice, src/consensus); this file only makes it so.
 */
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "mempool_internal.h"

#define LOG "chain"

/* Debug builds: the invariants, as after a commit. */
static void check_after(ssp_chain *c)
{
	int ck = chain_check_invariants(c);
	if (ck && !ssp_err_local(ck)) {
		SSP_LOGE(LOG, "invariant violated after a branch switch: %s", ssp_strerror(ck));
		c->fatal = ck;
	}
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Is id in the sorted set? */
static bool txid_in(const ssp_hash *set, size_t n, const ssp_hash *id)
{
	return n && bsearch(id, set, n, sizeof *set, hash_cmp) != NULL;
}

/*
 * The pool after a switch: the new branch's txs leave it (block by block,
 * as after an import), then the popped blocks' txs that the new branch
 * does not include come back, oldest block first.
 */
static size_t reconcile_pool(ssp_mempool *m, ssp_import **ips, size_t n, const ssp_popped *got,
                             uint64_t fork_height)
{
	size_t nnew = 0, nback = 0, readded = 0;
	ssp_hash *ids = NULL;
	ssp_tx *back = NULL;
	ssp_block *pb = NULL;
	for (size_t i = 0; i < n; i++) {
		const ssp_block *b = chain_import_block(ips[i]);
		ssp_mempool_after_block(m, b->txs, b->ntx, fork_height + 1 + i);
		nnew += b->ntx;
	}
	if (!got->n) return 0;
	/* a failed allocation here only loses txs for the pool (never state): say so */
	ids = ssp_malloc((nnew ? nnew : 1) * sizeof *ids);
	pb = ssp_calloc(got->n, sizeof *pb);
	if (!ids || !pb) goto oom;
	nnew = 0;
	for (size_t i = 0; i < n; i++) {
		const ssp_block *b = chain_import_block(ips[i]);
		for (uint32_t k = 0; k < b->ntx; k++)
			ids[nnew++] = b->txs[k].txid;
	}
	qsort(ids, nnew, sizeof *ids, hash_cmp); /* a deep switch has many txs each side */
	size_t total = 0;
	for (size_t i = 0; i < got->n; i++) {
		/* bytes that were committed blocks: they decode (else the store is corrupt) */
		if (ssp_block_decode(&pb[i], got->raw[i], got->len[i], got->len[i])) continue;
		total += pb[i].ntx;
	}
	back = ssp_malloc((total ? total : 1) * sizeof *back);
	if (!back) goto oom;
	for (size_t i = got->n; i-- > 0;) /* got is highest first: oldest block first here */
		for (uint32_t k = 0; k < pb[i].ntx; k++)
			if (!txid_in(ids, nnew, &pb[i].txs[k].txid)) back[nback++] = pb[i].txs[k];
	readded = ssp_mempool_readd(m, back, nback);
	goto out;
oom:
	SSP_LOGW(LOG, "out of memory giving popped txs back to the mempool: they are lost "
	              "from this node's pool (senders may resubmit)");
out:
	if (pb)
		for (size_t i = 0; i < got->n; i++)
			ssp_block_free(&pb[i]);
	free(pb);
	free(back);
	free(ids);
	return readded;
}

int ssp_chain_switch(ssp_chain *c, ssp_mempool *m, uint64_t fork_height, const uint8_t *const *raw,
                     const size_t *len, size_t n, ssp_popped *out, size_t *bad, size_t *readded)
{
	ssp_import **ips = NULL;
	ssp_popped got = {0};
	ssp_txn *t = NULL;
	ssp_head saved = c->head, top;
	size_t failed = 0;
	int rc = 0;
	bool touched = false; /* consensus callbacks saw blocks of the new branch */
	if (out) memset(out, 0, sizeof *out);
	if (bad) *bad = 0;
	if (readded) *readded = 0;
	chain_assert_owner(c);
	if (c->fatal) return c->fatal;
	if (c->executing) return SSP_ERR_BUSY;
	if (fork_height < c->head.finalized) return SSP_ERR_FINAL_POP;
	if (fork_height > c->head.height) return SSP_ERR_BLOCK_HEIGHT;
	ips = ssp_calloc(n ? n : 1, sizeof *ips);
	if (!ips) {
		rc = SSP_ERR_NOMEM;
		goto local;
	}
	/* decoding and every tx signature first, outside the write txn (on the work pool) */
	for (size_t i = 0; i < n; i++) {
		rc = ssp_chain_prepare(c, m, &ips[i], raw[i], len[i]);
		if (rc) {
			failed = i;
			if (ssp_err_local(rc)) goto local;
			goto invalid;
		}
	}
	rc = ssp_store_write(c->store, &t);
	if (rc) goto local;
	rc = chain_pop_in(c, t, fork_height, &top, &got);
	if (rc) goto local;
	c->head = top; /* in memory only until the commit: the imports extend it */
	for (size_t i = 0; i < n; i++) {
		ssp_block_info info;
		touched = true;
		rc = chain_import_nested(c, t, ips[i], &info);
		if (rc) {
			failed = i;
			if (ssp_err_local(rc) || c->fatal) goto local;
			goto invalid;
		}
	}
	rc = ssp_txn_commit(t);
	t = NULL;
	if (rc) goto local;
	SSP_LOGI(LOG,
	         "switched branch at height %llu: popped %zu block(s), applied %zu: head "
	         "%llu -> %llu",
	         (unsigned long long)fork_height, got.n, n, (unsigned long long)saved.height,
	         (unsigned long long)c->head.height);
	if (c->check_invariants) check_after(c);
	if (m) {
		size_t k = reconcile_pool(m, ips, n, &got, fork_height);
		if (readded) *readded = k;
	}
	if (out)
		*out = got;
	else
		ssp_popped_free(&got);
	goto done;

invalid:
	/* the new branch is at fault: nothing was committed, the chain goes on as it was */
	if (bad) *bad = failed;
	SSP_LOGW(LOG, "branch switch at height %llu refused: block %llu: %s",
	         (unsigned long long)fork_height, (unsigned long long)(fork_height + 1 + failed),
	         ssp_strerror(rc));
	goto undo;
local:
	if (!c->fatal) {
		c->fatal = rc;
		SSP_LOGE(LOG,
		         "local failure while switching branch at height %llu: %s — the chain "
		         "stops; nothing was written",
		         (unsigned long long)fork_height, ssp_strerror(rc));
	}
undo:
	if (t) ssp_txn_end(t);
	c->executing = false;
	c->head = saved;
	ssp_popped_free(&got);
	if (touched && c->cons.reset) c->cons.reset(c->cons.ctx, c);
done:
	if (ips)
		for (size_t i = 0; i < n; i++)
			ssp_import_free(ips[i]);
	free(ips);
	return rc;
}
