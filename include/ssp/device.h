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
#include "ssp/proto_device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The state tables (SSP_TB_DEV_*) and the device record: ssp/proto_device.h. */

typedef enum {
	SSP_MFR_PENDING = 1,
	SSP_MFR_ADMITTED = 2,
	SSP_MFR_REVOKED = 3,
} ssp_mfr_status;

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
