/*
 * base.c — the contract VM's base library (vm layer): ordered next/pairs,
 * tostring without addresses, setmetatable/getmetatable that hide the real
 * metatable and refuse __gc/__mode, a rawset that respects read-only library
 * tables, the length operator (`#` is rewritten at deploy into a call of
 * LIB.__ssp_len) with a border that depends only on the table's contents,
 * and the whitelisted stock base functions.
 *
 * Iteration order (docs/contracts.md "Determinism rules"): integer keys
 * ascending, then string keys in byte order (a prefix first), then false,
 * true. Any other key (a non-integral float, a table, a function) raises an
 * error when iterated.
 */
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

/* -------------------------------------------------------- ordered keys */

typedef struct {
	int rank; /* 0 integer, 1 string, 2 boolean */
	int pos;
	lua_Integer i;
	const char *s; /* anchored by whoever holds the key */
	size_t len;
} okey;

static void okey_get(lua_State *L, int idx, okey *k)
{
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			k->rank = 0;
			k->i = lua_tointeger(L, idx);
			return;
		}
		luaL_error(L, "cannot iterate a table with a float key");
		break;
	case LUA_TSTRING:
		k->rank = 1;
		k->s = lua_tolstring(L, idx, &k->len);
		return;
	case LUA_TBOOLEAN:
		k->rank = 2;
		k->i = lua_toboolean(L, idx);
		return;
	default:
		luaL_error(L, "cannot iterate a table with a %s key", luaL_typename(L, idx));
	}
}

static int okey_cmp(const okey *a, const okey *b)
{
	if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
	if (a->rank == 1) {
		size_t m = a->len < b->len ? a->len : b->len;
		int r = memcmp(a->s, b->s, m);
		if (r) return r < 0 ? -1 : 1;
		return a->len < b->len ? -1 : a->len > b->len;
	}
	return a->i < b->i ? -1 : a->i > b->i;
}

static int okey_qcmp(const void *a, const void *b)
{
	return okey_cmp(a, b);
}

/* next(t [, k]): the smallest key greater than k; O(#t), charged per key. */
static int b_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	okey cur, best, k;
	int have_cur = !lua_isnil(L, 2), have_best = 0;
	if (have_cur) okey_get(L, 2, &cur);
	lua_pushnil(L); /* 3: best key */
	lua_pushnil(L);
	unsigned n = 0;
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		if ((++n & 63) == 0) vm_charge(L, 64 * VM_GAS_ELEM);
		okey_get(L, -1, &k);
		if ((!have_cur || okey_cmp(&k, &cur) > 0) &&
		    (!have_best || okey_cmp(&k, &best) < 0)) {
			lua_pushvalue(L, -1);
			lua_replace(L, 3);
			okey_get(L, 3, &best); /* anchored by slot 3 */
			have_best = 1;
		}
	}
	vm_charge(L, (n & 63) * VM_GAS_ELEM);
	if (!have_best) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushvalue(L, 3);
	lua_pushvalue(L, 3);
	lua_rawget(L, 1);
	return 2;
}

static int pairs_iter(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Integer pos = lua_tointeger(L, lua_upvalueindex(2));
	lua_Integer n = lua_tointeger(L, lua_upvalueindex(3));
	while (pos < n) {
		pos++;
		lua_rawgeti(L, lua_upvalueindex(1), pos);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, 1) != LUA_TNIL) {
			lua_pushinteger(L, pos);
			lua_replace(L, lua_upvalueindex(2));
			return 2;
		}
		lua_pop(L, 2); /* removed during the traversal: skip */
	}
	lua_pushinteger(L, pos);
	lua_replace(L, lua_upvalueindex(2));
	return 0;
}

/* pairs(t): a sorted snapshot of the keys, then O(1) per step. */
static int b_pairs(lua_State *L)
{
	luaL_checkany(L, 1);
	if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
		lua_pushvalue(L, 1);
		lua_call(L, 1, 3);
		return 3;
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_newtable(L); /* 2: keys in table order */
	int n = 0;
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		okey k;
		okey_get(L, -1, &k);
		if ((++n & 63) == 0) vm_charge(L, 64 * VM_GAS_ELEM);
		lua_pushvalue(L, -1);
		lua_rawseti(L, 2, n);
	}
	int lg = 1;
	while (lg < 62 && (1LL << lg) < n)
		lg++;
	vm_charge(L, (uint64_t)(n & 63) * VM_GAS_ELEM + (uint64_t)n * (uint64_t)lg);
	okey *a = lua_newuserdatauv(L, (size_t)n * sizeof(okey) + 1, 0); /* 3 */
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, 2, i + 1);
		okey_get(L, -1, &a[i]); /* strings stay anchored by table 2 */
		a[i].pos = i + 1;
		lua_pop(L, 1);
	}
	qsort(a, (size_t)n, sizeof(okey), okey_qcmp);
	lua_createtable(L, n, 0); /* 4: sorted keys */
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, 2, a[i].pos);
		lua_rawseti(L, 4, i + 1);
	}
	lua_pushinteger(L, 0);
	lua_pushinteger(L, n);
	lua_pushcclosure(L, pairs_iter, 3);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* ------------------------------------------------------------ tostring */

void vm_tostring(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
		lua_pushvalue(L, idx);
		lua_call(L, 1, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "'__tostring' must return a string");
		return;
	}
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
	case LUA_TSTRING:
		lua_pushvalue(L, idx);
		lua_tolstring(L, -1, NULL); /* numbers: "%d" or "%.14g", never an address */
		vm_check_abort(L);          /* a float's text was charged by numfmt.c */
		break;
	case LUA_TBOOLEAN:
		lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
		break;
	case LUA_TNIL:
		lua_pushliteral(L, "nil");
		break;
	default:
		lua_pushstring(L, luaL_typename(L, idx)); /* "table", "function": no address */
		break;
	}
}

static int b_tostring(lua_State *L)
{
	luaL_checkany(L, 1);
	vm_tostring(L, 1);
	return 1;
}

/* --------------------------------------------------------- metatables */

/*
 * setmetatable installs a hidden copy of the metamethods (taken when it is
 * called); getmetatable returns the hidden copy's __metatable field, which
 * is the caller's table (or its own __metatable). So __mode can never be
 * added later, and the real metatable is unreachable.
 */
static const char hidden_key = 0; /* in a hidden copy: 1, or 2 when the user protected it */

static const char *const mm_names[] = {
    "__index", "__newindex", "__call",  "__tostring", "__len",  "__eq",  "__lt",
    "__le",    "__unm",      "__add",   "__sub",      "__mul",  "__div", "__mod",
    "__pow",   "__idiv",     "__band",  "__bor",      "__bxor", "__shl", "__shr",
    "__bnot",  "__concat",   "__close", "__pairs",    NULL,
};

static int b_getmetatable(lua_State *L)
{
	luaL_checkany(L, 1);
	if (!lua_getmetatable(L, 1)) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushliteral(L, "__metatable");
	lua_rawget(L, -2);
	return 1;
}

/* Length of the __index (or __newindex) table chain starting at the table at idx. */
static int chain_walk(lua_State *L, int idx, const char *field, int avoid)
{
	int len = 0;
	lua_pushvalue(L, idx);
	for (;;) {
		if (lua_rawequal(L, -1, avoid)) luaL_error(L, "setmetatable: %s loop", field);
		if (!lua_getmetatable(L, -1)) break;
		lua_pushstring(L, field);
		if (lua_rawget(L, -2) != LUA_TTABLE) {
			lua_pop(L, 2);
			break;
		}
		lua_replace(L, -3);
		lua_pop(L, 1);
		if (++len > VM_META_CHAIN_MAX) break;
	}
	lua_pop(L, 1);
	return len;
}

/*
 * Bounds the number of tables one indexing operation may visit. up[t] is
 * the longest chain seen so far that reaches t (kept for the call); the new
 * link t -> y must keep up[t] + 1 + chain(y) within VM_META_CHAIN_MAX.
 */
static void chain_check(lua_State *L, int t, int h, const char *field, const void *mapkey)
{
	lua_pushstring(L, field);
	if (lua_rawget(L, h) != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	int y = lua_gettop(L);
	int down = 1 + chain_walk(L, y, field, t);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, mapkey) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, mapkey);
	}
	int map = lua_gettop(L);
	lua_pushvalue(L, t);
	lua_Integer up = lua_rawget(L, map) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
	lua_pop(L, 1);
	if (up + down > VM_META_CHAIN_MAX)
		luaL_error(L, "setmetatable: %s chain longer than %d tables", field,
		           VM_META_CHAIN_MAX);
	/* propagate along the chain below y */
	lua_pushvalue(L, y);
	for (lua_Integer k = 1; k <= VM_META_CHAIN_MAX; k++) {
		lua_pushvalue(L, -1);
		lua_Integer old = lua_rawget(L, map) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
		lua_pop(L, 1);
		if (up + k > old) {
			lua_pushvalue(L, -1);
			lua_pushinteger(L, up + k);
			lua_rawset(L, map);
		}
		if (!lua_getmetatable(L, -1)) break;
		lua_pushstring(L, field);
		if (lua_rawget(L, -2) != LUA_TTABLE) {
			lua_pop(L, 2);
			break;
		}
		lua_replace(L, -3);
		lua_pop(L, 1);
	}
	lua_settop(L, y - 1);
}

static int b_setmetatable(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int t2 = lua_type(L, 2);
	luaL_argexpected(L, t2 == LUA_TNIL || t2 == LUA_TTABLE, 2, "nil or table");
	lua_settop(L, 2);
	vm_charge(L, 30);
	if (lua_getmetatable(L, 1)) {
		int own =
		    lua_rawgetp(L, -1, &hidden_key) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : 0;
		if (own != 1) luaL_error(L, "cannot change a protected metatable");
		lua_pop(L, 2);
	}
	if (t2 == LUA_TNIL) {
		lua_setmetatable(L, 1);
		return 1;
	}
	lua_pushliteral(L, "__gc");
	if (lua_rawget(L, 2) != LUA_TNIL) luaL_error(L, "setmetatable: __gc is not allowed");
	lua_pop(L, 1);
	lua_pushliteral(L, "__mode");
	if (lua_rawget(L, 2) != LUA_TNIL) luaL_error(L, "setmetatable: __mode is not allowed");
	lua_pop(L, 1);
	lua_createtable(L, 0, 4); /* 3: the hidden copy */
	for (const char *const *m = mm_names; *m; m++) {
		lua_pushstring(L, *m);
		int t = lua_rawget(L, 2);
		if (t == LUA_TNIL) {
			lua_pop(L, 1);
			continue;
		}
		int index_like = m - mm_names < 2;
		if (!(t == LUA_TFUNCTION || (index_like && t == LUA_TTABLE)))
			luaL_error(L, "setmetatable: %s must be a %s", *m,
			           index_like ? "table or a function" : "function");
		lua_pushstring(L, *m);
		lua_insert(L, -2);
		lua_rawset(L, 3);
	}
	lua_pushliteral(L, "__metatable");
	if (lua_rawget(L, 2) != LUA_TNIL) {
		lua_pushinteger(L, 2);
	} else {
		lua_pop(L, 1);
		lua_pushvalue(L, 2);
		lua_pushinteger(L, 1);
	}
	lua_rawsetp(L, 3, &hidden_key);
	lua_pushliteral(L, "__metatable");
	lua_insert(L, -2);
	lua_rawset(L, 3);
	chain_check(L, 1, 3, "__index", &vm_key_up_index);
	chain_check(L, 1, 3, "__newindex", &vm_key_up_newindex);
	lua_pushvalue(L, 3);
	lua_setmetatable(L, 1);
	lua_settop(L, 1);
	return 1;
}

static int b_rawset(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	luaL_checkany(L, 3);
	if (vm_is_readonly(L, 1)) luaL_error(L, "attempt to modify a read-only table");
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 1;
}

/* ---------------------------------------------------------------- length */

/*
 * Stock Lua's #t returns "a border" found from the array part's size, which
 * for a table with holes depends on when the table last rehashed, hence on
 * the per-state random string-hash seed: two nodes could disagree. This
 * border depends only on the contents: 0 if t[1] is nil, else the first
 * nil found by doubling j = 2, 4, 8, ... and a binary search between the
 * last non-nil and the first nil index (raw reads, at most ~126, charged
 * one gas each). For a sequence it is the sequence's length, as in Lua.
 */
/* t[i] == nil, raw; counts the read. */
static int raw_nil(lua_State *L, int t, lua_Integer i, uint64_t *probes)
{
	++*probes;
	int nil = lua_rawgeti(L, t, i) == LUA_TNIL;
	lua_pop(L, 1);
	return nil;
}

static lua_Integer raw_border(lua_State *L, int t)
{
	uint64_t probes = 0;
	lua_Unsigned i = 0, j = 1; /* i == 0 or t[i] ~= nil; j: the next index to look at */
	while (!raw_nil(L, t, (lua_Integer)j, &probes)) {
		i = j;
		if (j > (lua_Unsigned)LUA_MAXINTEGER / 2) { /* doubling would overflow */
			j = (lua_Unsigned)LUA_MAXINTEGER;
			if (!raw_nil(L, t, (lua_Integer)j, &probes)) i = j;
			break;
		}
		j *= 2;
	}
	while (j - i > 1) { /* t[i] ~= nil (or i == 0), t[j] == nil */
		lua_Unsigned m = i + (j - i) / 2;
		if (raw_nil(L, t, (lua_Integer)m, &probes))
			j = m;
		else
			i = m;
	}
	vm_charge(L, probes * VM_GAS_LEN_PROBE);
	return (lua_Integer)i;
}

/* Pushes #v with the operator's semantics: strings raw, tables __len or border. */
static void push_len(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		lua_pushinteger(L, (lua_Integer)lua_rawlen(L, idx));
		return;
	case LUA_TTABLE:
		if (luaL_getmetafield(L, idx, "__len") == LUA_TNIL) {
			lua_pushinteger(L, raw_border(L, idx));
			return;
		}
		lua_pop(L, 1);
		break;
	default:
		break;
	}
	lua_len(L, idx); /* __len, or Lua's own "attempt to get length of a X value" */
}

lua_Integer vm_len(lua_State *L, int idx)
{
	push_len(L, idx);
	int isnum;
	lua_Integer n = lua_tointegerx(L, -1, &isnum);
	if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
		luaL_error(L, "object length is not an integer");
	lua_pop(L, 1);
	return n;
}

/* LIB.__ssp_len(v): what `#v` compiles to (rewrite.c). */
static int b_len(lua_State *L)
{
	if (lua_isnone(L, 1)) lua_pushnil(L); /* #... with no varargs */
	lua_settop(L, 1);
	push_len(L, 1);
	return 1;
}

static int b_rawlen(lua_State *L)
{
	int t = lua_type(L, 1);
	luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
	lua_pushinteger(L, t == LUA_TSTRING ? (lua_Integer)lua_rawlen(L, 1) : raw_border(L, 1));
	return 1;
}

/* ------------------------------------------------------------- opening */

void vm_open_base(lua_State *L, int lib)
{
	lib = lua_absindex(L, lib);
	/* the stock base functions we keep, taken from a throwaway _G */
	lua_pushcfunction(L, luaopen_base);
	lua_call(L, 0, 1);
	int g = lua_gettop(L);
	static const char *const direct[] = {"assert",   "ipairs", "type",
	                                     "rawequal", "rawget", NULL};
	static const char *const wrapped[] = {"error", "select", "tonumber", NULL};
	for (const char *const *n = direct; *n; n++) {
		lua_getfield(L, g, *n);
		lua_setfield(L, lib, *n);
	}
	for (const char *const *n = wrapped; *n; n++) {
		lua_getfield(L, g, *n);
		vm_push_stock(L, lua_tocfunction(L, -1));
		lua_setfield(L, lib, *n);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	static const luaL_Reg own[] = {
	    {"next", b_next},
	    {"pairs", b_pairs},
	    {"tostring", b_tostring},
	    {"getmetatable", b_getmetatable},
	    {"setmetatable", b_setmetatable},
	    {"rawset", b_rawset},
	    {"rawlen", b_rawlen},
	    {VM_LEN_NAME, b_len},
	    {"pcall", vm_pcall_wrap},
	    {"xpcall", vm_xpcall_wrap},
	    {NULL, NULL},
	};
	lua_pushvalue(L, lib);
	luaL_setfuncs(L, own, 0);
	lua_pop(L, 1);
}
