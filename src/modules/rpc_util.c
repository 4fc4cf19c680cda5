/*
 * rpc_util.c — the helpers the modules' JSON-RPC methods share (modules
 * layer): see rpc_util.h.
 */
#include "rpc_util.h"

int modrpc_fail_internal(const ssp_module_env *env, ssp_rpc_error *err, int rc)
{
	/* altered state read from disk stops the node ("database corrupt at height H") */
	if (rc == SSP_ERR_DBCORRUPT && env->on_fatal) env->on_fatal(env->fatal_ctx, rc);
	if (rc == SSP_ERR_BUSY) return ssp_rpc_fail(err, SSP_RPC_BUSY, "node busy, retry");
	return ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "internal error: %s", ssp_strerror(rc));
}

int modrpc_obj_params(json_t *params, ssp_rpc_error *err)
{
	if (params && !json_is_object(params))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "params must be an object");
	return 0;
}

int modrpc_addr_param(const ssp_module_env *env, json_t *params, const char *key, bool required,
                      ssp_addr *out, bool *given, ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (given) *given = v != NULL;
	if (!v && !required) return 0;
	if (!json_is_string(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "%s must be an address string",
		                    key);
	int rc = ssp_addr_decode(out, ssp_genesis_hrp(env->genesis), json_string_value(v));
	if (rc) return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "%s: %s", key, ssp_strerror(rc));
	return 0;
}

json_t *modrpc_jaddr(const ssp_module_env *env, const ssp_addr *a)
{
	char s[96];
	ssp_addr_encode(s, sizeof s, ssp_genesis_hrp(env->genesis), a);
	return json_string(s);
}

int modrpc_reader_open(modrpc_reader *r, const ssp_module_env *env)
{
	r->env = env;
	r->st = NULL;
	int rc = ssp_store_read(env->store, &r->rt);
	if (rc) return rc;
	rc = ssp_chain_state_view(env->chain, r->rt, &r->st);
	if (rc) {
		ssp_txn_end(r->rt);
		r->rt = NULL;
	}
	return rc;
}

void modrpc_reader_close(modrpc_reader *r)
{
	if (r->st) ssp_state_close(r->st);
	if (r->rt) ssp_txn_end(r->rt);
	r->st = NULL;
	r->rt = NULL;
}
