/*
 * rpc/server_internal.h — private interface of the RPC layer: the HTTP-free
 * core of the JSON-RPC server (body in, response body out), exposed so the
 * libFuzzer harness and unit tests can drive it without sockets, and the
 * cheap nesting-depth pre-scan shared by the server and the client. Not an
 * API: nothing outside src/rpc and tests may include it.
 */
#ifndef SSP_RPC_SERVER_INTERNAL_H
#define SSP_RPC_SERVER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ssp/rpc.h"

/* Defaults applied when the matching ssp_rpc_config field is 0. */
#define SSP_RPC_DEFAULT_MAX_BODY ((size_t)8 << 20)
#define SSP_RPC_DEFAULT_MAX_BATCH 100
#define SSP_RPC_DEFAULT_MAX_DEPTH 32
#define SSP_RPC_DEFAULT_THREADS 8                        /* handler threads */
#define SSP_RPC_DEFAULT_MAX_REPLY ((size_t)16 << 20)     /* one request's reply */
#define SSP_RPC_DEFAULT_REPLY_BUDGET ((size_t)256 << 20) /* replies in flight, all requests */
#define SSP_RPC_DEFAULT_BODY_BUDGET ((size_t)256 << 20)  /* request bodies held, all requests */
#define SSP_RPC_DEFAULT_MAX_CONNS 8192
#define SSP_RPC_DEFAULT_CONNS_PER_IP 2048
#define SSP_RPC_DEFAULT_REQUEST_MS 10000 /* headers + body, from the connection being ready */
#define SSP_RPC_DEFAULT_SEND_MS 30000    /* the reply, from when it is queued */

/*
 * A byte budget shared by threads (replies in flight). `limit` 0 means
 * none. Charging is not a reservation: a caller checks over() for what it
 * is about to add, then add()s what it really appended, and release()s it
 * once the bytes are gone.
 */
typedef struct {
	_Atomic size_t used;
	size_t limit;
} ssp_rpc_budget;

/* true if adding n bytes would take b past its limit (never with b NULL). */
bool ssp_rpc_budget_over(const ssp_rpc_budget *b, size_t n);
void ssp_rpc_budget_add(ssp_rpc_budget *b, size_t n);
void ssp_rpc_budget_release(ssp_rpc_budget *b, size_t n);

/*
 * Request counters by method and JSON-RPC code, for /metrics. Rows are the
 * config's methods in table order, then "unknown" (no such method), then
 * "invalid" (parse errors and invalid requests); columns SSP_RPC_STAT_CODES
 * then "other". Counting is lock-free (relaxed atomics); any thread.
 */
#define SSP_RPC_STAT_NCODES 12
typedef struct {
	size_t rows;
	_Atomic unsigned long long *n; /* rows × SSP_RPC_STAT_NCODES */
} ssp_rpc_stats;

/* The JSON-RPC code of column i (i < SSP_RPC_STAT_NCODES - 1; the last is "other"). */
int ssp_rpc_stat_code(size_t i);

/*
 * Returns 1 if no container in json[0..len) nests deeper than max_depth,
 * 0 otherwise. Counts '[' and '{' outside strings (honouring backslash
 * escapes) without validating anything else, so it is safe on any bytes and
 * runs before a recursive parser sees them.
 */
int ssp_rpc_depth_ok(const char *json, size_t len, size_t max_depth);

/*
 * Processes one HTTP request body as JSON-RPC 2.0 (a single request or a
 * batch) against cfg's method table, calling handlers on the caller's
 * thread. Zero limits in cfg take the defaults above. Returns the response
 * body (NUL-terminated JSON from json_dumps; the caller frees it with free(),
 * so jansson must keep its default allocator) and sets
 * *http_status to 200, or 413 when len exceeds the body limit. Returns NULL
 * with *http_status 204 when every request was a notification (no body), and
 * NULL with 500 when out of memory. Thread-safe: keeps no state of its own.
 */
char *ssp_rpc_handle_body(const ssp_rpc_config *cfg, const char *body, size_t len,
                          int *http_status);

/*
 * The same with reply limits: the reply (a batch's replies together) is
 * capped at cfg->max_reply bytes, and every byte of it is charged to
 * `budget` (may be NULL). A reply that would cross either limit is replaced
 * by an error (-32003 over the request's cap, -32002 over the budget) and
 * the rest of the batch is answered with the same error without being run.
 * Sets *out_len to the reply's length; the caller releases that many bytes
 * from `budget` when it frees the reply.
 */
char *ssp_rpc_handle_body_budget(const ssp_rpc_config *cfg, ssp_rpc_budget *budget,
                                 const char *body, size_t len, int *http_status, size_t *out_len);

/* The same, counting each request's outcome in `stats` (may be NULL). */
char *ssp_rpc_handle_body_stats(const ssp_rpc_config *cfg, ssp_rpc_budget *budget,
                                ssp_rpc_stats *stats, const char *body, size_t len,
                                int *http_status, size_t *out_len);

/* ---------------------------------------------------------- WebSockets (ws.c) */

#define WS_MAX_CONNS 256          /* WebSocket connections; more get 503 */
#define WS_MAX_SUBS 32            /* subscriptions per connection */
#define WS_MAX_MSG (64 << 10)     /* a client message (all its fragments) */
#define WS_QUEUE_BYTES (1u << 20) /* frames waiting for one client; past it, it is dropped */
#define WS_QUEUE_MSGS 4096

typedef struct ssp_rpc_ws ssp_rpc_ws;

/* Starts the WebSocket thread; cfg (topics) must outlive it. */
int ssp_rpc_ws_new(ssp_rpc_ws **out, const ssp_rpc_config *cfg);
/* Closes every WebSocket and joins the thread; the registry stays usable (empty, refusing
 * new ones) for the HTTP thread until ssp_rpc_ws_free, after the daemon stopped. */
void ssp_rpc_ws_stop(ssp_rpc_ws *ws);
void ssp_rpc_ws_free(ssp_rpc_ws *ws);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (28 characters + NUL); false for a malformed key. */
bool ssp_rpc_ws_accept_key(char out[29], const char *key);
/* true when no more WebSockets are taken (the cap, or stopping). */
bool ssp_rpc_ws_full(ssp_rpc_ws *ws);
/* Takes an upgraded socket (MHD's upgrade handle `urh`) and the bytes read past the handshake. */
void ssp_rpc_ws_attach(ssp_rpc_ws *ws, int fd, const char *extra, size_t n, void *urh);
bool ssp_rpc_ws_subscribed(ssp_rpc_ws *ws, const char *topic);
void ssp_rpc_ws_publish(ssp_rpc_ws *ws, const char *topic, const json_t *event);
/* Open WebSockets; *subs their subscriptions, *dropped slow readers closed so far. */
unsigned long long ssp_rpc_ws_count(ssp_rpc_ws *ws, unsigned long long *subs,
                                    unsigned long long *dropped);

#endif
