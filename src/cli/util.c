/*
 * util.c — error reporting and small input checks for the `ssp` CLI
 * (application layer): the single recorded error line, number/name
 * validation (UTF-8 is ssp_utf8_valid in core) and bounded file reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define CLI_ERR_MAX 1024

static char err_text[CLI_ERR_MAX];
static bool err_set;

/* Keeps the first error only, flattened to one printable line. */
__attribute__((format(printf, 1, 0))) static void record(const char *fmt, va_list ap)
{
	if (err_set) return;
	vsnprintf(err_text, sizeof(err_text), fmt, ap);
	for (char *p = err_text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
	err_set = true;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(fmt, ap);
	va_end(ap);
	return CLI_FAIL;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

const char *cli_error_text(void)
{
	return err_set ? err_text : NULL;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("ssp: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

_Noreturn void cli_oom(void)
{
	fputs("ssp: error: out of memory\n", stderr);
	exit(CLI_FAIL);
}

int cli_parse_u64(uint64_t *out, const char *s)
{
	uint64_t v = 0;
	if (!s || !*s) return SSP_ERR_INVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9') return SSP_ERR_INVAL;
		if (ssp_mul_u64(&v, v, 10) || ssp_add_u64(&v, v, (uint64_t)(*p - '0')))
			return SSP_ERR_RANGE;
	}
	*out = v;
	return 0;
}

bool cli_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CLI_NAME_MAX || name[0] == '.') return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

bool cli_is_hash_hex(const char *s)
{
	size_t n = strlen(s);
	if (n != 64) return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

int cli_read_file(char **out, size_t *len, const char *path, size_t max)
{
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t n = 0;
	int rc = CLI_OK;
	*out = NULL;
	*len = 0;
	if (fd < 0) return cli_fail("cannot open %s: %s", path, strerror(errno));
	buf = malloc(max + 1);
	if (!buf) cli_oom();
	for (;;) {
		ssize_t r;
		if (n == max + 1) {
			rc = cli_fail("%s: file larger than %zu bytes", path, max);
			goto out;
		}
		r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) {
			rc = cli_fail("cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0) break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (buf) {
		sodium_memzero(buf, max + 1);
		free(buf);
	}
	if (!is_stdin) close(fd);
	return rc;
}
