/*
 * test_device.c — the device registry (modules layer) through real blocks
 * (mempool + produce): a manufacturer registered and admitted by the
 * producer's signed approval, a model published, a P-256 device certified
 * offline, funded, enrolled by its own tx (proof of possession), claimed by
 * the owner's claim key, transferred, attested (counter, challenge window,
 * firmware), revoked; the manufacturer revoked. Every refusal gets its own
 * error: forged and tampered certificates, unknown or unadmitted or revoked
 * manufacturers, a second enrollment of a key or a serial, a wrong claim
 * secret and a claim replayed for another owner, a counter that does not
 * grow, a stale challenge, senders that are not allowed. Plus the payload
 * codec (truncated, padded) and the RPC methods.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain_fixture.h"
#include "module_fixture.h"
#include "ssp/device.h"
#include "ssp/modules.h"

#define T0 (FX_GENESIS_MS + 1000)
#define FEE 100000

static fx_key producer, alice, bob, carol, foundation, team, dev1, dev2, stranger;

static uint8_t fill_of(const fx_key *k)
{
	return k == &alice ? 2 : k == &bob ? 3 : k == &carol ? 4 : k == &dev1 ? 7 : k == &dev2 ? 8
	       : k == &stranger ? 9 : 0;
}

static void tnode_open(tnode *t)
{
	tnode_open_with(t, &producer, &alice, &bob, &foundation, &team, T0);
}

static uint32_t produce(tnode *t)
{
	t->time_ms += 1000;
	return fx_produce(&t->n, &producer, t->time_ms).ntx;
}

/* Submits one tx of type/payload from k and produces a block: 0 if included, else its error. */
static int run_raw(tnode *t, const fx_key *k, uint16_t type, const uint8_t *payload, size_t n)
{
	uint8_t f = fill_of(k);
	assert_true(f != 0);
	ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
	                  .type = type,
	                  .nonce = t->nonce[f],
	                  .fee = FEE,
	                  .expiry = ssp_chain_head(t->n.chain)->height + 100,
	                  .payload = payload,
	                  .payload_len = n,
	                  .include_pubkey = !t->known[f]};
	uint8_t *raw;
	size_t len;
	ssp_hash id, got;
	assert_int_equal(ssp_tx_sign(&raw, &len, &id, &b, &k->sk), 0);
	int rc = ssp_mempool_add(t->n.pool, raw, len, false, &got);
	free(raw);
	if (rc) return rc;
	uint32_t nt = produce(t);
	if (nt == 1) {
		t->nonce[f]++;
		t->known[f] = true;
		return 0;
	}
	assert_int_equal(nt, 0);
	rc = ssp_mempool_rejected(t->n.pool, &id);
	assert_true(rc < 0);
	return rc;
}

static int run(tnode *t, const fx_key *k, uint16_t type, const ssp_device_payload *p)
{
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	ssp_device_payload_encode(&b, type, p);
	assert_int_equal(b.err, 0);
	int rc = run_raw(t, k, type, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

static void fund(tnode *t, const fx_key *to, uint64_t amount)
{
	ssp_buf pb;
	ssp_buf_init(&pb, 512);
	ssp_buf_put(&pb, to->addr.b, SSP_ADDR_LEN);
	ssp_buf_u64(&pb, amount);
	ssp_buf_u32(&pb, 0);
	assert_int_equal(run_raw(t, &alice, SSP_TX_TRANSFER, pb.data, pb.len), 0);
	ssp_buf_free(&pb);
}

static ssp_device_payload named(const char *name)
{
	ssp_device_payload p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	return p;
}

static ssp_device_payload approval(const fx_key *signer, uint16_t type, const char *name)
{
	ssp_device_payload p = named(name);
	ssp_hash d;
	p.key = signer->pk;
	ssp_device_approve_digest(&d, FX_CHAIN_ID, type, name);
	assert_int_equal(ssp_sign_digest(&p.sig, &signer->sk, &d), 0);
	return p;
}

static void fw(ssp_hash *h, uint8_t v)
{
	memset(h->b, v, 32);
}

static ssp_device_cert certificate(const fx_key *mfr_key, const char *model, const char *serial,
                                   const fx_key *device, uint32_t caps, const char *secret)
{
	ssp_device_cert c;
	ssp_seckey ck;
	ssp_pubkey cpk;
	memset(&c, 0, sizeof c);
	snprintf(c.mfr, sizeof c.mfr, "ACME");
	snprintf(c.model, sizeof c.model, "%s", model);
	snprintf(c.serial, sizeof c.serial, "%s", serial);
	c.device_key = device->pk;
	c.capabilities = caps;
	assert_int_equal(ssp_device_claim_key(&ck, &cpk, secret), 0);
	ssp_device_claim_commitment(&c.claim_commitment, &cpk);
	assert_int_equal(ssp_device_cert_sign(&c, FX_CHAIN_ID, &mfr_key->sk), 0);
	return c;
}

static ssp_device_payload claim(const fx_key *device, const char *secret, const fx_key *owner)
{
	ssp_device_payload p;
	ssp_seckey ck;
	ssp_hash d;
	memset(&p, 0, sizeof p);
	p.device = device->addr;
	assert_int_equal(ssp_device_claim_key(&ck, &p.key, secret), 0);
	ssp_device_claim_digest(&d, FX_CHAIN_ID, &device->addr, &owner->addr);
	assert_int_equal(ssp_sign_digest(&p.sig, &ck, &d), 0);
	return p;
}

static ssp_device_payload attest(uint8_t firmware, uint64_t counter, uint64_t challenge)
{
	ssp_device_payload p;
	memset(&p, 0, sizeof p);
	fw(&p.firmware[0], firmware);
	p.counter = counter;
	p.challenge_height = challenge;
	return p;
}

typedef struct {
	ssp_txn *rt;
	ssp_state *st;
} view;

static ssp_state *view_open(tnode *t, view *v)
{
	assert_int_equal(ssp_store_read(t->n.store, &v->rt), 0);
	assert_int_equal(ssp_chain_state_view(t->n.chain, v->rt, &v->st), 0);
	return v->st;
}

static void view_close(view *v)
{
	ssp_state_close(v->st);
	ssp_txn_end(v->rt);
}

static ssp_device device_of(tnode *t, const fx_key *k)
{
	view v;
	ssp_device d;
	assert_int_equal(ssp_device_get(view_open(t, &v), &k->addr, &d), 0);
	view_close(&v);
	return d;
}

static ssp_mfr mfr_of(tnode *t, const char *name)
{
	view v;
	ssp_mfr m;
	assert_int_equal(ssp_device_mfr_get(view_open(t, &v), name, &m), 0);
	view_close(&v);
	return m;
}

static uint64_t height(tnode *t)
{
	return ssp_chain_head(t->n.chain)->height;
}

/* Manufacturer ACME (alice) admitted, model AC-1 (caps 3, firmware 0xa1, 0xa2). */
static void admitted_acme(tnode *t)
{
	ssp_device_payload p = named("ACME");
	assert_int_equal(run(t, &alice, SSP_TX_MFR_REGISTER, &p), 0);
	p = approval(&producer, SSP_TX_MFR_APPROVE, "ACME");
	assert_int_equal(run(t, &bob, SSP_TX_MFR_APPROVE, &p), 0); /* bob pays, the producer signs */
	p = named("ACME");
	snprintf(p.model, sizeof p.model, "AC-1");
	p.capabilities = 3;
	p.nfirmware = 2;
	fw(&p.firmware[0], 0xa1);
	fw(&p.firmware[1], 0xa2);
	assert_int_equal(run(t, &alice, SSP_TX_MODEL_ADD, &p), 0);
}

static void test_manufacturer_admission(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	ssp_device_payload p = named("ACME");
	assert_int_equal(run(&t, &alice, SSP_TX_MFR_REGISTER, &p), 0);
	assert_int_equal(run(&t, &bob, SSP_TX_MFR_REGISTER, &p), SSP_ERR_EXISTS);
	assert_int_equal(mfr_of(&t, "ACME").status, SSP_MFR_PENDING);
	/* a pending manufacturer cannot publish models */
	snprintf(p.model, sizeof p.model, "AC-1");
	p.nfirmware = 1;
	assert_int_equal(run(&t, &alice, SSP_TX_MODEL_ADD, &p), SSP_ERR_DEV_MFR);
	/* approvals: only by the producer set, with a valid signature, for the right action */
	p = approval(&carol, SSP_TX_MFR_APPROVE, "ACME");
	assert_int_equal(run(&t, &bob, SSP_TX_MFR_APPROVE, &p), SSP_ERR_DEV_DENIED);
	p = approval(&producer, SSP_TX_MFR_REVOKE, "ACME"); /* a revocation's signature */
	p.sig.b[0] ^= 0; /* intact, but for the other action: */
	ssp_buf b;
	ssp_buf_init(&b, 512);
	ssp_device_payload_encode(&b, SSP_TX_MFR_APPROVE, &p);
	assert_int_equal(run_raw(&t, &bob, SSP_TX_MFR_APPROVE, b.data, b.len), SSP_ERR_BADSIG);
	ssp_buf_free(&b);
	p = approval(&producer, SSP_TX_MFR_APPROVE, "OTHER");
	assert_int_equal(run(&t, &bob, SSP_TX_MFR_APPROVE, &p), SSP_ERR_DEV_MFR);
	p = approval(&producer, SSP_TX_MFR_APPROVE, "ACME");
	assert_int_equal(run(&t, &bob, SSP_TX_MFR_APPROVE, &p), 0);
	ssp_mfr m = mfr_of(&t, "ACME");
	assert_int_equal(m.status, SSP_MFR_ADMITTED); /* one producer: its approval is > 2/3 */
	assert_memory_equal(m.account.b, alice.addr.b, SSP_ADDR_LEN);
	assert_int_equal(run(&t, &bob, SSP_TX_MFR_APPROVE, &p), SSP_ERR_DEV_MFR); /* replay */
	/* models: by the manufacturer's account only, once */
	p = named("ACME");
	snprintf(p.model, sizeof p.model, "AC-1");
	p.capabilities = 1;
	p.nfirmware = 1;
	fw(&p.firmware[0], 0xa1);
	assert_int_equal(run(&t, &bob, SSP_TX_MODEL_ADD, &p), SSP_ERR_DEV_DENIED);
	assert_int_equal(run(&t, &alice, SSP_TX_MODEL_ADD, &p), 0);
	assert_int_equal(run(&t, &alice, SSP_TX_MODEL_ADD, &p), SSP_ERR_EXISTS);
	view v;
	ssp_model md;
	assert_int_equal(ssp_device_model_get(view_open(&t, &v), "ACME", "AC-1", &md), 0);
	view_close(&v);
	assert_int_equal(md.nfirmware, 1);
	assert_int_equal(md.capabilities, 1);
	/* revocation by the producer set */
	p = approval(&producer, SSP_TX_MFR_REVOKE, "ACME");
	assert_int_equal(run(&t, &bob, SSP_TX_MFR_REVOKE, &p), 0);
	assert_int_equal(mfr_of(&t, "ACME").status, SSP_MFR_REVOKED);
	tnode_close(&t);
}

static void test_device_lifecycle(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	admitted_acme(&t);
	fund(&t, &dev1, 10 * SSP_COIN);
	fund(&t, &dev2, 10 * SSP_COIN);
	fund(&t, &carol, 10 * SSP_COIN);
	ssp_device_payload p;
	memset(&p, 0, sizeof p);

	/* enrollment refusals */
	p.cert = certificate(&bob, "AC-1", "S-0001", &dev1, 1, "open sesame"); /* not ACME's key */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_CERT);
	p.cert = certificate(&alice, "AC-1", "S-0001", &dev1, 1, "open sesame");
	snprintf(p.cert.serial, sizeof p.cert.serial, "S-0002"); /* tampered after signing */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_CERT);
	p.cert = certificate(&alice, "AC-9", "S-0001", &dev1, 1, "open sesame"); /* no such model */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_CERT);
	p.cert = certificate(&alice, "AC-1", "S-0001", &dev1, 4, "open sesame"); /* caps > model */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_CERT);
	p.cert = certificate(&alice, "AC-1", "S-0001", &dev1, 1, "open sesame");
	assert_int_equal(run(&t, &carol, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_DENIED); /* no PoP */
	/* enrolled by its own tx */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ENROLL, &p), 0);
	ssp_device d = device_of(&t, &dev1);
	assert_int_equal(d.status, SSP_DEVICE_ACTIVE);
	assert_false(d.owned);
	assert_string_equal(d.serial, "S-0001");
	assert_int_equal(d.key.type, SSP_KEY_P256);
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_TAKEN); /* again */
	p.cert = certificate(&alice, "AC-1", "S-0001", &dev2, 1, "x"); /* same serial, new key */
	assert_int_equal(run(&t, &dev2, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_TAKEN);
	p.cert = certificate(&alice, "AC-1", "S-0002", &dev2, 3, "second");
	assert_int_equal(run(&t, &dev2, SSP_TX_DEVICE_ENROLL, &p), 0);

	/* claim: the secret's key, bound to the claiming owner */
	p = claim(&dev1, "wrong secret", &carol);
	assert_int_equal(run(&t, &carol, SSP_TX_DEVICE_CLAIM, &p), SSP_ERR_DEV_CLAIM);
	p = claim(&dev1, "open sesame", &carol);
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_CLAIM, &p), SSP_ERR_DEV_CLAIM); /* replayed */
	assert_int_equal(run(&t, &carol, SSP_TX_DEVICE_CLAIM, &p), 0);
	d = device_of(&t, &dev1);
	assert_true(d.owned);
	assert_memory_equal(d.owner.b, carol.addr.b, SSP_ADDR_LEN);
	p = claim(&dev1, "open sesame", &bob);
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_CLAIM, &p), SSP_ERR_DEV_CLAIM); /* owned */

	/* owner transfer */
	memset(&p, 0, sizeof p);
	p.device = dev1.addr;
	p.to = bob.addr;
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_XFER, &p), SSP_ERR_DEV_DENIED);
	assert_int_equal(run(&t, &carol, SSP_TX_DEVICE_XFER, &p), 0);
	assert_memory_equal(device_of(&t, &dev1).owner.b, bob.addr.b, SSP_ADDR_LEN);
	p.device = stranger.addr;
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_XFER, &p), SSP_ERR_DEV_UNKNOWN);

	/* attestations */
	uint64_t h = height(&t);
	p = attest(0xa1, 1, h);
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	d = device_of(&t, &dev1);
	assert_int_equal(d.counter, 1);
	assert_int_equal(d.attested_height, h + 1);
	assert_int_equal(d.status, SSP_DEVICE_ACTIVE);
	p = attest(0xa1, 1, height(&t));
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_COUNTER);
	p = attest(0xa1, 2, height(&t) + 1); /* the block it lands in: not a past block */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_RANGE);
	for (int i = 0; i < SSP_ATTEST_WINDOW; i++)
		assert_int_equal(produce(&t), 0);
	p = attest(0xa1, 2, h); /* too old now */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_RANGE);
	p = attest(0xee, 2, height(&t)); /* firmware the model does not accept */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	assert_int_equal(device_of(&t, &dev1).status, SSP_DEVICE_UNTRUSTED);
	p = attest(0xa2, 3, height(&t));
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	assert_int_equal(device_of(&t, &dev1).status, SSP_DEVICE_ACTIVE);
	p = attest(0xa2, 1, height(&t));
	assert_int_equal(run(&t, &carol, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_UNKNOWN);

	/* revocation by the manufacturer */
	memset(&p, 0, sizeof p);
	p.device = dev1.addr;
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_REVOKE, &p), SSP_ERR_DEV_DENIED);
	assert_int_equal(run(&t, &alice, SSP_TX_DEVICE_REVOKE, &p), 0);
	assert_int_equal(device_of(&t, &dev1).status, SSP_DEVICE_REVOKED);
	assert_int_equal(run(&t, &alice, SSP_TX_DEVICE_REVOKE, &p), SSP_ERR_DEV_REVOKED);
	p = attest(0xa2, 9, height(&t));
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_REVOKED);
	memset(&p, 0, sizeof p);
	p.device = dev1.addr;
	p.to = carol.addr;
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_XFER, &p), SSP_ERR_DEV_REVOKED);

	/* a revoked manufacturer enrolls nothing more */
	p = approval(&producer, SSP_TX_MFR_REVOKE, "ACME");
	assert_int_equal(run(&t, &bob, SSP_TX_MFR_REVOKE, &p), 0);
	fund(&t, &stranger, SSP_COIN);
	memset(&p, 0, sizeof p);
	p.cert = certificate(&alice, "AC-1", "S-0003", &stranger, 1, "s");
	assert_int_equal(run(&t, &stranger, SSP_TX_DEVICE_ENROLL, &p), SSP_ERR_DEV_MFR);
	tnode_close(&t);
}

static void test_payload_codec(void **state)
{
	(void)state;
	ssp_device_payload p, q;
	ssp_buf b;
	static const uint16_t types[] = {SSP_TX_MFR_REGISTER, SSP_TX_MFR_APPROVE, SSP_TX_MODEL_ADD,
	                                 SSP_TX_DEVICE_ENROLL, SSP_TX_DEVICE_CLAIM,
	                                 SSP_TX_DEVICE_XFER, SSP_TX_DEVICE_REVOKE,
	                                 SSP_TX_DEVICE_ATTEST, SSP_TX_MFR_REVOKE};
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		uint16_t ty = types[i];
		if (ty == SSP_TX_MFR_APPROVE || ty == SSP_TX_MFR_REVOKE) {
			p = approval(&producer, ty, "ACME");
		} else if (ty == SSP_TX_DEVICE_CLAIM) {
			p = claim(&dev1, "secret", &carol);
		} else if (ty == SSP_TX_DEVICE_ATTEST) {
			p = attest(1, 5, 7);
		} else {
			p = named("ACME");
			snprintf(p.model, sizeof p.model, "M.1_x-2");
			p.nfirmware = 2;
			fw(&p.firmware[0], 1);
			fw(&p.firmware[1], 2);
			p.device = dev1.addr;
			p.to = bob.addr;
			p.cert = certificate(&alice, "AC-1", "S1", &dev1, 1, "s");
		}
		ssp_buf_init(&b, 4096);
		ssp_device_payload_encode(&b, ty, &p);
		assert_int_equal(b.err, 0);
		assert_int_equal(ssp_device_payload_decode(&q, ty, b.data, b.len), 0);
		/* every strict prefix is refused, and so is one byte too many */
		for (size_t n = 0; n < b.len; n++)
			assert_int_equal(ssp_device_payload_decode(&q, ty, b.data, n), SSP_ERR_PAYLOAD);
		ssp_buf_u8(&b, 0);
		assert_int_equal(ssp_device_payload_decode(&q, ty, b.data, b.len), SSP_ERR_PAYLOAD);
		ssp_buf_free(&b);
	}
	/* identifiers */
	assert_true(ssp_device_ident_valid("AC-1", 4, SSP_MODEL_MAX));
	assert_false(ssp_device_ident_valid("-AC", 3, SSP_MODEL_MAX));
	assert_false(ssp_device_ident_valid("A C", 3, SSP_MODEL_MAX));
	assert_false(ssp_device_ident_valid("", 0, SSP_MODEL_MAX));
	assert_false(ssp_device_ident_valid("A\0B", 3, SSP_MODEL_MAX));
	/* duplicate firmware hashes and counter 0 are refused */
	p = named("ACME");
	snprintf(p.model, sizeof p.model, "M");
	p.nfirmware = 2;
	fw(&p.firmware[0], 1);
	fw(&p.firmware[1], 1);
	ssp_buf_init(&b, 4096);
	ssp_device_payload_encode(&b, SSP_TX_MODEL_ADD, &p);
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_MODEL_ADD, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
	p = attest(1, 0, 7);
	ssp_buf_init(&b, 4096);
	ssp_device_payload_encode(&b, SSP_TX_DEVICE_ATTEST, &p);
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_ATTEST, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
}

static json_t *call(ssp_module_env *env, const char *method, const char *params, int *code)
{
	return fx_module_call(&ssp_device_module, env, method, params, code);
}

static void test_rpc(void **state)
{
	(void)state;
	tnode t;
	char params[256];
	int code;
	tnode_open(&t);
	admitted_acme(&t);
	fund(&t, &dev1, SSP_COIN);
	ssp_device_payload p;
	memset(&p, 0, sizeof p);
	p.cert = certificate(&alice, "AC-1", "S-0001", &dev1, 1, "open sesame");
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ENROLL, &p), 0);
	fund(&t, &carol, SSP_COIN);
	p = claim(&dev1, "open sesame", &carol);
	assert_int_equal(run(&t, &carol, SSP_TX_DEVICE_CLAIM, &p), 0);
	p = attest(0xa1, 1, height(&t));
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	ssp_module_env env = {.chain = t.n.chain, .store = t.n.store, .genesis = t.g};

	snprintf(params, sizeof params, "{\"address\":\"%s\"}", dev1.text);
	json_t *r = call(&env, "device_get", params, &code);
	assert_int_equal(code, 0);
	assert_string_equal(json_string_value(json_object_get(r, "manufacturer")), "ACME");
	assert_string_equal(json_string_value(json_object_get(r, "model")), "AC-1");
	assert_string_equal(json_string_value(json_object_get(r, "status")), "active");
	assert_string_equal(json_string_value(json_object_get(r, "owner")), carol.text);
	assert_string_equal(json_string_value(json_object_get(r, "key_type")), "p256");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r, "last_attestation"), "counter")), 1);
	json_decref(r);
	r = call(&env, "device_getAttestations", params, &code);
	assert_int_equal(code, 0);
	assert_int_equal(json_array_size(json_object_get(r, "attestations")), 1);
	json_decref(r);
	snprintf(params, sizeof params, "{\"owner\":\"%s\"}", carol.text);
	r = call(&env, "device_list", params, &code);
	assert_int_equal(code, 0);
	assert_int_equal(json_array_size(json_object_get(r, "devices")), 1);
	assert_true(json_is_null(json_object_get(r, "next")));
	json_decref(r);
	snprintf(params, sizeof params, "{\"owner\":\"%s\"}", bob.text);
	r = call(&env, "device_list", params, &code);
	assert_int_equal(json_array_size(json_object_get(r, "devices")), 0);
	json_decref(r);
	r = call(&env, "mfr_get", "{\"name\":\"ACME\"}", &code);
	assert_int_equal(code, 0);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "admitted");
	assert_string_equal(json_string_value(json_object_get(r, "account")), alice.text);
	json_decref(r);
	r = call(&env, "mfr_list", "{\"limit\":1}", &code);
	assert_int_equal(code, 0);
	assert_int_equal(json_array_size(json_object_get(r, "manufacturers")), 1);
	json_decref(r);
	/* bad input */
	assert_null(call(&env, "mfr_get", "{\"name\":\"NOPE\"}", &code));
	assert_int_equal(code, SSP_RPC_NOT_FOUND);
	assert_null(call(&env, "mfr_get", "{\"name\":\"bad name\"}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	snprintf(params, sizeof params, "{\"address\":\"%s\"}", bob.text);
	assert_null(call(&env, "device_get", params, &code));
	assert_int_equal(code, SSP_RPC_NOT_FOUND);
	assert_null(call(&env, "device_get", "{\"address\":\"nope\"}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&env, "device_list", "{\"limit\":0}", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	assert_null(call(&env, "device_list", "[1]", &code));
	assert_int_equal(code, SSP_RPC_INVALID_PARAMS);
	tnode_close(&t);
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	fx_key_make(&producer, SSP_KEY_ED25519, 1);
	fx_key_make(&alice, SSP_KEY_ED25519, 2);
	fx_key_make(&bob, SSP_KEY_P256, 3);
	fx_key_make(&carol, SSP_KEY_ED25519, 4);
	fx_key_make(&foundation, SSP_KEY_ED25519, 5);
	fx_key_make(&team, SSP_KEY_ED25519, 6);
	fx_key_make(&dev1, SSP_KEY_P256, 7);
	fx_key_make(&dev2, SSP_KEY_P256, 8);
	fx_key_make(&stranger, SSP_KEY_P256, 9);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_payload_codec),
	    cmocka_unit_test(test_manufacturer_admission),
	    cmocka_unit_test(test_device_lifecycle),
	    cmocka_unit_test(test_rpc),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
