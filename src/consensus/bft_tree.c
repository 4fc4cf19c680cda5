/*
 * bft_tree.c — the block tree of the BFT state machine (consensus layer,
 * ssp/bft.h): a block's validity against its branch (height, slot and
 * timestamp, the producer of its slot in its round's order, its onion
 * reveal, the shape of its QC), the per-branch round seed, two blocks for
 * one slot by one producer, and the block template a producer fills (with
 * the participation rule over the view).
 */
#include <stdlib.h>
#include <string.h>

#include "bft_internal.h"

/* ------------------------------------------------------------------ index */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static uint64_t id_key(const ssp_hash *id)
{
	uint64_t k;
	memcpy(&k, id->b, 8);
	return k;
}

static int map_grow(bft_map *mp)
{
	uint32_t cap = mp->cap ? mp->cap * 2 : 64;
	uint64_t *key = ssp_calloc(cap, sizeof *key);
	uint32_t *val = ssp_calloc(cap, sizeof *val);
	if (!key || !val) {
		free(key);
		free(val);
		return SSP_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < mp->cap; i++) {
		if (!mp->val[i]) continue;
		uint32_t j = (uint32_t)mix(mp->key[i]) & (cap - 1);
		while (val[j])
			j = (j + 1) & (cap - 1);
		key[j] = mp->key[i];
		val[j] = mp->val[i];
	}
	free(mp->key);
	free(mp->val);
	mp->key = key;
	mp->val = val;
	mp->cap = cap;
	return 0;
}

static int map_reserve(bft_map *mp)
{
	return (mp->n + 1) * 2 > mp->cap ? map_grow(mp) : 0;
}

/* After map_reserve: cannot fail. */
static void map_put(bft_map *mp, uint64_t k, uint32_t ix)
{
	uint32_t j = (uint32_t)mix(k) & (mp->cap - 1);
	while (mp->val[j])
		j = (j + 1) & (mp->cap - 1);
	mp->key[j] = k;
	mp->val[j] = ix + 1;
	mp->n++;
}

/* Any block held, live or not. */
uint32_t bft_find_held(const ssp_bft *m, const ssp_hash *id)
{
	const bft_map *mp = &m->by_id;
	uint64_t k = id_key(id);
	if (!mp->cap) return BFT_NONE;
	for (uint32_t j = (uint32_t)mix(k) & (mp->cap - 1); mp->val[j]; j = (j + 1) & (mp->cap - 1))
		if (mp->key[j] == k && !memcmp(m->b[mp->val[j] - 1].h.id.b, id->b, 32))
			return mp->val[j] - 1;
	return BFT_NONE;
}

bool bft_descends(const ssp_bft *m, uint32_t a, uint32_t b)
{
	uint64_t ha = m->b[a].h.height;
	while (b != BFT_NONE && m->b[b].h.height > ha)
		b = m->b[b].parent;
	return b == a;
}

bool bft_live(const ssp_bft *m, uint32_t i)
{
	return i != BFT_NONE && bft_descends(m, m->final, i);
}

uint32_t bft_find(const ssp_bft *m, const ssp_hash *id)
{
	uint32_t i = bft_find_held(m, id);
	return bft_live(m, i) ? i : BFT_NONE;
}

/* --------------------------------------------------------------- lifecycle */

int ssp_bft_new(ssp_bft **out, const ssp_bft_params *p)
{
	int rc = SSP_ERR_NOMEM;
	if (p->n == 0 || p->n > SSP_BFT_MAX_N || p->slot_ms == 0 || p->onion_len == 0 ||
	    p->round_len > SSP_BFT_MAX_N)
		return SSP_ERR_INVAL;
	ssp_bft *m = ssp_calloc(1, sizeof *m);
	if (!m) return SSP_ERR_NOMEM;
	m->p = *p;
	if (!m->p.max_blocks) m->p.max_blocks = 65536;
	m->compact_k = p->compact_min ? p->compact_min : BFT_COMPACT_MIN;
	m->L = p->round_len ? p->round_len : p->n;
	m->p.keys = NULL;
	m->p.onion = NULL;
	m->capb = 64;
	m->b = ssp_calloc(m->capb, sizeof *m->b);
	if (!m->b) goto out;
	uint32_t s0;
	ssp_bft_set gs = {.n = p->n, .keys = p->keys, .onion = p->onion};
	if ((rc = bft_set_add(m, &s0, &gs))) goto out;
	rc = SSP_ERR_NOMEM;
	bft_node *g = &m->b[0];
	g->set = s0;
	g->elected = BFT_SET_NONE;
	g->pkx = BFT_NONE;
	g->h.id = p->genesis_id;
	g->h.time_ms = p->genesis_time_ms;
	g->h.producer = BFT_NONE;
	g->parent = BFT_NONE;
	g->seed = p->genesis_seed;
	g->justified = true;
	m->path[0].id = p->genesis_id;
	m->path[0].set = s0;
	m->path[0].elected = BFT_SET_NONE;
	m->path[0].justified = m->path[0].used = true;
	m->nb = 1;
	m->kept = 1;
	rc = map_reserve(&m->by_id);
	if (!rc) rc = map_reserve(&m->by_slot);
	if (!rc) {
		map_put(&m->by_id, id_key(&g->h.id), 0);
		map_put(&m->by_slot, 0, 0);
	}
out:
	if (rc) {
		ssp_bft_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void ssp_bft_free(ssp_bft *m)
{
	if (!m) return;
	bft_keys_free(m);
	free(m->b);
	free(m->old);
	free(m->links);
	free(m->by_id.key);
	free(m->by_id.val);
	free(m->by_slot.key);
	free(m->by_slot.val);
	free(m);
}

/* --------------------------------------------------------------- schedule */

static const uint32_t *order_of(ssp_bft *m, const ssp_hash *seed, uint32_t set)
{
	for (int i = 0; i < BFT_ORDER_CACHE; i++)
		if (m->cache[i].used && m->cache[i].set == set &&
		    !memcmp(m->cache[i].seed.b, seed->b, 32))
			return m->cache[i].order;
	uint32_t c = m->cache_next++ % BFT_ORDER_CACHE;
	const bft_set *st = &m->sets[set];
	if (ssp_bft_order(m->cache[c].order, st->keys, st->n, seed)) abort(); /* n checked */
	m->cache[c].seed = *seed;
	m->cache[c].set = set;
	m->cache[c].used = true;
	return m->cache[c].order;
}

/* The seed and window accumulator a block at `slot` on parent P starts from. */
static void round_state(const ssp_bft *m, ssp_hash *seed, ssp_hash *acc, uint32_t pi, uint64_t slot)
{
	const bft_node *P = &m->b[pi];
	uint64_t r = ssp_bft_round(slot, m->L);
	if (r == ssp_bft_round(P->h.slot, m->L)) {
		*seed = P->seed;
		*acc = P->acc;
	} else {
		ssp_bft_seed_next(seed, &P->seed, &P->acc, r);
		memset(acc, 0, sizeof *acc);
	}
}

/* The first dropped block kept with a slot >= slot (m->old is sorted by slot). */
static uint32_t old_lower(const ssp_bft *m, uint64_t slot)
{
	uint32_t lo = 0, hi = m->nold;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (m->old[mid].slot < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool slot_has_block(const ssp_bft *m, uint64_t slot)
{
	const bft_map *mp = &m->by_slot;
	for (uint32_t j = (uint32_t)mix(slot) & (mp->cap - 1); mp->val[j];
	     j = (j + 1) & (mp->cap - 1))
		if (mp->key[j] == slot) return true;
	uint32_t k = old_lower(m, slot);
	return k < m->nold && m->old[k].slot == slot;
}

/* Slots in [from, to) this view holds a block for. */
static uint32_t slots_with_blocks(const ssp_bft *m, uint64_t from, uint64_t to)
{
	uint32_t c = 0;
	for (uint64_t t = from; t < to; t++)
		c += slot_has_block(m, t);
	return c;
}

/* A round shorter set than slots: the order repeats within the round. */
int bft_producer_at(ssp_bft *m, uint32_t pi, uint64_t slot, uint32_t *set, uint32_t *producer)
{
	ssp_hash seed, acc;
	int rc = bft_branch_set(m, pi, slot, set);
	if (rc) return rc;
	round_state(m, &seed, &acc, pi, slot);
	*producer = order_of(m, &seed, *set)[slot % m->L % m->sets[*set].n];
	return 0;
}

int ssp_bft_producer(ssp_bft *m, uint32_t *out, const ssp_hash *parent, uint64_t slot)
{
	uint32_t pi = bft_find(m, parent), set;
	if (pi == BFT_NONE) return SSP_ERR_NOTFOUND;
	if (slot <= m->b[pi].h.slot) return SSP_ERR_BLOCK_TIME;
	return bft_producer_at(m, pi, slot, &set, out);
}

uint32_t ssp_bft_participation(const ssp_bft *m, uint64_t slot)
{
	uint64_t r = ssp_bft_round(slot, m->L);
	if (r == 0) return m->L;
	return slots_with_blocks(m, (r - 1) * m->L, r * m->L);
}

/* ------------------------------------------------------------- compaction */

static int old_cmp(const void *a, const void *b)
{
	const bft_oldslot *x = a, *y = b;
	if (x->slot != y->slot) return x->slot < y->slot ? -1 : 1;
	return memcmp(x->id.b, y->id.b, 32);
}

static int map_init(bft_map *mp, uint32_t n)
{
	uint32_t cap = 64;
	while ((n + 1) * 2 > cap)
		cap *= 2;
	mp->key = ssp_calloc(cap, sizeof *mp->key);
	mp->val = ssp_calloc(cap, sizeof *mp->val);
	mp->cap = cap;
	mp->n = 0;
	return mp->key && mp->val ? 0 : SSP_ERR_NOMEM;
}

static void map_free(bft_map *mp)
{
	free(mp->key);
	free(mp->val);
}

/*
 * Drops every block that is not the final block or a descendant of it
 * (bft_find has ignored them since the final block moved, so this changes
 * no answer), and the links to them; the final block becomes the root at
 * index 0. Runs when the final block is not the root and the blocks added
 * since the last run reach max(K, the blocks it kept): O(blocks held +
 * links) each time, so O(1) amortised per block, and at most about
 * 2 * live + K blocks are held. The slots of dropped blocks from the round
 * before the final block's on are kept (participation, two blocks for one
 * slot). A memory shortage skips the run (nothing is lost but memory).
 */
void bft_compact(ssp_bft *m, bool force)
{
	if (m->p.no_compact || m->final == 0) return; /* nothing to drop */
	uint32_t k = m->compact_k > m->kept ? m->compact_k : m->kept;
	if (!force && m->compact_k > 1 && m->nb - m->kept < k) return;
	uint32_t nb = m->nb, f = m->final, live = 0;
	uint32_t *nix = ssp_calloc(nb, sizeof *nix);
	if (!nix) return;
	for (uint32_t i = 0; i < nb; i++) {
		uint32_t pa = m->b[i].parent;
		bool l = i == f || (i > f && pa != BFT_NONE && pa >= f && nix[pa] != BFT_NONE);
		nix[i] = l ? live++ : BFT_NONE;
	}
	/* the dropped blocks whose slots can still be asked about */
	uint32_t n = m->L;
	uint64_t fr = ssp_bft_round(m->b[f].h.slot, n), lo = fr ? (fr - 1) * n : 0;
	uint32_t keep_old = m->nold - old_lower(m, lo), more = 0;
	for (uint32_t i = 0; i < nb; i++)
		more += nix[i] == BFT_NONE && m->b[i].h.slot >= lo;
	bft_map by_id, by_slot;
	int rc = map_init(&by_id, live);
	int rc2 = map_init(&by_slot, live);
	bft_oldslot *old = keep_old + more ? ssp_calloc(keep_old + more, sizeof *old) : NULL;
	if (rc || rc2 || (keep_old + more && !old)) {
		map_free(&by_id);
		map_free(&by_slot);
		free(old);
		free(nix);
		return;
	}
	if (keep_old) memcpy(old, m->old + (m->nold - keep_old), keep_old * sizeof *old);
	uint32_t no = keep_old;
	for (uint32_t i = 0; i < nb; i++)
		if (nix[i] == BFT_NONE && m->b[i].h.slot >= lo)
			old[no++] = (bft_oldslot){m->b[i].h.slot, m->b[i].pkx, m->b[i].h.id};
	qsort(old, no, sizeof *old, old_cmp);
	free(m->old);
	m->old = old;
	m->nold = m->capold = no;
	/* the blocks, in their order (parents before children) */
	for (uint32_t i = f; i < nb; i++) {
		if (nix[i] == BFT_NONE) continue;
		bft_node x = m->b[i];
		x.parent = i == f ? BFT_NONE : nix[x.parent];
		x.qc_src = x.qc_src == BFT_NONE ? BFT_NONE : nix[x.qc_src];
		x.qc_tgt = x.qc_tgt == BFT_NONE ? BFT_NONE : nix[x.qc_tgt];
		m->b[nix[i]] = x;
		map_put(&by_id, id_key(&x.h.id), nix[i]);
		map_put(&by_slot, x.h.slot, nix[i]);
	}
	map_free(&m->by_id);
	map_free(&m->by_slot);
	m->by_id = by_id;
	m->by_slot = by_slot;
	/* the links to live blocks; a source left below the final block is named by sref */
	uint32_t nl = 0;
	for (uint32_t i = 0; i < m->nl; i++) {
		bft_link l = m->links[i];
		if (nix[l.tgt] == BFT_NONE) continue;
		l.tgt = nix[l.tgt];
		l.src = l.src == BFT_NONE ? BFT_NONE : nix[l.src];
		m->links[nl++] = l;
	}
	m->nl = nl;
	m->final = 0;
	m->top_justified = nix[m->top_justified] == BFT_NONE ? 0 : nix[m->top_justified];
	m->head = nix[m->head] == BFT_NONE ? 0 : nix[m->head];
	m->nb = m->kept = live;
	free(nix);
	bft_sets_gc(m);
	/* give memory back after a long stretch without finality */
	if (m->capb > 64 && (size_t)live * 4 < m->capb) {
		uint32_t cap = 64;
		while (cap < live * 2)
			cap *= 2;
		bft_node *nbuf = ssp_realloc(m->b, (size_t)cap * sizeof *nbuf);
		if (nbuf) {
			m->b = nbuf;
			m->capb = cap;
		}
	}
	if (m->capl > 64 && (size_t)nl * 4 < m->capl) {
		uint32_t cap = 64;
		while (cap < nl * 2)
			cap *= 2;
		bft_link *nlb = ssp_realloc(m->links, (size_t)cap * sizeof *nlb);
		if (nlb) {
			m->links = nlb;
			m->capl = cap;
		}
	}
}

/* ---------------------------------------------------------------- blocks */

/* The reveal check: against the producer's last reveal on the branch above the
 * final block, else its last one at or below it (or its commitment). */
/* "round -1" (UINT64_MAX) before every round */
static bool round_before(uint64_t a, uint64_t b)
{
	return a == UINT64_MAX ? b != UINT64_MAX : b != UINT64_MAX && a < b;
}

/*
 * The reveal check: against the producer key's last reveal on the branch
 * above the final block, else its last one at or below it, else the set's
 * onion entry; a reveal counts only if it was made under the same entry
 * (element and round) as this block's: a delegate that registered again
 * has a new onion from its registration's round, and goes on revealing
 * from the old one until a set carrying the new entry applies, so its
 * last reveals can be of the old onion, in rounds after the registration.
 * The producer reveals what its slot's set entry says (bftc's prepare),
 * and this accepts exactly that. A second block of the key in one round
 * (a set smaller than the round) reveals the same element again.
 * 0: wrong; 1: a new element; 2: the round's element again (not folded
 * into the seed a second time).
 */
static int reveal_ok(const ssp_bft *m, uint32_t pi, uint32_t set, const ssp_bft_block *b)
{
	const bft_set *st = &m->sets[set];
	uint32_t kx = st->kx[b->producer];
	uint64_t r = ssp_bft_round(b->slot, m->L), base = st->onion_round[b->producer];
	if (base != UINT64_MAX && base >= r) return 0;
	/* the onion is used up */
	if ((base == UINT64_MAX ? r + 1 : r - base) > m->p.onion_len) return 0;
	const ssp_hash *entry = &st->onion[b->producer], *prev = NULL;
	uint64_t prev_round = UINT64_MAX;
	for (uint32_t x = pi; x != BFT_NONE && x != m->final; x = m->b[x].parent) {
		if (m->b[x].h.height <= m->b[m->final].h.height) break;
		if (m->b[x].pkx == kx) {
			const bft_set *xs = &m->sets[m->b[x].set];
			uint32_t xp = m->b[x].h.producer;
			if (xs->onion_round[xp] == base && !memcmp(xs->onion[xp].b, entry->b, 32)) {
				prev = &m->b[x].h.reveal;
				prev_round = ssp_bft_round(m->b[x].h.slot, m->L);
			}
			break; /* else its last block is of an older registration */
		}
	}
	if (!prev) {
		const bft_key *k = &m->ks[kx];
		prev = entry;
		prev_round = base;
		if (round_before(prev_round, k->fin_round) && k->fin_base == base &&
		    !memcmp(k->fin_onion.b, entry->b, 32)) {
			prev = &k->fin_reveal;
			prev_round = k->fin_round;
		}
	}
	if (prev_round == r) return memcmp(prev->b, b->reveal.b, 32) ? 0 : 2;
	if (prev_round != UINT64_MAX && prev_round > r) return 0;
	uint64_t steps = prev_round == UINT64_MAX ? r + 1 : r - prev_round;
	return ssp_bft_onion_check(&b->reveal, prev, steps) ? 1 : 0;
}

/*
 * Whether block s is justified by the QCs of the branch ending at pi
 * itself (genesis always): some block above s on it carries a QC for s.
 * A block's QC must start at such a block, so every branch carries the
 * whole chain of its justifications and a node that never saw another
 * branch still follows it (a view-only QC, from votes or a dead branch,
 * would leave it behind).
 */
static bool branch_justified(const ssp_bft *m, uint32_t pi, uint32_t s)
{
	if (s == BFT_NONE || m->b[s].h.height == 0) return true; /* below final, or genesis */
	uint64_t hs = m->b[s].h.height;
	for (uint32_t x = pi; x != BFT_NONE && m->b[x].h.height > hs; x = m->b[x].parent)
		if (m->b[x].h.has_qc && m->b[x].qc_tgt == s) return true;
	return false;
}

/* A QC in a live block of the branch ending at pi justifies r (a block below the final one). */
static bool branch_justifies_ref(const ssp_bft *m, uint32_t pi, const ssp_bft_ref *r)
{
	for (uint32_t x = pi; x != BFT_NONE && m->b[x].h.height > r->height; x = m->b[x].parent)
		if (m->b[x].h.has_qc && m->b[x].h.qc.target.height == r->height &&
		    !memcmp(m->b[x].h.qc.target.id.b, r->id.b, 32))
			return true;
	return false;
}

/*
 * Is ref a block of the branch ending at pi that the branch justifies (by a
 * QC in one of its blocks, or genesis)? A function of the branch alone:
 * live blocks by their QCs, blocks at or below the final one through the
 * final path's record (m->path), so every node answers the same whatever
 * its final height (within SSP_BFT_QC_HORIZON, which the caller checks).
 */
static bool source_ok(const ssp_bft *m, uint32_t pi, const ssp_bft_ref *r)
{
	uint32_t s = bft_find(m, &r->id);
	if (s != BFT_NONE)
		return m->b[s].h.height == r->height && bft_descends(m, s, pi) &&
		       branch_justified(m, pi, s);
	bool j;
	if (!bft_path_has(m, r, &j)) return false;
	return j || branch_justifies_ref(m, pi, r);
}

/* The QC's bits fit its target's set and make its quorum. */
bool bft_qc_quorum(const ssp_bft *m, const ssp_bft_qc *qc, uint32_t set)
{
	if (set >= m->nsets) return false;
	for (uint32_t i = m->sets[set].n; i < SSP_BFT_MAX_N; i++)
		if (qc->bits[i / 64] >> (i % 64) & 1) return false;
	return ssp_bft_qc_count(qc) >= m->sets[set].quorum;
}

static int qc_shape(const ssp_bft *m, uint32_t pi, const ssp_bft_qc *qc, uint32_t *src,
                    uint32_t *tgt)
{
	if (qc->source.height >= qc->target.height) return SSP_ERR_BFT_QC;
	/* counted in the set of its target's round (known: the target is on the branch) */
	if (!bft_qc_quorum(m, qc, bft_set_of_ref(m, &qc->target))) return SSP_ERR_BFT_QC;
	/* the rule of the branch alone: every node checks it the same way */
	if (qc->source.height + SSP_BFT_QC_HORIZON <= m->b[pi].h.height) return SSP_ERR_BFT_QC;
	*src = bft_find(m, &qc->source.id);
	*tgt = bft_find(m, &qc->target.id);
	if (*tgt == BFT_NONE) {
		/* a link at or below the final block: on the final path, from a justified
		 * source; it serves as evidence only */
		*src = BFT_NONE;
		return bft_path_has(m, &qc->target, NULL) && source_ok(m, pi, &qc->source)
		           ? 0
		           : SSP_ERR_BFT_QC;
	}
	if (m->b[*tgt].h.height != qc->target.height || !bft_descends(m, *tgt, pi))
		return SSP_ERR_BFT_QC;
	if (!source_ok(m, pi, &qc->source)) return SSP_ERR_BFT_QC;
	if (*src != BFT_NONE && !bft_descends(m, *src, *tgt)) return SSP_ERR_BFT_QC;
	return 0;
}

static void double_block_check(ssp_bft *m, uint32_t ix)
{
	const bft_map *mp = &m->by_slot;
	const bft_node *x = &m->b[ix];
	for (uint32_t j = (uint32_t)mix(x->h.slot) & (mp->cap - 1); mp->val[j];
	     j = (j + 1) & (mp->cap - 1)) {
		const bft_node *y = &m->b[mp->val[j] - 1];
		if (mp->key[j] != x->h.slot || mp->val[j] - 1 == ix) continue;
		if (y->pkx != x->pkx) continue; /* another branch's producer */
		ssp_bft_evidence e = {.kind = SSP_BFT_EV_DOUBLE_BLOCK,
		                      .offender = x->h.producer,
		                      .key = m->ks[x->pkx].key,
		                      .slot = x->h.slot,
		                      .block = {y->h.id, x->h.id}};
		bft_evidence_push(m, &e);
		return;
	}
	for (uint32_t k = old_lower(m, x->h.slot); k < m->nold && m->old[k].slot == x->h.slot; k++)
		if (m->old[k].pkx == x->pkx) {
			ssp_bft_evidence e = {.kind = SSP_BFT_EV_DOUBLE_BLOCK,
			                      .offender = x->h.producer,
			                      .key = m->ks[x->pkx].key,
			                      .slot = x->h.slot,
			                      .block = {m->old[k].id, x->h.id}};
			bft_evidence_push(m, &e);
			return;
		}
}

int ssp_bft_add_block(ssp_bft *m, const ssp_bft_block *b)
{
	uint32_t n = m->L, src = 0, tgt = 0, set = 0, prod = 0;
	int rc;
	/* full: drop what the final block left behind first (indexes change) */
	if (m->nb >= m->p.max_blocks) bft_compact(m, true);
	if (bft_find(m, &b->id) != BFT_NONE) return SSP_ERR_EXISTS;
	uint64_t fh = m->b[m->final].h.height;
	if (b->height <= fh) return SSP_ERR_BFT_CONFLICT; /* at or below the final block */
	uint32_t pi = bft_find(m, &b->parent);
	if (pi == BFT_NONE) /* the parent must be the final block or above it */
		return b->height == fh + 1 ? SSP_ERR_BFT_CONFLICT : SSP_ERR_NOTFOUND;
	const bft_node *P = &m->b[pi];
	if (b->height != P->h.height + 1) return SSP_ERR_BLOCK_HEIGHT;
	if (b->slot <= P->h.slot) return SSP_ERR_BLOCK_TIME;
	if (b->slot > (UINT64_MAX - m->p.genesis_time_ms - m->p.slot_ms) / m->p.slot_ms)
		return SSP_ERR_BLOCK_TIME; /* its slot's time does not fit in 64 bits */
	uint64_t start = m->p.genesis_time_ms + b->slot * m->p.slot_ms;
	if (b->time_ms < start || b->time_ms - start >= m->p.slot_ms) return SSP_ERR_BLOCK_TIME;
	if ((rc = bft_producer_at(m, pi, b->slot, &set, &prod))) return rc;
	if (b->producer != prod) return SSP_ERR_BLOCK_PRODUCER;
	int rv = reveal_ok(m, pi, set, b);
	if (!rv) return SSP_ERR_BFT_REVEAL;
	if (b->has_qc && (rc = qc_shape(m, pi, &b->qc, &src, &tgt))) return rc;
	if (m->nb >= m->p.max_blocks) return SSP_ERR_BUSY;
	if ((rc = map_reserve(&m->by_id)) || (rc = map_reserve(&m->by_slot)) ||
	    (rc = bft_links_reserve(m)))
		return rc;
	if (m->nb == m->capb) {
		bft_node *nbuf = ssp_realloc(m->b, (size_t)m->capb * 2 * sizeof *nbuf);
		if (!nbuf) return SSP_ERR_NOMEM;
		m->b = nbuf;
		m->capb *= 2;
		P = &m->b[pi];
	}
	bft_node *x = &m->b[m->nb];
	memset(x, 0, sizeof *x);
	x->h = *b;
	if (!b->has_qc) memset(&x->h.qc, 0, sizeof x->h.qc);
	x->parent = pi;
	x->qc_src = b->has_qc ? src : BFT_NONE;
	x->qc_tgt = b->has_qc ? tgt : BFT_NONE;
	x->set = set;
	x->pkx = m->sets[set].kx[b->producer];
	if (ssp_bft_round(b->slot, n) == ssp_bft_round(P->h.slot, n)) {
		x->first_h = P->first_h;
		x->elected = BFT_SET_NONE;
	} else { /* it begins its round on its branch: it elects */
		x->first_h = b->height;
		x->elected = m->p.elections ? BFT_SET_UNKNOWN : BFT_SET_NONE;
	}
	/* a QC from a source to its child finalises the source on this branch (its source
	 * is justified by the branch: qc_shape) */
	x->bfin_h = P->bfin_h;
	if (b->has_qc && b->qc.target.height == b->qc.source.height + 1 &&
	    b->qc.source.height > x->bfin_h)
		x->bfin_h = b->qc.source.height;
	round_state(m, &x->seed, &x->acc, pi, b->slot);
	if (rv == 1 && ssp_bft_in_seed_window(b->slot, n)) ssp_bft_seed_fold(&x->acc, &b->reveal);
	map_put(&m->by_id, id_key(&b->id), m->nb);
	map_put(&m->by_slot, b->slot, m->nb);
	uint32_t ix = m->nb++;
	m->b[pi].children++;
	double_block_check(m, ix);
	bft_on_block(m, ix);
	return 0;
}

bool ssp_bft_get(const ssp_bft *m, ssp_bft_block *out, const ssp_hash *id)
{
	uint32_t i = bft_find(m, id);
	if (i == BFT_NONE) return false;
	if (out) *out = m->b[i].h;
	return true;
}

size_t ssp_bft_count(const ssp_bft *m)
{
	return m->nb;
}

void ssp_bft_at(const ssp_bft *m, ssp_bft_block *out, size_t i)
{
	*out = m->b[i].h;
}

int ssp_bft_propose(ssp_bft *m, ssp_bft_block *out, uint32_t me, const ssp_hash *parent,
                    uint64_t slot)
{
	uint32_t pi = bft_find(m, parent), set, prod;
	if (pi == BFT_NONE) return SSP_ERR_NOTFOUND;
	if (slot <= m->b[pi].h.slot) return SSP_ERR_BLOCK_TIME;
	int rc = bft_producer_at(m, pi, slot, &set, &prod);
	if (rc) return rc;
	if (prod != me) return SSP_ERR_BLOCK_PRODUCER;
	uint32_t n = m->L;
	uint64_t start = ssp_bft_round(slot, n) * n, last = m->b[pi].h.slot;
	for (uint64_t t = slot; t-- > last + 1 && slot - t <= n;)
		if (slot_has_block(m, t)) {
			last = t;
			break;
		}
	if (!ssp_bft_may_produce(ssp_bft_participation(m, slot), slots_with_blocks(m, start, slot),
	                         slot, last, n))
		return SSP_ERR_BFT_PARTICIPATION;
	memset(out, 0, sizeof *out);
	out->parent = *parent;
	out->height = m->b[pi].h.height + 1;
	out->slot = slot;
	out->producer = me;
	/* the best QC for the branch: one that justifies a block the branch does not
	 * have justified yet, from one it has; the highest target, then source */
	const bft_link *best = NULL;
	for (uint32_t i = 0; i < m->nl; i++) {
		const bft_link *l = &m->links[i];
		if (!l->qc) continue;
		if (best) {
			uint64_t bt = m->b[best->tgt].h.height, lt = m->b[l->tgt].h.height;
			if (lt < bt || (lt == bt && l->sref.height <= best->sref.height)) continue;
		}
		/* a live target on the branch, from a source the branch justifies within the
		 * horizon (what every node checks: qc_shape) */
		if (bft_live(m, l->tgt) && bft_descends(m, l->tgt, pi) &&
		    l->sref.height + SSP_BFT_QC_HORIZON > out->height &&
		    source_ok(m, pi, &l->sref) && !branch_justified(m, pi, l->tgt))
			best = l;
	}
	if (best) {
		out->has_qc = true;
		out->qc.source = best->sref;
		out->qc.target = (ssp_bft_ref){m->b[best->tgt].h.height, m->b[best->tgt].h.id};
		memcpy(out->qc.bits, best->bits, sizeof out->qc.bits);
	}
	return 0;
}
