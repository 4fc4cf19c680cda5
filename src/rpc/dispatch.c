/*
 * dispatch.c — the transport-free core of the JSON-RPC 2.0 server (rpc
 * layer): bounds-checks a request body, pre-scans its nesting depth, parses
 * it with jansson, validates each request, calls the handler from the method
 * table and builds the response (single, batch, or nothing for
 * notifications). server.c wraps it in HTTP; the fuzz harness calls it
 * directly. It keeps no state, so any number of threads may call it at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/server_internal.h"
#include "ssp/rpc.h"

int ssp_rpc_fail(ssp_rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return -1;
}

int ssp_rpc_depth_ok(const char *json, size_t len, size_t max_depth)
{
	size_t depth = 0;
	int in_str = 0, esc = 0, ok = 1;

	for (size_t i = 0; i < len; i++) {
		char c = json[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth) {
				ok = 0;
				break;
			}
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return ok;
}

static const char *default_message(int code)
{
	switch (code) {
	case SSP_RPC_PARSE_ERROR:
		return "Parse error";
	case SSP_RPC_INVALID_REQUEST:
		return "Invalid Request";
	case SSP_RPC_METHOD_NOT_FOUND:
		return "Method not found";
	case SSP_RPC_INVALID_PARAMS:
		return "Invalid params";
	case SSP_RPC_INTERNAL_ERROR:
		return "Internal error";
	default:
		return "Server error";
	}
}

/*
 * A JSON string of s. Handler messages are printf output truncated to 256
 * bytes, and parser messages quote input, so either may hold invalid UTF-8,
 * which jansson refuses; such bytes become '?'. NULL only when out of memory.
 */
static json_t *safe_string(const char *s)
{
	json_t *j = json_string(s);
	char *copy = NULL;

	if (j) goto out;
	copy = strdup(s);
	if (!copy) goto out;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80) *p = '?';
	j = json_string(copy);
out:
	free(copy);
	return j;
}

/* {"code", "message"[, "data"]}; steals data. NULL when out of memory. */
static json_t *error_object(int code, const char *message, json_t *data)
{
	json_t *e = json_object();
	int rc;

	if (!e) goto out;
	if (!message || !message[0]) message = default_message(code);
	if (json_object_set_new(e, "code", json_integer(code)) ||
	    json_object_set_new(e, "message", safe_string(message)))
		goto fail;
	if (data) {
		rc = json_object_set_new(e, "data", data); /* steals data even when it fails */
		data = NULL;
		if (rc) goto fail;
	}
	goto out;
fail:
	json_decref(e);
	e = NULL;
out:
	json_decref(data);
	return e;
}

/*
 * {"jsonrpc":"2.0", "result"|"error", "id"}; steals result and error (one
 * of them is NULL), borrows id (NULL means null). NULL when out of memory.
 */
static json_t *response(json_t *id, json_t *result, json_t *error)
{
	const char *key = result ? "result" : "error";
	json_t *r = NULL, *member = result ? result : error;
	int rc;

	if (!member) goto out;
	r = json_object();
	if (!r || json_object_set_new(r, "jsonrpc", json_string("2.0"))) goto fail;
	rc = json_object_set_new(r, key, member);
	member = NULL; /* stolen even when it fails */
	if (rc || json_object_set_new(r, "id", id ? json_incref(id) : json_null())) goto fail;
	goto out;
fail:
	json_decref(r);
	r = NULL;
out:
	json_decref(member);
	return r;
}

static json_t *error_response(json_t *id, int code, const char *message)
{
	return response(id, NULL, error_object(code, message, NULL));
}

static const ssp_rpc_method *find_method(const ssp_rpc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nmethods; i++)
		if (cfg->methods[i].name && strcmp(cfg->methods[i].name, name) == 0)
			return &cfg->methods[i];
	return NULL;
}

/* Runs a handler and turns its outcome into a response (new reference; NULL when out of memory). */
static json_t *call_method(const ssp_rpc_config *cfg, const ssp_rpc_method *m, json_t *params,
                           json_t *id)
{
	json_t *result = NULL, *r;
	ssp_rpc_error err;

	memset(&err, 0, sizeof(err));
	if (m->fn(m->ctx ? m->ctx : cfg->ctx, params, &result, &err) != 0) {
		json_decref(result);
		r = response(id, NULL,
		             error_object(err.code ? err.code : SSP_RPC_INTERNAL_ERROR, err.message,
		                          err.data));
	} else {
		json_decref(err.data); /* a handler that succeeded has no use for it */
		r = response(id, result ? result : json_null(), NULL);
	}
	return r;
}

/*
 * Validates and runs one request. Sets *out to its response (new reference)
 * or to NULL for a notification, which gets no reply, not even an error.
 * Invalid requests are always answered, with their id when it is valid.
 * Returns 0, or SSP_ERR_NOMEM when a response could not be built.
 */
static int handle_one(const ssp_rpc_config *cfg, json_t *req, json_t **out)
{
	json_t *id = NULL, *v, *params, *r = NULL;
	const char *why = NULL;
	char msg[128];
	int has_id = 0, rc = 0;
	const ssp_rpc_method *fn;

	if (!json_is_object(req)) {
		why = "request must be an object";
		goto invalid;
	}
	v = json_object_get(req, "id");
	if (v) {
		if (!json_is_string(v) && !json_is_number(v) && !json_is_null(v)) {
			why = "id must be a string, a number or null";
			goto invalid;
		}
		id = v;
		has_id = 1;
	}
	v = json_object_get(req, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		why = "jsonrpc must be \"2.0\"";
		goto invalid;
	}
	v = json_object_get(req, "method");
	if (!json_is_string(v)) {
		why = "method must be a string";
		goto invalid;
	}
	params = json_object_get(req, "params");
	if (params && !json_is_object(params) && !json_is_array(params)) {
		why = "params must be an object or an array";
		goto invalid;
	}
	fn = find_method(cfg, json_string_value(v));
	if (!fn) {
		if (has_id) {
			snprintf(msg, sizeof(msg), "Method not found: %.64s", json_string_value(v));
			r = error_response(id, SSP_RPC_METHOD_NOT_FOUND, msg);
		}
	} else {
		r = call_method(cfg, fn, params, id);
		if (!has_id) {
			json_decref(r);
			r = NULL;
		}
	}
	if (has_id && !r) rc = SSP_ERR_NOMEM;
	goto out;
invalid:
	r = error_response(id, SSP_RPC_INVALID_REQUEST, why);
	if (!r) rc = SSP_ERR_NOMEM;
out:
	*out = r;
	return rc;
}

/* Handles a parsed batch; *out is the array of replies, or NULL if there are none. */
static int handle_batch(const ssp_rpc_config *cfg, json_t *batch, json_t **out)
{
	json_t *replies = json_array(), *r;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!replies) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < json_array_size(batch); i++) {
		rc = handle_one(cfg, json_array_get(batch, i), &r);
		if (rc) goto out;
		if (r && json_array_append_new(replies, r)) {
			rc = SSP_ERR_NOMEM;
			goto out;
		}
	}
	if (json_array_size(replies) > 0) {
		*out = replies;
		replies = NULL;
	}
out:
	json_decref(replies);
	return rc;
}

char *ssp_rpc_handle_body(const ssp_rpc_config *cfg, const char *body, size_t len, int *http_status)
{
	size_t max_body = cfg->max_body ? cfg->max_body : SSP_RPC_DEFAULT_MAX_BODY;
	size_t max_batch = cfg->max_batch ? cfg->max_batch : SSP_RPC_DEFAULT_MAX_BATCH;
	size_t max_depth = cfg->max_depth ? cfg->max_depth : SSP_RPC_DEFAULT_MAX_DEPTH;
	json_t *req = NULL, *resp = NULL;
	json_error_t jerr;
	char msg[sizeof(jerr.text) + 32];
	char *text = NULL;
	int status = 200, rc = 0;

	if (len > max_body) {
		status = 413;
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "request body too large");
	} else if (!ssp_rpc_depth_ok(body, len, max_depth)) {
		/* Before jansson sees it: its parser recurses once per level. */
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "JSON nested too deeply");
	} else if (!(req =
	                 json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr))) {
		/* Duplicate keys land here too: an ambiguous request is unparseable. */
		snprintf(msg, sizeof(msg), "Parse error: %s", jerr.text);
		resp = error_response(NULL, SSP_RPC_PARSE_ERROR, msg);
	} else if (!json_is_array(req)) {
		rc = handle_one(cfg, req, &resp);
		if (!rc && !resp) status = 204; /* a notification: no body */
	} else if (json_array_size(req) == 0) {
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "empty batch");
	} else if (json_array_size(req) > max_batch) {
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "batch too large");
	} else {
		rc = handle_batch(cfg, req, &resp);
		if (!rc && !resp) status = 204; /* only notifications */
	}
	if (status == 204) goto out;
	if (!rc && resp) text = json_dumps(resp, JSON_COMPACT);
	if (!text) status = 500;
out:
	json_decref(req);
	json_decref(resp);
	*http_status = status;
	return text;
}
