/*
 * utf8.c — the one strict UTF-8 validator (core layer). Every consensus rule
 * about text (tx memos, contract source, token names, canonical strings
 * turned into JSON) calls it, so what is valid text cannot differ between
 * call sites or with a library's version. The Lua `utf8` library keeps
 * stock Lua's own, laxer rules (src/vm/mathlib.c): that is contract
 * semantics, not validation.
 */
#include "ssp/core.h"

/* A C0 control, DEL or a C1 control. */
static bool is_ctrl(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

bool ssp_utf8_valid(const void *text, size_t n, unsigned flags)
{
	const uint8_t *p = text;
	bool nul_ok = (flags & SSP_UTF8_NUL) && !(flags & SSP_UTF8_NOCTRL);
	bool ctrl_ok = !(flags & SSP_UTF8_NOCTRL);
	size_t i = 0;

	while (i < n) {
		uint8_t b = p[i];
		size_t len;
		uint32_t cp, min;
		if (b < 0x80) {
			if ((b == 0 && !nul_ok) || (!ctrl_ok && is_ctrl(b))) return false;
			i++;
			continue;
		}
		/* Lead bytes: 0x80..0xbf are continuations, 0xf8..0xff never occur. */
		if ((b & 0xe0) == 0xc0)
			len = 2, cp = b & 0x1f, min = 0x80;
		else if ((b & 0xf0) == 0xe0)
			len = 3, cp = b & 0x0f, min = 0x800;
		else if ((b & 0xf8) == 0xf0)
			len = 4, cp = b & 0x07, min = 0x10000;
		else
			return false;
		if (n - i < len) return false; /* truncated at the end */
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80) return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* overlong forms (0xc0, 0xc1, 0xe0 0x80.., 0xf0 0x80..), surrogates, > U+10FFFF */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
		if (!ctrl_ok && is_ctrl(cp)) return false;
		i += len;
	}
	return true;
}
