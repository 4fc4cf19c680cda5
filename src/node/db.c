/*
 * db.c — a datadir opened offline the way the node opens it (node layer);
 * see db.h. Shared by sspd --verify-db and tests/tools/ssp_replay.
 */
#include "node/db.h"

int ssp_node_db_open(ssp_node_db *db, const char *dir, const ssp_genesis *g, size_t map_size)
{
	ssp_store_opts so = {.no_sync = true, .map_size = map_size};
	int rc = ssp_store_open(&db->store, dir, &so);
	if (!rc) rc = ssp_modset_open_chain(&db->chain, &db->mods, db->store, g);
	if (!rc && ssp_genesis_bft(g, NULL, NULL) && !(rc = ssp_bftc_new(&db->bft, g))) {
		ssp_consensus cs;
		ssp_bftc_consensus(db->bft, &cs);
		ssp_chain_set_consensus(db->chain, &cs);
		rc = ssp_bftc_load(db->bft, db->chain);
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
	ssp_modset_free(db->mods);
	if (db->store) ssp_store_close(db->store);
}
