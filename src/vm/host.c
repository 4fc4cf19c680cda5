/*
 * host.c — the host API contracts see (vm layer): ssp.* (context, balance,
 * transfer, calls, events, hashing, signature checks), storage.* and
 * token.*, each a thin, charged forwarder to the ssp_vm_host callbacks.
 * Nothing here is available while the top level runs (except the pure
 * ssp.sha256 / ssp.verify), and nothing that changes state is available in
 * a view call (nested calls are, without value: the host must run the
 * callee in view mode too). Failures of the node itself (out of memory, I/O) end the
 * call as a node error, never as a contract result.
 */
#include <stdio.h>
#include <string.h>

#include "vm/vm_internal.h"

static int vm_host_fatal(int rc)
{
	switch (rc) {
	case SSP_ERR_NOMEM:
	case SSP_ERR_IO:
	case SSP_ERR_INTERNAL:
	case SSP_ERR_MAPFULL:
	case SSP_ERR_DBCORRUPT:
	case SSP_ERR_BUSY:
		return 1;
	default:
		return 0;
	}
}

static vm_state *state_of(lua_State *L)
{
	void *ud;
	(void)lua_getallocf(L, &ud);
	return ud;
}

/* The running call, checked for what the API needs. */
static vm_call *need(lua_State *L, const char *name, int changes_state)
{
	vm_call *c = vm_cur(L);
	vm_check_abort(L);
	if (c->phase == VM_PHASE_TOP || !c->host)
		luaL_error(L, "%s is not available at the top level", name);
	if (changes_state && c->mode == SSP_VM_MODE_VIEW)
		vm_fail(L, SSP_ERR_VM_VIEW, "%s in a view call", name);
	return c;
}

_Noreturn static void node_fail(lua_State *L, vm_call *c, int rc, const char *name)
{
	vm_set_abort(c, VM_ABORT_NODE, rc, "%s: %s", name, ssp_strerror(rc));
	vm_throw(L);
}

static void push_addr(lua_State *L, vm_call *c, const ssp_addr *a)
{
	char buf[96];
	ssp_addr_encode(buf, sizeof buf, c->host->hrp, a);
	/* not lua_pushstring: its cache of C strings would make the charge depend on history */
	lua_pushlstring(L, buf, strlen(buf));
}

static void check_addr(lua_State *L, vm_call *c, int arg, ssp_addr *out)
{
	size_t l;
	const char *s = luaL_checklstring(L, arg, &l);
	if (l > 90 || strlen(s) != l || ssp_addr_decode(out, c->host->hrp, s))
		luaL_argerror(L, arg, "invalid address");
}

static uint64_t check_amount(lua_State *L, int arg, int allow_zero)
{
	lua_Integer v = vm_checkint(L, arg);
	luaL_argcheck(L, v > 0 || (allow_zero && v == 0), arg, "amount must be positive");
	return (uint64_t)v;
}

static int h_sender(lua_State *L)
{
	vm_call *c = need(L, "ssp.sender", 0);
	vm_charge(L, VM_GAS_ENV);
	push_addr(L, c, &c->host->sender);
	return 1;
}

static int h_origin(lua_State *L)
{
	vm_call *c = need(L, "ssp.origin", 0);
	vm_charge(L, VM_GAS_ENV);
	push_addr(L, c, &c->host->origin);
	return 1;
}

static int h_self(lua_State *L)
{
	vm_call *c = need(L, "ssp.self", 0);
	vm_charge(L, VM_GAS_ENV);
	push_addr(L, c, &c->host->self);
	return 1;
}

static void push_u64(lua_State *L, uint64_t v, const char *name)
{
	if (v > (uint64_t)LUA_MAXINTEGER) luaL_error(L, "%s: value out of range", name);
	lua_pushinteger(L, (lua_Integer)v);
}

static int h_value(lua_State *L)
{
	vm_call *c = need(L, "ssp.value", 0);
	vm_charge(L, VM_GAS_ENV);
	push_u64(L, c->host->value, "ssp.value");
	return 1;
}

static int h_height(lua_State *L)
{
	vm_call *c = need(L, "ssp.height", 0);
	vm_charge(L, VM_GAS_ENV);
	push_u64(L, c->host->height, "ssp.height");
	return 1;
}

static int h_time(lua_State *L)
{
	vm_call *c = need(L, "ssp.time", 0);
	vm_charge(L, VM_GAS_ENV);
	push_u64(L, c->host->time_ms, "ssp.time");
	return 1;
}

static int h_balance(lua_State *L)
{
	vm_call *c = need(L, "ssp.balance", 0);
	ssp_addr a;
	check_addr(L, c, 1, &a);
	vm_charge(L, VM_GAS_BALANCE);
	uint64_t v = 0;
	int rc = c->host->balance(c->host->ctx, &a, &v);
	if (vm_host_fatal(rc)) node_fail(L, c, rc, "ssp.balance");
	if (rc) luaL_error(L, "ssp.balance: %s", ssp_strerror(rc));
	push_u64(L, v, "ssp.balance");
	return 1;
}

static int h_transfer(lua_State *L)
{
	vm_call *c = need(L, "ssp.transfer", 1);
	ssp_addr to;
	check_addr(L, c, 1, &to);
	uint64_t amount = check_amount(L, 2, 0);
	vm_charge(L, VM_GAS_TRANSFER);
	int rc = c->host->transfer(c->host->ctx, &to, amount);
	if (vm_host_fatal(rc)) node_fail(L, c, rc, "ssp.transfer");
	if (rc) luaL_error(L, "ssp.transfer: %s", ssp_strerror(rc));
	return 0;
}

/* Message of a failed nested call: the string value the host put in ret, or the code's text. */
static void push_call_error(lua_State *L, vm_state *s, int rc)
{
	const uint8_t *p = s->io.data;
	size_t n = s->io.len;
	if (!s->io.err && n >= 5 && p[0] == SSP_VAL_STR && ssp_val_check(p, n) == 0) {
		size_t l = n - 5 > 200 ? 200 : n - 5;
		lua_pushlstring(L, (const char *)p + 5, l);
	} else {
		const char *m = ssp_strerror(rc);
		lua_pushlstring(L, m, strlen(m));
	}
}

/*
 * ssp.call(target, fn, ...) / ssp.pcall(target, fn, ...). target is an
 * address, or a table {to = address, value = units, gas = allowance}.
 * Without an allowance the callee may use all the gas left, so its running
 * out of gas ends this call too. An unprotected call that fails ends this
 * call with the callee's status (uncatchable: the callee's partial effects
 * must not survive); ssp.pcall returns false and a message instead, the
 * host having reverted the callee.
 */
static int call_impl(lua_State *L, int protected_call)
{
	const char *name = protected_call ? "ssp.pcall" : "ssp.call";
	vm_call *c =
	    need(L, name, 0); /* a view may call views: the host runs the callee in view mode */
	vm_state *s = state_of(L);
	ssp_addr to;
	uint64_t value = 0, allowance = UINT64_MAX;
	if (lua_type(L, 1) == LUA_TTABLE) {
		lua_getfield(L, 1, "to");
		check_addr(L, c, lua_gettop(L), &to);
		lua_pop(L, 1);
		if (lua_getfield(L, 1, "value") != LUA_TNIL)
			value = check_amount(L, lua_gettop(L), 1);
		lua_pop(L, 1);
		if (lua_getfield(L, 1, "gas") != LUA_TNIL)
			allowance = check_amount(L, lua_gettop(L), 0);
		lua_pop(L, 1);
	} else {
		check_addr(L, c, 1, &to);
	}
	if (value && c->mode == SSP_VM_MODE_VIEW)
		vm_fail(L, SSP_ERR_VM_VIEW, "%s with value in a view call", name);
	size_t fl;
	const char *fn = luaL_checklstring(L, 2, &fl);
	luaL_argcheck(L, vm_abi_name_ok(fn, fl), 2, "invalid function name");
	int nargs = lua_gettop(L) - 2;
	lua_createtable(L, nargs, 0);
	for (int i = 1; i <= nargs; i++) {
		lua_pushvalue(L, i + 2);
		lua_rawseti(L, -2, i);
	}
	vm_encode(L, -1, &s->enc, VM_VALUE_MAX, "call arguments");
	lua_pop(L, 1);
	vm_charge(L, VM_GAS_CALL + s->enc.len);
	uint64_t avail = c->gas_limit - c->gas_used;
	int bounded = allowance < avail;
	uint64_t give = bounded ? allowance : avail, used = give;
	ssp_buf_reset(&s->io);
	s->io.max = VM_VALUE_MAX;
	int rc = c->host->call(c->host->ctx, &to, fn, s->enc.data, s->enc.len, value,
	                       protected_call != 0, &used, &s->io);
	if (used > give) used = give;
	vm_charge(L, used);
	if (vm_host_fatal(rc)) node_fail(L, c, rc, name);
	if (rc == SSP_ERR_VM_GAS &&
	    !bounded) { /* it had all the gas left: this call is out of gas too */
		vm_set_abort(c, VM_ABORT_STATUS, SSP_ERR_VM_GAS, "out of gas");
		vm_throw(L);
	}
	if (rc == 0) {
		if (s->io.err) node_fail(L, c, s->io.err, name);
		vm_charge(L, s->io.len);
		if (protected_call) lua_pushboolean(L, 1);
		if (s->io.len == 0)
			lua_pushnil(L);
		else
			vm_decode(L, s->io.data, s->io.len, "call result");
		return protected_call ? 2 : 1;
	}
	if (!protected_call) {
		push_call_error(L, s, rc);
		const char *msg = lua_tostring(L, -1);
		int st = (rc <= SSP_ERR_VM_ERROR && rc >= SSP_ERR_VM_VALUE) ? rc : SSP_ERR_VM_ERROR;
		vm_fail(L, st, "%s failed: %s", name, msg);
	}
	lua_pushboolean(L, 0);
	push_call_error(L, s, rc);
	return 2;
}

static int h_call(lua_State *L)
{
	return call_impl(L, 0);
}

static int h_pcall(lua_State *L)
{
	return call_impl(L, 1);
}

static int h_emit(lua_State *L)
{
	vm_call *c = need(L, "ssp.emit", 1);
	vm_state *s = state_of(L);
	size_t nl;
	const char *name = luaL_checklstring(L, 1, &nl);
	luaL_argcheck(L, nl > 0 && nl <= VM_EVENT_NAME_MAX && vm_abi_name_ok(name, nl), 1,
	              "invalid event name");
	if (lua_isnoneornil(L, 2)) {
		lua_settop(L, 1);
		lua_newtable(L);
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	vm_encode(L, 2, &s->enc, VM_EVENT_MAX, "event fields");
	vm_charge(L, VM_GAS_EMIT + (uint64_t)VM_GAS_EMIT_B * (nl + s->enc.len));
	char nbuf[VM_EVENT_NAME_MAX + 1];
	memcpy(nbuf, name, nl);
	nbuf[nl] = 0;
	int rc = c->host->emit(c->host->ctx, nbuf, s->enc.data, s->enc.len);
	if (vm_host_fatal(rc)) node_fail(L, c, rc, "ssp.emit");
	if (rc) luaL_error(L, "ssp.emit: %s", ssp_strerror(rc));
	return 0;
}

static int h_sha256(lua_State *L)
{
	size_t l;
	const char *s = luaL_checklstring(L, 1, &l);
	vm_charge(L, VM_GAS_SHA256 + (l >> 2));
	ssp_hash h;
	ssp_sha256(&h, s, l);
	char hex[65];
	ssp_hex_encode(hex, h.b, 32);
	lua_pushlstring(L, hex, 64);
	return 1;
}

/* ssp.verify(key_type, pubkey_hex, msg, sig_hex): a signature over SHA-256(msg). */
static int h_verify(lua_State *L)
{
	size_t kl, pl, ml, sl;
	const char *kt = luaL_checklstring(L, 1, &kl);
	const char *pk_hex = luaL_checklstring(L, 2, &pl);
	const char *msg = luaL_checklstring(L, 3, &ml);
	const char *sig_hex = luaL_checklstring(L, 4, &sl);
	vm_charge(L, VM_GAS_VERIFY + (ml >> 2));
	/* the name is parsed as a C string: one with a NUL inside is no key type */
	int type = strlen(kt) == kl ? ssp_key_type_parse(kt) : SSP_ERR_KEYTYPE;
	if (type < 0) luaL_argerror(L, 1, "unknown key type");
	size_t klen = ssp_pubkey_len(type);
	uint8_t raw[SSP_PUBKEY_MAX];
	ssp_pubkey pk;
	ssp_sig sig;
	ssp_hash d;
	int ok = klen && ssp_hex_decode(raw, klen, pk_hex, pl) == 0 &&
	         ssp_pubkey_parse(&pk, type, raw, klen) == 0 &&
	         ssp_hex_decode(sig.b, SSP_SIG_LEN, sig_hex, sl) == 0;
	if (ok) {
		ssp_sha256(&d, msg, ml);
		ok = ssp_verify_digest(&pk, &d, &sig) == 0;
	}
	lua_pushboolean(L, ok);
	return 1;
}

/* ------------------------------------------------------------- storage */

static const char *check_key(lua_State *L, size_t *kl)
{
	const char *k = luaL_checklstring(L, 1, kl);
	luaL_argcheck(L, *kl > 0 && *kl <= VM_KEY_MAX, 1,
	              "storage keys are strings of 1 to 256 bytes");
	return k;
}

static int st_get(lua_State *L)
{
	vm_call *c = need(L, "storage.get", 0);
	vm_state *s = state_of(L);
	size_t kl;
	const char *k = check_key(L, &kl);
	vm_charge(L, VM_GAS_STORAGE_GET + kl);
	ssp_buf_reset(&s->io);
	s->io.max = VM_STORAGE_VALUE_MAX;
	int rc = c->host->storage_get(c->host->ctx, (const uint8_t *)k, kl, &s->io);
	if (rc == SSP_ERR_NOTFOUND) {
		lua_pushnil(L);
		return 1;
	}
	if (vm_host_fatal(rc) || (!rc && s->io.err))
		node_fail(L, c, rc ? rc : s->io.err, "storage.get");
	if (rc) luaL_error(L, "storage.get: %s", ssp_strerror(rc));
	vm_charge(L, s->io.len);
	vm_decode(L, s->io.data, s->io.len, "storage value");
	return 1;
}

static int st_del_impl(lua_State *L, vm_call *c, const char *k, size_t kl)
{
	vm_charge(L, VM_GAS_STORAGE_DEL + kl);
	int rc = c->host->storage_del(c->host->ctx, (const uint8_t *)k, kl);
	if (rc == SSP_ERR_NOTFOUND) rc = 0;
	if (vm_host_fatal(rc)) node_fail(L, c, rc, "storage.del");
	if (rc) luaL_error(L, "storage.del: %s", ssp_strerror(rc));
	return 0;
}

static int st_set(lua_State *L)
{
	vm_call *c = need(L, "storage.set", 1);
	vm_state *s = state_of(L);
	size_t kl;
	const char *k = check_key(L, &kl);
	luaL_checkany(L, 2);
	if (lua_isnil(L, 2)) return st_del_impl(L, c, k, kl);
	vm_encode(L, 2, &s->enc, VM_STORAGE_VALUE_MAX, "storage value");
	vm_charge(L, VM_GAS_STORAGE_SET + (uint64_t)VM_GAS_STORAGE_SET_B * (kl + s->enc.len));
	int rc =
	    c->host->storage_set(c->host->ctx, (const uint8_t *)k, kl, s->enc.data, s->enc.len);
	if (vm_host_fatal(rc)) node_fail(L, c, rc, "storage.set");
	if (rc) luaL_error(L, "storage.set: %s", ssp_strerror(rc));
	return 0;
}

static int st_del(lua_State *L)
{
	vm_call *c = need(L, "storage.del", 1);
	size_t kl;
	const char *k = check_key(L, &kl);
	return st_del_impl(L, c, k, kl);
}

/* --------------------------------------------------------------- tokens */

static int token_op(lua_State *L)
{
	const char *op = lua_tostring(L, lua_upvalueindex(1));
	int view = lua_toboolean(L, lua_upvalueindex(2));
	char name[40];
	snprintf(name, sizeof name, "token.%s", op);
	vm_call *c = need(L, name, !view);
	vm_state *s = state_of(L);
	int n = lua_gettop(L);
	lua_createtable(L, n, 0);
	for (int i = 1; i <= n; i++) {
		lua_pushvalue(L, i);
		lua_rawseti(L, -2, i);
	}
	vm_encode(L, -1, &s->enc, VM_STORAGE_VALUE_MAX, "token arguments");
	lua_pop(L, 1);
	vm_charge(L, VM_GAS_TOKEN + s->enc.len);
	ssp_buf_reset(&s->io);
	s->io.max = VM_VALUE_MAX;
	int rc = c->host->token(c->host->ctx, op, s->enc.data, s->enc.len, &s->io);
	if (vm_host_fatal(rc) || (!rc && s->io.err)) node_fail(L, c, rc ? rc : s->io.err, name);
	if (rc) luaL_error(L, "%s: %s", name, ssp_strerror(rc));
	vm_charge(L, s->io.len);
	if (s->io.len == 0)
		lua_pushnil(L);
	else
		vm_decode(L, s->io.data, s->io.len, "token result");
	return 1;
}

void vm_open_host(lua_State *L, int lib)
{
	lib = lua_absindex(L, lib);
	static const luaL_Reg ssp_f[] = {
	    {"sender", h_sender},   {"origin", h_origin},
	    {"self", h_self},       {"value", h_value},
	    {"height", h_height},   {"time", h_time},
	    {"balance", h_balance}, {"transfer", h_transfer},
	    {"call", h_call},       {"pcall", h_pcall},
	    {"emit", h_emit},       {"sha256", h_sha256},
	    {"verify", h_verify},   {NULL, NULL},
	};
	lua_newtable(L);
	luaL_setfuncs(L, ssp_f, 0);
	lua_setfield(L, lib, "ssp");
	static const luaL_Reg st_f[] = {
	    {"get", st_get},
	    {"set", st_set},
	    {"del", st_del},
	    {NULL, NULL},
	};
	lua_newtable(L);
	luaL_setfuncs(L, st_f, 0);
	lua_setfield(L, lib, "storage");
	static const struct {
		const char *op;
		int view;
	} ops[] = {{"create", 0},  {"issue", 0},         {"transfer", 0}, {"burn", 0},
	           {"approve", 0}, {"transfer_from", 0}, {"balance", 1},  {"allowance", 1}};
	lua_newtable(L);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		lua_pushstring(L, ops[i].op);
		lua_pushboolean(L, ops[i].view);
		lua_pushcclosure(L, token_op, 2);
		lua_setfield(L, -2, ops[i].op);
	}
	lua_setfield(L, lib, "token");
}
