/*
 * keystore.c — password-protected key files (core layer). The raw 32-byte
 * secret is sealed with XChaCha20-Poly1305 under a key derived by argon2id;
 * the additional data binds the public header (version, name, type, pubkey)
 * so it cannot be edited without the password. Files are JSON, at most
 * 64 KiB, written atomically with mode 0600 and never overwritten.
 * See docs/internals/core.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssp/core.h"

#define KS_VERSION 1
#define KS_FILE_MAX (64 * 1024)
#define KS_NAME_MAX 64
#define KS_KDF_ALG "argon2id13"
#define KS_CIPHER_ALG "xchacha20poly1305-ietf"
#define KS_SALT_LEN crypto_pwhash_SALTBYTES
#define KS_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KS_CT_LEN (32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
/* Bounds on stored KDF parameters, so a hostile file cannot ask for 4 TB of RAM. */
#define KS_OPS_MAX 32ULL
#define KS_MEM_MAX (1ULL << 30)

/* The parsed public part of a keystore file. */
typedef struct {
	char name[KS_NAME_MAX + 1];
	ssp_pubkey pk;
	uint64_t opslimit, memlimit;
	uint8_t salt[KS_SALT_LEN];
	uint8_t nonce[KS_NONCE_LEN];
	uint8_t ct[KS_CT_LEN];
} ks_file;

/* AD = "SSP/keystore/v1\0" || u8 version || u8 len(name) || name || u8 type || u8 len || pk. */
static size_t ks_ad(uint8_t *ad, size_t cap, const char *name, const ssp_pubkey *pk)
{
	static const char tag[] = "SSP/keystore/v1";
	size_t nlen = strlen(name), n = 0;
	if (sizeof tag + 2 + nlen + 2 + pk->len > cap) abort(); /* sizes are fixed above */
	memcpy(ad, tag, sizeof tag);
	n = sizeof tag;
	ad[n++] = KS_VERSION;
	ad[n++] = (uint8_t)nlen;
	memcpy(ad + n, name, nlen);
	n += nlen;
	ad[n++] = pk->type;
	ad[n++] = pk->len;
	memcpy(ad + n, pk->b, pk->len);
	return n + pk->len;
}

static int ks_kdf(uint8_t key[32], const char *password, const uint8_t salt[KS_SALT_LEN],
                  uint64_t ops, uint64_t mem)
{
	if (crypto_pwhash(key, 32, password, strlen(password), salt, ops, (size_t)mem,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return SSP_ERR_NOMEM; /* libsodium fails only when it cannot get the memory */
	return 0;
}

static int name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n > KS_NAME_MAX) return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) return 0;
	return 1;
}

static int set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n)
{
	char hex[2 * KS_CT_LEN + 1];
	if (2 * n + 1 > sizeof hex) return -1;
	ssp_hex_encode(hex, p, n);
	return json_object_set_new(obj, key, json_string(hex));
}

/* A full disk is its own error, so messages name the cause. */
static int io_err(int e)
{
	return e == ENOSPC || e == EDQUOT ? SSP_ERR_NOSPACE : SSP_ERR_IO;
}

/* Writes all of buf to a new file `tmp` (mode 0600) and syncs it. */
static int write_new_file(const char *tmp, const char *buf, size_t len)
{
	int rc = SSP_ERR_IO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t off = 0;

	if (fd < 0) {
		rc = errno == EEXIST ? SSP_ERR_EXISTS : io_err(errno);
		goto out;
	}
	if (fchmod(fd, 0600) != 0) goto out;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) {
			rc = w < 0 ? io_err(errno) : SSP_ERR_IO;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = io_err(errno);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) != 0 && !rc) rc = io_err(errno);
	if (rc && fd >= 0) unlink(tmp); /* ours: we created it with O_EXCL */
	return rc;
}

/* Makes the directory entry durable; best effort (some filesystems refuse). */
static void sync_parent_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	if (n >= sizeof dir) return;
	if (slash == path) n = 1; /* "/file" */
	if (n)
		memcpy(dir, path, n);
	else
		dir[n++] = '.';
	dir[n] = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) return;
	(void)fsync(fd);
	close(fd);
}

/* Publishes tmp as path without ever replacing an existing path. */
static int publish(const char *tmp, const char *path)
{
	if (link(tmp, path) == 0) return 0;
	if (errno == EEXIST) return SSP_ERR_EXISTS;
	if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS) return SSP_ERR_IO;
	/* Filesystems without hard links: renameat2 can still refuse to clobber. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
	return errno == EEXIST ? SSP_ERR_EXISTS : SSP_ERR_IO;
}

int ssp_keystore_write(const char *path, const char *name, const ssp_seckey *sk,
                       const char *password)
{
	int rc = SSP_ERR_INVAL;
	ssp_pubkey pk;
	uint8_t raw[32], key[32], salt[KS_SALT_LEN], nonce[KS_NONCE_LEN], ct[KS_CT_LEN];
	uint8_t ad[64 + KS_NAME_MAX];
	size_t adlen;
	unsigned long long ctlen = 0;
	json_t *root = NULL, *kdf = NULL, *cipher = NULL;
	char *text = NULL, *tmp = NULL;
	char pkhex[2 * SSP_PUBKEY_MAX + 1], rhex[2 * 8 + 1];
	uint8_t rnd[8];
	size_t plen, tlen;
	int tmp_made = 0;
	struct stat st;

	if (!name) name = "";
	if (!password) password = "";
	if (!path || !*path || !name_ok(name)) goto out;
	rc = ssp_key_public(&pk, sk);
	if (rc) goto out;
	/* Fail early, before the expensive KDF; publish() re-checks atomically. */
	if (lstat(path, &st) == 0) {
		rc = SSP_ERR_EXISTS;
		goto out;
	}

	ssp_seckey_raw(sk, raw);
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	rc = ks_kdf(key, password, salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	            crypto_pwhash_MEMLIMIT_INTERACTIVE);
	if (rc) goto out;
	adlen = ks_ad(ad, sizeof ad, name, &pk);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, raw, sizeof raw, ad, adlen, NULL,
	                                           nonce, key);

	rc = SSP_ERR_NOMEM;
	root = json_object();
	kdf = json_object();
	cipher = json_object();
	if (!root || !kdf || !cipher) goto out;
	ssp_hex_encode(pkhex, pk.b, pk.len);
	if (json_object_set_new(root, "version", json_integer(KS_VERSION)) ||
	    json_object_set_new(root, "name", json_string(name)) ||
	    json_object_set_new(root, "type", json_string(ssp_key_type_name(pk.type))) ||
	    json_object_set_new(root, "pubkey", json_string(pkhex)) ||
	    json_object_set_new(kdf, "alg", json_string(KS_KDF_ALG)) ||
	    json_object_set_new(kdf, "opslimit",
	                        json_integer((json_int_t)crypto_pwhash_OPSLIMIT_INTERACTIVE)) ||
	    json_object_set_new(kdf, "memlimit",
	                        json_integer((json_int_t)crypto_pwhash_MEMLIMIT_INTERACTIVE)) ||
	    set_hex(kdf, "salt", salt, sizeof salt) ||
	    json_object_set_new(cipher, "alg", json_string(KS_CIPHER_ALG)) ||
	    set_hex(cipher, "nonce", nonce, sizeof nonce) ||
	    set_hex(cipher, "ciphertext", ct, (size_t)ctlen))
		goto out;
	if (json_object_set(root, "kdf", kdf) || json_object_set(root, "cipher", cipher)) goto out;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text) goto out;

	plen = strlen(path);
	tmp = ssp_malloc(plen + 32);
	if (!tmp) goto out;
	randombytes_buf(rnd, sizeof rnd);
	ssp_hex_encode(rhex, rnd, sizeof rnd);
	snprintf(tmp, plen + 32, "%s.tmp-%s", path, rhex);
	tlen = strlen(text);
	text[tlen++] = '\n'; /* replaces the NUL; the length is tracked explicitly */
	rc = write_new_file(tmp, text, tlen);
	if (rc) goto out;
	tmp_made = 1;
	rc = publish(tmp, path);
	if (rc) goto out;
	sync_parent_dir(path);
out:
	if (tmp_made) unlink(tmp);
	free(tmp);
	free(text);
	json_decref(kdf);
	json_decref(cipher);
	json_decref(root);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(key, sizeof key);
	return rc;
}

/* Reads at most KS_FILE_MAX bytes of a regular file; caller frees *buf. */
static int read_file(const char *path, char **buf, size_t *len)
{
	int rc = SSP_ERR_IO;
	/* O_NONBLOCK: a FIFO planted at the path must not hang us before the S_ISREG check. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *p = NULL;
	size_t off = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0) {
		rc = errno == ENOENT ? SSP_ERR_NOTFOUND : SSP_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) != 0) goto out;
	rc = SSP_ERR_KEYSTORE;
	if (!S_ISREG(st.st_mode) || st.st_size > KS_FILE_MAX) goto out;
	rc = SSP_ERR_NOMEM;
	p = ssp_malloc(KS_FILE_MAX + 1);
	if (!p) goto out;
	rc = SSP_ERR_IO;
	for (;;) {
		ssize_t r = read(fd, p + off, KS_FILE_MAX + 1 - off);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) goto out;
		if (r == 0) break;
		off += (size_t)r;
		if (off > KS_FILE_MAX) {
			rc = SSP_ERR_KEYSTORE; /* grew while we read it */
			goto out;
		}
	}
	*buf = p;
	*len = off;
	p = NULL;
	rc = 0;
out:
	free(p);
	if (fd >= 0) close(fd);
	return rc;
}

static int get_hex(json_t *obj, const char *key, uint8_t *out, size_t n)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v)) return -1;
	return ssp_hex_decode(out, n, json_string_value(v), json_string_length(v)) ? -1 : 0;
}

static int get_u64(json_t *obj, const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
	uint64_t x = (uint64_t)json_integer_value(v);
	if (x < lo || x > hi) return -1;
	*out = x;
	return 0;
}

static int get_str(json_t *obj, const char *key, const char *want)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0 ? 0 : -1;
}

/* Loads and validates a keystore file's fields; decrypts nothing. */
static int ks_load(const char *path, ks_file *f)
{
	int rc;
	char *buf = NULL;
	size_t len;
	json_t *root = NULL, *v, *kdf, *cipher;
	json_error_t jerr;
	int type;
	uint8_t pkb[SSP_PUBKEY_MAX];

	memset(f, 0, sizeof *f);
	if (!path) {
		rc = SSP_ERR_INVAL;
		goto out;
	}
	rc = read_file(path, &buf, &len);
	if (rc) goto out;
	rc = SSP_ERR_KEYSTORE;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) goto out;

	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) != KS_VERSION) goto out;
	v = json_object_get(root, "name");
	if (!json_is_string(v) || json_string_length(v) > KS_NAME_MAX) goto out;
	if (strlen(json_string_value(v)) != json_string_length(v)) goto out; /* embedded NUL */
	memcpy(f->name, json_string_value(v), json_string_length(v) + 1);
	if (!name_ok(f->name)) goto out;
	v = json_object_get(root, "type");
	if (!json_is_string(v)) goto out;
	type = ssp_key_type_parse(json_string_value(v));
	if (type < 0) goto out;
	size_t pklen = ssp_pubkey_len(type);
	if (get_hex(root, "pubkey", pkb, pklen)) goto out;
	if (ssp_pubkey_parse(&f->pk, type, pkb, pklen)) goto out;

	kdf = json_object_get(root, "kdf");
	cipher = json_object_get(root, "cipher");
	if (!json_is_object(kdf) || !json_is_object(cipher)) goto out;
	if (get_str(kdf, "alg", KS_KDF_ALG) ||
	    get_u64(kdf, "opslimit", crypto_pwhash_OPSLIMIT_MIN, KS_OPS_MAX, &f->opslimit) ||
	    get_u64(kdf, "memlimit", crypto_pwhash_MEMLIMIT_MIN, KS_MEM_MAX, &f->memlimit) ||
	    get_hex(kdf, "salt", f->salt, sizeof f->salt))
		goto out;
	if (get_str(cipher, "alg", KS_CIPHER_ALG) ||
	    get_hex(cipher, "nonce", f->nonce, sizeof f->nonce) ||
	    get_hex(cipher, "ciphertext", f->ct, sizeof f->ct))
		goto out;
	rc = 0;
out:
	json_decref(root);
	free(buf);
	return rc;
}

int ssp_keystore_read(const char *path, const char *password, ssp_seckey *sk, ssp_pubkey *pk)
{
	int rc;
	ks_file f;
	uint8_t key[32], raw[32], ad[64 + KS_NAME_MAX];
	unsigned long long rawlen = 0;
	size_t adlen;
	ssp_pubkey got;

	memset(sk, 0, sizeof *sk);
	memset(pk, 0, sizeof *pk);
	if (!password) password = "";
	rc = ks_load(path, &f);
	if (rc) goto out;
	rc = ks_kdf(key, password, f.salt, f.opslimit, f.memlimit);
	if (rc) goto out;
	adlen = ks_ad(ad, sizeof ad, f.name, &f.pk);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(raw, &rawlen, NULL, f.ct, sizeof f.ct, ad,
	                                               adlen, f.nonce, key) != 0 ||
	    rawlen != sizeof raw) {
		rc = SSP_ERR_PASSWORD;
		goto out;
	}
	/* The AEAD proved the password; an inconsistent key means a broken writer. */
	rc = SSP_ERR_KEYSTORE;
	if (ssp_seckey_from_raw(sk, f.pk.type, raw, sizeof raw)) goto out;
	if (ssp_key_public(&got, sk)) goto out;
	if (got.len != f.pk.len || sodium_memcmp(got.b, f.pk.b, got.len) != 0) goto out;
	*pk = got;
	rc = 0;
out:
	if (rc) {
		ssp_seckey_wipe(sk);
		memset(pk, 0, sizeof *pk);
	}
	sodium_memzero(key, sizeof key);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(&f, sizeof f);
	return rc;
}

int ssp_keystore_info(const char *path, ssp_pubkey *pk, char *name, size_t namecap)
{
	int rc;
	ks_file f;

	memset(pk, 0, sizeof *pk);
	if (name && namecap) name[0] = 0;
	rc = ks_load(path, &f);
	if (rc) goto out;
	if (name) {
		if (strlen(f.name) >= namecap) {
			rc = SSP_ERR_TOOBIG;
			goto out;
		}
		memcpy(name, f.name, strlen(f.name) + 1);
	}
	*pk = f.pk;
	rc = 0;
out:
	return rc;
}
