/*
 * receipt.c — transaction receipt encoding and strict decoding (proto layer:
 * the chain writes receipts, a light client decodes one it has proven).
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/proto.h"

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
	uint8_t *d = ssp_malloc(n ? n : 1);
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

/* ------------------------------------------------------------------ events */

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The event count at the front of the events (0 when there are none). */
static uint32_t events_count(const ssp_receipt *r)
{
	const uint8_t *p = r->events;
	if (r->events_len < 4) return 0;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int ssp_receipt_emit(ssp_receipt *r, const ssp_addr *emitter, const char *name,
                     const uint8_t *fields, size_t n)
{
	size_t nl = strlen(name);
	if (nl == 0 || nl > 64 || n > RECEIPT_DATA_MAX) return SSP_ERR_INVAL;
	size_t add = SSP_ADDR_LEN + 1 + nl + 4 + n;
	size_t base = r->events_len ? r->events_len : 4;
	if (base + add > RECEIPT_DATA_MAX) return SSP_ERR_TOOBIG;
	uint32_t count = events_count(r) + 1;
	uint8_t *p = ssp_realloc(r->events, base + add);
	if (!p) return SSP_ERR_NOMEM;
	r->events = p;
	put_u32(p, count);
	uint8_t *w = p + base;
	memcpy(w, emitter->b, SSP_ADDR_LEN);
	w += SSP_ADDR_LEN;
	*w++ = (uint8_t)nl;
	memcpy(w, name, nl);
	w += nl;
	put_u32(w, (uint32_t)n);
	if (n) memcpy(w + 4, fields, n);
	r->events_len = (uint32_t)(base + add);
	return 0;
}

uint64_t ssp_receipt_events_mark(const ssp_receipt *r)
{
	return (uint64_t)events_count(r) << 32 | r->events_len;
}

void ssp_receipt_events_rollback(ssp_receipt *r, uint64_t mark)
{
	uint32_t count = (uint32_t)(mark >> 32), len = (uint32_t)mark;
	if (len > r->events_len) return;
	r->events_len = count ? len : 0;
	if (count) put_u32(r->events, count);
}

int ssp_events_next(const uint8_t *p, size_t n, size_t *off, ssp_event *ev)
{
	ssp_rd r;
	if (n == 0) return 0;
	if (*off == 0) *off = 4;
	if (*off >= n) return 0;
	ssp_rd_init(&r, p + *off, n - *off);
	ssp_rd_raw(&r, ev->emitter.b, SSP_ADDR_LEN);
	uint8_t nl = ssp_rd_u8(&r);
	const uint8_t *name = ssp_rd_view(&r, nl);
	size_t fl;
	ev->fields = ssp_rd_bytes(&r, RECEIPT_DATA_MAX, &fl);
	if (r.err || nl == 0 || nl > 64 || memchr(name, 0, nl)) return SSP_ERR_DECODE;
	memcpy(ev->name, name, nl);
	ev->name[nl] = 0;
	ev->fields_len = fl;
	*off += r.off;
	return 1;
}
