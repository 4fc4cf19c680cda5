/*
 * contract_codec.c — the contract module's wire formats (proto layer):
 * strict decoding and encoding of the deploy and call payloads, contract
 * address derivation and the minimum fee of a contract tx. Pure functions
 * without the VM, shared by the chain side and the CLI.
 */
#include <string.h>

#include "ssp/proto_contract.h"

/* A canonical table value (the argument list). */
static int args_ok(const uint8_t *p, size_t n)
{
	return n >= 5 && p[0] == SSP_VAL_TABLE && ssp_val_check(p, n) == 0;
}

static int ident_ok(const uint8_t *p, size_t n)
{
	if (n == 0 || n > SSP_VM_NAME_MAX) return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
	}
	return 1;
}

int ssp_contract_deploy_decode(ssp_contract_deploy *d, const uint8_t *p, size_t n)
{
	ssp_rd r;
	size_t sl = 0, al = 0;
	memset(d, 0, sizeof *d);
	ssp_rd_init(&r, p, n);
	d->gas_limit = ssp_rd_u64(&r);
	d->src = ssp_rd_bytes(&r, SSP_TX_PAYLOAD_MAX, &sl);
	d->args = ssp_rd_bytes(&r, SSP_CONTRACT_ARGS_MAX, &al);
	if (ssp_rd_end(&r)) return SSP_ERR_PAYLOAD;
	d->src_len = (uint32_t)sl;
	d->args_len = (uint32_t)al;
	if (d->gas_limit == 0 || d->gas_limit > SSP_CONTRACT_GAS_MAX) return SSP_ERR_PAYLOAD;
	if (sl > SSP_VM_SOURCE_MAX) return SSP_ERR_TOOBIG;
	if (sl > 0 && d->src[0] == 0x1b) return SSP_ERR_VM_BYTECODE;
	if (sl == 0 || !ssp_utf8_valid(d->src, sl, 0)) return SSP_ERR_PAYLOAD; /* no NUL */
	if (!args_ok(d->args, al)) return SSP_ERR_PAYLOAD;
	return 0;
}

int ssp_contract_call_decode(ssp_contract_call *c, const uint8_t *p, size_t n)
{
	ssp_rd r;
	size_t al = 0;
	memset(c, 0, sizeof *c);
	ssp_rd_init(&r, p, n);
	ssp_rd_raw(&r, c->contract.b, SSP_ADDR_LEN);
	uint8_t fl = ssp_rd_u8(&r);
	const uint8_t *fn = ssp_rd_view(&r, fl);
	c->args = ssp_rd_bytes(&r, SSP_CONTRACT_ARGS_MAX, &al);
	c->value = ssp_rd_u64(&r);
	c->gas_limit = ssp_rd_u64(&r);
	if (ssp_rd_end(&r)) return SSP_ERR_PAYLOAD;
	if (!ident_ok(fn, fl)) return SSP_ERR_PAYLOAD;
	memcpy(c->fn, fn, fl);
	c->fn[fl] = 0;
	c->args_len = (uint32_t)al;
	if (c->gas_limit == 0 || c->gas_limit > SSP_CONTRACT_GAS_MAX) return SSP_ERR_PAYLOAD;
	if (!args_ok(c->args, al)) return SSP_ERR_PAYLOAD;
	return 0;
}

void ssp_contract_deploy_encode(ssp_buf *b, const ssp_contract_deploy *d)
{
	ssp_buf_u64(b, d->gas_limit);
	ssp_buf_bytes(b, d->src, d->src_len);
	ssp_buf_bytes(b, d->args, d->args_len);
}

void ssp_contract_call_encode(ssp_buf *b, const ssp_contract_call *c)
{
	size_t fl = strnlen(c->fn, sizeof c->fn);
	if (fl == 0 || fl > SSP_VM_NAME_MAX) {
		if (!b->err) b->err = SSP_ERR_INVAL;
		return;
	}
	ssp_buf_put(b, c->contract.b, SSP_ADDR_LEN);
	ssp_buf_u8(b, (uint8_t)fl);
	ssp_buf_put(b, c->fn, fl);
	ssp_buf_bytes(b, c->args, c->args_len);
	ssp_buf_u64(b, c->value);
	ssp_buf_u64(b, c->gas_limit);
}

void ssp_contract_address(ssp_addr *out, const ssp_addr *creator, uint64_t nonce)
{
	static const char tag[] = "ssp/contract/";
	uint8_t le[8];
	ssp_hash h;
	ssp_le64_put(le, nonce);
	const void *parts[3] = {tag, creator->b, le};
	size_t lens[3] = {sizeof tag - 1, SSP_ADDR_LEN, 8};
	ssp_sha256v(&h, parts, lens, 3);
	memcpy(out->b, h.b, SSP_ADDR_LEN);
}

int ssp_contract_min_fee(const ssp_params *p, size_t txlen, uint64_t gas_limit, uint64_t *out)
{
	uint64_t per, gas, fee;
	if (ssp_mul_u64(&per, p->fee_per_byte, txlen) || ssp_add_u64(&fee, p->min_fee, per) ||
	    ssp_mul_u64(&gas, p->gas_price, gas_limit) || ssp_add_u64(&fee, fee, gas))
		return SSP_ERR_OVERFLOW;
	*out = fee;
	return 0;
}
