/*
 * dpos_cmds.c — `ssp stake`, `unstake`, `withdraw`, `vote`, `votes` and
 * `ssp delegate …`, the staking commands (application layer). Signing goes
 * through txsend.c; reads through the dpos_* RPC methods. Before signing,
 * the request is checked against the last block (names registered, enough
 * staked, something unlocked) so that a transaction the chain would refuse
 * fails here with a one-line reason. docs/dpos.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "ssp/proto_dpos.h"

#define LIST_LIMIT_MAX 100
#define ONION_LAYERS 1000000 /* the hash onion the CLI makes when --onion is not given */

static const char *const ssp_amounts[] = {"amount", "self_stake", "self_stake_added", NULL};

static const char *or_str(const char *s, const char *def)
{
	return s ? s : def;
}

static int parse_ssp(uint64_t *out, const char *cmd, const char *opt, const char *v, bool zero_ok)
{
	if (!v) return cli_usage("%s: --%s is required", cmd, opt);
	if (ssp_amount_parse(out, v, SSP_DECIMALS) != 0 || *out > INT64_MAX)
		return cli_usage("%s: invalid --%s '%s' (a decimal with up to %d fraction digits, "
		                 "like 12.5)",
		                 cmd, opt, v, SSP_DECIMALS);
	if (!zero_ok && *out == 0) return cli_usage("%s: --%s must be greater than zero", cmd, opt);
	return CLI_OK;
}

static int parse_name(const char *cmd, const char *opt, const char *v)
{
	if (!v) return cli_usage("%s: --%s NAME is required", cmd, opt);
	if (!ssp_dpos_name_valid(v, strlen(v)))
		return cli_usage(
		    "%s: invalid delegate name '%s' (3 to 32 characters a-z 0-9 . _ -, "
		    "starting with a letter)",
		    cmd, v);
	return CLI_OK;
}

/* --commission PERCENT (0 to 100, up to 2 decimals) in basis points. */
static int parse_commission(uint16_t *bp, const char *cmd, const char *v)
{
	uint64_t x;
	if (ssp_amount_parse(&x, v, 2) != 0 || x > SSP_DPOS_COMMISSION_MAX)
		return cli_usage("%s: invalid --commission '%s' (a percentage 0 to 100, like 12.5)",
		                 cmd, v);
	*bp = (uint16_t)x;
	return CLI_OK;
}

static int parse_url(char *out, const char *cmd, const char *v)
{
	if (!ssp_dpos_url_valid(v, strlen(v)))
		return cli_usage("%s: invalid --url (at most %d printable characters, no spaces)",
		                 cmd, SSP_DPOS_URL_MAX);
	snprintf(out, SSP_DPOS_URL_MAX + 1, "%s", v);
	return CLI_OK;
}

/* --node-key: "ed25519:HEX" / "p256:HEX", or the name of a key in the keystore. */
static int parse_node_key(cli_ctx *c, ssp_pubkey *pk, const char *cmd, const char *v)
{
	if (strchr(v, ':')) {
		if (ssp_pubkey_text_parse(pk, v))
			return cli_usage("%s: invalid --node-key '%s' (ed25519:HEX, p256:HEX or a "
			                 "key name)",
			                 cmd, v);
		return CLI_OK;
	}
	if (!cli_name_valid(v))
		return cli_usage(
		    "%s: invalid --node-key '%s' (ed25519:HEX, p256:HEX or a key name)", cmd, v);
	return cli_key_info(c, pk, v);
}

/* An RPC read; on success *res is the caller's. */
static int read_rpc(cli_ctx *c, const char *method, json_t *params, json_t **res)
{
	return cli_rpc(c, method, params, res, NULL);
}

/* Encodes p, signs it as s's key (begun by the caller) and submits; prints the result. */
static int send(cli_ctx *c, cli_txsession *s, const cli_args *a, const char *cmd, uint16_t type,
                const ssp_dpos_payload *p, json_t *fields)
{
	cli_txopts o;
	json_t *out = NULL;
	ssp_buf b;
	int rc = cli_txopts_parse(&o, a, cmd);
	if (rc) {
		json_decref(fields);
		return rc;
	}
	ssp_buf_init(&b, 64 << 10); /* evidence: two headers of <= 17 KiB */
	ssp_dpos_payload_encode(&b, type, p);
	if (b.err) {
		rc = cli_fail("%s: cannot encode the transaction: %s", cmd, ssp_strerror(b.err));
	} else {
		rc = cli_tx_send(c, s, &o, type, b.data, b.len, fields, &out);
		if (!rc) cli_print_tx(c, out, ssp_amounts, " SSP");
	}
	ssp_buf_free(&b);
	json_decref(out);
	json_decref(fields);
	return rc;
}

static int begin(cli_ctx *c, cli_txsession *s, const cli_args *a, const char *cmd)
{
	const char *from = cli_opt(a, "from");
	memset(s, 0, sizeof *s);
	if (!from) return cli_usage("%s: --from NAME is required", cmd);
	if (!cli_name_valid(from))
		return cli_usage("%s: invalid key name '%s' for --from", cmd, from);
	return cli_tx_begin(c, s, from);
}

/* dpos_getVotes of the sender: what it has staked and what has unlocked. */
static int my_votes(cli_ctx *c, const cli_txsession *s, json_t **res)
{
	return read_rpc(c, "dpos_getVotes", json_pack("{s:s}", "address", s->from_text), res);
}

static json_t *amount_field(const char *key, uint64_t v)
{
	char t[SSP_AMOUNT_STR];
	ssp_amount_format(t, sizeof t, v, SSP_DECIMALS);
	json_t *j = json_pack("{s:s}", key, t);
	if (!j) cli_oom();
	return j;
}

/* ----------------------------------------------------------- stake, votes */

int cli_cmd_stake(cli_ctx *c, const cli_args *a)
{
	ssp_dpos_payload p;
	cli_txsession s;
	int rc;
	memset(&p, 0, sizeof p);
	if ((rc = parse_ssp(&p.amount, "stake", "amount", cli_opt(a, "amount"), false)) ||
	    (rc = begin(c, &s, a, "stake")))
		return rc;
	rc = send(c, &s, a, "stake", SSP_TX_STAKE, &p, amount_field("amount", p.amount));
	cli_tx_end(&s);
	return rc;
}

int cli_cmd_unstake(cli_ctx *c, const cli_args *a)
{
	ssp_dpos_payload p;
	cli_txsession s;
	json_t *v = NULL;
	uint64_t staked;
	int rc;
	memset(&p, 0, sizeof p);
	if ((rc = parse_ssp(&p.amount, "unstake", "amount", cli_opt(a, "amount"), false)) ||
	    (rc = begin(c, &s, a, "unstake")))
		return rc;
	if (!(rc = my_votes(c, &s, &v)) &&
	    !(rc = cli_json_amount(&staked, v, "staked", "dpos_getVotes")) && p.amount > staked)
		rc = cli_fail("unstake: %s has only %s SSP staked", s.from_text,
		              json_string_value(json_object_get(v, "staked")));
	json_decref(v);
	if (!rc)
		rc =
		    send(c, &s, a, "unstake", SSP_TX_UNSTAKE, &p, amount_field("amount", p.amount));
	cli_tx_end(&s);
	return rc;
}

int cli_cmd_withdraw(cli_ctx *c, const cli_args *a)
{
	ssp_dpos_payload p;
	cli_txsession s;
	json_t *v = NULL;
	uint64_t ready = 0;
	int rc;
	memset(&p, 0, sizeof p);
	if ((rc = begin(c, &s, a, "withdraw"))) return rc;
	if (!(rc = my_votes(c, &s, &v)) &&
	    !(rc = cli_json_amount(&ready, v, "withdrawable", "dpos_getVotes")) && ready == 0) {
		json_t *u = json_object_get(v, "unlocking");
		if (json_array_size(u) == 0)
			rc = cli_fail("withdraw: %s has nothing unlocking (ssp unstake first)",
			              s.from_text);
		else
			rc =
			    cli_fail("withdraw: nothing unlocked yet: the first entry unlocks at "
			             "slot %" JSON_INTEGER_FORMAT " (now %" JSON_INTEGER_FORMAT ")",
			             json_integer_value(
			                 json_object_get(json_array_get(u, 0), "unlock_slot")),
			             json_integer_value(json_object_get(v, "head_slot")));
	}
	json_decref(v);
	if (!rc)
		rc = send(c, &s, a, "withdraw", SSP_TX_WITHDRAW, &p, amount_field("amount", ready));
	cli_tx_end(&s);
	return rc;
}

int cli_cmd_vote(cli_ctx *c, const cli_args *a)
{
	ssp_dpos_payload p;
	cli_txsession s;
	json_t *names;
	int rc;
	memset(&p, 0, sizeof p);
	if (cli_opt(a, "none") && a->nmulti)
		return cli_usage("vote: give --for NAME (up to %d) or --none, not both",
		                 SSP_DPOS_VOTES_MAX);
	if (!cli_opt(a, "none") && !a->nmulti)
		return cli_usage("vote: --for NAME is required (repeat it for up to %d delegates; "
		                 "--none withdraws every vote)",
		                 SSP_DPOS_VOTES_MAX);
	if (a->nmulti > SSP_DPOS_VOTES_MAX)
		return cli_usage("vote: at most %d delegates (%zu given)", SSP_DPOS_VOTES_MAX,
		                 a->nmulti);
	for (size_t i = 0; i < a->nmulti; i++) {
		if ((rc = parse_name("vote", "for", a->multi[i]))) return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(a->multi[i], a->multi[j]))
				return cli_usage("vote: --for %s is given twice", a->multi[i]);
		snprintf(p.votes[i], sizeof p.votes[i], "%s", a->multi[i]);
	}
	p.nvotes = (uint32_t)a->nmulti;
	if ((rc = begin(c, &s, a, "vote"))) return rc;
	/* every name must be a registered delegate now */
	for (size_t i = 0; !rc && i < a->nmulti; i++) {
		ssp_rpc_error err;
		json_t *d = NULL;
		int q = cli_rpc_quiet(c, "dpos_getDelegate",
		                      json_pack("{s:s}", "name", a->multi[i]), &d, &err);
		if (q == SSP_ERR_RPC && err.code == SSP_RPC_NOT_FOUND)
			rc = cli_fail("vote: no delegate is named %s", a->multi[i]);
		else if (q)
			rc = cli_fail("dpos_getDelegate: %s",
			              err.message[0] ? err.message : ssp_strerror(q));
		else if (strcmp(or_str(json_string_value(json_object_get(d, "status")), ""),
		                "registered"))
			rc = cli_fail("vote: %s is not a registered delegate (it unregistered)",
			              a->multi[i]);
		if (q) json_decref(err.data);
		json_decref(d);
	}
	/* one string, so the human output shows it too: "alpha,beta" ("" for --none) */
	char list[SSP_DPOS_VOTES_MAX * (SSP_DPOS_NAME_MAX + 1) + 1] = "";
	for (size_t i = 0; i < a->nmulti; i++) {
		if (i) strcat(list, ",");
		strcat(list, a->multi[i]);
	}
	names = json_pack("{s:s}", "votes", list);
	if (!names) cli_oom();
	if (!rc)
		rc = send(c, &s, a, "vote", SSP_TX_VOTE, &p, names);
	else
		json_decref(names);
	cli_tx_end(&s);
	return rc;
}

/* Prints `method`'s answer for the account named by the first argument (address or key). */
static int show_account(cli_ctx *c, const cli_args *a, const char *method,
                        const char *const *amounts)
{
	ssp_addr who;
	char text[96];
	json_t *res = NULL;
	int rc;
	if ((rc = cli_node_info(c, NULL)) || (rc = cli_resolve_account(c, &who, c->hrp, a->pos[0])))
		return rc;
	ssp_addr_encode(text, sizeof text, c->hrp, &who);
	if ((rc = read_rpc(c, method, json_pack("{s:s}", "address", text), &res))) return rc;
	if (c->json)
		cli_print_json(res);
	else
		cli_print_result(res, amounts);
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_votes(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"staked", "withdrawable", "still_locked",
	                                      "unlocking.amount", NULL};
	return show_account(c, a, "dpos_getVotes", amounts);
}

/* ---------------------------------------------------------------- rewards */

int cli_cmd_rewards_show(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"owed", "pending", "claimable", "round_emission",
	                                      NULL};
	return show_account(c, a, "dpos_getRewards", amounts);
}

int cli_cmd_rewards_claim(cli_ctx *c, const cli_args *a)
{
	ssp_dpos_payload p;
	cli_txsession s;
	json_t *v = NULL;
	uint64_t claimable = 0;
	int rc;
	memset(&p, 0, sizeof p);
	if ((rc = begin(c, &s, a, "rewards claim"))) return rc;
	if (!(rc =
	          read_rpc(c, "dpos_getRewards", json_pack("{s:s}", "address", s.from_text), &v)) &&
	    !(rc = cli_json_amount(&claimable, v, "claimable", "dpos_getRewards")) && !claimable)
		rc = cli_fail(
		    "rewards claim: %s has no reward to claim (rewards are paid at the "
		    "end of each round to the delegates in the top ranks and their voters)",
		    s.from_text);
	json_decref(v);
	if (!rc)
		rc = send(c, &s, a, "rewards claim", SSP_TX_REWARDS_CLAIM, &p,
		          amount_field("amount", claimable));
	cli_tx_end(&s);
	return rc;
}

/* -------------------------------------------------------------- evidence */

int cli_cmd_delegate_evidence(cli_ctx *c, const cli_args *a)
{
	ssp_dpos_payload p;
	cli_txsession s;
	uint8_t *h[2] = {NULL, NULL};
	int rc;
	memset(&p, 0, sizeof p);
	const char *name = cli_opt(a, "delegate");
	if (!name) return cli_usage("delegate evidence: --delegate NAME is required");
	if ((rc = parse_name("delegate evidence", "delegate", name))) return rc;
	bool votes = cli_opt(a, "vote") != NULL;
	if (a->nmulti != 2 || (votes && cli_opt(a, "header")))
		return cli_usage(
		    "delegate evidence: give --header HEX twice (the two headers of one "
		    "slot, as chain_getHeader's raw) or --vote HEX twice (two conflicting votes)");
	snprintf(p.name, sizeof p.name, "%s", name);
	for (int i = 0; votes && i < 2; i++) {
		uint8_t v[SSP_DPOS_VOTE_LEN];
		size_t n = 0, vl = strlen(a->multi[i]);
		if (sodium_hex2bin(v, sizeof v, a->multi[i], vl, NULL, &n, NULL) || n != sizeof v ||
		    vl != 2 * sizeof v)
			return cli_usage(
			    "delegate evidence: --vote is not 144 bytes in hex (link and "
			    "signature)");
		ssp_vote_link_decode(&p.vote[i], v);
		memcpy(p.vote_sig[i].b, v + SSP_VOTE_LINK_LEN, SSP_SIG_LEN);
		if (p.vote[i].src_height >= p.vote[i].tgt_height)
			return cli_usage(
			    "delegate evidence: a --vote's source height must be below its "
			    "target height");
	}
	for (int i = 0; !votes && i < 2; i++) {
		size_t hl = strlen(a->multi[i]), n = 0;
		h[i] = malloc(hl / 2 + 1);
		if (!h[i]) cli_oom();
		if (sodium_hex2bin(h[i], hl / 2 + 1, a->multi[i], hl, NULL, &n, NULL) ||
		    n * 2 != hl || n > SSP_DPOS_HEADER_MAX) {
			rc = cli_usage(
			    "delegate evidence: --header is not an encoded header in hex");
			goto out;
		}
		p.header[i] = h[i];
		p.header_len[i] = (uint32_t)n;
	}
	if ((rc = begin(c, &s, a, "delegate evidence"))) goto out;
	rc = send(c, &s, a, "delegate evidence", votes ? SSP_TX_EVIDENCE_VOTES : SSP_TX_EVIDENCE,
	          &p, json_pack("{s:s}", "delegate", name));
	cli_tx_end(&s);
out:
	free(h[0]);
	free(h[1]);
	return rc;
}

/* -------------------------------------------------------------- delegates */

/* 32 bytes of the onion's outermost layer: SHA-256 applied ONION_LAYERS times to seed. */
static void make_onion(ssp_hash *out, const uint8_t seed[32])
{
	ssp_hash h;
	memcpy(h.b, seed, 32);
	for (int i = 0; i < ONION_LAYERS; i++)
		ssp_sha256(&h, h.b, 32);
	*out = h;
}

/*
 * The node's hash onion when --node-key names an Ed25519 key of the keystore:
 * the node derives its onion secret from its key (ssp_onion_secret of its
 * signature over ssp_onion_secret_digest: deterministic for Ed25519) and
 * reveals from a chain of the genesis "bft" onion_layers (chain_getInfo
 * consensus.onion_layers; 1,000,000, the genesis default, on a chain without
 * BFT). So the commitment registered is the one the node will reveal from
 * and nothing must be kept beside the key. *made = false (nothing done) for
 * a p256 key (its signatures are randomized: give --onion).
 */
static int node_onion(cli_ctx *c, ssp_hash *out, uint32_t *layers, bool *made, const char *cmd,
                      const char *keyname)
{
	json_t *info = NULL;
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_hash d, x;
	ssp_sig sig;
	*made = false;
	int rc = cli_key_info(c, &pk, keyname);
	if (rc || pk.type != SSP_KEY_ED25519) return rc;
	if ((rc = read_rpc(c, "chain_getInfo", NULL, &info))) return rc;
	const char *chain_id = json_string_value(json_object_get(info, "chain_id"));
	json_t *ol = json_object_get(json_object_get(info, "consensus"), "onion_layers");
	*layers = ONION_LAYERS;
	if (json_is_integer(ol) && json_integer_value(ol) > 0 &&
	    json_integer_value(ol) <= UINT32_MAX)
		*layers = (uint32_t)json_integer_value(ol);
	if (!chain_id) rc = cli_fail("chain_getInfo: the node returned no chain_id");
	if (!rc) {
		ssp_onion_secret_digest(&d, chain_id);
		rc = cli_key_unlock(c, &sk, &pk, keyname);
	}
	json_decref(info);
	if (rc) return rc;
	rc = ssp_sign_digest(&sig, &sk, &d);
	ssp_seckey_wipe(&sk);
	if (rc) return cli_fail("%s: cannot sign with %s: %s", cmd, keyname, ssp_strerror(rc));
	ssp_onion_secret(&x, &sig);
	sodium_memzero(&sig, sizeof sig);
	for (uint32_t i = 0; i < *layers; i++)
		ssp_sha256(&x, x.b, 32);
	*out = x;
	*made = true;
	return CLI_OK;
}

int cli_cmd_delegate_register(cli_ctx *c, const cli_args *a)
{
	const char *cmd = "delegate register", *name = cli_opt(a, "name");
	const char *onion = cli_opt(a, "onion"), *key = cli_opt(a, "node-key");
	ssp_dpos_payload p;
	cli_txsession s;
	uint8_t seed[32];
	char seed_hex[65] = "", onion_hex[65], key_text[96];
	int rc;
	memset(&p, 0, sizeof p);
	if ((rc = parse_name(cmd, "name", name)) ||
	    (rc = parse_commission(&p.commission_bp, cmd, or_str(cli_opt(a, "commission"), "0"))) ||
	    (rc = parse_url(p.url, cmd, or_str(cli_opt(a, "url"), ""))) ||
	    (rc = parse_ssp(&p.amount, cmd, "self-stake", cli_opt(a, "self-stake"), false)))
		return rc;
	if (!key) return cli_usage("%s: --node-key KEY is required", cmd);
	if ((rc = parse_node_key(c, &p.node_key, cmd, key))) return rc;
	snprintf(p.name, sizeof p.name, "%s", name);
	bool derived = false;
	uint32_t layers = 0;
	if (onion) {
		if (ssp_hex_decode(p.onion.b, 32, onion, strlen(onion)))
			return cli_usage("%s: invalid --onion (64 hex characters)", cmd);
	} else if (!strchr(key, ':') && (rc = node_onion(c, &p.onion, &layers, &derived, cmd, key))) {
		return rc;
	}
	if (!onion && !derived) {
		randombytes_buf(seed, sizeof seed);
		make_onion(&p.onion, seed);
		sodium_bin2hex(seed_hex, sizeof seed_hex, seed, sizeof seed);
		sodium_memzero(seed, sizeof seed);
	}
	if ((rc = begin(c, &s, a, cmd))) {
		sodium_memzero(seed_hex, sizeof seed_hex);
		return rc;
	}
	sodium_bin2hex(onion_hex, sizeof onion_hex, p.onion.b, 32);
	ssp_pubkey_text(key_text, sizeof key_text, &p.node_key);
	json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "node_key", key_text, "onion",
	                      onion_hex, "url", p.url);
	json_t *amt = amount_field("self_stake", p.amount);
	if (!f) cli_oom();
	json_object_update(f, amt);
	json_decref(amt);
	json_object_set_new(f, "commission_bp", json_integer(p.commission_bp));
	if (derived) {
		/* the node reveals it from its own key: nothing to keep */
		json_object_set_new(f, "onion_layers", json_integer(layers));
		json_object_set_new(f, "onion_from", json_string("node_key"));
	} else if (seed_hex[0]) {
		/* a key given as text (or p256): only this seed makes the onion again */
		json_object_set_new(f, "onion_seed", json_string(seed_hex));
		json_object_set_new(f, "onion_layers", json_integer(ONION_LAYERS));
	}
	/* a name another account holds fails here, not in the block */
	ssp_rpc_error err;
	json_t *cur = NULL;
	int q = cli_rpc_quiet(c, "dpos_getDelegate", json_pack("{s:s}", "name", name), &cur, &err);
	if (!q &&
	    strcmp(or_str(json_string_value(json_object_get(cur, "address")), ""), s.from_text))
		rc = cli_fail("%s: the name %s is taken by %s", cmd, name,
		              or_str(json_string_value(json_object_get(cur, "address")), "?"));
	else if (q && !(q == SSP_ERR_RPC && err.code == SSP_RPC_NOT_FOUND))
		rc = cli_fail("dpos_getDelegate: %s",
		              err.message[0] ? err.message : ssp_strerror(q));
	if (q) json_decref(err.data);
	json_decref(cur);
	if (rc) {
		json_decref(f);
	} else {
		rc = send(c, &s, a, cmd, SSP_TX_DELEGATE_REGISTER, &p, f);
		if (!rc && seed_hex[0])
			cli_warn("keep onion_seed secret: the onion's layers come from it, and a "
			         "node reveals only the onion of its own Ed25519 key (register "
			         "with --node-key naming that key in the keystore, or --onion)");
	}
	sodium_memzero(seed_hex, sizeof seed_hex);
	cli_tx_end(&s);
	return rc;
}

int cli_cmd_delegate_update(cli_ctx *c, const cli_args *a)
{
	const char *cmd = "delegate update", *comm = cli_opt(a, "commission");
	const char *url = cli_opt(a, "url"), *key = cli_opt(a, "node-key");
	const char *add = cli_opt(a, "add-self-stake");
	ssp_dpos_payload p;
	cli_txsession s;
	json_t *cur = NULL, *f;
	int rc;
	memset(&p, 0, sizeof p);
	if (!comm && !url && !key && !add)
		return cli_usage("%s: nothing to change (--commission, --url, --node-key, "
		                 "--add-self-stake)",
		                 cmd);
	if ((comm && (rc = parse_commission(&p.commission_bp, cmd, comm))) ||
	    (url && (rc = parse_url(p.url, cmd, url))) ||
	    (add && (rc = parse_ssp(&p.amount, cmd, "add-self-stake", add, false))) ||
	    (key && (rc = parse_node_key(c, &p.node_key, cmd, key))))
		return rc;
	if ((rc = begin(c, &s, a, cmd))) return rc;
	/* what is not given stays as it is on chain */
	ssp_rpc_error err;
	int q = cli_rpc_quiet(c, "dpos_getDelegate", json_pack("{s:s}", "address", s.from_text),
	                      &cur, &err);
	if (q == SSP_ERR_RPC && err.code == SSP_RPC_NOT_FOUND)
		rc = cli_fail("%s: %s is not a delegate (ssp delegate register)", cmd, s.from_text);
	else if (q)
		rc = cli_fail("dpos_getDelegate: %s",
		              err.message[0] ? err.message : ssp_strerror(q));
	else if (strcmp(or_str(json_string_value(json_object_get(cur, "status")), ""),
	                "registered"))
		rc = cli_fail("%s: %s unregistered (register again instead)", cmd, s.from_text);
	if (q) json_decref(err.data);
	if (!rc && !comm) {
		json_int_t bp = json_integer_value(json_object_get(cur, "commission_bp"));
		p.commission_bp = (uint16_t)(bp >= 0 && bp <= SSP_DPOS_COMMISSION_MAX ? bp : 0);
	}
	if (!rc && !url)
		snprintf(p.url, sizeof p.url, "%s",
		         or_str(json_string_value(json_object_get(cur, "url")), ""));
	if (!rc && !key &&
	    ssp_pubkey_text_parse(&p.node_key,
	                          or_str(json_string_value(json_object_get(cur, "node_key")), "")))
		rc = cli_fail("dpos_getDelegate: the node returned no valid node_key");
	json_decref(cur);
	if (!rc) {
		char kt[96];
		ssp_pubkey_text(kt, sizeof kt, &p.node_key);
		f = amount_field("self_stake_added", p.amount);
		json_object_set_new(f, "commission_bp", json_integer(p.commission_bp));
		json_object_set_new(f, "url", json_string(p.url));
		json_object_set_new(f, "node_key", json_string(kt));
		rc = send(c, &s, a, cmd, SSP_TX_DELEGATE_UPDATE, &p, f);
	}
	cli_tx_end(&s);
	return rc;
}

int cli_cmd_delegate_unregister(cli_ctx *c, const cli_args *a)
{
	ssp_dpos_payload p;
	cli_txsession s;
	int rc;
	memset(&p, 0, sizeof p);
	if ((rc = begin(c, &s, a, "delegate unregister"))) return rc;
	rc = send(c, &s, a, "delegate unregister", SSP_TX_DELEGATE_UNREGISTER, &p, NULL);
	cli_tx_end(&s);
	return rc;
}

int cli_cmd_delegate_list(cli_ctx *c, const cli_args *a)
{
	const char *start = cli_opt(a, "start"), *limit = cli_opt(a, "limit");
	uint64_t st = 1, n = LIST_LIMIT_MAX;
	json_t *res = NULL, *d;
	size_t i;
	int rc;
	if (start && (cli_parse_u64(&st, start) != 0 || st == 0 || st > 100000))
		return cli_usage("delegate list: invalid --start '%s' (a rank, 1 or more)", start);
	if (limit && (cli_parse_u64(&n, limit) != 0 || n == 0 || n > LIST_LIMIT_MAX))
		return cli_usage("delegate list: invalid --limit '%s' (1 to %d)", limit,
		                 LIST_LIMIT_MAX);
	rc = read_rpc(c, "dpos_getDelegates",
	              json_pack("{s:I, s:I}", "start", (json_int_t)st, "limit", (json_int_t)n),
	              &res);
	if (rc) return rc;
	/*
	 * "active": a member of the latest elected set (dpos_getElection); none is
	 * marked when no set is recorded yet or the node predates the method.
	 */
	json_t *elected = NULL, *members, *d2, *list = json_object_get(res, "delegates");
	ssp_rpc_error err;
	size_t k;
	if (cli_rpc_quiet(c, "dpos_getElection", NULL, &elected, &err)) {
		json_decref(err.data);
		elected = NULL;
	}
	members = json_object_get(elected, "members");
	json_array_foreach(list, i, d)
	{
		bool active = false;
		const char *addr = json_string_value(json_object_get(d, "address"));
		json_array_foreach(members, k, d2)
		{
			const char *ma = json_string_value(json_object_get(d2, "address"));
			if (addr && ma && !strcmp(addr, ma)) active = true;
		}
		json_object_set_new(d, "active", json_boolean(active));
	}
	if (elected)
		json_object_set_new(res, "elected_round",
		                    json_integer(json_integer_value(json_object_get(elected, "round"))));
	json_decref(elected);
	if (c->json) {
		cli_print_json(res);
		json_decref(res);
		return CLI_OK;
	}
	if (json_array_size(list) == 0)
		printf("no registered delegates\n");
	else
		printf("%-5s %-20s %22s %22s %22s %6s %8s %7s %6s %18s  %s\n", "rank", "name",
		       "capped weight (SSP)", "self-stake (SSP)", "votes (SSP)", "comm.", "produced",
		       "missed", "prod.", "block rewards", "status");
	json_array_foreach(list, i, d)
	{
		char prod[16] = "-";
		json_t *pv = json_object_get(d, "productivity");
		if (json_is_number(pv)) snprintf(prod, sizeof prod, "%.1f%%", json_number_value(pv));
		printf("%-5" JSON_INTEGER_FORMAT " %-20s %22s %22s %22s %5.2f%% %8" JSON_INTEGER_FORMAT
		       " %7" JSON_INTEGER_FORMAT " %6s %18s  %s%s\n",
		       json_integer_value(json_object_get(d, "rank")),
		       json_string_value(json_object_get(d, "name")),
		       json_string_value(json_object_get(d, "capped_weight")),
		       json_string_value(json_object_get(d, "self_stake")),
		       json_string_value(json_object_get(d, "votes")),
		       (double)json_integer_value(json_object_get(d, "commission_bp")) / 100.0,
		       json_integer_value(json_object_get(d, "produced")),
		       json_integer_value(json_object_get(d, "missed")), prod,
		       or_str(json_string_value(json_object_get(d, "block_rewards")), "-"),
		       json_string_value(json_object_get(d, "status")),
		       json_is_true(json_object_get(d, "active")) ? ", active" : "");
	}
	if (json_object_get(res, "elected_round"))
		printf("active: elected at the start of round %" JSON_INTEGER_FORMAT
		       ", producing from round %" JSON_INTEGER_FORMAT " once that block is final\n",
		       json_integer_value(json_object_get(res, "elected_round")),
		       json_integer_value(json_object_get(res, "elected_round")) + 1);
	json_t *next = json_object_get(res, "next");
	if (json_is_integer(next))
		printf("more: ssp delegate list --start %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(next));
	json_decref(res);
	return CLI_OK;
}

/*
 * The extras of `delegate show` beside dpos_getDelegate, each left out when
 * the node cannot answer (no BFT, an older node): its next slots (the
 * node's dpos_getSchedule names producers by node-key address), the
 * finality lag (chain_getInfo) and its rewards (dpos_getRewards).
 */
static void show_extras(cli_ctx *c, json_t *res)
{
	ssp_rpc_error err;
	json_t *sched = NULL, *info = NULL, *rew = NULL, *slots = json_array(), *x;
	ssp_pubkey nk;
	char naddr[128] = "";
	size_t i;
	if (!slots) return;
	if (!ssp_pubkey_text_parse(&nk, or_str(json_string_value(json_object_get(res, "node_key")),
	                                       ""))) {
		ssp_addr a;
		const char *addr = json_string_value(json_object_get(res, "address"));
		const char *sep = addr ? strchr(addr, '1') : NULL; /* bech32: hrp '1' data */
		char hrp[32] = "";
		if (sep && (size_t)(sep - addr) < sizeof hrp) memcpy(hrp, addr, (size_t)(sep - addr));
		ssp_addr_from_pubkey(&a, &nk);
		if (hrp[0]) ssp_addr_encode(naddr, sizeof naddr, hrp, &a);
	}
	if (cli_rpc_quiet(c, "dpos_getSchedule", NULL, &sched, &err)) {
		json_decref(err.data);
		sched = NULL;
	}
	json_array_foreach(json_object_get(sched, "slots"), i, x)
	{
		const char *p = json_string_value(json_object_get(x, "producer"));
		if (naddr[0] && p && !strcmp(p, naddr)) json_array_append(slots, x);
	}
	json_object_set_new(res, "next_slots", sched ? slots : json_null());
	if (!sched) json_decref(slots);
	json_decref(sched);
	if (!cli_rpc_quiet(c, "chain_getInfo", NULL, &info, &err)) {
		json_int_t h = json_integer_value(json_object_get(info, "height")),
		           f = json_integer_value(json_object_get(info, "finalized_height"));
		json_object_set_new(res, "finality_lag", json_integer(h >= f ? h - f : 0));
		json_decref(info);
	} else {
		json_decref(err.data);
	}
	if (!cli_rpc_quiet(c, "dpos_getRewards",
	                   json_pack("{s:O}", "address", json_object_get(res, "address")), &rew,
	                   &err)) {
		json_object_set_new(res, "rewards_owed", json_incref(json_object_get(rew, "owed")));
		json_object_set_new(res, "rewards_claimable",
		                    json_incref(json_object_get(rew, "claimable")));
		json_decref(rew);
	} else {
		json_decref(err.data);
	}
}

int cli_cmd_delegate_show(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"capped_weight",
	                                      "self_stake",
	                                      "votes",
	                                      "block_rewards",
	                                      "block_rewards_pending",
	                                      "rewards_owed",
	                                      "rewards_claimable",
	                                      NULL};
	json_t *res = NULL;
	int rc;
	if ((rc = parse_name("delegate show", "name", a->pos[0]))) return rc;
	rc = read_rpc(c, "dpos_getDelegate", json_pack("{s:s}", "name", a->pos[0]), &res);
	if (rc) return rc;
	show_extras(c, res);
	if (c->json) {
		cli_print_json(res);
	} else {
		json_t *slots = json_incref(json_object_get(res, "next_slots")), *x;
		size_t i;
		json_object_del(res, "next_slots");
		cli_print_result(res, amounts);
		if (json_is_array(slots)) {
			printf("next slots:");
			json_array_foreach(slots, i, x)
			printf(" %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(x, "slot")));
			printf(json_array_size(slots) ? "\n" : " none this round or the next\n");
		}
		json_decref(slots);
	}
	json_decref(res);
	return CLI_OK;
}
