/*
 * fuzz_rpc_request.c — libFuzzer harness for the JSON-RPC server's request
 * processing (rpc layer): feeds arbitrary bytes as an HTTP request body to
 * ssp_rpc_handle_body with a toy method table, then checks the invariants
 * every reply must satisfy: a known HTTP status, a body exactly when the
 * status calls for one, and a body that is JSON-RPC 2.0 (each response object
 * has "jsonrpc":"2.0", an "id", and exactly one of "result" and "error", the
 * error holding an integer code and a string message). Any violation aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/server_internal.h"
#include "ssp/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int m_echo(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	*result = params ? json_incref(params) : NULL;
	return 0;
}

static int m_add(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	json_t *a = json_array_get(params, 0), *b = json_array_get(params, 1);

	if (!json_is_integer(a) || !json_is_integer(b) || json_array_size(params) != 2)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "want [int, int]");
	*result = json_integer(
	    (json_int_t)((uint64_t)json_integer_value(a) + (uint64_t)json_integer_value(b)));
	return 0;
}

/* Fails with data, and with a message quoting the input (maybe cut mid-UTF-8). */
static int m_fail(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	const char *s = json_string_value(json_object_get(params, "why"));

	err->data = json_pack("{s:s}", "error", "TEST");
	return ssp_rpc_fail(err, SSP_RPC_TX_REJECTED, "rejected: %s", s ? s : "(none)");
}

/* Returns a failure without filling anything, and leaves a stray result behind. */
static int m_sloppy(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	*result = json_true();
	return 1;
}

static const ssp_rpc_method methods[] = {
    {"echo", m_echo},
    {"add", m_add},
    {"fail", m_fail},
    {"sloppy", m_sloppy},
};

static void check_response(json_t *r)
{
	json_t *e = json_object_get(r, "error"), *v = json_object_get(r, "jsonrpc");

	if (!json_is_object(r)) abort();
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) abort();
	if (!json_object_get(r, "id")) abort();
	if (!e == !json_object_get(r, "result")) abort();
	if (e && (!json_is_integer(json_object_get(e, "code")) ||
	          !json_is_string(json_object_get(e, "message"))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssp_rpc_config cfg;
	json_t *reply;
	json_error_t jerr;
	size_t i;
	int status = 0;
	char *out;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_body = 1 << 20;
	cfg.max_batch = 16;
	cfg.max_depth = 32;
	cfg.max_reply = 1024; /* small: batches reach the reply cap and its refusals */
	cfg.methods = methods;
	cfg.nmethods = sizeof(methods) / sizeof(methods[0]);
	out = ssp_rpc_handle_body(&cfg, (const char *)data, size, &status);
	if (!out) {
		if (status != 204 && status != 500) abort();
		goto out;
	}
	if (status != 200 && status != 413) abort();
	reply = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
	/* an echoed id beyond 64 bits is valid JSON that jansson reads only as a real */
	if (!reply)
		reply = json_loads(out, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	/* and one beyond a double (1e400) not at all: only that failure is acceptable */
	if (!reply && strstr(jerr.text, "real number overflow")) goto out;
	if (!reply) abort();
	if (json_is_array(reply)) {
		if (json_array_size(reply) == 0 || json_array_size(reply) > cfg.max_batch) abort();
		for (i = 0; i < json_array_size(reply); i++)
			check_response(json_array_get(reply, i));
	} else {
		check_response(reply);
	}
	json_decref(reply);
out:
	free(out);
	return 0;
}
