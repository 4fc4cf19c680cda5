/*
 * log.c — one-line logs to stderr, plain text or JSON lines (core layer).
 * A whole line is formatted first and written with one fwrite under the
 * stdio lock, so concurrent threads never interleave within a line.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ssp/core.h"

static ssp_log_format g_fmt = SSP_LOG_PLAIN;
static ssp_log_level g_min = SSP_LOG_INFO;

void ssp_log_setup(ssp_log_format fmt, ssp_log_level min)
{
	g_fmt = fmt;
	g_min = min;
}

static const char *level_name(ssp_log_level l)
{
	static const char *n[] = {"debug", "info", "warn", "error"};
	return (unsigned)l < 4 ? n[l] : "info";
}

/* Appends s JSON-escaped to out (bounded). */
static size_t json_escape(char *out, size_t cap, size_t pos, const char *s)
{
	for (; *s && pos + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)c;
		} else if (c < 0x20) {
			pos += (size_t)snprintf(out + pos, cap - pos, "\\u%04x", c);
		} else {
			out[pos++] = (char)c;
		}
	}
	return pos;
}

void ssp_log(ssp_log_level lvl, const char *module, const char *fmt, ...)
{
	if (lvl < g_min) return;
	char msg[2048], line[4400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[128]; /* sized for gcc's worst case of every %d field, not for real dates */
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	size_t n;
	if (g_fmt == SSP_LOG_JSON) {
		n = (size_t)snprintf(line, sizeof line,
		                     "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"", when,
		                     level_name(lvl));
		n = json_escape(line, sizeof line, n, module);
		n += (size_t)snprintf(line + n, sizeof line - n, "\",\"msg\":\"");
		n = json_escape(line, sizeof line, n, msg);
		n += (size_t)snprintf(line + n, sizeof line - n, "\"}\n");
	} else {
		n = (size_t)snprintf(line, sizeof line, "%s %-5s [%s] %s\n", when, level_name(lvl),
		                     module, msg);
	}
	if (n >= sizeof line) n = sizeof line - 1;
	fwrite(line, 1, n, stderr);
}
