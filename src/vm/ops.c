/*
 * ops.c — the comparison and concatenation operators as metered calls (vm
 * layer). rewrite.c (pass 2) turns `a == b` into `__ssp_eq(a, b)` (and
 * `~=` ne, `<` lt, `<=` le, `>` gt, `>=` ge) and `a .. b .. c` into
 * `__ssp_cat(a, b, (c))`, because stock Lua does these in one VM
 * instruction in time proportional to the operands (string comparison,
 * number-to-text conversion) and the instruction count cannot price them.
 *
 * Semantics are the operators' own: numbers compare as Lua compares them,
 * strings byte by byte (what strcoll does in the C collation locale, which
 * ssp_vm_new requires; Lua's l_strcmp walks NUL-separated pieces with one
 * strcoll each, which a string of NULs makes ~20x slower than memcmp),
 * tables and userdata through __eq/__lt/__le as the VM calls them (same
 * operand order, `>` as `b < a`), and an order error has Lua's message and
 * position ("contract:12: attempt to compare number with nil"). The
 * concatenation is done here too (o_cat), pair by pair where a __concat
 * metamethod is involved; its errors have Lua's message and position but
 * not the operand's variable name.
 */
#include <pthread.h>
#include <string.h>

#include "vm/vm_internal.h"

static int compat_lt_le = -1; /* <= falls back to not (b < a) with __lt (LUA_COMPAT_LT_LE) */
static pthread_once_t compat_once = PTHREAD_ONCE_INIT;

static void probe_compat(void)
{
	compat_lt_le = 0;
	lua_State *L = luaL_newstate();
	if (!L) return;
	static const char probe[] =
	    "local mt = {__lt = function() return false end}\n"
	    "local a = setmetatable({}, mt)\n"
	    "return pcall(function() return a <= a end)\n";
	luaL_openlibs(L);
	if (luaL_loadstring(L, probe) == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK)
		compat_lt_le = lua_toboolean(L, -1);
	lua_close(L);
}

void vm_ops_init(void)
{
	pthread_once(&compat_once, probe_compat);
}

/* luaT_objtypename: a table's or full userdata's metatable __name, else the type. */
static const char *objtypename(lua_State *L, int i)
{
	int t = lua_type(L, i);
	if ((t == LUA_TTABLE || (t == LUA_TUSERDATA && !lua_islightuserdata(L, i))) &&
	    lua_getmetatable(L, i)) {
		lua_pushliteral(L, "__name");
		int nt = lua_rawget(L, -2);
		const char *n = nt == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		lua_pop(L, 2); /* the string stays reachable from the metatable */
		if (n) return n;
	}
	return lua_typename(L, t);
}

static int has_tm(lua_State *L, int i, const char *ev)
{
	if (luaL_getmetafield(L, i, ev) == LUA_TNIL) return 0;
	lua_pop(L, 1);
	return 1;
}

/* Lua's luaG_ordererror, positioned at the calling Lua function like the VM's. */
static _Noreturn void order_error(lua_State *L, int a, int b)
{
	const char *t1 = objtypename(L, a), *t2 = objtypename(L, b);
	if (strcmp(t1, t2) == 0) luaL_error(L, "attempt to compare two %s values", t1);
	luaL_error(L, "attempt to compare %s with %s", t1, t2);
	abort(); /* unreachable */
}

/* Both strings: charge, then compare bytes (unsigned), a prefix first. */
static int str_order(lua_State *L, int a, int b, uint64_t base)
{
	size_t la, lb;
	const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
	size_t m = la < lb ? la : lb;
	vm_charge(L, base + (m >> VM_GAS_CMP_SHIFT));
	int c = memcmp(sa, sb, m);
	if (c == 0) c = (la > lb) - (la < lb);
	return c;
}

/* a < b (op LUA_OPLT) or a <= b (LUA_OPLE) with the VM's semantics; base: gas per call. */
static int order(lua_State *L, int a, int b, int op, uint64_t base)
{
	int ta = lua_type(L, a), tb = lua_type(L, b);
	if (ta == LUA_TSTRING && tb == LUA_TSTRING) {
		int c = str_order(L, a, b, base);
		return op == LUA_OPLT ? c < 0 : c <= 0;
	}
	if (base) vm_charge(L, base);
	if (!(ta == LUA_TNUMBER && tb == LUA_TNUMBER)) {
		const char *ev = op == LUA_OPLT ? "__lt" : "__le";
		int found = has_tm(L, a, ev) || has_tm(L, b, ev);
		if (!found && op == LUA_OPLE && compat_lt_le == 1)
			found = has_tm(L, a, "__lt") || has_tm(L, b, "__lt");
		if (!found) order_error(L, a, b);
	}
	return lua_compare(L, a, b, op);
}

int vm_less(lua_State *L, int a, int b)
{
	return order(L, lua_absindex(L, a), lua_absindex(L, b), LUA_OPLT, 0);
}

static int equal(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING) {
		/* memcmp only when the lengths are equal (long strings) */
		size_t la = lua_rawlen(L, 1), lb = lua_rawlen(L, 2);
		vm_charge(L, VM_GAS_CMP + (la == lb ? la >> VM_GAS_CMP_SHIFT : 0));
		return lua_rawequal(L, 1, 2);
	}
	vm_charge(L, VM_GAS_CMP);
	return lua_compare(L, 1, 2, LUA_OPEQ); /* __eq as the VM calls it */
}

static int o_eq(lua_State *L)
{
	lua_pushboolean(L, equal(L));
	return 1;
}

static int o_ne(lua_State *L)
{
	lua_pushboolean(L, !equal(L));
	return 1;
}

static int o_lt(lua_State *L)
{
	lua_settop(L, 2);
	lua_pushboolean(L, order(L, 1, 2, LUA_OPLT, VM_GAS_CMP));
	return 1;
}

static int o_le(lua_State *L)
{
	lua_settop(L, 2);
	lua_pushboolean(L, order(L, 1, 2, LUA_OPLE, VM_GAS_CMP));
	return 1;
}

/* a > b is b < a for the VM (operands still evaluated a first) */
static int o_gt(lua_State *L)
{
	lua_settop(L, 2);
	lua_pushboolean(L, order(L, 2, 1, LUA_OPLT, VM_GAS_CMP));
	return 1;
}

static int o_ge(lua_State *L)
{
	lua_settop(L, 2);
	lua_pushboolean(L, order(L, 2, 1, LUA_OPLE, VM_GAS_CMP));
	return 1;
}

static int concatable(lua_State *L, int i)
{
	int t = lua_type(L, i);
	return t == LUA_TSTRING || t == LUA_TNUMBER;
}

/*
 * __ssp_cat(a, b, …): the operands of one `a .. b .. c` chain (the last one
 * parenthesised by the rewriter, so a call there gives one value). Does what
 * Lua's OP_CONCAT does, from the right: a run of strings and numbers is
 * joined at once (lua_concat of the run: no metamethod, no Lua call), and
 * a pair with any other value calls its __concat metamethod as a plain
 * lua_call. Never the metamethod through lua_concat/luaV_concat: stock
 * liblua 5.4.4 reads freed stack there when the metamethod grows the stack
 * (valgrind; test_concat_metamethod_chain). Charges the chain, each operand, and the bytes of every join's
 * result (so metamethods in a chain cannot make the copying quadratic for
 * free). An operand nothing can concatenate is Lua's error at the caller's
 * line, without the variable's name.
 */
static int o_cat(lua_State *L)
{
	int top = lua_gettop(L);
	if (top < 1) return 0;
	vm_charge(L, VM_GAS_CAT + (uint64_t)top * VM_GAS_CAT_OP);
	while (top > 1) {
		int k = 0;
		while (k < top && concatable(L, top - k))
			k++;
		if (k < 2) {
			/* a pair for __concat: the first operand's metamethod, else the second's
			 * (luaT_gettmbyobj's order, raw lookups both), called as a plain Lua call */
			int a = top - 1, b = top;
			if (luaL_getmetafield(L, a, "__concat") == LUA_TNIL &&
			    luaL_getmetafield(L, b, "__concat") == LUA_TNIL) {
				int bad = concatable(L, a) ? b : a; /* luaL_error adds the caller's line */
				return luaL_error(L, "attempt to concatenate a %s value",
				                  luaL_typename(L, bad));
			}
			lua_insert(L, a); /* tm, a, b */
			lua_call(L, 2, 1);
			top -= 1;
			continue;
		}
		lua_concat(L, k); /* strings and numbers only: no metamethod, no Lua call */
		top -= k - 1;
		vm_charge(L, (uint64_t)(lua_rawlen(L, top) >> VM_GAS_BYTES_SHIFT));
	}
	return 1;
}

void vm_open_ops(lua_State *L, int lib)
{
	static const luaL_Reg ops[] = {
	    {"__ssp_eq", o_eq}, {"__ssp_ne", o_ne}, {"__ssp_lt", o_lt},   {"__ssp_le", o_le},
	    {"__ssp_gt", o_gt}, {"__ssp_ge", o_ge}, {"__ssp_cat", o_cat}, {NULL, NULL},
	};
	lua_pushvalue(L, lib);
	luaL_setfuncs(L, ops, 0);
	lua_pop(L, 1);
}
