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
 * and SSP_ERR_INVAL when a non-issuer issues.
 */
SSP_WUR int ssp_token_create(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
			     const char *name, uint8_t decimals, uint64_t max_supply, uint32_t flags);
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

/* Reads within a tx (state overlay). */
SSP_WUR int ssp_token_get(ssp_state *st, const char *symbol, ssp_token_info *out);
SSP_WUR int ssp_token_balance(ssp_state *st, const char *symbol, const ssp_addr *a, uint64_t *out);
SSP_WUR int ssp_token_allowance(ssp_state *st, const char *symbol, const ssp_addr *owner,
				const ssp_addr *spender, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
