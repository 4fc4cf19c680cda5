/*
 * fuzz_value.c — libFuzzer harness for canonical values (core layer): the
 * strict checker and the JSON mapping on arbitrary bytes. Invariants: a
 * value the checker accepts converts to JSON or fails with INVAL (no JSON
 * form) / NOMEM, and a JSON value converted back is itself canonical and,
 * when the original was produced from JSON, identical.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = ssp_val_check(data, size);
	json_t *j = NULL;
	int rj = ssp_val_to_json(&j, data, size);
	if (rc) {
		if (!rj || j) abort(); /* to_json checks first */
		return 0;
	}
	if (rj) {
		if (rj != SSP_ERR_INVAL && rj != SSP_ERR_NOMEM) abort();
		return 0;
	}
	ssp_buf b;
	ssp_buf_init(&b, 8u << 20);
	if (ssp_val_from_json(&b, j) == 0) {
		if (ssp_val_check(b.data, b.len)) abort();
		/* JSON -> value -> JSON -> value is a fixed point */
		json_t *j2 = NULL;
		if (ssp_val_to_json(&j2, b.data, b.len) == 0) {
			ssp_buf b2;
			ssp_buf_init(&b2, 8u << 20);
			if (ssp_val_from_json(&b2, j2) || b2.len != b.len ||
			    memcmp(b2.data, b.data, b.len))
				abort();
			ssp_buf_free(&b2);
			json_decref(j2);
		}
	}
	ssp_buf_free(&b);
	json_decref(j);
	return 0;
}
