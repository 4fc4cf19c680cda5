/*
 * header.c — the block header: canonical encoding, strict decoding and the
 * producer's signature check (proto layer). The chain checks every block
 * it imports with it, and a light client (libsmartagent) every header it
 * verifies a proof against. Layout in include/ssp/proto.h.
 */
#include <string.h>

#include "ssp/proto.h"

#define HEADER_VERSION 1

void ssp_header_encode(ssp_buf *b, const ssp_header *h, bool with_sig)
{
	ssp_buf_u8(b, HEADER_VERSION);
	ssp_buf_u64(b, h->height);
	ssp_buf_put(b, h->prev_id.b, 32);
	ssp_buf_u64(b, h->slot);
	ssp_buf_u64(b, h->timestamp_ms);
	ssp_buf_put(b, h->producer.b, SSP_ADDR_LEN);
	ssp_buf_put(b, h->tx_root.b, 32);
	ssp_buf_put(b, h->receipts_root.b, 32);
	ssp_buf_put(b, h->state_root.b, 32);
	ssp_buf_bytes(b, h->seed_reveal, h->seed_len);
	ssp_buf_bytes(b, h->qc, h->qc_len);
	if (with_sig) ssp_buf_put(b, h->sig.b, SSP_SIG_LEN);
}

int ssp_header_read(ssp_header *h, ssp_rd *r)
{
	size_t start = r->off, n;
	memset(h, 0, sizeof *h);
	if (ssp_rd_u8(r) != HEADER_VERSION && !r->err) return r->err = SSP_ERR_DECODE;
	h->height = ssp_rd_u64(r);
	ssp_rd_raw(r, h->prev_id.b, 32);
	h->slot = ssp_rd_u64(r);
	h->timestamp_ms = ssp_rd_u64(r);
	ssp_rd_raw(r, h->producer.b, SSP_ADDR_LEN);
	ssp_rd_raw(r, h->tx_root.b, 32);
	ssp_rd_raw(r, h->receipts_root.b, 32);
	ssp_rd_raw(r, h->state_root.b, 32);
	const uint8_t *seed = ssp_rd_bytes(r, SSP_SEED_MAX, &n);
	if (seed) memcpy(h->seed_reveal, seed, n);
	h->seed_len = (uint32_t)n;
	h->qc = ssp_rd_bytes(r, SSP_QC_MAX, &n);
	h->qc_len = (uint32_t)n;
	ssp_rd_raw(r, h->sig.b, SSP_SIG_LEN);
	if (r->err) return r->err;
	ssp_sha256(&h->id, r->p + start, r->off - start);
	return 0;
}

int ssp_header_decode(ssp_header *h, const uint8_t *raw, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, raw, n);
	int rc = ssp_header_read(h, &r);
	return rc ? rc : ssp_rd_end(&r);
}

int ssp_header_check_sig(const ssp_header *h, const char *chain_id, const ssp_pubkey *key)
{
	ssp_addr a;
	ssp_buf hb;
	ssp_addr_from_pubkey(&a, key);
	if (memcmp(a.b, h->producer.b, SSP_ADDR_LEN)) return SSP_ERR_BLOCK_PRODUCER;
	ssp_buf_init(&hb, 64 * 1024);
	ssp_header_encode(&hb, h, false);
	int rc =
	    hb.err ? hb.err : ssp_verify(key, SSP_DOM_BLOCK, chain_id, hb.data, hb.len, &h->sig);
	ssp_buf_free(&hb);
	return rc;
}

static const char onion_tag[] = "ssp-bft-onion-secret";

void ssp_onion_secret_digest(ssp_hash *d, const char *chain_id)
{
	ssp_sig_digest(d, SSP_DOM_ONION, chain_id, onion_tag, sizeof onion_tag - 1);
}

void ssp_onion_secret(ssp_hash *out, const ssp_sig *sig)
{
	uint8_t msg[sizeof onion_tag - 1 + SSP_SIG_LEN];
	memcpy(msg, onion_tag, sizeof onion_tag - 1);
	memcpy(msg + sizeof onion_tag - 1, sig->b, SSP_SIG_LEN);
	ssp_sha256(out, msg, sizeof msg);
	memset(msg, 0, sizeof msg);
	__asm__ __volatile__("" : : "r"(msg) : "memory");
}
