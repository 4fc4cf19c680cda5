/*
 * ssp/rpc.h — the public API of libssp_rpc: a JSON-RPC 2.0 server over HTTP
 * (libmicrohttpd + jansson) that dispatches to a method table, and the
 * client (libcurl) used by the CLI, agent and gateway. Sits above core; it
 * knows nothing of the chain — the node supplies the method table.
 */
#ifndef SSP_RPC_H
#define SSP_RPC_H

#include <jansson.h>
#include <stdbool.h>

#include "ssp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* JSON-RPC 2.0 standard codes and our server codes (-32000 … -32099). */
enum {
	SSP_RPC_PARSE_ERROR = -32700,
	SSP_RPC_INVALID_REQUEST = -32600,
	SSP_RPC_METHOD_NOT_FOUND = -32601,
	SSP_RPC_INVALID_PARAMS = -32602,
	SSP_RPC_INTERNAL_ERROR = -32603,
	SSP_RPC_TX_REJECTED = -32000, /* data: {"error": NAME, "reason": text} */
	SSP_RPC_NOT_FOUND = -32001,
	SSP_RPC_BUSY = -32002,
	SSP_RPC_LIMIT = -32003, /* a request over a limit (batch length, list size) */
	SSP_RPC_PRUNED = -32011, /* state of a height this node no longer keeps (proofs) */
};

typedef struct {
	int code;
	char message[256];
	json_t *data; /* optional, owned (stolen into the response) */
} ssp_rpc_error;

/* Fills err with code and a printf-style message; returns -1 for `return ssp_rpc_fail(...)`. */
int ssp_rpc_fail(ssp_rpc_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A method handler. Runs on one of the server's threads, concurrently with
 * other handlers. `params` is borrowed (an object, an array, or NULL when
 * absent). On success returns 0 and sets *result (a new reference); on
 * failure returns non-zero and fills err.
 */
typedef int (*ssp_rpc_fn)(void *ctx, json_t *params, json_t **result, ssp_rpc_error *err);

typedef struct {
	const char *name;
	ssp_rpc_fn fn;
	void *ctx; /* passed to fn; NULL means the server's ctx */
} ssp_rpc_method;

/*
 * A WebSocket subscription topic (GET /ws, JSON-RPC `subscribe`): clients
 * subscribe with {"topic": name, <filter>: string …}; an event published on
 * the topic reaches the subscriptions whose every filter value equals the
 * event's member of that name.
 */
typedef struct {
	const char *name;
	const char *const *filters; /* allowed filter keys, NULL-terminated (may be NULL) */
	const char *required;       /* a filter key that must be given, or NULL */
} ssp_rpc_topic;

typedef struct {
	const char *listen;  /* "ADDR:PORT"; port 0 picks a free one */
	size_t max_body;     /* bytes; larger bodies get HTTP 413 + -32600 */
	size_t max_batch;    /* JSON-RPC batch entries */
	size_t max_depth;    /* JSON nesting */
	unsigned threads;    /* handler threads (the HTTP side is one event-driven thread) */
	size_t max_reply;    /* bytes of one request's reply; a batch's replies count together */
	size_t reply_budget; /* bytes of replies built and not yet sent, all connections */
	size_t body_budget;  /* bytes of request bodies held, all connections */
	unsigned max_conns;  /* concurrent connections */
	unsigned max_conns_per_ip; /* concurrent connections from one IP address */
	unsigned request_ms; /* time to send headers and body, from the connection being ready */
	unsigned send_ms;    /* time for the client to take the reply, from when it is ready */
	const ssp_rpc_method *methods;
	size_t nmethods;
	void *ctx; /* passed to every handler */
	/* Optional: text for GET /metrics (malloc'd, freed by the server). The server appends
	 * its own metrics (requests by method and code, connections) after it. */
	char *(*metrics)(void *ctx);
	/* Optional: GET /health. Returns the HTTP status (200 healthy, 503 not) and sets *json
	 * to a malloc'd JSON object (freed by the server). Without it /health is 200
	 * {"status":"ok"}. */
	int (*health)(void *ctx, char **json);
	/* > 0: a socket from ssp_rpc_listen, used instead of binding `listen` (which then only
	 * names it in logs). The server owns it from ssp_rpc_server_start on, even on failure. */
	int listen_fd;
	/* Browser origins allowed to call (CORS): "https://a.example,http://localhost:3000", "*"
	 * for any; NULL or "" for none (the default). Read only by ssp_rpc_server_start. */
	const char *cors;
	/* WebSocket topics (GET /ws); none: /ws answers 404. Must outlive the server. */
	const ssp_rpc_topic *topics;
	size_t ntopics;
} ssp_rpc_config;

/*
 * Binds and listens on "ADDR:PORT" (the `listen` syntax) and returns the socket in *fd, so
 * that a program claims its port before it does anything else (sspd does so before it
 * touches its datadir). Returns 0, SSP_ERR_INVAL for a malformed address, or SSP_ERR_IO with
 * the reason ("address already in use") in why[0..cap).
 */
SSP_WUR int ssp_rpc_listen(int *fd, const char *listen, char *why, size_t cap);

typedef struct ssp_rpc_server ssp_rpc_server;

/* Starts serving POST /rpc on its own threads. cfg->methods must outlive the server. */
SSP_WUR int ssp_rpc_server_start(ssp_rpc_server **out, const ssp_rpc_config *cfg);
/* The port actually bound (useful with port 0). */
unsigned ssp_rpc_server_port(const ssp_rpc_server *s);
/* Stops accepting, waits for handlers to return, frees. */
void ssp_rpc_server_stop(ssp_rpc_server *s);

/*
 * Sends `event` (borrowed; an object) to every WebSocket subscription of
 * `topic` whose filters match it. Never blocks on a client: each
 * connection's queue is bounded and a client that does not keep up is
 * dropped. Any thread.
 */
void ssp_rpc_publish(ssp_rpc_server *s, const char *topic, const json_t *event);
/* true if some WebSocket is subscribed to `topic` (publishers skip building events otherwise). */
bool ssp_rpc_subscribed(ssp_rpc_server *s, const char *topic);

/* ------------------------------------------------------------------ client */

typedef struct ssp_rpc_client ssp_rpc_client;

/* url like "http://127.0.0.1:9631" (the /rpc path is added if missing). */
SSP_WUR int ssp_rpc_client_new(ssp_rpc_client **out, const char *url, long timeout_ms);
void ssp_rpc_client_free(ssp_rpc_client *c);

/*
 * Calls `method` with `params` (stolen; may be NULL). Returns 0 and *result
 * (new reference), SSP_ERR_RPC with err filled for a JSON-RPC error,
 * SSP_ERR_CONNECT when the node cannot be reached, SSP_ERR_TIMEOUT, or
 * SSP_ERR_DECODE for a reply that is not JSON-RPC. On SSP_ERR_RPC, err->data
 * (if any) is a new reference the caller must json_decref. Not thread-safe
 * per client.
 */
SSP_WUR int ssp_rpc_call(ssp_rpc_client *c, const char *method, json_t *params, json_t **result,
                         ssp_rpc_error *err);

#ifdef __cplusplus
}
#endif
#endif
