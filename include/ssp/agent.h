/*
 * ssp/agent.h — libsmartagent: the device side of Smartshare. One SmartAgent
 * per device: it proves who the device is, holds its wallet and signs what
 * the device commits to (transactions, attestations, metering receipts)
 * without ever revealing its key, and keeps a monotonic counter that never
 * repeats a value.
 *
 * One API, backends chosen by URI:
 *   pkcs11:token=dev-0001[;serial=…][?module-path=…|module-name=…][&pin-value=…]
 *        a PKCS#11 token (RFC 7512 URI, parsed and its module loaded by
 *        p11-kit; the token is found by its label, never by slot number).
 *        The P-256 key is generated inside the token, non-extractable and
 *        sensitive; the counter is a private data object in the token.
 *        SoftHSM2 is the development and test token.
 *   file:/path/to/keystore.json
 *        the argon2id keystore of the wallet (P-256 or Ed25519); the counter
 *        is a file beside it ("….counter").
 *
 * Every function returns 0 or a negative SSP_ERR_* code; when `why` is given
 * it receives a one-line reason a device log or a CLI can print as is.
 * A handle is not thread-safe: one thread at a time (a device has one agent).
 */
#ifndef SSP_AGENT_H
#define SSP_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "ssp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssp_agent ssp_agent;

enum {
	SSP_AGENT_CREATE = 1, /* ssp_agent_open: create the key and counter if absent */
};

/*
 * Opens the agent named by `uri`. `pin` is the token's user PIN (pkcs11) or
 * the keystore's password (file); NULL takes the URI's pin-value, else "".
 * Without SSP_AGENT_CREATE a token without the agent's key is
 * SSP_ERR_NOTFOUND (run `ssp-agent init` first). With it, a pkcs11 token
 * gets a fresh P-256 key pair and a counter at 0 (a file URI must name an
 * existing keystore: `ssp key new` writes one).
 */
SSP_WUR int ssp_agent_open(ssp_agent **out, const char *uri, const char *pin, unsigned flags,
                           char *why, size_t whycap);
void ssp_agent_close(ssp_agent *a);

/* The reason for the last failed call on this handle ("" if none): one line for a log. */
const char *ssp_agent_last_error(const ssp_agent *a);
/* "pkcs11" or "file". */
const char *ssp_agent_backend(const ssp_agent *a);
/* A one-line description of where the key lives (token label, model, serial; or the file). */
const char *ssp_agent_describe(const ssp_agent *a);

/* The device's public key (P-256 for tokens) and its address for the network's hrp. */
SSP_WUR int ssp_agent_pubkey(ssp_agent *a, ssp_pubkey *pk);

/*
 * Signs a 32-byte digest from ssp_sig_digest (the signer callback shape the
 * chain and wallet use: digest in, signature out). P-256 signatures come back
 * low-S; each one is checked against the public key before it is returned,
 * so a faulty element cannot hand out a bad signature.
 */
SSP_WUR int ssp_agent_sign_digest(ssp_agent *a, const ssp_hash *digest, ssp_sig *sig);
/* ssp_sig_digest(domain, chain_id, msg) then ssp_agent_sign_digest. */
SSP_WUR int ssp_agent_sign(ssp_agent *a, int domain, const char *chain_id, const void *msg,
                           size_t n, ssp_sig *sig);
/* Adapter for APIs that take int (*sign)(void *ctx, ssp_sig *, const ssp_hash *). */
int ssp_agent_signer(void *agent, ssp_sig *sig, const ssp_hash *digest);

/*
 * The monotonic counter: increments it, persists the new value in the token
 * (or file) and only then returns it, so a value is never handed out twice,
 * across restarts and across processes that open the same token at once
 * (they serialise on an advisory lock). The first value is 1.
 */
SSP_WUR int ssp_agent_counter_next(ssp_agent *a, uint64_t *value);
/* The last value handed out (0 before the first), without incrementing. */
SSP_WUR int ssp_agent_counter_get(ssp_agent *a, uint64_t *value);

#ifdef __cplusplus
}
#endif
#endif
