/*
 * hash.c — SHA-256 through OpenSSL's EVP interface (core layer). One-shot
 * calls reuse a thread-local EVP_MD_CTX and a pre-fetched EVP_MD, which is
 * several times faster than EVP_Digest for the short inputs we hash most.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

struct ssp_sha256_ctx {
	EVP_MD_CTX *md;
};

static const EVP_MD *sha256_md(void)
{
	static _Thread_local EVP_MD *md;
	if (!md) md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!md) abort(); /* OpenSSL without SHA-256 cannot run a node */
	return md;
}

static EVP_MD_CTX *tls_ctx(void)
{
	static _Thread_local EVP_MD_CTX *c;
	if (!c) c = EVP_MD_CTX_new();
	if (!c) abort();
	return c;
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
	ssp_sha256_ctx *c = calloc(1, sizeof *c);
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
