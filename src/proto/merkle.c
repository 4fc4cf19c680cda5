/*
 * merkle.c — binary Merkle roots and inclusion proofs over 32-byte leaves
 * (proto layer: the chain builds the roots and proofs, a light client
 * checks them). Leaves and inner nodes are hashed under different prefixes
 * (0x00, 0x01) so an inner node can never pose as a leaf, and an odd last
 * node is carried up rather than duplicated, so no two leaf lists share a
 * root (the CVE-2012-2459 mistake).
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/proto.h"

static void leaf_hash(ssp_hash *out, const ssp_hash *leaf)
{
	static const uint8_t tag = 0;
	const void *p[2] = {&tag, leaf->b};
	size_t l[2] = {1, 32};
	ssp_sha256v(out, p, l, 2);
}

static void node_hash(ssp_hash *out, const ssp_hash *a, const ssp_hash *b)
{
	static const uint8_t tag = 1;
	const void *p[3] = {&tag, a->b, b->b};
	size_t l[3] = {1, 32, 32};
	ssp_sha256v(out, p, l, 3);
}

/* Reduces level[0..n) in place to its parent level; returns the new count. */
static size_t reduce(ssp_hash *level, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i += 2) {
		if (i + 1 < n)
			node_hash(&level[m++], &level[i], &level[i + 1]);
		else
			level[m++] = level[i];
	}
	return m;
}

void ssp_merkle_root_inplace(ssp_hash *root, ssp_hash *leaves, size_t n)
{
	memset(root, 0, sizeof *root);
	if (n == 0) return;
	for (size_t i = 0; i < n; i++)
		leaf_hash(&leaves[i], &leaves[i]);
	while (n > 1)
		n = reduce(leaves, n);
	*root = leaves[0];
}

void ssp_merkle_root(ssp_hash *root, const ssp_hash *leaves, size_t n)
{
	memset(root, 0, sizeof *root);
	if (n == 0) return;
	ssp_hash *lv = ssp_malloc(n * sizeof *lv);
	if (!lv) abort(); /* roots are consensus: never return a wrong one */
	memcpy(lv, leaves, n * sizeof *lv);
	ssp_merkle_root_inplace(root, lv, n);
	free(lv);
}

int ssp_merkle_prove(ssp_merkle_proof *pf, const ssp_hash *leaves, size_t n, size_t index)
{
	memset(pf, 0, sizeof *pf);
	if (index >= n || n > UINT32_MAX) return SSP_ERR_RANGE;
	ssp_hash *lv = ssp_malloc(n * sizeof *lv);
	if (!lv) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		leaf_hash(&lv[i], &leaves[i]);
	pf->index = (uint32_t)index;
	pf->count = (uint32_t)n;
	size_t idx = index;
	while (n > 1) {
		size_t sib = idx ^ 1;
		if (sib < n) pf->siblings[pf->depth++] = lv[sib];
		n = reduce(lv, n);
		idx /= 2;
	}
	free(lv);
	return 0;
}

int ssp_merkle_verify(const ssp_hash *root, const ssp_hash *leaf, const ssp_merkle_proof *pf)
{
	if (pf->count == 0 || pf->index >= pf->count || pf->depth > SSP_MERKLE_MAX_DEPTH) return 0;
	ssp_hash h;
	leaf_hash(&h, leaf);
	size_t idx = pf->index, n = pf->count;
	uint32_t k = 0;
	while (n > 1) {
		size_t sib = idx ^ 1;
		if (sib < n) {
			if (k >= pf->depth) return 0;
			if (idx & 1)
				node_hash(&h, &pf->siblings[k], &h);
			else
				node_hash(&h, &h, &pf->siblings[k]);
			k++;
		}
		idx /= 2;
		n = (n + 1) / 2;
	}
	return k == pf->depth && memcmp(h.b, root->b, 32) == 0;
}
