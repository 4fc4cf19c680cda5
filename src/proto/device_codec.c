/*
 * device_codec.c — the device registry's wire formats (proto layer):
 * identifiers, the certificate codec and digest, the claim key, the
 * approval digest, the payload codec of every device tx and the device
 * record a light client decodes from a state proof (layouts in
 * docs/internals/device.md). Decoding is strict: one byte string per value.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ssp/proto_device.h"

/* ------------------------------------------------------------ identifiers */

int ssp_device_ident_valid(const char *s, size_t n, size_t max)
{
	if (!s || n == 0 || n > max) return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return 0;
	}
	return 1;
}

int ssp_device_rd_ident(ssp_rd *r, char *out, size_t max)
{
	uint8_t n = ssp_rd_u8(r);
	const uint8_t *p = n <= max ? ssp_rd_view(r, n) : NULL;
	if (!p || !ssp_device_ident_valid((const char *)p, n, max)) return SSP_ERR_PAYLOAD;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

void ssp_device_put_ident(ssp_buf *b, const char *s)
{
	size_t n = strlen(s);
	ssp_buf_u8(b, (uint8_t)n);
	ssp_buf_put(b, s, n);
}

void ssp_device_put_key(ssp_buf *b, const ssp_pubkey *k)
{
	ssp_buf_u8(b, k->type);
	ssp_buf_u8(b, k->len);
	ssp_buf_put(b, k->b, k->len);
}

int ssp_device_rd_key(ssp_rd *r, ssp_pubkey *k)
{
	uint8_t type = ssp_rd_u8(r), len = ssp_rd_u8(r);
	const uint8_t *p = len <= SSP_PUBKEY_MAX ? ssp_rd_view(r, len) : NULL;
	if (!p || len != ssp_pubkey_len(type)) return SSP_ERR_PAYLOAD;
	return ssp_pubkey_parse(k, type, p, len) ? SSP_ERR_PAYLOAD : 0;
}

/* ------------------------------------------------------------ certificate */

#define CERT_VERSION 1

void ssp_device_cert_encode(ssp_buf *b, const ssp_device_cert *c, bool with_sig)
{
	ssp_buf_u8(b, CERT_VERSION);
	ssp_device_put_ident(b, c->mfr);
	ssp_device_put_ident(b, c->model);
	ssp_device_put_ident(b, c->serial);
	ssp_device_put_key(b, &c->device_key);
	ssp_buf_u32(b, c->capabilities);
	ssp_buf_put(b, c->claim_commitment.b, 32);
	if (with_sig) ssp_buf_put(b, c->sig.b, SSP_SIG_LEN);
}

static int cert_read(ssp_rd *r, ssp_device_cert *c)
{
	memset(c, 0, sizeof *c);
	if (ssp_rd_u8(r) != CERT_VERSION) return SSP_ERR_DEV_CERT;
	if (ssp_device_rd_ident(r, c->mfr, SSP_MFR_NAME_MAX) || ssp_device_rd_ident(r, c->model, SSP_MODEL_MAX) ||
	    ssp_device_rd_ident(r, c->serial, SSP_SERIAL_MAX) || ssp_device_rd_key(r, &c->device_key))
		return SSP_ERR_DEV_CERT;
	c->capabilities = ssp_rd_u32(r);
	ssp_rd_raw(r, c->claim_commitment.b, 32);
	ssp_rd_raw(r, c->sig.b, SSP_SIG_LEN);
	return r->err ? SSP_ERR_DEV_CERT : 0;
}

int ssp_device_cert_decode(ssp_device_cert *c, const uint8_t *buf, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, buf, n);
	int rc = cert_read(&r, c);
	if (!rc && ssp_rd_end(&r)) rc = SSP_ERR_DEV_CERT;
	return rc;
}

void ssp_device_cert_digest(ssp_hash *out, const char *chain_id, const ssp_device_cert *c)
{
	ssp_buf b;
	ssp_buf_init(&b, 512);
	ssp_device_cert_encode(&b, c, false);
	/* an unencodable certificate digests to zeros, which no key signs */
	if (b.err)
		memset(out, 0, sizeof *out);
	else
		ssp_sig_digest(out, SSP_DOM_CERT, chain_id, b.data, b.len);
	ssp_buf_free(&b);
}

int ssp_device_cert_sign(ssp_device_cert *c, const char *chain_id, const ssp_seckey *sk)
{
	ssp_hash d;
	ssp_device_cert_digest(&d, chain_id, c);
	return ssp_sign_digest(&c->sig, sk, &d);
}

/* -------------------------------------------------------------- claim key */

int ssp_device_claim_key(ssp_seckey *sk, ssp_pubkey *pk, const char *secret)
{
	static const char tag[] = "SSP/claim-key/v1";
	ssp_hash seed;
	const void *parts[2] = {tag, secret};
	size_t lens[2] = {sizeof tag, strlen(secret)};
	if (!*secret) return SSP_ERR_INVAL;
	ssp_sha256v(&seed, parts, lens, 2);
	int rc = ssp_seckey_from_raw(sk, SSP_KEY_ED25519, seed.b, 32);
	if (!rc) rc = ssp_key_public(pk, sk);
	sodium_memzero(&seed, sizeof seed);
	return rc;
}

void ssp_device_claim_commitment(ssp_hash *out, const ssp_pubkey *claim_pk)
{
	ssp_sha256(out, claim_pk->b, claim_pk->len);
}

void ssp_device_claim_digest(ssp_hash *out, const char *chain_id, const ssp_addr *device,
                             const ssp_addr *owner)
{
	uint8_t m[2 * SSP_ADDR_LEN];
	memcpy(m, device->b, SSP_ADDR_LEN);
	memcpy(m + SSP_ADDR_LEN, owner->b, SSP_ADDR_LEN);
	ssp_sig_digest(out, SSP_DOM_CLAIM, chain_id, m, sizeof m);
}

void ssp_device_approve_digest(ssp_hash *out, const char *chain_id, uint16_t type,
                               const char *name)
{
	uint8_t m[2 + SSP_MFR_NAME_MAX];
	size_t n = strnlen(name, SSP_MFR_NAME_MAX);
	m[0] = (uint8_t)(type >> 8);
	m[1] = (uint8_t)type;
	memcpy(m + 2, name, n);
	ssp_sig_digest(out, SSP_DOM_APPROVE, chain_id, m, 2 + n);
}

static int is_device_type(uint16_t t)
{
	return t >= SSP_TX_MFR_REGISTER && t <= SSP_TX_DEVICE_REVOKE_BATCH;
}

/* Serial order: bytewise, a prefix first (strcmp's order on identifiers). */
static int serial_cmp(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	return c ? c : (na > nb) - (na < nb);
}

static int serial_qcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ssp_device_serials_encode(ssp_buf *b, const char *const *serials, size_t n)
{
	if (n == 0 || n > SSP_REVOKE_BATCH_MAX) return SSP_ERR_RANGE;
	const char *v[SSP_REVOKE_BATCH_MAX];
	for (size_t i = 0; i < n; i++) {
		if (!ssp_device_ident_valid(serials[i], strlen(serials[i]), SSP_SERIAL_MAX))
			return SSP_ERR_INVAL;
		v[i] = serials[i];
	}
	qsort(v, n, sizeof *v, serial_qcmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1], v[i])) return SSP_ERR_DUPLICATE;
	for (size_t i = 0; i < n; i++)
		ssp_device_put_ident(b, v[i]);
	return b->err;
}

int ssp_device_serial_next(const ssp_device_payload *p, size_t *off,
                           char out[SSP_SERIAL_MAX + 1])
{
	if (*off >= p->serials_len) return 0;
	uint8_t n = p->serials[*off];
	if (*off + 1 + n > p->serials_len || n > SSP_SERIAL_MAX) return 0;
	memcpy(out, p->serials + *off + 1, n);
	out[n] = 0;
	*off += 1 + (size_t)n;
	return 1;
}

void ssp_device_payload_encode(ssp_buf *b, uint16_t type, const ssp_device_payload *p)
{
	if (!is_device_type(type) || p->nfirmware > SSP_FIRMWARE_MAX) {
		if (!b->err) b->err = SSP_ERR_INVAL;
		return;
	}
	switch (type) {
	case SSP_TX_MFR_REGISTER:
		ssp_device_put_ident(b, p->name);
		return;
	case SSP_TX_MFR_APPROVE:
	case SSP_TX_MFR_REVOKE:
		ssp_device_put_ident(b, p->name);
		ssp_buf_u8(b, p->key.type);
		ssp_buf_u8(b, p->key.len);
		ssp_buf_put(b, p->key.b, p->key.len);
		ssp_buf_put(b, p->sig.b, SSP_SIG_LEN);
		return;
	case SSP_TX_MODEL_ADD:
		ssp_device_put_ident(b, p->name);
		ssp_device_put_ident(b, p->model);
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
		ssp_buf_u8(b, SSP_ATTEST_VERSION);
		ssp_buf_put(b, p->firmware[0].b, 32);
		ssp_buf_u64(b, p->counter);
		ssp_buf_put(b, p->challenge_id.b, 32);
		return;
	case SSP_TX_DEVICE_REVOKE_BATCH:
		ssp_device_put_ident(b, p->name);
		ssp_buf_u16(b, (uint16_t)p->nserials);
		ssp_buf_put(b, p->serials, p->serials_len);
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
		if (ssp_device_rd_ident(&r, p->name, SSP_MFR_NAME_MAX)) return SSP_ERR_PAYLOAD;
		break;
	case SSP_TX_MFR_APPROVE:
	case SSP_TX_MFR_REVOKE: {
		if (ssp_device_rd_ident(&r, p->name, SSP_MFR_NAME_MAX)) return SSP_ERR_PAYLOAD;
		uint8_t kt = ssp_rd_u8(&r), kl = ssp_rd_u8(&r);
		const uint8_t *k = kl <= SSP_PUBKEY_MAX ? ssp_rd_view(&r, kl) : NULL;
		if (!k || kl != ssp_pubkey_len(kt) || ssp_pubkey_parse(&p->key, kt, k, kl))
			return SSP_ERR_PAYLOAD;
		ssp_rd_raw(&r, p->sig.b, SSP_SIG_LEN);
		break;
	}
	case SSP_TX_MODEL_ADD:
		if (ssp_device_rd_ident(&r, p->name, SSP_MFR_NAME_MAX) || ssp_device_rd_ident(&r, p->model, SSP_MODEL_MAX))
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
		/* v1 (a challenge height, no version byte) is refused: it was fork-blind */
		if (ssp_rd_u8(&r) != SSP_ATTEST_VERSION) return SSP_ERR_PAYLOAD;
		ssp_rd_raw(&r, p->firmware[0].b, 32);
		p->counter = ssp_rd_u64(&r);
		ssp_rd_raw(&r, p->challenge_id.b, 32);
		if (!r.err && p->counter == 0) return SSP_ERR_PAYLOAD;
		break;
	case SSP_TX_DEVICE_REVOKE_BATCH: {
		if (ssp_device_rd_ident(&r, p->name, SSP_MFR_NAME_MAX)) return SSP_ERR_PAYLOAD;
		p->nserials = ssp_rd_u16(&r);
		if (r.err || p->nserials == 0 || p->nserials > SSP_REVOKE_BATCH_MAX)
			return SSP_ERR_PAYLOAD;
		size_t start = r.off;
		const uint8_t *prev = NULL;
		size_t prevn = 0;
		for (uint32_t i = 0; i < p->nserials; i++) {
			char tmp[SSP_SERIAL_MAX + 1];
			size_t at = r.off;
			if (ssp_device_rd_ident(&r, tmp, SSP_SERIAL_MAX)) return SSP_ERR_PAYLOAD;
			const uint8_t *cur = buf + at + 1;
			size_t curn = r.off - at - 1;
			/* strictly ascending: one encoding per set, no duplicates */
			if (prev && serial_cmp(prev, prevn, cur, curn) >= 0) return SSP_ERR_PAYLOAD;
			prev = cur;
			prevn = curn;
		}
		p->serials = buf + start;
		p->serials_len = r.off - start;
		break;
	}
	}
	return ssp_rd_end(&r) ? SSP_ERR_PAYLOAD : 0;
}

/* ---------------------------------------------------------- device record */

void ssp_device_record_encode(ssp_buf *b, const ssp_device *d)
{
	ssp_device_put_ident(b, d->mfr);
	ssp_device_put_ident(b, d->model);
	ssp_device_put_ident(b, d->serial);
	ssp_device_put_key(b, &d->key);
	ssp_buf_u32(b, d->capabilities);
	ssp_buf_put(b, d->claim_commitment.b, 32);
	ssp_buf_u8(b, d->status);
	ssp_buf_u8(b, d->owned);
	ssp_buf_put(b, d->owner.b, SSP_ADDR_LEN);
	ssp_buf_u64(b, d->enrolled_height);
	ssp_buf_u64(b, d->attested_height);
	ssp_buf_u64(b, d->counter);
	ssp_buf_u64(b, d->challenge_height);
	ssp_buf_put(b, d->firmware.b, 32);
}

int ssp_device_record_decode(ssp_device *d, const void *key, size_t kl, const void *p, size_t n)
{
	ssp_rd r;
	memset(d, 0, sizeof *d);
	if (kl != SSP_ADDR_LEN) return SSP_ERR_DBCORRUPT;
	memcpy(d->address.b, key, SSP_ADDR_LEN);
	ssp_rd_init(&r, p, n);
	if (ssp_device_rd_ident(&r, d->mfr, SSP_MFR_NAME_MAX) || ssp_device_rd_ident(&r, d->model, SSP_MODEL_MAX) ||
	    ssp_device_rd_ident(&r, d->serial, SSP_SERIAL_MAX) || ssp_device_rd_key(&r, &d->key))
		return SSP_ERR_DBCORRUPT;
	d->capabilities = ssp_rd_u32(&r);
	ssp_rd_raw(&r, d->claim_commitment.b, 32);
	d->status = ssp_rd_u8(&r);
	uint8_t owned = ssp_rd_u8(&r);
	ssp_rd_raw(&r, d->owner.b, SSP_ADDR_LEN);
	d->enrolled_height = ssp_rd_u64(&r);
	d->attested_height = ssp_rd_u64(&r);
	d->counter = ssp_rd_u64(&r);
	d->challenge_height = ssp_rd_u64(&r);
	ssp_rd_raw(&r, d->firmware.b, 32);
	if (ssp_rd_end(&r) || owned > 1 || d->status < SSP_DEVICE_ACTIVE ||
	    d->status > SSP_DEVICE_UNTRUSTED)
		return SSP_ERR_DBCORRUPT;
	d->owned = owned;
	return 0;
}

/* ------------------------------------------------------ metering receipts */

void ssp_meter_encode(ssp_buf *b, const ssp_meter_receipt *m, bool with_sig)
{
	ssp_buf_u8(b, SSP_METER_VERSION);
	ssp_buf_put(b, m->agreement.b, 32);
	ssp_buf_u64(b, m->counter);
	ssp_buf_u64(b, m->cumulative);
	ssp_device_put_key(b, &m->signer);
	if (with_sig) ssp_buf_put(b, m->sig.b, SSP_SIG_LEN);
}

int ssp_meter_decode(ssp_meter_receipt *m, const uint8_t *buf, size_t n)
{
	ssp_rd r;
	memset(m, 0, sizeof *m);
	ssp_rd_init(&r, buf, n);
	if (ssp_rd_u8(&r) != SSP_METER_VERSION) return SSP_ERR_PAYLOAD;
	ssp_rd_raw(&r, m->agreement.b, 32);
	m->counter = ssp_rd_u64(&r);
	m->cumulative = ssp_rd_u64(&r);
	if (r.err || ssp_device_rd_key(&r, &m->signer)) return SSP_ERR_PAYLOAD;
	ssp_rd_raw(&r, m->sig.b, SSP_SIG_LEN);
	if (r.err || ssp_rd_end(&r) || m->counter == 0) return SSP_ERR_PAYLOAD;
	return 0;
}

void ssp_meter_digest(ssp_hash *out, const char *chain_id, const ssp_meter_receipt *m)
{
	ssp_buf b;
	ssp_buf_init(&b, 128);
	ssp_meter_encode(&b, m, false);
	if (b.err)
		memset(out, 0, sizeof *out); /* no key signs zeros */
	else
		ssp_sig_digest(out, SSP_DOM_RECEIPT, chain_id, b.data, b.len);
	ssp_buf_free(&b);
}

int ssp_meter_verify(const ssp_meter_receipt *m, const char *chain_id)
{
	ssp_hash d;
	ssp_meter_digest(&d, chain_id, m);
	return ssp_verify_digest(&m->signer, &d, &m->sig) ? SSP_ERR_BADSIG : 0;
}

int ssp_meter_follows(const ssp_meter_receipt *prev, const ssp_meter_receipt *next)
{
	if (memcmp(prev->agreement.b, next->agreement.b, 32) || prev->signer.type != next->signer.type ||
	    prev->signer.len != next->signer.len || memcmp(prev->signer.b, next->signer.b, prev->signer.len))
		return SSP_ERR_INVAL;
	if (next->counter <= prev->counter) return SSP_ERR_DEV_COUNTER;
	if (next->cumulative < prev->cumulative) return SSP_ERR_RANGE;
	return 0;
}
