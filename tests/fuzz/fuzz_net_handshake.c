/*
 * fuzz_net_handshake.c — libFuzzer harness for the handshake's decoders
 * (net layer): the first 40 bytes are a peer's prelude for a fresh
 * initiator and a fresh responder (magic, version, ephemeral key — low-order
 * points included), the rest a HELLO decoded and verified against the
 * session. A forged HELLO must never verify; the ephemeral secret is wiped
 * whatever the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[crypto_kx_SECRETKEYBYTES];
	if (sodium_init() < 0) abort();
	if (size < NET_PRELUDE_LEN) return 0;
	for (int role = 0; role < 2; role++) {
		net_hs hs;
		net_hs_init(&hs, role == 0);
		int rc = net_hs_prelude(&hs, data);
		if (memcmp(hs.eph_sk, zero, sizeof zero)) abort();
		if (rc) continue;
		net_hello h;
		if (net_hello_decode(&h, data + NET_PRELUDE_LEN, size - NET_PRELUDE_LEN)) continue;
		if (!net_hs_check_hello(&h, &hs)) abort(); /* nobody holds a key for this transcript */
	}
	return 0;
}
