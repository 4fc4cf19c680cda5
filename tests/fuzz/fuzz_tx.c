/*
 * fuzz_tx.c — libFuzzer harness for the transaction decoder (chain layer):
 * ssp_tx_decode on arbitrary bytes, and on success a canonicality check —
 * an encoder written here from the decoded fields must give back exactly
 * the input (one byte string per tx, so the txid is a true identity) — plus
 * the invariants the rest of the node relies on (signed_len, txid, chain id
 * characters, the key hashing to `from`). The transfer payload decoder is
 * checked the same way, on the payload and on the raw input. The signature
 * is verified when a key is present (its result is not asserted: it
 * exercises the verifiers on attacker-chosen keys). Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

/* Encodes a transfer payload from its decoded fields and compares. */
static void transfer_round_trip(const uint8_t *p, size_t n)
{
	ssp_transfer t;
	ssp_buf b;
	if (ssp_transfer_decode(&t, p, n)) return;
	check(t.amount != 0 && t.memo_len <= SSP_MEMO_MAX);
	for (uint32_t i = 0; i < t.memo_len; i++)
		check(t.memo[i] != 0);
	ssp_buf_init(&b, n + 64);
	ssp_transfer_encode(&b, &t);
	check(b.err == 0 && b.len == n && memcmp(b.data, p, n) == 0);
	ssp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	ssp_tx tx;
	ssp_buf b;
	ssp_hash h;
	if (!ready) {
		if (ssp_core_init()) abort();
		ready = 1;
	}
	transfer_round_trip(data, size);
	if (ssp_tx_decode(&tx, data, size)) return 0;

	check(tx.raw == data && tx.raw_len == size);
	check(tx.signed_len + SSP_SIG_LEN == size);
	check(memcmp(tx.sig.b, data + tx.signed_len, SSP_SIG_LEN) == 0);
	ssp_sha256(&h, data, size);
	check(memcmp(h.b, tx.txid.b, 32) == 0);
	check(tx.type != 0 && tx.payload_len <= SSP_TX_PAYLOAD_MAX);
	size_t cl = strlen(tx.chain_id);
	check(cl >= 1 && cl <= SSP_CHAIN_ID_MAX);
	for (size_t i = 0; i < cl; i++) {
		char c = tx.chain_id[i];
		check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_');
	}
	if (tx.has_pubkey) {
		ssp_addr a;
		check(tx.pubkey.len == ssp_pubkey_len(tx.pubkey.type));
		ssp_addr_from_pubkey(&a, &tx.pubkey);
		check(memcmp(a.b, tx.from.b, SSP_ADDR_LEN) == 0);
	}

	/* re-encode from the fields: the wire form has exactly one encoding */
	ssp_buf_init(&b, SSP_TX_MAX);
	ssp_buf_u8(&b, SSP_TX_VERSION);
	ssp_buf_u8(&b, (uint8_t)cl);
	ssp_buf_put(&b, tx.chain_id, cl);
	ssp_buf_u16(&b, tx.type);
	ssp_buf_put(&b, tx.from.b, SSP_ADDR_LEN);
	ssp_buf_u64(&b, tx.nonce);
	ssp_buf_u64(&b, tx.fee);
	ssp_buf_u64(&b, tx.expiry);
	ssp_buf_bytes(&b, tx.payload, tx.payload_len);
	ssp_buf_u8(&b, tx.has_pubkey ? 1 : 0);
	if (tx.has_pubkey) {
		ssp_buf_u8(&b, tx.pubkey.type);
		ssp_buf_put(&b, tx.pubkey.b, tx.pubkey.len);
	}
	check(b.err == 0 && b.len == tx.signed_len);
	ssp_buf_put(&b, tx.sig.b, SSP_SIG_LEN);
	check(b.err == 0 && b.len == size && memcmp(b.data, data, size) == 0);
	ssp_buf_free(&b);

	if (tx.type == SSP_TX_TRANSFER) transfer_round_trip(tx.payload, tx.payload_len);
	if (tx.has_pubkey) {
		int rc =
		    ssp_verify(&tx.pubkey, SSP_DOM_TX, tx.chain_id, data, tx.signed_len, &tx.sig);
		check(rc == 0 || rc == SSP_ERR_BADSIG || rc == SSP_ERR_HIGHS ||
		      rc == SSP_ERR_BADKEY);
	}
	return 0;
}
