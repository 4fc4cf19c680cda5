/*
 * test_core_enc.c — the canonical binary encoding (core layer): exact byte
 * layout, round trips, truncation, trailing bytes, non-canonical booleans,
 * length limits, sticky errors and writer poisoning; plus hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/core.h"

/* One record of every kind, as a transaction encoder would write it. */
static void write_record(ssp_buf *b)
{
	ssp_buf_u8(b, 0xab);
	ssp_buf_u16(b, 0x1234);
	ssp_buf_u32(b, 0xdeadbeef);
	ssp_buf_u64(b, 0x0102030405060708ULL);
	ssp_buf_u8(b, 1); /* a bool */
	ssp_buf_bytes(b, "hello", 5);
	ssp_buf_bytes(b, "", 0);
	ssp_buf_put(b, "RAW", 3);
}

static const uint8_t RECORD[] = {
    0xab,                                                /* u8 */
    0x34, 0x12,                                          /* u16 LE */
    0xef, 0xbe, 0xad, 0xde,                              /* u32 LE */
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,      /* u64 LE */
    0x01,                                                /* bool */
    0x05, 0x00, 0x00, 0x00, 'h',  'e',  'l',  'l',  'o', /* bytes */
    0x00, 0x00, 0x00, 0x00,                              /* empty bytes */
    'R',  'A',  'W',                                     /* raw */
};

/* Reads the record back; returns ssp_rd_end's verdict. */
static int read_record(const uint8_t *p, size_t n, int check_values)
{
	ssp_rd r;
	size_t blen, elen;
	char raw[3];
	ssp_rd_init(&r, p, n);
	uint8_t a = ssp_rd_u8(&r);
	uint16_t b = ssp_rd_u16(&r);
	uint32_t c = ssp_rd_u32(&r);
	uint64_t d = ssp_rd_u64(&r);
	int e = ssp_rd_bool(&r);
	const uint8_t *s = ssp_rd_bytes(&r, 16, &blen);
	const uint8_t *empty = ssp_rd_bytes(&r, 16, &elen);
	ssp_rd_raw(&r, raw, 3);
	if (check_values) {
		assert_int_equal(a, 0xab);
		assert_int_equal(b, 0x1234);
		assert_int_equal(c, 0xdeadbeef);
		assert_true(d == 0x0102030405060708ULL);
		assert_int_equal(e, 1);
		assert_non_null(s);
		assert_int_equal(blen, 5);
		assert_memory_equal(s, "hello", 5);
		assert_ptr_equal(s, p + 20); /* borrowed, not copied */
		assert_non_null(empty);
		assert_int_equal(elen, 0);
		assert_memory_equal(raw, "RAW", 3);
	}
	return ssp_rd_end(&r);
}

static void test_layout_and_round_trip(void **state)
{
	(void)state;
	ssp_buf b;
	ssp_buf_init(&b, 1024);
	write_record(&b);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, sizeof RECORD);
	assert_memory_equal(b.data, RECORD, sizeof RECORD);
	assert_int_equal(read_record(b.data, b.len, 1), 0);

	size_t n;
	uint8_t *p = ssp_buf_take(&b, &n);
	assert_non_null(p);
	assert_int_equal(n, sizeof RECORD);
	assert_memory_equal(p, RECORD, n);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);

	/* Extremes survive a round trip. */
	ssp_buf_u64(&b, UINT64_MAX);
	ssp_buf_u64(&b, 0);
	ssp_buf_u32(&b, UINT32_MAX);
	ssp_buf_u16(&b, UINT16_MAX);
	ssp_rd r;
	ssp_rd_init(&r, b.data, b.len);
	assert_true(ssp_rd_u64(&r) == UINT64_MAX);
	assert_true(ssp_rd_u64(&r) == 0);
	assert_true(ssp_rd_u32(&r) == UINT32_MAX);
	assert_true(ssp_rd_u16(&r) == UINT16_MAX);
	assert_int_equal(ssp_rd_end(&r), 0);

	/* reset keeps the memory and clears len and err. */
	ssp_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.err, 0);
	assert_non_null(b.data);
	ssp_buf_free(&b);
	assert_null(b.data);

	/* An empty buffer still hands out a pointer. */
	ssp_buf_init(&b, 8);
	p = ssp_buf_take(&b, &n);
	assert_non_null(p);
	assert_int_equal(n, 0);
	free(p);
}

static void test_truncated(void **state)
{
	(void)state;
	/* Every proper prefix of the record is TRUNCATED, never a success or a crash. */
	for (size_t cut = 0; cut < sizeof RECORD; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees overreads */
		assert_non_null(copy);
		memcpy(copy, RECORD, cut);
		assert_int_equal(read_record(copy, cut, 0), SSP_ERR_TRUNCATED);
		free(copy);
	}
	/* A length prefix pointing past the end. */
	const uint8_t lie[] = {0x10, 0, 0, 0, 'a', 'b'};
	ssp_rd r;
	size_t n = 99;
	ssp_rd_init(&r, lie, sizeof lie);
	assert_null(ssp_rd_bytes(&r, 100, &n));
	assert_int_equal(n, 0);
	assert_int_equal(ssp_rd_end(&r), SSP_ERR_TRUNCATED);
	/* Failed raw reads zero their output. */
	char out[4] = "zzz";
	ssp_rd_init(&r, "ab", 2);
	ssp_rd_raw(&r, out, 4);
	assert_memory_equal(out, "\0\0\0\0", 4);
	assert_int_equal(r.err, SSP_ERR_TRUNCATED);
}

static void test_trailing(void **state)
{
	(void)state;
	uint8_t longer[sizeof RECORD + 1];
	memcpy(longer, RECORD, sizeof RECORD);
	longer[sizeof RECORD] = 0;
	assert_int_equal(read_record(longer, sizeof longer, 1), SSP_ERR_TRAILING);
	ssp_rd r;
	ssp_rd_init(&r, "x", 1);
	assert_int_equal(ssp_rd_end(&r), SSP_ERR_TRAILING);
	ssp_rd_init(&r, "", 0);
	assert_int_equal(ssp_rd_end(&r), 0);
}

static void test_bool(void **state)
{
	(void)state;
	const uint8_t v[] = {0, 1, 2, 0xff};
	ssp_rd r;
	ssp_rd_init(&r, v, 1);
	assert_int_equal(ssp_rd_bool(&r), 0);
	assert_int_equal(ssp_rd_end(&r), 0);
	ssp_rd_init(&r, v + 1, 1);
	assert_int_equal(ssp_rd_bool(&r), 1);
	assert_int_equal(ssp_rd_end(&r), 0);
	ssp_rd_init(&r, v + 2, 1);
	(void)ssp_rd_bool(&r);
	assert_int_equal(ssp_rd_end(&r), SSP_ERR_NONCANON);
	ssp_rd_init(&r, v + 3, 1);
	(void)ssp_rd_bool(&r);
	assert_int_equal(r.err, SSP_ERR_NONCANON);
}

static void test_bytes_max(void **state)
{
	(void)state;
	ssp_buf b;
	ssp_buf_init(&b, 64);
	ssp_buf_bytes(&b, "0123456789", 10);
	ssp_rd r;
	size_t n = 99;
	ssp_rd_init(&r, b.data, b.len);
	assert_null(ssp_rd_bytes(&r, 9, &n));
	assert_int_equal(n, 0);
	assert_int_equal(ssp_rd_end(&r), SSP_ERR_TOOBIG);
	ssp_rd_init(&r, b.data, b.len);
	assert_non_null(ssp_rd_bytes(&r, 10, &n));
	assert_int_equal(n, 10);
	assert_int_equal(ssp_rd_end(&r), 0);
	/* A huge declared length is TOOBIG before any bounds arithmetic. */
	const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
	ssp_rd_init(&r, huge, sizeof huge);
	assert_null(ssp_rd_bytes(&r, 1 << 20, &n));
	assert_int_equal(r.err, SSP_ERR_TOOBIG);
	ssp_buf_free(&b);
}

static void test_sticky_reader(void **state)
{
	(void)state;
	const uint8_t v[] = {2, 7, 7, 7, 7, 7, 7, 7, 7};
	ssp_rd r;
	ssp_rd_init(&r, v, sizeof v);
	(void)ssp_rd_bool(&r); /* NONCANON */
	/* Later reads return zero and the first error stays. */
	assert_true(ssp_rd_u64(&r) == 0);
	assert_int_equal(ssp_rd_u8(&r), 0);
	assert_null(ssp_rd_view(&r, 1));
	assert_int_equal(ssp_rd_end(&r), SSP_ERR_NONCANON);

	ssp_rd_init(&r, v, 3);
	assert_true(ssp_rd_u32(&r) == 0);   /* TRUNCATED */
	assert_int_equal(ssp_rd_u8(&r), 0); /* would fit, but the reader is dead */
	assert_int_equal(r.off, 0);
	assert_int_equal(ssp_rd_end(&r), SSP_ERR_TRUNCATED);
}

static void test_writer_poison(void **state)
{
	(void)state;
	ssp_buf b;
	ssp_buf_init(&b, 10);
	ssp_buf_u64(&b, 1);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 8);
	ssp_buf_u32(&b, 2); /* 12 > 10 */
	assert_int_equal(b.err, SSP_ERR_TOOBIG);
	assert_int_equal(b.len, 8);
	/* Poisoned: even writes that would fit are dropped, and the error sticks. */
	ssp_buf_u8(&b, 3);
	ssp_buf_put(&b, "x", 1);
	ssp_buf_bytes(&b, "", 0);
	assert_int_equal(b.len, 8);
	assert_int_equal(b.err, SSP_ERR_TOOBIG);
	assert_true(b.cap <= b.max);
	/* Exactly max is fine. */
	ssp_buf_reset(&b);
	ssp_buf_u64(&b, 1);
	ssp_buf_u16(&b, 2);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 10);
	ssp_buf_u8(&b, 0);
	assert_int_equal(b.err, SSP_ERR_TOOBIG);
	ssp_buf_free(&b);

	/* A length prefix that fits but its payload does not still poisons the buffer. */
	ssp_buf_init(&b, 8);
	ssp_buf_bytes(&b, "abcdefgh", 8);
	assert_int_equal(b.err, SSP_ERR_TOOBIG);
	ssp_buf_free(&b);

	/* Growth across many small writes stays correct. */
	ssp_buf_init(&b, 1 << 20);
	for (uint32_t i = 0; i < 10000; i++)
		ssp_buf_u32(&b, i);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 40000);
	ssp_rd r;
	ssp_rd_init(&r, b.data, b.len);
	for (uint32_t i = 0; i < 10000; i++)
		assert_int_equal(ssp_rd_u32(&r), i);
	assert_int_equal(ssp_rd_end(&r), 0);
	ssp_buf_free(&b);
}

static void test_fixed_helpers(void **state)
{
	(void)state;
	uint8_t p[8];
	ssp_le64_put(p, 0x0102030405060708ULL);
	assert_memory_equal(p, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	assert_true(ssp_le64_get(p) == 0x0102030405060708ULL);
	ssp_be64_put(p, 0x0102030405060708ULL);
	assert_memory_equal(p, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(ssp_be64_get(p) == 0x0102030405060708ULL);
	/* Big-endian keys sort like the numbers. */
	uint8_t a[8], b[8];
	ssp_be64_put(a, 255);
	ssp_be64_put(b, 256);
	assert_true(memcmp(a, b, 8) < 0);
}

static void test_hex(void **state)
{
	(void)state;
	char s[9];
	uint8_t out[4];
	ssp_hex_encode(s, "\x00\xff\x10\xab", 4);
	assert_string_equal(s, "00ff10ab");
	assert_int_equal(ssp_hex_decode(out, 4, "00FF10aB", 8), 0);
	assert_memory_equal(out, "\x00\xff\x10\xab", 4);
	assert_int_equal(ssp_hex_decode(out, 4, "00ff10a", 7), SSP_ERR_DECODE);
	assert_int_equal(ssp_hex_decode(out, 4, "00ff10abcd", 10), SSP_ERR_DECODE);
	assert_int_equal(ssp_hex_decode(out, 4, "00ff10ag", 8), SSP_ERR_DECODE);
	assert_int_equal(ssp_hex_decode(out, 4, "00ff 0ab", 8), SSP_ERR_DECODE);
	assert_int_equal(ssp_hex_decode(out, 0, "", 0), 0);
	ssp_hex_encode(s, "", 0);
	assert_string_equal(s, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_and_round_trip),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_trailing),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_bytes_max),
	    cmocka_unit_test(test_sticky_reader),
	    cmocka_unit_test(test_writer_poison),
	    cmocka_unit_test(test_fixed_helpers),
	    cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
