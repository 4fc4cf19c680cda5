/*
 * txsend.c — the signing path every `ssp` command that submits a
 * transaction shares (application layer): unlock the sender's key (before
 * talking to the node, so a wrong password costs nothing), ask the node
 * for chain parameters and the sender's next nonce, price the tx at
 * min_fee + fee_per_byte × size, sign, submit, and optionally wait until
 * it is in a block.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"

#define DEFAULT_EXPIRY_BLOCKS 600
#define POLL_MS 200

int cli_txopts_parse(cli_txopts *o, const cli_args *a, const char *cmd)
{
	const char *fee = cli_opt(a, "fee");
	const char *expiry = cli_opt(a, "expiry-blocks");
	memset(o, 0, sizeof(*o));
	o->wait = cli_opt(a, "wait") != NULL;
	if (fee) {
		if (ssp_amount_parse(&o->fee, fee, SSP_DECIMALS) != 0)
			return cli_usage("%s: invalid --fee '%s'", cmd, fee);
		o->fee_given = true;
	}
	o->expiry_blocks = DEFAULT_EXPIRY_BLOCKS;
	if (expiry && (cli_parse_u64(&o->expiry_blocks, expiry) != 0 || o->expiry_blocks == 0 ||
	               o->expiry_blocks > UINT32_MAX))
		return cli_usage("%s: invalid --expiry-blocks '%s' (a positive block count)", cmd,
		                 expiry);
	return CLI_OK;
}

/* chain_getInfo: chain id, head height and fee schedule. */
static int read_chain(cli_ctx *c, cli_txsession *s)
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
	snprintf(s->chain_id, sizeof(s->chain_id), "%s", cid);
	if ((rc = cli_json_u64(&s->height, info, "height", "chain_getInfo")) ||
	    (rc = cli_json_amount(&s->min_fee, info, "min_fee", "chain_getInfo")) ||
	    (rc = cli_json_amount(&s->fee_per_byte, info, "fee_per_byte", "chain_getInfo")))
		goto out;
out:
	json_decref(info);
	return rc;
}

/* account_get on the sender: next nonce (mempool included) and whether its key is on chain. */
static int read_sender(cli_ctx *c, cli_txsession *s)
{
	json_t *acct = NULL, *key;
	char hex[2 * SSP_PUBKEY_MAX + 1];
	int rc =
	    cli_rpc(c, "account_get", json_pack("{s:s}", "address", s->from_text), &acct, NULL);
	if (rc) return rc;
	rc = cli_json_u64(&s->nonce, acct, "pending_nonce", "account_get");
	if (rc) goto out;
	key = json_object_get(acct, "pubkey");
	s->include_pubkey = key == NULL || json_is_null(key);
	if (!s->include_pubkey) {
		ssp_hex_encode(hex, s->pk.b, s->pk.len);
		if (!json_is_string(key) || strcasecmp(json_string_value(key), hex) != 0)
			rc = cli_fail("account_get: the node reports another public key for %s",
			              s->from_text);
	}
out:
	json_decref(acct);
	return rc;
}

int cli_tx_begin(cli_ctx *c, cli_txsession *s, const char *from)
{
	int rc;
	memset(s, 0, sizeof(*s));
	if (!cli_name_valid(from)) return cli_usage("invalid key name '%s' for --from", from);
	/* The key first: a wrong password must fail before the node is asked anything. */
	rc = cli_key_unlock(c, &s->sk, &s->pk, from);
	if (rc) return rc;
	rc = read_chain(c, s);
	if (rc) return rc;
	ssp_addr_from_pubkey(&s->from, &s->pk);
	ssp_addr_encode(s->from_text, sizeof(s->from_text), c->hrp, &s->from);
	return read_sender(c, s);
}

void cli_tx_end(cli_txsession *s)
{
	ssp_seckey_wipe(&s->sk);
}

/*
 * Signs twice: once with fee 0 to learn the encoded length (which does not
 * depend on the fee's value), then with the fee that length requires.
 */
static int sign_tx(uint8_t **tx, size_t *txlen, ssp_hash *txid, ssp_tx_build *b,
                   const cli_txsession *s, const cli_txopts *o)
{
	size_t probe_len;
	uint64_t per_byte;
	int rc;

	*tx = NULL;
	b->fee = 0;
	rc = ssp_tx_sign(tx, &probe_len, txid, b, &s->sk);
	if (rc) return cli_fail("cannot sign the transaction: %s", ssp_strerror(rc));
	free(*tx);
	*tx = NULL;
	if (o->fee_given) {
		b->fee = o->fee;
	} else if (ssp_mul_u64(&per_byte, s->fee_per_byte, probe_len) ||
	           ssp_add_u64(&b->fee, s->min_fee, per_byte)) {
		return cli_fail("the node's fee schedule overflows");
	}
	rc = ssp_tx_sign(tx, txlen, txid, b, &s->sk);
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
 * Polls tx_get until the tx is in a block (CLI_OK, *final = the tx_get
 * result, whatever its receipt says), rejected, or the deadline passes
 * (CLI_FAIL with a one-line reason).
 */
int cli_tx_wait(cli_ctx *c, json_t **final, const char *txid)
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

int cli_tx_send(cli_ctx *c, cli_txsession *s, const cli_txopts *o, uint16_t type,
                const uint8_t *payload, size_t payload_len, const json_t *fields, json_t **result)
{
	ssp_tx_build b;
	ssp_hash txid;
	uint8_t *tx = NULL;
	size_t txlen = 0;
	char *hex = NULL;
	json_t *res = NULL, *final = NULL, *out = NULL;
	char txid_hex[65], fee[SSP_AMOUNT_STR];
	const char *got, *key;
	json_t *v;
	int rc;

	*result = NULL;
	b = (ssp_tx_build){.chain_id = s->chain_id,
	                   .type = type,
	                   .nonce = s->nonce,
	                   .payload = payload,
	                   .payload_len = payload_len,
	                   .include_pubkey = s->include_pubkey};
	if (ssp_add_u64(&b.expiry, s->height, o->expiry_blocks)) {
		rc = cli_fail("--expiry-blocks overflows the chain height");
		goto out;
	}
	rc = sign_tx(&tx, &txlen, &txid, &b, s, o);
	ssp_seckey_wipe(&s->sk); /* not needed past this point */
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

	ssp_amount_format(fee, sizeof(fee), b.fee, SSP_DECIMALS);
	out = json_pack("{s:s, s:s}", "txid", txid_hex, "from", s->from_text);
	if (!out) cli_oom();
	json_object_foreach((json_t *)fields, key, v)
	{
		if (json_object_set(out, key, v)) cli_oom();
	}
	if (json_object_set_new(out, "fee", json_string(fee)) ||
	    json_object_set_new(out, "nonce", json_integer((json_int_t)b.nonce)) ||
	    json_object_set_new(out, "expiry", json_integer((json_int_t)b.expiry)))
		cli_oom();
	if (o->wait) {
		uint64_t height;
		rc = cli_tx_wait(c, &final, txid_hex);
		if (rc) goto out;
		rc = check_included(final, txid_hex, &height);
		if (rc) goto out;
		if (json_object_set(out, "status", json_object_get(final, "status")) ||
		    json_object_set_new(out, "height", json_integer((json_int_t)height)))
			cli_oom();
		if (c->json && json_object_get(final, "block") &&
		    json_object_set(out, "block", json_object_get(final, "block")))
			cli_oom();
		json_t *events = json_object_get(json_object_get(final, "receipt"), "events");
		if (c->json && json_array_size(events) > 0 &&
		    json_object_set(out, "events", events))
			cli_oom();
	}
	*result = out;
	out = NULL;
out:
	ssp_seckey_wipe(&s->sk);
	free(tx);
	free(hex);
	json_decref(res);
	json_decref(final);
	json_decref(out);
	return rc;
}

void cli_print_tx(cli_ctx *c, const json_t *out, const char *const *amount_keys, const char *unit)
{
	if (c->json) {
		cli_print_json(out);
		return;
	}
	cli_table t = {0};
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)out, key, v)
	{
		const char *suffix = "";
		if (!strcmp(key, "fee") || !strcmp(key, "creation_fee")) suffix = " SSP";
		for (size_t i = 0; amount_keys && amount_keys[i]; i++)
			if (!strcmp(key, amount_keys[i])) suffix = unit;
		if (json_is_string(v))
			cli_table_add(&t, key, "%s%s", json_string_value(v), suffix);
		else if (json_is_integer(v))
			cli_table_add(&t, key, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_boolean(v))
			cli_table_add(&t, key, "%s", json_is_true(v) ? "yes" : "no");
	}
	cli_table_print(&t);
}
