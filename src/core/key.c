/*
 * key.c — typed keys and domain-separated signatures (core layer). Ed25519
 * goes through libsodium; ECDSA P-256 goes through OpenSSL 3's EVP interface
 * with compressed SEC1 public keys and fixed 64-byte r||s signatures that are
 * always low-S (high S is rejected on verify). Every verify gets a fresh
 * EVP_PKEY_CTX, because OpenSSL 3.0 can keep checking against an earlier key
 * when a verify context is re-initialised with another one; only the imported
 * (immutable) EVP_PKEYs are cached, per thread. See docs/internals/core.md.
 */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

/* The order n of the P-256 group and floor(n / 2), big-endian. */
static const uint8_t P256_N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                   0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const uint8_t P256_HALF_N[32] = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

#define P256_GROUP_NAME "prime256v1"
#define PEM_MAX (16 * 1024)

int ssp_core_init(void)
{
	/* jansson's allocations pass the same fault hook as ours (tests walk them too) */
	json_set_alloc_funcs(ssp_malloc, free);
	/* 0 = initialised now, 1 = already initialised, -1 = failure. */
	return sodium_init() < 0 ? SSP_ERR_INTERNAL : 0;
}

const char *ssp_key_type_name(int type)
{
	switch (type) {
	case SSP_KEY_ED25519:
		return "ed25519";
	case SSP_KEY_P256:
		return "p256";
	}
	return "unknown";
}

int ssp_key_type_parse(const char *name)
{
	if (!name) return SSP_ERR_KEYTYPE;
	if (strcmp(name, "ed25519") == 0) return SSP_KEY_ED25519;
	if (strcmp(name, "p256") == 0) return SSP_KEY_P256;
	return SSP_ERR_KEYTYPE;
}

size_t ssp_pubkey_len(int type)
{
	switch (type) {
	case SSP_KEY_ED25519:
		return crypto_sign_PUBLICKEYBYTES;
	case SSP_KEY_P256:
		return 33;
	}
	return 0;
}

/* ------------------------------------------------------------ P-256 helpers */

static int is_zero32(const uint8_t *p)
{
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= p[i];
	return acc == 0;
}

/* 1 if 0 < v < n (v big-endian, 32 bytes). Not constant time in v's value
 * beyond memcmp; only used on scalars and public signature halves. */
static int p256_scalar_ok(const uint8_t v[32])
{
	return !is_zero32(v) && memcmp(v, P256_N, 32) < 0;
}

/*
 * The curve group, one per thread: EC_GROUP objects are cheap to share read-only
 * but OpenSSL documents no such guarantee, and hash.c uses the same pattern.
 */
static pthread_key_t g_group_key;
static pthread_once_t g_group_once = PTHREAD_ONCE_INIT;
static _Thread_local EC_GROUP *g_group;

/* Frees a thread's group when the thread exits. */
static void group_free(void *p)
{
	EC_GROUP_free(p);
	g_group = NULL;
}

static void group_key_init(void)
{
	if (pthread_key_create(&g_group_key, group_free) != 0) abort();
}

static const EC_GROUP *p256_group(void)
{
	if (g_group) return g_group;
	if (pthread_once(&g_group_once, group_key_init) != 0) abort();
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	/* OpenSSL without P-256 cannot run a node */
	if (!g || pthread_setspecific(g_group_key, g) != 0) abort();
	return g_group = g;
}

/* Decodes a 33-byte compressed point; 0 or SSP_ERR_BADKEY / NOMEM. */
static int p256_point_decode(EC_POINT **out, const uint8_t *p, size_t n)
{
	int rc = SSP_ERR_BADKEY;
	const EC_GROUP *g = p256_group();
	EC_POINT *pt = NULL;

	*out = NULL;
	if (n != 33 || (p[0] != 2 && p[0] != 3)) goto out;
	pt = EC_POINT_new(g);
	if (!pt) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	/* oct2point rejects x >= p and x with no square root (not on the curve). */
	if (EC_POINT_oct2point(g, pt, p, n, NULL) != 1) goto out;
	if (EC_POINT_is_at_infinity(g, pt) || EC_POINT_is_on_curve(g, pt, NULL) != 1) goto out;
	*out = pt;
	pt = NULL;
	rc = 0;
out:
	EC_POINT_free(pt);
	ERR_clear_error();
	return rc;
}

/* pub = d*G as a compressed point. */
static int p256_public(uint8_t pub[33], const uint8_t d[32])
{
	int rc = SSP_ERR_BADKEY;
	const EC_GROUP *g = p256_group();
	BIGNUM *bn = NULL;
	EC_POINT *pt = NULL;

	if (!p256_scalar_ok(d)) goto out;
	rc = SSP_ERR_NOMEM;
	bn = BN_secure_new();
	pt = EC_POINT_new(g);
	if (!bn || !pt) goto out;
	rc = SSP_ERR_INTERNAL;
	BN_set_flags(bn, BN_FLG_CONSTTIME);
	if (!BN_bin2bn(d, 32, bn)) goto out;
	if (EC_POINT_mul(g, pt, bn, NULL, NULL, NULL) != 1) goto out;
	if (EC_POINT_point2oct(g, pt, POINT_CONVERSION_COMPRESSED, pub, 33, NULL) != 33) goto out;
	rc = 0;
out:
	BN_clear_free(bn);
	EC_POINT_free(pt);
	ERR_clear_error();
	return rc;
}

/* An EVP_PKEY for a compressed public key (verify only). */
static int p256_pkey_public(EVP_PKEY **out, const uint8_t pub[33])
{
	int rc = SSP_ERR_BADKEY;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];

	*out = NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	                                             (char *)P256_GROUP_NAME, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, 33);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1) goto out;
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/*
 * Importing a compressed key (a square root mod p plus provider plumbing) costs
 * about a quarter of the verification itself (20 of 96 µs here), and the same
 * keys recur: block producers, voters, every device that sends more than once.
 * So the process keeps one cache of imported keys shared by every thread:
 * PKEY_CACHE_SETS sets of two ways (8,192 keys), the set picked by key bytes
 * (a curve point's x: uniform; a sender who grinds keys into one set only
 * evicts, never changes a verdict), matched on all 33 bytes, the least
 * recently used way replaced. Lock stripes keep threads apart. Only the
 * immutable EVP_PKEY is cached (shared by reference, which OpenSSL allows
 * across threads); every verify still gets a fresh EVP_PKEY_CTX. Without
 * memory for the table nothing is cached: the cache never decides anything.
 */
#define PKEY_CACHE_SETS 4096
#define PKEY_CACHE_LOCKS 64

typedef struct {
	uint8_t pub[33];
	EVP_PKEY *pkey;
} pkey_slot;

typedef struct {
	pkey_slot way[2];
	uint8_t lru; /* the way to replace next */
} pkey_set;

static pkey_set *g_pkc;
static pthread_mutex_t g_pkc_lock[PKEY_CACHE_LOCKS];
static pthread_once_t g_pkc_once = PTHREAD_ONCE_INIT;

static void pkey_cache_init(void)
{
	for (int i = 0; i < PKEY_CACHE_LOCKS; i++)
		if (pthread_mutex_init(&g_pkc_lock[i], NULL) != 0) abort();
	g_pkc = ssp_calloc(PKEY_CACHE_SETS, sizeof *g_pkc); /* NULL: no cache */
}

/* Like p256_pkey_public, through the cache; the caller frees its reference. */
static int p256_pkey_cached(EVP_PKEY **out, const uint8_t pub[33])
{
	if (pthread_once(&g_pkc_once, pkey_cache_init) != 0) abort();
	*out = NULL;
	if (!g_pkc) return p256_pkey_public(out, pub);
	size_t set = ((size_t)pub[31] << 8 | pub[32]) % PKEY_CACHE_SETS;
	pkey_set *e = &g_pkc[set];
	pthread_mutex_t *mu = &g_pkc_lock[set % PKEY_CACHE_LOCKS];
	pthread_mutex_lock(mu);
	for (int w = 0; w < 2; w++) {
		pkey_slot *sl = &e->way[w];
		if (sl->pkey && memcmp(sl->pub, pub, 33) == 0 && EVP_PKEY_up_ref(sl->pkey) == 1) {
			*out = sl->pkey;
			e->lru = (uint8_t)(1 - w);
			pthread_mutex_unlock(mu);
			return 0;
		}
	}
	pthread_mutex_unlock(mu);
	int rc = p256_pkey_public(out, pub); /* outside the lock: the dear part */
	if (rc || EVP_PKEY_up_ref(*out) != 1) {
		ERR_clear_error();
		return rc; /* an up_ref failure: simply not cached */
	}
	EVP_PKEY *old = NULL;
	pthread_mutex_lock(mu);
	bool there = false;
	for (int w = 0; w < 2; w++)
		there = there || (e->way[w].pkey && memcmp(e->way[w].pub, pub, 33) == 0);
	if (!there) { /* another thread may have put it in meanwhile */
		pkey_slot *sl = &e->way[e->lru];
		old = sl->pkey;
		sl->pkey = *out;
		memcpy(sl->pub, pub, 33);
		e->lru = (uint8_t)(1 - e->lru);
	}
	pthread_mutex_unlock(mu);
	EVP_PKEY_free(there ? *out : old); /* the table's reference, or the evicted key's */
	return 0;
}

/* An EVP_PKEY holding scalar d and its public point (for signing). */
static int p256_pkey_private(EVP_PKEY **out, const uint8_t d[32])
{
	int rc;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL;
	uint8_t pub[33];

	*out = NULL;
	rc = p256_public(pub, d);
	if (rc) goto out;
	rc = SSP_ERR_NOMEM;
	bn = BN_secure_new();
	bld = OSSL_PARAM_BLD_new();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!bn || !bld || !ctx) goto out;
	rc = SSP_ERR_INTERNAL;
	if (!BN_bin2bn(d, 32, bn)) goto out;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, P256_GROUP_NAME, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params) goto out;
	if (EVP_PKEY_fromdata_init(ctx) != 1) goto out;
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) != 1) goto out;
	rc = 0;
out:
	OSSL_PARAM_free(params); /* the secure part holding d is cleansed */
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(bn);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* Appends a DER INTEGER for a 32-byte big-endian non-negative value. */
static size_t der_int(uint8_t *out, const uint8_t v[32])
{
	size_t i = 0, n = 0;
	while (i < 31 && v[i] == 0)
		i++;
	out[n++] = 0x02;
	int pad = (v[i] & 0x80) != 0;
	out[n++] = (uint8_t)(32 - i + (size_t)pad);
	if (pad) out[n++] = 0;
	memcpy(out + n, v + i, 32 - i);
	return n + 32 - i;
}

/* DER ECDSA-Sig-Value for r||s; at most 72 bytes, no allocation. */
static size_t der_sig(uint8_t out[72], const uint8_t rs[64])
{
	uint8_t body[70];
	size_t n = der_int(body, rs);
	n += der_int(body + n, rs + 32);
	out[0] = 0x30;
	out[1] = (uint8_t)n;
	memcpy(out + 2, body, n);
	return n + 2;
}

static int p256_sign(ssp_sig *sig, const uint8_t d[32], const ssp_hash *digest)
{
	int rc;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *n = NULL, *s2 = NULL;
	uint8_t der[80];
	size_t derlen = sizeof der;

	rc = p256_pkey_private(&pkey, d);
	if (rc) goto out;
	rc = SSP_ERR_NOMEM;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	n = BN_bin2bn(P256_N, 32, NULL);
	s2 = BN_new();
	if (!ctx || !n || !s2) goto out;
	rc = SSP_ERR_INTERNAL;
	if (EVP_PKEY_sign_init(ctx) != 1) goto out;
	if (EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) goto out;
	if (EVP_PKEY_sign(ctx, der, &derlen, digest->b, sizeof digest->b) != 1) goto out;
	const uint8_t *p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if (!es) goto out;
	const BIGNUM *r = ECDSA_SIG_get0_r(es), *s = ECDSA_SIG_get0_s(es);
	if (BN_bn2binpad(r, sig->b, 32) != 32 || BN_bn2binpad(s, sig->b + 32, 32) != 32) goto out;
	/* Low S: replace s by n - s when s > n/2, so each signature has one form. */
	if (memcmp(sig->b + 32, P256_HALF_N, 32) > 0) {
		if (!BN_sub(s2, n, s) || BN_bn2binpad(s2, sig->b + 32, 32) != 32) goto out;
	}
	rc = 0;
out:
	if (rc) sodium_memzero(sig, sizeof *sig);
	ECDSA_SIG_free(es);
	BN_free(n);
	BN_free(s2);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

static int p256_verify(const ssp_pubkey *pk, const ssp_hash *digest, const ssp_sig *sig)
{
	int rc = SSP_ERR_BADSIG;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t der[72];
	size_t derlen;

	/* Range checks first: they are free and reject the classic edge cases. */
	if (!p256_scalar_ok(sig->b) || !p256_scalar_ok(sig->b + 32)) goto out;
	if (memcmp(sig->b + 32, P256_HALF_N, 32) > 0) {
		rc = SSP_ERR_HIGHS;
		goto out;
	}
	if (pk->len != 33) {
		rc = SSP_ERR_BADKEY;
		goto out;
	}
	rc = p256_pkey_cached(&pkey, pk->b);
	if (rc) goto out;
	/* A fresh context per verify; never re-initialise one with another key. */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	rc = SSP_ERR_BADSIG;
	if (EVP_PKEY_verify_init(ctx) != 1) goto out;
	if (EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) goto out;
	derlen = der_sig(der, sig->b);
	if (EVP_PKEY_verify(ctx, der, derlen, digest->b, sizeof digest->b) != 1) goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* ------------------------------------------------------------------- keys */

int ssp_key_generate(ssp_seckey *sk, ssp_pubkey *pk, int type)
{
	int rc;
	uint8_t d[32];

	memset(sk, 0, sizeof *sk);
	memset(pk, 0, sizeof *pk);
	switch (type) {
	case SSP_KEY_ED25519:
		sk->type = SSP_KEY_ED25519;
		sk->len = crypto_sign_SECRETKEYBYTES;
		pk->type = SSP_KEY_ED25519;
		pk->len = crypto_sign_PUBLICKEYBYTES;
		rc = crypto_sign_keypair(pk->b, sk->b) == 0 ? 0 : SSP_ERR_INTERNAL;
		break;
	case SSP_KEY_P256:
		/* Rejection sampling: a uniform scalar in [1, n-1]. */
		do
			randombytes_buf(d, sizeof d);
		while (!p256_scalar_ok(d));
		rc = ssp_seckey_from_raw(sk, SSP_KEY_P256, d, sizeof d);
		if (!rc) rc = ssp_key_public(pk, sk);
		break;
	default:
		rc = SSP_ERR_KEYTYPE;
	}
	if (rc) {
		ssp_seckey_wipe(sk);
		memset(pk, 0, sizeof *pk);
	}
	sodium_memzero(d, sizeof d);
	return rc;
}

int ssp_key_public(ssp_pubkey *pk, const ssp_seckey *sk)
{
	int rc = SSP_ERR_BADKEY;
	uint8_t epk[crypto_sign_PUBLICKEYBYTES], esk[crypto_sign_SECRETKEYBYTES];

	memset(pk, 0, sizeof *pk);
	switch (sk->type) {
	case SSP_KEY_ED25519:
		if (sk->len != crypto_sign_SECRETKEYBYTES) goto out;
		/* Re-derive from the seed so a corrupted sk (seed || wrong pk) is caught. */
		if (crypto_sign_seed_keypair(epk, esk, sk->b) != 0) goto out;
		if (sodium_memcmp(epk, sk->b + 32, sizeof epk) != 0) goto out;
		pk->type = SSP_KEY_ED25519;
		pk->len = sizeof epk;
		memcpy(pk->b, epk, sizeof epk);
		rc = 0;
		break;
	case SSP_KEY_P256:
		if (sk->len != 32) goto out;
		rc = p256_public(pk->b, sk->b);
		if (rc) goto out;
		pk->type = SSP_KEY_P256;
		pk->len = 33;
		break;
	default:
		rc = SSP_ERR_KEYTYPE;
	}
out:
	if (rc) memset(pk, 0, sizeof *pk);
	sodium_memzero(esk, sizeof esk);
	return rc;
}

int ssp_seckey_from_raw(ssp_seckey *sk, int type, const uint8_t *raw, size_t n)
{
	int rc = SSP_ERR_INVAL;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];

	memset(sk, 0, sizeof *sk);
	if (type != SSP_KEY_ED25519 && type != SSP_KEY_P256) {
		rc = SSP_ERR_KEYTYPE;
		goto out;
	}
	if (!raw || n != 32) goto out;
	if (type == SSP_KEY_ED25519) {
		if (crypto_sign_seed_keypair(pk, sk->b, raw) != 0) {
			rc = SSP_ERR_INTERNAL;
			goto out;
		}
		sk->len = crypto_sign_SECRETKEYBYTES;
	} else {
		if (!p256_scalar_ok(raw)) {
			rc = SSP_ERR_BADKEY;
			goto out;
		}
		memcpy(sk->b, raw, 32);
		sk->len = 32;
	}
	sk->type = (uint8_t)type;
	rc = 0;
out:
	if (rc) ssp_seckey_wipe(sk);
	return rc;
}

void ssp_seckey_raw(const ssp_seckey *sk, uint8_t out[32])
{
	/* ed25519: the seed is the first half of libsodium's sk; p256: the scalar. */
	memcpy(out, sk->b, 32);
}

int ssp_pubkey_parse(ssp_pubkey *pk, int type, const uint8_t *p, size_t n)
{
	int rc = SSP_ERR_BADKEY;
	EC_POINT *pt = NULL;

	memset(pk, 0, sizeof *pk);
	switch (type) {
	case SSP_KEY_ED25519:
		/* Rejects non-canonical encodings, small-order points and the identity. */
		if (!p || n != crypto_sign_PUBLICKEYBYTES) goto out;
		if (!crypto_core_ed25519_is_valid_point(p)) goto out;
		break;
	case SSP_KEY_P256:
		if (!p) goto out;
		rc = p256_point_decode(&pt, p, n);
		if (rc) goto out;
		break;
	default:
		rc = SSP_ERR_KEYTYPE;
		goto out;
	}
	pk->type = (uint8_t)type;
	pk->len = (uint8_t)n;
	memcpy(pk->b, p, n);
	rc = 0;
out:
	EC_POINT_free(pt);
	return rc;
}

int ssp_pubkey_text_parse(ssp_pubkey *pk, const char *text)
{
	const char *colon = strchr(text, ':');
	uint8_t raw[SSP_PUBKEY_MAX];
	char tname[16];
	if (!colon || (size_t)(colon - text) >= sizeof tname) return SSP_ERR_BADKEY;
	memcpy(tname, text, (size_t)(colon - text));
	tname[colon - text] = 0;
	int type = ssp_key_type_parse(tname);
	if (type < 0) return type;
	size_t n = ssp_pubkey_len(type);
	if (ssp_hex_decode(raw, n, colon + 1, strlen(colon + 1))) return SSP_ERR_BADKEY;
	return ssp_pubkey_parse(pk, type, raw, n);
}

void ssp_pubkey_text(char *out, size_t cap, const ssp_pubkey *pk)
{
	char hex[2 * SSP_PUBKEY_MAX + 1];
	ssp_hex_encode(hex, pk->b, pk->len);
	snprintf(out, cap, "%s:%s", ssp_key_type_name(pk->type), hex);
}

int ssp_pubkey_p256_uncompressed(ssp_pubkey *pk, const uint8_t p[65])
{
	int rc = SSP_ERR_BADKEY;
	const EC_GROUP *g = p256_group();
	EC_POINT *pt = NULL;
	uint8_t c[33];

	memset(pk, 0, sizeof *pk);
	if (!g || p[0] != 4) goto out;
	pt = EC_POINT_new(g);
	if (!pt) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	if (EC_POINT_oct2point(g, pt, p, 65, NULL) != 1) goto out;
	if (EC_POINT_is_at_infinity(g, pt) || EC_POINT_is_on_curve(g, pt, NULL) != 1) goto out;
	if (EC_POINT_point2oct(g, pt, POINT_CONVERSION_COMPRESSED, c, sizeof c, NULL) != 33)
		goto out;
	rc = ssp_pubkey_parse(pk, SSP_KEY_P256, c, 33);
out:
	EC_POINT_free(pt);
	ERR_clear_error();
	return rc;
}

int ssp_sig_p256_low_s(ssp_sig *sig)
{
	if (!p256_scalar_ok(sig->b) || !p256_scalar_ok(sig->b + 32)) return SSP_ERR_BADSIG;
	if (memcmp(sig->b + 32, P256_HALF_N, 32) <= 0) return 0;
	/* n − s, big-endian, by hand: 32 bytes with a borrow, no allocation */
	unsigned borrow = 0;
	for (int i = 31; i >= 0; i--) {
		unsigned d = (unsigned)P256_N[i] - sig->b[32 + i] - borrow;
		sig->b[32 + i] = (uint8_t)d;
		borrow = (d >> 8) & 1;
	}
	return 0;
}

/* Never prompt on a terminal for an encrypted PEM: report "no password". */
static int pem_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int ssp_seckey_to_pem(char **pem, size_t *n, const ssp_seckey *sk)
{
	int rc = SSP_ERR_NOMEM;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	char *data;
	long len;

	*pem = NULL;
	*n = 0;
	bio = BIO_new(BIO_s_secmem()); /* cleared when freed */
	if (!bio) goto out;
	if (sk->type == SSP_KEY_ED25519 && sk->len == 64) {
		/* libsodium's sk is seed || pk: PKCS#8 holds the 32-byte seed */
		pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk->b, 32);
	} else if (sk->type == SSP_KEY_P256 && sk->len == 32) {
		if ((rc = p256_pkey_private(&pkey, sk->b))) goto out;
		rc = SSP_ERR_NOMEM;
	} else {
		rc = SSP_ERR_INVAL;
		goto out;
	}
	if (!pkey) goto out;
	rc = SSP_ERR_INTERNAL;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) goto out;
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) goto out;
	rc = SSP_ERR_NOMEM;
	*pem = malloc((size_t)len + 1);
	if (!*pem) goto out;
	memcpy(*pem, data, (size_t)len);
	(*pem)[len] = '\0';
	*n = (size_t)len;
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int ssp_seckey_from_pem(ssp_seckey *sk, const char *pem, size_t n)
{
	int rc = SSP_ERR_PEM;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *priv = NULL;
	uint8_t raw[32];
	size_t rawlen = sizeof raw;
	char group[64];

	memset(sk, 0, sizeof *sk);
	if (!pem || n == 0 || n > PEM_MAX) goto out;
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_no_password, NULL);
	if (!pkey) goto out;
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		if (EVP_PKEY_get_raw_private_key(pkey, raw, &rawlen) != 1 || rawlen != 32) goto out;
		rc = ssp_seckey_from_raw(sk, SSP_KEY_ED25519, raw, rawlen);
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                   sizeof group, NULL) != 1)
			goto out;
		if (strcmp(group, P256_GROUP_NAME) != 0 && strcmp(group, "P-256") != 0) goto out;
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1) goto out;
		if (BN_bn2binpad(priv, raw, sizeof raw) != (int)sizeof raw) goto out;
		rc = ssp_seckey_from_raw(sk, SSP_KEY_P256, raw, sizeof raw);
	}
	if (rc && rc != SSP_ERR_NOMEM) rc = SSP_ERR_PEM;
out:
	sodium_memzero(raw, sizeof raw);
	BN_clear_free(priv);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	if (rc) ssp_seckey_wipe(sk);
	return rc;
}

/* ------------------------------------------------------------- signatures */

static const char *domain_tag(int domain)
{
	switch (domain) {
	case SSP_DOM_TX:
		return "SSP/tx/v1";
	case SSP_DOM_BLOCK:
		return "SSP/block/v1";
	case SSP_DOM_VOTE:
		return "SSP/vote/v1";
	case SSP_DOM_RECEIPT:
		return "SSP/receipt/v1";
	case SSP_DOM_ATTEST:
		return "SSP/attest/v1";
	case SSP_DOM_CERT:
		return "SSP/device-cert/v1";
	case SSP_DOM_APPROVE:
		return "SSP/approve/v1";
	case SSP_DOM_CLAIM:
		return "SSP/claim/v1";
	case SSP_DOM_ONION:
		return "SSP/onion/v1";
	}
	return NULL;
}

void ssp_sig_digest(ssp_hash *out, int domain, const char *chain_id, const void *msg, size_t n)
{
	const char *tag = domain_tag(domain);
	size_t idlen = chain_id ? strlen(chain_id) : 0;
	/* An unknown domain, an over-long chain id or a NULL message is a programming error. */
	if (!tag || idlen > 255 || (!msg && n)) abort();
	uint8_t idlen8 = (uint8_t)idlen;
	const void *parts[4] = {tag, &idlen8, chain_id, msg};
	/* The tag's NUL is hashed too, so a tag can never run into a chain id. */
	size_t lens[4] = {strlen(tag) + 1, 1, idlen, n};
	ssp_sha256v(out, parts, lens, 4);
}

int ssp_sign_digest(ssp_sig *sig, const ssp_seckey *sk, const ssp_hash *digest)
{
	int rc = SSP_ERR_BADKEY;

	memset(sig, 0, sizeof *sig);
	switch (sk->type) {
	case SSP_KEY_ED25519:
		if (sk->len != crypto_sign_SECRETKEYBYTES) goto out;
		if (crypto_sign_detached(sig->b, NULL, digest->b, sizeof digest->b, sk->b) != 0) {
			rc = SSP_ERR_INTERNAL;
			goto out;
		}
		rc = 0;
		break;
	case SSP_KEY_P256:
		if (sk->len != 32) goto out;
		rc = p256_sign(sig, sk->b, digest);
		break;
	default:
		rc = SSP_ERR_KEYTYPE;
	}
out:
	return rc;
}

int ssp_verify_digest(const ssp_pubkey *pk, const ssp_hash *digest, const ssp_sig *sig)
{
	switch (pk->type) {
	case SSP_KEY_ED25519:
		if (pk->len != crypto_sign_PUBLICKEYBYTES) return SSP_ERR_BADKEY;
		/* libsodium rejects non-canonical S, small-order keys and R. */
		if (crypto_sign_verify_detached(sig->b, digest->b, sizeof digest->b, pk->b) != 0)
			return SSP_ERR_BADSIG;
		return 0;
	case SSP_KEY_P256:
		return p256_verify(pk, digest, sig);
	}
	return SSP_ERR_BADKEY;
}

int ssp_sign(ssp_sig *sig, const ssp_seckey *sk, int domain, const char *chain_id, const void *msg,
             size_t n)
{
	ssp_hash h;
	ssp_sig_digest(&h, domain, chain_id, msg, n);
	return ssp_sign_digest(sig, sk, &h);
}

int ssp_verify(const ssp_pubkey *pk, int domain, const char *chain_id, const void *msg, size_t n,
               const ssp_sig *sig)
{
	ssp_hash h;
	ssp_sig_digest(&h, domain, chain_id, msg, n);
	return ssp_verify_digest(pk, &h, sig);
}

void ssp_seckey_wipe(ssp_seckey *sk)
{
	sodium_memzero(sk, sizeof *sk);
}

bool ssp_pubkey_eq(const ssp_pubkey *a, const ssp_pubkey *b)
{
	return a->type == b->type && a->len == b->len && a->len <= SSP_PUBKEY_MAX &&
	       !memcmp(a->b, b->b, a->len);
}
