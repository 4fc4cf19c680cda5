/*
 * bft_vote.c — the voter's safety rules and the evidence predicates
 * (consensus layer, ssp/bft.h): what a delegate may sign given its
 * persisted watermark, which two votes of one key conflict (Casper FFG's
 * two slashing conditions), and fork choice's order of branches. Pure.
 */
#include <string.h>

#include "ssp/bft.h"

uint32_t ssp_bft_qc_count(const ssp_bft_qc *qc)
{
	uint32_t c = 0;
	for (int i = 0; i < SSP_BFT_BITMAP_WORDS; i++)
		c += (uint32_t)__builtin_popcountll(qc->bits[i]);
	return c;
}

static bool ref_eq(const ssp_bft_ref *a, const ssp_bft_ref *b)
{
	return a->height == b->height && !memcmp(a->id.b, b->id.b, 32);
}

int ssp_bft_may_sign_block(ssp_bft_watermark *next, const ssp_bft_watermark *wm, uint64_t slot)
{
	if (slot <= wm->block_slot) return SSP_ERR_BFT_UNSAFE;
	*next = *wm;
	next->block_slot = slot;
	return 0;
}

int ssp_bft_may_vote(ssp_bft_watermark *next, const ssp_bft_watermark *wm,
                     const ssp_bft_ref *source, const ssp_bft_ref *target,
                     const ssp_bft_qc *source_qc)
{
	if (source->height >= target->height) return SSP_ERR_INVAL;
	if (wm->vote_target.height != 0 && ref_eq(&wm->vote_target, target) &&
	    ref_eq(&wm->vote_source, source)) {
		*next = *wm; /* the same vote again */
		return 0;
	}
	if (target->height <= wm->vote_target.height) return SSP_ERR_BFT_UNSAFE;
	if (source->height < wm->vote_source.height) return SSP_ERR_BFT_UNSAFE;
	*next = *wm;
	next->vote_source = *source;
	next->vote_target = *target;
	if (source_qc) next->source_qc = *source_qc;
	return 0;
}

ssp_bft_ev_kind ssp_bft_votes_conflict(const ssp_bft_vote *a, const ssp_bft_vote *b)
{
	if (a->voter != b->voter) return SSP_BFT_EV_NONE;
	if (a->target.height == b->target.height)
		return ref_eq(&a->target, &b->target) && ref_eq(&a->source, &b->source)
		           ? SSP_BFT_EV_NONE
		           : SSP_BFT_EV_DOUBLE_VOTE;
	if (a->source.height < b->source.height && b->target.height < a->target.height)
		return SSP_BFT_EV_SURROUND;
	if (b->source.height < a->source.height && a->target.height < b->target.height)
		return SSP_BFT_EV_SURROUND;
	return SSP_BFT_EV_NONE;
}

bool ssp_bft_evidence_valid(const ssp_bft_evidence *e)
{
	switch (e->kind) {
	case SSP_BFT_EV_DOUBLE_BLOCK:
		return memcmp(e->block[0].b, e->block[1].b, 32) != 0;
	case SSP_BFT_EV_DOUBLE_VOTE:
	case SSP_BFT_EV_SURROUND:
		return e->vote[0].voter == e->offender && e->vote[1].voter == e->offender &&
		       ssp_bft_votes_conflict(&e->vote[0], &e->vote[1]) == e->kind;
	default:
		return false;
	}
}

int ssp_bft_branch_cmp(const ssp_bft_branch *a, const ssp_bft_branch *b)
{
	if (a->justified_height != b->justified_height)
		return a->justified_height > b->justified_height ? 1 : -1;
	if (a->tip_time_ms != b->tip_time_ms) return a->tip_time_ms > b->tip_time_ms ? 1 : -1;
	int d = memcmp(a->tip_id.b, b->tip_id.b, 32);
	return d < 0 ? 1 : d > 0 ? -1 : 0;
}
