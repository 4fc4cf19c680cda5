/*
 * fuzz_token_payload.c — libFuzzer harness for the IOT_Coin payload decoder
 * (modules layer). The first input byte picks the tx type (0x10 + b % 6),
 * the rest is the payload. On success every range the decoder promises
 * must hold and the encoder must give back exactly the payload (one byte
 * string per payload); the same bytes are also decoded as every other
 * token type under the same rules. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

static void round_trip(uint16_t type, const uint8_t *p, size_t n)
{
	ssp_token_payload t;
	ssp_buf b;
	int rc = ssp_token_payload_decode(&t, type, p, n);
	check(rc == 0 || rc == SSP_ERR_PAYLOAD);
	if (rc) return;
	check(ssp_token_symbol_valid(t.symbol));
	if (type == SSP_TX_TOKEN_CREATE) {
		check(ssp_token_name_valid(t.name, strlen(t.name)));
		check(t.decimals <= SSP_TOKEN_DECIMALS_MAX);
		check(t.max_supply >= 1 && t.max_supply <= INT64_MAX);
		check((t.flags & ~(uint32_t)3) == 0 && t.amount == 0);
	} else {
		check(t.amount <= INT64_MAX);
		check(t.amount > 0 || type == SSP_TX_TOKEN_APPROVE);
	}
	ssp_buf_init(&b, n + 64);
	ssp_token_payload_encode(&b, type, &t);
	check(b.err == 0 && b.len == n && memcmp(b.data, p, n) == 0);
	ssp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssp_token_payload t;
	if (size == 0) return 0;
	uint16_t type = (uint16_t)(SSP_TX_TOKEN_CREATE + data[0] % 6);
	round_trip(type, data + 1, size - 1);
	for (uint16_t other = SSP_TX_TOKEN_CREATE; other <= SSP_TX_TOKEN_TRANSFER_FROM; other++)
		if (other != type) round_trip(other, data + 1, size - 1);
	check(ssp_token_payload_decode(&t, SSP_TX_TRANSFER, data, size) == SSP_ERR_TXTYPE);
	return 0;
}
