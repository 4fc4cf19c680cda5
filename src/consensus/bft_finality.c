/*
 * bft_finality.c — QCs, justification and finality of the BFT state
 * machine (consensus layer, ssp/bft.h). A link source -> target with a
 * quorum of votes (assembled here from votes, or carried as a QC by a
 * block) justifies its target once its source is justified; a justified
 * block whose direct child is justified from it is final. Every vote seen,
 * directly or inside a QC, also goes to the evidence records
 * (bft_evidence.c); the head is fork choice's (bft_forkchoice.c).
 */
#include <stdlib.h>
#include <string.h>

#include "bft_internal.h"

uint32_t ssp_bft_qc_count(const ssp_bft_qc *qc)
{
	uint32_t c = 0;
	for (int i = 0; i < SSP_BFT_BITMAP_WORDS; i++)
		c += (uint32_t)__builtin_popcountll(qc->bits[i]);
	return c;
}

bool ssp_bft_conflicted(const ssp_bft *m)
{
	return m->conflicted;
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

/* The link from source sref (index src, or BFT_NONE below the final block) to tgt. */
static bft_link *link_find(ssp_bft *m, const ssp_bft_ref *sref, uint32_t tgt)
{
	for (uint32_t i = m->nl; i-- > 0;)
		if (m->links[i].tgt == tgt && m->links[i].sref.height == sref->height &&
		    !memcmp(m->links[i].sref.id.b, sref->id.b, 32))
			return &m->links[i];
	return NULL;
}

/* After bft_links_reserve. */
static bft_link *link_get(ssp_bft *m, uint32_t src, const ssp_bft_ref *sref, uint32_t tgt)
{
	bft_link *l = link_find(m, sref, tgt);
	if (l) return l;
	l = &m->links[m->nl++];
	memset(l, 0, sizeof *l);
	l->src = src;
	l->sref = *sref;
	l->tgt = tgt;
	return l;
}

bool bft_path_has(const ssp_bft *m, const ssp_bft_ref *r, bool *justified)
{
	const __typeof__(m->path[0]) *e = &m->path[r->height % SSP_BFT_QC_HORIZON];
	if (!e->used || e->height != r->height || memcmp(e->id.b, r->id.b, 32)) return false;
	if (justified) *justified = e->justified;
	return true;
}

/* The final path from the old final block (included) to ix (excluded) into m->path. */
static void path_extend(ssp_bft *m, uint32_t ix)
{
	for (uint32_t x = m->b[ix].parent; x != BFT_NONE; x = m->b[x].parent) {
		const bft_node *b = &m->b[x];
		__typeof__(m->path[0]) *e = &m->path[b->h.height % SSP_BFT_QC_HORIZON];
		if (e->used && e->height == b->h.height && !memcmp(e->id.b, b->h.id.b, 32)) break;
		e->height = b->h.height;
		e->id = b->h.id;
		e->set = b->set;
		e->elected = b->elected;
		e->justified = b->h.height == 0;
		e->used = true;
		if (x == m->final) break;
	}
	/* the QCs those blocks carry justify blocks of the path */
	for (uint32_t x = m->b[ix].parent; x != BFT_NONE; x = m->b[x].parent) {
		const bft_node *b = &m->b[x];
		if (b->h.has_qc) {
			__typeof__(m->path[0]) *e =
			    &m->path[b->h.qc.target.height % SSP_BFT_QC_HORIZON];
			if (e->used && e->height == b->h.qc.target.height &&
			    !memcmp(e->id.b, b->h.qc.target.id.b, 32))
				e->justified = true;
		}
		if (x == m->final) break;
	}
}

void bft_set_final(ssp_bft *m, uint32_t ix)
{
	path_extend(m, ix);
	/* the reveal table: each producer's latest reveal in the newly final blocks */
	for (uint32_t x = ix; x != m->final; x = m->b[x].parent) {
		const bft_node *b = &m->b[x];
		bft_key *k = &m->ks[b->pkx];
		uint64_t r = ssp_bft_round(b->h.slot, m->L);
		if (k->fin_round == UINT64_MAX || k->fin_round < r) {
			k->fin_round = r;
			k->fin_reveal = b->h.reveal;
			k->fin_onion = m->sets[b->set].onion[b->h.producer];
			k->fin_base = m->sets[b->set].onion_round[b->h.producer];
		}
	}
	m->final = ix;
	if (!bft_live(m, m->top_justified)) {
		/* a justified block of a branch the final block left behind: the highest live one */
		m->top_justified = ix;
		for (uint32_t i = 0; i < m->nb; i++)
			if (m->b[i].justified && m->b[i].h.height > m->b[m->top_justified].h.height &&
			    bft_live(m, i))
				m->top_justified = i;
	}
}

/* src is live here (a link's source below the final block finalises nothing new) */
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

/*
 * Applies every link with a quorum whose source is justified, to a fixed
 * point. Only links to live blocks; a source below the final block counts
 * as justified (a quorum named it as its justified source, so an honest
 * delegate saw it justified; its ancestry is the final block's).
 */
static void apply_links(ssp_bft *m)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (uint32_t i = 0; i < m->nl; i++) {
			bft_link *l = &m->links[i];
			if (l->done || !l->qc || !bft_live(m, l->tgt)) continue;
			bool trusted = bft_src_trusted(m, l);
			if (!trusted && !m->b[l->src].justified) continue;
			l->done = true;
			changed = true;
			if (!m->b[l->tgt].justified) justify(m, l->tgt);
			if (!trusted && m->b[l->tgt].h.height == l->sref.height + 1)
				finalize(m, l->src);
		}
	}
}

/* The QC's votes to the evidence records, but those its link counts already
 * (recorded when they were counted: a QC comes again in many blocks). */
static void record_qc_votes(ssp_bft *m, const ssp_bft_qc *qc, uint32_t tgt, uint32_t set)
{
	const bft_link *l = tgt == BFT_NONE ? NULL : link_find(m, &qc->source, tgt);
	for (uint32_t i = 0; i < m->sets[set].n; i++) {
		uint64_t seen = l ? l->bits[i / 64] : 0;
		if ((qc->bits[i / 64] & ~seen) >> (i % 64) & 1)
			(void)bft_record_vote(m, set, i, &qc->source, &qc->target);
	}
}

static void add_qc_link(ssp_bft *m, uint32_t src, uint32_t tgt, const ssp_bft_qc *qc)
{
	bft_link *l = link_get(m, src, &qc->source, tgt);
	l->count = 0;
	for (int w = 0; w < SSP_BFT_BITMAP_WORDS; w++) {
		l->bits[w] |= qc->bits[w];
		l->count += (uint32_t)__builtin_popcountll(l->bits[w]);
	}
	l->qc = true; /* the QC had a quorum (checked) */
	apply_links(m);
}

void bft_on_block(ssp_bft *m, uint32_t ix)
{
	const bft_node *x = &m->b[ix];
	if (x->h.has_qc) {
		ssp_bft_qc qc = x->h.qc;
		uint32_t src = x->qc_src, tgt = x->qc_tgt, set = bft_set_of_ref(m, &qc.target);
		if (set != BFT_NONE) record_qc_votes(m, &qc, tgt, set); /* checked: known */
		if (tgt != BFT_NONE) add_qc_link(m, src, tgt, &qc); /* else all below the final */
	}
	bft_update_head(m);
	bft_compact(m, false);
}

/*
 * Where a vote's or QC's blocks stand: 0 and *src, *tgt (src BFT_NONE: a
 * source below the final block, taken on trust), 1: the target is at or
 * below the final block's height but not it (useless for finality, only
 * evidence), or SSP_ERR_NOTFOUND / bad (the source is not an ancestor of
 * the target, or a height differs).
 */
static int locate(const ssp_bft *m, uint32_t *src, uint32_t *tgt, const ssp_bft_ref *s,
                  const ssp_bft_ref *t, int bad)
{
	uint64_t fh = m->b[m->final].h.height;
	if (s->height >= t->height) return bad;
	*tgt = bft_find(m, &t->id);
	if (*tgt == BFT_NONE) return t->height <= fh ? 1 : SSP_ERR_NOTFOUND;
	if (m->b[*tgt].h.height != t->height) return bad;
	*src = bft_find(m, &s->id);
	if (*src == BFT_NONE) {
		if (s->height > fh) return SSP_ERR_NOTFOUND;
		return s->height < fh ? 0 : bad; /* at fh but not the final block */
	}
	if (m->b[*src].h.height != s->height || !bft_descends(m, *src, *tgt)) return bad;
	return 0;
}

int ssp_bft_add_vote(ssp_bft *m, const ssp_bft_vote *v)
{
	if (v->voter >= SSP_BFT_MAX_N || v->source.height >= v->target.height) return SSP_ERR_INVAL;
	uint32_t src = BFT_NONE, tgt = BFT_NONE;
	int rc = locate(m, &src, &tgt, &v->source, &v->target, SSP_ERR_INVAL);
	if (rc == SSP_ERR_INVAL || rc == SSP_ERR_NOTFOUND) return rc;
	/* the voter is an index into the set of the target's round (with elections, a
	 * target this view knows no set for, off the final branch, names no key) */
	uint32_t set = bft_vote_set(m, &v->target);
	if (set == BFT_NONE) return rc == 1 ? 0 : SSP_ERR_NOTFOUND; /* below the horizon */
	if (v->voter >= m->sets[set].n) return SSP_ERR_INVAL;
	bft_link *l = rc ? NULL : link_find(m, &v->source, tgt);
	if (l && (l->bits[v->voter / 64] >> (v->voter % 64) & 1)) return 0; /* counted */
	/* evidence before the rest: a vote conflicts by its heights, blocks known or not */
	if (bft_record_vote(m, set, v->voter, &v->source, &v->target) == BFT_VOTE_CONFLICT)
		return 0;
	if (rc) return rc == 1 ? 0 : rc;
	if ((rc = bft_links_reserve(m))) return rc;
	l = link_get(m, src, &v->source, tgt);
	l->bits[v->voter / 64] |= 1ULL << (v->voter % 64);
	l->count++;
	if (!l->qc && l->count >= m->sets[set].quorum) {
		l->qc = true;
		apply_links(m);
		bft_update_head(m);
		bft_compact(m, false);
	}
	return 0;
}

void ssp_bft_final(const ssp_bft *m, ssp_bft_ref *out)
{
	*out = bft_ref(m, m->final);
}

void ssp_bft_justified(const ssp_bft *m, ssp_bft_ref *out)
{
	*out = bft_ref(m, m->top_justified);
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
	if (t == m->final) return SSP_ERR_INVAL; /* genesis, or final: nothing to vote for */
	uint32_t s = m->b[t].parent;
	while (!m->b[s].justified)
		s = m->b[s].parent; /* the final block is justified */
	*out = (ssp_bft_vote){voter, bft_ref(m, s), bft_ref(m, t)};
	if (qc) {
		memset(qc, 0, sizeof *qc);
		for (uint32_t i = 0; m->b[s].h.height != 0 && i < m->nl; i++) {
			const bft_link *l = &m->links[i];
			if (l->tgt != s || !l->done) continue; /* the link that justified s */
			qc->source = l->sref;
			qc->target = bft_ref(m, l->tgt);
			memcpy(qc->bits, l->bits, sizeof qc->bits);
			break;
		}
	}
	return 0;
}

int ssp_bft_add_qc(ssp_bft *m, const ssp_bft_qc *qc)
{
	uint32_t src = BFT_NONE, tgt = BFT_NONE;
	int rc = locate(m, &src, &tgt, &qc->source, &qc->target, SSP_ERR_BFT_QC);
	if (rc < 0) return rc;
	uint32_t set = bft_vote_set(m, &qc->target);
	if (set == BFT_NONE) return rc == 1 ? 0 : SSP_ERR_NOTFOUND; /* below the horizon */
	if (!bft_qc_quorum(m, qc, set)) return SSP_ERR_BFT_QC;
	if (rc == 0 && (rc = bft_links_reserve(m))) return rc;
	record_qc_votes(m, qc, tgt, set);
	if (tgt == BFT_NONE) return 0; /* at or below the final block: evidence only */
	add_qc_link(m, src, tgt, qc);
	bft_update_head(m);
	bft_compact(m, false);
	return 0;
}
