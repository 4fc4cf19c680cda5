/*
 * test_core_p256.c — ECDSA P-256 keys and signatures (core layer): Wycheproof
 * verification vectors with our stricter low-S rule, low-S signing, the
 * OpenSSL 3.0 verify-context reuse bug, scalar and point validation.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/core.h"

#define VECTORS "tests/vectors/p256_wycheproof.txt"

static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                              0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const uint8_t HALF_N[32] = {0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
                                   0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(ssp_hex_decode(out, n, hex, strlen(hex)), 0);
}

/* out = N - s, big-endian 32 bytes. */
static void n_minus(uint8_t out[32], const uint8_t s[32])
{
	int borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int d = N[i] - s[i] - borrow;
		borrow = d < 0;
		out[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

static int is_high(const uint8_t s[32])
{
	return memcmp(s, HALF_N, 32) > 0;
}

static int setup(void **state)
{
	(void)state;
	return ssp_core_init();
}

static void test_wycheproof(void **state)
{
	(void)state;
	FILE *f = fopen(VECTORS, "r");
	assert_non_null(f);
	char line[1024];
	int total = 0, valid_low = 0, valid_high = 0, invalid = 0, badsize = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || line[0] == '\n') continue;
		int tc;
		char res[16], pkhex[140], msghex[256], sighex[256];
		assert_int_equal(
		    sscanf(line, "%d %15s %139s %255s %255s", &tc, res, pkhex, msghex, sighex), 5);
		total++;
		uint8_t unc[65], comp[33], msg[128], sigb[128];
		assert_int_equal(strlen(pkhex), 130);
		unhex(unc, 65, pkhex);
		assert_int_equal(unc[0], 4);
		comp[0] = (uint8_t)(2 + (unc[64] & 1));
		memcpy(comp + 1, unc + 1, 32);
		ssp_pubkey pk;
		assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, comp, 33), 0);

		size_t mlen = strlen(msghex) / 2, slen = strlen(sighex) / 2;
		unhex(msg, mlen, msghex);
		unhex(sigb, slen, sighex);
		ssp_hash h;
		ssp_sha256(&h, msg, mlen);

		int is_valid = strcmp(res, "valid") == 0;
		if (slen != SSP_SIG_LEN) {
			/* Our signatures are fixed-size; any other length never reaches verify. */
			if (is_valid)
				fail_msg("tcId %d: valid vector with a %zu-byte signature", tc,
				         slen);
			badsize++;
			continue;
		}
		ssp_sig sig;
		memcpy(sig.b, sigb, 64);
		int rc = ssp_verify_digest(&pk, &h, &sig);
		if (is_valid && !is_high(sig.b + 32)) {
			if (rc != 0)
				fail_msg("tcId %d: valid low-S rejected: %s", tc, ssp_errname(rc));
			valid_low++;
		} else if (is_valid) {
			if (rc != SSP_ERR_HIGHS)
				fail_msg("tcId %d: high-S not rejected with HIGHS: %s", tc,
				         ssp_errname(rc));
			/* Its low-S twin is the same signature and must verify. */
			n_minus(sig.b + 32, sigb + 32);
			rc = ssp_verify_digest(&pk, &h, &sig);
			if (rc != 0)
				fail_msg("tcId %d: low-S twin rejected: %s", tc, ssp_errname(rc));
			valid_high++;
		} else {
			if (rc != SSP_ERR_BADSIG && rc != SSP_ERR_HIGHS)
				fail_msg("tcId %d: invalid vector gave %s", tc, ssp_errname(rc));
			invalid++;
		}
	}
	fclose(f);
	print_message("wycheproof p256: %d vectors: %d valid low-S, %d valid high-S (rejected), "
	              "%d invalid, %d wrong size\n",
	              total, valid_low, valid_high, invalid, badsize);
	assert_true(total >= 60);
	assert_true(valid_low >= 20);
	assert_true(valid_high >= 20);
	assert_true(invalid >= 20);
	assert_int_equal(total, valid_low + valid_high + invalid + badsize);
}

static void test_sign_low_s(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_pubkey pk;
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_P256), 0);
	assert_int_equal(pk.type, SSP_KEY_P256);
	assert_int_equal(pk.len, 33);
	assert_true(pk.b[0] == 2 || pk.b[0] == 3);
	for (int i = 0; i < 200; i++) {
		uint8_t msg[8];
		ssp_le64_put(msg, (uint64_t)i);
		ssp_sig sig;
		assert_int_equal(ssp_sign(&sig, &sk, SSP_DOM_TX, "ssp-test", msg, sizeof msg), 0);
		assert_false(is_high(sig.b + 32));
		assert_int_equal(ssp_verify(&pk, SSP_DOM_TX, "ssp-test", msg, sizeof msg, &sig), 0);
		/* The high-S twin of our own signature is refused. */
		ssp_sig twin = sig;
		n_minus(twin.b + 32, sig.b + 32);
		assert_int_equal(ssp_verify(&pk, SSP_DOM_TX, "ssp-test", msg, sizeof msg, &twin),
		                 SSP_ERR_HIGHS);
	}
	ssp_seckey_wipe(&sk);
	assert_int_equal(sk.type, 0);
}

/*
 * What a secure element hands back: high-S signatures are put in low-S form
 * (the twin of each of our own comes back identical), out-of-range r or s is
 * refused; an uncompressed SEC1 point becomes the compressed key, off-curve
 * points and other prefixes are refused.
 */
static void test_element_forms(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_pubkey pk, got;
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_P256), 0);
	for (int i = 0; i < 50; i++) {
		ssp_hash d;
		ssp_sig sig, twin;
		memset(d.b, i, sizeof d.b);
		assert_int_equal(ssp_sign_digest(&sig, &sk, &d), 0);
		twin = sig;
		n_minus(twin.b + 32, sig.b + 32);
		assert_true(is_high(twin.b + 32));
		assert_int_equal(ssp_sig_p256_low_s(&twin), 0);
		assert_memory_equal(twin.b, sig.b, 64);
		assert_int_equal(ssp_sig_p256_low_s(&sig), 0); /* low S stays as it is */
		assert_int_equal(ssp_verify_digest(&pk, &d, &sig), 0);
	}
	ssp_sig bad;
	memset(bad.b, 0, sizeof bad.b);
	bad.b[63] = 1;
	assert_int_equal(ssp_sig_p256_low_s(&bad), SSP_ERR_BADSIG); /* r = 0 */
	memset(bad.b, 0x11, 32);
	memcpy(bad.b + 32, N, 32);
	assert_int_equal(ssp_sig_p256_low_s(&bad), SSP_ERR_BADSIG); /* s = n */
	/* the generator G, uncompressed, is the compressed key 03 6b17… (y odd) */
	uint8_t g65[65], g33[33];
	unhex(g65, 65,
	      "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
	      "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
	unhex(g33, 33, "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
	assert_int_equal(ssp_pubkey_p256_uncompressed(&got, g65), 0);
	assert_int_equal(got.type, SSP_KEY_P256);
	assert_int_equal(got.len, 33);
	assert_memory_equal(got.b, g33, 33);
	g65[64] ^= 1; /* off the curve */
	assert_int_equal(ssp_pubkey_p256_uncompressed(&got, g65), SSP_ERR_BADKEY);
	g65[64] ^= 1;
	g65[0] = 2;
	assert_int_equal(ssp_pubkey_p256_uncompressed(&got, g65), SSP_ERR_BADKEY);
	ssp_seckey_wipe(&sk);
}

/* OpenSSL 3.0: a verify context re-initialised with key B kept checking key A. */
static void test_key_a_fails_under_b(void **state)
{
	(void)state;
	ssp_seckey a, b;
	ssp_pubkey pa, pb;
	assert_int_equal(ssp_key_generate(&a, &pa, SSP_KEY_P256), 0);
	assert_int_equal(ssp_key_generate(&b, &pb, SSP_KEY_P256), 0);
	assert_memory_not_equal(pa.b, pb.b, 33);
	ssp_hash h;
	ssp_sig sa, sb;
	ssp_sig_digest(&h, SSP_DOM_BLOCK, "c", "block", 5);
	assert_int_equal(ssp_sign_digest(&sa, &a, &h), 0);
	assert_int_equal(ssp_sign_digest(&sb, &b, &h), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(ssp_verify_digest(&pa, &h, &sa), 0);
		assert_int_equal(ssp_verify_digest(&pb, &h, &sa), SSP_ERR_BADSIG);
		assert_int_equal(ssp_verify_digest(&pb, &h, &sb), 0);
		assert_int_equal(ssp_verify_digest(&pa, &h, &sb), SSP_ERR_BADSIG);
	}

	/* Same again with three keys in one set of the two-way key cache, so each
	 * verify evicts another's import: verdicts never depend on the cache. */
	ssp_seckey c;
	ssp_pubkey pc;
	ssp_sig sc;
	int tries = 0;
	unsigned set = (unsigned)(pa.b[31] << 8 | pa.b[32]) % 4096;
	do {
		assert_int_equal(ssp_key_generate(&b, &pb, SSP_KEY_P256), 0);
		assert_true(++tries < 200000);
	} while ((unsigned)(pb.b[31] << 8 | pb.b[32]) % 4096 != set || memcmp(pa.b, pb.b, 33) == 0);
	do {
		assert_int_equal(ssp_key_generate(&c, &pc, SSP_KEY_P256), 0);
		assert_true(++tries < 400000);
	} while ((unsigned)(pc.b[31] << 8 | pc.b[32]) % 4096 != set || memcmp(pa.b, pc.b, 33) == 0 ||
	         memcmp(pb.b, pc.b, 33) == 0);
	assert_int_equal(ssp_sign_digest(&sb, &b, &h), 0);
	assert_int_equal(ssp_sign_digest(&sc, &c, &h), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ssp_verify_digest(&pa, &h, &sa), 0);
		assert_int_equal(ssp_verify_digest(&pb, &h, &sa), SSP_ERR_BADSIG);
		assert_int_equal(ssp_verify_digest(&pc, &h, &sc), 0);
		assert_int_equal(ssp_verify_digest(&pb, &h, &sb), 0);
		assert_int_equal(ssp_verify_digest(&pa, &h, &sb), SSP_ERR_BADSIG);
		assert_int_equal(ssp_verify_digest(&pc, &h, &sa), SSP_ERR_BADSIG);
		assert_int_equal(ssp_verify_digest(&pa, &h, &sc), SSP_ERR_BADSIG);
	}
	ssp_seckey_wipe(&c);
	ssp_seckey_wipe(&a);
	ssp_seckey_wipe(&b);
}

static void test_sig_ranges(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_hash h;
	ssp_sig sig, bad;
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_P256), 0);
	ssp_sha256(&h, "x", 1);
	assert_int_equal(ssp_sign_digest(&sig, &sk, &h), 0);
	assert_int_equal(ssp_verify_digest(&pk, &h, &sig), 0);

	bad = sig;
	memset(bad.b, 0, 32); /* r = 0 */
	assert_int_equal(ssp_verify_digest(&pk, &h, &bad), SSP_ERR_BADSIG);
	bad = sig;
	memset(bad.b + 32, 0, 32); /* s = 0 */
	assert_int_equal(ssp_verify_digest(&pk, &h, &bad), SSP_ERR_BADSIG);
	bad = sig;
	memcpy(bad.b, N, 32); /* r = n */
	assert_int_equal(ssp_verify_digest(&pk, &h, &bad), SSP_ERR_BADSIG);
	bad = sig;
	memcpy(bad.b + 32, N, 32); /* s = n */
	assert_int_equal(ssp_verify_digest(&pk, &h, &bad), SSP_ERR_BADSIG);
	bad = sig;
	memcpy(bad.b + 32, HALF_N, 32); /* s = n/2 is the largest low S: a plain bad sig */
	assert_int_equal(ssp_verify_digest(&pk, &h, &bad), SSP_ERR_BADSIG);
	bad = sig;
	bad.b[5] ^= 1;
	assert_int_equal(ssp_verify_digest(&pk, &h, &bad), SSP_ERR_BADSIG);
	ssp_hash h2 = h;
	h2.b[31] ^= 1;
	assert_int_equal(ssp_verify_digest(&pk, &h2, &sig), SSP_ERR_BADSIG);
	ssp_seckey_wipe(&sk);
}

static void test_pubkey_validation(void **state)
{
	(void)state;
	ssp_pubkey pk;
	uint8_t p[33] = {0};

	p[0] = 2;
	p[32] = 1; /* x = 1: x^3 - 3x + b is not a square mod p */
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, p, 33), SSP_ERR_BADKEY);
	p[0] = 3;
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, p, 33), SSP_ERR_BADKEY);
	p[32] = 5; /* x = 5 is on the curve */
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, p, 33), 0);
	assert_int_equal(pk.len, 33);
	p[0] = 4; /* not a compressed prefix */
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, p, 33), SSP_ERR_BADKEY);
	p[0] = 0;
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, p, 33), SSP_ERR_BADKEY);
	/* x = p (field prime) is a non-canonical encoding of x = 0. */
	p[0] = 2;
	unhex(p + 1, 32, "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, p, 33), SSP_ERR_BADKEY);
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_P256, p, 32), SSP_ERR_BADKEY);
	assert_int_equal(ssp_pubkey_parse(&pk, 7, p, 33), SSP_ERR_KEYTYPE);

	/* A bad point smuggled past parse is still refused by verify. */
	ssp_seckey sk;
	ssp_pubkey good;
	ssp_hash h;
	ssp_sig sig;
	assert_int_equal(ssp_key_generate(&sk, &good, SSP_KEY_P256), 0);
	ssp_sha256(&h, "y", 1);
	assert_int_equal(ssp_sign_digest(&sig, &sk, &h), 0);
	ssp_pubkey evil = good;
	memset(evil.b + 1, 0, 32);
	evil.b[32] = 1;
	assert_int_equal(ssp_verify_digest(&evil, &h, &sig), SSP_ERR_BADKEY);
	evil = good;
	evil.len = 32;
	assert_int_equal(ssp_verify_digest(&evil, &h, &sig), SSP_ERR_BADKEY);
	ssp_seckey_wipe(&sk);
}

static void test_scalars(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_pubkey pk;
	uint8_t d[32] = {0};

	assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_P256, d, 32), SSP_ERR_BADKEY);
	assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_P256, N, 32), SSP_ERR_BADKEY);
	assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_P256, d, 31), SSP_ERR_INVAL);
	d[31] = 1; /* d = 1: the public key is the generator */
	assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_P256, d, 32), 0);
	assert_int_equal(ssp_key_public(&pk, &sk), 0);
	uint8_t g[33];
	unhex(g, 33, "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
	assert_memory_equal(pk.b, g, 33);
	uint8_t raw[32];
	ssp_seckey_raw(&sk, raw);
	assert_memory_equal(raw, d, 32);

	/* d = n - 1 gives -G: same x, the other parity. */
	uint8_t nm1[32];
	memcpy(nm1, N, 32);
	nm1[31] -= 1;
	assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_P256, nm1, 32), 0);
	assert_int_equal(ssp_key_public(&pk, &sk), 0);
	assert_int_equal(pk.b[0], 2);
	assert_memory_equal(pk.b + 1, g + 1, 32);

	/* A seckey whose scalar was corrupted to zero is refused for signing. */
	ssp_hash h;
	ssp_sig sig;
	ssp_sha256(&h, "z", 1);
	memset(sk.b, 0, 32);
	assert_int_not_equal(ssp_sign_digest(&sig, &sk, &h), 0);
	ssp_seckey_wipe(&sk);
}

static void test_domains(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_sig sig;
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_P256), 0);
	assert_int_equal(ssp_sign(&sig, &sk, SSP_DOM_VOTE, "main", "m", 1), 0);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_VOTE, "main", "m", 1, &sig), 0);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_BLOCK, "main", "m", 1, &sig), SSP_ERR_BADSIG);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_VOTE, "mainx", "m", 1, &sig), SSP_ERR_BADSIG);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_VOTE, "main", "n", 1, &sig), SSP_ERR_BADSIG);
	ssp_seckey_wipe(&sk);
}

/* Verifying from several threads at once (one key cache shared by all). */
#define NKEYS 64
static ssp_pubkey g_pk[NKEYS];
static ssp_sig g_sig[NKEYS];
static ssp_hash g_h;

static void *verify_worker(void *arg)
{
	long bad = 0;
	(void)arg;
	for (int round = 0; round < 30; round++)
		for (int i = 0; i < NKEYS; i++) {
			int j = (i + round) % NKEYS;
			int rc = ssp_verify_digest(&g_pk[j], &g_h, &g_sig[i]);
			if ((i == j) != (rc == 0)) bad++;
		}
	return (void *)bad;
}

static void test_threads(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_sha256(&g_h, "threads", 7);
	for (int i = 0; i < NKEYS; i++) {
		assert_int_equal(ssp_key_generate(&sk, &g_pk[i], SSP_KEY_P256), 0);
		assert_int_equal(ssp_sign_digest(&g_sig[i], &sk, &g_h), 0);
	}
	ssp_seckey_wipe(&sk);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, verify_worker, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wycheproof),
	    cmocka_unit_test(test_sign_low_s),
	    cmocka_unit_test(test_element_forms),
	    cmocka_unit_test(test_key_a_fails_under_b),
	    cmocka_unit_test(test_sig_ranges),
	    cmocka_unit_test(test_pubkey_validation),
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_domains),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
