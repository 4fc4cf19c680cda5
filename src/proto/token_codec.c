/*
 * token_codec.c — the IOT_Coin tokens' wire formats (proto layer): the
 * symbol and name checks, a balance's state key and the strict payload
 * codec of the token transactions 0x10..0x15 (layouts in ssp/proto_token.h and docs/tokens.md).
 * Core only: the wallet (`ssp token …`) and a device build token txs with
 * it; the token module (src/modules/token*.c) checks and applies them.
 */
#include <string.h>

#include "ssp/proto_token.h"

int ssp_token_symbol_valid(const char *s)
{
	size_t n = 0;
	if (!s || s[0] < 'A' || s[0] > 'Z') return 0;
	for (; s[n]; n++) {
		if (n == SSP_TOKEN_SYMBOL_MAX) return 0;
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9'))) return 0;
	}
	return n >= 2;
}

int ssp_token_name_valid(const char *s, size_t n)
{
	return n > 0 && n <= SSP_TOKEN_NAME_MAX && ssp_utf8_valid(s, n, SSP_UTF8_NOCTRL);
}

/* symbol ‖ 0x00 ‖ addr: the key of a balance (the token module builds its keys with it) */
size_t ssp_token_balance_key(uint8_t *k, const char *symbol, const ssp_addr *a)
{
	if (!ssp_token_symbol_valid(symbol)) return 0;
	size_t n = strlen(symbol);
	memcpy(k, symbol, n);
	k[n++] = 0;
	memcpy(k + n, a->b, SSP_ADDR_LEN);
	return n + SSP_ADDR_LEN;
}

static int is_token_type(uint16_t type)
{
	return type >= SSP_TX_TOKEN_CREATE && type <= SSP_TX_TOKEN_TRANSFER_FROM;
}

void ssp_token_payload_encode(ssp_buf *b, uint16_t type, const ssp_token_payload *p)
{
	size_t sl = strnlen(p->symbol, sizeof p->symbol), nl = strnlen(p->name, sizeof p->name);
	if (!is_token_type(type) || sl > SSP_TOKEN_SYMBOL_MAX || nl > SSP_TOKEN_NAME_MAX) {
		if (!b->err) b->err = SSP_ERR_INVAL;
		return;
	}
	ssp_buf_u8(b, (uint8_t)sl);
	ssp_buf_put(b, p->symbol, sl);
	switch (type) {
	case SSP_TX_TOKEN_CREATE:
		ssp_buf_u8(b, (uint8_t)nl);
		ssp_buf_put(b, p->name, nl);
		ssp_buf_u8(b, p->decimals);
		ssp_buf_u64(b, p->max_supply);
		ssp_buf_u32(b, p->flags);
		return;
	case SSP_TX_TOKEN_ISSUE:
	case SSP_TX_TOKEN_TRANSFER:
		ssp_buf_put(b, p->to.b, SSP_ADDR_LEN);
		break;
	case SSP_TX_TOKEN_APPROVE:
		ssp_buf_put(b, p->spender.b, SSP_ADDR_LEN);
		break;
	case SSP_TX_TOKEN_TRANSFER_FROM:
		ssp_buf_put(b, p->owner.b, SSP_ADDR_LEN);
		ssp_buf_put(b, p->to.b, SSP_ADDR_LEN);
		break;
	default: /* burn: symbol and amount only */
		break;
	}
	ssp_buf_u64(b, p->amount);
}

int ssp_token_payload_decode(ssp_token_payload *p, uint16_t type, const uint8_t *buf, size_t n)
{
	ssp_rd r;
	memset(p, 0, sizeof *p);
	if (!is_token_type(type)) return SSP_ERR_TXTYPE;
	ssp_rd_init(&r, buf, n);
	uint8_t sl = ssp_rd_u8(&r);
	const uint8_t *sym = sl <= SSP_TOKEN_SYMBOL_MAX ? ssp_rd_view(&r, sl) : NULL;
	if (!sym) return SSP_ERR_PAYLOAD;
	memcpy(p->symbol, sym, sl);
	if (memchr(sym, 0, sl) || !ssp_token_symbol_valid(p->symbol)) return SSP_ERR_PAYLOAD;
	switch (type) {
	case SSP_TX_TOKEN_CREATE: {
		uint8_t nl = ssp_rd_u8(&r);
		const uint8_t *name = ssp_rd_view(&r, nl);
		if (!name || !ssp_token_name_valid((const char *)name, nl)) return SSP_ERR_PAYLOAD;
		memcpy(p->name, name, nl);
		p->decimals = ssp_rd_u8(&r);
		p->max_supply = ssp_rd_u64(&r);
		p->flags = ssp_rd_u32(&r);
		if (ssp_rd_end(&r) || p->decimals > SSP_TOKEN_DECIMALS_MAX || p->max_supply == 0 ||
		    p->max_supply > INT64_MAX ||
		    (p->flags & ~(uint32_t)(SSP_TOKEN_FLAG_BURNABLE | SSP_TOKEN_FLAG_MINTABLE)))
			return SSP_ERR_PAYLOAD;
		return 0;
	}
	case SSP_TX_TOKEN_ISSUE:
	case SSP_TX_TOKEN_TRANSFER:
		ssp_rd_raw(&r, p->to.b, SSP_ADDR_LEN);
		break;
	case SSP_TX_TOKEN_APPROVE:
		ssp_rd_raw(&r, p->spender.b, SSP_ADDR_LEN);
		break;
	case SSP_TX_TOKEN_TRANSFER_FROM:
		ssp_rd_raw(&r, p->owner.b, SSP_ADDR_LEN);
		ssp_rd_raw(&r, p->to.b, SSP_ADDR_LEN);
		break;
	default:
		break;
	}
	p->amount = ssp_rd_u64(&r);
	if (ssp_rd_end(&r) || p->amount > INT64_MAX ||
	    (p->amount == 0 && type != SSP_TX_TOKEN_APPROVE))
		return SSP_ERR_PAYLOAD;
	return 0;
}
