/*
 * output.c — what `ssp` prints on stdout (application layer): aligned
 * "label: value" tables for humans, node results flattened into such
 * tables, and the single JSON document of --json mode.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define FLAT_MAX_DEPTH 4

__attribute__((format(printf, 1, 0))) static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0) cli_oom();
	return s;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) cli_oom();
	return d;
}

static void table_push(cli_table *t, char *label, char *value)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **l = realloc(t->label, cap * sizeof(*l));
		if (!l) cli_oom();
		t->label = l;
		char **v = realloc(t->value, cap * sizeof(*v));
		if (!v) cli_oom();
		t->value = v;
		t->cap = cap;
	}
	t->label[t->n] = label;
	t->value[t->n] = value;
	t->n++;
}

void cli_table_add(cli_table *t, const char *label, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *value = xvasprintf(fmt, ap);
	va_end(ap);
	table_push(t, xstrdup(label), value);
}

void cli_table_print(cli_table *t)
{
	size_t width = 0;
	for (size_t i = 0; i < t->n; i++) {
		size_t w = strlen(t->label[i]);
		if (w > width) width = w;
	}
	for (size_t i = 0; i < t->n; i++) {
		/* An empty label continues the previous row's list. */
		if (!t->value[i][0])
			printf("%s:\n", t->label[i]); /* no trailing blanks */
		else if (t->label[i][0])
			printf("%s:%*s %s\n", t->label[i], (int)(width - strlen(t->label[i])), "",
			       t->value[i]);
		else
			printf("%*s %s\n", (int)width + 1, "", t->value[i]);
		free(t->label[i]);
		free(t->value[i]);
	}
	free(t->label);
	free(t->value);
	memset(t, 0, sizeof(*t));
}

static bool is_amount(const char *path, const char *const *amounts)
{
	for (size_t i = 0; amounts && amounts[i]; i++)
		if (strcmp(path, amounts[i]) == 0) return true;
	return false;
}

static char *scalar_text(const json_t *v, const char *path, const char *const *amounts)
{
	char *s = NULL;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (asprintf(&s, "%s%s", json_string_value(v),
		             is_amount(path, amounts) ? " SSP" : "") < 0)
			cli_oom();
		return s;
	case JSON_INTEGER:
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0) cli_oom();
		return s;
	case JSON_REAL:
		if (asprintf(&s, "%.17g", json_real_value(v)) < 0) cli_oom();
		return s;
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	case JSON_NULL:
		return xstrdup("-");
	default:
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s) cli_oom();
		return s;
	}
}

static void flatten(cli_table *t, const json_t *v, const char *path, const char *const *amounts,
                    int depth)
{
	if (json_is_object(v) && depth < FLAT_MAX_DEPTH) {
		const char *key;
		json_t *sub;
		if (json_object_size(v) == 0 && path[0]) {
			table_push(t, xstrdup(path), xstrdup("{}"));
			return;
		}
		json_object_foreach((json_t *)v, key, sub)
		{
			char *p;
			if (asprintf(&p, "%s%s%s", path, path[0] ? "." : "", key) < 0) cli_oom();
			flatten(t, sub, p, amounts, depth + 1);
			free(p);
		}
	} else if (json_is_array(v) && depth < FLAT_MAX_DEPTH) {
		size_t i;
		json_t *el;
		if (json_array_size(v) == 0) {
			table_push(t, xstrdup(path), xstrdup("(none)"));
			return;
		}
		json_array_foreach(v, i, el)
		{
			char *txt = json_is_object(el) || json_is_array(el)
			                ? json_dumps(el, JSON_COMPACT | JSON_ENCODE_ANY)
			                : scalar_text(el, path, amounts);
			if (!txt) cli_oom();
			table_push(t, xstrdup(i == 0 ? path : ""), txt);
		}
	} else {
		table_push(t, xstrdup(path), scalar_text(v, path, amounts));
	}
}

void cli_print_result(const json_t *obj, const char *const *amounts)
{
	cli_table t = {0};
	if (!json_is_object(obj)) {
		char *txt = scalar_text(obj, "", NULL);
		puts(txt);
		free(txt);
		return;
	}
	flatten(&t, obj, "", amounts, 0);
	cli_table_print(&t);
}

void cli_print_json(const json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (!s) cli_oom();
	puts(s);
	free(s);
}
