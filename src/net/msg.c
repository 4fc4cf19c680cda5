/*
 * msg.c — the P2P wire messages (net layer): per-type size caps, the frame
 * header check and strict codecs over the canonical encoding (core enc.c).
 * Every decoder rejects truncated input, trailing bytes and counts beyond
 * their caps; nothing here allocates.
 */
#include <string.h>

#include "net/net_internal.h"

size_t net_msg_max(uint8_t type, size_t max_block)
{
	switch (type) {
	case NET_HELLO: return 32 + 64 + 4 + 1 + SSP_CHAIN_ID_MAX + 32 + 8 + 32 + 8 + 8 + 2;
	case NET_PING:
	case NET_PONG: return 8;
	case NET_ANNOUNCE: return 8 + 32 + 8 + 8;
	case NET_GET_BLOCKS: return 8 + 4;
	case NET_BLOCK: return max_block;
	case NET_INV:
	case NET_GET_TX: return 4 + 32 * NET_INV_MAX;
	case NET_TX: return SSP_TX_MAX;
	case NET_GET_ADDR: return 0;
	case NET_ADDR: return 4 + 6 * NET_ADDR_MAX;
	case NET_DISCONNECT: return 2 + 4 + NET_REASON_MAX;
	case NET_VOTE: return SSP_NET_VOTE_MAX;
	default: return 0;
	}
}

int net_frame_check(const uint8_t hdr[NET_FRAME_HDR], size_t max_block, size_t *clen,
                    uint8_t *type)
{
	uint32_t len = net_le32_get(hdr);
	*type = hdr[4];
	if (*type == 0 || *type > NET_TYPE_MAX) return SSP_ERR_DECODE;
	if (len < NET_ABYTES) return SSP_ERR_TRUNCATED;
	if (len - NET_ABYTES > net_msg_max(*type, max_block)) return SSP_ERR_TOOBIG;
	*clen = len;
	return 0;
}

static void head_put(ssp_buf *b, const ssp_net_head *h)
{
	ssp_buf_u64(b, h->height);
	ssp_buf_put(b, h->id.b, 32);
	ssp_buf_u64(b, h->finalized);
	ssp_buf_u64(b, h->slot);
}

static void head_get(ssp_rd *r, ssp_net_head *h)
{
	h->height = ssp_rd_u64(r);
	ssp_rd_raw(r, h->id.b, 32);
	h->finalized = ssp_rd_u64(r);
	h->slot = ssp_rd_u64(r);
	if (!r->err && h->finalized > h->height) r->err = SSP_ERR_RANGE;
}

void net_hello_signed_encode(ssp_buf *b, const net_hello *h)
{
	size_t cl = strlen(h->chain_id);
	ssp_buf_u32(b, h->version);
	ssp_buf_u8(b, (uint8_t)cl);
	ssp_buf_put(b, h->chain_id, cl);
	ssp_buf_put(b, h->genesis.b, 32);
	head_put(b, &h->head);
	ssp_buf_u16(b, h->listen_port);
}

void net_hello_encode(ssp_buf *b, const net_hello *h)
{
	ssp_buf_put(b, h->node_pk, 32);
	ssp_buf_put(b, h->sig, 64);
	net_hello_signed_encode(b, h);
}

int net_hello_decode(net_hello *h, const uint8_t *p, size_t n)
{
	ssp_rd r;
	memset(h, 0, sizeof *h);
	ssp_rd_init(&r, p, n);
	ssp_rd_raw(&r, h->node_pk, 32);
	ssp_rd_raw(&r, h->sig, 64);
	h->signed_part = p + r.off;
	h->version = ssp_rd_u32(&r);
	uint8_t cl = ssp_rd_u8(&r);
	if (!r.err && (cl == 0 || cl > SSP_CHAIN_ID_MAX)) return SSP_ERR_DECODE;
	const uint8_t *cid = ssp_rd_view(&r, cl);
	if (cid) {
		for (size_t i = 0; i < cl; i++)
			if (cid[i] < 0x21 || cid[i] > 0x7e) return SSP_ERR_DECODE;
		memcpy(h->chain_id, cid, cl);
	}
	ssp_rd_raw(&r, h->genesis.b, 32);
	head_get(&r, &h->head);
	h->listen_port = ssp_rd_u16(&r);
	int rc = ssp_rd_end(&r);
	if (!rc) h->signed_len = (size_t)(p + n - h->signed_part);
	return rc;
}

int net_ping_decode(uint64_t *nonce, const uint8_t *p, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	*nonce = ssp_rd_u64(&r);
	return ssp_rd_end(&r);
}

void net_announce_encode(ssp_buf *b, const ssp_net_head *h)
{
	head_put(b, h);
}

int net_announce_decode(ssp_net_head *h, const uint8_t *p, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	head_get(&r, h);
	return ssp_rd_end(&r);
}

void net_get_blocks_encode(ssp_buf *b, const net_get_blocks *g)
{
	ssp_buf_u64(b, g->from);
	ssp_buf_u32(b, g->count);
}

int net_get_blocks_decode(net_get_blocks *g, const uint8_t *p, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	g->from = ssp_rd_u64(&r);
	g->count = ssp_rd_u32(&r);
	int rc = ssp_rd_end(&r);
	if (rc) return rc;
	if (g->from == 0 || g->count == 0 || g->count > NET_GET_BLOCKS_MAX ||
	    g->from > UINT64_MAX - g->count)
		return SSP_ERR_RANGE;
	return 0;
}

void net_inv_encode(ssp_buf *b, const ssp_hash *ids, uint32_t n)
{
	ssp_buf_u32(b, n);
	for (uint32_t i = 0; i < n; i++)
		ssp_buf_put(b, ids[i].b, 32);
}

int net_inv_decode(net_inv *v, const uint8_t *p, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	v->n = ssp_rd_u32(&r);
	if (!r.err && (v->n == 0 || v->n > NET_INV_MAX)) return SSP_ERR_RANGE;
	v->ids = ssp_rd_view(&r, (size_t)v->n * 32);
	return ssp_rd_end(&r);
}

void net_addr_encode(ssp_buf *b, const net_addr *a, uint32_t n)
{
	ssp_buf_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		ssp_buf_u32(b, a[i].ip);
		ssp_buf_u16(b, a[i].port);
	}
}

int net_addr_decode(net_addr *a, uint32_t *count, const uint8_t *p, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	*count = ssp_rd_u32(&r);
	if (!r.err && *count > NET_ADDR_MAX) return SSP_ERR_RANGE;
	for (uint32_t i = 0; i < *count && !r.err; i++) {
		a[i].ip = ssp_rd_u32(&r);
		a[i].port = ssp_rd_u16(&r);
		if (!r.err && (a[i].port == 0 || a[i].ip == 0)) return SSP_ERR_RANGE;
	}
	return ssp_rd_end(&r);
}

void net_disconnect_encode(ssp_buf *b, uint16_t code, const char *reason)
{
	size_t l = strlen(reason);
	if (l > NET_REASON_MAX) l = NET_REASON_MAX;
	ssp_buf_u16(b, code);
	ssp_buf_bytes(b, reason, l);
}

int net_disconnect_decode(net_disconnect *d, const uint8_t *p, size_t n)
{
	ssp_rd r;
	size_t l = 0;
	ssp_rd_init(&r, p, n);
	d->code = ssp_rd_u16(&r);
	const uint8_t *s = ssp_rd_bytes(&r, NET_REASON_MAX, &l);
	int rc = ssp_rd_end(&r);
	if (rc) return rc;
	/* printable ASCII only: it goes into our log */
	for (size_t i = 0; i < l; i++)
		if (s[i] < 0x20 || s[i] > 0x7e) return SSP_ERR_DECODE;
	memcpy(d->reason, s, l);
	d->reason[l] = 0;
	return 0;
}

int net_empty_decode(const uint8_t *p, size_t n)
{
	(void)p;
	return n ? SSP_ERR_TRAILING : 0;
}

int net_block_height(uint64_t *height, const uint8_t *p, size_t n)
{
	if (n < 9) return SSP_ERR_TRUNCATED;
	if (p[0] != 1) return SSP_ERR_DECODE;
	*height = ssp_le64_get(p + 1);
	return 0;
}
