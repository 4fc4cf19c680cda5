/*
 * bridge.c — Lua values <-> canonical value bytes (ssp/core.h "values"), the
 * contract VM's boundary (vm layer). What crosses (arguments, return values,
 * storage values, event fields, call and token arguments) is nil, boolean,
 * integer, string or a table of them with integer or string keys, nested at
 * most SSP_VAL_MAX_DEPTH deep (which also stops cycles). A float never
 * crosses, even one with an integral value. Anything else ends the call with
 * SSP_ERR_VM_VALUE. Encoding reads tables raw (no metamethods) and is
 * charged per entry and per byte.
 */
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

typedef struct {
	int is_str;
	uint8_t ib[8]; /* the integer, little-endian as encoded */
	lua_Integer i;
	const char *s; /* anchored by the table being encoded */
	size_t len;
} kent;

/* Orders keys as memcmp orders their canonical encodings. */
static int kent_cmp(const void *pa, const void *pb)
{
	const kent *a = pa, *b = pb;
	if (a->is_str != b->is_str) return a->is_str ? 1 : -1;
	if (!a->is_str) return memcmp(a->ib, b->ib, 8);
	uint8_t la[4], lb[4];
	for (int i = 0; i < 4; i++) {
		la[i] = (uint8_t)(a->len >> (8 * i));
		lb[i] = (uint8_t)(b->len >> (8 * i));
	}
	int r = memcmp(la, lb, 4);
	if (r) return r;
	return memcmp(a->s, b->s, a->len);
}

static void enc_value(lua_State *L, int idx, ssp_buf *b, int depth, const char *what);

static void enc_table(lua_State *L, int idx, ssp_buf *b, int depth, const char *what)
{
	if (depth >= SSP_VAL_MAX_DEPTH)
		vm_fail(L, SSP_ERR_VM_VALUE, "%s: tables nested deeper than %d (or a cycle)", what,
		        SSP_VAL_MAX_DEPTH);
	idx = lua_absindex(L, idx);
	if (!lua_checkstack(L, 8)) vm_fail(L, SSP_ERR_VM_VALUE, "%s: nested too deeply", what);
	size_t n = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		int kt = lua_type(L, -1);
		if (!(kt == LUA_TSTRING || (kt == LUA_TNUMBER && lua_isinteger(L, -1))))
			vm_fail(L, SSP_ERR_VM_VALUE,
			        "%s: a table key of type %s cannot cross the contract boundary",
			        what, kt == LUA_TNUMBER ? "float" : lua_typename(L, kt));
		if ((++n & 63) == 0) vm_charge(L, 64 * VM_GAS_ELEM);
	}
	vm_charge(L, (n & 63) * VM_GAS_ELEM);
	if (n > (size_t)(b->max - b->len) / 2) vm_fail(L, SSP_ERR_VM_VALUE, "%s: too large", what);
	kent *k = lua_newuserdatauv(L, n * sizeof(kent) + 1, 0);
	int kidx = lua_gettop(L);
	size_t i = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		kent *e = &k[i++];
		if (lua_type(L, -1) == LUA_TSTRING) {
			e->is_str = 1;
			e->s = lua_tolstring(L, -1, &e->len);
		} else {
			e->is_str = 0;
			e->i = lua_tointeger(L, -1);
			ssp_le64_put(e->ib, (uint64_t)e->i);
		}
	}
	qsort(k, n, sizeof(kent), kent_cmp);
	ssp_buf_u8(b, SSP_VAL_TABLE);
	ssp_buf_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		kent *e = &k[i];
		if (e->is_str) {
			ssp_buf_u8(b, SSP_VAL_STR);
			ssp_buf_bytes(b, e->s, e->len);
			lua_pushlstring(L, e->s, e->len);
		} else {
			ssp_buf_u8(b, SSP_VAL_INT);
			ssp_buf_put(b, e->ib, 8);
			lua_pushinteger(L, e->i);
		}
		lua_rawget(L, idx);
		enc_value(L, -1, b, depth + 1, what);
		lua_pop(L, 1);
		k = lua_touserdata(L, kidx); /* (does not move; keeps the compiler honest) */
	}
	lua_pop(L, 1);
}

static void enc_value(lua_State *L, int idx, ssp_buf *b, int depth, const char *what)
{
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		ssp_buf_u8(b, SSP_VAL_NIL);
		break;
	case LUA_TBOOLEAN:
		ssp_buf_u8(b, lua_toboolean(L, idx) ? SSP_VAL_TRUE : SSP_VAL_FALSE);
		break;
	case LUA_TNUMBER:
		if (!lua_isinteger(L, idx))
			vm_fail(L, SSP_ERR_VM_VALUE,
			        "%s: a float cannot cross the contract boundary", what);
		ssp_buf_u8(b, SSP_VAL_INT);
		ssp_buf_u64(b, (uint64_t)lua_tointeger(L, idx));
		break;
	case LUA_TSTRING: {
		size_t l;
		const char *s = lua_tolstring(L, idx, &l);
		ssp_buf_u8(b, SSP_VAL_STR);
		ssp_buf_bytes(b, s, l);
		break;
	}
	case LUA_TTABLE:
		enc_table(L, idx, b, depth, what);
		break;
	default:
		vm_fail(L, SSP_ERR_VM_VALUE, "%s: a %s cannot cross the contract boundary", what,
		        luaL_typename(L, idx));
	}
	if (b->err == SSP_ERR_NOMEM) {
		/* the host's shortage, not the value's size: a node error */
		vm_set_abort(vm_cur(L), VM_ABORT_NODE, SSP_ERR_NOMEM, "%s: host out of memory",
		             what);
		vm_throw(L);
	}
	if (b->err) vm_fail(L, SSP_ERR_VM_VALUE, "%s: larger than %zu bytes", what, b->max);
}

void vm_encode(lua_State *L, int idx, ssp_buf *b, size_t max, const char *what)
{
	idx = lua_absindex(L, idx);
	ssp_buf_reset(b);
	b->max = max;
	enc_value(L, idx, b, 0, what);
	vm_charge_bytes(L, b->len, VM_GAS_CODEC_SHIFT);
}

static void dec_value(lua_State *L, ssp_rd *r, int depth, const char *what)
{
	uint8_t tag = ssp_rd_u8(r);
	switch (tag) {
	case SSP_VAL_NIL:
		lua_pushnil(L);
		break;
	case SSP_VAL_FALSE:
	case SSP_VAL_TRUE:
		lua_pushboolean(L, tag == SSP_VAL_TRUE);
		break;
	case SSP_VAL_INT:
		lua_pushinteger(L, (lua_Integer)ssp_rd_u64(r));
		break;
	case SSP_VAL_STR: {
		size_t n;
		const uint8_t *p = ssp_rd_bytes(r, VM_VALUE_MAX, &n);
		if (n > VM_STRING_MAX)
			vm_fail(L, SSP_ERR_VM_VALUE, "%s: a string longer than %u bytes", what,
			        VM_STRING_MAX);
		lua_pushlstring(L, (const char *)p, n);
		break;
	}
	case SSP_VAL_TABLE: {
		uint32_t n = ssp_rd_u32(r);
		if (!lua_checkstack(L, 4))
			vm_fail(L, SSP_ERR_VM_VALUE, "%s: nested too deeply", what);
		lua_createtable(L, 0, (int)(n < 1u << 20 ? n : 1u << 20));
		for (uint32_t i = 0; i < n && !r->err; i++) {
			dec_value(L, r, depth + 1, what);
			dec_value(L, r, depth + 1, what);
			lua_rawset(L, -3);
		}
		break;
	}
	default:
		lua_pushnil(L);
		break;
	}
}

void vm_decode(lua_State *L, const uint8_t *p, size_t n, const char *what)
{
	if (ssp_val_check(p, n)) vm_fail(L, SSP_ERR_VM_VALUE, "%s: malformed value", what);
	vm_charge_bytes(L, n, VM_GAS_CODEC_SHIFT);
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	dec_value(L, &r, 0, what);
}

int vm_push_args(lua_State *L, const uint8_t *p, size_t n)
{
	if (n == 0 || (n == 1 && p[0] == SSP_VAL_NIL)) return 0;
	if (p[0] != SSP_VAL_TABLE) vm_fail(L, SSP_ERR_VM_VALUE, "args: not a table of arguments");
	vm_decode(L, p, n, "args");
	int t = lua_gettop(L);
	lua_Integer k = 0;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		k++;
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
			vm_fail(L, SSP_ERR_VM_VALUE, "args: keys must be 1..n");
	}
	if (k > VM_MULTRET_MAX)
		vm_fail(L, SSP_ERR_VM_VALUE, "args: more than %d arguments", VM_MULTRET_MAX);
	for (lua_Integer i = 1; i <= k; i++)
		if (lua_rawgeti(L, t, i) == LUA_TNIL)
			vm_fail(L, SSP_ERR_VM_VALUE, "args: keys must be 1..n");
	lua_remove(L, t);
	return (int)k;
}
