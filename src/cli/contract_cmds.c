/*
 * contract_cmds.c — `ssp contract …` (application layer): deploy a Lua
 * contract, call its functions, run a view function without a tx, list its
 * events and show its code. Deploy and call sign through the shared
 * signing path (txsend.c) with a fee of base + gas × gas_price; --wait
 * polls tx_get and prints the receipt (status, gas, fee paid, return value
 * or error message, events), failing with the contract's message when the
 * receipt says failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "ssp/proto_contract.h"

#define DEFAULT_GAS 1000000ULL

/* ------------------------------------------------------------- helpers */

/* --args: a JSON array, encoded as the canonical argument table. */
static int parse_args(ssp_buf *out, const char *text, const char *cmd)
{
	json_error_t je;
	json_t *j;
	int rc;
	if (!text) text = "[]";
	j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!j) return cli_usage("%s: --args is not JSON: %s", cmd, je.text);
	if (!json_is_array(j)) {
		json_decref(j);
		return cli_usage("%s: --args must be a JSON array, like '[\"alice\", 5]'", cmd);
	}
	rc = ssp_val_from_json(out, j);
	json_decref(j);
	if (rc || out->err)
		return cli_usage(
		    "%s: --args: %s (integers, strings, booleans, null, arrays and objects; "
		    "no floats)",
		    cmd, ssp_strerror(rc ? rc : out->err));
	return CLI_OK;
}

static int parse_gas(uint64_t *gas, const char *text, const char *cmd)
{
	*gas = DEFAULT_GAS;
	if (text && (cli_parse_u64(gas, text) != 0 || *gas == 0 || *gas > SSP_CONTRACT_GAS_MAX))
		return cli_usage("%s: invalid --gas '%s' (1 to %llu)", cmd, text,
		                 (unsigned long long)SSP_CONTRACT_GAS_MAX);
	return CLI_OK;
}

static int parse_fn(const char *fn, const char *cmd)
{
	size_t n = strlen(fn);
	bool ok = n > 0 && n <= SSP_VM_NAME_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = fn[i];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
		     (i > 0 && ch >= '0' && ch <= '9');
	}
	return ok ? CLI_OK
	          : cli_usage("%s: '%s' is not a function name (a Lua identifier of 1 to %d "
	                      "characters)",
	                      cmd, fn, SSP_VM_NAME_MAX);
}

/* The node's gas price (chain_getInfo). */
static int read_gas_price(cli_ctx *c, uint64_t *price)
{
	json_t *info = NULL;
	int rc = cli_rpc(c, "chain_getInfo", NULL, &info, NULL);
	if (!rc) rc = cli_json_amount(price, info, "gas_price", "chain_getInfo");
	json_decref(info);
	return rc;
}

/*
 * The fee of this tx unless --fee was given: the encoded length does not
 * depend on the fee's value, so sign once with fee 0 to learn it, then
 * price base + gas × gas_price.
 */
static int price_tx(cli_ctx *c, cli_txopts *o, const cli_txsession *s, uint16_t type,
                    const ssp_buf *payload, uint64_t gas)
{
	ssp_params p = {.min_fee = s->min_fee, .fee_per_byte = s->fee_per_byte};
	ssp_tx_build b = {.chain_id = s->chain_id,
	                  .type = type,
	                  .nonce = s->nonce,
	                  .payload = payload->data,
	                  .payload_len = payload->len,
	                  .include_pubkey = s->include_pubkey};
	uint8_t *tx = NULL;
	size_t len;
	ssp_hash id;
	int rc;
	if (o->fee_given) return CLI_OK;
	if ((rc = read_gas_price(c, &p.gas_price))) return rc;
	if (ssp_add_u64(&b.expiry, s->height, o->expiry_blocks))
		return cli_fail("--expiry-blocks overflows the chain height");
	rc = ssp_tx_sign(&tx, &len, &id, &b, &s->sk);
	free(tx);
	if (rc) return cli_fail("cannot sign the transaction: %s", ssp_strerror(rc));
	if (ssp_contract_min_fee(&p, len, gas, &o->fee))
		return cli_fail("the node's fee schedule overflows");
	o->fee_given = true;
	return CLI_OK;
}

/*
 * Adds the receipt of an included tx to out (status, height, gas_used,
 * fee_paid, return or message, events). Returns CLI_FAIL with the
 * contract's message when the receipt failed (out is still complete).
 */
static int add_receipt(json_t *out, const json_t *got, const char *txid)
{
	const json_t *rcpt = json_object_get(got, "receipt");
	const char *st = json_string_value(json_object_get(rcpt, "status"));
	json_t *h = json_object_get(json_object_get(got, "block"), "height");
	const char *keys[] = {"gas_used", "fee_paid", "error", "message", "return", "events"};
	if (json_object_set_new(out, "status",
	                        json_string(st && !strcmp(st, "ok") ? "ok" : "failed")) ||
	    (h && json_object_set(out, "height", h)))
		cli_oom();
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		json_t *v = json_object_get(rcpt, keys[i]);
		if (v && json_object_set(out, keys[i], v)) cli_oom();
	}
	if (st && !strcmp(st, "ok")) return CLI_OK;
	const char *msg = json_string_value(json_object_get(rcpt, "message"));
	const char *name = json_string_value(json_object_get(rcpt, "error"));
	return cli_fail("transaction %s failed%s%s%s%s%s", txid, msg ? ": " : "", msg ? msg : "",
	                name ? " (" : "", name ? name : "", name ? ")" : "");
}

/* Human output: scalars as rows; return and events as JSON text. */
static void print_out(cli_ctx *c, const json_t *out)
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
		bool amount =
		    !strcmp(key, "fee") || !strcmp(key, "fee_paid") || !strcmp(key, "value");
		if (json_is_string(v) && strcmp(key, "return") != 0)
			cli_table_add(&t, key, "%s%s", json_string_value(v), amount ? " SSP" : "");
		else if (json_is_integer(v) && strcmp(key, "return") != 0)
			cli_table_add(&t, key, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			if (!s) cli_oom();
			cli_table_add(&t, key, "%s", s);
			free(s);
		}
	}
	cli_table_print(&t);
}

/* Signs, submits and (with --wait) waits for one contract tx; prints the result. */
static int send_contract_tx(cli_ctx *c, cli_txsession *s, cli_txopts *o, uint16_t type,
                            const ssp_buf *payload, uint64_t gas, json_t *fields)
{
	json_t *out = NULL, *got = NULL;
	bool wait = o->wait;
	int rc = price_tx(c, o, s, type, payload, gas);
	if (rc) return rc;
	o->wait = false; /* waited for here, to show a failed receipt too */
	rc = cli_tx_send(c, s, o, type, payload->data, payload->len, fields, &out);
	if (rc) return rc;
	if (wait) {
		const char *txid = json_string_value(json_object_get(out, "txid"));
		rc = cli_tx_wait(c, &got, txid);
		if (!rc) rc = add_receipt(out, got, txid);
		if (got) print_out(c, out);
	} else {
		print_out(c, out);
	}
	json_decref(got);
	json_decref(out);
	return rc;
}

/* -------------------------------------------------------------- deploy */

static int check_source(const char *path, const char *src, size_t n)
{
	if (n == 0) return cli_fail("%s is empty", path);
	if ((unsigned char)src[0] == 0x1b)
		return cli_fail("%s is Lua bytecode: only source is accepted", path);
	if (n > SSP_VM_SOURCE_MAX)
		return cli_fail("%s is %zu bytes: a contract's source may be at most %d bytes",
		                path, n, SSP_VM_SOURCE_MAX);
	if (!ssp_utf8_valid(src, n, 0)) /* the node's rule: no NUL */
		return cli_fail("%s is not UTF-8 text", path);
	return CLI_OK;
}

int cli_cmd_contract_deploy(cli_ctx *c, const cli_args *a)
{
	const char *from = cli_opt(a, "from"), *path = a->pos[0];
	cli_txsession s;
	cli_txopts o;
	ssp_buf payload, args;
	char *src = NULL;
	size_t n = 0;
	uint64_t gas;
	bool began = false;
	int rc;

	ssp_buf_init(&payload, SSP_TX_PAYLOAD_MAX);
	ssp_buf_init(&args, SSP_CONTRACT_ARGS_MAX);
	if (!from) {
		rc = cli_usage("contract deploy: --from NAME is required");
		goto out;
	}
	if ((rc = parse_args(&args, cli_opt(a, "args"), "contract deploy")) ||
	    (rc = parse_gas(&gas, cli_opt(a, "gas"), "contract deploy")) ||
	    (rc = cli_txopts_parse(&o, a, "contract deploy")))
		goto out;
	if ((rc = cli_read_file(&src, &n, path, 4 * SSP_VM_SOURCE_MAX)) ||
	    (rc = check_source(path, src, n)))
		goto out;
	rc = cli_tx_begin(c, &s, from);
	began = true;
	if (rc) goto out;
	ssp_contract_deploy d = {.gas_limit = gas,
	                         .src = (const uint8_t *)src,
	                         .src_len = (uint32_t)n,
	                         .args = args.data,
	                         .args_len = (uint32_t)args.len};
	ssp_contract_deploy_encode(&payload, &d);
	if (payload.err) {
		rc = cli_fail("cannot encode the deploy: %s", ssp_strerror(payload.err));
		goto out;
	}
	ssp_addr caddr;
	char ctext[96];
	ssp_contract_address(&caddr, &s.from, s.nonce);
	ssp_addr_encode(ctext, sizeof ctext, c->hrp, &caddr);
	json_t *fields = json_pack("{s:s, s:I}", "contract", ctext, "gas_limit", (json_int_t)gas);
	if (!fields) cli_oom();
	rc = send_contract_tx(c, &s, &o, SSP_TX_CONTRACT_DEPLOY, &payload, gas, fields);
	json_decref(fields);
out:
	if (began) cli_tx_end(&s);
	free(src);
	ssp_buf_free(&payload);
	ssp_buf_free(&args);
	return rc;
}

/* ---------------------------------------------------------------- call */

int cli_cmd_contract_call(cli_ctx *c, const cli_args *a)
{
	const char *from = cli_opt(a, "from"), *value = cli_opt(a, "value");
	cli_txsession s;
	cli_txopts o;
	ssp_contract_call k;
	ssp_buf payload, args;
	uint64_t gas;
	bool began = false;
	int rc;

	memset(&k, 0, sizeof k);
	ssp_buf_init(&payload, SSP_TX_PAYLOAD_MAX);
	ssp_buf_init(&args, SSP_CONTRACT_ARGS_MAX);
	if (!from) {
		rc = cli_usage("contract call: --from NAME is required");
		goto out;
	}
	if ((rc = parse_fn(a->pos[1], "contract call")) ||
	    (rc = parse_args(&args, cli_opt(a, "args"), "contract call")) ||
	    (rc = parse_gas(&gas, cli_opt(a, "gas"), "contract call")) ||
	    (rc = cli_txopts_parse(&o, a, "contract call")))
		goto out;
	if (value && ssp_amount_parse(&k.value, value, SSP_DECIMALS) != 0) {
		rc = cli_usage("contract call: invalid --value '%s' (SSP, like 1.5)", value);
		goto out;
	}
	rc = cli_tx_begin(c, &s, from);
	began = true;
	if (rc) goto out;
	if ((rc = cli_resolve_account(c, &k.contract, c->hrp, a->pos[0]))) goto out;
	snprintf(k.fn, sizeof k.fn, "%s", a->pos[1]);
	k.args = args.data;
	k.args_len = (uint32_t)args.len;
	k.gas_limit = gas;
	ssp_contract_call_encode(&payload, &k);
	if (payload.err) {
		rc = cli_fail("cannot encode the call: %s", ssp_strerror(payload.err));
		goto out;
	}
	char ctext[96], vtext[SSP_AMOUNT_STR];
	ssp_addr_encode(ctext, sizeof ctext, c->hrp, &k.contract);
	ssp_amount_format(vtext, sizeof vtext, k.value, SSP_DECIMALS);
	json_t *fields = json_pack("{s:s, s:s, s:s, s:I}", "contract", ctext, "function", k.fn,
	                           "value", vtext, "gas_limit", (json_int_t)gas);
	if (!fields) cli_oom();
	rc = send_contract_tx(c, &s, &o, SSP_TX_CONTRACT_CALL, &payload, gas, fields);
	json_decref(fields);
out:
	if (began) cli_tx_end(&s);
	ssp_buf_free(&payload);
	ssp_buf_free(&args);
	return rc;
}

/* --------------------------------------------------------------- reads */

/* ADDRESS|NAME as the node's address text (asks the node for its HRP). */
static int address_text(cli_ctx *c, char *out, size_t cap, const char *text)
{
	ssp_addr a;
	int rc = cli_node_info(c, NULL);
	if (!rc) rc = cli_resolve_account(c, &a, c->hrp, text);
	if (!rc) ssp_addr_encode(out, cap, c->hrp, &a);
	return rc;
}

int cli_cmd_contract_query(cli_ctx *c, const cli_args *a)
{
	const char *from = cli_opt(a, "from"), *argtext = cli_opt(a, "args");
	char addr[96], ftext[96];
	json_t *args, *params, *res = NULL;
	json_error_t je;
	int rc = parse_fn(a->pos[1], "contract query");
	if (rc) return rc;
	args = json_loads(argtext ? argtext : "[]", JSON_REJECT_DUPLICATES, &je);
	if (!args) return cli_usage("contract query: --args is not JSON: %s", je.text);
	if (!json_is_array(args)) {
		json_decref(args);
		return cli_usage("contract query: --args must be a JSON array");
	}
	if ((rc = address_text(c, addr, sizeof addr, a->pos[0])) ||
	    (from && (rc = address_text(c, ftext, sizeof ftext, from)))) {
		json_decref(args);
		return rc;
	}
	params = json_pack("{s:s, s:s, s:o}", "address", addr, "function", a->pos[1], "args", args);
	if (!params) cli_oom();
	if (from) json_object_set_new(params, "from", json_string(ftext));
	rc = cli_rpc(c, "contract_query", params, &res, NULL);
	if (rc) return rc;
	if (c->json) {
		cli_print_json(res);
	} else {
		char *s =
		    json_dumps(json_object_get(res, "return"), JSON_ENCODE_ANY | JSON_COMPACT);
		if (!s) cli_oom();
		puts(s);
		free(s);
	}
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_contract_events(cli_ctx *c, const cli_args *a)
{
	const char *name = cli_opt(a, "name"), *fh = cli_opt(a, "from-height"),
	           *th = cli_opt(a, "to-height"), *lim = cli_opt(a, "limit");
	char addr[96];
	uint64_t v;
	json_t *params, *res = NULL;
	int rc = address_text(c, addr, sizeof addr, a->pos[0]);
	if (rc) return rc;
	params = json_pack("{s:s}", "address", addr);
	if (!params) cli_oom();
	if (name) json_object_set_new(params, "name", json_string(name));
	const char *opt[3] = {fh, th, lim}, *key[3] = {"from_height", "to_height", "limit"};
	for (int i = 0; i < 3; i++) {
		if (!opt[i]) continue;
		if (cli_parse_u64(&v, opt[i]) || v > (uint64_t)INT64_MAX) {
			json_decref(params);
			return cli_usage("contract events: invalid --%s '%s'",
			                 i == 0   ? "from-height"
			                 : i == 1 ? "to-height"
			                          : "limit",
			                 opt[i]);
		}
		json_object_set_new(params, key[i], json_integer((json_int_t)v));
	}
	rc = cli_rpc(c, "contract_getEvents", params, &res, NULL);
	if (rc) return rc;
	if (c->json) {
		cli_print_json(res);
	} else {
		size_t i;
		json_t *ev;
		json_array_foreach(json_object_get(res, "events"), i, ev)
		{
			char *f = json_dumps(json_object_get(ev, "fields"),
			                     JSON_COMPACT | JSON_ENCODE_ANY);
			if (!f) cli_oom();
			printf("%" JSON_INTEGER_FORMAT " %s %s %s\n",
			       json_integer_value(json_object_get(ev, "height")),
			       json_string_value(json_object_get(ev, "txid")),
			       json_string_value(json_object_get(ev, "name")), f);
			free(f);
		}
		if (json_is_true(json_object_get(res, "truncated")))
			cli_warn("more events: continue with --from-height %" JSON_INTEGER_FORMAT,
			         json_integer_value(json_object_get(res, "next_height")));
	}
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_contract_code(cli_ctx *c, const cli_args *a)
{
	char addr[96];
	json_t *res = NULL;
	int rc = address_text(c, addr, sizeof addr, a->pos[0]);
	if (rc) return rc;
	rc = cli_rpc(c, "contract_getCode", json_pack("{s:s}", "address", addr), &res, NULL);
	if (rc) return rc;
	if (c->json) {
		cli_print_json(res);
	} else {
		cli_table t = {0};
		size_t i;
		json_t *fn;
		cli_table_add(&t, "address", "%s",
		              json_string_value(json_object_get(res, "address")));
		cli_table_add(&t, "code_hash", "%s",
		              json_string_value(json_object_get(res, "code_hash")));
		cli_table_add(&t, "creator", "%s",
		              json_string_value(json_object_get(res, "creator")));
		cli_table_add(&t, "height", "%" JSON_INTEGER_FORMAT,
		              json_integer_value(json_object_get(res, "height")));
		cli_table_add(&t, "balance", "%s SSP",
		              json_string_value(json_object_get(res, "balance")));
		json_array_foreach(json_object_get(res, "functions"), i, fn)
		{
			bool pay = json_is_true(json_object_get(fn, "payable"));
			bool view = json_is_true(json_object_get(fn, "view"));
			cli_table_add(&t, "function", "%s%s%s",
			              json_string_value(json_object_get(fn, "name")),
			              pay ? " (payable)" : "", view ? " (view)" : "");
		}
		cli_table_print(&t);
		printf("\n%s", json_string_value(json_object_get(res, "source")));
	}
	json_decref(res);
	return CLI_OK;
}
