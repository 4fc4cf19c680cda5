/*
 * server.c — the HTTP side of the JSON-RPC server (rpc layer). One
 * libmicrohttpd thread polls every connection with epoll and only moves
 * bytes: it collects a POST /rpc body up to a hard limit, suspends the
 * connection and queues the request for a pool of handler threads, which
 * run ssp_rpc_handle_body_budget (dispatch.c) and resume the connection
 * with the reply. So thousands of idle or slow connections cost a socket
 * and a little memory each, and a handler that takes CPU time or waits for
 * the node never stalls other connections. A reaper thread enforces what
 * libmicrohttpd's idle timeout cannot: a deadline for a request's headers
 * and body from the moment the connection is ready for it, however slowly
 * they trickle in, and one for the client to take its reply. Budgets bound
 * the request bodies held and the reply bytes in flight across all
 * connections. It also serves GET /health and GET /metrics; everything
 * else gets a JSON 404/405.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rpc/server_internal.h"
#include "ssp/rpc.h"

#define THREAD_STACK (8u << 20) /* contract queries run the Lua VM on handlers: C stack */
#define ADDR_MAX 64             /* longest host part of cfg->listen */
#define THREADS_MAX 64u         /* more handler threads than this is a configuration mistake */
#define HEAVY_BODY (256u << 10) /* a body this large is heavy (see is_heavy) */
#define HEAVY_BATCH 2048u       /* so is a batch this large: it runs up to 100 methods */
#define HEAVY_RUNNING 2u        /* heavy requests handled at once */
#define HEAVY_BYTES (16u << 20) /* their bodies, beyond the first */
#define REAP_MS 100             /* how often deadlines are checked */
#define FD_RESERVE 256          /* descriptors kept for the database, logs, the node */
#define CORS_MAX 16             /* allowed origins */
#define ORIGIN_MAX 256          /* longest allowed origin */

#define JSON_TYPE "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Canned replies for errors decided before any JSON is parsed. */
#define ERR_JSON(code, msg) \
	"{\"jsonrpc\":\"2.0\",\"error\":{\"code\":" #code ",\"message\":\"" msg "\"},\"id\":null}"
static const char too_large_body[] = ERR_JSON(-32600, "request body too large");
static const char busy_body[] = ERR_JSON(-32002, "server busy: too many request bytes held, retry");
static const char stopping_body[] = ERR_JSON(-32002, "server stopping");
static const char not_found_body[] = ERR_JSON(-32600, "not found: JSON-RPC is served on POST /rpc");
static const char bad_method_body[] = ERR_JSON(-32600, "method not allowed");
static const char internal_body[] = ERR_JSON(-32603, "Internal error");
static const char origin_body[] =
    ERR_JSON(-32600, "origin not allowed: start the node with --rpc-cors ORIGIN to allow it");

/* Where a connection is in its current request; only RECV and SEND have deadlines. */
enum { C_RECV, C_HANDLE, C_SEND, C_UPGRADED };

/* One TCP connection (MHD's socket context), listed for the reaper. */
struct conn {
	int fd;
	int phase;
	uint64_t since; /* ms (monotonic) the phase started */
	bool shut;      /* the reaper shut it down: MHD closes it */
	struct conn *prev, *next;
};

/* One POST /rpc request (MHD's per-request context). */
struct req {
	struct MHD_Connection *mc;
	char *buf;
	size_t len, cap;
	size_t held; /* body bytes charged to the body budget */
	bool heavy;  /* a large body or batch: handled a few at a time */
	int too_big; /* over max_body: the rest is read and dropped, then 413 */
	int busy;    /* over the body budget: likewise, then a busy error */
	bool queued; /* handed to the handler threads (connection suspended) */
	bool done;   /* a handler finished: reply/status are set */
	char *reply; /* owned until handed to MHD */
	size_t reply_len;
	int status;
	struct req *next; /* handler queue */
};

/* What a response created from a reply owns: the bytes and their budget charge. */
struct sent {
	ssp_rpc_server *s;
	char *text;
	size_t len;
};

struct ssp_rpc_server {
	struct MHD_Daemon *d;
	ssp_rpc_config cfg; /* a copy with the zero limits replaced by defaults */
	unsigned port;
	ssp_rpc_budget replies;                /* reply bytes built and not yet sent */
	ssp_rpc_budget bodies;                 /* request body bytes held */
	ssp_rpc_stats stats;                   /* requests by method and code (/metrics) */
	_Atomic unsigned long long conns_open; /* connections now open (/metrics) */
	ssp_rpc_ws *ws;                        /* WebSockets (GET /ws), NULL without topics */
	char cors[CORS_MAX][ORIGIN_MAX];       /* allowed origins; "*" allows any */
	unsigned ncors;

	/* handler threads */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req *light, *light_tail, *heavy, *heavy_tail;
	size_t heavy_bytes; /* bodies of heavy requests being handled */
	unsigned heavy_running;
	bool stopping;
	pthread_t *th;
	unsigned nth;

	/* connections and the reaper */
	pthread_mutex_t cmu;
	pthread_cond_t ccv;
	struct conn *conns;
	bool reaper_stop;
	bool reaper_started;
	pthread_t reaper;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void set_phase(ssp_rpc_server *s, struct MHD_Connection *mc, int phase)
{
	struct conn *c = conn_of(mc);

	if (!c) return;
	pthread_mutex_lock(&s->cmu);
	c->phase = phase;
	c->since = now_ms();
	pthread_mutex_unlock(&s->cmu);
}

/* ----------------------------------------------------------------- replies */

static void free_sent(void *cls)
{
	struct sent *t = cls;

	ssp_rpc_budget_release(&t->s->replies, t->len);
	free(t->text);
	free(t);
}

/* ------------------------------------------------------------------- CORS */

/* The request's Origin header, or NULL (not a browser, or a same-origin GET). */
static const char *origin_of(struct MHD_Connection *conn)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
}

static bool origin_allowed(const ssp_rpc_server *s, const char *origin)
{
	for (unsigned i = 0; i < s->ncors; i++)
		if (strcmp(s->cors[i], "*") == 0 || strcmp(s->cors[i], origin) == 0) return true;
	return false;
}

/* Parses "ORIGIN[,ORIGIN]" (spaces around commas ignored) into s->cors. */
static int parse_cors(ssp_rpc_server *s, const char *list)
{
	const char *p = list, *end;
	size_t n;

	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p) break;
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (s->ncors == CORS_MAX || n >= ORIGIN_MAX) {
			SSP_LOGE("rpc", "--rpc-cors: at most %d origins of up to %d bytes",
			         CORS_MAX, ORIGIN_MAX - 1);
			return SSP_ERR_INVAL;
		}
		memcpy(s->cors[s->ncors], p, n);
		s->cors[s->ncors++][n] = '\0';
		p = end;
	}
	return 0;
}

/* Adds the CORS headers to a response for an allowed Origin (the only kind that gets one). */
static bool decorate(ssp_rpc_server *s, struct MHD_Connection *conn, struct MHD_Response *r)
{
	const char *origin = origin_of(conn);

	if (!origin || !origin_allowed(s, origin)) return true;
	return MHD_add_response_header(r, "Access-Control-Allow-Origin", origin) == MHD_YES &&
	       MHD_add_response_header(r, "Vary", "Origin") == MHD_YES;
}

/* Queues a response; takes ownership of `data` when mode is MHD_RESPMEM_MUST_FREE. */
static enum MHD_Result reply(ssp_rpc_server *s, struct MHD_Connection *conn, unsigned status,
                             const char *ctype, void *data, size_t len,
                             enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, mode);
	enum MHD_Result ret = MHD_NO;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE) free(data);
		goto out;
	}
	if (ctype && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
		goto out;
	if (!decorate(s, conn, r)) goto out;
	set_phase(s, conn, C_SEND);
	ret = MHD_queue_response(conn, status, r);
out:
	if (r) MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_static(ssp_rpc_server *s, struct MHD_Connection *conn, unsigned status,
                                    const char *ctype, const char *text)
{
	return reply(s, conn, status, ctype, (void *)text, strlen(text), MHD_RESPMEM_PERSISTENT);
}

/* Queues a handler's reply; its bytes stay charged to the budget until MHD frees them. */
static enum MHD_Result reply_handled(ssp_rpc_server *s, struct MHD_Connection *conn, struct req *r)
{
	struct MHD_Response *resp = NULL;
	struct sent *t;
	enum MHD_Result ret = MHD_NO;

	if (!r->reply && r->status == 503) {
		ret = reply_static(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, JSON_TYPE, stopping_body);
		goto out;
	}
	if (!r->reply) {
		ret = r->status == 204 ? reply(s, conn, MHD_HTTP_NO_CONTENT, NULL, NULL, 0,
		                               MHD_RESPMEM_PERSISTENT)
		                       : reply_static(s, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                                      JSON_TYPE, internal_body);
		goto out;
	}
	t = malloc(sizeof(*t));
	if (!t) goto out;
	*t = (struct sent){.s = s, .text = r->reply, .len = r->reply_len};
	resp =
	    MHD_create_response_from_buffer_with_free_callback_cls(t->len, t->text, free_sent, t);
	if (!resp) {
		free(t);
		goto out;
	}
	r->reply = NULL; /* the response owns it now */
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE) != MHD_YES ||
	    !decorate(s, conn, resp))
		goto out;
	set_phase(s, conn, C_SEND);
	ret = MHD_queue_response(conn, (unsigned)r->status, resp);
out:
	if (resp) MHD_destroy_response(resp);
	return ret;
}

/* ------------------------------------------------------------------ bodies */

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

static void body_drop(ssp_rpc_server *s, struct req *r)
{
	ssp_rpc_budget_release(&s->bodies, r->held);
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = r->held = 0;
}

/*
 * Appends an upload chunk, or drops it once the body is over its limit or
 * the server holds too many body bytes. Every byte of capacity is charged
 * to the body budget.
 */
static int body_append(ssp_rpc_server *s, struct req *r, const char *p, size_t n)
{
	size_t max = s->cfg.max_body, cap;
	char *nb;
	int rc = 0;

	if (r->too_big || r->busy) goto out;
	if (n > max - r->len) {
		r->too_big = 1;
		body_drop(s, r);
		goto out;
	}
	if (r->len + n > r->cap) {
		cap = r->cap ? r->cap : 4096;
		while (cap < r->len + n)
			cap = cap > max / 2 ? max : cap * 2;
		if (ssp_rpc_budget_over(&s->bodies, cap - r->cap)) {
			r->busy = 1;
			body_drop(s, r);
			goto out;
		}
		nb = realloc(r->buf, cap);
		if (!nb) {
			rc = SSP_ERR_NOMEM;
			goto out;
		}
		ssp_rpc_budget_add(&s->bodies, cap - r->cap);
		r->held += cap - r->cap;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
out:
	return rc;
}

/* --------------------------------------------------------- handler threads */

/*
 * A request is heavy when its body is large (its parse tree is ten times
 * its size) or it is a batch of some size (a hundred calls of a costly
 * method). Heavy ones are handled at most HEAVY_RUNNING at a time and,
 * beyond the first, with bodies under HEAVY_BYTES together, so a burst of
 * them is worked off a few at a time while single calls keep the other
 * threads and, being picked first, their turn.
 */
static bool is_heavy(const char *body, size_t len)
{
	size_t i = 0;

	if (len >= HEAVY_BODY) return true;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	return len >= HEAVY_BATCH && i < len && body[i] == '[';
}

/* The next request to handle, or NULL: single calls first, then heavy ones within the limits. */
static struct req *pick(ssp_rpc_server *s)
{
	struct req *r = NULL;

	if (s->light) {
		r = s->light;
		s->light = r->next;
		if (!s->light) s->light_tail = NULL;
	} else if (s->heavy && s->heavy_running < HEAVY_RUNNING && s->heavy_running + 1 < s->nth &&
	           (!s->heavy_running || s->heavy_bytes + s->heavy->len <= HEAVY_BYTES)) {
		r = s->heavy;
		s->heavy = r->next;
		if (!s->heavy) s->heavy_tail = NULL;
		s->heavy_running++;
		s->heavy_bytes += r->len;
	}
	return r;
}

static void *handler_main(void *arg)
{
	ssp_rpc_server *s = arg;
	struct req *r;
	size_t len;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!(r = pick(s)) && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!r) break; /* stopping, and nothing left that may run */
		pthread_mutex_unlock(&s->mu);
		len = r->len;
		r->reply =
		    ssp_rpc_handle_body_stats(&s->cfg, &s->replies, &s->stats, r->buf ? r->buf : "",
		                              r->len, &r->status, &r->reply_len);
		body_drop(s, r); /* the body's memory is not needed for sending */
		pthread_mutex_lock(&s->mu);
		if (r->heavy) {
			s->heavy_running--;
			s->heavy_bytes -= len;
			pthread_cond_broadcast(&s->cv);
		}
		r->done = true;
		MHD_resume_connection(r->mc);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queues a complete request for the handlers; false when the server is stopping. */
static bool enqueue(ssp_rpc_server *s, struct req *r)
{
	bool ok = false;

	pthread_mutex_lock(&s->mu);
	if (s->stopping) goto out;
	r->queued = true;
	r->next = NULL;
	/* suspended before any handler can resume it */
	MHD_suspend_connection(r->mc);
	r->heavy = is_heavy(r->buf, r->len);
	if (r->heavy) {
		if (s->heavy_tail)
			s->heavy_tail->next = r;
		else
			s->heavy = r;
		s->heavy_tail = r;
	} else {
		if (s->light_tail)
			s->light_tail->next = r;
		else
			s->light = r;
		s->light_tail = r;
	}
	pthread_cond_signal(&s->cv);
	ok = true;
out:
	pthread_mutex_unlock(&s->mu);
	return ok;
}

/* -------------------------------------------------------------- MHD callbacks */

/* The server's own metrics appended to `text` (freed); NULL when out of memory. */
static char *server_metrics(ssp_rpc_server *s, char *text)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	unsigned long long n;
	const char *name;
	int code;

	if (!f) goto out;
	fputs(text, f);
	fputs("# HELP ssp_rpc_requests_total JSON-RPC requests answered, by method and result code "
	      "(0 success; method \"unknown\" for no such method, \"invalid\" for unparsable or "
	      "invalid requests).\n# TYPE ssp_rpc_requests_total counter\n",
	      f);
	for (size_t row = 0; row < s->stats.rows; row++)
		for (size_t col = 0; col < SSP_RPC_STAT_NCODES; col++) {
			n = atomic_load_explicit(&s->stats.n[row * SSP_RPC_STAT_NCODES + col],
			                         memory_order_relaxed);
			if (!n) continue;
			name = row < s->cfg.nmethods    ? s->cfg.methods[row].name
			       : row == s->cfg.nmethods ? "unknown"
			                                : "invalid";
			code = ssp_rpc_stat_code(col);
			if (col == SSP_RPC_STAT_NCODES - 1)
				fprintf(
				    f,
				    "ssp_rpc_requests_total{method=\"%s\",code=\"other\"} %llu\n",
				    name, n);
			else
				fprintf(f,
				        "ssp_rpc_requests_total{method=\"%s\",code=\"%d\"} %llu\n",
				        name, code, n);
		}
	fprintf(f,
	        "# HELP ssp_rpc_connections RPC connections open now (in flight).\n"
	        "# TYPE ssp_rpc_connections gauge\nssp_rpc_connections %llu\n"
	        "# HELP ssp_rpc_reply_bytes Reply bytes built and not yet sent.\n"
	        "# TYPE ssp_rpc_reply_bytes gauge\nssp_rpc_reply_bytes %zu\n"
	        "# HELP ssp_rpc_body_bytes Request body bytes held.\n"
	        "# TYPE ssp_rpc_body_bytes gauge\nssp_rpc_body_bytes %zu\n",
	        atomic_load(&s->conns_open), atomic_load(&s->replies.used),
	        atomic_load(&s->bodies.used));
	if (s->ws) {
		unsigned long long subs, dropped, conns = ssp_rpc_ws_count(s->ws, &subs, &dropped);
		fprintf(f,
		        "# HELP ssp_ws_connections WebSocket connections open now.\n"
		        "# TYPE ssp_ws_connections gauge\nssp_ws_connections %llu\n"
		        "# HELP ssp_ws_subscriptions WebSocket subscriptions now.\n"
		        "# TYPE ssp_ws_subscriptions gauge\nssp_ws_subscriptions %llu\n"
		        "# HELP ssp_ws_dropped_total WebSocket clients dropped for not reading.\n"
		        "# TYPE ssp_ws_dropped_total counter\nssp_ws_dropped_total %llu\n",
		        conns, subs, dropped);
	}
	if (fclose(f)) {
		free(out);
		out = NULL;
	}
out:
	free(text);
	return out;
}

static enum MHD_Result serve_metrics(ssp_rpc_server *s, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	char *text;

	if (!s->cfg.metrics) {
		ret = reply_static(s, conn, MHD_HTTP_NOT_FOUND, JSON_TYPE, not_found_body);
		goto out;
	}
	text = s->cfg.metrics(s->cfg.ctx);
	if (text) text = server_metrics(s, text);
	if (!text) {
		ret = reply_static(s, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
		                   "metrics unavailable\n");
		goto out;
	}
	ret = reply(s, conn, MHD_HTTP_OK, METRICS_TYPE, text, strlen(text), MHD_RESPMEM_MUST_FREE);
out:
	return ret;
}

static enum MHD_Result serve_health(ssp_rpc_server *s, struct MHD_Connection *conn)
{
	char *json = NULL;
	int status = 200;

	if (!s->cfg.health)
		return reply_static(s, conn, MHD_HTTP_OK, JSON_TYPE, "{\"status\":\"ok\"}\n");
	status = s->cfg.health(s->cfg.ctx, &json);
	if (!json)
		return reply_static(s, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, JSON_TYPE,
		                    "{\"status\":\"error\",\"reason\":\"out of memory\"}\n");
	return reply(s, conn, (unsigned)status, JSON_TYPE, json, strlen(json),
	             MHD_RESPMEM_MUST_FREE);
}

/* A CORS preflight (OPTIONS): allowed origins learn what they may send; others get 403. */
static enum MHD_Result serve_preflight(ssp_rpc_server *s, struct MHD_Connection *conn)
{
	const char *origin = origin_of(conn);
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;

	if (origin && !origin_allowed(s, origin))
		return reply_static(s, conn, MHD_HTTP_FORBIDDEN, JSON_TYPE, origin_body);
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!r) return MHD_NO;
	if (MHD_add_response_header(r, "Allow", "GET, POST, OPTIONS") != MHD_YES) goto out;
	if (origin && (MHD_add_response_header(r, "Access-Control-Allow-Methods",
	                                       "GET, POST, OPTIONS") != MHD_YES ||
	               MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type") !=
	                   MHD_YES ||
	               MHD_add_response_header(r, "Access-Control-Max-Age", "600") != MHD_YES ||
	               !decorate(s, conn, r)))
		goto out;
	set_phase(s, conn, C_SEND);
	ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
out:
	MHD_destroy_response(r);
	return ret;
}

static const char ws_bad_body[] =
    ERR_JSON(-32600, "GET /ws needs a WebSocket handshake (Upgrade: websocket, "
                     "Sec-WebSocket-Version: 13, a Sec-WebSocket-Key)");
static const char ws_full_body[] = ERR_JSON(-32002, "too many WebSocket connections, retry");

/* MHD hands over the socket of a completed upgrade: the WebSocket thread owns its I/O now. */
static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock,
                        struct MHD_UpgradeResponseHandle *urh)
{
	ssp_rpc_server *s = cls;

	(void)req_cls;
	set_phase(s, conn, C_UPGRADED); /* long-lived: no request deadline */
	ssp_rpc_ws_attach(s->ws, sock, extra_in, extra_in_size, urh);
}

/* True if the comma-separated header value contains token (case-insensitive). */
static bool header_has(struct MHD_Connection *conn, const char *name, const char *token)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	size_t n = strlen(token);

	for (const char *p = v; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, token, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

/* GET /ws: the RFC 6455 handshake, answered 101 by MHD's upgrade. */
static enum MHD_Result serve_ws(ssp_rpc_server *s, struct MHD_Connection *conn)
{
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *ver =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;
	char accept[29];

	if (!header_has(conn, "Upgrade", "websocket") ||
	    !header_has(conn, "Connection", "upgrade") || !ver || strcmp(ver, "13") != 0 ||
	    !ssp_rpc_ws_accept_key(accept, key))
		return reply_static(s, conn, MHD_HTTP_BAD_REQUEST, JSON_TYPE, ws_bad_body);
	if (ssp_rpc_ws_full(s->ws))
		return reply_static(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, JSON_TYPE, ws_full_body);
	r = MHD_create_response_for_upgrade(on_upgraded, s);
	if (!r) return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket") == MHD_YES &&
	    MHD_add_response_header(r, "Sec-WebSocket-Accept", accept) == MHD_YES &&
	    decorate(s, conn, r))
		ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return ret;
}

void ssp_rpc_publish(ssp_rpc_server *s, const char *topic, const json_t *event)
{
	if (s && s->ws) ssp_rpc_ws_publish(s->ws, topic, event);
}

bool ssp_rpc_subscribed(ssp_rpc_server *s, const char *topic)
{
	return s && s->ws && ssp_rpc_ws_subscribed(s->ws, topic);
}

/* First call of a request (headers only): everything but POST /rpc is answered here. */
static enum MHD_Result route(ssp_rpc_server *s, struct MHD_Connection *conn, const char *url,
                             const char *method, void **con_cls)
{
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	const char *origin = origin_of(conn);
	enum MHD_Result ret;
	struct req *r;

	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0) {
		ret = serve_preflight(s, conn);
	} else if (origin && !origin_allowed(s, origin)) {
		/* a page from another site: refused before anything runs (CSRF, DNS rebinding) */
		ret = reply_static(s, conn, MHD_HTTP_FORBIDDEN, JSON_TYPE, origin_body);
	} else if (strcmp(url, "/rpc") == 0 || strcmp(url, "/") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
			ret = reply_static(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
			                   bad_method_body);
		} else if (announced_too_big(conn, s->cfg.max_body)) {
			/* Answer now; MHD drops the unread body and closes the connection. */
			ret = reply_static(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, JSON_TYPE,
			                   too_large_body);
		} else if (!(r = calloc(1, sizeof(*r)))) {
			ret = MHD_NO;
		} else {
			r->mc = conn;
			*con_cls = r;
			ret = MHD_YES;
		}
	} else if (strcmp(url, "/ws") == 0 && s->ws) {
		ret = get ? serve_ws(s, conn)
		          : reply_static(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
		                         bad_method_body);
	} else if (strcmp(url, "/health") == 0) {
		ret = get ? serve_health(s, conn)
		          : reply_static(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
		                         bad_method_body);
	} else if (strcmp(url, "/metrics") == 0) {
		ret = get ? serve_metrics(s, conn)
		          : reply_static(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
		                         bad_method_body);
	} else {
		ret = reply_static(s, conn, MHD_HTTP_NOT_FOUND, JSON_TYPE, not_found_body);
	}
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	ssp_rpc_server *s = cls;
	struct req *r = *con_cls;
	enum MHD_Result ret = MHD_YES;

	if (!r) {
		ret = route(s, conn, url, method, con_cls);
		goto out;
	}
	if (r->done) {
		ret = reply_handled(s, conn, r);
		goto out;
	}
	if (*upload_data_size) {
		/* MHD forbids replying while upload data is pending: just consume. */
		if (body_append(s, r, upload_data, *upload_data_size)) ret = MHD_NO;
		*upload_data_size = 0;
		goto out;
	}
	if (r->queued) goto out; /* resumed without a reply: cannot happen, wait */
	if (r->too_big) {
		ret = reply_static(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, JSON_TYPE, too_large_body);
		goto out;
	}
	if (r->busy) {
		ret = reply_static(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, JSON_TYPE, busy_body);
		goto out;
	}
	/* The body is complete: a handler thread takes it from here. */
	set_phase(s, conn, C_HANDLE);
	if (!enqueue(s, r))
		ret = reply_static(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, JSON_TYPE, stopping_body);
out:
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	ssp_rpc_server *s = cls;
	struct req *r = *con_cls;

	(void)toe;
	/* keep-alive: the next request's deadline runs from now */
	set_phase(s, conn, C_RECV);
	if (!r) return;
	body_drop(s, r);
	if (r->reply) {
		ssp_rpc_budget_release(&s->replies, r->reply_len);
		free(r->reply);
	}
	free(r);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	ssp_rpc_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = calloc(1, sizeof(*c));
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!c || !ci) {
			free(c);
			return; /* untracked: only MHD's idle timeout applies to it */
		}
		atomic_fetch_add(&s->conns_open, 1);
		c->fd = ci->connect_fd;
		c->phase = C_RECV;
		c->since = now_ms();
		pthread_mutex_lock(&s->cmu);
		c->next = s->conns;
		if (s->conns) s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->cmu);
		*socket_context = c;
		return;
	}
	/* CLOSED: MHD closes the socket only after this returns, so the reaper never
	 * touches a reused descriptor (it works on the list under the same lock). */
	c = *socket_context;
	if (!c) return;
	atomic_fetch_sub(&s->conns_open, 1);
	pthread_mutex_lock(&s->cmu);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next) c->next->prev = c->prev;
	pthread_mutex_unlock(&s->cmu);
	free(c);
	*socket_context = NULL;
}

/*
 * The reaper: a connection still receiving its request after request_ms,
 * or still taking its reply after send_ms, is shut down; MHD then sees the
 * socket end and closes it. Connections whose request is being handled
 * have no deadline here (handlers are bounded by their own limits).
 */
static void *reaper_main(void *arg)
{
	ssp_rpc_server *s = arg;
	struct timespec until;
	uint64_t now, limit;
	unsigned shut;

	pthread_mutex_lock(&s->cmu);
	while (!s->reaper_stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += REAP_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->ccv, &s->cmu, &until);
		now = now_ms();
		shut = 0;
		for (struct conn *c = s->conns; c; c = c->next) {
			if (c->shut || c->phase == C_HANDLE || c->phase == C_UPGRADED) continue;
			limit = c->phase == C_RECV ? s->cfg.request_ms : s->cfg.send_ms;
			if (now - c->since < limit) continue;
			shutdown(c->fd, SHUT_RDWR);
			c->shut = true;
			shut++;
		}
		if (shut) SSP_LOGD("rpc", "deadline: closed %u connections", shut);
	}
	pthread_mutex_unlock(&s->cmu);
	return NULL;
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

int ssp_rpc_listen(int *fd, const char *listen_on, char *why, size_t cap)
{
	struct sockaddr_in sa;
	int one = 1, rc = SSP_ERR_INVAL, sock = -1;

	*fd = -1;
	if (!listen_on || parse_listen(&sa, listen_on)) {
		snprintf(why, cap, "bad listen address '%s' (want IPv4 ADDR:PORT)",
		         listen_on ? listen_on : "");
		goto out;
	}
	rc = SSP_ERR_IO;
	sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* SO_REUSEADDR only skips TIME_WAIT after a restart; no SO_REUSEPORT, so two nodes
	 * never share a port */
	if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(sock, (struct sockaddr *)&sa, sizeof(sa)) || listen(sock, SOMAXCONN)) {
		snprintf(why, cap, "%s",
		         errno == EADDRINUSE ? "address already in use" : strerror(errno));
		goto out;
	}
	*fd = sock;
	sock = -1;
	rc = 0;
out:
	if (sock >= 0) close(sock);
	return rc;
}

static void defaults(ssp_rpc_config *c)
{
	struct rlimit nofile;

	if (!c->max_body) c->max_body = SSP_RPC_DEFAULT_MAX_BODY;
	if (!c->max_batch) c->max_batch = SSP_RPC_DEFAULT_MAX_BATCH;
	if (!c->max_depth) c->max_depth = SSP_RPC_DEFAULT_MAX_DEPTH;
	if (!c->threads) c->threads = SSP_RPC_DEFAULT_THREADS;
	if (c->threads > THREADS_MAX) c->threads = THREADS_MAX;
	if (c->threads < 2) c->threads = 2; /* one stays free of large requests */
	if (!c->max_reply) c->max_reply = SSP_RPC_DEFAULT_MAX_REPLY;
	if (!c->reply_budget) c->reply_budget = SSP_RPC_DEFAULT_REPLY_BUDGET;
	if (!c->body_budget) c->body_budget = SSP_RPC_DEFAULT_BODY_BUDGET;
	if (c->body_budget < c->max_body) c->body_budget = c->max_body;
	if (!c->max_conns) c->max_conns = SSP_RPC_DEFAULT_MAX_CONNS;
	/* each connection is a descriptor: leave room for the rest of the process */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
	    c->max_conns + FD_RESERVE > nofile.rlim_cur)
		c->max_conns = nofile.rlim_cur > 2 * FD_RESERVE
		                   ? (unsigned)(nofile.rlim_cur - FD_RESERVE)
		                   : FD_RESERVE;
	if (!c->max_conns_per_ip) c->max_conns_per_ip = SSP_RPC_DEFAULT_CONNS_PER_IP;
	if (!c->request_ms) c->request_ms = SSP_RPC_DEFAULT_REQUEST_MS;
	if (!c->send_ms) c->send_ms = SSP_RPC_DEFAULT_SEND_MS;
}

/* Stops and joins the handler threads; queued requests are answered "stopping". */
static void stop_handlers(ssp_rpc_server *s)
{
	struct req *r, *next;

	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	/* heavy requests that could not start yet are not run */
	for (r = s->heavy; r; r = next) {
		next = r->next;
		r->status = 503;
		r->done = true;
		MHD_resume_connection(r->mc);
	}
	s->heavy = s->heavy_tail = NULL;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->nth; i++)
		pthread_join(s->th[i], NULL);
	s->nth = 0;
}

static void stop_reaper(ssp_rpc_server *s)
{
	if (!s->reaper_started) return;
	pthread_mutex_lock(&s->cmu);
	s->reaper_stop = true;
	pthread_cond_broadcast(&s->ccv);
	pthread_mutex_unlock(&s->cmu);
	pthread_join(s->reaper, NULL);
	s->reaper_started = false;
}

static void server_free(ssp_rpc_server *s)
{
	if (!s) return;
	ssp_rpc_ws_stop(s->ws); /* closes the WebSockets while MHD still runs */
	stop_handlers(s);
	stop_reaper(s);
	/* No connection is suspended any more, as MHD requires. */
	if (s->d) MHD_stop_daemon(s->d);
	ssp_rpc_ws_free(s->ws); /* /metrics and /ws may use it until the daemon stopped */
	free(s->th);
	free((void *)s->stats.n);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->cmu);
	pthread_cond_destroy(&s->ccv);
	free(s);
}

int ssp_rpc_server_start(ssp_rpc_server **out, const ssp_rpc_config *cfg)
{
	ssp_rpc_server *s = NULL;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	pthread_attr_t attr;
	unsigned flags;
	int rc = SSP_ERR_INVAL, listen_fd = cfg ? cfg->listen_fd : -1;

	*out = NULL;
	if (!cfg || !cfg->listen || (cfg->nmethods && !cfg->methods)) goto out;
	if (parse_listen(&sa, cfg->listen)) {
		SSP_LOGE("rpc", "bad listen address '%s' (want IPv4 ADDR:PORT)", cfg->listen);
		goto out;
	}
	rc = SSP_ERR_NOMEM;
	s = calloc(1, sizeof(*s));
	if (!s) goto out;
	if (cfg->cors && (rc = parse_cors(s, cfg->cors))) goto out;
	rc = SSP_ERR_NOMEM;
	s->stats.rows = cfg->nmethods + 2;
	s->stats.n = calloc(s->stats.rows * SSP_RPC_STAT_NCODES, sizeof(*s->stats.n));
	if (!s->stats.n) goto out;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->cmu, NULL);
	pthread_cond_init(&s->ccv, NULL);
	s->cfg = *cfg;
	defaults(&s->cfg);
	s->cfg.listen = NULL; /* borrowed only for the duration of this call */
	s->replies.limit = s->cfg.reply_budget;
	s->bodies.limit = s->cfg.body_budget;

	s->th = calloc(s->cfg.threads, sizeof(*s->th));
	if (!s->th) goto out;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	for (unsigned i = 0; i < s->cfg.threads; i++) {
		if (pthread_create(&s->th[i], &attr, handler_main, s)) break;
		s->nth++;
	}
	if (s->nth == s->cfg.threads && !pthread_create(&s->reaper, NULL, reaper_main, s))
		s->reaper_started = true;
	pthread_attr_destroy(&attr);
	if (!s->reaper_started) goto out;

	/*
	 * One polling thread, epoll: it only moves bytes, so it serves thousands
	 * of connections; handlers run on the threads above (suspend/resume).
	 * MHD's idle timeout stays as a backstop; the reaper enforces the real
	 * deadlines, which trickling cannot defeat.
	 */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	        MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	if (s->cfg.ntopics && (rc = ssp_rpc_ws_new(&s->ws, &s->cfg))) goto out;
	/* From here MHD owns a given socket: on failure it may have closed it already, so
	 * it is not closed again here (a descriptor leaked on a failed start, not a double close).
	 */
	listen_fd = -1;
	/* The logger goes first so that MHD reports option errors through it too. */
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
	    cfg->listen_fd > 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
	    cfg->listen_fd > 0 ? (intptr_t)cfg->listen_fd : (intptr_t)&sa,
	    MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    s->cfg.max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	    (s->cfg.request_ms + s->cfg.send_ms) / 1000u + 1u, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
	if (!s->d) {
		SSP_LOGE("rpc", "cannot listen on %s", cfg->listen);
		rc = SSP_ERR_IO;
		goto out;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info && info->port ? info->port : ntohs(sa.sin_port);
	if (cfg->listen_fd > 0) {
		struct sockaddr_in bound;
		socklen_t blen = sizeof(bound);
		if (getsockname(cfg->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
			s->port = ntohs(bound.sin_port);
	}
	SSP_LOGI("rpc",
	         "JSON-RPC listening on %s (port %u, up to %u connections, %u per address, %u "
	         "handler threads)",
	         cfg->listen, s->port, s->cfg.max_conns, s->cfg.max_conns_per_ip, s->nth);
	*out = s;
	s = NULL;
	rc = 0;
out:
	if (listen_fd > 0) close(listen_fd); /* ours since the call, never handed to MHD */
	server_free(s);
	return rc;
}

unsigned ssp_rpc_server_port(const ssp_rpc_server *s)
{
	return s ? s->port : 0;
}

void ssp_rpc_server_stop(ssp_rpc_server *s)
{
	/* Handlers first: when this returns no handler is running. */
	server_free(s);
}
