/*
 * bft_finality.c — votes, justification, finality and fork choice of the
 * BFT state machine (consensus layer, ssp/bft.h). A link source -> target
 * with a quorum of votes (assembled here from votes, or carried as a QC by
 * a block) justifies its target once its source is justified; a justified
 * block whose direct child is justified from it is final. Every vote seen,
 * directly or inside a QC, is kept per voter to catch double and surround
 * votes. The head is the best branch containing the final block.
 */
#include <stdlib.h>
#include <string.h>

#include "bft_internal.h"

static ssp_bft_ref ref_of(const ssp_bft *m, uint32_t i)
{
	return (ssp_bft_ref){m->b[i].h.height, m->b[i].h.id};
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

bool ssp_bft_conflicted(const ssp_bft *m)
{
	return m->conflicted;
}

/* ------------------------------------------------------------ vote records */

static uint64_t th(const ssp_bft *m, const bft_vrec *r)
{
	return m->b[r->tgt].h.height;
}

static uint64_t sh(const ssp_bft *m, const bft_vrec *r)
{
	return m->b[r->src].h.height;
}

/*
 * Records voter's vote src -> tgt unless it conflicts with one recorded
 * (then queues the evidence). The records stay sorted by target height and
 * conflict-free, so their sources ascend with the targets and each rule is
 * one look at a neighbour. Returns true for a new, conflict-free vote.
 */
static bool record_vote(ssp_bft *m, uint32_t voter, uint32_t src, uint32_t tgt)
{
	bft_voter *v = &m->voters[voter];
	uint64_t t = m->b[tgt].h.height, s = m->b[src].h.height;
	uint32_t lo = 0, hi = v->n;
	while (lo < hi) { /* first record with target height >= t */
		uint32_t mid = (lo + hi) / 2;
		if (th(m, &v->v[mid]) < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	const bft_vrec *other = NULL;
	ssp_bft_ev_kind kind = SSP_BFT_EV_NONE;
	if (lo < v->n && th(m, &v->v[lo]) == t) {
		if (v->v[lo].tgt == tgt && v->v[lo].src == src) return false; /* seen */
		other = &v->v[lo];
		kind = SSP_BFT_EV_DOUBLE_VOTE;
	} else if (lo > 0 && sh(m, &v->v[lo - 1]) > s) {
		other = &v->v[lo - 1]; /* the new vote surrounds it */
		kind = SSP_BFT_EV_SURROUND;
	} else if (lo < v->n && sh(m, &v->v[lo]) < s) {
		other = &v->v[lo]; /* it surrounds the new vote */
		kind = SSP_BFT_EV_SURROUND;
	}
	if (other) {
		ssp_bft_evidence e = {.kind = (uint8_t)kind, .offender = voter};
		e.vote[0] = (ssp_bft_vote){voter, ref_of(m, other->src), ref_of(m, other->tgt)};
		e.vote[1] = (ssp_bft_vote){voter, ref_of(m, src), ref_of(m, tgt)};
		bft_evidence_push(m, &e);
		return false;
	}
	if (v->n == SSP_BFT_VOTES_KEPT) { /* forget the lowest target */
		memmove(v->v, v->v + 1, (v->n - 1) * sizeof *v->v);
		v->n--;
		if (lo) lo--;
	}
	if (v->n == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 8;
		bft_vrec *nv = ssp_realloc(v->v, cap * sizeof *nv);
		if (!nv) return true; /* only evidence is lost (not a verdict) */
		v->v = nv;
		v->cap = cap;
	}
	memmove(v->v + lo + 1, v->v + lo, (v->n - lo) * sizeof *v->v);
	v->v[lo] = (bft_vrec){src, tgt};
	v->n++;
	return true;
}

/* ------------------------------------------------------------------ links */

int bft_links_reserve(ssp_bft *m)
{
	if (m->nl < m->capl) return 0;
	uint32_t cap = m->capl ? m->capl * 2 : 64;
	bft_link *nl = ssp_realloc(m->links, cap * sizeof *nl);
	if (!nl) return SSP_ERR_NOMEM;
	m->links = nl;
	m->capl = cap;
	return 0;
}

static bft_link *link_find(ssp_bft *m, uint32_t src, uint32_t tgt)
{
	for (uint32_t i = m->nl; i-- > 0;)
		if (m->links[i].src == src && m->links[i].tgt == tgt) return &m->links[i];
	return NULL;
}

/* After bft_links_reserve. */
static bft_link *link_get(ssp_bft *m, uint32_t src, uint32_t tgt)
{
	bft_link *l = link_find(m, src, tgt);
	if (l) return l;
	l = &m->links[m->nl++];
	memset(l, 0, sizeof *l);
	l->src = src;
	l->tgt = tgt;
	return l;
}

void bft_set_final(ssp_bft *m, uint32_t ix)
{
	/* the reveal table: each producer's latest reveal in the newly final blocks */
	for (uint32_t x = ix; x != m->final; x = m->b[x].parent) {
		const bft_node *b = &m->b[x];
		uint32_t p = b->h.producer;
		uint64_t r = ssp_bft_round(b->h.slot, m->p.n);
		if (m->fin_round[p] == UINT64_MAX || m->fin_round[p] < r) {
			m->fin_round[p] = r;
			m->fin_reveal[p] = b->h.reveal;
		}
	}
	m->final = ix;
}

static void finalize(ssp_bft *m, uint32_t ix)
{
	if (bft_descends(m, m->final, ix)) {
		if (ix != m->final) bft_set_final(m, ix);
	} else if (!bft_descends(m, ix, m->final)) {
		m->conflicted = true; /* two conflicting final blocks: > 1/3 equivocated */
	}
}

static void justify(ssp_bft *m, uint32_t ix)
{
	m->b[ix].justified = true;
	if (m->b[ix].h.height > m->b[m->top_justified].h.height) m->top_justified = ix;
}

/* Applies every link with a quorum whose source is justified, to a fixed point. */
static void apply_links(ssp_bft *m)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (uint32_t i = 0; i < m->nl; i++) {
			bft_link *l = &m->links[i];
			if (l->done || !l->qc || !m->b[l->src].justified) continue;
			l->done = true;
			changed = true;
			if (!m->b[l->tgt].justified) justify(m, l->tgt);
			if (m->b[l->tgt].h.height == m->b[l->src].h.height + 1) finalize(m, l->src);
		}
	}
}

void bft_on_block(ssp_bft *m, uint32_t ix)
{
	const bft_node *x = &m->b[ix];
	if (x->h.has_qc) {
		uint32_t src = bft_find(m, &x->h.qc.source.id),
		         tgt = bft_find(m, &x->h.qc.target.id);
		for (uint32_t i = 0; i < m->p.n; i++)
			if (x->h.qc.bits[i / 64] >> (i % 64) & 1) record_vote(m, i, src, tgt);
		bft_link *l = link_get(m, src, tgt);
		for (int w = 0; w < SSP_BFT_BITMAP_WORDS; w++)
			l->bits[w] |= x->h.qc.bits[w];
		l->count = 0;
		for (int w = 0; w < SSP_BFT_BITMAP_WORDS; w++)
			l->count += (uint32_t)__builtin_popcountll(l->bits[w]);
		l->qc = true; /* the block's QC had a quorum (checked) */
		apply_links(m);
	}
	bft_update_head(m);
}

int ssp_bft_add_vote(ssp_bft *m, const ssp_bft_vote *v)
{
	if (v->voter >= m->p.n) return SSP_ERR_INVAL;
	uint32_t src = bft_find(m, &v->source.id), tgt = bft_find(m, &v->target.id);
	if (src == BFT_NONE || tgt == BFT_NONE) return SSP_ERR_NOTFOUND;
	if (m->b[src].h.height != v->source.height || m->b[tgt].h.height != v->target.height ||
	    v->source.height >= v->target.height || !bft_descends(m, src, tgt))
		return SSP_ERR_INVAL;
	int rc = bft_links_reserve(m);
	if (rc) return rc;
	bft_link *l = link_find(m, src, tgt);
	if (l && (l->bits[v->voter / 64] >> (v->voter % 64) & 1)) return 0; /* counted */
	if (!record_vote(m, v->voter, src, tgt)) return 0; /* seen, or conflicting */
	l = link_get(m, src, tgt);
	l->bits[v->voter / 64] |= 1ULL << (v->voter % 64);
	l->count++;
	if (!l->qc && l->count >= m->quorum) {
		l->qc = true;
		apply_links(m);
		bft_update_head(m);
	}
	return 0;
}

/* ------------------------------------------------------------ fork choice */

void bft_update_head(ssp_bft *m)
{
	uint32_t best = m->final;
	ssp_bft_branch bb = {0};
	bool have = false;
	uint64_t fh = m->b[m->final].h.height;
	for (uint32_t i = 0; i < m->nb; i++) {
		const bft_node *x = &m->b[i];
		if (x->children && i != m->final) continue;
		if (x->h.height < fh) continue;
		/* its latest justified block, and whether the branch holds the final block */
		uint64_t jh = 0;
		bool found_j = false;
		uint32_t y = i;
		for (; y != BFT_NONE && m->b[y].h.height > fh; y = m->b[y].parent)
			if (!found_j && m->b[y].justified) {
				jh = m->b[y].h.height;
				found_j = true;
			}
		if (y != m->final) continue;
		if (!found_j) jh = fh;
		ssp_bft_branch br = {jh, x->h.time_ms, x->h.id};
		if (!have || ssp_bft_branch_cmp(&br, &bb) > 0) {
			best = i;
			bb = br;
			have = true;
		}
	}
	m->head = best;
}

void ssp_bft_head(const ssp_bft *m, ssp_bft_ref *out)
{
	*out = ref_of(m, m->head);
}

void ssp_bft_final(const ssp_bft *m, ssp_bft_ref *out)
{
	*out = ref_of(m, m->final);
}

void ssp_bft_justified(const ssp_bft *m, ssp_bft_ref *out)
{
	*out = ref_of(m, m->top_justified);
}

bool ssp_bft_is_justified(const ssp_bft *m, const ssp_hash *id)
{
	uint32_t i = bft_find(m, id);
	return i != BFT_NONE && m->b[i].justified;
}

int ssp_bft_vote_for(const ssp_bft *m, ssp_bft_vote *out, ssp_bft_qc *qc, uint32_t voter,
                     const ssp_hash *target)
{
	uint32_t t = bft_find(m, target);
	if (t == BFT_NONE) return SSP_ERR_NOTFOUND;
	if (t == 0) return SSP_ERR_INVAL; /* genesis is no target */
	uint32_t s = m->b[t].parent;
	while (!m->b[s].justified)
		s = m->b[s].parent; /* genesis is justified */
	*out = (ssp_bft_vote){voter, ref_of(m, s), ref_of(m, t)};
	if (qc) {
		memset(qc, 0, sizeof *qc);
		for (uint32_t i = 0; s != 0 && i < m->nl; i++) {
			const bft_link *l = &m->links[i];
			if (l->tgt != s || !l->done) continue; /* the link that justified s */
			qc->source = ref_of(m, l->src);
			qc->target = ref_of(m, l->tgt);
			memcpy(qc->bits, l->bits, sizeof qc->bits);
			break;
		}
	}
	return 0;
}

int ssp_bft_add_qc(ssp_bft *m, const ssp_bft_qc *qc)
{
	uint32_t src = bft_find(m, &qc->source.id), tgt = bft_find(m, &qc->target.id);
	if (src == BFT_NONE || tgt == BFT_NONE) return SSP_ERR_NOTFOUND;
	for (uint32_t i = m->p.n; i < SSP_BFT_MAX_N; i++)
		if (qc->bits[i / 64] >> (i % 64) & 1) return SSP_ERR_BFT_QC;
	if (ssp_bft_qc_count(qc) < m->quorum || m->b[src].h.height != qc->source.height ||
	    m->b[tgt].h.height != qc->target.height || qc->source.height >= qc->target.height ||
	    !bft_descends(m, src, tgt))
		return SSP_ERR_BFT_QC;
	int rc = bft_links_reserve(m);
	if (rc) return rc;
	for (uint32_t i = 0; i < m->p.n; i++)
		if (qc->bits[i / 64] >> (i % 64) & 1) record_vote(m, i, src, tgt);
	bft_link *l = link_get(m, src, tgt);
	l->count = 0;
	for (int w = 0; w < SSP_BFT_BITMAP_WORDS; w++) {
		l->bits[w] |= qc->bits[w];
		l->count += (uint32_t)__builtin_popcountll(l->bits[w]);
	}
	l->qc = true;
	apply_links(m);
	bft_update_head(m);
	return 0;
}
