/*
 * test_core_keystore.c — password-protected key files (core layer): round
 * trips for both key types, wrong passwords and tampering, malformed files,
 * no-clobber creation and file permissions. Every test works in its own
 * mkdtemp directory under /tmp, removed afterwards.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ssp/core.h"

typedef struct {
	char dir[64];
	char path[128];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f || ssp_core_init()) return -1;
	strcpy(f->dir, "/tmp/ssp-ks-XXXXXX");
	if (!mkdtemp(f->dir)) return -1;
	snprintf(f->path, sizeof f->path, "%s/key.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
		snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	if (d) closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	size_t n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

static void spit(const char *path, const char *buf, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
}

static int count_entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
	closedir(d);
	return n;
}

static void round_trip(fixture *f, int type, const char *name, const char *password)
{
	ssp_seckey sk, got;
	ssp_pubkey pk, gotpk, infopk;
	char info_name[80];
	assert_int_equal(ssp_key_generate(&sk, &pk, type), 0);
	unlink(f->path);
	assert_int_equal(ssp_keystore_write(f->path, name, &sk, password), 0);
	assert_int_equal(ssp_keystore_read(f->path, password, &got, &gotpk), 0);
	assert_int_equal(got.type, sk.type);
	assert_int_equal(got.len, sk.len);
	assert_memory_equal(got.b, sk.b, sk.len);
	assert_memory_equal(&gotpk, &pk, sizeof pk);
	assert_int_equal(ssp_keystore_info(f->path, &infopk, info_name, sizeof info_name), 0);
	assert_memory_equal(&infopk, &pk, sizeof pk);
	assert_string_equal(info_name, name ? name : "");
	assert_int_equal(ssp_keystore_info(f->path, &infopk, NULL, 0), 0);
	/* Only the key file is left: the temporary is gone. */
	assert_int_equal(count_entries(f->dir), 1);
	ssp_seckey_wipe(&sk);
	ssp_seckey_wipe(&got);
}

static void test_round_trip(void **state)
{
	fixture *f = *state;
	round_trip(f, SSP_KEY_ED25519, "alice", "correct horse battery staple");
	round_trip(f, SSP_KEY_P256, "device-7", "pässwörd");
}

static void test_empty_password(void **state)
{
	fixture *f = *state;
	round_trip(f, SSP_KEY_ED25519, "", "");
	/* NULL means the empty password, on both sides. */
	ssp_seckey sk;
	ssp_pubkey pk;
	assert_int_equal(ssp_keystore_read(f->path, NULL, &sk, &pk), 0);
	assert_int_equal(ssp_keystore_read(f->path, "x", &sk, &pk), SSP_ERR_PASSWORD);
	round_trip(f, SSP_KEY_P256, NULL, NULL);
}

static void test_wrong_password(void **state)
{
	fixture *f = *state;
	ssp_seckey sk;
	ssp_pubkey pk;
	static char before[70000], after[70000];
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_P256), 0);
	assert_int_equal(ssp_keystore_write(f->path, "bob", &sk, "right"), 0);
	size_t n1 = slurp(f->path, before, sizeof before);
	struct stat st1, st2;
	assert_int_equal(stat(f->path, &st1), 0);

	ssp_seckey out;
	ssp_pubkey outpk;
	memset(&out, 0xaa, sizeof out);
	assert_int_equal(ssp_keystore_read(f->path, "wrong", &out, &outpk), SSP_ERR_PASSWORD);
	/* Nothing secret leaks out on failure. */
	static const ssp_seckey zero;
	assert_memory_equal(&out, &zero, sizeof out);
	assert_int_equal(ssp_keystore_read(f->path, "Right", &out, &outpk), SSP_ERR_PASSWORD);
	assert_int_equal(ssp_keystore_read(f->path, "", &out, &outpk), SSP_ERR_PASSWORD);

	size_t n2 = slurp(f->path, after, sizeof after);
	assert_int_equal(stat(f->path, &st2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	ssp_seckey_wipe(&sk);
}

/* Rewrites one string field (obj may be NULL for the top level) of the file. */
static void tamper(const char *path, const char *obj, const char *key, const char *value)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	assert_non_null(root);
	json_t *o = obj ? json_object_get(root, obj) : root;
	assert_non_null(o);
	assert_int_equal(json_object_set_new(o, key, json_string(value)), 0);
	assert_int_equal(json_dump_file(root, path, 0), 0);
	json_decref(root);
}

/* The file's value of a string field, flipped in one hex digit. */
static void flipped(const char *path, const char *obj, const char *key, char *out, size_t cap)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	assert_non_null(root);
	const char *v = json_string_value(json_object_get(json_object_get(root, obj), key));
	assert_non_null(v);
	assert_true(strlen(v) < cap);
	strcpy(out, v);
	out[3] = out[3] == '0' ? '1' : '0';
	json_decref(root);
}

static void test_tampering(void **state)
{
	fixture *f = *state;
	ssp_seckey sk, other, out;
	ssp_pubkey pk, opk, outpk;
	char orig[4096], hex[200];
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_ED25519), 0);
	assert_int_equal(ssp_key_generate(&other, &opk, SSP_KEY_ED25519), 0);
	assert_int_equal(ssp_keystore_write(f->path, "carol", &sk, "pw"), 0);
	size_t n = slurp(f->path, orig, sizeof orig);

	flipped(f->path, "cipher", "ciphertext", hex, sizeof hex);
	tamper(f->path, "cipher", "ciphertext", hex);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_PASSWORD);

	spit(f->path, orig, n);
	flipped(f->path, "cipher", "nonce", hex, sizeof hex);
	tamper(f->path, "cipher", "nonce", hex);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_PASSWORD);

	spit(f->path, orig, n);
	flipped(f->path, "kdf", "salt", hex, sizeof hex);
	tamper(f->path, "kdf", "salt", hex);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_PASSWORD);

	/* The header is bound as additional data: renaming or swapping the key fails. */
	spit(f->path, orig, n);
	tamper(f->path, NULL, "name", "mallory");
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_PASSWORD);

	spit(f->path, orig, n);
	ssp_hex_encode(hex, opk.b, opk.len);
	tamper(f->path, NULL, "pubkey", hex);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_PASSWORD);

	/* Restored, it reads again. */
	spit(f->path, orig, n);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), 0);
	assert_memory_equal(&outpk, &pk, sizeof pk);
	ssp_seckey_wipe(&sk);
	ssp_seckey_wipe(&other);
	ssp_seckey_wipe(&out);
}

static void expect_keystore_err(const char *path, const char *text, size_t n)
{
	ssp_seckey sk;
	ssp_pubkey pk;
	spit(path, text, n);
	assert_int_equal(ssp_keystore_read(path, "pw", &sk, &pk), SSP_ERR_KEYSTORE);
	assert_int_equal(ssp_keystore_info(path, &pk, NULL, 0), SSP_ERR_KEYSTORE);
}

static void test_malformed(void **state)
{
	fixture *f = *state;
	ssp_seckey sk, out;
	ssp_pubkey pk, outpk;
	static char orig[70000];
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_P256), 0);
	assert_int_equal(ssp_keystore_write(f->path, "dave", &sk, "pw"), 0);
	size_t n = slurp(f->path, orig, sizeof orig);

	/* Truncations at every tenth byte, and garbage. */
	for (size_t cut = 0; cut + 1 < n; cut += 10)
		expect_keystore_err(f->path, orig, cut);
	expect_keystore_err(f->path, "garbage", 7);
	expect_keystore_err(f->path, "\x00\x01\x02\xff", 4);
	expect_keystore_err(f->path, "[]", 2);
	expect_keystore_err(f->path, "{}", 2);
	expect_keystore_err(f->path, "{\"version\":1}", 13);

	/* A duplicated key is refused even when both copies agree. */
	char dup[4096];
	assert_true(n < sizeof dup - 32);
	int m = snprintf(dup, sizeof dup, "{\"version\":1,%s", orig + 1);
	expect_keystore_err(f->path, dup, (size_t)m);

	/* Field-level damage. */
	spit(f->path, orig, n);
	tamper(f->path, NULL, "type", "rsa");
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	spit(f->path, orig, n);
	tamper(f->path, NULL, "pubkey", "zz");
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	spit(f->path, orig, n);
	tamper(f->path, "kdf", "alg", "scrypt");
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	spit(f->path, orig, n);
	tamper(f->path, "cipher", "ciphertext", "00");
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);

	/* Hostile KDF parameters are refused before any work is done. */
	json_error_t err;
	spit(f->path, orig, n);
	json_t *root = json_load_file(f->path, 0, &err);
	assert_non_null(root);
	json_object_set_new(json_object_get(root, "kdf"), "memlimit",
	                    json_integer((json_int_t)1 << 40));
	assert_int_equal(json_dump_file(root, f->path, 0), 0);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	json_object_set_new(json_object_get(root, "kdf"), "memlimit", json_integer(8192));
	json_object_set_new(json_object_get(root, "kdf"), "opslimit", json_integer(1000000));
	assert_int_equal(json_dump_file(root, f->path, 0), 0);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	json_object_set_new(root, "version", json_integer(2));
	json_object_set_new(json_object_get(root, "kdf"), "opslimit", json_integer(2));
	assert_int_equal(json_dump_file(root, f->path, 0), 0);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	json_decref(root);

	/* Over 64 KiB: refused whatever it holds. */
	static char big[65 * 1024 + 10];
	memset(big, ' ', sizeof big);
	memcpy(big, orig, n);
	expect_keystore_err(f->path, big, sizeof big);

	/* Missing file, directory. */
	unlink(f->path);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_NOTFOUND);
	assert_int_equal(ssp_keystore_info(f->path, &outpk, NULL, 0), SSP_ERR_NOTFOUND);
	assert_int_equal(ssp_keystore_read(f->dir, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	/* A FIFO with no writer is refused at once instead of blocking the reader. */
	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_int_equal(ssp_keystore_read(f->path, "pw", &out, &outpk), SSP_ERR_KEYSTORE);
	unlink(f->path);
	ssp_seckey_wipe(&sk);
}

static void test_exists_and_mode(void **state)
{
	fixture *f = *state;
	ssp_seckey sk, sk2;
	ssp_pubkey pk, pk2;
	char before[4096], after[4096];
	mode_t old = umask(0);
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_ED25519), 0);
	assert_int_equal(ssp_key_generate(&sk2, &pk2, SSP_KEY_ED25519), 0);
	assert_int_equal(ssp_keystore_write(f->path, "erin", &sk, "pw"), 0);
	umask(old);

	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	size_t n1 = slurp(f->path, before, sizeof before);
	assert_int_equal(ssp_keystore_write(f->path, "erin2", &sk2, "pw"), SSP_ERR_EXISTS);
	size_t n2 = slurp(f->path, after, sizeof after);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_int_equal(count_entries(f->dir), 1);

	/* A dangling symlink at the path also counts as existing: never followed. */
	char link_path[160];
	snprintf(link_path, sizeof link_path, "%s/link.json", f->dir);
	assert_int_equal(symlink("/tmp/ssp-ks-nonexistent-target", link_path), 0);
	assert_int_equal(ssp_keystore_write(link_path, "x", &sk, "pw"), SSP_ERR_EXISTS);
	assert_int_equal(access("/tmp/ssp-ks-nonexistent-target", F_OK), -1);

	/* Bad arguments. */
	char longname[100];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	char p2[160];
	snprintf(p2, sizeof p2, "%s/other.json", f->dir);
	assert_int_equal(ssp_keystore_write(p2, longname, &sk, "pw"), SSP_ERR_INVAL);
	assert_int_equal(ssp_keystore_write(p2, "tab\there", &sk, "pw"), SSP_ERR_INVAL);
	ssp_seckey broken = sk;
	broken.type = 9;
	assert_int_not_equal(ssp_keystore_write(p2, "x", &broken, "pw"), 0);
	assert_int_equal(access(p2, F_OK), -1);
	/* The name buffer of info must fit the name. */
	char tiny[3];
	assert_int_equal(ssp_keystore_info(f->path, &pk2, tiny, sizeof tiny), SSP_ERR_TOOBIG);
	ssp_seckey_wipe(&sk);
	ssp_seckey_wipe(&sk2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exists_and_mode, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
