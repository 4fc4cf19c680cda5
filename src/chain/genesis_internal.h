/*
 * genesis_internal.h — the parsed genesis, shared by genesis.c and the
 * state initialisation in chain.c (chain layer, private).
 */
#ifndef SSP_GENESIS_INTERNAL_H
#define SSP_GENESIS_INTERNAL_H

#include "ssp/chain.h"

enum { SSP_ALLOC_LIQUID = 1, SSP_ALLOC_FOUNDATION = 2, SSP_ALLOC_TEAM = 3, SSP_ALLOC_POOL = 4 };

typedef struct {
	int kind;
	ssp_addr addr;
	uint64_t amount;
} ssp_alloc;

struct ssp_genesis {
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	char network[8];
	const char *hrp;
	uint64_t time_ms;
	ssp_addr producer;
	ssp_pubkey producer_key;
	/* "producers": the round-robin set (net issue); [0] is `producer`. nprod = 0: key absent */
	ssp_pubkey *producers;
	size_t nproducers;
	ssp_params params;
	ssp_dpos_params dpos;
	bool has_dpos; /* the file has a "dpos" object (only then is it hashed) */
	/* "bft": the BFT consensus over the producer set (issue 9); absent: round-robin */
	bool has_bft;
	uint32_t onion_layers;
	ssp_hash *onion; /* nproducers commitments (onion element 0) */
	ssp_alloc *alloc;
	size_t nalloc;
	ssp_hash hash;
};

#endif
