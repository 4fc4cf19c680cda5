/*
 * ssp/proto_token.h — the IOT_Coin tokens' wire formats (libssp_proto): the
 * token tx ids, the symbol and name rules and the payload codec of every
 * token tx, the module's state table ids and a balance's state key. Core
 * only, so a wallet (`ssp`) or a device builds and checks token txs, and
 * proves a balance, without the node. Token state and operations are in
 * ssp/token.h (modules layer); user docs in docs/tokens.md.
 */
#ifndef SSP_PROTO_TOKEN_H
#define SSP_PROTO_TOKEN_H

#include "ssp/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* all of it is API (SSP_API in ssp/core.h) */

#define SSP_TOKEN_SYMBOL_MAX 12 /* [A-Z0-9], 2..12, starting with a letter */
#define SSP_TOKEN_NAME_MAX 64   /* UTF-8 */
#define SSP_TOKEN_DECIMALS_MAX 18

enum {
	SSP_TX_TOKEN_CREATE = 0x10,
	SSP_TX_TOKEN_ISSUE = 0x11,
	SSP_TX_TOKEN_TRANSFER = 0x12,
	SSP_TX_TOKEN_BURN = 0x13,
	SSP_TX_TOKEN_APPROVE = 0x14,
	SSP_TX_TOKEN_TRANSFER_FROM = 0x15,
};

enum { SSP_TOKEN_FLAG_BURNABLE = 1, SSP_TOKEN_FLAG_MINTABLE = 2 }; /* default both */

/*
 * State tables owned by the token module (ids in the chain's state table
 * space, ssp/proto.h): a state proof of a balance names SSP_TB_TOKEN_BAL and
 * ssp_token_balance_key's key.
 */
enum {
	SSP_TB_TOKEN = SSP_TB_MODULE_FIRST + 0,     /* symbol -> token record */
	SSP_TB_TOKEN_BAL = SSP_TB_MODULE_FIRST + 1, /* symbol \0 addr -> u64 */
	SSP_TB_TOKEN_ALW = SSP_TB_MODULE_FIRST + 2, /* symbol \0 owner spender -> u64 */
};

/* 1 if symbol matches [A-Z][A-Z0-9]{1,11}, else 0. */
int ssp_token_symbol_valid(const char *symbol);
/* 1 if name[0..n) is 1..64 bytes of strict UTF-8 without C0/C1 control characters or DEL. */
int ssp_token_name_valid(const char *name, size_t n);
/*
 * The state key (without the table byte) of a's balance of `symbol` in
 * SSP_TB_TOKEN_BAL: symbol ‖ 0x00 ‖ addr. k holds SSP_TOKEN_SYMBOL_MAX + 1 +
 * SSP_ADDR_LEN bytes; returns the length, 0 for an invalid symbol.
 */
size_t ssp_token_balance_key(uint8_t *k, const char *symbol, const ssp_addr *a);

/*
 * Payloads of the token transactions (integers little-endian, strings
 * length-prefixed by one byte, addresses 20 raw bytes):
 *   create        u8 len + symbol | u8 len + name | u8 decimals |
 *                 u64 max_supply | u32 flags
 *   issue         u8 len + symbol | to[20] | u64 amount
 *   transfer      u8 len + symbol | to[20] | u64 amount
 *   burn          u8 len + symbol | u64 amount
 *   approve       u8 len + symbol | spender[20] | u64 amount
 *   transfer_from u8 len + symbol | owner[20] | to[20] | u64 amount
 * One struct serves every type; the fields a type does not carry are
 * ignored by the encoder and zeroed by the decoder.
 */
typedef struct {
	char symbol[SSP_TOKEN_SYMBOL_MAX + 1];
	char name[SSP_TOKEN_NAME_MAX + 1]; /* create */
	uint8_t decimals;                  /* create */
	uint64_t max_supply;               /* create, base units */
	uint32_t flags;                    /* create */
	ssp_addr to;                       /* issue, transfer, transfer_from */
	ssp_addr owner;                    /* transfer_from: whose tokens move */
	ssp_addr spender;                  /* approve */
	uint64_t amount;                   /* all but create, base units */
} ssp_token_payload;

/*
 * Appends the payload of a token tx of `type` to b (b->err becomes
 * SSP_ERR_INVAL for a type that is not a token type or a symbol/name
 * too long to encode; the ranges are the decoder's business).
 */
void ssp_token_payload_encode(ssp_buf *b, uint16_t type, const ssp_token_payload *p);
/*
 * Strictly decodes and range-checks the payload of a token tx of `type`:
 * symbol syntax, name 1..64 bytes of UTF-8 without control characters,
 * decimals <= 18, max_supply 1..INT64_MAX, known flags, amounts
 * 1..INT64_MAX (approve: 0..INT64_MAX), no trailing bytes.
 * SSP_ERR_PAYLOAD on any violation, SSP_ERR_TXTYPE for another type.
 */
SSP_WUR int ssp_token_payload_decode(ssp_token_payload *p, uint16_t type, const uint8_t *buf,
                                     size_t n);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
