/*
 * test_vm_sandbox.c — the contract VM's isolation (vm layer): the exact
 * whitelist, removed globals unreachable through _ENV, _G, string
 * metatables or library tables, read-only libraries, bytecode rejected,
 * tostring without addresses, setmetatable rules (__gc, __mode, hidden
 * metatables, __index chains), hostile error objects, __close loops, fresh
 * globals per call and pooled lua_States reused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vm_fixture.h"

unsigned long ssp_vm_states_created(const ssp_vm *vm);

#define G 2000000

static void expect_ok(fx_out o, const char *ret)
{
	if (o.status) fprintf(stderr, "unexpected status %s: %s\n", ssp_errname(o.status), o.error);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.ret, ret);
}

static void expect_err(fx_out o, int status, const char *needle)
{
	if (o.status != status || !strstr(o.error, needle))
		fprintf(stderr, "got %s: %s (want %s: %s)\n", ssp_errname(o.status), o.error,
		        ssp_errname(status), needle);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.status, status);
	assert_non_null(strstr(o.error, needle));
}

static void test_whitelist(void **state)
{
	(void)state;
	const char *src =
	    "function f()\n"
	    "  local present = "
	    "{'assert','error','ipairs','next','pairs','select','tonumber','tostring',\n"
	    "    "
	    "'type','rawequal','rawlen','rawget','rawset','pcall','xpcall','getmetatable','"
	    "setmetatable',\n"
	    "    'string','table','math','utf8','ssp','storage','token','abi','_G'}\n"
	    "  local absent = "
	    "{'io','os','debug','package','require','load','loadfile','dofile','collectgarbage',\n"
	    "    "
	    "'print','coroutine','loadstring','unpack','module','setfenv','getfenv','gcinfo','"
	    "newproxy',\n"
	    "    '_VERSION','warn','utf8x','bit32','jit'}\n"
	    "  for _, n in ipairs(present) do assert(_ENV[n] ~= nil, 'missing ' .. n) end\n"
	    "  for _, n in ipairs(absent) do assert(_ENV[n] == nil, 'present ' .. n) end\n"
	    "  local s = "
	    "{'len','sub','upper','lower','rep','reverse','byte','char','format','find','match',\n"
	    "    'gmatch','gsub','pack','packsize','unpack'}\n"
	    "  for _, n in ipairs(s) do assert(string[n], 'string.' .. n) end\n"
	    "  assert(string.dump == nil, 'string.dump')\n"
	    "  local m = "
	    "{'abs','ceil','floor','fmod','huge','maxinteger','mininteger','max','min','tointeger',"
	    "\n"
	    "    'type','ult','ipow'}\n"
	    "  for _, n in ipairs(m) do assert(math[n], 'math.' .. n) end\n"
	    "  for _, n in "
	    "ipairs({'random','randomseed','sin','cos','tan','asin','acos','atan','exp','log',\n"
	    "      'sqrt','pi','deg','rad','modf','frexp','ldexp','pow','log10','cosh'}) do\n"
	    "    assert(math[n] == nil, 'math.' .. n)\n"
	    "  end\n"
	    "  for _, n in ipairs({'insert','remove','move','concat','pack','unpack','sort'}) do\n"
	    "    assert(table[n], 'table.' .. n) end\n"
	    "  for _, n in ipairs({'char','charpattern','codepoint','codes','len','offset'}) do\n"
	    "    assert(utf8[n], 'utf8.' .. n) end\n"
	    "  return 'ok'\n"
	    "end\n"
	    "abi.register(f)\n";
	expect_ok(fx_twice(src, "f", NULL, G), "\"ok\"");
}

static void test_env_tricks(void **state)
{
	(void)state;
	const char *src =
	    "function f()\n"
	    "  local r = {}\n"
	    "  r[#r+1] = tostring(_ENV.os) .. tostring(_G.io) .. tostring(_G._G.debug)\n"
	    "  r[#r+1] = tostring(_ENV['lo' .. 'ad']) .. tostring(rawget(_G, 'require'))\n"
	    "  r[#r+1] = tostring(getmetatable(_ENV)) .. tostring(getmetatable(_G))\n"
	    "  r[#r+1] = tostring(pcall(setmetatable, _ENV, {}))\n"
	    "  r[#r+1] = tostring(getmetatable(string)) .. tostring(getmetatable(math))\n"
	    "  do local _ENV = {tostring = tostring} r[#r+1] = tostring(os) .. tostring(string) "
	    "end\n"
	    "  r[#r+1] = tostring(rawget(_G, 'string'))\n"
	    "  r[#r+1] = tostring(next(string)) .. tostring(next(math))\n"
	    "  local ok, e = pcall(function() return ('x').dump end)\n"
	    "  r[#r+1] = tostring(e)\n"
	    "  r[#r+1] = tostring(ssp.sender and true) .. tostring(package)\n"
	    "  return table.concat(r, ',')\n"
	    "end\n"
	    "abi.register(f)\n";
	expect_ok(fx_twice(src, "f", NULL, G),
	          "\"nilnilnil,nilnil,falsefalse,false,falsefalse,nilnil,nil,nilnil,nil,truenil\"");
}

static void test_readonly_libraries(void **state)
{
	(void)state;
	const char *src =
	    "local function try(f) local ok, e = pcall(f) return ok and 'ok' or 'err' end\n"
	    "function poison()\n"
	    "  local r = {}\n"
	    "  r[#r+1] = try(function() string.upper = function() return 'pwned' end end)\n"
	    "  r[#r+1] = try(function() rawset(string, 'upper', function() return 'pwned' end) "
	    "end)\n"
	    "  r[#r+1] = try(function() setmetatable(string, {}) end)\n"
	    "  r[#r+1] = try(function() getmetatable('').__index = {} end)\n"
	    "  r[#r+1] = try(function() table.insert(math, 1) end)\n"
	    "  r[#r+1] = try(function() ssp.sender = nil end)\n"
	    "  r[#r+1] = try(function() rawset(table, 'sort', nil) end)\n"
	    "  r[#r+1] = try(function() math.pi = 3 end)\n"
	    "  return table.concat(r, ',')\n"
	    "end\n"
	    "function check() return ('abc'):upper() .. string.upper('d') .. tostring(math.pi) "
	    "end\n"
	    "abi.register(poison, check)\n";
	fx_world *w = fx_new(NULL);
	fx_contract *k = fx_add(w, 9, src);
	expect_ok(fx_run(w, k, SSP_VM_MODE_CALL, "poison", NULL, 1, 0, G),
	          "\"err,err,err,err,err,err,err,err\"");
	/* same pooled state: nothing changed */
	expect_ok(fx_run(w, k, SSP_VM_MODE_CALL, "check", NULL, 1, 0, G), "\"ABCDnil\"");
	assert_int_equal(ssp_vm_states_created(w->vm), 1);
	fx_free(w);
}

static void test_bytecode(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	ssp_vm_abi abi;
	char err[256];
	static const char bc[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08";
	assert_int_equal(ssp_vm_check(w->vm, bc, sizeof bc - 1, G, &abi, err, sizeof err),
	                 SSP_ERR_VM_BYTECODE);
	assert_int_equal(ssp_vm_check(w->vm, "\x1b", 1, G, &abi, err, sizeof err),
	                 SSP_ERR_VM_BYTECODE);
	/* an ESC later is just a byte in a string */
	assert_int_equal(ssp_vm_check(w->vm, "local s = '\x1b'", strlen("local s = '\x1b'"), G,
	                              &abi, err, sizeof err),
	                 0);
	ssp_vm_abi_free(&abi);
	/* no way to produce or load bytecode at run time */
	const char *src = "function f()\n"
	                  "  assert(string.dump == nil and load == nil and loadstring == nil)\n"
	                  "  local ok, e = pcall(function() return string.dump(f) end)\n"
	                  "  return ok and 'dumped' or 'no dump'\n"
	                  "end\n"
	                  "abi.register(f)\n";
	fx_contract *k = fx_add(w, 9, src);
	expect_ok(fx_run(w, k, SSP_VM_MODE_CALL, "f", NULL, 1, 0, G), "\"no dump\"");
	/* a call with bytecode as its source */
	fx_contract *kb = fx_add(w, 10, "\x1bLua");
	fx_out o = fx_run(w, kb, SSP_VM_MODE_CALL, "f", NULL, 1, 0, G);
	assert_int_equal(o.status, SSP_ERR_VM_BYTECODE);
	fx_free(w);
}

static void test_tostring_no_address(void **state)
{
	(void)state;
	const char *src =
	    "function f()\n"
	    "  local t = setmetatable({}, {__name = 'Evil'})\n"
	    "  local r = {tostring({}), tostring(f), tostring(t), string.format('%s|%s', {}, f),\n"
	    "    tostring(setmetatable({}, {__tostring = function() return 'X' end})),\n"
	    "    tostring(nil), tostring(true), tostring(12), tostring(1.5), tostring(-0.0), "
	    "tostring(1/0)}\n"
	    "  local ok = pcall(string.format, '%p', {})\n"
	    "  r[#r+1] = tostring(ok)\n"
	    "  return table.concat(r, ' ')\n"
	    "end\n"
	    "abi.register(f)\n";
	expect_ok(fx_twice(src, "f", NULL, G),
	          "\"table function table table|function X nil true 12 1.5 -0.0 inf false\"");
}

static void test_metatables(void **state)
{
	(void)state;
	const char *src =
	    "local function try(f, ...) local ok, e = pcall(f, ...) return ok and 'ok' or "
	    "tostring(e) end\n"
	    "function f()\n"
	    "  local r = {}\n"
	    "  r[#r+1] = try(setmetatable, {}, {__gc = function() end})\n"
	    "  r[#r+1] = try(setmetatable, {}, {__mode = 'k'})\n"
	    "  local mt = {}\n"
	    "  local t = setmetatable({}, mt)\n"
	    "  r[#r+1] = tostring(getmetatable(t) == mt)\n"
	    "  mt.__mode = 'k'; mt.__gc = function() end -- too late: the copy was taken\n"
	    "  r[#r+1] = tostring(getmetatable(t) == mt)\n"
	    "  local p = setmetatable({}, {__metatable = 'locked'})\n"
	    "  r[#r+1] = getmetatable(p)\n"
	    "  r[#r+1] = try(setmetatable, p, {})\n"
	    "  r[#r+1] = try(setmetatable, {}, {__call = {}})\n"
	    "  local a = {} r[#r+1] = try(setmetatable, a, {__index = a})\n"
	    "  -- a chain of __index tables is bounded, whatever order it is built in\n"
	    "  local c = {} for i = 1, 12 do c[i] = {} end\n"
	    "  local ok = true\n"
	    "  for i = 1, 11 do ok = ok and pcall(setmetatable, c[i], {__index = c[i + 1]}) end\n"
	    "  r[#r+1] = tostring(ok)\n"
	    "  local Base = {} Base.__index = Base function Base.hi() return 'hi' end\n"
	    "  local D = setmetatable({}, Base) D.__index = D\n"
	    "  local obj = setmetatable({}, D)\n"
	    "  r[#r+1] = obj.hi()\n"
	    "  return table.concat(r, ',')\n"
	    "end\n"
	    "abi.register(f)\n";
	expect_ok(fx_twice(src, "f", NULL, G),
	          "\"setmetatable: __gc is not allowed,setmetatable: __mode is not "
	          "allowed,true,true,locked,"
	          "cannot change a protected metatable,setmetatable: __call must be a function,"
	          "setmetatable: __index loop,false,hi\"");
}

static void test_hostile_error_objects(void **state)
{
	(void)state;
	const char *src =
	    "local evil = setmetatable({}, {__tostring = function() while true do end end})\n"
	    "function obj() error(evil) end\n"
	    "function num() error(42) end\n"
	    "function multi() error('line one\\nline two') end\n"
	    "function nested() local ok, e = pcall(error, evil) assert(not ok) error(e) end\n"
	    "abi.register(obj, num, multi, nested)\n";
	expect_err(fx_twice(src, "obj", NULL, G), SSP_ERR_VM_ERROR,
	           "error object is a table value");
	expect_err(fx_twice(src, "num", NULL, G), SSP_ERR_VM_ERROR,
	           "error object is a number value");
	expect_err(fx_twice(src, "multi", NULL, G), SSP_ERR_VM_ERROR, "line one line two");
	expect_err(fx_twice(src, "nested", NULL, G), SSP_ERR_VM_ERROR,
	           "error object is a table value");
}

static void test_close_and_weak(void **state)
{
	(void)state;
	const char *src =
	    "function closeloop()\n"
	    "  local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
	    "  return 1\n"
	    "end\n"
	    "function closeerr()\n"
	    "  for i = 1, 100 do\n"
	    "    pcall(function() local x <close> = setmetatable({}, {__close = function() "
	    "error('c') end}) error('b') end)\n"
	    "  end\n"
	    "  return 'done'\n"
	    "end\n"
	    "function closeoog()\n"
	    "  local x <close> = setmetatable({}, {__close = error})\n"
	    "  while true do end\n"
	    "end\n"
	    "abi.register(closeloop, closeerr, closeoog)\n";
	fx_out o = fx_twice(src, "closeloop", NULL, 300000);
	assert_int_equal(o.status, SSP_ERR_VM_GAS);
	assert_true(o.gas == 300000);
	expect_ok(fx_twice(src, "closeerr", NULL, G), "\"done\"");
	/* __close = error replaces the error object: still out of gas */
	o = fx_twice(src, "closeoog", NULL, 300000);
	assert_int_equal(o.status, SSP_ERR_VM_GAS);
}

static void test_fresh_globals_and_pool(void **state)
{
	(void)state;
	const char *a =
	    "local n = 0\n"
	    "function f() n = n + 1 X = (X or 0) + 1 SECRET = 'a' return n * 100 + X end\n"
	    "abi.register(f)\n";
	const char *b = "function f() return tostring(SECRET) .. tostring(X) .. "
	                "tostring(rawget(_G, 'f') ~= nil) end\n"
	                "abi.register(f)\n";
	fx_world *w = fx_new(NULL);
	fx_contract *ka = fx_add(w, 9, a), *kb = fx_add(w, 10, b);
	unsigned long base = ssp_vm_states_created(w->vm);
	for (int i = 0; i < 1000; i++) {
		expect_ok(fx_run(w, ka, SSP_VM_MODE_CALL, "f", NULL, 1, 0, G), "101");
		expect_ok(fx_run(w, kb, SSP_VM_MODE_CALL, "f", NULL, 1, 0, G), "\"nilniltrue\"");
	}
	assert_int_equal(ssp_vm_states_created(w->vm), base);
	fx_free(w);
}

static void test_check_results(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	ssp_vm_abi abi;
	char err[256];
	assert_int_equal(ssp_vm_check(w->vm, "x = = 1", 7, G, &abi, err, sizeof err),
	                 SSP_ERR_VM_SYNTAX);
	assert_string_equal(err, "line 1: unexpected symbol near '='");
	assert_int_equal(ssp_vm_check(w->vm, "\n\nlocal x = 2 ^ 3", 16, G, &abi, err, sizeof err),
	                 SSP_ERR_VM_SYNTAX);
	assert_non_null(strstr(err, "line 3: the '^' operator"));
	assert_int_equal(ssp_vm_check(w->vm, "error('top')", 12, G, &abi, err, sizeof err),
	                 SSP_ERR_VM_ERROR);
	assert_string_equal(err, "contract:1: top");
	assert_int_equal(ssp_vm_check(w->vm, "while true do end", 17, 50000, &abi, err, sizeof err),
	                 SSP_ERR_VM_GAS);
	const char *s1 = "local s = storage.get('x')";
	assert_int_equal(ssp_vm_check(w->vm, s1, strlen(s1), G, &abi, err, sizeof err),
	                 SSP_ERR_VM_ERROR);
	assert_non_null(strstr(err, "storage.get is not available at the top level"));
	const char *s2 = "function init() end abi.register(init)";
	assert_int_equal(ssp_vm_check(w->vm, s2, strlen(s2), G, &abi, err, sizeof err),
	                 SSP_ERR_VM_ERROR);
	assert_non_null(strstr(err, "init cannot be registered"));
	const char *s3 = "local function hidden() end abi.register(hidden)";
	assert_int_equal(ssp_vm_check(w->vm, s3, strlen(s3), G, &abi, err, sizeof err),
	                 SSP_ERR_VM_ERROR);
	assert_non_null(strstr(err, "not a global"));
	const char *s4 = "function b() end function a() end function v() end function init() end\n"
	                 "alias = a abi.register(a) abi.payable(b) abi.view(v) abi.register(v)";
	assert_int_equal(ssp_vm_check(w->vm, s4, strlen(s4), G, &abi, err, sizeof err), 0);
	assert_int_equal(abi.nfns, 4);
	assert_true(abi.has_init);
	assert_string_equal(abi.fns[0].name, "a");
	assert_int_equal(abi.fns[0].kind, SSP_VM_FN_CALL);
	assert_string_equal(abi.fns[1].name, "alias");
	assert_string_equal(abi.fns[2].name, "b");
	assert_int_equal(abi.fns[2].kind, SSP_VM_FN_CALL | SSP_VM_FN_PAYABLE);
	assert_string_equal(abi.fns[3].name, "v");
	assert_int_equal(abi.fns[3].kind, SSP_VM_FN_CALL | SSP_VM_FN_VIEW);
	ssp_vm_abi_free(&abi);
	char *big = malloc(SSP_VM_SOURCE_MAX + 2);
	memset(big, ' ', SSP_VM_SOURCE_MAX + 1);
	assert_int_equal(ssp_vm_check(w->vm, big, SSP_VM_SOURCE_MAX + 1, G, &abi, err, sizeof err),
	                 SSP_ERR_TOOBIG);
	assert_int_equal(ssp_vm_check(w->vm, big, SSP_VM_SOURCE_MAX, G, &abi, err, sizeof err), 0);
	ssp_vm_abi_free(&abi);
	free(big);
	fx_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whitelist),
	    cmocka_unit_test(test_env_tricks),
	    cmocka_unit_test(test_readonly_libraries),
	    cmocka_unit_test(test_bytecode),
	    cmocka_unit_test(test_tostring_no_address),
	    cmocka_unit_test(test_metatables),
	    cmocka_unit_test(test_hostile_error_objects),
	    cmocka_unit_test(test_close_and_weak),
	    cmocka_unit_test(test_fresh_globals_and_pool),
	    cmocka_unit_test(test_check_results),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
