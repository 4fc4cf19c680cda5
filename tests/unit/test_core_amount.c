/*
 * test_core_amount.c — decimal amount parsing and formatting (core layer):
 * table tests over the strict grammar, the u64 range and the total supply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/core.h"

struct parse_case {
	const char *in;
	unsigned decimals;
	int rc;
	uint64_t want;
};

static const struct parse_case PARSE[] = {
    {"0", 8, 0, 0},
    {"1", 8, 0, 100000000ULL},
    {"12.5", 8, 0, 1250000000ULL},
    {"0.5", 8, 0, 50000000ULL},
    {"0.00000001", 8, 0, 1},
    {"1.50000000", 8, 0, 150000000ULL},
    {"100", 8, 0, 10000000000ULL},
    {"10000000000", 8, 0, SSP_TOTAL_SUPPLY}, /* the whole supply: 1e18 units */
    {"184467440737.09551615", 8, 0, UINT64_MAX},
    {"18446744073709551615", 0, 0, UINT64_MAX},
    {"1.8446744073709551615", 19, 0, UINT64_MAX},
    {"0.0000000000000000001", 19, 0, 1},
    {"42", 0, 0, 42},
    {"184467440737.09551616", 8, SSP_ERR_OVERFLOW, 0}, /* UINT64_MAX + 1 */
    {"184467440738", 8, SSP_ERR_OVERFLOW, 0},
    {"18446744073709551616", 0, SSP_ERR_OVERFLOW, 0},
    {"99999999999999999999999999", 8, SSP_ERR_OVERFLOW, 0},
    {"1.8446744073709551616", 19, SSP_ERR_OVERFLOW, 0},
    {"0.000000001", 8, SSP_ERR_BADAMOUNT, 0}, /* 9 decimals */
    {"1.000000000", 8, SSP_ERR_BADAMOUNT, 0}, /* 9 decimals, even if zeros */
    {"1.0", 0, SSP_ERR_BADAMOUNT, 0},
    {"", 8, SSP_ERR_BADAMOUNT, 0},
    {".", 8, SSP_ERR_BADAMOUNT, 0},
    {"1.", 8, SSP_ERR_BADAMOUNT, 0},
    {".5", 8, SSP_ERR_BADAMOUNT, 0},
    {"+1", 8, SSP_ERR_BADAMOUNT, 0},
    {"-1", 8, SSP_ERR_BADAMOUNT, 0},
    {"1e5", 8, SSP_ERR_BADAMOUNT, 0},
    {"1E5", 8, SSP_ERR_BADAMOUNT, 0},
    {" 1", 8, SSP_ERR_BADAMOUNT, 0},
    {"1 ", 8, SSP_ERR_BADAMOUNT, 0},
    {"1\n", 8, SSP_ERR_BADAMOUNT, 0},
    {"01", 8, SSP_ERR_BADAMOUNT, 0},
    {"00", 8, SSP_ERR_BADAMOUNT, 0},
    {"00.5", 8, SSP_ERR_BADAMOUNT, 0},
    {"1,5", 8, SSP_ERR_BADAMOUNT, 0},
    {"1.2.3", 8, SSP_ERR_BADAMOUNT, 0},
    {"1..2", 8, SSP_ERR_BADAMOUNT, 0},
    {"0x10", 8, SSP_ERR_BADAMOUNT, 0},
    {"abc", 8, SSP_ERR_BADAMOUNT, 0},
    {"1_000", 8, SSP_ERR_BADAMOUNT, 0},
    {"NaN", 8, SSP_ERR_BADAMOUNT, 0},
    {"inf", 8, SSP_ERR_BADAMOUNT, 0},
    {"1.-5", 8, SSP_ERR_BADAMOUNT, 0},
    {"１", 8, SSP_ERR_BADAMOUNT, 0}, /* full-width digit one (UTF-8) */
    {"1", 20, SSP_ERR_INVAL, 0},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof PARSE / sizeof PARSE[0]; i++) {
		const struct parse_case *c = &PARSE[i];
		uint64_t v = 12345;
		int rc = ssp_amount_parse(&v, c->in, c->decimals);
		if (rc != c->rc)
			fail_msg("parse(\"%s\", %u) = %s, want %s", c->in, c->decimals,
			         ssp_errname(rc), ssp_errname(c->rc));
		if (v != c->want)
			fail_msg("parse(\"%s\", %u) gave %llu, want %llu", c->in, c->decimals,
			         (unsigned long long)v, (unsigned long long)c->want);
	}
	uint64_t v;
	assert_int_equal(ssp_amount_parse(&v, NULL, 8), SSP_ERR_BADAMOUNT);
}

struct format_case {
	uint64_t v;
	unsigned decimals;
	const char *want;
};

static const struct format_case FORMAT[] = {
    {0, 8, "0"},
    {1, 8, "0.00000001"},
    {10, 8, "0.0000001"},
    {50000000ULL, 8, "0.5"},
    {100000000ULL, 8, "1"},
    {1250000000ULL, 8, "12.5"},
    {10000000000ULL, 8, "100"},
    {123456789ULL, 8, "1.23456789"},
    {SSP_TOTAL_SUPPLY, 8, "10000000000"},
    {UINT64_MAX, 8, "184467440737.09551615"},
    {UINT64_MAX, 0, "18446744073709551615"},
    {UINT64_MAX, 19, "1.8446744073709551615"},
    {1, 19, "0.0000000000000000001"},
    {42, 0, "42"},
    {1200, 2, "12"},
    {1205, 2, "12.05"},
};

static void test_format_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof FORMAT / sizeof FORMAT[0]; i++) {
		const struct format_case *c = &FORMAT[i];
		char out[SSP_AMOUNT_STR];
		ssp_amount_format(out, sizeof out, c->v, c->decimals);
		assert_string_equal(out, c->want);
		/* And back: format output is always valid parse input. */
		uint64_t v;
		assert_int_equal(ssp_amount_parse(&v, out, c->decimals), 0);
		assert_int_equal(v, c->v);
	}
	/* A short buffer truncates but stays terminated. */
	char small[4];
	ssp_amount_format(small, sizeof small, 1250000000ULL, 8);
	assert_string_equal(small, "12.");
}

static void test_round_trip_random(void **state)
{
	(void)state;
	for (int i = 0; i < 2000; i++) {
		uint64_t v, back;
		char out[SSP_AMOUNT_STR];
		ssp_random(&v, sizeof v);
		v >>= (unsigned)(i % 64); /* all magnitudes */
		unsigned d = (unsigned)(i % 20);
		ssp_amount_format(out, sizeof out, v, d);
		assert_true(strlen(out) < SSP_AMOUNT_STR);
		assert_int_equal(ssp_amount_parse(&back, out, d), 0);
		assert_int_equal(back, v);
	}
}

static void test_checked_math(void **state)
{
	(void)state;
	uint64_t r = 7;
	assert_int_equal(ssp_add_u64(&r, UINT64_MAX, 1), SSP_ERR_OVERFLOW);
	assert_int_equal(r, 7);
	assert_int_equal(ssp_sub_u64(&r, 1, 2), SSP_ERR_OVERFLOW);
	assert_int_equal(r, 7);
	assert_int_equal(ssp_mul_u64(&r, 1ULL << 32, 1ULL << 32), SSP_ERR_OVERFLOW);
	assert_int_equal(r, 7);
	assert_int_equal(ssp_mul_u64(&r, SSP_COIN, 10000000000ULL), 0);
	assert_int_equal(r, SSP_TOTAL_SUPPLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_format_table),
	    cmocka_unit_test(test_round_trip_random),
	    cmocka_unit_test(test_checked_math),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
