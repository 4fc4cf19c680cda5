/*
 * ssp/proto.h — the public API of libssp_proto: the wire formats that the
 * node, the wallet and devices share (ARCHITECTURE §3 src/proto): the
 * transaction and its canonical encoding, signing through a callback (so a
 * secure element that never reveals its key can sign), and the transfer
 * payload. Depends on core only: the device library (libsmartagent) links
 * it without the store, the chain, the VM or the RPC server.
 */
#ifndef SSP_PROTO_H
#define SSP_PROTO_H

#include <stdbool.h>

#include "ssp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------- transactions */

#define SSP_TX_VERSION 1
#define SSP_CHAIN_ID_MAX 32
#define SSP_TX_MAX (192 * 1024)         /* whole encoded tx */
#define SSP_TX_PAYLOAD_MAX (160 * 1024) /* payload bytes */
#define SSP_MEMO_MAX 256

enum {
	SSP_TX_TRANSFER = 1,
	/* modules register their own ids: tokens 0x10.., contracts 0x20.., staking 0x30.. */
};

/*
 * Canonical encoding (all integers little-endian):
 *   u8 version=1 | u8 len + chain_id | u16 type | from[20] | u64 nonce |
 *   u64 fee | u64 expiry_height | u32 len + payload |
 *   u8 has_pubkey (0|1) [u8 key_type | pubkey] | sig[64]
 * The signature covers every byte before it under SSP_DOM_TX;
 * txid = SHA-256(all bytes).
 */
typedef struct {
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	uint16_t type;
	ssp_addr from;
	uint64_t nonce;
	uint64_t fee;
	uint64_t expiry;        /* last height at which it may be included */
	const uint8_t *payload; /* borrowed from raw */
	uint32_t payload_len;
	bool has_pubkey;
	ssp_pubkey pubkey;
	ssp_sig sig;
	const uint8_t *raw; /* borrowed: the encoded tx */
	size_t raw_len;
	size_t signed_len; /* raw_len - SSP_SIG_LEN */
	ssp_hash txid;
} ssp_tx;

/*
 * Strictly decodes raw bytes into tx (borrowing raw, which must outlive tx).
 * Checks structure, canonical form, the pubkey's validity and that it hashes
 * to `from`; not the signature and not the payload (see ssp_tx_check).
 */
SSP_WUR int ssp_tx_decode(ssp_tx *tx, const uint8_t *raw, size_t n);

/* Fields a wallet fills to build a tx. */
typedef struct {
	const char *chain_id;
	uint16_t type;
	uint64_t nonce;
	uint64_t fee;
	uint64_t expiry;
	const uint8_t *payload;
	size_t payload_len;
	bool include_pubkey;
} ssp_tx_build;

/* Encodes and signs a tx; *out is malloc'd (caller frees), its txid in *txid. */
SSP_WUR int ssp_tx_sign(uint8_t **out, size_t *outlen, ssp_hash *txid, const ssp_tx_build *b,
                        const ssp_seckey *sk);

/* Transfer payload: to[20] | u64 amount | u32 len + memo (UTF-8, <= 256). */
typedef struct {
	ssp_addr to;
	uint64_t amount;
	const uint8_t *memo; /* borrowed */
	uint32_t memo_len;
} ssp_transfer;

SSP_WUR int ssp_transfer_decode(ssp_transfer *t, const uint8_t *p, size_t n);
/* Appends the encoded payload to b. */
void ssp_transfer_encode(ssp_buf *b, const ssp_transfer *t);

/*
 * A signer: signs a 32-byte digest (ssp_sig_digest) into sig; 0 or an
 * SSP_ERR_* code. ctx is the signer's own (a key in memory, a PKCS#11
 * session: ssp_agent_signer).
 */
typedef int (*ssp_sign_fn)(void *ctx, ssp_sig *sig, const ssp_hash *digest);

/*
 * Encodes and signs a tx with a signer whose public key is pk (the sender
 * is its address); *out is malloc'd (caller frees). The signature is
 * checked against pk before the tx is returned.
 */
/* The encoded length of the tx b builds for sender pk (the fee's value does not change it). */
size_t ssp_tx_encoded_len(const ssp_tx_build *b, const ssp_pubkey *pk);

SSP_WUR int ssp_tx_sign_with(uint8_t **out, size_t *outlen, ssp_hash *txid, const ssp_tx_build *b,
                             const ssp_pubkey *pk, ssp_sign_fn sign, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
