/*
 * abi.c — a contract's callable surface (vm layer). At the top level a
 * contract marks global functions with abi.register (callable), abi.payable
 * (callable with value) and abi.view (callable read-only, and callable as
 * a transaction); the marks are kept per call, keyed by function value, and
 * resolved to global names after the top level has run. `init` is the
 * deploy-time constructor and can never be registered.
 */
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

#define ABI_MAX 256

int vm_abi_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > SSP_VM_NAME_MAX) return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
	}
	return 1;
}

static int abi_mark(lua_State *L, int kind, const char *name)
{
	vm_call *c = vm_cur(L);
	if (c->phase != VM_PHASE_TOP) luaL_error(L, "abi.%s is only valid at the top level", name);
	int n = lua_gettop(L);
	for (int i = 1; i <= n; i++)
		luaL_checktype(L, i, LUA_TFUNCTION);
	vm_charge(L, (uint64_t)n * 10);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &vm_key_abi) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &vm_key_abi);
	}
	int t = lua_gettop(L);
	for (int i = 1; i <= n; i++) {
		lua_pushvalue(L, i);
		lua_Integer old = lua_rawget(L, t) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
		lua_pop(L, 1);
		lua_pushvalue(L, i);
		lua_pushinteger(L, old | kind);
		lua_rawset(L, t);
	}
	return 0;
}

static int a_register(lua_State *L)
{
	return abi_mark(L, SSP_VM_FN_CALL, "register");
}

static int a_payable(lua_State *L)
{
	return abi_mark(L, SSP_VM_FN_CALL | SSP_VM_FN_PAYABLE, "payable");
}

static int a_view(lua_State *L)
{
	return abi_mark(L, SSP_VM_FN_CALL | SSP_VM_FN_VIEW, "view");
}

int vm_abi_kind(lua_State *L, int fidx)
{
	fidx = lua_absindex(L, fidx);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &vm_key_abi) != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	lua_pushvalue(L, fidx);
	int kind = lua_rawget(L, -2) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : 0;
	lua_pop(L, 2);
	return kind;
}

static int fn_cmp(const void *a, const void *b)
{
	return strcmp(((const ssp_vm_fn *)a)->name, ((const ssp_vm_fn *)b)->name);
}

void vm_abi_collect(lua_State *L, int env, ssp_vm_abi *abi)
{
	env = lua_absindex(L, env);
	lua_newtable(L); /* names: array of {name, kind} */
	int list = lua_gettop(L);
	lua_newtable(L); /* functions seen under some global name */
	int seen = lua_gettop(L);
	int n = 0;
	lua_pushnil(L);
	while (lua_next(L, env)) {
		int kind = lua_type(L, -1) == LUA_TFUNCTION ? vm_abi_kind(L, -1) : 0;
		if (kind) {
			size_t l;
			if (lua_type(L, -2) != LUA_TSTRING)
				luaL_error(L, "abi: a registered function has a non-string name");
			const char *name = lua_tolstring(L, -2, &l);
			if (!vm_abi_name_ok(name, l))
				luaL_error(L,
				           "abi: '%s' is not a valid function name (letters, "
				           "digits, _; at most %d)",
				           name, SSP_VM_NAME_MAX);
			if (strcmp(name, "init") == 0)
				luaL_error(L, "abi: init cannot be registered");
			if (++n > ABI_MAX) luaL_error(L, "abi: more than %d functions", ABI_MAX);
			lua_pushvalue(L, -1);
			lua_pushboolean(L, 1);
			lua_rawset(L, seen);
			lua_pushvalue(L, -2);
			lua_rawseti(L, list, 2 * n - 1);
			lua_pushinteger(L, kind);
			lua_rawseti(L, list, 2 * n);
		}
		lua_pop(L, 1);
	}
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &vm_key_abi) == LUA_TTABLE) {
		int marks = lua_gettop(L);
		lua_pushnil(L);
		while (lua_next(L, marks)) {
			lua_pop(L, 1);
			lua_pushvalue(L, -1);
			if (lua_rawget(L, seen) == LUA_TNIL)
				luaL_error(L,
				           "abi: a registered function is not a global function");
			lua_pop(L, 1);
		}
	}
	lua_pushliteral(L, "init");
	abi->has_init = lua_rawget(L, env) == LUA_TFUNCTION;
	lua_pop(L, 1);
	/* nothing below raises: safe to hold malloc'd memory */
	abi->fns = ssp_calloc((size_t)n + 1, sizeof(ssp_vm_fn));
	if (!abi->fns) {
		vm_set_abort(vm_cur(L), VM_ABORT_NODE, SSP_ERR_NOMEM, "out of memory");
		vm_throw(L);
	}
	abi->nfns = (size_t)n;
	for (int i = 0; i < n; i++) {
		size_t l;
		lua_rawgeti(L, list, 2 * i + 1);
		const char *name = lua_tolstring(L, -1, &l);
		memcpy(abi->fns[i].name, name, l);
		abi->fns[i].name[l] = 0;
		lua_pop(L, 1);
		lua_rawgeti(L, list, 2 * i + 2);
		abi->fns[i].kind = (uint8_t)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	qsort(abi->fns, abi->nfns, sizeof(ssp_vm_fn), fn_cmp);
	lua_settop(L, list - 1);
}

void vm_open_abi(lua_State *L, int lib)
{
	static const luaL_Reg f[] = {
	    {"register", a_register},
	    {"payable", a_payable},
	    {"view", a_view},
	    {NULL, NULL},
	};
	lib = lua_absindex(L, lib);
	lua_newtable(L);
	luaL_setfuncs(L, f, 0);
	lua_setfield(L, lib, "abi");
}
