/*
 * exec.c — executing and committing blocks (chain layer): the steps every
 * producer, follower and (later) the consensus layer share — begin a block
 * on the head, execute candidates or an imported block's txs against an
 * overlay of the state, build the unsigned header from the result, commit
 * under a signed header — and import, which prechecks a block from
 * elsewhere before the write txn and verifies its signatures in parallel.
 *
 * Error classes. A tx or block is invalid only for its own content. A
 * local failure (ssp_err_local: memory, I/O, map full, corruption, bugs)
 * is never blamed on the block or tx at hand: it poisons the chain
 * (c->fatal), so every later change fails and the node stops, and
 * nothing half-done reaches the disk because the write txn is aborted.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "genesis_internal.h"
#include "mempool_internal.h"
#include "state_internal.h"

#define LOG "chain"

struct ssp_exec {
	ssp_chain *c;
	ssp_txn *t;
	ssp_state *st;
	uint64_t height, slot, time_ms;
	bool validating; /* an imported block (ssp_txctx.validating) */
	bool nested;     /* t is borrowed (a branch switch's txn): never committed or ended here */
	bool signed_slot; /* this node signed it (ssp_produce_block): record the slot in its txn */
	/* included txs and their receipts */
	const ssp_tx **txs;
	ssp_receipt *rcpts;
	size_t n, cap;
	size_t bytes;
	uint64_t gas; /* gas used so far against max_block_gas */
	uint32_t sigs_at_exec; /* signatures ssp_exec_block had to check itself */
	/* dropped candidates (producer) */
	ssp_hash *drop_ids;
	int *drop_errs;
	size_t ndrop;
	ssp_addr *failed; /* open-addressing set of their senders */
	uint8_t *fused;
	size_t fcap;
	/* the roots, once ssp_exec_header computed them */
	bool have_roots;
	ssp_hash tx_root, receipts_root, state_root;
	uint64_t root_ns, root_ops;
	uint32_t root_keys;
	ssp_buf blob; /* the receipts as stored */
	uint64_t t0;
};

/* Records a local failure: the chain is poisoned from here on. */
static int poison(ssp_chain *c, int rc, const char *what)
{
	if (!c->fatal) {
		c->fatal = rc;
		SSP_LOGE(LOG, "local failure while %s: %s — the chain stops; nothing was written",
		         what, ssp_strerror(rc));
	}
	return rc;
}

/* ------------------------------------------------------------ locks due */

typedef struct {
	uint64_t now;
	struct due {
		uint8_t key[1 + 8 + SSP_ADDR_LEN];
		uint64_t amount;
	} * v;
	size_t n, cap;
	int err;
} due_scan;

static int due_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	due_scan *d = arg;
	const uint8_t *key = k;
	if (kl != 1 + 8 + SSP_ADDR_LEN || key[0] != SSP_TB_LOCK) return 1;
	if (ssp_be64_get(key + 1) > d->now) return 1;
	if (vl != 8) {
		d->err = SSP_ERR_DBCORRUPT;
		return 1;
	}
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		struct due *nv = ssp_realloc(d->v, nc * sizeof *nv);
		if (!nv) {
			d->err = SSP_ERR_NOMEM;
			return 1;
		}
		d->v = nv;
		d->cap = nc;
	}
	memcpy(d->v[d->n].key, key, kl);
	d->v[d->n++].amount = ssp_le64_get(v);
	return 0;
}

/* Releases every lock whose time has come (before the block's txs). */
static int release_locks(ssp_exec *x)
{
	uint8_t start = SSP_TB_LOCK;
	due_scan d = {.now = x->time_ms};
	int rc = ssp_txn_scan(x->t, x->c->t_state, &start, 1, due_visit, &d);
	if (rc == 1) rc = 0;
	if (!rc) rc = d.err;
	for (size_t i = 0; i < d.n && !rc; i++) {
		ssp_addr a;
		ssp_account acc;
		uint64_t locked, pool;
		memcpy(a.b, d.v[i].key + 9, SSP_ADDR_LEN);
		rc = ssp_state_account(x->st, &a, &acc);
		if (rc) break;
		if (acc.locked < d.v[i].amount) {
			rc = SSP_ERR_DBCORRUPT;
			break;
		}
		acc.locked -= d.v[i].amount;
		if ((rc = ssp_add_u64(&acc.balance, acc.balance, d.v[i].amount)) ||
		    (rc = ssp_state_set_account(x->st, &a, &acc)) ||
		    (rc = ssp_state_del(x->st, SSP_TB_LOCK, d.v[i].key + 1, 8 + SSP_ADDR_LEN)) ||
		    (rc = ssp_supply_get(x->st, &locked, &pool)))
			break;
		rc = ssp_supply_set(x->st, locked - d.v[i].amount, pool);
	}
	free(d.v);
	return rc;
}

/* ---------------------------------------------------------------- begin */

uint64_t ssp_chain_slot_at(const ssp_chain *c, uint64_t time_ms)
{
	uint64_t g = c->g->time_ms, iv = c->g->params.block_interval_ms;
	return time_ms <= g ? 0 : (time_ms - g) / iv;
}

uint64_t ssp_chain_slot_start(const ssp_chain *c, uint64_t slot)
{
	return c->g->time_ms + slot * c->g->params.block_interval_ms;
}

/* The slot rule: after the parent's slot (the first block may share slot 0), time inside it. */
static int slot_ok(const ssp_chain *c, uint64_t slot, uint64_t time_ms)
{
	const ssp_head *h = &c->head;
	if (slot <= h->slot && h->height != 0) return SSP_ERR_BLOCK_TIME;
	if (time_ms <= h->timestamp_ms) return SSP_ERR_BLOCK_TIME;
	if (ssp_chain_slot_at(c, time_ms) != slot || time_ms < c->g->time_ms)
		return SSP_ERR_BLOCK_TIME;
	return 0;
}

/* The head block's seed_reveal when it is 32 bytes (block hooks' parent_reveal), else zeros. */
static int parent_reveal(const ssp_chain *c, ssp_txn *t, ssp_hash *out)
{
	uint8_t k[8];
	const void *v;
	size_t n;
	ssp_header h;
	ssp_rd r;
	memset(out, 0, sizeof *out);
	if (!c->head.height) return 0;
	ssp_be64_put(k, c->head.height);
	int rc = ssp_txn_get(t, c->t_blocks, k, 8, &v, &n);
	if (rc) return rc == SSP_ERR_NOTFOUND ? SSP_ERR_DBCORRUPT : rc;
	ssp_rd_init(&r, v, n);
	if (ssp_header_read(&h, &r)) return SSP_ERR_DBCORRUPT;
	if (h.seed_len == 32) memcpy(out->b, h.seed_reveal, 32);
	return 0;
}

/* The consensus' facts about the block of slot on the head, for the block hooks. */
static int block_context(ssp_chain *c, uint64_t slot, ssp_block_start *b)
{
	if (!c->bctx && !(c->bctx = ssp_malloc(sizeof *c->bctx))) return SSP_ERR_NOMEM;
	memset(c->bctx, 0, sizeof *c->bctx);
	int rc = c->cons.block_context(c->cons.ctx, c, &c->head, slot, c->bctx);
	if (!rc && (c->bctx->nmissed > SSP_BLOCK_MISSED_MAX ||
	            (c->bctx->has_final && c->bctx->branch_final > c->head.height)))
		rc = SSP_ERR_INTERNAL; /* a consensus bug */
	if (!rc) b->ctx = c->bctx;
	return rc;
}

/* Starts a block in the store's write txn, or in `outer` (borrowed) when not NULL. */
static int begin_in(ssp_chain *c, ssp_txn *outer, ssp_exec **out, uint64_t slot, uint64_t time_ms)
{
	ssp_exec *x;
	int rc;
	*out = NULL;
	chain_assert_owner(c);
	if (c->fatal) return c->fatal;
	if (c->executing) return SSP_ERR_BUSY; /* one exec at a time: it holds the writer */
	if ((rc = slot_ok(c, slot, time_ms))) return rc;
	x = ssp_calloc(1, sizeof *x);
	if (!x) return poison(c, SSP_ERR_NOMEM, "starting a block");
	x->c = c;
	x->height = c->head.height + 1;
	x->slot = slot;
	x->time_ms = time_ms;
	x->t0 = ssp_mono_ns();
	ssp_buf_init(&x->blob, (size_t)1 << 30);
	if (outer) {
		x->t = outer;
		x->nested = true;
		rc = 0;
	} else {
		rc = ssp_store_write(c->store, &x->t);
	}
	if (!rc) rc = ssp_state_new(&x->st, x->t, c->t_state);
	if (!rc) rc = release_locks(x);
	if (!rc) {
		ssp_block_start b = {.height = x->height, .slot = slot, .time_ms = time_ms,
		                     .parent_slot = c->head.height ? c->head.slot : 0};
		if (c->nbhooks) rc = parent_reveal(c, x->t, &b.parent_reveal);
		if (!rc && c->nbhooks && c->cons.block_context &&
		    (rc = block_context(c, slot, &b)) && !ssp_err_local(rc)) {
			/* the consensus refuses a block it has no context for: that block's verdict */
			ssp_exec_abort(x);
			return rc;
		}
		for (size_t i = 0; i < c->nbhooks && !rc; i++)
			rc = c->bhooks[i].begin(c->bhooks[i].mod, x->st, &b);
	}
	if (rc) {
		ssp_exec_abort(x);
		return poison(c, rc, "starting a block");
	}
	c->executing = true;
	*out = x;
	return 0;
}

int ssp_chain_begin(ssp_chain *c, ssp_exec **out, uint64_t slot, uint64_t time_ms)
{
	return begin_in(c, NULL, out, slot, time_ms);
}

void ssp_exec_abort(ssp_exec *x)
{
	if (!x) return;
	for (size_t i = 0; i < x->n; i++)
		ssp_receipt_free(&x->rcpts[i]);
	free(x->rcpts);
	free(x->txs);
	free(x->drop_ids);
	free(x->drop_errs);
	free(x->failed);
	free(x->fused);
	ssp_buf_free(&x->blob);
	ssp_state_free(x->st);
	if (x->t) {
		if (!x->nested) ssp_txn_end(x->t);
		x->c->executing = false;
	}
	free(x);
}

/* -------------------------------------------------------------- apply */

/* Applies one tx; on error every change it made is undone and r holds nothing. */
static int apply_tx(ssp_exec *x, const ssp_tx *tx, ssp_receipt *r)
{
	ssp_chain *c = x->c;
	size_t mark = ssp_state_mark(x->st);
	ssp_account acc;
	memset(r, 0, sizeof *r);
	int rc = ssp_chain_check_tx(c, tx);
	if (rc) return rc;
	if (tx->expiry < x->height) return SSP_ERR_EXPIRED;
	if (tx->expiry > x->height + c->g->params.max_expiry_blocks) return SSP_ERR_EXPIRY_FAR;
	rc = ssp_state_account(x->st, &tx->from, &acc);
	if (rc) return rc;
	if (tx->nonce < acc.nonce) return SSP_ERR_NONCE_LOW;
	if (tx->nonce > acc.nonce) return SSP_ERR_NONCE_GAP;
	/* a module's say over the sender (one flag test unless restricted) */
	if (acc.restricted && (rc = ssp_chain_check_sender(c, x->st, &acc, tx))) return rc;
	if (!acc.has_key) {
		if (!tx->has_pubkey) return SSP_ERR_NOKEY;
		acc.has_key = true;
		acc.key = tx->pubkey;
	}
	if (acc.balance < tx->fee) return acc.locked ? SSP_ERR_LOCKED : SSP_ERR_BALANCE;
	acc.balance -= tx->fee;
	acc.nonce++;
	r->txid = tx->txid;
	r->fee_paid = tx->fee;
	if ((rc = ssp_state_set_account(x->st, &tx->from, &acc)) ||
	    (rc = ssp_state_pool_add(x->st, tx->fee)))
		goto undo;
	const ssp_txreg *tr = ssp_chain_txreg(c, tx->type);
	ssp_txctx ctx = {.st = x->st,
	                 .mod = tr->mod,
	                 .params = &c->g->params,
	                 .chain_id = c->g->chain_id,
	                 .hrp = c->g->hrp,
	                 .height = x->height,
	                 .time_ms = x->time_ms,
	                 .rcpt = r,
	                 .validating = x->validating,
	                 .exec = x};
	rc = tr->type->apply(&ctx, tx);
	if (rc) goto undo;
	return 0;
undo:
	ssp_state_rollback(x->st, mark);
	ssp_receipt_free(r);
	return rc;
}

int ssp_txctx_block_height(const ssp_txctx *c, const ssp_hash *id, uint64_t *height)
{
	const ssp_exec *x = c->exec;
	if (!x) return SSP_ERR_NOTFOUND;
	/* the exec's own write txn: the blocks of the branch it extends, nothing else */
	return ssp_chain_read_block_height(x->c, x->t, id, height);
}

/* Appends an included tx; on failure the receipt is freed (nobody else owns it). */
static int push_included(ssp_exec *x, const ssp_tx *tx, ssp_receipt *r)
{
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		const ssp_tx **t = ssp_realloc(x->txs, nc * sizeof *t);
		if (!t) goto nomem;
		x->txs = t;
		ssp_receipt *nr = ssp_realloc(x->rcpts, nc * sizeof *nr);
		if (!nr) goto nomem;
		x->rcpts = nr;
		x->cap = nc;
	}
	x->txs[x->n] = tx;
	x->rcpts[x->n++] = *r;
	x->bytes += tx->raw_len;
	return 0;
nomem:
	ssp_receipt_free(r);
	return SSP_ERR_NOMEM;
}

static bool failed_has(const ssp_exec *x, const ssp_addr *a, size_t *pos)
{
	size_t h = ssp_le64_get(a->b) & (x->fcap - 1);
	while (x->fused[h]) {
		if (!memcmp(x->failed[h].b, a->b, SSP_ADDR_LEN)) return true;
		h = (h + 1) & (x->fcap - 1);
	}
	*pos = h;
	return false;
}

/* Records a dropped candidate: its sender is skipped for the rest of the block. */
static int note_drop(ssp_exec *x, size_t n, const ssp_tx *tx, int err)
{
	size_t pos;
	if (!x->fcap) {
		size_t cap = 16;
		while (cap < 2 * n)
			cap *= 2;
		x->failed = ssp_malloc(cap * sizeof *x->failed);
		x->fused = ssp_calloc(cap, 1);
		x->drop_ids = ssp_malloc(n * sizeof *x->drop_ids);
		x->drop_errs = ssp_malloc(n * sizeof *x->drop_errs);
		if (!x->failed || !x->fused || !x->drop_ids || !x->drop_errs) return SSP_ERR_NOMEM;
		x->fcap = cap;
	}
	if (!failed_has(x, &tx->from, &pos)) {
		x->failed[pos] = tx->from;
		x->fused[pos] = 1;
	}
	x->drop_ids[x->ndrop] = tx->txid;
	x->drop_errs[x->ndrop++] = err;
	return 0;
}

int ssp_exec_candidates(ssp_exec *x, const ssp_tx *txs, size_t n)
{
	ssp_chain *c = x->c;
	const ssp_params *p = &c->g->params;
	size_t budget = p->max_block_bytes > 1024 ? p->max_block_bytes - 1024 : 0; /* header */
	int rc = 0;
	uint64_t t0 = ssp_mono_ns(), budget_ns = c->exec_budget_us * 1000u;
	if (c->fatal) return c->fatal;
	for (size_t i = 0; i < n; i++) {
		const ssp_tx *tx = &txs[i];
		ssp_receipt r;
		size_t pos;
		/*
		 * The time budget (a local policy): a mispriced operation found later
		 * delays the block by at most one tx past the budget; what is left
		 * stays in the mempool for the next block.
		 */
		if (budget_ns && i > 0 && ssp_mono_ns() - t0 >= budget_ns) {
			SSP_LOGI(LOG,
			         "block time budget of %llu us spent: %zu of %zu candidates left "
			         "for the next block",
			         (unsigned long long)c->exec_budget_us, n - i, n);
			break;
		}
		if (x->fcap && failed_has(x, &tx->from, &pos)) continue;
		if (x->n == p->max_block_txs) break;
		if (x->bytes + 4 * (x->n + 1) + tx->raw_len > budget) continue;
		/* a tx fits if its limit fits what the block has not used yet (gas used) */
		uint64_t g = chain_tx_gas(c, tx);
		if (g > p->max_block_gas - x->gas) break; /* the block's gas budget is spent */
		rc = apply_tx(x, tx, &r);
		if (ssp_err_local(rc)) return poison(c, rc, "building a block");
		if (rc) {
			/* no longer valid (a node-limit too: this node cannot include it) */
			SSP_LOGD(LOG, "dropping tx: %s", ssp_strerror(rc));
			rc = note_drop(x, n, tx, rc);
			if (rc) return poison(c, rc, "building a block");
			continue;
		}
		x->gas += r.gas_used < g ? r.gas_used : g;
		rc = push_included(x, tx, &r);
		if (rc) return poison(c, rc, "building a block");
	}
	return 0;
}

int ssp_exec_block(ssp_exec *x, const ssp_tx *txs, size_t n, const bool *verified)
{
	ssp_chain *c = x->c;
	const ssp_params *p = &c->g->params;
	int rc;
	if (c->fatal) return c->fatal;
	x->validating = true;
	if (n > p->max_block_txs) return SSP_ERR_BLOCK_LIMIT;
	for (size_t i = 0; i < n; i++) {
		const ssp_tx *tx = &txs[i];
		ssp_receipt r;
		rc = ssp_chain_check_tx(c, tx);
		/* the same gas rule as production: the limit must fit what is unused */
		uint64_t g = rc ? 0 : chain_tx_gas(c, tx);
		if (g > p->max_block_gas - x->gas) return SSP_ERR_BLOCK_LIMIT;
		if (!rc && !(verified && verified[i])) {
			ssp_account a;
			rc = ssp_state_account(x->st, &tx->from, &a);
			if (!rc) {
				const ssp_pubkey *k = tx->has_pubkey ? &tx->pubkey
				                      : a.has_key    ? &a.key
				                                     : NULL;
				rc = k ? ssp_tx_verify(tx, k) : SSP_ERR_NOKEY;
				x->sigs_at_exec++;
			}
		}
		if (!rc) rc = apply_tx(x, tx, &r);
		/*
		 * A node-local VM limit passed while validating says nothing about the
		 * block (its producer ran the tx within its own limits): this node
		 * cannot follow, which is a local failure, not an invalid block.
		 */
		if (ssp_err_local(rc) || rc == SSP_ERR_VM_NODELIMIT)
			return poison(c, rc, "executing an imported block");
		if (rc) {
			SSP_LOGW(LOG, "block %llu tx %zu invalid: %s",
			         (unsigned long long)x->height, i, ssp_strerror(rc));
			return SSP_ERR_BLOCK_TX;
		}
		x->gas += r.gas_used < g ? r.gas_used : g;
		rc = push_included(x, tx, &r);
		if (rc) return poison(c, rc, "executing an imported block");
	}
	return 0;
}

size_t ssp_exec_dropped(const ssp_exec *x, const ssp_hash **txids, const int **errs)
{
	*txids = x->drop_ids;
	*errs = x->drop_errs;
	return x->ndrop;
}

size_t ssp_exec_included(const ssp_exec *x, const ssp_tx *const **txs)
{
	*txs = x->txs;
	return x->n;
}

/* --------------------------------------------------------------- roots */

/* Roots of the included txs and receipts, and the new state root. */
static int exec_roots(ssp_exec *x)
{
	ssp_hash *leaves;
	ssp_buf one;
	int rc = 0;
	if (x->have_roots) return 0;
	leaves = ssp_malloc((x->n ? x->n : 1) * sizeof *leaves);
	if (!leaves) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < x->n; i++)
		leaves[i] = x->txs[i]->txid;
	ssp_merkle_root_inplace(&x->tx_root, leaves, x->n);
	ssp_buf_init(&one, 2 << 20);
	ssp_buf_reset(&x->blob);
	ssp_buf_u32(&x->blob, (uint32_t)x->n);
	for (size_t i = 0; i < x->n; i++) {
		ssp_buf_reset(&one);
		ssp_receipt_encode(&one, &x->rcpts[i]);
		if (one.err) {
			rc = one.err;
			break;
		}
		ssp_sha256(&leaves[i], one.data, one.len);
		ssp_buf_bytes(&x->blob, one.data, one.len);
	}
	ssp_buf_free(&one);
	if (!rc) rc = x->blob.err;
	if (!rc) ssp_merkle_root_inplace(&x->receipts_root, leaves, x->n);
	free(leaves);
	if (!rc) {
		uint64_t t0 = ssp_mono_ns();
		rc = chain_state_root(x->c, x->t, x->st, &x->state_root, &x->root_keys,
		                      &x->root_ops);
		x->root_ns = ssp_mono_ns() - t0;
	}
	if (!rc) x->have_roots = true;
	return rc;
}

int ssp_exec_header(ssp_exec *x, ssp_header *h, const ssp_addr *producer)
{
	ssp_chain *c = x->c;
	if (c->fatal) return c->fatal;
	int rc = exec_roots(x);
	if (rc) return ssp_err_local(rc) ? poison(c, rc, "computing block roots") : rc;
	memset(h, 0, sizeof *h);
	h->height = x->height;
	h->prev_id = c->head.id;
	h->slot = x->slot;
	h->timestamp_ms = x->time_ms;
	h->producer = *producer;
	h->tx_root = x->tx_root;
	h->receipts_root = x->receipts_root;
	h->state_root = x->state_root;
	return 0;
}

/* -------------------------------------------------------------- commit */

static int check_header(ssp_exec *x, const ssp_header *h)
{
	ssp_chain *c = x->c;
	ssp_pubkey key;
	int rc;
	if (h->height != x->height) return SSP_ERR_BLOCK_HEIGHT;
	if (memcmp(h->prev_id.b, c->head.id.b, 32)) return SSP_ERR_BLOCK_PREV;
	if (h->slot != x->slot || h->timestamp_ms != x->time_ms) return SSP_ERR_BLOCK_TIME;
	if (memcmp(h->tx_root.b, x->tx_root.b, 32) ||
	    memcmp(h->receipts_root.b, x->receipts_root.b, 32))
		return SSP_ERR_BLOCK_ROOT;
	if (memcmp(h->state_root.b, x->state_root.b, 32)) return SSP_ERR_BLOCK_STATE;
	rc = c->cons.producer(c->cons.ctx, c, &c->head, h->slot, &key);
	if (rc) return rc;
	rc = ssp_header_check_sig(h, c->g->chain_id, &key);
	if (!rc && c->cons.check) rc = c->cons.check(c->cons.ctx, c, h);
	return rc;
}

/* Writes the block, its index and receipts, the state and the head; commits. */
static int write_block(ssp_exec *x, const ssp_header *h, const uint8_t *raw, size_t n,
                       ssp_block_info *info)
{
	ssp_chain *c = x->c;
	uint8_t hk[8], loc[12], hv[96];
	ssp_head nh = {.height = h->height,
	               .id = h->id,
	               .state_root = h->state_root,
	               .timestamp_ms = h->timestamp_ms,
	               .slot = h->slot};
	nh.finalized = c->cons.finalized(c->cons.ctx, c, &nh);
	if (nh.finalized > nh.height) nh.finalized = nh.height;
	if (nh.finalized < c->head.finalized) nh.finalized = c->head.finalized;
	int rc = 0;
	/* a block that is not final yet keeps what popping it needs (undo.c) */
	if (nh.finalized < nh.height || c->keep_undo)
		rc = chain_undo_write(c, x->t, x->st, h->height, &c->head);
	if (!rc && !c->keep_undo) rc = chain_undo_prune(c, x->t, nh.finalized);
	if (!rc) rc = ssp_state_flush(x->st);
	if (!rc && c->cons.committed) c->cons.committed(c->cons.ctx, c, x->st, h, c->head.slot);
	if (!rc) rc = chain_put_block(c, x->t, h, raw, n);
	ssp_be64_put(hk, h->height);
	if (!rc) rc = ssp_txn_put(x->t, c->t_rcpts, hk, 8, x->blob.data, x->blob.len);
	for (size_t i = 0; i < x->n && !rc; i++) {
		ssp_be64_put(loc, h->height);
		loc[8] = (uint8_t)(i >> 24);
		loc[9] = (uint8_t)(i >> 16);
		loc[10] = (uint8_t)(i >> 8);
		loc[11] = (uint8_t)i;
		rc = ssp_txn_put(x->t, c->t_txidx, x->txs[i]->txid.b, 32, loc, 12);
	}
	chain_head_encode(hv, &nh);
	if (!rc) rc = ssp_txn_put(x->t, c->t_meta, "head", 4, hv, sizeof hv);
	if (!rc && x->signed_slot) rc = chain_signed_slot_put(c, x->t, x->slot, &h->id);
	uint64_t t0 = ssp_mono_ns();
	if (x->nested) {
		/* a branch switch: its txn is committed (or aborted) once, by ssp_chain_switch */
	} else if (rc) {
		ssp_txn_end(x->t);
	} else {
		rc = ssp_txn_commit(x->t);
	}
	x->t = NULL;
	c->executing = false;
	info->commit_ns = ssp_mono_ns() - t0;
	if (rc) {
		c->fatal = rc;
		SSP_LOGE(LOG, "cannot commit block %llu: %s — stopping; nothing was half-written%s",
		         (unsigned long long)h->height, ssp_strerror(rc),
		         rc == SSP_ERR_MAPFULL ? " (raise --map-size and restart)" : "");
		return rc;
	}
	c->head = nh;
	info->height = h->height;
	info->id = h->id;
	info->ntx = (uint32_t)x->n;
	info->timestamp_ms = h->timestamp_ms;
	info->bytes = n;
	info->root_ns = x->root_ns;
	info->root_keys = x->root_keys;
	info->root_ops = x->root_ops;
	if (c->check_invariants && !x->nested) {
		rc = chain_check_invariants(c);
		if (rc == SSP_ERR_DBCORRUPT) {
			c->fatal = SSP_ERR_DBCORRUPT;
			return SSP_ERR_DBCORRUPT;
		}
		if (ssp_err_local(rc)) {
			/* the block is committed; only the (debug) check could not run */
			SSP_LOGW(LOG, "supply check after block %llu skipped: %s",
			         (unsigned long long)h->height, ssp_strerror(rc));
		} else if (rc) {
			SSP_LOGE(LOG, "supply invariant violated after block %llu: %s",
			         (unsigned long long)h->height, ssp_strerror(rc));
			c->fatal = SSP_ERR_SUPPLY;
			return SSP_ERR_SUPPLY;
		}
	}
	return 0;
}

int ssp_chain_commit(ssp_chain *c, ssp_exec *x, const ssp_header *h, ssp_block_info *info)
{
	ssp_buf raw;
	ssp_header hh = *h;
	int rc;
	memset(info, 0, sizeof *info);
	chain_assert_owner(c);
	if (c->fatal) {
		rc = c->fatal;
		goto out;
	}
	rc = exec_roots(x);
	if (rc) {
		if (ssp_err_local(rc)) poison(c, rc, "computing block roots");
		goto out;
	}
	rc = check_header(x, h);
	if (rc) {
		if (ssp_err_local(rc)) poison(c, rc, "checking a block header");
		goto out;
	}
	ssp_buf_init(&raw, c->g->params.max_block_bytes + 4096);
	ssp_header_encode(&raw, &hh, true);
	ssp_buf_u32(&raw, (uint32_t)x->n);
	for (size_t i = 0; i < x->n; i++)
		ssp_buf_bytes(&raw, x->txs[i]->raw, x->txs[i]->raw_len);
	rc = raw.err;
	if (!rc) {
		ssp_rd r;
		ssp_rd_init(&r, raw.data, raw.len);
		rc = ssp_header_read(&hh, &r); /* computes the id */
	}
	if (rc == SSP_ERR_TOOBIG) {
		rc = SSP_ERR_BLOCK_LIMIT;
	} else if (rc) {
		poison(c, rc, "encoding a block");
	} else {
		info->apply_ns = ssp_mono_ns() - x->t0;
		info->sigs_at_exec = x->sigs_at_exec;
		rc = write_block(x, &hh, raw.data, raw.len, info);
	}
	/* the restricted accounts it wrote: the mempool re-checks their senders' pending txs */
	free(c->restricted);
	c->restricted = NULL;
	c->nrestricted = 0;
	const ssp_addr *ra;
	size_t nr = rc ? 0 : ssp_state_restricted(x->st, &ra);
	if (nr && (c->restricted = ssp_malloc(nr * sizeof *ra))) {
		/* (out of memory only loses the hint: a producer drops those txs anyway) */
		memcpy(c->restricted, ra, nr * sizeof *ra);
		c->nrestricted = nr;
	}
	ssp_buf_free(&raw);
out:
	ssp_exec_abort(x);
	return rc;
}

/* ----------------------------------------------------------- signers */

static int soft_sign(void *ctx, ssp_sig *sig, const ssp_hash *digest)
{
	return ssp_sign_digest(sig, ctx, digest);
}

void ssp_signer_soft(ssp_signer *s, const ssp_seckey *sk)
{
	s->sign = soft_sign;
	s->ctx = (void *)sk;
	if (ssp_key_public(&s->pub, sk)) memset(&s->pub, 0, sizeof s->pub);
}

/* -------------------------------------------------------------- import */

typedef struct {
	const ssp_chain *c;
	const ssp_block *blk;
	const ssp_pubkey **keys; /* per tx: the key to check with, NULL = none known */
	bool *ok;
} sigjob;

static void verify_one(void *arg, size_t i)
{
	sigjob *j = arg;
	const ssp_tx *tx = &j->blk->txs[i];
	if (j->ok[i] || !j->keys[i]) return;
	j->ok[i] = ssp_tx_verify(tx, j->keys[i]) == 0;
}

/*
 * Every tx's signature, before the write txn: the key is the tx's own, the
 * one on chain (keys never change once set), or one an earlier tx of the
 * block brings. A failed signature makes the block invalid here; ok[i] is
 * left true for each tx checked. A tx whose key is not known yet (its
 * sender's key arrives in a block committed after the read snapshot) is
 * checked when it is executed. Reads only committed state: any thread.
 */
/*
 * Keys that blocks prepared ahead of the committed head bring (a sender's
 * first tx carries its pubkey): the import pipeline prepares block h+1
 * before h commits, and without these every tx of h+1 whose sender's key
 * arrives in h would be checked serially at execution. A hint is used only
 * when it derives the tx's own address (an address is the hash of its key),
 * so a hint from a block that later fails cannot make a bad tx pass.
 * Open addressing by address; one thread (the preparer) owns it.
 */
typedef struct {
	ssp_addr *addr;
	ssp_pubkey *key;
	size_t cap, n;
} keyhints;

static const ssp_pubkey *hint_find(const keyhints *kh, const ssp_addr *a)
{
	if (!kh || !kh->n) return NULL;
	size_t i = ssp_le64_get(a->b) & (kh->cap - 1);
	while (kh->key[i].len) {
		if (!memcmp(kh->addr[i].b, a->b, SSP_ADDR_LEN)) return &kh->key[i];
		i = (i + 1) & (kh->cap - 1);
	}
	return NULL;
}

/* Adds the keys block `blk` brings; a failed allocation only loses hints. */
static void hints_add(keyhints *kh, const ssp_block *blk)
{
	for (uint32_t t = 0; t < blk->ntx; t++) {
		const ssp_tx *tx = &blk->txs[t];
		if (!tx->has_pubkey || hint_find(kh, &tx->from)) continue;
		if (2 * (kh->n + 1) > kh->cap) {
			size_t nc = kh->cap ? 2 * kh->cap : 1024;
			ssp_addr *na = ssp_calloc(nc, sizeof *na);
			ssp_pubkey *nk = ssp_calloc(nc, sizeof *nk);
			if (!na || !nk) {
				free(na);
				free(nk);
				return;
			}
			for (size_t i = 0; i < kh->cap; i++) {
				if (!kh->key[i].len) continue;
				size_t j = ssp_le64_get(kh->addr[i].b) & (nc - 1);
				while (nk[j].len)
					j = (j + 1) & (nc - 1);
				na[j] = kh->addr[i];
				nk[j] = kh->key[i];
			}
			free(kh->addr);
			free(kh->key);
			kh->addr = na;
			kh->key = nk;
			kh->cap = nc;
		}
		size_t i = ssp_le64_get(tx->from.b) & (kh->cap - 1);
		while (kh->key[i].len)
			i = (i + 1) & (kh->cap - 1);
		kh->addr[i] = tx->from;
		kh->key[i] = tx->pubkey;
		kh->n++;
	}
}

static void hints_free(keyhints *kh)
{
	free(kh->addr);
	free(kh->key);
}

static int verify_sigs(const ssp_chain *c, ssp_mempool *m, const ssp_block *blk, bool *ok,
                       const keyhints *kh)
{
	ssp_account *accs = NULL;
	const ssp_pubkey **keys = NULL;
	uint32_t *brought = NULL; /* open addressing: tx index + 1 of a sender's first pubkey */
	size_t cap = 16;
	ssp_txn *rt = NULL;
	int rc = 0;
	if (!blk->ntx) return 0;
	while (cap < 2 * (size_t)blk->ntx)
		cap *= 2;
	keys = ssp_calloc(blk->ntx, sizeof *keys);
	accs = ssp_malloc(blk->ntx * sizeof *accs);
	brought = ssp_calloc(cap, sizeof *brought);
	if (!keys || !accs || !brought) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	rc = ssp_store_read(c->store, &rt);
	if (rc) goto out;
	for (uint32_t i = 0; i < blk->ntx && !rc; i++) {
		const ssp_tx *tx = &blk->txs[i];
		if (m && ssp_mempool_has(m, &tx->txid)) {
			ok[i] = true; /* checked on admission */
			continue;
		}
		/* the sender's slot in `brought` (a pubkey an earlier tx of the block carries) */
		size_t h = ssp_le64_get(tx->from.b) & (cap - 1);
		while (brought[h] &&
		       memcmp(blk->txs[brought[h] - 1].from.b, tx->from.b, SSP_ADDR_LEN))
			h = (h + 1) & (cap - 1);
		if (tx->has_pubkey) {
			keys[i] = &tx->pubkey;
			if (!brought[h]) brought[h] = i + 1;
			continue;
		}
		if (brought[h]) { /* keys never change: the earlier tx's key is the sender's */
			keys[i] = &blk->txs[brought[h] - 1].pubkey;
			continue;
		}
		rc = ssp_chain_read_account(c, rt, &tx->from, &accs[i]);
		if (rc) break;
		if (accs[i].has_key) {
			keys[i] = &accs[i].key;
		} else {
			const ssp_pubkey *hk = hint_find(kh, &tx->from);
			ssp_addr a;
			if (hk) ssp_addr_from_pubkey(&a, hk);
			if (hk && !memcmp(a.b, tx->from.b, SSP_ADDR_LEN)) keys[i] = hk;
		}
	}
	ssp_txn_end(rt);
	if (rc) goto out;
	sigjob j = {.c = c, .blk = blk, .keys = keys, .ok = ok};
	ssp_workpool_for(c->pool, blk->ntx, verify_one, &j);
	for (uint32_t i = 0; i < blk->ntx; i++)
		if (!ok[i] && keys[i]) { /* (no key known yet: checked when it executes) */
			SSP_LOGW(LOG, "block %llu tx %u: bad signature",
			         (unsigned long long)blk->hdr.height, i);
			rc = SSP_ERR_BLOCK_TX;
			break;
		}
out:
	free(keys);
	free(accs);
	free(brought);
	return rc;
}

struct ssp_import {
	ssp_block blk; /* borrows the caller's raw bytes */
	bool *ok;      /* per tx: signature already checked */
};

void ssp_import_free(ssp_import *p)
{
	if (!p) return;
	ssp_block_free(&p->blk);
	free(p->ok);
	free(p);
}

static int prepare(const ssp_chain *c, ssp_mempool *m, ssp_import **out, const uint8_t *raw,
                   size_t n, const keyhints *kh)
{
	const ssp_params *p = &c->g->params;
	ssp_import *ip;
	int rc;
	*out = NULL;
	ip = ssp_calloc(1, sizeof *ip);
	if (!ip) return SSP_ERR_NOMEM;
	rc = ssp_block_decode(&ip->blk, raw, n, p->max_block_bytes);
	if (!rc && ip->blk.ntx > p->max_block_txs) rc = SSP_ERR_BLOCK_LIMIT;
	if (!rc) {
		ip->ok = ssp_calloc(ip->blk.ntx ? ip->blk.ntx : 1, sizeof *ip->ok);
		if (!ip->ok) rc = SSP_ERR_NOMEM;
	}
	if (!rc) rc = verify_sigs(c, m, &ip->blk, ip->ok, kh);
	if (rc) {
		ssp_import_free(ip);
		return rc;
	}
	*out = ip;
	return 0;
}

int ssp_chain_prepare(const ssp_chain *c, ssp_mempool *m, ssp_import **out, const uint8_t *raw,
                      size_t n)
{
	return prepare(c, m, out, raw, n, NULL);
}

/*
 * Checks an imported block's header against the head, executes and commits
 * it — in its own write txn, or in `outer` (a branch switch) without
 * committing. Leaves ip to the caller.
 */
static int import_in(ssp_chain *c, ssp_mempool *m, ssp_import *ip, ssp_block_info *info,
                     ssp_txn *outer)
{
	const ssp_header *h = &ip->blk.hdr;
	ssp_exec *x = NULL;
	ssp_pubkey key;
	int rc;
	memset(info, 0, sizeof *info);
	chain_assert_owner(c);
	if (c->fatal) {
		rc = c->fatal;
		goto out;
	}
	/* the header against the head, before the write txn */
	if (h->height != c->head.height + 1) {
		rc = SSP_ERR_BLOCK_HEIGHT;
		goto out;
	}
	if (memcmp(h->prev_id.b, c->head.id.b, 32)) {
		rc = SSP_ERR_BLOCK_PREV;
		goto out;
	}
	if ((rc = slot_ok(c, h->slot, h->timestamp_ms))) goto out;
	if (h->timestamp_ms > ssp_now_ms() + 5000) {
		rc = SSP_ERR_BLOCK_EARLY; /* this node's clock decides only "not yet" */
		goto out;
	}
	rc = c->cons.producer(c->cons.ctx, c, &c->head, h->slot, &key);
	if (rc) goto out;
	rc = ssp_header_check_sig(h, c->g->chain_id, &key);
	if (!rc && c->cons.check) rc = c->cons.check(c->cons.ctx, c, h);
	if (rc) goto out;
	/* then the state: execute and commit under the block's own header */
	rc = begin_in(c, outer, &x, h->slot, h->timestamp_ms);
	if (!rc) rc = ssp_exec_block(x, ip->blk.txs, ip->blk.ntx, ip->ok);
	if (rc) {
		ssp_exec_abort(x);
		goto out;
	}
	rc = ssp_chain_commit(c, x, h, info);
	if (!rc && m) ssp_mempool_after_block(m, ip->blk.txs, ip->blk.ntx, c->head.height);
out:
	if (ssp_err_local(rc)) poison(c, rc, "importing a block");
	return rc;
}

int ssp_chain_import_prepared(ssp_chain *c, ssp_mempool *m, ssp_import *ip, ssp_block_info *info)
{
	int rc = import_in(c, m, ip, info, NULL);
	ssp_import_free(ip);
	return rc;
}

int chain_import_nested(ssp_chain *c, ssp_txn *t, ssp_import *ip, ssp_block_info *info)
{
	return import_in(c, NULL, ip, info, t);
}

const ssp_block *chain_import_block(const ssp_import *ip)
{
	return &ip->blk;
}

void chain_exec_mark_signed(ssp_exec *x)
{
	x->signed_slot = true;
}

int ssp_chain_import(ssp_chain *c, ssp_mempool *m, const uint8_t *raw, size_t n,
                     ssp_block_info *info)
{
	ssp_import *ip;
	memset(info, 0, sizeof *info);
	chain_assert_owner(c);
	if (c->fatal) return c->fatal;
	int rc = ssp_chain_prepare(c, m, &ip, raw, n);
	if (rc) return ssp_err_local(rc) ? poison(c, rc, "preparing a block") : rc;
	return ssp_chain_import_prepared(c, m, ip, info);
}

/* The import pipeline: a thread prepares block i+1 (signatures) while the owner imports block i. */
typedef struct {
	const ssp_chain *c;
	ssp_mempool *m;
	const uint8_t *const *raw;
	const size_t *len;
	size_t n;
	ssp_import **prep;
	int *rc;
	size_t ready; /* blocks prepared so far */
	bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} pipeline;

static void *prepare_main(void *arg)
{
	pipeline *pl = arg;
	keyhints kh = {0};
	for (size_t i = 0; i < pl->n; i++) {
		pthread_mutex_lock(&pl->mu);
		bool stop = pl->stop;
		pthread_mutex_unlock(&pl->mu);
		if (stop) break;
		ssp_import *ip = NULL;
		int rc = prepare(pl->c, pl->m, &ip, pl->raw[i], pl->len[i], &kh);
		if (!rc && i + 1 < pl->n) hints_add(&kh, &ip->blk); /* before the owner may free it */
		pthread_mutex_lock(&pl->mu);
		pl->prep[i] = ip;
		pl->rc[i] = rc;
		pl->ready = i + 1;
		pthread_cond_signal(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
		if (rc) break; /* the owner stops at this block */
	}
	hints_free(&kh);
	return NULL;
}

int ssp_chain_import_many(ssp_chain *c, ssp_mempool *m, const uint8_t *const *raw,
                          const size_t *len, size_t n, ssp_block_info *infos, size_t *done)
{
	pipeline pl = {.c = c, .m = m, .raw = raw, .len = len, .n = n};
	pthread_t th;
	int rc = 0;
	*done = 0;
	chain_assert_owner(c);
	if (c->fatal) return c->fatal;
	if (n == 0) return 0;
	if (n == 1) {
		rc = ssp_chain_import(c, m, raw[0], len[0], &infos[0]);
		*done = rc ? 0 : 1;
		return rc;
	}
	pl.prep = ssp_calloc(n, sizeof *pl.prep);
	pl.rc = ssp_calloc(n, sizeof *pl.rc);
	if (!pl.prep || !pl.rc) {
		free(pl.prep);
		free(pl.rc);
		return poison(c, SSP_ERR_NOMEM, "importing blocks");
	}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.cv, NULL);
	bool threaded = pthread_create(&th, NULL, prepare_main, &pl) == 0;
	if (!threaded) prepare_main(&pl); /* no thread: prepare them all first */
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&pl.mu);
		while (pl.ready <= i)
			pthread_cond_wait(&pl.cv, &pl.mu);
		ssp_import *ip = pl.prep[i];
		pl.prep[i] = NULL;
		rc = pl.rc[i];
		pthread_mutex_unlock(&pl.mu);
		if (rc) {
			if (ssp_err_local(rc)) poison(c, rc, "preparing a block");
			break;
		}
		rc = ssp_chain_import_prepared(c, m, ip, &infos[i]);
		if (rc) break;
		*done = i + 1;
	}
	pthread_mutex_lock(&pl.mu);
	pl.stop = true;
	pthread_mutex_unlock(&pl.mu);
	if (threaded) pthread_join(th, NULL);
	for (size_t i = 0; i < n; i++)
		ssp_import_free(pl.prep[i]);
	free(pl.prep);
	free(pl.rc);
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.cv);
	return rc;
}
