/*
 * fuzz_device_payload.c — libFuzzer harness for the device module's
 * decoders (modules layer): every tx payload (the first byte picks the type,
 * 0x30 + b % 10) and the device certificate on its own. On success the
 * decoded fields keep their promises (identifiers valid, keys parsed,
 * bounded counts, counter > 0, a batch's serials valid and strictly
 * ascending) and the encoder gives back exactly the input
 * (one byte string per payload); the same bytes are decoded as every other
 * device type too, and as a metering receipt. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

static void cert_ok(const ssp_device_cert *c)
{
	check(ssp_device_ident_valid(c->mfr, strlen(c->mfr), SSP_MFR_NAME_MAX));
	check(ssp_device_ident_valid(c->model, strlen(c->model), SSP_MODEL_MAX));
	check(ssp_device_ident_valid(c->serial, strlen(c->serial), SSP_SERIAL_MAX));
	check(c->device_key.len == ssp_pubkey_len(c->device_key.type));
}

static void round_trip(uint16_t type, const uint8_t *p, size_t n)
{
	ssp_device_payload d;
	ssp_buf b;
	int rc = ssp_device_payload_decode(&d, type, p, n);
	check(rc == 0 || rc == SSP_ERR_PAYLOAD);
	if (rc) return;
	switch (type) {
	case SSP_TX_MFR_REGISTER:
	case SSP_TX_MFR_APPROVE:
	case SSP_TX_MFR_REVOKE:
	case SSP_TX_MODEL_ADD:
		check(ssp_device_ident_valid(d.name, strlen(d.name), SSP_MFR_NAME_MAX));
		break;
	case SSP_TX_DEVICE_ENROLL:
		cert_ok(&d.cert);
		break;
	case SSP_TX_DEVICE_ATTEST:
		check(d.counter > 0);
		break;
	case SSP_TX_DEVICE_REVOKE_BATCH: {
		char prev[SSP_SERIAL_MAX + 1] = "", cur[SSP_SERIAL_MAX + 1];
		size_t off = 0;
		uint32_t k = 0;
		check(ssp_device_ident_valid(d.name, strlen(d.name), SSP_MFR_NAME_MAX));
		check(d.nserials >= 1 && d.nserials <= SSP_REVOKE_BATCH_MAX);
		while (ssp_device_serial_next(&d, &off, cur)) {
			check(ssp_device_ident_valid(cur, strlen(cur), SSP_SERIAL_MAX));
			check(k == 0 || strcmp(prev, cur) < 0);
			memcpy(prev, cur, sizeof prev);
			k++;
		}
		check(k == d.nserials && off == d.serials_len);
		break;
	}
	default:
		break;
	}
	if (type == SSP_TX_MODEL_ADD) check(d.nfirmware >= 1 && d.nfirmware <= SSP_FIRMWARE_MAX);
	ssp_buf_init(&b, n + 64);
	ssp_device_payload_encode(&b, type, &d);
	check(b.err == 0 && b.len == n && memcmp(b.data, p, n) == 0);
	ssp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssp_device_payload d;
	ssp_device_cert c;
	if (size == 0) return 0;
	uint16_t type = (uint16_t)(SSP_TX_MFR_REGISTER + data[0] % 10);
	round_trip(type, data + 1, size - 1);
	for (uint16_t other = SSP_TX_MFR_REGISTER; other <= SSP_TX_DEVICE_REVOKE_BATCH; other++)
		if (other != type) round_trip(other, data + 1, size - 1);
	if (ssp_device_cert_decode(&c, data, size) == 0) {
		ssp_buf b;
		cert_ok(&c);
		ssp_buf_init(&b, size + 64);
		ssp_device_cert_encode(&b, &c, true);
		check(b.err == 0 && b.len == size && memcmp(b.data, data, size) == 0);
		ssp_buf_free(&b);
	}
	ssp_meter_receipt m;
	if (ssp_meter_decode(&m, data, size) == 0) {
		ssp_buf b;
		check(m.counter > 0 && m.signer.len == ssp_pubkey_len(m.signer.type));
		ssp_buf_init(&b, size + 64);
		ssp_meter_encode(&b, &m, true);
		check(b.err == 0 && b.len == size && memcmp(b.data, data, size) == 0);
		ssp_buf_free(&b);
	}
	check(ssp_device_payload_decode(&d, SSP_TX_TRANSFER, data, size) == SSP_ERR_TXTYPE);
	return 0;
}
