/*
 * device_tx.c — the device module's transaction types 0x30..0x39 (modules
 * layer): the strict payload codec (layouts in docs/internals/device.md)
 * and check/apply/to_json for each type. apply runs device.c's operations;
 * their error makes the tx invalid (not included, dropped by the mempool).
 */
#include <string.h>

#include <sodium.h>

#include "device_internal.h"

/* ------------------------------------------------------------- the types */

static int dev_check(void *mod, const ssp_tx *tx)
{
	(void)mod;
	ssp_device_payload p;
	return ssp_device_payload_decode(&p, tx->type, tx->payload, tx->payload_len) ? SSP_ERR_PAYLOAD
	                                                                             : 0;
}

static uint64_t dev_spend(void *mod, const ssp_tx *tx, const ssp_params *p)
{
	(void)mod;
	ssp_device_payload d;
	if (tx->type != SSP_TX_DEVICE_REVOKE_BATCH ||
	    ssp_device_payload_decode(&d, tx->type, tx->payload, tx->payload_len))
		return 0;
	return device_batch_extra(p, d.nserials);
}

static int dev_apply(ssp_txctx *c, const ssp_tx *tx)
{
	ssp_device_payload p;
	if (ssp_device_payload_decode(&p, tx->type, tx->payload, tx->payload_len))
		return SSP_ERR_PAYLOAD;
	return device_apply(c, tx, &p);
}

static void set_addr(json_t *j, const char *key, const char *hrp, const ssp_addr *a)
{
	char s[96];
	ssp_addr_encode(s, sizeof s, hrp, a);
	json_object_set_new(j, key, json_string(s));
}

static void set_hex(json_t *j, const char *key, const void *p, size_t n)
{
	char s[2 * 72 + 1];
	sodium_bin2hex(s, sizeof s, p, n);
	json_object_set_new(j, key, json_string(s));
}

static json_t *dev_json(const ssp_tx *tx, const char *hrp)
{
	ssp_device_payload p;
	ssp_addr a;
	if (ssp_device_payload_decode(&p, tx->type, tx->payload, tx->payload_len)) return NULL;
	json_t *j = json_object();
	if (!j) return NULL;
	switch (tx->type) {
	case SSP_TX_MFR_REGISTER:
		json_object_set_new(j, "name", json_string(p.name));
		break;
	case SSP_TX_MFR_APPROVE:
	case SSP_TX_MFR_REVOKE:
		json_object_set_new(j, "name", json_string(p.name));
		ssp_addr_from_pubkey(&a, &p.key);
		set_addr(j, "producer", hrp, &a);
		break;
	case SSP_TX_MODEL_ADD: {
		json_object_set_new(j, "manufacturer", json_string(p.name));
		json_object_set_new(j, "model", json_string(p.model));
		json_object_set_new(j, "capabilities", json_integer(p.capabilities));
		json_t *fw = json_array();
		for (uint32_t i = 0; fw && i < p.nfirmware; i++) {
			char s[65];
			sodium_bin2hex(s, sizeof s, p.firmware[i].b, 32);
			json_array_append_new(fw, json_string(s));
		}
		json_object_set_new(j, "firmware", fw ? fw : json_null());
		break;
	}
	case SSP_TX_DEVICE_ENROLL:
		json_object_set_new(j, "manufacturer", json_string(p.cert.mfr));
		json_object_set_new(j, "model", json_string(p.cert.model));
		json_object_set_new(j, "serial", json_string(p.cert.serial));
		ssp_addr_from_pubkey(&a, &p.cert.device_key);
		set_addr(j, "device", hrp, &a);
		json_object_set_new(j, "capabilities", json_integer(p.cert.capabilities));
		break;
	case SSP_TX_DEVICE_CLAIM:
	case SSP_TX_DEVICE_REVOKE:
		set_addr(j, "device", hrp, &p.device);
		break;
	case SSP_TX_DEVICE_XFER:
		set_addr(j, "device", hrp, &p.device);
		set_addr(j, "to", hrp, &p.to);
		break;
	case SSP_TX_DEVICE_ATTEST:
		set_hex(j, "firmware", p.firmware[0].b, 32);
		json_object_set_new(j, "counter", json_integer((json_int_t)p.counter));
		set_hex(j, "challenge", p.challenge_id.b, 32);
		break;
	case SSP_TX_DEVICE_REVOKE_BATCH: {
		json_object_set_new(j, "manufacturer", json_string(p.name));
		json_t *sl = json_array();
		char serial[SSP_SERIAL_MAX + 1];
		size_t off = 0;
		while (sl && ssp_device_serial_next(&p, &off, serial))
			json_array_append_new(sl, json_string(serial));
		json_object_set_new(j, "serials", sl ? sl : json_null());
		break;
	}
	}
	return j;
}

#define DEVICE_TYPE(ID, NAME)                                                                \
	{                                                                                    \
		.id = (ID), .name = (NAME), .check = dev_check, .spend = dev_spend,          \
		.apply = dev_apply, .to_json = dev_json,                                     \
	}

static const ssp_txtype t_mfr_register = DEVICE_TYPE(SSP_TX_MFR_REGISTER, "mfr_register");
static const ssp_txtype t_mfr_approve = DEVICE_TYPE(SSP_TX_MFR_APPROVE, "mfr_approve");
static const ssp_txtype t_mfr_revoke = DEVICE_TYPE(SSP_TX_MFR_REVOKE, "mfr_revoke");
static const ssp_txtype t_model_add = DEVICE_TYPE(SSP_TX_MODEL_ADD, "model_add");
static const ssp_txtype t_enroll = DEVICE_TYPE(SSP_TX_DEVICE_ENROLL, "device_enroll");
static const ssp_txtype t_claim = DEVICE_TYPE(SSP_TX_DEVICE_CLAIM, "device_claim");
static const ssp_txtype t_xfer = DEVICE_TYPE(SSP_TX_DEVICE_XFER, "device_transfer");
static const ssp_txtype t_revoke = DEVICE_TYPE(SSP_TX_DEVICE_REVOKE, "device_revoke");
static const ssp_txtype t_attest = DEVICE_TYPE(SSP_TX_DEVICE_ATTEST, "device_attest");
static const ssp_txtype t_revoke_batch =
    DEVICE_TYPE(SSP_TX_DEVICE_REVOKE_BATCH, "device_revoke_batch");

const ssp_txtype *const ssp_device_txtypes[DEVICE_NTXTYPES] = {
    &t_mfr_register, &t_mfr_approve, &t_model_add, &t_enroll, &t_claim,
    &t_xfer,         &t_revoke,      &t_attest,    &t_mfr_revoke, &t_revoke_batch,
};
