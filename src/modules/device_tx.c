/*
 * device_tx.c — the device module's transaction types 0x30..0x38 (modules
 * layer): the strict payload codec (layouts in docs/internals/device.md)
 * and check/apply/to_json for each type. apply runs device.c's operations;
 * their error makes the tx invalid (not included, dropped by the mempool).
 */
#include <string.h>

#include <sodium.h>

#include "device_internal.h"

static int is_device_type(uint16_t t)
{
	return t >= SSP_TX_MFR_REGISTER && t <= SSP_TX_MFR_REVOKE;
}

static void put_ident(ssp_buf *b, const char *s)
{
	size_t n = strnlen(s, 255);
	ssp_buf_u8(b, (uint8_t)n);
	ssp_buf_put(b, s, n);
}

static int rd_ident(ssp_rd *r, char *out, size_t max)
{
	uint8_t n = ssp_rd_u8(r);
	const uint8_t *p = n <= max ? ssp_rd_view(r, n) : NULL;
	if (!p || !ssp_device_ident_valid((const char *)p, n, max)) return SSP_ERR_PAYLOAD;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

void ssp_device_payload_encode(ssp_buf *b, uint16_t type, const ssp_device_payload *p)
{
	if (!is_device_type(type) || p->nfirmware > SSP_FIRMWARE_MAX) {
		if (!b->err) b->err = SSP_ERR_INVAL;
		return;
	}
	switch (type) {
	case SSP_TX_MFR_REGISTER:
		put_ident(b, p->name);
		return;
	case SSP_TX_MFR_APPROVE:
	case SSP_TX_MFR_REVOKE:
		put_ident(b, p->name);
		ssp_buf_u8(b, p->key.type);
		ssp_buf_u8(b, p->key.len);
		ssp_buf_put(b, p->key.b, p->key.len);
		ssp_buf_put(b, p->sig.b, SSP_SIG_LEN);
		return;
	case SSP_TX_MODEL_ADD:
		put_ident(b, p->name);
		put_ident(b, p->model);
		ssp_buf_u32(b, p->capabilities);
		ssp_buf_u8(b, (uint8_t)p->nfirmware);
		for (uint32_t i = 0; i < p->nfirmware; i++)
			ssp_buf_put(b, p->firmware[i].b, 32);
		return;
	case SSP_TX_DEVICE_ENROLL:
		ssp_device_cert_encode(b, &p->cert, true);
		return;
	case SSP_TX_DEVICE_CLAIM:
		ssp_buf_put(b, p->device.b, SSP_ADDR_LEN);
		ssp_buf_put(b, p->key.b, 32);
		ssp_buf_put(b, p->sig.b, SSP_SIG_LEN);
		return;
	case SSP_TX_DEVICE_XFER:
		ssp_buf_put(b, p->device.b, SSP_ADDR_LEN);
		ssp_buf_put(b, p->to.b, SSP_ADDR_LEN);
		return;
	case SSP_TX_DEVICE_REVOKE:
		ssp_buf_put(b, p->device.b, SSP_ADDR_LEN);
		return;
	case SSP_TX_DEVICE_ATTEST:
		ssp_buf_put(b, p->firmware[0].b, 32);
		ssp_buf_u64(b, p->counter);
		ssp_buf_u64(b, p->challenge_height);
		return;
	}
}

int ssp_device_payload_decode(ssp_device_payload *p, uint16_t type, const uint8_t *buf, size_t n)
{
	ssp_rd r;
	memset(p, 0, sizeof *p);
	if (!is_device_type(type)) return SSP_ERR_TXTYPE;
	ssp_rd_init(&r, buf, n);
	switch (type) {
	case SSP_TX_MFR_REGISTER:
		if (rd_ident(&r, p->name, SSP_MFR_NAME_MAX)) return SSP_ERR_PAYLOAD;
		break;
	case SSP_TX_MFR_APPROVE:
	case SSP_TX_MFR_REVOKE: {
		if (rd_ident(&r, p->name, SSP_MFR_NAME_MAX)) return SSP_ERR_PAYLOAD;
		uint8_t kt = ssp_rd_u8(&r), kl = ssp_rd_u8(&r);
		const uint8_t *k = kl <= SSP_PUBKEY_MAX ? ssp_rd_view(&r, kl) : NULL;
		if (!k || kl != ssp_pubkey_len(kt) || ssp_pubkey_parse(&p->key, kt, k, kl))
			return SSP_ERR_PAYLOAD;
		ssp_rd_raw(&r, p->sig.b, SSP_SIG_LEN);
		break;
	}
	case SSP_TX_MODEL_ADD:
		if (rd_ident(&r, p->name, SSP_MFR_NAME_MAX) || rd_ident(&r, p->model, SSP_MODEL_MAX))
			return SSP_ERR_PAYLOAD;
		p->capabilities = ssp_rd_u32(&r);
		p->nfirmware = ssp_rd_u8(&r);
		if (p->nfirmware == 0 || p->nfirmware > SSP_FIRMWARE_MAX) return SSP_ERR_PAYLOAD;
		for (uint32_t i = 0; i < p->nfirmware; i++) {
			ssp_rd_raw(&r, p->firmware[i].b, 32);
			for (uint32_t j = 0; j < i && !r.err; j++)
				if (!memcmp(p->firmware[j].b, p->firmware[i].b, 32)) return SSP_ERR_PAYLOAD;
		}
		break;
	case SSP_TX_DEVICE_ENROLL:
		return ssp_device_cert_decode(&p->cert, buf, n) ? SSP_ERR_PAYLOAD : 0;
	case SSP_TX_DEVICE_CLAIM: {
		uint8_t k[32];
		ssp_rd_raw(&r, p->device.b, SSP_ADDR_LEN);
		ssp_rd_raw(&r, k, 32);
		ssp_rd_raw(&r, p->sig.b, SSP_SIG_LEN);
		if (r.err || ssp_pubkey_parse(&p->key, SSP_KEY_ED25519, k, 32)) return SSP_ERR_PAYLOAD;
		break;
	}
	case SSP_TX_DEVICE_XFER:
		ssp_rd_raw(&r, p->device.b, SSP_ADDR_LEN);
		ssp_rd_raw(&r, p->to.b, SSP_ADDR_LEN);
		break;
	case SSP_TX_DEVICE_REVOKE:
		ssp_rd_raw(&r, p->device.b, SSP_ADDR_LEN);
		break;
	case SSP_TX_DEVICE_ATTEST:
		ssp_rd_raw(&r, p->firmware[0].b, 32);
		p->counter = ssp_rd_u64(&r);
		p->challenge_height = ssp_rd_u64(&r);
		if (!r.err && p->counter == 0) return SSP_ERR_PAYLOAD;
		break;
	}
	return ssp_rd_end(&r) ? SSP_ERR_PAYLOAD : 0;
}

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
	(void)tx;
	(void)p;
	return 0;
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
		json_object_set_new(j, "challenge_height", json_integer((json_int_t)p.challenge_height));
		break;
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

const ssp_txtype *const ssp_device_txtypes[DEVICE_NTXTYPES] = {
    &t_mfr_register, &t_mfr_approve, &t_model_add, &t_enroll, &t_claim,
    &t_xfer,         &t_revoke,      &t_attest,    &t_mfr_revoke,
};
