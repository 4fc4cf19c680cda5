/*
 * test_rpc_server.c — unit tests of the rpc layer: a real server on an
 * ephemeral loopback port with a toy method table, driven by the library's
 * client and by raw HTTP through libcurl (for the malformed requests the
 * client never sends). Covers the JSON-RPC 2.0 request shapes, batches,
 * limits (body, batch, nesting), HTTP routes, concurrency and the client's
 * error mapping (connect failure, timeout, JSON-RPC errors).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc/server_internal.h"
#include "ssp/rpc.h"

#define MAX_BODY 4096
#define MAX_BATCH 10
#define MAX_DEPTH 32

struct toy {
	pthread_mutex_t lock;
	int notes;
};

static struct toy g_toy = {PTHREAD_MUTEX_INITIALIZER, 0};
static ssp_rpc_server *g_srv;
static char g_base[64]; /* "http://127.0.0.1:PORT" */

/* ------------------------------------------------------------ toy methods */

static int m_echo(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	*result = params ? json_incref(params) : json_null();
	return 0;
}

static int m_add(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	json_t *a = json_array_get(params, 0), *b = json_array_get(params, 1);

	if (!json_is_array(params) || json_array_size(params) != 2 || !json_is_integer(a) ||
	    !json_is_integer(b))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "want [int, int]");
	*result = json_integer(json_integer_value(a) + json_integer_value(b));
	return 0;
}

static int m_fail(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	err->data = json_pack("{s:s, s:s}", "error", "NONCE_LOW", "reason", "nonce already used");
	return ssp_rpc_fail(err, SSP_RPC_TX_REJECTED, "rejected: %s", "nonce");
}

static int m_slow(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	struct timespec ts = {0, 50 * 1000 * 1000};

	nanosleep(&ts, NULL);
	*result = json_string("done");
	return 0;
}

static int m_note(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	struct toy *t = ctx;

	pthread_mutex_lock(&t->lock);
	t->notes++;
	pthread_mutex_unlock(&t->lock);
	return 0; /* no result: the server must answer null */
}

/* Fails without a code or message: the server must fill in -32603. */
static int m_bare_fail(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	return 1;
}

/* Fails with a message that is not valid UTF-8. */
static int m_bad_utf8(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err)
{
	return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "no such thing: \xff\xfe");
}

static const ssp_rpc_method g_methods[] = {
    {"echo", m_echo},         {"add", m_add},   {"fail", m_fail},
    {"slow", m_slow},         {"note", m_note}, {"bare_fail", m_bare_fail},
    {"bad_utf8", m_bad_utf8},
};

static char *toy_metrics(void *ctx)
{
	return strdup("# TYPE ssp_test counter\nssp_test 1\n");
}

static int notes(void)
{
	int n;

	pthread_mutex_lock(&g_toy.lock);
	n = g_toy.notes;
	pthread_mutex_unlock(&g_toy.lock);
	return n;
}

/* ------------------------------------------------------------ raw HTTP */

struct http_reply {
	long status;
	char *body; /* NUL-terminated */
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_reply *r = ud;
	size_t n = size * nmemb;
	char *nb = realloc(r->body, r->len + n + 1);

	if (!nb) return 0;
	memcpy(nb + r->len, p, n);
	r->len += n;
	nb[r->len] = '\0';
	r->body = nb;
	return n;
}

/* Streams a fixed body in small pieces, so curl must use chunked encoding. */
struct chunked_src {
	size_t left;
};

static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
	struct chunked_src *s = ud;
	size_t n = size * nmemb;

	if (n > 1000) n = 1000;
	if (n > s->left) n = s->left;
	memset(p, ' ', n);
	s->left -= n;
	return n;
}

/*
 * One HTTP request. method "GET" or "POST"; body may be NULL. `expect`
 * keeps curl's Expect: 100-continue; `chunked` > 0 streams that many bytes.
 */
static struct http_reply http_full(const char *method, const char *path, const char *body,
                                   size_t len, int expect, size_t chunked)
{
	struct http_reply r = {0, NULL, 0};
	struct curl_slist *h = NULL;
	struct chunked_src src = {chunked};
	char url[128];
	CURL *c = curl_easy_init();

	assert_non_null(c);
	snprintf(url, sizeof(url), "%s%s", g_base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, expect ? "Expect: 100-continue" : "Expect:");
	if (chunked) h = curl_slist_append(h, "Transfer-Encoding: chunked");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		if (chunked) {
			curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(c, CURLOPT_READDATA, &src);
		} else {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r;
}

static struct http_reply post(const char *body)
{
	return http_full("POST", "/rpc", body, strlen(body), 0, 0);
}

/* POSTs body, expects HTTP 200 and returns the parsed JSON reply. */
static json_t *post_json(const char *body)
{
	struct http_reply r = post(body);
	json_error_t jerr;
	json_t *j;

	assert_int_equal(r.status, 200);
	assert_non_null(r.body);
	j = json_loads(r.body, 0, &jerr);
	if (!j) fail_msg("reply is not JSON: %s", r.body);
	free(r.body);
	return j;
}

/* Asserts reply is a JSON-RPC error with `code` and the given id (-1 = null). */
static void assert_error(json_t *reply, int code, json_int_t id)
{
	json_t *e = json_object_get(reply, "error");

	assert_true(json_is_object(reply));
	assert_string_equal(json_string_value(json_object_get(reply, "jsonrpc")), "2.0");
	assert_null(json_object_get(reply, "result"));
	assert_true(json_is_object(e));
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	assert_true(json_is_string(json_object_get(e, "message")));
	if (id < 0)
		assert_true(json_is_null(json_object_get(reply, "id")));
	else
		assert_int_equal(json_integer_value(json_object_get(reply, "id")), id);
}

static void assert_error_body(const char *body, int code, json_int_t id)
{
	json_t *j = post_json(body);

	assert_error(j, code, id);
	json_decref(j);
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
	ssp_rpc_config cfg;

	assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "127.0.0.1:0";
	cfg.max_body = MAX_BODY;
	cfg.max_batch = MAX_BATCH;
	cfg.max_depth = MAX_DEPTH;
	cfg.threads = 4;
	cfg.methods = g_methods;
	cfg.nmethods = sizeof(g_methods) / sizeof(g_methods[0]);
	cfg.ctx = &g_toy;
	cfg.metrics = toy_metrics;
	if (ssp_rpc_server_start(&g_srv, &cfg) != 0) return -1;
	if (ssp_rpc_server_port(g_srv) == 0) return -1;
	snprintf(g_base, sizeof(g_base), "http://127.0.0.1:%u", ssp_rpc_server_port(g_srv));
	return 0;
}

static int teardown(void **state)
{
	ssp_rpc_server_stop(g_srv);
	g_srv = NULL;
	curl_global_cleanup();
	return 0;
}

static ssp_rpc_client *client(long timeout_ms)
{
	ssp_rpc_client *c = NULL;

	assert_int_equal(ssp_rpc_client_new(&c, g_base, timeout_ms), 0);
	assert_non_null(c);
	return c;
}

/* ------------------------------------------------------------ tests */

static void test_client_valid_calls(void **state)
{
	ssp_rpc_client *c = client(0);
	ssp_rpc_error err;
	json_t *res = NULL, *params;

	assert_int_equal(ssp_rpc_call(c, "add", json_pack("[i,i]", 2, 3), &res, &err), 0);
	assert_true(json_is_integer(res));
	assert_int_equal(json_integer_value(res), 5);
	json_decref(res);

	params = json_pack("{s:i, s:[s, b]}", "a", 1, "b", "x", 1);
	json_incref(params); /* keep one reference to compare with */
	assert_int_equal(ssp_rpc_call(c, "echo", params, &res, &err), 0);
	assert_true(json_equal(res, params));
	json_decref(res);
	json_decref(params);

	/* No params at all; handler sees NULL and echoes null. */
	assert_int_equal(ssp_rpc_call(c, "echo", NULL, &res, &err), 0);
	assert_true(json_is_null(res));
	json_decref(res);

	/* A handler that succeeds without a result answers null. */
	assert_int_equal(ssp_rpc_call(c, "note", NULL, &res, &err), 0);
	assert_true(json_is_null(res));
	json_decref(res);
	ssp_rpc_client_free(c);
}

static void test_client_rpc_errors(void **state)
{
	ssp_rpc_client *c = client(0);
	ssp_rpc_error err;
	json_t *res = NULL;

	assert_int_equal(ssp_rpc_call(c, "fail", NULL, &res, &err), SSP_ERR_RPC);
	assert_null(res);
	assert_int_equal(err.code, SSP_RPC_TX_REJECTED);
	assert_string_equal(err.message, "rejected: nonce");
	assert_non_null(err.data);
	assert_string_equal(json_string_value(json_object_get(err.data, "error")), "NONCE_LOW");
	json_decref(err.data);

	assert_int_equal(ssp_rpc_call(c, "add", json_pack("[s]", "x"), &res, &err), SSP_ERR_RPC);
	assert_int_equal(err.code, SSP_RPC_INVALID_PARAMS);
	assert_string_equal(err.message, "want [int, int]");
	assert_null(err.data);

	assert_int_equal(ssp_rpc_call(c, "nope", NULL, &res, &err), SSP_ERR_RPC);
	assert_int_equal(err.code, SSP_RPC_METHOD_NOT_FOUND);
	assert_string_equal(err.message, "Method not found: nope");

	assert_int_equal(ssp_rpc_call(c, "bare_fail", NULL, &res, &err), SSP_ERR_RPC);
	assert_int_equal(err.code, SSP_RPC_INTERNAL_ERROR);
	assert_string_equal(err.message, "Internal error");

	assert_int_equal(ssp_rpc_call(c, "bad_utf8", NULL, &res, &err), SSP_ERR_RPC);
	assert_int_equal(err.code, SSP_RPC_NOT_FOUND);
	assert_string_equal(err.message, "no such thing: ??");

	/* params must be structured; the client refuses and still consumes them. */
	assert_int_equal(ssp_rpc_call(c, "echo", json_integer(1), &res, &err), SSP_ERR_INVAL);
	ssp_rpc_client_free(c);
}

static void test_raw_valid_and_ids(void **state)
{
	json_t *j;

	j = post_json("{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[40,2],\"id\":7}");
	assert_int_equal(json_integer_value(json_object_get(j, "result")), 42);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
	assert_null(json_object_get(j, "error"));
	json_decref(j);

	j = post_json(
	    "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"k\":\"v\"},\"id\":\"abc\"}");
	assert_string_equal(json_string_value(json_object_get(j, "id")), "abc");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "result"), "k")),
	                    "v");
	json_decref(j);

	/* id null is a request (not a notification) and is answered with id null. */
	j = post_json("{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,1],\"id\":null}");
	assert_int_equal(json_integer_value(json_object_get(j, "result")), 2);
	assert_true(json_is_null(json_object_get(j, "id")));
	json_decref(j);

	/* POST / is served like POST /rpc. */
	const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":1}";
	struct http_reply r = http_full("POST", "/", req, strlen(req), 0, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"jsonrpc\":\"2.0\",\"result\":3,\"id\":1}");
	free(r.body);
}

static void test_notification(void **state)
{
	int before = notes();
	struct http_reply r = post("{\"jsonrpc\":\"2.0\",\"method\":\"note\",\"params\":[]}");

	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	free(r.body);
	/* The handler ran before the reply was sent. */
	assert_int_equal(notes(), before + 1);

	/* A notification of an unknown method is not answered either. */
	r = post("{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}");
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	free(r.body);

	/* Nor is one whose handler fails. */
	r = post("{\"jsonrpc\":\"2.0\",\"method\":\"fail\"}");
	assert_int_equal(r.status, 204);
	free(r.body);
}

static json_t *find_by_id(json_t *arr, json_int_t id)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (json_integer_value(json_object_get(v, "id")) == id) return v;
	}
	return NULL;
}

static void test_batch_mixed(void **state)
{
	int before = notes();
	json_t *j = post_json("["
	                      "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3],\"id\":1},"
	                      "{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":2},"
	                      "{\"jsonrpc\":\"2.0\",\"method\":\"note\"},"
	                      "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":3},"
	                      "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":\"x\",\"id\":4},"
	                      "{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":5},"
	                      "7"
	                      "]");
	json_t *v;

	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 6); /* the notification gets nothing */
	assert_int_equal(notes(), before + 1);

	v = find_by_id(j, 1);
	assert_non_null(v);
	assert_int_equal(json_integer_value(json_object_get(v, "result")), 5);
	assert_error(find_by_id(j, 2), SSP_RPC_INVALID_REQUEST, 2);
	assert_error(find_by_id(j, 3), SSP_RPC_METHOD_NOT_FOUND, 3);
	assert_error(find_by_id(j, 4), SSP_RPC_INVALID_REQUEST, 4);
	assert_error(find_by_id(j, 5), SSP_RPC_TX_REJECTED, 5);
	v = json_object_get(json_object_get(find_by_id(j, 5), "error"), "data");
	assert_string_equal(json_string_value(json_object_get(v, "reason")), "nonce already used");
	/* The bare 7 is answered in order, with id null. */
	assert_error(json_array_get(j, 5), SSP_RPC_INVALID_REQUEST, -1);
	json_decref(j);
}

static void test_batch_limits(void **state)
{
	char body[2048];
	size_t n = 0;
	struct http_reply r;

	assert_error_body("[]", SSP_RPC_INVALID_REQUEST, -1);
	assert_error_body("[ ]", SSP_RPC_INVALID_REQUEST, -1);

	/* MAX_BATCH + 1 valid requests: one single error, not an array. */
	n += (size_t)snprintf(body + n, sizeof(body) - n, "[");
	for (int i = 0; i <= MAX_BATCH; i++)
		n += (size_t)snprintf(
		    body + n, sizeof(body) - n,
		    "%s{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,%d],\"id\":%d}",
		    i ? "," : "", i, i);
	snprintf(body + n, sizeof(body) - n, "]");
	json_t *j = post_json(body);
	assert_error(j, SSP_RPC_INVALID_REQUEST, -1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "error"), "message")),
	    "batch too large");
	json_decref(j);

	/* Exactly MAX_BATCH is fine. */
	n = (size_t)snprintf(body, sizeof(body), "[");
	for (int i = 0; i < MAX_BATCH; i++)
		n += (size_t)snprintf(
		    body + n, sizeof(body) - n,
		    "%s{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,%d],\"id\":%d}",
		    i ? "," : "", i, i);
	snprintf(body + n, sizeof(body) - n, "]");
	j = post_json(body);
	assert_int_equal(json_array_size(j), MAX_BATCH);
	assert_int_equal(json_integer_value(json_object_get(find_by_id(j, 9), "result")), 10);
	json_decref(j);

	/* A batch of notifications only: 204 and no body. */
	r = post("[{\"jsonrpc\":\"2.0\",\"method\":\"note\"},{\"jsonrpc\":\"2.0\",\"method\":"
	         "\"echo\"}]");
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	free(r.body);
}

static void test_parse_errors(void **state)
{
	struct http_reply r;

	assert_error_body("{\"jsonrpc\":", SSP_RPC_PARSE_ERROR, -1);
	assert_error_body("", SSP_RPC_PARSE_ERROR, -1);
	assert_error_body("not json", SSP_RPC_PARSE_ERROR, -1);
	/* Trailing garbage after a complete request. */
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1} x",
	                  SSP_RPC_PARSE_ERROR, -1);
	/* Duplicate keys are rejected as a parse error (the request is ambiguous). */
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"method\":\"add\",\"id\":1}",
	                  SSP_RPC_PARSE_ERROR, -1);
	/* Invalid UTF-8 inside a string. */
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"\xc3\x28\",\"id\":1}",
	                  SSP_RPC_PARSE_ERROR, -1);
	/* An escaped NUL in a string. */
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"a\\u0000b\",\"id\":1}",
	                  SSP_RPC_PARSE_ERROR, -1);
	/* 17 numbers beyond 64 bits: more than are kept as text, a parse error. */
	assert_error_body("[1e999,1e999,1e999,1e999,1e999,1e999,1e999,1e999,1e999,1e999,1e999,"
	                  "1e999,1e999,1e999,1e999,1e999,1e999]",
	                  SSP_RPC_PARSE_ERROR, -1);

	/* A raw NUL byte in the body. */
	r = http_full("POST", "/rpc", "{\"a\":\0}", 7, 0, 0);
	assert_int_equal(r.status, 200);
	json_t *j = json_loads(r.body, 0, NULL);
	assert_error(j, SSP_RPC_PARSE_ERROR, -1);
	json_decref(j);
	free(r.body);
}

static void test_invalid_requests(void **state)
{
	/* Each is valid JSON but not a valid request: -32600, id echoed when valid. */
	assert_error_body("{\"jsonrpc\":\"2.0\",\"id\":1}", SSP_RPC_INVALID_REQUEST, 1);
	assert_error_body("{\"jsonrpc\":\"1.0\",\"method\":\"echo\",\"id\":2}",
	                  SSP_RPC_INVALID_REQUEST, 2);
	assert_error_body("{\"method\":\"echo\",\"id\":3}", SSP_RPC_INVALID_REQUEST, 3);
	assert_error_body("{\"jsonrpc\":2.0,\"method\":\"echo\",\"id\":4}", SSP_RPC_INVALID_REQUEST,
	                  4);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":1,\"id\":5}", SSP_RPC_INVALID_REQUEST,
	                  5);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":null,\"id\":6}", SSP_RPC_INVALID_REQUEST,
	                  6);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":\"x\",\"id\":7}",
	                  SSP_RPC_INVALID_REQUEST, 7);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":5,\"id\":8}",
	                  SSP_RPC_INVALID_REQUEST, 8);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":null,\"id\":9}",
	                  SSP_RPC_INVALID_REQUEST, 9);
	/* Bad ids: answered with id null. */
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":{\"a\":1}}",
	                  SSP_RPC_INVALID_REQUEST, -1);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":[1]}",
	                  SSP_RPC_INVALID_REQUEST, -1);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":true}",
	                  SSP_RPC_INVALID_REQUEST, -1);
	/* Not an object at all; invalid requests are answered even without an id. */
	assert_error_body("1", SSP_RPC_INVALID_REQUEST, -1);
	assert_error_body("\"x\"", SSP_RPC_INVALID_REQUEST, -1);
	assert_error_body("null", SSP_RPC_INVALID_REQUEST, -1);
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":1}", SSP_RPC_INVALID_REQUEST, -1);
	/* Unknown method with an id. */
	assert_error_body("{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":10}",
	                  SSP_RPC_METHOD_NOT_FOUND, 10);
}

static char *nested(size_t depth)
{
	char *b = malloc(2 * depth + 1);

	assert_non_null(b);
	memset(b, '[', depth);
	memset(b + depth, ']', depth);
	b[2 * depth] = '\0';
	return b;
}

static void test_depth(void **state)
{
	char *b = nested(1000);
	char body[512];
	json_t *j;

	assert_true(strlen(b) <= MAX_BODY);
	j = post_json(b);
	assert_error(j, SSP_RPC_INVALID_REQUEST, -1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "error"), "message")),
	    "JSON nested too deeply");
	json_decref(j);
	free(b);

	/* params nested to exactly MAX_DEPTH overall is accepted: 1 object + 31 arrays. */
	b = nested(MAX_DEPTH - 1);
	snprintf(body, sizeof(body),
	         "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":%s,\"id\":1}", b);
	free(b);
	j = post_json(body);
	assert_true(json_is_array(json_object_get(j, "result")));
	json_decref(j);

	/* One more level is not. */
	b = nested(MAX_DEPTH);
	snprintf(body, sizeof(body),
	         "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":%s,\"id\":1}", b);
	free(b);
	assert_error_body(body, SSP_RPC_INVALID_REQUEST, -1);

	/* Brackets inside strings (with escaped quotes) do not count. */
	assert_int_equal(ssp_rpc_depth_ok("[\"[[[[\\\"[[[[\"]", 14, 1), 1);
	assert_int_equal(ssp_rpc_depth_ok("[[\"]\"]]", 7, 1), 0);
	assert_int_equal(ssp_rpc_depth_ok("{\"a\\\\\":[1]}", 11, 2), 1);
	assert_int_equal(ssp_rpc_depth_ok("{\"a\\\\\":[1]}", 11, 1), 0);
}

static void assert_413(struct http_reply r)
{
	json_t *j;

	assert_int_equal(r.status, 413);
	j = json_loads(r.body, 0, NULL);
	assert_error(j, SSP_RPC_INVALID_REQUEST, -1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "error"), "message")),
	    "request body too large");
	json_decref(j);
	free(r.body);
}

static void test_body_limit(void **state)
{
	size_t n = MAX_BODY + 1;
	char *big = malloc(n);
	json_t *j;

	assert_non_null(big);
	memset(big, ' ', n);
	/* Announced by Content-Length: refused before the body is read. */
	assert_413(http_full("POST", "/rpc", big, n, 1, 0));
	assert_413(http_full("POST", "/rpc", big, n, 0, 0));
	/* Chunked, so the size is only known while reading. */
	assert_413(http_full("POST", "/rpc", NULL, 3 * MAX_BODY, 0, 3 * MAX_BODY));

	/* Exactly MAX_BODY bytes is accepted: a request padded with spaces. */
	const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":1}";
	memcpy(big, req, strlen(req));
	big[MAX_BODY] = '\0';
	struct http_reply r = http_full("POST", "/rpc", big, MAX_BODY, 0, 0);
	assert_int_equal(r.status, 200);
	j = json_loads(r.body, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "result")), 3);
	json_decref(j);
	free(r.body);
	free(big);

	/* The client sees the 413's JSON-RPC error. */
	ssp_rpc_client *c = client(0);
	ssp_rpc_error err;
	json_t *res = NULL;
	char *s = calloc(1, MAX_BODY + 1);
	assert_non_null(s);
	memset(s, 'a', MAX_BODY);
	int rc = ssp_rpc_call(c, "echo", json_pack("[s]", s), &res, &err);
	assert_true(rc == SSP_ERR_RPC || rc == SSP_ERR_CONNECT);
	if (rc == SSP_ERR_RPC) assert_int_equal(err.code, SSP_RPC_INVALID_REQUEST);
	/* The client recovers on its next call. */
	assert_int_equal(ssp_rpc_call(c, "add", json_pack("[i,i]", 1, 1), &res, &err), 0);
	assert_int_equal(json_integer_value(res), 2);
	json_decref(res);
	free(s);
	ssp_rpc_client_free(c);
}

static void test_http_routes(void **state)
{
	struct http_reply r;

	r = http_full("GET", "/health", NULL, 0, 0, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}\n");
	free(r.body);

	/* the callback's text, then the server's own families */
	r = http_full("GET", "/metrics", NULL, 0, 0, 0);
	assert_int_equal(r.status, 200);
	assert_true(strncmp(r.body, "# TYPE ssp_test counter\nssp_test 1\n", 35) == 0);
	assert_non_null(strstr(r.body, "# TYPE ssp_rpc_requests_total counter\n"));
	assert_non_null(strstr(r.body, "\nssp_rpc_connections 1\n"));
	free(r.body);

	r = http_full("GET", "/nope", NULL, 0, 0, 0);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "-32600"));
	free(r.body);

	r = http_full("GET", "/rpc", NULL, 0, 0, 0);
	assert_int_equal(r.status, 405);
	free(r.body);

	r = http_full("PUT", "/rpc", NULL, 0, 0, 0);
	assert_int_equal(r.status, 405);
	free(r.body);

	r = http_full("POST", "/health", "{}", 2, 0, 0);
	assert_int_equal(r.status, 405);
	free(r.body);

	/* The query string is not part of the path. */
	r = http_full("GET", "/health?x=1", NULL, 0, 0, 0);
	assert_int_equal(r.status, 200);
	free(r.body);
}

struct worker {
	pthread_t t;
	int id;
	int ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	ssp_rpc_client *c = NULL;
	ssp_rpc_error err;
	json_t *res;

	if (ssp_rpc_client_new(&c, g_base, 10000) != 0) return NULL;
	for (int i = 0; i < 50; i++) {
		res = NULL;
		if (ssp_rpc_call(c, "add", json_pack("[i,i]", w->id * 1000, i), &res, &err) == 0 &&
		    json_integer_value(res) == w->id * 1000 + i)
			w->ok++;
		json_decref(res);
	}
	ssp_rpc_client_free(c);
	return NULL;
}

static void test_concurrency(void **state)
{
	struct worker w[4];

	for (int i = 0; i < 4; i++) {
		w[i].id = i + 1;
		w[i].ok = 0;
		assert_int_equal(pthread_create(&w[i].t, NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].t, NULL);
		assert_int_equal(w[i].ok, 50);
	}
}

static void test_client_connect_refused(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	ssp_rpc_client *c = NULL;
	ssp_rpc_error err;
	json_t *res = NULL;
	char url[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* Bind an ephemeral port and close it: nothing listens there now. */
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(ssp_rpc_client_new(&c, url, 2000), 0);
	assert_int_equal(ssp_rpc_call(c, "echo", NULL, &res, &err), SSP_ERR_CONNECT);
	assert_null(res);
	assert_int_equal(err.code, 0);
	assert_true(strlen(err.message) > 0);
	ssp_rpc_client_free(c);
}

static void test_client_timeout(void **state)
{
	ssp_rpc_client *c = client(10);
	ssp_rpc_error err;
	json_t *res = NULL;

	assert_int_equal(ssp_rpc_call(c, "slow", NULL, &res, &err), SSP_ERR_TIMEOUT);
	assert_null(res);
	ssp_rpc_client_free(c);

	/* With enough time the same call succeeds. */
	c = client(5000);
	assert_int_equal(ssp_rpc_call(c, "slow", NULL, &res, &err), 0);
	assert_string_equal(json_string_value(res), "done");
	json_decref(res);
	ssp_rpc_client_free(c);
}

static void test_client_url_and_args(void **state)
{
	ssp_rpc_client *c = NULL;
	ssp_rpc_error err;
	json_t *res = NULL;
	char url[96];

	/* An explicit /rpc path is kept; a URL without a scheme is http. */
	snprintf(url, sizeof(url), "%s/rpc", g_base);
	assert_int_equal(ssp_rpc_client_new(&c, url, 0), 0);
	assert_int_equal(ssp_rpc_call(c, "add", json_pack("[i,i]", 3, 4), &res, &err), 0);
	assert_int_equal(json_integer_value(res), 7);
	json_decref(res);
	ssp_rpc_client_free(c);

	snprintf(url, sizeof(url), "127.0.0.1:%u", ssp_rpc_server_port(g_srv));
	assert_int_equal(ssp_rpc_client_new(&c, url, 0), 0);
	assert_int_equal(ssp_rpc_call(c, "add", json_pack("[i,i]", 3, 5), &res, &err), 0);
	assert_int_equal(json_integer_value(res), 8);
	json_decref(res);
	ssp_rpc_client_free(c);

	/* A wrong path gets the server's 404, whose body is a JSON-RPC error. */
	snprintf(url, sizeof(url), "%s/other", g_base);
	assert_int_equal(ssp_rpc_client_new(&c, url, 0), 0);
	assert_int_equal(ssp_rpc_call(c, "add", json_pack("[i,i]", 3, 5), &res, &err), SSP_ERR_RPC);
	assert_int_equal(err.code, SSP_RPC_INVALID_REQUEST);
	ssp_rpc_client_free(c);

	c = NULL;
	assert_int_equal(ssp_rpc_client_new(&c, "http://[::1", 0), SSP_ERR_INVAL);
	assert_null(c);
	assert_int_equal(ssp_rpc_client_new(&c, NULL, 0), SSP_ERR_INVAL);
}

/* A one-shot HTTP server on loopback that answers any request with a canned reply. */
struct fake {
	int fd;
	unsigned port;
	const char *reply;
	pthread_t t;
};

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	char buf[4096];
	int c = accept(f->fd, NULL, NULL);
	size_t got = 0;
	ssize_t n;

	if (c < 0) return NULL;
	/* Read the headers and the (small) body: until the JSON's closing brace. */
	while (got < sizeof(buf) - 1 && (n = read(c, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") && buf[got - 1] == '}') break;
	}
	if (write(c, f->reply, strlen(f->reply)) < 0) { /* the client may have gone */
	}
	close(c);
	return NULL;
}

static void fake_start(struct fake *f, const char *reply)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	f->reply = reply;
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->fd, 1), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->t, NULL, fake_serve, f), 0);
}

/* Calls "echo" against a fake server answering `reply`; returns the call's result code. */
static int call_fake(const char *reply, ssp_rpc_error *err, json_t **res)
{
	struct fake f;
	ssp_rpc_client *c = NULL;
	char url[64];
	int rc;

	fake_start(&f, reply);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", f.port);
	assert_int_equal(ssp_rpc_client_new(&c, url, 5000), 0);
	rc = ssp_rpc_call(c, "echo", NULL, res, err);
	ssp_rpc_client_free(c);
	pthread_join(f.t, NULL);
	close(f.fd);
	return rc;
}

/* An HTTP 200 reply carrying body, with its Content-Length. */
static const char *http_ok(char *buf, size_t cap, const char *body)
{
	snprintf(buf, cap, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
	         strlen(body), body);
	return buf;
}

static void test_client_bad_replies(void **state)
{
	ssp_rpc_error err;
	json_t *res = NULL;
	char reply[256];

	/* Sanity: a well-formed reply from the fake works. */
	http_ok(reply, sizeof(reply), "{\"jsonrpc\":\"2.0\",\"result\":\"hi\",\"id\":1}");
	assert_int_equal(call_fake(reply, &err, &res), 0);
	assert_string_equal(json_string_value(res), "hi");
	json_decref(res);
	res = NULL;

	const char *bad_bodies[] = {
	    "hello",
	    "{\"a\":1}",
	    "",
	    "[{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":1}]",
	    "{\"jsonrpc\":\"1.0\",\"result\":1,\"id\":1}",
	    "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":99}",
	    "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":\"1\"}",
	    "{\"jsonrpc\":\"2.0\",\"result\":1}",
	    "{\"jsonrpc\":\"2.0\",\"id\":1}",
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1},\"id\":1}",
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":\"x\",\"message\":\"m\"},\"id\":1}",
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":99999999999,\"message\":\"m\"},\"id\":1}",
	    "{\"jsonrpc\":\"2.0\",\"result\":1,\"result\":2,\"id\":1}",
	};
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		int rc = call_fake(http_ok(reply, sizeof(reply), bad_bodies[i]), &err, &res);
		if (rc != SSP_ERR_DECODE) fail_msg("body %zu: got %d", i, rc);
		assert_null(res);
		assert_int_equal(err.code, 0);
		assert_true(strlen(err.message) > 0);
	}
	/* No body at all, and a body announced as larger than the 64 MiB cap. */
	assert_int_equal(
	    call_fake("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", &err, &res),
	    SSP_ERR_DECODE);
	assert_int_equal(call_fake("HTTP/1.1 200 OK\r\nConnection: close\r\n"
	                           "Content-Length: 100000000\r\n\r\n{",
	                           &err, &res),
	                 SSP_ERR_DECODE);
	/* An error reply with a null id (the server could not read our id) is still an error. */
	http_ok(
	    reply, sizeof(reply),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":\"bad\"},\"id\":null}");
	assert_int_equal(call_fake(reply, &err, &res), SSP_ERR_RPC);
	assert_int_equal(err.code, SSP_RPC_PARSE_ERROR);
	assert_string_equal(err.message, "bad");
	assert_null(err.data);
	/* A server that closes without answering, or in the middle of its reply. */
	assert_int_equal(call_fake("", &err, &res), SSP_ERR_CONNECT);
	assert_int_equal(
	    call_fake("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"json", &err, &res),
	    SSP_ERR_CONNECT);
}

static void test_server_bad_config(void **state)
{
	ssp_rpc_server *s = (ssp_rpc_server *)1;
	ssp_rpc_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.methods = g_methods;
	cfg.nmethods = 1;
	const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:x",
	                     "1.2.3:80",  "::1:80",     "host.example:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.listen = bad[i];
		assert_int_equal(ssp_rpc_server_start(&s, &cfg), SSP_ERR_INVAL);
		assert_null(s);
	}
	/* The port is taken by the running server. */
	char in_use[32];
	snprintf(in_use, sizeof(in_use), "127.0.0.1:%u", ssp_rpc_server_port(g_srv));
	cfg.listen = in_use;
	assert_int_equal(ssp_rpc_server_start(&s, &cfg), SSP_ERR_IO);
	assert_null(s);
}

static void test_handle_body_direct(void **state)
{
	ssp_rpc_config cfg;
	int status = 0;
	char *out;

	/* Zero limits take the defaults; no HTTP involved. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.methods = g_methods;
	cfg.nmethods = sizeof(g_methods) / sizeof(g_methods[0]);
	cfg.ctx = &g_toy;
	const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[5,6],\"id\":0}";
	out = ssp_rpc_handle_body(&cfg, req, strlen(req), &status);
	assert_int_equal(status, 200);
	assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"result\":11,\"id\":0}");
	free(out);

	req = "{\"jsonrpc\":\"2.0\",\"method\":\"note\"}";
	out = ssp_rpc_handle_body(&cfg, req, strlen(req), &status);
	assert_null(out);
	assert_int_equal(status, 204);

	/* ids beyond 64 bits (valid JSON numbers) are echoed as sent; as a param, a big
	 * number is not an integer to the method */
	req = "[{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[5,6],"
	      "\"id\":123456789012345678901234567890},"
	      "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,99999999999999999999],"
	      "\"id\":-1e400}]";
	out = ssp_rpc_handle_body(&cfg, req, strlen(req), &status);
	assert_int_equal(status, 200);
	assert_non_null(strstr(out, "\"result\":11,\"id\":123456789012345678901234567890}"));
	assert_non_null(strstr(out, "\"id\":-1e400}]"));
	assert_non_null(strstr(out, "-32602"));
	free(out);
	req =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[5,6],\"id\":9223372036854775807}";
	out = ssp_rpc_handle_body(&cfg, req, strlen(req), &status);
	assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"result\":11,\"id\":9223372036854775807}");
	free(out);

	cfg.max_body = 10;
	req = "{\"jsonrpc\":\"2.0\",\"method\":\"note\"}";
	out = ssp_rpc_handle_body(&cfg, req, strlen(req), &status);
	assert_int_equal(status, 413);
	assert_non_null(strstr(out, "-32600"));
	free(out);
}

/* jansson allocator that fails every allocation from the g_fail_at-th on. */
static int g_fail_at = -1, g_allocs;

static void *failing_malloc(size_t n)
{
	if (g_fail_at >= 0 && g_allocs++ >= g_fail_at) return NULL;
	return malloc(n);
}

static void test_handle_body_oom(void **state)
{
	const char *bodies[] = {
	    "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[5,6],\"id\":\"x\"}",
	    "{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":1}",
	    "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":1}",
	    "{\"jsonrpc\":\"2.0\",\"method\":\"bad_utf8\",\"id\":1}",
	    ("[{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":1},7,"
	     "{\"jsonrpc\":\"2.0\",\"method\":\"note\"},{\"jsonrpc\":\"2.0\",\"id\":{}}]"),
	    "{\"jsonrpc\":",
	    "[]",
	};
	ssp_rpc_config cfg;
	int status, k, done;
	char *out;

	memset(&cfg, 0, sizeof(cfg));
	cfg.methods = g_methods;
	cfg.nmethods = sizeof(g_methods) / sizeof(g_methods[0]);
	cfg.ctx = &g_toy;
	/* Fail the k-th jansson allocation for every k: always 200 or 500, never a leak. */
	json_set_alloc_funcs(failing_malloc, free);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		for (k = 0, done = 0; !done && k < 1000; k++) {
			g_allocs = 0;
			g_fail_at = k;
			out = ssp_rpc_handle_body(&cfg, bodies[i], strlen(bodies[i]), &status);
			done = g_allocs <= k; /* nothing failed: every path was covered */
			g_fail_at = -1;
			if (out) {
				assert_int_equal(status, 200);
				free(out);
			} else {
				assert_int_equal(status, done ? 204 : 500);
			}
		}
		assert_true(done);
	}
	json_set_alloc_funcs(malloc, free);
}

/* A batch of n echo calls with ids 0..n-1, each echoing a 40-byte string. */
static char *echo_batch(int n, int note_at)
{
	char *b = malloc(128 * (size_t)n + 2), *p = b;

	*p++ = '[';
	for (int i = 0; i < n; i++) {
		if (i == note_at)
			p += sprintf(p, "%s{\"jsonrpc\":\"2.0\",\"method\":\"note\",\"id\":%d}",
			             i ? "," : "", i);
		else
			p += sprintf(
			    p,
			    "%s{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"%040d\"],"
			    "\"id\":%d}",
			    i ? "," : "", i, i);
	}
	strcpy(p, "]");
	return b;
}

/*
 * The reply cap: once a batch's replies would pass max_reply, that reply and
 * every later one are -32003 errors with their ids, and the later methods
 * are not run; a single reply over the cap is replaced too.
 */
static void test_handle_body_reply_cap(void **state)
{
	ssp_rpc_config cfg;
	json_t *r;
	int status, notes0 = notes();
	size_t len;
	char *body = echo_batch(10, 7), *out;

	memset(&cfg, 0, sizeof(cfg));
	cfg.methods = g_methods;
	cfg.nmethods = sizeof(g_methods) / sizeof(g_methods[0]);
	cfg.ctx = &g_toy;
	cfg.max_reply = 200; /* two echo replies of ~75 bytes fit, not three */
	out = ssp_rpc_handle_body_budget(&cfg, NULL, body, strlen(body), &status, &len);
	assert_int_equal(status, 200);
	assert_int_equal(len, strlen(out));
	r = json_loads(out, 0, NULL);
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 10);
	for (int i = 0; i < 10; i++) {
		json_t *e = json_array_get(r, (size_t)i);
		assert_int_equal(json_integer_value(json_object_get(e, "id")), i);
		if (i < 2) {
			assert_non_null(json_object_get(e, "result"));
		} else {
			json_t *err = json_object_get(e, "error");
			assert_int_equal(json_integer_value(json_object_get(err, "code")),
			                 SSP_RPC_LIMIT);
		}
	}
	assert_int_equal(notes(), notes0); /* the note after the cap was not run */
	json_decref(r);
	free(out);

	cfg.max_reply = 20;
	const char *one = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\""
	                  "0123456789012345678901234567890123456789\"],\"id\":\"x\"}";
	out = ssp_rpc_handle_body_budget(&cfg, NULL, one, strlen(one), &status, &len);
	assert_non_null(strstr(out, "-32003"));
	assert_non_null(strstr(out, "\"id\":\"x\""));
	free(out);
	free(body);
}

/*
 * The global budget: replies are charged as they are built; past the
 * limit the rest of a batch is -32002 (busy); the caller releases what the
 * reply holds, and the budget is back to zero.
 */
static void test_handle_body_budget(void **state)
{
	ssp_rpc_config cfg;
	ssp_rpc_budget b = {.limit = 160};
	json_t *r;
	int status;
	size_t len;
	char *body = echo_batch(6, -1), *out;

	memset(&cfg, 0, sizeof(cfg));
	cfg.methods = g_methods;
	cfg.nmethods = sizeof(g_methods) / sizeof(g_methods[0]);
	cfg.ctx = &g_toy;
	out = ssp_rpc_handle_body_budget(&cfg, &b, body, strlen(body), &status, &len);
	assert_int_equal(status, 200);
	assert_int_equal(atomic_load(&b.used), len);
	r = json_loads(out, 0, NULL);
	assert_int_equal(json_array_size(r), 6);
	assert_non_null(json_object_get(json_array_get(r, 0), "result"));
	json_t *last = json_object_get(json_array_get(r, 5), "error");
	assert_int_equal(json_integer_value(json_object_get(last, "code")), SSP_RPC_BUSY);
	json_decref(r);
	ssp_rpc_budget_release(&b, len);
	assert_int_equal(atomic_load(&b.used), 0);
	free(out);

	/* with the budget spent elsewhere, even the first reply is refused */
	ssp_rpc_budget_add(&b, 160);
	out = ssp_rpc_handle_body_budget(&cfg, &b, body, strlen(body), &status, &len);
	assert_non_null(strstr(out, "-32002"));
	assert_null(strstr(out, "\"result\""));
	ssp_rpc_budget_release(&b, len + 160);
	assert_int_equal(atomic_load(&b.used), 0);
	free(out);
	free(body);
}

/* Opens a TCP connection to port on loopback; -1 on failure. */
static int tcp_connect(unsigned port)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0}; /* a bound on every read below, not a measurement */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Connections from one address beyond max_conns_per_ip are closed at once;
 * the ones held still get answers, and a slot freed is usable again.
 */
static void test_server_per_address_limit(void **state)
{
	static const char body[] =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":7}";
	ssp_rpc_server *srv = NULL;
	ssp_rpc_config cfg;
	char buf[512], req[256];
	int fd[3];
	ssize_t n;

	snprintf(req, sizeof(req), "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
	         strlen(body), body);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "127.0.0.1:0";
	cfg.methods = g_methods;
	cfg.nmethods = sizeof(g_methods) / sizeof(g_methods[0]);
	cfg.ctx = &g_toy;
	cfg.max_conns_per_ip = 2;
	assert_int_equal(ssp_rpc_server_start(&srv, &cfg), 0);
	for (int i = 0; i < 3; i++) {
		fd[i] = tcp_connect(ssp_rpc_server_port(srv));
		assert_true(fd[i] >= 0);
	}
	/* the third is accepted by the kernel and closed by the server */
	n = recv(fd[2], buf, sizeof(buf), 0);
	assert_true(n <= 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(send(fd[i], req, strlen(req), 0), (ssize_t)strlen(req));
		n = recv(fd[i], buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_non_null(strstr(buf, "\"result\":3"));
	}
	close(fd[0]);
	close(fd[2]);
	/* the freed slot takes a new connection (retried: the close takes a moment to be seen) */
	for (int tries = 0;; tries++) {
		assert_true(tries < 50);
		fd[2] = tcp_connect(ssp_rpc_server_port(srv));
		assert_true(fd[2] >= 0);
		assert_int_equal(send(fd[2], req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
		n = recv(fd[2], buf, sizeof(buf) - 1, 0);
		if (n > 0) break;
		close(fd[2]);
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"result\":3"));
	close(fd[1]);
	close(fd[2]);
	ssp_rpc_server_stop(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_valid_calls),
	    cmocka_unit_test(test_client_rpc_errors),
	    cmocka_unit_test(test_raw_valid_and_ids),
	    cmocka_unit_test(test_notification),
	    cmocka_unit_test(test_batch_mixed),
	    cmocka_unit_test(test_batch_limits),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_invalid_requests),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_body_limit),
	    cmocka_unit_test(test_http_routes),
	    cmocka_unit_test(test_concurrency),
	    cmocka_unit_test(test_client_connect_refused),
	    cmocka_unit_test(test_client_timeout),
	    cmocka_unit_test(test_client_url_and_args),
	    cmocka_unit_test(test_client_bad_replies),
	    cmocka_unit_test(test_server_bad_config),
	    cmocka_unit_test(test_handle_body_direct),
	    cmocka_unit_test(test_handle_body_oom),
	    cmocka_unit_test(test_handle_body_reply_cap),
	    cmocka_unit_test(test_handle_body_budget),
	    cmocka_unit_test(test_server_per_address_limit),
	};

	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
