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

static ssp_device_payload attest_id(uint8_t firmware, uint64_t counter, const ssp_hash *id)
{
	ssp_device_payload p;
	memset(&p, 0, sizeof p);
	fw(&p.firmware[0], firmware);
	p.counter = counter;
	p.challenge_id = *id;
	return p;
}

static ssp_hash block_id(tnode *t, uint64_t h);

/* An attestation whose challenge is the id of block `challenge` (of this chain). */
static ssp_device_payload attest_at(tnode *t, uint8_t firmware, uint64_t counter,
                                    uint64_t challenge)
{
	ssp_hash id = block_id(t, challenge);
	return attest_id(firmware, counter, &id);
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

static ssp_hash block_id(tnode *t, uint64_t h)
{
	ssp_txn *rt;
	const uint8_t *raw;
	size_t n;
	ssp_block b;
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_block(t->n.chain, rt, h, &raw, &n), 0);
	assert_int_equal(ssp_block_decode(&b, raw, n, n), 0);
	ssp_hash id = b.hdr.id;
	ssp_block_free(&b);
	ssp_txn_end(rt);
	return id;
}

/* Signs a tx of k (its next nonce, `fee`) and admits it to the pool without producing. */
static int submit(tnode *t, const fx_key *k, uint16_t type, const uint8_t *payload, size_t n,
                  uint64_t fee, uint64_t nonce_ahead, ssp_hash *id, uint8_t **raw_out,
                  size_t *len_out)
{
	uint8_t f = fill_of(k);
	ssp_tx_build b = {.chain_id = FX_CHAIN_ID,
	                  .type = type,
	                  .nonce = t->nonce[f] + nonce_ahead,
	                  .fee = fee,
	                  .expiry = height(t) + 100,
	                  .payload = payload,
	                  .payload_len = n,
	                  .include_pubkey = !t->known[f]};
	uint8_t *raw;
	size_t len;
	ssp_hash got;
	assert_int_equal(ssp_tx_sign(&raw, &len, id, &b, &k->sk), 0);
	int rc = raw_out ? 0 : ssp_mempool_add(t->n.pool, raw, len, false, &got);
	if (raw_out) {
		*raw_out = raw;
		*len_out = len;
	} else {
		free(raw);
	}
	return rc;
}

static void transfer_payload(ssp_buf *pb, const fx_key *to, uint64_t amount)
{
	ssp_buf_init(pb, 512);
	ssp_buf_put(pb, to->addr.b, SSP_ADDR_LEN);
	ssp_buf_u64(pb, amount);
	ssp_buf_u32(pb, 0);
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

	/* attestations: the challenge is the id of one of this chain's last 64 blocks */
	uint64_t h = height(&t);
	p = attest_at(&t, 0xa1, 1, h);
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	d = device_of(&t, &dev1);
	assert_int_equal(d.counter, 1);
	assert_int_equal(d.attested_height, h + 1);
	assert_int_equal(d.challenge_height, h);
	assert_int_equal(d.status, SSP_DEVICE_ACTIVE);
	p = attest_at(&t, 0xa1, 1, height(&t));
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_COUNTER);
	/* an id this chain does not have (another fork's or chain's block) */
	ssp_hash other = block_id(&t, height(&t));
	other.b[0] ^= 1;
	p = attest_id(0xa1, 2, &other);
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_CHALLENGE);
	for (int i = 0; i < SSP_ATTEST_WINDOW; i++)
		assert_int_equal(produce(&t), 0);
	p = attest_at(&t, 0xa1, 2, h); /* too old now */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_CHALLENGE);
	p = attest_at(&t, 0xa1, 2, height(&t) - SSP_ATTEST_WINDOW + 1); /* the oldest allowed */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	p = attest_at(&t, 0xee, 3, height(&t)); /* firmware the model does not accept */
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	assert_int_equal(device_of(&t, &dev1).status, SSP_DEVICE_UNTRUSTED);
	p = attest_at(&t, 0xa2, 4, height(&t));
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), 0);
	assert_int_equal(device_of(&t, &dev1).status, SSP_DEVICE_ACTIVE);
	p = attest_at(&t, 0xa2, 1, height(&t));
	assert_int_equal(run(&t, &carol, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_UNKNOWN);

	/* revocation by the manufacturer */
	memset(&p, 0, sizeof p);
	p.device = dev1.addr;
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_REVOKE, &p), SSP_ERR_DEV_DENIED);
	assert_int_equal(run(&t, &alice, SSP_TX_DEVICE_REVOKE, &p), 0);
	assert_int_equal(device_of(&t, &dev1).status, SSP_DEVICE_REVOKED);
	assert_int_equal(run(&t, &alice, SSP_TX_DEVICE_REVOKE, &p), SSP_ERR_DEV_REVOKED);
	p = attest_at(&t, 0xa2, 9, height(&t));
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

static ssp_device_payload batch(ssp_buf *sb, const char *const *serials, size_t n)
{
	ssp_device_payload p = named("ACME");
	ssp_buf_init(sb, 4096);
	assert_int_equal(ssp_device_serials_encode(sb, serials, n), 0);
	p.nserials = (uint32_t)n;
	p.serials = sb->data;
	p.serials_len = sb->len;
	return p;
}

static bool restricted(tnode *t, const fx_key *k)
{
	return fx_account(&t->n, &k->addr).restricted;
}

/*
 * A revoked device sends nothing: its pending txs are left out of the next
 * block, new ones are refused at admission with DEV_REVOKED, and a block
 * that carries one is invalid. Batch revocation by serial.
 */
static void test_revoked_sender(void **state)
{
	(void)state;
	tnode t;
	tnode_open(&t);
	admitted_acme(&t);
	const fx_key *devs[] = {&dev1, &dev2, &stranger};
	const char *serials[] = {"S-0001", "S-0002", "S-0003"};
	ssp_device_payload p;
	for (int i = 0; i < 3; i++) {
		fund(&t, devs[i], 10 * SSP_COIN);
		memset(&p, 0, sizeof p);
		p.cert = certificate(&alice, "AC-1", serials[i], devs[i], 1, "s");
		assert_int_equal(run(&t, devs[i], SSP_TX_DEVICE_ENROLL, &p), 0);
	}
	ssp_buf pb;
	transfer_payload(&pb, &carol, SSP_COIN);
	/* an enrolled device pays like anyone */
	assert_int_equal(run_raw(&t, &dev1, SSP_TX_TRANSFER, pb.data, pb.len), 0);
	assert_false(restricted(&t, &dev1));

	/* its transfer is pending when the revocation (paying more: first) lands */
	ssp_hash pend, rev;
	uint8_t f1 = fill_of(&dev1), fa = fill_of(&alice);
	uint8_t *pend_raw;
	size_t pend_len;
	assert_int_equal(submit(&t, &dev1, SSP_TX_TRANSFER, pb.data, pb.len, FEE, 0, &pend,
	                        &pend_raw, &pend_len), 0);
	assert_int_equal(ssp_mempool_add(t.n.pool, pend_raw, pend_len, false, &pend), 0);
	memset(&p, 0, sizeof p);
	p.device = dev1.addr;
	ssp_buf rb;
	ssp_buf_init(&rb, 64);
	ssp_device_payload_encode(&rb, SSP_TX_DEVICE_REVOKE, &p);
	assert_int_equal(submit(&t, &alice, SSP_TX_DEVICE_REVOKE, rb.data, rb.len, 10 * FEE, 0,
	                        &rev, NULL, NULL), 0);
	ssp_buf_free(&rb);
	assert_int_equal(produce(&t), 1); /* the revocation only */
	t.nonce[fa]++;
	assert_int_equal(device_of(&t, &dev1).status, SSP_DEVICE_REVOKED);
	assert_true(restricted(&t, &dev1));
	assert_false(restricted(&t, &dev2));
	assert_false(ssp_mempool_has(t.n.pool, &pend));
	assert_int_equal(ssp_mempool_rejected(t.n.pool, &pend), SSP_ERR_DEV_REVOKED);
	/* a follower that holds the same pending tx drops it when it imports the block */
	{
		tnode f;
		ssp_block_info bi;
		ssp_hash got;
		tnode_open(&f);
		uint64_t top = height(&t);
		for (uint64_t h = 1; h <= top; h++) {
			size_t len;
			uint8_t *raw = fx_block_copy(&t.n, h, &len);
			if (h == top) {
				assert_int_equal(ssp_mempool_add(f.n.pool, pend_raw, pend_len, false, &got),
				                 0);
				assert_true(ssp_mempool_has(f.n.pool, &pend));
			}
			assert_int_equal(ssp_chain_import(f.n.chain, f.n.pool, raw, len, &bi), 0);
			free(raw);
		}
		assert_false(ssp_mempool_has(f.n.pool, &pend));
		assert_int_equal(ssp_mempool_rejected(f.n.pool, &pend), SSP_ERR_DEV_REVOKED);
		tnode_close(&f);
	}
	free(pend_raw);
	/* new txs of any kind: refused at admission */
	assert_int_equal(run_raw(&t, &dev1, SSP_TX_TRANSFER, pb.data, pb.len), SSP_ERR_DEV_REVOKED);
	p = attest_at(&t, 0xa1, 1, height(&t));
	assert_int_equal(run(&t, &dev1, SSP_TX_DEVICE_ATTEST, &p), SSP_ERR_DEV_REVOKED);
	/* others are not affected */
	assert_int_equal(run_raw(&t, &dev2, SSP_TX_TRANSFER, pb.data, pb.len), 0);

	/* a block that carries a revoked device's tx is invalid */
	uint8_t *raw;
	size_t len;
	ssp_hash id;
	ssp_tx tx;
	assert_int_equal(submit(&t, &dev1, SSP_TX_TRANSFER, pb.data, pb.len, FEE, 0, &id, &raw,
	                        &len), 0);
	assert_int_equal(ssp_tx_decode(&tx, raw, len), 0);
	ssp_exec *x;
	t.time_ms += 1000;
	assert_int_equal(ssp_chain_begin(t.n.chain, &x, ssp_chain_slot_at(t.n.chain, t.time_ms),
	                                 t.time_ms), 0);
	assert_int_equal(ssp_exec_block(x, &tx, 1, NULL), SSP_ERR_BLOCK_TX);
	ssp_exec_abort(x);
	free(raw);
	assert_int_equal(t.nonce[f1], fx_account(&t.n, &dev1.addr).nonce);

	/* batch revocation: by the manufacturer only, every serial known, none revoked yet */
	const ssp_params *params = ssp_genesis_params(t.g);
	ssp_buf sb;
	const char *two[] = {"S-0003", "S-0002"}, *unknown[] = {"S-0002", "S-0404"},
	           *again[] = {"S-0001", "S-0002"};
	p = batch(&sb, two, 2);
	assert_int_equal(run(&t, &bob, SSP_TX_DEVICE_REVOKE_BATCH, &p), SSP_ERR_DEV_DENIED);
	ssp_buf_free(&sb);
	p = batch(&sb, unknown, 2);
	assert_int_equal(run(&t, &alice, SSP_TX_DEVICE_REVOKE_BATCH, &p), SSP_ERR_DEV_UNKNOWN);
	ssp_buf_free(&sb);
	p = batch(&sb, again, 2);
	assert_int_equal(run(&t, &alice, SSP_TX_DEVICE_REVOKE_BATCH, &p), SSP_ERR_DEV_REVOKED);
	ssp_buf_free(&sb);
	assert_int_equal(device_of(&t, &dev2).status, SSP_DEVICE_ACTIVE); /* all or nothing */
	uint64_t before = fx_account(&t.n, &alice.addr).balance;
	uint64_t pool0 = fx_supply(&t.n).pool;
	p = batch(&sb, two, 2);
	assert_int_equal(run(&t, &alice, SSP_TX_DEVICE_REVOKE_BATCH, &p), 0);
	ssp_buf_free(&sb);
	/* the fee, and one min_fee for the second device, into the pool */
	assert_int_equal(before - fx_account(&t.n, &alice.addr).balance, FEE + params->min_fee);
	assert_int_equal(fx_supply(&t.n).pool - pool0, FEE + params->min_fee);
	assert_int_equal(device_of(&t, &dev2).status, SSP_DEVICE_REVOKED);
	assert_int_equal(device_of(&t, &stranger).status, SSP_DEVICE_REVOKED);
	assert_true(restricted(&t, &dev2) && restricted(&t, &stranger));
	assert_int_equal(run_raw(&t, &dev2, SSP_TX_TRANSFER, pb.data, pb.len), SSP_ERR_DEV_REVOKED);
	assert_int_equal(run_raw(&t, &stranger, SSP_TX_TRANSFER, pb.data, pb.len),
	                 SSP_ERR_DEV_REVOKED);
	ssp_buf_free(&pb);
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
	                                 SSP_TX_DEVICE_ATTEST, SSP_TX_MFR_REVOKE,
	                                 SSP_TX_DEVICE_REVOKE_BATCH};
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		uint16_t ty = types[i];
		if (ty == SSP_TX_MFR_APPROVE || ty == SSP_TX_MFR_REVOKE) {
			p = approval(&producer, ty, "ACME");
		} else if (ty == SSP_TX_DEVICE_CLAIM) {
			p = claim(&dev1, "secret", &carol);
		} else if (ty == SSP_TX_DEVICE_REVOKE_BATCH) {
			static const uint8_t list[] = {2, 'S', '1', 2, 'S', '2'};
			p = named("ACME");
			p.nserials = 2;
			p.serials = list;
			p.serials_len = sizeof list;
		} else if (ty == SSP_TX_DEVICE_ATTEST) {
			ssp_hash id;
			memset(id.b, 7, 32);
			p = attest_id(1, 5, &id);
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
	ssp_hash id;
	memset(id.b, 7, 32);
	p = attest_id(1, 0, &id);
	ssp_buf_init(&b, 4096);
	ssp_device_payload_encode(&b, SSP_TX_DEVICE_ATTEST, &p);
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_ATTEST, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
	/* attestation v1 (no version byte, a challenge height) is refused */
	uint8_t v1[48];
	memset(v1, 1, sizeof v1);
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_ATTEST, v1, sizeof v1),
	                 SSP_ERR_PAYLOAD);

	/* batch revocation: sorted serials, each once, 1..256 */
	const char *sl[] = {"S-2", "S-10", "S-1"};
	ssp_buf sb;
	ssp_buf_init(&sb, 4096);
	assert_int_equal(ssp_device_serials_encode(&sb, sl, 3), 0);
	p = named("ACME");
	p.nserials = 3;
	p.serials = sb.data;
	p.serials_len = sb.len;
	ssp_buf_init(&b, 4096);
	ssp_device_payload_encode(&b, SSP_TX_DEVICE_REVOKE_BATCH, &p);
	assert_int_equal(b.err, 0);
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_REVOKE_BATCH, b.data, b.len), 0);
	assert_int_equal(q.nserials, 3);
	char ser[SSP_SERIAL_MAX + 1];
	size_t off = 0;
	const char *want[] = {"S-1", "S-10", "S-2"}; /* byte order, a prefix first */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ssp_device_serial_next(&q, &off, ser), 1);
		assert_string_equal(ser, want[i]);
	}
	assert_int_equal(ssp_device_serial_next(&q, &off, ser), 0);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_REVOKE_BATCH, b.data, n),
		                 SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
	/* out of order, duplicated, empty: refused */
	ssp_buf_init(&b, 4096);
	ssp_device_put_ident(&b, "ACME");
	ssp_buf_u16(&b, 2);
	ssp_device_put_ident(&b, "S-2");
	ssp_device_put_ident(&b, "S-1");
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_REVOKE_BATCH, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	ssp_buf_reset(&b);
	ssp_device_put_ident(&b, "ACME");
	ssp_buf_u16(&b, 2);
	ssp_device_put_ident(&b, "S-1");
	ssp_device_put_ident(&b, "S-1");
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_REVOKE_BATCH, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	ssp_buf_reset(&b);
	ssp_device_put_ident(&b, "ACME");
	ssp_buf_u16(&b, 0);
	assert_int_equal(ssp_device_payload_decode(&q, SSP_TX_DEVICE_REVOKE_BATCH, b.data, b.len),
	                 SSP_ERR_PAYLOAD);
	ssp_buf_free(&b);
	const char *dup[] = {"A", "B", "A"};
	ssp_buf_reset(&sb);
	assert_int_equal(ssp_device_serials_encode(&sb, dup, 3), SSP_ERR_DUPLICATE);
	assert_int_equal(ssp_device_serials_encode(&sb, dup, 0), SSP_ERR_RANGE);
	ssp_buf_free(&sb);
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
	p = attest_at(&t, 0xa1, 1, height(&t));
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
	    cmocka_unit_test(test_revoked_sender),
	    cmocka_unit_test(test_rpc),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
