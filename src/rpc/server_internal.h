/*
 * rpc/server_internal.h — private interface of the RPC layer: the HTTP-free
 * core of the JSON-RPC server (body in, response body out), exposed so the
 * libFuzzer harness and unit tests can drive it without sockets, and the
 * cheap nesting-depth pre-scan shared by the server and the client. Not an
 * API: nothing outside src/rpc and tests may include it.
 */
#ifndef SSP_RPC_SERVER_INTERNAL_H
#define SSP_RPC_SERVER_INTERNAL_H

#include <stddef.h>

#include "ssp/rpc.h"

/* Defaults applied when the matching ssp_rpc_config field is 0. */
#define SSP_RPC_DEFAULT_MAX_BODY ((size_t)8 << 20)
#define SSP_RPC_DEFAULT_MAX_BATCH 100
#define SSP_RPC_DEFAULT_MAX_DEPTH 32
#define SSP_RPC_DEFAULT_THREADS 2

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

#endif
