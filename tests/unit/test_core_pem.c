/*
 * test_core_pem.c — loading `openssl genpkey` PKCS#8 PEM private keys (core
 * layer). The keys below were generated once with OpenSSL 3.0 and the
 * expected public keys taken from `openssl pkey`/`openssl ec -conv_form
 * compressed`; they are test-only keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/core.h"

/* openssl genpkey -algorithm ed25519 */
static const char ED25519_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIN5+r1k28D5oLbXt/6oFa3AtQim1YdJdhOKjU+x+7JHq\n"
    "-----END PRIVATE KEY-----\n";
static const char ED25519_SEED[] =
    "de7eaf5936f03e682db5edffaa056b702d4229b561d25d84e2a353ec7eec91ea";
static const char ED25519_PUB[] =
    "2d03f70149cf8dcacf5dc2f6a437f020b5411fa2768eb624a26af069648a20d2";

/* openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 */
static const char P256_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWANgaH3SREmxg1qm\n"
                               "9qW4EOSBz3NSYuY3a+eWi1rsZymhRANCAATLDs/cY5XlSFIpWd2bk73xDMqKKob8\n"
                               "p8PD+mhfIGwXgAz1mwgLOKSutnkyhzVt3YN4oCakJ8fkrn60ERVFAV/6\n"
                               "-----END PRIVATE KEY-----\n";
static const char P256_PRIV[] = "580360687dd24449b1835aa6f6a5b810e481cf735262e6376be7968b5aec6729";
static const char P256_PUB[] = "02cb0ecfdc6395e548522959dd9b93bdf10cca8a2a86fca7c3c3fa685f206c1780";

/* A P-256 key whose scalar starts with a zero byte (found by regenerating). */
static const char P256_LZ_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAAQqreOFsiYdRlyk\n"
    "vf/uYUwGbiOqZgMK/XLSvB68JwahRANCAAR0qjc+by4uUP3gmH2lxHNj1FN5jcme\n"
    "1ymHsRta8d7Ipnq6iK/orewU8fjK6NB7LeEnUKfttD7To3M9hjQHg7pD\n"
    "-----END PRIVATE KEY-----\n";
static const char P256_LZ_PRIV[] =
    "00042aade385b2261d465ca4bdffee614c066e23aa66030afd72d2bc1ebc2706";
static const char P256_LZ_PUB[] =
    "0374aa373e6f2e2e50fde0987da5c47363d453798dc99ed72987b11b5af1dec8a6";

/* Keys that must be refused. */
static const char P384_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBGtK2VMIFWe+fgV1ip\n"
                               "fQBpzfN00TkyHx/25GvVEscpmRt1P1vanRzpICJ166IagbahZANiAARz2b935gYa\n"
                               "Sfekj5FiKmNL/a22c2XJWbRRq8hxuWw+zgLW9gXy0rf5z1wdKUSrzkZPhroSG0fg\n"
                               "9u6NwwCAL+vySfeXfv319MNEZOYo7mTW2lr9mPzmcnWQCw4Xb5CquBY=\n"
                               "-----END PRIVATE KEY-----\n";
static const char K1_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgQI0IH5MtjhTW3U5YrFMN\n"
                             "VQr6AVIw3Xv+/NpIDR+EGe+hRANCAAQwDvfnfyk5SnGVPX2LuHdfm/hWd0j7UQrJ\n"
                             "TCWmV2NlCdZVijUEJVriC3eKDH8d54q+o9lSOJylOWyyeCuLyDiE\n"
                             "-----END PRIVATE KEY-----\n";
static const char RSA_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAPJfyaHy026HCjOi\n"
                              "QzQvvAhDcAkcGYxiqLIWRVXIK11iB5lIJ4CKpmZ6pqdWbA1LtUmBNeVKhbtCdlqI\n"
                              "O3JSDva1DZeJB/pS90zcCCef2u2HFOv7gcYhUOpo+q5VzJx//05TVUlihSs5+nUq\n"
                              "CeBmu1zH2LFlT7vxTD6WPNi6C3MvAgMBAAECgYB03Zrra5pnANX6b5LX5uxTT7EF\n"
                              "s3beKfQNao+j/RBrxojDb/ccE76ISztwFEulXYvcFWFXXcd9s1496NJBHS/49Lhc\n"
                              "22Ob+e6orRtmBSfvYF5i2pQYIv+LwVUpH1CiktiQOeuhrGFnv6RiKXZn6TTjWQjP\n"
                              "bz01SJ2XJ8l6lgFqAQJBAPwTu+fU97vuteK+JIpIgb+nmeSYyT4FcUuqB9+aTBVe\n"
                              "bzcOJ90Gl+fppyTUzgp8sBo/MSSGL+Y3ujLLf+steNECQQD2JWXGRFHO0FA8RQ+n\n"
                              "Ju3ZuLvJeHSZeokM+bhQI4WpiJuO5U2oNS1NCrKwG2VSB9+Bj1JukghuecCeSQQK\n"
                              "ZSv/AkBIIF1juEwqOeNRPZa2+ogljo86GX17gZMpUz1tfXjHpH2uAx7k3z4X3YM1\n"
                              "xq4t0f+RgwNMsBiEhu2AGzo+0IQBAkBWUBTZKnnZYLjR+ZGclo0PLLVE16VjcFGA\n"
                              "qEyWZW5oXYvW1tedZVBGVLsGAAVOd45Lezt3pGOqga0mlAoDryh3AkEAx5nBWQgP\n"
                              "tONhShamSzt4k72ylA8QGDbC7P+q9cwMLvXLj0vMk2NE+LIhmUD9huW00cqblzdn\n"
                              "nnAZ3/i4IX4usg==\n"
                              "-----END PRIVATE KEY-----\n";
static const char X25519_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIBhdQ561l6CAFuz2u3i7CBE23Y8QFcuw4xyuq9CoRzRg\n"
    "-----END PRIVATE KEY-----\n";
/* openssl genpkey -algorithm ed25519 -aes-128-cbc: must fail, never prompt. */
static const char ED25519_ENC_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhrpIeecJ5bkwICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEN9EsqDuJcI8FLc8jdvCs+YEQKHt\n"
    "LW28uLfr+oN5EdfIacIsXLIjimHRP7zj9VZPco9DWIytvB1qN0xNZgzXqjq77R5Q\n"
    "0rtPUhvvhsYK8EOWk3o=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(ssp_hex_decode(out, n, hex, strlen(hex)), 0);
}

static int setup(void **state)
{
	(void)state;
	return ssp_core_init();
}

static void check_key(const char *pem, int type, const char *raw_hex, const char *pub_hex)
{
	ssp_seckey sk;
	ssp_pubkey pk;
	uint8_t raw[32], want_raw[32], want_pub[33];
	size_t publen = strlen(pub_hex) / 2;
	unhex(want_raw, 32, raw_hex);
	unhex(want_pub, publen, pub_hex);

	assert_int_equal(ssp_seckey_from_pem(&sk, pem, strlen(pem)), 0);
	assert_int_equal(sk.type, type);
	ssp_seckey_raw(&sk, raw);
	assert_memory_equal(raw, want_raw, 32);
	assert_int_equal(ssp_key_public(&pk, &sk), 0);
	assert_int_equal(pk.len, publen);
	assert_memory_equal(pk.b, want_pub, publen);

	/* The loaded key signs, and the signature checks under the expected key. */
	ssp_pubkey expected;
	ssp_sig sig;
	assert_int_equal(ssp_pubkey_parse(&expected, type, want_pub, publen), 0);
	assert_int_equal(ssp_sign(&sig, &sk, SSP_DOM_ATTEST, "dev", "pem", 3), 0);
	assert_int_equal(ssp_verify(&expected, SSP_DOM_ATTEST, "dev", "pem", 3, &sig), 0);
	ssp_seckey_wipe(&sk);
}

static void test_ed25519(void **state)
{
	(void)state;
	check_key(ED25519_PEM, SSP_KEY_ED25519, ED25519_SEED, ED25519_PUB);
}

static void test_p256(void **state)
{
	(void)state;
	check_key(P256_PEM, SSP_KEY_P256, P256_PRIV, P256_PUB);
	check_key(P256_LZ_PEM, SSP_KEY_P256, P256_LZ_PRIV, P256_LZ_PUB);
}

static void expect_pem_err(const char *pem, size_t n)
{
	ssp_seckey sk;
	memset(&sk, 0x55, sizeof sk);
	assert_int_equal(ssp_seckey_from_pem(&sk, pem, n), SSP_ERR_PEM);
	static const ssp_seckey zero;
	assert_memory_equal(&sk, &zero, sizeof sk);
}

static void test_rejected(void **state)
{
	(void)state;
	expect_pem_err(P384_PEM, strlen(P384_PEM));
	expect_pem_err(K1_PEM, strlen(K1_PEM));
	expect_pem_err(RSA_PEM, strlen(RSA_PEM));
	expect_pem_err(X25519_PEM, strlen(X25519_PEM));
	expect_pem_err(ED25519_ENC_PEM, strlen(ED25519_ENC_PEM));
	expect_pem_err("", 0);
	expect_pem_err("not a pem", 9);
	expect_pem_err(NULL, 0);
	/* Truncated and damaged. */
	expect_pem_err(P256_PEM, strlen(P256_PEM) / 2);
	char bad[sizeof P256_PEM];
	memcpy(bad, P256_PEM, sizeof bad);
	bad[40] = bad[40] == 'A' ? 'B' : 'A';
	bad[41] = bad[41] == 'A' ? 'B' : 'A';
	ssp_seckey sk;
	int rc = ssp_seckey_from_pem(&sk, bad, strlen(bad));
	/* Either the DER breaks or a different valid scalar results; never the original. */
	if (rc == 0) {
		uint8_t raw[32], orig[32];
		ssp_seckey_raw(&sk, raw);
		unhex(orig, 32, P256_PRIV);
		assert_memory_not_equal(raw, orig, 32);
		ssp_seckey_wipe(&sk);
	} else {
		assert_int_equal(rc, SSP_ERR_PEM);
	}
	/* The length bounds what is read: a PEM cut by n is not read past n. */
	expect_pem_err(ED25519_PEM, strlen(ED25519_PEM) - 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ed25519),
	    cmocka_unit_test(test_p256),
	    cmocka_unit_test(test_rejected),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
