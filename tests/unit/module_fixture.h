/*
 * module_fixture.h — a chain with every registered module's tx types, for
 * the module tests (test_token.c, test_device.c): the genesis of
 * chain_fixture.h with liquid accounts, a store in a temporary directory,
 * the modset, the chain (supply invariant checked after every block) and a
 * mempool. Include after chain_fixture.h; the test defines the keys.
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

/* Opens t with producer, liquid accounts a and b, foundation and team; time starts at t0. */
static FX_UNUSED void tnode_open_with(tnode *t, const fx_key *producer, const fx_key *a,
                                      const fx_key *b, const fx_key *foundation,
                                      const fx_key *team, uint64_t t0)
{
	fx_genesis_spec spec = {
	    .producer = producer, .liquid = {a, b}, .foundation = foundation, .team = team};
	char *json = fx_genesis_json(&spec);
	size_t ntypes;
	ssp_store_opts so = {.map_size = (size_t)64 << 20, .no_sync = true};
	ssp_mempool_opts mo = {0};
	memset(t, 0, sizeof *t);
	t->g = fx_genesis(json);
	free(json);
	fx_tmpdir(t->n.dir);
	t->n.own_dir = true;
	assert_int_equal(ssp_store_open(&t->n.store, t->n.dir, &so), 0);
	ssp_modset *ms;
	assert_int_equal(ssp_modset_new(&ms, t->g), 0);
	t->n.mods = ms;
	t->n.mods_free = (void (*)(void *))ssp_modset_free;
	const ssp_txreg *types = ssp_modset_txtypes(ms, &ntypes);
	assert_int_equal(ssp_chain_open(&t->n.chain, t->n.store, t->g, types, ntypes), 0);
	ssp_chain_set_check_invariants(t->n.chain, true);
	assert_int_equal(ssp_mempool_new(&t->n.pool, t->n.chain, &mo), 0);
	t->time_ms = t0;
}

static FX_UNUSED void tnode_close(tnode *t)
{
	fx_node_close(&t->n, false);
	ssp_genesis_free(t->g);
}

#endif
