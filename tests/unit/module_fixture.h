/*
 * module_fixture.h — a chain with every registered module's tx types, for
 * the module tests (test_token.c, test_device.c, test_contract.c): the
 * genesis of chain_fixture.h with liquid accounts, a store in a temporary
 * directory, the modset, the chain (supply invariant checked after every
 * block) and a mempool; and a module's RPC methods called directly.
 * Include after chain_fixture.h; the test defines the keys.
 */
#ifndef SSP_MODULE_FIXTURE_H
#define SSP_MODULE_FIXTURE_H

#include "ssp/modules.h"

typedef struct {
	fx_node n;
	ssp_genesis *g;
	uint64_t time_ms;
	uint64_t nonce[32]; /* the test's per-sender next nonce, indexed as it likes */
	bool known[32];     /* the sender's key is on chain */
} tnode;

/*
 * Opens n on g with every module's tx types, in a new temporary directory
 * (removed by fx_node_close): the store (map_size bytes), the modset, the
 * chain (supply invariant checked after every block) and a mempool.
 */
static FX_UNUSED void fx_module_node_open(fx_node *n, const ssp_genesis *g, size_t map_size)
{
	ssp_store_opts so = {.map_size = map_size, .no_sync = true};
	ssp_mempool_opts mo = {0};
	size_t ntypes;
	ssp_modset *ms;
	memset(n, 0, sizeof *n);
	fx_tmpdir(n->dir);
	n->own_dir = true;
	assert_int_equal(ssp_store_open(&n->store, n->dir, &so), 0);
	assert_int_equal(ssp_modset_new(&ms, g), 0);
	n->mods = ms;
	n->mods_free = (void (*)(void *))ssp_modset_free;
	const ssp_txreg *types = ssp_modset_txtypes(ms, &ntypes);
	assert_int_equal(ssp_chain_open(&n->chain, n->store, g, types, ntypes), 0);
	assert_int_equal(ssp_modset_attach(ms, n->chain), 0);
	ssp_chain_set_check_invariants(n->chain, true);
	assert_int_equal(ssp_mempool_new(&n->pool, n->chain, &mo), 0);
}

/* Opens t with producer, liquid accounts a and b, foundation and team; time starts at t0. */
static FX_UNUSED void tnode_open_with(tnode *t, const fx_key *producer, const fx_key *a,
                                      const fx_key *b, const fx_key *foundation,
                                      const fx_key *team, uint64_t t0)
{
	fx_genesis_spec spec = {
	    .producer = producer, .liquid = {a, b}, .foundation = foundation, .team = team};
	char *json = fx_genesis_json(&spec);
	memset(t, 0, sizeof *t);
	t->g = fx_genesis(json);
	free(json);
	fx_module_node_open(&t->n, t->g, (size_t)64 << 20);
	t->time_ms = t0;
}

static FX_UNUSED void tnode_close(tnode *t)
{
	fx_node_close(&t->n, false);
	ssp_genesis_free(t->g);
}


/* Module m's RPC method called name (the test fails if it has none). */
static FX_UNUSED const ssp_rpc_method *fx_module_method(const ssp_module *m, const char *name)
{
	const ssp_rpc_method *found = NULL;
	for (size_t i = 0; i < m->nmethods; i++)
		if (!strcmp(m->methods[i].name, name)) found = &m->methods[i];
	assert_non_null(found);
	return found;
}

/*
 * Calls module m's RPC method with env as its ctx and params (JSON text, or
 * NULL for none) as an RPC thread would. Returns the result (the caller's),
 * or NULL with *code the error code (0 when the call succeeded).
 */
static FX_UNUSED json_t *fx_module_call(const ssp_module *m, ssp_module_env *env,
                                        const char *method, const char *params, int *code)
{
	const ssp_rpc_method *fn = fx_module_method(m, method);
	json_error_t je;
	json_t *p = params ? json_loads(params, 0, &je) : NULL;
	json_t *res = NULL;
	ssp_rpc_error err = {0};
	int rc = fn->fn(env, p, &res, &err);
	json_decref(p);
	*code = rc ? err.code : 0;
	json_decref(err.data);
	return res;
}

#endif
