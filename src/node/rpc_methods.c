/*
 * rpc_methods.c — the node's JSON-RPC methods (node layer). Handlers run
 * on RPC threads: they read committed state through LMDB read txns and
 * reach loop-owned state (mempool) only through jobs. Submitted
 * transactions are decoded and signature-checked here, in parallel on the
 * verify pool, so the loop only does the stateful admission.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

#define MAX_BATCH_TXS 10000

static json_t *jhex(const void *p, size_t n)
{
	char stackbuf[256];
	char *s = 2 * n + 1 <= sizeof stackbuf ? stackbuf : malloc(2 * n + 1);
	if (!s) return NULL;
	ssp_hex_encode(s, p, n);
	json_t *j = json_string(s);
	if (s != stackbuf) free(s);
	return j;
}

static json_t *jamount(uint64_t v)
{
	char s[SSP_AMOUNT_STR];
	ssp_amount_format(s, sizeof s, v, SSP_DECIMALS);
	return json_string(s);
}

static json_t *jaddr(const ssp_node *n, const ssp_addr *a)
{
	char s[96];
	ssp_addr_encode(s, sizeof s, ssp_genesis_hrp(n->genesis), a);
	return json_string(s);
}

/* Altered data on disk also stops the node (ssp_node_corrupt): it must not serve it. */
static int fail_err(ssp_node *n, ssp_rpc_error *err, int rc)
{
	if (rc == SSP_ERR_DBCORRUPT) ssp_node_corrupt(n);
	if (rc == SSP_ERR_BUSY) return ssp_rpc_fail(err, SSP_RPC_BUSY, "node busy, retry");
	if (rc == SSP_ERR_NOTFOUND) return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "not found");
	return ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "internal error: %s", ssp_strerror(rc));
}

static int tx_rejected(ssp_rpc_error *err, int rc)
{
	ssp_rpc_fail(err, SSP_RPC_TX_REJECTED, "transaction rejected: %s", ssp_strerror(rc));
	err->data = json_pack("{s:s, s:s}", "error", ssp_errname(rc), "reason", ssp_strerror(rc));
	return -1;
}

/* params must be an object (absent counts as empty). */
static int obj_params(json_t *params, ssp_rpc_error *err)
{
	if (params && !json_is_object(params))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "params must be an object");
	return 0;
}

static int hash_param(json_t *params, const char *key, ssp_hash *out, ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (!json_is_string(v) ||
	    ssp_hex_decode(out->b, 32, json_string_value(v), json_string_length(v)))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "%s must be 64 hex characters",
		                    key);
	return 0;
}

/* ---------------------------------------------------------------- chain_ */

static int m_chain_getInfo(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	ssp_head h;
	job j = {.kind = JOB_MEMPOOL_INFO};
	if (obj_params(params, err)) return -1;
	int rc = ssp_store_read(n->store, &rt);
	if (rc) return fail_err(n, err, rc);
	rc = ssp_chain_read_head(n->chain, rt, &h);
	ssp_txn_end(rt);
	if (rc) return fail_err(n, err, rc);
	rc = ssp_node_job(n, &j);
	if (rc) return fail_err(n, err, rc);
	const ssp_params *p = ssp_genesis_params(n->genesis);
	*res = json_pack(
	    "{s:s, s:s, s:s, s:o, s:I, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:{s:I, s:I}, "
	    "s:s, s:b}",
	    "chain_id", ssp_genesis_chain_id(n->genesis), "network",
	    ssp_genesis_network(n->genesis), "hrp", ssp_genesis_hrp(n->genesis), "genesis_hash",
	    jhex(ssp_genesis_hash(n->genesis)->b, 32), "height", (json_int_t)h.height, "head_id",
	    jhex(h.id.b, 32), "head_time", (json_int_t)h.timestamp_ms, "finalized_height",
	    (json_int_t)h.finalized, "time", (json_int_t)ssp_now_ms(), "block_interval_ms",
	    (json_int_t)p->block_interval_ms, "min_fee", jamount(p->min_fee), "fee_per_byte",
	    jamount(p->fee_per_byte), "mempool", "count", (json_int_t)j.count, "bytes",
	    (json_int_t)j.bytes, "version", SSP_VERSION, "producing", n->producing);
	if (*res) {
		/* contract fees: gas_limit × gas_price on top of the base fee */
		json_object_set_new(*res, "gas_price", jamount(p->gas_price));
		json_object_set_new(*res, "max_block_gas",
		                    json_integer((json_int_t)p->max_block_gas));
		/* what token_create moves to the pool on top of the fee */
		json_object_set_new(*res, "token_create_fee", jamount(p->token_create_fee));
		if (n->net) json_object_set_new(*res, "sync", ssp_node_sync_json(n));
		json_object_set_new(*res, "consensus", ssp_node_consensus_json(n));
	}
	return *res ? 0 : fail_err(n, err, SSP_ERR_NOMEM);
}

static json_t *tx_json(const ssp_node *n, const ssp_tx *tx)
{
	const ssp_txtype *tt = ssp_chain_txtype(n->chain, tx->type);
	json_t *payload = tt && tt->to_json ? tt->to_json(tx, ssp_genesis_hrp(n->genesis)) : NULL;
	if (!payload) payload = jhex(tx->payload, tx->payload_len);
	json_t *j = json_pack(
	    "{s:o, s:s, s:i, s:o, s:I, s:o, s:I, s:I, s:o}", "txid", jhex(tx->txid.b, 32), "type",
	    tt ? tt->name : "unknown", "type_id", (int)tx->type, "from", jaddr(n, &tx->from),
	    "nonce", (json_int_t)tx->nonce, "fee", jamount(tx->fee), "expiry",
	    (json_int_t)tx->expiry, "size", (json_int_t)tx->raw_len, "payload", payload);
	if (j && tx->has_pubkey) {
		char pk[96];
		ssp_pubkey_text(pk, sizeof pk, &tx->pubkey);
		json_object_set_new(j, "pubkey", json_string(pk));
	}
	return j;
}

static json_t *block_json(const ssp_node *n, const ssp_block *b, bool full)
{
	const ssp_header *h = &b->hdr;
	json_t *txs = json_array();
	for (uint32_t i = 0; txs && i < b->ntx; i++)
		json_array_append_new(txs,
		                      full ? tx_json(n, &b->txs[i]) : jhex(b->txs[i].txid.b, 32));
	return json_pack("{s:o, s:I, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, "
	                 "s:o}",
	                 "id", jhex(h->id.b, 32), "height", (json_int_t)h->height, "prev_id",
	                 jhex(h->prev_id.b, 32), "slot", (json_int_t)h->slot, "timestamp",
	                 (json_int_t)h->timestamp_ms, "producer", jaddr(n, &h->producer), "tx_root",
	                 jhex(h->tx_root.b, 32), "receipts_root", jhex(h->receipts_root.b, 32),
	                 "state_root", jhex(h->state_root.b, 32), "seed_reveal",
	                 jhex(h->seed_reveal, h->seed_len), "finality_qc", jhex(h->qc, h->qc_len),
	                 "signature", jhex(h->sig.b, SSP_SIG_LEN), "size", (json_int_t)b->raw_len,
	                 "tx_count", (json_int_t)b->ntx, "txs", txs);
}

/*
 * The block that params {height} or {id} (or neither: the head) names, read
 * through rt: *raw borrowed until rt ends. 0, or -1 with err set (not found,
 * bad params, or a local failure).
 */
static int block_param(ssp_node *n, json_t *params, ssp_txn *rt, uint64_t *height,
                       const uint8_t **raw, size_t *len, ssp_rpc_error *err)
{
	json_t *jh = params ? json_object_get(params, "height") : NULL;
	json_t *jid = params ? json_object_get(params, "id") : NULL;
	ssp_hash id;
	int rc = 0;
	if (jh && jid)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "give height or id, not both");
	if (jh && (!json_is_integer(jh) || json_integer_value(jh) < 0))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "height must be a non-negative integer");
	if (jid && hash_param(params, "id", &id, err)) return -1;
	if (jh) {
		*height = (uint64_t)json_integer_value(jh);
	} else if (jid) {
		rc = ssp_chain_read_block_height(n->chain, rt, &id, height);
	} else {
		ssp_head h;
		rc = ssp_chain_read_head(n->chain, rt, &h);
		*height = h.height;
	}
	if (!rc) rc = ssp_chain_read_block(n->chain, rt, *height, raw, len);
	if (rc == SSP_ERR_NOTFOUND) return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "no such block");
	return rc ? fail_err(n, err, rc) : 0;
}

static int m_chain_getBlock(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	uint64_t height = 0;
	const uint8_t *raw;
	size_t len;
	ssp_block b;
	if (obj_params(params, err)) return -1;
	json_t *jfull = params ? json_object_get(params, "full") : NULL;
	json_t *jraw = params ? json_object_get(params, "raw") : NULL;
	if (jraw && !json_is_boolean(jraw))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "raw must be a boolean");
	if (jfull && !json_is_boolean(jfull))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "full must be a boolean");
	int rc = ssp_store_read(n->store, &rt);
	if (rc) return fail_err(n, err, rc);
	if (block_param(n, params, rt, &height, &raw, &len, err)) {
		ssp_txn_end(rt);
		return -1;
	}
	rc = ssp_block_decode(&b, raw, len, (size_t)1 << 31);
	if (rc) {
		ssp_txn_end(rt);
		return fail_err(n, err, rc);
	}
	*res = block_json(n, &b, jfull && json_is_true(jfull));
	/* the block's encoded bytes, for followers (and later peers) to import */
	if (*res && jraw && json_is_true(jraw)) json_object_set_new(*res, "raw", jhex(raw, len));
	ssp_block_free(&b);
	ssp_txn_end(rt);
	return *res ? 0 : fail_err(n, err, SSP_ERR_NOMEM);
}

/*
 * A block's header alone: {height, id, raw}, raw its canonical encoding (the
 * block's prefix), so a light client checks a header (its producer's
 * signature, then the roots its proofs name) without fetching the block.
 */
static int m_chain_getHeader(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	uint64_t height = 0;
	const uint8_t *raw;
	size_t len;
	ssp_header h;
	ssp_rd r;
	if (obj_params(params, err)) return -1;
	int rc = ssp_store_read(n->store, &rt);
	if (rc) return fail_err(n, err, rc);
	if (block_param(n, params, rt, &height, &raw, &len, err)) {
		ssp_txn_end(rt);
		return -1;
	}
	ssp_rd_init(&r, raw, len);
	/* a stored block that does not start with its header is altered data */
	rc = ssp_header_read(&h, &r) || h.height != height ? SSP_ERR_DBCORRUPT : 0;
	if (!rc)
		*res = json_pack("{s:I, s:o, s:o}", "height", (json_int_t)h.height, "id",
		                 jhex(h.id.b, 32), "raw", jhex(raw, r.off));
	ssp_txn_end(rt);
	if (rc) return fail_err(n, err, rc);
	return *res ? 0 : fail_err(n, err, SSP_ERR_NOMEM);
}

static int m_chain_getSupply(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	ssp_supply s;
	if (obj_params(params, err)) return -1;
	int rc = ssp_store_read(n->store, &rt);
	if (rc) return fail_err(n, err, rc);
	rc = ssp_chain_read_supply(n->chain, rt, &s);
	ssp_txn_end(rt);
	if (rc) return fail_err(n, err, rc);
	*res =
	    json_pack("{s:o, s:o, s:o, s:o}", "total", jamount(s.total), "circulating",
	              jamount(s.circulating), "locked", jamount(s.locked), "pool", jamount(s.pool));
	return 0;
}

/* -------------------------------------------------------------- account_ */

static int m_account_get(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	ssp_account a;
	job j = {.kind = JOB_ACCOUNT_PENDING};
	if (obj_params(params, err)) return -1;
	json_t *v = params ? json_object_get(params, "address") : NULL;
	if (!json_is_string(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "address must be a string");
	int rc = ssp_addr_decode(&j.addr, ssp_genesis_hrp(n->genesis), json_string_value(v));
	if (rc) return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "address: %s", ssp_strerror(rc));
	rc = ssp_store_read(n->store, &rt);
	if (rc) return fail_err(n, err, rc);
	rc = ssp_chain_read_account(n->chain, rt, &j.addr, &a);
	ssp_txn_end(rt);
	if (rc) return fail_err(n, err, rc);
	rc = ssp_node_job(n, &j);
	if (rc) return fail_err(n, err, rc);
	*res =
	    json_pack("{s:o, s:o, s:o, s:I, s:I}", "address", jaddr(n, &j.addr), "balance",
	              jamount(a.balance), "locked", jamount(a.locked), "nonce", (json_int_t)a.nonce,
	              "pending_nonce", (json_int_t)(j.nonce > a.nonce ? j.nonce : a.nonce));
	if (a.has_key) {
		json_object_set_new(*res, "key_type", json_string(ssp_key_type_name(a.key.type)));
		json_object_set_new(*res, "pubkey", jhex(a.key.b, a.key.len));
	} else {
		json_object_set_new(*res, "key_type", json_null());
		json_object_set_new(*res, "pubkey", json_null());
	}
	if (a.grant_lock_ms)
		json_object_set_new(*res, "grant_lock_ms",
		                    json_integer((json_int_t)a.grant_lock_ms));
	/* a module refuses this account's txs (a revoked device) */
	if (a.restricted) json_object_set_new(*res, "restricted", json_true());
	return 0;
}

/* ------------------------------------------------------------------- tx_ */

typedef struct {
	ssp_node *n;
	json_t *hexes; /* array of strings (borrowed) */
	job_tx *txs;
	uint8_t **bufs;
} prep_ctx;

/* Decodes and checks one submitted tx and verifies its signature (any thread). */
static void prep_one(void *arg, size_t i)
{
	prep_ctx *p = arg;
	job_tx *t = &p->txs[i];
	json_t *h = json_array_get(p->hexes, i);
	ssp_tx *tx = &t->tx; /* kept for the loop, which then skips decode and checks */
	if (!json_is_string(h)) {
		t->err = SSP_ERR_INVAL;
		return;
	}
	size_t hl = json_string_length(h);
	/* Not hex is a malformed parameter (-32602, the one rule for bad params, docs/rpc.md);
	 * hex whose bytes are not an acceptable transaction is a rejection (-32000). */
	if (hl % 2 || hl / 2 > SSP_TX_MAX) {
		t->err = hl % 2 ? SSP_ERR_INVAL : SSP_ERR_TOOBIG;
		return;
	}
	p->bufs[i] = malloc(hl / 2 ? hl / 2 : 1);
	if (!p->bufs[i]) {
		t->err = SSP_ERR_NOMEM;
		return;
	}
	if (ssp_hex_decode(p->bufs[i], hl / 2, json_string_value(h), hl)) {
		t->err = SSP_ERR_INVAL;
		return;
	}
	t->raw = p->bufs[i];
	t->len = hl / 2;
	t->err = ssp_node_tx_precheck(p->n, tx, t->raw, t->len, NULL, &t->verified);
	t->txid = tx->txid;
}

typedef struct {
	job_tx *txs;
	const uint32_t *unverified; /* tx indexes to verify */
	const uint32_t *keyed;      /* per tx index: 1 + the index of the tx carrying its key */
} keyed_ctx;

static void verify_keyed(void *arg, size_t k)
{
	keyed_ctx *c = arg;
	job_tx *t = &c->txs[c->unverified[k]];
	t->err = ssp_tx_verify(&t->tx, &c->txs[c->keyed[c->unverified[k]] - 1].tx.pubkey);
	t->verified = !t->err;
}

/*
 * A batch that brings a new account's first tx (carrying its key) and its next
 * ones: prep_one could not verify the later ones (no key on chain or pending
 * yet). Verified here with the key from the batch, in parallel, so the loop's
 * admission does not verify them one by one.
 */
static void verify_with_batch_keys(ssp_node *n, job_tx *txs, size_t cnt)
{
	size_t cap = 16, nun = 0;
	while (cap < 2 * cnt)
		cap *= 2;
	uint32_t *slot = calloc(cap, sizeof *slot), *keyed = calloc(cnt, sizeof *keyed),
	         *unverified = malloc(cnt * sizeof *unverified);
	if (!slot || !keyed || !unverified) goto out; /* the loop's admission verifies them */
	for (size_t i = 0; i < cnt; i++) {
		job_tx *t = &txs[i];
		if (t->err || t->verified != t->tx.has_pubkey)
			continue; /* (keys, and the unverified) */
		size_t h = ssp_le64_get(t->tx.from.b) & (cap - 1);
		while (slot[h] && memcmp(txs[slot[h] - 1].tx.from.b, t->tx.from.b, SSP_ADDR_LEN))
			h = (h + 1) & (cap - 1);
		if (t->tx.has_pubkey) { /* a verified tx carrying its sender's key */
			if (!slot[h]) slot[h] = (uint32_t)i + 1;
		} else if (slot[h]) {
			keyed[i] = slot[h];
			unverified[nun++] = (uint32_t)i;
		}
	}
	keyed_ctx c = {txs, unverified, keyed};
	if (nun) ssp_workpool_for(n->verify, nun, verify_keyed, &c);
out:
	free(slot);
	free(keyed);
	free(unverified);
}

/* Submits the txs in `hexes`; fills txs[] results. Returns 0 or a whole-call error. */
static int submit(ssp_node *n, json_t *hexes, job_tx *txs)
{
	size_t cnt = json_array_size(hexes);
	uint8_t **bufs = calloc(cnt ? cnt : 1, sizeof *bufs);
	if (!bufs) return SSP_ERR_NOMEM;
	prep_ctx p = {.n = n, .hexes = hexes, .txs = txs, .bufs = bufs};
	ssp_workpool_for(n->verify, cnt, prep_one, &p);
	if (cnt > 1) verify_with_batch_keys(n, txs, cnt);
	job j = {.kind = JOB_SUBMIT, .txs = txs, .ntx = cnt};
	int rc = ssp_node_job(n, &j);
	for (size_t i = 0; i < cnt; i++)
		free(bufs[i]);
	free(bufs);
	return rc;
}

static int m_tx_submit(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	if (obj_params(params, err)) return -1;
	json_t *v = params ? json_object_get(params, "tx") : NULL;
	if (!json_is_string(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "tx must be a hex string");
	json_t *arr = json_pack("[O]", v);
	job_tx t = {0};
	int rc = submit(n, arr, &t);
	json_decref(arr);
	if (rc) return fail_err(n, err, rc);
	if (t.err == SSP_ERR_INVAL)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "tx must be a hex string");
	if (t.err) return tx_rejected(err, t.err);
	*res = json_pack("{s:o}", "txid", jhex(t.txid.b, 32));
	return 0;
}

static int m_tx_submitBatch(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	if (obj_params(params, err)) return -1;
	json_t *v = params ? json_object_get(params, "txs") : NULL;
	if (!json_is_array(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "txs must be an array of hex strings");
	size_t cnt = json_array_size(v);
	if (cnt > MAX_BATCH_TXS)
		return ssp_rpc_fail(err, SSP_RPC_LIMIT, "at most %d txs per batch", MAX_BATCH_TXS);
	job_tx *txs = calloc(cnt ? cnt : 1, sizeof *txs);
	if (!txs) return fail_err(n, err, SSP_ERR_NOMEM);
	int rc = submit(n, v, txs);
	if (rc) {
		free(txs);
		return fail_err(n, err, rc);
	}
	json_t *out = json_array();
	for (size_t i = 0; i < cnt; i++) {
		if (!txs[i].err) {
			json_array_append_new(out,
			                      json_pack("{s:o}", "txid", jhex(txs[i].txid.b, 32)));
			continue;
		}
		if (txs[i].err == SSP_ERR_INVAL) {
			json_array_append_new(out, json_pack("{s:{s:i, s:s}}", "error", "code",
			                                     SSP_RPC_INVALID_PARAMS, "message",
			                                     "tx must be a hex string"));
			continue;
		}
		json_array_append_new(out, json_pack("{s:{s:i, s:s, s:{s:s, s:s}}}", "error",
		                                     "code", SSP_RPC_TX_REJECTED, "message",
		                                     ssp_strerror(txs[i].err), "data", "error",
		                                     ssp_errname(txs[i].err), "reason",
		                                     ssp_strerror(txs[i].err)));
	}
	free(txs);
	*res = json_pack("{s:o}", "results", out);
	return 0;
}

static json_t *proof_json(const ssp_hash *root, const ssp_merkle_proof *pf, const char *leaf)
{
	char scheme[128];
	snprintf(scheme, sizeof scheme, "sha256: leaf=H(0x00||%s), node=H(0x01||l||r), odd carried up",
	         leaf);
	json_t *sib = json_array();
	for (uint32_t i = 0; i < pf->depth; i++)
		json_array_append_new(sib, jhex(pf->siblings[i].b, 32));
	return json_pack("{s:o, s:I, s:I, s:o, s:s}", "root", jhex(root->b, 32), "index",
	                 (json_int_t)pf->index, "count", (json_int_t)pf->count, "siblings", sib,
	                 "scheme", scheme);
}

/*
 * The receipt's events as [{emitter, name, fields}]; fields in the JSON
 * mapping of the value codec (hex if they do not decode, which a committed
 * receipt never has). NULL on corrupt event framing or OOM.
 */
static json_t *events_json(const ssp_node *n, const ssp_receipt *r)
{
	json_t *arr = json_array();
	ssp_event ev;
	size_t off = 0;
	int rc = 0;
	while (arr && (rc = ssp_events_next(r->events, r->events_len, &off, &ev)) == 1) {
		json_t *fields = NULL;
		if (ssp_val_to_json(&fields, ev.fields, ev.fields_len))
			fields = jhex(ev.fields, ev.fields_len);
		if (json_array_append_new(arr, json_pack("{s:o, s:s, s:o}", "emitter",
		                                         jaddr(n, &ev.emitter), "name", ev.name,
		                                         "fields", fields))) {
			json_decref(arr);
			return NULL;
		}
	}
	if (arr && rc < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static int m_tx_get(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_hash txid;
	ssp_txn *rt;
	uint64_t height;
	uint32_t idx;
	if (obj_params(params, err) || hash_param(params, "txid", &txid, err)) return -1;
	int rc = ssp_store_read(n->store, &rt);
	if (rc) return fail_err(n, err, rc);
	rc = ssp_chain_read_txloc(n->chain, rt, &txid, &height, &idx);
	if (rc == SSP_ERR_NOTFOUND) {
		ssp_txn_end(rt);
		job j = {.kind = JOB_TX_STATUS, .txid = txid};
		rc = ssp_node_job(n, &j);
		if (rc) return fail_err(n, err, rc);
		if (j.status == 1) {
			*res =
			    json_pack("{s:o, s:s}", "txid", jhex(txid.b, 32), "status", "pending");
			return 0;
		}
		/*
		 * Not pending: a block may have committed it since the snapshot
		 * above. The pool lets a tx go only after its block is committed,
		 * so a snapshot taken now sees it if it was included — before an
		 * older rejection of the same tx, or "unknown", is reported.
		 */
		rc = ssp_store_read(n->store, &rt);
		if (rc) return fail_err(n, err, rc);
		rc = ssp_chain_read_txloc(n->chain, rt, &txid, &height, &idx);
		if (rc == SSP_ERR_NOTFOUND) {
			ssp_txn_end(rt);
			if (j.status < 0) {
				*res =
				    json_pack("{s:o, s:s, s:s, s:s}", "txid", jhex(txid.b, 32),
				              "status", "rejected", "error", ssp_errname(j.status),
				              "reason", ssp_strerror(j.status));
				return 0;
			}
			return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "unknown transaction");
		}
	}
	ssp_head h;
	const uint8_t *raw;
	size_t len;
	ssp_block b = {0};
	ssp_receipt r = {0};
	ssp_hash *leaves = NULL;
	ssp_merkle_proof pf, rpf;
	if (!rc) rc = ssp_chain_read_head(n->chain, rt, &h);
	if (!rc) rc = ssp_chain_read_block(n->chain, rt, height, &raw, &len);
	if (!rc) rc = ssp_block_decode(&b, raw, len, (size_t)1 << 31);
	if (!rc && idx >= b.ntx) rc = SSP_ERR_DBCORRUPT;
	if (!rc) rc = ssp_chain_read_receipt(n->chain, rt, height, idx, &r);
	if (!rc) {
		leaves = malloc(b.ntx * sizeof *leaves);
		if (!leaves) rc = SSP_ERR_NOMEM;
	}
	if (!rc) {
		for (uint32_t i = 0; i < b.ntx; i++)
			leaves[i] = b.txs[i].txid;
		rc = ssp_merkle_prove(&pf, leaves, b.ntx, idx);
	}
	/* the receipt's bytes and its proof against receipts_root: leaves SHA-256(encoding) */
	const uint8_t *rblob = NULL, *rmine = NULL;
	size_t rbl = 0, rml = 0;
	if (!rc) rc = ssp_chain_read_receipts_raw(n->chain, rt, height, &rblob, &rbl);
	if (!rc) {
		ssp_rd rr;
		ssp_rd_init(&rr, rblob, rbl);
		if (ssp_rd_u32(&rr) != b.ntx) rc = SSP_ERR_DBCORRUPT;
		for (uint32_t i = 0; !rc && i < b.ntx; i++) {
			size_t l;
			const uint8_t *p = ssp_rd_bytes(&rr, rbl, &l);
			if (rr.err) {
				rc = SSP_ERR_DBCORRUPT;
				break;
			}
			ssp_sha256(&leaves[i], p, l);
			if (i == idx) {
				rmine = p;
				rml = l;
			}
		}
	}
	if (!rc) rc = ssp_merkle_prove(&rpf, leaves, b.ntx, idx);
	if (!rc) {
		json_t *rj = json_pack("{s:s, s:I, s:o, s:I}", "status",
		                       r.status == SSP_RCPT_OK ? "ok" : "failed", "gas_used",
		                       (json_int_t)r.gas_used, "fee_paid", jamount(r.fee_paid),
		                       "events_size", (json_int_t)r.events_len);
		if (r.error) json_object_set_new(rj, "error", json_string(ssp_errname(r.error)));
		json_t *ej = events_json(n, &r);
		json_object_set_new(rj, "events", ej ? ej : json_null());
		if (r.ret_len) {
			/* a contract's return value; on failure its error message (a string) */
			json_t *rv = NULL;
			if (ssp_val_to_json(&rv, r.ret, r.ret_len)) rv = jhex(r.ret, r.ret_len);
			bool msg = r.status == SSP_RCPT_FAILED && json_is_string(rv);
			json_object_set_new(rj, msg ? "message" : "return", rv ? rv : json_null());
		}
		json_t *txj = tx_json(n, &b.txs[idx]);
		if (txj) json_object_set_new(txj, "raw", jhex(b.txs[idx].raw, b.txs[idx].raw_len));
		json_object_set_new(rj, "raw", jhex(rmine, rml));
		json_object_set_new(rj, "proof",
		                    proof_json(&b.hdr.receipts_root, &rpf, "SHA-256(receipt raw)"));
		*res = json_pack(
		    "{s:o, s:s, s:{s:I, s:o}, s:I, s:o, s:o, s:o}", "txid", jhex(txid.b, 32),
		    "status", height <= h.finalized ? "finalized" : "included", "block", "height",
		    (json_int_t)height, "id", jhex(b.hdr.id.b, 32), "index", (json_int_t)idx, "tx",
		    txj, "receipt", rj, "proof", proof_json(&b.hdr.tx_root, &pf, "txid"));
	}
	free(leaves);
	ssp_receipt_free(&r);
	ssp_block_free(&b);
	ssp_txn_end(rt);
	return rc ? fail_err(n, err, rc) : 0;
}

static int m_rpc_discover(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	json_error_t je;
	if (obj_params(params, err)) return -1;
	*res = json_loads(ssp_openrpc_json, 0, &je);
	return *res ? 0 : ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "openrpc: %s", je.text);
}

static const ssp_rpc_method methods[] = {
    {"chain_getInfo", m_chain_getInfo},
    {"chain_getBlock", m_chain_getBlock},
    {"chain_getHeader", m_chain_getHeader},
    {"chain_getSupply", m_chain_getSupply},
    {"account_get", m_account_get},
    {"tx_submit", m_tx_submit},
    {"tx_submitBatch", m_tx_submitBatch},
    {"tx_get", m_tx_get},
    {"rpc.discover", m_rpc_discover}, /* the name the OpenRPC spec defines */
    {"rpc_discover", m_rpc_discover}, /* kept for existing clients */
    {"state_getProof", ssp_node_m_state_getProof},
    {"account_getProof", ssp_node_m_account_getProof},
    {"token_getBalanceProof", ssp_node_m_token_getBalanceProof},
};

const ssp_rpc_method *ssp_node_methods(size_t *n)
{
	*n = sizeof methods / sizeof *methods;
	return methods;
}

/* Metric families: every one has HELP and TYPE (promtool check metrics). */
#define METRIC(f, type, name, help, fmt, ...)                                                \
	fprintf(f, "# HELP " name " " help "\n# TYPE " name " " type "\n" name " " fmt "\n", \
	        __VA_ARGS__)

char *ssp_node_metrics(void *ctx)
{
	ssp_node *n = ctx;
	char *s = NULL;
	size_t size = 0;
	ssp_txn *rt;
	ssp_head h = {0};
	FILE *f;
	/* on libmicrohttpd's I/O thread: the mempool's own lock, never a job that waits for
	 * the loop (a scrape must not stall every connection while the loop is busy) */
	size_t mp_count = ssp_mempool_count(n->mempool), mp_bytes = ssp_mempool_bytes(n->mempool);

	if (ssp_store_read(n->store, &rt) == 0) {
		if (ssp_chain_read_head(n->chain, rt, &h)) memset(&h, 0, sizeof h);
		ssp_txn_end(rt);
	}
	f = open_memstream(&s, &size);
	if (!f) return NULL;
	METRIC(f, "counter", "ssp_blocks_produced_total", "Blocks this node produced.", "%llu",
	       (unsigned long long)atomic_load(&n->blocks_produced));
	METRIC(f, "counter", "ssp_blocks_imported_total",
	       "Blocks this node imported from another node (follower).", "%llu",
	       (unsigned long long)atomic_load(&n->blocks_imported));
	METRIC(f, "counter", "ssp_txs_included_total",
	       "Transactions in the blocks produced or imported.", "%llu",
	       (unsigned long long)atomic_load(&n->txs_included));
	METRIC(f, "counter", "ssp_txs_admitted_total", "Transactions admitted to the mempool.",
	       "%llu", (unsigned long long)atomic_load(&n->txs_admitted));
	METRIC(f, "counter", "ssp_txs_rejected_total", "Transactions refused at admission.", "%llu",
	       (unsigned long long)atomic_load(&n->txs_rejected));
	METRIC(f, "gauge", "ssp_block_commit_seconds", "Time the last block took to commit.",
	       "%.6f", atomic_load(&n->last_commit_ns) / 1e9);
	METRIC(f, "gauge", "ssp_block_apply_seconds", "Time the last block took to execute.",
	       "%.6f", atomic_load(&n->last_apply_ns) / 1e9);
	METRIC(f, "gauge", "ssp_chain_height", "Height of the head block.", "%llu",
	       (unsigned long long)h.height);
	METRIC(f, "gauge", "ssp_chain_finalized_height", "Height of the last final block.", "%llu",
	       (unsigned long long)h.finalized);
	METRIC(f, "gauge", "ssp_chain_head_timestamp_seconds",
	       "Timestamp of the head block (Unix time).", "%.3f", h.timestamp_ms / 1e3);
	METRIC(f, "gauge", "ssp_mempool_txs", "Transactions waiting in the mempool.", "%zu",
	       mp_count);
	METRIC(f, "gauge", "ssp_mempool_bytes", "Encoded bytes of the mempool's transactions.",
	       "%zu", mp_bytes);
	METRIC(f, "gauge", "ssp_producing", "1 if this node produces blocks, else 0.", "%d",
	       n->producing ? 1 : 0);
	char *net = ssp_node_net_metrics(n); /* the P2P network's (net_glue.c) */
	if (net) fputs(net, f);
	free(net);
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * GET /health for load balancers: 503 with the reason when the node is not
 * doing its job — it has a producer key but does not produce, it stopped,
 * it follows a source it is behind, or its head is older than HEALTH_SLOTS
 * slots (nothing produced or imported lately) — else 200 with a summary.
 */
#define HEALTH_SLOTS 5
#define BEHIND_BLOCKS 2

int ssp_node_health(void *ctx, char **json)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	ssp_head h = {0};
	char reason[512] = "";
	uint64_t now = ssp_now_ms(), iv = ssp_genesis_params(n->genesis)->block_interval_ms;
	uint64_t age, src = atomic_load(&n->source_height);
	json_t *o;
	int rc = ssp_store_read(n->store, &rt);

	if (!rc) {
		rc = ssp_chain_read_head(n->chain, rt, &h);
		ssp_txn_end(rt);
	}
	age = now > h.timestamp_ms ? now - h.timestamp_ms : 0;
	if (rc)
		snprintf(reason, sizeof reason, "cannot read the head: %s", ssp_strerror(rc));
	else if (atomic_load(&n->fatal))
		snprintf(reason, sizeof reason, "stopping after a fatal error (see the log)");
	else if (n->should_produce && !n->producing)
		snprintf(reason, sizeof reason, "not producing: %s", n->not_producing);
	else if (n->net && atomic_load(&n->sync_lag) > BEHIND_BLOCKS)
		snprintf(reason, sizeof reason, "behind: syncing, %llu blocks behind its peers",
		         (unsigned long long)atomic_load(&n->sync_lag));
	else if (n->cfg.follow[0] && src > h.height + BEHIND_BLOCKS)
		snprintf(reason, sizeof reason, "behind: at height %llu, the source at %llu",
		         (unsigned long long)h.height, (unsigned long long)src);
	else if (age > HEALTH_SLOTS * iv)
		snprintf(reason, sizeof reason,
		         "stale head: block %llu is %llu ms old (over %d slots)%s",
		         (unsigned long long)h.height, (unsigned long long)age, HEALTH_SLOTS,
		         n->producing || n->cfg.follow[0]
		             ? ""
		             : "; this node neither produces nor follows");
	o = json_pack("{s:s, s:I, s:I, s:I, s:b}", "status", reason[0] ? "unhealthy" : "ok",
	              "height", (json_int_t)h.height, "finalized_height", (json_int_t)h.finalized,
	              "head_age_ms", (json_int_t)age, "producing", n->producing);
	if (o && reason[0]) json_object_set_new(o, "reason", json_string(reason));
	if (o && !n->producing && n->not_producing[0])
		json_object_set_new(o, "not_producing", json_string(n->not_producing));
	if (o && n->cfg.follow[0])
		json_object_set_new(o, "source_height", json_integer((json_int_t)src));
	*json = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return reason[0] ? 503 : 200;
}
