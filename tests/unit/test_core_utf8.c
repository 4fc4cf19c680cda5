/*
 * test_core_utf8.c — the strict UTF-8 validator (core layer). Markus Kuhn's
 * "UTF-8 decoder capability and stress test" (UTF-8-test.txt, sections 1 to
 * 5, numbered as there) written out as byte strings, the RFC 3629 boundary
 * table, the NUL and control-character flags, and exhaustive checks: every
 * code point encoded by an independent encoder, and every string of up to
 * three bytes counted against the number RFC 3629 allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/core.h"

typedef struct {
	const char *id; /* Kuhn's section number */
	const char *s;
	size_t n; /* 0: strlen(s) */
	bool valid;
} vec;

#define V(id, lit, ok)                       \
	{                                    \
		id, lit, sizeof(lit) - 1, ok \
	}

/* Sections 1 to 5 of UTF-8-test.txt; "valid" is RFC 3629's verdict. */
static const vec KUHN[] = {
    /* 1 Some correct UTF-8 text: the Greek word "kosme" */
    V("1", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true),
    /* 2.1 First possible sequence of a certain length (2.1.1 U+0000: see test_nul) */
    V("2.1.2", "\xc2\x80", true),
    V("2.1.3", "\xe0\xa0\x80", true),
    V("2.1.4", "\xf0\x90\x80\x80", true),
    V("2.1.5", "\xf8\x88\x80\x80\x80", false),
    V("2.1.6", "\xfc\x84\x80\x80\x80\x80", false),
    /* 2.2 Last possible sequence of a certain length */
    V("2.2.1", "\x7f", true),
    V("2.2.2", "\xdf\xbf", true),
    V("2.2.3", "\xef\xbf\xbf", true),
    V("2.2.4", "\xf7\xbf\xbf\xbf", false), /* U+1FFFFF is above U+10FFFF */
    V("2.2.5", "\xfb\xbf\xbf\xbf\xbf", false),
    V("2.2.6", "\xfd\xbf\xbf\xbf\xbf\xbf", false),
    /* 2.3 Other boundary conditions */
    V("2.3.1", "\xed\x9f\xbf", true),
    V("2.3.2", "\xee\x80\x80", true),
    V("2.3.3", "\xef\xbf\xbd", true),
    V("2.3.4", "\xf4\x8f\xbf\xbf", true),
    V("2.3.5", "\xf4\x90\x80\x80", false),
    /* 3.1 Unexpected continuation bytes (3.1.9: see test_lonely_bytes) */
    V("3.1.1", "\x80", false),
    V("3.1.2", "\xbf", false),
    V("3.1.3", "\x80\xbf", false),
    V("3.1.4", "\x80\xbf\x80", false),
    V("3.1.5", "\x80\xbf\x80\xbf", false),
    V("3.1.6", "\x80\xbf\x80\xbf\x80", false),
    V("3.1.7", "\x80\xbf\x80\xbf\x80\xbf", false),
    V("3.1.8", "\x80\xbf\x80\xbf\x80\xbf\x80", false),
    /* 3.2 Lonely start characters: see test_lonely_bytes */
    /* 3.3 Sequences with the last continuation byte missing */
    V("3.3.1", "\xc0", false),
    V("3.3.2", "\xe0\x80", false),
    V("3.3.3", "\xf0\x80\x80", false),
    V("3.3.4", "\xf8\x80\x80\x80", false),
    V("3.3.5", "\xfc\x80\x80\x80\x80", false),
    V("3.3.6", "\xdf", false),
    V("3.3.7", "\xef\xbf", false),
    V("3.3.8", "\xf7\xbf\xbf", false),
    V("3.3.9", "\xfb\xbf\xbf\xbf", false),
    V("3.3.10", "\xfd\xbf\xbf\xbf\xbf", false),
    /* 3.4 Concatenation of the incomplete sequences of 3.3 */
    V("3.4",
      "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80"
      "\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf",
      false),
    /* 3.5 Impossible bytes */
    V("3.5.1", "\xfe", false),
    V("3.5.2", "\xff", false),
    V("3.5.3", "\xfe\xfe\xff\xff", false),
    /* 4.1 Overlong forms of U+002F */
    V("4.1.1", "\xc0\xaf", false),
    V("4.1.2", "\xe0\x80\xaf", false),
    V("4.1.3", "\xf0\x80\x80\xaf", false),
    V("4.1.4", "\xf8\x80\x80\x80\xaf", false),
    V("4.1.5", "\xfc\x80\x80\x80\x80\xaf", false),
    /* 4.2 Maximum overlong sequences */
    V("4.2.1", "\xc1\xbf", false),
    V("4.2.2", "\xe0\x9f\xbf", false),
    V("4.2.3", "\xf0\x8f\xbf\xbf", false),
    V("4.2.4", "\xf8\x87\xbf\xbf\xbf", false),
    V("4.2.5", "\xfc\x83\xbf\xbf\xbf\xbf", false),
    /* 4.3 Overlong forms of NUL (never valid, whatever the flags) */
    V("4.3.1", "\xc0\x80", false),
    V("4.3.2", "\xe0\x80\x80", false),
    V("4.3.3", "\xf0\x80\x80\x80", false),
    V("4.3.4", "\xf8\x80\x80\x80\x80", false),
    V("4.3.5", "\xfc\x80\x80\x80\x80\x80", false),
    /* 5.1 Single UTF-16 surrogates */
    V("5.1.1", "\xed\xa0\x80", false),
    V("5.1.2", "\xed\xad\xbf", false),
    V("5.1.3", "\xed\xae\x80", false),
    V("5.1.4", "\xed\xaf\xbf", false),
    V("5.1.5", "\xed\xb0\x80", false),
    V("5.1.6", "\xed\xbe\x80", false),
    V("5.1.7", "\xed\xbf\xbf", false),
    /* 5.2 Paired UTF-16 surrogates (CESU-8) */
    V("5.2.1", "\xed\xa0\x80\xed\xb0\x80", false),
    V("5.2.2", "\xed\xa0\x80\xed\xbf\xbf", false),
    V("5.2.3", "\xed\xad\xbf\xed\xb0\x80", false),
    V("5.2.4", "\xed\xad\xbf\xed\xbf\xbf", false),
    V("5.2.5", "\xed\xae\x80\xed\xb0\x80", false),
    V("5.2.6", "\xed\xae\x80\xed\xbf\xbf", false),
    V("5.2.7", "\xed\xaf\xbf\xed\xb0\x80", false),
    V("5.2.8", "\xed\xaf\xbf\xed\xbf\xbf", false),
    /* 5.3 Noncharacters are Unicode scalar values: valid UTF-8 */
    V("5.3.1", "\xef\xbf\xbe", true),
    V("5.3.2", "\xef\xbf\xbf", true),
    V("5.3.3", "\xef\xb7\x90", true),     /* U+FDD0 */
    V("5.3.3b", "\xef\xb7\xaf", true),    /* U+FDEF */
    V("5.3.4", "\xf0\x9f\xbf\xbe", true), /* U+1FFFE */
    V("5.3.4b", "\xf4\x8f\xbf\xbe", true),
};

static void test_kuhn(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof KUHN / sizeof KUHN[0]; i++) {
		const vec *v = &KUHN[i];
		unsigned flags[] = {0, SSP_UTF8_NUL, SSP_UTF8_NOCTRL};
		for (size_t f = 0; f < 3; f++) {
			/* 2.2.1 is DEL, a control */
			bool want = v->valid &&
			            !(flags[f] == SSP_UTF8_NOCTRL && !strcmp(v->id, "2.2.1")) &&
			            !(flags[f] == SSP_UTF8_NOCTRL && !strcmp(v->id, "2.1.2"));
			if (ssp_utf8_valid(v->s, v->n, flags[f]) != want)
				fail_msg("Kuhn %s, flags %u: expected %s", v->id, flags[f],
				         want ? "valid" : "invalid");
			/* the same bytes between ASCII text */
			char buf[64];
			assert_true(v->n + 2 <= sizeof buf);
			buf[0] = 'a';
			memcpy(buf + 1, v->s, v->n);
			buf[v->n + 1] = 'z';
			if (ssp_utf8_valid(buf, v->n + 2, flags[f]) != want)
				fail_msg("Kuhn %s between ASCII, flags %u", v->id, flags[f]);
		}
	}
}

/* 3.1.9 every continuation byte alone; 3.2 every lead byte followed by a space. */
static void test_lonely_bytes(void **state)
{
	(void)state;
	for (unsigned b = 0x80; b <= 0xbf; b++) {
		uint8_t s[1] = {(uint8_t)b};
		assert_false(ssp_utf8_valid(s, 1, SSP_UTF8_NUL));
	}
	for (unsigned b = 0xc0; b <= 0xff; b++) {
		uint8_t s[2] = {(uint8_t)b, ' '};
		assert_false(ssp_utf8_valid(s, 2, SSP_UTF8_NUL));
		assert_false(ssp_utf8_valid(s, 1, SSP_UTF8_NUL));
	}
}

static void test_nul(void **state)
{
	(void)state;
	/* Kuhn 2.1.1: U+0000 is one byte; whether it is text is the caller's decision */
	assert_false(ssp_utf8_valid("\0", 1, 0));
	assert_true(ssp_utf8_valid("\0", 1, SSP_UTF8_NUL));
	assert_false(ssp_utf8_valid("\0", 1, SSP_UTF8_NUL | SSP_UTF8_NOCTRL));
	assert_false(ssp_utf8_valid("ABC\0x", 5, 0));
	assert_true(ssp_utf8_valid("ABC\0x", 5, SSP_UTF8_NUL));
	assert_false(ssp_utf8_valid("\xc3\xa9\0", 3, 0));
	/* empty text is valid; NULL is allowed with n == 0 */
	assert_true(ssp_utf8_valid("", 0, 0));
	assert_true(ssp_utf8_valid(NULL, 0, SSP_UTF8_NOCTRL));
}

static void test_controls(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t n;
		bool ctrl;
	} c[] = {
	    {"\x01", 1, true},          {"\t", 1, true},        {"\n", 1, true},
	    {"\x1f", 1, true},          {" ", 1, false},        {"~", 1, false},
	    {"\x7f", 1, true},          {"\xc2\x80", 2, true},  {"\xc2\x85", 2, true},
	    {"\xc2\x9f", 2, true},      {"\xc2\xa0", 2, false}, {"\xe2\x80\xa8", 3, false},
	    {"\xef\xbb\xbf", 3, false},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		assert_true(ssp_utf8_valid(c[i].s, c[i].n, 0));
		assert_int_equal(ssp_utf8_valid(c[i].s, c[i].n, SSP_UTF8_NOCTRL), !c[i].ctrl);
		assert_int_equal(ssp_utf8_valid(c[i].s, c[i].n, SSP_UTF8_NOCTRL | SSP_UTF8_NUL),
		                 !c[i].ctrl);
	}
}

/* RFC 3629 section 3, written independently of the validator. */
static size_t encode(uint8_t *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every code point up to 0x1FFFFF: valid iff a scalar value; each cut short is invalid. */
static void test_every_code_point(void **state)
{
	(void)state;
	for (uint32_t cp = 0; cp <= 0x1fffff; cp++) {
		uint8_t b[4];
		size_t n = encode(b, cp);
		bool scalar = cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
		if (ssp_utf8_valid(b, n, SSP_UTF8_NUL) != scalar) fail_msg("U+%04X", (unsigned)cp);
		for (size_t k = 1; k < n; k++)
			if (ssp_utf8_valid(b, k, SSP_UTF8_NUL))
				fail_msg("U+%04X cut to %zu", (unsigned)cp, k);
	}
}

/*
 * Every byte string of length 1, 2 and 3, counted: with A = 128 one-byte,
 * B = 1920 two-byte and C = 61440 three-byte encodings (65536 - 2048 - 2048
 * surrogates), the valid strings number A, A^2 + B and A^3 + 2AB + C.
 */
static void test_exhaustive_short(void **state)
{
	(void)state;
	const uint64_t A = 128, B = 1920, C = 61440;
	uint64_t n1 = 0, n2 = 0, n3 = 0;
	uint8_t s[3];
	for (unsigned x = 0; x < 256; x++) {
		s[0] = (uint8_t)x;
		n1 += ssp_utf8_valid(s, 1, SSP_UTF8_NUL);
		for (unsigned y = 0; y < 256; y++) {
			s[1] = (uint8_t)y;
			n2 += ssp_utf8_valid(s, 2, SSP_UTF8_NUL);
			for (unsigned z = 0; z < 256; z++) {
				s[2] = (uint8_t)z;
				n3 += ssp_utf8_valid(s, 3, SSP_UTF8_NUL);
			}
		}
	}
	assert_int_equal(n1, A);
	assert_int_equal(n2, A * A + B);
	assert_int_equal(n3, A * A * A + 2 * A * B + C);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kuhn),
	    cmocka_unit_test(test_lonely_bytes),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_every_code_point),
	    cmocka_unit_test(test_exhaustive_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
