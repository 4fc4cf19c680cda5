/*
 * ssp/token.h — IOT_Coin, the native vendor-token module (modules layer;
 * ARCHITECTURE §8). Any account creates a token (symbol unique, creation
 * fee to the ecosystem pool), its creator issues up to max_supply, holders
 * transfer, burn and approve spenders (EIP-20 semantics with u64 amounts
 * and checked arithmetic). Events `Transfer` and `Approval` go into the
 * receipt. The operations below are the same code the token transactions
 * run, and what Lua contracts reach through `token.*`.
 */
#ifndef SSP_TOKEN_H
#define SSP_TOKEN_H

#include "ssp/modules.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* State tables owned by the module (ids in the chain's state table space). */
enum {
	SSP_TB_TOKEN = SSP_TB_MODULE_FIRST + 0,     /* symbol -> token record */
	SSP_TB_TOKEN_BAL = SSP_TB_MODULE_FIRST + 1, /* symbol \0 addr -> u64 */
	SSP_TB_TOKEN_ALW = SSP_TB_MODULE_FIRST + 2, /* symbol \0 owner spender -> u64 */
};

enum { SSP_TOKEN_FLAG_BURNABLE = 1, SSP_TOKEN_FLAG_MINTABLE = 2 }; /* default both */

typedef struct {
	char symbol[SSP_TOKEN_SYMBOL_MAX + 1];
	char name[SSP_TOKEN_NAME_MAX + 1];
	uint8_t decimals;
	uint64_t max_supply; /* base units */
	uint64_t supply;     /* issued minus burned */
	ssp_addr issuer;
	uint32_t flags;
	uint64_t created_height;
} ssp_token_info;

extern const ssp_module ssp_token_module;

/*
 * Operations on behalf of `caller` (a tx sender, or a contract address),
 * inside a tx being applied: they change c->st and append events to
 * c->rcpt. Errors (SSP_ERR_*): INVAL for malformed symbol/name/decimals,
 * EXISTS for a taken symbol, NOTFOUND for an unknown token, BALANCE,
 * OVERFLOW (over max_supply or u64), PAYLOAD for zero amounts,
 * and SSP_ERR_INVAL when a non-issuer issues. symbol and name are C
 * strings: a caller holding counted bytes (a tx payload, a Lua string)
 * must refuse a NUL inside them first, or "ABC\0x" would act as "ABC"
 * (token_tx.c and contract_token.c do).
 */
SSP_WUR int ssp_token_create(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                             const char *name, uint8_t decimals, uint64_t max_supply,
                             uint32_t flags);
SSP_WUR int ssp_token_issue(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                            const ssp_addr *to, uint64_t amount);
SSP_WUR int ssp_token_transfer(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                               const ssp_addr *to, uint64_t amount);
SSP_WUR int ssp_token_burn(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                           uint64_t amount);
SSP_WUR int ssp_token_approve(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                              const ssp_addr *spender, uint64_t amount);
SSP_WUR int ssp_token_transfer_from(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                                    const ssp_addr *from, const ssp_addr *to, uint64_t amount);

/*
 * ssp_token_create details: max_supply must be 1..INT64_MAX (SSP_ERR_RANGE
 * above) so that every amount is representable as an event's integer;
 * flags may only hold BURNABLE|MINTABLE; the creation fee
 * (params->token_create_fee) moves from the caller's SSP balance to the
 * ecosystem pool (SSP_ERR_BALANCE if short). A token created without
 * MINTABLE has a fixed supply: all of max_supply is issued to the caller
 * at creation. ssp_token_approve accepts 0 (revokes) and amounts up to
 * INT64_MAX (SSP_ERR_RANGE above); an allowance that is too small for
 * ssp_token_transfer_from is SSP_ERR_BALANCE. Each operation is atomic:
 * on error it leaves c->st and c->rcpt as they were.
 */

/* Reads within a tx (state overlay). */
SSP_WUR int ssp_token_get(ssp_state *st, const char *symbol, ssp_token_info *out);
SSP_WUR int ssp_token_balance(ssp_state *st, const char *symbol, const ssp_addr *a, uint64_t *out);
/*
 * The state key (without the table byte) of a's balance of `symbol` in
 * SSP_TB_TOKEN_BAL: symbol ‖ 0x00 ‖ addr. k holds SSP_TOKEN_SYMBOL_MAX + 1 +
 * SSP_ADDR_LEN bytes; returns the length, 0 for an invalid symbol.
 */
size_t ssp_token_balance_key(uint8_t *k, const char *symbol, const ssp_addr *a);
SSP_WUR int ssp_token_allowance(ssp_state *st, const char *symbol, const ssp_addr *owner,
                                const ssp_addr *spender, uint64_t *out);

/*
 * The token's pseudo-address, the emitter of its events: the first 20
 * bytes of SHA-256("ssp/token/" || symbol). Any string; thread-safe.
 */
void ssp_token_address(ssp_addr *out, const char *symbol);
/* 1 if symbol matches [A-Z][A-Z0-9]{1,11}, else 0. */
int ssp_token_symbol_valid(const char *symbol);
/* 1 if name[0..n) is 1..64 bytes of strict UTF-8 without C0/C1 control characters or DEL. */
int ssp_token_name_valid(const char *name, size_t n);

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

/*
 * Reads over the committed state (RPC threads and tests): visits the
 * tokens with symbol >= start (NULL: from the first) in byte order until
 * fn returns non-zero (returned) or the table ends (0). rt is a read txn
 * of the chain's store; info is valid during the call only.
 */
typedef int (*ssp_token_visit)(void *arg, const ssp_token_info *info);
SSP_WUR int ssp_token_scan(const ssp_chain *c, ssp_txn *rt, const char *start, ssp_token_visit fn,
                           void *arg);

#ifdef __cplusplus
}
#endif
#endif
