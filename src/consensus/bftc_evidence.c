/*
 * bftc_evidence.c — what a node keeps to report equivocation (consensus
 * layer; private header bftc_evidence.h, public face ssp_bftc_evidence_take
 * in ssp/consensus.h). The machine (ssp/bft.h) finds two blocks for one
 * slot, double votes and surround votes from ids and heights only; a
 * slashing tx needs the signed bytes. bftc notes here every header and
 * vote signature it verified, in bounded rings:
 *
 *   headers  the last EV_HEADERS signed headers, as encoded (an equivocating
 *            producer's two blocks for a slot reach a node within a few
 *            slots of each other; the machine only compares blocks above
 *            its final one)
 *   votes    per voter key, its last EV_VOTES distinct links with their
 *            signature (from NET_VOTE messages and from every QC's bits),
 *            for up to EV_VOTERS keys (the least recently heard is dropped)
 *
 * When the machine reports evidence (bftc_ev_found), both halves are looked
 * up and the result queued (EV_QUEUE, the oldest dropped past that); the
 * node takes it (ssp_bftc_evidence_take) and builds the tx. A half no longer
 * kept gives an entry with complete = false, which the node counts as
 * failed. Memory: EV_HEADERS x at most 17 KiB + keys x EV_VOTES x 144 bytes
 * (about 0.9 MiB for 99 voters).
 */
#include <stdlib.h>
#include <string.h>

#include "bftc_evidence.h"

#define EV_HEADERS 128
#define EV_VOTES 64
#define EV_VOTERS 512
#define EV_QUEUE 64

typedef struct {
	ssp_vote_link l;
	ssp_sig sig;
} ev_vote;

typedef struct {
	ssp_pubkey key;
	uint64_t heard; /* tick of the last vote noted */
	uint32_t next, n;
	ev_vote v[EV_VOTES];
} ev_voter;

typedef struct {
	ssp_hash id;
	uint8_t *raw; /* malloc'd; NULL: free slot */
	size_t len;
} ev_header;

struct bftc_ev {
	ev_header hdr[EV_HEADERS];
	uint32_t hnext;
	ev_voter *voter[EV_VOTERS]; /* malloc'd on first use */
	uint32_t nvoters;
	uint64_t tick;
	ssp_bftc_evidence q[EV_QUEUE];
	uint32_t qhead, qn;
};

int bftc_ev_new(bftc_ev **out)
{
	*out = ssp_calloc(1, sizeof **out);
	return *out ? 0 : SSP_ERR_NOMEM;
}

void bftc_ev_free(bftc_ev *e)
{
	if (!e) return;
	for (uint32_t i = 0; i < EV_HEADERS; i++)
		free(e->hdr[i].raw);
	for (uint32_t i = 0; i < e->nvoters; i++)
		free(e->voter[i]);
	for (uint32_t i = 0; i < e->qn; i++)
		ssp_bftc_evidence_clear(&e->q[(e->qhead + i) % EV_QUEUE]);
	free(e);
}

static bool link_eq(const ssp_vote_link *a, const ssp_vote_link *b)
{
	return a->src_height == b->src_height && a->tgt_height == b->tgt_height &&
	       !memcmp(a->src_id.b, b->src_id.b, 32) && !memcmp(a->tgt_id.b, b->tgt_id.b, 32);
}

/* ---------------------------------------------------------------- headers */

static const ev_header *header_find(const bftc_ev *e, const ssp_hash *id)
{
	for (uint32_t i = 0; i < EV_HEADERS; i++)
		if (e->hdr[i].raw && !memcmp(e->hdr[i].id.b, id->b, 32)) return &e->hdr[i];
	return NULL;
}

void bftc_ev_header(bftc_ev *e, const ssp_header *h, const ssp_hash *id)
{
	if (!e || header_find(e, id)) return;
	ssp_buf b;
	ssp_buf_init(&b, 1024 + SSP_QC_MAX);
	ssp_header_encode(&b, h, true);
	ev_header *x = &e->hdr[e->hnext];
	if (b.err || !b.len) {
		ssp_buf_free(&b);
		return;
	}
	free(x->raw);
	x->raw = b.data; /* taken from the buffer */
	x->len = b.len;
	x->id = *id;
	e->hnext = (e->hnext + 1) % EV_HEADERS;
}

/* ------------------------------------------------------------------ votes */

static ev_voter *voter_find(const bftc_ev *e, const ssp_pubkey *key)
{
	for (uint32_t i = 0; i < e->nvoters; i++)
		if (ssp_pubkey_eq(&e->voter[i]->key, key)) return e->voter[i];
	return NULL;
}

void bftc_ev_vote(bftc_ev *e, const ssp_pubkey *key, const ssp_bft_ref *src, const ssp_bft_ref *tgt,
                  const ssp_sig *sig)
{
	if (!e) return;
	ssp_vote_link l = {src->height, src->id, tgt->height, tgt->id};
	ev_voter *v = voter_find(e, key);
	if (!v) {
		if (e->nvoters < EV_VOTERS) {
			if (!(v = ssp_malloc(sizeof *v))) return; /* only evidence is lost */
			e->voter[e->nvoters++] = v;
		} else { /* the least recently heard key makes room */
			v = e->voter[0];
			for (uint32_t i = 1; i < e->nvoters; i++)
				if (e->voter[i]->heard < v->heard) v = e->voter[i];
		}
		v->key = *key;
		v->next = v->n = 0;
	}
	v->heard = ++e->tick;
	for (uint32_t i = 0; i < v->n; i++)
		if (link_eq(&v->v[i].l, &l)) return; /* known (QCs repeat every vote) */
	v->v[v->next] = (ev_vote){l, *sig};
	v->next = (v->next + 1) % EV_VOTES;
	if (v->n < EV_VOTES) v->n++;
}

static bool vote_sig(const bftc_ev *e, const ssp_pubkey *key, const ssp_bft_vote *bv,
                     ssp_vote_link *l, ssp_sig *sig)
{
	const ev_voter *v = voter_find(e, key);
	*l = (ssp_vote_link){bv->source.height, bv->source.id, bv->target.height, bv->target.id};
	for (uint32_t i = 0; v && i < v->n; i++)
		if (link_eq(&v->v[i].l, l)) {
			*sig = v->v[i].sig;
			return true;
		}
	return false;
}

/* --------------------------------------------------------------- evidence */

void bftc_ev_found(bftc_ev *e, const ssp_bft_evidence *ev)
{
	if (!e) return;
	ssp_bftc_evidence x;
	memset(&x, 0, sizeof x);
	x.kind = ev->kind;
	x.key = ev->key;
	x.complete = true;
	if (ev->kind == SSP_BFT_EV_DOUBLE_BLOCK) {
		x.slot = ev->slot;
		for (int i = 0; i < 2; i++) {
			const ev_header *h = header_find(e, &ev->block[i]);
			if (h && (x.header[i] = ssp_malloc(h->len))) {
				memcpy(x.header[i], h->raw, h->len);
				x.header_len[i] = h->len;
			} else {
				x.complete = false;
			}
		}
	} else if (ev->kind == SSP_BFT_EV_DOUBLE_VOTE || ev->kind == SSP_BFT_EV_SURROUND) {
		for (int i = 0; i < 2; i++)
			if (!vote_sig(e, &ev->key, &ev->vote[i], &x.vote[i], &x.sig[i]))
				x.complete = false;
	} else {
		return;
	}
	if (!x.complete) { /* the node only counts it: no bytes to keep */
		ssp_bftc_evidence_clear(&x);
		x.complete = false;
	}
	if (e->qn == EV_QUEUE) { /* the oldest goes */
		ssp_bftc_evidence_clear(&e->q[e->qhead]);
		e->qhead = (e->qhead + 1) % EV_QUEUE;
		e->qn--;
	}
	e->q[(e->qhead + e->qn) % EV_QUEUE] = x;
	e->qn++;
}

bool bftc_ev_take(bftc_ev *e, ssp_bftc_evidence *out)
{
	if (!e || !e->qn) return false;
	*out = e->q[e->qhead];
	memset(&e->q[e->qhead], 0, sizeof e->q[e->qhead]);
	e->qhead = (e->qhead + 1) % EV_QUEUE;
	e->qn--;
	return true;
}

void ssp_bftc_evidence_clear(ssp_bftc_evidence *x)
{
	free(x->header[0]);
	free(x->header[1]);
	uint8_t kind = x->kind;
	ssp_pubkey key = x->key;
	uint64_t slot = x->slot;
	memset(x, 0, sizeof *x);
	x->kind = kind; /* what it was about stays readable */
	x->key = key;
	x->slot = slot;
}
