/*
 * common.c — what the JSON-RPC client and server share (rpc layer):
 * ssp_rpc_fail and the nesting-depth pre-scan. It is part of the client
 * library (libssp_rpc_client), which the CLI and the device agent link
 * without the server.
 */
#include <stdarg.h>
#include <stdio.h>

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
