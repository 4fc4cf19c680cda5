/*
 * rewrite.c — the source pass before compilation (vm layer). A small Lua
 * lexer walks the source once to
 *   - reject bytecode (a leading ESC),
 *   - reject the '^' operator: float pow comes from the C library and is not
 *     bit-identical across libm builds and CPUs (math.ipow covers integers),
 *   - rewrite the bounds of every numeric for as (e)*1. A string bound would
 *     otherwise be converted to a number inside one VM instruction, in time
 *     proportional to its length, for every loop entry; (e)*1 sends strings
 *     through the metered string-arithmetic metamethod and leaves numbers
 *     exactly as they were (-0.0 * 1 is -0.0, unlike -0.0 - 0). Constant
 *     bounds fold away at compile time; other bounds cost one instruction
 *     per loop entry,
 *   - rewrite the length operator: `#e` becomes `__ssp_len(e)`, a chunk
 *     local bound to LIB.__ssp_len (base.c), whose border for a table with
 *     holes depends only on the contents; Lua's own depends on the table's
 *     rehash history, which the random string-hash seed decides. The
 *     operand is found by a small parser of Lua's unary level (unary
 *     operators, then a literal, a table constructor, `...` or a suffixed
 *     expression); `^`, the only operator binding tighter, is rejected. The
 *     name is reserved: a contract may not use it, so nothing can shadow
 *     or rebind the local.
 * Insertions never add a newline, so line numbers in messages are unchanged.
 * Anything the lexer does not understand is left for lua_load to report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_internal.h"

enum { T_EOF, T_NAME, T_STRING, T_NUMBER, T_OP, T_BAD };

typedef struct {
	int type;
	const char *start;
	size_t len;
	int line;
} tok;

typedef struct {
	const char *s, *p, *e;
	int line;
	char *out;
	size_t olen, ocap;
	const char *copied; /* source copied to the output up to here */
	int oom;
	int disorder; /* an insertion before text already copied */
} lexer;

static int is_nl(char c)
{
	return c == '\n' || c == '\r';
}

static void newline(lexer *x)
{
	char c = *x->p++;
	if (x->p < x->e && is_nl(*x->p) && *x->p != c) x->p++;
	x->line++;
}

/* At '[': the level of a long bracket ([[ or [==[), or -1. */
static int long_level(lexer *x)
{
	const char *q = x->p + 1;
	int level = 0;
	while (q < x->e && *q == '=') {
		q++;
		level++;
	}
	return (q < x->e && *q == '[') ? level : -1;
}

/* Skips a long bracket of the given level starting at '['; 0, or -1 if unfinished. */
static int skip_long(lexer *x, int level)
{
	x->p += (size_t)level + 2;
	while (x->p < x->e) {
		if (*x->p == ']') {
			const char *q = x->p + 1;
			int l = 0;
			while (q < x->e && *q == '=') {
				q++;
				l++;
			}
			if (l == level && q < x->e && *q == ']') {
				x->p = q + 1;
				return 0;
			}
			x->p++;
		} else if (is_nl(*x->p)) {
			newline(x);
		} else {
			x->p++;
		}
	}
	return -1;
}

static int is_namec(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

static void next_tok(lexer *x, tok *t)
{
	for (;;) {
		while (x->p < x->e) {
			char c = *x->p;
			if (is_nl(c))
				newline(x);
			else if (c == ' ' || c == '\t' || c == '\v' || c == '\f')
				x->p++;
			else
				break;
		}
		if (x->p + 1 < x->e && x->p[0] == '-' && x->p[1] == '-') {
			x->p += 2;
			int level;
			if (x->p < x->e && *x->p == '[' && (level = long_level(x)) >= 0) {
				if (skip_long(x, level)) {
					t->type = T_BAD;
					return;
				}
			} else {
				while (x->p < x->e && !is_nl(*x->p))
					x->p++;
			}
			continue;
		}
		break;
	}
	t->start = x->p;
	t->line = x->line;
	if (x->p >= x->e) {
		t->type = T_EOF;
		t->len = 0;
		return;
	}
	char c = *x->p;
	if (is_namec(c, 1)) {
		while (x->p < x->e && is_namec(*x->p, 0))
			x->p++;
		t->type = T_NAME;
	} else if ((c >= '0' && c <= '9') ||
	           (c == '.' && x->p + 1 < x->e && x->p[1] >= '0' && x->p[1] <= '9')) {
		int hex = c == '0' && x->p + 1 < x->e && (x->p[1] == 'x' || x->p[1] == 'X');
		x->p += hex ? 2 : 1;
		while (x->p < x->e) {
			char d = *x->p;
			if ((!hex && (d == 'e' || d == 'E')) || (hex && (d == 'p' || d == 'P'))) {
				x->p++;
				if (x->p < x->e && (*x->p == '+' || *x->p == '-')) x->p++;
			} else if (is_namec(d, 0) || d == '.') {
				x->p++;
			} else {
				break;
			}
		}
		t->type = T_NUMBER;
	} else if (c == '"' || c == '\'') {
		x->p++;
		t->type = T_BAD;
		while (x->p < x->e) {
			char d = *x->p;
			if (d == c) {
				x->p++;
				t->type = T_STRING;
				break;
			}
			if (is_nl(d)) break; /* unfinished string: lua_load reports it */
			if (d == '\\') {
				x->p++;
				if (x->p >= x->e) break;
				if (is_nl(*x->p)) {
					newline(x);
				} else if (*x->p == 'z') {
					x->p++;
					while (x->p < x->e &&
					       (is_nl(*x->p) || *x->p == ' ' || *x->p == '\t' ||
					        *x->p == '\v' || *x->p == '\f')) {
						if (is_nl(*x->p))
							newline(x);
						else
							x->p++;
					}
				} else {
					x->p++;
				}
				continue;
			}
			x->p++;
		}
	} else if (c == '[') {
		int level = long_level(x);
		if (level >= 0) {
			t->type = skip_long(x, level) ? T_BAD : T_STRING;
		} else {
			x->p++;
			t->type = T_OP;
		}
	} else {
		/* operators: only single '=' and the brackets matter; keep multi-char ones whole */
		static const char *const two[] = {"==", "~=", "<=", ">=", "//",
		                                  "::", "<<", ">>", "..", NULL};
		t->type = T_OP;
		size_t n = 1;
		if (x->p + 2 < x->e && memcmp(x->p, "...", 3) == 0) {
			n = 3;
		} else if (x->p + 1 < x->e) {
			for (const char *const *o = two; *o; o++)
				if (x->p[0] == (*o)[0] && x->p[1] == (*o)[1]) n = 2;
		}
		x->p += n;
	}
	t->len = (size_t)(x->p - t->start);
}

static int is(const tok *t, int type, const char *s)
{
	size_t l = strlen(s);
	return t->type == type && t->len == l && memcmp(t->start, s, l) == 0;
}

static void put(lexer *x, const char *p, size_t n)
{
	if (x->oom) return;
	if (x->olen + n > x->ocap) {
		size_t cap = x->ocap ? x->ocap : 256;
		while (cap < x->olen + n)
			cap *= 2;
		char *o = ssp_realloc(x->out, cap);
		if (!o) {
			x->oom = 1;
			return;
		}
		x->out = o;
		x->ocap = cap;
	}
	memcpy(x->out + x->olen, p, n);
	x->olen += n;
}

/* Copies source up to `upto`, then the inserted text. */
static void insert_at(lexer *x, const char *upto, const char *text)
{
	if (upto < x->copied) { /* out of order: a bug, never silently wrong output */
		x->disorder = 1;
		return;
	}
	put(x, x->copied, (size_t)(upto - x->copied));
	x->copied = upto;
	put(x, text, strlen(text));
}

static int is_keyword(const tok *t)
{
	static const char *const kw[] = {"and",   "break", "do",       "else",  "elseif", "end",
	                                 "false", "for",   "function", "goto",  "if",     "in",
	                                 "local", "nil",   "not",      "or",    "repeat", "return",
	                                 "then",  "true",  "until",    "while", NULL};
	if (t->type != T_NAME) return 0;
	for (const char *const *k = kw; *k; k++)
		if (is(t, T_NAME, *k)) return 1;
	return 0;
}

/* A name that can be a variable or a field (not a keyword). */
static int is_plain_name(const tok *t)
{
	return t->type == T_NAME && !is_keyword(t);
}

/* Skips a balanced bracket group whose opening token was just read; 0 or -1. */
static int skip_group(lexer *x, char open)
{
	static const char closer[] = {['('] = ')', ['['] = ']', ['{'] = '}'};
	char stack[256];
	int n = 0;
	stack[n++] = closer[(unsigned char)open];
	tok t;
	while (n > 0) {
		next_tok(x, &t);
		if (t.type == T_EOF || t.type == T_BAD) return -1;
		if (t.type != T_OP || t.len != 1) continue;
		char c = *t.start;
		if (c == '(' || c == '[' || c == '{') {
			if (n == (int)sizeof stack) return -1;
			stack[n++] = closer[(unsigned char)c];
		} else if (c == ')' || c == ']' || c == '}') {
			if (stack[--n] != c) return -1;
		}
	}
	return 0;
}

/*
 * With x just past a '#': the end of its operand (one past its last token),
 * or NULL when there is nothing to rewrite (an operand that can never be a
 * table or string, like a number or a function literal, whose OP_LEN error
 * is already deterministic, or a syntax error left for lua_load).
 */
static const char *operand_end(lexer *x)
{
	tok t;
	for (;;) { /* unary operators */
		next_tok(x, &t);
		if (!(is(&t, T_OP, "#") || is(&t, T_OP, "-") || is(&t, T_OP, "~") ||
		      is(&t, T_NAME, "not")))
			break;
	}
	if (t.type == T_STRING || is(&t, T_OP, "...")) return t.start + t.len;
	if (is(&t, T_OP, "{")) return skip_group(x, '{') ? NULL : x->p;
	if (is(&t, T_OP, "(")) {
		if (skip_group(x, '(')) return NULL;
	} else if (!is_plain_name(&t)) {
		return NULL; /* a keyword: nil, true, false, function, or a syntax error */
	}
	const char *end = x->p;
	for (;;) { /* suffixes: .name [exp] :name args (args) {table} "string" */
		next_tok(x, &t);
		if (is(&t, T_OP, ".")) {
			next_tok(x, &t);
			if (!is_plain_name(&t)) return NULL;
		} else if (is(&t, T_OP, ":")) {
			next_tok(x, &t);
			if (!is_plain_name(&t)) return NULL;
			next_tok(x, &t);
			if (t.type == T_STRING) {
			} else if (is(&t, T_OP, "(") || is(&t, T_OP, "{")) {
				if (skip_group(x, *t.start)) return NULL;
			} else {
				return NULL;
			}
		} else if (is(&t, T_OP, "[") || is(&t, T_OP, "(") || is(&t, T_OP, "{")) {
			if (skip_group(x, *t.start)) return NULL;
		} else if (t.type != T_STRING) {
			return end;
		}
		end = x->p;
	}
}

int vm_rewrite(const char *src, size_t n, char **out, size_t *outn, char *err, size_t errlen)
{
	*out = NULL;
	*outn = 0;
	if (n > SSP_VM_SOURCE_MAX) {
		snprintf(err, errlen, "source larger than %d bytes", SSP_VM_SOURCE_MAX);
		return SSP_ERR_TOOBIG;
	}
	if (n > 0 && (unsigned char)src[0] == 0x1b) {
		snprintf(err, errlen, "bytecode is not accepted, deploy Lua source");
		return SSP_ERR_VM_BYTECODE;
	}
	lexer x = {.s = src, .p = src, .e = src + n, .line = 1, .copied = src};
	struct {
		int b, k;
	} hdr[256];
	int nh = 0, bdepth = 0, kdepth = 0;
	const char *close[VM_LEN_NEST_MAX]; /* where each open __ssp_len( closes */
	int nclose = 0, nlen = 0;
	tok t;
	for (;;) {
		next_tok(&x, &t);
		while (nclose > 0 && close[nclose - 1] <= t.start)
			insert_at(&x, close[--nclose], ")");
		if (t.type == T_EOF || t.type == T_BAD) break;
		if (is(&t, T_NAME, VM_LEN_NAME)) {
			snprintf(err, errlen, "line %d: the name '%s' is reserved", t.line,
			         VM_LEN_NAME);
			free(x.out);
			return SSP_ERR_VM_SYNTAX;
		}
		if (is(&t, T_OP, "#")) {
			lexer y = x;
			const char *end = operand_end(&y);
			if (end) {
				if (nclose == VM_LEN_NEST_MAX) {
					snprintf(err, errlen,
					         "line %d: '#' operators nested more than %d deep",
					         t.line, VM_LEN_NEST_MAX);
					free(x.out);
					return SSP_ERR_VM_SYNTAX;
				}
				insert_at(&x, t.start, VM_LEN_NAME "(");
				x.copied = t.start + 1; /* drop the '#' */
				close[nclose++] = end;
				nlen++;
			}
			continue;
		}
		if (t.type == T_OP && t.len == 1 && *t.start == '^') {
			snprintf(err, errlen,
			         "line %d: the '^' operator is not allowed (float pow differs "
			         "across platforms); "
			         "use math.ipow for integers",
			         t.line);
			free(x.out);
			return SSP_ERR_VM_SYNTAX;
		}
		if (is(&t, T_NAME, "for")) {
			lexer save = x;
			tok a, b;
			next_tok(&x, &a);
			next_tok(&x, &b);
			if (a.type == T_NAME && is(&b, T_OP, "=") &&
			    nh < (int)(sizeof hdr / sizeof hdr[0])) {
				insert_at(&x, b.start + 1, "(");
				hdr[nh].b = bdepth;
				hdr[nh].k = kdepth;
				nh++;
			} else {
				x.p = save.p;
				x.line = save.line;
			}
			continue;
		}
		int at_hdr = nh > 0 && hdr[nh - 1].b == bdepth && hdr[nh - 1].k == kdepth;
		if (t.type == T_OP && t.len == 1) {
			char c = *t.start;
			if (at_hdr && c == ',') {
				insert_at(&x, t.start, ")*1");
				insert_at(&x, t.start + 1, "(");
			} else if (c == '(' || c == '[' || c == '{') {
				bdepth++;
			} else if (c == ')' || c == ']' || c == '}') {
				bdepth--;
			}
		} else if (t.type == T_NAME) {
			if (is(&t, T_NAME, "do")) {
				if (at_hdr) {
					insert_at(&x, t.start, ")*1 ");
					nh--;
				}
				kdepth++;
			} else if (is(&t, T_NAME, "function") || is(&t, T_NAME, "if") ||
			           is(&t, T_NAME, "repeat")) {
				kdepth++;
			} else if (is(&t, T_NAME, "end") || is(&t, T_NAME, "until")) {
				kdepth--;
			}
		}
	}
	put(&x, x.copied, (size_t)(x.e - x.copied));
	if (x.disorder) {
		free(x.out);
		snprintf(err, errlen, "the source could not be prepared for metering");
		return SSP_ERR_VM_SYNTAX;
	}
	if (nlen > 0 && !x.oom) {
		/* bind the length function once, on line 1, before any contract code */
		static const char pro[] = "local " VM_LEN_NAME "=" VM_LEN_NAME " ";
		lexer p = {.copied = pro};
		put(&p, pro, sizeof pro - 1);
		put(&p, x.out, x.olen);
		free(x.out);
		x.out = p.out;
		x.olen = p.olen;
		x.oom = p.oom;
	}
	if (x.oom || !x.out) {
		if (!x.oom && n == 0) {
			*out = malloc(1);
			if (*out) return 0;
		}
		free(x.out);
		snprintf(err, errlen, "out of memory");
		return SSP_ERR_NOMEM;
	}
	*out = x.out;
	*outn = x.olen;
	return 0;
}
