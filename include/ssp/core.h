/*
 * ssp/core.h — the public API of libssp_core, the bottom layer of Smartshare.
 *
 * Errors, logging, canonical binary encoding, SHA-256, typed keys and
 * domain-separated signatures, bech32m addresses and fixed-point amounts.
 * Nothing here depends on any other Smartshare library. Every function is
 * thread-safe unless its comment says otherwise; functions taking a context
 * object are safe on distinct objects from distinct threads.
 */
#ifndef SSP_CORE_H
#define SSP_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Symbol visibility in the installed shared library (libsmartagent.so is
 * built with -fvisibility=hidden): a function is exported only if its
 * declaration is marked SSP_API (ssp/agent.h) or sits in a header whose
 * whole content is API and says so with a visibility pragma (this one,
 * proto.h, proto_device.h, stateproof.h: the layers the device library
 * carries inside it). Internal helpers, declared elsewhere, stay hidden.
 */
#define SSP_API __attribute__((visibility("default")))

#pragma GCC visibility push(default) /* all of it is API (SSP_API in ssp/core.h) */

#define SSP_WUR __attribute__((warn_unused_result))
#define SSP_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

/*
 * X(name, code, message). Codes are negative and never renumbered: append
 * new ones at the end of their group only.
 */
#define SSP_ERR_MAP(X)                                                                  \
	X(OK, 0, "success")                                                             \
	X(NOMEM, -1, "out of memory")                                                   \
	X(INVAL, -2, "invalid argument")                                                \
	X(IO, -3, "I/O error")                                                          \
	X(NOTFOUND, -4, "not found")                                                    \
	X(EXISTS, -5, "already exists")                                                 \
	X(TOOBIG, -6, "too large")                                                      \
	X(RANGE, -7, "value out of range")                                              \
	X(OVERFLOW, -8, "arithmetic overflow")                                          \
	X(BUSY, -9, "busy, try again")                                                  \
	X(INTERNAL, -10, "internal error")                                              \
	X(DECODE, -20, "malformed encoding")                                            \
	X(TRAILING, -21, "trailing bytes after object")                                 \
	X(NONCANON, -22, "non-canonical encoding")                                      \
	X(TRUNCATED, -23, "truncated input")                                            \
	X(BADKEY, -30, "invalid public key")                                            \
	X(BADSIG, -31, "invalid signature")                                             \
	X(HIGHS, -32, "non-canonical signature (high S)")                               \
	X(KEYTYPE, -33, "unsupported key type")                                         \
	X(BADADDR, -34, "invalid address")                                              \
	X(BADHRP, -35, "address is for another network")                                \
	X(BADCHECKSUM, -36, "bad address checksum")                                     \
	X(BADAMOUNT, -37, "invalid amount")                                             \
	X(CHAINID, -40, "wrong chain id")                                               \
	X(NONCE_LOW, -41, "nonce already used")                                         \
	X(NONCE_GAP, -42, "nonce too far ahead")                                        \
	X(FEE_LOW, -43, "fee below minimum")                                            \
	X(EXPIRED, -44, "transaction expired")                                          \
	X(BALANCE, -45, "insufficient balance")                                         \
	X(TXTYPE, -46, "unknown transaction type")                                      \
	X(DUPLICATE, -47, "transaction already known")                                  \
	X(MEMPOOL_FULL, -48, "mempool full")                                            \
	X(NOKEY, -49, "sender public key unknown: include it")                          \
	X(KEYMISMATCH, -50, "public key does not match sender")                         \
	X(PAYLOAD, -51, "invalid transaction payload")                                  \
	X(SELF_TRANSFER, -52, "transfer to self")                                       \
	X(LOCKED, -53, "funds are locked")                                              \
	X(FEE_REPLACE, -54, "replacement fee too low")                                  \
	X(EXPIRY_FAR, -55, "expiry too far in the future")                              \
	X(PAUSED, -56, "sender paused: its contract call passed this node's VM limits") \
	X(BLOCK_PREV, -60, "block does not extend the head")                            \
	X(BLOCK_HEIGHT, -61, "wrong block height")                                      \
	X(BLOCK_ROOT, -62, "block root mismatch")                                       \
	X(BLOCK_STATE, -63, "block state root mismatch")                                \
	X(BLOCK_PRODUCER, -64, "wrong block producer")                                  \
	X(BLOCK_TIME, -65, "bad block timestamp")                                       \
	X(BLOCK_LIMIT, -66, "block over its limits")                                    \
	X(BLOCK_TX, -67, "block contains an invalid transaction")                       \
	X(BLOCK_EARLY, -68, "block is ahead of this node's clock: retry later")         \
	X(GENESIS, -70, "invalid genesis")                                              \
	X(SUPPLY, -71, "supply invariant violated")                                     \
	X(MAPFULL, -80, "database map full")                                            \
	X(DBCORRUPT, -81, "database corrupt")                                           \
	X(DBLOCKED, -82, "data directory in use by another process")                    \
	X(DBVERSION, -83, "database from another chain or version")                     \
	X(PASSWORD, -90, "wrong password or corrupted keystore")                        \
	X(KEYSTORE, -91, "malformed keystore file")                                     \
	X(PEM, -92, "unsupported or malformed PEM key")                                 \
	X(DEV_CERT, -130, "invalid device certificate")                                 \
	X(DEV_MFR, -131, "manufacturer unknown, not admitted or revoked")               \
	X(DEV_TAKEN, -132, "device key or serial already enrolled")                     \
	X(DEV_CLAIM, -133, "wrong claim secret or device already owned")                \
	X(DEV_COUNTER, -134, "attestation counter did not increase")                    \
	X(DEV_REVOKED, -135, "device revoked")                                          \
	X(DEV_DENIED, -136, "not allowed for this sender")                              \
	X(DEV_UNKNOWN, -137, "unknown device")                                          \
	X(DEV_CHALLENGE, -138, "attestation challenge: not one of the last 64 blocks")  \
	X(DPOS_UNKNOWN, -160, "unknown or unregistered delegate")                       \
	X(DPOS_NAME, -161, "delegate name already taken")                              \
	X(DPOS_REGISTERED, -162, "sender is already a registered delegate")             \
	X(DPOS_NOT_DELEGATE, -163, "sender is not a registered delegate")               \
	X(DPOS_SELF_STAKE, -164, "self-stake below the genesis minimum")                \
	X(DPOS_STAKE, -165, "not that much staked")                                     \
	X(DPOS_VOTES, -166, "a delegate is named twice in the votes")                   \
	X(DPOS_UNLOCKS, -167, "too many unlocking entries: withdraw first")             \
	X(DPOS_NOTHING, -168, "nothing to withdraw or claim yet")                       \
	X(DPOS_EVIDENCE, -169, "not evidence of double signing by that delegate")       \
	X(DPOS_PUNISHED, -170, "that double signing was already punished")              \
	X(DPOS_BANNED, -171, "delegate banned for double signing")                      \
	X(BFT_REVEAL, -180, "wrong or missing hash-onion reveal")                      \
	X(BFT_QC, -181, "invalid quorum certificate")                                  \
	X(BFT_UNSAFE, -182, "signing would conflict with the signing watermark")       \
	X(BFT_PARTICIPATION, -183, "participation in the last round below 33%")        \
	X(BFT_CONFLICT, -184, "block does not descend from the final block")           \
	X(BFT_SET, -185, "the delegate set of that round is not known here yet")        \
	X(TOKEN, -93, "secure element (PKCS#11 token) failure")                          \
	X(VM_ERROR, -110, "contract error")                                             \
	X(VM_GAS, -111, "out of gas")                                                   \
	X(VM_MEMORY, -112, "contract out of memory")                                    \
	X(VM_DEPTH, -113, "call depth limit")                                           \
	X(VM_REENTRY, -114, "re-entrant call")                                          \
	X(VM_BYTECODE, -115, "bytecode is not accepted")                                \
	X(VM_SYNTAX, -116, "contract does not compile")                                 \
	X(VM_NOFN, -117, "no such callable function")                                   \
	X(VM_NOTPAYABLE, -118, "function does not accept value")                        \
	X(VM_VIEW, -119, "state change in a view call")                                 \
	X(VM_VALUE, -120, "value cannot cross the contract boundary")                   \
	X(VM_NODELIMIT, -121, "node-local VM resource limit (not valid on this node)")  \
	X(RPC, -100, "RPC error")                                                       \
	X(CONNECT, -101, "cannot connect to node")                                      \
	X(TIMEOUT, -102, "timed out")                                                   \
	X(NOSPACE, -84, "no space left on device")                                      \
	X(PROOF, -140, "invalid state proof")                                           \
	X(PRUNED, -141, "state at that height is no longer kept")                       \
	X(FINAL_POP, -142, "cannot pop a finalized block")

typedef enum {
#define SSP_ERR_ENUM(name, code, msg) SSP_ERR_##name = (code),
	SSP_ERR_MAP(SSP_ERR_ENUM)
#undef SSP_ERR_ENUM
} ssp_err;

/* Human text for an error code; never NULL, static storage. */
const char *ssp_strerror(int err);
/* Stable upper-case name such as "NONCE_LOW"; never NULL, static storage. */
const char *ssp_errname(int err);

/*
 * Error classes. A local failure is the node's own trouble — memory, disk,
 * a corrupt or full database, a bug — and says nothing about the block or
 * tx being processed: another node would not see it. Such an error never
 * makes a tx or block invalid and never becomes a receipt; the chain stops
 * (poisoned) instead. Every other error is a verdict on the input.
 */
static inline bool ssp_err_local(int err)
{
	return err == SSP_ERR_NOMEM || err == SSP_ERR_IO || err == SSP_ERR_INTERNAL ||
	       err == SSP_ERR_MAPFULL || err == SSP_ERR_DBCORRUPT || err == SSP_ERR_NOSPACE;
}

/* ------------------------------------------------- allocation, fault hooks */

/*
 * malloc/calloc/realloc for every library of ours on the consensus path
 * (core, store, chain, vm, modules). Memory from them is released with
 * free(). Each call passes the fault hook below first.
 */
void *ssp_malloc(size_t n);
void *ssp_calloc(size_t n, size_t size);
void *ssp_realloc(void *p, size_t n);

/*
 * Fault injection for tests (SQLite's sqlite3FaultSim is the model). After
 * ssp_fault_arm(kind, nth, persist) the nth operation of `kind` (1-based)
 * on the calling thread fails — an allocation returns NULL, a store write
 * returns SSP_ERR_IO — and with `persist` every later one does too;
 * nth = 0 disarms. The hook is per thread, so a test's faults never reach
 * other threads. ssp_fault_count tells how many operations of `kind` the
 * thread has made since the last arm while armed (arm with UINT64_MAX to
 * count without failing: that finds every point a test must walk).
 */
typedef enum { SSP_FAULT_ALLOC = 0, SSP_FAULT_WRITE = 1 } ssp_fault_kind;
void ssp_fault_arm(ssp_fault_kind kind, uint64_t nth, bool persist);
uint64_t ssp_fault_count(ssp_fault_kind kind);
/* 1 when the current operation of `kind` must fail (called by the hooked code). */
bool ssp_fault_hit(ssp_fault_kind kind);

/* -------------------------------------------------------------- work pool */

/*
 * A fixed pool of threads for data-parallel loops (signature checks of a
 * submitted batch or an imported block run on every core). The caller
 * takes part, so a pool of N-1 threads keeps N cores busy; a caller that
 * finds the pool busy with another loop runs its own loop alone.
 */
typedef struct ssp_workpool ssp_workpool;
SSP_WUR int ssp_workpool_new(ssp_workpool **out, unsigned threads);
void ssp_workpool_free(ssp_workpool *p);
/*
 * Runs fn(arg, i) for i in [0, n) on the pool and the calling thread;
 * returns when all are done. p may be NULL: then the caller runs them all.
 */
void ssp_workpool_for(ssp_workpool *p, size_t n, void (*fn)(void *arg, size_t i), void *arg);

/* ---------------------------------------------------------------- logging */

typedef enum { SSP_LOG_DEBUG, SSP_LOG_INFO, SSP_LOG_WARN, SSP_LOG_ERROR } ssp_log_level;
typedef enum { SSP_LOG_PLAIN, SSP_LOG_JSON } ssp_log_format;

/* Process-wide settings; call before starting threads. Logs go to stderr. */
void ssp_log_setup(ssp_log_format fmt, ssp_log_level min);
/* Thread-safe; one line per call. `module` is a short static string. */
void ssp_log(ssp_log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SSP_LOGD(mod, ...) ssp_log(SSP_LOG_DEBUG, mod, __VA_ARGS__)
#define SSP_LOGI(mod, ...) ssp_log(SSP_LOG_INFO, mod, __VA_ARGS__)
#define SSP_LOGW(mod, ...) ssp_log(SSP_LOG_WARN, mod, __VA_ARGS__)
#define SSP_LOGE(mod, ...) ssp_log(SSP_LOG_ERROR, mod, __VA_ARGS__)

/* ------------------------------------------------------- canonical encoding */

/*
 * Writer: a growable buffer with a hard maximum. After any failure the
 * buffer is poisoned (err != 0) and further writes do nothing, so callers
 * check once at the end. Integers are fixed-width little-endian; byte
 * strings are a u32 length then the bytes.
 */
typedef struct {
	uint8_t *data; /* owned; free with ssp_buf_free */
	size_t len;
	size_t cap;
	size_t max; /* hard maximum length */
	int err;    /* first error, sticky */
} ssp_buf;

void ssp_buf_init(ssp_buf *b, size_t max);
void ssp_buf_free(ssp_buf *b);
void ssp_buf_reset(ssp_buf *b);                        /* len = 0, err = 0, keeps memory */
void ssp_buf_put(ssp_buf *b, const void *p, size_t n); /* raw bytes */
void ssp_buf_u8(ssp_buf *b, uint8_t v);
void ssp_buf_u16(ssp_buf *b, uint16_t v);
void ssp_buf_u32(ssp_buf *b, uint32_t v);
void ssp_buf_u64(ssp_buf *b, uint64_t v);
void ssp_buf_bytes(ssp_buf *b, const void *p, size_t n); /* u32 len + bytes */
/* Hands the bytes to the caller (who frees them with free()); resets b. */
uint8_t *ssp_buf_take(ssp_buf *b, size_t *len);

/*
 * Reader over borrowed bytes. Every read checks bounds; the first failure
 * is sticky in `err`. ssp_rd_end() fails with SSP_ERR_TRAILING if bytes remain.
 */
typedef struct {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
} ssp_rd;

void ssp_rd_init(ssp_rd *r, const void *p, size_t len);
uint8_t ssp_rd_u8(ssp_rd *r);
uint16_t ssp_rd_u16(ssp_rd *r);
uint32_t ssp_rd_u32(ssp_rd *r);
uint64_t ssp_rd_u64(ssp_rd *r);
/* Reads 0 or 1; anything else is SSP_ERR_NONCANON. */
int ssp_rd_bool(ssp_rd *r);
/* Copies exactly n raw bytes into out. */
void ssp_rd_raw(ssp_rd *r, void *out, size_t n);
/* Pointer to n raw bytes inside the input (borrowed), NULL on error. */
const uint8_t *ssp_rd_view(ssp_rd *r, size_t n);
/* u32-length-prefixed bytes, borrowed; a length over max is SSP_ERR_TOOBIG. */
const uint8_t *ssp_rd_bytes(ssp_rd *r, size_t max, size_t *n);
SSP_WUR int ssp_rd_end(ssp_rd *r);

/* Little-endian helpers for fixed fields. */
static inline void ssp_le64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t ssp_le64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
/* Big-endian u64, used in database keys so byte order sorts numerically. */
static inline void ssp_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static inline uint64_t ssp_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Hex. ssp_hex_encode writes 2n chars + NUL into out (size >= 2n+1). */
void ssp_hex_encode(char *out, const void *p, size_t n);
/* Decodes exactly 2*n hex chars of `hex` (length hexlen) into out[n]; lower or upper case. */
SSP_WUR int ssp_hex_decode(void *out, size_t n, const char *hex, size_t hexlen);

/* --------------------------------------------------------------------- text */

/*
 * Strict UTF-8 (RFC 3629): 1 if p[0..n) is a sequence of shortest-form
 * encodings of code points in U+0000..U+10FFFF other than the surrogates
 * U+D800..U+DFFF; overlong forms, lone or missing continuation bytes, the
 * bytes 0xC0, 0xC1 and 0xF5..0xFF and a sequence cut off at the end are
 * invalid. Every consensus rule about text uses this one function (tx memo,
 * contract source, token name, canonical strings as JSON), so they agree.
 * U+0000 is rejected unless SSP_UTF8_NUL is given: text that reaches C code
 * as a C string would silently end there. SSP_UTF8_NOCTRL also rejects the
 * C0 controls, DEL and the C1 controls (U+0000..U+001F, U+007F..U+009F),
 * whatever the other flags say. p may be NULL when n is 0. Thread-safe.
 */
enum {
	SSP_UTF8_NUL = 1,    /* U+0000 is allowed (binary-safe text, e.g. a JSON string) */
	SSP_UTF8_NOCTRL = 2, /* no control characters at all (names shown to people) */
};
bool ssp_utf8_valid(const void *p, size_t n, unsigned flags);

/* ------------------------------------------------------------------- hashes */

typedef struct {
	uint8_t b[32];
} ssp_hash;

/* One-shot SHA-256 (OpenSSL, thread-local reused context). */
void ssp_sha256(ssp_hash *out, const void *p, size_t n);
/* SHA-256 over the concatenation of `count` parts. */
void ssp_sha256v(ssp_hash *out, const void *const *parts, const size_t *lens, size_t count);

/* Incremental hashing; the context is owned by the caller. */
typedef struct ssp_sha256_ctx ssp_sha256_ctx;
ssp_sha256_ctx *ssp_sha256_new(void); /* NULL on OOM */
void ssp_sha256_init(ssp_sha256_ctx *c);
void ssp_sha256_update(ssp_sha256_ctx *c, const void *p, size_t n);
void ssp_sha256_final(ssp_sha256_ctx *c, ssp_hash *out);
void ssp_sha256_free(ssp_sha256_ctx *c);

int ssp_hash_is_zero(const ssp_hash *h);

/* ------------------------------------------------------- keys, signatures */

typedef enum {
	SSP_KEY_ED25519 = 1, /* libsodium; 32-byte public key */
	SSP_KEY_P256 = 2,    /* OpenSSL; 33-byte compressed SEC1 public key */
} ssp_key_type;

#define SSP_PUBKEY_MAX 33
#define SSP_SIG_LEN 64 /* ed25519 R||S, or p256 r||s big-endian, low S */

typedef struct {
	uint8_t type; /* ssp_key_type */
	uint8_t len;  /* 32 or 33 */
	uint8_t b[SSP_PUBKEY_MAX];
} ssp_pubkey;

/* Secret key: ed25519 stores libsodium's 64-byte sk (seed||pk); p256 the 32-byte scalar. */
typedef struct {
	uint8_t type;
	uint8_t len; /* 64 or 32 */
	uint8_t b[64];
} ssp_seckey;

typedef struct {
	uint8_t b[SSP_SIG_LEN];
} ssp_sig;

/*
 * Signing domains. A signature always covers the 32-byte digest
 *   SHA-256(tag || 0x00 || u8 len(chain_id) || chain_id || message)
 * so it can never be replayed across message kinds or chains. tag is the
 * domain's ASCII name ("SSP/tx/v1", "SSP/block/v1", "SSP/vote/v1",
 * "SSP/receipt/v1", "SSP/attest/v1"), followed by one 0x00 byte (its C
 * string's NUL, hashed); len(chain_id) is one byte and chain_id its bytes,
 * neither with a terminator. Ed25519 signs the 32 digest bytes as its
 * message (pure Ed25519, RFC 8032); P-256 ECDSA takes them as the message
 * hash itself (they are not hashed again) and gives r || s big-endian with
 * low S. Known-answer vectors: tests/vectors/tx_kat.json, described in
 * docs/internals/vectors.md.
 */
typedef enum {
	SSP_DOM_TX = 1,
	SSP_DOM_BLOCK = 2,
	SSP_DOM_VOTE = 3,
	SSP_DOM_RECEIPT = 4,
	SSP_DOM_ATTEST = 5,
	SSP_DOM_CERT = 6,    /* a manufacturer's device certificate */
	SSP_DOM_APPROVE = 7, /* a producer's approval or revocation of a manufacturer */
	SSP_DOM_CLAIM = 8,   /* a device's claim key binding it to an owner */
	SSP_DOM_ONION = 9,   /* a BFT producer deriving its hash-onion secret (never published) */
} ssp_domain;

/* Must be called once before any other core call (sodium_init); idempotent. */
SSP_WUR int ssp_core_init(void);

const char *ssp_key_type_name(int type);  /* "ed25519" / "p256" / "unknown" */
int ssp_key_type_parse(const char *name); /* type, or SSP_ERR_KEYTYPE */
size_t ssp_pubkey_len(int type);          /* 32, 33, or 0 */

/* Generates a fresh key pair from the OS CSPRNG. */
SSP_WUR int ssp_key_generate(ssp_seckey *sk, ssp_pubkey *pk, int type);
/* Derives the public key of a secret key; validates the secret. */
SSP_WUR int ssp_key_public(ssp_pubkey *pk, const ssp_seckey *sk);
/* Builds a seckey from raw bytes: ed25519 32-byte seed or p256 32-byte scalar. */
SSP_WUR int ssp_seckey_from_raw(ssp_seckey *sk, int type, const uint8_t *raw, size_t n);
/* Raw 32-byte secret (ed25519 seed, p256 scalar) for storage; caller wipes. */
void ssp_seckey_raw(const ssp_seckey *sk, uint8_t out[32]);
/* Parses/validates a public key (on curve, canonical, not identity). */
SSP_WUR int ssp_pubkey_parse(ssp_pubkey *pk, int type, const uint8_t *p, size_t n);
/*
 * Public keys as text, the genesis and anchors files' spelling: "ed25519:HEX" /
 * "p256:HEX" (lower-case hex when written; either case read). parse: 0,
 * SSP_ERR_BADKEY / SSP_ERR_KEYTYPE, or what ssp_pubkey_parse returns; text:
 * writes at most cap bytes, NUL-terminated (80 always suffice).
 */
SSP_WUR int ssp_pubkey_text_parse(ssp_pubkey *pk, const char *text);
void ssp_pubkey_text(char *out, size_t cap, const ssp_pubkey *pk);
/* The same key: type, length and bytes (a length over SSP_PUBKEY_MAX is never equal). */
bool ssp_pubkey_eq(const ssp_pubkey *a, const ssp_pubkey *b);
/*
 * A P-256 public key from its uncompressed SEC1 form (0x04 ‖ X ‖ Y, 65 bytes,
 * as a secure element reports it): validated and stored compressed.
 */
SSP_WUR int ssp_pubkey_p256_uncompressed(ssp_pubkey *pk, const uint8_t p[65]);
/*
 * Puts a raw P-256 signature r ‖ s from a signer we do not control (a
 * PKCS#11 token) into the one form the chain accepts: s replaced by n − s
 * when it is high. SSP_ERR_BADSIG when r or s is out of range.
 */
SSP_WUR int ssp_sig_p256_low_s(ssp_sig *sig);
/* Loads a PEM private key as `openssl genpkey` writes it (PKCS#8, P-256 or Ed25519). */
SSP_WUR int ssp_seckey_from_pem(ssp_seckey *sk, const char *pem, size_t n);
/*
 * Writes sk as an unencrypted PKCS#8 PEM private key ("BEGIN PRIVATE KEY", what
 * `openssl genpkey` writes and ssp_seckey_from_pem reads). *pem is malloc'd and
 * NUL-terminated, *n its length; it holds the secret: the caller wipes it
 * (sodium_memzero) before free(). Returns 0, SSP_ERR_INVAL, SSP_ERR_NOMEM.
 */
SSP_WUR int ssp_seckey_to_pem(char **pem, size_t *n, const ssp_seckey *sk);

/*
 * The 32-byte digest a signature in `domain` covers (layout above); a NULL
 * chain_id is the empty one. An unknown domain or a chain id over 255 bytes
 * is misuse and aborts.
 */
void ssp_sig_digest(ssp_hash *out, int domain, const char *chain_id, const void *msg, size_t n);

/* Signs a digest from ssp_sig_digest. p256 signatures are always low-S. */
SSP_WUR int ssp_sign_digest(ssp_sig *sig, const ssp_seckey *sk, const ssp_hash *digest);
/* 0, SSP_ERR_BADSIG, SSP_ERR_HIGHS or SSP_ERR_BADKEY. Fresh verify context per call. */
SSP_WUR int ssp_verify_digest(const ssp_pubkey *pk, const ssp_hash *digest, const ssp_sig *sig);

/* Convenience: digest + sign / digest + verify. */
SSP_WUR int ssp_sign(ssp_sig *sig, const ssp_seckey *sk, int domain, const char *chain_id,
                     const void *msg, size_t n);
SSP_WUR int ssp_verify(const ssp_pubkey *pk, int domain, const char *chain_id, const void *msg,
                       size_t n, const ssp_sig *sig);

void ssp_seckey_wipe(ssp_seckey *sk); /* sodium_memzero */

/* ---------------------------------------------------------------- addresses */

#define SSP_ADDR_LEN 20
typedef struct {
	uint8_t b[SSP_ADDR_LEN];
} ssp_addr;

/* Address of a key: first 20 bytes of SHA-256(u8 key_type || pubkey). */
void ssp_addr_from_pubkey(ssp_addr *out, const ssp_pubkey *pk);
int ssp_addr_is_zero(const ssp_addr *a);

/* HRP of a network name: "main" -> "ssp", "test" -> "tssp", "dev" -> "dssp"; NULL if unknown. */
const char *ssp_network_hrp(const char *network);

/* bech32m (BIP-350) text of an address, written into out (size >= 64). */
void ssp_addr_encode(char *out, size_t outlen, const char *hrp, const ssp_addr *a);
/* Parses bech32m text; fails with BADHRP if its HRP is not `hrp` (NULL accepts any known). */
SSP_WUR int ssp_addr_decode(ssp_addr *out, const char *hrp, const char *text);

/* Generic bech32/bech32m (BIP-173/BIP-350), exposed for the vector tests. */
typedef enum { SSP_BECH32 = 1, SSP_BECH32M = 2 } ssp_bech32_enc;
/* Encodes 5-bit `data` under hrp; returns 0 or SSP_ERR_TOOBIG / INVAL. */
SSP_WUR int ssp_bech32_encode(char *out, size_t outlen, const char *hrp, const uint8_t *data,
                              size_t n, int enc);
/*
 * Decodes into hrp (lower-cased, size hrpcap) and 5-bit data; *enc says which
 * checksum matched. Rejects mixed case, bad chars, over 90 chars.
 */
SSP_WUR int ssp_bech32_decode(char *hrp, size_t hrpcap, uint8_t *data, size_t *n, size_t datacap,
                              int *enc, const char *text);
/* Regroups bits (BIP-173 convertbits); pad=1 when encoding. */
SSP_WUR int ssp_convert_bits(uint8_t *out, size_t *outlen, size_t outcap, int outbits,
                             const uint8_t *in, size_t inlen, int inbits, int pad);

/* ------------------------------------------------------------------ amounts */

#define SSP_DECIMALS 8
#define SSP_COIN 100000000ULL                   /* 1 SSP in base units */
#define SSP_TOTAL_SUPPLY 1000000000000000000ULL /* 10,000,000,000 SSP */
#define SSP_AMOUNT_STR 32                       /* buffer size for any u64 amount */

/*
 * Parses a decimal amount with up to `decimals` fraction digits ("12.5",
 * "0.00000001", "100") into base units without floats. Rejects signs,
 * exponents, spaces, empty parts, too many decimals and overflow.
 */
SSP_WUR int ssp_amount_parse(uint64_t *out, const char *s, unsigned decimals);
/* Prints base units as a decimal with trailing fraction zeros trimmed ("12.5", "100"). */
void ssp_amount_format(char *out, size_t outlen, uint64_t v, unsigned decimals);

/* Checked arithmetic; return 0 or SSP_ERR_OVERFLOW and leave *out untouched on failure. */
static inline SSP_WUR int ssp_add_u64(uint64_t *out, uint64_t a, uint64_t b)
{
	uint64_t r;
	if (__builtin_add_overflow(a, b, &r)) return SSP_ERR_OVERFLOW;
	*out = r;
	return 0;
}
static inline SSP_WUR int ssp_sub_u64(uint64_t *out, uint64_t a, uint64_t b)
{
	if (b > a) return SSP_ERR_OVERFLOW;
	*out = a - b;
	return 0;
}
static inline SSP_WUR int ssp_mul_u64(uint64_t *out, uint64_t a, uint64_t b)
{
	uint64_t r;
	if (__builtin_mul_overflow(a, b, &r)) return SSP_ERR_OVERFLOW;
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ values */

/*
 * Canonical values: what crosses a boundary between contracts and the chain
 * (call arguments, return values, contract storage, event fields). Exactly
 * one encoding per value:
 *   0x00 nil | 0x01 false | 0x02 true | 0x03 i64 (8 bytes LE) |
 *   0x04 string: u32 len + bytes |
 *   0x05 table: u32 count + (key, value)* with keys integers or strings,
 *        sorted by their encoded bytes, no duplicates, values never nil.
 * Nesting at most SSP_VAL_MAX_DEPTH. No floats, ever.
 * JSON mapping: null, true/false, integers (|v| < 2^63), strings; arrays are
 * tables with keys 1..n; objects are tables with string keys. Floats in JSON
 * are rejected with SSP_ERR_INVAL.
 */
#define SSP_VAL_MAX_DEPTH 16
enum {
	SSP_VAL_NIL = 0,
	SSP_VAL_FALSE = 1,
	SSP_VAL_TRUE = 2,
	SSP_VAL_INT = 3,
	SSP_VAL_STR = 4,
	SSP_VAL_TABLE = 5
};

/* Checks that p[0..n) is exactly one canonical value (strict). */
SSP_WUR int ssp_val_check(const uint8_t *p, size_t n);
/* JSON (jansson json_t) -> canonical bytes appended to b. */
struct json_t;
SSP_WUR int ssp_val_from_json(ssp_buf *b, const struct json_t *j);
/*
 * Canonical bytes -> new JSON reference (arrays for tables whose keys are
 * exactly 1..n). A string must be UTF-8 (ssp_utf8_valid; NUL allowed in
 * values, not in object keys), else SSP_ERR_INVAL, as for "5" and 5 as keys
 * of one table; SSP_ERR_NOMEM when out of memory.
 */
SSP_WUR int ssp_val_to_json(struct json_t **out, const uint8_t *p, size_t n);

/* ----------------------------------------------------------------- keystore */

/*
 * A keystore file is JSON: {"version":1, "name", "type", "pubkey" (hex),
 * "kdf": {"alg":"argon2id13", "opslimit", "memlimit", "salt"},
 * "cipher": {"alg":"xchacha20poly1305-ietf", "nonce", "ciphertext"}} where the
 * ciphertext seals the 32-byte raw secret and the additional data binds the
 * header fields (version, name, type, pubkey). An empty password is allowed.
 */

/* Creates path with mode 0600 atomically (temp file + rename); SSP_ERR_EXISTS if present. */
SSP_WUR int ssp_keystore_write(const char *path, const char *name, const ssp_seckey *sk,
                               const char *password);
/*
 * Decrypts a keystore. SSP_ERR_PASSWORD for a wrong password or tampered
 * ciphertext, SSP_ERR_KEYSTORE for a malformed file; never modifies the file.
 */
SSP_WUR int ssp_keystore_read(const char *path, const char *password, ssp_seckey *sk,
                              ssp_pubkey *pk);
/* Reads the public part (name, key) without a password. name may be NULL. */
SSP_WUR int ssp_keystore_info(const char *path, ssp_pubkey *pk, char *name, size_t namecap);

/* ------------------------------------------------------------------- misc */

uint64_t ssp_now_ms(void);          /* wall clock, ms since the epoch */
uint64_t ssp_mono_ns(void);         /* monotonic clock */
void ssp_random(void *p, size_t n); /* OS CSPRNG (libsodium) */

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
