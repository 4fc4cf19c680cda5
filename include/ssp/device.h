/*
 * ssp/device.h — the device registry on chain (modules layer; issue 11,
 * ARCHITECTURE §9): manufacturers admitted by the producer set, the models
 * and firmware measurements they publish, device certificates, devices
 * enrolled by proof of possession of their key, owners bound by a claim
 * key, owner transfer, revocation and attestations. docs/devices.md is the
 * user guide, docs/internals/device.md the byte layouts.
 */
#ifndef SSP_DEVICE_H
#define SSP_DEVICE_H

#include "ssp/modules.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	SSP_TX_MFR_REGISTER = 0x30,   /* {name}: the sender becomes a pending manufacturer */
	SSP_TX_MFR_APPROVE = 0x31,    /* {name, producer key, producer signature} */
	SSP_TX_MODEL_ADD = 0x32,      /* {name, model, capabilities, firmware hashes} */
	SSP_TX_DEVICE_ENROLL = 0x33,  /* {certificate}: sent by the device itself */
	SSP_TX_DEVICE_CLAIM = 0x34,   /* {device, claim key, claim signature}: by the new owner */
	SSP_TX_DEVICE_XFER = 0x35,    /* {device, new owner}: by the owner */
	SSP_TX_DEVICE_REVOKE = 0x36,  /* {device}: by its manufacturer */
	SSP_TX_DEVICE_ATTEST = 0x37,  /* {firmware hash, counter, challenge height}: by the device */
	SSP_TX_MFR_REVOKE = 0x38,     /* {name, producer key, producer signature} */
};

enum {
	SSP_TB_DEV_MFR = SSP_TB_MODULE_FIRST + 16,    /* name -> manufacturer record */
	SSP_TB_DEV_MODEL = SSP_TB_MODULE_FIRST + 17,  /* name \0 model -> model record */
	SSP_TB_DEVICE = SSP_TB_MODULE_FIRST + 18,     /* device addr -> device record */
	SSP_TB_DEV_SERIAL = SSP_TB_MODULE_FIRST + 19, /* name \0 serial -> device addr */
};

#define SSP_MFR_NAME_MAX 32   /* [A-Za-z0-9._-], starting with a letter or digit */
#define SSP_MODEL_MAX 32      /* same alphabet */
#define SSP_SERIAL_MAX 64     /* same alphabet */
#define SSP_FIRMWARE_MAX 16   /* accepted firmware measurements per model */
#define SSP_ATTEST_WINDOW 64  /* an attestation's challenge is one of the last 64 blocks */

typedef enum {
	SSP_MFR_PENDING = 1,
	SSP_MFR_ADMITTED = 2,
	SSP_MFR_REVOKED = 3,
} ssp_mfr_status;

typedef enum {
	SSP_DEVICE_ACTIVE = 1,
	SSP_DEVICE_REVOKED = 2,
	SSP_DEVICE_UNTRUSTED = 3, /* its last attestation named firmware its model does not accept */
} ssp_device_status;

#define SSP_MFR_APPROVALS_MAX 128

typedef struct {
	char name[SSP_MFR_NAME_MAX + 1];
	uint8_t status;
	ssp_addr account; /* registered it; its key signs the manufacturer's certificates */
	uint64_t height;  /* registered at */
	uint32_t napprovals;
	ssp_addr approvals[SSP_MFR_APPROVALS_MAX]; /* producers that approved (or revoked) */
} ssp_mfr;

typedef struct {
	char mfr[SSP_MFR_NAME_MAX + 1];
	char model[SSP_MODEL_MAX + 1];
	uint32_t capabilities;
	uint32_t nfirmware;
	ssp_hash firmware[SSP_FIRMWARE_MAX];
} ssp_model;

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
	uint64_t challenge_height;
} ssp_device_payload;

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

/* Committed reads (RPC, tests) through a state view or a tx's state. */
SSP_WUR int ssp_device_mfr_get(ssp_state *st, const char *name, ssp_mfr *out);
SSP_WUR int ssp_device_model_get(ssp_state *st, const char *mfr, const char *model,
                                 ssp_model *out);
SSP_WUR int ssp_device_get(ssp_state *st, const ssp_addr *a, ssp_device *out);

extern const ssp_module ssp_device_module;

#ifdef __cplusplus
}
#endif
#endif
