/*
 * ssp/modules.h — the public API of libssp_modules: the registry of native
 * modules (tokens, staking, devices, markets, data) the node wires into the
 * chain. Sits above chain.
 */
#ifndef SSP_MODULES_H
#define SSP_MODULES_H

#include "ssp/chain.h"
#include "ssp/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a module's RPC handlers and init see. RPC handlers run on RPC
 * threads: they may only use read paths (ssp_store_read + ssp_chain_read_*)
 * and what the module itself makes thread-safe in its private slot.
 */
typedef struct ssp_module_env {
	ssp_chain *chain;
	ssp_store *store;
	const ssp_genesis *genesis;
	void *priv; /* the module's own, set by init */
} ssp_module_env;

typedef struct ssp_module {
	const char *name;
	const ssp_txtype *const *txtypes;
	size_t ntxtypes;
	const ssp_rpc_method *methods; /* handler ctx is this module's ssp_module_env */
	size_t nmethods;
	int (*init)(ssp_module_env *env);  /* optional, after the chain opens */
	void (*fini)(ssp_module_env *env); /* optional */
} ssp_module;

/* Every native module, in a fixed order. Static storage. */
const ssp_module *const *ssp_modules_all(size_t *n);
/* Every module's transaction types, flattened, for ssp_chain_open. Static storage. */
const ssp_txtype *const *ssp_modules_txtypes(size_t *n);

#ifdef __cplusplus
}
#endif
#endif
