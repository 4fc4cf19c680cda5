/*
 * dispatch.c — the transport-free core of the JSON-RPC 2.0 server (rpc
 * layer): bounds-checks a request body, pre-scans its nesting depth, parses
 * it with jansson, validates each request, calls the handler from the method
 * table and builds the response (single, batch, or nothing for
 * notifications). server.c wraps it in HTTP; the fuzz harness calls it
 * directly. It keeps no state, so any number of threads may call it at once.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/server_internal.h"
#include "ssp/rpc.h"

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

static const int stat_codes[SSP_RPC_STAT_NCODES - 1] = {
    0,
    SSP_RPC_PARSE_ERROR,
    SSP_RPC_INVALID_REQUEST,
    SSP_RPC_METHOD_NOT_FOUND,
    SSP_RPC_INVALID_PARAMS,
    SSP_RPC_INTERNAL_ERROR,
    SSP_RPC_TX_REJECTED,
    SSP_RPC_NOT_FOUND,
    SSP_RPC_BUSY,
    SSP_RPC_LIMIT,
    -32010,
};

int ssp_rpc_stat_code(size_t i)
{
	return i < SSP_RPC_STAT_NCODES - 1 ? stat_codes[i] : 0;
}

/* Counts one reply r (a response object, or NULL for a notification that ran: success) for row. */
static void count(ssp_rpc_stats *st, size_t row, const json_t *r)
{
	json_t *e = r ? json_object_get(r, "error") : NULL;
	int code = e ? (int)json_integer_value(json_object_get(e, "code")) : 0;
	size_t col = SSP_RPC_STAT_NCODES - 1;

	if (!st || !st->n || row >= st->rows) return;
	for (size_t i = 0; i < SSP_RPC_STAT_NCODES - 1; i++)
		if (stat_codes[i] == code) {
			col = i;
			break;
		}
	atomic_fetch_add_explicit(&st->n[row * SSP_RPC_STAT_NCODES + col], 1, memory_order_relaxed);
}

/* Why the rest of a batch is answered with an error instead of being run. */
typedef struct {
	int code;
	char message[96];
} refusal;

/*
 * Validates and runs one request (or, when refuse is set, answers a valid
 * one with that error without running it). Sets *out to its response (new reference)
 * or to NULL for a notification, which gets no reply, not even an error.
 * Invalid requests are always answered, with their id when it is valid.
 * Returns 0, or SSP_ERR_NOMEM when a response could not be built.
 */
static int handle_one(const ssp_rpc_config *cfg, ssp_rpc_stats *st, json_t *req,
                      const refusal *refuse, json_t **out)
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
		snprintf(msg, sizeof(msg), "Method not found: %.64s", json_string_value(v));
		r = error_response(id, SSP_RPC_METHOD_NOT_FOUND, msg);
		count(st, cfg->nmethods, r);
	} else if (refuse) {
		/* over a reply limit: not run, answered with the reason */
		r = error_response(id, refuse->code, refuse->message);
		count(st, (size_t)(fn - cfg->methods), r);
	} else {
		r = call_method(cfg, fn, params, id);
		count(st, (size_t)(fn - cfg->methods), r);
	}
	if (!has_id) {
		json_decref(r); /* a notification: nothing is sent, not even an error */
		r = NULL;
	}
	if (has_id && !r) rc = SSP_ERR_NOMEM;
	goto out;
invalid:
	r = error_response(id, SSP_RPC_INVALID_REQUEST, why);
	count(st, cfg->nmethods + 1, r);
	if (!r) rc = SSP_ERR_NOMEM;
out:
	*out = r;
	return rc;
}

bool ssp_rpc_budget_over(const ssp_rpc_budget *b, size_t n)
{
	return b && b->limit && atomic_load(&b->used) + n > b->limit;
}

void ssp_rpc_budget_add(ssp_rpc_budget *b, size_t n)
{
	if (b) atomic_fetch_add(&b->used, n);
}

void ssp_rpc_budget_release(ssp_rpc_budget *b, size_t n)
{
	if (b) atomic_fetch_sub(&b->used, n);
}

/*
 * Integers beyond 64 bits. jansson refuses them ("too big integer"), yet
 * they are valid JSON, and a client may use one as its id. Before parsing,
 * each (up to BIG_MAX per body; also reals beyond a double, like 1e400) is
 * replaced by a marker string "\u0001bN";
 * the marker in a reply (an echoed id) is replaced by the original digits
 * again. A big number where a method expects an integer is a string to it:
 * -32602. A longer body or more of them stays a parse error.
 */
#define BIG_MAX 16
#define BIG_MARK "\"\\u0001b" /* how jansson writes the marker's start */
typedef struct {
	size_t n;
	const char *body;
	size_t off[BIG_MAX], len[BIG_MAX];
} bignums;

/* true if the integer literal p[0..n) (optional '-', digits) does not fit int64_t. */
static bool int_too_big(const char *p, size_t n)
{
	static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
	bool neg = n && p[0] == '-';
	const char *lim = neg ? min : max;
	size_t digits = n - neg;

	if (digits != sizeof(max) - 1) return digits > sizeof(max) - 1;
	return memcmp(p + neg, lim, digits) > 0;
}

/* true if the number literal p[0..n) overflows a double (jansson refuses it too). */
static bool real_too_big(const char *p, size_t n)
{
	char buf[64];
	double v;

	if (n >= sizeof(buf)) return false; /* a very long literal: left to the parser */
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, NULL);
	return errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
}

/* Finds the number literals outside strings that jansson cannot hold (beyond 64 bits). */
static void find_bigs(bignums *b, const char *json, size_t len)
{
	size_t i = 0, start;
	bool in_str = false, esc = false, integer;

	b->n = 0;
	b->body = json;
	while (i < len) {
		char c = json[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			i++;
			continue;
		}
		if (c == '"') {
			in_str = true;
			i++;
			continue;
		}
		if (c != '-' && (c < '0' || c > '9')) {
			i++;
			continue;
		}
		start = i;
		integer = true;
		while (i < len &&
		       (json[i] == '-' || json[i] == '+' || json[i] == '.' || json[i] == 'e' ||
		        json[i] == 'E' || (json[i] >= '0' && json[i] <= '9'))) {
			if (json[i] == '.' || json[i] == 'e' || json[i] == 'E' || json[i] == '+' ||
			    (json[i] == '-' && i != start))
				integer = false;
			i++;
		}
		if (integer ? !int_too_big(json + start, i - start)
		            : !real_too_big(json + start, i - start))
			continue;
		if (b->n == BIG_MAX) {
			b->n = 0; /* too many: left to the parser, which refuses them */
			return;
		}
		b->off[b->n] = start;
		b->len[b->n++] = i - start;
	}
}

#define BIG_MARK_MAX 16 /* "\u0001bNN" with its quotes: 11 bytes; a real like 1e400 is shorter */

/* The body with each big number replaced by its marker; NULL when out of memory. */
static char *mark_bigs(const bignums *b, size_t len, size_t *out_len)
{
	char *out = malloc(len + b->n * BIG_MARK_MAX + 1), *w = out;
	size_t from = 0;

	if (!out) return NULL;
	for (size_t k = 0; k < b->n; k++) {
		memcpy(w, b->body + from, b->off[k] - from);
		w += b->off[k] - from;
		w += sprintf(w, "\"\\u0001b%zu\"", k);
		from = b->off[k] + b->len[k];
	}
	memcpy(w, b->body + from, len - from);
	w += len - from;
	*w = '\0';
	*out_len = (size_t)(w - out);
	return out;
}

/*
 * Replaces the markers in a reply by the original digits (first pass: the
 * size, second: the copy); frees text. NULL when out of memory.
 */
static char *restore_bigs(const bignums *b, char *text)
{
	char *out = NULL, *w = NULL, *p, *m, *end;
	size_t size = 0, k;

	if (!b || !b->n || !strstr(text, BIG_MARK)) return text;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !(w = out = malloc(size + 1))) goto out;
		for (p = text; (m = strstr(p, BIG_MARK));) {
			k = strtoul(m + strlen(BIG_MARK), &end, 10);
			bool hit = *end == '"' && k < b->n;
			size_t plain = (size_t)(m - p) + (hit ? 0 : 1);
			size_t digits = hit ? b->len[k] : 0;
			if (pass) {
				memcpy(w, p, plain);
				memcpy(w + plain, b->body + (hit ? b->off[k] : 0), digits);
				w += plain + digits;
			} else {
				size += plain + digits;
			}
			p = hit ? end + 1 : m + 1;
		}
		if (pass)
			strcpy(w, p);
		else
			size += strlen(p);
	}
out:
	free(text);
	return out;
}

/* The reply text being built: every byte appended is charged to the budget. */
typedef struct {
	char *p;
	size_t len, cap;
	ssp_rpc_budget *budget;
	const bignums *bigs; /* markers to restore in each reply */
	int err;
} outbuf;

static void out_append(outbuf *o, const char *s, size_t n)
{
	size_t cap;
	char *np;

	if (o->err) return;
	if (o->len + n + 1 > o->cap) {
		cap = o->cap ? o->cap : 256;
		while (cap < o->len + n + 1)
			cap *= 2;
		np = realloc(o->p, cap);
		if (!np) {
			o->err = SSP_ERR_NOMEM;
			return;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
	ssp_rpc_budget_add(o->budget, n);
}

/*
 * Appends one reply, serialized (and freed) at once so that a batch never
 * holds more than one reply as a tree. When it would take the request's
 * reply past max_reply, or the server's replies in flight past their
 * budget, it is replaced by an error and *refuse is set so that the rest of
 * the batch is not run. Steals r.
 */
static void out_reply(outbuf *o, json_t *r, size_t max_reply, const char *sep, refusal *refuse,
                      bool *refused)
{
	json_t *id = json_incref(json_object_get(r, "id"));
	char *text = json_dumps(r, JSON_COMPACT);
	size_t n;

	if (text) text = restore_bigs(o->bigs, text);
	n = text ? strlen(text) + strlen(sep) : 0;

	json_decref(r);
	if (!text) {
		o->err = SSP_ERR_NOMEM;
		goto out;
	}
	if (!*refused && n > max_reply - (o->len < max_reply ? o->len : max_reply)) {
		refuse->code = SSP_RPC_LIMIT;
		snprintf(refuse->message, sizeof(refuse->message),
		         "reply too large: a request's replies are limited to %zu bytes",
		         max_reply);
		*refused = true;
	} else if (!*refused && ssp_rpc_budget_over(o->budget, n)) {
		refuse->code = SSP_RPC_BUSY;
		snprintf(refuse->message, sizeof(refuse->message),
		         "server busy: too many reply bytes in flight, retry");
		*refused = true;
	} else {
		out_append(o, sep, strlen(sep));
		out_append(o, text, n - strlen(sep));
		goto out;
	}
	free(text);
	text = NULL;
	/* the refused reply itself becomes the error (a few dozen bytes) */
	r = error_response(id, refuse->code, refuse->message);
	text = r ? json_dumps(r, JSON_COMPACT) : NULL;
	if (text) text = restore_bigs(o->bigs, text);
	json_decref(r);
	if (!text) {
		o->err = SSP_ERR_NOMEM;
		goto out;
	}
	out_append(o, sep, strlen(sep));
	out_append(o, text, strlen(text));
out:
	json_decref(id);
	free(text);
}

/* Handles a parsed batch into o ("[...]"); nothing appended if every element was a notification. */
static int handle_batch(const ssp_rpc_config *cfg, ssp_rpc_stats *st, size_t max_reply,
                        json_t *batch, outbuf *o)
{
	refusal refuse = {0};
	bool refused = false;
	size_t i, nout = 0;
	json_t *r;
	int rc = 0;

	for (i = 0; i < json_array_size(batch); i++) {
		rc = handle_one(cfg, st, json_array_get(batch, i), refused ? &refuse : NULL, &r);
		if (rc) goto out;
		if (!r) continue;
		out_reply(o, r, max_reply, nout ? "," : "[", &refuse, &refused);
		nout++;
		if (o->err) {
			rc = o->err;
			goto out;
		}
	}
	if (nout) out_append(o, "]", 1);
	rc = o->err;
out:
	return rc;
}

char *ssp_rpc_handle_body_budget(const ssp_rpc_config *cfg, ssp_rpc_budget *budget,
                                 const char *body, size_t len, int *http_status, size_t *out_len)
{
	return ssp_rpc_handle_body_stats(cfg, budget, NULL, body, len, http_status, out_len);
}

char *ssp_rpc_handle_body_stats(const ssp_rpc_config *cfg, ssp_rpc_budget *budget,
                                ssp_rpc_stats *stats, const char *body, size_t len,
                                int *http_status, size_t *out_len)
{
	size_t max_body = cfg->max_body ? cfg->max_body : SSP_RPC_DEFAULT_MAX_BODY;
	size_t max_batch = cfg->max_batch ? cfg->max_batch : SSP_RPC_DEFAULT_MAX_BATCH;
	size_t max_depth = cfg->max_depth ? cfg->max_depth : SSP_RPC_DEFAULT_MAX_DEPTH;
	size_t max_reply = cfg->max_reply ? cfg->max_reply : SSP_RPC_DEFAULT_MAX_REPLY;
	outbuf o = {.budget = budget};
	bignums bigs;
	char *marked = NULL;
	size_t marked_len = 0;
	json_t *req = NULL, *resp = NULL;
	json_error_t jerr;
	refusal refuse = {0};
	bool refused = false;
	char msg[sizeof(jerr.text) + 32];
	int status = 200, rc = 0;

	if (len > max_body) {
		status = 413;
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "request body too large");
	} else if (!ssp_rpc_depth_ok(body, len, max_depth)) {
		/* Before jansson sees it: its parser recurses once per level. */
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "JSON nested too deeply");
	} else if ((find_bigs(&bigs, body, len), bigs.n) &&
	           !(marked = mark_bigs(&bigs, len, &marked_len))) {
		rc = SSP_ERR_NOMEM;
	} else if (!(req = json_loadb(marked ? marked : body, marked ? marked_len : len,
	                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr))) {
		/* Duplicate keys land here too: an ambiguous request is unparseable. */
		snprintf(msg, sizeof(msg), "Parse error: %s", jerr.text);
		resp = error_response(NULL, SSP_RPC_PARSE_ERROR, msg);
	} else if (!json_is_array(req)) {
		rc = handle_one(cfg, stats, req, NULL, &resp);
		if (!rc && !resp) status = 204; /* a notification: no body */
	} else if (json_array_size(req) == 0) {
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "empty batch");
	} else if (json_array_size(req) > max_batch) {
		resp = error_response(NULL, SSP_RPC_INVALID_REQUEST, "batch too large");
	} else {
		o.bigs = &bigs;
		rc = handle_batch(cfg, stats, max_reply, req, &o);
		if (!rc && !o.len) status = 204; /* only notifications */
	}
	if (!req ||
	    (json_is_array(req) && (json_array_size(req) == 0 || json_array_size(req) > max_batch)))
		count(stats, cfg->nmethods + 1, resp); /* refused as a whole */
	if (status == 204 || rc) goto out;
	if (resp) {
		if (req) o.bigs = &bigs;
		out_reply(&o, resp, max_reply, "", &refuse, &refused);
		resp = NULL;
		rc = o.err;
	}
out:
	free(marked);
	json_decref(req);
	json_decref(resp);
	if (rc || status == 204) {
		ssp_rpc_budget_release(budget, o.len);
		free(o.p);
		o.p = NULL;
		o.len = 0;
	}
	if (!o.p && status != 204) status = 500; /* out of memory somewhere */
	*http_status = status;
	*out_len = o.len;
	return o.p;
}

char *ssp_rpc_handle_body(const ssp_rpc_config *cfg, const char *body, size_t len, int *http_status)
{
	size_t n;

	return ssp_rpc_handle_body_budget(cfg, NULL, body, len, http_status, &n);
}
