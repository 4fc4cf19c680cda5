/*
 * main_light.c — ssp-agent's light-client commands (agent layer, the
 * program, not the library): `anchors` writes the trust anchors from a
 * genesis file; `check-device` and `check-tx` fetch a proof and the header
 * of the block it names (chain_getHeader) from a node and check both with
 * libsmartagent against the anchors (check-tx: the tx's and its receipt's inclusion, so whether it
 * succeeded). The node is only a courier: every answer printed was verified
 * here, and anything that does not verify is an error, never an answer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/main_internal.h"
#include "ssp/rpc.h"

/* A header: fixed fields, a seed reveal and a finality QC (ssp/proto.h), with room to spare. */
#define HEADER_MAX (SSP_QC_MAX + SSP_SEED_MAX + 1024)

int agent_cmd_anchors(const agent_opts *o)
{
	char why[512];
	ssp_agent_anchors *an;
	if (!o->genesis)
		return agent_cmd_fail("anchors needs --genesis FILE (the chain's genesis.json)");
	if (ssp_agent_anchors_load(&an, o->genesis, why, sizeof why))
		return agent_cmd_fail("%s", why);
	char *s = ssp_agent_anchors_json(an);
	ssp_agent_anchors_free(an);
	if (!s) return agent_cmd_fail("out of memory");
	int rc = 0;
	FILE *f = o->out ? fopen(o->out, "w") : stdout;
	if (!f) {
		rc = agent_cmd_fail("cannot write %s", o->out);
	} else {
		fprintf(f, "%s\n", s);
		if (o->out && fclose(f)) rc = agent_cmd_fail("cannot write %s", o->out);
	}
	free(s);
	return rc;
}

typedef struct {
	ssp_rpc_client *rpc;
	ssp_agent_anchors *an;
	const agent_opts *o;
	char hrp[17];
	uint8_t *hdr; /* the header's bytes (h.qc borrows them) */
	ssp_header h;
} light;

static int call(light *l, const char *method, json_t *params, json_t **res)
{
	ssp_rpc_error err = {0};
	int rc = ssp_rpc_call(l->rpc, method, params, res, &err);
	if (!rc) return 0;
	agent_cmd_fail("%s: %s", method, err.message[0] ? err.message : ssp_strerror(rc));
	json_decref(err.data);
	return 1;
}

/* Hex field → malloc'd bytes (*n); NULL and a message when absent or malformed. */
static uint8_t *hex_field(const json_t *o, const char *key, size_t max, size_t *n,
                          const char *method)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t hl = s ? strlen(s) : 0;
	uint8_t *p;
	if (!s || hl % 2 || hl / 2 > max) {
		agent_cmd_fail("%s: the node returned no valid \"%s\"", method, key);
		return NULL;
	}
	p = malloc(hl / 2 + 1);
	if (p && ssp_hex_decode(p, hl / 2, s, hl)) {
		free(p);
		agent_cmd_fail("%s: \"%s\" is not hex", method, key);
		return NULL;
	}
	*n = hl / 2;
	return p;
}

static int begin(light *l, const agent_opts *o)
{
	char why[512];
	json_t *info = NULL;
	memset(l, 0, sizeof *l);
	l->o = o;
	if (!o->anchors)
		return agent_cmd_fail(
		    "--anchors FILE is required (ssp-agent anchors --genesis genesis.json)");
	if (ssp_agent_anchors_load(&l->an, o->anchors, why, sizeof why))
		return agent_cmd_fail("%s", why);
	if (ssp_rpc_client_new(&l->rpc, o->rpc, 15000))
		return agent_cmd_fail("cannot reach the node at %s", o->rpc);
	if (call(l, "chain_getInfo", NULL, &info)) return 1;
	/* the node's word on which chain it serves is only a hint for a clear message */
	const char *cid = json_string_value(json_object_get(info, "chain_id"));
	const char *hrp = json_string_value(json_object_get(info, "hrp"));
	int rc = 0;
	if (cid && strcmp(cid, ssp_agent_anchors_chain_id(l->an)))
		rc = agent_cmd_fail("the node serves chain %s, the anchors are for %s", cid,
		                    ssp_agent_anchors_chain_id(l->an));
	snprintf(l->hrp, sizeof l->hrp, "%s", hrp && strlen(hrp) < sizeof l->hrp ? hrp : "dssp");
	json_decref(info);
	return rc;
}

static void end(light *l)
{
	free(l->hdr);
	ssp_agent_anchors_free(l->an);
	ssp_rpc_client_free(l->rpc);
}

static const char *header_err(int rc)
{
	switch (rc) {
	case SSP_ERR_BADSIG:
		return "its signature does not verify (altered, or signed for another chain id)";
	case SSP_ERR_BLOCK_PRODUCER:
		return "it was signed by a producer out of its slot";
	case SSP_ERR_CHAINID:
		return "its producer is not in this chain's producer set (another chain)";
	default:
		return ssp_strerror(rc);
	}
}

/*
 * Fetches the header of the block the node says holds its answer (by id, or
 * by height when id is NULL; chain_getHeader: the header's bytes alone), and
 * checks it against the anchors: the producer of its slot signed it for this
 * chain, it is the block named, and (fresh: it carries the node's current
 * state) it is not older than --max-age.
 */
static int fetch_header(light *l, const char *idhex, uint64_t height, bool fresh)
{
	json_t *res = NULL;
	json_t *params = idhex ? json_pack("{s:s}", "id", idhex)
	                       : json_pack("{s:I}", "height", (json_int_t)height);
	if (call(l, "chain_getHeader", params, &res)) return 1;
	size_t n = 0;
	l->hdr = hex_field(res, "raw", HEADER_MAX, &n, "chain_getHeader");
	json_decref(res);
	if (!l->hdr) return 1;
	/* exactly one header: its id is computed here, never taken from the node */
	int rc = ssp_agent_check_header(l->an, &l->h, l->hdr, n);
	if (rc)
		return agent_cmd_fail("block header from the node rejected: %s (%s)",
		                      header_err(rc), ssp_errname(rc));
	char got[65];
	ssp_hex_encode(got, l->h.id.b, 32);
	if (idhex && strcmp(got, idhex))
		return agent_cmd_fail("the node's block %s is not the block %s its proof names",
		                      got, idhex);
	if (!idhex && l->h.height != height)
		return agent_cmd_fail("the node sent block %llu for height %llu",
		                      (unsigned long long)l->h.height, (unsigned long long)height);
	uint64_t now = ssp_now_ms();
	if (fresh && l->o->max_age_s && l->h.timestamp_ms + l->o->max_age_s * 1000 < now)
		return agent_cmd_fail(
		    "the node's latest block (height %llu) is %llu s old, over --max-age %llu: "
		    "it may be withholding newer blocks",
		    (unsigned long long)l->h.height,
		    (unsigned long long)((now - l->h.timestamp_ms) / 1000),
		    (unsigned long long)l->o->max_age_s);
	return 0;
}

static const char *status_name(int st)
{
	switch (st) {
	case SSP_DEVICE_ACTIVE:
		return "registered";
	case SSP_DEVICE_REVOKED:
		return "revoked";
	case SSP_DEVICE_UNTRUSTED:
		return "untrusted";
	default:
		return "unknown";
	}
}

int agent_cmd_check_device(const agent_opts *o)
{
	light l;
	json_t *res = NULL;
	uint8_t *value = NULL, *proof = NULL;
	size_t vlen = 0, plen = 0;
	ssp_addr dev;
	int rc = 1;
	if (!o->arg) return agent_cmd_fail("check-device needs the device's ADDRESS");
	if (begin(&l, o)) goto out;
	if (ssp_addr_decode(&dev, l.hrp, o->arg)) {
		agent_cmd_fail("%s is not a %s address", o->arg, l.hrp);
		goto out;
	}
	char khex[2 * SSP_ADDR_LEN + 1];
	ssp_hex_encode(khex, dev.b, SSP_ADDR_LEN);
	if (call(&l, "state_getProof", json_pack("{s:s, s:s}", "table", "device", "key", khex),
	         &res))
		goto out;
	const char *bid = json_string_value(json_object_get(res, "block_id"));
	if (!bid || strlen(bid) != 64) {
		agent_cmd_fail("state_getProof: the node returned no block_id");
		goto out;
	}
	proof = hex_field(res, "proof", SSP_SPROOF_MAX_BYTES, &plen, "state_getProof");
	if (!proof) goto out;
	json_t *jv = json_object_get(res, "value");
	if (jv && !json_is_null(jv)) {
		value = hex_field(res, "value", 64 * 1024, &vlen, "state_getProof");
		if (!value) goto out;
	}
	if (fetch_header(&l, bid, 0, true)) goto out;
	int st;
	ssp_device d;
	int vr = ssp_agent_check_device(&l.h, &st, &d, &dev, value, vlen, proof, plen);
	if (vr) {
		agent_cmd_fail(
		    "the node's proof for device %s does not verify against block %llu: %s (%s)",
		    o->arg, (unsigned long long)l.h.height, ssp_strerror(vr), ssp_errname(vr));
		goto out;
	}
	char hid[65];
	ssp_hex_encode(hid, l.h.id.b, 32);
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:b}", "address", o->arg, "status",
		                      status_name(st), "height", (json_int_t)l.h.height, "block_id",
		                      hid, "verified", 1);
		if (j && st != SSP_AGENT_DEVICE_UNKNOWN) {
			json_object_set_new(j, "manufacturer", json_string(d.mfr));
			json_object_set_new(j, "model", json_string(d.model));
			json_object_set_new(j, "serial", json_string(d.serial));
		}
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (s) printf("%s\n", s);
		free(s);
		json_decref(j);
	} else {
		printf("%s: %s", o->arg, status_name(st));
		if (st != SSP_AGENT_DEVICE_UNKNOWN)
			printf(" (%s %s serial %s)", d.mfr, d.model, d.serial);
		printf("\nverified against block %llu (%s), signed by its slot's producer\n",
		       (unsigned long long)l.h.height, hid);
	}
	rc = 0;
out:
	json_decref(res);
	free(value);
	free(proof);
	end(&l);
	return rc;
}

/* tx_get's {index, count, siblings} → pf; 1 and a message when malformed. */
static int parse_proof(const json_t *jp, ssp_merkle_proof *pf, const char *what)
{
	json_t *sib = json_object_get(jp, "siblings");
	json_t *ji = json_object_get(jp, "index"), *jc = json_object_get(jp, "count");
	memset(pf, 0, sizeof *pf);
	if (!json_is_integer(ji) || !json_is_integer(jc) || !json_is_array(sib) ||
	    json_integer_value(ji) < 0 || json_integer_value(jc) < 1 ||
	    json_integer_value(ji) > UINT32_MAX || json_integer_value(jc) > UINT32_MAX ||
	    json_array_size(sib) > SSP_MERKLE_MAX_DEPTH)
		return agent_cmd_fail("tx_get: the node returned no valid %s proof", what);
	pf->index = (uint32_t)json_integer_value(ji);
	pf->count = (uint32_t)json_integer_value(jc);
	pf->depth = (uint32_t)json_array_size(sib);
	for (uint32_t i = 0; i < pf->depth; i++) {
		const char *s = json_string_value(json_array_get(sib, i));
		if (!s || strlen(s) != 64 || ssp_hex_decode(pf->siblings[i].b, 32, s, 64))
			return agent_cmd_fail("tx_get: the node returned no valid %s proof", what);
	}
	return 0;
}

int agent_cmd_check_tx(const agent_opts *o)
{
	light l;
	json_t *res = NULL;
	uint8_t *raw = NULL, *rraw = NULL;
	size_t n = 0, rn = 0;
	ssp_hash txid, got;
	ssp_merkle_proof pf, rpf;
	ssp_receipt receipt = {0};
	int rc = 1;
	if (!o->arg || strlen(o->arg) != 64 || ssp_hex_decode(txid.b, 32, o->arg, 64))
		return agent_cmd_fail("check-tx needs a TXID (64 hex digits)");
	if (begin(&l, o)) goto out;
	if (call(&l, "tx_get", json_pack("{s:s}", "txid", o->arg), &res)) goto out;
	const char *status = json_string_value(json_object_get(res, "status"));
	if (!status || (strcmp(status, "included") && strcmp(status, "finalized"))) {
		agent_cmd_fail("transaction %s is not in a block (the node says: %s)", o->arg,
		               status ? status : "nothing");
		goto out;
	}
	/* the tx bytes must be the txid's, and the proofs must lead to a checked header's roots */
	raw = hex_field(json_object_get(res, "tx"), "raw", SSP_TX_MAX, &n, "tx_get");
	if (!raw) goto out;
	ssp_sha256(&got, raw, n);
	if (memcmp(got.b, txid.b, 32)) {
		agent_cmd_fail("tx_get: the node's tx bytes are not transaction %s", o->arg);
		goto out;
	}
	json_t *jh = json_object_get(json_object_get(res, "block"), "height");
	json_t *jr = json_object_get(res, "receipt");
	if (!json_is_integer(jh) || json_integer_value(jh) < 1) {
		agent_cmd_fail("tx_get: the node returned no block height");
		goto out;
	}
	if (parse_proof(json_object_get(res, "proof"), &pf, "inclusion") ||
	    parse_proof(json_object_get(jr, "proof"), &rpf, "receipt"))
		goto out;
	rraw = hex_field(jr, "raw", (size_t)4 << 20, &rn, "tx_get receipt");
	if (!rraw) goto out;
	uint64_t height = (uint64_t)json_integer_value(jh);
	if (fetch_header(&l, NULL, height, false)) goto out;
	int vr = ssp_agent_check_tx_inclusion(&l.h, &txid, &pf);
	if (vr) {
		agent_cmd_fail(
		    "the node's inclusion proof for %s does not verify against block %llu's tx "
		    "root "
		    "(%s)",
		    o->arg, (unsigned long long)height, ssp_errname(vr));
		goto out;
	}
	vr = ssp_agent_check_receipt(&l.h, &receipt, &txid, rraw, rn, &rpf);
	if (vr) {
		agent_cmd_fail(
		    "the node's receipt for %s does not verify against block %llu's receipts root "
		    "(%s)",
		    o->arg, (unsigned long long)height, ssp_errname(vr));
		goto out;
	}
	const char *outcome = receipt.status == SSP_RCPT_OK ? "succeeded" : "failed";
	const char *why = receipt.error ? ssp_errname(receipt.error) : "";
	char hid[65];
	ssp_hex_encode(hid, l.h.id.b, 32);
	if (o->json)
		printf(
		    "{\"txid\":\"%s\",\"included\":true,\"height\":%llu,\"index\":%u,"
		    "\"status\":\"%s\",\"error\":\"%s\",\"block_id\":\"%s\",\"verified\":true}\n",
		    o->arg, (unsigned long long)height, pf.index, outcome, why, hid);
	else
		printf("%s: included in block %llu at index %u, %s%s%s\n"
		       "verified against block %llu (%s), signed by its slot's producer\n",
		       o->arg, (unsigned long long)height, pf.index, outcome, *why ? ": " : "", why,
		       (unsigned long long)height, hid);
	rc = 0;
out:
	json_decref(res);
	free(raw);
	free(rraw);
	ssp_receipt_free(&receipt);
	end(&l);
	return rc;
}
