/*
 * rpc_proof.c — the node's state-proof JSON-RPC methods (node layer):
 * state_getProof {table, key}, account_getProof {address} and
 * token_getBalanceProof {symbol, address}. Each answers from one LMDB read
 * txn: the value or its absence, the proof (ssp/stateproof.h) and the head
 * (height, block id, state_root) it verifies against. Proofs are served for
 * the head by default, for any height from the finalized one up to it with
 * "height" (or "final": true: the finalized height; rebuilt from the undo
 * records, ssp_chain_prove_at); below the finalized height is PRUNED.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "ssp/contract.h"
#include "ssp/device.h"
#include "ssp/dpos.h"
#include "ssp/stateproof.h"
#include "ssp/token.h"

static const struct {
	const char *name;
	uint8_t id;
} tables[] = {
    {"account", SSP_TB_ACCOUNT},
    {"lock", SSP_TB_LOCK},
    {"meta", SSP_TB_META},
    {"token", SSP_TB_TOKEN},
    {"token_balance", SSP_TB_TOKEN_BAL},
    {"token_allowance", SSP_TB_TOKEN_ALW},
    {"contract_code", SSP_TB_CONTRACT_CODE},
    {"contract_storage", SSP_TB_CONTRACT_STORE},
    {"contract_meta", SSP_TB_CONTRACT_META},
    {"device_manufacturer", SSP_TB_DEV_MFR},
    {"device_model", SSP_TB_DEV_MODEL},
    {"device", SSP_TB_DEVICE},
    {"device_serial", SSP_TB_DEV_SERIAL},
    {"dpos_delegate", SSP_TB_DPOS_DELEGATE},
    {"dpos_name", SSP_TB_DPOS_NAME},
    {"dpos_staker", SSP_TB_DPOS_STAKER},
    {"dpos_meta", SSP_TB_DPOS_META},
    {"dpos_acc", SSP_TB_DPOS_ACC},
    {"dpos_reward", SSP_TB_DPOS_REWARD},
    {"dpos_set", SSP_TB_DPOS_SET},
};

static json_t *jhex(const void *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (!s) return NULL;
	ssp_hex_encode(s, p, n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

/*
 * The optional "height" (a number) or "final": true (the finalized height);
 * neither: the head. *want gets the height or SSP_PROVE_HEAD/SSP_PROVE_FINAL.
 */
static int height_param(json_t *params, uint64_t *want, ssp_rpc_error *err)
{
	json_t *v = json_object_get(params, "height"), *f = json_object_get(params, "final");
	*want = SSP_PROVE_HEAD;
	if (f && !json_is_null(f) && !json_is_boolean(f))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "final must be a boolean");
	bool fin = json_is_true(f);
	if (v && !json_is_null(v)) {
		if (fin)
			return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
			                    "give height or final, not both");
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
			                    "height must be a non-negative integer");
		*want = (uint64_t)json_integer_value(v);
		if (*want >= SSP_PROVE_FINAL) *want = SSP_PROVE_FINAL - 1; /* beyond any head */
	} else if (fin) {
		*want = SSP_PROVE_FINAL;
	}
	return 0;
}

/* The RPC error for a height that cannot be served. */
static int height_fail(int rc, uint64_t want, const ssp_head *cur, ssp_rpc_error *err)
{
	if (rc == SSP_ERR_NOTFOUND)
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "no block at height %llu yet (head %llu)",
		                    (unsigned long long)want, (unsigned long long)cur->height);
	if (rc == SSP_ERR_BUSY)
		return ssp_rpc_fail(err, SSP_RPC_BUSY,
		                    "another past-height proof is being built: retry (or ask for the "
		                    "head)");
	if (rc == SSP_ERR_RANGE)
		return ssp_rpc_fail(err, SSP_RPC_LIMIT,
		                    "the blocks above height %llu wrote more than %d state keys: this "
		                    "node does not rebuild that state (ask for the head)",
		                    (unsigned long long)want, SSP_PROVE_PAST_KEYS);
	/* SSP_ERR_PRUNED */
	ssp_rpc_fail(err, SSP_RPC_PRUNED,
	             "state at height %llu is pruned: proofs are served from the finalized height "
	             "(%llu) to the head (%llu)",
	             (unsigned long long)want, (unsigned long long)cur->finalized,
	             (unsigned long long)cur->height);
	err->data = json_pack("{s:s, s:I, s:I}", "error", "PRUNED", "head", (json_int_t)cur->height,
	                      "finalized", (json_int_t)cur->finalized);
	return -1;
}

/*
 * Proves (table, key) at the head; *res gets the common fields, *val the
 * value (copied, caller frees; NULL when absent).
 */
static int prove(ssp_node *n, json_t *params, uint8_t table, const char *tname, const uint8_t *key,
                 size_t klen, json_t **res, uint8_t **val, size_t *vlen, ssp_rpc_error *err)
{
	ssp_txn *rt;
	ssp_head h, cur;
	ssp_buf proof;
	const void *v;
	uint64_t want;
	*val = NULL;
	if (height_param(params, &want, err)) return -1;
	ssp_buf_init(&proof, SSP_SPROOF_MAX_BYTES);
	int rc = ssp_store_read(n->store, &rt);
	if (rc) goto fail;
	rc = ssp_chain_read_head(n->chain, rt, &cur);
	if (!rc)
		rc = ssp_chain_prove_at(n->chain, rt, want, table, key, klen, &h, &v, vlen, &proof);
	if (!rc && v) {
		*val = malloc(*vlen ? *vlen : 1);
		if (*val)
			memcpy(*val, v, *vlen);
		else
			rc = SSP_ERR_NOMEM;
	}
	ssp_txn_end(rt);
	if (rc == SSP_ERR_NOTFOUND || rc == SSP_ERR_PRUNED || rc == SSP_ERR_BUSY ||
	    rc == SSP_ERR_RANGE) {
		ssp_buf_free(&proof);
		return height_fail(rc, want == SSP_PROVE_FINAL ? cur.finalized : want, &cur, err);
	}
	if (rc) goto fail;
	uint8_t fk[1 + SSP_STATE_KEY_MAX];
	ssp_hash id = h.id;
	fk[0] = table;
	memcpy(fk + 1, key, klen);
	*res = json_pack("{s:s, s:i, s:o, s:o, s:b, s:o, s:o, s:I, s:I, s:o, s:o}", "table", tname,
	                 "table_id", (int)table, "key", jhex(key, klen), "state_key",
	                 jhex(fk, klen + 1), "present", *val != NULL, "value",
	                 *val ? jhex(*val, *vlen) : json_null(), "proof", jhex(proof.data, proof.len),
	                 "proof_bytes", (json_int_t)proof.len, "height", (json_int_t)h.height,
	                 "block_id", jhex(id.b, 32), "state_root", jhex(h.state_root.b, 32));
	if (*res) {
		/* where the proof's block stands: final ones cannot be reverted */
		json_object_set_new(*res, "head", json_integer((json_int_t)cur.height));
		json_object_set_new(*res, "finalized_height", json_integer((json_int_t)cur.finalized));
		json_object_set_new(*res, "final", json_boolean(h.height <= cur.finalized));
	}
	ssp_buf_free(&proof);
	if (!*res) {
		free(*val);
		*val = NULL;
		return ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "out of memory");
	}
	return 0;
fail:
	ssp_buf_free(&proof);
	if (rc == SSP_ERR_DBCORRUPT) ssp_node_corrupt(n);
	if (rc == SSP_ERR_TOOBIG)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "key longer than %d bytes",
		                    SSP_STATE_KEY_MAX);
	return ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "internal error: %s", ssp_strerror(rc));
}

static int addr_param(ssp_node *n, json_t *params, const char *name, ssp_addr *a,
                      ssp_rpc_error *err)
{
	json_t *v = json_object_get(params, name);
	if (!json_is_string(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "%s must be a string", name);
	int rc = ssp_addr_decode(a, ssp_genesis_hrp(n->genesis), json_string_value(v));
	if (rc) return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "%s: %s", name, ssp_strerror(rc));
	return 0;
}

static int need_object(json_t *params, ssp_rpc_error *err)
{
	if (!json_is_object(params))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "params must be an object");
	return 0;
}

int ssp_node_m_state_getProof(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	uint8_t key[SSP_STATE_KEY_MAX], *val;
	size_t vlen, i;
	if (need_object(params, err)) return -1;
	json_t *t = json_object_get(params, "table"), *k = json_object_get(params, "key");
	const char *tname = NULL;
	uint8_t table = 0;
	for (i = 0; i < sizeof tables / sizeof *tables; i++)
		if ((json_is_string(t) && !strcmp(json_string_value(t), tables[i].name)) ||
		    (json_is_integer(t) && json_integer_value(t) == tables[i].id)) {
			tname = tables[i].name;
			table = tables[i].id;
			break;
		}
	if (!tname) {
		char names[512] = "";
		for (i = 0; i < sizeof tables / sizeof *tables; i++) {
			strcat(names, i ? ", " : "");
			strcat(names, tables[i].name);
		}
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "unknown table (known: %s)", names);
	}
	if (!json_is_string(k))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "key must be a hex string");
	size_t hl = json_string_length(k);
	if (hl % 2)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "key must be a hex string");
	if (hl / 2 > SSP_STATE_KEY_MAX)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "key longer than %d bytes",
		                    SSP_STATE_KEY_MAX);
	if (ssp_hex_decode(key, hl / 2, json_string_value(k), hl))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "key must be a hex string");
	if (prove(n, params, table, tname, key, hl / 2, res, &val, &vlen, err)) return -1;
	free(val);
	return 0;
}

int ssp_node_m_account_getProof(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_addr a;
	uint8_t *val;
	size_t vlen;
	if (need_object(params, err) || addr_param(n, params, "address", &a, err)) return -1;
	if (prove(n, params, SSP_TB_ACCOUNT, "account", a.b, SSP_ADDR_LEN, res, &val, &vlen, err))
		return -1;
	json_object_set(*res, "address", json_object_get(params, "address"));
	if (val) {
		ssp_account acc;
		char b[SSP_AMOUNT_STR], l[SSP_AMOUNT_STR];
		if (ssp_account_decode(&acc, val, vlen) == 0) {
			ssp_amount_format(b, sizeof b, acc.balance, SSP_DECIMALS);
			ssp_amount_format(l, sizeof l, acc.locked, SSP_DECIMALS);
			json_object_set_new(*res, "account",
			                    json_pack("{s:s, s:s, s:I}", "balance", b, "locked", l,
			                              "nonce", (json_int_t)acc.nonce));
		}
	}
	free(val);
	return 0;
}

int ssp_node_m_token_getBalanceProof(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	ssp_addr a;
	uint8_t key[SSP_TOKEN_SYMBOL_MAX + 1 + SSP_ADDR_LEN], *val;
	size_t vlen, kl;
	if (need_object(params, err)) return -1;
	json_t *s = json_object_get(params, "symbol");
	if (!json_is_string(s) || json_string_length(s) > SSP_TOKEN_SYMBOL_MAX ||
	    !ssp_token_symbol_valid(json_string_value(s)))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "symbol must be 2..12 of [A-Z0-9], starting with a letter");
	if (addr_param(n, params, "address", &a, err)) return -1;
	kl = ssp_token_balance_key(key, json_string_value(s), &a);
	if (prove(n, params, SSP_TB_TOKEN_BAL, "token_balance", key, kl, res, &val, &vlen, err))
		return -1;
	char units[24];
	snprintf(units, sizeof units, "%llu",
	         (unsigned long long)(val && vlen == 8 ? ssp_le64_get(val) : 0));
	json_object_set(*res, "symbol", s);
	json_object_set(*res, "address", json_object_get(params, "address"));
	json_object_set_new(*res, "balance_units", json_string(units));
	free(val);
	return 0;
}
