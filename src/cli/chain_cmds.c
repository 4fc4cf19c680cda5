/*
 * chain_cmds.c — the read-only chain commands of `ssp` (application layer):
 * info, balance, supply, block and tx. Each maps its arguments onto one
 * node method and prints the result.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char *const info_amounts[] = {"min_fee", "fee_per_byte", "gas_price",
                                           "token_create_fee", NULL};
static const char *const account_amounts[] = {"balance", "locked", NULL};
static const char *const supply_amounts[] = {"total", "circulating", "locked", "pool", NULL};
static const char *const tx_amounts[] = {"tx.fee", "tx.payload.amount", "tx.payload.value",
                                         "receipt.fee_paid", NULL};

/* Calls a method and prints its result; params are stolen (NULL only on OOM). */
static int show(cli_ctx *c, const char *method, json_t *params, const char *const *amounts)
{
	json_t *res = NULL;
	int rc;
	if (!params) cli_oom();
	rc = cli_rpc(c, method, params, &res, NULL);
	if (rc) return rc;
	if (c->json)
		cli_print_json(res);
	else
		cli_print_result(res, amounts);
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_info(cli_ctx *c, const cli_args *a)
{
	json_t *res = NULL;
	int rc = cli_node_info(c, &res);
	if (rc) return rc;
	if (c->json)
		cli_print_json(res);
	else
		cli_print_result(res, info_amounts);
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_balance(cli_ctx *c, const cli_args *a)
{
	char text[96];
	ssp_addr addr;
	int rc = cli_node_info(c, NULL);
	if (rc) return rc;
	rc = cli_resolve_account(c, &addr, c->hrp, a->pos[0]);
	if (rc) return rc;
	ssp_addr_encode(text, sizeof(text), c->hrp, &addr);
	return show(c, "account_get", json_pack("{s:s}", "address", text), account_amounts);
}

int cli_cmd_supply(cli_ctx *c, const cli_args *a)
{
	return show(c, "chain_getSupply", json_object(), supply_amounts);
}

int cli_cmd_block(cli_ctx *c, const cli_args *a)
{
	const char *arg = a->npos ? a->pos[0] : NULL;
	json_t *params;
	uint64_t height;

	if (!arg) {
		params = json_object();
	} else if (cli_is_hash_hex(arg)) {
		params = json_pack("{s:s}", "id", arg);
	} else if (cli_parse_u64(&height, arg) == 0 && height <= (uint64_t)INT64_MAX) {
		params = json_pack("{s:I}", "height", (json_int_t)height);
	} else {
		return cli_usage("block: '%s' is neither a height nor a 64-hex block id", arg);
	}
	return show(c, "chain_getBlock", params, NULL);
}

int cli_cmd_tx(cli_ctx *c, const cli_args *a)
{
	if (!cli_is_hash_hex(a->pos[0]))
		return cli_usage("tx: '%s' is not a 64-hex transaction id", a->pos[0]);
	return show(c, "tx_get", json_pack("{s:s}", "txid", a->pos[0]), tx_amounts);
}
