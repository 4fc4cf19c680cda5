/*
 * produce.c — the block producer's composition (chain layer): mempool
 * selection, then the public execute/build/commit steps of exec.c, with
 * signing through an ssp_signer. It adds no rule of its own: whatever it
 * builds, ssp_chain_import on another node checks the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "genesis_internal.h"
#include "mempool_internal.h"

/* Signs h (its id is computed at commit) with the signer. */
static int sign_header(const ssp_chain *c, const ssp_signer *s, ssp_header *h)
{
	ssp_buf b;
	ssp_hash d;
	int rc;
	ssp_buf_init(&b, 64 * 1024);
	ssp_header_encode(&b, h, false);
	rc = b.err;
	if (!rc) {
		ssp_sig_digest(&d, SSP_DOM_BLOCK, ssp_genesis_chain_id(c->g), b.data, b.len);
		rc = s->sign(s->ctx, &h->sig, &d);
	}
	ssp_buf_free(&b);
	return rc;
}

int ssp_produce_block(ssp_chain *c, ssp_mempool *m, const ssp_signer *signer, uint64_t slot,
                      uint64_t time_ms, ssp_block_info *info)
{
	const ssp_params *p = &c->g->params;
	mp_batch cand = {0};
	ssp_exec *x = NULL;
	ssp_header h;
	ssp_addr producer;
	const ssp_hash *drop_ids;
	const int *drop_errs;
	int rc;
	memset(info, 0, sizeof *info);
	if (c->fatal) return c->fatal;
	/*
	 * Candidates are copied out under the pool's lock; the pool keeps
	 * admitting while this block is applied and committed.
	 */
	size_t budget = p->max_block_bytes > 1024 ? p->max_block_bytes - 1024 : 0; /* header */
	size_t prefixes = 4 * (size_t)p->max_block_txs; /* each tx's length prefix */
	rc =
	    ssp_mempool_take(m, &cand, p->max_block_txs, budget > prefixes ? budget - prefixes : 0);
	if (rc) goto out;
	ssp_addr_from_pubkey(&producer, &signer->pub);
	if ((rc = ssp_chain_begin(c, &x, slot, time_ms)) ||
	    (rc = ssp_exec_candidates(x, cand.txs, cand.n)) ||
	    (rc = ssp_exec_header(x, &h, &producer)))
		goto out;
	/*
	 * The slot goes into the block's own commit (meta signed_slot) — the
	 * producer's watermark, durable with the block. The signature exists
	 * before that commit, but nothing publishes it before: a crash in
	 * between leaves neither block nor signature anywhere.
	 */
	if (c->cons.prepare && (rc = c->cons.prepare(c->cons.ctx, c, &h))) goto out;
	chain_exec_mark_signed(x);
	rc = sign_header(c, signer, &h);
	if (rc) goto out;
	/* the dropped list lives in x, which commit frees: reconcile from a copy */
	size_t nd = ssp_exec_dropped(x, &drop_ids, &drop_errs);
	ssp_hash *ids = nd ? ssp_malloc(nd * sizeof *ids) : NULL;
	int *errs = nd ? ssp_malloc(nd * sizeof *errs) : NULL;
	if (nd && (!ids || !errs)) {
		free(ids);
		free(errs);
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	if (nd) {
		memcpy(ids, drop_ids, nd * sizeof *ids);
		memcpy(errs, drop_errs, nd * sizeof *errs);
	}
	const ssp_tx *const *inc;
	size_t ni = ssp_exec_included(x, &inc);
	ssp_tx *done = ssp_malloc((ni ? ni : 1) * sizeof *done);
	if (!done) {
		free(ids);
		free(errs);
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < ni; i++)
		done[i] = *inc[i];
	rc = ssp_chain_commit(c, x, &h, info);
	x = NULL;
	if (!rc) {
		/* reconcile the pool: failures go with their successors, included txs go */
		for (size_t i = 0; i < nd; i++)
			ssp_mempool_drop_tx(m, &ids[i], errs[i]);
		ssp_mempool_after_block(m, done, ni, c->head.height);
	}
	free(done);
	free(ids);
	free(errs);
out:
	ssp_exec_abort(x);
	mp_batch_free(&cand);
	if (ssp_err_local(rc) && !c->fatal) c->fatal = rc;
	return rc;
}
