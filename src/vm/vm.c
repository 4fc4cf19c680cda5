/*
 * vm.c — libssp_vm's public API (vm layer): the VM object with its pool of
 * warm lua_States, each state's compiled-code cache (keyed by code hash),
 * ssp_vm_check (deploy-time check and ABI) and ssp_vm_call (one contract
 * call: fresh globals, the top level re-run, the function called under
 * metering, the result encoded), the re-entrancy guard and call-depth
 * limit, and the start-up self test that pins gas to Lua 5.4.4.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

typedef struct {
	vm_call *c;
	const ssp_hash *code_hash;
	const char *src;
	size_t n;
	const char *fn;
	const uint8_t *args;
	size_t argn;
	ssp_vm_abi *abi;
	int compile_err; /* SSP_ERR_VM_SYNTAX / BYTECODE / TOOBIG / MEMORY, with msg */
	char msg[256];
} vm_job;

/* -------------------------------------------------------------- messages */

static void one_line(char *dst, size_t cap, const char *s, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[j++] = (c < 32 || c == 127) ? ' ' : (char)c;
	}
	dst[j] = 0;
}

/* "contract:12: msg" -> "line 12: msg" */
static void syntax_msg(char *dst, size_t cap, const char *m)
{
	const char *p = strncmp(m, "contract:", 9) == 0 ? m + 9 : NULL;
	if (p && *p >= '0' && *p <= '9' && cap > 6) {
		memcpy(dst, "line ", 5);
		one_line(dst + 5, cap - 5, p, strlen(p));
	} else {
		one_line(dst, cap, m, strlen(m));
	}
}

/* --------------------------------------------------------------- compile */

/* lua_load with the compile-time checks of vm_alloc; 0, or -1 with the job's error set. */
static int load_checked(lua_State *L, vm_state *s, vm_job *j, const char *src, size_t n,
                        int rewritten)
{
	s->compiling = 1;
	int st = luaL_loadbufferx(L, src, n, "=contract", "t");
	int flag = s->compiling;
	s->compiling = 0;
	if (st == LUA_OK) return 0;
	if (flag == 2) {
		j->compile_err = SSP_ERR_VM_SYNTAX;
		snprintf(j->msg, sizeof j->msg, "a string constant is longer than %u bytes",
		         VM_STRING_MAX);
	} else if (flag == 3 || st == LUA_ERRMEM) {
		j->compile_err = SSP_ERR_VM_MEMORY;
		snprintf(j->msg, sizeof j->msg, "the contract is too large to compile");
	} else {
		const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
		char line[200];
		syntax_msg(line, sizeof line, m);
		if (rewritten)
			snprintf(j->msg, sizeof j->msg,
			         "the source could not be prepared for metering: %s", line);
		else
			snprintf(j->msg, sizeof j->msg, "%s", line);
		j->compile_err = SSP_ERR_VM_SYNTAX;
	}
	lua_pop(L, 1);
	return -1;
}

/*
 * The source is first compiled as written, so Lua alone decides what is
 * valid (the rewrite could otherwise turn invalid text into valid text,
 * e.g. `x = y #t` into a call), then rewritten (rewrite.c) and compiled
 * again; the second chunk is the one that runs. Only a cache miss pays.
 */
static int compile(lua_State *L, vm_state *s, vm_job *j, const char *src, size_t n)
{
	char *rw;
	size_t rwn;
	int rc = vm_rewrite(src, n, &rw, &rwn, j->msg, sizeof j->msg);
	if (rc == SSP_ERR_NOMEM) {
		vm_set_abort(j->c, VM_ABORT_NODE, SSP_ERR_NOMEM, "out of memory");
		vm_throw(L);
	}
	if (rc == VM_REWRITE_UNPARSED) {
		/* Lua decides what is valid: its message first, ours only for valid Lua */
		if (load_checked(L, s, j, src, n, 0)) return -1;
		lua_pop(L, 1);
		j->compile_err = SSP_ERR_VM_SYNTAX;
		return -1;
	}
	if (rc) {
		j->compile_err = rc;
		return -1;
	}
	if (load_checked(L, s, j, src, n, 0)) {
		free(rw);
		return -1;
	}
	lua_pop(L, 1);
	rc = load_checked(L, s, j, rw, rwn, 1);
	free(rw);
	return rc;
}

/* Pushes the compiled chunk for the job, from the cache when possible. */
static int get_code(lua_State *L, vm_state *s, vm_job *j)
{
	if (j->code_hash) {
		lua_rawgetp(L, LUA_REGISTRYINDEX, &vm_key_cache);
		lua_pushlstring(L, (const char *)j->code_hash->b, 32);
		if (lua_rawget(L, -2) == LUA_TFUNCTION) {
			lua_remove(L, -2);
			return 0;
		}
		lua_pop(L, 2);
	}
	if (compile(L, s, j, j->src, j->n)) return -1;
	if (j->code_hash) {
		if (s->cache_n >= VM_CACHE_ENTRIES || s->cache_bytes + j->n > VM_CACHE_BYTES) {
			lua_newtable(L);
			lua_rawsetp(L, LUA_REGISTRYINDEX, &vm_key_cache);
			s->cache_n = 0;
			s->cache_bytes = 0;
		}
		lua_rawgetp(L, LUA_REGISTRYINDEX, &vm_key_cache);
		lua_pushlstring(L, (const char *)j->code_hash->b, 32);
		lua_pushvalue(L, -3);
		lua_rawset(L, -3);
		lua_pop(L, 1);
		s->cache_n++;
		s->cache_bytes += j->n;
	}
	return 0;
}

/* ----------------------------------------------------------------- entry */

static int entry(lua_State *L)
{
	vm_job *j = lua_touserdata(L, 1);
	vm_call *c = j->c;
	vm_state *s = c->st;
	lua_settop(L, 0);
	if (get_code(L, s, j)) return 0;
	int chunk = lua_gettop(L);
	s->metering = 1;
	vm_charge(L, VM_GAS_CALL_BASE + (j->n >> VM_GAS_CODE_SHIFT));
	vm_push_env(L);
	int env = lua_gettop(L);
	lua_pushvalue(L, env);
	lua_setupvalue(L, chunk, 1);
	c->phase = VM_PHASE_TOP;
	lua_pushvalue(L, chunk);
	lua_call(L, 0, 0);
	c->phase = VM_PHASE_RUN;
	if (c->mode == VM_MODE_CHECK) {
		vm_abi_collect(L, env, j->abi);
		s->metering = 0;
		return 0;
	}
	if (c->mode == SSP_VM_MODE_INIT) {
		lua_pushliteral(L, "init");
		if (lua_rawget(L, env) != LUA_TFUNCTION) {
			lua_pushnil(L);
			vm_encode(L, -1, &c->ret, VM_VALUE_MAX, "return value");
			s->metering = 0;
			return 0;
		}
	} else {
		lua_pushlstring(L, j->fn, strlen(j->fn));
		if (lua_rawget(L, env) != LUA_TFUNCTION || strcmp(j->fn, "init") == 0)
			vm_fail(L, SSP_ERR_VM_NOFN, "no callable function '%s'", j->fn);
		int kind = vm_abi_kind(L, -1);
		int need = c->mode == SSP_VM_MODE_VIEW ? SSP_VM_FN_VIEW : SSP_VM_FN_CALL;
		if (!(kind & need))
			vm_fail(L, SSP_ERR_VM_NOFN, "'%s' is not %s", j->fn,
			        need == SSP_VM_FN_VIEW ? "a view function"
			                               : "a registered function");
		if (c->host->value > 0 && !(kind & SSP_VM_FN_PAYABLE))
			vm_fail(L, SSP_ERR_VM_NOTPAYABLE, "'%s' does not accept value", j->fn);
	}
	int f = lua_gettop(L);
	int nargs = vm_push_args(L, j->args, j->argn);
	lua_call(L, nargs, LUA_MULTRET);
	int nres = lua_gettop(L) - f + 1;
	if (nres > 1) vm_fail(L, SSP_ERR_VM_VALUE, "a contract function returns at most one value");
	if (nres == 0) lua_pushnil(L);
	vm_encode(L, -1, &c->ret, VM_VALUE_MAX, "return value");
	/* a transaction's return value is kept forever, like storage and events */
	if (c->top && c->mode != SSP_VM_MODE_VIEW)
		vm_charge(L, (uint64_t)VM_GAS_RET_B * c->ret.len);
	s->metering = 0;
	return 0;
}

/* ------------------------------------------------------------------ pool */

static vm_state *pool_get(ssp_vm *vm)
{
	vm_state *s = vm->pool;
	if (s) {
		vm->pool = s->next;
		vm->pooled--;
		s->next = NULL;
		return s;
	}
	return vm_state_new(vm);
}

static void pool_put(ssp_vm *vm, vm_state *s)
{
	if (s->broken) return; /* leaked on purpose: see vm_panic */
	if (vm->pooled >= vm->pool_size) {
		vm_state_free(s);
		return;
	}
	s->next = vm->pool;
	vm->pool = s;
	vm->pooled++;
}

/* Runs one job in a pooled state; fills status, message, gas and ret. Returns 0 or a node error. */
static int run(ssp_vm *vm, vm_job *j, vm_call *c, int *status, char *err, size_t errlen)
{
	vm_state *s = pool_get(vm);
	if (!s) {
		*status = SSP_ERR_VM_MEMORY;
		snprintf(err, errlen, "node limit: cannot create a Lua state");
		return SSP_ERR_NOMEM;
	}
	lua_State *L = s->L;
	c->st = s;
	/* node-local caps, looser when validating another node's block (ssp/vm.h) */
	unsigned slack = c->validating ? VM_VALIDATE_SLACK : 1;
	c->slack = slack;
	c->free_used = c->free_max = 0;
	c->phys_limit = s->inuse + slack * VM_PHYS_FACTOR * vm->mem_limit;
	c->work_limit = c->gas_limit > (UINT64_MAX / slack - VM_WORK_BASE) / VM_WORK_PER_GAS
	                    ? UINT64_MAX
	                    : slack * (VM_WORK_BASE + VM_WORK_PER_GAS * c->gas_limit);
	s->call = c;
	if (!vm->bench_no_hook) /* test-only switch, see vm_internal.h */
		lua_sethook(L, vm_hook, LUA_MASKCOUNT | LUA_MASKCALL, VM_HOOK_CHUNK);
	vm_state *fmt_prev = vm_fmt_state; /* a nested call restores its caller's */
	vm_fmt_state = s;
	int st = vm_protected(s, entry, j);
	vm_fmt_state = fmt_prev;
	if (st == VM_PANIC) vm_set_abort(c, VM_ABORT_NODE, SSP_ERR_INTERNAL, "Lua panic");
	s->metering = 0;
	s->compiling = 0;
	int rc = 0;
	*status = 0;
	err[0] = 0;
	if (c->abort == VM_ABORT_NODE) { /* first: it may have caused the others */
		rc = c->node_err ? c->node_err : SSP_ERR_INTERNAL;
		*status = SSP_ERR_VM_MEMORY;
		snprintf(err, errlen, "node limit: %s", c->msg);
	} else if (j->compile_err) {
		*status = j->compile_err;
		snprintf(err, errlen, "%s", j->msg);
	} else if (c->abort == VM_ABORT_STATUS) {
		*status = c->status;
		snprintf(err, errlen, "%s", c->msg);
	} else if (st != LUA_OK) {
		*status = SSP_ERR_VM_ERROR;
		if (!s->broken && lua_type(L, -1) == LUA_TSTRING) {
			size_t l;
			const char *m = lua_tolstring(L, -1, &l);
			one_line(err, errlen, m, l);
		} else if (!s->broken) {
			snprintf(err, errlen, "error object is a %s value", luaL_typename(L, -1));
		}
	}
	if (!s->broken) {
		lua_sethook(L, NULL, 0, 0);
		lua_settop(L, 0);
		vm_clear_call_tables(L);
	}
	s->call = NULL;
	if (c->gas_used > c->gas_limit) c->gas_used = c->gas_limit;
	pool_put(vm, s);
	return rc;
}

/* ---------------------------------------------------------------- public */

static int calibrate_shortstr(size_t *out);

int ssp_vm_new(ssp_vm **out, const ssp_vm_opts *o)
{
	*out = NULL;
	ssp_vm_opts d = {0};
	if (!o) o = &d;
	if (o->max_depth > 60) return SSP_ERR_INVAL;
	struct lconv *lc = localeconv();
	const char *coll = setlocale(LC_COLLATE, NULL);
	if (!lc || strcmp(lc->decimal_point, ".") != 0 ||
	    (coll && strcmp(coll, "C") != 0 && strcmp(coll, "POSIX") != 0)) {
		SSP_LOGE(
		    "vm",
		    "the C numeric and collation locale is required (numbers and string order)");
		return SSP_ERR_INTERNAL;
	}
	if (o->mem_limit > (1u << 30)) return SSP_ERR_INVAL;
	vm_ops_init();
	if (vm_numfmt_init()) {
		SSP_LOGE("vm", "the C library does not print NaN canonically (glibc's "
		               "register_printf_specifier is required)");
		return SSP_ERR_INTERNAL;
	}
	ssp_vm *vm = ssp_calloc(1, sizeof *vm);
	if (!vm) return SSP_ERR_NOMEM;
	vm->mem_limit = o->mem_limit ? o->mem_limit : VM_MEM_DEFAULT;
	vm->max_depth = o->max_depth ? o->max_depth : VM_DEPTH_DEFAULT;
	vm->pool_size = o->pool_size ? o->pool_size : VM_POOL_DEFAULT;
	int rc = calibrate_shortstr(&vm->shortstr_alloc);
	if (rc) {
		free(vm);
		return rc;
	}
	uint64_t gas = 0;
	rc = ssp_vm_selftest(vm, &gas);
	if (rc || gas != VM_SELFTEST_GAS) {
		SSP_LOGE(
		    "vm",
		    "Lua self test: gas %llu, expected %llu (rc %d): not the Lua 5.4.4 this VM is "
		    "calibrated on; refusing to run contracts",
		    (unsigned long long)gas, (unsigned long long)VM_SELFTEST_GAS, rc);
		ssp_vm_free(vm);
		return rc ? rc : SSP_ERR_INTERNAL;
	}
	*out = vm;
	return 0;
}

void ssp_vm_free(ssp_vm *vm)
{
	if (!vm) return;
	while (vm->pool) {
		vm_state *s = vm->pool;
		vm->pool = s->next;
		vm_state_free(s);
	}
	free(vm);
}

void ssp_vm_abi_free(ssp_vm_abi *abi)
{
	if (!abi) return;
	free(abi->fns);
	abi->fns = NULL;
	abi->nfns = 0;
	abi->has_init = false;
}

void ssp_vm_result_free(ssp_vm_result *res)
{
	if (res) ssp_buf_free(&res->ret);
}

unsigned long ssp_vm_states_created(const ssp_vm *vm)
{
	return vm->states_created;
}

int ssp_vm_check(ssp_vm *vm, const char *src, size_t n, uint64_t gas_limit, ssp_vm_abi *abi,
                 char *err, size_t errlen)
{
	return ssp_vm_check_ex(vm, src, n, gas_limit, false, abi, err, errlen);
}

int ssp_vm_check_ex(ssp_vm *vm, const char *src, size_t n, uint64_t gas_limit, bool validating,
                    ssp_vm_abi *abi, char *err, size_t errlen)
{
	char dummy[1];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = 0;
	if (!vm || !abi || (!src && n)) return SSP_ERR_INVAL;
	memset(abi, 0, sizeof *abi);
	if (n > SSP_VM_SOURCE_MAX) {
		snprintf(err, errlen, "source larger than %d bytes", SSP_VM_SOURCE_MAX);
		return SSP_ERR_TOOBIG;
	}
	vm_call c = {.mode = VM_MODE_CHECK,
	             .gas_limit = gas_limit,
	             .obj_limit = vm->mem_limit,
	             .validating = validating};
	ssp_buf_init(&c.ret, 16);
	vm_job j = {.c = &c, .src = src ? src : "", .n = n, .abi = abi};
	int status;
	int rc = run(vm, &j, &c, &status, err, errlen);
	ssp_buf_free(&c.ret);
	if (rc || status) ssp_vm_abi_free(abi);
	if (rc) return rc;
	return status;
}

int ssp_vm_call(ssp_vm *vm, const ssp_vm_host *host, const ssp_hash *code_hash, const char *src,
                size_t n, int mode, const char *fn, const uint8_t *args, size_t argn,
                uint64_t gas_limit, ssp_vm_result *res)
{
	if (!res) return SSP_ERR_INVAL;
	memset(res, 0, sizeof *res);
	ssp_buf_init(&res->ret, VM_VALUE_MAX);
	if (!vm || !host || !host->hrp || !code_hash || (!src && n) || (!args && argn) ||
	    (mode != SSP_VM_MODE_INIT && mode != SSP_VM_MODE_CALL && mode != SSP_VM_MODE_VIEW) ||
	    (mode != SSP_VM_MODE_INIT && (!fn || !vm_abi_name_ok(fn, strlen(fn)))))
		return SSP_ERR_INVAL;
	vm_call *parent = vm->nframes ? vm->frames[vm->nframes - 1].call : NULL;
	int status = 0;
	if (vm->nframes > vm->max_depth) {
		status = SSP_ERR_VM_DEPTH;
		snprintf(res->error, sizeof res->error, "more than %u nested calls", vm->max_depth);
	}
	for (unsigned i = 0; i < vm->nframes && !status; i++)
		if (memcmp(vm->frames[i].self.b, host->self.b, SSP_ADDR_LEN) == 0) {
			status = SSP_ERR_VM_REENTRY;
			snprintf(res->error, sizeof res->error,
			         "re-entrant call into a contract already running");
		}
	if (status) {
		res->status = status;
		ssp_buf_u8(&res->ret, SSP_VAL_NIL);
		return 0;
	}
	vm_call c = {
	    .host = host, .mode = mode, .gas_limit = gas_limit, .validating = host->validating};
	c.obj_limit = parent ? parent->obj_limit - parent->obj_used : vm->mem_limit;
	c.top = !parent;
	ssp_buf_init(&c.ret, VM_VALUE_MAX);
	vm_job j = {.c = &c,
	            .code_hash = code_hash,
	            .src = src ? src : "",
	            .n = n,
	            .fn = fn,
	            .args = args,
	            .argn = argn};
	vm->frames[vm->nframes].self = host->self;
	vm->frames[vm->nframes].call = &c;
	vm->nframes++;
	int rc = run(vm, &j, &c, &res->status, res->error, sizeof res->error);
	vm->nframes--;
	if (parent) parent->obj_used += c.obj_used;
	res->gas_used = c.gas_used;
	if (res->status == 0) {
		ssp_buf_free(&res->ret);
		res->ret = c.ret;
		res->ret.max = VM_VALUE_MAX;
	} else {
		ssp_buf_free(&c.ret);
		ssp_buf_u8(&res->ret, SSP_VAL_NIL);
		if (res->ret.err && !rc) rc = SSP_ERR_NOMEM; /* the host's, not the contract's */
	}
	return rc;
}

/* ------------------------------------------------------------ self test */

/*
 * The allocation size of the longest interned string (40 bytes): longer
 * strings are never interned, so their allocations happen on every node
 * and can be charged. Measured, not assumed.
 */
typedef struct {
	size_t last, tag;
} cal_rec;

static void *cal_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	cal_rec *r = ud;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	if (!ptr) {
		r->tag = osize;
		r->last = nsize;
	}
	return ssp_realloc(ptr, nsize);
}

static int calibrate_shortstr(size_t *out)
{
	cal_rec r = {0, 0};
	lua_State *L = lua_newstate(cal_alloc, &r);
	if (!L) return SSP_ERR_NOMEM;
	lua_pushlstring(L, "ssp-calibration-string-of-forty-bytes!!!", 40);
	size_t s40 = r.tag == LUA_TSTRING ? r.last : 0;
	lua_pushlstring(L, "ssp-calibration-string-of-forty-one-bytes", 41);
	size_t s41 = r.tag == LUA_TSTRING ? r.last : 0;
	lua_close(L);
	if (!s40 || s41 != s40 + 1 || lua_version(NULL) != LUA_VERSION_NUM) {
		SSP_LOGE("vm", "unexpected Lua string layout (%zu, %zu)", s40, s41);
		return SSP_ERR_INTERNAL;
	}
	*out = s40;
	return 0;
}

/*
 * A fixed contract exercising the interpreter, the libraries and the
 * allocator. Its gas is VM_SELFTEST_GAS on the Lua 5.4.4 the VM was
 * calibrated on; any other release changes instruction counts or object
 * sizes, and ssp_vm_new refuses to start.
 */
static const char selftest_src[] =
    "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end\n"
    "local t = {}\n"
    "for i = 1, 300 do t[#t + 1] = string.format('%05d', (i * 7919) % 1000) end\n"
    "table.sort(t)\n"
    "local s = table.concat(t, ','):gsub('0(%d)', '%1'):upper()\n"
    "local m = setmetatable({}, {__index = function(_, k) return k * 2 end})\n"
    "local acc = 0\n"
    "for k, v in pairs({a = 1, b = 2, [3] = 4}) do acc = acc + (type(k) == 'number' and k or #k) + "
    "v end\n"
    "SELFTEST = fib(20) + #s + m[21] + acc + select('#', utf8.codepoint('h\\u{e9}llo', 1, -1))\n";

int ssp_vm_selftest(ssp_vm *vm, uint64_t *gas)
{
	vm_call c = {.mode = VM_MODE_CHECK, .gas_limit = 10000000, .obj_limit = vm->mem_limit};
	ssp_buf_init(&c.ret, 16);
	ssp_vm_abi abi = {0};
	vm_job j = {.c = &c, .src = selftest_src, .n = sizeof selftest_src - 1, .abi = &abi};
	int status;
	char err[256];
	int rc = run(vm, &j, &c, &status, err, sizeof err);
	ssp_buf_free(&c.ret);
	ssp_vm_abi_free(&abi);
	*gas = c.gas_used;
	if (!rc && status) {
		SSP_LOGE("vm", "self test failed: %s", err);
		rc = status;
	}
	return rc;
}
