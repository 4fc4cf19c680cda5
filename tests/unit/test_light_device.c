/*
 * test_light_device.c — libsmartagent's light-client checks against a real
 * chain built in the test (mempool + produce, with the device module): a
 * manufacturer admitted, a device enrolled and then revoked; the state
 * proofs the node serves (ssp_chain_prove, what state_getProof returns)
 * and the blocks it stores are checked the way a device does —
 * ssp_agent_check_header against anchors read from the genesis JSON,
 * ssp_agent_check_device, ssp_agent_check_tx_inclusion, ssp_agent_check_receipt —
 * and each kind of
 * lie fails with its own error: a tampered proof or value (PROOF), a
 * tampered header (BADSIG), a header signed by a producer out of its slot
 * (BLOCK_PRODUCER), a header of another chain (CHAINID, or BADSIG when it
 * shares the producer key but not the chain id), bytes that are not a
 * header (DECODE/TRAILING). Plus the anchors codec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain_fixture.h"
#include "module_fixture.h"
#include "ssp/agent.h"
#include "ssp/device.h"
#include "ssp/modules.h"

#define T0 (FX_GENESIS_MS + 1000)
#define FEE 100000

static fx_key producer, alice, bob, outsider, foundation, team, dev1, dev2;

static uint8_t fill_of(const fx_key *k)
{
	return k == &alice ? 2 : k == &bob ? 3 : k == &dev1 ? 7 : k == &dev2 ? 8 : 0;
}

static uint32_t produce(tnode *t)
{
	t->time_ms += 1000;
	return fx_produce(&t->n, &producer, t->time_ms).ntx;
}

/* One tx from k in its own block; its txid in *id. */
static void run(tnode *t, const fx_key *k, uint16_t type, const uint8_t *payload, size_t n,
                ssp_hash *id)
{
	uint8_t f = fill_of(k);
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
	ssp_hash got;
	assert_int_equal(ssp_tx_sign(&raw, &len, id, &b, &k->sk), 0);
	assert_int_equal(ssp_mempool_add(t->n.pool, raw, len, false, &got), 0);
	free(raw);
	assert_int_equal(produce(t), 1);
	t->nonce[f]++;
	t->known[f] = true;
}

static void run_dev(tnode *t, const fx_key *k, uint16_t type, const ssp_device_payload *p,
                    ssp_hash *id)
{
	ssp_buf b;
	ssp_hash ignored;
	ssp_buf_init(&b, 4096);
	ssp_device_payload_encode(&b, type, p);
	assert_int_equal(b.err, 0);
	run(t, k, type, b.data, b.len, id ? id : &ignored);
	ssp_buf_free(&b);
}

static ssp_device_payload named(const char *name)
{
	ssp_device_payload p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	return p;
}

/* ACME (alice) admitted by the producer, model AC-1; dev1 funded, certified and enrolled. */
static ssp_hash enrolled_device(tnode *t)
{
	ssp_device_payload p = named("ACME");
	ssp_hash d, id;
	run_dev(t, &alice, SSP_TX_MFR_REGISTER, &p, NULL);
	p.key = producer.pk;
	ssp_device_approve_digest(&d, FX_CHAIN_ID, SSP_TX_MFR_APPROVE, "ACME");
	assert_int_equal(ssp_sign_digest(&p.sig, &producer.sk, &d), 0);
	run_dev(t, &bob, SSP_TX_MFR_APPROVE, &p, NULL);
	p = named("ACME");
	snprintf(p.model, sizeof p.model, "AC-1");
	p.capabilities = 1;
	p.nfirmware = 1;
	memset(p.firmware[0].b, 0xa1, 32);
	run_dev(t, &alice, SSP_TX_MODEL_ADD, &p, NULL);
	ssp_buf pb;
	ssp_buf_init(&pb, 512);
	ssp_buf_put(&pb, dev1.addr.b, SSP_ADDR_LEN);
	ssp_buf_u64(&pb, 10 * SSP_COIN);
	ssp_buf_u32(&pb, 0);
	run(t, &alice, SSP_TX_TRANSFER, pb.data, pb.len, &id);
	ssp_buf_free(&pb);
	memset(&p, 0, sizeof p);
	ssp_device_cert *c = &p.cert;
	ssp_seckey ck;
	ssp_pubkey cpk;
	snprintf(c->mfr, sizeof c->mfr, "ACME");
	snprintf(c->model, sizeof c->model, "AC-1");
	snprintf(c->serial, sizeof c->serial, "S-0001");
	c->device_key = dev1.pk;
	c->capabilities = 1;
	assert_int_equal(ssp_device_claim_key(&ck, &cpk, "in the box"), 0);
	ssp_device_claim_commitment(&c->claim_commitment, &cpk);
	assert_int_equal(ssp_device_cert_sign(c, FX_CHAIN_ID, &alice.sk), 0);
	run_dev(t, &dev1, SSP_TX_DEVICE_ENROLL, &p, &id);
	return id;
}

/* What state_getProof serves: the value (copied; NULL if absent), the proof and the head. */
typedef struct {
	uint8_t *value;
	size_t vlen;
	ssp_buf proof;
	ssp_head head;
} served;

static void serve_device(tnode *t, const fx_key *dev, served *s)
{
	ssp_txn *rt;
	const void *v;
	memset(s, 0, sizeof *s);
	ssp_buf_init(&s->proof, SSP_SPROOF_MAX_BYTES);
	assert_int_equal(ssp_store_read(t->n.store, &rt), 0);
	assert_int_equal(ssp_chain_prove(t->n.chain, rt, SSP_TB_DEVICE, dev->addr.b, SSP_ADDR_LEN,
	                                 &s->head, &v, &s->vlen, &s->proof),
	                 0);
	if (v) {
		s->value = malloc(s->vlen);
		assert_non_null(s->value);
		memcpy(s->value, v, s->vlen);
	}
	ssp_txn_end(rt);
}

static void served_free(served *s)
{
	free(s->value);
	ssp_buf_free(&s->proof);
}

/* The encoded header of the block at height (malloc'd). */
static uint8_t *header_bytes(tnode *t, uint64_t height, size_t *n)
{
	size_t len;
	uint8_t *blk = fx_block_copy(&t->n, height, &len);
	ssp_rd r;
	ssp_header h;
	ssp_rd_init(&r, blk, len);
	assert_int_equal(ssp_header_read(&h, &r), 0);
	*n = r.off;
	return blk; /* the header is its prefix */
}

/* Anchors JSON for chain_id with the given producers, in order. */
static ssp_agent_anchors *anchors(const char *chain_id, const fx_key *const *keys, size_t n)
{
	char text[4096], k[96];
	size_t off =
	    (size_t)snprintf(text, sizeof text, "{\"chain_id\":\"%s\",\"producers\":[", chain_id);
	for (size_t i = 0; i < n; i++) {
		ssp_pubkey_text(k, sizeof k, &keys[i]->pk);
		off += (size_t)snprintf(text + off, sizeof text - off, "%s\"%s\"", i ? "," : "", k);
	}
	snprintf(text + off, sizeof text - off, "]}");
	ssp_agent_anchors *an;
	char why[256];
	assert_int_equal(ssp_agent_anchors_parse(&an, text, strlen(text), why, sizeof why), 0);
	return an;
}

/* Re-signs a header (producer field = signer's address) under chain_id; returns its bytes. */
static void resign(ssp_buf *out, const ssp_header *h0, const fx_key *signer, const char *chain_id)
{
	ssp_header h = *h0;
	ssp_buf b;
	h.producer = signer->addr;
	ssp_buf_init(&b, 64 * 1024);
	ssp_header_encode(&b, &h, false);
	assert_int_equal(ssp_sign(&h.sig, &signer->sk, SSP_DOM_BLOCK, chain_id, b.data, b.len), 0);
	ssp_buf_free(&b);
	ssp_buf_init(out, 64 * 1024);
	ssp_header_encode(out, &h, true);
	assert_int_equal(out->err, 0);
}

static void test_device_status_and_lies(void **state)
{
	(void)state;
	tnode t;
	fx_genesis_spec spec = {.producer = &producer,
	                        .liquid = {&alice, &bob},
	                        .foundation = &foundation,
	                        .team = &team};
	char *genesis = fx_genesis_json(&spec), why[256];
	ssp_agent_anchors *an;
	/* the device is provisioned from the genesis file itself (its single "producer") */
	assert_int_equal(ssp_agent_anchors_parse(&an, genesis, strlen(genesis), why, sizeof why),
	                 0);
	free(genesis);
	assert_string_equal(ssp_agent_anchors_chain_id(an), FX_CHAIN_ID);
	tnode_open_with(&t, &producer, &alice, &bob, &foundation, &team, T0);
	ssp_hash enroll_id = enrolled_device(&t);
	uint64_t enroll_height = ssp_chain_head(t.n.chain)->height;

	/* registered: the record proven against the head's header */
	served s;
	serve_device(&t, &dev1, &s);
	size_t hn;
	uint8_t *hb = header_bytes(&t, s.head.height, &hn);
	ssp_header h;
	int st;
	ssp_device d;
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn), 0);
	assert_memory_equal(h.id.b, s.head.id.b, 32);
	assert_int_equal(ssp_agent_check_device(&h, &st, &d, &dev1.addr, s.value, s.vlen,
	                                        s.proof.data, s.proof.len),
	                 0);
	assert_int_equal(st, SSP_DEVICE_ACTIVE);
	assert_string_equal(d.serial, "S-0001");
	assert_memory_equal(d.key.b, dev1.pk.b, dev1.pk.len);

	/* a tampered proof, a tampered value, a withheld value, another device's proof */
	s.proof.data[s.proof.len - 1] ^= 1;
	assert_int_equal(ssp_agent_check_device(&h, &st, NULL, &dev1.addr, s.value, s.vlen,
	                                        s.proof.data, s.proof.len),
	                 SSP_ERR_PROOF);
	s.proof.data[s.proof.len - 1] ^= 1;
	s.value[s.vlen - 1] ^= 1;
	assert_int_equal(ssp_agent_check_device(&h, &st, NULL, &dev1.addr, s.value, s.vlen,
	                                        s.proof.data, s.proof.len),
	                 SSP_ERR_PROOF);
	s.value[s.vlen - 1] ^= 1;
	assert_int_equal(
	    ssp_agent_check_device(&h, &st, NULL, &dev1.addr, NULL, 0, s.proof.data, s.proof.len),
	    SSP_ERR_PROOF);
	assert_int_equal(ssp_agent_check_device(&h, &st, NULL, &dev2.addr, s.value, s.vlen,
	                                        s.proof.data, s.proof.len),
	                 SSP_ERR_PROOF);
	assert_int_equal(st, SSP_AGENT_DEVICE_UNKNOWN);

	/* a device never enrolled: unknown, and a value for it is a lie */
	served s2;
	serve_device(&t, &dev2, &s2);
	assert_null(s2.value);
	assert_int_equal(
	    ssp_agent_check_device(&h, &st, NULL, &dev2.addr, NULL, 0, s2.proof.data, s2.proof.len),
	    0);
	assert_int_equal(st, SSP_AGENT_DEVICE_UNKNOWN);
	assert_int_equal(ssp_agent_check_device(&h, &st, NULL, &dev2.addr, s.value, s.vlen,
	                                        s2.proof.data, s2.proof.len),
	                 SSP_ERR_PROOF);
	served_free(&s2);

	/* the headers: tampered, out of turn, another chain's, not a header */
	hb[1 + 8 + 32 + 8 + 8 + 20 + 32 + 32] ^= 1; /* state_root */
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn), SSP_ERR_BADSIG);
	hb[1 + 8 + 32 + 8 + 8 + 20 + 32 + 32] ^= 1;
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn), 0);
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn - 1), SSP_ERR_TRUNCATED);
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn + 1), SSP_ERR_TRAILING);
	hb[0] = 9; /* version */
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn), SSP_ERR_DECODE);
	hb[0] = 1;
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn), 0);
	/* two producers taking turns: the slot's is `producer`; alice signs out of turn */
	const fx_key *two[2];
	two[h.slot % 2] = &producer;
	two[(h.slot + 1) % 2] = &alice;
	ssp_agent_anchors *an2 = anchors(FX_CHAIN_ID, two, 2);
	ssp_header h2;
	assert_int_equal(ssp_agent_check_header(an2, &h2, hb, hn), 0);
	ssp_buf forged;
	resign(&forged, &h, &alice, FX_CHAIN_ID);
	assert_int_equal(ssp_agent_check_header(an2, &h2, forged.data, forged.len),
	                 SSP_ERR_BLOCK_PRODUCER);
	ssp_buf_free(&forged);
	/* a key outside the set: another chain's producer (or a forger) */
	resign(&forged, &h, &outsider, FX_CHAIN_ID);
	assert_int_equal(ssp_agent_check_header(an, &h2, forged.data, forged.len), SSP_ERR_CHAINID);
	ssp_buf_free(&forged);
	/* the same producer key on another chain id: its signature is not for ours */
	resign(&forged, &h, &producer, "ssp-other");
	assert_int_equal(ssp_agent_check_header(an, &h2, forged.data, forged.len), SSP_ERR_BADSIG);
	ssp_agent_anchors *other = anchors("ssp-other", (const fx_key *const[]){&producer}, 1);
	assert_int_equal(ssp_agent_check_header(other, &h2, forged.data, forged.len), 0);
	assert_int_equal(ssp_agent_check_header(other, &h2, hb, hn), SSP_ERR_BADSIG);
	ssp_agent_anchors_free(other);
	ssp_buf_free(&forged);
	ssp_agent_anchors_free(an2);
	free(hb);
	served_free(&s);

	/* the tx inclusion proof tx_get serves, against the enrollment block's header */
	{
		size_t len;
		uint8_t *blk = fx_block_copy(&t.n, enroll_height, &len);
		ssp_block b;
		ssp_merkle_proof pf;
		assert_int_equal(ssp_block_decode(&b, blk, len, len), 0);
		ssp_hash *leaves = calloc(b.ntx, sizeof *leaves);
		assert_non_null(leaves);
		size_t idx = b.ntx;
		for (uint32_t i = 0; i < b.ntx; i++) {
			leaves[i] = b.txs[i].txid;
			if (!memcmp(leaves[i].b, enroll_id.b, 32)) idx = i;
		}
		assert_true(idx < b.ntx);
		assert_int_equal(ssp_merkle_prove(&pf, leaves, b.ntx, idx), 0);
		ssp_rd r;
		ssp_header eh;
		ssp_rd_init(&r, blk, len);
		assert_int_equal(ssp_header_read(&eh, &r), 0);
		assert_int_equal(ssp_agent_check_header(an, &eh, blk, r.off), 0);
		assert_int_equal(ssp_agent_check_tx_inclusion(&eh, &enroll_id, &pf), 0);
		ssp_hash other_tx = enroll_id;
		other_tx.b[0] ^= 1;
		assert_int_equal(ssp_agent_check_tx_inclusion(&eh, &other_tx, &pf), SSP_ERR_PROOF);
		pf.count++;
		assert_int_equal(ssp_agent_check_tx_inclusion(&eh, &enroll_id, &pf), SSP_ERR_PROOF);
		/* its receipt, proven against receipts_root the way tx_get serves it */
		ssp_txn *rt;
		ssp_buf rb, mine;
		ssp_buf_init(&rb, 1 << 20);
		ssp_buf_init(&mine, 1 << 20);
		assert_int_equal(ssp_store_read(t.n.store, &rt), 0);
		for (uint32_t i = 0; i < b.ntx; i++) {
			ssp_receipt ri;
			assert_int_equal(
			    ssp_chain_read_receipt(t.n.chain, rt, enroll_height, i, &ri), 0);
			ssp_buf_reset(&rb);
			ssp_receipt_encode(&rb, &ri);
			ssp_sha256(&leaves[i], rb.data, rb.len);
			if (i == idx) ssp_receipt_encode(&mine, &ri);
			ssp_receipt_free(&ri);
		}
		ssp_txn_end(rt);
		assert_int_equal(ssp_merkle_prove(&pf, leaves, b.ntx, idx), 0);
		ssp_receipt rcpt;
		assert_int_equal(
		    ssp_agent_check_receipt(&eh, &rcpt, &enroll_id, mine.data, mine.len, &pf), 0);
		assert_int_equal(rcpt.status, SSP_RCPT_OK);
		assert_memory_equal(rcpt.txid.b, enroll_id.b, 32);
		ssp_receipt_free(&rcpt);
		assert_int_equal(
		    ssp_agent_check_receipt(&eh, NULL, &other_tx, mine.data, mine.len, &pf),
		    SSP_ERR_PROOF); /* another tx's */
		mine.data[32] ^= 1; /* status ok -> failed */
		assert_int_equal(
		    ssp_agent_check_receipt(&eh, &rcpt, &enroll_id, mine.data, mine.len, &pf),
		    SSP_ERR_PROOF);
		ssp_buf_free(&mine);
		ssp_buf_free(&rb);
		free(leaves);
		ssp_block_free(&b);
		free(blk);
	}

	/* revoked by the manufacturer: the next head's proof says so */
	ssp_device_payload p;
	memset(&p, 0, sizeof p);
	p.device = dev1.addr;
	run_dev(&t, &alice, SSP_TX_DEVICE_REVOKE, &p, NULL);
	serve_device(&t, &dev1, &s);
	hb = header_bytes(&t, s.head.height, &hn);
	assert_int_equal(ssp_agent_check_header(an, &h, hb, hn), 0);
	assert_int_equal(ssp_agent_check_device(&h, &st, &d, &dev1.addr, s.value, s.vlen,
	                                        s.proof.data, s.proof.len),
	                 0);
	assert_int_equal(st, SSP_DEVICE_REVOKED);
	free(hb);
	served_free(&s);
	ssp_agent_anchors_free(an);
	tnode_close(&t);
}

static void test_anchors_codec(void **state)
{
	(void)state;
	char why[256], k[96];
	ssp_agent_anchors *an;
	const ssp_pubkey *keys;
	ssp_pubkey_text(k, sizeof k, &dev1.pk);
	char text[512];
	snprintf(text, sizeof text,
	         "{\"chain_id\":\"ssp-x\",\"genesis_hash\":\"%064d\",\"producers\":[\"%s\"]}", 0,
	         k);
	assert_int_equal(ssp_agent_anchors_parse(&an, text, strlen(text), why, sizeof why), 0);
	assert_int_equal(ssp_agent_anchors_producers(an, &keys), 1);
	assert_int_equal(keys[0].type, SSP_KEY_P256);
	assert_non_null(ssp_agent_anchors_genesis_hash(an));
	char *round = ssp_agent_anchors_json(an);
	ssp_agent_anchors_free(an);
	assert_int_equal(ssp_agent_anchors_parse(&an, round, strlen(round), why, sizeof why), 0);
	assert_string_equal(ssp_agent_anchors_chain_id(an), "ssp-x");
	ssp_agent_anchors_free(an);
	free(round);
	static const char *const bad[] = {
	    "[]",
	    "{\"producers\":[]}",
	    "{\"chain_id\":\"Bad Id\",\"producer\":\"ed25519:00\"}",
	    "{\"chain_id\":\"ok\"}",
	    "{\"chain_id\":\"ok\",\"producers\":[]}",
	    "{\"chain_id\":\"ok\",\"producers\":[\"ed25519:zz\"]}",
	    "{\"chain_id\":\"ok\",\"producers\":[1]}",
	    "{\"chain_id\":\"ok\",\"genesis_hash\":\"00\",\"producer\":\"ed25519:00\"}",
	    "{\"chain_id\":\"ok\",\"chain_id\":\"ok2\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why[0] = 0;
		assert_true(ssp_agent_anchors_parse(&an, bad[i], strlen(bad[i]), why, sizeof why) <
		            0);
		assert_null(an);
		assert_true(why[0] != 0);
	}
	assert_int_equal(ssp_agent_anchors_load(&an, "/nonexistent/anchors.json", why, sizeof why),
	                 SSP_ERR_IO);
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	fx_key_make(&producer, SSP_KEY_ED25519, 1);
	fx_key_make(&alice, SSP_KEY_ED25519, 2);
	fx_key_make(&bob, SSP_KEY_P256, 3);
	fx_key_make(&outsider, SSP_KEY_ED25519, 4);
	fx_key_make(&foundation, SSP_KEY_ED25519, 5);
	fx_key_make(&team, SSP_KEY_ED25519, 6);
	fx_key_make(&dev1, SSP_KEY_P256, 7);
	fx_key_make(&dev2, SSP_KEY_P256, 8);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_anchors_codec),
	    cmocka_unit_test(test_device_status_and_lies),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
