/*
 * bft_watermark.c — the signing watermark (consensus layer, ssp/bft.h):
 * whether a delegate may sign a block or a vote, given what it signed
 * before, and the watermark to persist before it does. Pure.
 */
#include <string.h>

#include "ssp/bft.h"

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
