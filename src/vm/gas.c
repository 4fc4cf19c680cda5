/*
 * gas.c — metering of the contract VM (vm layer): the lua_Alloc that charges
 * new objects and enforces the memory limits, the count/call hook that
 * charges instructions and bounds depth and varargs, the sticky abort that
 * pcall cannot catch, and the wrappers that charge stock C functions.
 *
 * Only deterministic quantities are charged (docs/internals/vm.md): VM
 * instructions, sizes computed by host wrappers, and allocations of new
 * tables, closures, upvalues, userdata and long strings. Table parts,
 * stacks and interned short strings depend on the string-hash seed and the
 * state's history, so they only count towards node-local caps.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

const char vm_abort_key = 0;

static vm_state *state_of(lua_State *L)
{
	void *ud;
	(void)lua_getallocf(L, &ud);
	return ud;
}

vm_call *vm_cur(lua_State *L)
{
	vm_call *c = state_of(L)->call;
	if (!c) luaL_error(L, "no contract call is running");
	return c;
}

void vm_set_abort(vm_call *c, int kind, int code, const char *fmt, ...)
{
	if (c->abort) return;
	c->abort = kind;
	if (kind == VM_ABORT_STATUS)
		c->status = code;
	else
		c->node_err = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	if (code == SSP_ERR_VM_GAS) c->gas_used = c->gas_limit;
}

_Noreturn void vm_throw(lua_State *L)
{
	/* every further instruction re-raises: nothing can run after an abort */
	lua_sethook(L, vm_hook, LUA_MASKCOUNT | LUA_MASKCALL, 1);
	lua_pushlightuserdata(L, (void *)&vm_abort_key);
	lua_error(L);
	abort(); /* unreachable: lua_error does not return */
}

_Noreturn void vm_fail(lua_State *L, int status, const char *fmt, ...)
{
	vm_call *c = vm_cur(L);
	if (!c->abort) {
		c->abort = VM_ABORT_STATUS;
		c->status = status;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->msg, sizeof c->msg, fmt, ap);
		va_end(ap);
	}
	vm_throw(L);
}

void vm_check_abort(lua_State *L)
{
	vm_call *c = state_of(L)->call;
	if (c && c->abort) vm_throw(L);
}

int vm_add_gas(vm_call *c, uint64_t gas)
{
	if (c->abort) return -1;
	if (gas > c->gas_limit - c->gas_used) {
		vm_set_abort(c, VM_ABORT_STATUS, SSP_ERR_VM_GAS, "out of gas");
		return -1;
	}
	c->gas_used += gas;
	return 0;
}

void vm_charge(lua_State *L, uint64_t gas)
{
	vm_call *c = vm_cur(L);
	if (vm_add_gas(c, gas)) vm_throw(L);
}

void vm_charge_bytes(lua_State *L, size_t n, int shift)
{
	vm_charge(L, ((uint64_t)n + ((1u << shift) - 1)) >> shift);
}

uint64_t vm_float_text_gas(lua_Number x, size_t len)
{
	int e = 0;
	if (isfinite(x) && x != 0) (void)frexp(x, &e); /* exact on every CPU */
	return VM_GAS_FLOAT_TEXT + (uint64_t)(e < 0 ? -e : e) / VM_GAS_FLOAT_EXP_DIV +
	       (uint64_t)VM_GAS_FLOAT_TEXT_B * len;
}

/*
 * The allocator. Lua passes osize = the object's type tag when ptr is NULL
 * for a new GC object, 0 for other new blocks. Shrinking never fails (Lua
 * relies on that). Growth fails when a limit is passed; Lua then raises a
 * memory error, which the pcall wrappers and the call's end see as an abort.
 */
void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	vm_state *s = ud;
	size_t old = ptr ? osize : 0;
	vm_call *cc = s->metering ? s->call : NULL;
	size_t armed = 0;
	if (cc && (ptr || nsize) && !(ptr && nsize == osize)) {
		/*
		 * Same-size rehash detection (node-local): luaH_resize allocates
		 * the new hash part, reinserts, then frees the old one, with no
		 * allocator event in between when the array part keeps its size.
		 * (luaH_resize's array "reallocation" to the same size, often
		 * NULL to 0, is no event). A free of exactly the size just
		 * allocated is a rehash into the
		 * size the table already had: delete/insert churn. Blocks that
		 * follow a new table object (a constructor's presized parts, then
		 * possibly a GC step freeing others) are not armed.
		 */
		armed = cc->churn_armed;
		cc->churn_armed = 0;
		if (!ptr && osize == 0 && nsize >= VM_CHURN_MIN && !cc->after_table)
			cc->churn_armed = nsize;
		cc->after_table = !ptr && osize == LUA_TTABLE;
		if (nsize == 0 && ptr && armed && osize == armed) {
			cc->churn_used += osize;
			if (osize > cc->churn_max) cc->churn_max = osize;
		}
	}
	if (nsize == 0) {
		free(ptr);
		s->inuse -= old;
		return NULL;
	}
	if (nsize > old) {
		size_t grow = nsize - old;
		if (s->metering) {
			vm_call *c = s->call;
			if (c->abort) return NULL;
			if (!ptr && osize == LUA_TSTRING && nsize > s->vm->shortstr_alloc &&
			    nsize - s->vm->shortstr_alloc + 40 > VM_STRING_MAX) {
				vm_set_abort(c, VM_ABORT_STATUS, SSP_ERR_VM_MEMORY,
				             "string longer than %u bytes", VM_STRING_MAX);
				return NULL;
			}
			if (s->inuse + grow > c->phys_limit) {
				vm_set_abort(c, VM_ABORT_NODE, SSP_ERR_VM_NODELIMIT,
				             "node memory limit of the call");
				return NULL;
			}
			if (grow > c->work_limit - c->work_used) {
				vm_set_abort(c, VM_ABORT_NODE, SSP_ERR_VM_NODELIMIT,
				             "node allocation budget of the call");
				return NULL;
			}
			c->work_used += grow;
			/* deterministic classes only: new objects, and strings too long to be
			 * interned */
			int charged = 0;
			if (!ptr) {
				switch ((int)osize) {
				case LUA_TTABLE:
				case LUA_TFUNCTION:
				case LUA_TUSERDATA:
				case LUA_TTHREAD:
				case LUA_NUMTYPES: /* upvalue */
					charged = 1;
					break;
				case LUA_TSTRING:
					charged = nsize > s->vm->shortstr_alloc;
					break;
				default:
					break;
				}
			}
			if (!charged && !ptr && osize == 0 && nsize >= VM_CHURN_MIN &&
			    c->churn_used > (uint64_t)c->slack *
			                        (VM_CHURN_BASE + 2 * c->churn_max +
			                         (uint64_t)VM_CHURN_PER_GAS * c->gas_used)) {
				vm_set_abort(c, VM_ABORT_NODE, SSP_ERR_VM_NODELIMIT,
				             "table rehash churn over %u bytes per gas",
				             VM_CHURN_PER_GAS);
				return NULL;
			}
			if (!charged && !ptr && osize == 0 && nsize >= VM_FREE_MIN) {
				/*
				 * Uncharged new blocks: table hash parts above all (a table whose
				 * inserts follow deletes rehashes on every insert, at a moment
				 * the string-hash seed decides), held to a rate per gas charged
				 * so far, plus the largest such block (a table constructor
				 * presizes its table in one instruction). Stacks (realloc'd,
				 * shrunk by the GC) and CallInfos (small) are left out.
				 * Node-local: see docs/internals/vm.md.
				 */
				if (nsize > c->free_max) c->free_max = nsize;
				uint64_t cap =
				    (uint64_t)c->slack * (VM_FREE_BASE + c->free_max +
				                          (uint64_t)VM_FREE_PER_GAS * c->gas_used);
				if (c->free_used + grow > cap) {
					vm_set_abort(c, VM_ABORT_NODE, SSP_ERR_VM_NODELIMIT,
					             "uncharged allocation over %u bytes "
					             "per gas (table rehash churn?)",
					             VM_FREE_PER_GAS);
					return NULL;
				}
				c->free_used += grow;
			}
			if (charged) {
				if (nsize > c->obj_limit - c->obj_used) {
					vm_set_abort(c, VM_ABORT_STATUS, SSP_ERR_VM_MEMORY,
					             "contract memory limit");
					return NULL;
				}
				c->obj_used += nsize;
				/* a long string may be hashed once, byte by byte (as a table key) */
				unsigned shift = osize == LUA_TSTRING ? VM_GAS_LSTR_SHIFT
				                                      : VM_GAS_ALLOC_SHIFT;
				if (vm_add_gas(c, (nsize + (1u << shift) - 1) >> shift)) return NULL;
			}
		} else if (s->compiling) {
			if (!ptr && osize == LUA_TSTRING && nsize > s->vm->shortstr_alloc &&
			    nsize - s->vm->shortstr_alloc + 40 > VM_STRING_MAX) {
				s->compiling = 2; /* a literal over the string limit */
				return NULL;
			}
			if (s->inuse + grow > VM_COMPILE_MEM) {
				s->compiling = 3;
				return NULL;
			}
		}
	}
	void *np = ssp_realloc(ptr, nsize);
	if (!np) {
		/*
		 * The host's own shortage, whatever the VM is doing (metering,
		 * compiling, looking up the code cache): a node error, never a
		 * contract result another node would not reproduce.
		 */
		if (s->call)
			vm_set_abort(s->call, VM_ABORT_NODE, SSP_ERR_NOMEM, "host out of memory");
		return NULL;
	}
	s->inuse = s->inuse - old + nsize;
	return np;
}

/*
 * Count hook: 1 gas per instruction, charged VM_HOOK_CHUNK at a time when
 * the hook fires (the counter runs from the call's start, so the charge does
 * not depend on the limit). Also bounds Lua call depth. Call hook: bounds
 * the varargs a function receives, so one instruction never copies more
 * than VM_MULTRET_MAX values.
 */
void vm_hook(lua_State *L, lua_Debug *ar)
{
	vm_call *c = state_of(L)->call;
	if (!c) return;
	if (c->abort) vm_throw(L);
	if (ar->event == LUA_HOOKCOUNT) {
		if (vm_add_gas(c, (uint64_t)VM_HOOK_CHUNK * VM_GAS_INSTR)) vm_throw(L);
		lua_Debug deep;
		if (lua_getstack(L, VM_LUA_DEPTH_MAX, &deep))
			luaL_error(L, "stack overflow (more than %d calls deep)", VM_LUA_DEPTH_MAX);
		return;
	}
	if (lua_getinfo(L, "u", ar) && ar->isvararg && lua_getlocal(L, ar, -(VM_MULTRET_MAX + 1))) {
		lua_pop(L, 1);
		luaL_error(L, "too many arguments (more than %d varargs)", VM_MULTRET_MAX);
	}
}

/* pcall(f, ...): as stock, except that an abort always propagates. */
int vm_pcall_wrap(lua_State *L)
{
	luaL_checkany(L, 1);
	vm_check_abort(L);
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	int st = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
	vm_check_abort(L);
	if (st != LUA_OK) {
		lua_pushboolean(L, 0);
		lua_pushvalue(L, -2);
		return 2;
	}
	return lua_gettop(L);
}

/*
 * xpcall(f, msgh, ...). The message handler runs after the stack has
 * unwound, in protected mode, with hooks on: Lua would call it at the error
 * point, and an error raised by the hook leaves hooks off while the handler
 * runs (so a looping handler could never be stopped). Without the debug
 * library the handler cannot see the difference. If the handler itself
 * fails, xpcall returns false and the handler's error.
 */
int vm_xpcall_wrap(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	vm_check_abort(L);
	lua_pushboolean(L, 1);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 2); /* f, msgh, true, f, args... */
	int st = lua_pcall(L, n - 2, LUA_MULTRET, 0);
	vm_check_abort(L);
	if (st == LUA_OK) return lua_gettop(L) - 2;
	lua_pushvalue(L, 2);
	lua_insert(L, -2); /* f, msgh, true, msgh, err */
	lua_pcall(L, 1, 1, 0);
	vm_check_abort(L);
	lua_pushboolean(L, 0);
	lua_replace(L, 3);
	return 2;
}

/*
 * Stock library functions coerce string arguments to numbers in O(length):
 * charge for the string arguments before calling them. The stock function
 * runs in this frame (it uses no upvalues of its own).
 */
int vm_stock_wrap(lua_State *L)
{
	lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
	int n = lua_gettop(L);
	size_t total = 0;
	for (int i = 1; i <= n; i++)
		if (lua_type(L, i) == LUA_TSTRING) total += lua_rawlen(L, i);
	if (total > 32) vm_charge_bytes(L, total, VM_GAS_CONV_SHIFT);
	return f(L);
}

void vm_push_stock(lua_State *L, lua_CFunction f)
{
	lua_pushcfunction(L, f);
	lua_pushcclosure(L, vm_stock_wrap, 1);
}
