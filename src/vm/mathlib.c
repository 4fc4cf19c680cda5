/*
 * mathlib.c — the contract VM's math and utf8 libraries (vm layer).
 * math keeps only exact functions (abs ceil floor fmod max min tointeger
 * type ult, huge maxinteger mininteger) and adds math.ipow, an integer
 * power that fails on overflow: there is no random and no transcendental
 * function, whose results differ between C libraries and CPUs. utf8 is
 * implemented here with per-byte charges and at most VM_MULTRET_MAX values
 * per call (same semantics as Lua 5.4.4).
 */
#include <string.h>

#include "vm/vm_internal.h"

static int m_ipow(lua_State *L)
{
	lua_Integer b = vm_checkint(L, 1), e = vm_checkint(L, 2);
	luaL_argcheck(L, e >= 0, 2, "negative exponent");
	lua_Integer r = 1;
	while (e > 0) {
		if ((e & 1) && __builtin_mul_overflow(r, b, &r))
			luaL_error(L, "math.ipow: integer overflow");
		e >>= 1;
		if (e && __builtin_mul_overflow(b, b, &b))
			luaL_error(L, "math.ipow: integer overflow");
	}
	lua_pushinteger(L, r);
	return 1;
}

void vm_open_math(lua_State *L, int lib)
{
	lib = lua_absindex(L, lib);
	lua_pushcfunction(L, luaopen_math);
	lua_call(L, 0, 1);
	int stock = lua_gettop(L);
	static const char *const wrapped[] = {"abs", "ceil",      "floor", "fmod", "max",
	                                      "min", "tointeger", "ult",   NULL};
	for (const char *const *n = wrapped; *n; n++) {
		lua_getfield(L, stock, *n);
		vm_push_stock(L, lua_tocfunction(L, -1));
		lua_setfield(L, lib, *n);
		lua_pop(L, 1);
	}
	static const char *const direct[] = {"type", "huge", "maxinteger", "mininteger", NULL};
	for (const char *const *n = direct; *n; n++) {
		lua_getfield(L, stock, *n);
		lua_setfield(L, lib, *n);
	}
	lua_pop(L, 1);
	lua_pushcfunction(L, m_ipow);
	lua_setfield(L, lib, "ipow");
}

/* ------------------------------------------------------------------ utf8 */

#define MAXUNICODE 0x10FFFFu
#define MAXUTF 0x7FFFFFFFu
#define iscont(p) ((*(const unsigned char *)(p)&0xC0) == 0x80)

static lua_Integer u_posrelat(lua_Integer pos, size_t len)
{
	if (pos >= 0) return pos;
	if ((lua_Unsigned)0 - (lua_Unsigned)pos > len) return 0;
	return (lua_Integer)len + pos + 1;
}

/* Decodes one sequence (the string ends with a NUL, so reads stop there). */
static const char *utf8_decode(const char *s, uint32_t *val, int strict)
{
	static const uint32_t limits[] = {~(uint32_t)0, 0x80,      0x800,
	                                  0x10000u,     0x200000u, 0x4000000u};
	unsigned int c = (unsigned char)s[0];
	uint32_t res = 0;
	if (c < 0x80) {
		res = c;
	} else {
		int count = 0;
		for (; c & 0x40; c <<= 1) {
			unsigned int cc = (unsigned char)s[++count];
			if ((cc & 0xC0) != 0x80) return NULL;
			res = (res << 6) | (cc & 0x3F);
		}
		res |= ((uint32_t)(c & 0x7F) << (count * 5));
		if (count > 5 || res > MAXUTF || res < limits[count]) return NULL;
		s += count;
	}
	if (strict && (res > MAXUNICODE || (0xD800u <= res && res <= 0xDFFFu))) return NULL;
	if (val) *val = res;
	return s + 1;
}

static int u_len(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer posi = u_posrelat(vm_optint(L, 2, 1), len);
	lua_Integer posj = u_posrelat(vm_optint(L, 3, -1), len);
	int lax = lua_toboolean(L, 4);
	luaL_argcheck(L, 1 <= posi && --posi <= (lua_Integer)len, 2,
	              "initial position out of bounds");
	luaL_argcheck(L, --posj < (lua_Integer)len, 3, "final position out of bounds");
	if (posj >= posi) vm_charge_bytes(L, (size_t)(posj - posi + 1), VM_GAS_BYTES_SHIFT);
	lua_Integer n = 0;
	while (posi <= posj) {
		const char *s1 = utf8_decode(s + posi, NULL, !lax);
		if (!s1) {
			lua_pushnil(L);
			lua_pushinteger(L, posi + 1);
			return 2;
		}
		posi = s1 - s;
		n++;
	}
	lua_pushinteger(L, n);
	return 1;
}

static int u_codepoint(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer posi = u_posrelat(vm_optint(L, 2, 1), len);
	lua_Integer pose = u_posrelat(vm_optint(L, 3, posi), len);
	int lax = lua_toboolean(L, 4);
	luaL_argcheck(L, posi >= 1, 2, "out of bounds");
	luaL_argcheck(L, pose <= (lua_Integer)len, 3, "out of bounds");
	if (posi > pose) return 0;
	if (pose - posi >= VM_MULTRET_MAX)
		luaL_error(L, "string slice too long (more than %d values)", VM_MULTRET_MAX);
	int n = (int)(pose - posi) + 1;
	vm_charge(L, (uint64_t)n);
	luaL_checkstack(L, n, "string slice too long");
	n = 0;
	const char *se = s + pose;
	for (s += posi - 1; s < se;) {
		uint32_t code;
		s = utf8_decode(s, &code, !lax);
		if (!s) return luaL_error(L, "invalid UTF-8 code");
		lua_pushinteger(L, code);
		n++;
	}
	return n;
}

static int u_utf8char(lua_State *L)
{
	int n = lua_gettop(L);
	vm_charge(L, (uint64_t)n);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		lua_Integer code = vm_checkint(L, i);
		luaL_argcheck(L, (lua_Unsigned)code <= MAXUTF, i, "value out of range");
		char buf[8];
		int k = 0;
		uint32_t x = (uint32_t)code;
		if (x < 0x80) {
			buf[k++] = (char)x;
		} else {
			char tmp[8];
			int m = 0;
			unsigned int mfb = 0x3f; /* largest value in the first byte */
			do {
				tmp[m++] = (char)(0x80 | (x & 0x3f));
				x >>= 6;
				mfb >>= 1;
			} while (x > mfb);
			buf[k++] = (char)((~mfb << 1) | x);
			while (m > 0)
				buf[k++] = tmp[--m];
		}
		luaL_addlstring(&b, buf, (size_t)k);
	}
	luaL_pushresult(&b);
	return 1;
}

static int u_offset(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer n = vm_checkint(L, 2);
	lua_Integer posi = (n >= 0) ? 1 : (lua_Integer)len + 1;
	posi = u_posrelat(vm_optint(L, 3, posi), len);
	luaL_argcheck(L, 1 <= posi && --posi <= (lua_Integer)len, 3, "position out of bounds");
	vm_charge_bytes(L, len, VM_GAS_BYTES_SHIFT);
	if (n == 0) {
		while (posi > 0 && iscont(s + posi))
			posi--;
	} else {
		if (iscont(s + posi))
			return luaL_error(L, "initial position is a continuation byte");
		if (n < 0) {
			while (n < 0 && posi > 0) {
				do {
					posi--;
				} while (posi > 0 && iscont(s + posi));
				n++;
			}
		} else {
			n--;
			while (n > 0 && posi < (lua_Integer)len) {
				do {
					posi++;
				} while (iscont(s + posi));
				n--;
			}
		}
	}
	if (n == 0)
		lua_pushinteger(L, posi + 1);
	else
		lua_pushnil(L);
	return 1;
}

static int iter_aux(lua_State *L, int strict)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Unsigned n = (lua_Unsigned)lua_tointeger(L, 2);
	size_t skipped = 0;
	if (n < len)
		while (iscont(s + n)) {
			n++;
			skipped++;
		}
	if (skipped > 16) vm_charge_bytes(L, skipped, VM_GAS_BYTES_SHIFT);
	if (n >= len) return 0;
	uint32_t code;
	const char *next = utf8_decode(s + n, &code, strict);
	if (!next || iscont(next)) return luaL_error(L, "invalid UTF-8 code");
	lua_pushinteger(L, (lua_Integer)n + 1);
	lua_pushinteger(L, code);
	return 2;
}

static int iter_strict(lua_State *L)
{
	return iter_aux(L, 1);
}

static int iter_lax(lua_State *L)
{
	return iter_aux(L, 0);
}

static int u_codes(lua_State *L)
{
	int lax = lua_toboolean(L, 2);
	const char *s = luaL_checkstring(L, 1);
	luaL_argcheck(L, !iscont(s), 1, "invalid UTF-8 code");
	lua_pushcfunction(L, lax ? iter_lax : iter_strict);
	lua_pushvalue(L, 1);
	lua_pushinteger(L, 0);
	return 3;
}

void vm_open_utf8(lua_State *L, int lib)
{
	static const luaL_Reg f[] = {
	    {"offset", u_offset}, {"codepoint", u_codepoint}, {"char", u_utf8char},
	    {"len", u_len},       {"codes", u_codes},         {NULL, NULL},
	};
	lua_pushvalue(L, lib);
	luaL_setfuncs(L, f, 0);
	static const char pat[] = "[\0-\x7F\xC2-\xFD][\x80-\xBF]*";
	lua_pushlstring(L, pat, sizeof pat - 1);
	lua_setfield(L, -2, "charpattern");
	lua_pop(L, 1);
}
