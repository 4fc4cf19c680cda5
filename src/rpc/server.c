/*
 * server.c — the HTTP side of the JSON-RPC server (rpc layer): a
 * libmicrohttpd daemon with a thread per connection (at most CONN_LIMIT) that
 * accepts POST /rpc (and POST /), collects the body up to a hard limit and
 * hands it to ssp_rpc_handle_body (dispatch.c) on the same thread, so
 * handlers run concurrently, one per connection. It also serves GET /health and, when
 * the node supplies it, GET /metrics. Everything else gets a JSON 404/405.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rpc/server_internal.h"
#include "ssp/rpc.h"

#define CONN_LIMIT 64u          /* concurrent HTTP connections, each with its own thread */
#define THREAD_STACK (8u << 20) /* contract queries run the Lua VM here: it needs C stack */
#define CONN_TIMEOUT_S 30u      /* idle seconds before a connection is dropped */
#define ADDR_MAX 64             /* longest host part of cfg->listen */
#define THREADS_MAX 64u         /* more pool threads than this is a configuration mistake */

#define JSON_TYPE "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Canned replies for errors decided before any JSON is parsed. */
#define ERR_JSON(code, msg) \
	"{\"jsonrpc\":\"2.0\",\"error\":{\"code\":" #code ",\"message\":\"" msg "\"},\"id\":null}"
static const char too_large_body[] = ERR_JSON(-32600, "request body too large");
static const char not_found_body[] = ERR_JSON(-32600, "not found: JSON-RPC is served on POST /rpc");
static const char bad_method_body[] = ERR_JSON(-32600, "method not allowed");
static const char internal_body[] = ERR_JSON(-32603, "Internal error");

struct ssp_rpc_server {
	struct MHD_Daemon *d;
	ssp_rpc_config cfg; /* a copy with the zero limits replaced by defaults */
	unsigned port;
};

/* Per-request state of a POST /rpc while its body arrives. */
struct body {
	char *buf;
	size_t len, cap;
	int too_big; /* over the limit: the rest is read and dropped, then 413 */
};

/* Queues a response; takes ownership of `data` when mode is MHD_RESPMEM_MUST_FREE. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             void *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, mode);
	enum MHD_Result ret = MHD_NO;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE) free(data);
		goto out;
	}
	if (ctype && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
		goto out;
	ret = MHD_queue_response(conn, status, r);
out:
	if (r) MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned status, const char *ctype,
                                    const char *text)
{
	return reply(conn, status, ctype, (void *)text, strlen(text), MHD_RESPMEM_PERSISTENT);
}

/* 1 if a Content-Length header announces more than max bytes. */
static int announced_too_big(struct MHD_Connection *conn, size_t max)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;
	int big = 0;

	if (!cl || *cl < '0' || *cl > '9') goto out;
	errno = 0;
	n = strtoull(cl, &end, 10);
	big = errno == ERANGE || n > max;
out:
	return big;
}

/* Appends an upload chunk, or drops it once the body is over the limit. */
static int body_append(struct body *b, const char *p, size_t n, size_t max)
{
	size_t cap;
	char *nb;
	int rc = 0;

	if (b->too_big) goto out;
	if (n > max - b->len) {
		b->too_big = 1;
		free(b->buf);
		b->buf = NULL;
		b->len = b->cap = 0;
		goto out;
	}
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap = cap > max / 2 ? max : cap * 2;
		nb = realloc(b->buf, cap);
		if (!nb) {
			rc = SSP_ERR_NOMEM;
			goto out;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
out:
	return rc;
}

static enum MHD_Result serve_metrics(ssp_rpc_server *s, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	char *text;

	if (!s->cfg.metrics) {
		ret = reply_static(conn, MHD_HTTP_NOT_FOUND, JSON_TYPE, not_found_body);
		goto out;
	}
	text = s->cfg.metrics(s->cfg.ctx);
	if (!text) {
		ret = reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
		                   "metrics unavailable\n");
		goto out;
	}
	ret = reply(conn, MHD_HTTP_OK, METRICS_TYPE, text, strlen(text), MHD_RESPMEM_MUST_FREE);
out:
	return ret;
}

/* First call of a request (headers only): everything but POST /rpc is answered here. */
static enum MHD_Result route(ssp_rpc_server *s, struct MHD_Connection *conn, const char *url,
                             const char *method, void **con_cls)
{
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	enum MHD_Result ret;
	struct body *b;

	if (strcmp(url, "/rpc") == 0 || strcmp(url, "/") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
			ret = reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
			                   bad_method_body);
		} else if (announced_too_big(conn, s->cfg.max_body)) {
			/* Answer now; MHD drops the unread body and closes the connection. */
			ret = reply_static(conn, MHD_HTTP_CONTENT_TOO_LARGE, JSON_TYPE,
			                   too_large_body);
		} else if (!(b = calloc(1, sizeof(*b)))) {
			ret = MHD_NO;
		} else {
			*con_cls = b;
			ret = MHD_YES;
		}
	} else if (strcmp(url, "/health") == 0) {
		ret = get ? reply_static(conn, MHD_HTTP_OK, "text/plain", "ok\n")
		          : reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
		                         bad_method_body);
	} else if (strcmp(url, "/metrics") == 0) {
		ret = get ? serve_metrics(s, conn)
		          : reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
		                         bad_method_body);
	} else {
		ret = reply_static(conn, MHD_HTTP_NOT_FOUND, JSON_TYPE, not_found_body);
	}
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	ssp_rpc_server *s = cls;
	struct body *b = *con_cls;
	enum MHD_Result ret = MHD_YES;
	int status;
	char *text;

	if (!b) {
		ret = route(s, conn, url, method, con_cls);
		goto out;
	}
	if (*upload_data_size) {
		/* MHD forbids replying while upload data is pending: just consume. */
		if (body_append(b, upload_data, *upload_data_size, s->cfg.max_body)) ret = MHD_NO;
		*upload_data_size = 0;
		goto out;
	}
	if (b->too_big) {
		ret = reply_static(conn, MHD_HTTP_CONTENT_TOO_LARGE, JSON_TYPE, too_large_body);
		goto out;
	}
	text = ssp_rpc_handle_body(&s->cfg, b->buf ? b->buf : "", b->len, &status);
	if (text)
		ret = reply(conn, (unsigned)status, JSON_TYPE, text, strlen(text),
		            MHD_RESPMEM_MUST_FREE);
	else if (status == 204)
		ret = reply(conn, MHD_HTTP_NO_CONTENT, NULL, NULL, 0, MHD_RESPMEM_PERSISTENT);
	else
		ret = reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, JSON_TYPE, internal_body);
out:
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct body *b = *con_cls;

	if (b) {
		free(b->buf);
		free(b);
		*con_cls = NULL;
	}
}

__attribute__((format(printf, 2, 0))) static void on_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* Mostly clients hanging up; debug level keeps hostile traffic out of the logs. */
	SSP_LOGD("rpc", "httpd: %s", line);
}

/* Parses "ADDR:PORT" (IPv4; empty or "*" = any, "localhost" = loopback). */
static int parse_listen(struct sockaddr_in *sa, const char *listen)
{
	const char *colon = strrchr(listen, ':');
	char host[ADDR_MAX];
	unsigned long port;
	char *end;
	int rc = SSP_ERR_INVAL;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - listen) >= sizeof(host)) goto out;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (colon[1] < '0' || colon[1] > '9') goto out;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || port > 65535) goto out;
	sa->sin_port = htons((uint16_t)port);
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		goto out;
	rc = 0;
out:
	return rc;
}

int ssp_rpc_server_start(ssp_rpc_server **out, const ssp_rpc_config *cfg)
{
	ssp_rpc_server *s = NULL;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	unsigned flags;
	int rc = SSP_ERR_INVAL;

	*out = NULL;
	if (!cfg || !cfg->listen || (cfg->nmethods && !cfg->methods)) goto out;
	if (parse_listen(&sa, cfg->listen)) {
		SSP_LOGE("rpc", "bad listen address '%s' (want IPv4 ADDR:PORT)", cfg->listen);
		goto out;
	}
	rc = SSP_ERR_NOMEM;
	s = calloc(1, sizeof(*s));
	if (!s) goto out;
	s->cfg = *cfg;
	if (!s->cfg.max_body) s->cfg.max_body = SSP_RPC_DEFAULT_MAX_BODY;
	if (!s->cfg.max_batch) s->cfg.max_batch = SSP_RPC_DEFAULT_MAX_BATCH;
	if (!s->cfg.max_depth) s->cfg.max_depth = SSP_RPC_DEFAULT_MAX_DEPTH;
	if (!s->cfg.threads) s->cfg.threads = SSP_RPC_DEFAULT_THREADS;
	if (s->cfg.threads > THREADS_MAX) s->cfg.threads = THREADS_MAX;
	s->cfg.listen = NULL; /* borrowed only for the duration of this call */

	/*
	 * A thread per connection: handlers block (the node's handlers wait for
	 * its loop), and with a pool a blocked handler stalls every connection
	 * its thread polls — measured: all of a benchmark's requests ran on one
	 * pool thread. The connection limit bounds the threads.
	 */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	flags |= MHD_USE_POLL;
	/* The logger goes first so that MHD reports option errors through it too. */
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK, MHD_OPTION_CONNECTION_TIMEOUT,
	    CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!s->d) {
		SSP_LOGE("rpc", "cannot listen on %s", cfg->listen);
		rc = SSP_ERR_IO;
		goto out;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : ntohs(sa.sin_port);
	SSP_LOGI("rpc", "JSON-RPC listening on %s (port %u, up to %u connections)", cfg->listen,
	         s->port, CONN_LIMIT);
	*out = s;
	s = NULL;
	rc = 0;
out:
	free(s);
	return rc;
}

unsigned ssp_rpc_server_port(const ssp_rpc_server *s)
{
	return s ? s->port : 0;
}

void ssp_rpc_server_stop(ssp_rpc_server *s)
{
	if (!s) return;
	/* Joins the connection threads, so every running handler has returned. */
	MHD_stop_daemon(s->d);
	free(s);
}
