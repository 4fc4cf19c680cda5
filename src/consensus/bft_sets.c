/*
 * bft_sets.c — delegate sets of the BFT state machine (consensus layer,
 * ssp/bft.h): the keys ever seen (their votes and onion reveals outlive
 * any one set), the sets elected by the first block of each round, the
 * rule that picks a block's set from its branch, and freeing the sets no
 * block the machine holds refers to any more.
 *
 * The rule (a function of the branch alone): a block in the same round as
 * its parent has its parent's set. The first block B of a round on a
 * branch, parent P: let F be the first block of P's round on the branch
 * (it elected a set for the rounds after its own). If the branch's own
 * QCs, up to P, make F final, B's set is F's election (or P's set when F
 * elected none); else P's set. So an election applies one round later at
 * the earliest, and only once the state it was read from cannot change.
 */
#include <stdlib.h>
#include <string.h>

#include "bft_internal.h"

/* The index of key in m->ks, added when new; BFT_NONE on a memory shortage. */
static uint32_t key_index(ssp_bft *m, const ssp_pubkey *key)
{
	for (uint32_t i = 0; i < m->nks; i++)
		if (ssp_pubkey_eq(&m->ks[i].key, key)) return i;
	if (m->nks == m->capks) {
		uint32_t cap = m->capks ? m->capks * 2 : 16;
		bft_key *nk = ssp_realloc(m->ks, (size_t)cap * sizeof *nk);
		if (!nk) return BFT_NONE;
		m->ks = nk;
		m->capks = cap;
	}
	bft_key *k = &m->ks[m->nks];
	memset(k, 0, sizeof *k);
	k->key = *key;
	k->fin_round = UINT64_MAX;
	return m->nks++;
}

void bft_keys_free(ssp_bft *m)
{
	for (uint32_t i = 0; i < m->nks; i++) {
		free(m->ks[i].votes.v);
		free(m->ks[i].votes.h);
	}
	free(m->ks);
	for (uint32_t i = 0; i < m->nsets; i++) {
		free(m->sets[i].keys);
		free(m->sets[i].kx);
		free(m->sets[i].onion);
		free(m->sets[i].onion_round);
	}
	free(m->sets);
}

static void set_release(bft_set *s)
{
	free(s->keys);
	free(s->kx);
	free(s->onion);
	free(s->onion_round);
	memset(s, 0, sizeof *s);
}

static int set_store(ssp_bft *m, uint32_t *out, const ssp_bft_set *s);

static bool set_same(const bft_set *a, const ssp_bft_set *b)
{
	if (!a->used || a->n != b->n) return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (!ssp_pubkey_eq(&a->keys[i], &b->keys[i]) || memcmp(a->onion[i].b, b->onion[i].b, 32) ||
		    a->onion_round[i] != (b->onion_round ? b->onion_round[i] : UINT64_MAX))
			return false;
	return true;
}

static int key_cmp(const ssp_pubkey *a, const ssp_pubkey *b)
{
	if (a->type != b->type) return a->type < b->type ? -1 : 1;
	if (a->len != b->len) return a->len < b->len ? -1 : 1;
	return memcmp(a->b, b->b, a->len);
}

/* The same members with the same onion entries, in any order. */
static bool set_same_members(const bft_set *a, const ssp_bft_set *b)
{
	if (!a->used || a->n != b->n) return false;
	for (uint32_t i = 0; i < b->n; i++) {
		uint32_t j = 0;
		while (j < a->n && !ssp_pubkey_eq(&a->keys[j], &b->keys[i]))
			j++;
		if (j == a->n || memcmp(a->onion[j].b, b->onion[i].b, 32) ||
		    a->onion_round[j] != (b->onion_round ? b->onion_round[i] : UINT64_MAX))
			return false;
	}
	return true;
}

int bft_set_add(ssp_bft *m, uint32_t *out, const ssp_bft_set *in)
{
	if (in->n == 0 || in->n > SSP_BFT_MAX_N || !in->keys || !in->onion) return SSP_ERR_INVAL;
	for (uint32_t i = 0; i < in->n; i++) {
		if (in->keys[i].len == 0 || in->keys[i].len > SSP_PUBKEY_MAX) return SSP_ERR_INVAL;
		for (uint32_t j = 0; j < i; j++)
			if (ssp_pubkey_eq(&in->keys[i], &in->keys[j])) return SSP_ERR_INVAL; /* one vote each */
	}
	/*
	 * Members are indexed (QC bitmaps, votes, producers) in an order that is a function
	 * of the membership alone, so every node gives a set the same order whatever sets
	 * it still holds: the genesis set's order for the genesis members, else sorted by
	 * key (type, length, bytes). The weights' order of an election does not matter.
	 */
	if (m->nsets && set_same_members(&m->sets[0], in)) {
		*out = 0;
		return 0;
	}
	ssp_bft_set sorted = *in, *s = &sorted;
	ssp_pubkey *sk = NULL;
	ssp_hash *so = NULL;
	uint64_t *sr = NULL;
	if (m->nsets) {
		uint32_t *ix = ssp_calloc(in->n, sizeof *ix);
		sk = ssp_calloc(in->n, sizeof *sk);
		so = ssp_calloc(in->n, sizeof *so);
		sr = ssp_calloc(in->n, sizeof *sr);
		if (!ix || !sk || !so || !sr) {
			free(ix);
			free(sk);
			free(so);
			free(sr);
			return SSP_ERR_NOMEM;
		}
		for (uint32_t i = 0; i < in->n; i++) { /* insertion sort: n <= 256, once a round */
			uint32_t j = i;
			while (j > 0 && key_cmp(&in->keys[ix[j - 1]], &in->keys[i]) > 0) {
				ix[j] = ix[j - 1];
				j--;
			}
			ix[j] = i;
		}
		for (uint32_t i = 0; i < in->n; i++) {
			sk[i] = in->keys[ix[i]];
			so[i] = in->onion[ix[i]];
			sr[i] = in->onion_round ? in->onion_round[ix[i]] : UINT64_MAX;
		}
		free(ix);
		sorted.keys = sk;
		sorted.onion = so;
		sorted.onion_round = sr;
	}
	int rc = set_store(m, out, s);
	free(sk);
	free(so);
	free(sr);
	return rc;
}

static int set_store(ssp_bft *m, uint32_t *out, const ssp_bft_set *s)
{
	uint32_t free_slot = BFT_NONE;
	for (uint32_t i = 0; i < m->nsets; i++) {
		if (set_same(&m->sets[i], s)) {
			*out = i;
			return 0;
		}
		if (!m->sets[i].used && free_slot == BFT_NONE) free_slot = i;
	}
	if (free_slot == BFT_NONE) {
		bft_set *ns = ssp_realloc(m->sets, (size_t)(m->nsets + 1) * sizeof *ns);
		if (!ns) return SSP_ERR_NOMEM;
		m->sets = ns;
		memset(&m->sets[m->nsets], 0, sizeof *ns);
		free_slot = m->nsets++;
	}
	bft_set *t = &m->sets[free_slot];
	t->keys = ssp_calloc(s->n, sizeof *t->keys);
	t->kx = ssp_calloc(s->n, sizeof *t->kx);
	t->onion = ssp_calloc(s->n, sizeof *t->onion);
	t->onion_round = ssp_calloc(s->n, sizeof *t->onion_round);
	if (!t->keys || !t->kx || !t->onion || !t->onion_round) {
		set_release(t);
		return SSP_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < s->n; i++) {
		t->kx[i] = key_index(m, &s->keys[i]);
		if (t->kx[i] == BFT_NONE) {
			set_release(t);
			return SSP_ERR_NOMEM;
		}
		t->keys[i] = s->keys[i];
		t->onion[i] = s->onion[i];
		t->onion_round[i] = s->onion_round ? s->onion_round[i] : UINT64_MAX;
	}
	t->n = s->n;
	t->quorum = m->p.quorum_override ? m->p.quorum_override : ssp_bft_quorum(s->n);
	t->used = true;
	/* an order cached for a set that used this slot before is not this set's */
	for (int i = 0; i < BFT_ORDER_CACHE; i++)
		if (m->cache[i].set == free_slot) m->cache[i].used = false;
	*out = free_slot;
	return 0;
}

static void set_out(const ssp_bft *m, ssp_bft_set *out, uint32_t si)
{
	const bft_set *s = &m->sets[si];
	*out = (ssp_bft_set){.n = s->n,
	                     .keys = s->keys,
	                     .onion = s->onion,
	                     .onion_round = s->onion_round,
	                     .quorum = s->quorum};
}

uint32_t ssp_bft_set_index(const ssp_bft_set *set, const ssp_pubkey *key)
{
	for (uint32_t i = 0; i < set->n; i++)
		if (ssp_pubkey_eq(&set->keys[i], key)) return i;
	return UINT32_MAX;
}

/* The final path's record of height h (NULL when it has none). */
static const __typeof__(((ssp_bft *)0)->path[0]) *path_at(const ssp_bft *m, uint64_t h)
{
	const __typeof__(m->path[0]) *e = &m->path[h % SSP_BFT_QC_HORIZON];
	return e->used && e->height == h ? e : NULL;
}

uint32_t bft_set_of_ref(const ssp_bft *m, const ssp_bft_ref *r)
{
	uint32_t i = bft_find(m, &r->id);
	if (i != BFT_NONE) return m->b[i].h.height == r->height ? m->b[i].set : BFT_NONE;
	const __typeof__(m->path[0]) *e = path_at(m, r->height);
	return e && !memcmp(e->id.b, r->id.b, 32) ? e->set : BFT_NONE;
}

uint32_t bft_vote_set(const ssp_bft *m, const ssp_bft_ref *r)
{
	uint32_t s = bft_set_of_ref(m, r);
	return s == BFT_NONE && !m->p.elections ? 0 : s;
}

/* What F, the first block of P's round on P's branch, elected. */
static uint32_t first_elected(const ssp_bft *m, uint32_t pi)
{
	uint64_t fh = m->b[pi].first_h;
	uint32_t x = pi;
	while (m->b[x].h.height > fh && m->b[x].parent != BFT_NONE)
		x = m->b[x].parent;
	if (m->b[x].h.height == fh) return m->b[x].elected;
	const __typeof__(m->path[0]) *e = path_at(m, fh); /* below the root: the final path */
	return e ? e->elected : BFT_SET_UNKNOWN;
}

int bft_branch_set(const ssp_bft *m, uint32_t pi, uint64_t slot, uint32_t *out)
{
	const bft_node *P = &m->b[pi];
	*out = P->set;
	if (!m->p.elections || slot / m->L == P->h.slot / m->L) return 0;
	if (P->bfin_h < P->first_h) return 0; /* F is not final on this branch (yet) */
	uint32_t e = first_elected(m, pi);
	if (e == BFT_SET_UNKNOWN) return SSP_ERR_BFT_SET;
	if (e != BFT_SET_NONE) *out = e;
	return 0;
}

int ssp_bft_set_elected(ssp_bft *m, const ssp_hash *id, const ssp_bft_set *set)
{
	/* a live block, or one of the final path (its held copy, if any, is updated too:
	 * walks along parents may still reach it before compaction) */
	uint32_t i = bft_find(m, id), h = bft_find_held(m, id);
	__typeof__(m->path[0]) *e = NULL;
	for (uint32_t k = 0; k < SSP_BFT_QC_HORIZON && !e && i == BFT_NONE; k++)
		if (m->path[k].used && !memcmp(m->path[k].id.b, id->b, 32)) e = &m->path[k];
	if (i == BFT_NONE && !e) return SSP_ERR_NOTFOUND;
	if (i != BFT_NONE) {
		if (m->b[i].first_h != m->b[i].h.height || m->b[i].h.height == 0) return SSP_ERR_INVAL;
		e = &m->path[m->b[i].h.height % SSP_BFT_QC_HORIZON];
		if (!e->used || e->height != m->b[i].h.height || memcmp(e->id.b, id->b, 32)) e = NULL;
	} else if (h != BFT_NONE && m->b[h].first_h != m->b[h].h.height) {
		return SSP_ERR_INVAL;
	}
	uint32_t cur = h != BFT_NONE ? m->b[h].elected : e->elected;
	if (cur != BFT_SET_UNKNOWN || !m->p.elections) return 0; /* told before */
	uint32_t si = BFT_SET_NONE;
	if (set) {
		int rc = bft_set_add(m, &si, set);
		if (rc) return rc;
	}
	if (h != BFT_NONE) m->b[h].elected = si;
	if (e) e->elected = si;
	return 0;
}

int ssp_bft_block_set(const ssp_bft *m, ssp_bft_set *out, const ssp_bft_ref *block)
{
	uint32_t si = bft_set_of_ref(m, block);
	if (si == BFT_NONE) return SSP_ERR_NOTFOUND;
	set_out(m, out, si);
	return 0;
}

int ssp_bft_slot_set(ssp_bft *m, ssp_bft_set *out, uint32_t *producer, const ssp_hash *parent,
                     uint64_t slot)
{
	uint32_t pi = bft_find(m, parent), si;
	if (pi == BFT_NONE) return SSP_ERR_NOTFOUND;
	if (slot <= m->b[pi].h.slot) return SSP_ERR_BLOCK_TIME;
	int rc = bft_producer_at(m, pi, slot, &si, producer);
	if (rc) return rc;
	set_out(m, out, si);
	return 0;
}

/*
 * After compaction: frees the sets that no held block and no final-path
 * record refers to (the genesis set stays: a restart's first blocks).
 */
void bft_sets_gc(ssp_bft *m)
{
	if (m->nsets <= 1) return;
	uint8_t *mark = ssp_calloc(m->nsets, 1);
	if (!mark) return;
	mark[0] = 1;
	for (uint32_t i = 0; i < m->nb; i++) {
		if (m->b[i].set < m->nsets) mark[m->b[i].set] = 1;
		if (m->b[i].elected < m->nsets) mark[m->b[i].elected] = 1;
	}
	for (uint32_t k = 0; k < SSP_BFT_QC_HORIZON; k++) {
		if (!m->path[k].used) continue;
		if (m->path[k].set < m->nsets) mark[m->path[k].set] = 1;
		if (m->path[k].elected < m->nsets) mark[m->path[k].elected] = 1;
	}
	for (uint32_t i = 1; i < m->nsets; i++)
		if (!mark[i] && m->sets[i].used) {
			set_release(&m->sets[i]);
			for (int c = 0; c < BFT_ORDER_CACHE; c++)
				if (m->cache[c].set == i) m->cache[c].used = false;
		}
	free(mark);
}
