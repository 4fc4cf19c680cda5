/*
 * block.c — block header and block encoding with strict decoding
 * (chain layer). Layout in include/ssp/chain.h.
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"

#define HEADER_VERSION 1

void ssp_header_encode(ssp_buf *b, const ssp_header *h, bool with_sig)
{
	ssp_buf_u8(b, HEADER_VERSION);
	ssp_buf_u64(b, h->height);
	ssp_buf_put(b, h->prev_id.b, 32);
	ssp_buf_u64(b, h->slot);
	ssp_buf_u64(b, h->timestamp_ms);
	ssp_buf_put(b, h->producer.b, SSP_ADDR_LEN);
	ssp_buf_put(b, h->tx_root.b, 32);
	ssp_buf_put(b, h->receipts_root.b, 32);
	ssp_buf_put(b, h->state_root.b, 32);
	ssp_buf_bytes(b, h->seed_reveal, h->seed_len);
	ssp_buf_bytes(b, h->qc, h->qc_len);
	if (with_sig) ssp_buf_put(b, h->sig.b, SSP_SIG_LEN);
}

int ssp_header_read(ssp_header *h, ssp_rd *r)
{
	size_t start = r->off, n;
	memset(h, 0, sizeof *h);
	if (ssp_rd_u8(r) != HEADER_VERSION && !r->err) return r->err = SSP_ERR_DECODE;
	h->height = ssp_rd_u64(r);
	ssp_rd_raw(r, h->prev_id.b, 32);
	h->slot = ssp_rd_u64(r);
	h->timestamp_ms = ssp_rd_u64(r);
	ssp_rd_raw(r, h->producer.b, SSP_ADDR_LEN);
	ssp_rd_raw(r, h->tx_root.b, 32);
	ssp_rd_raw(r, h->receipts_root.b, 32);
	ssp_rd_raw(r, h->state_root.b, 32);
	const uint8_t *seed = ssp_rd_bytes(r, SSP_SEED_MAX, &n);
	if (seed) memcpy(h->seed_reveal, seed, n);
	h->seed_len = (uint32_t)n;
	h->qc = ssp_rd_bytes(r, SSP_QC_MAX, &n);
	h->qc_len = (uint32_t)n;
	ssp_rd_raw(r, h->sig.b, SSP_SIG_LEN);
	if (r->err) return r->err;
	ssp_sha256(&h->id, r->p + start, r->off - start);
	return 0;
}

int ssp_block_decode(ssp_block *b, const uint8_t *raw, size_t n, size_t max_bytes)
{
	ssp_rd r;
	int rc;
	memset(b, 0, sizeof *b);
	if (n > max_bytes) return SSP_ERR_TOOBIG;
	ssp_rd_init(&r, raw, n);
	rc = ssp_header_read(&b->hdr, &r);
	if (rc) return rc;
	uint32_t ntx = ssp_rd_u32(&r);
	if (r.err) return r.err;
	/* each tx needs at least its 4-byte length: bound the allocation by the input */
	if (ntx > (n - r.off) / 4) return SSP_ERR_DECODE;
	b->txs = ssp_calloc(ntx ? ntx : 1, sizeof *b->txs);
	if (!b->txs) return SSP_ERR_NOMEM;
	for (uint32_t i = 0; i < ntx; i++) {
		size_t tl;
		const uint8_t *tp = ssp_rd_bytes(&r, SSP_TX_MAX, &tl);
		if (r.err) {
			rc = r.err;
			goto fail;
		}
		rc = ssp_tx_decode(&b->txs[i], tp, tl);
		if (rc) goto fail;
	}
	b->ntx = ntx;
	rc = ssp_rd_end(&r);
	if (rc) goto fail;
	b->raw = raw;
	b->raw_len = n;
	return 0;
fail:
	ssp_block_free(b);
	return rc;
}

void ssp_block_free(ssp_block *b)
{
	free(b->txs);
	b->txs = NULL;
	b->ntx = 0;
}
