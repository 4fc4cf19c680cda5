/*
 * token_rpc.c — the IOT_Coin JSON-RPC methods token_get, token_list,
 * token_balance and token_allowance (modules layer). Handlers run on RPC
 * threads with this module's ssp_module_env as ctx and read committed
 * state only, through a read txn and a state view (or a committed scan);
 * both are closed on every path. Amounts are decimal strings scaled by the
 * token's decimals.
 */
#include <string.h>

#include "rpc_util.h"
#include "token_internal.h"

#define LIST_MAX 100

static json_t *jamount(uint64_t v, unsigned decimals)
{
	char s[SSP_AMOUNT_STR];
	ssp_amount_format(s, sizeof s, v, decimals);
	return json_string(s);
}

static json_t *token_json(const ssp_module_env *env, const ssp_token_info *t)
{
	ssp_addr emitter;
	ssp_token_address(&emitter, t->symbol);
	return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:i, s:b, s:b, s:I, s:o}", "symbol",
	                 t->symbol, "name", t->name, "decimals", (int)t->decimals, "max_supply",
	                 jamount(t->max_supply, t->decimals), "supply",
	                 jamount(t->supply, t->decimals), "issuer", modrpc_jaddr(env, &t->issuer),
	                 "flags", (int)t->flags, "burnable",
	                 (t->flags & SSP_TOKEN_FLAG_BURNABLE) != 0, "mintable",
	                 (t->flags & SSP_TOKEN_FLAG_MINTABLE) != 0, "created_height",
	                 (json_int_t)t->created_height, "address", modrpc_jaddr(env, &emitter));
}

/* ------------------------------------------------------------------ params */

/* A symbol param: a string matching [A-Z][A-Z0-9]{1,11}. */
static int symbol_param(json_t *params, const char *key, bool required, const char **out,
                        ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	*out = NULL;
	if (!v && !required) return 0;
	if (!json_is_string(v) || !ssp_token_symbol_valid(json_string_value(v)) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return ssp_rpc_fail(
		    err, SSP_RPC_INVALID_PARAMS,
		    "%s must be a token symbol: 2 to 12 characters A-Z 0-9, starting "
		    "with a letter",
		    key);
	*out = json_string_value(v);
	return 0;
}

/* ------------------------------------------------------------------- reads */

/* Reads the token; fills err (-32001 for an unknown token) on failure. */
static int read_token(modrpc_reader *r, const char *symbol, ssp_token_info *t, ssp_rpc_error *err)
{
	int rc = ssp_token_get(r->st, symbol, t);
	if (rc == SSP_ERR_NOTFOUND)
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "unknown token %s", symbol);
	return rc ? modrpc_fail_internal(r->env, err, rc) : 0;
}

/* ----------------------------------------------------------------- methods */

static int m_token_get(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	const char *symbol;
	ssp_token_info t;
	modrpc_reader r;
	if (modrpc_obj_params(params, err) || symbol_param(params, "symbol", true, &symbol, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = read_token(&r, symbol, &t, err);
	modrpc_reader_close(&r);
	if (rc) return rc;
	*res = token_json(env, &t);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

static int m_token_balance(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	const char *symbol;
	ssp_token_info t;
	ssp_addr a;
	uint64_t bal = 0;
	modrpc_reader r;
	if (modrpc_obj_params(params, err) || symbol_param(params, "symbol", true, &symbol, err) ||
	    modrpc_addr_param(env, params, "address", true, &a, NULL, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = read_token(&r, symbol, &t, err);
	if (!rc && (rc = ssp_token_balance(r.st, symbol, &a, &bal)))
		rc = modrpc_fail_internal(env, err, rc);
	modrpc_reader_close(&r);
	if (rc) return rc;
	*res = json_pack("{s:s, s:o, s:o, s:i}", "symbol", symbol, "address", modrpc_jaddr(env, &a),
	                 "balance", jamount(bal, t.decimals), "decimals", (int)t.decimals);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

static int m_token_allowance(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	const char *symbol;
	ssp_token_info t;
	ssp_addr owner, spender;
	uint64_t v = 0;
	modrpc_reader r;
	if (modrpc_obj_params(params, err) || symbol_param(params, "symbol", true, &symbol, err) ||
	    modrpc_addr_param(env, params, "owner", true, &owner, NULL, err) ||
	    modrpc_addr_param(env, params, "spender", true, &spender, NULL, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = read_token(&r, symbol, &t, err);
	if (!rc && (rc = ssp_token_allowance(r.st, symbol, &owner, &spender, &v)))
		rc = modrpc_fail_internal(env, err, rc);
	modrpc_reader_close(&r);
	if (rc) return rc;
	*res = json_pack("{s:s, s:o, s:o, s:o, s:i}", "symbol", symbol, "owner",
	                 modrpc_jaddr(env, &owner), "spender", modrpc_jaddr(env, &spender),
	                 "allowance", jamount(v, t.decimals), "decimals", (int)t.decimals);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

typedef struct {
	const ssp_module_env *env;
	json_t *tokens;
	size_t limit;
	char next[SSP_TOKEN_SYMBOL_MAX + 1];
	int err;
} list_ctx;

static int list_visit(void *arg, const ssp_token_info *t)
{
	list_ctx *l = arg;
	if (json_array_size(l->tokens) == l->limit) {
		memcpy(l->next, t->symbol, sizeof l->next);
		return 1;
	}
	if (json_array_append_new(l->tokens, token_json(l->env, t))) {
		l->err = SSP_ERR_NOMEM;
		return 1;
	}
	return 0;
}

static int m_token_list(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	const char *from;
	ssp_txn *rt;
	json_int_t limit = LIST_MAX;
	if (modrpc_obj_params(params, err) || symbol_param(params, "from", false, &from, err))
		return -1;
	json_t *jl = params ? json_object_get(params, "limit") : NULL;
	if (jl) {
		if (!json_is_integer(jl) || json_integer_value(jl) < 1)
			return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
			                    "limit must be an integer from 1 to %d", LIST_MAX);
		if (json_integer_value(jl) > LIST_MAX)
			return ssp_rpc_fail(err, SSP_RPC_LIMIT, "limit: at most %d tokens per call",
			                    LIST_MAX);
		limit = json_integer_value(jl);
	}
	list_ctx l = {.env = env, .tokens = json_array(), .limit = (size_t)limit};
	if (!l.tokens) return modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
	int rc = ssp_store_read(env->store, &rt);
	if (!rc) {
		rc = ssp_token_scan(env->chain, rt, from, list_visit, &l);
		ssp_txn_end(rt);
		if (rc == 1) rc = l.err;
	}
	if (rc) {
		json_decref(l.tokens);
		return modrpc_fail_internal(env, err, rc);
	}
	*res = json_pack("{s:o}", "tokens", l.tokens);
	if (*res && l.next[0]) json_object_set_new(*res, "next", json_string(l.next));
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

const ssp_rpc_method ssp_token_methods[TOKEN_NMETHODS] = {
    {"token_get", m_token_get, NULL},
    {"token_list", m_token_list, NULL},
    {"token_balance", m_token_balance, NULL},
    {"token_allowance", m_token_allowance, NULL},
};
