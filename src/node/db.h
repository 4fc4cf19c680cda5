/*
 * db.h — a datadir opened offline the way the node opens it (node layer):
 * its store, its chain with every module's tx types and, under a genesis
 * producer set, the round-robin schedule as the chain's consensus. For
 * sspd --verify-db (verify.c) and tests/tools/ssp_replay, which replay
 * blocks exactly as a syncing node would; the node itself opens its
 * datadir in node.c, with an error message for every step.
 */
#ifndef SSP_NODE_DB_H
#define SSP_NODE_DB_H

#include "ssp/chain.h"
#include "ssp/consensus.h"
#include "ssp/modules.h"

#define SSP_NODE_DB_MODULES 16

/*
 * What a round's first block elected, read from its state for the BFT
 * consensus (an ssp_bftc_elector; the staking module's record, resolved).
 * One per ssp_bftc (its arrays are what the elector hands out).
 */
typedef struct ssp_node_elector ssp_node_elector;
/*
 * When g has a BFT "bft" and a "dpos" object, b elects its sets through a
 * new *e (freed with ssp_node_elector_free); else *e stays NULL and the
 * genesis set produces for ever. Call before ssp_bftc_load.
 */
SSP_WUR int ssp_node_bft_elections(ssp_bftc *b, const ssp_genesis *g, ssp_node_elector **e);
void ssp_node_elector_free(ssp_node_elector *e);

typedef struct {
	ssp_store *store;
	ssp_modset *mods;
	ssp_chain *chain;
	ssp_rr *rr; /* a genesis producer set: the round-robin schedule */
	ssp_bftc *bft; /* ... or, with a "bft" genesis object, the BFT consensus */
	ssp_node_elector *elector; /* its elections (a "dpos" genesis object) */
	ssp_module_env envs[SSP_NODE_DB_MODULES]; /* ssp_node_db_init_modules */
	size_t ninited;
} ssp_node_db;

/*
 * Opens dir (no_sync; map_size bytes, 0 = the store default) into db, which
 * the caller zeroed: the store, the chain with g's modset and, when g lists
 * a producer set, its schedule, loaded with the finality of the blocks
 * already there. Returns 0 or an ssp_err; what opened before a failure stays
 * in db, so ssp_node_db_close is due either way. g is borrowed and must
 * outlive db. Not thread-safe: one thread opens and closes a db.
 */
SSP_WUR int ssp_node_db_open(ssp_node_db *db, const char *dir, const ssp_genesis *g,
                             size_t map_size);
/*
 * Initialises every module (in ssp_modules_all order, as the node does: the
 * contract module's VM among them) over db's chain. Returns 0, or the first
 * module's error with *failed (if not NULL) set to its name; the modules
 * initialised before it stay so until ssp_node_db_close.
 */
SSP_WUR int ssp_node_db_init_modules(ssp_node_db *db, const ssp_genesis *g, const char **failed);
/* Finalises the initialised modules and closes what ssp_node_db_open opened. */
void ssp_node_db_close(ssp_node_db *db);

#endif
