/*
 * main_chain.c — ssp-agent's commands that talk to a node (agent layer,
 * the program, not the library): the device's own wallet (balance,
 * transfer) and its registry txs (enroll with a certificate, attest with
 * the token's monotonic counter). Transactions are built with libssp_proto
 * and signed by the agent (ssp_agent_signer: the key never leaves the
 * token); the node is reached with the JSON-RPC client only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "agent/main_internal.h"
#include "ssp/proto_device.h"
#include "ssp/rpc.h"

typedef struct {
	ssp_rpc_client *rpc;
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	char hrp[17];
	uint64_t height, min_fee, fee_per_byte;
	ssp_hash head_id; /* the head the node reported (an attestation's challenge) */
	ssp_pubkey pk;
	ssp_addr addr;
	char addr_text[96];
	uint64_t nonce;
	bool include_pubkey;
	json_t *account;
} session;

static int call(session *s, const char *method, json_t *params, json_t **res)
{
	ssp_rpc_error err = {0};
	int rc = ssp_rpc_call(s->rpc, method, params, res, &err);
	if (!rc) return 0;
	const char *name = json_string_value(json_object_get(err.data, "error"));
	agent_cmd_fail("%s: %s%s%s%s", method, err.message[0] ? err.message : ssp_strerror(rc),
	               name ? " (" : "", name ? name : "", name ? ")" : "");
	json_decref(err.data);
	return 1;
}

static int u64_field(const json_t *o, const char *key, uint64_t *out, const char *method)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return agent_cmd_fail("%s: the node returned no valid \"%s\"", method, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int amount_field(const json_t *o, const char *key, uint64_t *out, const char *method)
{
	const char *v = json_string_value(json_object_get(o, key));
	if (!v || ssp_amount_parse(out, v, SSP_DECIMALS))
		return agent_cmd_fail("%s: the node returned no valid \"%s\"", method, key);
	return 0;
}

/* Chain parameters and the agent's account (nonce, whether its key is on chain). */
static int begin(session *s, ssp_agent *ag, const char *url)
{
	json_t *info = NULL;
	memset(s, 0, sizeof *s);
	if (ssp_rpc_client_new(&s->rpc, url, 15000))
		return agent_cmd_fail("cannot reach the node at %s", url);
	if (call(s, "chain_getInfo", NULL, &info)) return 1;
	const char *cid = json_string_value(json_object_get(info, "chain_id"));
	const char *hrp = json_string_value(json_object_get(info, "hrp"));
	int rc = !cid || strlen(cid) > SSP_CHAIN_ID_MAX || !hrp || strlen(hrp) >= sizeof s->hrp
	             ? agent_cmd_fail("chain_getInfo: no valid chain_id or hrp")
	             : 0;
	if (!rc) {
		snprintf(s->chain_id, sizeof s->chain_id, "%s", cid);
		snprintf(s->hrp, sizeof s->hrp, "%s", hrp);
		const char *hid = json_string_value(json_object_get(info, "head_id"));
		if (!hid || strlen(hid) != 64 || ssp_hex_decode(s->head_id.b, 32, hid, 64))
			rc =
			    agent_cmd_fail("chain_getInfo: the node returned no valid \"head_id\"");
		rc = rc || u64_field(info, "height", &s->height, "chain_getInfo") ||
		     amount_field(info, "min_fee", &s->min_fee, "chain_getInfo") ||
		     amount_field(info, "fee_per_byte", &s->fee_per_byte, "chain_getInfo");
	}
	json_decref(info);
	if (rc) return rc;
	if (ssp_agent_pubkey(ag, &s->pk)) return agent_cmd_fail("the agent has no public key");
	ssp_addr_from_pubkey(&s->addr, &s->pk);
	ssp_addr_encode(s->addr_text, sizeof s->addr_text, s->hrp, &s->addr);
	if (call(s, "account_get", json_pack("{s:s}", "address", s->addr_text), &s->account))
		return 1;
	if (u64_field(s->account, "pending_nonce", &s->nonce, "account_get")) return 1;
	json_t *key = json_object_get(s->account, "pubkey");
	s->include_pubkey = !key || json_is_null(key);
	return 0;
}

static void end(session *s)
{
	json_decref(s->account);
	ssp_rpc_client_free(s->rpc);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0) {
	}
}

static int send_tx_(session *s, ssp_agent *ag, uint16_t type, const uint8_t *payload, size_t n,
                    bool wait, int json, json_t *fields);

/* Builds, signs (through the agent), submits and optionally waits for a tx; takes fields. */
static int send_tx(session *s, ssp_agent *ag, uint16_t type, const uint8_t *payload, size_t n,
                   bool wait, int json, json_t *fields)
{
	int rc = send_tx_(s, ag, type, payload, n, wait, json, fields);
	json_decref(fields);
	return rc;
}

static int send_tx_(session *s, ssp_agent *ag, uint16_t type, const uint8_t *payload, size_t n,
                    bool wait, int json, json_t *fields)
{
	ssp_tx_build b = {.chain_id = s->chain_id,
	                  .type = type,
	                  .nonce = s->nonce,
	                  .expiry = s->height + 100,
	                  .payload = payload,
	                  .payload_len = n,
	                  .include_pubkey = s->include_pubkey};
	uint64_t per = 0;
	size_t len = ssp_tx_encoded_len(&b, &s->pk);
	if (ssp_mul_u64(&per, s->fee_per_byte, len) || ssp_add_u64(&b.fee, s->min_fee, per))
		return agent_cmd_fail("the node's fee schedule overflows");
	uint8_t *raw = NULL;
	ssp_hash txid;
	int rc = ssp_tx_sign_with(&raw, &len, &txid, &b, &s->pk, ssp_agent_signer, ag);
	if (rc) {
		const char *e = ssp_agent_last_error(ag);
		return agent_cmd_fail("cannot sign the transaction: %s", *e ? e : ssp_strerror(rc));
	}
	char *hex = malloc(2 * len + 1), idhex[65];
	if (!hex) {
		free(raw);
		return agent_cmd_fail("out of memory");
	}
	sodium_bin2hex(hex, 2 * len + 1, raw, len);
	free(raw);
	json_t *res = NULL;
	rc = call(s, "tx_submit", json_pack("{s:s}", "tx", hex), &res);
	free(hex);
	json_decref(res);
	if (rc) return rc;
	sodium_bin2hex(idhex, sizeof idhex, txid.b, 32);
	const char *status = "submitted";
	uint64_t height = 0;
	json_t *final = NULL;
	for (int i = 0; wait && i < 300; i++) { /* bounded: 300 × 100 ms */
		json_t *r = NULL;
		if (call(s, "tx_get", json_pack("{s:s}", "txid", idhex), &r)) return 1;
		const char *st = json_string_value(json_object_get(r, "status"));
		if (st && (!strcmp(st, "included") || !strcmp(st, "finalized"))) {
			final = r;
			break;
		}
		if (st && !strcmp(st, "rejected")) {
			rc = agent_cmd_fail("transaction %s rejected: %s (%s)", idhex,
			                    json_string_value(json_object_get(r, "reason")),
			                    json_string_value(json_object_get(r, "error")));
			json_decref(r);
			return rc;
		}
		json_decref(r);
		sleep_ms(100);
	}
	if (wait && !final)
		return agent_cmd_fail("transaction %s: not in a block after 30 s", idhex);
	if (final) {
		status = json_string_value(json_object_get(final, "status"));
		height = (uint64_t)json_integer_value(
		    json_object_get(json_object_get(final, "block"), "height"));
		const char *rs =
		    json_string_value(json_object_get(json_object_get(final, "receipt"), "status"));
		if (rs && strcmp(rs, "ok")) {
			json_decref(final);
			return agent_cmd_fail("transaction %s failed in block %llu", idhex,
			                      (unsigned long long)height);
		}
	}
	json_t *out = json_pack("{s:s, s:s, s:I, s:s}", "txid", idhex, "from", s->addr_text,
	                        "nonce", (json_int_t)b.nonce, "status", status);
	if (out && fields) json_object_update(out, fields);
	if (out && height) json_object_set_new(out, "height", json_integer((json_int_t)height));
	json_decref(final);
	if (!out) return agent_cmd_fail("out of memory");
	if (json) {
		char *t = json_dumps(out, JSON_COMPACT);
		if (t) puts(t);
		free(t);
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(out, k, v)
		{
			char *t = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
			printf("%-9s %s\n", k, t ? t : json_string_value(v));
			free(t);
		}
	}
	json_decref(out);
	return 0;
}

int agent_cmd_balance(ssp_agent *ag, const agent_opts *o)
{
	session s;
	int rc = begin(&s, ag, o->rpc);
	if (!rc) {
		const char *bal = json_string_value(json_object_get(s.account, "balance"));
		if (o->json)
			printf("{\"address\":\"%s\",\"balance\":\"%s\",\"nonce\":%llu}\n",
			       s.addr_text, bal ? bal : "0", (unsigned long long)s.nonce);
		else
			printf("address:  %s\nbalance:  %s SSP\nnonce:    %llu\n", s.addr_text,
			       bal ? bal : "0", (unsigned long long)s.nonce);
	}
	end(&s);
	return rc;
}

int agent_cmd_transfer(ssp_agent *ag, const agent_opts *o)
{
	ssp_transfer t = {0};
	session s;
	if (!o->to || !o->amount)
		return agent_cmd_fail("transfer needs --to ADDRESS and --amount SSP") + 1;
	if (ssp_amount_parse(&t.amount, o->amount, SSP_DECIMALS) || t.amount == 0)
		return agent_cmd_fail(
		           "--amount must be a positive SSP amount with at most 8 decimals") +
		       1;
	int rc = begin(&s, ag, o->rpc);
	if (!rc && ssp_addr_decode(&t.to, s.hrp, o->to))
		rc = agent_cmd_fail("--to is not a %s address", s.hrp);
	if (!rc) {
		ssp_buf b;
		ssp_buf_init(&b, 1024);
		ssp_transfer_encode(&b, &t);
		rc = b.err ? agent_cmd_fail("cannot encode the transfer")
		           : send_tx(&s, ag, SSP_TX_TRANSFER, b.data, b.len, o->wait, o->json,
		                     json_pack("{s:s, s:s}", "to", o->to, "amount", o->amount));
		ssp_buf_free(&b);
	}
	end(&s);
	return rc;
}

/* The certificate as hex, or a file holding it (`ssp mfr certify --out`). */
static int read_cert(ssp_device_cert *c, const char *arg)
{
	char buf[2048];
	const char *hex = arg;
	if (strspn(arg, "0123456789abcdefABCDEF") != strlen(arg)) {
		FILE *f = fopen(arg, "r");
		if (!f) return agent_cmd_fail("cannot read the certificate %s", arg);
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		buf[strcspn(buf, " \t\r\n")] = 0;
		hex = buf;
	}
	uint8_t raw[1024];
	size_t hl = strlen(hex);
	if (hl % 2 || hl / 2 > sizeof raw || ssp_hex_decode(raw, hl / 2, hex, hl) ||
	    ssp_device_cert_decode(c, raw, hl / 2))
		return agent_cmd_fail("%s is not a device certificate (ssp mfr certify writes one)",
		                      arg);
	return 0;
}

int agent_cmd_enroll(ssp_agent *ag, const agent_opts *o)
{
	ssp_device_payload p;
	ssp_pubkey pk;
	session s;
	if (!o->cert) return agent_cmd_fail("enroll needs --cert FILE|HEX") + 1;
	memset(&p, 0, sizeof p);
	if (read_cert(&p.cert, o->cert)) return 1;
	/* refuse locally what the chain would refuse: a certificate for another key */
	if (ssp_agent_pubkey(ag, &pk) || pk.len != p.cert.device_key.len ||
	    memcmp(pk.b, p.cert.device_key.b, pk.len))
		return agent_cmd_fail(
		    "the certificate is for another key than this agent's (ssp-agent csr "
		    "prints this one)");
	int rc = begin(&s, ag, o->rpc);
	if (!rc) {
		ssp_buf b;
		ssp_buf_init(&b, 2048);
		ssp_device_payload_encode(&b, SSP_TX_DEVICE_ENROLL, &p);
		rc = b.err ? agent_cmd_fail("cannot encode the enrollment")
		           : send_tx(&s, ag, SSP_TX_DEVICE_ENROLL, b.data, b.len, o->wait, o->json,
		                     json_pack("{s:s, s:s, s:s}", "manufacturer", p.cert.mfr,
		                               "model", p.cert.model, "serial", p.cert.serial));
		ssp_buf_free(&b);
	}
	end(&s);
	return rc;
}

int agent_cmd_attest(ssp_agent *ag, const agent_opts *o)
{
	ssp_device_payload p;
	session s;
	memset(&p, 0, sizeof p);
	if (!o->firmware || strlen(o->firmware) != 64 ||
	    ssp_hex_decode(p.firmware[0].b, 32, o->firmware, 64))
		return agent_cmd_fail("attest needs --firmware-hash HEX (the 64-hex SHA-256 of the "
		                      "firmware)") +
		       1;
	int rc = begin(&s, ag, o->rpc);
	if (!rc) {
		/* the counter is stored in the token before it is used: never the same twice */
		p.challenge_id = s.head_id; /* a block of this chain: refused on any other */
		if (ssp_agent_counter_next(ag, &p.counter))
			rc = agent_cmd_fail("the counter: %s", ssp_agent_last_error(ag));
	}
	if (!rc) {
		ssp_buf b;
		char idhex[65];
		ssp_hex_encode(idhex, p.challenge_id.b, 32);
		ssp_buf_init(&b, 256);
		ssp_device_payload_encode(&b, SSP_TX_DEVICE_ATTEST, &p);
		rc = b.err ? agent_cmd_fail("cannot encode the attestation")
		           : send_tx(&s, ag, SSP_TX_DEVICE_ATTEST, b.data, b.len, o->wait, o->json,
		                     json_pack("{s:s, s:I, s:s, s:I}", "firmware", o->firmware,
		                               "counter", (json_int_t)p.counter, "challenge", idhex,
		                               "challenge_height", (json_int_t)s.height));
		ssp_buf_free(&b);
	}
	end(&s);
	return rc;
}
