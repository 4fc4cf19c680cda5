/*
 * tx.c — transaction encoding, strict decoding and signing (proto layer).
 * The canonical form is documented in include/ssp/proto.h; decoding accepts
 * exactly one byte string per transaction, so txid is a true identity.
 */
#include <stdlib.h>
#include <string.h>

#include "ssp/proto.h"

static int chain_id_ok(const uint8_t *p, size_t n)
{
	if (n == 0 || n > SSP_CHAIN_ID_MAX) return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_'))
			return 0;
	}
	return 1;
}

int ssp_tx_decode(ssp_tx *tx, const uint8_t *raw, size_t n)
{
	ssp_rd r;
	int rc;
	memset(tx, 0, sizeof *tx);
	if (n > SSP_TX_MAX) return SSP_ERR_TOOBIG;
	ssp_rd_init(&r, raw, n);
	if (ssp_rd_u8(&r) != SSP_TX_VERSION && !r.err) return SSP_ERR_DECODE;
	uint8_t cidlen = ssp_rd_u8(&r);
	const uint8_t *cid = ssp_rd_view(&r, cidlen);
	if (r.err) return r.err;
	if (!chain_id_ok(cid, cidlen)) return SSP_ERR_DECODE;
	memcpy(tx->chain_id, cid, cidlen);
	tx->chain_id[cidlen] = 0;
	tx->type = ssp_rd_u16(&r);
	ssp_rd_raw(&r, tx->from.b, SSP_ADDR_LEN);
	tx->nonce = ssp_rd_u64(&r);
	tx->fee = ssp_rd_u64(&r);
	tx->expiry = ssp_rd_u64(&r);
	size_t plen;
	tx->payload = ssp_rd_bytes(&r, SSP_TX_PAYLOAD_MAX, &plen);
	tx->payload_len = (uint32_t)plen;
	tx->has_pubkey = ssp_rd_bool(&r);
	if (r.err) return r.err;
	if (tx->type == 0) return SSP_ERR_TXTYPE;
	if (tx->has_pubkey) {
		uint8_t kt = ssp_rd_u8(&r);
		size_t kl = ssp_pubkey_len(kt);
		if (r.err) return r.err;
		if (!kl) return SSP_ERR_KEYTYPE;
		const uint8_t *kp = ssp_rd_view(&r, kl);
		if (r.err) return r.err;
		rc = ssp_pubkey_parse(&tx->pubkey, kt, kp, kl);
		if (rc) return rc;
	}
	tx->signed_len = r.off;
	ssp_rd_raw(&r, tx->sig.b, SSP_SIG_LEN);
	rc = ssp_rd_end(&r);
	if (rc) return rc;
	if (tx->has_pubkey) {
		ssp_addr a;
		ssp_addr_from_pubkey(&a, &tx->pubkey);
		if (memcmp(&a, &tx->from, sizeof a)) return SSP_ERR_KEYMISMATCH;
	}
	tx->raw = raw;
	tx->raw_len = n;
	ssp_sha256(&tx->txid, raw, n);
	return 0;
}

size_t ssp_tx_encoded_len(const ssp_tx_build *b, const ssp_pubkey *pk)
{
	return 1 + 1 + strlen(b->chain_id) + 2 + SSP_ADDR_LEN + 8 + 8 + 8 + 4 + b->payload_len + 1 +
	       (b->include_pubkey ? 1 + (size_t)pk->len : 0) + SSP_SIG_LEN;
}

static int tx_sign(uint8_t **out, size_t *outlen, ssp_hash *txid, const ssp_tx_build *b,
                   const ssp_pubkey *pk, ssp_sign_fn sign, void *ctx, bool check)
{
	ssp_addr from;
	ssp_sig sig;
	ssp_hash d;
	ssp_buf w;
	size_t cidlen = strlen(b->chain_id);
	int rc;
	*out = NULL;
	if (!chain_id_ok((const uint8_t *)b->chain_id, cidlen) || b->type == 0 ||
	    b->payload_len > SSP_TX_PAYLOAD_MAX || pk->len != ssp_pubkey_len(pk->type))
		return SSP_ERR_INVAL;
	ssp_addr_from_pubkey(&from, pk);
	ssp_buf_init(&w, SSP_TX_MAX);
	ssp_buf_u8(&w, SSP_TX_VERSION);
	ssp_buf_u8(&w, (uint8_t)cidlen);
	ssp_buf_put(&w, b->chain_id, cidlen);
	ssp_buf_u16(&w, b->type);
	ssp_buf_put(&w, from.b, SSP_ADDR_LEN);
	ssp_buf_u64(&w, b->nonce);
	ssp_buf_u64(&w, b->fee);
	ssp_buf_u64(&w, b->expiry);
	ssp_buf_bytes(&w, b->payload, b->payload_len);
	ssp_buf_u8(&w, b->include_pubkey ? 1 : 0);
	if (b->include_pubkey) {
		ssp_buf_u8(&w, pk->type);
		ssp_buf_put(&w, pk->b, pk->len);
	}
	if (w.err) {
		rc = w.err;
		goto out;
	}
	ssp_sig_digest(&d, SSP_DOM_TX, b->chain_id, w.data, w.len);
	rc = sign(ctx, &sig, &d);
	/* a signer that is not pk's (a wrong token, a fault) must not produce a tx */
	if (!rc && check && ssp_verify_digest(pk, &d, &sig)) rc = SSP_ERR_BADSIG;
	if (rc) goto out;
	ssp_buf_put(&w, sig.b, SSP_SIG_LEN);
	if (w.err) {
		rc = w.err;
		goto out;
	}
	ssp_sha256(txid, w.data, w.len);
	if (w.len != ssp_tx_encoded_len(b, pk)) { /* the two must agree: fees depend on it */
		rc = SSP_ERR_INTERNAL;
		goto out;
	}
	*out = ssp_buf_take(&w, outlen);
out:
	ssp_buf_free(&w);
	return rc;
}

int ssp_tx_verify(const ssp_tx *tx, const ssp_pubkey *key)
{
	return ssp_verify(key, SSP_DOM_TX, tx->chain_id, tx->raw, tx->signed_len, &tx->sig);
}

int ssp_tx_sign_with(uint8_t **out, size_t *outlen, ssp_hash *txid, const ssp_tx_build *b,
                     const ssp_pubkey *pk, ssp_sign_fn sign, void *ctx)
{
	return tx_sign(out, outlen, txid, b, pk, sign, ctx, true);
}

static int sign_seckey(void *ctx, ssp_sig *sig, const ssp_hash *digest)
{
	return ssp_sign_digest(sig, ctx, digest);
}

int ssp_tx_sign(uint8_t **out, size_t *outlen, ssp_hash *txid, const ssp_tx_build *b,
                const ssp_seckey *sk)
{
	ssp_pubkey pk;
	int rc = ssp_key_public(&pk, sk);
	if (rc) return rc;
	/* the key is in memory: libsodium/OpenSSL sign it as is, no second check */
	return tx_sign(out, outlen, txid, b, &pk, sign_seckey, (void *)sk, false);
}

int ssp_transfer_decode(ssp_transfer *t, const uint8_t *p, size_t n)
{
	ssp_rd r;
	size_t ml;
	ssp_rd_init(&r, p, n);
	ssp_rd_raw(&r, t->to.b, SSP_ADDR_LEN);
	t->amount = ssp_rd_u64(&r);
	t->memo = ssp_rd_bytes(&r, SSP_MEMO_MAX, &ml);
	t->memo_len = (uint32_t)ml;
	int rc = ssp_rd_end(&r);
	if (rc) return rc == SSP_ERR_TOOBIG ? SSP_ERR_PAYLOAD : rc;
	/* a memo is text without NUL (ssp_utf8_valid) */
	if (t->amount == 0 || !ssp_utf8_valid(t->memo, ml, 0)) return SSP_ERR_PAYLOAD;
	return 0;
}

void ssp_transfer_encode(ssp_buf *b, const ssp_transfer *t)
{
	ssp_buf_put(b, t->to.b, SSP_ADDR_LEN);
	ssp_buf_u64(b, t->amount);
	ssp_buf_bytes(b, t->memo, t->memo_len);
}
