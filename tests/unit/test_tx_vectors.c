/*
 * test_tx_vectors.c — frozen known-answer vectors for the wire formats a
 * second implementation must reproduce (device SDK, a wallet in another
 * language): tests/vectors/tx_kat.json holds two fixed keys (ed25519 and
 * p256), a transaction of every type signed by each — fields, payload,
 * signed bytes, signing digest, signature, tx bytes, txid — and two block
 * headers. docs/internals/vectors.md describes the format.
 *
 * The test reads the file and, for every vector, rebuilds everything from
 * its fields and compares: the payload through the module encoders (and
 * back through their strict decoders), the signed bytes also by hand from
 * the documented layout, the digest also as SHA-256 of the documented
 * bytes, the signature (ed25519 is deterministic; a p256 signature is
 * randomized, so the frozen one must verify and a fresh one must verify
 * too), the txid, the decoded tx, the block id, the headers' tx roots. The
 * file is frozen: it must also equal what the generator below produces, so
 * any change to an encoding fails here.
 *
 *   build/tests/test_tx_vectors --write   regenerates tests/vectors/tx_kat.json
 *
 * (p256 signatures whose digest is unchanged are kept, so regenerating an
 * unchanged encoding gives the same file; review the diff before committing.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/chain.h"
#include "ssp/contract.h"
#include "ssp/token.h"

#define KAT_FILE "tests/vectors/tx_kat.json"
#define CHAIN_ID "ssp-vectors"
#define HRP "dssp"

static bool WRITE;

/* ------------------------------------------------------------------ keys */

typedef struct {
	const char *name;
	int type;
	uint8_t secret[32];
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_addr addr;
} kat_key;

static kat_key KEYS[2] = {{.name = "ed25519", .type = SSP_KEY_ED25519},
                          {.name = "p256", .type = SSP_KEY_P256}};

static const kat_key *key_by_name(const char *name)
{
	for (size_t i = 0; i < 2; i++)
		if (name && !strcmp(KEYS[i].name, name)) return &KEYS[i];
	fail_msg("unknown key %s", name ? name : "(null)");
	return NULL;
}

/* ------------------------------------------------------------ JSON helpers */

static json_t *jhex(const void *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	assert_non_null(s);
	ssp_hex_encode(s, p, n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static json_t *ju64(uint64_t v)
{
	char s[32];
	snprintf(s, sizeof s, "%llu", (unsigned long long)v);
	return json_string(s);
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_string(v)) fail_msg("\"%s\" must be a string", k);
	return json_string_value(v);
}

static uint64_t ju64_get(const json_t *o, const char *k)
{
	uint64_t v;
	if (ssp_amount_parse(&v, jstr(o, k), 0)) fail_msg("\"%s\" must be a decimal u64 string", k);
	return v;
}

static json_int_t jint_get(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_integer(v)) fail_msg("\"%s\" must be an integer", k);
	return json_integer_value(v);
}

/* Exactly n bytes of hex. */
static void jhex_get(uint8_t *out, size_t n, const json_t *o, const char *k)
{
	const char *s = jstr(o, k);
	if (ssp_hex_decode(out, n, s, strlen(s))) fail_msg("\"%s\" must be %zu bytes of hex", k, n);
}

/* Any length of hex; malloc'd (at least 1 byte), length in *n. */
static uint8_t *jhex_alloc(const json_t *o, const char *k, size_t *n)
{
	const char *s = jstr(o, k);
	size_t l = strlen(s);
	if (l % 2) fail_msg("\"%s\": odd hex", k);
	uint8_t *p = malloc(l / 2 + 1);
	assert_non_null(p);
	if (ssp_hex_decode(p, l / 2, s, l)) fail_msg("\"%s\": bad hex", k);
	*n = l / 2;
	return p;
}

/* The field k of `got` (derived) must equal the one in `want` (the file). */
static void same(const json_t *want, const json_t *got, const char *what, const char *k)
{
	const json_t *a = json_object_get(want, k), *b = json_object_get(got, k);
	if (!a || !b || !json_equal(a, b))
		fail_msg("%s: \"%s\" is %s in the file but %s when rebuilt", what, k,
		         json_is_string(a) ? json_string_value(a) : "(missing)",
		         json_is_string(b) ? json_string_value(b) : "(missing)");
}

/* ---------------------------------------------------------------- payloads */

static ssp_addr addr_field(const json_t *f, const char *k)
{
	ssp_addr a;
	jhex_get(a.b, SSP_ADDR_LEN, f, k);
	return a;
}

static void copy_text(char *dst, size_t cap, const json_t *f, const char *k)
{
	const char *s = jstr(f, k);
	if (strlen(s) >= cap) fail_msg("\"%s\" is too long", k);
	memcpy(dst, s, strlen(s) + 1);
}

static bool is_token_type(uint16_t type)
{
	return type >= SSP_TX_TOKEN_CREATE && type <= SSP_TX_TOKEN_TRANSFER_FROM;
}

/*
 * Encodes the payload of a tx of `type` from its fields with the module's
 * encoder, then decodes it with the strict decoder and checks that every
 * field comes back.
 */
static void payload_from_fields(ssp_buf *b, uint16_t type, const json_t *f)
{
	if (type == SSP_TX_TRANSFER) {
		const char *memo = jstr(f, "memo");
		ssp_transfer t = {.to = addr_field(f, "to"),
		                  .amount = ju64_get(f, "amount"),
		                  .memo = (const uint8_t *)memo,
		                  .memo_len = (uint32_t)strlen(memo)};
		ssp_transfer_encode(b, &t);
		assert_int_equal(b->err, 0);
		ssp_transfer d;
		assert_int_equal(ssp_transfer_decode(&d, b->data, b->len), 0);
		assert_memory_equal(d.to.b, t.to.b, SSP_ADDR_LEN);
		assert_true(d.amount == t.amount && d.memo_len == t.memo_len);
		if (t.memo_len) assert_memory_equal(d.memo, t.memo, t.memo_len);
	} else if (is_token_type(type)) {
		ssp_token_payload p;
		memset(&p, 0, sizeof p);
		copy_text(p.symbol, sizeof p.symbol, f, "symbol");
		if (type == SSP_TX_TOKEN_CREATE) {
			copy_text(p.name, sizeof p.name, f, "name");
			p.decimals = (uint8_t)jint_get(f, "decimals");
			p.max_supply = ju64_get(f, "max_supply");
			p.flags = (uint32_t)jint_get(f, "flags");
		} else {
			p.amount = ju64_get(f, "amount");
		}
		if (type == SSP_TX_TOKEN_ISSUE || type == SSP_TX_TOKEN_TRANSFER ||
		    type == SSP_TX_TOKEN_TRANSFER_FROM)
			p.to = addr_field(f, "to");
		if (type == SSP_TX_TOKEN_TRANSFER_FROM) p.owner = addr_field(f, "owner");
		if (type == SSP_TX_TOKEN_APPROVE) p.spender = addr_field(f, "spender");
		ssp_token_payload_encode(b, type, &p);
		assert_int_equal(b->err, 0);
		ssp_token_payload d;
		assert_int_equal(ssp_token_payload_decode(&d, type, b->data, b->len), 0);
		assert_memory_equal(&d, &p, sizeof d);
	} else if (type == SSP_TX_CONTRACT_DEPLOY || type == SSP_TX_CONTRACT_CALL) {
		size_t al;
		uint8_t *args = jhex_alloc(f, "args", &al);
		/* the args are one canonical value: its JSON form must give the same bytes */
		ssp_buf vb;
		ssp_buf_init(&vb, 1 << 16);
		assert_int_equal(ssp_val_from_json(&vb, json_object_get(f, "args_json")), 0);
		assert_true(vb.len == al && (al == 0 || !memcmp(vb.data, args, al)));
		ssp_buf_free(&vb);
		if (type == SSP_TX_CONTRACT_DEPLOY) {
			const char *src = jstr(f, "source");
			ssp_contract_deploy d = {.gas_limit = ju64_get(f, "gas_limit"),
			                         .src = (const uint8_t *)src,
			                         .src_len = (uint32_t)strlen(src),
			                         .args = args,
			                         .args_len = (uint32_t)al};
			ssp_contract_deploy_encode(b, &d);
			assert_int_equal(b->err, 0);
			ssp_contract_deploy e;
			assert_int_equal(ssp_contract_deploy_decode(&e, b->data, b->len), 0);
			assert_true(e.gas_limit == d.gas_limit && e.src_len == d.src_len &&
			            e.args_len == d.args_len);
			assert_memory_equal(e.src, d.src, d.src_len);
			assert_memory_equal(e.args, d.args, d.args_len);
		} else {
			ssp_contract_call c;
			memset(&c, 0, sizeof c);
			c.contract = addr_field(f, "contract");
			copy_text(c.fn, sizeof c.fn, f, "function");
			c.args = args;
			c.args_len = (uint32_t)al;
			c.value = ju64_get(f, "value");
			c.gas_limit = ju64_get(f, "gas_limit");
			ssp_contract_call_encode(b, &c);
			assert_int_equal(b->err, 0);
			ssp_contract_call e;
			assert_int_equal(ssp_contract_call_decode(&e, b->data, b->len), 0);
			assert_memory_equal(e.contract.b, c.contract.b, SSP_ADDR_LEN);
			assert_string_equal(e.fn, c.fn);
			assert_true(e.value == c.value && e.gas_limit == c.gas_limit &&
			            e.args_len == c.args_len);
			assert_memory_equal(e.args, c.args, c.args_len);
		}
		free(args);
	} else {
		fail_msg("no payload encoder for type %u", type);
	}
}

/* ------------------------------------------------------------- signatures */

static const char *domain_tag(int domain)
{
	return domain == SSP_DOM_TX ? "SSP/tx/v1" : "SSP/block/v1";
}

/*
 * The digest exactly as docs/internals/vectors.md and ssp/core.h state it,
 * computed here without ssp_sig_digest: SHA-256(tag || 0x00 ||
 * u8 len(chain_id) || chain_id || signed bytes).
 */
static void digest_by_hand(ssp_hash *out, int domain, const uint8_t *msg, size_t n)
{
	const char *tag = domain_tag(domain);
	ssp_buf b;
	ssp_buf_init(&b, n + 64);
	ssp_buf_put(&b, tag, strlen(tag));
	ssp_buf_u8(&b, 0);
	ssp_buf_u8(&b, (uint8_t)strlen(CHAIN_ID));
	ssp_buf_put(&b, CHAIN_ID, strlen(CHAIN_ID));
	ssp_buf_put(&b, msg, n);
	assert_int_equal(b.err, 0);
	ssp_sha256(out, b.data, b.len);
	ssp_buf_free(&b);
}

/*
 * The signature of a digest: deterministic for ed25519. For p256 (random
 * nonces) the old vector's signature is kept when it covers this digest and
 * verifies, so an unchanged encoding regenerates an unchanged file.
 */
static void sign_or_keep(ssp_sig *sig, const kat_key *k, const ssp_hash *d, const json_t *old)
{
	if (k->type == SSP_KEY_P256 && old && json_object_get(old, "signature") &&
	    json_object_get(old, "digest")) {
		ssp_hash od;
		jhex_get(od.b, 32, old, "digest");
		jhex_get(sig->b, SSP_SIG_LEN, old, "signature");
		if (!memcmp(od.b, d->b, 32) && ssp_verify_digest(&k->pk, d, sig) == 0) return;
	}
	assert_int_equal(ssp_sign_digest(sig, &k->sk, d), 0);
}

/* The frozen signature verifies; for p256 a fresh one does too (and is low-S). */
static void check_signature(const kat_key *k, const ssp_hash *d, const ssp_sig *frozen)
{
	assert_int_equal(ssp_verify_digest(&k->pk, d, frozen), 0);
	ssp_sig fresh;
	assert_int_equal(ssp_sign_digest(&fresh, &k->sk, d), 0);
	assert_int_equal(ssp_verify_digest(&k->pk, d, &fresh), 0);
	if (k->type == SSP_KEY_ED25519) assert_memory_equal(fresh.b, frozen->b, SSP_SIG_LEN);
	ssp_sig bad = *frozen;
	bad.b[0] ^= 1;
	assert_int_not_equal(ssp_verify_digest(&k->pk, d, &bad), 0);
}

/* ----------------------------------------------------------- transactions */

/*
 * Rebuilds the derived part of a tx vector from its fields into a new
 * object: payload, signed, digest, signature, tx, txid (and for a deploy
 * the contract's address). `old` may supply a p256 signature to keep.
 */
static json_t *derive_tx(const json_t *v, const json_t *old)
{
	const kat_key *k = key_by_name(jstr(v, "key"));
	uint16_t type = (uint16_t)jint_get(v, "type");
	const json_t *f = json_object_get(v, "payload_fields");
	ssp_buf pl, w;
	ssp_buf_init(&pl, SSP_TX_PAYLOAD_MAX);
	payload_from_fields(&pl, type, f);

	ssp_tx_build tb = {.chain_id = jstr(v, "chain_id"),
	                   .type = type,
	                   .nonce = ju64_get(v, "nonce"),
	                   .fee = ju64_get(v, "fee"),
	                   .expiry = ju64_get(v, "expiry"),
	                   .payload = pl.data,
	                   .payload_len = pl.len,
	                   .include_pubkey = json_is_true(json_object_get(v, "include_pubkey"))};
	assert_string_equal(tb.chain_id, CHAIN_ID);
	uint8_t *raw = NULL;
	size_t rawlen;
	ssp_hash txid;
	assert_int_equal(ssp_tx_sign(&raw, &rawlen, &txid, &tb, &k->sk), 0);
	size_t sl = rawlen - SSP_SIG_LEN;

	/* the signed bytes, by hand from the layout in ssp/chain.h */
	ssp_buf_init(&w, SSP_TX_MAX);
	ssp_buf_u8(&w, SSP_TX_VERSION);
	ssp_buf_u8(&w, (uint8_t)strlen(CHAIN_ID));
	ssp_buf_put(&w, CHAIN_ID, strlen(CHAIN_ID));
	ssp_buf_u16(&w, type);
	ssp_buf_put(&w, k->addr.b, SSP_ADDR_LEN);
	ssp_buf_u64(&w, tb.nonce);
	ssp_buf_u64(&w, tb.fee);
	ssp_buf_u64(&w, tb.expiry);
	ssp_buf_bytes(&w, pl.data, pl.len);
	ssp_buf_u8(&w, tb.include_pubkey);
	if (tb.include_pubkey) {
		ssp_buf_u8(&w, k->pk.type);
		ssp_buf_put(&w, k->pk.b, k->pk.len);
	}
	assert_int_equal(w.err, 0);
	assert_true(w.len == sl);
	assert_memory_equal(w.data, raw, sl);

	ssp_hash d, dh;
	ssp_sig sig;
	ssp_sig_digest(&d, SSP_DOM_TX, CHAIN_ID, raw, sl);
	digest_by_hand(&dh, SSP_DOM_TX, raw, sl);
	assert_memory_equal(d.b, dh.b, 32);
	sign_or_keep(&sig, k, &d, old);
	memcpy(raw + sl, sig.b, SSP_SIG_LEN);
	ssp_sha256(&txid, raw, rawlen);

	json_t *out = json_object();
	json_object_set_new(out, "payload", jhex(pl.data, pl.len));
	json_object_set_new(out, "signed", jhex(raw, sl));
	json_object_set_new(out, "digest", jhex(d.b, 32));
	json_object_set_new(out, "signature", jhex(sig.b, SSP_SIG_LEN));
	json_object_set_new(out, "tx", jhex(raw, rawlen));
	json_object_set_new(out, "txid", jhex(txid.b, 32));
	if (type == SSP_TX_CONTRACT_DEPLOY) {
		ssp_addr ca;
		ssp_contract_address(&ca, &k->addr, tb.nonce);
		json_object_set_new(out, "contract_address", jhex(ca.b, SSP_ADDR_LEN));
	}
	free(raw);
	ssp_buf_free(&pl);
	ssp_buf_free(&w);
	return out;
}

static const char *const TX_DERIVED[] = {"payload", "signed", "digest", "signature", "tx", "txid"};

/* Everything a vector claims, checked from its fields. */
static void check_tx(const json_t *v)
{
	const char *name = jstr(v, "name");
	const kat_key *k = key_by_name(jstr(v, "key"));
	json_t *got = derive_tx(v, v);
	for (size_t i = 0; i < sizeof TX_DERIVED / sizeof *TX_DERIVED; i++)
		same(v, got, name, TX_DERIVED[i]);
	if (json_object_get(got, "contract_address")) same(v, got, name, "contract_address");
	json_decref(got);

	size_t n, sl, pn;
	uint8_t *raw = jhex_alloc(v, "tx", &n);
	uint8_t *sgn = jhex_alloc(v, "signed", &sl);
	uint8_t *pl = jhex_alloc(v, "payload", &pn);
	ssp_hash d, txid, h;
	ssp_sig sig;
	jhex_get(d.b, 32, v, "digest");
	jhex_get(txid.b, 32, v, "txid");
	jhex_get(sig.b, SSP_SIG_LEN, v, "signature");
	/* tx = signed || signature; txid = SHA-256(tx) */
	assert_true(n == sl + SSP_SIG_LEN);
	assert_memory_equal(raw, sgn, sl);
	assert_memory_equal(raw + sl, sig.b, SSP_SIG_LEN);
	ssp_sha256(&h, raw, n);
	assert_memory_equal(h.b, txid.b, 32);
	check_signature(k, &d, &sig);
	assert_int_equal(ssp_verify(&k->pk, SSP_DOM_TX, CHAIN_ID, sgn, sl, &sig), 0);
	/* a signature covers one domain and one chain */
	assert_int_not_equal(ssp_verify(&k->pk, SSP_DOM_BLOCK, CHAIN_ID, sgn, sl, &sig), 0);
	assert_int_not_equal(ssp_verify(&k->pk, SSP_DOM_TX, "ssp-other", sgn, sl, &sig), 0);
	/* the strict decoder reads the fields back */
	ssp_tx tx;
	assert_int_equal(ssp_tx_decode(&tx, raw, n), 0);
	assert_string_equal(tx.chain_id, jstr(v, "chain_id"));
	assert_int_equal(tx.type, jint_get(v, "type"));
	assert_memory_equal(tx.from.b, k->addr.b, SSP_ADDR_LEN);
	assert_true(tx.nonce == ju64_get(v, "nonce") && tx.fee == ju64_get(v, "fee") &&
	            tx.expiry == ju64_get(v, "expiry"));
	assert_int_equal(tx.has_pubkey, json_is_true(json_object_get(v, "include_pubkey")));
	if (tx.has_pubkey) assert_memory_equal(tx.pubkey.b, k->pk.b, k->pk.len);
	assert_true(tx.payload_len == pn && tx.signed_len == sl);
	if (pn) assert_memory_equal(tx.payload, pl, pn);
	assert_memory_equal(tx.txid.b, txid.b, 32);
	/* one byte more or less is not a tx */
	assert_int_not_equal(ssp_tx_decode(&tx, raw, n - 1), 0);
	free(raw);
	free(sgn);
	free(pl);
}

/* ------------------------------------------------------------------ blocks */

static void header_from_fields(ssp_header *h, uint8_t **qc, const json_t *v)
{
	memset(h, 0, sizeof *h);
	h->height = ju64_get(v, "height");
	jhex_get(h->prev_id.b, 32, v, "prev_id");
	h->slot = ju64_get(v, "slot");
	h->timestamp_ms = ju64_get(v, "timestamp_ms");
	h->producer = addr_field(v, "producer");
	jhex_get(h->tx_root.b, 32, v, "tx_root");
	jhex_get(h->receipts_root.b, 32, v, "receipts_root");
	jhex_get(h->state_root.b, 32, v, "state_root");
	size_t n;
	uint8_t *seed = jhex_alloc(v, "seed_reveal", &n);
	assert_true(n <= SSP_SEED_MAX);
	memcpy(h->seed_reveal, seed, n);
	h->seed_len = (uint32_t)n;
	free(seed);
	*qc = jhex_alloc(v, "finality_qc", &n);
	h->qc = *qc;
	h->qc_len = (uint32_t)n;
}

static json_t *derive_header(const json_t *v, const json_t *old)
{
	const kat_key *k = key_by_name(jstr(v, "key"));
	ssp_header h;
	uint8_t *qc;
	header_from_fields(&h, &qc, v);
	assert_memory_equal(h.producer.b, k->addr.b, SSP_ADDR_LEN);
	ssp_buf b;
	ssp_buf_init(&b, 1 << 16);
	ssp_header_encode(&b, &h, false);
	assert_int_equal(b.err, 0);
	size_t sl = b.len;
	ssp_hash d, dh, id;
	ssp_sig sig;
	ssp_sig_digest(&d, SSP_DOM_BLOCK, CHAIN_ID, b.data, sl);
	digest_by_hand(&dh, SSP_DOM_BLOCK, b.data, sl);
	assert_memory_equal(d.b, dh.b, 32);
	sign_or_keep(&sig, k, &d, old);
	ssp_buf_put(&b, sig.b, SSP_SIG_LEN);
	assert_int_equal(b.err, 0);
	ssp_sha256(&id, b.data, b.len);

	json_t *out = json_object();
	json_object_set_new(out, "signed", jhex(b.data, sl));
	json_object_set_new(out, "digest", jhex(d.b, 32));
	json_object_set_new(out, "signature", jhex(sig.b, SSP_SIG_LEN));
	json_object_set_new(out, "header", jhex(b.data, b.len));
	json_object_set_new(out, "block_id", jhex(id.b, 32));
	ssp_buf_free(&b);
	free(qc);
	return out;
}

static const char *const HDR_DERIVED[] = {"signed", "digest", "signature", "header", "block_id"};

/* The Merkle root (ssp/chain.h) over the txids of the named tx vectors. */
static void tx_root_of(ssp_hash *root, const json_t *names, const json_t *txs)
{
	size_t n = json_array_size(names), i, j;
	ssp_hash *ids = calloc(n + 1, sizeof *ids);
	assert_non_null(ids);
	json_t *name;
	json_array_foreach(names, i, name)
	{
		const json_t *t, *found = NULL;
		json_array_foreach(txs, j, t) if (!strcmp(jstr(t, "name"), json_string_value(name)))
		    found = t;
		if (!found) fail_msg("tx root: no tx vector %s", json_string_value(name));
		jhex_get(ids[i].b, 32, found, "txid");
	}
	ssp_merkle_root(root, ids, n);
	free(ids);
}

static void check_header(const json_t *v, const json_t *txs)
{
	const char *name = jstr(v, "name");
	const kat_key *k = key_by_name(jstr(v, "key"));
	json_t *got = derive_header(v, v);
	for (size_t i = 0; i < sizeof HDR_DERIVED / sizeof *HDR_DERIVED; i++)
		same(v, got, name, HDR_DERIVED[i]);
	json_decref(got);

	ssp_hash root, want;
	tx_root_of(&root, json_object_get(v, "txs"), txs);
	jhex_get(want.b, 32, v, "tx_root");
	assert_memory_equal(root.b, want.b, 32);

	size_t n, sl;
	uint8_t *raw = jhex_alloc(v, "header", &n);
	uint8_t *sgn = jhex_alloc(v, "signed", &sl);
	ssp_hash d, id;
	ssp_sig sig;
	jhex_get(d.b, 32, v, "digest");
	jhex_get(id.b, 32, v, "block_id");
	jhex_get(sig.b, SSP_SIG_LEN, v, "signature");
	assert_true(n == sl + SSP_SIG_LEN);
	assert_memory_equal(raw, sgn, sl);
	assert_memory_equal(raw + sl, sig.b, SSP_SIG_LEN);
	check_signature(k, &d, &sig);
	/* the decoder reads the same header and the same id back */
	ssp_header h, f;
	uint8_t *qc;
	ssp_rd r;
	ssp_rd_init(&r, raw, n);
	assert_int_equal(ssp_header_read(&h, &r), 0);
	assert_int_equal(ssp_rd_end(&r), 0);
	assert_memory_equal(h.id.b, id.b, 32);
	header_from_fields(&f, &qc, v);
	assert_true(h.height == f.height && h.slot == f.slot && h.timestamp_ms == f.timestamp_ms);
	assert_memory_equal(h.prev_id.b, f.prev_id.b, 32);
	assert_memory_equal(h.producer.b, f.producer.b, SSP_ADDR_LEN);
	assert_memory_equal(h.state_root.b, f.state_root.b, 32);
	assert_true(h.seed_len == f.seed_len && h.qc_len == f.qc_len);
	if (f.qc_len) assert_memory_equal(h.qc, f.qc, f.qc_len);
	/* a block of this header and no txs decodes too */
	ssp_buf b;
	ssp_buf_init(&b, n + 4);
	ssp_buf_put(&b, raw, n);
	ssp_buf_u32(&b, 0);
	ssp_block blk;
	assert_int_equal(ssp_block_decode(&blk, b.data, b.len, 1 << 20), 0);
	assert_memory_equal(blk.hdr.id.b, id.b, 32);
	ssp_block_free(&blk);
	ssp_buf_free(&b);
	free(qc);
	free(raw);
	free(sgn);
}

/* -------------------------------------------------------------- generator */

static void fill(uint8_t *p, size_t n, uint8_t v)
{
	memset(p, v, n);
}

static json_t *key_json(const kat_key *k)
{
	char text[96];
	ssp_addr_encode(text, sizeof text, HRP, &k->addr);
	return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:s}", "name", k->name, "type",
	                 ssp_key_type_name(k->type), "type_id", k->type, "secret",
	                 jhex(k->secret, 32), "pubkey", jhex(k->pk.b, k->pk.len), "address",
	                 jhex(k->addr.b, SSP_ADDR_LEN), "address_text", text);
}

/* The recipient, spender and owner of the vectors: 20 bytes 0x10..0x23. */
static json_t *other_addr(void)
{
	uint8_t a[SSP_ADDR_LEN];
	for (size_t i = 0; i < SSP_ADDR_LEN; i++)
		a[i] = (uint8_t)(0x10 + i);
	return jhex(a, SSP_ADDR_LEN);
}

static json_t *args_json(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(j);
	ssp_buf b;
	ssp_buf_init(&b, 1 << 16);
	assert_int_equal(ssp_val_from_json(&b, j), 0);
	json_t *o = json_pack("{s:o, s:o}", "args", jhex(b.data, b.len), "args_json", j);
	ssp_buf_free(&b);
	return o;
}

/* The payload fields of the i-th tx type for key k (0: ed25519, 1: p256). */
static json_t *case_fields(size_t i, int k, const json_t *deploy)
{
	static const char *const sym[2] = {"PARK", "P256T"};
	switch (i) {
	case 0:
		return json_pack("{s:o, s:o, s:s}", "to", other_addr(), "amount", ju64(150000000),
		                 "memo", k ? "" : "Parkgeb\xc3\xbchr 5 \xe2\x82\xac");
	case 1:
		return json_pack("{s:s, s:s, s:i, s:o, s:i}", "symbol", sym[k], "name",
		                 k ? "Meter \xe2\x9a\xa1 units"
		                   : "Parking Cr\xc3\xa9"
		                     "dit",
		                 "decimals", k ? 0 : 2, "max_supply",
		                 ju64(k ? (uint64_t)INT64_MAX : 1000000), "flags", k ? 0 : 3);
	case 2:
	case 3:
		return json_pack("{s:s, s:o, s:o}", "symbol", sym[k], "to", other_addr(), "amount",
		                 ju64(i == 2 ? 500 : 25));
	case 4:
		return json_pack("{s:s, s:o}", "symbol", sym[k], "amount", ju64(5));
	case 5:
		return json_pack("{s:s, s:o, s:o}", "symbol", sym[k], "spender", other_addr(),
		                 "amount", ju64(k ? 0 : 100));
	case 6:
		return json_pack("{s:s, s:o, s:o, s:o}", "symbol", sym[k], "owner", other_addr(),
		                 "to", jhex(KEYS[k].addr.b, SSP_ADDR_LEN), "amount", ju64(10));
	case 7: {
		json_t *o = args_json(k ? "[-1, \"\xc3\xa9\", false, {\"a\": [1, 2]}]" : "[42]");
		json_object_set_new(o, "gas_limit", ju64(200000));
		json_object_set_new(o, "source",
		                    json_string("function init(n) storage.set('n', n) end\n"
		                                "function get() return storage.get('n') end\n"
		                                "function set_value(v, tag) storage.set('n', v) "
		                                "ssp.emit('Set', {v = v, tag = tag}) end\n"
		                                "abi.view(get)\nabi.payable(set_value)\n"));
		return o;
	}
	case 8: {
		json_t *o = args_json(k ? "[7, \"x\"]" : "[]");
		json_object_set(o, "contract", json_object_get(deploy, "contract_address"));
		json_object_set_new(o, "function", json_string(k ? "set_value" : "get"));
		json_object_set_new(o, "value", ju64(k ? 250 : 0));
		json_object_set_new(o, "gas_limit", ju64(50000));
		return o;
	}
	}
	return NULL;
}

static const struct {
	const char *name;
	uint16_t type;
} TYPES[] = {
    {"transfer", SSP_TX_TRANSFER},
    {"token_create", SSP_TX_TOKEN_CREATE},
    {"token_issue", SSP_TX_TOKEN_ISSUE},
    {"token_transfer", SSP_TX_TOKEN_TRANSFER},
    {"token_burn", SSP_TX_TOKEN_BURN},
    {"token_approve", SSP_TX_TOKEN_APPROVE},
    {"token_transfer_from", SSP_TX_TOKEN_TRANSFER_FROM},
    {"contract_deploy", SSP_TX_CONTRACT_DEPLOY},
    {"contract_call", SSP_TX_CONTRACT_CALL},
};
#define NTYPES (sizeof TYPES / sizeof *TYPES)

static const json_t *find_named(const json_t *arr, const char *name)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v) if (!strcmp(jstr(v, "name"), name)) return v;
	return NULL;
}

/* Copies every field of src into dst. */
static void merge(json_t *dst, json_t *src)
{
	assert_int_equal(json_object_update(dst, src), 0);
	json_decref(src);
}

/* The whole document from the case table; p256 signatures kept from `old` where still valid. */
static json_t *generate(const json_t *old)
{
	const json_t *old_txs = json_object_get(old, "txs");
	const json_t *old_hdrs = json_object_get(old, "headers");
	json_t *doc = json_object(), *keys = json_array(), *txs = json_array(),
	       *hdrs = json_array();
	json_object_set_new(doc, "description",
	                    json_string("Smartshare known-answer vectors: keys, transactions of "
	                                "every type and block headers, with their canonical "
	                                "bytes, signing digests, signatures and ids. Frozen: "
	                                "see docs/internals/vectors.md."));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set_new(doc, "chain_id", json_string(CHAIN_ID));
	json_object_set_new(doc, "hrp", json_string(HRP));
	json_object_set_new(doc, "domains",
	                    json_pack("{s:s, s:s}", "tx", domain_tag(SSP_DOM_TX), "block",
	                              domain_tag(SSP_DOM_BLOCK)));
	for (int k = 0; k < 2; k++)
		json_array_append_new(keys, key_json(&KEYS[k]));
	json_object_set_new(doc, "keys", keys);
	for (int k = 0; k < 2; k++) {
		const json_t *deploy = NULL;
		for (size_t i = 0; i < NTYPES; i++) {
			char name[64];
			snprintf(name, sizeof name, "%s/%s", KEYS[k].name, TYPES[i].name);
			json_t *v = json_pack(
			    "{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:b, s:o}", "name", name, "key",
			    KEYS[k].name, "chain_id", CHAIN_ID, "type", TYPES[i].type, "nonce",
			    ju64(i), "fee", ju64(k ? 2500000 : 1000000), "expiry",
			    ju64(k ? 18446744073709551615ULL : 1000), "include_pubkey", i == 0,
			    "payload_fields", case_fields(i, k, deploy));
			assert_non_null(v);
			merge(v, derive_tx(v, find_named(old_txs, name)));
			json_array_append_new(txs, v);
			if (TYPES[i].type == SSP_TX_CONTRACT_DEPLOY) deploy = v;
		}
	}
	json_object_set_new(doc, "txs", txs);
	uint8_t prev[32], rr[32], sr[32], seed[32];
	fill(prev, 32, 0x11);
	for (int k = 0; k < 2; k++) {
		char name[64];
		snprintf(name, sizeof name, "%s/header", KEYS[k].name);
		json_t *names = json_array();
		for (size_t i = 0; i < NTYPES; i++) {
			char tn[64];
			snprintf(tn, sizeof tn, "%s/%s", KEYS[k].name, TYPES[i].name);
			json_array_append_new(names, json_string(tn));
		}
		ssp_hash root;
		tx_root_of(&root, names, txs);
		fill(rr, 32, k ? 0x44 : 0x22);
		fill(sr, 32, k ? 0x55 : 0x33);
		fill(seed, 32, 0x66);
		json_t *v =
		    json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		              "name", name, "key", KEYS[k].name, "height", ju64(k ? 2 : 1),
		              "prev_id", jhex(prev, 32), "slot", ju64(k ? 3 : 1), "timestamp_ms",
		              ju64(k ? 1700000003000ULL : 1700000001000ULL), "producer",
		              jhex(KEYS[k].addr.b, SSP_ADDR_LEN), "tx_root", jhex(root.b, 32),
		              "receipts_root", jhex(rr, 32), "state_root", jhex(sr, 32),
		              "seed_reveal", jhex(seed, k ? 32 : 0), "finality_qc",
		              k ? json_string("0102030405") : json_string(""), "txs", names);
		assert_non_null(v);
		merge(v, derive_header(v, find_named(old_hdrs, name)));
		jhex_get(prev, 32, v, "block_id"); /* the next header extends this one */
		json_array_append_new(hdrs, v);
	}
	json_object_set_new(doc, "headers", hdrs);
	return doc;
}

/* ------------------------------------------------------------------ tests */

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	fill(KEYS[0].secret, 32, 0xa1);
	fill(KEYS[1].secret, 32, 0x0c);
	for (int k = 0; k < 2; k++) {
		if (ssp_seckey_from_raw(&KEYS[k].sk, KEYS[k].type, KEYS[k].secret, 32) ||
		    ssp_key_public(&KEYS[k].pk, &KEYS[k].sk))
			return -1;
		ssp_addr_from_pubkey(&KEYS[k].addr, &KEYS[k].pk);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++)
		ssp_seckey_wipe(&KEYS[k].sk);
	return 0;
}

static json_t *load(void)
{
	json_error_t je;
	json_t *doc = json_load_file(KAT_FILE, JSON_REJECT_DUPLICATES, &je);
	if (!doc && !WRITE) fail_msg("%s: %s (line %d)", KAT_FILE, je.text, je.line);
	return doc;
}

static void test_write(void **state)
{
	(void)state;
	json_t *old = load();
	json_t *doc = generate(old);
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	FILE *f = fopen(KAT_FILE, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0 && fputc('\n', f) == '\n');
	assert_int_equal(fclose(f), 0);
	print_message("wrote %s\n", KAT_FILE);
	free(text);
	json_decref(doc);
	json_decref(old);
}

static void test_keys(void **state)
{
	(void)state;
	json_t *doc = load();
	const json_t *keys = json_object_get(doc, "keys");
	assert_int_equal(json_array_size(keys), 2);
	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_array_get(keys, i);
		const kat_key *k = key_by_name(jstr(v, "name"));
		json_t *got = key_json(k);
		assert_true(json_equal(got, v));
		json_decref(got);
		/* the secret in the file gives the same key pair */
		uint8_t raw[32];
		ssp_seckey sk;
		ssp_pubkey pk;
		ssp_addr a, b;
		jhex_get(raw, 32, v, "secret");
		assert_int_equal(ssp_seckey_from_raw(&sk, (int)jint_get(v, "type_id"), raw, 32), 0);
		assert_int_equal(ssp_key_public(&pk, &sk), 0);
		assert_memory_equal(pk.b, k->pk.b, k->pk.len);
		ssp_addr_from_pubkey(&a, &pk);
		assert_int_equal(ssp_addr_decode(&b, HRP, jstr(v, "address_text")), 0);
		assert_memory_equal(a.b, b.b, SSP_ADDR_LEN);
		ssp_seckey_wipe(&sk);
	}
	json_decref(doc);
}

static void test_txs(void **state)
{
	(void)state;
	json_t *doc = load();
	const json_t *txs = json_object_get(doc, "txs"), *v;
	size_t i, count[2][NTYPES] = {{0}};
	json_array_foreach(txs, i, v)
	{
		check_tx(v);
		int k = key_by_name(jstr(v, "key")) == &KEYS[1];
		for (size_t t = 0; t < NTYPES; t++)
			if (jint_get(v, "type") == TYPES[t].type) count[k][t]++;
	}
	/* every tx type, signed by each key type */
	for (int k = 0; k < 2; k++)
		for (size_t t = 0; t < NTYPES; t++)
			if (!count[k][t])
				fail_msg("no %s vector for %s", TYPES[t].name, KEYS[k].name);
	json_decref(doc);
}

static void test_headers(void **state)
{
	(void)state;
	json_t *doc = load();
	const json_t *hdrs = json_object_get(doc, "headers"), *v;
	size_t i;
	assert_int_equal(json_array_size(hdrs), 2);
	json_array_foreach(hdrs, i, v) check_header(v, json_object_get(doc, "txs"));
	json_decref(doc);
}

/* The file is exactly what the generator makes: a change in any encoding fails here. */
static void test_frozen(void **state)
{
	(void)state;
	json_t *doc = load();
	json_t *gen = generate(doc);
	if (!json_equal(doc, gen)) {
		char *a = json_dumps(gen, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fprintf(stderr, "regenerated vectors differ from %s:\n%s\n", KAT_FILE, a);
		free(a);
		fail_msg("%s is frozen: an encoding changed (regenerate only on purpose: "
		         "test_tx_vectors --write)",
		         KAT_FILE);
	}
	json_decref(gen);
	json_decref(doc);
}

int main(int argc, char **argv)
{
	WRITE = argc > 1 && !strcmp(argv[1], "--write");
	if (WRITE) {
		const struct CMUnitTest w[] = {cmocka_unit_test(test_write)};
		return cmocka_run_group_tests(w, setup, teardown);
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_txs),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_frozen),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
