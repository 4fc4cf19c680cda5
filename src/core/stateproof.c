/*
 * stateproof.c — the sparse Merkle tree's hashing rules and the state-proof
 * codec and verifier (core layer; include/ssp/stateproof.h). What a light
 * client links to check a balance or a record against a final header's
 * state_root: no allocation, no I/O, nothing of the chain.
 */
#include <string.h>

#include "ssp/stateproof.h"

void ssp_smt_path(ssp_hash *out, const void *key, size_t klen)
{
	ssp_sha256(out, key, klen);
}

void ssp_smt_value_hash(ssp_hash *out, const void *val, size_t vlen)
{
	ssp_sha256(out, val, vlen);
}

void ssp_smt_leaf(ssp_hash *out, const ssp_hash *path, const ssp_hash *value_hash)
{
	static const uint8_t tag = 0x00;
	const void *parts[3] = {&tag, path->b, value_hash->b};
	const size_t lens[3] = {1, 32, 32};
	ssp_sha256v(out, parts, lens, 3);
}

void ssp_smt_node(ssp_hash *out, const ssp_hash *left, const ssp_hash *right)
{
	static const uint8_t tag = 0x01;
	const void *parts[3] = {&tag, left->b, right->b};
	const size_t lens[3] = {1, 32, 32};
	ssp_sha256v(out, parts, lens, 3);
}

int ssp_sproof_decode(ssp_sproof *out, const void *p, size_t n)
{
	ssp_rd r;
	uint8_t bitmap[SSP_SPROOF_MAX_DEPTH / 8];
	memset(out, 0, sizeof *out);
	ssp_rd_init(&r, p, n);
	out->kind = ssp_rd_u8(&r);
	out->depth = ssp_rd_u16(&r);
	if (r.err) return r.err;
	if (out->kind > SSP_SPROOF_OTHER || out->depth > SSP_SPROOF_MAX_DEPTH) return SSP_ERR_DECODE;
	size_t nb = ((size_t)out->depth + 7) / 8;
	ssp_rd_raw(&r, bitmap, nb);
	if (r.err) return r.err;
	if (out->depth % 8 && (bitmap[nb - 1] >> (out->depth % 8))) return SSP_ERR_NONCANON;
	for (unsigned i = 0; i < out->depth; i++) {
		if (!((bitmap[i >> 3] >> (i & 7)) & 1)) continue;
		ssp_rd_raw(&r, out->siblings[i].b, 32);
		if (r.err) return r.err;
		if (ssp_hash_is_zero(&out->siblings[i])) return SSP_ERR_NONCANON;
	}
	if (out->kind == SSP_SPROOF_OTHER) ssp_rd_raw(&r, out->other_path.b, 32);
	if (out->kind != SSP_SPROOF_EMPTY) ssp_rd_raw(&r, out->value_hash.b, 32);
	return ssp_rd_end(&r);
}

void ssp_sproof_encode(ssp_buf *b, const ssp_sproof *p)
{
	uint8_t bitmap[SSP_SPROOF_MAX_DEPTH / 8] = {0};
	size_t nb = ((size_t)p->depth + 7) / 8;
	ssp_buf_u8(b, p->kind);
	ssp_buf_u16(b, p->depth);
	for (unsigned i = 0; i < p->depth; i++)
		if (!ssp_hash_is_zero(&p->siblings[i])) bitmap[i >> 3] |= (uint8_t)(1u << (i & 7));
	ssp_buf_put(b, bitmap, nb);
	for (unsigned i = 0; i < p->depth; i++)
		if (!ssp_hash_is_zero(&p->siblings[i])) ssp_buf_put(b, p->siblings[i].b, 32);
	if (p->kind == SSP_SPROOF_OTHER) ssp_buf_put(b, p->other_path.b, 32);
	if (p->kind != SSP_SPROOF_EMPTY) ssp_buf_put(b, p->value_hash.b, 32);
}

/* The first `bits` bits of a and b agree. */
static bool same_prefix(const ssp_hash *a, const ssp_hash *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a->b, b->b, full)) return false;
	if (!rest) return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a->b[full] ^ b->b[full]) & mask) == 0;
}

int ssp_sproof_verify(bool *present, ssp_hash *value_hash, const ssp_hash *root, const void *key,
                      size_t klen, const void *proof, size_t plen)
{
	ssp_sproof p;
	ssp_hash path, h;
	*present = false;
	if (ssp_sproof_decode(&p, proof, plen)) return SSP_ERR_PROOF;
	ssp_smt_path(&path, key, klen);
	switch (p.kind) {
	case SSP_SPROOF_PRESENT:
		ssp_smt_leaf(&h, &path, &p.value_hash);
		break;
	case SSP_SPROOF_EMPTY:
		memset(&h, 0, sizeof h);
		break;
	default:
		/* another key's leaf sits where this key's would be: it shares the prefix */
		if (!memcmp(p.other_path.b, path.b, 32) ||
		    !same_prefix(&p.other_path, &path, p.depth))
			return SSP_ERR_PROOF;
		ssp_smt_leaf(&h, &p.other_path, &p.value_hash);
	}
	/*
	 * A leaf or an empty subtree directly under an empty sibling is never in
	 * the tree (the subtree would have been compacted into its parent): the
	 * canonical shape has exactly one proof per key and root.
	 */
	if (p.depth > 0 && ssp_hash_is_zero(&p.siblings[p.depth - 1])) return SSP_ERR_PROOF;
	for (unsigned i = p.depth; i-- > 0;) {
		if (ssp_smt_bit(&path, i))
			ssp_smt_node(&h, &p.siblings[i], &h);
		else
			ssp_smt_node(&h, &h, &p.siblings[i]);
	}
	if (memcmp(h.b, root->b, 32)) return SSP_ERR_PROOF;
	*present = p.kind == SSP_SPROOF_PRESENT;
	if (value_hash && *present) *value_hash = p.value_hash;
	return 0;
}

int ssp_sproof_check(const ssp_hash *root, const void *key, size_t klen, const void *value,
                     size_t vlen, const void *proof, size_t plen)
{
	bool present;
	ssp_hash vh, want;
	if (ssp_sproof_verify(&present, &vh, root, key, klen, proof, plen)) return SSP_ERR_PROOF;
	if (!value) return present ? SSP_ERR_PROOF : 0;
	if (!present) return SSP_ERR_PROOF;
	ssp_smt_value_hash(&want, value, vlen);
	return memcmp(want.b, vh.b, 32) ? SSP_ERR_PROOF : 0;
}
