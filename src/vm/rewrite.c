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

/* ------------------------------------------------------------------------
 * Pass 2: comparisons and concatenations (issue 12). Stock Lua compares two
 * strings (`==` of long strings of one length, `<`, `<=`, `>`, `>=`) and
 * converts numbers to text for `..` inside one VM instruction, in time
 * proportional to the lengths, so an instruction count cannot price them.
 * This pass parses the text pass 1 produced with a recursive-descent parser
 * of Lua 5.4's grammar (statements, and expressions by Lua's own operator
 * priorities) and rewrites
 *   a == b  ->  __ssp_eq(a, b)     (also ~= ne, < lt, <= le, > gt, >= ge;
 *                                   the operands keep their evaluation order)
 *   a .. b .. c  ->  __ssp_cat(a, b, (c))
 * A comparison with a literal operand (number, string, nil, true, false) is
 * left alone: its cost is bounded by the literal. The concatenation itself
 * still runs in the VM (its errors name the operand as Lua's do); the call
 * charges the result's length and the operand count afterwards (ops.c).
 * The names used are bound as chunk locals on line 1. A source the parser
 * does not follow gives VM_REWRITE_UNPARSED (compile() lets Lua report the
 * syntax error first).
 * ------------------------------------------------------------------------ */

enum { OPS_EQ, OPS_NE, OPS_LT, OPS_LE, OPS_GT, OPS_GE, OPS_CAT, OPS_N };
static const char *const ops_name[OPS_N] = {"__ssp_eq", "__ssp_ne", "__ssp_lt", "__ssp_le",
                                            "__ssp_gt", "__ssp_ge", "__ssp_cat"};

typedef struct {
	size_t pos;   /* offset in the pass-1 text */
	int cls;      /* 0 close, 1 operator replaced, 2 open: the order at one offset */
	long tie;     /* closes: inner (later start) first; opens: outer (later end) first */
	size_t del;   /* bytes of the pass-1 text replaced */
	char text[24];
} ops_edit;

typedef struct {
	lexer x;
	tok t;
	const char *prev_end; /* end of the last token consumed */
	ops_edit *ed;
	size_t ned, cap;
	unsigned used; /* bit per ops_name used */
	int depth, bad, oom;
	int bad_line;
} parser;

typedef struct {
	int lit;   /* the expression is one literal token */
	int chain; /* operands of its top-level `..` chain (1 if none) */
} subinfo;

static void p_adv(parser *p)
{
	p->prev_end = p->t.start + p->t.len;
	next_tok(&p->x, &p->t);
}

static void p_fail(parser *p)
{
	if (!p->bad) p->bad_line = p->t.line;
	p->bad = 1;
}

static int p_is(parser *p, int type, const char *s)
{
	return is(&p->t, type, s);
}

static void p_expect(parser *p, int type, const char *s)
{
	if (p_is(p, type, s))
		p_adv(p);
	else
		p_fail(p);
}

static void p_name(parser *p)
{
	if (is_plain_name(&p->t))
		p_adv(p);
	else
		p_fail(p);
}

/* The token after the current one, without consuming anything. */
static tok p_peek(parser *p)
{
	lexer y = p->x;
	tok t;
	next_tok(&y, &t);
	return t;
}

static void p_edit(parser *p, const char *at, int cls, long tie, size_t del, const char *text)
{
	if (p->ned == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		ops_edit *e = ssp_realloc(p->ed, cap * sizeof *e);
		if (!e) {
			p->oom = 1;
			p->bad = 1;
			return;
		}
		p->ed = e;
		p->cap = cap;
	}
	ops_edit *e = &p->ed[p->ned++];
	e->pos = (size_t)(at - p->x.s);
	e->cls = cls;
	e->tie = tie;
	e->del = del;
	snprintf(e->text, sizeof e->text, "%s", text);
}

static void p_block(parser *p);
static subinfo p_sub(parser *p, int limit, int in_chain);

static void p_exp(parser *p)
{
	(void)p_sub(p, 0, 0);
}

static void p_explist(parser *p)
{
	p_exp(p);
	while (!p->bad && p_is(p, T_OP, ",")) {
		p_adv(p);
		p_exp(p);
	}
}

static void p_constructor(parser *p)
{
	p_expect(p, T_OP, "{");
	while (!p->bad && !p_is(p, T_OP, "}")) {
		if (p_is(p, T_OP, "[")) {
			p_adv(p);
			p_exp(p);
			p_expect(p, T_OP, "]");
			p_expect(p, T_OP, "=");
			p_exp(p);
		} else if (is_plain_name(&p->t)) {
			tok n = p_peek(p);
			if (is(&n, T_OP, "=")) {
				p_adv(p);
				p_adv(p);
			}
			p_exp(p);
		} else {
			p_exp(p);
		}
		if (p_is(p, T_OP, ",") || p_is(p, T_OP, ";"))
			p_adv(p);
		else
			break;
	}
	p_expect(p, T_OP, "}");
}

/* At '(' of a parameter list: the list, the body and its `end`. */
static void p_funcbody(parser *p)
{
	p_expect(p, T_OP, "(");
	while (!p->bad && !p_is(p, T_OP, ")")) {
		if (p_is(p, T_OP, "..."))
			p_adv(p);
		else
			p_name(p);
		if (p_is(p, T_OP, ","))
			p_adv(p);
		else
			break;
	}
	p_expect(p, T_OP, ")");
	p_block(p);
	p_expect(p, T_NAME, "end");
}

static void p_args(parser *p)
{
	if (p->t.type == T_STRING) {
		p_adv(p);
	} else if (p_is(p, T_OP, "{")) {
		p_constructor(p);
	} else {
		p_expect(p, T_OP, "(");
		if (!p_is(p, T_OP, ")")) p_explist(p);
		p_expect(p, T_OP, ")");
	}
}

static void p_suffixed(parser *p)
{
	if (is_plain_name(&p->t)) {
		p_adv(p);
	} else if (p_is(p, T_OP, "(")) {
		p_adv(p);
		p_exp(p);
		p_expect(p, T_OP, ")");
	} else {
		p_fail(p);
		return;
	}
	while (!p->bad) {
		if (p_is(p, T_OP, ".")) {
			p_adv(p);
			p_name(p);
		} else if (p_is(p, T_OP, "[")) {
			p_adv(p);
			p_exp(p);
			p_expect(p, T_OP, "]");
		} else if (p_is(p, T_OP, ":")) {
			p_adv(p);
			p_name(p);
			p_args(p);
		} else if (p_is(p, T_OP, "(") || p_is(p, T_OP, "{") || p->t.type == T_STRING) {
			p_args(p);
		} else {
			return;
		}
	}
}

/* Binary operator of the current token: Lua's priorities (lparser.c), or 0. */
static int p_binop(parser *p, int *left, int *right, int *kind)
{
	static const struct {
		const char *s;
		int type, l, r, kind;
	} ops[] = {
	    {"+", T_OP, 10, 10, -1},        {"-", T_OP, 10, 10, -1},  {"*", T_OP, 11, 11, -1},
	    {"%", T_OP, 11, 11, -1},        {"^", T_OP, 14, 13, -1},  {"/", T_OP, 11, 11, -1},
	    {"//", T_OP, 11, 11, -1},       {"&", T_OP, 6, 6, -1},    {"|", T_OP, 4, 4, -1},
	    {"~", T_OP, 5, 5, -1},          {"<<", T_OP, 7, 7, -1},   {">>", T_OP, 7, 7, -1},
	    {"..", T_OP, 9, 8, OPS_CAT},    {"==", T_OP, 3, 3, OPS_EQ}, {"~=", T_OP, 3, 3, OPS_NE},
	    {"<", T_OP, 3, 3, OPS_LT},      {"<=", T_OP, 3, 3, OPS_LE}, {">", T_OP, 3, 3, OPS_GT},
	    {">=", T_OP, 3, 3, OPS_GE},     {"and", T_NAME, 2, 2, -1}, {"or", T_NAME, 1, 1, -1},
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (is(&p->t, ops[i].type, ops[i].s)) {
			*left = ops[i].l;
			*right = ops[i].r;
			*kind = ops[i].kind;
			return 1;
		}
	return 0;
}

static int is_literal(const tok *t)
{
	return t->type == T_NUMBER || t->type == T_STRING || is(t, T_NAME, "nil") ||
	       is(t, T_NAME, "true") || is(t, T_NAME, "false");
}

/*
 * Lua's subexpr: an expression whose binary operators all bind tighter than
 * `limit`. in_chain: this is the right operand of a `..`, whose chain the
 * caller wraps (one call per chain, as Lua compiles one OP_CONCAT).
 */
static subinfo p_sub(parser *p, int limit, int in_chain)
{
	subinfo r = {0, 1};
	if (++p->depth > 1000) { /* deeper than Lua's own limits: not valid Lua */
		p_fail(p);
		p->depth--;
		return r;
	}
	const char *start = p->t.start;
	int single = 0;
	if (p_is(p, T_NAME, "not") || p_is(p, T_OP, "-") || p_is(p, T_OP, "#") ||
	    p_is(p, T_OP, "~")) {
		p_adv(p);
		(void)p_sub(p, 12, 0);
	} else if (is_literal(&p->t)) {
		single = 1;
		p_adv(p);
	} else if (p_is(p, T_OP, "...")) {
		p_adv(p);
	} else if (p_is(p, T_OP, "{")) {
		p_constructor(p);
	} else if (p_is(p, T_NAME, "function")) {
		p_adv(p);
		p_funcbody(p);
	} else {
		p_suffixed(p);
	}
	int l, rp, kind, cat = 0;
	while (!p->bad && p_binop(p, &l, &rp, &kind) && l > limit) {
		tok op = p->t;
		p_adv(p);
		if (kind == OPS_CAT) {
			cat = 1;
			p_edit(p, op.start, 1, 0, op.len, ","); /* the operands become arguments */
			subinfo s = p_sub(p, rp, 1);
			r.chain = 1 + s.chain;
			if (!in_chain) {
				p_edit(p, start, 2, (long)(p->prev_end - p->x.s), 0, "__ssp_cat(");
				p_edit(p, p->prev_end, 0, (long)(start - p->x.s), 0, ")");
				p->used |= 1u << OPS_CAT;
			}
		} else {
			subinfo s = p_sub(p, rp, 0);
			r.chain = 1;
			if (kind >= 0 && !single && !s.lit) {
				char open[24];
				snprintf(open, sizeof open, "%s(", ops_name[kind]);
				p_edit(p, start, 2, (long)(p->prev_end - p->x.s), 0, open);
				p_edit(p, op.start, 1, 0, op.len, ",");
				p_edit(p, p->prev_end, 0, (long)(start - p->x.s), 0, ")");
				p->used |= 1u << kind;
			}
		}
		single = 0;
	}
	if (in_chain && !cat) {
		/* a chain's last operand: one value even when it is a call or `...` */
		p_edit(p, start, 2, (long)(p->prev_end - p->x.s), 0, "(");
		p_edit(p, p->prev_end, 0, (long)(start - p->x.s), 0, ")");
	}
	r.lit = single;
	p->depth--;
	return r;
}

static int block_end(parser *p)
{
	return p->t.type == T_EOF || p_is(p, T_NAME, "end") || p_is(p, T_NAME, "else") ||
	       p_is(p, T_NAME, "elseif") || p_is(p, T_NAME, "until");
}

static void p_statement(parser *p)
{
	if (p_is(p, T_OP, ";")) {
		p_adv(p);
	} else if (p_is(p, T_NAME, "if")) {
		p_adv(p);
		p_exp(p);
		p_expect(p, T_NAME, "then");
		p_block(p);
		while (!p->bad && p_is(p, T_NAME, "elseif")) {
			p_adv(p);
			p_exp(p);
			p_expect(p, T_NAME, "then");
			p_block(p);
		}
		if (p_is(p, T_NAME, "else")) {
			p_adv(p);
			p_block(p);
		}
		p_expect(p, T_NAME, "end");
	} else if (p_is(p, T_NAME, "while")) {
		p_adv(p);
		p_exp(p);
		p_expect(p, T_NAME, "do");
		p_block(p);
		p_expect(p, T_NAME, "end");
	} else if (p_is(p, T_NAME, "do")) {
		p_adv(p);
		p_block(p);
		p_expect(p, T_NAME, "end");
	} else if (p_is(p, T_NAME, "for")) {
		p_adv(p);
		p_name(p);
		if (p_is(p, T_OP, "=")) {
			p_adv(p);
			p_exp(p);
			p_expect(p, T_OP, ",");
			p_exp(p);
			if (p_is(p, T_OP, ",")) {
				p_adv(p);
				p_exp(p);
			}
		} else {
			while (!p->bad && p_is(p, T_OP, ",")) {
				p_adv(p);
				p_name(p);
			}
			p_expect(p, T_NAME, "in");
			p_explist(p);
		}
		p_expect(p, T_NAME, "do");
		p_block(p);
		p_expect(p, T_NAME, "end");
	} else if (p_is(p, T_NAME, "repeat")) {
		p_adv(p);
		p_block(p);
		p_expect(p, T_NAME, "until");
		p_exp(p);
	} else if (p_is(p, T_NAME, "function")) {
		p_adv(p);
		p_name(p);
		while (!p->bad && p_is(p, T_OP, ".")) {
			p_adv(p);
			p_name(p);
		}
		if (p_is(p, T_OP, ":")) {
			p_adv(p);
			p_name(p);
		}
		p_funcbody(p);
	} else if (p_is(p, T_NAME, "local")) {
		p_adv(p);
		if (p_is(p, T_NAME, "function")) {
			p_adv(p);
			p_name(p);
			p_funcbody(p);
			return;
		}
		for (;;) {
			p_name(p);
			if (p_is(p, T_OP, "<")) { /* attribute: <const> or <close> */
				p_adv(p);
				p_name(p);
				p_expect(p, T_OP, ">");
			}
			if (p->bad || !p_is(p, T_OP, ",")) break;
			p_adv(p);
		}
		if (p_is(p, T_OP, "=")) {
			p_adv(p);
			p_explist(p);
		}
	} else if (p_is(p, T_OP, "::")) {
		p_adv(p);
		p_name(p);
		p_expect(p, T_OP, "::");
	} else if (p_is(p, T_NAME, "return")) {
		p_adv(p);
		if (!block_end(p) && !p_is(p, T_OP, ";")) p_explist(p);
		if (p_is(p, T_OP, ";")) p_adv(p);
	} else if (p_is(p, T_NAME, "break")) {
		p_adv(p);
	} else if (p_is(p, T_NAME, "goto")) {
		p_adv(p);
		p_name(p);
	} else {
		p_suffixed(p);
		if (p_is(p, T_OP, ",") || p_is(p, T_OP, "=")) {
			while (!p->bad && p_is(p, T_OP, ",")) {
				p_adv(p);
				p_suffixed(p);
			}
			p_expect(p, T_OP, "=");
			p_explist(p);
		}
	}
}

static void p_block(parser *p)
{
	if (++p->depth > 1000) {
		p_fail(p);
		p->depth--;
		return;
	}
	while (!p->bad && !block_end(p)) {
		if (p->t.type == T_BAD) {
			p_fail(p);
			break;
		}
		p_statement(p);
	}
	p->depth--;
}

static int edit_cmp(const void *a, const void *b)
{
	const ops_edit *x = a, *y = b;
	if (x->pos != y->pos) return x->pos < y->pos ? -1 : 1;
	if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
	if (x->tie != y->tie) return x->tie > y->tie ? -1 : 1;
	return 0;
}

/*
 * Rewrites comparisons and concatenations of src (the output of pass 1):
 * 0 with *out (malloc'd; src itself when there is nothing to rewrite, then
 * *out == src), SSP_ERR_NOMEM, or VM_REWRITE_UNPARSED with err set.
 */
static int rewrite_ops(char *src, size_t n, char **out, size_t *outn, char *err, size_t errlen)
{
	parser p = {.x = {.s = src, .p = src, .e = src + n, .line = 1, .copied = src}};
	next_tok(&p.x, &p.t);
	p.prev_end = src;
	p_block(&p);
	if (!p.bad && p.t.type != T_EOF) p_fail(&p);
	if (p.oom) {
		free(p.ed);
		return SSP_ERR_NOMEM;
	}
	if (p.bad) {
		free(p.ed);
		snprintf(err, errlen, "line %d: the source could not be parsed for metering",
		         p.bad_line);
		return VM_REWRITE_UNPARSED;
	}
	if (p.ned == 0) {
		free(p.ed);
		*out = src;
		*outn = n;
		return 0;
	}
	qsort(p.ed, p.ned, sizeof *p.ed, edit_cmp);
	lexer o = {.copied = src};
	/* bind the names used once, on line 1, before any contract code */
	put(&o, "local ", 6);
	int first = 1;
	for (int k = 0; k < OPS_N; k++)
		if (p.used & (1u << k)) {
			if (!first) put(&o, ",", 1);
			put(&o, ops_name[k], strlen(ops_name[k]));
			first = 0;
		}
	put(&o, "=", 1);
	first = 1;
	for (int k = 0; k < OPS_N; k++)
		if (p.used & (1u << k)) {
			if (!first) put(&o, ",", 1);
			put(&o, ops_name[k], strlen(ops_name[k]));
			first = 0;
		}
	put(&o, " ", 1);
	size_t cur = 0;
	int disorder = 0;
	for (size_t i = 0; i < p.ned; i++) {
		const ops_edit *e = &p.ed[i];
		if (e->pos < cur) {
			disorder = 1;
			break;
		}
		put(&o, src + cur, e->pos - cur);
		put(&o, e->text, strlen(e->text));
		cur = e->pos + e->del;
	}
	if (!disorder && cur <= n) put(&o, src + cur, n - cur);
	free(p.ed);
	if (o.oom) {
		free(o.out);
		return SSP_ERR_NOMEM;
	}
	if (disorder || cur > n) {
		free(o.out);
		snprintf(err, errlen, "the source could not be prepared for metering");
		return SSP_ERR_VM_SYNTAX;
	}
	*out = o.out;
	*outn = o.olen;
	return 0;
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
		if (t.type == T_NAME && t.len >= sizeof VM_RESERVED_PREFIX - 1 &&
		    memcmp(t.start, VM_RESERVED_PREFIX, sizeof VM_RESERVED_PREFIX - 1) == 0) {
			snprintf(err, errlen, "line %d: the name '%.*s' is reserved", t.line,
			         (int)(t.len > 64 ? 64 : t.len), t.start);
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
	char *o2;
	size_t o2n;
	int rc = rewrite_ops(x.out, x.olen, &o2, &o2n, err, errlen);
	if (rc) {
		free(x.out);
		return rc;
	}
	if (o2 != x.out) free(x.out);
	*out = o2;
	*outn = o2n;
	return 0;
}
