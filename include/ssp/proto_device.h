/*
 * ssp/proto_device.h — the device registry's wire formats (libssp_proto):
 * tx type ids, identifiers, the device certificate, the claim key and the
 * payload codec of every device tx. Core only, so a device (libsmartagent,
 * ssp-agent) builds and checks them without the node. State and rules are
 * in ssp/device.h (modules layer); byte layouts in docs/internals/device.md.
 */
#ifndef SSP_PROTO_DEVICE_H
#define SSP_PROTO_DEVICE_H

#include "ssp/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* all of it is API (SSP_API in ssp/core.h) */

enum {
	SSP_TX_MFR_REGISTER = 0x30,   /* {name}: the sender becomes a pending manufacturer */
	SSP_TX_MFR_APPROVE = 0x31,    /* {name, producer key, producer signature} */
	SSP_TX_MODEL_ADD = 0x32,      /* {name, model, capabilities, firmware hashes} */
	SSP_TX_DEVICE_ENROLL = 0x33,  /* {certificate}: sent by the device itself */
	SSP_TX_DEVICE_CLAIM = 0x34,   /* {device, claim key, claim signature}: by the new owner */
	SSP_TX_DEVICE_XFER = 0x35,    /* {device, new owner}: by the owner */
	SSP_TX_DEVICE_REVOKE = 0x36,  /* {device}: by its manufacturer */
	SSP_TX_DEVICE_ATTEST = 0x37,  /* v2 {firmware, counter, challenge block id}: by the device */
	SSP_TX_MFR_REVOKE = 0x38,     /* {name, producer key, producer signature} */
	SSP_TX_DEVICE_REVOKE_BATCH = 0x39, /* {name, serials}: by the manufacturer */
};

#define SSP_MFR_NAME_MAX 32   /* [A-Za-z0-9._-], starting with a letter or digit */
#define SSP_MODEL_MAX 32      /* same alphabet */
#define SSP_SERIAL_MAX 64     /* same alphabet */
#define SSP_FIRMWARE_MAX 16   /* accepted firmware measurements per model */
#define SSP_ATTEST_WINDOW 64  /* an attestation's challenge is one of the last 64 blocks */
#define SSP_ATTEST_VERSION 2  /* the attestation payload's first byte (v1 had none: refused) */
#define SSP_REVOKE_BATCH_MAX 256 /* serials per batch revocation */

/*
 * A device certificate, written by the manufacturer offline (`ssp mfr
 * certify`) and put on chain by the device (`ssp-agent enroll`). The claim
 * commitment is SHA-256 of the Ed25519 public key of the claim key, which
 * is derived from the secret that comes in the box (ssp_device_claim_key):
 * the owner proves the secret by signing its own address with that key, so
 * a claim seen in the mempool cannot be replayed for someone else.
 */
typedef struct {
	char mfr[SSP_MFR_NAME_MAX + 1];
	char model[SSP_MODEL_MAX + 1];
	char serial[SSP_SERIAL_MAX + 1];
	ssp_pubkey device_key; /* p256 (or ed25519 for development) */
	uint32_t capabilities;
	ssp_hash claim_commitment;
	ssp_sig sig; /* by the manufacturer account's key over ssp_device_cert_digest */
} ssp_device_cert;

/* A device tx payload; which fields are used depends on the type. */
typedef struct {
	char name[SSP_MFR_NAME_MAX + 1];
	char model[SSP_MODEL_MAX + 1];
	uint32_t capabilities;
	uint32_t nfirmware;
	ssp_hash firmware[SSP_FIRMWARE_MAX];
	ssp_pubkey key; /* approve: the producer's key; claim: the Ed25519 claim key */
	ssp_sig sig;    /* approve: the producer's; claim: the claim key's */
	ssp_device_cert cert;
	ssp_addr device;
	ssp_addr to;
	uint64_t counter;
	/*
	 * attest: the id of one of the last SSP_ATTEST_WINDOW blocks of the
	 * chain it is sent to (an attestation made for another fork or chain
	 * names a block this one does not have). challenge_height is not on the
	 * wire: the chain records the height it finds for the id.
	 */
	ssp_hash challenge_id;
	uint64_t challenge_height;
	/*
	 * revoke batch: nserials (1..SSP_REVOKE_BATCH_MAX) serials of manufacturer
	 * `name`, encoded as ident × n in strictly ascending byte order (no
	 * duplicates), borrowed from the decoded buffer or the caller's
	 * (ssp_device_serials_encode builds it; ssp_device_serial_next walks it).
	 */
	uint32_t nserials;
	const uint8_t *serials;
	size_t serials_len;
} ssp_device_payload;

/*
 * The registry's state tables (ids under the chain's state table, u8 table ‖
 * key; SSP_TB_MODULE_FIRST + 16.. in ssp/chain.h terms). A light client
 * proves a key of these with state_getProof (ssp/stateproof.h).
 */
enum {
	SSP_TB_DEV_MFR = 32,    /* name -> manufacturer record */
	SSP_TB_DEV_MODEL = 33,  /* name \0 model -> model record */
	SSP_TB_DEVICE = 34,     /* device addr -> device record */
	SSP_TB_DEV_SERIAL = 35, /* name \0 serial -> device addr */
};

typedef enum {
	SSP_DEVICE_ACTIVE = 1,
	SSP_DEVICE_REVOKED = 2,
	SSP_DEVICE_UNTRUSTED = 3, /* its last attestation named firmware its model does not accept */
} ssp_device_status;

typedef struct {
	ssp_addr address;
	char mfr[SSP_MFR_NAME_MAX + 1];
	char model[SSP_MODEL_MAX + 1];
	char serial[SSP_SERIAL_MAX + 1];
	ssp_pubkey key;
	uint32_t capabilities;
	ssp_hash claim_commitment;
	uint8_t status;
	bool owned;
	ssp_addr owner;
	uint64_t enrolled_height;
	/* the latest attestation (attested_height 0: none yet) */
	uint64_t attested_height;
	uint64_t counter;
	uint64_t challenge_height;
	ssp_hash firmware;
} ssp_device;

/*
 * The device record (the value under SSP_TB_DEVICE ‖ address), in
 * docs/internals/device.md's layout. Decoding is strict: SSP_ERR_DBCORRUPT
 * on anything off (the node reads its own state with it; a light client
 * decodes a value it has proven).
 */
void ssp_device_record_encode(ssp_buf *b, const ssp_device *d);
SSP_WUR int ssp_device_record_decode(ssp_device *d, const void *key, size_t kl, const void *p,
                                     size_t n);

/* Names, models and serials: 1..max of [A-Za-z0-9._-], first a letter or digit. */
int ssp_device_ident_valid(const char *s, size_t n, size_t max);

void ssp_device_payload_encode(ssp_buf *b, uint16_t type, const ssp_device_payload *p);
SSP_WUR int ssp_device_payload_decode(ssp_device_payload *p, uint16_t type, const uint8_t *buf,
                                      size_t n);

/* The certificate without its signature / with it; strict decode. */
void ssp_device_cert_encode(ssp_buf *b, const ssp_device_cert *c, bool with_sig);
SSP_WUR int ssp_device_cert_decode(ssp_device_cert *c, const uint8_t *buf, size_t n);
void ssp_device_cert_digest(ssp_hash *out, const char *chain_id, const ssp_device_cert *c);
/* Signs the certificate with the manufacturer account's key. */
SSP_WUR int ssp_device_cert_sign(ssp_device_cert *c, const char *chain_id, const ssp_seckey *sk);

/* The Ed25519 claim key from the secret in the box; commitment = SHA-256(its pubkey). */
SSP_WUR int ssp_device_claim_key(ssp_seckey *sk, ssp_pubkey *pk, const char *secret);
void ssp_device_claim_commitment(ssp_hash *out, const ssp_pubkey *claim_pk);
/* What the claim key signs: the device and the claiming owner (SSP_DOM_CLAIM). */
void ssp_device_claim_digest(ssp_hash *out, const char *chain_id, const ssp_addr *device,
                             const ssp_addr *owner);
/* What a producer signs to approve or revoke a manufacturer (SSP_DOM_APPROVE). */
void ssp_device_approve_digest(ssp_hash *out, const char *chain_id, uint16_t type,
                               const char *name);

/*
 * The serial list of a batch revocation: sorts and encodes n serials
 * (each valid, ≤ SSP_SERIAL_MAX) into b; SSP_ERR_DUPLICATE for a serial
 * given twice, SSP_ERR_RANGE for n outside 1..SSP_REVOKE_BATCH_MAX,
 * SSP_ERR_INVAL for an invalid serial.
 */
SSP_WUR int ssp_device_serials_encode(ssp_buf *b, const char *const *serials, size_t n);
/* Next serial of p's list into out (call with *off = 0 first): 1, 0 at the end. */
int ssp_device_serial_next(const ssp_device_payload *p, size_t *off,
                           char out[SSP_SERIAL_MAX + 1]);

/*
 * A metering receipt (ARCHITECTURE §9): what a device's SmartAgent signs
 * for the service it delivered under an agreement — the cumulative amount
 * metered so far and a value of its monotonic counter, so a receipt is
 * never signed twice and a later one supersedes an earlier one. The party
 * that pays keeps the latest; the escrow of the service market settles on
 * it. Signed under SSP_DOM_RECEIPT and the chain id over the encoding
 * without the signature:
 *   u8 version=1 ‖ agreement[32] ‖ u64 counter ‖ u64 cumulative (little-endian) ‖
 *   u8 key type ‖ u8 key len ‖ signer key ‖ sig[64]
 */
#define SSP_METER_VERSION 1
typedef struct {
	ssp_hash agreement;  /* the agreement's id */
	uint64_t counter;    /* a value of the signer's monotonic counter (> 0) */
	uint64_t cumulative; /* base units (or the agreement's unit) metered so far */
	ssp_pubkey signer;
	ssp_sig sig;
} ssp_meter_receipt;

void ssp_meter_encode(ssp_buf *b, const ssp_meter_receipt *m, bool with_sig);
/* Strict: SSP_ERR_PAYLOAD for anything but one whole signed receipt. */
SSP_WUR int ssp_meter_decode(ssp_meter_receipt *m, const uint8_t *buf, size_t n);
void ssp_meter_digest(ssp_hash *out, const char *chain_id, const ssp_meter_receipt *m);
/* 0 when m->sig is m->signer's over m for chain_id; SSP_ERR_BADSIG otherwise. */
SSP_WUR int ssp_meter_verify(const ssp_meter_receipt *m, const char *chain_id);
/*
 * 0 when `next` may supersede `prev`: same agreement and signer, a higher
 * counter and a cumulative amount that did not shrink; SSP_ERR_INVAL if
 * they are about different agreements or signers, SSP_ERR_DEV_COUNTER if
 * the counter did not grow, SSP_ERR_RANGE if the amount went back.
 */
SSP_WUR int ssp_meter_follows(const ssp_meter_receipt *prev, const ssp_meter_receipt *next);

/* Codec pieces the module's records share: u8 len + identifier, u8 type + u8 len + key. */
void ssp_device_put_ident(ssp_buf *b, const char *s);
SSP_WUR int ssp_device_rd_ident(ssp_rd *r, char *out, size_t max);
void ssp_device_put_key(ssp_buf *b, const ssp_pubkey *k);
SSP_WUR int ssp_device_rd_key(ssp_rd *r, ssp_pubkey *k);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
