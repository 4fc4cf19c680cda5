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
	void *chain_state; /* the module's per-chain state (chain_new), owner thread only */
	void *priv;        /* the module's own, set by init */
	/*
	 * Optional (NULL: nobody to tell): a module's RPC method found altered
	 * data on disk (rc = SSP_ERR_DBCORRUPT) and answered an internal error;
	 * the program stops rather than serve more of it (sspd logs "database
	 * corrupt at height H" and exits 1). Called on an RPC thread; fatal_ctx
	 * is passed back as ctx.
	 */
	void (*on_fatal)(void *ctx, int rc);
	void *fatal_ctx;
} ssp_module_env;

typedef struct ssp_module {
	const char *name;
	const ssp_txtype *const *txtypes;
	size_t ntxtypes;
	const ssp_rpc_method *methods; /* handler ctx is this module's ssp_module_env */
	size_t nmethods;
	/*
	 * Optional: the state one chain's tx types of this module need (their
	 * `mod`), made before the chain opens and freed after it closes. Two
	 * chains in one process get two states; nothing is process-wide.
	 */
	int (*chain_new)(void **out, const ssp_genesis *g);
	void (*chain_free)(void *st);
	/*
	 * Optional: the module's sender hook (ssp_sender_hook; mod is its
	 * per-chain state), run for the txs of restricted accounts.
	 */
	int (*sender)(void *mod, ssp_state *st, const ssp_tx *tx);
	/*
	 * Optional: the module's block hook (ssp_block_hook; mod is its
	 * per-chain state) and its part of the invariants (run with it).
	 */
	int (*begin_block)(void *mod, ssp_state *st, const ssp_block_start *b);
	int (*check)(void *mod, const ssp_chain *c, ssp_txn *rt);
	int (*init)(ssp_module_env *env);  /* optional, after the chain opens */
	void (*fini)(ssp_module_env *env); /* optional */
} ssp_module;

/* Every native module, in a fixed order; *n gets the count. Static, immutable. */
const ssp_module *const *ssp_modules_all(size_t *n);

/*
 * Every module's per-chain state for one chain, and every module's tx
 * types registered with their state (for ssp_chain_open). Owned by the
 * caller; it must outlive the chain it is opened with.
 */
typedef struct ssp_modset ssp_modset;
SSP_WUR int ssp_modset_new(ssp_modset **out, const ssp_genesis *g);
void ssp_modset_free(ssp_modset *ms);
/* The registrations, borrowed from ms. */
const ssp_txreg *ssp_modset_txtypes(const ssp_modset *ms, size_t *n);
/* The modules' sender hooks, borrowed from ms (for ssp_chain_set_sender_hooks). */
const ssp_sender_hook *ssp_modset_sender_hooks(const ssp_modset *ms, size_t *n);
/*
 * Registers ms's sender and block hooks with a chain opened with ms's tx types: what
 * ssp_modset_open_chain does after ssp_chain_open, for callers that open
 * the chain themselves.
 */
SSP_WUR int ssp_modset_attach(const ssp_modset *ms, ssp_chain *c);
/* Module i's (in ssp_modules_all order) per-chain state, or NULL. */
void *ssp_modset_state(const ssp_modset *ms, size_t i);
/*
 * The usual way to open a full chain: makes g's modset and opens the chain
 * in st with every module's tx types and sender hooks. On failure nothing
 * is left open.
 * Close with ssp_chain_close, then ssp_modset_free.
 */
SSP_WUR int ssp_modset_open_chain(ssp_chain **chain, ssp_modset **ms, ssp_store *st,
                                  const ssp_genesis *g);

#ifdef __cplusplus
}
#endif
#endif
