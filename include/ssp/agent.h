/*
 * ssp/agent.h — libsmartagent: the device side of Smartshare. One SmartAgent
 * per device: it proves who the device is, holds its wallet and signs what
 * the device commits to (transactions, attestations, metering receipts)
 * without ever revealing its key, and keeps a monotonic counter that never
 * repeats a value.
 *
 * One API, backends chosen by URI:
 *   pkcs11:token=dev-0001[;serial=…][?module-path=…|module-name=…][&pin-value=…]
 *        a PKCS#11 token (RFC 7512 URI, parsed and its module loaded by
 *        p11-kit; the token is found by its label, never by slot number).
 *        The P-256 key is generated inside the token, non-extractable and
 *        sensitive; the counter is a private data object in the token.
 *        SoftHSM2 is the development and test token.
 *   file:/path/to/keystore.json
 *        the argon2id keystore of the wallet (P-256 or Ed25519); the counter
 *        is a file beside it ("….counter").
 *
 * And the light client a device runs itself: a block header checked against
 * the trust anchors it was provisioned with (chain id, producer schedule),
 * then state proofs (a device's registration, an account), tx and receipt
 * inclusion against that header, without trusting the node.
 *
 * Installed as libsmartagent.so.0 with pkg-config's `smartagent` (docs/agent.md).
 *
 * Every function returns 0 or a negative SSP_ERR_* code; when `why` is given
 * it receives a one-line reason a device log or a CLI can print as is.
 * A handle is not thread-safe: one thread at a time (a device has one agent).
 */
#ifndef SSP_AGENT_H
#define SSP_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "ssp/core.h"
#include "ssp/proto_device.h"
#include "ssp/stateproof.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssp_agent ssp_agent;

enum {
	SSP_AGENT_CREATE = 1, /* ssp_agent_open: create the key and counter if absent */
};

/*
 * Opens the agent named by `uri`. `pin` is the token's user PIN (pkcs11) or
 * the keystore's password (file); NULL takes the URI's pin-value, else "".
 * Without SSP_AGENT_CREATE a token without the agent's key is
 * SSP_ERR_NOTFOUND (run `ssp-agent init` first). With it, a pkcs11 token
 * gets a fresh P-256 key pair and a counter at 0 (a file URI must name an
 * existing keystore: `ssp key new` writes one).
 */
SSP_API SSP_WUR int ssp_agent_open(ssp_agent **out, const char *uri, const char *pin,
                                   unsigned flags, char *why, size_t whycap);
SSP_API void ssp_agent_close(ssp_agent *a);

/* The reason for the last failed call on this handle ("" if none): one line for a log. */
SSP_API const char *ssp_agent_last_error(const ssp_agent *a);
/* "pkcs11" or "file". */
SSP_API const char *ssp_agent_backend(const ssp_agent *a);
/* A one-line description of where the key lives (token label, model, serial; or the file). */
SSP_API const char *ssp_agent_describe(const ssp_agent *a);

/* The device's public key (P-256 for tokens) and its address for the network's hrp. */
SSP_API SSP_WUR int ssp_agent_pubkey(ssp_agent *a, ssp_pubkey *pk);

/*
 * Signs a 32-byte digest from ssp_sig_digest (the signer callback shape the
 * chain and wallet use: digest in, signature out). P-256 signatures come back
 * low-S; each one is checked against the public key before it is returned,
 * so a faulty element cannot hand out a bad signature.
 */
SSP_API SSP_WUR int ssp_agent_sign_digest(ssp_agent *a, const ssp_hash *digest, ssp_sig *sig);
/* ssp_sig_digest(domain, chain_id, msg) then ssp_agent_sign_digest. */
SSP_API SSP_WUR int ssp_agent_sign(ssp_agent *a, int domain, const char *chain_id, const void *msg,
                                   size_t n, ssp_sig *sig);
/* Adapter for APIs that take int (*sign)(void *ctx, ssp_sig *, const ssp_hash *). */
SSP_API int ssp_agent_signer(void *agent, ssp_sig *sig, const ssp_hash *digest);

/*
 * The monotonic counter: increments it, persists the new value in the token
 * (or file) and only then returns it, so a value is never handed out twice,
 * across restarts and across processes that open the same token at once
 * (they serialise on an advisory lock). The first value is 1.
 */
SSP_API SSP_WUR int ssp_agent_counter_next(ssp_agent *a, uint64_t *value);
/* The last value handed out (0 before the first), without incrementing. */
SSP_API SSP_WUR int ssp_agent_counter_get(ssp_agent *a, uint64_t *value);

/*
 * Signs a metering receipt (ssp/proto_device.h): takes the next counter
 * value (persisted before it is used, so no two receipts share one), fills
 * in the agreement, the cumulative amount and the device's key, and signs
 * it under SSP_DOM_RECEIPT and chain_id. The paying side checks it with
 * ssp_meter_verify, and a newer one against the last with ssp_meter_follows.
 */
SSP_API SSP_WUR int ssp_agent_sign_meter(ssp_agent *a, const char *chain_id,
                                         const ssp_hash *agreement, uint64_t cumulative,
                                         ssp_meter_receipt *out);

/* ------------------------------------------------------------ light client
 *
 * A device checks what a node tells it without trusting the node: a block
 * header against the trust anchors it was provisioned with (the chain id and
 * the producer schedule), then a state proof (ssp/stateproof.h), a tx's
 * inclusion or a device's registration against that header. These need no
 * agent handle and do no I/O (except ssp_agent_anchors_load): any thread.
 *
 * Freshness is the caller's: a header proves what the chain held at its
 * height. A node can withhold newer blocks, so compare h->timestamp_ms with
 * the device's clock (ssp-agent refuses headers older than --max-age).
 */

#define SSP_AGENT_PRODUCERS_MAX 256

/* Trust anchors: the chain id and the producer set, in schedule order. */
typedef struct ssp_agent_anchors ssp_agent_anchors;

/*
 * Reads anchors from JSON text: an anchors file {"chain_id", "producers":
 * ["p256:HEX" | "ed25519:HEX", …], optional "genesis_hash"} or the chain's
 * genesis file itself (its chain_id and "producers", or its single
 * "producer" on a devnet). *out is the caller's (ssp_agent_anchors_free).
 * SSP_ERR_DECODE / SSP_ERR_BADKEY with a reason in why.
 */
SSP_API SSP_WUR int ssp_agent_anchors_parse(ssp_agent_anchors **out, const char *json, size_t n,
                                            char *why, size_t whycap);
/* The same from a file (at most 64 MiB). */
SSP_API SSP_WUR int ssp_agent_anchors_load(ssp_agent_anchors **out, const char *path, char *why,
                                           size_t whycap);
SSP_API void ssp_agent_anchors_free(ssp_agent_anchors *an);
SSP_API const char *ssp_agent_anchors_chain_id(const ssp_agent_anchors *an);
/* The producers (borrowed from an); returns their count (>= 1). */
SSP_API size_t ssp_agent_anchors_producers(const ssp_agent_anchors *an, const ssp_pubkey **keys);
/* The genesis hash if the anchors name one, else NULL (borrowed). */
SSP_API const ssp_hash *ssp_agent_anchors_genesis_hash(const ssp_agent_anchors *an);
/* The anchors file's JSON text (malloc'd; caller frees), or NULL when out of memory. */
SSP_API char *ssp_agent_anchors_json(const ssp_agent_anchors *an);

/*
 * Decodes raw[0..n) as exactly one block header into *h (h->qc borrows raw)
 * and checks it was made for this chain by the producer of its slot
 * (producers[slot mod count], the round-robin schedule). 0 when it was;
 * otherwise, distinctly:
 *   SSP_ERR_DECODE / TRUNCATED / TRAILING  not a header
 *   SSP_ERR_BADSIG          the slot's producer did not sign these bytes
 *                           (altered after signing, or signed for another chain id)
 *   SSP_ERR_BLOCK_PRODUCER  made by a producer of the set out of its turn
 *   SSP_ERR_CHAINID         made by a key outside the set: another chain's header
 * (The finality certificate is checked once DPoS puts one in the header.)
 */
SSP_API SSP_WUR int ssp_agent_check_header(const ssp_agent_anchors *an, ssp_header *h,
                                           const uint8_t *raw, size_t n);

/* 0 when pf proves txid is in the block of the checked header h, else SSP_ERR_PROOF. */
SSP_API SSP_WUR int ssp_agent_check_tx_inclusion(const ssp_header *h, const ssp_hash *txid,
                                                 const ssp_merkle_proof *pf);

/*
 * 0 when receipt[0..n) is txid's receipt and pf (tx_get's "receipt" "proof")
 * proves it is in the block of the checked header h (leaf SHA-256(receipt
 * bytes), root h->receipts_root); *r (may be NULL) gets it decoded — its
 * status says whether the tx succeeded; free with ssp_receipt_free.
 * SSP_ERR_PROOF otherwise (or a decoding error for bytes that are no receipt).
 */
SSP_API SSP_WUR int ssp_agent_check_receipt(const ssp_header *h, ssp_receipt *r,
                                            const ssp_hash *txid, const uint8_t *receipt, size_t n,
                                            const ssp_merkle_proof *pf);

/*
 * Checks a state proof for key[0..klen) (u8 table ‖ key) against the checked
 * header's state_root: 0 and *present when it holds — and then `value`
 * (NULL when the node says the key is absent) must be exactly what the
 * proof commits to. SSP_ERR_PROOF otherwise.
 */
SSP_API SSP_WUR int ssp_agent_check_state_proof(const ssp_header *h, bool *present, const void *key,
                                                size_t klen, const void *value, size_t vlen,
                                                const void *proof, size_t plen);

enum {
	SSP_AGENT_DEVICE_UNKNOWN = 0, /* not in the registry at that height */
	/* otherwise the record's ssp_device_status: SSP_DEVICE_ACTIVE, _REVOKED, _UNTRUSTED */
};

/*
 * A device's registration from a state proof of its SSP_TB_DEVICE record
 * (state_getProof {"table": "device", "key": hex address}: its "value" and
 * "proof") against the checked header h: *status is SSP_AGENT_DEVICE_UNKNOWN
 * or the record's status, *dev (may be NULL) the decoded record.
 * SSP_ERR_PROOF when the proof or value does not hold, SSP_ERR_DECODE when
 * the proven record does not decode (a library older than the chain).
 */
SSP_API SSP_WUR int ssp_agent_check_device(const ssp_header *h, int *status, ssp_device *dev,
                                           const ssp_addr *device, const void *value, size_t vlen,
                                           const void *proof, size_t plen);

#ifdef __cplusplus
}
#endif
#endif
