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
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "genesis_internal.h"
#include "mempool_internal.h"
#include "state_internal.h"

#define LOG "chain"

static const char k_head[] = "head", k_genesis[] = "genesis", k_signed[] = "signed_slot",
                  k_vote[] = "bft_vote";
#define VOTE_REC_MAX (32 * 1024)

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

const char *const *ssp_chain_tables(size_t *n)
{
	static const char *const names[] = {"state", "meta", "blocks", "blockid",
	                                    "txidx", "receipts", "smt", "undo"};
	*n = sizeof names / sizeof *names;
	return names;
}

void ssp_chain_set_keep_undo(ssp_chain *c, bool on)
{
	c->keep_undo = on;
}

void ssp_chain_set_exec_budget(ssp_chain *c, uint64_t us)
{
	c->exec_budget_us = us;
}

int ssp_chain_set_sender_hooks(ssp_chain *c, const ssp_sender_hook *hooks, size_t n)
{
	if (n > CHAIN_MAX_HOOKS) return SSP_ERR_RANGE;
	memcpy(c->hooks, hooks, n * sizeof *hooks);
	c->nhooks = n;
	return 0;
}

int ssp_chain_set_block_hooks(ssp_chain *c, const ssp_block_hook *hooks, size_t n)
{
	if (n > CHAIN_MAX_HOOKS) return SSP_ERR_RANGE;
	memcpy(c->bhooks, hooks, n * sizeof *hooks);
	c->nbhooks = n;
	return 0;
}

int chain_check_invariants(ssp_chain *c)
{
	ssp_txn *rt;
	int rc = ssp_store_read(c->store, &rt);
	if (rc) return rc;
	rc = ssp_chain_check_supply(c, rt);
	for (size_t i = 0; i < c->nbhooks && !rc; i++)
		if (c->bhooks[i].check) rc = c->bhooks[i].check(c->bhooks[i].mod, c, rt);
	/* the stored tree against a root recomputed from every entry */
	if (!rc) rc = ssp_chain_check_state_root(c, rt, NULL);
	ssp_txn_end(rt);
	return rc;
}

int ssp_chain_check_sender(const ssp_chain *c, ssp_state *st, const ssp_account *acc,
                           const ssp_tx *tx)
{
	if (!acc->restricted) return 0;
	for (size_t i = 0; i < c->nhooks; i++) {
		int rc = c->hooks[i].check(c->hooks[i].mod, st, tx);
		if (rc) return rc;
	}
	return 0;
}

void ssp_chain_set_workpool(ssp_chain *c, ssp_workpool *pool)
{
	c->pool = pool;
}

int ssp_chain_fatal(const ssp_chain *c)
{
	return c->fatal;
}

void chain_assert_owner(ssp_chain *c)
{
#ifdef SSP_DEBUG
	if (!c->has_owner) {
		c->owner = pthread_self();
		c->has_owner = true;
	}
	/* a second thread changing the chain is a wiring bug (see ssp/chain.h) */
	assert(pthread_equal(c->owner, pthread_self()));
#else
	(void)c;
#endif
}

/* ------------------------------------------------------------ consensus */

/* The default: the single genesis producer signs every slot; final = head. */
static int single_producer(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
                           ssp_pubkey *key)
{
	(void)ctx;
	(void)parent;
	(void)slot;
	*key = *ssp_genesis_producer_key(c->g);
	return 0;
}

static uint64_t single_finalized(void *ctx, const ssp_chain *c, const ssp_head *head)
{
	(void)ctx;
	(void)c;
	return head->height;
}

void ssp_chain_set_consensus(ssp_chain *c, const ssp_consensus *cs)
{
	chain_assert_owner(c);
	c->cons = *cs;
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

void chain_head_encode(uint8_t out[96], const ssp_head *h)
{
	ssp_le64_put(out, h->height);
	memcpy(out + 8, h->id.b, 32);
	memcpy(out + 40, h->state_root.b, 32);
	ssp_le64_put(out + 72, h->timestamp_ms);
	ssp_le64_put(out + 80, h->slot);
	ssp_le64_put(out + 88, h->finalized);
}

int chain_head_decode(ssp_head *h, const void *p, size_t n)
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
	return rc ? rc : genesis_dpos_state(g, st);
}

int chain_state_root(ssp_chain *c, ssp_txn *t, ssp_state *st, ssp_hash *root, uint32_t *nkeys,
                     uint64_t *ops)
{
	smt_item *items;
	size_t n;
	int rc = ssp_state_smt_items(st, &items, &n);
	if (rc) return rc;
	rc = ssp_smt_update(t, c->t_smt, items, n, root, ops);
	if (nkeys) *nkeys = (uint32_t)n;
	free(items);
	return rc;
}

int chain_put_block(ssp_chain *c, ssp_txn *t, const ssp_header *h, const uint8_t *raw, size_t n)
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
	ssp_buf b;
	int rc;
	ssp_buf_init(&b, 1 << 20);
	rc = ssp_store_write(c->store, &t);
	if (rc) goto out;
	rc = ssp_state_new(&st, t, c->t_state);
	if (rc) goto out;
	memset(&h, 0, sizeof h);
	rc = genesis_state(c, st);
	if (!rc) rc = chain_state_root(c, t, st, &h.state_root, NULL, NULL);
	if (rc) goto out;
	h.timestamp_ms = c->g->time_ms;
	h.producer = c->g->producer;
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
	chain_head_encode(hv, &c->head);
	if ((rc = ssp_state_flush(st)) || (rc = chain_put_block(c, t, &h, b.data, b.len)) ||
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

static int check_head(const ssp_chain *c, ssp_txn *rt, const ssp_head *h);

/*
 * The state tree's root must be the head's state root. A datadir written
 * before the Merkle root (issue 10) has state but no tree: another version.
 */
static int check_tree_root(const ssp_chain *c, ssp_txn *rt, const ssp_head *h)
{
	ssp_hash root;
	int rc = ssp_smt_root(rt, c->t_smt, &root);
	if (rc) return rc;
	if (!memcmp(root.b, h->state_root.b, 32)) return 0;
	if (ssp_hash_is_zero(&root)) {
		SSP_LOGE(LOG, "the datadir has no state tree: it was written by a version before the "
		         "Merkle state root: remove its chain.mdb and start again (--reinit) or sync anew");
		return SSP_ERR_DBVERSION;
	}
	SSP_LOGE(LOG, "database corrupt at height %llu: the state tree's root is not the head's",
	         (unsigned long long)h->height);
	return SSP_ERR_DBCORRUPT;
}

/*
 * meta "signed_slot": the producer's watermark, u64 LE slot ‖ the id of the
 * block this datadir's producer signed at that slot ‖ the first 8 bytes of
 * SHA-256 of those 40 (48 bytes; versions before wrote the slot alone, 8
 * bytes). The id ties the record to the chain, the checksum covers what
 * the chain cannot: a block popped by a branch switch since it was signed
 * is no longer there to compare with (check_meta).
 */
static void signed_slot_record(uint8_t v[48], uint64_t slot, const ssp_hash *id)
{
	ssp_hash h;
	ssp_le64_put(v, slot);
	memcpy(v + 8, id->b, 32);
	ssp_sha256(&h, v, 40);
	memcpy(v + 40, h.b, 8);
}

static int count_one(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(uint64_t *)arg)++;
	return 1;
}

/* The header of the block stored at height (checked against its id). */
static int stored_header(const ssp_chain *c, ssp_txn *rt, uint64_t height, ssp_header *hd)
{
	const uint8_t *raw;
	size_t n;
	ssp_rd r;
	int rc = ssp_chain_read_block(c, rt, height, &raw, &n);
	if (rc == SSP_ERR_NOTFOUND) rc = SSP_ERR_DBCORRUPT;
	if (rc) return rc;
	ssp_rd_init(&r, raw, n);
	return ssp_header_read(hd, &r) ? SSP_ERR_DBCORRUPT : 0;
}

typedef struct {
	bool unknown;
} meta_scan;

static int meta_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	static const struct {
		const char *key;
		size_t len, len2;
	} known[] = {{k_genesis, 32, 32}, {k_head, 96, 96}, {k_signed, 8, 48}};
	meta_scan *m = arg;
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (kl == strlen(known[i].key) && !memcmp(k, known[i].key, kl))
			return vl == known[i].len || vl == known[i].len2 ? 0 : (m->unknown = true);
	if (kl == sizeof k_vote - 1 && !memcmp(k, k_vote, kl)) {
		/* the consensus layer's vote record: payload ‖ 8 bytes of its SHA-256 */
		ssp_hash d;
		if (vl <= 8 || vl > VOTE_REC_MAX) return (m->unknown = true);
		ssp_sha256(&d, v, vl - 8);
		return memcmp(d.b, (const uint8_t *)v + vl - 8, 8) ? (m->unknown = true) : 0;
	}
	m->unknown = true;
	return 1;
}

/*
 * The meta table holds exactly its known records, each of its size (an
 * altered key would make a record read as absent: a signing watermark of
 * 0), and the signing watermark is intact (its checksum) and consistent
 * with the chain: if the block it names is stored, that block has its
 * slot. (A block popped by a branch switch since it was signed is not
 * stored: the checksum is all there is.) A watermark of the older 8-byte
 * form has nothing to be checked against.
 */
static int check_meta(const ssp_chain *c, ssp_txn *rt, const ssp_head *h)
{
	meta_scan m = {0};
	const void *v;
	size_t vl;
	const char *why = NULL;
	ssp_header hd;
	int rc = ssp_txn_scan(rt, c->t_meta, NULL, 0, meta_visit, &m);
	if (rc > 0) rc = 0;
	if (rc) return rc;
	if (m.unknown) {
		why = "the meta table holds an unknown or misshapen record";
		goto out;
	}
	rc = ssp_txn_get(rt, c->t_meta, k_signed, sizeof k_signed - 1, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND || (!rc && vl != 48)) return 0;
	if (rc) return rc;
	uint8_t rec[48], want[48];
	uint64_t height;
	ssp_hash id;
	memcpy(rec, v, sizeof rec);
	const uint64_t slot = ssp_le64_get(rec);
	memcpy(id.b, rec + 8, 32);
	signed_slot_record(want, slot, &id);
	if (memcmp(want, rec, sizeof rec)) {
		why = "the signing watermark does not match its checksum";
		goto out;
	}
	rc = ssp_chain_read_block_height(c, rt, &id, &height);
	if (rc == SSP_ERR_NOTFOUND) return 0; /* popped since */
	if (!rc && height > h->height) rc = SSP_ERR_DBCORRUPT;
	if (!rc) rc = stored_header(c, rt, height, &hd);
	if (!rc && (memcmp(hd.id.b, id.b, 32) || hd.slot != slot))
		why = "the signing watermark's slot is not its block's";
	if (rc == SSP_ERR_DBCORRUPT) why = "the signing watermark names a damaged block";
out:
	if (why) {
		SSP_LOGE(LOG, "database corrupt at height %llu: %s", (unsigned long long)h->height,
		         why);
		return SSP_ERR_DBCORRUPT;
	}
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
	c->cons = (ssp_consensus){.producer = single_producer, .finalized = single_finalized};
	c->exec_budget_us = g->params.block_interval_ms * 500u; /* half the interval */
#ifdef SSP_DEBUG
	c->check_invariants = true;
#endif
	c->types[c->ntypes++] = (ssp_txreg){.type = &ssp_transfer_type};
	for (size_t i = 0; i < ntypes; i++) {
		if (c->ntypes == CHAIN_MAX_TYPES || ssp_chain_txtype(c, types[i].type->id)) {
			rc = SSP_ERR_INVAL; /* duplicate id: a wiring bug */
			goto fail;
		}
		c->types[c->ntypes++] = types[i];
	}
	/* the order of ssp_chain_tables */
	if ((rc = ssp_store_table(store, "state", &c->t_state)) ||
	    (rc = ssp_store_table(store, "meta", &c->t_meta)) ||
	    (rc = ssp_store_table(store, "blocks", &c->t_blocks)) ||
	    (rc = ssp_store_table(store, "blockid", &c->t_blockid)) ||
	    (rc = ssp_store_table(store, "txidx", &c->t_txidx)) ||
	    (rc = ssp_store_table(store, "receipts", &c->t_rcpts)) ||
	    (rc = ssp_store_table(store, "smt", &c->t_smt)) ||
	    (rc = ssp_store_table(store, "undo", &c->t_undo)))
		goto fail;
	rc = ssp_store_read(store, &rt);
	if (rc) goto fail;
	rc = ssp_txn_get(rt, c->t_meta, k_genesis, sizeof k_genesis - 1, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		/* a new database, unless anything is stored: then the record's key was altered,
		 * and initialising would write a new genesis head over the chain */
		uint64_t n = 0;
		rc = ssp_txn_scan(rt, c->t_meta, NULL, 0, count_one, &n);
		if (!rc) rc = ssp_txn_scan(rt, c->t_blocks, NULL, 0, count_one, &n);
		if (rc < 0) goto fail;
		if (n) {
			SSP_LOGE(LOG, "database corrupt: it holds a chain but no genesis record");
			rc = SSP_ERR_DBCORRUPT;
			goto fail;
		}
		ssp_txn_end(rt);
		rt = NULL;
		rc = init_genesis(c);
		if (rc) goto fail;
	} else if (rc) {
		goto fail;
	} else {
		if (vl != 32 || memcmp(v, g->hash.b, 32)) {
			SSP_LOGE(LOG, "the datadir holds another chain (genesis hash differs), or its "
			         "genesis record is damaged");
			rc = SSP_ERR_DBVERSION;
			goto fail;
		}
		rc = ssp_txn_get(rt, c->t_meta, k_head, sizeof k_head - 1, &v, &vl);
		if (rc == SSP_ERR_NOTFOUND) rc = SSP_ERR_DBCORRUPT; /* a genesis but no head */
		if (!rc) rc = chain_head_decode(&c->head, v, vl);
		if (rc == SSP_ERR_DBCORRUPT) SSP_LOGE(LOG, "database corrupt: the head record");
		if (!rc) rc = check_head(c, rt, &c->head);
		if (!rc) rc = check_tree_root(c, rt, &c->head);
		if (!rc) rc = check_meta(c, rt, &c->head);
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
	if (c) {
		free(c->restricted);
		free(c->bctx);
	}
	free(c);
}

/* ------------------------------------------------------------------ checks */

uint64_t chain_tx_gas(const ssp_chain *c, const ssp_tx *tx)
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
	if (tx->has_pubkey) return ssp_tx_verify(tx, &tx->pubkey);
	ssp_account a;
	int rc = ssp_chain_read_account(c, rt, &tx->from, &a);
	if (rc) return rc;
	if (!a.has_key) return SSP_ERR_NOKEY;
	return ssp_tx_verify(tx, &a.key);
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
	return rc ? rc : chain_head_decode(out, v, vl);
}

int chain_signed_slot_put(ssp_chain *c, ssp_txn *t, uint64_t slot, const ssp_hash *id)
{
	uint8_t v[48];
	signed_slot_record(v, slot, id);
	return ssp_txn_put(t, c->t_meta, k_signed, sizeof k_signed - 1, v, sizeof v);
}

int ssp_chain_write_vote_record(ssp_chain *c, const uint8_t *rec, size_t n)
{
	ssp_txn *t = NULL;
	uint8_t *v;
	ssp_hash d;
	int rc;
	chain_assert_owner(c);
	if (c->fatal) return c->fatal;
	if (n == 0 || n + 8 > VOTE_REC_MAX) return SSP_ERR_TOOBIG;
	if (!(v = ssp_malloc(n + 8))) return SSP_ERR_NOMEM;
	memcpy(v, rec, n);
	ssp_sha256(&d, rec, n);
	memcpy(v + n, d.b, 8);
	rc = ssp_store_write(c->store, &t);
	if (!rc) rc = ssp_txn_put(t, c->t_meta, k_vote, sizeof k_vote - 1, v, n + 8);
	if (!rc)
		rc = ssp_txn_commit(t);
	else if (t)
		ssp_txn_end(t);
	free(v);
	return rc;
}

int ssp_chain_read_vote_record(const ssp_chain *c, ssp_txn *rt, uint8_t **out, size_t *n)
{
	const void *v;
	size_t vl;
	ssp_hash d;
	*out = NULL;
	*n = 0;
	int rc = ssp_txn_get(rt, c->t_meta, k_vote, sizeof k_vote - 1, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) return 0;
	if (rc) return rc;
	if (vl <= 8 || vl > VOTE_REC_MAX) return SSP_ERR_DBCORRUPT;
	ssp_sha256(&d, v, vl - 8);
	if (memcmp(d.b, (const uint8_t *)v + vl - 8, 8)) return SSP_ERR_DBCORRUPT;
	if (!(*out = ssp_malloc(vl - 8))) return SSP_ERR_NOMEM;
	memcpy(*out, v, vl - 8);
	*n = vl - 8;
	return 0;
}

int ssp_chain_advance_final(ssp_chain *c, uint64_t height)
{
	ssp_txn *t = NULL;
	uint8_t hv[96];
	chain_assert_owner(c);
	if (c->fatal) return c->fatal;
	if (height <= c->head.finalized || height > c->head.height) return 0;
	ssp_head nh = c->head;
	nh.finalized = height;
	chain_head_encode(hv, &nh);
	int rc = ssp_store_write(c->store, &t);
	if (!rc && !c->keep_undo) rc = chain_undo_prune(c, t, nh.finalized);
	if (!rc) rc = ssp_txn_put(t, c->t_meta, k_head, sizeof k_head - 1, hv, sizeof hv);
	if (!rc)
		rc = ssp_txn_commit(t);
	else if (t)
		ssp_txn_end(t);
	if (!rc) c->head = nh;
	return rc;
}

int ssp_chain_read_signed_slot(const ssp_chain *c, ssp_txn *rt, uint64_t *slot)
{
	const void *v;
	size_t vl;
	int rc = ssp_txn_get(rt, c->t_meta, k_signed, sizeof k_signed - 1, &v, &vl);
	*slot = 0;
	if (rc == SSP_ERR_NOTFOUND) return 0;
	if (rc) return rc;
	if (vl != 8 && vl != 48) return SSP_ERR_DBCORRUPT;
	*slot = ssp_le64_get(v);
	return 0;
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

/*
 * Checks stored block bytes against their id: a header and a list of tx
 * byte strings with nothing after them, carrying the height they are
 * stored under, the block the id index names for that height, holding
 * exactly the txs their tx_root commits to. A header altered on disk
 * changes its id (not in the index); altered txs change their txids
 * (SHA-256 of their bytes), so the root. The txs' fields are not decoded:
 * the block was fully checked when it was committed, and decoding them
 * (every pubkey's point validation) cost ~75 us a tx on each read — 300 ms
 * of the loop per 4,000-tx block served to a peer. Any mismatch is
 * SSP_ERR_DBCORRUPT, logged with the height.
 */
static int check_stored_block(const ssp_chain *c, ssp_txn *rt, uint64_t height, const uint8_t *raw,
                              size_t n, ssp_hash *id)
{
	ssp_header hdr;
	ssp_hash *leaves = NULL, root;
	const void *v;
	size_t vl;
	const char *why = NULL;
	ssp_rd r;
	uint32_t ntx = 0;
	int rc;
	ssp_rd_init(&r, raw, n);
	rc = ssp_header_read(&hdr, &r);
	if (!rc) {
		ntx = ssp_rd_u32(&r);
		rc = r.err;
	}
	/* each tx needs at least its 4-byte length: bound the allocation by the input */
	if (rc || ntx > (n - r.off) / 4) {
		why = "block does not decode";
		goto out;
	}
	if (hdr.height != height) {
		why = "block stored under another height";
		goto out;
	}
	rc = ssp_txn_get(rt, c->t_blockid, hdr.id.b, 32, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND || (!rc && (vl != 8 || ssp_be64_get(v) != height))) {
		why = "block id not in the id index";
		goto out;
	}
	if (rc) goto out;
	if (ntx) {
		leaves = ssp_malloc(ntx * sizeof *leaves);
		if (!leaves) {
			rc = SSP_ERR_NOMEM;
			goto out;
		}
		for (uint32_t i = 0; i < ntx; i++) {
			size_t tl;
			const uint8_t *tp = ssp_rd_bytes(&r, SSP_TX_MAX, &tl);
			if (r.err) break;
			ssp_sha256(&leaves[i], tp, tl); /* the txid */
		}
		if (r.err) {
			why = "block does not decode";
			goto out;
		}
		ssp_merkle_root_inplace(&root, leaves, ntx);
	} else {
		memset(&root, 0, sizeof root);
	}
	if (ssp_rd_end(&r)) {
		why = "block does not decode";
		goto out;
	}
	if (memcmp(root.b, hdr.tx_root.b, 32)) {
		why = "transactions do not match the tx root";
		goto out;
	}
	if (id) *id = hdr.id;
out:
	if (why) {
		SSP_LOGE(LOG, "database corrupt at height %llu: %s", (unsigned long long)height,
		         why);
		rc = SSP_ERR_DBCORRUPT;
	} else if (rc == SSP_ERR_DBCORRUPT) {
		SSP_LOGE(LOG, "database corrupt at height %llu", (unsigned long long)height);
	}
	free(leaves);
	return rc;
}

int ssp_chain_read_block(const ssp_chain *c, ssp_txn *rt, uint64_t height, const uint8_t **raw,
                         size_t *n)
{
	uint8_t k[8];
	const void *v;
	ssp_be64_put(k, height);
	int rc = ssp_txn_get(rt, c->t_blocks, k, 8, &v, n);
	if (rc == SSP_ERR_NOTFOUND) {
		/* a block at or below the head cannot be missing: its key was altered */
		ssp_head h;
		int hr = ssp_chain_read_head(c, rt, &h);
		if (hr) return hr == SSP_ERR_NOTFOUND ? SSP_ERR_DBCORRUPT : hr;
		if (height <= h.height) {
			SSP_LOGE(LOG, "database corrupt at height %llu: block missing",
			         (unsigned long long)height);
			return SSP_ERR_DBCORRUPT;
		}
		return rc;
	}
	if (rc == SSP_ERR_DBCORRUPT)
		SSP_LOGE(LOG, "database corrupt at height %llu", (unsigned long long)height);
	if (!rc) rc = check_stored_block(c, rt, height, v, *n, NULL);
	if (!rc) *raw = v;
	return rc;
}

/* The head record must name the block stored at its height (open, and --verify-db). */
static int check_head(const ssp_chain *c, ssp_txn *rt, const ssp_head *h)
{
	const uint8_t *raw;
	size_t n;
	ssp_header hd;
	ssp_rd r;
	int rc = ssp_chain_read_block(c, rt, h->height, &raw, &n);
	if (rc == SSP_ERR_NOTFOUND) rc = SSP_ERR_DBCORRUPT;
	if (rc) return rc;
	ssp_rd_init(&r, raw, n);
	rc = ssp_header_read(&hd, &r);
	if (rc || memcmp(hd.id.b, h->id.b, 32) || memcmp(hd.state_root.b, h->state_root.b, 32) ||
	    hd.timestamp_ms != h->timestamp_ms || hd.slot != h->slot || h->finalized > h->height) {
		SSP_LOGE(LOG,
		         "database corrupt at height %llu: the head record differs from the block",
		         (unsigned long long)h->height);
		return SSP_ERR_DBCORRUPT;
	}
	/* nothing may be stored above the head */
	uint8_t k[8];
	const void *v;
	size_t vl;
	ssp_be64_put(k, h->height + 1);
	rc = ssp_txn_get(rt, c->t_blocks, k, 8, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) return 0;
	if (!rc) {
		SSP_LOGE(LOG, "database corrupt at height %llu: a block is stored above the head",
		         (unsigned long long)h->height);
		rc = SSP_ERR_DBCORRUPT;
	}
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

int ssp_chain_read_receipts_raw(const ssp_chain *c, ssp_txn *rt, uint64_t height,
                                const uint8_t **raw, size_t *len)
{
	uint8_t k[8];
	const void *v;
	ssp_be64_put(k, height);
	int rc = ssp_txn_get(rt, c->t_rcpts, k, 8, &v, len);
	*raw = rc ? NULL : v;
	return rc;
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
	rc = r.err ? SSP_ERR_DBCORRUPT : ssp_receipt_decode(out, p, rl);
	if (rc && rc != SSP_ERR_NOMEM) {
		/* stored receipts were encoded by this node: one that does not decode was altered
		 */
		SSP_LOGE(LOG, "database corrupt at height %llu: receipt %u does not decode",
		         (unsigned long long)height, index);
		rc = SSP_ERR_DBCORRUPT;
	}
	return rc;
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

/* ------------------------------------------------------------ state proofs */

int ssp_chain_prove(const ssp_chain *c, ssp_txn *rt, uint8_t table, const void *key, size_t klen,
                    ssp_head *head, const void **val, size_t *vlen, ssp_buf *proof)
{
	uint8_t k[1 + SSP_STATE_KEY_MAX];
	ssp_hash path, root;
	ssp_sproof *p;
	*val = NULL;
	*vlen = 0;
	if (klen > SSP_STATE_KEY_MAX) return SSP_ERR_TOOBIG;
	int rc = ssp_chain_read_head(c, rt, head);
	if (!rc) rc = ssp_smt_root(rt, c->t_smt, &root);
	if (rc) return rc;
	if (memcmp(root.b, head->state_root.b, 32)) {
		SSP_LOGE(LOG, "database corrupt at height %llu: the state tree's root is not the head's",
		         (unsigned long long)head->height);
		return SSP_ERR_DBCORRUPT;
	}
	k[0] = table;
	if (klen) memcpy(k + 1, key, klen);
	rc = ssp_txn_get(rt, c->t_state, k, klen + 1, val, vlen);
	if (rc == SSP_ERR_NOTFOUND) {
		*val = NULL;
		*vlen = 0;
		rc = 0;
	}
	if (rc) return rc;
	p = ssp_malloc(sizeof *p);
	if (!p) return SSP_ERR_NOMEM;
	ssp_smt_path(&path, k, klen + 1);
	rc = ssp_smt_prove(rt, c->t_smt, &path, p);
	if (!rc && (p->kind == SSP_SPROOF_PRESENT) != (*val != NULL)) rc = SSP_ERR_DBCORRUPT;
	if (!rc && *val) {
		ssp_hash vh;
		ssp_smt_value_hash(&vh, *val, *vlen);
		if (memcmp(vh.b, p->value_hash.b, 32)) rc = SSP_ERR_DBCORRUPT;
	}
	if (rc == SSP_ERR_DBCORRUPT)
		SSP_LOGE(LOG, "database corrupt at height %llu: a state entry differs from its tree leaf",
		         (unsigned long long)head->height);
	if (!rc) {
		ssp_sproof_encode(proof, p);
		rc = proof->err;
	}
	free(p);
	return rc;
}

typedef struct {
	smt_item *v;
	size_t n, cap;
	int err;
} leaf_scan;

static int leaf_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	leaf_scan *s = arg;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		smt_item *nv = ssp_realloc(s->v, nc * sizeof *nv);
		if (!nv) {
			s->err = SSP_ERR_NOMEM;
			return 1;
		}
		s->v = nv;
		s->cap = nc;
	}
	smt_item *it = &s->v[s->n++];
	ssp_smt_path(&it->path, k, kl);
	ssp_smt_value_hash(&it->vhash, v, vl);
	it->del = false;
	return 0;
}

int ssp_chain_check_state_root(const ssp_chain *c, ssp_txn *rt, uint64_t *entries)
{
	leaf_scan s = {0};
	ssp_head h;
	ssp_hash want, stored;
	int rc = ssp_chain_read_head(c, rt, &h);
	if (!rc) rc = ssp_smt_root(rt, c->t_smt, &stored);
	if (!rc) rc = ssp_txn_scan(rt, c->t_state, NULL, 0, leaf_visit, &s);
	if (rc == 1) rc = s.err;
	if (!rc) {
		qsort(s.v, s.n, sizeof *s.v, ssp_smt_item_cmp);
		ssp_smt_root_of(&want, s.v, s.n);
		if (memcmp(want.b, stored.b, 32) || memcmp(want.b, h.state_root.b, 32)) {
			SSP_LOGE(LOG,
			         "database corrupt at height %llu: the state root recomputed from %zu "
			         "entries differs from the %s",
			         (unsigned long long)h.height, s.n,
			         memcmp(want.b, h.state_root.b, 32) ? "head's" : "stored tree's");
			rc = SSP_ERR_DBCORRUPT;
		}
	}
	if (entries) *entries = s.n;
	free(s.v);
	return rc;
}
