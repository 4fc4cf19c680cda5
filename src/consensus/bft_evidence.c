/*
 * bft_evidence.c — equivocation (consensus layer, ssp/bft.h): Casper FFG's
 * two slashing conditions and the check a slashing tx applies (pure), and
 * the machine's records of every voter's votes, which find a double or
 * surround vote in one binary search, plus its evidence queue.
 */
#include <stdlib.h>
#include <string.h>

#include "bft_internal.h"

static bool ref_eq(const ssp_bft_ref *a, const ssp_bft_ref *b)
{
	return a->height == b->height && !memcmp(a->id.b, b->id.b, 32);
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

void bft_evidence_push(ssp_bft *m, const ssp_bft_evidence *e)
{
	uint32_t at = (m->evq_head + m->evq_n) % SSP_BFT_EVIDENCE_QUEUE;
	m->evq[at] = *e;
	if (m->evq_n < SSP_BFT_EVIDENCE_QUEUE)
		m->evq_n++;
	else
		m->evq_head =
		    (m->evq_head + 1) % SSP_BFT_EVIDENCE_QUEUE; /* the oldest is dropped */
}

bool ssp_bft_evidence_pop(ssp_bft *m, ssp_bft_evidence *out)
{
	if (!m->evq_n) return false;
	*out = m->evq[m->evq_head];
	m->evq_head = (m->evq_head + 1) % SSP_BFT_EVIDENCE_QUEUE;
	m->evq_n--;
	return true;
}

/* ------------------------------------------------------------ vote records */

/*
 * Records voter's vote src -> tgt unless it conflicts with one recorded
 * (then queues the evidence). The records stay sorted by target height and
 * conflict-free, so their sources ascend with the targets and each rule is
 * one look at a neighbour. They hold heights and ids, so a vote whose
 * blocks were dropped (below the final block) still catches a later one.
 */
bft_vote_rec bft_record_vote(ssp_bft *m, uint32_t set, uint32_t voter, const ssp_bft_ref *src,
                             const ssp_bft_ref *tgt)
{
	uint32_t kx = m->sets[set].kx[voter];
	bft_voter *v = &m->ks[kx].votes;
	uint64_t t = tgt->height, s = src->height;
	uint32_t lo = 0, hi = v->n;
	while (lo < hi) { /* first record with target height >= t */
		uint32_t mid = (lo + hi) / 2;
		if (v->h[mid].th < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	const bft_vrec *other = NULL;
	ssp_bft_ev_kind kind = SSP_BFT_EV_NONE;
	if (lo < v->n && v->h[lo].th == t) {
		if (ref_eq(&v->v[lo].tgt, tgt) && ref_eq(&v->v[lo].src, src)) return BFT_VOTE_SEEN;
		other = &v->v[lo];
		kind = SSP_BFT_EV_DOUBLE_VOTE;
	} else if (lo > 0 && v->h[lo - 1].sh > s) {
		other = &v->v[lo - 1]; /* the new vote surrounds it */
		kind = SSP_BFT_EV_SURROUND;
	} else if (lo < v->n && v->h[lo].sh < s) {
		other = &v->v[lo]; /* it surrounds the new vote */
		kind = SSP_BFT_EV_SURROUND;
	}
	if (other) {
		ssp_bft_evidence e = {.kind = (uint8_t)kind, .offender = voter, .key = m->ks[kx].key};
		e.vote[0] = (ssp_bft_vote){voter, other->src, other->tgt};
		e.vote[1] = (ssp_bft_vote){voter, *src, *tgt};
		bft_evidence_push(m, &e);
		return BFT_VOTE_CONFLICT;
	}
	if (v->n == SSP_BFT_VOTES_KEPT) { /* forget the lowest target */
		memmove(v->v, v->v + 1, (v->n - 1) * sizeof *v->v);
		memmove(v->h, v->h + 1, (v->n - 1) * sizeof *v->h);
		v->n--;
		if (lo) lo--;
	}
	if (v->n == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 8;
		bft_vrec *nv = ssp_realloc(v->v, cap * sizeof *nv);
		if (!nv) return BFT_VOTE_NEW; /* only evidence is lost (not a verdict) */
		v->v = nv;
		bft_vh *nt = ssp_realloc(v->h, cap * sizeof *nt);
		if (!nt) return BFT_VOTE_NEW;
		v->h = nt;
		v->cap = cap;
	}
	memmove(v->v + lo + 1, v->v + lo, (v->n - lo) * sizeof *v->v);
	memmove(v->h + lo + 1, v->h + lo, (v->n - lo) * sizeof *v->h);
	v->v[lo] = (bft_vrec){*src, *tgt};
	v->h[lo] = (bft_vh){t, s};
	v->n++;
	return BFT_VOTE_NEW;
}
