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
#include "ssp/proto_token.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The symbol and name limits and checks, tx ids, flags, payload codec, state
 * table ids and the balance key: ssp/proto_token.h.
 */

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
SSP_WUR int ssp_token_allowance(ssp_state *st, const char *symbol, const ssp_addr *owner,
                                const ssp_addr *spender, uint64_t *out);

/*
 * The token's pseudo-address, the emitter of its events: the first 20
 * bytes of SHA-256("ssp/token/" || symbol). Any string; thread-safe.
 */
void ssp_token_address(ssp_addr *out, const char *symbol);

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
