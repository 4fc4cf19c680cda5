/*
 * node.c — how `ssp` talks to a node (application layer): one lazily
 * opened RPC client, JSON-RPC failures turned into one-line errors, the
 * node's network prefix, and strict readers for fields of its results.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define DEV_HRP "dssp"

static int open_client(cli_ctx *c)
{
	int rc;
	if (c->rpc) return 0;
	rc = ssp_rpc_client_new(&c->rpc, c->rpc_url, CLI_RPC_TIMEOUT_MS);
	if (rc) c->rpc = NULL;
	return rc;
}

int cli_rpc_quiet(cli_ctx *c, const char *method, json_t *params, json_t **result,
                  ssp_rpc_error *err)
{
	int rc;
	memset(err, 0, sizeof(*err));
	*result = NULL;
	rc = open_client(c);
	if (rc) {
		if (rc == SSP_ERR_INVAL)
			snprintf(err->message, sizeof(err->message), "invalid --rpc URL '%s'",
			         c->rpc_url);
		json_decref(params);
		return rc;
	}
	return ssp_rpc_call(c->rpc, method, params ? params : json_object(), result, err);
}

int cli_rpc(cli_ctx *c, const char *method, json_t *params, json_t **result, int *rpc_code)
{
	ssp_rpc_error err;
	int rc = cli_rpc_quiet(c, method, params, result, &err);
	if (rpc_code) *rpc_code = rc == SSP_ERR_RPC ? err.code : 0;
	if (rc == 0) return CLI_OK;

	switch (rc) {
	case SSP_ERR_RPC: {
		const char *name = json_string_value(json_object_get(err.data, "error"));
		const char *reason = json_string_value(json_object_get(err.data, "reason"));
		if (reason && strstr(err.message, reason)) reason = NULL; /* already said */
		if (name)
			cli_fail("%s: %s%s%s (%s)", method, err.message, reason ? ": " : "",
			         reason ? reason : "", name);
		else
			cli_fail("%s: %s (code %d)", method, err.message, err.code);
		break;
	}
	case SSP_ERR_CONNECT:
		cli_fail("cannot connect to the node (%s)",
		         err.message[0] ? err.message : c->rpc_url);
		break;
	case SSP_ERR_TIMEOUT:
		cli_fail("%s: the node did not answer in time (%s)", method,
		         err.message[0] ? err.message : c->rpc_url);
		break;
	case SSP_ERR_DECODE:
		cli_fail("%s: bad reply from the node: %s", method,
		         err.message[0] ? err.message : ssp_strerror(rc));
		break;
	default:
		cli_fail("%s: %s", method, err.message[0] ? err.message : ssp_strerror(rc));
		break;
	}
	json_decref(err.data);
	return CLI_FAIL;
}

/* An HRP as bech32 allows it here: 1..16 lower-case letters or digits. */
static bool hrp_ok(const char *hrp)
{
	size_t n = hrp ? strlen(hrp) : 0;
	if (n == 0 || n > CLI_HRP_MAX) return false;
	for (size_t i = 0; i < n; i++)
		if (!((hrp[i] >= 'a' && hrp[i] <= 'z') || (hrp[i] >= '0' && hrp[i] <= '9')))
			return false;
	return true;
}

int cli_node_info(cli_ctx *c, json_t **info)
{
	json_t *res = NULL;
	const char *hrp;
	int rc = cli_rpc(c, "chain_getInfo", NULL, &res, NULL);
	if (rc) return rc;
	hrp = json_string_value(json_object_get(res, "hrp"));
	if (!hrp_ok(hrp)) {
		rc = cli_fail("chain_getInfo: the node returned no valid \"hrp\"");
		goto out;
	}
	if (c->network && strcmp(ssp_network_hrp(c->network), hrp) != 0) {
		const char *net = json_string_value(json_object_get(res, "network"));
		rc = cli_fail("the node at %s is on network '%s', not '%s' (--network)", c->rpc_url,
		              net ? net : hrp, c->network);
		goto out;
	}
	snprintf(c->hrp, sizeof(c->hrp), "%s", hrp);
	if (info) {
		*info = res;
		res = NULL;
	}
out:
	json_decref(res);
	return rc;
}

const char *cli_local_hrp(cli_ctx *c)
{
	ssp_rpc_client *probe = NULL;
	ssp_rpc_error err;
	json_t *res = NULL;
	const char *hrp;

	if (c->network) return ssp_network_hrp(c->network);
	if (c->hrp[0]) return c->hrp;
	memset(&err, 0, sizeof(err));
	if (ssp_rpc_client_new(&probe, c->rpc_url, CLI_PROBE_TIMEOUT_MS) == 0 &&
	    ssp_rpc_call(probe, "chain_getInfo", json_object(), &res, &err) == 0) {
		hrp = json_string_value(json_object_get(res, "hrp"));
		if (hrp_ok(hrp)) snprintf(c->hrp, sizeof(c->hrp), "%s", hrp);
	}
	json_decref(res);
	json_decref(err.data);
	ssp_rpc_client_free(probe);
	return c->hrp[0] ? c->hrp : DEV_HRP;
}

int cli_json_u64(uint64_t *out, const json_t *obj, const char *key, const char *what)
{
	const json_t *v = json_object_get(obj, key);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return CLI_OK;
	}
	return cli_fail("%s: the node returned no valid \"%s\"", what, key);
}

int cli_json_amount(uint64_t *out, const json_t *obj, const char *key, const char *what)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (s && ssp_amount_parse(out, s, SSP_DECIMALS) == 0) return CLI_OK;
	return cli_fail("%s: the node returned no valid amount \"%s\"", what, key);
}
