/*
 * light.c — libsmartagent's light-client checks (agent layer): the trust
 * anchors a device is provisioned with (chain id, producer schedule), the
 * block-header check against them, and the tx-inclusion, state and
 * device-registry proofs checked against a header that passed. Nothing
 * here trusts the node the bytes came from; everything is pure (no I/O
 * besides reading an anchors file), so any thread may call it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ssp/agent.h"
#include "ssp/stateproof.h"

#define ANCHORS_FILE_MAX (256 * 1024) /* 256 keys are ~20 KiB; a genesis file may be larger */
#define ANCHORS_GENESIS_MAX (64 << 20)

struct ssp_agent_anchors {
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	bool has_genesis_hash;
	ssp_hash genesis_hash;
	size_t n;
	ssp_pubkey producers[SSP_AGENT_PRODUCERS_MAX];
};

static int why_fail(char *why, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int why_fail(char *why, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;
	if (why && cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static bool chain_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SSP_CHAIN_ID_MAX) return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '.' || *s == '_'))
			return false;
	return true;
}

int ssp_agent_anchors_parse(ssp_agent_anchors **out, const char *text, size_t len, char *why,
                            size_t whycap)
{
	json_error_t je;
	json_t *root, *v;
	int rc = 0;
	*out = NULL;
	if (why && whycap) why[0] = 0;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return why_fail(why, whycap, SSP_ERR_DECODE, "anchors: not a JSON object%s%s",
		                root ? "" : ": ", root ? "" : je.text);
	}
	ssp_agent_anchors *an = calloc(1, sizeof *an);
	if (!an) {
		json_decref(root);
		return SSP_ERR_NOMEM;
	}
	v = json_object_get(root, "chain_id");
	if (!json_is_string(v) || !chain_id_ok(json_string_value(v))) {
		rc = why_fail(why, whycap, SSP_ERR_DECODE,
		              "anchors: chain_id must be 1..%d of [a-z0-9._-]", SSP_CHAIN_ID_MAX);
		goto out;
	}
	snprintf(an->chain_id, sizeof an->chain_id, "%s", json_string_value(v));
	v = json_object_get(root, "genesis_hash");
	if (v) {
		if (!json_is_string(v) || json_string_length(v) != 64 ||
		    ssp_hex_decode(an->genesis_hash.b, 32, json_string_value(v), 64)) {
			rc = why_fail(why, whycap, SSP_ERR_DECODE,
			              "anchors: genesis_hash must be 64 hex digits");
			goto out;
		}
		an->has_genesis_hash = true;
	}
	/* an anchors file and a genesis file both list "producers"; a devnet genesis has one
	 * "producer" */
	v = json_object_get(root, "producers");
	if (v) {
		size_t i;
		json_t *e;
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > SSP_AGENT_PRODUCERS_MAX) {
			rc = why_fail(why, whycap, SSP_ERR_DECODE,
			              "anchors: producers must be an array of 1..%d keys",
			              SSP_AGENT_PRODUCERS_MAX);
			goto out;
		}
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e) ||
			    ssp_pubkey_text_parse(&an->producers[i], json_string_value(e))) {
				rc = why_fail(why, whycap, SSP_ERR_BADKEY,
				              "anchors: producers[%zu] must be \"p256:HEX\" or "
				              "\"ed25519:HEX\"",
				              i);
				goto out;
			}
		}
		an->n = json_array_size(v);
	} else {
		v = json_object_get(root, "producer");
		if (!json_is_string(v) ||
		    ssp_pubkey_text_parse(&an->producers[0], json_string_value(v))) {
			rc = why_fail(
			    why, whycap, SSP_ERR_DECODE,
			    "anchors: no \"producers\" array and no valid \"producer\" key");
			goto out;
		}
		an->n = 1;
	}
	*out = an;
	an = NULL;
out:
	free(an);
	json_decref(root);
	return rc;
}

int ssp_agent_anchors_load(ssp_agent_anchors **out, const char *path, char *why, size_t whycap)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) return why_fail(why, whycap, SSP_ERR_IO, "cannot open anchors file %s", path);
	char *buf = malloc(ANCHORS_GENESIS_MAX);
	if (!buf) {
		fclose(f);
		return SSP_ERR_NOMEM;
	}
	size_t n = fread(buf, 1, ANCHORS_GENESIS_MAX, f);
	bool whole = feof(f) && !ferror(f);
	fclose(f);
	int rc = whole
	             ? ssp_agent_anchors_parse(out, buf, n, why, whycap)
	             : why_fail(why, whycap, SSP_ERR_TOOBIG, "%s: unreadable or over 64 MiB", path);
	free(buf);
	return rc;
}

void ssp_agent_anchors_free(ssp_agent_anchors *an)
{
	free(an);
}

const char *ssp_agent_anchors_chain_id(const ssp_agent_anchors *an)
{
	return an->chain_id;
}

size_t ssp_agent_anchors_producers(const ssp_agent_anchors *an, const ssp_pubkey **keys)
{
	*keys = an->producers;
	return an->n;
}

const ssp_hash *ssp_agent_anchors_genesis_hash(const ssp_agent_anchors *an)
{
	return an->has_genesis_hash ? &an->genesis_hash : NULL;
}

char *ssp_agent_anchors_json(const ssp_agent_anchors *an)
{
	json_t *o = json_pack("{s:s}", "chain_id", an->chain_id), *arr = json_array();
	char *s = NULL;
	if (!o || !arr) goto out;
	if (an->has_genesis_hash) {
		char hex[65];
		ssp_hex_encode(hex, an->genesis_hash.b, 32);
		json_object_set_new(o, "genesis_hash", json_string(hex));
	}
	for (size_t i = 0; i < an->n; i++) {
		char t[16 + 2 * SSP_PUBKEY_MAX + 1];
		ssp_pubkey_text(t, sizeof t, &an->producers[i]);
		json_array_append_new(arr, json_string(t));
	}
	json_object_set(o, "producers", arr);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(arr);
	json_decref(o);
	return s;
}

/* ------------------------------------------------------------------ checks */

int ssp_agent_check_header(const ssp_agent_anchors *an, ssp_header *h, const uint8_t *raw, size_t n)
{
	int rc = ssp_header_decode(h, raw, n);
	if (rc) return rc;
	/* who may sign: the round-robin schedule, producers[slot mod n] */
	const ssp_pubkey *key = &an->producers[h->slot % an->n];
	rc = ssp_header_check_sig(h, an->chain_id, key);
	if (rc != SSP_ERR_BLOCK_PRODUCER) return rc;
	/* not the slot's producer: one of the set out of turn, or no key of this chain at all */
	for (size_t i = 0; i < an->n; i++) {
		ssp_addr a;
		ssp_addr_from_pubkey(&a, &an->producers[i]);
		if (!memcmp(a.b, h->producer.b, SSP_ADDR_LEN)) return SSP_ERR_BLOCK_PRODUCER;
	}
	return SSP_ERR_CHAINID;
}

int ssp_agent_check_tx_inclusion(const ssp_header *h, const ssp_hash *txid,
                                 const ssp_merkle_proof *pf)
{
	return ssp_merkle_verify(&h->tx_root, txid, pf) ? 0 : SSP_ERR_PROOF;
}

int ssp_agent_check_receipt(const ssp_header *h, ssp_receipt *r, const ssp_hash *txid,
                            const uint8_t *receipt, size_t n, const ssp_merkle_proof *pf)
{
	ssp_hash leaf;
	ssp_receipt mine;
	if (r) memset(r, 0, sizeof *r);
	ssp_sha256(&leaf, receipt, n);
	if (!ssp_merkle_verify(&h->receipts_root, &leaf, pf)) return SSP_ERR_PROOF;
	int rc = ssp_receipt_decode(&mine, receipt, n);
	if (rc) return rc;
	if (memcmp(mine.txid.b, txid->b, 32)) {
		ssp_receipt_free(&mine);
		return SSP_ERR_PROOF; /* a genuine receipt of another tx of the block */
	}
	if (r)
		*r = mine;
	else
		ssp_receipt_free(&mine);
	return 0;
}

int ssp_agent_check_state_proof(const ssp_header *h, bool *present, const void *key, size_t klen,
                                const void *value, size_t vlen, const void *proof, size_t plen)
{
	ssp_hash vh, mine;
	int rc = ssp_sproof_verify(present, &vh, &h->state_root, key, klen, proof, plen);
	if (rc) return rc;
	if (!*present) return value ? SSP_ERR_PROOF : 0; /* a value the proof says is absent */
	if (!value) return SSP_ERR_PROOF;
	ssp_smt_value_hash(&mine, value, vlen);
	return memcmp(mine.b, vh.b, 32) ? SSP_ERR_PROOF : 0;
}

int ssp_agent_check_device(const ssp_header *h, int *status, ssp_device *dev,
                           const ssp_addr *device, const void *value, size_t vlen,
                           const void *proof, size_t plen)
{
	uint8_t key[1 + SSP_ADDR_LEN];
	bool present;
	*status = SSP_AGENT_DEVICE_UNKNOWN;
	if (dev) memset(dev, 0, sizeof *dev);
	key[0] = SSP_TB_DEVICE;
	memcpy(key + 1, device->b, SSP_ADDR_LEN);
	int rc =
	    ssp_agent_check_state_proof(h, &present, key, sizeof key, value, vlen, proof, plen);
	if (rc || !present) return rc;
	ssp_device d;
	/* proven bytes that do not decode: the chain holds them, so the reader is older than it */
	if (ssp_device_record_decode(&d, device->b, SSP_ADDR_LEN, value, vlen))
		return SSP_ERR_DECODE;
	*status = d.status;
	if (dev) *dev = d;
	return 0;
}
