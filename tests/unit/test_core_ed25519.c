/*
 * test_core_ed25519.c — Ed25519 keys and signatures (core layer): RFC 8032
 * section 7.1 vectors through our key code, public key validation, and the
 * domain-separated sign/verify round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ssp/core.h"

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(ssp_hex_decode(out, n, hex, strlen(hex)), 0);
}

struct rfc_vector {
	const char *name, *secret, *public, *msg, *sig;
};

/* RFC 8032 section 7.1. The SHA(abc) message is SHA-512("abc"), filled in below. */
static const struct rfc_vector RFC[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
     "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
     "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
     "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", NULL,
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c6"
     "6431e0303dca179c138ac17ad9bef1177331a704"},
};

static int setup(void **state)
{
	(void)state;
	return ssp_core_init();
}

static void test_rfc8032(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof RFC / sizeof RFC[0]; i++) {
		const struct rfc_vector *v = &RFC[i];
		uint8_t seed[32], pub[32], sig[64], got[64], msg[64];
		size_t mlen;
		unhex(seed, 32, v->secret);
		unhex(pub, 32, v->public);
		unhex(sig, 64, v->sig);
		if (v->msg) {
			mlen = strlen(v->msg) / 2;
			unhex(msg, mlen, v->msg);
		} else {
			mlen = crypto_hash_sha512_BYTES;
			crypto_hash_sha512(msg, (const uint8_t *)"abc", 3);
		}

		ssp_seckey sk;
		ssp_pubkey pk, parsed;
		assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_ED25519, seed, 32), 0);
		assert_int_equal(sk.type, SSP_KEY_ED25519);
		assert_int_equal(sk.len, 64);
		assert_int_equal(ssp_key_public(&pk, &sk), 0);
		assert_int_equal(pk.type, SSP_KEY_ED25519);
		assert_int_equal(pk.len, 32);
		assert_memory_equal(pk.b, pub, 32);
		assert_int_equal(ssp_pubkey_parse(&parsed, SSP_KEY_ED25519, pub, 32), 0);
		assert_memory_equal(&parsed, &pk, sizeof pk);

		/* sk.b is libsodium's 64-byte secret key: it must give the exact vector. */
		assert_int_equal(crypto_sign_detached(got, NULL, msg, mlen, sk.b), 0);
		assert_memory_equal(got, sig, 64);
		assert_int_equal(crypto_sign_verify_detached(sig, msg, mlen, pk.b), 0);

		uint8_t raw[32];
		ssp_seckey_raw(&sk, raw);
		assert_memory_equal(raw, seed, 32);

		/* Our digest path: sign and verify, then a flipped bit anywhere fails. */
		ssp_hash h;
		ssp_sig s;
		ssp_sha256(&h, msg, mlen);
		assert_int_equal(ssp_sign_digest(&s, &sk, &h), 0);
		assert_int_equal(ssp_verify_digest(&pk, &h, &s), 0);
		for (int bit = 0; bit < 512; bit += 37) {
			ssp_sig bad = s;
			bad.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(ssp_verify_digest(&pk, &h, &bad), SSP_ERR_BADSIG);
		}
		ssp_hash h2 = h;
		h2.b[0] ^= 0x80;
		assert_int_equal(ssp_verify_digest(&pk, &h2, &s), SSP_ERR_BADSIG);
		ssp_seckey_wipe(&sk);
		assert_int_equal(sk.len, 0);
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	ssp_seckey sk, other;
	ssp_pubkey pk, opk;
	ssp_sig sig;
	const char msg[] = "transfer 5 SSP";
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_ED25519), 0);
	assert_int_equal(ssp_key_generate(&other, &opk, SSP_KEY_ED25519), 0);
	assert_int_equal(ssp_sign(&sig, &sk, SSP_DOM_TX, "ssp-main", msg, sizeof msg), 0);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_TX, "ssp-main", msg, sizeof msg, &sig), 0);
	/* Wrong domain, wrong chain, wrong message, wrong key. */
	assert_int_equal(ssp_verify(&pk, SSP_DOM_BLOCK, "ssp-main", msg, sizeof msg, &sig),
	                 SSP_ERR_BADSIG);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_TX, "ssp-test", msg, sizeof msg, &sig),
	                 SSP_ERR_BADSIG);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_TX, "", msg, sizeof msg, &sig), SSP_ERR_BADSIG);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_TX, "ssp-main", msg, sizeof msg - 1, &sig),
	                 SSP_ERR_BADSIG);
	assert_int_equal(ssp_verify(&opk, SSP_DOM_TX, "ssp-main", msg, sizeof msg, &sig),
	                 SSP_ERR_BADSIG);
	/* Empty message and empty chain id are fine. */
	assert_int_equal(ssp_sign(&sig, &sk, SSP_DOM_ATTEST, "", NULL, 0), 0);
	assert_int_equal(ssp_verify(&pk, SSP_DOM_ATTEST, "", NULL, 0, &sig), 0);
	/* Ed25519 is deterministic. */
	ssp_sig again;
	assert_int_equal(ssp_sign(&again, &sk, SSP_DOM_ATTEST, "", NULL, 0), 0);
	assert_memory_equal(&again, &sig, sizeof sig);
	ssp_seckey_wipe(&sk);
	ssp_seckey_wipe(&other);
}

static void test_digest_layout(void **state)
{
	(void)state;
	/* digest = SHA-256("SSP/tx/v1\0" || u8 len || chain id || msg) */
	ssp_hash got, want;
	ssp_sig_digest(&got, SSP_DOM_TX, "abc", "hello", 5);
	const uint8_t in[] = "SSP/tx/v1\0\003abchello";
	ssp_sha256(&want, in, sizeof in - 1);
	assert_memory_equal(&got, &want, sizeof got);

	/* Moving a byte between chain id and message changes the digest. */
	ssp_hash a, b;
	ssp_sig_digest(&a, SSP_DOM_TX, "ab", "cd", 2);
	ssp_sig_digest(&b, SSP_DOM_TX, "abc", "d", 1);
	assert_memory_not_equal(&a, &b, sizeof a);
	/* Every domain has its own digest. */
	ssp_hash d[5];
	for (int i = 0; i < 5; i++)
		ssp_sig_digest(&d[i], SSP_DOM_TX + i, "c", "m", 1);
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			assert_memory_not_equal(&d[i], &d[j], sizeof d[i]);
}

static void test_pubkey_validation(void **state)
{
	(void)state;
	ssp_pubkey pk;
	uint8_t p[32] = {0};
	/* The identity (0, 1) is small order. */
	p[0] = 1;
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_ED25519, p, 32), SSP_ERR_BADKEY);
	/* All zero: y = 0 is a point of order 4. */
	p[0] = 0;
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_ED25519, p, 32), SSP_ERR_BADKEY);
	/* y = p (2^255 - 19) is a non-canonical encoding. */
	unhex(p, 32, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_ED25519, p, 32), SSP_ERR_BADKEY);
	/* Wrong length. */
	uint8_t ok[32];
	unhex(ok, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_ED25519, ok, 31), SSP_ERR_BADKEY);
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_ED25519, ok, 33), SSP_ERR_BADKEY);
	assert_int_equal(ssp_pubkey_parse(&pk, SSP_KEY_ED25519, ok, 32), 0);
	assert_int_equal(ssp_pubkey_len(SSP_KEY_ED25519), 32);
	assert_int_equal(ssp_pubkey_len(SSP_KEY_P256), 33);
	assert_int_equal(ssp_pubkey_len(9), 0);
}

static void test_seckey_checks(void **state)
{
	(void)state;
	ssp_seckey sk;
	ssp_pubkey pk;
	uint8_t seed[32] = {7};
	assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_ED25519, seed, 31), SSP_ERR_INVAL);
	assert_int_equal(ssp_seckey_from_raw(&sk, 3, seed, 32), SSP_ERR_KEYTYPE);
	assert_int_equal(ssp_seckey_from_raw(&sk, SSP_KEY_ED25519, seed, 32), 0);
	/* A 64-byte sk whose public half does not match its seed is rejected. */
	sk.b[40] ^= 1;
	assert_int_equal(ssp_key_public(&pk, &sk), SSP_ERR_BADKEY);
	assert_int_equal(ssp_key_generate(&sk, &pk, 0), SSP_ERR_KEYTYPE);
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_ED25519), 0);
	ssp_pubkey again;
	assert_int_equal(ssp_key_public(&again, &sk), 0);
	assert_memory_equal(&again, &pk, sizeof pk);
	ssp_seckey_wipe(&sk);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(ssp_key_type_name(SSP_KEY_ED25519), "ed25519");
	assert_string_equal(ssp_key_type_name(SSP_KEY_P256), "p256");
	assert_string_equal(ssp_key_type_name(0), "unknown");
	assert_int_equal(ssp_key_type_parse("ed25519"), SSP_KEY_ED25519);
	assert_int_equal(ssp_key_type_parse("p256"), SSP_KEY_P256);
	assert_int_equal(ssp_key_type_parse("P256"), SSP_ERR_KEYTYPE);
	assert_int_equal(ssp_key_type_parse(""), SSP_ERR_KEYTYPE);
	assert_int_equal(ssp_key_type_parse(NULL), SSP_ERR_KEYTYPE);
	/* Idempotent. */
	assert_int_equal(ssp_core_init(), 0);
	assert_int_equal(ssp_core_init(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc8032),       cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_digest_layout), cmocka_unit_test(test_pubkey_validation),
	    cmocka_unit_test(test_seckey_checks), cmocka_unit_test(test_type_names),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
