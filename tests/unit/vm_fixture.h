/*
 * vm_fixture.h — a fake in-memory host for the VM unit tests: contracts at
 * made-up addresses, per-contract storage, balances, recorded events and
 * transfers, a token bridge that records its calls, and nested calls that
 * recurse into ssp_vm_call (a protected call restores a snapshot of the
 * world when the callee fails). Arguments and results are written as JSON
 * for readable assertions.
 */
#ifndef SSP_VM_FIXTURE_H
#define SSP_VM_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/vm.h"

#define FX_MAX_KV 64
#define FX_MAX_CONTRACTS 16
#define FX_MAX_EVENTS 64
#define FX_MAX_ACCOUNTS 16

typedef struct {
	ssp_addr owner;
	char key[260];
	size_t kl;
	uint8_t val[66 * 1024];
	size_t vl;
	int used;
} fx_kv;

typedef struct {
	ssp_addr addr;
	const char *src;
	size_t n;
	ssp_hash hash;
} fx_contract;

typedef struct {
	ssp_addr who;
	uint64_t amount;
} fx_account;

typedef struct {
	char name[70];
	char fields[512]; /* JSON */
} fx_event;

typedef struct {
	fx_kv kv[FX_MAX_KV];
	fx_account acct[FX_MAX_ACCOUNTS];
	int nacct;
	fx_event ev[FX_MAX_EVENTS];
	int nev;
} fx_state;

typedef struct {
	ssp_vm *vm;
	fx_contract c[FX_MAX_CONTRACTS];
	int nc;
	fx_state st;
	uint64_t height, time_ms;
	bool validating; /* passed to every call's host (ssp_vm_host.validating) */
	char last_token_op[32];
	char last_token_args[256];
	int storage_calls;
} fx_world;

typedef struct {
	fx_world *w;
	ssp_addr self;
	int view; /* nested calls of a view run as views */
} fx_ctx;

static inline ssp_addr fx_addr(int seed)
{
	ssp_addr a;
	memset(a.b, 0, sizeof a.b);
	a.b[0] = (uint8_t)seed;
	a.b[19] = 0x5a;
	return a;
}

static inline void fx_addr_str(char *out, int seed)
{
	ssp_addr a = fx_addr(seed);
	ssp_addr_encode(out, 96, "dssp", &a);
}

static inline fx_kv *fx_find(fx_world *w, const ssp_addr *owner, const uint8_t *k, size_t kl,
                             int create)
{
	fx_kv *free_slot = NULL;
	for (int i = 0; i < FX_MAX_KV; i++) {
		fx_kv *e = &w->st.kv[i];
		if (!e->used) {
			if (!free_slot) free_slot = e;
			continue;
		}
		if (e->kl == kl && !memcmp(e->key, k, kl) && !memcmp(e->owner.b, owner->b, 20))
			return e;
	}
	if (!create || !free_slot) return NULL;
	free_slot->used = 1;
	free_slot->owner = *owner;
	memcpy(free_slot->key, k, kl);
	free_slot->kl = kl;
	free_slot->vl = 0;
	return free_slot;
}

static inline uint64_t *fx_balance_ref(fx_world *w, const ssp_addr *a)
{
	for (int i = 0; i < w->st.nacct; i++)
		if (!memcmp(w->st.acct[i].who.b, a->b, 20)) return &w->st.acct[i].amount;
	if (w->st.nacct == FX_MAX_ACCOUNTS) return NULL;
	w->st.acct[w->st.nacct].who = *a;
	w->st.acct[w->st.nacct].amount = 0;
	return &w->st.acct[w->st.nacct++].amount;
}

static int fx_storage_get(void *ctx, const uint8_t *key, size_t kl, ssp_buf *val)
{
	fx_ctx *c = ctx;
	c->w->storage_calls++;
	if (kl == 3 && !memcmp(key, "!io", 3)) return SSP_ERR_IO; /* a failing disk */
	fx_kv *e = fx_find(c->w, &c->self, key, kl, 0);
	if (!e) return SSP_ERR_NOTFOUND;
	ssp_buf_put(val, e->val, e->vl);
	return val->err;
}

static int fx_storage_set(void *ctx, const uint8_t *key, size_t kl, const uint8_t *val, size_t vl)
{
	fx_ctx *c = ctx;
	c->w->storage_calls++;
	if (vl > sizeof c->w->st.kv[0].val) return SSP_ERR_TOOBIG;
	if (ssp_val_check(val, vl)) return SSP_ERR_INTERNAL;
	fx_kv *e = fx_find(c->w, &c->self, key, kl, 1);
	if (!e) return SSP_ERR_NOMEM;
	memcpy(e->val, val, vl);
	e->vl = vl;
	return 0;
}

static int fx_storage_del(void *ctx, const uint8_t *key, size_t kl)
{
	fx_ctx *c = ctx;
	c->w->storage_calls++;
	fx_kv *e = fx_find(c->w, &c->self, key, kl, 0);
	if (!e) return SSP_ERR_NOTFOUND;
	e->used = 0;
	return 0;
}

static int fx_balance(void *ctx, const ssp_addr *a, uint64_t *out)
{
	fx_ctx *c = ctx;
	uint64_t *b = fx_balance_ref(c->w, a);
	if (!b) return SSP_ERR_NOMEM;
	*out = *b;
	return 0;
}

static int fx_transfer(void *ctx, const ssp_addr *to, uint64_t amount)
{
	fx_ctx *c = ctx;
	uint64_t *from = fx_balance_ref(c->w, &c->self), *dst = fx_balance_ref(c->w, to);
	if (!from || !dst) return SSP_ERR_NOMEM;
	if (*from < amount) return SSP_ERR_BALANCE;
	*from -= amount;
	*dst += amount;
	return 0;
}

static int fx_emit(void *ctx, const char *name, const uint8_t *fields, size_t n)
{
	fx_ctx *c = ctx;
	if (c->w->st.nev == FX_MAX_EVENTS) return SSP_ERR_TOOBIG;
	fx_event *e = &c->w->st.ev[c->w->st.nev++];
	snprintf(e->name, sizeof e->name, "%s", name);
	json_t *j = NULL;
	e->fields[0] = 0;
	if (ssp_val_to_json(&j, fields, n) == 0) {
		char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		snprintf(e->fields, sizeof e->fields, "%s", s ? s : "?");
		free(s);
		json_decref(j);
	}
	return 0;
}

static int fx_token(void *ctx, const char *op, const uint8_t *args, size_t n, ssp_buf *ret)
{
	fx_ctx *c = ctx;
	snprintf(c->w->last_token_op, sizeof c->w->last_token_op, "%s", op);
	json_t *j = NULL;
	c->w->last_token_args[0] = 0;
	if (ssp_val_to_json(&j, args, n) == 0) {
		char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(c->w->last_token_args, sizeof c->w->last_token_args, "%s", s ? s : "?");
		free(s);
		json_decref(j);
	}
	if (!strcmp(op, "balance")) {
		ssp_buf_u8(ret, SSP_VAL_INT);
		ssp_buf_u64(ret, 777);
	} else if (!strcmp(op, "burn")) {
		return SSP_ERR_BALANCE;
	} else {
		ssp_buf_u8(ret, SSP_VAL_TRUE);
	}
	return 0;
}

static inline fx_contract *fx_contract_at(fx_world *w, const ssp_addr *a)
{
	for (int i = 0; i < w->nc; i++)
		if (!memcmp(w->c[i].addr.b, a->b, 20)) return &w->c[i];
	return NULL;
}

static int fx_call(void *ctx, const ssp_addr *target, const char *fn, const uint8_t *args, size_t n,
                   uint64_t value, bool protected_call, uint64_t *gas, ssp_buf *ret);

static inline void fx_host(ssp_vm_host *h, fx_ctx *ctx, const ssp_addr *self,
                           const ssp_addr *sender, const ssp_addr *origin, uint64_t value)
{
	memset(h, 0, sizeof *h);
	h->ctx = ctx;
	h->self = *self;
	h->sender = *sender;
	h->origin = *origin;
	h->value = value;
	h->height = ctx->w->height;
	h->time_ms = ctx->w->time_ms;
	h->hrp = "dssp";
	h->validating = ctx->w->validating;
	h->storage_get = fx_storage_get;
	h->storage_set = fx_storage_set;
	h->storage_del = fx_storage_del;
	h->balance = fx_balance;
	h->transfer = fx_transfer;
	h->call = fx_call;
	h->emit = fx_emit;
	h->token = fx_token;
}

/* One nested frame: who is running, so nested calls know their sender. */
static ssp_addr fx_origin;

static int fx_call(void *ctx, const ssp_addr *target, const char *fn, const uint8_t *args, size_t n,
                   uint64_t value, bool protected_call, uint64_t *gas, ssp_buf *ret)
{
	fx_ctx *c = ctx;
	fx_world *w = c->w;
	fx_contract *k = fx_contract_at(w, target);
	if (!k) return SSP_ERR_NOTFOUND;
	fx_state *snap = NULL;
	if (protected_call) {
		snap = malloc(sizeof *snap);
		if (!snap) return SSP_ERR_NOMEM;
		*snap = w->st;
	}
	if (value) {
		int rc = fx_transfer(ctx, target, value);
		if (rc) {
			free(snap);
			*gas = 0;
			return rc;
		}
	}
	fx_ctx c2 = {.w = w, .self = *target, .view = c->view};
	ssp_vm_host h;
	fx_host(&h, &c2, target, &c->self, &fx_origin, value);
	ssp_vm_result res;
	int rc =
	    ssp_vm_call(w->vm, &h, &k->hash, k->src, k->n,
	                c->view ? SSP_VM_MODE_VIEW : SSP_VM_MODE_CALL, fn, args, n, *gas, &res);
	*gas = res.gas_used;
	if (rc) {
		ssp_vm_result_free(&res);
		free(snap);
		return rc;
	}
	if (res.status) {
		if (snap) w->st = *snap;
		ssp_buf_u8(ret, SSP_VAL_STR);
		ssp_buf_bytes(ret, res.error, strlen(res.error));
		rc = res.status;
	} else {
		ssp_buf_put(ret, res.ret.data, res.ret.len);
	}
	ssp_vm_result_free(&res);
	free(snap);
	return rc;
}

static inline fx_world *fx_new(const ssp_vm_opts *o)
{
	fx_world *w = calloc(1, sizeof *w);
	if (!w) abort();
	if (ssp_vm_new(&w->vm, o)) abort();
	w->height = 100;
	w->time_ms = 1700000000000ULL;
	return w;
}

static inline void fx_free(fx_world *w)
{
	ssp_vm_free(w->vm);
	free(w);
}

static inline fx_contract *fx_add(fx_world *w, int seed, const char *src)
{
	fx_contract *k = &w->c[w->nc++];
	k->addr = fx_addr(seed);
	k->src = src;
	k->n = strlen(src);
	ssp_sha256(&k->hash, src, k->n);
	return k;
}

/* JSON text -> canonical bytes (caller frees); NULL json means no arguments. */
static inline uint8_t *fx_args(const char *json, size_t *n)
{
	*n = 0;
	if (!json) return NULL;
	json_error_t e;
	json_t *j = json_loads(json, JSON_DECODE_ANY, &e);
	if (!j) abort();
	ssp_buf b;
	ssp_buf_init(&b, 1 << 24);
	if (ssp_val_from_json(&b, j)) abort();
	json_decref(j);
	return ssp_buf_take(&b, n);
}

/* Canonical bytes -> JSON text in out. */
static inline void fx_json(char *out, size_t cap, const uint8_t *p, size_t n)
{
	json_t *j = NULL;
	int rc = ssp_val_to_json(&j, p, n);
	if (rc) {
		snprintf(out, cap, "<%s>", ssp_errname(rc));
		return;
	}
	char *s =
	    json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	snprintf(out, cap, "%s", s ? s : "?");
	free(s);
	json_decref(j);
}

typedef struct {
	int rc;
	int status;
	uint64_t gas;
	char ret[4096];
	char error[256];
} fx_out;

/* Calls contract k as `sender` (a seed) with JSON args. */
static inline fx_out fx_run(fx_world *w, fx_contract *k, int mode, const char *fn,
                            const char *json_args, int sender, uint64_t value, uint64_t gas)
{
	fx_out o;
	memset(&o, 0, sizeof o);
	size_t n;
	uint8_t *args = fx_args(json_args, &n);
	ssp_addr snd = fx_addr(sender);
	fx_origin = snd;
	if (value) {
		uint64_t *from = fx_balance_ref(w, &snd), *to = fx_balance_ref(w, &k->addr);
		if (*from < value) abort();
		*from -= value;
		*to += value;
	}
	fx_ctx c = {.w = w, .self = k->addr, .view = mode == SSP_VM_MODE_VIEW};
	ssp_vm_host h;
	fx_host(&h, &c, &k->addr, &snd, &snd, value);
	ssp_vm_result res;
	o.rc = ssp_vm_call(w->vm, &h, &k->hash, k->src, k->n, mode, fn, args, n, gas, &res);
	o.status = res.status;
	o.gas = res.gas_used;
	if (value &&
	    (o.rc || o.status)) { /* the failed call's value goes back (its other effects stay) */
		*fx_balance_ref(w, &k->addr) -= value;
		*fx_balance_ref(w, &snd) += value;
	}
	snprintf(o.error, sizeof o.error, "%s", res.error);
	if (o.rc == 0) fx_json(o.ret, sizeof o.ret, res.ret.data, res.ret.len);
	ssp_vm_result_free(&res);
	free(args);
	return o;
}

/* Runs a one-off contract's function `f` (registered) in a fresh world. */
static inline fx_out fx_eval(fx_world *w, const char *src, const char *json_args, uint64_t gas)
{
	fx_contract *k = fx_add(w, 100 + w->nc, src);
	return fx_run(w, k, SSP_VM_MODE_CALL, "f", json_args, 1, 0, gas);
}

#ifdef cmocka_unit_test
/*
 * Runs fn of src in two freshly created VMs and once more in the first
 * (now warm) one: the three outcomes must be identical.
 */
static inline fx_out fx_twice_opts(const char *src, const char *fn, const char *args, uint64_t gas,
                                   const ssp_vm_opts *o)
{
	fx_world *a = fx_new(o), *b = fx_new(o);
	fx_contract *ka = fx_add(a, 9, src), *kb = fx_add(b, 9, src);
	fx_out x = fx_run(a, ka, SSP_VM_MODE_CALL, fn, args, 1, 0, gas);
	fx_out y = fx_run(b, kb, SSP_VM_MODE_CALL, fn, args, 1, 0, gas);
	fx_out z = fx_run(a, ka, SSP_VM_MODE_CALL, fn, args, 1, 0, gas);
	assert_int_equal(x.rc, y.rc);
	assert_int_equal(x.status, y.status);
	assert_true(x.gas == y.gas);
	assert_string_equal(x.ret, y.ret);
	assert_string_equal(x.error, y.error);
	assert_int_equal(x.status, z.status);
	assert_true(x.gas == z.gas);
	assert_string_equal(x.ret, z.ret);
	assert_string_equal(x.error, z.error);
	fx_free(a);
	fx_free(b);
	return x;
}

static inline fx_out fx_twice(const char *src, const char *fn, const char *args, uint64_t gas)
{
	return fx_twice_opts(src, fn, args, gas, NULL);
}
#endif

#endif
