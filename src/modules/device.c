/*
 * device.c — the device registry on chain (modules layer; ssp/device.h):
 * identifiers, the certificate and claim-key codecs, the state records and
 * the operations the device tx types run. Payloads and tx types are in
 * device_tx.c, RPC methods in device_rpc.c; this file also assembles
 * ssp_device_module.
 *
 * State (under the chain's state table, u8 table id || key):
 *   SSP_TB_DEV_MFR    name                -> u8 status | account[20] | u64 height |
 *                                            u8 n | n × producer addr[20]
 *   SSP_TB_DEV_MODEL  name 0x00 model     -> u32 capabilities | u8 n | n × sha256
 *   SSP_TB_DEVICE     device addr[20]     -> device record (device_record_encode)
 *   SSP_TB_DEV_SERIAL name 0x00 serial    -> device addr[20]
 * Identifiers never contain 0x00, so the separator keeps keys prefix-free.
 *
 * The producer set that admits and revokes manufacturers is the genesis
 * set (ssp_genesis_producers: the round-robin schedule's; on a devnet the one
 * producer, whose approval alone admits); DPoS will make it the elected set.
 * More than 2/3 of it must sign the same approval.
 */
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

#define KEY_MAX (SSP_MFR_NAME_MAX + 1 + SSP_SERIAL_MAX)

/* the table ids are in ssp/proto_device.h, for light clients */
_Static_assert(SSP_TB_DEV_MFR == SSP_TB_MODULE_FIRST + 16 && SSP_TB_DEVICE == SSP_TB_MODULE_FIRST + 18,
               "device table ids");

/* ---------------------------------------------------------------- records */

void device_mfr_encode(ssp_buf *b, const ssp_mfr *m)
{
	ssp_buf_u8(b, m->status);
	ssp_buf_put(b, m->account.b, SSP_ADDR_LEN);
	ssp_buf_u64(b, m->height);
	ssp_buf_u8(b, (uint8_t)m->napprovals);
	for (uint32_t i = 0; i < m->napprovals; i++)
		ssp_buf_put(b, m->approvals[i].b, SSP_ADDR_LEN);
}

int device_mfr_decode(ssp_mfr *m, const void *key, size_t kl, const void *p, size_t n)
{
	ssp_rd r;
	memset(m, 0, sizeof *m);
	if (!ssp_device_ident_valid(key, kl, SSP_MFR_NAME_MAX)) return SSP_ERR_DBCORRUPT;
	memcpy(m->name, key, kl);
	ssp_rd_init(&r, p, n);
	m->status = ssp_rd_u8(&r);
	ssp_rd_raw(&r, m->account.b, SSP_ADDR_LEN);
	m->height = ssp_rd_u64(&r);
	m->napprovals = ssp_rd_u8(&r);
	if (m->napprovals > SSP_MFR_APPROVALS_MAX) return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < m->napprovals; i++)
		ssp_rd_raw(&r, m->approvals[i].b, SSP_ADDR_LEN);
	if (ssp_rd_end(&r) || m->status < SSP_MFR_PENDING || m->status > SSP_MFR_REVOKED)
		return SSP_ERR_DBCORRUPT;
	return 0;
}

static void model_encode(ssp_buf *b, const ssp_model *m)
{
	ssp_buf_u32(b, m->capabilities);
	ssp_buf_u8(b, (uint8_t)m->nfirmware);
	for (uint32_t i = 0; i < m->nfirmware; i++)
		ssp_buf_put(b, m->firmware[i].b, 32);
}

int device_model_decode(ssp_model *m, const void *key, size_t kl, const void *p, size_t n)
{
	ssp_rd r;
	const char *k = key, *sep = memchr(key, 0, kl);
	memset(m, 0, sizeof *m);
	if (!sep) return SSP_ERR_DBCORRUPT;
	size_t nl = (size_t)(sep - k), ml = kl - nl - 1;
	if (!ssp_device_ident_valid(k, nl, SSP_MFR_NAME_MAX) ||
	    !ssp_device_ident_valid(sep + 1, ml, SSP_MODEL_MAX))
		return SSP_ERR_DBCORRUPT;
	memcpy(m->mfr, k, nl);
	memcpy(m->model, sep + 1, ml);
	ssp_rd_init(&r, p, n);
	m->capabilities = ssp_rd_u32(&r);
	m->nfirmware = ssp_rd_u8(&r);
	if (m->nfirmware == 0 || m->nfirmware > SSP_FIRMWARE_MAX) return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < m->nfirmware; i++)
		ssp_rd_raw(&r, m->firmware[i].b, 32);
	return ssp_rd_end(&r) ? SSP_ERR_DBCORRUPT : 0;
}

static size_t pair_key(uint8_t k[KEY_MAX], const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	memcpy(k, a, na);
	k[na] = 0;
	memcpy(k + na + 1, b, nb);
	return na + 1 + nb;
}

int ssp_device_mfr_get(ssp_state *st, const char *name, ssp_mfr *out)
{
	const void *v;
	size_t vl, nl = strlen(name);
	if (!ssp_device_ident_valid(name, nl, SSP_MFR_NAME_MAX)) return SSP_ERR_INVAL;
	int rc = ssp_state_get(st, SSP_TB_DEV_MFR, name, nl, &v, &vl);
	return rc ? rc : device_mfr_decode(out, name, nl, v, vl);
}

int ssp_device_model_get(ssp_state *st, const char *mfr, const char *model, ssp_model *out)
{
	uint8_t k[KEY_MAX];
	const void *v;
	size_t vl;
	if (!ssp_device_ident_valid(mfr, strlen(mfr), SSP_MFR_NAME_MAX) ||
	    !ssp_device_ident_valid(model, strlen(model), SSP_MODEL_MAX))
		return SSP_ERR_INVAL;
	size_t kl = pair_key(k, mfr, model);
	int rc = ssp_state_get(st, SSP_TB_DEV_MODEL, k, kl, &v, &vl);
	return rc ? rc : device_model_decode(out, k, kl, v, vl);
}

int ssp_device_get(ssp_state *st, const ssp_addr *a, ssp_device *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DEVICE, a->b, SSP_ADDR_LEN, &v, &vl);
	return rc ? rc : ssp_device_record_decode(out, a->b, SSP_ADDR_LEN, v, vl);
}

static int put_mfr(ssp_state *st, const ssp_mfr *m)
{
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	device_mfr_encode(&b, m);
	int rc = b.err ? b.err
	               : ssp_state_put(st, SSP_TB_DEV_MFR, m->name, strlen(m->name), b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

static int put_device(ssp_state *st, const ssp_device *d)
{
	ssp_buf b;
	ssp_buf_init(&b, 512);
	ssp_device_record_encode(&b, d);
	int rc = b.err ? b.err
	               : ssp_state_put(st, SSP_TB_DEVICE, d->address.b, SSP_ADDR_LEN, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------- operations */

typedef struct {
	const ssp_genesis *g;
} device_chain;

/* Is `a` in the producer set (the genesis set, round-robin until DPoS)? *n gets its size. */
static bool is_producer(const device_chain *dc, const ssp_addr *a, uint32_t *n)
{
	const ssp_pubkey *keys;
	size_t k = ssp_genesis_producers(dc->g, &keys);
	*n = (uint32_t)k;
	for (size_t i = 0; i < k; i++) {
		ssp_addr pa;
		ssp_addr_from_pubkey(&pa, &keys[i]);
		if (!memcmp(pa.b, a->b, SSP_ADDR_LEN)) return true;
	}
	return false;
}

static int read_mfr(ssp_state *st, const char *name, ssp_mfr *m)
{
	int rc = ssp_device_mfr_get(st, name, m);
	return rc == SSP_ERR_NOTFOUND ? SSP_ERR_DEV_MFR : rc;
}

static int op_register(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	ssp_mfr m;
	int rc = ssp_device_mfr_get(c->st, p->name, &m);
	if (rc != SSP_ERR_NOTFOUND) return rc ? rc : SSP_ERR_EXISTS;
	memset(&m, 0, sizeof m);
	memcpy(m.name, p->name, sizeof m.name);
	m.status = SSP_MFR_PENDING;
	m.account = tx->from;
	m.height = c->height;
	return put_mfr(c->st, &m);
}

/* A producer's signed approval (or revocation) of a manufacturer. */
static int op_approve(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	const device_chain *dc = c->mod;
	ssp_mfr m;
	ssp_addr pa;
	ssp_hash d;
	uint32_t nprod;
	int rc = read_mfr(c->st, p->name, &m);
	if (rc) return rc;
	uint8_t want = tx->type == SSP_TX_MFR_APPROVE ? SSP_MFR_PENDING : SSP_MFR_ADMITTED;
	if (m.status != want) return SSP_ERR_DEV_MFR;
	ssp_addr_from_pubkey(&pa, &p->key);
	if (!is_producer(dc, &pa, &nprod)) return SSP_ERR_DEV_DENIED;
	ssp_device_approve_digest(&d, c->chain_id, tx->type, p->name);
	if (ssp_verify_digest(&p->key, &d, &p->sig)) return SSP_ERR_BADSIG;
	for (uint32_t i = 0; i < m.napprovals; i++)
		if (!memcmp(m.approvals[i].b, pa.b, SSP_ADDR_LEN)) return SSP_ERR_DUPLICATE;
	if (m.napprovals == SSP_MFR_APPROVALS_MAX) return SSP_ERR_RANGE;
	m.approvals[m.napprovals++] = pa;
	if ((uint64_t)m.napprovals * 3 > (uint64_t)nprod * 2) {
		m.status = tx->type == SSP_TX_MFR_APPROVE ? SSP_MFR_ADMITTED : SSP_MFR_REVOKED;
		m.napprovals = 0; /* the next decision collects its own signatures */
	}
	return put_mfr(c->st, &m);
}

static int op_model_add(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	ssp_mfr m;
	ssp_model md;
	int rc = read_mfr(c->st, p->name, &m);
	if (rc) return rc;
	if (m.status != SSP_MFR_ADMITTED) return SSP_ERR_DEV_MFR;
	if (memcmp(m.account.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_DEV_DENIED;
	rc = ssp_device_model_get(c->st, p->name, p->model, &md);
	if (rc != SSP_ERR_NOTFOUND) return rc ? rc : SSP_ERR_EXISTS;
	memset(&md, 0, sizeof md);
	md.capabilities = p->capabilities;
	md.nfirmware = p->nfirmware;
	memcpy(md.firmware, p->firmware, sizeof md.firmware);
	uint8_t k[KEY_MAX];
	size_t kl = pair_key(k, p->name, p->model);
	ssp_buf b;
	ssp_buf_init(&b, 1024);
	model_encode(&b, &md);
	rc = b.err ? b.err : ssp_state_put(c->st, SSP_TB_DEV_MODEL, k, kl, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

/*
 * The device enrolls itself: the tx is signed by the certified key (its
 * proof of possession), the certificate by the manufacturer's account key.
 */
static int op_enroll(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	const ssp_device_cert *cert = &p->cert;
	ssp_mfr m;
	ssp_model md;
	ssp_account acc;
	ssp_addr da;
	ssp_hash d;
	ssp_device dev;
	int rc = read_mfr(c->st, cert->mfr, &m);
	if (rc) return rc;
	if (m.status != SSP_MFR_ADMITTED) return SSP_ERR_DEV_MFR;
	rc = ssp_device_model_get(c->st, cert->mfr, cert->model, &md);
	if (rc) return rc == SSP_ERR_NOTFOUND ? SSP_ERR_DEV_CERT : rc;
	if (cert->capabilities & ~md.capabilities) return SSP_ERR_DEV_CERT;
	ssp_addr_from_pubkey(&da, &cert->device_key);
	if (memcmp(da.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_DEV_DENIED;
	if ((rc = ssp_state_account(c->st, &m.account, &acc))) return rc;
	if (!acc.has_key) return SSP_ERR_DEV_CERT;
	ssp_device_cert_digest(&d, c->chain_id, cert);
	if (ssp_verify_digest(&acc.key, &d, &cert->sig)) return SSP_ERR_DEV_CERT;
	rc = ssp_device_get(c->st, &da, &dev);
	if (rc != SSP_ERR_NOTFOUND) return rc ? rc : SSP_ERR_DEV_TAKEN;
	uint8_t k[KEY_MAX];
	size_t kl = pair_key(k, cert->mfr, cert->serial);
	const void *v;
	size_t vl;
	rc = ssp_state_get(c->st, SSP_TB_DEV_SERIAL, k, kl, &v, &vl);
	if (rc != SSP_ERR_NOTFOUND) return rc ? rc : SSP_ERR_DEV_TAKEN;
	memset(&dev, 0, sizeof dev);
	dev.address = da;
	memcpy(dev.mfr, cert->mfr, sizeof dev.mfr);
	memcpy(dev.model, cert->model, sizeof dev.model);
	memcpy(dev.serial, cert->serial, sizeof dev.serial);
	dev.key = cert->device_key;
	dev.capabilities = cert->capabilities;
	dev.claim_commitment = cert->claim_commitment;
	dev.status = SSP_DEVICE_ACTIVE;
	dev.enrolled_height = c->height;
	if ((rc = ssp_state_put(c->st, SSP_TB_DEV_SERIAL, k, kl, da.b, SSP_ADDR_LEN))) return rc;
	return put_device(c->st, &dev);
}

static int read_device(ssp_state *st, const ssp_addr *a, ssp_device *d)
{
	int rc = ssp_device_get(st, a, d);
	return rc == SSP_ERR_NOTFOUND ? SSP_ERR_DEV_UNKNOWN : rc;
}

static int op_claim(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	ssp_device dev;
	ssp_hash h;
	int rc = read_device(c->st, &p->device, &dev);
	if (rc) return rc;
	if (dev.status == SSP_DEVICE_REVOKED) return SSP_ERR_DEV_REVOKED;
	if (dev.owned) return SSP_ERR_DEV_CLAIM;
	ssp_device_claim_commitment(&h, &p->key);
	if (memcmp(h.b, dev.claim_commitment.b, 32)) return SSP_ERR_DEV_CLAIM;
	ssp_device_claim_digest(&h, c->chain_id, &p->device, &tx->from);
	if (ssp_verify_digest(&p->key, &h, &p->sig)) return SSP_ERR_DEV_CLAIM;
	dev.owned = true;
	dev.owner = tx->from;
	return put_device(c->st, &dev);
}

static int op_xfer(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	ssp_device dev;
	int rc = read_device(c->st, &p->device, &dev);
	if (rc) return rc;
	if (dev.status == SSP_DEVICE_REVOKED) return SSP_ERR_DEV_REVOKED;
	if (!dev.owned || memcmp(dev.owner.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_DEV_DENIED;
	if (!memcmp(p->to.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_SELF_TRANSFER;
	dev.owner = p->to;
	return put_device(c->st, &dev);
}

/*
 * Marks a device revoked and its account restricted, so the chain asks
 * device_sender about every tx it sends from now on (and about no other
 * account's).
 */
static int revoke_device(ssp_state *st, ssp_device *dev)
{
	ssp_account acc;
	dev->status = SSP_DEVICE_REVOKED;
	int rc = put_device(st, dev);
	if (!rc) rc = ssp_state_account(st, &dev->address, &acc);
	if (!rc && !acc.restricted) {
		acc.restricted = true;
		rc = ssp_state_set_account(st, &dev->address, &acc);
	}
	return rc;
}

static int op_revoke(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	ssp_device dev;
	ssp_mfr m;
	int rc = read_device(c->st, &p->device, &dev);
	if (rc) return rc;
	if ((rc = read_mfr(c->st, dev.mfr, &m))) return rc;
	if (memcmp(m.account.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_DEV_DENIED;
	if (dev.status == SSP_DEVICE_REVOKED) return SSP_ERR_DEV_REVOKED;
	return revoke_device(c->st, &dev);
}

/*
 * A manufacturer revokes up to SSP_REVOKE_BATCH_MAX of its devices by
 * serial in one tx: all of them or none (an unknown serial or one already
 * revoked makes the tx invalid, as for one device). Each device beyond the
 * first pays params->min_fee more into the pool (device_batch_extra), so
 * the fee grows with the work.
 */
static int op_revoke_batch(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	ssp_mfr m;
	ssp_account acc;
	char serial[SSP_SERIAL_MAX + 1];
	size_t off = 0;
	int rc = read_mfr(c->st, p->name, &m);
	if (rc) return rc;
	if (memcmp(m.account.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_DEV_DENIED;
	uint64_t extra = device_batch_extra(c->params, p->nserials);
	if ((rc = ssp_state_account(c->st, &tx->from, &acc))) return rc;
	if (acc.balance < extra) return SSP_ERR_BALANCE;
	acc.balance -= extra;
	if ((rc = ssp_state_set_account(c->st, &tx->from, &acc)) ||
	    (rc = ssp_state_pool_add(c->st, extra)))
		return rc;
	while (ssp_device_serial_next(p, &off, serial)) {
		uint8_t k[KEY_MAX];
		size_t kl = pair_key(k, p->name, serial);
		const void *v;
		size_t vl;
		ssp_addr a;
		ssp_device dev;
		rc = ssp_state_get(c->st, SSP_TB_DEV_SERIAL, k, kl, &v, &vl);
		if (rc) return rc == SSP_ERR_NOTFOUND ? SSP_ERR_DEV_UNKNOWN : rc;
		if (vl != SSP_ADDR_LEN) return SSP_ERR_DBCORRUPT;
		memcpy(a.b, v, SSP_ADDR_LEN);
		if ((rc = read_device(c->st, &a, &dev)))
			return rc == SSP_ERR_DEV_UNKNOWN ? SSP_ERR_DBCORRUPT : rc;
		if (dev.status == SSP_DEVICE_REVOKED) return SSP_ERR_DEV_REVOKED;
		if ((rc = revoke_device(c->st, &dev))) return rc;
	}
	return 0;
}

uint64_t device_batch_extra(const ssp_params *params, uint32_t n)
{
	return n > 1 ? params->min_fee * (uint64_t)(n - 1) : 0; /* n <= 256: no overflow */
}

/*
 * The device attests itself: firmware measurement, a counter that must grow
 * (a replayed or rolled-back attestation is refused) and a challenge — the
 * id of one of the last SSP_ATTEST_WINDOW blocks of this chain — so an
 * attestation cannot be made ahead of time, nor on another fork or chain.
 * Firmware its model does not accept marks it untrusted.
 */
static int op_attest(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	ssp_device dev;
	ssp_model md;
	int rc = read_device(c->st, &tx->from, &dev);
	if (rc) return rc;
	if (dev.status == SSP_DEVICE_REVOKED) return SSP_ERR_DEV_REVOKED;
	if (p->counter <= dev.counter) return SSP_ERR_DEV_COUNTER;
	/* the challenge: a block of this chain (this fork), one of the last 64 */
	uint64_t ch;
	rc = ssp_txctx_block_height(c, &p->challenge_id, &ch);
	if (rc == SSP_ERR_NOTFOUND) return SSP_ERR_DEV_CHALLENGE;
	if (rc) return rc;
	if (ch >= c->height || c->height - ch > SSP_ATTEST_WINDOW) return SSP_ERR_DEV_CHALLENGE;
	if ((rc = ssp_device_model_get(c->st, dev.mfr, dev.model, &md))) return rc;
	bool known = false;
	for (uint32_t i = 0; i < md.nfirmware; i++)
		known |= !memcmp(md.firmware[i].b, p->firmware[0].b, 32);
	dev.status = known ? SSP_DEVICE_ACTIVE : SSP_DEVICE_UNTRUSTED;
	dev.counter = p->counter;
	dev.challenge_height = ch;
	dev.firmware = p->firmware[0];
	dev.attested_height = c->height;
	return put_device(c->st, &dev);
}

int device_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p)
{
	switch (tx->type) {
	case SSP_TX_MFR_REGISTER: return op_register(c, tx, p);
	case SSP_TX_MFR_APPROVE:
	case SSP_TX_MFR_REVOKE: return op_approve(c, tx, p);
	case SSP_TX_MODEL_ADD: return op_model_add(c, tx, p);
	case SSP_TX_DEVICE_ENROLL: return op_enroll(c, tx, p);
	case SSP_TX_DEVICE_CLAIM: return op_claim(c, tx, p);
	case SSP_TX_DEVICE_XFER: return op_xfer(c, tx, p);
	case SSP_TX_DEVICE_REVOKE: return op_revoke(c, tx, p);
	case SSP_TX_DEVICE_ATTEST: return op_attest(c, tx, p);
	case SSP_TX_DEVICE_REVOKE_BATCH:
		return op_revoke_batch(c, tx, p);
	default: return SSP_ERR_TXTYPE;
	}
}

/* ------------------------------------------------------------------ module */

/*
 * The sender hook: the chain calls it only for restricted accounts (those
 * of revoked devices), so it costs nothing on other senders. A revoked
 * device sends nothing: not a device tx, not a transfer, not a token or
 * contract call.
 */
static int device_sender(void *mod, ssp_state *st, const ssp_tx *tx)
{
	ssp_device dev;
	(void)mod;
	int rc = ssp_device_get(st, &tx->from, &dev);
	if (rc == SSP_ERR_NOTFOUND) return 0;
	if (rc) return rc;
	return dev.status == SSP_DEVICE_REVOKED ? SSP_ERR_DEV_REVOKED : 0;
}

static int device_chain_new(void **out, const ssp_genesis *g)
{
	device_chain *dc = ssp_calloc(1, sizeof *dc);
	if (!dc) return SSP_ERR_NOMEM;
	dc->g = g;
	*out = dc;
	return 0;
}

static void device_chain_free(void *st)
{
	free(st);
}

const ssp_module ssp_device_module = {
    .name = "device",
    .txtypes = ssp_device_txtypes,
    .ntxtypes = DEVICE_NTXTYPES,
    .methods = ssp_device_methods,
    .nmethods = DEVICE_NMETHODS,
    .chain_new = device_chain_new,
    .chain_free = device_chain_free,
    .sender = device_sender,
};
