/*
 * receipt.c — transaction receipt encoding (chain layer).
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"

#define RECEIPT_DATA_MAX (1024 * 1024)

void ssp_receipt_encode(ssp_buf *b, const ssp_receipt *r)
{
	ssp_buf_put(b, r->txid.b, 32);
	ssp_buf_u8(b, r->status);
	ssp_buf_u32(b, (uint32_t)r->error);
	ssp_buf_u64(b, r->fee_paid);
	ssp_buf_u64(b, r->gas_used);
	ssp_buf_bytes(b, r->ret, r->ret_len);
	ssp_buf_bytes(b, r->events, r->events_len);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n) memcpy(d, p, n);
	return d;
}

int ssp_receipt_decode(ssp_receipt *r, const uint8_t *p, size_t n)
{
	ssp_rd rd;
	size_t rl, el;
	memset(r, 0, sizeof *r);
	ssp_rd_init(&rd, p, n);
	ssp_rd_raw(&rd, r->txid.b, 32);
	r->status = ssp_rd_u8(&rd);
	r->error = (int32_t)ssp_rd_u32(&rd);
	r->fee_paid = ssp_rd_u64(&rd);
	r->gas_used = ssp_rd_u64(&rd);
	const uint8_t *ret = ssp_rd_bytes(&rd, RECEIPT_DATA_MAX, &rl);
	const uint8_t *ev = ssp_rd_bytes(&rd, RECEIPT_DATA_MAX, &el);
	int rc = ssp_rd_end(&rd);
	if (rc) return rc;
	if (r->status > SSP_RCPT_FAILED) return SSP_ERR_NONCANON;
	r->ret = dup_bytes(ret, rl);
	r->events = dup_bytes(ev, el);
	if (!r->ret || !r->events) {
		ssp_receipt_free(r);
		return SSP_ERR_NOMEM;
	}
	r->ret_len = (uint32_t)rl;
	r->events_len = (uint32_t)el;
	return 0;
}

void ssp_receipt_free(ssp_receipt *r)
{
	free(r->ret);
	free(r->events);
	r->ret = r->events = NULL;
	r->ret_len = r->events_len = 0;
}
