/*
 * client.c — the JSON-RPC 2.0 client of the rpc layer, used by the CLI, the
 * agent and the gateway: one libcurl easy handle per client, reused so the
 * HTTP connection stays alive between calls, a hard cap on the reply size,
 * and a mapping of transport and protocol failures onto ssp_err codes. Besides
 * what rpc.h promises, every failure leaves a one-line reason in
 * err->message (err->code 0 unless the node returned a JSON-RPC error), so
 * callers can print it as is.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/server_internal.h"
#include "ssp/rpc.h"

#define REPLY_MAX ((size_t)64 << 20) /* bytes of reply body we accept */
#define REPLY_MAX_DEPTH 512          /* JSON nesting we accept in a reply */
#define DEFAULT_TIMEOUT_MS 30000L

struct ssp_rpc_client {
	CURL *h;
	struct curl_slist *headers;
	char *url;
	json_int_t next_id;
	char errbuf[CURL_ERROR_SIZE];
};

/* The reply body as it arrives, capped at REPLY_MAX. */
struct sink {
	char *buf;
	size_t len, cap;
};

/* "Expect:" stops curl waiting for a 100-continue before sending larger bodies. */
static const char *const g_headers[] = {"Content-Type: application/json",
                                        "Accept: application/json", "Expect:"};

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	g_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb, cap, ret = 0;
	char *nb;

	if (n > REPLY_MAX - s->len) goto out; /* returning short makes curl fail the call */
	if (s->len + n > s->cap) {
		cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n)
			cap = cap > REPLY_MAX / 2 ? REPLY_MAX : cap * 2;
		nb = realloc(s->buf, cap);
		if (!nb) goto out;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	ret = n;
out:
	return ret;
}

/* The URL with "/rpc" as its path when it has none; NULL if it does not parse. */
static char *rpc_url(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *full = NULL, *copy = NULL;

	if (!u) goto out;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME) != CURLUE_OK) goto out;
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || strcmp(path, "/") == 0)
		if (curl_url_set(u, CURLUPART_PATH, "/rpc", 0) != CURLUE_OK) goto out;
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) goto out;
	copy = strdup(full);
out:
	curl_free(path);
	curl_free(full);
	curl_url_cleanup(u);
	return copy;
}

int ssp_rpc_client_new(ssp_rpc_client **out, const char *url, long timeout_ms)
{
	ssp_rpc_client *c = NULL;
	struct curl_slist *l;
	int rc = SSP_ERR_INVAL;

	*out = NULL;
	if (!url) goto out;
	pthread_once(&g_curl_once, curl_init_once);
	rc = SSP_ERR_INTERNAL;
	if (g_curl_rc != CURLE_OK) goto out;
	rc = SSP_ERR_NOMEM;
	c = calloc(1, sizeof(*c));
	if (!c) goto out;
	c->next_id = 1;
	c->url = rpc_url(url);
	if (!c->url) {
		rc = SSP_ERR_INVAL;
		goto out;
	}
	c->h = curl_easy_init();
	if (!c->h) goto out;
	for (size_t i = 0; i < sizeof(g_headers) / sizeof(g_headers[0]); i++) {
		l = curl_slist_append(c->headers, g_headers[i]);
		if (!l) goto out;
		c->headers = l;
	}
	if (timeout_ms <= 0) timeout_ms = DEFAULT_TIMEOUT_MS;
	rc = SSP_ERR_INTERNAL;
	if (curl_easy_setopt(c->h, CURLOPT_URL, c->url) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)REPLY_MAX) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	ssp_rpc_client_free(c);
	return rc;
}

void ssp_rpc_client_free(ssp_rpc_client *c)
{
	if (!c) return;
	if (c->h) curl_easy_cleanup(c->h);
	curl_slist_free_all(c->headers);
	free(c->url);
	free(c);
}

static int transport_error(CURLcode cc)
{
	int rc;

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE: /* the connection dropped mid-reply */
		rc = SSP_ERR_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		rc = SSP_ERR_TIMEOUT;
		break;
	case CURLE_WRITE_ERROR: /* our cap on the reply size */
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WEIRD_SERVER_REPLY:
		rc = SSP_ERR_DECODE;
		break;
	case CURLE_OUT_OF_MEMORY:
		rc = SSP_ERR_NOMEM;
		break;
	default:
		rc = SSP_ERR_IO;
		break;
	}
	return rc;
}

/* Sets err->message (code 0) for a failure that is not a JSON-RPC error. */
__attribute__((format(printf, 2, 3))) static void reason(ssp_rpc_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err) return;
	err->code = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Takes a parsed reply apart: 0 with *result, SSP_ERR_RPC with err, or SSP_ERR_DECODE. */
static int unpack_reply(json_t *reply, json_int_t id, json_t **result, ssp_rpc_error *err)
{
	json_t *v, *e, *code, *msg;
	int rc = SSP_ERR_DECODE;

	if (!json_is_object(reply)) {
		reason(err, "reply is not a JSON object");
		goto out;
	}
	v = json_object_get(reply, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		reason(err, "reply is not JSON-RPC 2.0");
		goto out;
	}
	/* An error about an unreadable request carries a null id. */
	v = json_object_get(reply, "id");
	e = json_object_get(reply, "error");
	if (!(json_is_integer(v) && json_integer_value(v) == id) && !(e && json_is_null(v))) {
		reason(err, "reply id does not match the request");
		goto out;
	}
	if (e) {
		code = json_object_get(e, "code");
		msg = json_object_get(e, "message");
		if (!json_is_integer(code) || !json_is_string(msg) ||
		    json_integer_value(code) < -2147483647 ||
		    json_integer_value(code) > 2147483647) {
			reason(err, "malformed JSON-RPC error in reply");
			goto out;
		}
		if (err) {
			err->code = (int)json_integer_value(code);
			snprintf(err->message, sizeof(err->message), "%s", json_string_value(msg));
			v = json_object_get(e, "data");
			err->data = v ? json_incref(v) : NULL;
		}
		rc = SSP_ERR_RPC;
		goto out;
	}
	v = json_object_get(reply, "result");
	if (!v) {
		reason(err, "reply has neither result nor error");
		goto out;
	}
	*result = json_incref(v);
	rc = 0;
out:
	return rc;
}

int ssp_rpc_call(ssp_rpc_client *c, const char *method, json_t *params, json_t **result,
                 ssp_rpc_error *err)
{
	json_t *req = NULL, *reply = NULL;
	struct sink sink = {0};
	json_error_t jerr;
	char *body = NULL;
	json_int_t id;
	long http = 0;
	CURLcode cc;
	int rc = SSP_ERR_INVAL;

	*result = NULL;
	if (err) memset(err, 0, sizeof(*err));
	if (!c || !method || (params && !json_is_object(params) && !json_is_array(params))) {
		reason(err, "invalid arguments");
		goto out;
	}
	rc = SSP_ERR_NOMEM;
	id = c->next_id++;
	req = json_object();
	if (!req || json_object_set_new(req, "jsonrpc", json_string("2.0")) ||
	    json_object_set_new(req, "id", json_integer(id)) ||
	    json_object_set_new(req, "method", json_string(method))) {
		reason(err, "cannot build the request");
		goto out;
	}
	if (params) {
		rc = json_object_set_new(req, "params", params);
		params = NULL;
		if (rc) {
			rc = SSP_ERR_NOMEM;
			goto out;
		}
	}
	body = json_dumps(req, JSON_COMPACT);
	if (!body) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &sink);
	cc = curl_easy_perform(c->h);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, NULL);
	if (cc != CURLE_OK) {
		rc = transport_error(cc);
		reason(err, "%s: %s", c->url, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &http);
	rc = SSP_ERR_DECODE;
	if (sink.len == 0) {
		reason(err, "empty reply (HTTP %ld)", http);
		goto out;
	}
	if (!ssp_rpc_depth_ok(sink.buf, sink.len, REPLY_MAX_DEPTH)) {
		reason(err, "reply nested too deeply");
		goto out;
	}
	reply = json_loadb(sink.buf, sink.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!reply) {
		reason(err, "reply is not JSON (HTTP %ld): %s", http, jerr.text);
		goto out;
	}
	/* Non-200 replies (413, 500) still carry a JSON-RPC error worth reporting. */
	rc = unpack_reply(reply, id, result, err);
out:
	json_decref(params);
	json_decref(req);
	json_decref(reply);
	free(body);
	free(sink.buf);
	return rc;
}
