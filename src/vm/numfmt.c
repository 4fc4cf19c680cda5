/*
 * numfmt.c — one text for every NaN (vm layer). IEEE 754 leaves the sign
 * and payload of a NaN produced by an operation to the CPU: x86-64 makes
 * 0/0 negative (glibc prints "-nan"), arm64 positive ("nan"), and an
 * operation on NaN operands propagates one of them by CPU-specific rules.
 * Contract code can also build any NaN from bytes (string.unpack). So the
 * sign of a NaN cannot be fixed where NaNs are made: Lua's arithmetic runs
 * inside liblua's VM, out of the host's reach. Instead every place a NaN
 * can become text or bytes is made sign- and payload-blind:
 *
 *   - text: every lua_Number reaches text through the C library's printf
 *     family (Lua's tostring, `..`, the coercion of a number where a string
 *     is expected, string.format's float conversions, %a, lua_pushfstring's
 *     %f). glibc lets a program handle a conversion itself
 *     (register_printf_specifier); our handler for a A e E f F g G prints
 *     a NaN as glibc prints a positive one ("nan", "NAN", with its width,
 *     '-', '+' and ' ' flags) and hands every other value back to glibc
 *     (return -2), so finite numbers and infinities are formatted exactly as
 *     before. The handler is process-wide, installed once by ssp_vm_new and
 *     checked there; nothing else in the node prints NaNs.
 *   - bytes: string.pack canonicalises NaN arguments (strlib.c, with
 *     vm_canonical_nan).
 *
 * Comparisons, arithmetic and integer conversions of NaN do not depend on
 * its sign or payload.
 *
 * The same handler prices float text (issue 12): glibc converts the exact
 * binary value, so 1e308 with 99 decimals takes microseconds. Every float
 * a contract turns into text passes here, including the conversions no
 * host function sees (`..` inside OP_CONCAT, lua_pushfstring's %f), so
 * while a call is metered on this thread (vm_fmt_state) each conversion
 * adds vm_float_text_gas of its value and of a length computed from the
 * conversion spec (never from what glibc writes, so it is the same on
 * every node). The gas is added without raising (longjmp out of printf is
 * not allowed); an exhausted call is stopped by the next hook firing.
 */
#include <math.h>
#include <printf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vm/vm_internal.h"

_Thread_local vm_state *vm_fmt_state;

/* The text length a conversion of x is priced at: from the spec and the exponent only. */
static size_t priced_len(const struct printf_info *info, double x)
{
	int e = 0;
	if (isfinite(x) && x != 0) (void)frexp(x, &e);
	size_t prec = info->prec < 0 ? 6 : (size_t)info->prec, n;
	switch (info->spec) {
	case 'f':
	case 'F': /* integer digits (~ e * log10 2), the point, the decimals, a sign */
		n = (e > 0 ? ((size_t)e * 1233 >> 12) + 1 : 1) + prec + 2;
		break;
	case 'a':
	case 'A':
		n = (info->prec < 0 ? 13 : prec) + 10;
		break;
	default: /* e E g G: mantissa digits, the point, the exponent, a sign */
		n = prec + 8;
		break;
	}
	return info->width > 0 && (size_t)info->width > n ? (size_t)info->width : n;
}

static int nan_print(FILE *f, const struct printf_info *info, const void *const *args)
{
	double x =
	    info->is_long_double ? (double)*(const long double *)args[0] : *(const double *)args[0];
	vm_state *s = vm_fmt_state;
	if (s && s->metering && s->call && !info->is_long_double)
		vm_add_gas(s->call, vm_float_text_gas(x, priced_len(info, x)));
	int nan = isnan(x);
	if (!nan || info->wide) return -2; /* glibc's own conversion */
	char body[4];
	size_t n = 0;
	if (info->showsign)
		body[n++] = '+';
	else if (info->space)
		body[n++] = ' ';
	int upper = info->spec >= 'A' && info->spec <= 'Z';
	memcpy(body + n, upper ? "NAN" : "nan", 3);
	n += 3;
	size_t pad = info->width > (int)n ? (size_t)info->width - n : 0; /* '0' pads with spaces */
	for (size_t i = 0; !info->left && i < pad; i++)
		if (fputc(' ', f) == EOF) return -1;
	if (fwrite(body, 1, n, f) != n) return -1;
	for (size_t i = 0; info->left && i < pad; i++)
		if (fputc(' ', f) == EOF) return -1;
	return (int)(n + pad);
}

static int nan_arginfo(const struct printf_info *info, size_t n, int *argtypes, int *size)
{
	if (n > 0) {
		argtypes[0] = PA_DOUBLE | (info->is_long_double ? PA_FLAG_LONG_DOUBLE : 0);
		size[0] = info->is_long_double ? (int)sizeof(long double) : (int)sizeof(double);
	}
	return 1;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_failed; /* written once, under `once` */

static void install(void)
{
	for (const char *c = "aAeEfFgG"; *c; c++)
		if (register_printf_specifier(*c, nan_print, nan_arginfo)) install_failed = 1;
}

lua_Number vm_canonical_nan(void)
{
	uint64_t bits = UINT64_C(0x7ff8000000000000); /* positive quiet NaN, no payload */
	double d;
	memcpy(&d, &bits, sizeof d);
	return (lua_Number)d;
}

static double from_bits(uint64_t bits)
{
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

int vm_numfmt_init(void)
{
	pthread_once(&once, install);
	if (install_failed) return SSP_ERR_INTERNAL;
	/* a negative NaN with a payload, and a positive one, must print alike */
	double neg = from_bits(UINT64_C(0xfff8000000000123)), pos = vm_canonical_nan();
	char a[96], b[96]; /* a NaN's fields are short; a longer result fails the check */
#define NAN_FMT "%g|%.14g|%+.3f|%-5a|%6A|% e|%E|%F|%G|%Lg"
	int na = snprintf(a, sizeof a, NAN_FMT, neg, neg, neg, neg, neg, neg, neg, neg, neg,
	                  (long double)neg);
	int nb = snprintf(b, sizeof b, NAN_FMT, pos, pos, pos, pos, pos, pos, pos, pos, pos,
	                  (long double)pos);
#undef NAN_FMT
	if (na < 0 || nb < 0 || (size_t)na >= sizeof a || (size_t)nb >= sizeof b ||
	    strcmp(a, b) != 0 || strcmp(a, "nan|nan|+nan|nan  |   NAN| nan|NAN|NAN|NAN|nan") != 0)
		return SSP_ERR_INTERNAL;
	na = snprintf(a, sizeof a, "%.14g|%a|%g", 0.1, 1.0, -INFINITY);
	return na > 0 && strcmp(a, "0.1|0x1p+0|-inf") == 0 ? 0 : SSP_ERR_INTERNAL;
}
