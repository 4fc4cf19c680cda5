/*
 * fuzz_contract_payload.c — libFuzzer harness for the contract payload
 * decoders (modules layer). The first input byte picks deploy (even) or
 * call (odd); the rest is the payload, decoded as both kinds. On success
 * every promise of the decoder must hold (gas in range, args one canonical
 * table, a source of UTF-8 text within the limit and not bytecode, a
 * function name that is an identifier) and the encoder must give back
 * exactly the payload. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/contract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

static void deploy(const uint8_t *p, size_t n)
{
	ssp_contract_deploy d;
	ssp_buf b;
	int rc = ssp_contract_deploy_decode(&d, p, n);
	check(rc == 0 || rc == SSP_ERR_PAYLOAD || rc == SSP_ERR_TOOBIG ||
	      rc == SSP_ERR_VM_BYTECODE);
	if (rc) return;
	check(d.gas_limit >= 1 && d.gas_limit <= SSP_CONTRACT_GAS_MAX);
	check(d.src_len >= 1 && d.src_len <= SSP_VM_SOURCE_MAX && d.src[0] != 0x1b);
	check(memchr(d.src, 0, d.src_len) == NULL);
	check(d.args_len >= 5 && d.args[0] == SSP_VAL_TABLE &&
	      ssp_val_check(d.args, d.args_len) == 0);
	ssp_buf_init(&b, n + 64);
	ssp_contract_deploy_encode(&b, &d);
	check(b.err == 0 && b.len == n && memcmp(b.data, p, n) == 0);
	ssp_buf_free(&b);
}

static void call(const uint8_t *p, size_t n)
{
	ssp_contract_call c;
	ssp_buf b;
	int rc = ssp_contract_call_decode(&c, p, n);
	check(rc == 0 || rc == SSP_ERR_PAYLOAD);
	if (rc) return;
	size_t fl = strlen(c.fn);
	check(fl >= 1 && fl <= SSP_VM_NAME_MAX);
	check(c.gas_limit >= 1 && c.gas_limit <= SSP_CONTRACT_GAS_MAX);
	check(c.args_len >= 5 && c.args[0] == SSP_VAL_TABLE &&
	      ssp_val_check(c.args, c.args_len) == 0);
	ssp_buf_init(&b, n + 64);
	ssp_contract_call_encode(&b, &c);
	check(b.err == 0 && b.len == n && memcmp(b.data, p, n) == 0);
	ssp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) return 0;
	if (data[0] & 1) {
		call(data + 1, size - 1);
		deploy(data + 1, size - 1);
	} else {
		deploy(data + 1, size - 1);
		call(data + 1, size - 1);
	}
	return 0;
}
