/*
 * proof_cmds.c — `ssp proof account ADDRESS` (application layer): fetches an
 * account's Merkle proof (account_getProof) and the header of the block it
 * is for (chain_getBlock), then checks the proof here with the core verifier
 * (ssp/stateproof.h) against that header's state_root — what a light client
 * does with a header it knows is final. The balance shown is decoded from
 * the proven value, not taken from the node's summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
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

int cli_cmd_proof_account(cli_ctx *c, const cli_args *a)
{
	char text[96], bal[SSP_AMOUNT_STR], lck[SSP_AMOUNT_STR];
	ssp_addr addr;
	json_t *res = NULL, *blk = NULL;
	uint8_t *proof = NULL, *val = NULL, *root = NULL, key[1 + SSP_ADDR_LEN];
	size_t plen = 0, vlen = 0, rlen = 0;
	ssp_account acc;
	int rc = cli_node_info(c, NULL);
	if (!rc) rc = cli_resolve_account(c, &addr, c->hrp, a->pos[0]);
	if (rc) return rc;
	ssp_addr_encode(text, sizeof text, c->hrp, &addr);
	rc = cli_rpc(c, "account_getProof", json_pack("{s:s}", "address", text), &res, NULL);
	if (rc) return rc;
	json_t *height = json_object_get(res, "height");
	bool present = json_is_true(json_object_get(res, "present"));
	if (!json_is_integer(height) || !(proof = hex_field(res, "proof", &plen, SSP_SPROOF_MAX_BYTES)) ||
	    (present && !(val = hex_field(res, "value", &vlen, SSP_STATE_VAL_MAX)))) {
		rc = cli_fail("the node's proof reply is malformed");
		goto out;
	}
	/* the root comes from the block header, not from the proof reply */
	rc = cli_rpc(c, "chain_getBlock", json_pack("{s:O}", "height", height), &blk, NULL);
	if (rc) goto out;
	if (!(root = hex_field(blk, "state_root", &rlen, 32)) || rlen != 32) {
		rc = cli_fail("the node's block reply is malformed");
		goto out;
	}
	key[0] = SSP_TB_ACCOUNT;
	memcpy(key + 1, addr.b, SSP_ADDR_LEN);
	if (ssp_sproof_check((const ssp_hash *)root, key, sizeof key, present ? val : NULL, vlen,
	                     proof, plen)) {
		rc = cli_fail("the proof for %s does not verify against the state root of block %lld",
		              text, (long long)json_integer_value(height));
		goto out;
	}
	memset(&acc, 0, sizeof acc);
	if (present && ssp_account_decode(&acc, val, vlen)) {
		rc = cli_fail("the proven value is not an account");
		goto out;
	}
	ssp_amount_format(bal, sizeof bal, acc.balance, SSP_DECIMALS);
	ssp_amount_format(lck, sizeof lck, acc.locked, SSP_DECIMALS);
	if (c->json) {
		json_object_set_new(res, "verified", json_true());
		json_object_set_new(res, "header_state_root", json_incref(json_object_get(blk, "state_root")));
		cli_print_json(res);
	} else {
		cli_table t = {0};
		cli_table_add(&t, "address", "%s", text);
		cli_table_add(&t, "present", "%s", present ? "yes" : "no (proof of absence)");
		if (present) {
			cli_table_add(&t, "balance", "%s SSP", bal);
			cli_table_add(&t, "locked", "%s SSP", lck);
			cli_table_add(&t, "nonce", "%llu", (unsigned long long)acc.nonce);
		}
		cli_table_add(&t, "height", "%lld", (long long)json_integer_value(height));
		cli_table_add(&t, "state_root", "%s", json_string_value(json_object_get(blk, "state_root")));
		cli_table_add(&t, "proof", "%zu bytes", plen);
		cli_table_add(&t, "verified", "yes (checked here against the block header)");
		cli_table_print(&t);
	}
	rc = CLI_OK;
out:
	free(proof);
	free(val);
	free(root);
	json_decref(res);
	json_decref(blk);
	return rc;
}
