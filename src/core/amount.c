/*
 * amount.c — decimal text <-> u64 base units, without floating point (core
 * layer). The grammar is strict so one amount has one spelling on the way in:
 * "0" | [1-9][0-9]* optionally followed by "." and 1..decimals digits.
 * See docs/internals/core.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

#define DECIMALS_MAX 19 /* 10^19 is the largest power of ten in a u64 */

static uint64_t pow10_u64(unsigned e)
{
	uint64_t p = 1;
	while (e--)
		p *= 10;
	return p;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int ssp_amount_parse(uint64_t *out, const char *s, unsigned decimals)
{
	int rc = SSP_ERR_INVAL;
	uint64_t whole = 0, frac = 0, v;
	unsigned nfrac = 0;
	const char *p = s;

	*out = 0;
	if (decimals > DECIMALS_MAX) goto out;
	rc = SSP_ERR_BADAMOUNT;
	if (!s || !is_digit(*p)) goto out; /* empty, sign, space or a leading '.' */
	/* No leading zeros: "0" and "0.5" are fine, "00" and "01" are not. */
	if (p[0] == '0' && is_digit(p[1])) goto out;
	for (; is_digit(*p); p++) {
		if (ssp_mul_u64(&whole, whole, 10) ||
		    ssp_add_u64(&whole, whole, (uint64_t)(*p - '0'))) {
			rc = SSP_ERR_OVERFLOW;
			goto out;
		}
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p)) goto out; /* "1." */
		for (; is_digit(*p); p++) {
			if (++nfrac > decimals) goto out; /* more precision than the unit has */
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
	}
	if (*p) goto out; /* exponents, spaces, anything else */
	rc = SSP_ERR_OVERFLOW;
	if (ssp_mul_u64(&v, whole, pow10_u64(decimals))) goto out;
	if (ssp_add_u64(&v, v, frac * pow10_u64(decimals - nfrac))) goto out;
	*out = v;
	rc = 0;
out:
	return rc;
}

void ssp_amount_format(char *out, size_t outlen, uint64_t v, unsigned decimals)
{
	char frac[DECIMALS_MAX + 1];
	uint64_t unit;
	int n;

	if (decimals > DECIMALS_MAX) abort(); /* programming error, see ssp_amount_parse */
	if (!outlen) return;
	unit = pow10_u64(decimals);
	if (decimals == 0 || v % unit == 0) {
		snprintf(out, outlen, "%llu", (unsigned long long)(v / unit));
		return;
	}
	n = snprintf(frac, sizeof frac, "%0*llu", (int)decimals, (unsigned long long)(v % unit));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = 0;
	snprintf(out, outlen, "%llu.%s", (unsigned long long)(v / unit), frac);
}
