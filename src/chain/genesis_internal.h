/*
 * genesis_internal.h — the parsed genesis, shared by genesis.c and the
 * state initialisation in chain.c (chain layer, private).
 */
#ifndef SSP_GENESIS_INTERNAL_H
#define SSP_GENESIS_INTERNAL_H

#include "ssp/chain.h"
#include "ssp/proto_dpos.h"

enum { SSP_ALLOC_LIQUID = 1, SSP_ALLOC_FOUNDATION = 2, SSP_ALLOC_TEAM = 3, SSP_ALLOC_POOL = 4 };

typedef struct {
	int kind;
	ssp_addr addr;
	uint64_t amount;
} ssp_alloc;

/* A genesis delegate ("dpos": {"delegates": [...]}): registered at height 0. */
typedef struct {
	char name[SSP_DPOS_NAME_MAX + 1];
	ssp_addr addr;
	ssp_pubkey node_key;
	ssp_hash onion;      /* onion element 0; counted from round -1 (onion_round UINT64_MAX) */
	uint64_t self_stake; /* leaves addr's allocation for the stake escrow */
	uint64_t stake;      /* likewise: addr stakes it and votes for itself (may be 0) */
} ssp_genesis_delegate;

#define SSP_GENESIS_DELEGATES_MAX 1000

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
	bool has_prod; /* its "dpos" names a productivity knob (only then are they hashed) */
	/* "bft": the BFT consensus over the producer set (issue 9); absent: round-robin */
	bool has_bft;
	uint32_t onion_layers;
	ssp_hash *onion;                 /* nproducers commitments (onion element 0) */
	ssp_genesis_delegate *delegates; /* "dpos": "delegates"; ndelegates = 0: absent */
	size_t ndelegates;
	ssp_alloc *alloc;
	size_t nalloc;
	ssp_hash hash;
};

/* Writes the genesis delegates' records and moves their stakes to the escrow (chain.c's
 * genesis state, after the allocations; genesis_dpos.c). */
SSP_WUR int genesis_dpos_state(const ssp_genesis *g, ssp_state *st);

#endif
