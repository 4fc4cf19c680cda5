/*
 * proof_cmds.c — `ssp proof account ADDRESS`, `ssp proof token SYMBOL
 * ADDRESS` and `ssp proof device ADDRESS` (application layer): each fetches
 * a Merkle proof (account_getProof, token_getBalanceProof, state_getProof)
 * and the header of the block it is for (chain_getBlock), then checks the
 * proof here with the core verifier (ssp/stateproof.h) against that
 * header's state_root — what a light client does with a header it knows is
 * final. What is shown is decoded from the proven value, not taken from the
 * node's summary. --final (or --height N) asks for the proof at the
 * finalized height (or N) instead of the head.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ssp/proto_device.h"
#include "ssp/proto_token.h"
#include "ssp/stateproof.h"

/* Hex string field → malloc'd bytes (NULL on a malformed field). */
static uint8_t *hex_field(const json_t *o, const char *name, size_t *n, size_t max)
{
	const json_t *v = json_object_get(o, name);
	if (!json_is_string(v)) return NULL;
	size_t hl = json_string_length(v);
	if (hl % 2 || hl / 2 > max) return NULL;
	uint8_t *b = malloc(hl / 2 + 1);
	if (!b) cli_oom();
	if (ssp_hex_decode(b, hl / 2, json_string_value(v), hl)) {
		free(b);
		return NULL;
	}
	*n = hl / 2;
	return b;
}

/* A fetched and locally verified proof. */
typedef struct {
	json_t *res, *blk;
	uint8_t *val; /* the proven value (NULL: absent) */
	size_t vlen, plen;
	bool present;
	long long height;
} proven;

static void proven_free(proven *p)
{
	free(p->val);
	json_decref(p->res);
	json_decref(p->blk);
}

/*
 * Calls `method` with params (consumed; --final / --height added), then
 * checks the proof for state key key[0..klen) against the state_root of the
 * header of the block the reply names. `what` names the key in errors.
 */
static int fetch_proof(cli_ctx *c, const cli_args *a, const char *method, json_t *params,
                       const uint8_t *key, size_t klen, const char *what, proven *out)
{
	const char *hopt = cli_opt(a, "height");
	uint8_t *proof = NULL, *root = NULL;
	size_t rlen = 0;
	int rc;
	memset(out, 0, sizeof *out);
	if (!params) cli_oom();
	if (hopt && cli_opt(a, "final")) {
		json_decref(params);
		return cli_usage("proof: --final or --height, not both");
	}
	if (hopt) {
		uint64_t h;
		if (cli_parse_u64(&h, hopt) || h > INT64_MAX) {
			json_decref(params);
			return cli_usage("proof: --height is a block height");
		}
		json_object_set_new(params, "height", json_integer((json_int_t)h));
	}
	if (cli_opt(a, "final")) json_object_set_new(params, "final", json_true());
	rc = cli_rpc(c, method, params, &out->res, NULL);
	if (rc) return rc;
	json_t *height = json_object_get(out->res, "height");
	out->present = json_is_true(json_object_get(out->res, "present"));
	if (!json_is_integer(height) ||
	    !(proof = hex_field(out->res, "proof", &out->plen, SSP_SPROOF_MAX_BYTES)) ||
	    (out->present &&
	     !(out->val = hex_field(out->res, "value", &out->vlen, SSP_STATE_VAL_MAX)))) {
		rc = cli_fail("the node's proof reply is malformed");
		goto out;
	}
	out->height = (long long)json_integer_value(height);
	/* the root comes from the block header, not from the proof reply */
	rc = cli_rpc(c, "chain_getBlock", json_pack("{s:O}", "height", height), &out->blk, NULL);
	if (rc) goto out;
	if (!(root = hex_field(out->blk, "state_root", &rlen, 32)) || rlen != 32) {
		rc = cli_fail("the node's block reply is malformed");
		goto out;
	}
	if (ssp_sproof_check((const ssp_hash *)root, key, klen, out->val, out->vlen, proof,
	                     out->plen)) {
		rc = cli_fail(
		    "the proof for %s does not verify against the state root of block %lld", what,
		    out->height);
		goto out;
	}
	rc = CLI_OK;
out:
	free(proof);
	free(root);
	if (rc) proven_free(out);
	return rc;
}

/* Prints the reply with "verified" (--json), or the table rows plus the common ones. */
static int print_proven(cli_ctx *c, proven *p, cli_table *t)
{
	if (c->json) {
		json_object_set_new(p->res, "verified", json_true());
		json_object_set_new(p->res, "header_state_root",
		                    json_incref(json_object_get(p->blk, "state_root")));
		cli_print_json(p->res);
		return CLI_OK;
	}
	cli_table_add(t, "height", "%lld%s", p->height,
	              json_is_true(json_object_get(p->res, "final")) ? " (final)" : "");
	cli_table_add(t, "state_root", "%s",
	              json_string_value(json_object_get(p->blk, "state_root")));
	cli_table_add(t, "proof", "%zu bytes", p->plen);
	cli_table_add(t, "verified", "yes (checked here against the block header)");
	cli_table_print(t);
	return CLI_OK;
}

int cli_cmd_proof_account(cli_ctx *c, const cli_args *a)
{
	char text[96], bal[SSP_AMOUNT_STR], lck[SSP_AMOUNT_STR];
	ssp_addr addr;
	uint8_t key[1 + SSP_ADDR_LEN];
	ssp_account acc;
	proven p;
	int rc = cli_node_info(c, NULL);
	if (!rc) rc = cli_resolve_account(c, &addr, c->hrp, a->pos[0]);
	if (rc) return rc;
	ssp_addr_encode(text, sizeof text, c->hrp, &addr);
	key[0] = SSP_TB_ACCOUNT;
	memcpy(key + 1, addr.b, SSP_ADDR_LEN);
	rc = fetch_proof(c, a, "account_getProof", json_pack("{s:s}", "address", text), key,
	                 sizeof key, text, &p);
	if (rc) return rc;
	memset(&acc, 0, sizeof acc);
	if (p.present && ssp_account_decode(&acc, p.val, p.vlen)) {
		proven_free(&p);
		return cli_fail("the proven value is not an account");
	}
	ssp_amount_format(bal, sizeof bal, acc.balance, SSP_DECIMALS);
	ssp_amount_format(lck, sizeof lck, acc.locked, SSP_DECIMALS);
	cli_table t = {0};
	if (!c->json) {
		cli_table_add(&t, "address", "%s", text);
		cli_table_add(&t, "present", "%s", p.present ? "yes" : "no (proof of absence)");
		if (p.present) {
			cli_table_add(&t, "balance", "%s SSP", bal);
			cli_table_add(&t, "locked", "%s SSP", lck);
			cli_table_add(&t, "nonce", "%llu", (unsigned long long)acc.nonce);
			if (acc.restricted)
				cli_table_add(&t, "restricted", "yes (a module refuses its txs)");
		}
	}
	rc = print_proven(c, &p, &t);
	proven_free(&p);
	return rc;
}

int cli_cmd_proof_token(cli_ctx *c, const cli_args *a)
{
	char text[96];
	const char *symbol = a->pos[0];
	ssp_addr addr;
	uint8_t key[1 + SSP_TOKEN_SYMBOL_MAX + 1 + SSP_ADDR_LEN];
	proven p;
	if (strlen(symbol) > SSP_TOKEN_SYMBOL_MAX || !ssp_token_symbol_valid(symbol))
		return cli_usage(
		    "proof token: SYMBOL is 2..12 of [A-Z0-9], starting with a letter");
	int rc = cli_node_info(c, NULL);
	if (!rc) rc = cli_resolve_account(c, &addr, c->hrp, a->pos[1]);
	if (rc) return rc;
	ssp_addr_encode(text, sizeof text, c->hrp, &addr);
	key[0] = SSP_TB_TOKEN_BAL;
	size_t kl = 1 + ssp_token_balance_key(key + 1, symbol, &addr);
	rc = fetch_proof(c, a, "token_getBalanceProof",
	                 json_pack("{s:s, s:s}", "symbol", symbol, "address", text), key, kl, text,
	                 &p);
	if (rc) return rc;
	if (p.present && p.vlen != 8) {
		proven_free(&p);
		return cli_fail("the proven value is not a token balance");
	}
	uint64_t units = p.present ? ssp_le64_get(p.val) : 0;
	/* the decimals only format the figure; the proven value is the units */
	json_t *tok = NULL;
	char shown[SSP_AMOUNT_STR + SSP_TOKEN_SYMBOL_MAX + 16];
	snprintf(shown, sizeof shown, "%llu units", (unsigned long long)units);
	ssp_rpc_error e = {0};
	if (!cli_rpc_quiet(c, "token_get", json_pack("{s:s}", "symbol", symbol), &tok, &e)) {
		json_t *d = json_object_get(tok, "decimals");
		if (json_is_integer(d) && json_integer_value(d) >= 0 &&
		    json_integer_value(d) <= 18) {
			char f[SSP_AMOUNT_STR];
			ssp_amount_format(f, sizeof f, units, (unsigned)json_integer_value(d));
			snprintf(shown, sizeof shown, "%s %s", f, symbol);
		}
		json_decref(tok);
	}
	json_decref(e.data); /* an unknown token still has an (absent) balance to prove */
	cli_table t = {0};
	if (c->json) {
		char u[24];
		snprintf(u, sizeof u, "%llu", (unsigned long long)units);
		json_object_set_new(p.res, "proven_balance_units", json_string(u));
	} else {
		cli_table_add(&t, "token", "%s", symbol);
		cli_table_add(&t, "address", "%s", text);
		cli_table_add(&t, "present", "%s", p.present ? "yes" : "no (proof of absence: 0)");
		cli_table_add(&t, "balance", "%s", shown);
	}
	rc = print_proven(c, &p, &t);
	proven_free(&p);
	return rc;
}

int cli_cmd_proof_device(cli_ctx *c, const cli_args *a)
{
	char text[96], hex[2 * SSP_ADDR_LEN + 1];
	ssp_addr addr;
	uint8_t key[1 + SSP_ADDR_LEN];
	ssp_device d;
	proven p;
	int rc = cli_node_info(c, NULL);
	if (!rc) rc = cli_resolve_account(c, &addr, c->hrp, a->pos[0]);
	if (rc) return rc;
	ssp_addr_encode(text, sizeof text, c->hrp, &addr);
	ssp_hex_encode(hex, addr.b, SSP_ADDR_LEN);
	key[0] = SSP_TB_DEVICE;
	memcpy(key + 1, addr.b, SSP_ADDR_LEN);
	rc = fetch_proof(c, a, "state_getProof",
	                 json_pack("{s:s, s:s}", "table", "device", "key", hex), key, sizeof key,
	                 text, &p);
	if (rc) return rc;
	memset(&d, 0, sizeof d);
	if (p.present && ssp_device_record_decode(&d, addr.b, SSP_ADDR_LEN, p.val, p.vlen)) {
		proven_free(&p);
		return cli_fail("the proven value is not a device record");
	}
	static const char *const status[] = {"?", "active", "revoked", "untrusted"};
	const char *st = p.present && d.status <= 3 ? status[d.status] : "not registered";
	cli_table t = {0};
	if (c->json) {
		json_object_set_new(p.res, "device", json_string(text));
		json_object_set_new(p.res, "proven_status", json_string(st));
		if (p.present) {
			json_object_set_new(p.res, "manufacturer", json_string(d.mfr));
			json_object_set_new(p.res, "model", json_string(d.model));
			json_object_set_new(p.res, "serial", json_string(d.serial));
		}
	} else {
		cli_table_add(&t, "device", "%s", text);
		cli_table_add(&t, "status", "%s%s", st, p.present ? "" : " (proof of absence)");
		if (p.present) {
			char owner[96] = "none";
			if (d.owned) ssp_addr_encode(owner, sizeof owner, c->hrp, &d.owner);
			cli_table_add(&t, "manufacturer", "%s", d.mfr);
			cli_table_add(&t, "model", "%s", d.model);
			cli_table_add(&t, "serial", "%s", d.serial);
			cli_table_add(&t, "owner", "%s", owner);
			cli_table_add(&t, "attested_at", "%llu (counter %llu)",
			              (unsigned long long)d.attested_height,
			              (unsigned long long)d.counter);
		}
	}
	rc = print_proven(c, &p, &t);
	proven_free(&p);
	return rc;
}
