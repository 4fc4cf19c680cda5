/*
 * ssp/stateproof.h — state proofs (part of libssp_core): the hashing rules of
 * the sparse Merkle tree whose root is every block header's state_root, and
 * the verifier a light client (a device, a wallet) runs against a final
 * header: given the root, a state key and a proof, the key holds a value
 * (whose SHA-256 the proof names), is absent, or the proof is invalid.
 *
 * The tree (docs/internals/state.md): a binary tree over the 256-bit path
 * SHA-256(key) of every state key (u8 table ‖ key), compacted: a subtree
 * holding one entry is that entry's leaf, an empty subtree hashes to 32 zero
 * bytes. leaf = SHA-256(0x00 ‖ path ‖ SHA-256(value)),
 * node = SHA-256(0x01 ‖ left ‖ right).
 *
 * Proof bytes: u8 kind (0 present, 1 absent: empty subtree, 2 absent: another
 * key's leaf) ‖ u16 depth (LE, ≤ 256) ‖ bitmap of ⌈depth/8⌉ bytes (bit i,
 * LSB first, set = the sibling at level i is not empty; unused bits zero) ‖
 * one 32-byte sibling per set bit, root side first ‖ terminal: kind 0
 * value_hash[32], kind 1 nothing, kind 2 other_path[32] ‖ other_value_hash[32].
 * Decoding is strict: one proof has one encoding. Thread-safe, no allocation.
 */
#ifndef SSP_STATEPROOF_H
#define SSP_STATEPROOF_H

#include "ssp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* all of it is API (SSP_API in ssp/core.h) */

#define SSP_SPROOF_MAX_DEPTH 256
/* the largest valid proof: kind, depth, full bitmap, 256 siblings, other leaf */
#define SSP_SPROOF_MAX_BYTES (3 + 32 + 32 * 256 + 64)

enum { SSP_SPROOF_PRESENT = 0, SSP_SPROOF_EMPTY = 1, SSP_SPROOF_OTHER = 2 };

/* A decoded proof. siblings[i] is the sibling at level i (zero when empty). */
typedef struct {
	uint8_t kind;
	uint16_t depth;
	ssp_hash siblings[SSP_SPROOF_MAX_DEPTH];
	ssp_hash value_hash; /* kind 0 and 2 */
	ssp_hash other_path; /* kind 2 */
} ssp_sproof;

/* The tree's hashing rules (the chain builds the tree with these). */
void ssp_smt_path(ssp_hash *out, const void *key, size_t klen);
void ssp_smt_value_hash(ssp_hash *out, const void *val, size_t vlen);
void ssp_smt_leaf(ssp_hash *out, const ssp_hash *path, const ssp_hash *value_hash);
void ssp_smt_node(ssp_hash *out, const ssp_hash *left, const ssp_hash *right);
/* Bit i (0 = most significant bit of byte 0) of a path. */
static inline int ssp_smt_bit(const ssp_hash *path, unsigned i)
{
	return (path->b[i >> 3] >> (7 - (i & 7))) & 1;
}

/*
 * Strict decoding (SSP_ERR_TRUNCATED, SSP_ERR_TRAILING, SSP_ERR_NONCANON for a
 * set bitmap bit past depth or a listed all-zero sibling, SSP_ERR_DECODE for an
 * unknown kind or depth > 256). *out is written in any case.
 */
SSP_WUR int ssp_sproof_decode(ssp_sproof *out, const void *p, size_t n);
/* Appends the encoding of a proof to b (b->err on overflow). */
void ssp_sproof_encode(ssp_buf *b, const ssp_sproof *p);

/*
 * Verifies `proof` for the state key key[0..klen) (u8 table ‖ key) against
 * `root`. Returns 0 and sets *present (and *value_hash when present) when the
 * proof holds, or SSP_ERR_PROOF: undecodable, wrong depth, reordered,
 * another key's or another root's proof. value_hash may be NULL.
 */
SSP_WUR int ssp_sproof_verify(bool *present, ssp_hash *value_hash, const ssp_hash *root,
                              const void *key, size_t klen, const void *proof, size_t plen);
/*
 * Checks a claim about a key: it holds value[0..vlen) (value != NULL), or it is
 * absent (value == NULL). 0 when the proof shows exactly that, SSP_ERR_PROOF
 * otherwise.
 */
SSP_WUR int ssp_sproof_check(const ssp_hash *root, const void *key, size_t klen, const void *value,
                             size_t vlen, const void *proof, size_t plen);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
