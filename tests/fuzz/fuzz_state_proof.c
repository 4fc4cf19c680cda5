/*
 * fuzz_state_proof.c — libFuzzer harness for the state-proof decoder and
 * verifier (core layer, ssp/stateproof.h). Input: u8 key length (mod 33) ‖
 * key ‖ proof bytes. Properties: decoding never reads past the input; a
 * decoded proof re-encodes to exactly its bytes (one encoding per proof);
 * the verifier agrees with the root the proof itself implies (recomputed
 * here from the decoded fields with the hashing rules), accepting it exactly
 * when the proof is well-formed for the key, and rejects it under any other
 * root.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/stateproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ssp_sproof p;
	ssp_hash path, h, root;
	bool present;
	if (size < 1) return 0;
	size_t kl = data[0] % 33;
	if (size < 1 + kl) return 0;
	const uint8_t *key = data + 1, *proof = data + 1 + kl;
	size_t plen = size - 1 - kl;
	int rc = ssp_sproof_decode(&p, proof, plen);
	memset(&root, 0, sizeof root);
	if (rc) {
		check(ssp_sproof_verify(&present, NULL, &root, key, kl, proof, plen) == SSP_ERR_PROOF);
		return 0;
	}
	ssp_buf b;
	ssp_buf_init(&b, SSP_SPROOF_MAX_BYTES);
	ssp_sproof_encode(&b, &p);
	check(b.err == 0 && b.len == plen && !memcmp(b.data, proof, plen));
	ssp_buf_free(&b);
	/* the root this proof implies for this key */
	ssp_smt_path(&path, key, kl);
	bool wellformed = true;
	if (p.kind == SSP_SPROOF_PRESENT) {
		ssp_smt_leaf(&h, &path, &p.value_hash);
	} else if (p.kind == SSP_SPROOF_EMPTY) {
		memset(&h, 0, sizeof h);
	} else {
		ssp_smt_leaf(&h, &p.other_path, &p.value_hash);
		if (!memcmp(p.other_path.b, path.b, 32)) wellformed = false;
		for (unsigned i = 0; i < p.depth; i++)
			if (ssp_smt_bit(&p.other_path, i) != ssp_smt_bit(&path, i)) wellformed = false;
	}
	if (p.depth && ssp_hash_is_zero(&p.siblings[p.depth - 1])) wellformed = false;
	for (unsigned i = p.depth; i-- > 0;) {
		if (ssp_smt_bit(&path, i))
			ssp_smt_node(&h, &p.siblings[i], &h);
		else
			ssp_smt_node(&h, &h, &p.siblings[i]);
	}
	ssp_hash vh;
	rc = ssp_sproof_verify(&present, &vh, &h, key, kl, proof, plen);
	check(wellformed ? rc == 0 : rc == SSP_ERR_PROOF);
	if (!rc) {
		check(present == (p.kind == SSP_SPROOF_PRESENT));
		if (present) check(!memcmp(vh.b, p.value_hash.b, 32));
	}
	h.b[31] ^= 1;
	check(ssp_sproof_verify(&present, NULL, &h, key, kl, proof, plen) == SSP_ERR_PROOF);
	return 0;
}
