/*
 * fuzz_net_frame.c — libFuzzer harness for the P2P frame layer (net layer):
 * splits arbitrary bytes into frames the way a connection does
 * (net_frame_check on each 5-byte header, then the body) and decrypts each
 * body with a fixed secretstream key. Checks: an accepted header's length
 * is within its type's cap plus the tag, never more than the bytes a
 * block frame may hold; decryption of forged bytes never succeeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = {1, 2, 3};
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES] = {0};
	crypto_secretstream_xchacha20poly1305_state st;
	size_t off = 0, max_block = 1 << 16;
	if (sodium_init() < 0) abort();
	crypto_secretstream_xchacha20poly1305_init_pull(&st, hdr, key);
	while (size - off >= NET_FRAME_HDR) {
		size_t clen;
		uint8_t type;
		if (net_frame_check(data + off, max_block, &clen, &type)) break;
		if (clen < NET_ABYTES || clen - NET_ABYTES > net_msg_max(type, max_block)) abort();
		if (size - off - NET_FRAME_HDR < clen) break;
		uint8_t *pt = malloc(clen);
		unsigned long long plen;
		unsigned char tag;
		if (!pt) abort();
		if (!crypto_secretstream_xchacha20poly1305_pull(&st, pt, &plen, &tag,
		                                                data + off + NET_FRAME_HDR, clen,
		                                                data + off, NET_FRAME_HDR))
			abort(); /* a forgery */
		free(pt);
		off += NET_FRAME_HDR + clen;
	}
	return 0;
}
