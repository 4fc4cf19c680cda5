/*
 * db.c — a datadir opened offline the way the node opens it (node layer);
 * see db.h. Shared by sspd --verify-db and tests/tools/ssp_replay.
 */
#include "node/db.h"

#include <stdlib.h>
#include <string.h>

#include "ssp/dpos.h"

struct ssp_node_elector {
	ssp_dpos_member m[SSP_DPOS_SET_MAX];
	ssp_pubkey keys[SSP_BFT_MAX_N];
	ssp_hash onion[SSP_BFT_MAX_N];
	uint64_t onion_round[SSP_BFT_MAX_N];
};

static int node_elect(void *ctx, ssp_state *st, uint64_t round, ssp_bft_set *out)
{
	ssp_node_elector *e = ctx;
	size_t n = 0;
	int rc = ssp_dpos_set_read(st, round, e->m, &n, NULL);
	if (rc) return rc;
	if (n == 0 || n > SSP_BFT_MAX_N) {
		/* a genesis set_size above the QC bitmap: the set in force stays */
		SSP_LOGE("node", "the set elected in round %llu has %zu members (at most %d): ignored",
		         (unsigned long long)round, n, SSP_BFT_MAX_N);
		return SSP_ERR_NOTFOUND;
	}
	for (size_t i = 0; i < n; i++) {
		e->keys[i] = e->m[i].key;
		e->onion[i] = e->m[i].onion;
		e->onion_round[i] = e->m[i].onion_round;
	}
	*out = (ssp_bft_set){.n = (uint32_t)n,
	                     .keys = e->keys,
	                     .onion = e->onion,
	                     .onion_round = e->onion_round};
	return 0;
}

int ssp_node_bft_elections(ssp_bftc *b, const ssp_genesis *g, ssp_node_elector **e)
{
	*e = NULL;
	if (!ssp_genesis_has_dpos(g)) return 0;
	if (!(*e = ssp_calloc(1, sizeof **e))) return SSP_ERR_NOMEM;
	ssp_bftc_set_elector(b, node_elect, *e);
	return 0;
}

void ssp_node_elector_free(ssp_node_elector *e)
{
	free(e);
}

int ssp_node_db_open(ssp_node_db *db, const char *dir, const ssp_genesis *g, size_t map_size)
{
	ssp_store_opts so = {.no_sync = true, .map_size = map_size};
	int rc = ssp_store_open(&db->store, dir, &so);
	if (!rc) rc = ssp_modset_open_chain(&db->chain, &db->mods, db->store, g);
	if (!rc && ssp_genesis_bft(g, NULL, NULL) && !(rc = ssp_bftc_new(&db->bft, g))) {
		ssp_consensus cs;
		ssp_bftc_consensus(db->bft, &cs);
		ssp_chain_set_consensus(db->chain, &cs);
		rc = ssp_node_bft_elections(db->bft, g, &db->elector);
		if (!rc) rc = ssp_bftc_load(db->bft, db->chain);
	} else if (!rc && ssp_genesis_has_producer_set(g) && !(rc = ssp_rr_new(&db->rr, g))) {
		ssp_consensus cs;
		ssp_rr_consensus(db->rr, &cs);
		ssp_chain_set_consensus(db->chain, &cs);
		rc = ssp_rr_load(db->rr, db->chain); /* finality of the blocks already there */
	}
	return rc;
}

int ssp_node_db_init_modules(ssp_node_db *db, const ssp_genesis *g, const char **failed)
{
	size_t nmod;
	const ssp_module *const *mods = ssp_modules_all(&nmod);
	int rc = 0;
	for (size_t i = 0; !rc && i < nmod && i < SSP_NODE_DB_MODULES; i++) {
		db->envs[i] = (ssp_module_env){.chain = db->chain,
		                               .store = db->store,
		                               .genesis = g,
		                               .chain_state = ssp_modset_state(db->mods, i)};
		if (mods[i]->init) rc = mods[i]->init(&db->envs[i]);
		if (!rc) db->ninited = i + 1;
		else if (failed) *failed = mods[i]->name;
	}
	return rc;
}

void ssp_node_db_close(ssp_node_db *db)
{
	size_t nmod;
	const ssp_module *const *mods = ssp_modules_all(&nmod);
	for (size_t i = db->ninited; i-- > 0;)
		if (mods[i]->fini) mods[i]->fini(&db->envs[i]);
	db->ninited = 0;
	if (db->chain) ssp_chain_close(db->chain);
	ssp_rr_free(db->rr);
	ssp_bftc_free(db->bft);
	ssp_node_elector_free(db->elector);
	ssp_modset_free(db->mods);
	if (db->store) ssp_store_close(db->store);
}
