/*
 * chain.c — the ledger (chain layer): opening a store and initialising it
 * from genesis, applying transactions and blocks, producing blocks from the
 * mempool, and the read paths used by RPC threads.
 *
 * A block and every state change it causes go to LMDB in ONE write txn,
 * so a crash at any moment leaves the last committed block whole. A failed
 * commit poisons the chain object: the node must stop rather than run on
 * with memory that disagrees with disk.
 */
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "genesis_internal.h"
#include "mempool_internal.h"
#include "state_internal.h"

#define MAX_TYPES 64
#define LOG "chain"

struct ssp_chain {
	ssp_store *store;
	const ssp_genesis *g;
	ssp_table t_state, t_meta, t_blocks, t_blockid, t_txidx, t_rcpts;
	ssp_txreg types[MAX_TYPES];
	size_t ntypes;
	ssp_head head;
	bool check_invariants;
	int fatal;
};

static const char k_head[] = "head", k_genesis[] = "genesis";

/* ------------------------------------------------------------ small helpers */

const ssp_head *ssp_chain_head(const ssp_chain *c)
{
	return &c->head;
}
const ssp_genesis *ssp_chain_genesis(const ssp_chain *c)
{
	return c->g;
}
ssp_store *ssp_chain_store(const ssp_chain *c)
{
	return c->store;
}
void ssp_chain_set_check_invariants(ssp_chain *c, bool on)
{
	c->check_invariants = on;
}

const ssp_txreg *ssp_chain_txreg(const ssp_chain *c, uint16_t id)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (c->types[i].type->id == id) return &c->types[i];
	return NULL;
}

const ssp_txtype *ssp_chain_txtype(const ssp_chain *c, uint16_t id)
{
	const ssp_txreg *r = ssp_chain_txreg(c, id);
	return r ? r->type : NULL;
}

uint64_t ssp_chain_min_fee(const ssp_chain *c, size_t n)
{
	const ssp_params *p = &c->g->params;
	uint64_t per, fee;
	if (ssp_mul_u64(&per, p->fee_per_byte, n) || ssp_add_u64(&fee, p->min_fee, per))
		return UINT64_MAX;
	return fee;
}

static void head_encode(uint8_t out[8 + 32 + 32 + 8 + 8 + 8], const ssp_head *h)
{
	ssp_le64_put(out, h->height);
	memcpy(out + 8, h->id.b, 32);
	memcpy(out + 40, h->state_root.b, 32);
	ssp_le64_put(out + 72, h->timestamp_ms);
	ssp_le64_put(out + 80, h->slot);
	ssp_le64_put(out + 88, h->finalized);
}

static int head_decode(ssp_head *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	if (n != 96) return SSP_ERR_DBCORRUPT;
	h->height = ssp_le64_get(b);
	memcpy(h->id.b, b + 8, 32);
	memcpy(h->state_root.b, b + 40, 32);
	h->timestamp_ms = ssp_le64_get(b + 72);
	h->slot = ssp_le64_get(b + 80);
	h->finalized = ssp_le64_get(b + 88);
	return 0;
}

/* ------------------------------------------------------------------ genesis */

static int genesis_state(ssp_chain *c, ssp_state *st)
{
	const ssp_genesis *g = c->g;
	const uint64_t month_ms = g->params.month_seconds * 1000;
	int rc = 0;
	for (size_t i = 0; i < g->nalloc && !rc; i++) {
		const ssp_alloc *a = &g->alloc[i];
		ssp_account acc;
		switch (a->kind) {
		case SSP_ALLOC_POOL:
			rc = ssp_state_pool_add(st, a->amount);
			break;
		case SSP_ALLOC_LIQUID:
			rc = ssp_state_credit(st, &a->addr, a->amount, 0);
			break;
		case SSP_ALLOC_FOUNDATION:
			rc = ssp_state_credit(st, &a->addr, a->amount, 0);
			if (!rc) rc = ssp_state_account(st, &a->addr, &acc);
			acc.grant_lock_ms = 24 * month_ms;
			if (!rc) rc = ssp_state_set_account(st, &a->addr, &acc);
			break;
		case SSP_ALLOC_TEAM: {
			/* 12 monthly steps; the last takes the remainder so nothing is lost */
			uint64_t step = a->amount / 12, left = a->amount;
			for (int k = 1; k <= 12 && !rc; k++) {
				uint64_t amt = k == 12 ? left : step;
				left -= amt;
				rc = ssp_state_credit(st, &a->addr, amt,
				                      g->time_ms + (uint64_t)k * month_ms);
			}
			break;
		}
		default:
			rc = SSP_ERR_GENESIS;
		}
	}
	return rc;
}

static int put_block(ssp_chain *c, ssp_txn *t, const ssp_header *h, const uint8_t *raw, size_t n)
{
	uint8_t hk[8];
	ssp_be64_put(hk, h->height);
	int rc = ssp_txn_put(t, c->t_blocks, hk, 8, raw, n);
	if (!rc) rc = ssp_txn_put(t, c->t_blockid, h->id.b, 32, hk, 8);
	return rc;
}

static int init_genesis(ssp_chain *c)
{
	ssp_txn *t = NULL;
	ssp_state *st = NULL;
	ssp_header h;
	ssp_hash wh;
	ssp_buf b;
	int rc;
	ssp_buf_init(&b, 1 << 20);
	rc = ssp_store_write(c->store, &t);
	if (rc) goto out;
	rc = ssp_state_new(&st, t, c->t_state);
	if (rc) goto out;
	rc = genesis_state(c, st);
	if (!rc) rc = ssp_state_write_hash(st, &wh);
	if (rc) goto out;
	memset(&h, 0, sizeof h);
	h.timestamp_ms = c->g->time_ms;
	h.producer = c->g->producer;
	{
		ssp_hash zero = {{0}};
		const void *parts[2] = {zero.b, wh.b};
		size_t lens[2] = {32, 32};
		ssp_sha256v(&h.state_root, parts, lens, 2);
	}
	ssp_header_encode(&b, &h, true);
	ssp_buf_u32(&b, 0);
	if (b.err) {
		rc = b.err;
		goto out;
	}
	{
		ssp_rd r;
		ssp_rd_init(&r, b.data, b.len);
		rc = ssp_header_read(&h, &r);
		if (rc) goto out;
	}
	c->head = (ssp_head){
	    .height = 0, .id = h.id, .state_root = h.state_root, .timestamp_ms = h.timestamp_ms};
	uint8_t hv[96];
	head_encode(hv, &c->head);
	if ((rc = ssp_state_flush(st)) || (rc = put_block(c, t, &h, b.data, b.len)) ||
	    (rc = ssp_txn_put(t, c->t_meta, k_head, sizeof k_head - 1, hv, sizeof hv)) ||
	    (rc = ssp_txn_put(t, c->t_meta, k_genesis, sizeof k_genesis - 1, c->g->hash.b, 32)))
		goto out;
	rc = ssp_txn_commit(t);
	t = NULL;
	if (!rc) SSP_LOGI(LOG, "initialised chain %s from genesis", c->g->chain_id);
out:
	ssp_state_free(st);
	if (t) ssp_txn_end(t);
	ssp_buf_free(&b);
	return rc;
}

int ssp_chain_open(ssp_chain **out, ssp_store *store, const ssp_genesis *g, const ssp_txreg *types,
                   size_t ntypes)
{
	ssp_chain *c = ssp_calloc(1, sizeof *c);
	ssp_txn *rt = NULL;
	const void *v;
	size_t vl;
	int rc;
	*out = NULL;
	if (!c) return SSP_ERR_NOMEM;
	c->store = store;
	c->g = g;
#ifdef SSP_DEBUG
	c->check_invariants = true;
#endif
	c->types[c->ntypes++] = (ssp_txreg){.type = &ssp_transfer_type};
	for (size_t i = 0; i < ntypes; i++) {
		if (c->ntypes == MAX_TYPES || ssp_chain_txtype(c, types[i].type->id)) {
			rc = SSP_ERR_INVAL; /* duplicate id: a wiring bug */
			goto fail;
		}
		c->types[c->ntypes++] = types[i];
	}
	if ((rc = ssp_store_table(store, "state", &c->t_state)) ||
	    (rc = ssp_store_table(store, "meta", &c->t_meta)) ||
	    (rc = ssp_store_table(store, "blocks", &c->t_blocks)) ||
	    (rc = ssp_store_table(store, "blockid", &c->t_blockid)) ||
	    (rc = ssp_store_table(store, "txidx", &c->t_txidx)) ||
	    (rc = ssp_store_table(store, "receipts", &c->t_rcpts)))
		goto fail;
	rc = ssp_store_read(store, &rt);
	if (rc) goto fail;
	rc = ssp_txn_get(rt, c->t_meta, k_genesis, sizeof k_genesis - 1, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		ssp_txn_end(rt);
		rt = NULL;
		rc = init_genesis(c);
		if (rc) goto fail;
	} else if (rc) {
		goto fail;
	} else {
		if (vl != 32 || memcmp(v, g->hash.b, 32)) {
			SSP_LOGE(LOG, "the datadir holds another chain (genesis hash differs)");
			rc = SSP_ERR_DBVERSION;
			goto fail;
		}
		rc = ssp_txn_get(rt, c->t_meta, k_head, sizeof k_head - 1, &v, &vl);
		if (!rc) rc = head_decode(&c->head, v, vl);
		if (rc) goto fail;
		ssp_txn_end(rt);
		rt = NULL;
	}
	*out = c;
	return 0;
fail:
	if (rt) ssp_txn_end(rt);
	free(c);
	return rc;
}

void ssp_chain_close(ssp_chain *c)
{
	free(c);
}

/* ------------------------------------------------------------------ checks */

static uint64_t tx_gas(const ssp_chain *c, const ssp_tx *tx)
{
	const ssp_txtype *tt = ssp_chain_txtype(c, tx->type);
	return tt && tt->gas_limit ? tt->gas_limit(tx) : 0;
}

int ssp_chain_check_tx(const ssp_chain *c, const ssp_tx *tx)
{
	if (strcmp(tx->chain_id, c->g->chain_id)) return SSP_ERR_CHAINID;
	const ssp_txreg *tr = ssp_chain_txreg(c, tx->type);
	if (!tr) return SSP_ERR_TXTYPE;
	if (tx->fee < ssp_chain_min_fee(c, tx->raw_len)) return SSP_ERR_FEE_LOW;
	return tr->type->check ? tr->type->check(tr->mod, tx) : 0;
}

int ssp_chain_verify_tx(const ssp_chain *c, ssp_txn *rt, const ssp_tx *tx)
{
	if (tx->has_pubkey)
		return ssp_verify(&tx->pubkey, SSP_DOM_TX, tx->chain_id, tx->raw, tx->signed_len,
		                  &tx->sig);
	ssp_account a;
	int rc = ssp_chain_read_account(c, rt, &tx->from, &a);
	if (rc) return rc;
	if (!a.has_key) return SSP_ERR_NOKEY;
	return ssp_verify(&a.key, SSP_DOM_TX, tx->chain_id, tx->raw, tx->signed_len, &tx->sig);
}

/* ------------------------------------------------------------------- apply */

typedef struct {
	ssp_chain *c;
	ssp_state *st;
	uint64_t height, time_ms;
	bool validating; /* an imported block (ssp_txctx.validating) */
	/* included txs and their receipts */
	const ssp_tx **txs;
	ssp_receipt *rcpts;
	size_t n, cap;
	size_t bytes;
} blockctx;

/* Releases every lock whose time has come (before the block's txs). */
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

static int release_locks(blockctx *b, ssp_txn *t)
{
	uint8_t start = SSP_TB_LOCK;
	due_scan d = {.now = b->time_ms};
	int rc = ssp_txn_scan(t, b->c->t_state, &start, 1, due_visit, &d);
	if (rc == 1) rc = 0;
	if (!rc) rc = d.err;
	for (size_t i = 0; i < d.n && !rc; i++) {
		ssp_addr a;
		ssp_account acc;
		uint64_t locked, pool;
		memcpy(a.b, d.v[i].key + 9, SSP_ADDR_LEN);
		rc = ssp_state_account(b->st, &a, &acc);
		if (rc) break;
		if (acc.locked < d.v[i].amount) {
			rc = SSP_ERR_DBCORRUPT;
			break;
		}
		acc.locked -= d.v[i].amount;
		if ((rc = ssp_add_u64(&acc.balance, acc.balance, d.v[i].amount)) ||
		    (rc = ssp_state_set_account(b->st, &a, &acc)) ||
		    (rc = ssp_state_del(b->st, SSP_TB_LOCK, d.v[i].key + 1, 8 + SSP_ADDR_LEN)) ||
		    (rc = ssp_supply_get(b->st, &locked, &pool)))
			break;
		rc = ssp_supply_set(b->st, locked - d.v[i].amount, pool);
	}
	free(d.v);
	return rc;
}

/* Applies one tx; on error every change it made is undone. */
static int apply_tx(blockctx *b, const ssp_tx *tx, ssp_receipt *r)
{
	ssp_chain *c = b->c;
	size_t mark = ssp_state_mark(b->st);
	ssp_account acc;
	int rc = ssp_chain_check_tx(c, tx);
	if (rc) return rc;
	if (tx->expiry < b->height) return SSP_ERR_EXPIRED;
	if (tx->expiry > b->height + c->g->params.max_expiry_blocks) return SSP_ERR_EXPIRY_FAR;
	rc = ssp_state_account(b->st, &tx->from, &acc);
	if (rc) return rc;
	if (tx->nonce < acc.nonce) return SSP_ERR_NONCE_LOW;
	if (tx->nonce > acc.nonce) return SSP_ERR_NONCE_GAP;
	if (!acc.has_key) {
		if (!tx->has_pubkey) return SSP_ERR_NOKEY;
		acc.has_key = true;
		acc.key = tx->pubkey;
	}
	if (acc.balance < tx->fee) return acc.locked ? SSP_ERR_LOCKED : SSP_ERR_BALANCE;
	acc.balance -= tx->fee;
	acc.nonce++;
	memset(r, 0, sizeof *r);
	r->txid = tx->txid;
	r->fee_paid = tx->fee;
	if ((rc = ssp_state_set_account(b->st, &tx->from, &acc)) ||
	    (rc = ssp_state_pool_add(b->st, tx->fee)))
		goto undo;
	const ssp_txreg *tr = ssp_chain_txreg(c, tx->type);
	ssp_txctx ctx = {.st = b->st,
	                 .mod = tr->mod,
	                 .params = &c->g->params,
	                 .chain_id = c->g->chain_id,
	                 .hrp = c->g->hrp,
	                 .height = b->height,
	                 .time_ms = b->time_ms,
	                 .rcpt = r,
	                 .validating = b->validating};
	rc = tr->type->apply(&ctx, tx);
	if (rc) goto undo;
	return 0;
undo:
	ssp_state_rollback(b->st, mark);
	ssp_receipt_free(r);
	return rc;
}

static int push_included(blockctx *b, const ssp_tx *tx, const ssp_receipt *r)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		const ssp_tx **t = ssp_realloc(b->txs, nc * sizeof *t);
		if (!t) return SSP_ERR_NOMEM;
		b->txs = t;
		ssp_receipt *nr = ssp_realloc(b->rcpts, nc * sizeof *nr);
		if (!nr) return SSP_ERR_NOMEM;
		b->rcpts = nr;
		b->cap = nc;
	}
	b->txs[b->n] = tx;
	b->rcpts[b->n++] = *r;
	b->bytes += tx->raw_len;
	return 0;
}

static void blockctx_free(blockctx *b)
{
	for (size_t i = 0; i < b->n; i++)
		ssp_receipt_free(&b->rcpts[i]);
	free(b->rcpts);
	free(b->txs);
	ssp_state_free(b->st);
}

/* Roots of the included txs and receipts, and the new state root. */
static int block_roots(blockctx *b, ssp_header *h, ssp_buf *rcpt_blob)
{
	ssp_hash *leaves = ssp_malloc((b->n ? b->n : 1) * sizeof *leaves);
	ssp_buf one;
	ssp_hash wh;
	int rc = 0;
	if (!leaves) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < b->n; i++)
		leaves[i] = b->txs[i]->txid;
	ssp_merkle_root(&h->tx_root, leaves, b->n);
	ssp_buf_init(&one, 2 << 20);
	ssp_buf_u32(rcpt_blob, (uint32_t)b->n);
	for (size_t i = 0; i < b->n; i++) {
		ssp_buf_reset(&one);
		ssp_receipt_encode(&one, &b->rcpts[i]);
		if (one.err) {
			rc = one.err;
			break;
		}
		ssp_sha256(&leaves[i], one.data, one.len);
		ssp_buf_bytes(rcpt_blob, one.data, one.len);
	}
	ssp_buf_free(&one);
	if (!rc) rc = rcpt_blob->err;
	if (!rc) ssp_merkle_root(&h->receipts_root, leaves, b->n);
	free(leaves);
	if (!rc) rc = ssp_state_write_hash(b->st, &wh);
	if (!rc) {
		const void *parts[2] = {b->c->head.state_root.b, wh.b};
		size_t lens[2] = {32, 32};
		ssp_sha256v(&h->state_root, parts, lens, 2);
	}
	return rc;
}

/* Writes the block, its index and receipts, the state and the head; commits. */
static int commit_block(blockctx *b, ssp_txn *t, const ssp_header *h, const uint8_t *raw, size_t n,
                        const ssp_buf *rcpt_blob, ssp_block_info *info)
{
	ssp_chain *c = b->c;
	uint8_t hk[8], loc[12], hv[96];
	ssp_head nh = {.height = h->height,
	               .id = h->id,
	               .state_root = h->state_root,
	               .timestamp_ms = h->timestamp_ms,
	               .slot = h->slot,
	               .finalized = h->height};
	int rc = ssp_state_flush(b->st);
	if (!rc) rc = put_block(c, t, h, raw, n);
	ssp_be64_put(hk, h->height);
	if (!rc) rc = ssp_txn_put(t, c->t_rcpts, hk, 8, rcpt_blob->data, rcpt_blob->len);
	for (size_t i = 0; i < b->n && !rc; i++) {
		ssp_be64_put(loc, h->height);
		loc[8] = (uint8_t)(i >> 24);
		loc[9] = (uint8_t)(i >> 16);
		loc[10] = (uint8_t)(i >> 8);
		loc[11] = (uint8_t)i;
		rc = ssp_txn_put(t, c->t_txidx, b->txs[i]->txid.b, 32, loc, 12);
	}
	head_encode(hv, &nh);
	if (!rc) rc = ssp_txn_put(t, c->t_meta, k_head, sizeof k_head - 1, hv, sizeof hv);
	uint64_t t0 = ssp_mono_ns();
	if (rc) {
		ssp_txn_end(t);
	} else {
		rc = ssp_txn_commit(t);
	}
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
	info->ntx = (uint32_t)b->n;
	info->bytes = n;
	if (c->check_invariants) {
		ssp_txn *rt;
		rc = ssp_store_read(c->store, &rt);
		if (!rc) {
			rc = ssp_chain_check_supply(c, rt);
			ssp_txn_end(rt);
		}
		if (rc) {
			SSP_LOGE(LOG, "supply invariant violated after block %llu: %s",
			         (unsigned long long)h->height, ssp_strerror(rc));
			c->fatal = SSP_ERR_SUPPLY;
			return SSP_ERR_SUPPLY;
		}
	}
	return 0;
}

static int encode_block(ssp_buf *out, const ssp_header *h, const ssp_tx *const *txs, size_t n)
{
	ssp_header_encode(out, h, true);
	ssp_buf_u32(out, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		ssp_buf_bytes(out, txs[i]->raw, txs[i]->raw_len);
	return out->err;
}

/* A set of addresses (senders whose tx failed while building this block). */
typedef struct {
	ssp_addr *slot;
	uint8_t *used;
	size_t cap;
} addrset;

static int addrset_has(const addrset *s, const ssp_addr *a, size_t *pos)
{
	size_t h = ssp_le64_get(a->b) & (s->cap - 1);
	while (s->used[h]) {
		if (!memcmp(s->slot[h].b, a->b, SSP_ADDR_LEN)) return 1;
		h = (h + 1) & (s->cap - 1);
	}
	*pos = h;
	return 0;
}

/* Records a failed tx: its sender is skipped for the rest of the block. */
static int note_failure(addrset *s, size_t n, const ssp_tx *tx, ssp_hash **ids, int **errs,
                        size_t *nf, int err)
{
	size_t pos;
	if (!s->cap) {
		s->cap = 16;
		while (s->cap < 2 * n)
			s->cap *= 2;
		s->slot = ssp_malloc(s->cap * sizeof *s->slot);
		s->used = ssp_calloc(s->cap, 1);
		*ids = malloc(n * sizeof **ids);
		*errs = malloc(n * sizeof **errs);
		if (!s->slot || !s->used || !*ids || !*errs) return SSP_ERR_NOMEM;
	}
	if (!addrset_has(s, &tx->from, &pos)) {
		s->slot[pos] = tx->from;
		s->used[pos] = 1;
	}
	(*ids)[*nf] = tx->txid;
	(*errs)[(*nf)++] = err;
	return 0;
}

int ssp_chain_produce(ssp_chain *c, ssp_mempool *m, const ssp_seckey *producer, uint64_t slot,
                      uint64_t time_ms, ssp_block_info *info)
{
	const ssp_params *p = &c->g->params;
	blockctx b = {.c = c, .height = c->head.height + 1};
	ssp_txn *t = NULL;
	ssp_header h;
	ssp_buf raw, blob;
	mp_batch cand = {0};
	addrset failed = {0};
	ssp_hash *fids = NULL;
	int *ferrs = NULL;
	size_t nfail = 0;
	int rc;
	uint64_t t0 = ssp_mono_ns();
	memset(info, 0, sizeof *info);
	if (c->fatal) return c->fatal;
	b.time_ms = time_ms > c->head.timestamp_ms ? time_ms : c->head.timestamp_ms + 1;
	ssp_buf_init(&raw, p->max_block_bytes + 4096);
	ssp_buf_init(&blob, (size_t)1 << 30);

	/*
	 * Candidates are copied out under the pool's lock; the pool keeps
	 * admitting while this block is applied and committed.
	 */
	size_t budget = p->max_block_bytes > 1024 ? p->max_block_bytes - 1024 : 0; /* header */
	size_t prefixes = 4 * (size_t)p->max_block_txs; /* each tx's length prefix */
	rc =
	    ssp_mempool_take(m, &cand, p->max_block_txs, budget > prefixes ? budget - prefixes : 0);
	if (rc) goto out;
	rc = ssp_store_write(c->store, &t);
	if (rc) goto out;
	rc = ssp_state_new(&b.st, t, c->t_state);
	if (!rc) rc = release_locks(&b, t);
	if (rc) goto out;
	uint64_t block_gas = 0;
	for (size_t i = 0; i < cand.n; i++) {
		ssp_receipt r;
		const ssp_tx *tx = &cand.txs[i];
		size_t pos;
		if (failed.cap && addrset_has(&failed, &tx->from, &pos)) continue;
		/* a tx fits if its limit fits what the block has not used yet (gas used) */
		uint64_t g = tx_gas(c, tx);
		if (g > p->max_block_gas - block_gas) break; /* the block's gas budget is spent */
		rc = apply_tx(&b, tx, &r);
		if (rc == SSP_ERR_NOMEM || rc == SSP_ERR_IO || rc == SSP_ERR_DBCORRUPT ||
		    rc == SSP_ERR_MAPFULL)
			goto out;
		if (rc) {
			/* no longer valid: it and its sender's later txs leave the pool after the
			 * commit */
			SSP_LOGD(LOG, "dropping tx: %s", ssp_strerror(rc));
			rc = note_failure(&failed, cand.n, tx, &fids, &ferrs, &nfail, rc);
			if (rc) goto out;
			continue;
		}
		block_gas += r.gas_used < g ? r.gas_used : g;
		rc = push_included(&b, tx, &r);
		if (rc) goto out;
	}
	memset(&h, 0, sizeof h);
	h.height = b.height;
	h.prev_id = c->head.id;
	h.slot = slot;
	h.timestamp_ms = b.time_ms;
	{
		ssp_pubkey pk;
		rc = ssp_key_public(&pk, producer);
		if (rc) goto out;
		ssp_addr_from_pubkey(&h.producer, &pk);
	}
	rc = block_roots(&b, &h, &blob);
	if (rc) goto out;
	ssp_header_encode(&raw, &h, false);
	if (raw.err) {
		rc = raw.err;
		goto out;
	}
	rc = ssp_sign(&h.sig, producer, SSP_DOM_BLOCK, c->g->chain_id, raw.data, raw.len);
	if (rc) goto out;
	ssp_buf_reset(&raw);
	rc = encode_block(&raw, &h, b.txs, b.n);
	if (rc) goto out;
	{
		ssp_rd r;
		ssp_rd_init(&r, raw.data, raw.len);
		rc = ssp_header_read(&h, &r); /* computes the id */
		if (rc) goto out;
	}
	info->apply_ns = ssp_mono_ns() - t0;
	rc = commit_block(&b, t, &h, raw.data, raw.len, &blob, info);
	t = NULL;
	if (rc) goto out;
	/* reconcile the pool: failures go with their successors, included txs go */
	for (size_t i = 0; i < nfail; i++)
		ssp_mempool_drop_tx(m, &fids[i], ferrs[i]);
	{
		ssp_tx *done = ssp_malloc((b.n ? b.n : 1) * sizeof *done);
		if (done) {
			for (size_t i = 0; i < b.n; i++)
				done[i] = *b.txs[i];
			ssp_mempool_after_block(m, done, b.n, c->head.height);
			free(done);
		}
	}
out:
	if (t) ssp_txn_end(t);
	blockctx_free(&b);
	mp_batch_free(&cand);
	free(failed.slot);
	free(failed.used);
	free(fids);
	free(ferrs);
	ssp_buf_free(&raw);
	ssp_buf_free(&blob);
	return rc;
}

int ssp_chain_import(ssp_chain *c, ssp_mempool *m, const uint8_t *rawp, size_t n,
                     ssp_block_info *info)
{
	const ssp_params *p = &c->g->params;
	blockctx b = {.c = c, .validating = true};
	ssp_block blk;
	ssp_txn *t = NULL;
	ssp_buf hb, blob;
	ssp_header want;
	int rc;
	memset(info, 0, sizeof *info);
	if (c->fatal) return c->fatal;
	rc = ssp_block_decode(&blk, rawp, n, p->max_block_bytes);
	if (rc) return rc;
	ssp_buf_init(&hb, 1 << 20);
	ssp_buf_init(&blob, (size_t)1 << 30);
	const ssp_header *h = &blk.hdr;
	if (h->height != c->head.height + 1) {
		rc = SSP_ERR_BLOCK_HEIGHT;
		goto out;
	}
	if (memcmp(h->prev_id.b, c->head.id.b, 32)) {
		rc = SSP_ERR_BLOCK_PREV;
		goto out;
	}
	if (memcmp(h->producer.b, c->g->producer.b, SSP_ADDR_LEN)) {
		rc = SSP_ERR_BLOCK_PRODUCER;
		goto out;
	}
	if (h->timestamp_ms <= c->head.timestamp_ms || h->timestamp_ms > ssp_now_ms() + 5000) {
		rc = SSP_ERR_BLOCK_TIME;
		goto out;
	}
	if (blk.ntx > p->max_block_txs) {
		rc = SSP_ERR_BLOCK_LIMIT;
		goto out;
	}
	b.height = h->height;
	b.time_ms = h->timestamp_ms;
	rc = ssp_store_write(c->store, &t);
	if (rc) goto out;
	/* the producer's signature */
	ssp_header_encode(&hb, h, false);
	rc = hb.err ? hb.err
	            : ssp_verify(&c->g->producer_key, SSP_DOM_BLOCK, c->g->chain_id, hb.data,
	                         hb.len, &h->sig);
	if (rc) goto out;
	rc = ssp_state_new(&b.st, t, c->t_state);
	if (!rc) rc = release_locks(&b, t);
	if (rc) goto out;
	uint64_t block_gas = 0;
	for (uint32_t i = 0; i < blk.ntx; i++) {
		const ssp_tx *tx = &blk.txs[i];
		ssp_receipt r;
		rc = ssp_chain_check_tx(c, tx);
		/* the same gas rule as production: the limit must fit what is unused */
		uint64_t g = rc ? 0 : tx_gas(c, tx);
		if (g > p->max_block_gas - block_gas) {
			rc = SSP_ERR_BLOCK_LIMIT;
			goto out;
		}
		/* the signature: once per txid — pool members were checked on admission */
		if (!rc && !(m && ssp_mempool_has(m, &tx->txid))) {
			ssp_account a;
			rc = ssp_state_account(b.st, &tx->from, &a);
			if (!rc) {
				const ssp_pubkey *k = tx->has_pubkey ? &tx->pubkey
				                      : a.has_key    ? &a.key
				                                     : NULL;
				rc = k ? ssp_verify(k, SSP_DOM_TX, tx->chain_id, tx->raw,
				                    tx->signed_len, &tx->sig)
				       : SSP_ERR_NOKEY;
			}
		}
		if (!rc) rc = apply_tx(&b, tx, &r);
		if (!rc) block_gas += r.gas_used < g ? r.gas_used : g;
		if (!rc) rc = push_included(&b, tx, &r);
		if (rc) {
			SSP_LOGW(LOG, "block %llu tx %u invalid: %s", (unsigned long long)h->height,
			         i, ssp_strerror(rc));
			rc = SSP_ERR_BLOCK_TX;
			goto out;
		}
	}
	want = *h;
	rc = block_roots(&b, &want, &blob);
	if (rc) goto out;
	if (memcmp(want.tx_root.b, h->tx_root.b, 32) ||
	    memcmp(want.receipts_root.b, h->receipts_root.b, 32)) {
		rc = SSP_ERR_BLOCK_ROOT;
		goto out;
	}
	if (memcmp(want.state_root.b, h->state_root.b, 32)) {
		rc = SSP_ERR_BLOCK_STATE;
		goto out;
	}
	rc = commit_block(&b, t, h, rawp, n, &blob, info);
	t = NULL;
	if (!rc && m) ssp_mempool_after_block(m, blk.txs, blk.ntx, c->head.height);
out:
	if (t) ssp_txn_end(t);
	blockctx_free(&b);
	ssp_block_free(&blk);
	ssp_buf_free(&hb);
	ssp_buf_free(&blob);
	return rc;
}

/* ------------------------------------------------------------------- reads */

int ssp_chain_state_view(const ssp_chain *c, ssp_txn *rt, ssp_state **out)
{
	return ssp_state_new(out, rt, c->t_state);
}

void ssp_state_close(ssp_state *st)
{
	ssp_state_free(st);
}

int ssp_chain_read_head(const ssp_chain *c, ssp_txn *rt, ssp_head *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_txn_get(rt, c->t_meta, k_head, sizeof k_head - 1, &v, &vl);
	return rc ? rc : head_decode(out, v, vl);
}

int ssp_chain_read_account(const ssp_chain *c, ssp_txn *rt, const ssp_addr *a, ssp_account *out)
{
	uint8_t k[1 + SSP_ADDR_LEN];
	const void *v;
	size_t vl;
	k[0] = SSP_TB_ACCOUNT;
	memcpy(k + 1, a->b, SSP_ADDR_LEN);
	int rc = ssp_txn_get(rt, c->t_state, k, sizeof k, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		memset(out, 0, sizeof *out);
		return 0;
	}
	return rc ? rc : ssp_account_decode(out, v, vl);
}

int ssp_chain_read_supply(const ssp_chain *c, ssp_txn *rt, ssp_supply *out)
{
	static const uint8_t k[] = {SSP_TB_META, 's', 'u', 'p', 'p', 'l', 'y'};
	const void *v;
	size_t vl;
	int rc = ssp_txn_get(rt, c->t_state, k, sizeof k, &v, &vl);
	if (rc) return rc;
	rc = ssp_supply_decode(v, vl, &out->locked, &out->pool);
	if (rc) return rc;
	out->total = SSP_TOTAL_SUPPLY;
	if (out->locked + out->pool > out->total) return SSP_ERR_SUPPLY;
	out->circulating = out->total - out->locked - out->pool;
	return 0;
}

int ssp_chain_read_block(const ssp_chain *c, ssp_txn *rt, uint64_t height, const uint8_t **raw,
                         size_t *n)
{
	uint8_t k[8];
	const void *v;
	ssp_be64_put(k, height);
	int rc = ssp_txn_get(rt, c->t_blocks, k, 8, &v, n);
	if (!rc) *raw = v;
	return rc;
}

int ssp_chain_read_block_height(const ssp_chain *c, ssp_txn *rt, const ssp_hash *id,
                                uint64_t *height)
{
	const void *v;
	size_t vl;
	int rc = ssp_txn_get(rt, c->t_blockid, id->b, 32, &v, &vl);
	if (rc) return rc;
	if (vl != 8) return SSP_ERR_DBCORRUPT;
	*height = ssp_be64_get(v);
	return 0;
}

int ssp_chain_read_txloc(const ssp_chain *c, ssp_txn *rt, const ssp_hash *txid, uint64_t *height,
                         uint32_t *index)
{
	const void *v;
	size_t vl;
	int rc = ssp_txn_get(rt, c->t_txidx, txid->b, 32, &v, &vl);
	if (rc) return rc;
	if (vl != 12) return SSP_ERR_DBCORRUPT;
	const uint8_t *p = v;
	*height = ssp_be64_get(p);
	*index = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	return 0;
}

int ssp_chain_read_receipt(const ssp_chain *c, ssp_txn *rt, uint64_t height, uint32_t index,
                           ssp_receipt *out)
{
	uint8_t k[8];
	const void *v;
	size_t vl, rl = 0;
	ssp_rd r;
	ssp_be64_put(k, height);
	int rc = ssp_txn_get(rt, c->t_rcpts, k, 8, &v, &vl);
	if (rc) return rc;
	ssp_rd_init(&r, v, vl);
	uint32_t n = ssp_rd_u32(&r);
	if (r.err || index >= n) return SSP_ERR_NOTFOUND;
	const uint8_t *p = NULL;
	for (uint32_t i = 0; i <= index; i++)
		p = ssp_rd_bytes(&r, vl, &rl);
	if (r.err) return SSP_ERR_DBCORRUPT;
	return ssp_receipt_decode(out, p, rl);
}

typedef struct {
	uint8_t table;
	bool ended; /* left the table: not the callback's stop */
	ssp_txn_visit fn;
	void *arg;
} table_scan;

static int table_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	table_scan *s = arg;
	const uint8_t *key = k;
	if (kl == 0 || key[0] != s->table) {
		s->ended = true;
		return 1;
	}
	return s->fn(s->arg, key + 1, kl - 1, v, vl);
}

int ssp_chain_state_scan(const ssp_chain *c, ssp_txn *rt, uint8_t table, const void *start,
                         size_t slen, ssp_txn_visit fn, void *arg)
{
	uint8_t k[1 + SSP_STATE_KEY_MAX];
	table_scan s = {.table = table, .fn = fn, .arg = arg};
	if (!start) slen = 0;
	if (slen > SSP_STATE_KEY_MAX) return SSP_ERR_TOOBIG;
	k[0] = table;
	if (slen) memcpy(k + 1, start, slen);
	int rc = ssp_txn_scan(rt, c->t_state, k, 1 + slen, table_visit, &s);
	return s.ended ? 0 : rc;
}

typedef struct {
	uint64_t sum, locked_accounts, locked_entries;
	int err;
} supply_scan;

static int supply_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	supply_scan *s = arg;
	const uint8_t *key = k;
	if (key[0] == SSP_TB_ACCOUNT) {
		ssp_account a;
		if (ssp_account_decode(&a, v, vl) || ssp_add_u64(&s->sum, s->sum, a.balance) ||
		    ssp_add_u64(&s->sum, s->sum, a.locked) ||
		    ssp_add_u64(&s->locked_accounts, s->locked_accounts, a.locked)) {
			s->err = SSP_ERR_SUPPLY;
			return 1;
		}
	} else if (key[0] == SSP_TB_LOCK) {
		if (vl != 8 ||
		    ssp_add_u64(&s->locked_entries, s->locked_entries, ssp_le64_get(v))) {
			s->err = SSP_ERR_SUPPLY;
			return 1;
		}
	}
	(void)kl;
	return 0;
}

int ssp_chain_check_supply(const ssp_chain *c, ssp_txn *rt)
{
	supply_scan s = {0};
	ssp_supply sup;
	int rc = ssp_chain_read_supply(c, rt, &sup);
	if (rc) return rc;
	rc = ssp_txn_scan(rt, c->t_state, NULL, 0, supply_visit, &s);
	if (rc == 1) rc = s.err;
	if (rc) return rc;
	uint64_t total;
	if (ssp_add_u64(&total, s.sum, sup.pool) || total != SSP_TOTAL_SUPPLY ||
	    s.locked_accounts != sup.locked || s.locked_entries != sup.locked)
		return SSP_ERR_SUPPLY;
	return 0;
}
