/*
 * ssp/consensus.h — the public API of libssp_consensus: the producer
 * schedule and finality rule behind the chain's ssp_consensus interface.
 * This first version is a fixed producer set from genesis taking turns by
 * slot (round-robin) with the last-irreversible-block rule for finality;
 * the DPoS issue replaces this module, not its callers.
 *
 * Threading: an ssp_rr is used by the chain's owner thread (through the
 * ssp_consensus callbacks) and read by others only through
 * ssp_rr_slot_producer, which reads immutable data.
 */
#ifndef SSP_CONSENSUS_H
#define SSP_CONSENSUS_H
#include "ssp/chain.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssp_rr ssp_rr;

/* A round-robin schedule over ssp_genesis_producers(g) (borrowed; must outlive it). */
SSP_WUR int ssp_rr_new(ssp_rr **out, const ssp_genesis *g);
void ssp_rr_free(ssp_rr *r);
/*
 * Reads the (height, slot) of the last blocks of the committed chain, so
 * finality after a restart is computed from the same window (any thread
 * before the chain is shared; reads through a store read txn).
 */
SSP_WUR int ssp_rr_load(ssp_rr *r, const ssp_chain *c);
/* The ssp_consensus object over r (ctx = r). */
void ssp_rr_consensus(ssp_rr *r, ssp_consensus *out);
/* The producer of a slot: producers[slot mod n]. Any thread. */
const ssp_pubkey *ssp_rr_slot_producer(const ssp_rr *r, uint64_t slot);
/* Number of producers. */
size_t ssp_rr_count(const ssp_rr *r);
/*
 * The last-irreversible-block rule: the highest height h such that the
 * blocks above h, up to the head, were made by more than 2/3 of the
 * producer set (distinct producers). Exposed for the unit test: slots[i]
 * is the slot of block height top - i, n_blocks of them.
 */
uint64_t ssp_rr_lib(const ssp_rr *r, uint64_t top, const uint64_t *slots, size_t n_blocks);

#ifdef __cplusplus
}
#endif
#endif
