/*
 * sandbox.c — construction of a warm lua_State for contracts (vm layer):
 * lua_newstate with the metering allocator, a panic handler, the
 * whitelisted library (one read-only table, LIB, reached only through the
 * __index of each call's fresh globals table), read-only proxies for every
 * library table, and a string metatable whose __index is the sandboxed
 * string table. The stock global table is emptied: nothing stock is
 * reachable except what LIB lists. Also the small helpers every library
 * file uses (strict integer arguments, string limits, per-call tables).
 */
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

static const char key_lib = 0, key_envmt = 0, proxy_key = 0;
const char vm_key_abi = 0, vm_key_up_index = 0, vm_key_up_newindex = 0, vm_key_cache = 0;

lua_Integer vm_checkint(lua_State *L, int arg)
{
	if (lua_type(L, arg) != LUA_TNUMBER) luaL_typeerror(L, arg, "number");
	int isnum;
	lua_Integer v = lua_tointegerx(L, arg, &isnum);
	if (!isnum) luaL_argerror(L, arg, "number has no integer representation");
	return v;
}

lua_Integer vm_optint(lua_State *L, int arg, lua_Integer def)
{
	return lua_isnoneornil(L, arg) ? def : vm_checkint(L, arg);
}

int vm_is_readonly(lua_State *L, int idx)
{
	if (!lua_getmetatable(L, idx)) return 0;
	int r = lua_rawgetp(L, -1, &proxy_key) != LUA_TNIL;
	lua_pop(L, 2);
	return r;
}

void vm_clear_call_tables(lua_State *L)
{
	lua_pushnil(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &vm_key_abi);
	lua_pushnil(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &vm_key_up_index);
	lua_pushnil(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &vm_key_up_newindex);
}

void vm_push_env(lua_State *L)
{
	lua_createtable(L, 0, 0);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &key_envmt);
	lua_setmetatable(L, -2);
	lua_pushliteral(L, "_G");
	lua_pushvalue(L, -2);
	lua_rawset(L, -3);
}

static int readonly_newindex(lua_State *L)
{
	return luaL_error(L, "attempt to modify a read-only table");
}

/* Replaces LIB[name] (a table) by an empty proxy whose __index is the table. */
static void make_proxy(lua_State *L, int lib, const char *name)
{
	lua_newtable(L);
	lua_createtable(L, 0, 4);
	lua_getfield(L, lib, name);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, readonly_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pushboolean(L, 1);
	lua_rawsetp(L, -2, &proxy_key);
	lua_setmetatable(L, -2);
	lua_setfield(L, lib, name);
}

static int build(lua_State *L)
{
	lua_settop(L, 0);
	lua_createtable(L, 0, 40); /* 1: LIB */
	vm_open_base(L, 1);
	vm_open_ops(L, 1);
	lua_newtable(L); /* 2: string */
	lua_newtable(L); /* 3: string metatable */
	vm_open_string(L, 2, 3);
	lua_pushliteral(L, "");
	lua_pushvalue(L, 3);
	lua_setmetatable(L, -2);
	lua_pop(L, 1);
	lua_pushvalue(L, 2);
	lua_setfield(L, 1, "string");
	lua_settop(L, 1);
	lua_newtable(L);
	vm_open_table(L, 2);
	lua_setfield(L, 1, "table");
	lua_newtable(L);
	vm_open_math(L, 2);
	lua_setfield(L, 1, "math");
	lua_newtable(L);
	vm_open_utf8(L, 2);
	lua_setfield(L, 1, "utf8");
	vm_open_host(L, 1);
	vm_open_abi(L, 1);
	static const char *const libs[] = {"string",  "table", "math", "utf8", "ssp",
	                                   "storage", "token", "abi",  NULL};
	for (const char *const *n = libs; *n; n++)
		make_proxy(L, 1, *n);
	lua_pushvalue(L, 1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_lib);
	lua_createtable(L, 0, 2); /* the metatable of every call's globals */
	lua_pushvalue(L, 1);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &key_envmt);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &vm_key_cache);
	/*
	 * lauxlib creates the metatable of its buffer boxes on first use; create
	 * it now so that no call pays for it depending on what ran before.
	 */
	luaL_Buffer b;
	luaL_buffinitsize(L, &b, 4 * LUAL_BUFFERSIZE);
	luaL_pushresultsize(&b, 0);
	lua_pop(L, 1);
	/* nothing stock stays reachable: an empty global table */
	lua_newtable(L);
	lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
	return 0;
}

static int vm_panic(lua_State *L)
{
	void *ud;
	(void)lua_getallocf(L, &ud);
	vm_state *s = ud;
	s->broken = 1;
	SSP_LOGE("vm", "Lua panic: %s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
	if (s->panic_armed) longjmp(s->panic_jmp, 1);
	return 0; /* Lua aborts */
}

int vm_protected(vm_state *s, lua_CFunction f, void *ud)
{
	volatile int st = VM_PANIC;
	s->panic_armed = 1;
	if (setjmp(s->panic_jmp) == 0) {
		lua_pushcfunction(s->L, f);
		lua_pushlightuserdata(s->L, ud);
		st = lua_pcall(s->L, 1, 0, 0);
	}
	s->panic_armed = 0;
	return st;
}

vm_state *vm_state_new(ssp_vm *vm)
{
	vm_state *s = ssp_calloc(1, sizeof *s);
	if (!s) return NULL;
	s->vm = vm;
	ssp_buf_init(&s->io, VM_VALUE_MAX);
	ssp_buf_init(&s->enc, VM_VALUE_MAX);
	s->L = lua_newstate(vm_alloc, s);
	if (!s->L) {
		free(s);
		return NULL;
	}
	vm->states_created++;
	lua_atpanic(s->L, vm_panic);
	int st = vm_protected(s, build, NULL);
	if (st == VM_PANIC)
		return NULL; /* the state is unusable: leak it rather than risk lua_close */
	if (st != LUA_OK) {
		SSP_LOGE("vm", "cannot build the sandbox: %s",
		         lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : "?");
		vm_state_free(s);
		return NULL;
	}
	lua_settop(s->L, 0);
	return s;
}

void vm_state_free(vm_state *s)
{
	if (!s) return;
	if (!s->broken) {
		lua_close(s->L);
		ssp_buf_free(&s->io);
		ssp_buf_free(&s->enc);
		free(s);
	}
}
