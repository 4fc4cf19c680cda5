/*
 * fuzz_vm_rewrite.c — libFuzzer harness for the contract source rewrite
 * (vm layer, src/vm/rewrite.c), differential against stock Lua: whenever
 * Lua compiles a source and the rewrite accepts it, the rewritten source
 * must compile too (except for Lua's own counting limits, which the added
 * local, upvalue and parentheses can cross) and must keep every line break
 * (line numbers in messages); and the rewrite never fails for its own
 * reasons (insertions out of order, or its parser of comparisons and `..`
 * giving up on a source Lua accepts). Any violation aborts. What the rewritten code
 * computes is checked by test_vm_lib (test_length).
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int vm_rewrite(const char *src, size_t n, char **out, size_t *outn, char *err, size_t errlen);

static size_t count_nl(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

/* Lua's limits on locals, upvalues, registers and nesting levels. */
static int counting_limit(const char *m)
{
	return strstr(m, "too many") || strstr(m, "overflow") || strstr(m, "levels") ||
	       strstr(m, "too complex") || strstr(m, "not enough memory");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lua_State *L;
	if (!L && !(L = luaL_newstate())) abort();
	char *out, err[256];
	size_t outn;
	int orig_ok = luaL_loadbufferx(L, (const char *)data, size, "=c", "t") == LUA_OK;
	lua_settop(L, 0);
	int rc = vm_rewrite((const char *)data, size, &out, &outn, err, sizeof err);
	if (rc) {
		if (strstr(err, "could not be prepared")) abort(); /* insertions out of order */
		/* 1 = VM_REWRITE_UNPARSED: the expression parser gave up on valid Lua */
		if (rc == 1 && orig_ok && !counting_limit(err)) abort();
		return 0;
	}
	if (orig_ok) {
		if (luaL_loadbufferx(L, out, outn, "=c", "t") != LUA_OK) {
			const char *m = lua_tostring(L, -1);
			if (!m || !counting_limit(m)) abort();
		}
		if (count_nl(out, outn) != count_nl((const char *)data, size)) abort();
	}
	lua_settop(L, 0);
	free(out);
	return 0;
}
