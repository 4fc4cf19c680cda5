/*
 * token_tx.c — the IOT_Coin transaction types 0x10..0x15 (modules layer):
 * check/spend/apply/to_json for each type, over the strict payload codec of
 * libssp_proto (src/proto/token_codec.c; layouts in ssp/proto_token.h and
 * docs/tokens.md). apply runs the operations of
 * token.c with the sender as caller; their error makes the tx invalid, so
 * it is not included and the mempool drops it.
 */
#include <string.h>

#include "token_internal.h"

/* ------------------------------------------------------------- the types */

static int token_check(void *mod, const ssp_tx *tx)
{
	(void)mod;
	ssp_token_payload p;
	return ssp_token_payload_decode(&p, tx->type, tx->payload, tx->payload_len)
	           ? SSP_ERR_PAYLOAD
	           : 0;
}

/*
 * Nothing beyond the fee is spent by a token tx, except a create's
 * creation fee: counted at admission, so a create the sender cannot pay
 * for is refused with SSP_ERR_BALANCE instead of being dropped later.
 */
static uint64_t token_spend(void *mod, const ssp_tx *tx, const ssp_params *p)
{
	(void)mod;
	return tx->type == SSP_TX_TOKEN_CREATE ? p->token_create_fee : 0;
}

static int token_apply(ssp_txctx *c, const ssp_tx *tx)
{
	ssp_token_payload p;
	int rc = ssp_token_payload_decode(&p, tx->type, tx->payload, tx->payload_len);
	if (rc) return SSP_ERR_PAYLOAD;
	switch (tx->type) {
	case SSP_TX_TOKEN_CREATE:
		return ssp_token_create(c, &tx->from, p.symbol, p.name, p.decimals, p.max_supply,
		                        p.flags);
	case SSP_TX_TOKEN_ISSUE:
		return ssp_token_issue(c, &tx->from, p.symbol, &p.to, p.amount);
	case SSP_TX_TOKEN_TRANSFER:
		return ssp_token_transfer(c, &tx->from, p.symbol, &p.to, p.amount);
	case SSP_TX_TOKEN_BURN:
		return ssp_token_burn(c, &tx->from, p.symbol, p.amount);
	case SSP_TX_TOKEN_APPROVE:
		return ssp_token_approve(c, &tx->from, p.symbol, &p.spender, p.amount);
	case SSP_TX_TOKEN_TRANSFER_FROM:
		return ssp_token_transfer_from(c, &tx->from, p.symbol, &p.owner, &p.to, p.amount);
	default:
		return SSP_ERR_TXTYPE;
	}
}

static void set_addr(json_t *j, const char *key, const char *hrp, const ssp_addr *a)
{
	char s[96];
	ssp_addr_encode(s, sizeof s, hrp, a);
	json_object_set_new(j, key, json_string(s));
}

static void set_units(json_t *j, const char *key, uint64_t v)
{
	char s[SSP_AMOUNT_STR];
	ssp_amount_format(s, sizeof s, v, 0);
	json_object_set_new(j, key, json_string(s));
}

/*
 * Amounts are base units ("amount_units"): the payload alone does not say
 * the token's decimals (token_get does). A create shows its max supply both
 * ways, since it carries the decimals.
 */
static json_t *token_json(const ssp_tx *tx, const char *hrp)
{
	ssp_token_payload p;
	char s[SSP_AMOUNT_STR];
	json_t *j;
	if (ssp_token_payload_decode(&p, tx->type, tx->payload, tx->payload_len)) return NULL;
	j = json_pack("{s:s}", "symbol", p.symbol);
	if (!j) return NULL;
	switch (tx->type) {
	case SSP_TX_TOKEN_CREATE:
		ssp_amount_format(s, sizeof s, p.max_supply, p.decimals);
		json_object_set_new(j, "name", json_string(p.name));
		json_object_set_new(j, "decimals", json_integer(p.decimals));
		json_object_set_new(j, "max_supply", json_string(s));
		set_units(j, "max_supply_units", p.max_supply);
		json_object_set_new(j, "flags", json_integer(p.flags));
		json_object_set_new(j, "burnable", json_boolean(p.flags & SSP_TOKEN_FLAG_BURNABLE));
		json_object_set_new(j, "mintable", json_boolean(p.flags & SSP_TOKEN_FLAG_MINTABLE));
		return j;
	case SSP_TX_TOKEN_ISSUE:
	case SSP_TX_TOKEN_TRANSFER:
		set_addr(j, "to", hrp, &p.to);
		break;
	case SSP_TX_TOKEN_APPROVE:
		set_addr(j, "spender", hrp, &p.spender);
		break;
	case SSP_TX_TOKEN_TRANSFER_FROM:
		set_addr(j, "owner", hrp, &p.owner);
		set_addr(j, "to", hrp, &p.to);
		break;
	default:
		break;
	}
	set_units(j, "amount_units", p.amount);
	return j;
}

#define TOKEN_TYPE(ID, NAME)                                                            \
	{                                                                               \
		.id = (ID), .name = (NAME), .check = token_check, .spend = token_spend, \
		.apply = token_apply, .to_json = token_json,                            \
	}

static const ssp_txtype t_create = TOKEN_TYPE(SSP_TX_TOKEN_CREATE, "token_create");
static const ssp_txtype t_issue = TOKEN_TYPE(SSP_TX_TOKEN_ISSUE, "token_issue");
static const ssp_txtype t_transfer = TOKEN_TYPE(SSP_TX_TOKEN_TRANSFER, "token_transfer");
static const ssp_txtype t_burn = TOKEN_TYPE(SSP_TX_TOKEN_BURN, "token_burn");
static const ssp_txtype t_approve = TOKEN_TYPE(SSP_TX_TOKEN_APPROVE, "token_approve");
static const ssp_txtype t_transfer_from =
    TOKEN_TYPE(SSP_TX_TOKEN_TRANSFER_FROM, "token_transfer_from");

const ssp_txtype *const ssp_token_txtypes[TOKEN_NTXTYPES] = {
    &t_create, &t_issue, &t_transfer, &t_burn, &t_approve, &t_transfer_from,
};
