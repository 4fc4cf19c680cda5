/*
 * test_core_value.c — canonical values (core layer): exact bytes, JSON round
 * trips, key order by encoded bytes, and every rejection of the strict
 * checker (bad tags, truncation, trailing bytes, unsorted or duplicate keys,
 * nil values, bad key types, depth, size) and of the JSON mapping (floats,
 * nulls inside tables, non-UTF-8 strings, key collisions).
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/core.h"

static int enc(const char *json, ssp_buf *b)
{
	json_error_t e;
	json_t *j = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	assert_non_null(j);
	ssp_buf_init(b, 1 << 24);
	int rc = ssp_val_from_json(b, j);
	json_decref(j);
	return rc;
}

static char *dec(const uint8_t *p, size_t n, int *rc)
{
	json_t *j = NULL;
	*rc = ssp_val_to_json(&j, p, n);
	if (*rc) return NULL;
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	json_decref(j);
	return s;
}

static void round_trip(const char *json, const char *want)
{
	ssp_buf b;
	assert_int_equal(enc(json, &b), 0);
	assert_int_equal(ssp_val_check(b.data, b.len), 0);
	int rc;
	char *s = dec(b.data, b.len, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, want ? want : json);
	free(s);
	ssp_buf_free(&b);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip("null", NULL);
	round_trip("true", NULL);
	round_trip("false", NULL);
	round_trip("0", NULL);
	round_trip("-1", NULL);
	round_trip("9223372036854775807", NULL);
	round_trip("-9223372036854775808", NULL);
	round_trip("\"\"", NULL);
	round_trip("\"h\\u00E9llo\\u0000x\"", NULL);
	round_trip("[]", NULL);
	round_trip("[1,2,3]", NULL);
	round_trip("{\"b\":[true,{\"c\":\"d\"}],\"a\":1}", "{\"a\":1,\"b\":[true,{\"c\":\"d\"}]}");
	/* 16 levels of tables is the maximum */
	round_trip("[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", NULL);
	/* arrays longer than 255 keep their order although LE keys sort differently */
	char big[4000] = "[";
	for (int i = 1; i <= 300; i++)
		sprintf(big + strlen(big), "%s%d", i > 1 ? "," : "", i);
	strcat(big, "]");
	round_trip(big, NULL);
}

static void test_exact_bytes(void **state)
{
	(void)state;
	ssp_buf b;
	assert_int_equal(enc("42", &b), 0);
	static const uint8_t i42[] = {3, 42, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(b.len, sizeof i42);
	assert_memory_equal(b.data, i42, sizeof i42);
	ssp_buf_free(&b);
	assert_int_equal(enc("\"ab\"", &b), 0);
	static const uint8_t ab[] = {4, 2, 0, 0, 0, 'a', 'b'};
	assert_int_equal(b.len, sizeof ab);
	assert_memory_equal(b.data, ab, sizeof ab);
	ssp_buf_free(&b);
	/* keys sorted by their encoded bytes: "b" (length 1) before "aa" (length 2) */
	assert_int_equal(enc("{\"aa\":true,\"b\":false}", &b), 0);
	static const uint8_t obj[] = {5,   2, 0, 0, 0, 4, 1, 0,   0,   0,
	                              'b', 1, 4, 2, 0, 0, 0, 'a', 'a', 2};
	assert_int_equal(b.len, sizeof obj);
	assert_memory_equal(b.data, obj, sizeof obj);
	ssp_buf_free(&b);
	/* integer keys first, in little-endian byte order */
	assert_int_equal(enc("[\"x\",\"y\"]", &b), 0);
	static const uint8_t arr[] = {5, 2,   0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0,  0,
	                              0, 'x', 3, 2, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 'y'};
	assert_int_equal(b.len, sizeof arr);
	assert_memory_equal(b.data, arr, sizeof arr);
	ssp_buf_free(&b);
}

static void test_check_rejects(void **state)
{
	(void)state;
	static const uint8_t badtag[] = {6};
	assert_int_equal(ssp_val_check(badtag, 1), SSP_ERR_DECODE);
	assert_int_equal(ssp_val_check(NULL, 0), SSP_ERR_TRUNCATED);
	static const uint8_t trunc[] = {3, 1, 2};
	assert_int_equal(ssp_val_check(trunc, sizeof trunc), SSP_ERR_TRUNCATED);
	static const uint8_t trail[] = {0, 0};
	assert_int_equal(ssp_val_check(trail, sizeof trail), SSP_ERR_TRAILING);
	static const uint8_t strtrunc[] = {4, 5, 0, 0, 0, 'a'};
	assert_int_equal(ssp_val_check(strtrunc, sizeof strtrunc), SSP_ERR_TRUNCATED);
	/* unsorted keys */
	static const uint8_t unsorted[] = {5,   2,   0, 0, 0, 4, 2, 0, 0,   0,
	                                   'a', 'a', 2, 4, 1, 0, 0, 0, 'b', 1};
	assert_int_equal(ssp_val_check(unsorted, sizeof unsorted), SSP_ERR_NONCANON);
	/* duplicate keys */
	static const uint8_t dup[] = {5, 2, 0, 0, 0, 4, 1, 0, 0, 0, 'b', 1, 4, 1, 0, 0, 0, 'b', 2};
	assert_int_equal(ssp_val_check(dup, sizeof dup), SSP_ERR_NONCANON);
	/* a nil value */
	static const uint8_t nilv[] = {5, 1, 0, 0, 0, 4, 1, 0, 0, 0, 'b', 0};
	assert_int_equal(ssp_val_check(nilv, sizeof nilv), SSP_ERR_NONCANON);
	/* boolean, nil and table keys */
	static const uint8_t boolk[] = {5, 1, 0, 0, 0, 2, 1};
	assert_int_equal(ssp_val_check(boolk, sizeof boolk), SSP_ERR_NONCANON);
	static const uint8_t nilk[] = {5, 1, 0, 0, 0, 0, 1};
	assert_int_equal(ssp_val_check(nilk, sizeof nilk), SSP_ERR_NONCANON);
	static const uint8_t tabk[] = {5, 1, 0, 0, 0, 5, 0, 0, 0, 0, 1};
	assert_int_equal(ssp_val_check(tabk, sizeof tabk), SSP_ERR_NONCANON);
	/* a count larger than the bytes left */
	static const uint8_t hugecount[] = {5, 0xff, 0xff, 0xff, 0xff, 3, 0, 0,
	                                    0, 0,    0,    0,    0,    0, 1};
	assert_int_equal(ssp_val_check(hugecount, sizeof hugecount), SSP_ERR_TRUNCATED);
	/* 17 levels */
	uint8_t d17[17 * 14 + 1];
	size_t n = 0;
	for (int i = 0; i < 17; i++) {
		static const uint8_t lvl[] = {5, 1, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0};
		memcpy(d17 + n, lvl, sizeof lvl);
		n += sizeof lvl;
	}
	d17[n++] = 1;
	assert_int_equal(ssp_val_check(d17, n), SSP_ERR_TOOBIG);
	assert_int_equal(ssp_val_check(d17 + 14, n - 14), 0); /* 16 levels pass */
	/* the size cap */
	size_t bign = 5 + 5 * 1024 * 1024;
	uint8_t *big = calloc(1, bign);
	big[0] = 4;
	assert_int_equal(ssp_val_check(big, bign), SSP_ERR_TOOBIG);
	free(big);
}

static void test_json_rejects(void **state)
{
	(void)state;
	ssp_buf b;
	assert_int_equal(enc("1.5", &b), SSP_ERR_INVAL);
	ssp_buf_free(&b);
	assert_int_equal(enc("1.0", &b), SSP_ERR_INVAL);
	ssp_buf_free(&b);
	assert_int_equal(enc("[1, 2.5]", &b), SSP_ERR_INVAL);
	ssp_buf_free(&b);
	assert_int_equal(enc("[1, null]", &b), SSP_ERR_INVAL);
	ssp_buf_free(&b);
	assert_int_equal(enc("{\"a\": null}", &b), SSP_ERR_INVAL);
	ssp_buf_free(&b);
	assert_int_equal(enc("[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", &b), SSP_ERR_TOOBIG);
	ssp_buf_free(&b);
	/* to JSON: a non-UTF-8 string has no JSON form */
	static const uint8_t bin[] = {4, 1, 0, 0, 0, 0xff};
	json_t *j = NULL;
	assert_int_equal(ssp_val_to_json(&j, bin, sizeof bin), SSP_ERR_INVAL);
	/* strict UTF-8 (ssp_utf8_valid): a lone surrogate or an overlong form is refused */
	static const uint8_t surrogate[] = {4, 3, 0, 0, 0, 0xed, 0xa0, 0x80};
	assert_int_equal(ssp_val_to_json(&j, surrogate, sizeof surrogate), SSP_ERR_INVAL);
	static const uint8_t overlong[] = {4, 2, 0, 0, 0, 0xc0, 0xaf};
	assert_int_equal(ssp_val_to_json(&j, overlong, sizeof overlong), SSP_ERR_INVAL);
	/* a string value may hold NUL (JSON writes \u0000); an object key may not */
	static const uint8_t nulstr[] = {4, 3, 0, 0, 0, 'a', 0, 'b'};
	assert_int_equal(ssp_val_to_json(&j, nulstr, sizeof nulstr), 0);
	assert_int_equal(json_string_length(j), 3);
	assert_memory_equal(json_string_value(j), "a\0b", 3);
	json_decref(j);
	static const uint8_t nulkey[] = {5, 1, 0, 0, 0, 4, 3, 0, 0, 0, 'a', 0, 'b', 2};
	assert_int_equal(ssp_val_to_json(&j, nulkey, sizeof nulkey), SSP_ERR_INVAL);
	assert_null(j);
	static const uint8_t badkey[] = {5, 1, 0, 0, 0, 4, 1, 0, 0, 0, 0xff, 2};
	assert_int_equal(ssp_val_to_json(&j, badkey, sizeof badkey), SSP_ERR_INVAL);
	assert_null(j);
	/* mixed and sparse tables become objects; a key collision is refused */
	static const uint8_t mixed[] = {5, 2, 0, 0, 0, 3, 5, 0, 0, 0,   0,
	                                0, 0, 0, 1, 4, 1, 0, 0, 0, 'a', 2};
	int rc;
	char *s = dec(mixed, sizeof mixed, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "{\"5\":false,\"a\":true}");
	free(s);
	static const uint8_t clash[] = {5, 2, 0, 0, 0, 3, 5, 0, 0, 0,   0,
	                                0, 0, 0, 1, 4, 1, 0, 0, 0, '5', 2};
	assert_int_equal(ssp_val_to_json(&j, clash, sizeof clash), SSP_ERR_INVAL);
	assert_null(j);
	/* a malformed value is checked before conversion */
	static const uint8_t unsorted[] = {5,   2,   0, 0, 0, 4, 2, 0, 0,   0,
	                                   'a', 'a', 2, 4, 1, 0, 0, 0, 'b', 1};
	assert_int_equal(ssp_val_to_json(&j, unsorted, sizeof unsorted), SSP_ERR_NONCANON);
	/* the writer's own limit is respected */
	json_t *arr = json_loads("[\"xxxxxxxxxxxxxxxxxxxx\"]", 0, NULL);
	ssp_buf small;
	ssp_buf_init(&small, 8);
	assert_int_equal(ssp_val_from_json(&small, arr), SSP_ERR_TOOBIG);
	ssp_buf_free(&small);
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_exact_bytes),
	    cmocka_unit_test(test_check_rejects),
	    cmocka_unit_test(test_json_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
