/*
 * test_chain_tx.c — transaction encoding, strict decoding and signatures
 * (chain layer): sign/decode round trips for both key types with and
 * without the public key, every rejection of the strict decoder, the
 * transfer payload codec, signature coverage of every signed byte and
 * domain separation across chains and message kinds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain_fixture.h"

/* --------------------------------------------------- an independent encoder */

/* Every field of the wire form, so a test can set any of them to a bad value. */
typedef struct {
	uint8_t version;
	uint8_t cidlen;
	char cid[256];
	uint16_t type;
	ssp_addr from;
	uint64_t nonce, fee, expiry;
	uint32_t plen_field; /* the length prefix written */
	const uint8_t *payload;
	size_t plen; /* the bytes written */
	uint8_t has_pubkey;
	uint8_t key_type;
	uint8_t key[SSP_PUBKEY_MAX];
	size_t keylen;
	uint8_t sig[SSP_SIG_LEN];
} txf;

static void txf_from(txf *f, const ssp_tx *tx)
{
	memset(f, 0, sizeof *f);
	f->version = 1;
	f->cidlen = (uint8_t)strlen(tx->chain_id);
	memcpy(f->cid, tx->chain_id, f->cidlen);
	f->type = tx->type;
	f->from = tx->from;
	f->nonce = tx->nonce;
	f->fee = tx->fee;
	f->expiry = tx->expiry;
	f->plen_field = tx->payload_len;
	f->payload = tx->payload;
	f->plen = tx->payload_len;
	f->has_pubkey = tx->has_pubkey;
	if (tx->has_pubkey) {
		f->key_type = tx->pubkey.type;
		f->keylen = tx->pubkey.len;
		memcpy(f->key, tx->pubkey.b, tx->pubkey.len);
	}
	memcpy(f->sig, tx->sig.b, SSP_SIG_LEN);
}

/* Encodes f; returns malloc'd bytes of exactly *n (so ASan sees any over-read). */
static uint8_t *txf_encode(const txf *f, size_t *n)
{
	ssp_buf b;
	ssp_buf_init(&b, (size_t)1 << 20);
	ssp_buf_u8(&b, f->version);
	ssp_buf_u8(&b, f->cidlen);
	ssp_buf_put(&b, f->cid, f->cidlen);
	ssp_buf_u16(&b, f->type);
	ssp_buf_put(&b, f->from.b, SSP_ADDR_LEN);
	ssp_buf_u64(&b, f->nonce);
	ssp_buf_u64(&b, f->fee);
	ssp_buf_u64(&b, f->expiry);
	ssp_buf_u32(&b, f->plen_field);
	ssp_buf_put(&b, f->payload, f->plen);
	ssp_buf_u8(&b, f->has_pubkey);
	if (f->has_pubkey) {
		ssp_buf_u8(&b, f->key_type);
		ssp_buf_put(&b, f->key, f->keylen);
	}
	ssp_buf_put(&b, f->sig, SSP_SIG_LEN);
	assert_int_equal(b.err, 0);
	uint8_t *p = malloc(b.len);
	assert_non_null(p);
	memcpy(p, b.data, b.len);
	*n = b.len;
	ssp_buf_free(&b);
	return p;
}

static int decode_f(const txf *f)
{
	size_t n;
	ssp_tx tx;
	uint8_t *raw = txf_encode(f, &n);
	int rc = ssp_tx_decode(&tx, raw, n);
	free(raw);
	return rc;
}

/* ------------------------------------------------------------------ keys */

static fx_key ED, P2, BOB;

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	fx_key_make(&ED, SSP_KEY_ED25519, 0x11);
	fx_key_make(&P2, SSP_KEY_P256, 0x22);
	fx_key_make(&BOB, SSP_KEY_ED25519, 0x33);
	return 0;
}

typedef struct {
	uint8_t *raw;
	size_t n;
	ssp_hash txid;
	const fx_key *k;
	bool pubkey;
} signed_tx;

static const char MEMO[] = "grant #7: h\xc3\xa9llo \xe2\x82\xac";

static signed_tx make(const fx_key *k, bool pubkey)
{
	signed_tx s = {.k = k, .pubkey = pubkey};
	fx_xfer x = {.to = &BOB.addr,
	             .amount = 150000000,
	             .fee = 100000,
	             .nonce = 7,
	             .expiry = 1234,
	             .pubkey = pubkey,
	             .memo = MEMO};
	s.raw = fx_sign_transfer(k, &x, &s.n, &s.txid);
	return s;
}

static void each_variant(void (*fn)(const signed_tx *))
{
	const fx_key *keys[2] = {&ED, &P2};
	for (int k = 0; k < 2; k++)
		for (int p = 0; p < 2; p++) {
			signed_tx s = make(keys[k], p);
			fn(&s);
			free(s.raw);
		}
}

/* ------------------------------------------------------------ round trip */

static void round_trip_one(const signed_tx *s)
{
	ssp_tx tx;
	ssp_hash h;
	size_t payload_len = 20 + 8 + 4 + strlen(MEMO);
	size_t want = 1 + 1 + strlen(FX_CHAIN_ID) + 2 + 20 + 8 + 8 + 8 + 4 + payload_len + 1 +
	              (s->pubkey ? 1 + s->k->pk.len : 0) + SSP_SIG_LEN;
	assert_int_equal(s->n, want);
	assert_int_equal(ssp_tx_decode(&tx, s->raw, s->n), 0);
	assert_string_equal(tx.chain_id, FX_CHAIN_ID);
	assert_int_equal(tx.type, SSP_TX_TRANSFER);
	assert_memory_equal(tx.from.b, s->k->addr.b, SSP_ADDR_LEN);
	assert_int_equal(tx.nonce, 7);
	assert_int_equal(tx.fee, 100000);
	assert_int_equal(tx.expiry, 1234);
	assert_int_equal(tx.payload_len, payload_len);
	assert_int_equal(tx.has_pubkey, s->pubkey);
	if (s->pubkey) {
		assert_int_equal(tx.pubkey.type, s->k->pk.type);
		assert_int_equal(tx.pubkey.len, s->k->pk.len);
		assert_memory_equal(tx.pubkey.b, s->k->pk.b, s->k->pk.len);
	}
	assert_ptr_equal(tx.raw, s->raw);
	assert_int_equal(tx.raw_len, s->n);
	assert_int_equal(tx.signed_len, s->n - SSP_SIG_LEN);
	assert_memory_equal(tx.sig.b, s->raw + s->n - SSP_SIG_LEN, SSP_SIG_LEN);
	/* txid = SHA-256 of every byte, and the signer reported the same */
	ssp_sha256(&h, s->raw, s->n);
	assert_memory_equal(tx.txid.b, h.b, 32);
	assert_memory_equal(s->txid.b, h.b, 32);
	/* the payload decodes to what was signed */
	ssp_transfer t;
	assert_int_equal(ssp_transfer_decode(&t, tx.payload, tx.payload_len), 0);
	assert_memory_equal(t.to.b, BOB.addr.b, SSP_ADDR_LEN);
	assert_int_equal(t.amount, 150000000);
	assert_int_equal(t.memo_len, strlen(MEMO));
	assert_memory_equal(t.memo, MEMO, strlen(MEMO));
	/* the signature covers signed_len bytes under the tx domain */
	assert_int_equal(
	    ssp_verify(&s->k->pk, SSP_DOM_TX, FX_CHAIN_ID, s->raw, tx.signed_len, &tx.sig), 0);
	/* an independent encoder gives back exactly the same bytes */
	txf f;
	size_t n2;
	txf_from(&f, &tx);
	uint8_t *again = txf_encode(&f, &n2);
	assert_int_equal(n2, s->n);
	assert_memory_equal(again, s->raw, s->n);
	free(again);
}

static void test_round_trip(void **state)
{
	(void)state;
	each_variant(round_trip_one);
}

/* Fixed layout: the first bytes of an ed25519 tx with its pubkey, by hand. */
static void test_layout(void **state)
{
	(void)state;
	signed_tx s = make(&ED, true);
	const uint8_t *p = s.raw;
	assert_int_equal(p[0], 1); /* version */
	assert_int_equal(p[1], 8); /* len("ssp-test") */
	assert_memory_equal(p + 2, "ssp-test", 8);
	assert_int_equal(p[10], 1); /* type, u16 LE */
	assert_int_equal(p[11], 0);
	assert_memory_equal(p + 12, ED.addr.b, 20);
	assert_int_equal(ssp_le64_get(p + 32), 7);      /* nonce */
	assert_int_equal(ssp_le64_get(p + 40), 100000); /* fee */
	assert_int_equal(ssp_le64_get(p + 48), 1234);   /* expiry */
	uint32_t plen =
	    (uint32_t)p[56] | (uint32_t)p[57] << 8 | (uint32_t)p[58] << 16 | (uint32_t)p[59] << 24;
	assert_int_equal(plen, 32 + strlen(MEMO));
	assert_memory_equal(p + 60, BOB.addr.b, 20); /* transfer: to */
	assert_int_equal(ssp_le64_get(p + 80), 150000000);
	size_t k = 60 + plen;
	assert_int_equal(p[k], 1); /* has_pubkey */
	assert_int_equal(p[k + 1], SSP_KEY_ED25519);
	assert_memory_equal(p + k + 2, ED.pk.b, 32);
	assert_int_equal(s.n, k + 2 + 32 + 64);
	free(s.raw);
}

/* ------------------------------------------------------ strict decoding */

static void truncated_one(const signed_tx *s)
{
	ssp_tx tx;
	for (size_t len = 0; len < s->n; len++) {
		uint8_t *cut = malloc(len ? len : 1);
		assert_non_null(cut);
		memcpy(cut, s->raw, len);
		assert_int_equal(ssp_tx_decode(&tx, cut, len), SSP_ERR_TRUNCATED);
		free(cut);
	}
	/* one trailing byte, whatever its value */
	uint8_t *longer = malloc(s->n + 1);
	memcpy(longer, s->raw, s->n);
	for (int v = 0; v < 256; v += 85) {
		longer[s->n] = (uint8_t)v;
		assert_int_equal(ssp_tx_decode(&tx, longer, s->n + 1), SSP_ERR_TRAILING);
	}
	free(longer);
}

static void test_truncated_and_trailing(void **state)
{
	(void)state;
	each_variant(truncated_one);
}

/* A decoded valid tx to mutate. */
static signed_tx BASE;
static ssp_tx BASE_TX;
static txf base_fields(bool pubkey, const fx_key *k)
{
	txf f;
	free(BASE.raw);
	BASE = make(k, pubkey);
	assert_int_equal(ssp_tx_decode(&BASE_TX, BASE.raw, BASE.n), 0);
	txf_from(&f, &BASE_TX);
	assert_int_equal(decode_f(&f), 0);
	return f;
}

static void test_version(void **state)
{
	(void)state;
	txf f = base_fields(true, &ED);
	const uint8_t bad[] = {0, 2, 3, 0x81, 255};
	for (size_t i = 0; i < sizeof bad; i++) {
		f.version = bad[i];
		assert_int_equal(decode_f(&f), SSP_ERR_DECODE);
	}
	free(BASE.raw);
	BASE.raw = NULL;
}

static void test_chain_id(void **state)
{
	(void)state;
	txf f = base_fields(true, &ED);
	/* empty */
	f.cidlen = 0;
	assert_int_equal(decode_f(&f), SSP_ERR_DECODE);
	/* 32 characters is the maximum: the structure still decodes */
	memset(f.cid, 'a', 33);
	f.cidlen = 32;
	assert_int_equal(decode_f(&f), 0);
	f.cidlen = 33;
	assert_int_equal(decode_f(&f), SSP_ERR_DECODE);
	f.cidlen = 255;
	memset(f.cid, 'a', 255);
	assert_int_equal(decode_f(&f), SSP_ERR_DECODE);
	/* each bad character, in the middle of an otherwise good id */
	const char bad[] = {'A', 'Z', ' ', '/', ':', '@', 0, '\n', (char)0x80, (char)0xff, '+'};
	for (size_t i = 0; i < sizeof bad; i++) {
		memcpy(f.cid, "ssp-test", 8);
		f.cidlen = 8;
		f.cid[3] = bad[i];
		assert_int_equal(decode_f(&f), SSP_ERR_DECODE);
	}
	/* every allowed class */
	memcpy(f.cid, "a-z.0_9", 7);
	f.cidlen = 7;
	assert_int_equal(decode_f(&f), 0);
	/* the signer refuses the same ids */
	ssp_tx_build b = {.chain_id = "", .type = 1};
	uint8_t *out;
	size_t n;
	ssp_hash id;
	assert_int_equal(ssp_tx_sign(&out, &n, &id, &b, &ED.sk), SSP_ERR_INVAL);
	assert_null(out);
	b.chain_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 33 */
	assert_int_equal(ssp_tx_sign(&out, &n, &id, &b, &ED.sk), SSP_ERR_INVAL);
	b.chain_id = "Main";
	assert_int_equal(ssp_tx_sign(&out, &n, &id, &b, &ED.sk), SSP_ERR_INVAL);
	b.chain_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 32 */
	assert_int_equal(ssp_tx_sign(&out, &n, &id, &b, &ED.sk), 0);
	ssp_tx tx;
	assert_int_equal(ssp_tx_decode(&tx, out, n), 0);
	assert_string_equal(tx.chain_id, b.chain_id);
	free(out);
	free(BASE.raw);
	BASE.raw = NULL;
}

static void test_type_zero(void **state)
{
	(void)state;
	txf f = base_fields(false, &ED);
	f.type = 0;
	assert_int_equal(decode_f(&f), SSP_ERR_TXTYPE);
	f.type = 0xffff; /* unknown types decode: the chain rejects them (TXTYPE) */
	assert_int_equal(decode_f(&f), 0);
	ssp_tx_build b = {.chain_id = FX_CHAIN_ID, .type = 0};
	uint8_t *out;
	size_t n;
	ssp_hash id;
	assert_int_equal(ssp_tx_sign(&out, &n, &id, &b, &ED.sk), SSP_ERR_INVAL);
	free(BASE.raw);
	BASE.raw = NULL;
}

static void test_payload_limits(void **state)
{
	(void)state;
	txf f = base_fields(false, &ED);
	/* the length alone over the maximum: TOOBIG before reading the bytes */
	f.plen_field = SSP_TX_PAYLOAD_MAX + 1;
	f.plen = 0;
	assert_int_equal(decode_f(&f), SSP_ERR_TOOBIG);
	f.plen_field = UINT32_MAX;
	assert_int_equal(decode_f(&f), SSP_ERR_TOOBIG);
	/* and with the bytes present */
	uint8_t *big = calloc(1, SSP_TX_PAYLOAD_MAX + 1);
	f.payload = big;
	f.plen = f.plen_field = SSP_TX_PAYLOAD_MAX + 1;
	assert_int_equal(decode_f(&f), SSP_ERR_TOOBIG);
	/* exactly the maximum decodes (the payload is not checked here) */
	f.plen = f.plen_field = SSP_TX_PAYLOAD_MAX;
	assert_int_equal(decode_f(&f), 0);
	/* a length claiming more than the rest of the tx */
	f.plen = 99;
	f.plen_field = 99 + 1 + 64 + 1;
	assert_int_equal(decode_f(&f), SSP_ERR_TRUNCATED);
	/* the whole tx over SSP_TX_MAX */
	uint8_t *huge = calloc(1, SSP_TX_MAX + 1);
	ssp_tx tx;
	memcpy(huge, BASE.raw, BASE.n);
	assert_int_equal(ssp_tx_decode(&tx, huge, SSP_TX_MAX + 1), SSP_ERR_TOOBIG);
	/* the signer refuses an over-long payload */
	ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
	                  .type = 1,
	                  .payload = big,
	                  .payload_len = SSP_TX_PAYLOAD_MAX + 1};
	uint8_t *out;
	size_t n;
	ssp_hash id;
	assert_int_equal(ssp_tx_sign(&out, &n, &id, &b, &ED.sk), SSP_ERR_INVAL);
	assert_null(out);
	free(huge);
	free(big);
	free(BASE.raw);
	BASE.raw = NULL;
}

static void test_has_pubkey_flag(void **state)
{
	(void)state;
	txf f = base_fields(false, &ED);
	for (int v = 2; v < 256; v += 51) {
		f.has_pubkey = (uint8_t)v;
		assert_int_equal(decode_f(&f), SSP_ERR_NONCANON);
	}
	free(BASE.raw);
	BASE.raw = NULL;
}

static void test_key_type(void **state)
{
	(void)state;
	txf f = base_fields(true, &ED);
	const uint8_t bad[] = {0, 3, 4, 0x81, 255};
	for (size_t i = 0; i < sizeof bad; i++) {
		f.key_type = bad[i];
		assert_int_equal(decode_f(&f), SSP_ERR_KEYTYPE);
	}
	/* an ed25519 key labelled p256 reads 33 bytes: not a valid point */
	f.key_type = SSP_KEY_P256;
	assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);
	free(BASE.raw);
	BASE.raw = NULL;
}

static void test_key_mismatch(void **state)
{
	(void)state;
	/* ED's tx carrying BOB's (valid) key */
	txf f = base_fields(true, &ED);
	memcpy(f.key, BOB.pk.b, 32);
	assert_int_equal(decode_f(&f), SSP_ERR_KEYMISMATCH);
	/* P2's tx carrying ED's key (another type, valid) */
	f = base_fields(true, &P2);
	f.key_type = SSP_KEY_ED25519;
	f.keylen = 32;
	memcpy(f.key, ED.pk.b, 32);
	assert_int_equal(decode_f(&f), SSP_ERR_KEYMISMATCH);
	/* and the right key with another `from` */
	f = base_fields(true, &P2);
	f.from = BOB.addr;
	assert_int_equal(decode_f(&f), SSP_ERR_KEYMISMATCH);
	/* without a key, any from decodes (the chain then needs the key on record) */
	f = base_fields(false, &P2);
	f.from = BOB.addr;
	assert_int_equal(decode_f(&f), 0);
	free(BASE.raw);
	BASE.raw = NULL;
}

static void test_invalid_pubkey(void **state)
{
	(void)state;
	txf f = base_fields(true, &ED);
	/* ed25519: identity, a small-order point, a non-canonical encoding */
	memset(f.key, 0, 32);
	f.key[0] = 1; /* the identity (0, 1) */
	assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);
	memset(f.key, 0, 32); /* order 4 point */
	assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);
	memset(f.key, 0xff, 32);
	f.key[31] = 0x7f; /* y = 2^255 - 1 >= p: non-canonical */
	assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);

	f = base_fields(true, &P2);
	uint8_t good[33];
	memcpy(good, f.key, 33);
	f.key[0] = 0x04; /* uncompressed prefix on 33 bytes */
	assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);
	f.key[0] = 0x00;
	assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);
	/* x = p (not reduced) */
	static const uint8_t P[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
	                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                              0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
	                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	f.key[0] = 0x02;
	memcpy(f.key + 1, P, 32);
	assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);
	/* x with no point: search a few x values off the curve near the real one */
	int found = 0;
	for (int d = 1; d < 40 && !found; d++) {
		memcpy(f.key, good, 33);
		f.key[32] ^= (uint8_t)d;
		ssp_pubkey pk;
		if (ssp_pubkey_parse(&pk, SSP_KEY_P256, f.key, 33) == SSP_ERR_BADKEY) {
			assert_int_equal(decode_f(&f), SSP_ERR_BADKEY);
			found = 1;
		}
	}
	assert_true(found);
	free(BASE.raw);
	BASE.raw = NULL;
}

/* ------------------------------------------------------------ transfers */

static uint8_t *xfer_bytes(const ssp_addr *to, uint64_t amount, const void *memo, size_t ml,
                           size_t *n)
{
	ssp_buf b;
	ssp_buf_init(&b, 1 << 16);
	ssp_buf_put(&b, to->b, 20);
	ssp_buf_u64(&b, amount);
	ssp_buf_bytes(&b, memo, ml);
	assert_int_equal(b.err, 0);
	uint8_t *p = malloc(b.len + 1); /* +1: room for a trailing-byte test */
	memcpy(p, b.data, b.len);
	*n = b.len;
	ssp_buf_free(&b);
	return p;
}

static int xfer_decode(uint64_t amount, const void *memo, size_t ml)
{
	size_t n;
	ssp_transfer t;
	uint8_t *p = xfer_bytes(&BOB.addr, amount, memo, ml, &n);
	int rc = ssp_transfer_decode(&t, p, n);
	if (rc == 0) {
		assert_int_equal(t.amount, amount);
		assert_int_equal(t.memo_len, ml);
		assert_memory_equal(t.to.b, BOB.addr.b, 20);
	}
	free(p);
	return rc;
}

static void test_transfer_decode(void **state)
{
	(void)state;
	char memo[300];
	memset(memo, 'm', sizeof memo);
	assert_int_equal(xfer_decode(1, "", 0), 0);
	assert_int_equal(xfer_decode(UINT64_MAX, "", 0), 0);
	assert_int_equal(xfer_decode(0, "", 0), SSP_ERR_PAYLOAD);
	assert_int_equal(xfer_decode(0, "hi", 2), SSP_ERR_PAYLOAD);
	assert_int_equal(xfer_decode(5, memo, SSP_MEMO_MAX), 0);
	assert_int_equal(xfer_decode(5, memo, SSP_MEMO_MAX + 1), SSP_ERR_PAYLOAD);
	assert_int_equal(xfer_decode(5, memo, 300), SSP_ERR_PAYLOAD);

	static const struct {
		const char *s;
		int ok;
	} utf8[] = {
	    {"plain ascii", 1},
	    {"h\xc3\xa9llo", 1},     /* U+00E9 */
	    {"\xe2\x82\xac", 1},     /* U+20AC */
	    {"\xf0\x9f\x98\x80", 1}, /* U+1F600 */
	    {"\xf4\x8f\xbf\xbf", 1}, /* U+10FFFF, the last code point */
	    {"\xed\x9f\xbf", 1},     /* U+D7FF, just below the surrogates */
	    {"\xee\x80\x80", 1},     /* U+E000, just above */
	    {"\xc2\x80", 1},         /* U+0080, shortest 2-byte */
	    {"\xe0\xa0\x80", 1},     /* U+0800, shortest 3-byte */
	    {"\xf0\x90\x80\x80", 1}, /* U+10000, shortest 4-byte */
	    {"\x80", 0},             /* lone continuation */
	    {"a\xbf", 0},
	    {"\xc3", 0},                     /* truncated 2-byte at the end */
	    {"\xe2\x82", 0},                 /* truncated 3-byte at the end */
	    {"\xf0\x9f\x98", 0},             /* truncated 4-byte at the end */
	    {"\xc3(", 0},                    /* bad continuation */
	    {"\xc0\xaf", 0},                 /* overlong '/' */
	    {"\xc1\xbf", 0},                 /* overlong U+007F */
	    {"\xe0\x80\xaf", 0},             /* overlong 3-byte */
	    {"\xe0\x9f\xbf", 0},             /* overlong U+07FF */
	    {"\xf0\x80\x80\xaf", 0},         /* overlong 4-byte */
	    {"\xf0\x8f\xbf\xbf", 0},         /* overlong U+FFFF */
	    {"\xed\xa0\x80", 0},             /* U+D800, high surrogate */
	    {"\xed\xbf\xbf", 0},             /* U+DFFF, low surrogate */
	    {"\xed\xa0\xbd\xed\xb8\x80", 0}, /* CESU-8 surrogate pair */
	    {"\xf4\x90\x80\x80", 0},         /* U+110000 */
	    {"\xf5\x80\x80\x80", 0},
	    {"\xf8\x88\x80\x80\x80", 0}, /* 5-byte form */
	    {"\xfe", 0},
	    {"\xff", 0},
	};
	for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
		int rc = xfer_decode(9, utf8[i].s, strlen(utf8[i].s));
		if (rc != (utf8[i].ok ? 0 : SSP_ERR_PAYLOAD))
			fail_msg("memo case %zu: got %s", i, ssp_errname(rc));
	}
	/* an embedded NUL is not allowed in a memo */
	assert_int_equal(xfer_decode(9, "a\0b", 3), SSP_ERR_PAYLOAD);

	/* trailing and truncated payloads */
	size_t n;
	ssp_transfer t;
	uint8_t *p = xfer_bytes(&BOB.addr, 10, "ok", 2, &n);
	p[n] = 0;
	assert_int_equal(ssp_transfer_decode(&t, p, n + 1), SSP_ERR_TRAILING);
	for (size_t len = 0; len < n; len++)
		assert_int_equal(ssp_transfer_decode(&t, p, len), SSP_ERR_TRUNCATED);
	assert_int_equal(ssp_transfer_decode(&t, p, n), 0);
	/* encode(decode(x)) == x */
	ssp_buf b;
	ssp_buf_init(&b, 1024);
	ssp_transfer_encode(&b, &t);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, p, n);
	ssp_buf_free(&b);
	free(p);
}

/* ------------------------------------------------------------- signatures */

static void bitflip_one(const signed_tx *s)
{
	ssp_tx tx;
	ssp_sig sig;
	assert_int_equal(ssp_tx_decode(&tx, s->raw, s->n), 0);
	uint8_t *m = malloc(s->n);
	memcpy(m, s->raw, s->n);
	/* a flipped bit anywhere in the signed bytes */
	for (size_t i = 0; i < tx.signed_len; i++) {
		uint8_t bit = (uint8_t)(1u << (i % 8));
		m[i] ^= bit;
		assert_int_equal(
		    ssp_verify(&s->k->pk, SSP_DOM_TX, FX_CHAIN_ID, m, tx.signed_len, &tx.sig),
		    SSP_ERR_BADSIG);
		m[i] ^= bit;
	}
	/* or in the signature itself */
	for (size_t i = 0; i < SSP_SIG_LEN; i++) {
		sig = tx.sig;
		sig.b[i] ^= (uint8_t)(0x80u >> (i % 8));
		int rc = ssp_verify(&s->k->pk, SSP_DOM_TX, FX_CHAIN_ID, m, tx.signed_len, &sig);
		assert_true(rc == SSP_ERR_BADSIG || rc == SSP_ERR_HIGHS);
	}
	/* the untouched bytes still verify: the failures above were the flips */
	assert_int_equal(ssp_verify(&s->k->pk, SSP_DOM_TX, FX_CHAIN_ID, m, tx.signed_len, &tx.sig),
	                 0);
	/* signed_len is exact: one byte more or less does not verify */
	assert_int_equal(
	    ssp_verify(&s->k->pk, SSP_DOM_TX, FX_CHAIN_ID, m, tx.signed_len - 1, &tx.sig),
	    SSP_ERR_BADSIG);
	assert_int_equal(
	    ssp_verify(&s->k->pk, SSP_DOM_TX, FX_CHAIN_ID, m, tx.signed_len + 1, &tx.sig),
	    SSP_ERR_BADSIG);
	free(m);
}

static void test_signature_covers_every_bit(void **state)
{
	(void)state;
	each_variant(bitflip_one);
}

static void domain_one(const signed_tx *s)
{
	ssp_tx tx;
	assert_int_equal(ssp_tx_decode(&tx, s->raw, s->n), 0);
	assert_int_equal(
	    ssp_verify(&s->k->pk, SSP_DOM_TX, "ssp-test", s->raw, tx.signed_len, &tx.sig), 0);
	/* the same bytes under another chain id, or as another kind of message */
	const char *other[] = {"ssp-tesu", "ssp-test2", "ssp-tes", "ssp-main", ""};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(
		    ssp_verify(&s->k->pk, SSP_DOM_TX, other[i], s->raw, tx.signed_len, &tx.sig),
		    SSP_ERR_BADSIG);
	const int doms[] = {SSP_DOM_BLOCK, SSP_DOM_VOTE, SSP_DOM_RECEIPT, SSP_DOM_ATTEST};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(
		    ssp_verify(&s->k->pk, doms[i], FX_CHAIN_ID, s->raw, tx.signed_len, &tx.sig),
		    SSP_ERR_BADSIG);
	/* re-labelled for chain "ssp-tesu" (same length): decodes, fails to verify */
	uint8_t *m = malloc(s->n);
	memcpy(m, s->raw, s->n);
	m[2 + 7] = 'u';
	ssp_tx moved;
	assert_int_equal(ssp_tx_decode(&moved, m, s->n), 0);
	assert_string_equal(moved.chain_id, "ssp-tesu");
	assert_int_equal(
	    ssp_verify(&s->k->pk, SSP_DOM_TX, moved.chain_id, m, moved.signed_len, &moved.sig),
	    SSP_ERR_BADSIG);
	free(m);
}

static void test_domain_separation(void **state)
{
	(void)state;
	each_variant(domain_one);
	/* the same fields signed for chain A and chain B differ and cross-fail */
	fx_xfer a = {.to = &BOB.addr, .amount = 5, .fee = 100000, .expiry = 9, .pubkey = true};
	fx_xfer b = a;
	b.chain_id = "ssp-other";
	size_t na, nb;
	ssp_hash ia, ib;
	uint8_t *ra = fx_sign_transfer(&ED, &a, &na, &ia);
	uint8_t *rb = fx_sign_transfer(&ED, &b, &nb, &ib);
	ssp_tx ta, tb;
	assert_int_equal(ssp_tx_decode(&ta, ra, na), 0);
	assert_int_equal(ssp_tx_decode(&tb, rb, nb), 0);
	assert_memory_not_equal(ia.b, ib.b, 32);
	assert_int_equal(ssp_verify(&ED.pk, SSP_DOM_TX, "ssp-other", rb, tb.signed_len, &tb.sig),
	                 0);
	assert_int_equal(ssp_verify(&ED.pk, SSP_DOM_TX, "ssp-other", rb, tb.signed_len, &ta.sig),
	                 SSP_ERR_BADSIG);
	assert_int_equal(ssp_verify(&ED.pk, SSP_DOM_TX, FX_CHAIN_ID, rb, tb.signed_len, &tb.sig),
	                 SSP_ERR_BADSIG);
	free(ra);
	free(rb);
}

/* ed25519 signing is deterministic: the same tx twice is the same bytes. */
static void test_determinism(void **state)
{
	(void)state;
	signed_tx a = make(&ED, true), b = make(&ED, true);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.raw, b.raw, a.n);
	assert_memory_equal(a.txid.b, b.txid.b, 32);
	free(a.raw);
	free(b.raw);
}

/* p256: s -> n - s (the classic malleation) is refused as high-S. */
static void test_p256_high_s(void **state)
{
	(void)state;
	static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                              0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	                              0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
	signed_tx s = make(&P2, true);
	ssp_tx tx;
	assert_int_equal(ssp_tx_decode(&tx, s.raw, s.n), 0);
	ssp_sig hi = tx.sig;
	int borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int d = (int)N[i] - (int)tx.sig.b[32 + i] - borrow;
		borrow = d < 0;
		hi.b[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
	assert_int_equal(borrow, 0);
	assert_int_equal(ssp_verify(&P2.pk, SSP_DOM_TX, FX_CHAIN_ID, s.raw, tx.signed_len, &tx.sig),
	                 0);
	assert_int_equal(ssp_verify(&P2.pk, SSP_DOM_TX, FX_CHAIN_ID, s.raw, tx.signed_len, &hi),
	                 SSP_ERR_HIGHS);
	free(s.raw);
}

static int teardown(void **state)
{
	(void)state;
	free(BASE.raw);
	return 0;
}

/* A signer callback over a seckey in memory (the agent's shape). */
static int sign_cb(void *ctx, ssp_sig *sig, const ssp_hash *d)
{
	return ssp_sign_digest(sig, ctx, d);
}

/*
 * ssp_tx_sign_with: a callback signer gives the very bytes ssp_tx_sign gives
 * (Ed25519 is deterministic), ssp_tx_encoded_len predicts the length with and
 * without the pubkey, and a signer whose key is not the sender's produces no tx.
 */
static void test_sign_with_callback(void **state)
{
	(void)state;
	ssp_seckey a, b;
	ssp_pubkey pa, pb;
	uint8_t seed[32], pay[40] = {1};
	memset(seed, 0x21, 32);
	assert_int_equal(ssp_seckey_from_raw(&a, SSP_KEY_ED25519, seed, 32), 0);
	assert_int_equal(ssp_key_public(&pa, &a), 0);
	memset(seed, 0x22, 32);
	assert_int_equal(ssp_seckey_from_raw(&b, SSP_KEY_P256, seed, 32), 0);
	assert_int_equal(ssp_key_public(&pb, &b), 0);
	for (int withpk = 0; withpk < 2; withpk++) {
		ssp_tx_build bl = {.chain_id = "ssp-test", .type = 7, .nonce = 3, .fee = 99,
		                   .expiry = 10, .payload = pay, .payload_len = sizeof pay,
		                   .include_pubkey = withpk};
		uint8_t *x = NULL, *y = NULL;
		size_t nx, ny;
		ssp_hash ix, iy;
		assert_int_equal(ssp_tx_sign(&x, &nx, &ix, &bl, &a), 0);
		assert_int_equal(ssp_tx_sign_with(&y, &ny, &iy, &bl, &pa, sign_cb, &a), 0);
		assert_int_equal(nx, ny);
		assert_memory_equal(x, y, nx);
		assert_memory_equal(ix.b, iy.b, 32);
		assert_int_equal(ssp_tx_encoded_len(&bl, &pa), nx);
		free(x);
		free(y);
		/* the signer holds b's key but the tx claims a's: refused, nothing returned */
		y = (uint8_t *)&ny;
		assert_int_equal(ssp_tx_sign_with(&y, &ny, &iy, &bl, &pa, sign_cb, &b), SSP_ERR_BADSIG);
		assert_null(y);
		/* a P-256 sender through the callback decodes and verifies like any tx */
		assert_int_equal(ssp_tx_sign_with(&y, &ny, &iy, &bl, &pb, sign_cb, &b), 0);
		assert_int_equal(ssp_tx_encoded_len(&bl, &pb), ny);
		ssp_tx tx;
		assert_int_equal(ssp_tx_decode(&tx, y, ny), 0);
		assert_int_equal(ssp_verify(&pb, SSP_DOM_TX, "ssp-test", y, tx.signed_len, &tx.sig), 0);
		free(y);
	}
	ssp_seckey_wipe(&a);
	ssp_seckey_wipe(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_chain_id),
	    cmocka_unit_test(test_type_zero),
	    cmocka_unit_test(test_payload_limits),
	    cmocka_unit_test(test_has_pubkey_flag),
	    cmocka_unit_test(test_key_type),
	    cmocka_unit_test(test_key_mismatch),
	    cmocka_unit_test(test_invalid_pubkey),
	    cmocka_unit_test(test_transfer_decode),
	    cmocka_unit_test(test_signature_covers_every_bit),
	    cmocka_unit_test(test_domain_separation),
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_p256_high_s),
	    cmocka_unit_test(test_sign_with_callback),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
