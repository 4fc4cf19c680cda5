/*
 * value.c — canonical values (core layer): the strict checker and the JSON
 * mapping of the value encoding in ssp/core.h. One value has exactly one
 * encoding: table keys are integers or strings sorted by their encoded
 * bytes with no duplicates, table values are never nil, nesting is at most
 * SSP_VAL_MAX_DEPTH tables, there are no floats. Inputs are also capped at
 * VAL_MAX bytes overall.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/core.h"

#define VAL_MAX (4u * 1024 * 1024)

/* ------------------------------------------------------------- checking */

static int check_value(ssp_rd *r, int depth);

/* Reads one key; returns its encoding's span in the input. */
static int check_key(ssp_rd *r, const uint8_t **kp, size_t *kl)
{
	size_t start = r->off;
	uint8_t tag = ssp_rd_u8(r);
	if (r->err) return r->err;
	if (tag == SSP_VAL_INT) {
		(void)ssp_rd_u64(r);
	} else if (tag == SSP_VAL_STR) {
		size_t n;
		(void)ssp_rd_bytes(r, VAL_MAX, &n);
	} else {
		return SSP_ERR_NONCANON; /* keys are integers or strings */
	}
	if (r->err) return r->err;
	*kp = r->p + start;
	*kl = r->off - start;
	return 0;
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c) return c;
	return al < bl ? -1 : al > bl;
}

static int check_value(ssp_rd *r, int depth)
{
	uint8_t tag = ssp_rd_u8(r);
	if (r->err) return r->err;
	switch (tag) {
	case SSP_VAL_NIL:
	case SSP_VAL_FALSE:
	case SSP_VAL_TRUE:
		return 0;
	case SSP_VAL_INT:
		(void)ssp_rd_u64(r);
		return r->err;
	case SSP_VAL_STR: {
		size_t n;
		(void)ssp_rd_bytes(r, VAL_MAX, &n);
		return r->err;
	}
	case SSP_VAL_TABLE: {
		if (depth >= SSP_VAL_MAX_DEPTH) return SSP_ERR_TOOBIG;
		uint32_t n = ssp_rd_u32(r);
		if (r->err) return r->err;
		if (n > (r->len - r->off) / 2)
			return SSP_ERR_TRUNCATED; /* each entry takes >= 2 bytes */
		const uint8_t *prev = NULL;
		size_t prevl = 0;
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *k;
			size_t kl;
			int rc = check_key(r, &k, &kl);
			if (rc) return rc;
			if (prev && key_cmp(prev, prevl, k, kl) >= 0) return SSP_ERR_NONCANON;
			prev = k;
			prevl = kl;
			if (r->off < r->len && r->p[r->off] == SSP_VAL_NIL) return SSP_ERR_NONCANON;
			rc = check_value(r, depth + 1);
			if (rc) return rc;
		}
		return 0;
	}
	default:
		return SSP_ERR_DECODE;
	}
}

int ssp_val_check(const uint8_t *p, size_t n)
{
	if (!p && n) return SSP_ERR_INVAL;
	if (n > VAL_MAX) return SSP_ERR_TOOBIG;
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	int rc = check_value(&r, 0);
	if (rc) return rc;
	return ssp_rd_end(&r);
}

/* ------------------------------------------------------------ from JSON */

typedef struct {
	uint8_t *key; /* encoded key (malloc'd) */
	size_t klen;
	const json_t *val;
} jentry;

static int jentry_cmp(const void *a, const void *b)
{
	const jentry *x = a, *y = b;
	return key_cmp(x->key, x->klen, y->key, y->klen);
}

static int from_json(ssp_buf *b, const json_t *j, int depth);

static int enc_table(ssp_buf *b, jentry *e, size_t n, int depth)
{
	qsort(e, n, sizeof *e, jentry_cmp);
	for (size_t i = 1; i < n; i++)
		if (key_cmp(e[i - 1].key, e[i - 1].klen, e[i].key, e[i].klen) == 0)
			return SSP_ERR_INVAL;
	ssp_buf_u8(b, SSP_VAL_TABLE);
	ssp_buf_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		ssp_buf_put(b, e[i].key, e[i].klen);
		int rc = from_json(b, e[i].val, depth + 1);
		if (rc) return rc;
	}
	return b->err;
}

static int from_json(ssp_buf *b, const json_t *j, int depth)
{
	if (!j) return SSP_ERR_INVAL;
	if (b->err) return b->err;
	switch (json_typeof(j)) {
	case JSON_NULL:
		ssp_buf_u8(b, SSP_VAL_NIL);
		break;
	case JSON_TRUE:
		ssp_buf_u8(b, SSP_VAL_TRUE);
		break;
	case JSON_FALSE:
		ssp_buf_u8(b, SSP_VAL_FALSE);
		break;
	case JSON_INTEGER:
		ssp_buf_u8(b, SSP_VAL_INT);
		ssp_buf_u64(b, (uint64_t)(int64_t)json_integer_value(j));
		break;
	case JSON_REAL:
		return SSP_ERR_INVAL; /* no floats, ever */
	case JSON_STRING:
		ssp_buf_u8(b, SSP_VAL_STR);
		ssp_buf_bytes(b, json_string_value(j), json_string_length(j));
		break;
	case JSON_ARRAY:
	case JSON_OBJECT: {
		if (depth >= SSP_VAL_MAX_DEPTH) return SSP_ERR_TOOBIG;
		size_t n = json_is_array(j) ? json_array_size(j) : json_object_size(j);
		if (n > VAL_MAX / 2) return SSP_ERR_TOOBIG;
		jentry *e = ssp_calloc(n ? n : 1, sizeof *e);
		if (!e) return SSP_ERR_NOMEM;
		int rc = 0;
		size_t i = 0;
		if (json_is_array(j)) {
			for (i = 0; i < n && !rc; i++) {
				e[i].val = json_array_get(j, i);
				e[i].key = ssp_malloc(9);
				if (!e[i].key) {
					rc = SSP_ERR_NOMEM;
					break;
				}
				e[i].key[0] = SSP_VAL_INT;
				ssp_le64_put(e[i].key + 1, (uint64_t)i + 1);
				e[i].klen = 9;
			}
		} else {
			const char *k;
			json_t *v;
			void *it = json_object_iter((json_t *)j);
			for (; it && i < n && !rc;
			     it = json_object_iter_next((json_t *)j, it), i++) {
				k = json_object_iter_key(it);
				v = json_object_iter_value(it);
				size_t kl = strlen(k);
				e[i].val = v;
				e[i].key = ssp_malloc(5 + kl);
				if (!e[i].key) {
					rc = SSP_ERR_NOMEM;
					break;
				}
				e[i].key[0] = SSP_VAL_STR;
				for (int s = 0; s < 4; s++)
					e[i].key[1 + s] = (uint8_t)((uint64_t)kl >> (8 * s));
				memcpy(e[i].key + 5, k, kl);
				e[i].klen = 5 + kl;
			}
		}
		for (size_t x = 0; x < i && !rc; x++)
			if (!e[x].val || json_is_null(e[x].val))
				rc = SSP_ERR_INVAL; /* values are never nil */
		if (!rc) rc = enc_table(b, e, i, depth);
		for (size_t x = 0; x < n; x++)
			free(e[x].key);
		free(e);
		if (rc) return rc;
		break;
	}
	default:
		return SSP_ERR_INVAL;
	}
	return b->err;
}

int ssp_val_from_json(ssp_buf *b, const json_t *j)
{
	size_t start = b->len;
	int rc = from_json(b, j, 0);
	if (!rc && b->len - start > VAL_MAX) rc = SSP_ERR_TOOBIG;
	return rc;
}

/* -------------------------------------------------------------- to JSON */

static int to_json(json_t **out, ssp_rd *r, int depth);

/* Advances over one (already checked) value. */
static int skip_value(ssp_rd *r)
{
	size_t n;
	switch (ssp_rd_u8(r)) {
	case SSP_VAL_INT:
		(void)ssp_rd_u64(r);
		break;
	case SSP_VAL_STR:
		(void)ssp_rd_bytes(r, VAL_MAX, &n);
		break;
	case SSP_VAL_TABLE: {
		uint32_t k = ssp_rd_u32(r);
		for (uint32_t i = 0; i < 2 * (uint64_t)k && !r->err; i++)
			skip_value(r);
		break;
	}
	default:
		break;
	}
	return r->err;
}

static int read_key(ssp_rd *r, int *is_int, int64_t *iv, const char **s, size_t *sl)
{
	uint8_t tag = ssp_rd_u8(r);
	if (tag == SSP_VAL_INT) {
		*is_int = 1;
		*iv = (int64_t)ssp_rd_u64(r);
	} else if (tag == SSP_VAL_STR) {
		*is_int = 0;
		*s = (const char *)ssp_rd_bytes(r, VAL_MAX, sl);
	} else {
		return SSP_ERR_DECODE;
	}
	return r->err;
}

/*
 * A table becomes an array when its keys are exactly 1..n, else an object;
 * integer keys of an object are written as decimal strings (which must not
 * collide with a string key).
 */
static int table_to_json(json_t **out, ssp_rd *r, int depth)
{
	uint32_t n = ssp_rd_u32(r);
	if (r->err) return r->err;
	size_t start = r->off;
	/* first pass: are the keys exactly 1..n? */
	uint32_t ints = 0, in_range = 0;
	for (uint32_t i = 0; i < n; i++) {
		int is_int = 0;
		int64_t iv = 0;
		const char *s;
		size_t sl;
		int rc = read_key(r, &is_int, &iv, &s, &sl);
		if (rc) return rc;
		if (is_int) {
			ints++;
			if (iv >= 1 && (uint64_t)iv <= n) in_range++;
		}
		rc = skip_value(r);
		if (rc) return rc;
	}
	int array = ints == n && in_range == n;
	r->off = start;
	json_t *t = array ? json_array() : json_object();
	if (!t) return SSP_ERR_NOMEM;
	json_t **items = NULL;
	if (array && n) {
		items = ssp_calloc(n, sizeof *items);
		if (!items) {
			json_decref(t);
			return SSP_ERR_NOMEM;
		}
	}
	int rc = 0;
	for (uint32_t i = 0; i < n && !rc; i++) {
		int is_int = 0;
		int64_t iv = 0;
		const char *s = NULL;
		size_t sl = 0;
		rc = read_key(r, &is_int, &iv, &s, &sl);
		json_t *v = NULL;
		if (!rc) rc = to_json(&v, r, depth + 1);
		if (rc) break;
		if (array) {
			items[iv - 1] = v;
			continue;
		}
		char kbuf[32];
		char *key;
		if (is_int) {
			snprintf(kbuf, sizeof kbuf, "%lld", (long long)iv);
			key = kbuf;
		} else {
			/* an object key is a C string: UTF-8 without NUL */
			if (!ssp_utf8_valid(s, sl, 0)) {
				json_decref(v);
				rc = SSP_ERR_INVAL;
				break;
			}
			key = strndup(s, sl);
			if (!key) {
				json_decref(v);
				rc = SSP_ERR_NOMEM;
				break;
			}
		}
		if (json_object_get(t, key)) {
			rc = SSP_ERR_INVAL; /* "5" and 5 both present */
			json_decref(v);
		} else if (json_object_set_new(t, key, v)) { /* takes v even when it fails */
			rc = SSP_ERR_NOMEM;                  /* the key is valid UTF-8 */
		}
		if (!is_int) free(key);
	}
	if (array) {
		for (uint32_t i = 0; i < n; i++) {
			if (!rc && json_array_append_new(t, items[i]))
				rc = SSP_ERR_NOMEM;
			else if (rc)
				json_decref(items[i]);
		}
		free(items);
	}
	if (rc) {
		json_decref(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int to_json(json_t **out, ssp_rd *r, int depth)
{
	*out = NULL;
	uint8_t tag = ssp_rd_u8(r);
	if (r->err) return r->err;
	json_t *v = NULL;
	switch (tag) {
	case SSP_VAL_NIL:
		v = json_null();
		break;
	case SSP_VAL_FALSE:
		v = json_false();
		break;
	case SSP_VAL_TRUE:
		v = json_true();
		break;
	case SSP_VAL_INT:
		v = json_integer((json_int_t)(int64_t)ssp_rd_u64(r));
		break;
	case SSP_VAL_STR: {
		size_t n;
		const char *s = (const char *)ssp_rd_bytes(r, VAL_MAX, &n);
		if (r->err) return r->err;
		/* our validator decides, not jansson's: JSON strings may hold NUL (\u0000) */
		if (!ssp_utf8_valid(s, n, SSP_UTF8_NUL)) return SSP_ERR_INVAL;
		v = json_stringn(s, n);
		if (!v) return SSP_ERR_NOMEM;
		break;
	}
	case SSP_VAL_TABLE:
		if (depth >= SSP_VAL_MAX_DEPTH) return SSP_ERR_TOOBIG;
		return table_to_json(out, r, depth);
	default:
		return SSP_ERR_DECODE;
	}
	if (r->err) {
		json_decref(v);
		return r->err;
	}
	if (!v) return SSP_ERR_NOMEM;
	*out = v;
	return 0;
}

int ssp_val_to_json(json_t **out, const uint8_t *p, size_t n)
{
	*out = NULL;
	int rc = ssp_val_check(p, n);
	if (rc) return rc;
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	return to_json(out, &r, 0);
}
