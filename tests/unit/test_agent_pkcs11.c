/*
 * test_agent_pkcs11.c — libsmartagent against a real SoftHSM2 token created
 * in a temporary SOFTHSM2_CONF directory (softhsm2-util), and its file
 * backend against a real keystore: key generation inside the token (not
 * extractable, checked with OpenSC's pkcs11-tool), signatures the chain
 * accepts (low-S P-256 over the domain digest), the counter (strictly
 * increasing across reopening and across two processes at once), and every
 * refusal: no key yet, wrong PIN, unknown token, bad URIs, a lost or
 * damaged counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <p11-kit/p11-kit.h>
#include <sodium.h>

#include "ssp/agent.h"

#ifndef SSP_SOFTHSM_MODULE
#define SSP_SOFTHSM_MODULE "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"
#endif

static char g_dir[256];
static char g_uri[512];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0) fail_msg("command failed (%d): %s", rc, cmd);
}

static int setup(void **state)
{
	(void)state;
	if (ssp_core_init()) return -1;
	snprintf(g_dir, sizeof g_dir, "/tmp/ssp-agent-test-XXXXXX");
	if (!mkdtemp(g_dir)) return -1;
	char conf[300];
	snprintf(conf, sizeof conf, "%s/softhsm2.conf", g_dir);
	FILE *f = fopen(conf, "w");
	if (!f) return -1;
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
	        g_dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	setenv("SSP_AGENT_LOCK_DIR", g_dir, 1);
	sh("mkdir -p %s/tokens && softhsm2-util --module %s --init-token --free --label dev-0001 "
	   "--pin 1234 --so-pin 5678 >/dev/null",
	   g_dir, SSP_SOFTHSM_MODULE);
	sh("softhsm2-util --module %s --init-token --free --label dev-0002 --pin 4321 --so-pin 5678 "
	   ">/dev/null",
	   SSP_SOFTHSM_MODULE);
	snprintf(g_uri, sizeof g_uri, "pkcs11:token=dev-0001?module-path=%s", SSP_SOFTHSM_MODULE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_refusals_before_init(void **state)
{
	(void)state;
	ssp_agent *a;
	char why[512], uri[600];
	assert_int_equal(ssp_agent_open(&a, g_uri, "1234", 0, why, sizeof why), SSP_ERR_NOTFOUND);
	assert_non_null(strstr(why, "ssp-agent init"));
	assert_int_equal(ssp_agent_open(&a, g_uri, "0000", SSP_AGENT_CREATE, why, sizeof why),
	                 SSP_ERR_PASSWORD);
	assert_non_null(strstr(why, "wrong PIN"));
	snprintf(uri, sizeof uri, "pkcs11:token=no-such-token?module-path=%s", SSP_SOFTHSM_MODULE);
	assert_int_equal(ssp_agent_open(&a, uri, "1234", SSP_AGENT_CREATE, why, sizeof why),
	                 SSP_ERR_NOTFOUND);
	assert_non_null(strstr(why, "no initialised PKCS#11 token"));
	assert_int_equal(ssp_agent_open(&a, "pkcs11:token=%zz", "1", 0, why, sizeof why),
	                 SSP_ERR_INVAL);
	assert_int_equal(ssp_agent_open(&a, "pkcs11:model=x", "1", 0, why, sizeof why),
	                 SSP_ERR_INVAL);
	assert_non_null(strstr(why, "names no token"));
	snprintf(uri, sizeof uri, "pkcs11:token=dev-0001?module-path=%s/none.so", g_dir);
	assert_int_equal(ssp_agent_open(&a, uri, "1234", 0, why, sizeof why), SSP_ERR_TOKEN);
	assert_non_null(strstr(why, "cannot load PKCS#11 module"));
	assert_int_equal(ssp_agent_open(&a, "pkcs11:token=dev-0001;module-path=/x.so", "1", 0, why,
	                                sizeof why),
	                 SSP_ERR_INVAL);
	assert_non_null(strstr(why, "query attributes"));
	assert_int_equal(ssp_agent_open(&a, "tpm:whatever", "1", 0, why, sizeof why), SSP_ERR_INVAL);
	assert_int_equal(ssp_agent_open(&a, NULL, "1", 0, why, sizeof why), SSP_ERR_INVAL);
}

/* Signs n random digests; each must verify under the agent's key and be low-S. */
static void sign_many(ssp_agent *a, int n)
{
	ssp_pubkey pk;
	assert_int_equal(ssp_agent_pubkey(a, &pk), 0);
	for (int i = 0; i < n; i++) {
		ssp_hash d;
		ssp_sig sig;
		randombytes_buf(d.b, sizeof d.b);
		assert_int_equal(ssp_agent_sign_digest(a, &d, &sig), 0);
		assert_int_equal(ssp_verify_digest(&pk, &d, &sig), 0);
		d.b[0] ^= 1;
		assert_int_equal(ssp_verify_digest(&pk, &d, &sig), SSP_ERR_BADSIG);
	}
	/* the domain-separated form the chain checks */
	ssp_sig sig;
	ssp_hash d;
	static const char msg[] = "attestation";
	assert_int_equal(ssp_agent_sign(a, SSP_DOM_ATTEST, "ssp-devnet", msg, sizeof msg, &sig), 0);
	ssp_sig_digest(&d, SSP_DOM_ATTEST, "ssp-devnet", msg, sizeof msg);
	assert_int_equal(ssp_verify_digest(&pk, &d, &sig), 0);
	ssp_sig_digest(&d, SSP_DOM_TX, "ssp-devnet", msg, sizeof msg);
	assert_int_equal(ssp_verify_digest(&pk, &d, &sig), SSP_ERR_BADSIG);
}

/*
 * Asks the token directly for the agent private key's CKA_VALUE and checks
 * its protection attributes; returns the CK_RV of the value read.
 */
static CK_RV private_value_rv(const char *label, const char *pin)
{
	CK_FUNCTION_LIST *f = p11_kit_module_load(SSP_SOFTHSM_MODULE, 0);
	assert_non_null(f);
	assert_int_equal(p11_kit_module_initialize(f), CKR_OK);
	CK_SLOT_ID ids[16];
	CK_ULONG n = 16;
	assert_int_equal(f->C_GetSlotList(CK_TRUE, ids, &n), CKR_OK);
	CK_SESSION_HANDLE s = 0;
	bool found = false;
	for (CK_ULONG i = 0; i < n && !found; i++) {
		CK_TOKEN_INFO ti;
		assert_int_equal(f->C_GetTokenInfo(ids[i], &ti), CKR_OK);
		if (memcmp(ti.label, label, strlen(label)) || ti.label[strlen(label)] != ' ') continue;
		assert_int_equal(f->C_OpenSession(ids[i], CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
		found = true;
	}
	assert_true(found);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, "ssp-agent", 9}};
	CK_OBJECT_HANDLE h;
	CK_ULONG got = 0;
	assert_int_equal(f->C_FindObjectsInit(s, t, 2), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, &h, 1, &got), CKR_OK);
	f->C_FindObjectsFinal(s);
	assert_int_equal(got, 1);
	CK_BBOOL sens = 0, extr = 1, never = 0;
	CK_ATTRIBUTE at[] = {{CKA_SENSITIVE, &sens, 1}, {CKA_EXTRACTABLE, &extr, 1},
	                     {CKA_NEVER_EXTRACTABLE, &never, 1}};
	assert_int_equal(f->C_GetAttributeValue(s, h, at, 3), CKR_OK);
	assert_true(sens);
	assert_false(extr);
	assert_true(never);
	CK_BYTE v[64];
	CK_ATTRIBUTE vt = {CKA_VALUE, v, sizeof v};
	CK_RV rv = f->C_GetAttributeValue(s, h, &vt, 1);
	f->C_Logout(s);
	f->C_CloseSession(s);
	p11_kit_module_finalize(f);
	p11_kit_module_release(f);
	return rv;
}

static void test_token_key_and_signatures(void **state)
{
	(void)state;
	ssp_agent *a;
	char why[512];
	ssp_pubkey pk1, pk2;
	assert_int_equal(ssp_agent_open(&a, g_uri, "1234", SSP_AGENT_CREATE, why, sizeof why), 0);
	assert_string_equal(ssp_agent_backend(a), "pkcs11");
	assert_non_null(strstr(ssp_agent_describe(a), "dev-0001"));
	assert_int_equal(ssp_agent_pubkey(a, &pk1), 0);
	assert_int_equal(pk1.type, SSP_KEY_P256);
	assert_int_equal(pk1.len, 33);
	sign_many(a, 64); /* SoftHSM2 returns high S about half the time: normalised */
	ssp_agent_close(a);
	/* opening again (even with CREATE) finds the same key, never a new one */
	assert_int_equal(ssp_agent_open(&a, g_uri, "1234", SSP_AGENT_CREATE, why, sizeof why), 0);
	assert_int_equal(ssp_agent_pubkey(a, &pk2), 0);
	assert_memory_equal(pk1.b, pk2.b, 33);
	ssp_agent_close(a);
	/* the PIN in the URI works too; the other token is another device */
	char uri[700];
	snprintf(uri, sizeof uri, "pkcs11:token=dev-0002?module-path=%s&pin-value=4321",
	         SSP_SOFTHSM_MODULE);
	assert_int_equal(ssp_agent_open(&a, uri, NULL, SSP_AGENT_CREATE, why, sizeof why), 0);
	assert_int_equal(ssp_agent_pubkey(a, &pk2), 0);
	assert_memory_not_equal(pk1.b, pk2.b, 33);
	ssp_agent_close(a);
	/* OpenSC's own view: the private key is sensitive and was never extractable */
	char cmd[1200], line[256];
	snprintf(cmd, sizeof cmd,
	         "pkcs11-tool --module %s --token-label dev-0001 --login --pin 1234 "
	         "--list-objects --type privkey 2>/dev/null",
	         SSP_SOFTHSM_MODULE);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	bool never = false, sensitive = false;
	while (fgets(line, sizeof line, p)) {
		if (strstr(line, "never extractable")) never = true;
		if (strstr(line, "sensitive")) sensitive = true;
	}
	assert_int_equal(pclose(p), 0);
	assert_true(never);
	assert_true(sensitive);
	/* and the token itself refuses its value (straight through PKCS#11, not our code) */
	assert_int_equal(private_value_rv("dev-0001", "1234"), CKR_ATTRIBUTE_SENSITIVE);
}

static void test_token_counter(void **state)
{
	(void)state;
	ssp_agent *a;
	char why[512];
	uint64_t v, first;
	assert_int_equal(ssp_agent_open(&a, g_uri, "1234", SSP_AGENT_CREATE, why, sizeof why), 0);
	assert_int_equal(ssp_agent_counter_get(a, &first), 0);
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(ssp_agent_counter_next(a, &v), 0);
		assert_int_equal(v, first + i);
	}
	ssp_agent_close(a);
	/* survives reopening */
	assert_int_equal(ssp_agent_open(&a, g_uri, "1234", 0, why, sizeof why), 0);
	assert_int_equal(ssp_agent_counter_get(a, &v), 0);
	assert_int_equal(v, first + 3);
	ssp_agent_close(a);
	/* two processes at once: every value handed out once */
	enum { PER = 20 };
	int fds[2][2];
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pipe(fds[k]), 0);
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			ssp_agent *b;
			close(fds[k][0]);
			char w[512];
			if (ssp_agent_open(&b, g_uri, "1234", 0, w, sizeof w)) {
				fprintf(stderr, "child: %s\n", w);
				_exit(3);
			}
			for (int i = 0; i < PER; i++) {
				uint64_t x;
				if (ssp_agent_counter_next(b, &x)) {
					fprintf(stderr, "child: %s\n", ssp_agent_last_error(b));
					_exit(4);
				}
				if (write(fds[k][1], &x, 8) != 8) _exit(5);
			}
			ssp_agent_close(b);
			_exit(0);
		}
		close(fds[k][1]);
	}
	uint64_t seen[2 * PER];
	size_t n = 0;
	for (int k = 0; k < 2; k++) {
		uint64_t x, prev = 0;
		while (read(fds[k][0], &x, 8) == 8) {
			assert_true(x > prev); /* increasing within each process */
			prev = x;
			assert_true(n < 2 * PER);
			seen[n++] = x;
		}
		close(fds[k][0]);
		int st;
		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(n, 2 * PER);
	for (size_t i = 0; i < n; i++) {
		assert_true(seen[i] > first + 3 && seen[i] <= first + 3 + 2 * PER);
		for (size_t j = i + 1; j < n; j++)
			assert_true(seen[i] != seen[j]);
	}
	assert_int_equal(ssp_agent_open(&a, g_uri, "1234", 0, why, sizeof why), 0);
	assert_int_equal(ssp_agent_counter_get(a, &v), 0);
	assert_int_equal(v, first + 3 + 2 * PER);
	ssp_agent_close(a);
	/* a token whose counter object was deleted: refused, never restarted at 0 */
	char cmd[1200];
	snprintf(cmd, sizeof cmd,
	         "pkcs11-tool --module %s --token-label dev-0001 --login --pin 1234 "
	         "--delete-object --type data --label ssp-counter >/dev/null 2>&1",
	         SSP_SOFTHSM_MODULE);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ssp_agent_open(&a, g_uri, "1234", SSP_AGENT_CREATE, why, sizeof why),
	                 SSP_ERR_TOKEN);
	assert_non_null(strstr(why, "lost its counter"));
}

/* Metering receipts signed in the token: verify, order, tamper, strict codec. */
static void test_token_meter(void **state)
{
	(void)state;
	ssp_agent *a;
	char why[512];
	ssp_hash ag;
	memset(ag.b, 0xa5, 32);
	/* dev-0002: test_token_counter leaves dev-0001 without its counter */
	char uri[700];
	snprintf(uri, sizeof uri, "pkcs11:token=dev-0002?module-path=%s&pin-value=4321",
	         SSP_SOFTHSM_MODULE);
	assert_int_equal(ssp_agent_open(&a, uri, NULL, SSP_AGENT_CREATE, why, sizeof why), 0);
	ssp_meter_receipt m1, m2, t;
	uint64_t ctr;
	assert_int_equal(ssp_agent_sign_meter(a, "ssp-devnet", &ag, 100, &m1), 0);
	assert_int_equal(ssp_agent_sign_meter(a, "ssp-devnet", &ag, 250, &m2), 0);
	assert_int_equal(ssp_agent_counter_get(a, &ctr), 0);
	assert_int_equal(m2.counter, ctr); /* the token's counter, persisted before use */
	assert_true(m1.counter < m2.counter);
	assert_int_equal(ssp_meter_verify(&m1, "ssp-devnet"), 0);
	assert_int_equal(ssp_meter_verify(&m2, "ssp-devnet"), 0);
	assert_int_equal(ssp_meter_verify(&m1, "ssp-other"), SSP_ERR_BADSIG);
	assert_int_equal(ssp_meter_follows(&m1, &m2), 0);
	assert_int_equal(ssp_meter_follows(&m2, &m1), SSP_ERR_DEV_COUNTER);
	assert_int_equal(ssp_meter_follows(&m2, &m2), SSP_ERR_DEV_COUNTER);
	t = m2;
	t.cumulative = 50; /* a later counter with less delivered */
	assert_int_equal(ssp_meter_follows(&m1, &t), SSP_ERR_RANGE);
	assert_int_equal(ssp_meter_verify(&t, "ssp-devnet"), SSP_ERR_BADSIG);
	t = m2;
	t.agreement.b[31] ^= 1;
	assert_int_equal(ssp_meter_follows(&m1, &t), SSP_ERR_INVAL);
	assert_int_equal(ssp_meter_verify(&t, "ssp-devnet"), SSP_ERR_BADSIG);
	t = m2;
	t.counter++;
	assert_int_equal(ssp_meter_verify(&t, "ssp-devnet"), SSP_ERR_BADSIG);
	/* the encoding: round trip; every prefix, a trailing byte, a flipped byte refused */
	ssp_buf b;
	ssp_buf_init(&b, 256);
	ssp_meter_encode(&b, &m2, true);
	assert_int_equal(b.err, 0);
	assert_int_equal(ssp_meter_decode(&t, b.data, b.len), 0);
	assert_memory_equal(&t.sig, &m2.sig, sizeof t.sig);
	assert_int_equal(t.counter, m2.counter);
	assert_int_equal(t.cumulative, 250);
	assert_int_equal(ssp_meter_verify(&t, "ssp-devnet"), 0);
	for (size_t k = 0; k < b.len; k++) assert_int_equal(ssp_meter_decode(&t, b.data, k), SSP_ERR_PAYLOAD);
	uint8_t more[256];
	memcpy(more, b.data, b.len);
	more[b.len] = 0;
	assert_int_equal(ssp_meter_decode(&t, more, b.len + 1), SSP_ERR_PAYLOAD);
	for (size_t k = 0; k < b.len; k++) {
		memcpy(more, b.data, b.len);
		more[k] ^= 0x01;
		/* a flip is refused by the codec or by the signature, never accepted */
		if (ssp_meter_decode(&t, more, b.len) == 0)
			assert_int_not_equal(ssp_meter_verify(&t, "ssp-devnet"), 0);
	}
	ssp_buf_free(&b);
	ssp_agent_close(a);
}

static void test_file_backend(void **state)
{
	(void)state;
	char ks[300], uri[320], why[512], cpath[340];
	ssp_seckey sk;
	ssp_pubkey pk, apk;
	ssp_agent *a;
	uint64_t v;
	snprintf(ks, sizeof ks, "%s/device.json", g_dir);
	snprintf(uri, sizeof uri, "file:%s", ks);
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_P256), 0);
	assert_int_equal(ssp_keystore_write(ks, "device", &sk, "pw"), 0);
	assert_int_equal(ssp_agent_open(&a, uri, "nope", 0, why, sizeof why), SSP_ERR_PASSWORD);
	assert_non_null(strstr(why, "wrong password"));
	assert_int_equal(ssp_agent_open(&a, uri, "pw", 0, why, sizeof why), 0);
	assert_string_equal(ssp_agent_backend(a), "file");
	assert_int_equal(ssp_agent_pubkey(a, &apk), 0);
	assert_memory_equal(apk.b, pk.b, 33);
	sign_many(a, 16);
	assert_int_equal(ssp_agent_counter_next(a, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ssp_agent_counter_next(a, &v), 0);
	assert_int_equal(v, 2);
	ssp_agent_close(a);
	assert_int_equal(ssp_agent_open(&a, uri, "pw", 0, why, sizeof why), 0);
	assert_int_equal(ssp_agent_counter_next(a, &v), 0);
	assert_int_equal(v, 3);
	/* a damaged counter file is refused, not restarted */
	snprintf(cpath, sizeof cpath, "%s.counter", ks);
	FILE *f = fopen(cpath, "w");
	assert_non_null(f);
	fputs("12x\n", f);
	fclose(f);
	assert_int_equal(ssp_agent_counter_next(a, &v), SSP_ERR_IO);
	assert_non_null(strstr(ssp_agent_last_error(a), "damaged"));
	ssp_agent_close(a);
	snprintf(uri, sizeof uri, "file:%s/missing.json", g_dir);
	assert_int_not_equal(ssp_agent_open(&a, uri, "pw", 0, why, sizeof why), 0);
	assert_non_null(strstr(why, "cannot read keystore"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refusals_before_init),
	    cmocka_unit_test(test_token_key_and_signatures),
	    cmocka_unit_test(test_token_counter),
	    cmocka_unit_test(test_token_meter),
	    cmocka_unit_test(test_file_backend),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
