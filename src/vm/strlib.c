/*
 * strlib.c — the contract VM's string library (vm layer). Every function
 * charges for the bytes it produces or scans before doing the work, keeps
 * results within VM_STRING_MAX, and converts case by ASCII rules so the
 * process locale never matters. string.format runs the stock formatter one
 * conversion at a time (so the result is bounded as it grows), refuses %p
 * and turns %s arguments into strings with the address-free tostring.
 * string.pack writes every NaN as the one canonical NaN (numfmt.c).
 * No string.dump. Pattern functions are in pattern.c.
 */
#include <lualib.h>
#include <string.h>

#include "vm/vm_internal.h"

/* 1-based start position as Lua 5.4 computes it */
static size_t posrelat_start(lua_Integer pos, size_t len)
{
	if (pos > 0) return (size_t)pos;
	if (pos == 0) return 1;
	if (pos < -(lua_Integer)len) return 1;
	return len + (size_t)pos + 1;
}

static size_t end_pos(lua_State *L, int arg, lua_Integer def, size_t len)
{
	lua_Integer pos = vm_optint(L, arg, def);
	if (pos > (lua_Integer)len) return len;
	if (pos >= 0) return (size_t)pos;
	if (pos < -(lua_Integer)len) return 0;
	return len + (size_t)pos + 1;
}

static int s_len(lua_State *L)
{
	size_t l;
	luaL_checklstring(L, 1, &l);
	lua_pushinteger(L, (lua_Integer)l);
	return 1;
}

static int s_sub(lua_State *L)
{
	size_t l;
	const char *s = luaL_checklstring(L, 1, &l);
	size_t start = posrelat_start(vm_checkint(L, 2), l);
	size_t end = end_pos(L, 3, -1, l);
	if (start <= end) {
		vm_charge_bytes(L, end - start + 1, VM_GAS_BYTES_SHIFT);
		lua_pushlstring(L, s + start - 1, end - start + 1);
	} else {
		lua_pushliteral(L, "");
	}
	return 1;
}

static int s_case(lua_State *L, int upper)
{
	size_t l;
	const char *s = luaL_checklstring(L, 1, &l);
	vm_charge_bytes(L, l, VM_GAS_BYTES_SHIFT);
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, l);
	for (size_t i = 0; i < l; i++) {
		unsigned char c = (unsigned char)s[i];
		if (upper && c >= 'a' && c <= 'z') c = (unsigned char)(c - 32);
		if (!upper && c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
		p[i] = (char)c;
	}
	luaL_pushresultsize(&b, l);
	return 1;
}

static int s_upper(lua_State *L)
{
	return s_case(L, 1);
}

static int s_lower(lua_State *L)
{
	return s_case(L, 0);
}

static int s_rep(lua_State *L)
{
	size_t l, lsep;
	const char *s = luaL_checklstring(L, 1, &l);
	lua_Integer n = vm_checkint(L, 2);
	const char *sep = luaL_optlstring(L, 3, "", &lsep);
	if (n <= 0 || l + lsep == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	if ((uint64_t)n > VM_STRING_MAX + 1 || (l + lsep) * (uint64_t)n > VM_STRING_MAX + lsep)
		vm_fail(L, SSP_ERR_VM_MEMORY, "string.rep: result longer than %u bytes",
		        VM_STRING_MAX);
	size_t total = l * (size_t)n + lsep * (size_t)(n - 1);
	vm_charge_bytes(L, total, VM_GAS_BYTES_SHIFT);
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, total);
	for (lua_Integer i = 0; i < n; i++) {
		memcpy(p, s, l);
		p += l;
		if (i + 1 < n && lsep) {
			memcpy(p, sep, lsep);
			p += lsep;
		}
	}
	luaL_pushresultsize(&b, total);
	return 1;
}

static int s_reverse(lua_State *L)
{
	size_t l;
	const char *s = luaL_checklstring(L, 1, &l);
	vm_charge_bytes(L, l, VM_GAS_BYTES_SHIFT);
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, l);
	for (size_t i = 0; i < l; i++)
		p[i] = s[l - 1 - i];
	luaL_pushresultsize(&b, l);
	return 1;
}

static int s_byte(lua_State *L)
{
	size_t l;
	const char *s = luaL_checklstring(L, 1, &l);
	lua_Integer pi = vm_optint(L, 2, 1);
	size_t start = posrelat_start(pi, l);
	size_t end = end_pos(L, 3, pi, l);
	if (start > end) return 0;
	if (end - start >= VM_MULTRET_MAX)
		luaL_error(L, "string slice too long (more than %d values)", VM_MULTRET_MAX);
	int n = (int)(end - start) + 1;
	vm_charge(L, (uint64_t)n);
	luaL_checkstack(L, n, "string slice too long");
	for (int i = 0; i < n; i++)
		lua_pushinteger(L, (unsigned char)s[start + (size_t)i - 1]);
	return n;
}

static int s_char(lua_State *L)
{
	int n = lua_gettop(L);
	vm_charge(L, (uint64_t)n);
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, (size_t)n);
	for (int i = 1; i <= n; i++) {
		lua_Integer c = vm_checkint(L, i);
		luaL_argcheck(L, (lua_Unsigned)c <= 255, i, "value out of range");
		p[i - 1] = (char)(unsigned char)c;
	}
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

/*
 * string.format: literal text is copied here, each conversion is run by the
 * stock formatter on its own (upvalue 1), so the result is checked against
 * VM_STRING_MAX piece by piece and never grows unbounded.
 */
static int s_format(lua_State *L)
{
	size_t fl;
	const char *fmt = luaL_checklstring(L, 1, &fl);
	const char *p = fmt, *e = fmt + fl;
	int top = lua_gettop(L), arg = 1;
	vm_charge_bytes(L, fl, VM_GAS_BYTES_SHIFT);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	while (p < e) {
		if (*p != '%') {
			const char *q = memchr(p, '%', (size_t)(e - p));
			if (!q) q = e;
			luaL_addlstring(&b, p, (size_t)(q - p));
			p = q;
		} else if (p + 1 < e && p[1] == '%') {
			luaL_addchar(&b, '%');
			p += 2;
		} else {
			const char *start = p++;
			while (p < e && strchr("-+ #0", *p) && p - start < 8)
				p++;
			for (int i = 0; i < 2 && p < e && *p >= '0' && *p <= '9'; i++)
				p++;
			if (p < e && *p == '.') {
				p++;
				for (int i = 0; i < 2 && p < e && *p >= '0' && *p <= '9'; i++)
					p++;
			}
			if (p >= e)
				luaL_error(L, "invalid conversion at the end of the format string");
			char conv = *p++;
			if (conv == 'p')
				luaL_error(L, "invalid conversion '%%p' to 'format' (no addresses "
				              "in contracts)");
			if (++arg > top) luaL_argerror(L, arg, "no value");
			lua_pushvalue(L, lua_upvalueindex(1));
			lua_pushlstring(L, start, (size_t)(p - start));
			if (conv == 's' && lua_type(L, arg) != LUA_TSTRING &&
			    lua_type(L, arg) != LUA_TNUMBER)
				vm_tostring(L, arg);
			else
				lua_pushvalue(L, arg);
			if (lua_type(L, -1) == LUA_TSTRING)
				vm_charge_bytes(L, lua_rawlen(L, -1) * (conv == 'q' ? 4 : 1),
				                VM_GAS_BYTES_SHIFT);
			vm_charge(L, 2);
			lua_call(L, 2, 1);
			vm_check_abort(L); /* float text is charged by numfmt.c */
			if (luaL_bufflen(&b) + lua_rawlen(L, -1) > VM_STRING_MAX)
				vm_fail(L, SSP_ERR_VM_MEMORY,
				        "string.format: result longer than %u bytes",
				        VM_STRING_MAX);
			luaL_addvalue(&b);
		}
		if (luaL_bufflen(&b) > VM_STRING_MAX)
			vm_fail(L, SSP_ERR_VM_MEMORY, "string.format: result longer than %u bytes",
			        VM_STRING_MAX);
	}
	luaL_pushresult(&b);
	return 1;
}

/*
 * string.pack: stock, charged, with every NaN argument replaced by the one
 * canonical NaN first: the bytes of a NaN would show its sign and payload,
 * which depend on the CPU that computed it (numfmt.c). An integer format
 * given a NaN fails the same way whatever the NaN.
 */
static int s_pack(lua_State *L)
{
	for (int i = 2, n = lua_gettop(L); i <= n; i++) {
		if (lua_type(L, i) != LUA_TNUMBER || lua_isinteger(L, i)) continue;
		lua_Number v = lua_tonumber(L, i);
		if (v != v) {
			lua_pushnumber(L, vm_canonical_nan());
			lua_replace(L, i);
		}
	}
	return vm_stock_wrap(L);
}

/* string.unpack: stock, charged, and never more than VM_MULTRET_MAX values. */
static int s_unpack(lua_State *L)
{
	int n = vm_stock_wrap(L);
	if (n > VM_MULTRET_MAX + 1)
		luaL_error(L, "too many results to unpack (more than %d)", VM_MULTRET_MAX);
	return n;
}

void vm_open_string(lua_State *L, int lib, int meta)
{
	lib = lua_absindex(L, lib);
	meta = lua_absindex(L, meta);
	lua_pushcfunction(L, luaopen_string);
	lua_call(L, 0, 1);
	int stock = lua_gettop(L);
	static const luaL_Reg own[] = {
	    {"len", s_len},
	    {"sub", s_sub},
	    {"upper", s_upper},
	    {"lower", s_lower},
	    {"rep", s_rep},
	    {"reverse", s_reverse},
	    {"byte", s_byte},
	    {"char", s_char},
	    {"find", vm_str_find},
	    {"match", vm_str_match},
	    {"gmatch", vm_str_gmatch},
	    {"gsub", vm_str_gsub},
	    {NULL, NULL},
	};
	lua_pushvalue(L, lib);
	luaL_setfuncs(L, own, 0);
	lua_pop(L, 1);
	lua_getfield(L, stock, "format");
	lua_pushcclosure(L, s_format, 1);
	lua_setfield(L, lib, "format");
	lua_getfield(L, stock, "packsize");
	vm_push_stock(L, lua_tocfunction(L, -1));
	lua_setfield(L, lib, "packsize");
	lua_pop(L, 1);
	lua_getfield(L, stock, "pack");
	lua_pushcclosure(L, s_pack, 1);
	lua_setfield(L, lib, "pack");
	lua_getfield(L, stock, "unpack");
	lua_pushcclosure(L, s_unpack, 1);
	lua_setfield(L, lib, "unpack");
	lua_pop(L, 1);

	/* the string metatable: our library as __index, stock arithmetic coercions (charged) */
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	int smt = lua_gettop(L);
	static const char *const arith[] = {"__add", "__sub",  "__mul", "__mod",
	                                    "__div", "__idiv", "__unm", NULL};
	for (const char *const *n = arith; *n; n++) {
		if (lua_getfield(L, smt, *n) == LUA_TFUNCTION) {
			vm_push_stock(L, lua_tocfunction(L, -1));
			lua_setfield(L, meta, *n);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	lua_pushvalue(L, lib);
	lua_setfield(L, meta, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, meta, "__metatable");
}
