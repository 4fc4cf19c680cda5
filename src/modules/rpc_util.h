/*
 * rpc_util.h — what the modules' JSON-RPC method files share (modules layer,
 * private): the internal-error answer, the params checks every module makes
 * and a read txn with a state view. All of it runs on RPC threads, with the
 * module's ssp_module_env as ctx, and reads committed state only. Param
 * checks return 0, or -1 with err filled (SSP_RPC_INVALID_PARAMS).
 */
#ifndef SSP_MODULES_RPC_UTIL_H
#define SSP_MODULES_RPC_UTIL_H

#include "ssp/modules.h"

/*
 * Fills err for a failure of ours (rc): SSP_RPC_BUSY for SSP_ERR_BUSY, else
 * SSP_RPC_INTERNAL_ERROR; returns -1. Altered data read from disk
 * (SSP_ERR_DBCORRUPT) also calls env->on_fatal, which stops the node
 * ("database corrupt at height H").
 */
int modrpc_fail_internal(const ssp_module_env *env, ssp_rpc_error *err, int rc);

/* params: absent or an object. */
int modrpc_obj_params(json_t *params, ssp_rpc_error *err);

/*
 * params[key]: an address string of this chain's HRP, into *out. Absent is
 * an error only when required; *given (if not NULL) says whether it was there.
 */
int modrpc_addr_param(const ssp_module_env *env, json_t *params, const char *key, bool required,
                      ssp_addr *out, bool *given, ssp_rpc_error *err);

/* a's bech32m form under this chain's HRP (a new reference, NULL without memory). */
json_t *modrpc_jaddr(const ssp_module_env *env, const ssp_addr *a);

/* A read txn and a read-only state view over it; both borrowed from env's store and chain. */
typedef struct {
	const ssp_module_env *env;
	ssp_txn *rt;
	ssp_state *st;
} modrpc_reader;

/* Opens r over env; on failure (an ssp_err) nothing is left open. */
SSP_WUR int modrpc_reader_open(modrpc_reader *r, const ssp_module_env *env);
/* Closes what is open in r (again: a no-op). */
void modrpc_reader_close(modrpc_reader *r);

#endif
