/*
 * token_cmds.c — `ssp token …`, the IOT_Coin commands (application layer):
 * create, issue, transfer, burn, approve and transfer-from sign and submit
 * token transactions through the shared signing path (txsend.c); balance,
 * allowance, info and list read the node's token_* methods. Amounts are
 * given and shown in the token's own decimals, so every command that takes
 * one asks token_get first. Before signing, the request is checked against
 * the last block (issuer, flags, max supply, balance, allowance) so that a
 * transaction the chain would refuse fails here with a one-line reason.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ssp/proto_token.h"

#define LIST_LIMIT_MAX 100

/* What token_get says, parsed. */
typedef struct {
	char symbol[SSP_TOKEN_SYMBOL_MAX + 1];
	unsigned decimals;
	uint64_t max_supply, supply;
	ssp_addr issuer;
	bool burnable, mintable;
} token_view;

static int check_symbol(const char *cmd, const char *s)
{
	if (!s) return cli_usage("token %s: --symbol SYMBOL is required", cmd);
	if (!ssp_token_symbol_valid(s))
		return cli_usage("token %s: invalid symbol '%s' (2 to 12 characters A-Z and 0-9, "
		                 "starting with a letter)",
		                 cmd, s);
	return CLI_OK;
}

/* A decimal string field of a node result in the token's decimals. */
static int json_units(uint64_t *out, const json_t *obj, const char *key, unsigned decimals,
                      const char *method)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s || ssp_amount_parse(out, s, decimals) != 0)
		return cli_fail("%s: the node returned no valid \"%s\"", method, key);
	return CLI_OK;
}

/*
 * token_get: CLI_OK with *found saying whether the token exists (t and
 * *raw, which may be NULL, filled if so), or CLI_FAIL reported. Needs
 * c->hrp (cli_node_info) for the issuer.
 */
static int lookup_token(cli_ctx *c, const char *symbol, token_view *t, json_t **raw, bool *found)
{
	ssp_rpc_error err;
	json_t *res = NULL;
	const char *issuer;
	uint64_t dec;
	int rc = cli_rpc_quiet(c, "token_get", json_pack("{s:s}", "symbol", symbol), &res, &err);
	*found = false;
	if (rc) {
		if (rc == SSP_ERR_RPC && err.code == SSP_RPC_NOT_FOUND)
			rc = CLI_OK;
		else if (rc == SSP_ERR_RPC)
			rc = cli_fail("token_get: %s (code %d)", err.message, err.code);
		else if (rc == SSP_ERR_CONNECT)
			rc = cli_fail("cannot connect to the node (%s)",
			              err.message[0] ? err.message : c->rpc_url);
		else
			rc = cli_fail("token_get: %s",
			              err.message[0] ? err.message : ssp_strerror(rc));
		json_decref(err.data);
		return rc;
	}
	memset(t, 0, sizeof(*t));
	snprintf(t->symbol, sizeof(t->symbol), "%s", symbol);
	rc = cli_json_u64(&dec, res, "decimals", "token_get");
	if (!rc && dec > SSP_TOKEN_DECIMALS_MAX)
		rc = cli_fail("token_get: the node returned no valid \"decimals\"");
	if (!rc) t->decimals = (unsigned)dec;
	if (!rc) rc = json_units(&t->max_supply, res, "max_supply", t->decimals, "token_get");
	if (!rc) rc = json_units(&t->supply, res, "supply", t->decimals, "token_get");
	issuer = json_string_value(json_object_get(res, "issuer"));
	if (!rc && (!issuer || ssp_addr_decode(&t->issuer, c->hrp, issuer) != 0))
		rc = cli_fail("token_get: the node returned no valid \"issuer\"");
	t->burnable = json_is_true(json_object_get(res, "burnable"));
	t->mintable = json_is_true(json_object_get(res, "mintable"));
	if (!rc) *found = true;
	if (!rc && raw) {
		*raw = res;
		res = NULL;
	}
	json_decref(res);
	return rc;
}

/* token_get; an unknown token is a one-line error. */
static int fetch_token(cli_ctx *c, const char *symbol, token_view *t, json_t **raw)
{
	bool found;
	int rc = lookup_token(c, symbol, t, raw, &found);
	if (!rc && !found) rc = cli_fail("unknown token %s", symbol);
	return rc;
}

/* An amount in the token's decimals, 1..INT64_MAX base units (0 too with allow_zero). */
static int parse_amount(uint64_t *out, const char *cmd, const char *opt, const char *text,
                        const token_view *t, bool allow_zero)
{
	if (!text) return cli_usage("token %s: --%s is required", cmd, opt);
	if (ssp_amount_parse(out, text, t->decimals) != 0 || *out > INT64_MAX)
		return cli_usage("token %s: invalid --%s '%s' (%s has %u decimals)", cmd, opt, text,
		                 t->symbol, t->decimals);
	if (*out == 0 && !allow_zero)
		return cli_usage("token %s: --%s must be greater than zero", cmd, opt);
	return CLI_OK;
}

static void fmt_units(char *out, size_t cap, uint64_t v, const token_view *t)
{
	ssp_amount_format(out, cap, v, t->decimals);
}

/* A committed token amount (balance or allowance) of the node's method. */
static int read_units(cli_ctx *c, const char *method, json_t *params, const char *key,
                      const token_view *t, uint64_t *out)
{
	json_t *res = NULL;
	int rc = cli_rpc(c, method, params, &res, NULL);
	if (!rc) rc = json_units(out, res, key, t->decimals, method);
	json_decref(res);
	return rc;
}

static int read_balance(cli_ctx *c, const token_view *t, const ssp_addr *a, uint64_t *out)
{
	char text[96];
	ssp_addr_encode(text, sizeof(text), c->hrp, a);
	return read_units(c, "token_balance",
	                  json_pack("{s:s, s:s}", "symbol", t->symbol, "address", text), "balance",
	                  t, out);
}

static int check_balance(cli_ctx *c, const token_view *t, const ssp_addr *a, uint64_t need)
{
	uint64_t have;
	char text[96], h[SSP_AMOUNT_STR], n[SSP_AMOUNT_STR];
	int rc = read_balance(c, t, a, &have);
	if (rc || have >= need) return rc;
	ssp_addr_encode(text, sizeof(text), c->hrp, a);
	fmt_units(h, sizeof(h), have, t);
	fmt_units(n, sizeof(n), need, t);
	return cli_fail("insufficient %s balance: %s holds %s %s, needs %s", t->symbol, text, h,
	                t->symbol, n);
}

/* ------------------------------------------------------ signing commands */

/* The parts every signing token command shares. */
typedef struct {
	const char *cmd;
	cli_txopts opts;
	cli_txsession s;
	token_view t;
	ssp_token_payload p;
	json_t *fields;
	char unit[SSP_TOKEN_SYMBOL_MAX + 2];
} token_tx;

/* Validates --from/--symbol and the tx options, opens the session and reads the token. */
static int tx_begin(cli_ctx *c, token_tx *x, const cli_args *a, const char *cmd, bool need_token)
{
	const char *from = cli_opt(a, "from");
	const char *symbol = cli_opt(a, "symbol");
	int rc;
	memset(x, 0, sizeof(*x));
	x->cmd = cmd;
	if (!from) return cli_usage("token %s: --from NAME is required", cmd);
	if ((rc = check_symbol(cmd, symbol))) return rc;
	if (!cli_name_valid(from))
		return cli_usage("token %s: invalid key name '%s' for --from", cmd, from);
	if ((rc = cli_txopts_parse(&x->opts, a, cmd))) return rc;
	snprintf(x->p.symbol, sizeof(x->p.symbol), "%s", symbol);
	snprintf(x->unit, sizeof(x->unit), " %s", symbol);
	x->fields = json_pack("{s:s}", "symbol", symbol);
	if (!x->fields) cli_oom();
	if ((rc = cli_tx_begin(c, &x->s, from))) return rc;
	return need_token ? fetch_token(c, symbol, &x->t, NULL) : CLI_OK;
}

static void add_field(token_tx *x, const char *key, const char *value)
{
	if (json_object_set_new(x->fields, key, json_string(value))) cli_oom();
}

static void add_addr(cli_ctx *c, token_tx *x, const char *key, const ssp_addr *a)
{
	char text[96];
	ssp_addr_encode(text, sizeof(text), c->hrp, a);
	add_field(x, key, text);
}

static void add_amount(token_tx *x, const char *key, uint64_t v)
{
	char s[SSP_AMOUNT_STR];
	fmt_units(s, sizeof(s), v, &x->t);
	add_field(x, key, s);
}

/* Encodes the payload, signs, submits, prints. Always ends the session. */
static int tx_finish(cli_ctx *c, token_tx *x, uint16_t type, const char *const *amount_keys)
{
	static const char *const none[] = {NULL};
	ssp_buf b;
	json_t *out = NULL;
	int rc;
	ssp_buf_init(&b, SSP_TX_PAYLOAD_MAX);
	ssp_token_payload_encode(&b, type, &x->p);
	if (b.err) {
		rc = cli_fail("cannot encode the token transaction: %s", ssp_strerror(b.err));
		goto out;
	}
	rc = cli_tx_send(c, &x->s, &x->opts, type, b.data, b.len, x->fields, &out);
	if (!rc) cli_print_tx(c, out, amount_keys ? amount_keys : none, x->unit);
out:
	ssp_buf_free(&b);
	json_decref(out);
	return rc;
}

/* Ends a command: wipes the session, frees the fields. */
static int tx_end(token_tx *x, int rc)
{
	cli_tx_end(&x->s);
	json_decref(x->fields);
	x->fields = NULL;
	return rc;
}

static const char *const amount_only[] = {"amount", NULL};

int cli_cmd_token_create(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"max_supply", NULL};
	token_tx x;
	token_view want, other;
	const char *symbol = cli_opt(a, "symbol"), *name = cli_opt(a, "name");
	const char *dec = cli_opt(a, "decimals"), *max = cli_opt(a, "max-supply");
	uint64_t d = 0;
	bool exists;
	int rc;

	/* Everything local first: no password is asked for a request that cannot work. */
	if ((rc = check_symbol("create", symbol))) return rc;
	if (!name) return cli_usage("token create: --name TEXT is required");
	if (!ssp_token_name_valid(name, strlen(name)))
		return cli_usage("token create: --name must be 1 to %d bytes of UTF-8 without "
		                 "control characters",
		                 SSP_TOKEN_NAME_MAX);
	if (dec && (cli_parse_u64(&d, dec) != 0 || d > SSP_TOKEN_DECIMALS_MAX))
		return cli_usage("token create: invalid --decimals '%s' (0 to %d)", dec,
		                 SSP_TOKEN_DECIMALS_MAX);
	memset(&want, 0, sizeof(want));
	snprintf(want.symbol, sizeof(want.symbol), "%s", symbol);
	want.decimals = (unsigned)d;
	if ((rc = parse_amount(&want.max_supply, "create", "max-supply", max, &want, false)))
		return rc;

	if ((rc = tx_begin(c, &x, a, "create", false))) return tx_end(&x, rc);
	x.t = want;
	/* A taken symbol fails here, not in a block. */
	if ((rc = lookup_token(c, symbol, &other, NULL, &exists))) return tx_end(&x, rc);
	if (exists) return tx_end(&x, cli_fail("token %s already exists", symbol));
	snprintf(x.p.name, sizeof(x.p.name), "%s", name);
	x.p.decimals = (uint8_t)d;
	x.p.max_supply = want.max_supply;
	x.p.flags = SSP_TOKEN_FLAG_BURNABLE | SSP_TOKEN_FLAG_MINTABLE;
	if (cli_opt(a, "no-burn")) x.p.flags &= ~(uint32_t)SSP_TOKEN_FLAG_BURNABLE;
	if (cli_opt(a, "fixed-supply")) x.p.flags &= ~(uint32_t)SSP_TOKEN_FLAG_MINTABLE;
	add_field(&x, "name", name);
	/* the creation fee the chain moves to the pool, shown with the tx fee */
	json_t *info = NULL;
	if ((rc = cli_node_info(c, &info))) return tx_end(&x, rc);
	const char *cfee = json_string_value(json_object_get(info, "token_create_fee"));
	if (cfee) add_field(&x, "creation_fee", cfee);
	json_decref(info);
	if (json_object_set_new(x.fields, "decimals", json_integer((json_int_t)d))) cli_oom();
	add_amount(&x, "max_supply", want.max_supply);
	if (json_object_set_new(x.fields, "burnable",
	                        json_boolean(x.p.flags & SSP_TOKEN_FLAG_BURNABLE)) ||
	    json_object_set_new(x.fields, "mintable",
	                        json_boolean(x.p.flags & SSP_TOKEN_FLAG_MINTABLE)))
		cli_oom();
	return tx_end(&x, tx_finish(c, &x, SSP_TX_TOKEN_CREATE, amounts));
}

int cli_cmd_token_issue(cli_ctx *c, const cli_args *a)
{
	token_tx x;
	const char *to = cli_opt(a, "to");
	uint64_t supply;
	char s[SSP_AMOUNT_STR], m[SSP_AMOUNT_STR];
	int rc;
	if (!to) return cli_usage("token issue: --to ADDRESS|NAME is required");
	if ((rc = tx_begin(c, &x, a, "issue", true))) return tx_end(&x, rc);
	if ((rc =
	         parse_amount(&x.p.amount, "issue", "amount", cli_opt(a, "amount"), &x.t, false)) ||
	    (rc = cli_resolve_account(c, &x.p.to, c->hrp, to)))
		return tx_end(&x, rc);
	if (memcmp(x.t.issuer.b, x.s.from.b, SSP_ADDR_LEN) != 0)
		return tx_end(&x, cli_fail("only the issuer of %s can issue it, not %s", x.t.symbol,
		                           x.s.from_text));
	if (!x.t.mintable)
		return tx_end(
		    &x, cli_fail("%s has a fixed supply: nothing more can be issued", x.t.symbol));
	if (ssp_add_u64(&supply, x.t.supply, x.p.amount) || supply > x.t.max_supply) {
		fmt_units(s, sizeof(s), x.t.supply, &x.t);
		fmt_units(m, sizeof(m), x.t.max_supply, &x.t);
		return tx_end(&x, cli_fail("issuing %s would exceed the max supply of %s (%s of %s "
		                           "issued)",
		                           cli_opt(a, "amount"), x.t.symbol, s, m));
	}
	add_addr(c, &x, "to", &x.p.to);
	add_amount(&x, "amount", x.p.amount);
	return tx_end(&x, tx_finish(c, &x, SSP_TX_TOKEN_ISSUE, amount_only));
}

int cli_cmd_token_transfer(cli_ctx *c, const cli_args *a)
{
	token_tx x;
	const char *to = cli_opt(a, "to");
	int rc;
	if (!to) return cli_usage("token transfer: --to ADDRESS|NAME is required");
	if ((rc = tx_begin(c, &x, a, "transfer", true)) ||
	    (rc = parse_amount(&x.p.amount, "transfer", "amount", cli_opt(a, "amount"), &x.t,
	                       false)) ||
	    (rc = cli_resolve_account(c, &x.p.to, c->hrp, to)) ||
	    (rc = check_balance(c, &x.t, &x.s.from, x.p.amount)))
		return tx_end(&x, rc);
	add_addr(c, &x, "to", &x.p.to);
	add_amount(&x, "amount", x.p.amount);
	return tx_end(&x, tx_finish(c, &x, SSP_TX_TOKEN_TRANSFER, amount_only));
}

int cli_cmd_token_burn(cli_ctx *c, const cli_args *a)
{
	token_tx x;
	int rc;
	if ((rc = tx_begin(c, &x, a, "burn", true)) ||
	    (rc = parse_amount(&x.p.amount, "burn", "amount", cli_opt(a, "amount"), &x.t, false)))
		return tx_end(&x, rc);
	if (!x.t.burnable) return tx_end(&x, cli_fail("%s is not burnable", x.t.symbol));
	if ((rc = check_balance(c, &x.t, &x.s.from, x.p.amount))) return tx_end(&x, rc);
	add_amount(&x, "amount", x.p.amount);
	return tx_end(&x, tx_finish(c, &x, SSP_TX_TOKEN_BURN, amount_only));
}

int cli_cmd_token_approve(cli_ctx *c, const cli_args *a)
{
	token_tx x;
	const char *spender = cli_opt(a, "spender");
	int rc;
	if (!spender) return cli_usage("token approve: --spender ADDRESS|NAME is required");
	if ((rc = tx_begin(c, &x, a, "approve", true)) ||
	    (rc = parse_amount(&x.p.amount, "approve", "amount", cli_opt(a, "amount"), &x.t,
	                       true)) ||
	    (rc = cli_resolve_account(c, &x.p.spender, c->hrp, spender)))
		return tx_end(&x, rc);
	add_addr(c, &x, "spender", &x.p.spender);
	add_amount(&x, "amount", x.p.amount);
	return tx_end(&x, tx_finish(c, &x, SSP_TX_TOKEN_APPROVE, amount_only));
}

int cli_cmd_token_transfer_from(cli_ctx *c, const cli_args *a)
{
	token_tx x;
	const char *owner = cli_opt(a, "owner"), *to = cli_opt(a, "to");
	char otext[96], h[SSP_AMOUNT_STR], n[SSP_AMOUNT_STR];
	uint64_t allowed;
	int rc;
	if (!owner) return cli_usage("token transfer-from: --owner ADDRESS|NAME is required");
	if (!to) return cli_usage("token transfer-from: --to ADDRESS|NAME is required");
	if ((rc = tx_begin(c, &x, a, "transfer-from", true)) ||
	    (rc = parse_amount(&x.p.amount, "transfer-from", "amount", cli_opt(a, "amount"), &x.t,
	                       false)) ||
	    (rc = cli_resolve_account(c, &x.p.owner, c->hrp, owner)) ||
	    (rc = cli_resolve_account(c, &x.p.to, c->hrp, to)))
		return tx_end(&x, rc);
	ssp_addr_encode(otext, sizeof(otext), c->hrp, &x.p.owner);
	rc = read_units(c, "token_allowance",
	                json_pack("{s:s, s:s, s:s}", "symbol", x.t.symbol, "owner", otext,
	                          "spender", x.s.from_text),
	                "allowance", &x.t, &allowed);
	if (rc) return tx_end(&x, rc);
	if (allowed < x.p.amount) {
		fmt_units(h, sizeof(h), allowed, &x.t);
		fmt_units(n, sizeof(n), x.p.amount, &x.t);
		return tx_end(&x, cli_fail("allowance exceeded: %s may spend %s %s of %s, needs %s",
		                           x.s.from_text, h, x.t.symbol, otext, n));
	}
	if ((rc = check_balance(c, &x.t, &x.p.owner, x.p.amount))) return tx_end(&x, rc);
	add_field(&x, "owner", otext);
	add_addr(c, &x, "to", &x.p.to);
	add_amount(&x, "amount", x.p.amount);
	return tx_end(&x, tx_finish(c, &x, SSP_TX_TOKEN_TRANSFER_FROM, amount_only));
}

/* -------------------------------------------------------- read commands */

/* Prints a node result; keys in amounts get " SYMBOL". */
static void print_token_result(cli_ctx *c, const json_t *res, const char *const *amounts,
                               const char *symbol)
{
	if (c->json) {
		cli_print_json(res);
		return;
	}
	cli_table t = {0};
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)res, key, v)
	{
		bool amount = false;
		for (size_t i = 0; amounts[i]; i++)
			amount |= !strcmp(key, amounts[i]);
		if (json_is_string(v))
			cli_table_add(&t, key, "%s%s%s", json_string_value(v), amount ? " " : "",
			              amount ? symbol : "");
		else if (json_is_integer(v))
			cli_table_add(&t, key, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_boolean(v))
			cli_table_add(&t, key, "%s", json_is_true(v) ? "yes" : "no");
	}
	cli_table_print(&t);
}

int cli_cmd_token_balance(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"balance", NULL};
	const char *symbol = cli_opt(a, "symbol");
	token_view t;
	ssp_addr addr;
	char text[96];
	json_t *res = NULL;
	int rc;
	if ((rc = check_symbol("balance", symbol)) || (rc = cli_node_info(c, NULL)) ||
	    (rc = cli_resolve_account(c, &addr, c->hrp, a->pos[0])) ||
	    (rc = fetch_token(c, symbol, &t, NULL)))
		return rc;
	ssp_addr_encode(text, sizeof(text), c->hrp, &addr);
	rc = cli_rpc(c, "token_balance", json_pack("{s:s, s:s}", "symbol", symbol, "address", text),
	             &res, NULL);
	if (!rc) print_token_result(c, res, amounts, symbol);
	json_decref(res);
	return rc;
}

int cli_cmd_token_allowance(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"allowance", NULL};
	const char *symbol = cli_opt(a, "symbol");
	const char *owner = cli_opt(a, "owner"), *spender = cli_opt(a, "spender");
	token_view t;
	ssp_addr o, s;
	char otext[96], stext[96];
	json_t *res = NULL;
	int rc;
	if ((rc = check_symbol("allowance", symbol))) return rc;
	if (!owner) return cli_usage("token allowance: --owner ADDRESS|NAME is required");
	if (!spender) return cli_usage("token allowance: --spender ADDRESS|NAME is required");
	if ((rc = cli_node_info(c, NULL)) || (rc = cli_resolve_account(c, &o, c->hrp, owner)) ||
	    (rc = cli_resolve_account(c, &s, c->hrp, spender)) ||
	    (rc = fetch_token(c, symbol, &t, NULL)))
		return rc;
	ssp_addr_encode(otext, sizeof(otext), c->hrp, &o);
	ssp_addr_encode(stext, sizeof(stext), c->hrp, &s);
	rc = cli_rpc(
	    c, "token_allowance",
	    json_pack("{s:s, s:s, s:s}", "symbol", symbol, "owner", otext, "spender", stext), &res,
	    NULL);
	if (!rc) print_token_result(c, res, amounts, symbol);
	json_decref(res);
	return rc;
}

int cli_cmd_token_info(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"max_supply", "supply", NULL};
	const char *symbol = a->pos[0];
	token_view t;
	json_t *res = NULL;
	int rc;
	if (!ssp_token_symbol_valid(symbol))
		return cli_usage("token info: invalid symbol '%s' (2 to 12 characters A-Z and 0-9, "
		                 "starting with a letter)",
		                 symbol);
	if ((rc = cli_node_info(c, NULL)) || (rc = fetch_token(c, symbol, &t, &res))) return rc;
	print_token_result(c, res, amounts, symbol);
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_token_list(cli_ctx *c, const cli_args *a)
{
	const char *from = cli_opt(a, "from"), *limit = cli_opt(a, "limit");
	uint64_t n = LIST_LIMIT_MAX;
	json_t *params, *res = NULL, *tok;
	size_t i;
	int rc;
	if (from && !ssp_token_symbol_valid(from))
		return cli_usage("token list: invalid --from symbol '%s'", from);
	if (limit && (cli_parse_u64(&n, limit) != 0 || n == 0 || n > LIST_LIMIT_MAX))
		return cli_usage("token list: invalid --limit '%s' (1 to %d)", limit,
		                 LIST_LIMIT_MAX);
	params = json_pack("{s:I}", "limit", (json_int_t)n);
	if (!params) cli_oom();
	if (from && json_object_set_new(params, "from", json_string(from))) cli_oom();
	rc = cli_rpc(c, "token_list", params, &res, NULL);
	if (rc) return rc;
	if (c->json) {
		cli_print_json(res);
		json_decref(res);
		return CLI_OK;
	}
	cli_table t = {0};
	json_t *tokens = json_object_get(res, "tokens");
	if (json_array_size(tokens) == 0) cli_table_add(&t, "tokens", "(none)");
	json_array_foreach(tokens, i, tok)
	{
		const char *sym = json_string_value(json_object_get(tok, "symbol"));
		const char *name = json_string_value(json_object_get(tok, "name"));
		const char *sup = json_string_value(json_object_get(tok, "supply"));
		const char *max = json_string_value(json_object_get(tok, "max_supply"));
		cli_table_add(&t, sym ? sym : "?", "%s (supply %s of %s)", name ? name : "?",
		              sup ? sup : "?", max ? max : "?");
	}
	const char *next = json_string_value(json_object_get(res, "next"));
	if (next) cli_table_add(&t, "next", "%s (ssp token list --from %s)", next, next);
	cli_table_print(&t);
	json_decref(res);
	return CLI_OK;
}
