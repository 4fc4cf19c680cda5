/*
 * state.c — the block's state overlay (chain layer): a hash map of changed
 * keys over the committed LMDB table, with an undo log for savepoints, the
 * write set as a batch for the state tree and as an undo record, and the
 * account/supply codecs.
 *
 * The map hashes keys with SipHash under a per-process random key
 * (libsodium crypto_shorthash), so crafted addresses cannot force
 * collisions. Values are copied; an undo record owns the value it replaced.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "state_internal.h"

typedef struct {
	uint8_t key[1 + SSP_STATE_KEY_MAX];
	uint8_t klen;
	uint8_t present; /* changed in this overlay */
	uint8_t deleted;
	uint8_t *val;
	uint32_t vlen;
} entry;

typedef struct {
	uint32_t idx;
	uint8_t present, deleted;
	uint8_t *val;
	uint32_t vlen;
} undo;

struct ssp_state {
	ssp_txn *t;
	ssp_table tb;
	entry *e;
	size_t ne, cape;
	uint32_t *slots; /* open addressing: index+1, 0 = empty */
	size_t nslots;
	undo *u;
	size_t nu, capu;
	ssp_addr *restricted; /* restricted accounts written (ssp_state_restricted) */
	size_t nres, capres;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

static uint64_t key_hash(const ssp_state *st, const uint8_t *k, size_t n)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, k, n, st->hkey);
	uint64_t v;
	memcpy(&v, h, 8);
	return v;
}

int ssp_state_new(ssp_state **out, ssp_txn *t, ssp_table tb)
{
	ssp_state *st = ssp_calloc(1, sizeof *st);
	if (!st) return SSP_ERR_NOMEM;
	st->t = t;
	st->tb = tb;
	st->nslots = 1024;
	st->slots = ssp_calloc(st->nslots, sizeof *st->slots);
	if (!st->slots) {
		free(st);
		return SSP_ERR_NOMEM;
	}
	crypto_shorthash_keygen(st->hkey);
	*out = st;
	return 0;
}

void ssp_state_free(ssp_state *st)
{
	if (!st) return;
	for (size_t i = 0; i < st->ne; i++)
		free(st->e[i].val);
	for (size_t i = 0; i < st->nu; i++)
		free(st->u[i].val);
	free(st->e);
	free(st->u);
	free(st->slots);
	free(st->restricted);
	free(st);
}

size_t ssp_state_restricted(const ssp_state *st, const ssp_addr **out)
{
	*out = st->restricted;
	return st->nres;
}

static int grow_slots(ssp_state *st)
{
	size_t n = st->nslots * 2;
	uint32_t *s = ssp_calloc(n, sizeof *s);
	if (!s) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < st->ne; i++) {
		size_t h = key_hash(st, st->e[i].key, st->e[i].klen) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = (uint32_t)i + 1;
	}
	free(st->slots);
	st->slots = s;
	st->nslots = n;
	return 0;
}

/* Finds the entry for key; with create, adds an absent one. NULL if none / OOM. */
static entry *find(ssp_state *st, const uint8_t *k, size_t n, int create, int *err)
{
	size_t h = key_hash(st, k, n) & (st->nslots - 1);
	while (st->slots[h]) {
		entry *e = &st->e[st->slots[h] - 1];
		if (e->klen == n && !memcmp(e->key, k, n)) return e;
		h = (h + 1) & (st->nslots - 1);
	}
	if (!create) return NULL;
	if ((st->ne + 1) * 2 > st->nslots) {
		if ((*err = grow_slots(st))) return NULL;
		return find(st, k, n, create, err);
	}
	if (st->ne == st->cape) {
		size_t c = st->cape ? st->cape * 2 : 256;
		entry *ne = ssp_realloc(st->e, c * sizeof *ne);
		if (!ne) {
			*err = SSP_ERR_NOMEM;
			return NULL;
		}
		st->e = ne;
		st->cape = c;
	}
	entry *e = &st->e[st->ne];
	memset(e, 0, sizeof *e);
	memcpy(e->key, k, n);
	e->klen = (uint8_t)n;
	st->slots[h] = (uint32_t)++st->ne;
	return e;
}

static int make_key(uint8_t *out, uint8_t table, const void *k, size_t kl)
{
	if (kl > SSP_STATE_KEY_MAX) return SSP_ERR_TOOBIG;
	out[0] = table;
	memcpy(out + 1, k, kl);
	return 0;
}

int ssp_state_get(ssp_state *st, uint8_t table, const void *k, size_t kl, const void **v,
                  size_t *vl)
{
	uint8_t key[1 + SSP_STATE_KEY_MAX];
	int rc = make_key(key, table, k, kl), err = 0;
	if (rc) return rc;
	entry *e = find(st, key, kl + 1, 0, &err);
	if (e && e->present) {
		if (e->deleted) return SSP_ERR_NOTFOUND;
		*v = e->val;
		*vl = e->vlen;
		return 0;
	}
	return ssp_txn_get(st->t, st->tb, key, kl + 1, v, vl);
}

static int change(ssp_state *st, uint8_t table, const void *k, size_t kl, const void *v, size_t vl,
                  int del)
{
	uint8_t key[1 + SSP_STATE_KEY_MAX];
	int rc = make_key(key, table, k, kl), err = 0;
	if (rc) return rc;
	if (vl > SSP_STATE_VAL_MAX) return SSP_ERR_TOOBIG;
	uint8_t *copy = NULL;
	if (!del) {
		copy = ssp_malloc(vl ? vl : 1);
		if (!copy) return SSP_ERR_NOMEM;
		memcpy(copy, v, vl);
	}
	if (st->nu == st->capu) {
		size_t c = st->capu ? st->capu * 2 : 256;
		undo *nu = ssp_realloc(st->u, c * sizeof *nu);
		if (!nu) {
			free(copy);
			return SSP_ERR_NOMEM;
		}
		st->u = nu;
		st->capu = c;
	}
	entry *e = find(st, key, kl + 1, 1, &err);
	if (!e) {
		free(copy);
		return err;
	}
	undo *u = &st->u[st->nu++];
	u->idx = (uint32_t)(e - st->e);
	u->present = e->present;
	u->deleted = e->deleted;
	u->val = e->val;
	u->vlen = e->vlen;
	e->present = 1;
	e->deleted = (uint8_t)del;
	e->val = copy;
	e->vlen = (uint32_t)vl;
	return 0;
}

int ssp_state_put(ssp_state *st, uint8_t table, const void *k, size_t kl, const void *v, size_t vl)
{
	return change(st, table, k, kl, v, vl, 0);
}

int ssp_state_del(ssp_state *st, uint8_t table, const void *k, size_t kl)
{
	return change(st, table, k, kl, NULL, 0, 1);
}

typedef struct {
	uint8_t table;
	ssp_txn_visit fn;
	void *arg;
	bool ended;
} base_scan;

static int base_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	base_scan *s = arg;
	const uint8_t *key = k;
	if (kl == 0 || key[0] != s->table) {
		s->ended = true;
		return 1;
	}
	return s->fn(s->arg, key + 1, kl - 1, v, vl);
}

int ssp_state_scan(ssp_state *st, uint8_t table, ssp_txn_visit fn, void *arg)
{
	/* the txn holds what earlier blocks wrote; st's own changes are not in it yet */
	for (size_t i = 0; i < st->ne; i++)
		if (st->e[i].present && st->e[i].key[0] == table) return SSP_ERR_INTERNAL;
	base_scan s = {.table = table, .fn = fn, .arg = arg};
	int rc = ssp_txn_scan(st->t, st->tb, &table, 1, base_visit, &s);
	return s.ended ? 0 : rc;
}

size_t ssp_state_mark(ssp_state *st)
{
	return st->nu;
}

void ssp_state_rollback(ssp_state *st, size_t mark)
{
	while (st->nu > mark) {
		undo *u = &st->u[--st->nu];
		entry *e = &st->e[u->idx];
		free(e->val);
		e->present = u->present;
		e->deleted = u->deleted;
		e->val = u->val;
		e->vlen = u->vlen;
	}
}

size_t ssp_state_changes(const ssp_state *st)
{
	size_t n = 0;
	for (size_t i = 0; i < st->ne; i++)
		n += st->e[i].present;
	return n;
}

int ssp_state_smt_items(ssp_state *st, smt_item **out, size_t *n)
{
	size_t k = 0;
	smt_item *v = ssp_malloc((st->ne ? st->ne : 1) * sizeof *v);
	*out = NULL;
	*n = 0;
	if (!v) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < st->ne; i++) {
		const entry *e = &st->e[i];
		if (!e->present) continue;
		smt_item *it = &v[k++];
		ssp_smt_path(&it->path, e->key, e->klen);
		it->del = e->deleted;
		if (e->deleted)
			memset(&it->vhash, 0, sizeof it->vhash);
		else
			ssp_smt_value_hash(&it->vhash, e->val, e->vlen);
	}
	*out = v;
	*n = k;
	return 0;
}

int ssp_state_undo_encode(ssp_state *st, ssp_buf *b, uint32_t *count)
{
	uint32_t n = 0;
	for (size_t i = 0; i < st->ne; i++) {
		const entry *e = &st->e[i];
		const void *v;
		size_t vl;
		if (!e->present) continue;
		int rc = ssp_txn_get(st->t, st->tb, e->key, e->klen, &v, &vl);
		if (rc && rc != SSP_ERR_NOTFOUND) return rc;
		ssp_buf_u8(b, e->klen);
		ssp_buf_put(b, e->key, e->klen);
		ssp_buf_u8(b, rc == 0);
		if (rc == 0) ssp_buf_bytes(b, v, vl);
		n++;
	}
	*count = n;
	return b->err;
}

int ssp_state_flush(ssp_state *st)
{
	for (size_t i = 0; i < st->ne; i++) {
		entry *e = &st->e[i];
		int rc;
		if (!e->present) continue;
		if (e->deleted)
			rc = ssp_txn_del(st->t, st->tb, e->key, e->klen);
		else
			rc = ssp_txn_put(st->t, st->tb, e->key, e->klen, e->val, e->vlen);
		if (rc) return rc;
	}
	return 0;
}

/* ------------------------------------------------------- accounts, supply */

int ssp_state_account(ssp_state *st, const ssp_addr *a, ssp_account *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_ACCOUNT, a->b, SSP_ADDR_LEN, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		memset(out, 0, sizeof *out);
		return 0;
	}
	if (rc) return rc;
	return ssp_account_decode(out, v, vl);
}

int ssp_state_set_account(ssp_state *st, const ssp_addr *a, const ssp_account *acc)
{
	uint8_t tmp[128];
	ssp_buf b;
	ssp_buf_init(&b, sizeof tmp);
	/* encode on the stack: accounts are small and this is the hot path */
	b.data = tmp;
	b.cap = sizeof tmp;
	ssp_account_encode(&b, acc);
	int rc =
	    b.err ? b.err : ssp_state_put(st, SSP_TB_ACCOUNT, a->b, SSP_ADDR_LEN, b.data, b.len);
	if (!rc && acc->restricted) {
		/* rare (revoked devices): remembered for the mempool, see ssp_state_restricted */
		if (st->nres == st->capres) {
			size_t nc = st->capres ? 2 * st->capres : 8;
			ssp_addr *n = ssp_realloc(st->restricted, nc * sizeof *n);
			if (!n) return SSP_ERR_NOMEM;
			st->restricted = n;
			st->capres = nc;
		}
		st->restricted[st->nres++] = *a;
	}
	return rc;
}

static const char supply_key[] = "supply";

int ssp_supply_decode(const void *p, size_t n, uint64_t *locked, uint64_t *pool)
{
	if (n != 16) return SSP_ERR_DBCORRUPT;
	*locked = ssp_le64_get(p);
	*pool = ssp_le64_get((const uint8_t *)p + 8);
	return 0;
}

int ssp_supply_get(ssp_state *st, uint64_t *locked, uint64_t *pool)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_META, supply_key, sizeof supply_key - 1, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		*locked = *pool = 0;
		return 0;
	}
	return rc ? rc : ssp_supply_decode(v, vl, locked, pool);
}

int ssp_supply_set(ssp_state *st, uint64_t locked, uint64_t pool)
{
	uint8_t v[16];
	ssp_le64_put(v, locked);
	ssp_le64_put(v + 8, pool);
	return ssp_state_put(st, SSP_TB_META, supply_key, sizeof supply_key - 1, v, 16);
}

int ssp_state_pool_add(ssp_state *st, uint64_t amount)
{
	uint64_t locked, pool;
	int rc = ssp_supply_get(st, &locked, &pool);
	if (!rc) rc = ssp_add_u64(&pool, pool, amount);
	return rc ? rc : ssp_supply_set(st, locked, pool);
}

int ssp_state_credit(ssp_state *st, const ssp_addr *to, uint64_t amount, uint64_t unlock_ms)
{
	ssp_account a;
	int rc = ssp_state_account(st, to, &a);
	if (rc) return rc;
	if (!unlock_ms) {
		rc = ssp_add_u64(&a.balance, a.balance, amount);
		return rc ? rc : ssp_state_set_account(st, to, &a);
	}
	/* a lock: the amount sits in `locked` until the block whose time passes unlock_ms */
	uint8_t k[8 + SSP_ADDR_LEN];
	const void *v;
	size_t vl;
	uint64_t have = 0, locked, pool;
	ssp_be64_put(k, unlock_ms);
	memcpy(k + 8, to->b, SSP_ADDR_LEN);
	rc = ssp_state_get(st, SSP_TB_LOCK, k, sizeof k, &v, &vl);
	if (rc == 0 && vl == 8)
		have = ssp_le64_get(v);
	else if (rc != SSP_ERR_NOTFOUND)
		return rc ? rc : SSP_ERR_DBCORRUPT;
	uint8_t nv[8];
	if ((rc = ssp_add_u64(&have, have, amount)) ||
	    (rc = ssp_add_u64(&a.locked, a.locked, amount)))
		return rc;
	ssp_le64_put(nv, have);
	if ((rc = ssp_state_put(st, SSP_TB_LOCK, k, sizeof k, nv, 8)) ||
	    (rc = ssp_state_set_account(st, to, &a)) || (rc = ssp_supply_get(st, &locked, &pool)))
		return rc;
	if ((rc = ssp_add_u64(&locked, locked, amount))) return rc;
	return ssp_supply_set(st, locked, pool);
}

int ssp_state_pool_get(ssp_state *st, uint64_t *pool)
{
	uint64_t locked;
	return ssp_supply_get(st, &locked, pool);
}

int ssp_state_pool_pay(ssp_state *st, const ssp_addr *to, uint64_t amount)
{
	uint64_t locked, pool;
	int rc = ssp_supply_get(st, &locked, &pool);
	if (rc) return rc;
	if (pool < amount) return SSP_ERR_BALANCE;
	if ((rc = ssp_supply_set(st, locked, pool - amount))) return rc;
	return ssp_state_credit(st, to, amount, 0);
}
