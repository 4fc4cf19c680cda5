/*
 * fuzz_utf8.c — libFuzzer harness for the core UTF-8 validator (core
 * layer), differential: jansson's own RFC 3629 check (json_stringn) must
 * accept exactly the strings ssp_utf8_valid accepts with SSP_UTF8_NUL, and
 * the flags must only narrow that set (no NUL without SSP_UTF8_NUL; no
 * control character with SSP_UTF8_NOCTRL). Every valid prefix cut at a
 * character boundary stays valid. Any disagreement aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool any = ssp_utf8_valid(data, size, SSP_UTF8_NUL);
	bool text = ssp_utf8_valid(data, size, 0);
	bool name = ssp_utf8_valid(data, size, SSP_UTF8_NOCTRL);
	json_t *j = json_stringn((const char *)data, size);
	check(any == (j != NULL));
	json_decref(j);
	check(text == (any && !memchr(data, 0, size)));
	check(!name || text);
	check(name == ssp_utf8_valid(data, size, SSP_UTF8_NOCTRL | SSP_UTF8_NUL));
	if (any) {
		/* cut before each lead byte: still valid */
		for (size_t i = 1; i < size; i++)
			if ((data[i] & 0xc0) != 0x80) check(ssp_utf8_valid(data, i, SSP_UTF8_NUL));
	}
	return 0;
}
