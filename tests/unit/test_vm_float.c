/*
 * test_vm_float.c — floats inside the contract VM (vm layer): every NaN,
 * whatever its sign bit and payload, becomes the same text through every
 * path (tostring, `..`, coercion where a string is expected, every float
 * conversion of string.format, table.concat, gsub replacements, error
 * messages, host functions) and the same bytes through string.pack, so gas
 * and control flow cannot depend on the CPU that computed it. NaNs of both
 * signs are built from bytes, so this runs the same on every CPU. Also pins
 * the text of the other edge cases (signed zero, infinities, denormals,
 * %a and %.17g), integer wraparound and floor division.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vm_fixture.h"

#define G 5000000

/* Every NaN the VM can produce, and NaNs of both signs with payloads built from bytes. */
static const char *const nans[] = {
    "0/0",
    "-(0/0)",
    "math.huge - math.huge",
    "math.huge * 0",
    "-math.huge + math.huge",
    "0.0 % 0.0",
    "5 % -0.0",
    "math.huge % 2",
    "(0/0) // 1",
    "math.fmod(1, 0.0)",
    "math.fmod(math.huge, 1)",
    "math.max(0/0, 1)",
    "math.min(-(0/0), 1)",
    "math.abs(0/0)",
    "math.floor(-(0/0))",
    "math.ceil(0/0)",
    "(0/0) + -(0/0)",
    "-(0/0) * (0/0)",
    "'0' / 0",
    "-'0' / '0'",
    "tonumber('1e999') - tonumber('0x1p9999')",
    "string.unpack('<d', '\\0\\0\\0\\0\\0\\0\\xf8\\xff')", /* negative quiet */
    "string.unpack('<d', '\\0\\0\\0\\0\\0\\0\\xf8\\x7f')", /* positive quiet */
    "string.unpack('<d', '\\1\\0\\0\\0\\0\\0\\xf0\\x7f')", /* signalling, payload 1 */
    "string.unpack('<d', '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff')",
    "string.unpack('<f', '\\1\\0\\xc0\\xff')",
    "-string.unpack('>n', '\\x7f\\xf8\\0\\0\\0\\0\\0\\x2a')",
    NULL,
};

/*
 * The contract: x is the NaN; each element of the result is one path from
 * a float to text or bytes. H() hexes bytes.
 */
static const char body[] =
    "local function H(s) return (s:gsub('.', function(c) return ('%02x'):format(c:byte()) "
    "end)) end\n"
    "function f()\n"
    "  local x = (NANEXPR)\n"
    "  assert(x ~= x, 'not a NaN')\n"
    "  local ok, msg = pcall(error, 'v=' .. x)\n"
    "  local n = 0\n"
    "  for i = 1, #tostring(x) * 1000 do n = n + 1 end\n"
    "  return {tostring(x), x .. '', '' .. x, x .. x, 1 .. x, 2.5 .. x, x .. 'y' .. x,\n"
    "    string.format('%a|%A|%e|%E|%f|%g|%G', x, x, x, x, x, x, x),\n"
    "    string.format('%.17g|%5.1f|%-6g|%+g|% g|%08.3f|%#x|%q|%s|%10s|%-5s|', x, x, x, x, x, "
    "x, 255, x, x, x, x),\n"
    "    string.format('[%.14g][%.0e][%+.3a][%12.4E]', x, x, x, x),\n"
    "    #tostring(x), string.len(x), string.upper(x), string.rep(x, 2, x), string.sub(x, 2),\n"
    "    string.byte(x, 1), string.find(x, 'a'), string.format(x), string.reverse(x),\n"
    "    table.concat({x, 1.5, x}, x), (string.gsub('ab', '%w', {a = x, b = -x})),\n"
    "    (string.gsub('a', 'a', function() return x end)), msg, utf8.len(x),\n"
    "    H(string.pack('<d', x)), H(string.pack('>n', -x)), H(string.pack('<f', x)),\n"
    "    H(string.pack('z', x)), H(string.pack('s1', x)), ssp.sha256(x) == "
    "ssp.sha256('nan'),\n"
    "    tostring(x) == tostring(-x), n, math.type(x), x == x, rawequal(x, x)}\n"
    "end\n"
    "abi.register(f)\n";

static const char want[] =
    "[\"nan\",\"nan\",\"nan\",\"nannan\",\"1nan\",\"2.5nan\",\"nanynan\","
    "\"nan|NAN|nan|NAN|nan|nan|NAN\","
    "\"nan|  nan|nan   |+nan| nan|     nan|0xff|(0/0)|nan|       nan|nan  |\","
    "\"[nan][nan][+nan][         NAN]\","
    "3,3,\"NAN\",\"nannannan\",\"an\",110,2,\"nan\",\"nan\","
    "\"nannan1.5nannan\",\"nannan\",\"nan\",\"v=nan\",3,"
    "\"000000000000f87f\",\"7ff8000000000000\",\"0000c07f\",\"6e616e00\",\"036e616e\",true,"
    "true,3000,\"float\",false,false]";

static void test_nan_text(void **state)
{
	(void)state;
	uint64_t gas = 0;
	for (const char *const *e = nans; *e; e++) {
		char src[4096];
		const char *at = strstr(body, "NANEXPR");
		snprintf(src, sizeof src, "%.*s%s%s", (int)(at - body), body, *e, at + 7);
		fx_out o = fx_twice(src, "f", NULL, G);
		if (o.status || strcmp(o.ret, want))
			fprintf(stderr, "NaN from %s:\n got %s %s (%s)\nwant %s\n", *e,
			        ssp_errname(o.status), o.ret, o.error, want);
		assert_int_equal(o.status, 0);
		assert_string_equal(o.ret, want);
		/* the same work whatever the NaN: only the expression's own cost differs */
		if (e == nans) gas = o.gas;
		assert_true(o.gas > 3000 && o.gas < gas + 200 && gas < o.gas + 200);
	}
}

/* The gas of a loop bounded by the text of a NaN is one figure on every CPU. */
static void test_nan_gas(void **state)
{
	(void)state;
	static const char src[] =
	    "function f(neg)\n"
	    "  local x = string.unpack('<d', neg and '\\0\\0\\0\\0\\0\\0\\xf8\\xff' or "
	    "'\\0\\0\\0\\0\\0\\0\\xf8\\x7f')\n"
	    "  local n = 0\n"
	    "  for i = 1, #tostring(x) * 1000 do n = n + 1 end\n"
	    "  return n\n"
	    "end\n"
	    "abi.register(f)\n";
	fx_out a = fx_twice(src, "f", "[true]", G), b = fx_twice(src, "f", "[false]", G);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	assert_string_equal(a.ret, "3000");
	assert_string_equal(b.ret, "3000");
	assert_true(a.gas == b.gas);
	assert_int_equal(a.gas, 21136); /* 7,136 before issue 12 priced instructions at 3 gas */
}

/* index 26, math.tointeger(0/0), is nil */
static const char edges_want[] =
    "{\"1\":\"-0.0\",\"10\":true,\"11\":\"0x1.999999999999ap-4|0.10000000000000001|0."
    "1|0x1p-1022\",\"12\":\"0.33333333333333\",\"13\":\"1e+15\",\"14\":\"1e+16\",\"15"
    "\":\"-1e-300\",\"16\":true,\"17\":9223372036854775807,\"18\":-922337203685477580"
    "8,\"19\":-4,\"2\":\"-0.0\",\"20\":-4,\"21\":-1,\"22\":1,\"23\":\"-4.0\",\"24\":\""
    "0.5\",\"25\":-1,\"27\":\"3.0\",\"28\":\"inf\",\"29\":\"nan,3,nan,1,nan,2\",\"3\""
    ":\"-0x0p+0|-0|-0|-0.000000\",\"30\":\"-0x0p+0|1e9999|0x0.0000000000001p-1022\",\""
    "4\":\"inf\",\"5\":\"-inf\",\"6\":\"inf\",\"7\":\"inf|-INF|inf|-inf|-inf\",\"8\":"
    "\"4.9406564584125e-324\",\"9\":\"0x0.0000000000001p-1022|4.9406564584124654e-324"
    "|4.940656e-324\"}";

/* The other edge cases print the same on every CPU (glibc formats them exactly). */
static void test_float_edges(void **state)
{
	(void)state;
	static const char src[] =
	    "function f()\n"
	    "  local nz, tiny = -0.0, string.unpack('<d', '\\1\\0\\0\\0\\0\\0\\0\\0')\n"
	    "  local t = {0/0, 3, -(0/0), 1, 0/0, 2}\n"
	    "  table.sort(t, function(a, b) return a < b end)\n"
	    "  local s = {}\n"
	    "  for i = 1, #t do s[i] = tostring(t[i]) end\n"
	    "  return {tostring(nz), nz .. '', string.format('%a|%g|%.17g|%f', nz, nz, nz, nz),\n"
	    "    tostring(math.huge), tostring(-math.huge), 1e308 * 10 .. '',\n"
	    "    string.format('%a|%A|%e|%.17g|%g', math.huge, -math.huge, math.huge, -math.huge, "
	    "1/nz),\n"
	    "    tostring(tiny), string.format('%a|%.17g|%e', tiny, tiny, tiny), tiny / 2 == 0,\n"
	    "    string.format('%a|%.17g|%.14g|%a', 0.1, 0.1, 0.1, 2.2250738585072014e-308),\n"
	    "    tostring(1/3), tostring(1e15), tostring(1e16), "
	    "tostring(-1e-300),\n"
	    "    math.maxinteger + 1 == math.mininteger, math.mininteger - 1, "
	    "math.mininteger // -1,\n"
	    "    7 // -2, -7 // 2, 7 % -2, -7 % 2, 7.5 // -2 .. '', -7.5 % 2 .. '', "
	    "math.fmod(-7, 2),\n"
	    "    math.tointeger(0/0), 3 % math.huge .. '', -3 % math.huge .. '', table.concat(s, "
	    "','),\n"
	    "    string.format('%q|%q|%q', nz, math.huge, tiny)}\n"
	    "end\n"
	    "abi.register(f)\n";
	fx_out o = fx_twice(src, "f", NULL, G);
	if (o.status || strcmp(o.ret, edges_want))
		fprintf(stderr, "got %s %s (%s)\nwant %s\n", ssp_errname(o.status), o.ret, o.error,
		        edges_want);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.ret, edges_want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nan_text),
	    cmocka_unit_test(test_nan_gas),
	    cmocka_unit_test(test_float_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
