/*
 * password.c — obtaining keystore passwords for `ssp` (application layer):
 * from $SSP_PASSWORD, or typed on the controlling terminal with echo off.
 * The terminal's settings are restored even if a signal interrupts the
 * prompt.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_dirty;

static const int prompt_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSIG_PROMPT (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

static void on_signal(int sig)
{
	if (tty_dirty) {
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
		tty_dirty = 0;
		(void)!write(tty_fd, "\n", 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void put_tty(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(tty_fd, s, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return;
		s += w;
		n -= (size_t)w;
	}
}

/* Reads one line without echo into out (CLI_PASSWORD_MAX + 1 bytes). */
static int read_hidden(char *out, const char *prompt)
{
	struct sigaction sa, old[NSIG_PROMPT];
	struct termios quiet;
	size_t n = 0;
	bool toolong = false;
	int rc = CLI_OK;
	char ch;

	if (tcgetattr(tty_fd, &tty_saved) != 0)
		return cli_fail(
		    "cannot read a password: /dev/tty is not a terminal; set SSP_PASSWORD");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIG_PROMPT; i++)
		sigaction(prompt_signals[i], &sa, &old[i]);

	quiet = tty_saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ICANON;
	put_tty(prompt);
	tty_dirty = 1;
	if (tcsetattr(tty_fd, TCSAFLUSH, &quiet) != 0) {
		tty_dirty = 0;
		rc = cli_fail("cannot turn off terminal echo: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t r = read(tty_fd, &ch, 1);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) {
			rc = cli_fail("cannot read the password: %s", strerror(errno));
			break;
		}
		if (r == 0 || ch == '\n') break;
		if (n < CLI_PASSWORD_MAX)
			out[n++] = ch;
		else
			toolong = true;
	}
	if (n > 0 && out[n - 1] == '\r') n--;
	out[n] = '\0';
	tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	tty_dirty = 0;
	put_tty("\n");
	if (!rc && toolong) rc = cli_fail("password longer than %d bytes", CLI_PASSWORD_MAX);
out:
	for (size_t i = 0; i < NSIG_PROMPT; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	sodium_memzero(&ch, sizeof(ch));
	return rc;
}

int cli_password(char *out, bool confirm)
{
	const char *env = getenv("SSP_PASSWORD");
	char *again = NULL;
	int rc;

	out[0] = '\0';
	if (env) {
		if (strlen(env) > CLI_PASSWORD_MAX)
			return cli_fail("SSP_PASSWORD is longer than %d bytes", CLI_PASSWORD_MAX);
		strcpy(out, env);
		return CLI_OK;
	}
	tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty_fd < 0) return cli_fail("no terminal to read a password from; set SSP_PASSWORD");
	rc = read_hidden(out, confirm ? "New keystore password: " : "Keystore password: ");
	if (rc || !confirm) goto out;
	again = sodium_malloc(CLI_PASSWORD_MAX + 1);
	if (!again) cli_oom();
	rc = read_hidden(again, "Repeat password: ");
	if (!rc && (strlen(out) != strlen(again) || sodium_memcmp(out, again, strlen(out)) != 0))
		rc = cli_fail("the two passwords do not match");
out:
	if (again) sodium_free(again); /* sodium_free wipes */
	if (rc) sodium_memzero(out, CLI_PASSWORD_MAX + 1);
	close(tty_fd);
	tty_fd = -1;
	return rc;
}
