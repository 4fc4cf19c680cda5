/*
 * agent.c — libsmartagent's one API over its backends (agent layer): URI
 * dispatch, sign-then-verify, the counter's cross-process lock, and the
 * file backend (the wallet's argon2id keystore with a counter file beside
 * it). The PKCS#11 backend is pkcs11.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/agent_internal.h"

int agent_fail(ssp_agent *a, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof a->err, fmt, ap);
	va_end(ap);
	if (a->why && a->whycap) snprintf(a->why, a->whycap, "%s", a->err);
	return rc;
}

int ssp_agent_open(ssp_agent **out, const char *uri, const char *pin, unsigned flags,
                   char *why, size_t whycap)
{
	*out = NULL;
	if (why && whycap) why[0] = 0;
	ssp_agent *a = calloc(1, sizeof *a);
	if (!a) return SSP_ERR_NOMEM;
	a->why = why;
	a->whycap = whycap;
	int rc;
	if (!uri) {
		rc = agent_fail(a, SSP_ERR_INVAL, "no agent URI (pkcs11:token=LABEL or file:PATH)");
	} else if (!strncmp(uri, "pkcs11:", 7)) {
		rc = agent_open_pkcs11(a, uri, pin, flags);
	} else if (!strncmp(uri, "file:", 5)) {
		rc = agent_open_file(a, uri + 5, pin, flags);
	} else {
		rc = agent_fail(a, SSP_ERR_INVAL,
		                "unknown agent URI scheme in \"%.60s\": use pkcs11: or file:", uri);
	}
	if (rc) {
		if (a->ops && a->ops->close) a->ops->close(a);
		free(a);
		return rc;
	}
	a->why = NULL;
	a->whycap = 0;
	*out = a;
	return 0;
}

void ssp_agent_close(ssp_agent *a)
{
	if (!a) return;
	if (a->ops && a->ops->close) a->ops->close(a);
	sodium_memzero(a, sizeof *a);
	free(a);
}

const char *ssp_agent_last_error(const ssp_agent *a)
{
	return a->err;
}

const char *ssp_agent_backend(const ssp_agent *a)
{
	return a->ops->name;
}

const char *ssp_agent_describe(const ssp_agent *a)
{
	return a->desc;
}

int ssp_agent_pubkey(ssp_agent *a, ssp_pubkey *pk)
{
	*pk = a->pk;
	return 0;
}

int ssp_agent_sign_digest(ssp_agent *a, const ssp_hash *digest, ssp_sig *sig)
{
	a->err[0] = 0;
	int rc = a->ops->sign(a, digest, sig);
	if (!rc && a->pk.type == SSP_KEY_P256) rc = ssp_sig_p256_low_s(sig);
	/* a fault-injected or broken element must not hand out a bad signature */
	if (!rc && ssp_verify_digest(&a->pk, digest, sig))
		rc = agent_fail(a, SSP_ERR_TOKEN, "the signature the element returned does not verify");
	if (rc) sodium_memzero(sig, sizeof *sig);
	return rc;
}

int ssp_agent_sign(ssp_agent *a, int domain, const char *chain_id, const void *msg, size_t n,
                   ssp_sig *sig)
{
	ssp_hash d;
	ssp_sig_digest(&d, domain, chain_id, msg, n);
	return ssp_agent_sign_digest(a, &d, sig);
}

int ssp_agent_sign_meter(ssp_agent *a, const char *chain_id, const ssp_hash *agreement,
                         uint64_t cumulative, ssp_meter_receipt *out)
{
	ssp_meter_receipt m = {.agreement = *agreement, .cumulative = cumulative};
	int rc = ssp_agent_pubkey(a, &m.signer);
	if (!rc) rc = ssp_agent_counter_next(a, &m.counter);
	ssp_hash d;
	if (!rc) {
		ssp_meter_digest(&d, chain_id, &m);
		rc = ssp_agent_sign_digest(a, &d, &m.sig);
	}
	if (!rc) *out = m;
	return rc;
}

int ssp_agent_signer(void *agent, ssp_sig *sig, const ssp_hash *digest)
{
	return ssp_agent_sign_digest(agent, digest, sig);
}

int agent_lock(ssp_agent *a)
{
	int fd = open(a->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) return -1;
	int rc;
	while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void agent_unlock(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

/* Runs the backend's counter operation under the advisory lock. */
static int counter_locked(ssp_agent *a, bool inc, uint64_t *value)
{
	a->err[0] = 0;
	int fd = agent_lock(a);
	if (fd < 0) return agent_fail(a, SSP_ERR_IO, "cannot take the counter lock %s", a->lockpath);
	int rc = a->ops->counter(a, inc, value);
	agent_unlock(fd);
	return rc;
}

int ssp_agent_counter_next(ssp_agent *a, uint64_t *value)
{
	return counter_locked(a, true, value);
}

int ssp_agent_counter_get(ssp_agent *a, uint64_t *value)
{
	return counter_locked(a, false, value);
}

/* ------------------------------------------------------------ file backend */

typedef struct {
	ssp_seckey sk;
	char counter[1100]; /* PATH.counter: the value as decimal text, replaced atomically */
} file_impl;

static int file_sign(ssp_agent *a, const ssp_hash *digest, ssp_sig *sig)
{
	file_impl *f = a->impl;
	return ssp_sign_digest(sig, &f->sk, digest);
}

static int file_counter(ssp_agent *a, bool inc, uint64_t *value)
{
	file_impl *f = a->impl;
	char buf[32], tmp[1200];
	uint64_t v = 0;
	FILE *fp = fopen(f->counter, "r");
	if (fp) {
		char *end;
		bool ok = fgets(buf, sizeof buf, fp) != NULL;
		fclose(fp);
		errno = 0;
		unsigned long long x = ok ? strtoull(buf, &end, 10) : 0;
		if (!ok || errno || end == buf || (*end && *end != '\n'))
			return agent_fail(a, SSP_ERR_IO, "counter file %s is damaged: refusing to reuse values",
			                  f->counter);
		v = x;
	} else if (errno != ENOENT) {
		return SSP_ERR_IO;
	}
	if (inc) {
		if (v == UINT64_MAX) return SSP_ERR_OVERFLOW;
		v++;
		snprintf(tmp, sizeof tmp, "%s.tmp", f->counter);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) return SSP_ERR_IO;
		int n = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)v);
		bool ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
		ok &= close(fd) == 0;
		if (!ok || rename(tmp, f->counter)) {
			unlink(tmp);
			return SSP_ERR_IO;
		}
		/* the rename is durable once the directory is */
		char dir[1100];
		snprintf(dir, sizeof dir, "%s", f->counter);
		char *slash = strrchr(dir, '/');
		if (slash) *slash = 0;
		int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	*value = v;
	return 0;
}

static void file_close(ssp_agent *a)
{
	if (!a->impl) return;
	sodium_memzero(a->impl, sizeof(file_impl));
	free(a->impl);
	a->impl = NULL;
}

static const agent_ops FILE_OPS = {"file", file_sign, file_counter, file_close};

int agent_open_file(ssp_agent *a, const char *path, const char *pin, unsigned flags)
{
	(void)flags;
	file_impl *f = calloc(1, sizeof *f);
	if (!f) return SSP_ERR_NOMEM;
	a->ops = &FILE_OPS;
	a->impl = f;
	if (!*path) return agent_fail(a, SSP_ERR_INVAL, "file: URI without a path");
	int rc = ssp_keystore_read(path, pin ? pin : "", &f->sk, &a->pk);
	if (rc == SSP_ERR_PASSWORD)
		return agent_fail(a, rc, "wrong password for keystore %s", path);
	if (rc)
		return agent_fail(a, rc, "cannot read keystore %s: %s", path, ssp_strerror(rc));
	snprintf(f->counter, sizeof f->counter, "%s.counter", path);
	snprintf(a->lockpath, sizeof a->lockpath, "%s.counter.lock", path);
	snprintf(a->desc, sizeof a->desc, "keystore %s (%s key)", path, ssp_key_type_name(a->pk.type));
	return 0;
}
