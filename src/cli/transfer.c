/*
 * transfer.c — `ssp transfer` (application layer): unlock the sender's key
 * (before talking to the node, so a wrong password costs nothing), ask the
 * node for chain parameters and the sender's next nonce, build, price, sign
 * and submit an SSP_TX_TRANSFER, and optionally wait until it is in a block.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "ssp/chain.h"

#define DEFAULT_EXPIRY_BLOCKS 600
#define POLL_MS 200

/* What the user asked for, validated before anything else happens. */
typedef struct {
	const char *from;
	const char *to;
	uint64_t amount;
	bool fee_given;
	uint64_t fee;
	const char *memo;
	size_t memo_len;
	uint64_t expiry_blocks;
	bool wait;
} transfer_req;

/* What the node tells us. */
typedef struct {
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	uint64_t height, min_fee, fee_per_byte;
	uint64_t nonce;
	bool include_pubkey;
} chain_view;

static int parse_request(transfer_req *r, const cli_args *a)
{
	const char *amount = cli_opt(a, "amount");
	const char *fee = cli_opt(a, "fee");
	const char *expiry = cli_opt(a, "expiry-blocks");

	memset(r, 0, sizeof(*r));
	r->from = cli_opt(a, "from");
	r->to = cli_opt(a, "to");
	r->memo = cli_opt(a, "memo");
	r->wait = cli_opt(a, "wait") != NULL;
	if (!r->from) return cli_usage("transfer: --from NAME is required");
	if (!r->to) return cli_usage("transfer: --to ADDRESS|NAME is required");
	if (!amount) return cli_usage("transfer: --amount is required");
	if (ssp_amount_parse(&r->amount, amount, SSP_DECIMALS) != 0)
		return cli_usage("transfer: invalid --amount '%s' (a decimal with up to %d "
		                 "fraction digits, like 12.5)",
		                 amount, SSP_DECIMALS);
	if (r->amount == 0) return cli_usage("transfer: --amount must be greater than zero");
	if (fee) {
		if (ssp_amount_parse(&r->fee, fee, SSP_DECIMALS) != 0)
			return cli_usage("transfer: invalid --fee '%s'", fee);
		r->fee_given = true;
	}
	if (r->memo) {
		r->memo_len = strlen(r->memo);
		if (r->memo_len > SSP_MEMO_MAX)
			return cli_usage("transfer: --memo is %zu bytes, at most %d are allowed",
			                 r->memo_len, SSP_MEMO_MAX);
		if (!cli_utf8_valid((const uint8_t *)r->memo, r->memo_len))
			return cli_usage("transfer: --memo is not valid UTF-8");
	}
	r->expiry_blocks = DEFAULT_EXPIRY_BLOCKS;
	if (expiry && (cli_parse_u64(&r->expiry_blocks, expiry) != 0 || r->expiry_blocks == 0 ||
	               r->expiry_blocks > UINT32_MAX))
		return cli_usage("transfer: invalid --expiry-blocks '%s' (a positive block count)",
		                 expiry);
	if (!cli_name_valid(r->from))
		return cli_usage("transfer: invalid key name '%s' for --from", r->from);
	return CLI_OK;
}

/* chain_getInfo: chain id, head height and fee schedule. */
static int read_chain(cli_ctx *c, chain_view *v)
{
	json_t *info = NULL;
	const char *cid;
	int rc = cli_node_info(c, &info);
	if (rc) return rc;
	cid = json_string_value(json_object_get(info, "chain_id"));
	if (!cid || !*cid || strlen(cid) > SSP_CHAIN_ID_MAX) {
		rc = cli_fail("chain_getInfo: the node returned no valid \"chain_id\"");
		goto out;
	}
	snprintf(v->chain_id, sizeof(v->chain_id), "%s", cid);
	if ((rc = cli_json_u64(&v->height, info, "height", "chain_getInfo")) ||
	    (rc = cli_json_amount(&v->min_fee, info, "min_fee", "chain_getInfo")) ||
	    (rc = cli_json_amount(&v->fee_per_byte, info, "fee_per_byte", "chain_getInfo")))
		goto out;
out:
	json_decref(info);
	return rc;
}

/* account_get on the sender: next nonce (mempool included) and whether its key is on chain. */
static int read_sender(cli_ctx *c, chain_view *v, const char *from_text, const ssp_pubkey *pk)
{
	json_t *acct = NULL, *key;
	char hex[2 * SSP_PUBKEY_MAX + 1];
	int rc = cli_rpc(c, "account_get", json_pack("{s:s}", "address", from_text), &acct, NULL);
	if (rc) return rc;
	rc = cli_json_u64(&v->nonce, acct, "pending_nonce", "account_get");
	if (rc) goto out;
	key = json_object_get(acct, "pubkey");
	v->include_pubkey = key == NULL || json_is_null(key);
	if (!v->include_pubkey) {
		ssp_hex_encode(hex, pk->b, pk->len);
		if (!json_is_string(key) || strcasecmp(json_string_value(key), hex) != 0)
			rc = cli_fail("account_get: the node reports another public key for %s",
			              from_text);
	}
out:
	json_decref(acct);
	return rc;
}

/*
 * Signs twice: once with fee 0 to learn the encoded length (which does not
 * depend on the fee's value), then with the fee that length requires.
 */
static int sign_tx(uint8_t **tx, size_t *txlen, ssp_hash *txid, ssp_tx_build *b,
                   const chain_view *v, const transfer_req *r, const ssp_seckey *sk)
{
	size_t probe_len;
	uint64_t per_byte;
	int rc;

	*tx = NULL;
	b->fee = 0;
	rc = ssp_tx_sign(tx, &probe_len, txid, b, sk);
	if (rc) return cli_fail("cannot sign the transaction: %s", ssp_strerror(rc));
	free(*tx);
	*tx = NULL;
	if (r->fee_given) {
		b->fee = r->fee;
	} else if (ssp_mul_u64(&per_byte, v->fee_per_byte, probe_len) ||
	           ssp_add_u64(&b->fee, v->min_fee, per_byte)) {
		return cli_fail("the node's fee schedule overflows");
	}
	rc = ssp_tx_sign(tx, txlen, txid, b, sk);
	if (rc) return cli_fail("cannot sign the transaction: %s", ssp_strerror(rc));
	if (*txlen != probe_len) {
		free(*tx);
		*tx = NULL;
		return cli_fail("internal error: the transaction length changed with its fee");
	}
	return CLI_OK;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0) {
	}
}

/*
 * Polls tx_get until the tx is in a block (0, *final = the tx_get result),
 * rejected, failed in execution, or the deadline passes (CLI_FAIL).
 */
static int wait_included(cli_ctx *c, json_t **final, const char *txid)
{
	uint64_t deadline = ssp_mono_ns() + c->timeout_s * 1000000000ULL;
	char last[64] = "unknown";
	*final = NULL;
	for (;;) {
		ssp_rpc_error err;
		json_t *res = NULL;
		int rc = cli_rpc_quiet(c, "tx_get", json_pack("{s:s}", "txid", txid), &res, &err);
		if (rc == 0) {
			const char *st = json_string_value(json_object_get(res, "status"));
			snprintf(last, sizeof(last), "%s", st ? st : "?");
			if (st && (!strcmp(st, "included") || !strcmp(st, "finalized"))) {
				*final = res;
				return CLI_OK;
			}
			if (st && !strcmp(st, "rejected")) {
				const char *why = json_string_value(json_object_get(res, "reason"));
				const char *name = json_string_value(json_object_get(res, "error"));
				rc = cli_fail("transaction %s rejected: %s%s%s%s", txid,
				              why ? why : "no reason given", name ? " (" : "",
				              name ? name : "", name ? ")" : "");
				json_decref(res);
				return rc;
			}
			json_decref(res);
		} else if (rc == SSP_ERR_RPC && err.code != SSP_RPC_NOT_FOUND &&
		           err.code != SSP_RPC_BUSY) {
			rc = cli_fail("tx_get: %s (code %d)", err.message, err.code);
			json_decref(err.data);
			return rc;
		} else {
			/* Not yet known, or the node is briefly unreachable: keep polling. */
			snprintf(last, sizeof(last), "%s",
			         rc == SSP_ERR_RPC ? "not found" : ssp_strerror(rc));
			json_decref(err.data);
		}
		uint64_t now = ssp_mono_ns();
		if (now >= deadline)
			return cli_fail(
			    "transaction %s not in a block after %llu s (last status: %s)", txid,
			    (unsigned long long)c->timeout_s, last);
		uint64_t left_ms = (deadline - now) / 1000000u;
		sleep_ms(left_ms < POLL_MS ? left_ms + 1 : POLL_MS);
	}
}

/* Height of an included tx; a failed receipt is an error. */
static int check_included(const json_t *res, const char *txid, uint64_t *height)
{
	const json_t *block = json_object_get(res, "block");
	const json_t *rcpt = json_object_get(res, "receipt");
	const char *rst = json_string_value(json_object_get(rcpt, "status"));
	int rc = cli_json_u64(height, block, "height", "tx_get");
	if (rc) return rc;
	if (rst && strcmp(rst, "ok") != 0) {
		const char *why = json_string_value(json_object_get(rcpt, "error"));
		return cli_fail("transaction %s is in block %llu but failed: %s", txid,
		                (unsigned long long)*height, why ? why : rst);
	}
	return CLI_OK;
}

static void print_result(cli_ctx *c, json_t *out)
{
	if (c->json) {
		cli_print_json(out);
		return;
	}
	cli_table t = {0};
	const char *key;
	json_t *v;
	json_object_foreach(out, key, v)
	{
		if (json_is_string(v))
			cli_table_add(&t, key, "%s%s", json_string_value(v),
			              !strcmp(key, "amount") || !strcmp(key, "fee") ? " SSP" : "");
		else if (json_is_integer(v))
			cli_table_add(&t, key, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	}
	cli_table_print(&t);
}

int cli_cmd_transfer(cli_ctx *c, const cli_args *a)
{
	transfer_req r;
	chain_view v;
	ssp_seckey sk = {0};
	ssp_pubkey pk;
	ssp_addr from, to;
	ssp_transfer t;
	ssp_buf payload;
	ssp_tx_build b;
	ssp_hash txid;
	uint8_t *tx = NULL;
	size_t txlen = 0;
	char *hex = NULL;
	json_t *res = NULL, *final = NULL, *out = NULL;
	char from_text[96], to_text[96], txid_hex[65], amount[SSP_AMOUNT_STR], fee[SSP_AMOUNT_STR];
	const char *got;
	int rc;

	memset(&v, 0, sizeof(v));
	ssp_buf_init(&payload, SSP_TX_PAYLOAD_MAX);
	rc = parse_request(&r, a);
	if (rc) goto out;
	/* The key first: a wrong password must fail before the node is asked anything. */
	rc = cli_key_unlock(c, &sk, &pk, r.from);
	if (rc) goto out;
	rc = read_chain(c, &v);
	if (rc) goto out;
	rc = cli_resolve_account(c, &to, c->hrp, r.to);
	if (rc) goto out;
	ssp_addr_from_pubkey(&from, &pk);
	ssp_addr_encode(from_text, sizeof(from_text), c->hrp, &from);
	ssp_addr_encode(to_text, sizeof(to_text), c->hrp, &to);
	rc = read_sender(c, &v, from_text, &pk);
	if (rc) goto out;

	t = (ssp_transfer){.to = to,
	                   .amount = r.amount,
	                   .memo = (const uint8_t *)r.memo,
	                   .memo_len = (uint32_t)r.memo_len};
	ssp_transfer_encode(&payload, &t);
	if (payload.err) {
		rc = cli_fail("cannot encode the transfer: %s", ssp_strerror(payload.err));
		goto out;
	}
	b = (ssp_tx_build){.chain_id = v.chain_id,
	                   .type = SSP_TX_TRANSFER,
	                   .nonce = v.nonce,
	                   .payload = payload.data,
	                   .payload_len = payload.len,
	                   .include_pubkey = v.include_pubkey};
	if (ssp_add_u64(&b.expiry, v.height, r.expiry_blocks)) {
		rc = cli_fail("--expiry-blocks overflows the chain height");
		goto out;
	}
	rc = sign_tx(&tx, &txlen, &txid, &b, &v, &r, &sk);
	ssp_seckey_wipe(&sk); /* not needed past this point */
	if (rc) goto out;

	hex = malloc(2 * txlen + 1);
	if (!hex) cli_oom();
	ssp_hex_encode(hex, tx, txlen);
	ssp_hex_encode(txid_hex, txid.b, sizeof(txid.b));
	rc = cli_rpc(c, "tx_submit", json_pack("{s:s}", "tx", hex), &res, NULL);
	if (rc) goto out;
	got = json_string_value(json_object_get(res, "txid"));
	if (!got || strcasecmp(got, txid_hex) != 0) {
		rc =
		    cli_fail("tx_submit: the node acknowledged txid %s, but this transaction is %s",
		             got ? got : "(none)", txid_hex);
		goto out;
	}

	ssp_amount_format(amount, sizeof(amount), r.amount, SSP_DECIMALS);
	ssp_amount_format(fee, sizeof(fee), b.fee, SSP_DECIMALS);
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "txid", txid_hex, "from", from_text,
	                "to", to_text, "amount", amount, "fee", fee, "nonce", (json_int_t)b.nonce,
	                "expiry", (json_int_t)b.expiry);
	if (!out) cli_oom();
	if (r.wait) {
		uint64_t height;
		rc = wait_included(c, &final, txid_hex);
		if (rc) goto out;
		rc = check_included(final, txid_hex, &height);
		if (rc) goto out;
		if (json_object_set(out, "status", json_object_get(final, "status")) ||
		    json_object_set_new(out, "height", json_integer((json_int_t)height)))
			cli_oom();
		if (c->json && json_object_get(final, "block") &&
		    json_object_set(out, "block", json_object_get(final, "block")))
			cli_oom();
	}
	print_result(c, out);
out:
	ssp_seckey_wipe(&sk);
	ssp_buf_free(&payload);
	free(tx);
	free(hex);
	json_decref(res);
	json_decref(final);
	json_decref(out);
	return rc;
}
