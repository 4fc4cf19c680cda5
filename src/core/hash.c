/*
 * hash.c — SHA-256 through OpenSSL's EVP interface (core layer). One-shot
 * calls reuse a thread-local EVP_MD_CTX and a pre-fetched EVP_MD, which is
 * several times faster than EVP_Digest for the short inputs we hash most.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

struct ssp_sha256_ctx {
	EVP_MD_CTX *md;
};

/*
 * Per-thread hashing state. The _Thread_local pointer is the fast path; the
 * pthread key's destructor frees the state when a thread exits (RPC
 * connection threads come and go), so nothing leaks per thread.
 */
typedef struct {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
} tls_sha;

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static _Thread_local tls_sha *tls;

static void tls_free(void *p)
{
	tls_sha *t = p;
	EVP_MD_CTX_free(t->ctx);
	EVP_MD_free(t->md);
	free(t);
	tls = NULL;
}

static void tls_key_init(void)
{
	if (pthread_key_create(&tls_key, tls_free) != 0) abort();
}

static tls_sha *tls_get(void)
{
	if (tls) return tls;
	if (pthread_once(&tls_once, tls_key_init) != 0) abort();
	tls_sha *t = calloc(1, sizeof *t); /* one per thread; failure aborts below */
	if (!t) abort();
	t->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	t->ctx = EVP_MD_CTX_new();
	/* OpenSSL without SHA-256, or no memory for 200 bytes: a node cannot run */
	if (!t->md || !t->ctx || pthread_setspecific(tls_key, t) != 0) abort();
	return tls = t;
}

static const EVP_MD *sha256_md(void)
{
	return tls_get()->md;
}

static EVP_MD_CTX *tls_ctx(void)
{
	return tls_get()->ctx;
}

void ssp_sha256v(ssp_hash *out, const void *const *parts, const size_t *lens, size_t count)
{
	EVP_MD_CTX *c = tls_ctx();
	unsigned int n = 32;
	if (EVP_DigestInit_ex(c, sha256_md(), NULL) != 1) abort();
	for (size_t i = 0; i < count; i++)
		if (lens[i] && EVP_DigestUpdate(c, parts[i], lens[i]) != 1) abort();
	if (EVP_DigestFinal_ex(c, out->b, &n) != 1) abort();
}

void ssp_sha256(ssp_hash *out, const void *p, size_t n)
{
	ssp_sha256v(out, &p, &n, 1);
}

ssp_sha256_ctx *ssp_sha256_new(void)
{
	ssp_sha256_ctx *c = ssp_calloc(1, sizeof *c);
	if (!c) return NULL;
	c->md = EVP_MD_CTX_new();
	if (!c->md) {
		free(c);
		return NULL;
	}
	ssp_sha256_init(c);
	return c;
}

void ssp_sha256_init(ssp_sha256_ctx *c)
{
	if (EVP_DigestInit_ex(c->md, sha256_md(), NULL) != 1) abort();
}

void ssp_sha256_update(ssp_sha256_ctx *c, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(c->md, p, n) != 1) abort();
}

void ssp_sha256_final(ssp_sha256_ctx *c, ssp_hash *out)
{
	unsigned int n = 32;
	if (EVP_DigestFinal_ex(c->md, out->b, &n) != 1) abort();
}

void ssp_sha256_free(ssp_sha256_ctx *c)
{
	if (!c) return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

int ssp_hash_is_zero(const ssp_hash *h)
{
	static const ssp_hash z;
	return memcmp(h, &z, sizeof z) == 0;
}
