/*
 * pattern.c — Lua 5.4 pattern matching for contracts (vm layer): find,
 * match, gmatch and gsub with the semantics of the Lua manual §6.4.1, but
 * metered. A backtracking matcher can take exponential time on a crafted
 * pattern ("a.-" repeated), so every step (each position tried, each
 * character tested while expanding, each byte a set or a back-reference
 * compares) counts, and steps are charged as gas while matching: a pattern
 * bomb runs out of gas instead of hanging the node. Character classes are
 * ASCII (the C locale), whatever the process locale is.
 */
#include <string.h>

#include "vm/vm_internal.h"

#define MAXCAPTURES 32
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define L_ESC '%'
#define SPECIALS "^$*+?.([%-"
#define MAXDEPTH 200
#define STEP_BATCH 4096

typedef struct {
	const char *src_init, *src_end, *p_end;
	lua_State *L;
	int level, depth;
	unsigned steps;
	struct {
		const char *init;
		ptrdiff_t len;
	} capture[MAXCAPTURES];
} mstate;

static void charge_steps(mstate *ms)
{
	unsigned s = ms->steps;
	ms->steps = 0;
	vm_charge(ms->L, (s + VM_GAS_PATTERN_STEPS - 1) / VM_GAS_PATTERN_STEPS);
}

static inline void step(mstate *ms, unsigned n)
{
	ms->steps += n;
	if (ms->steps >= STEP_BATCH) charge_steps(ms);
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int match_class(int c, int cl)
{
	int res;
	int lc = (cl >= 'A' && cl <= 'Z') ? cl + 32 : cl;
	switch (lc) {
	case 'a':
		res = is_alpha(c);
		break;
	case 'c':
		res = c < 32 || c == 127;
		break;
	case 'd':
		res = is_digit(c);
		break;
	case 'g':
		res = c > 32 && c < 127;
		break;
	case 'l':
		res = c >= 'a' && c <= 'z';
		break;
	case 'p':
		res = c > 32 && c < 127 && !is_alpha(c) && !is_digit(c);
		break;
	case 's':
		res = c == ' ' || (c >= '\t' && c <= '\r');
		break;
	case 'u':
		res = c >= 'A' && c <= 'Z';
		break;
	case 'w':
		res = is_alpha(c) || is_digit(c);
		break;
	case 'x':
		res = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		break;
	default:
		return cl == c;
	}
	if (cl >= 'A' && cl <= 'Z') res = !res;
	return res;
}

/* p points at '[', ec at the closing ']' */
static int match_bracket(mstate *ms, int c, const char *p, const char *ec)
{
	int sig = 1;
	step(ms, (unsigned)((ec - p) >> 3));
	if (*(p + 1) == '^') {
		sig = 0;
		p++;
	}
	while (++p < ec) {
		if (*p == L_ESC) {
			p++;
			if (match_class(c, (unsigned char)*p)) return sig;
		} else if (*(p + 1) == '-' && p + 2 < ec) {
			p += 2;
			if ((unsigned char)*(p - 2) <= c && c <= (unsigned char)*p) return sig;
		} else if ((unsigned char)*p == c) {
			return sig;
		}
	}
	return !sig;
}

static const char *class_end(mstate *ms, const char *p)
{
	switch (*p++) {
	case L_ESC:
		if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return p + 1;
	case '[':
		if (*p == '^') p++;
		do { /* the first ']' is literal */
			if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
			if (*(p++) == L_ESC && p < ms->p_end) p++;
		} while (*p != ']');
		return p + 1;
	default:
		return p;
	}
}

static int single_match(mstate *ms, const char *s, const char *p, const char *ep)
{
	if (s >= ms->src_end) return 0;
	int c = (unsigned char)*s;
	switch (*p) {
	case '.':
		return 1;
	case L_ESC:
		return match_class(c, (unsigned char)*(p + 1));
	case '[':
		return match_bracket(ms, c, p, ep - 1);
	default:
		return (unsigned char)*p == c;
	}
}

static const char *match(mstate *ms, const char *s, const char *p);

static const char *match_balance(mstate *ms, const char *s, const char *p)
{
	if (p >= ms->p_end - 1) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
	if (*s != *p) return NULL; /* s may be src_end: the subject ends with a NUL */
	int b = *p, e = *(p + 1), cont = 1;
	while (++s < ms->src_end) {
		step(ms, 1);
		if (*s == e) {
			if (--cont == 0) return s + 1;
		} else if (*s == b) {
			cont++;
		}
	}
	return NULL;
}

static const char *max_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
	ptrdiff_t i = 0;
	while (single_match(ms, s + i, p, ep)) {
		i++;
		step(ms, 1);
	}
	while (i >= 0) {
		const char *res = match(ms, s + i, ep + 1);
		if (res) return res;
		i--;
	}
	return NULL;
}

static const char *min_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
	for (;;) {
		const char *res = match(ms, s, ep + 1);
		if (res) return res;
		if (!single_match(ms, s, p, ep)) return NULL;
		s++;
	}
}

static const char *start_capture(mstate *ms, const char *s, const char *p, int what)
{
	int level = ms->level;
	if (level >= MAXCAPTURES) luaL_error(ms->L, "too many captures");
	ms->capture[level].init = s;
	ms->capture[level].len = what;
	ms->level = level + 1;
	const char *res = match(ms, s, p);
	if (!res) ms->level--;
	return res;
}

static int capture_to_close(mstate *ms)
{
	for (int level = ms->level - 1; level >= 0; level--)
		if (ms->capture[level].len == CAP_UNFINISHED) return level;
	return luaL_error(ms->L, "invalid pattern capture");
}

static const char *end_capture(mstate *ms, const char *s, const char *p)
{
	int l = capture_to_close(ms);
	ms->capture[l].len = s - ms->capture[l].init;
	const char *res = match(ms, s, p);
	if (!res) ms->capture[l].len = CAP_UNFINISHED;
	return res;
}

static int check_capture(mstate *ms, int l)
{
	l -= '1';
	if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED)
		return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	return l;
}

static const char *match_capture(mstate *ms, const char *s, int l)
{
	l = check_capture(ms, l);
	size_t len = (size_t)ms->capture[l].len;
	step(ms, (unsigned)(len >> 3));
	if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0)
		return s + len;
	return NULL;
}

static const char *match(mstate *ms, const char *s, const char *p)
{
	if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
init:
	step(ms, 1);
	if (p != ms->p_end) {
		switch (*p) {
		case '(':
			if (*(p + 1) == ')')
				s = start_capture(ms, s, p + 2, CAP_POSITION);
			else
				s = start_capture(ms, s, p + 1, CAP_UNFINISHED);
			break;
		case ')':
			s = end_capture(ms, s, p + 1);
			break;
		case '$':
			if (p + 1 != ms->p_end) goto dflt;
			s = (s == ms->src_end) ? s : NULL;
			break;
		case L_ESC:
			switch (*(p + 1)) {
			case 'b':
				s = match_balance(ms, s, p + 2);
				if (s) {
					p += 4;
					goto init;
				}
				break;
			case 'f': {
				p += 2;
				if (*p != '[')
					luaL_error(ms->L, "missing '[' after '%%f' in pattern");
				const char *ep = class_end(ms, p);
				int prev = (s == ms->src_init) ? 0 : (unsigned char)*(s - 1);
				if (!match_bracket(ms, prev, p, ep - 1) &&
				    match_bracket(ms, (unsigned char)*s, p, ep - 1)) {
					p = ep;
					goto init;
				}
				s = NULL;
				break;
			}
			case '0':
			case '1':
			case '2':
			case '3':
			case '4':
			case '5':
			case '6':
			case '7':
			case '8':
			case '9':
				s = match_capture(ms, s, (unsigned char)*(p + 1));
				if (s) {
					p += 2;
					goto init;
				}
				break;
			default:
				goto dflt;
			}
			break;
		default:
		dflt : {
			const char *ep = class_end(ms, p);
			if (!single_match(ms, s, p, ep)) {
				if (*ep == '*' || *ep == '?' || *ep == '-') {
					p = ep + 1;
					goto init;
				}
				s = NULL;
			} else {
				switch (*ep) {
				case '?': {
					const char *res = match(ms, s + 1, ep + 1);
					if (res) {
						s = res;
					} else {
						p = ep + 1;
						goto init;
					}
					break;
				}
				case '+':
					s = max_expand(ms, s + 1, p, ep);
					break;
				case '*':
					s = max_expand(ms, s, p, ep);
					break;
				case '-':
					s = min_expand(ms, s, p, ep);
					break;
				default:
					s++;
					p = ep;
					goto init;
				}
			}
			break;
		}
		}
	}
	ms->depth++;
	return s;
}

static ptrdiff_t get_onecapture(mstate *ms, int i, const char *s, const char *e, const char **cap)
{
	if (i >= ms->level) {
		if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		*cap = s;
		return e - s;
	}
	ptrdiff_t capl = ms->capture[i].len;
	*cap = ms->capture[i].init;
	if (capl == CAP_UNFINISHED)
		luaL_error(ms->L, "unfinished capture");
	else if (capl == CAP_POSITION)
		lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
	return capl;
}

static void push_onecapture(mstate *ms, int i, const char *s, const char *e)
{
	const char *cap;
	ptrdiff_t l = get_onecapture(ms, i, s, e, &cap);
	if (l != CAP_POSITION) lua_pushlstring(ms->L, cap, (size_t)l);
}

static int push_captures(mstate *ms, const char *s, const char *e)
{
	int n = (ms->level == 0 && s) ? 1 : ms->level;
	luaL_checkstack(ms->L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_onecapture(ms, i, s, e);
	return n;
}

static void prep(mstate *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
	ms->L = L;
	ms->src_init = s;
	ms->src_end = s + ls;
	ms->p_end = p + lp;
	ms->steps = 0;
}

static void reprep(mstate *ms)
{
	ms->level = 0;
	ms->depth = MAXDEPTH;
}

static int no_specials(const char *p, size_t l)
{
	for (size_t i = 0; i < l; i++)
		if (p[i] && strchr(SPECIALS, p[i])) return 0;
	return 1;
}

static size_t start_index(lua_State *L, int arg, size_t ls)
{
	lua_Integer pos = vm_optint(L, arg, 1);
	if (pos > 0) return (size_t)pos - 1;
	if (pos == 0 || pos < -(lua_Integer)ls) return 0;
	return ls + (size_t)pos;
}

static int find_aux(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_index(L, 3, ls);
	if (init > ls) {
		lua_pushnil(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
		vm_charge_bytes(L, ls - init + lp, VM_GAS_BYTES_SHIFT);
		const char *s2 = memmem(s + init, ls - init, p, lp);
		if (s2) {
			lua_pushinteger(L, (s2 - s) + 1);
			lua_pushinteger(L, (lua_Integer)((size_t)(s2 - s) + lp));
			return 2;
		}
	} else {
		mstate ms;
		const char *s1 = s + init;
		int anchor = (*p == '^');
		if (anchor) {
			p++;
			lp--;
		}
		prep(&ms, L, s, ls, p, lp);
		do {
			reprep(&ms);
			const char *res = match(&ms, s1, p);
			if (res) {
				charge_steps(&ms);
				if (find) {
					lua_pushinteger(L, (s1 - s) + 1);
					lua_pushinteger(L, res - s);
					return push_captures(&ms, NULL, 0) + 2;
				}
				return push_captures(&ms, s1, res);
			}
		} while (s1++ < ms.src_end && !anchor);
		charge_steps(&ms);
	}
	lua_pushnil(L);
	return 1;
}

int vm_str_find(lua_State *L)
{
	return find_aux(L, 1);
}

int vm_str_match(lua_State *L)
{
	return find_aux(L, 0);
}

typedef struct {
	const char *src, *p, *lastmatch;
	mstate ms;
} gmatch_state;

static int gmatch_aux(lua_State *L)
{
	gmatch_state *gm = lua_touserdata(L, lua_upvalueindex(3));
	gm->ms.L = L;
	for (const char *src = gm->src; src <= gm->ms.src_end; src++) {
		reprep(&gm->ms);
		const char *e = match(&gm->ms, src, gm->p);
		if (e && e != gm->lastmatch) {
			gm->src = gm->lastmatch = e;
			charge_steps(&gm->ms);
			return push_captures(&gm->ms, src, e);
		}
	}
	gm->src = gm->ms.src_end + 1;
	charge_steps(&gm->ms);
	return 0;
}

int vm_str_gmatch(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_index(L, 3, ls);
	lua_settop(L, 2); /* the closure keeps both strings alive */
	gmatch_state *gm = lua_newuserdatauv(L, sizeof *gm, 0);
	if (init > ls) init = ls + 1;
	prep(&gm->ms, L, s, ls, p, lp);
	gm->src = s + init;
	gm->p = p;
	gm->lastmatch = NULL;
	lua_pushcclosure(L, gmatch_aux, 3);
	return 1;
}

static void add_s(mstate *ms, luaL_Buffer *b, const char *s, const char *e)
{
	size_t l;
	lua_State *L = ms->L;
	const char *news = lua_tolstring(L, 3, &l);
	const char *p;
	vm_charge_bytes(L, l, VM_GAS_BYTES_SHIFT);
	while ((p = memchr(news, L_ESC, l)) != NULL) {
		luaL_addlstring(b, news, (size_t)(p - news));
		p++;
		if (*p == L_ESC) {
			luaL_addchar(b, *p);
		} else if (*p == '0') {
			vm_charge_bytes(L, (size_t)(e - s), VM_GAS_BYTES_SHIFT);
			luaL_addlstring(b, s, (size_t)(e - s));
		} else if (is_digit((unsigned char)*p)) {
			const char *cap;
			ptrdiff_t resl = get_onecapture(ms, *p - '1', s, e, &cap);
			if (resl == CAP_POSITION) {
				luaL_addvalue(b);
			} else {
				vm_charge_bytes(L, (size_t)resl, VM_GAS_BYTES_SHIFT);
				luaL_addlstring(b, cap, (size_t)resl);
			}
		} else {
			luaL_error(L, "invalid use of '%c' in replacement string", L_ESC);
		}
		l -= (size_t)(p + 1 - news);
		news = p + 1;
		if (luaL_bufflen(b) > VM_STRING_MAX) break;
	}
	luaL_addlstring(b, news, l);
}

static int add_value(mstate *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
	lua_State *L = ms->L;
	switch (tr) {
	case LUA_TFUNCTION: {
		lua_pushvalue(L, 3);
		int n = push_captures(ms, s, e);
		lua_call(L, n, 1);
		break;
	}
	case LUA_TTABLE:
		push_onecapture(ms, 0, s, e);
		lua_gettable(L, 3);
		break;
	default:
		add_s(ms, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		vm_charge_bytes(L, (size_t)(e - s), VM_GAS_BYTES_SHIFT);
		luaL_addlstring(b, s, (size_t)(e - s));
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	vm_charge_bytes(L, lua_rawlen(L, -1), VM_GAS_BYTES_SHIFT);
	luaL_addvalue(b);
	return 1;
}

int vm_str_gsub(lua_State *L)
{
	size_t srcl, lp;
	const char *src = luaL_checklstring(L, 1, &srcl);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *lastmatch = NULL;
	int tr = lua_type(L, 3);
	lua_Integer max_s = vm_optint(L, 4, (lua_Integer)srcl + 1);
	int anchor = (*p == '^');
	lua_Integer n = 0;
	int changed = 0;
	mstate ms;
	luaL_Buffer b;
	luaL_argexpected(
	    L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
	    "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--;
	}
	prep(&ms, L, src, srcl, p, lp);
	while (n < max_s) {
		reprep(&ms);
		const char *e = match(&ms, src, p);
		if (e && e != lastmatch) {
			n++;
			changed = add_value(&ms, &b, src, e, tr) | changed;
			src = lastmatch = e;
		} else if (src < ms.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (luaL_bufflen(&b) > VM_STRING_MAX)
			vm_fail(L, SSP_ERR_VM_MEMORY, "string.gsub: result longer than %u bytes",
			        VM_STRING_MAX);
		if (anchor) break;
	}
	charge_steps(&ms);
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		vm_charge_bytes(L, (size_t)(ms.src_end - src), VM_GAS_BYTES_SHIFT);
		luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
		if (luaL_bufflen(&b) > VM_STRING_MAX)
			vm_fail(L, SSP_ERR_VM_MEMORY, "string.gsub: result longer than %u bytes",
			        VM_STRING_MAX);
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}
