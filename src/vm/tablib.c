/*
 * tablib.c — the contract VM's table library (vm layer). Loops are ours so
 * each one is charged per element before it runs (a __len that lies cannot
 * make a cheap call do unbounded work); table.unpack returns at most
 * VM_MULTRET_MAX values; table.concat stops at VM_STRING_MAX; table.sort is
 * a stable bottom-up merge sort: deterministic, always terminates, even
 * with an inconsistent comparator (no "invalid order function" detection).
 */
#include <limits.h>

#include "vm/vm_internal.h"

static void charge_elems(lua_State *L, lua_Integer n)
{
	if (n > 0) vm_charge(L, (uint64_t)n * VM_GAS_ELEM);
}

static int t_insert(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Integer e = vm_len(L, 1);
	e = (lua_Integer)((lua_Unsigned)e + 1u);
	lua_Integer pos;
	switch (lua_gettop(L)) {
	case 2:
		pos = e;
		break;
	case 3:
		pos = vm_checkint(L, 2);
		luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2,
		              "position out of bounds");
		charge_elems(L, e - pos);
		for (lua_Integer i = e; i > pos; i--) {
			lua_geti(L, 1, i - 1);
			lua_seti(L, 1, i);
		}
		break;
	default:
		return luaL_error(L, "wrong number of arguments to 'insert'");
	}
	vm_charge(L, 1);
	lua_seti(L, 1, pos);
	return 0;
}

static int t_remove(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Integer size = vm_len(L, 1);
	lua_Integer pos = vm_optint(L, 2, size);
	if (pos != size)
		luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2,
		              "position out of bounds");
	charge_elems(L, size - pos + 1);
	lua_geti(L, 1, pos);
	for (; pos < size; pos++) {
		lua_geti(L, 1, pos + 1);
		lua_seti(L, 1, pos);
	}
	lua_pushnil(L);
	lua_seti(L, 1, pos);
	return 1;
}

static int t_move(lua_State *L)
{
	lua_Integer f = vm_checkint(L, 2);
	lua_Integer e = vm_checkint(L, 3);
	lua_Integer t = vm_checkint(L, 4);
	int tt = !lua_isnoneornil(L, 5) ? 5 : 1;
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, tt, LUA_TTABLE);
	if (e >= f) {
		luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
		lua_Integer n = e - f;
		luaL_argcheck(L, t <= LUA_MAXINTEGER - n, 4, "destination wrap around");
		charge_elems(L, n);
		vm_charge(L, 1);
		if (t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))) {
			for (lua_Integer i = 0; i <= n; i++) {
				lua_geti(L, 1, f + i);
				lua_seti(L, tt, t + i);
			}
		} else {
			for (lua_Integer i = n; i >= 0; i--) {
				lua_geti(L, 1, f + i);
				lua_seti(L, tt, t + i);
			}
		}
	}
	lua_pushvalue(L, tt);
	return 1;
}

static int t_concat(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	size_t lsep;
	const char *sep = luaL_optlstring(L, 2, "", &lsep);
	lua_Integer i = vm_optint(L, 3, 1);
	lua_Integer last = lua_isnoneornil(L, 4) ? vm_len(L, 1) : vm_checkint(L, 4);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (; i <= last; i++) {
		vm_charge(L, VM_GAS_ELEM);
		lua_geti(L, 1, i);
		if (!lua_isstring(L, -1))
			luaL_error(L, "invalid value (at index %I) in table for 'concat'",
			           (LUAI_UACINT)i);
		vm_charge_bytes(L, lua_rawlen(L, -1) + lsep, VM_GAS_BYTES_SHIFT);
		luaL_addvalue(&b);
		if (i != last) luaL_addlstring(&b, sep, lsep);
		if (luaL_bufflen(&b) > VM_STRING_MAX)
			vm_fail(L, SSP_ERR_VM_MEMORY, "table.concat: result longer than %u bytes",
			        VM_STRING_MAX);
		if (i == LUA_MAXINTEGER) break;
	}
	luaL_pushresult(&b);
	return 1;
}

static int t_pack(lua_State *L)
{
	int n = lua_gettop(L);
	charge_elems(L, n);
	lua_createtable(L, n, 1);
	lua_insert(L, 1);
	for (int i = n; i >= 1; i--)
		lua_seti(L, 1, i);
	lua_pushinteger(L, n);
	lua_setfield(L, 1, "n");
	return 1;
}

static int t_unpack(lua_State *L)
{
	lua_Integer i = vm_optint(L, 2, 1);
	lua_Integer e = lua_isnoneornil(L, 3) ? vm_len(L, 1) : vm_checkint(L, 3);
	if (i > e) return 0;
	lua_Unsigned n = (lua_Unsigned)e - (lua_Unsigned)i;
	if (n >= VM_MULTRET_MAX)
		return luaL_error(L, "too many results to unpack (more than %d)", VM_MULTRET_MAX);
	charge_elems(L, (lua_Integer)n + 1);
	luaL_checkstack(L, (int)n + 1, "too many results to unpack");
	for (; i < e; i++)
		lua_geti(L, 1, i);
	lua_geti(L, 1, e);
	return (int)n + 1;
}

/* a < b for the values at the top (b on top); pops both */
static int sort_less(lua_State *L, int comp)
{
	int res;
	if (comp) {
		lua_pushvalue(L, 2);
		lua_rotate(L, -3, 1); /* comp, a, b */
		lua_call(L, 2, 1);
		res = lua_toboolean(L, -1);
		lua_pop(L, 1);
	} else {
		res = vm_less(L, -2, -1); /* strings charged by length, compared by bytes */
		lua_pop(L, 2);
	}
	return res;
}

static int t_sort(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Integer n = vm_len(L, 1);
	if (n <= 1) return 0;
	luaL_argcheck(L, n < INT_MAX / 2, 1, "array too big");
	int comp = !lua_isnoneornil(L, 2);
	if (comp) luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	int lg = 1;
	while ((1LL << lg) < n)
		lg++;
	vm_charge(L, (uint64_t)n * (uint64_t)(lg + 2) * VM_GAS_ELEM);
	lua_createtable(L, (int)n, 0); /* 3: source run */
	lua_createtable(L, (int)n, 0); /* 4: destination run */
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 1, i);
		lua_rawseti(L, 3, i);
	}
	for (lua_Integer width = 1; width < n; width *= 2) {
		for (lua_Integer lo = 1; lo <= n; lo += 2 * width) {
			lua_Integer mid = lo + width < n + 1 ? lo + width : n + 1;
			lua_Integer hi = lo + 2 * width < n + 1 ? lo + 2 * width : n + 1;
			lua_Integer a = lo, b = mid, k = lo;
			while (a < mid && b < hi) {
				lua_rawgeti(L, 3, a);
				lua_rawgeti(L, 3, b);
				/* stable: take from the right run only when it is strictly less */
				lua_pushvalue(L, -1);
				lua_pushvalue(L, -3);
				if (sort_less(L, comp)) {
					lua_rawseti(L, 4, k++);
					lua_pop(L, 1);
					b++;
				} else {
					lua_pop(L, 1);
					lua_rawseti(L, 4, k++);
					a++;
				}
			}
			for (; a < mid; a++) {
				lua_rawgeti(L, 3, a);
				lua_rawseti(L, 4, k++);
			}
			for (; b < hi; b++) {
				lua_rawgeti(L, 3, b);
				lua_rawseti(L, 4, k++);
			}
		}
		lua_rotate(L, 3, 1); /* swap runs */
	}
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, 3, i);
		lua_seti(L, 1, i);
	}
	return 0;
}

void vm_open_table(lua_State *L, int lib)
{
	static const luaL_Reg f[] = {
	    {"insert", t_insert}, {"remove", t_remove}, {"move", t_move}, {"concat", t_concat},
	    {"pack", t_pack},     {"unpack", t_unpack}, {"sort", t_sort}, {NULL, NULL},
	};
	lua_pushvalue(L, lib);
	luaL_setfuncs(L, f, 0);
	lua_pop(L, 1);
}
