/*
 * agent_internal.h — what the libsmartagent backends share (agent layer,
 * private): the handle, the backend operations and the counter lock.
 */
#ifndef SSP_AGENT_INTERNAL_H
#define SSP_AGENT_INTERNAL_H

#include <stdbool.h>

#include "ssp/agent.h"

typedef struct {
	const char *name;
	/* a raw signature over the digest (P-256: r ‖ s, any S) */
	int (*sign)(ssp_agent *a, const ssp_hash *digest, ssp_sig *sig);
	/* reads the counter; with inc, stores value + 1 first and returns that (lock held) */
	int (*counter)(ssp_agent *a, bool inc, uint64_t *value);
	void (*close)(ssp_agent *a);
} agent_ops;

struct ssp_agent {
	const agent_ops *ops;
	void *impl;
	ssp_pubkey pk;
	char desc[320];
	char lockpath[1100]; /* advisory lock serialising counter updates across processes */
	char *why;           /* the caller's reason buffer during open, or NULL */
	size_t whycap;
	char err[512];       /* the last failure's reason (ssp_agent_last_error) */
};

/* Writes a reason into the caller's buffer (if any); returns rc. */
int agent_fail(ssp_agent *a, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Takes a->lockpath exclusively (waits); the fd to pass to agent_unlock, or -1. */
int agent_lock(ssp_agent *a);
void agent_unlock(int fd);

int agent_open_pkcs11(ssp_agent *a, const char *uri, const char *pin, unsigned flags);
int agent_open_file(ssp_agent *a, const char *path, const char *pin, unsigned flags);

#endif
