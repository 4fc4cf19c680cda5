/*
 * bftc_evidence.h — the raw material of evidence (consensus layer, private
 * to bftc.c and bftc_evidence.c): bftc notes every signed header and vote
 * it verified, and when the machine reports an equivocation the two signed
 * halves are looked up here and queued for the node (ssp_bftc_evidence_take),
 * which turns them into a slashing tx. Bounded: the last EV_HEADERS headers,
 * EV_VOTES links per voter key for EV_VOTERS keys, EV_QUEUE pieces of
 * evidence. One owner thread (the chain's), like bftc.
 */
#ifndef SSP_BFTC_EVIDENCE_H
#define SSP_BFTC_EVIDENCE_H

#include "ssp/bft.h"
#include "ssp/consensus.h"

typedef struct bftc_ev bftc_ev;

SSP_WUR int bftc_ev_new(bftc_ev **out);
void bftc_ev_free(bftc_ev *e);
/* A header whose producer signature was verified (id its block id); copied. */
void bftc_ev_header(bftc_ev *e, const ssp_header *h, const ssp_hash *id);
/* A vote signature verified under key (a vote or one bit of a QC); copied. */
void bftc_ev_vote(bftc_ev *e, const ssp_pubkey *key, const ssp_bft_ref *src, const ssp_bft_ref *tgt,
                  const ssp_sig *sig);
/* Evidence the machine popped: its material is looked up and the result queued. */
void bftc_ev_found(bftc_ev *e, const ssp_bft_evidence *ev);
/* The oldest queued evidence (ownership of its headers passes to *out). */
bool bftc_ev_take(bftc_ev *e, ssp_bftc_evidence *out);

#endif
