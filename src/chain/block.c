/*
 * block.c — block encoding with strict decoding (chain layer); the header
 * it starts with is in src/proto/header.c. Layout in include/ssp/chain.h.
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"

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
