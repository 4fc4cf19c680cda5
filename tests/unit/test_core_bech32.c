/*
 * test_core_bech32.c — bech32/bech32m (core layer): the BIP-173 and BIP-350
 * test vectors, a segwit decoder built on our primitives to run the BIPs'
 * address vectors (which exercise convert_bits padding rules), and Smartshare
 * addresses: round trips, HRP checks, corruption, case rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "ssp/core.h"

/* BIP-350: valid Bech32m strings. */
static const char *const BECH32M_VALID[] = {
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
};

/* BIP-350: strings that are not valid Bech32m (nor, for that matter, Bech32). */
static const char *const BECH32M_INVALID[] = {
    "\x20"
    "1xj0phk", /* HRP character out of range */
    "\x7f"
    "1g6xzxy", /* HRP character out of range */
    "\x80"
    "1vctc34", /* HRP character out of range */
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",  /* no separator */
    "1qyrz8wqd2c9m", /* empty HRP */
    "y1b0jsk6g",     /* invalid data character */
    "lt1igcx5c0",    /* invalid data character */
    "in1muywd",      /* too short checksum */
    "mm1crxm3i",     /* invalid character in checksum */
    "au1s5cgom",     /* invalid character in checksum */
    "M1VUXWEZ",      /* checksum calculated with uppercase form of HRP */
    "16plkw9",       /* empty HRP */
    "1p2gdwpf",      /* empty HRP */
};

/* BIP-173: valid Bech32 strings. */
static const char *const BECH32_VALID[] = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
};

/* BIP-173: invalid Bech32 strings. */
static const char *const BECH32_INVALID[] = {
    "\x20"
    "1nwldj5",
    "\x7f"
    "1axkwrx",
    "\x80"
    "1eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    "pzry9x0s0muk",
    "1pzry9x0s0muk",
    "x1b4n0q5v",
    "li1dgmt3",
    "de1lg7wt\xff",
    "A1G7SGD8",
    "10a06t8",
    "1qzzfhee",
};

/* BIP-350: valid segwit addresses and their scriptPubKey. */
static const struct {
	const char *addr, *spk;
} SEGWIT_VALID[] = {
    {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
    {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
     "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
    {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
     "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
    {"BC1SW50QGDZ25J", "6002751e"},
    {"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
    {"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
     "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
    {"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
     "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
};

/* BIP-350: invalid segwit addresses. */
static const char *const SEGWIT_INVALID[] = {
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
    "bc1gmk9yu",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int decode(const char *s, char *hrp, uint8_t *data, size_t *n, int *enc)
{
	return ssp_bech32_decode(hrp, 91, data, n, 90, enc, s);
}

static void test_bech32m_vectors(void **state)
{
	(void)state;
	char hrp[91], re[100], lower[100];
	uint8_t data[90];
	size_t n;
	int enc;
	for (size_t i = 0; i < N_OF(BECH32M_VALID); i++) {
		const char *s = BECH32M_VALID[i];
		assert_int_equal(decode(s, hrp, data, &n, &enc), 0);
		assert_int_equal(enc, SSP_BECH32M);
		/* Re-encoding gives the lower-case form back. */
		assert_int_equal(ssp_bech32_encode(re, sizeof re, hrp, data, n, SSP_BECH32M), 0);
		for (size_t j = 0; j <= strlen(s); j++)
			lower[j] = (s[j] >= 'A' && s[j] <= 'Z') ? (char)(s[j] + 32) : s[j];
		assert_string_equal(re, lower);
	}
	for (size_t i = 0; i < N_OF(BECH32M_INVALID); i++) {
		int rc = decode(BECH32M_INVALID[i], hrp, data, &n, &enc);
		/* Nothing here may decode as bech32m; none is valid bech32 either. */
		if (rc == 0) fail_msg("BIP-350 invalid vector %zu decoded (enc %d)", i, enc);
		assert_int_equal(n, 0);
	}
}

static void test_bech32_vectors(void **state)
{
	(void)state;
	char hrp[91], re[100];
	uint8_t data[90];
	size_t n;
	int enc;
	for (size_t i = 0; i < N_OF(BECH32_VALID); i++) {
		assert_int_equal(decode(BECH32_VALID[i], hrp, data, &n, &enc), 0);
		assert_int_equal(enc, SSP_BECH32);
		assert_int_equal(ssp_bech32_encode(re, sizeof re, hrp, data, n, SSP_BECH32), 0);
		assert_int_equal(strcasecmp(re, BECH32_VALID[i]), 0);
	}
	for (size_t i = 0; i < N_OF(BECH32_INVALID); i++) {
		int rc = decode(BECH32_INVALID[i], hrp, data, &n, &enc);
		if (rc == 0) fail_msg("BIP-173 invalid vector %zu decoded (enc %d)", i, enc);
	}
	/* abcdef1qpzry... carries the values 0..31 in order. */
	assert_int_equal(
	    decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", hrp, data, &n, &enc), 0);
	assert_string_equal(hrp, "abcdef");
	assert_int_equal(n, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(data[i], i);
}

/* BIP-350's segwit address decoder, on top of our bech32 and convert_bits. */
static int segwit_decode(const char *addr, uint8_t *spk, size_t *spklen)
{
	char hrp[91];
	uint8_t data[90], prog[90];
	size_t n, plen;
	int enc;
	if (decode(addr, hrp, data, &n, &enc)) return -1;
	if (strcmp(hrp, "bc") != 0 && strcmp(hrp, "tb") != 0) return -1;
	if (n < 1 || data[0] > 16) return -1;
	if (ssp_convert_bits(prog, &plen, sizeof prog, 8, data + 1, n - 1, 5, 0)) return -1;
	if (plen < 2 || plen > 40) return -1;
	if (data[0] == 0 && plen != 20 && plen != 32) return -1;
	if ((data[0] == 0) != (enc == SSP_BECH32)) return -1;
	spk[0] = (uint8_t)(data[0] ? data[0] + 0x50 : 0);
	spk[1] = (uint8_t)plen;
	memcpy(spk + 2, prog, plen);
	*spklen = plen + 2;
	return 0;
}

static void test_segwit_vectors(void **state)
{
	(void)state;
	uint8_t spk[64], want[64];
	size_t n;
	for (size_t i = 0; i < N_OF(SEGWIT_VALID); i++) {
		size_t wn = strlen(SEGWIT_VALID[i].spk) / 2;
		assert_int_equal(ssp_hex_decode(want, wn, SEGWIT_VALID[i].spk, 2 * wn), 0);
		assert_int_equal(segwit_decode(SEGWIT_VALID[i].addr, spk, &n), 0);
		assert_int_equal(n, wn);
		assert_memory_equal(spk, want, wn);
	}
	for (size_t i = 0; i < N_OF(SEGWIT_INVALID); i++)
		if (segwit_decode(SEGWIT_INVALID[i], spk, &n) == 0)
			fail_msg("BIP-350 invalid address %zu accepted", i);
}

static void test_convert_bits(void **state)
{
	(void)state;
	uint8_t in[3] = {0xff, 0x00, 0xa5}, five[8], back[8];
	size_t n5, n8;
	assert_int_equal(ssp_convert_bits(five, &n5, sizeof five, 5, in, 3, 8, 1), 0);
	assert_int_equal(n5, 5); /* 24 bits -> 5 groups, 1 padding bit */
	assert_int_equal(ssp_convert_bits(back, &n8, sizeof back, 8, five, n5, 5, 0), 0);
	assert_int_equal(n8, 3);
	assert_memory_equal(back, in, 3);
	/* Non-zero padding bit. */
	five[4] |= 1;
	assert_int_equal(ssp_convert_bits(back, &n8, sizeof back, 8, five, n5, 5, 0),
	                 SSP_ERR_NONCANON);
	/* Input value too wide for inbits. */
	uint8_t wide[1] = {32};
	assert_int_equal(ssp_convert_bits(back, &n8, sizeof back, 8, wide, 1, 5, 1),
	                 SSP_ERR_DECODE);
	/* Output capacity. */
	assert_int_equal(ssp_convert_bits(five, &n5, 4, 5, in, 3, 8, 1), SSP_ERR_TOOBIG);
}

static void test_encode_limits(void **state)
{
	(void)state;
	char out[128];
	uint8_t data[90] = {0};
	assert_int_equal(ssp_bech32_encode(out, sizeof out, "a", data, 82, SSP_BECH32M), 0);
	assert_int_equal(strlen(out), 90);
	assert_int_equal(ssp_bech32_encode(out, sizeof out, "a", data, 83, SSP_BECH32M),
	                 SSP_ERR_TOOBIG);
	assert_int_equal(ssp_bech32_encode(out, 10, "a", data, 10, SSP_BECH32M), SSP_ERR_TOOBIG);
	assert_int_equal(ssp_bech32_encode(out, sizeof out, "", data, 1, SSP_BECH32M),
	                 SSP_ERR_INVAL);
	assert_int_equal(ssp_bech32_encode(out, sizeof out, "A", data, 1, SSP_BECH32M),
	                 SSP_ERR_INVAL);
	assert_int_equal(ssp_bech32_encode(out, sizeof out, "a", data, 1, 0), SSP_ERR_INVAL);
	data[0] = 32;
	assert_int_equal(ssp_bech32_encode(out, sizeof out, "a", data, 1, SSP_BECH32M),
	                 SSP_ERR_INVAL);
	/* Decode capacity. */
	char hrp[2];
	uint8_t d[4];
	size_t n;
	int enc;
	assert_int_equal(ssp_bech32_decode(hrp, sizeof hrp, d, &n, sizeof d, &enc,
	                                   "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx"),
	                 SSP_ERR_TOOBIG);
}

/* ------------------------------------------------------------- addresses */

static void test_addr_known(void **state)
{
	(void)state;
	/* Computed with the BIP-350 reference Python code. */
	ssp_addr a, got;
	char s[64];
	memset(&a, 0, sizeof a);
	ssp_addr_encode(s, sizeof s, "ssp", &a);
	assert_string_equal(s, "ssp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq9xtgnw");
	for (int i = 0; i < 20; i++)
		a.b[i] = (uint8_t)i;
	ssp_addr_encode(s, sizeof s, "tssp", &a);
	assert_string_equal(s, "tssp1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnmxnf9m");
	assert_int_equal(ssp_addr_decode(&got, "tssp", s), 0);
	assert_memory_equal(&got, &a, sizeof a);
	memset(&a, 0xff, sizeof a);
	ssp_addr_encode(s, sizeof s, "dssp", &a);
	assert_string_equal(s, "dssp1llllllllllllllllllllllllllllllllv2ddte");
}

static void test_addr_round_trip(void **state)
{
	(void)state;
	const char *nets[] = {"main", "test", "dev"};
	for (int k = 0; k < 3; k++) {
		const char *hrp = ssp_network_hrp(nets[k]);
		assert_non_null(hrp);
		for (int i = 0; i < 50; i++) {
			ssp_addr a, got;
			char s[64];
			ssp_random(a.b, sizeof a.b);
			ssp_addr_encode(s, sizeof s, hrp, &a);
			assert_int_equal(strlen(s), strlen(hrp) + 1 + 32 + 6);
			assert_int_equal(ssp_addr_decode(&got, hrp, s), 0);
			assert_memory_equal(&got, &a, sizeof a);
			assert_int_equal(ssp_addr_decode(&got, NULL, s), 0);
			assert_memory_equal(&got, &a, sizeof a);
		}
	}
	assert_string_equal(ssp_network_hrp("main"), "ssp");
	assert_string_equal(ssp_network_hrp("test"), "tssp");
	assert_string_equal(ssp_network_hrp("dev"), "dssp");
	assert_null(ssp_network_hrp("mainnet"));
	assert_null(ssp_network_hrp(NULL));
}

static void test_addr_errors(void **state)
{
	(void)state;
	ssp_addr a, got;
	char s[64], t[64];
	ssp_random(a.b, sizeof a.b);
	ssp_addr_encode(s, sizeof s, "ssp", &a);

	/* Another network's address. */
	assert_int_equal(ssp_addr_decode(&got, "tssp", s), SSP_ERR_BADHRP);
	ssp_addr_encode(t, sizeof t, "bc", &a);
	assert_int_equal(ssp_addr_decode(&got, NULL, t), SSP_ERR_BADHRP);
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADHRP);

	/* Any single substituted character is caught by the checksum. */
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	size_t len = strlen(s);
	for (size_t i = 4; i < len; i++) {
		strcpy(t, s);
		t[i] = cs[(strchr(cs, s[i]) - cs + 1 + (int)(i % 31)) % 32];
		assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADCHECKSUM);
		assert_true(ssp_addr_is_zero(&got));
	}
	strcpy(t, s);
	t[0] = 't'; /* "tsp": the HRP is covered by the checksum too */
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADCHECKSUM);

	/* Upper case is fine, mixed case is not. */
	for (size_t i = 0; i <= len; i++)
		t[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), 0);
	assert_memory_equal(&got, &a, sizeof a);
	t[0] = 's'; /* "sSP1..." */
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADADDR);

	/* The same 32 groups under a bech32 (not bech32m) checksum. */
	uint8_t d5[32];
	size_t n5;
	assert_int_equal(ssp_convert_bits(d5, &n5, sizeof d5, 5, a.b, 20, 8, 1), 0);
	assert_int_equal(ssp_bech32_encode(t, sizeof t, "ssp", d5, n5, SSP_BECH32), 0);
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADCHECKSUM);

	/* Wrong payload lengths: 19 and 21 bytes, and a version byte in front. */
	uint8_t b21[21] = {0}, d[40];
	size_t n;
	assert_int_equal(ssp_convert_bits(d, &n, sizeof d, 5, b21, 19, 8, 1), 0);
	assert_int_equal(ssp_bech32_encode(t, sizeof t, "ssp", d, n, SSP_BECH32M), 0);
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADADDR);
	assert_int_equal(ssp_convert_bits(d, &n, sizeof d, 5, b21, 21, 8, 1), 0);
	assert_int_equal(ssp_bech32_encode(t, sizeof t, "ssp", d, n, SSP_BECH32M), 0);
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADADDR);
	d[0] = 1;
	memcpy(d + 1, d5, 32);
	assert_int_equal(ssp_bech32_encode(t, sizeof t, "ssp", d, 33, SSP_BECH32M), 0);
	assert_int_equal(ssp_addr_decode(&got, "ssp", t), SSP_ERR_BADADDR);

	/* Garbage. */
	assert_int_equal(ssp_addr_decode(&got, "ssp", ""), SSP_ERR_BADADDR);
	assert_int_equal(ssp_addr_decode(&got, "ssp", "ssp1"), SSP_ERR_BADADDR);
	assert_int_equal(ssp_addr_decode(&got, "ssp", "hello world"), SSP_ERR_BADADDR);
	assert_int_equal(ssp_addr_decode(&got, "ssp", NULL), SSP_ERR_BADADDR);
	char longs[200];
	memset(longs, 'q', sizeof longs - 1);
	longs[sizeof longs - 1] = 0;
	memcpy(longs, "ssp1", 4);
	assert_int_equal(ssp_addr_decode(&got, "ssp", longs), SSP_ERR_BADADDR);
}

static void test_addr_from_pubkey(void **state)
{
	(void)state;
	ssp_pubkey pk;
	ssp_seckey sk;
	ssp_addr a, b;
	ssp_hash h;
	assert_int_equal(ssp_core_init(), 0);
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_ED25519), 0);
	ssp_addr_from_pubkey(&a, &pk);
	uint8_t in[1 + 33];
	in[0] = SSP_KEY_ED25519;
	memcpy(in + 1, pk.b, 32);
	ssp_sha256(&h, in, 33);
	assert_memory_equal(a.b, h.b, 20);
	assert_false(ssp_addr_is_zero(&a));
	/* The type byte is part of the hash. */
	pk.type = SSP_KEY_P256;
	ssp_addr_from_pubkey(&b, &pk);
	assert_memory_not_equal(&a, &b, sizeof a);
	memset(&a, 0, sizeof a);
	assert_true(ssp_addr_is_zero(&a));
	ssp_seckey_wipe(&sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bech32m_vectors),  cmocka_unit_test(test_bech32_vectors),
	    cmocka_unit_test(test_segwit_vectors),   cmocka_unit_test(test_convert_bits),
	    cmocka_unit_test(test_encode_limits),    cmocka_unit_test(test_addr_known),
	    cmocka_unit_test(test_addr_round_trip),  cmocka_unit_test(test_addr_errors),
	    cmocka_unit_test(test_addr_from_pubkey),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
