/*
 * enc.c — canonical binary encoding: a bounded, poison-on-error writer and a
 * strict reader, plus hex (core layer). See docs/internals/core.md.
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

void ssp_buf_init(ssp_buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

void ssp_buf_free(ssp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void ssp_buf_reset(ssp_buf *b)
{
	b->len = 0;
	b->err = 0;
}

static int buf_reserve(ssp_buf *b, size_t n)
{
	if (b->err) return 0;
	if (n > b->max - b->len || b->len + n < b->len) {
		b->err = SSP_ERR_TOOBIG;
		return 0;
	}
	if (b->len + n <= b->cap) return 1;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + n)
		cap *= 2;
	if (cap > b->max) cap = b->max;
	uint8_t *p = ssp_realloc(b->data, cap);
	if (!p) {
		b->err = SSP_ERR_NOMEM;
		return 0;
	}
	b->data = p;
	b->cap = cap;
	return 1;
}

void ssp_buf_put(ssp_buf *b, const void *p, size_t n)
{
	if (!n || !buf_reserve(b, n)) return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void ssp_buf_u8(ssp_buf *b, uint8_t v)
{
	ssp_buf_put(b, &v, 1);
}

void ssp_buf_u16(ssp_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	ssp_buf_put(b, x, 2);
}

void ssp_buf_u32(ssp_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	ssp_buf_put(b, x, 4);
}

void ssp_buf_u64(ssp_buf *b, uint64_t v)
{
	uint8_t x[8];
	ssp_le64_put(x, v);
	ssp_buf_put(b, x, 8);
}

void ssp_buf_bytes(ssp_buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		if (!b->err) b->err = SSP_ERR_TOOBIG;
		return;
	}
	ssp_buf_u32(b, (uint32_t)n);
	ssp_buf_put(b, p, n);
}

uint8_t *ssp_buf_take(ssp_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (!p) p = ssp_malloc(1); /* an empty result is still a valid pointer */
	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void ssp_rd_init(ssp_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

const uint8_t *ssp_rd_view(ssp_rd *r, size_t n)
{
	if (r->err) return NULL;
	if (n > r->len - r->off) {
		r->err = SSP_ERR_TRUNCATED;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

void ssp_rd_raw(ssp_rd *r, void *out, size_t n)
{
	const uint8_t *p = ssp_rd_view(r, n);
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

uint8_t ssp_rd_u8(ssp_rd *r)
{
	const uint8_t *p = ssp_rd_view(r, 1);
	return p ? p[0] : 0;
}

uint16_t ssp_rd_u16(ssp_rd *r)
{
	const uint8_t *p = ssp_rd_view(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t ssp_rd_u32(ssp_rd *r)
{
	const uint8_t *p = ssp_rd_view(r, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	               (uint32_t)p[3] << 24
	         : 0;
}

uint64_t ssp_rd_u64(ssp_rd *r)
{
	const uint8_t *p = ssp_rd_view(r, 8);
	return p ? ssp_le64_get(p) : 0;
}

int ssp_rd_bool(ssp_rd *r)
{
	uint8_t v = ssp_rd_u8(r);
	if (v > 1 && !r->err) r->err = SSP_ERR_NONCANON;
	return v == 1;
}

const uint8_t *ssp_rd_bytes(ssp_rd *r, size_t max, size_t *n)
{
	uint32_t len = ssp_rd_u32(r);
	*n = 0;
	if (r->err) return NULL;
	if (len > max) {
		r->err = SSP_ERR_TOOBIG;
		return NULL;
	}
	const uint8_t *p = ssp_rd_view(r, len);
	if (p) *n = len;
	return p;
}

int ssp_rd_end(ssp_rd *r)
{
	if (r->err) return r->err;
	if (r->off != r->len) return r->err = SSP_ERR_TRAILING;
	return 0;
}

void ssp_hex_encode(char *out, const void *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[s[i] >> 4];
		out[2 * i + 1] = d[s[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int ssp_hex_decode(void *out, size_t n, const char *hex, size_t hexlen)
{
	if (hexlen != 2 * n) return SSP_ERR_DECODE;
	uint8_t *o = out;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) return SSP_ERR_DECODE;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
