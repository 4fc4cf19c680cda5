/*
 * fuzz_net_msg.c — libFuzzer harness for every P2P message decoder (net
 * layer). The first byte picks the message type, the rest is its payload:
 * HELLO, PING/PONG, ANNOUNCE, GET_BLOCKS, INV/GET_TX, GET_ADDR, ADDR,
 * DISCONNECT and the block-height peek. Each accepted payload must be
 * within its type's cap and re-encode to exactly the input (one encoding
 * per message, so the decoders are strict); any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(ssp_buf *b, const uint8_t *p, size_t n)
{
	if (b->err || b->len != n || memcmp(b->data, p, n)) abort();
	ssp_buf_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	uint8_t type = data[0];
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	ssp_buf b;
	ssp_buf_init(&b, 1 << 20);
	switch (type % (NET_TYPE_MAX + 1)) {
	case NET_HELLO: {
		net_hello h;
		if (net_hello_decode(&h, p, n)) break;
		if (n > net_msg_max(NET_HELLO, 0) || h.signed_part + h.signed_len != p + n) abort();
		net_hello_encode(&b, &h);
		same(&b, p, n);
		return 0;
	}
	case NET_PING:
	case NET_PONG: {
		uint64_t v;
		if (!net_ping_decode(&v, p, n) && n != 8) abort();
		break;
	}
	case NET_ANNOUNCE: {
		ssp_net_head h;
		if (net_announce_decode(&h, p, n)) break;
		if (h.finalized > h.height) abort();
		net_announce_encode(&b, &h);
		same(&b, p, n);
		return 0;
	}
	case NET_GET_BLOCKS: {
		net_get_blocks g;
		if (net_get_blocks_decode(&g, p, n)) break;
		if (!g.count || g.count > NET_GET_BLOCKS_MAX || !g.from) abort();
		net_get_blocks_encode(&b, &g);
		same(&b, p, n);
		return 0;
	}
	case NET_INV:
	case NET_GET_TX: {
		net_inv v;
		if (net_inv_decode(&v, p, n)) break;
		if (!v.n || v.n > NET_INV_MAX) abort();
		ssp_hash ids[NET_INV_MAX];
		memcpy(ids, v.ids, 32 * (size_t)v.n);
		net_inv_encode(&b, ids, v.n);
		same(&b, p, n);
		return 0;
	}
	case NET_GET_ADDR:
		if (!net_empty_decode(p, n) && n) abort();
		break;
	case NET_ADDR: {
		net_addr a[NET_ADDR_MAX];
		uint32_t k;
		if (net_addr_decode(a, &k, p, n)) break;
		if (k > NET_ADDR_MAX) abort();
		net_addr_encode(&b, a, k);
		same(&b, p, n);
		return 0;
	}
	case NET_DISCONNECT: {
		net_disconnect d;
		if (net_disconnect_decode(&d, p, n)) break;
		if (strlen(d.reason) > NET_REASON_MAX) abort();
		net_disconnect_encode(&b, d.code, d.reason);
		same(&b, p, n);
		return 0;
	}
	default: {
		uint64_t h;
		if (!net_block_height(&h, p, n) && (n < 9 || p[0] != 1)) abort();
	}
	}
	ssp_buf_free(&b);
	return 0;
}
