/*
 * forkdb.c — the fork database (consensus layer): blocks of competing
 * branches received from peers, keyed by id, above the finalized height,
 * bounded in blocks, bytes and orphans; and the search for the best branch
 * under the consensus module's fork choice (ssp_forkchoice). It reads the
 * chain only through read txns and never changes it: the caller switches
 * (ssp_chain_switch). A few hundred entries at most, so lookups are linear
 * scans: simple, and cheap next to one signature check.
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/consensus.h"

#define BAD_MAX 256 /* invalid block ids remembered */

typedef struct {
	ssp_hash id, prev;
	uint64_t height, slot, time_ms;
	uint8_t *raw;
	size_t len;
	uint64_t peer;
	uint64_t added_ms;
	bool orphan;    /* its branch does not reach the chain (as of the last add or prune) */
	bool dead;      /* (prune) its branch meets the chain below the final height */
	bool unchecked; /* check_header said "once its parent is checked" (ssp_forkchoice) */
} fentry;

typedef struct {
	ssp_hash id;
	int err;
} fbad;

struct ssp_forkdb {
	ssp_forkchoice fc;
	fentry *e;
	size_t n, max_blocks;
	size_t bytes, max_bytes;
	size_t norphans;
	fbad bad[BAD_MAX];
	size_t nbad, badpos;
};

int ssp_forkdb_new(ssp_forkdb **out, const ssp_forkchoice *fc, size_t max_blocks, size_t max_bytes)
{
	ssp_forkdb *f = ssp_calloc(1, sizeof *f);
	*out = NULL;
	if (!f) return SSP_ERR_NOMEM;
	f->fc = *fc;
	f->max_blocks = max_blocks ? max_blocks : SSP_FORKDB_BLOCKS;
	f->max_bytes = max_bytes ? max_bytes : SSP_FORKDB_BYTES;
	f->e = ssp_calloc(f->max_blocks, sizeof *f->e);
	if (!f->e) {
		free(f);
		return SSP_ERR_NOMEM;
	}
	*out = f;
	return 0;
}

void ssp_forkdb_free(ssp_forkdb *f)
{
	if (!f) return;
	for (size_t i = 0; i < f->n; i++)
		free(f->e[i].raw);
	free(f->e);
	free(f);
}

size_t ssp_forkdb_count(const ssp_forkdb *f)
{
	return f->n;
}

size_t ssp_forkdb_bytes(const ssp_forkdb *f)
{
	return f->bytes;
}

static fentry *find(ssp_forkdb *f, const ssp_hash *id)
{
	for (size_t i = 0; i < f->n; i++)
		if (!memcmp(f->e[i].id.b, id->b, 32)) return &f->e[i];
	return NULL;
}

static int bad_err(const ssp_forkdb *f, const ssp_hash *id)
{
	for (size_t i = 0; i < f->nbad; i++)
		if (!memcmp(f->bad[i].id.b, id->b, 32)) return f->bad[i].err;
	return 0;
}

static void bad_add(ssp_forkdb *f, const ssp_hash *id, int err)
{
	if (bad_err(f, id)) return;
	f->bad[f->badpos] = (fbad){*id, err};
	f->badpos = (f->badpos + 1) % BAD_MAX;
	if (f->nbad < BAD_MAX) f->nbad++;
}

static void remove_at(ssp_forkdb *f, size_t i)
{
	if (f->e[i].orphan) f->norphans--;
	f->bytes -= f->e[i].len;
	free(f->e[i].raw);
	f->e[i] = f->e[--f->n];
}

void ssp_forkdb_remove(ssp_forkdb *f, const ssp_hash *id)
{
	fentry *e = find(f, id);
	if (e) remove_at(f, (size_t)(e - f->e));
}

/* Drops every entry built (directly or not) on a block no longer wanted. */
static void drop_descendants(ssp_forkdb *f, const ssp_hash *id)
{
	ssp_hash stack[64];
	size_t sp = 0;
	stack[sp++] = *id;
	while (sp) {
		ssp_hash p = stack[--sp];
		for (size_t i = 0; i < f->n;) {
			if (memcmp(f->e[i].prev.b, p.b, 32)) {
				i++;
				continue;
			}
			if (sp < 64) stack[sp++] = f->e[i].id;
			remove_at(f, i);
		}
	}
}

void ssp_forkdb_mark_bad(ssp_forkdb *f, const ssp_hash *id, int err)
{
	bad_add(f, id, err);
	ssp_forkdb_remove(f, id);
	drop_descendants(f, id);
}

/* Is id the chain's block at `height` (through rt)? */
static bool on_chain(const ssp_chain *c, ssp_txn *rt, const ssp_hash *id, uint64_t height)
{
	uint64_t h;
	return !ssp_chain_read_block_height(c, rt, id, &h) && h == height;
}

/*
 * The lowest stored ancestor of e (following prev through the database):
 * the branch's first block if its parent is on the chain, else an orphan's
 * lowest known block. Bounded by the entry count (no cycles: heights fall).
 */
static fentry *root_of(ssp_forkdb *f, fentry *e)
{
	for (size_t k = 0; k < f->n; k++) {
		fentry *p = find(f, &e->prev);
		if (!p || p->height + 1 != e->height) return e;
		e = p;
	}
	return e;
}

/* Entries that build on id (stored descendants) are no longer orphans. */
static void link_children(ssp_forkdb *f, const ssp_hash *id)
{
	ssp_hash stack[64];
	size_t sp = 0;
	stack[sp++] = *id;
	while (sp) {
		ssp_hash p = stack[--sp];
		for (size_t i = 0; i < f->n; i++) {
			fentry *e = &f->e[i];
			if (!e->orphan || memcmp(e->prev.b, p.b, 32)) continue;
			e->orphan = false;
			f->norphans--;
			if (sp < 64) stack[sp++] = e->id;
		}
	}
}

static int by_height(const void *a, const void *b)
{
	const fentry *x = *(fentry *const *)a, *y = *(fentry *const *)b;
	return x->height < y->height ? -1 : x->height > y->height;
}

/*
 * Recomputes every entry's orphan and dead flags in height order (parents
 * first): O(n^2) over a few hundred entries.
 */
static void relink(ssp_forkdb *f, const ssp_chain *c, ssp_txn *rt, uint64_t fin)
{
	fentry **ord = ssp_malloc((f->n ? f->n : 1) * sizeof *ord);
	if (!ord) return; /* the flags stay as they were: only the orphan bound is approximate */
	for (size_t i = 0; i < f->n; i++)
		ord[i] = &f->e[i];
	qsort(ord, f->n, sizeof *ord, by_height);
	f->norphans = 0;
	for (size_t i = 0; i < f->n; i++) {
		fentry *e = ord[i], *p = find(f, &e->prev);
		if (p && p->height + 1 == e->height) {
			e->orphan = p->orphan;
			e->dead = p->dead;
		} else {
			e->orphan = !on_chain(c, rt, &e->prev, e->height - 1);
			e->dead = e->orphan && e->height - 1 <= fin;
		}
		if (e->orphan) f->norphans++;
	}
	free(ord);
}

int ssp_forkdb_add(ssp_forkdb *f, const ssp_chain *c, const uint8_t *raw, size_t n, uint64_t peer,
                   uint64_t now_ms)
{
	const ssp_head *head = ssp_chain_head(c);
	ssp_header h;
	ssp_rd r;
	ssp_txn *rt = NULL;
	uint64_t at;
	int rc;
	ssp_rd_init(&r, raw, n);
	rc = ssp_header_read(&h, &r);
	if (rc) return rc == SSP_ERR_NOMEM ? rc : SSP_ERR_DECODE;
	if (h.height <= head->finalized) return SSP_ERR_FINAL_POP;
	if ((rc = bad_err(f, &h.id))) return rc;
	if ((rc = bad_err(f, &h.prev_id))) {
		/* built on a block off the final one: stale (no blame); on an invalid one: invalid
		 */
		int e = rc == SSP_ERR_BFT_CONFLICT || rc == SSP_ERR_FINAL_POP ? SSP_ERR_FINAL_POP
		                                                              : SSP_ERR_BLOCK_PREV;
		bad_add(f, &h.id, e);
		return e;
	}
	if (find(f, &h.id)) return SSP_ERR_EXISTS;
	rc = ssp_store_read(ssp_chain_store(c), &rt);
	if (rc) return rc;
	if (!ssp_chain_read_block_height(c, rt, &h.id, &at)) {
		rc = SSP_ERR_EXISTS;
		goto out;
	}
	rc = f->fc.check_header(f->fc.ctx, c, &h);
	bool unchecked = rc == SSP_ERR_NOTFOUND;
	if (rc && !unchecked) goto out;
	rc = 0;
	if (f->n == f->max_blocks || f->bytes + n > f->max_bytes) {
		rc = SSP_ERR_BUSY;
		goto out;
	}
	/* an orphan (its branch does not reach the chain): bounded apart */
	fentry *parent = find(f, &h.prev_id);
	bool orphan = parent && parent->height + 1 == h.height
	                  ? parent->orphan
	                  : !on_chain(c, rt, &h.prev_id, h.height - 1);
	if ((orphan || unchecked) && f->norphans >= SSP_FORKDB_ORPHANS) {
		rc = SSP_ERR_BUSY;
		goto out;
	}
	uint8_t *copy = ssp_malloc(n ? n : 1);
	if (!copy) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, raw, n);
	f->e[f->n++] = (fentry){.id = h.id,
	                        .prev = h.prev_id,
	                        .height = h.height,
	                        .slot = h.slot,
	                        .time_ms = h.timestamp_ms,
	                        .unchecked = unchecked,
	                        .raw = copy,
	                        .len = n,
	                        .peer = peer,
	                        .added_ms = now_ms,
	                        .orphan = orphan};
	f->bytes += n;
	if (orphan)
		f->norphans++;
	else
		link_children(f, &h.id);
out:
	ssp_txn_end(rt);
	return rc;
}

void ssp_forkdb_prune(ssp_forkdb *f, const ssp_chain *c, uint64_t now_ms)
{
	uint64_t fin = ssp_chain_head(c)->finalized;
	ssp_txn *rt = NULL;
	for (size_t i = 0; i < f->n;) {
		if (f->e[i].height <= fin) {
			remove_at(f, i);
			continue;
		}
		i++;
	}
	if (ssp_store_read(ssp_chain_store(c), &rt)) return;
	relink(f, c, rt, fin);
	ssp_txn_end(rt);
	/* branches that meet the chain below the final height conflict with it; orphans expire */
	for (size_t i = 0; i < f->n;) {
		fentry *e = &f->e[i];
		if (e->dead || (e->orphan && now_ms > e->added_ms + SSP_FORKDB_ORPHAN_MS)) {
			remove_at(f, i);
			continue;
		}
		i++;
	}
}

void ssp_fork_plan_free(ssp_fork_plan *p)
{
	free(p->raw);
	free(p->len);
	free(p->peer);
	free(p->id);
	memset(p, 0, sizeof *p);
}

/*
 * Whether e has a child (checked_only: one the consensus checked). A block
 * whose children all wait
 * for a check is a tip for fork choice: its branch may be switched to before
 * they can be checked, and under BFT that is what lets them be (a round's
 * set is known once the block that elected it has been executed: a branch
 * held entirely in the fork database would wait for ever).
 */
static bool has_child(ssp_forkdb *f, const fentry *e, bool checked_only)
{
	for (size_t i = 0; i < f->n; i++)
		if (!memcmp(f->e[i].prev.b, e->id.b, 32) && f->e[i].height == e->height + 1 &&
		    (!checked_only || !f->e[i].unchecked))
			return true;
	return false;
}

/* The chain's own branch above fork_height, as fork choice sees it. */
static int own_branch(const ssp_chain *c, ssp_txn *rt, uint64_t fork_height, ssp_branch *b)
{
	const ssp_head *head = ssp_chain_head(c);
	const uint8_t *raw;
	size_t n;
	ssp_header h;
	ssp_rd r;
	memset(b, 0, sizeof *b);
	b->tip_height = head->height;
	b->tip_id = head->id;
	b->tip_time_ms = head->timestamp_ms;
	if (head->height <= fork_height) {
		b->empty = true;
		return 0;
	}
	int rc = ssp_chain_read_block(c, rt, fork_height + 1, &raw, &n);
	if (rc) return rc;
	ssp_rd_init(&r, raw, n);
	rc = ssp_header_read(&h, &r);
	if (rc) return SSP_ERR_DBCORRUPT;
	b->first_slot = h.slot;
	b->first_id = h.id;
	return 0;
}

/* Does e's branch, or an unchecked block below it, wait for a check? */
static bool waits(ssp_forkdb *f, fentry *e)
{
	for (size_t k = 0; e && k < f->n; k++) {
		if (e->unchecked) return true;
		fentry *p = find(f, &e->prev);
		if (!p || p->height + 1 != e->height) return false;
		e = p;
	}
	return false;
}

/*
 * Checks again the unchecked blocks whose parent is now checked (parents
 * first): checked, or invalid (dropped with what builds on them), or still
 * waiting.
 */
static void recheck(ssp_forkdb *f, const ssp_chain *c)
{
	for (bool progress = true; progress;) {
		progress = false;
		for (size_t i = 0; i < f->n; i++) {
			fentry *e = &f->e[i], *p = find(f, &e->prev);
			if (!e->unchecked || (p && p->unchecked)) continue;
			ssp_header h;
			ssp_rd r;
			ssp_rd_init(&r, e->raw, e->len);
			int rc = ssp_header_read(&h, &r);
			if (!rc) rc = f->fc.check_header(f->fc.ctx, c, &h);
			if (rc == SSP_ERR_NOTFOUND || ssp_err_local(rc)) continue;
			if (rc) {
				ssp_forkdb_mark_bad(f, &h.id, rc);
			} else {
				e->unchecked = false;
			}
			progress = true;
			break; /* the entries moved */
		}
	}
}

int ssp_forkdb_best(ssp_forkdb *f, const ssp_chain *c, ssp_fork_plan *plan)
{
	const ssp_head *head = ssp_chain_head(c);
	ssp_txn *rt = NULL;
	fentry *best = NULL, *best_root = NULL;
	ssp_branch best_b;
	int rc;
	memset(plan, 0, sizeof *plan);
	recheck(f, c);
	rc = ssp_store_read(ssp_chain_store(c), &rt);
	if (rc) return rc;
	for (size_t i = 0; i < f->n; i++) {
		fentry *tip = &f->e[i];
		/* an unchecked block at the end of its branch still asks for what it lacks below */
		if (has_child(f, tip, !tip->unchecked)) continue;
		fentry *root = root_of(f, tip);
		uint64_t fork = root->height - 1;
		if (!on_chain(c, rt, &root->prev, fork)) {
			/* an orphan: ask its sender for the heights below it (bounded by the final
			 * height) */
			if (plan->nwant < SSP_FORKDB_WANTS && fork > head->finalized &&
			    root->peer) {
				uint64_t from = fork > 32 ? fork - 31 : 1;
				if (from <= head->finalized) from = head->finalized + 1;
				plan->want[plan->nwant].peer = root->peer;
				plan->want[plan->nwant].from = from;
				plan->want[plan->nwant++].count = (uint32_t)(fork - from + 1);
			}
			continue;
		}
		if (fork < head->finalized) continue; /* never across the final height */
		if (waits(f, tip)) continue;          /* a block of it not checked yet */
		ssp_branch theirs = {.tip_height = tip->height,
		                     .first_slot = root->slot,
		                     .first_id = root->id,
		                     .tip_id = tip->id,
		                     .tip_time_ms = tip->time_ms},
		           ours;
		rc = own_branch(c, rt, fork, &ours);
		if (rc) goto out;
		if (f->fc.compare(f->fc.ctx, &theirs, &ours) <= 0) continue;
		if (best && f->fc.compare(f->fc.ctx, &theirs, &best_b) <= 0) continue;
		best = tip;
		best_root = root;
		best_b = theirs;
	}
	if (best) {
		size_t n = (size_t)(best->height - best_root->height + 1);
		plan->fork_height = best_root->height - 1;
		plan->raw = ssp_calloc(n, sizeof *plan->raw);
		plan->len = ssp_calloc(n, sizeof *plan->len);
		plan->peer = ssp_calloc(n, sizeof *plan->peer);
		plan->id = ssp_calloc(n, sizeof *plan->id);
		if (!plan->raw || !plan->len || !plan->peer || !plan->id) {
			ssp_fork_plan_free(plan);
			rc = SSP_ERR_NOMEM;
			goto out;
		}
		fentry *e = best;
		for (size_t k = n; k-- > 0;) {
			plan->raw[k] = e->raw;
			plan->len[k] = e->len;
			plan->peer[k] = e->peer;
			plan->id[k] = e->id;
			if (k) e = find(f, &e->prev);
		}
		plan->n = n;
	}
out:
	ssp_txn_end(rt);
	return rc;
}
