/*
 * token.c — IOT_Coin state and operations (modules layer; ARCHITECTURE §8):
 * the token records, balances and allowances in the module's state tables,
 * the EIP-20 operations that token transactions and Lua contracts run, and
 * their Transfer/Approval events. Transactions are in token_tx.c, RPC
 * methods in token_rpc.c; this file also assembles ssp_token_module.
 *
 * State (all under the chain's state table, u8 table id || key):
 *   SSP_TB_TOKEN     symbol                        -> record (token_internal.h)
 *   SSP_TB_TOKEN_BAL symbol 0x00 holder[20]        -> u64 LE, never 0 (deleted)
 *   SSP_TB_TOKEN_ALW symbol 0x00 owner[20] spender -> u64 LE, never 0 (deleted)
 * Symbols are [A-Z0-9] only, so the 0x00 separator keeps keys prefix-free.
 *
 * Every amount is at most INT64_MAX (max_supply is capped there, approvals
 * too), so event values are plain integers in the canonical value codec.
 */
#include <stdlib.h>
#include <string.h>

#include "token_internal.h"

#define KEY_MAX (SSP_TOKEN_SYMBOL_MAX + 1 + 2 * SSP_ADDR_LEN)
#define EVENT_MAX 1024

/* ----------------------------------------------------------- the address */

/* The symbol and name checks are libssp_proto's (src/proto/token_codec.c). */

void ssp_token_address(ssp_addr *out, const char *symbol)
{
	static const char tag[] = "ssp/token/";
	const void *parts[2] = {tag, symbol};
	size_t lens[2] = {sizeof tag - 1, strlen(symbol)};
	ssp_hash h;
	ssp_sha256v(&h, parts, lens, 2);
	memcpy(out->b, h.b, SSP_ADDR_LEN);
}

/* ---------------------------------------------------------------- records */

void ssp_token_record_encode(ssp_buf *b, const ssp_token_info *t)
{
	size_t nl = strlen(t->name);
	ssp_buf_u8(b, (uint8_t)nl);
	ssp_buf_put(b, t->name, nl);
	ssp_buf_u8(b, t->decimals);
	ssp_buf_u64(b, t->max_supply);
	ssp_buf_u64(b, t->supply);
	ssp_buf_put(b, t->issuer.b, SSP_ADDR_LEN);
	ssp_buf_u32(b, t->flags);
	ssp_buf_u64(b, t->created_height);
}

int ssp_token_record_decode(ssp_token_info *t, const char *symbol, size_t slen, const void *p,
                            size_t n)
{
	ssp_rd r;
	memset(t, 0, sizeof *t);
	if (slen < 2 || slen > SSP_TOKEN_SYMBOL_MAX) return SSP_ERR_DBCORRUPT;
	memcpy(t->symbol, symbol, slen);
	ssp_rd_init(&r, p, n);
	uint8_t nl = ssp_rd_u8(&r);
	const uint8_t *name = ssp_rd_view(&r, nl);
	t->decimals = ssp_rd_u8(&r);
	t->max_supply = ssp_rd_u64(&r);
	t->supply = ssp_rd_u64(&r);
	ssp_rd_raw(&r, t->issuer.b, SSP_ADDR_LEN);
	t->flags = ssp_rd_u32(&r);
	t->created_height = ssp_rd_u64(&r);
	if (ssp_rd_end(&r) || !ssp_token_symbol_valid(t->symbol) ||
	    !ssp_token_name_valid((const char *)name, nl) || t->decimals > SSP_TOKEN_DECIMALS_MAX ||
	    t->max_supply == 0 || t->max_supply > INT64_MAX || t->supply > t->max_supply ||
	    (t->flags & ~(uint32_t)(SSP_TOKEN_FLAG_BURNABLE | SSP_TOKEN_FLAG_MINTABLE)))
		return SSP_ERR_DBCORRUPT;
	memcpy(t->name, name, nl);
	return 0;
}

static int put_token(ssp_state *st, const ssp_token_info *t)
{
	ssp_buf b;
	ssp_buf_init(&b, 256);
	ssp_token_record_encode(&b, t);
	int rc = b.err
	             ? b.err
	             : ssp_state_put(st, SSP_TB_TOKEN, t->symbol, strlen(t->symbol), b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

int ssp_token_get(ssp_state *st, const char *symbol, ssp_token_info *out)
{
	const void *v;
	size_t vl;
	if (!ssp_token_symbol_valid(symbol)) return SSP_ERR_INVAL;
	size_t sl = strlen(symbol);
	int rc = ssp_state_get(st, SSP_TB_TOKEN, symbol, sl, &v, &vl);
	return rc ? rc : ssp_token_record_decode(out, symbol, sl, v, vl);
}

/*
 * symbol 0x00 a [b]: the key of a balance (b NULL: libssp_proto's
 * ssp_token_balance_key, which light clients and `ssp proof token` use too)
 * or an allowance. Callers have checked the symbol.
 */
static size_t amount_key(uint8_t k[KEY_MAX], const char *symbol, const ssp_addr *a,
                         const ssp_addr *b)
{
	size_t n = ssp_token_balance_key(k, symbol, a);
	if (b && n) {
		memcpy(k + n, b->b, SSP_ADDR_LEN);
		n += SSP_ADDR_LEN;
	}
	return n;
}

static int get_amount(ssp_state *st, uint8_t table, const uint8_t *k, size_t kl, uint64_t *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, table, k, kl, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		*out = 0;
		return 0;
	}
	if (rc) return rc;
	if (vl != 8) return SSP_ERR_DBCORRUPT;
	*out = ssp_le64_get(v);
	return *out ? 0 : SSP_ERR_DBCORRUPT; /* zeros are deleted, never stored */
}

/* Stores v, or deletes the key when v is 0 (old is the value it had). */
static int set_amount(ssp_state *st, uint8_t table, const uint8_t *k, size_t kl, uint64_t old,
                      uint64_t v)
{
	uint8_t b[8];
	if (v == old) return 0;
	if (v == 0) return ssp_state_del(st, table, k, kl);
	ssp_le64_put(b, v);
	return ssp_state_put(st, table, k, kl, b, 8);
}

int ssp_token_balance(ssp_state *st, const char *symbol, const ssp_addr *a, uint64_t *out)
{
	uint8_t k[KEY_MAX];
	if (!ssp_token_symbol_valid(symbol)) return SSP_ERR_INVAL;
	return get_amount(st, SSP_TB_TOKEN_BAL, k, amount_key(k, symbol, a, NULL), out);
}

int ssp_token_allowance(ssp_state *st, const char *symbol, const ssp_addr *owner,
                        const ssp_addr *spender, uint64_t *out)
{
	uint8_t k[KEY_MAX];
	if (!ssp_token_symbol_valid(symbol)) return SSP_ERR_INVAL;
	return get_amount(st, SSP_TB_TOKEN_ALW, k, amount_key(k, symbol, owner, spender), out);
}

/* Credits or debits a's balance (SSP_ERR_BALANCE when a debit exceeds it). */
static int move_balance(ssp_state *st, const char *symbol, const ssp_addr *a, uint64_t amount,
                        bool credit)
{
	uint8_t k[KEY_MAX];
	size_t kl = amount_key(k, symbol, a, NULL);
	uint64_t old, v;
	int rc = get_amount(st, SSP_TB_TOKEN_BAL, k, kl, &old);
	if (rc) return rc;
	if (credit)
		rc = ssp_add_u64(&v, old, amount);
	else
		rc = old < amount ? SSP_ERR_BALANCE : ssp_sub_u64(&v, old, amount);
	return rc ? rc : set_amount(st, SSP_TB_TOKEN_BAL, k, kl, old, v);
}

/* ----------------------------------------------------------------- events */

typedef struct {
	const char *key;
	const char *str; /* NULL: the field is the integer num */
	int64_t num;
} ev_field;

/* Canonical table order: by encoded key, i.e. by length, then bytes (keys < 256 bytes). */
static int ev_cmp(const void *a, const void *b)
{
	const ev_field *x = a, *y = b;
	size_t xl = strlen(x->key), yl = strlen(y->key);
	if (xl != yl) return xl < yl ? -1 : 1;
	return memcmp(x->key, y->key, xl);
}

/*
 * Appends event `name` of the token to the receipt; fields is a table of
 * string keys with string or integer values (canonical value encoding).
 */
static int emit(ssp_txctx *c, const char *symbol, const char *name, ev_field *f, size_t n)
{
	ssp_addr emitter;
	ssp_buf b;
	int rc;
	qsort(f, n, sizeof *f, ev_cmp);
	ssp_buf_init(&b, EVENT_MAX);
	ssp_buf_u8(&b, SSP_VAL_TABLE);
	ssp_buf_u32(&b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		ssp_buf_u8(&b, SSP_VAL_STR);
		ssp_buf_bytes(&b, f[i].key, strlen(f[i].key));
		if (f[i].str) {
			ssp_buf_u8(&b, SSP_VAL_STR);
			ssp_buf_bytes(&b, f[i].str, strlen(f[i].str));
		} else {
			ssp_buf_u8(&b, SSP_VAL_INT);
			ssp_buf_u64(&b, (uint64_t)f[i].num);
		}
	}
	ssp_token_address(&emitter, symbol);
	rc = b.err ? b.err : ssp_receipt_emit(c->rcpt, &emitter, name, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

/* Transfer {symbol, from?, to?, value}: from absent for issues, to absent for burns. */
static int emit_transfer(ssp_txctx *c, const char *symbol, const ssp_addr *from, const ssp_addr *to,
                         uint64_t value)
{
	char ftext[96], ttext[96];
	ev_field f[4];
	size_t n = 0;
	f[n++] = (ev_field){.key = "symbol", .str = symbol};
	if (from) {
		ssp_addr_encode(ftext, sizeof ftext, c->hrp, from);
		f[n++] = (ev_field){.key = "from", .str = ftext};
	}
	if (to) {
		ssp_addr_encode(ttext, sizeof ttext, c->hrp, to);
		f[n++] = (ev_field){.key = "to", .str = ttext};
	}
	f[n++] = (ev_field){.key = "value", .num = (int64_t)value};
	return emit(c, symbol, "Transfer", f, n);
}

static int emit_approval(ssp_txctx *c, const char *symbol, const ssp_addr *owner,
                         const ssp_addr *spender, uint64_t value)
{
	char otext[96], stext[96];
	ssp_addr_encode(otext, sizeof otext, c->hrp, owner);
	ssp_addr_encode(stext, sizeof stext, c->hrp, spender);
	ev_field f[4] = {{.key = "symbol", .str = symbol},
	                 {.key = "owner", .str = otext},
	                 {.key = "spender", .str = stext},
	                 {.key = "value", .num = (int64_t)value}};
	return emit(c, symbol, "Approval", f, 4);
}

/* ------------------------------------------------------------- operations */

/* Savepoint of state and events, so that a failed operation leaves neither changed. */
typedef struct {
	size_t st;
	uint64_t ev;
} savepoint;

static savepoint begin(ssp_txctx *c)
{
	return (savepoint){ssp_state_mark(c->st), ssp_receipt_events_mark(c->rcpt)};
}

static int finish(ssp_txctx *c, savepoint sp, int rc)
{
	if (rc) {
		ssp_state_rollback(c->st, sp.st);
		ssp_receipt_events_rollback(c->rcpt, sp.ev);
	}
	return rc;
}

static int pay_create_fee(ssp_txctx *c, const ssp_addr *caller)
{
	ssp_account acc;
	uint64_t fee = c->params->token_create_fee;
	int rc;
	if (fee == 0) return 0;
	if ((rc = ssp_state_account(c->st, caller, &acc))) return rc;
	if (acc.balance < fee) return SSP_ERR_BALANCE;
	acc.balance -= fee;
	if ((rc = ssp_state_set_account(c->st, caller, &acc))) return rc;
	return ssp_state_pool_add(c->st, fee);
}

int ssp_token_create(ssp_txctx *c, const ssp_addr *caller, const char *symbol, const char *name,
                     uint8_t decimals, uint64_t max_supply, uint32_t flags)
{
	ssp_token_info t;
	savepoint sp = begin(c);
	int rc;
	if (!ssp_token_symbol_valid(symbol) || !name || !ssp_token_name_valid(name, strlen(name)) ||
	    decimals > SSP_TOKEN_DECIMALS_MAX || max_supply == 0 ||
	    (flags & ~(uint32_t)(SSP_TOKEN_FLAG_BURNABLE | SSP_TOKEN_FLAG_MINTABLE)))
		return SSP_ERR_INVAL;
	if (max_supply > INT64_MAX) return SSP_ERR_RANGE;
	rc = ssp_token_get(c->st, symbol, &t);
	if (rc == 0) return SSP_ERR_EXISTS;
	if (rc != SSP_ERR_NOTFOUND) return rc;
	memset(&t, 0, sizeof t);
	memcpy(t.symbol, symbol, strlen(symbol));
	memcpy(t.name, name, strlen(name));
	t.decimals = decimals;
	t.max_supply = max_supply;
	t.issuer = *caller;
	t.flags = flags;
	t.created_height = c->height;
	if (!(flags & SSP_TOKEN_FLAG_MINTABLE)) t.supply = max_supply; /* fixed: all at once */
	if ((rc = pay_create_fee(c, caller)) || (rc = put_token(c->st, &t))) goto out;
	if (t.supply) {
		rc = move_balance(c->st, symbol, caller, t.supply, true);
		if (!rc) rc = emit_transfer(c, symbol, NULL, caller, t.supply);
	}
out:
	return finish(c, sp, rc);
}

int ssp_token_issue(ssp_txctx *c, const ssp_addr *caller, const char *symbol, const ssp_addr *to,
                    uint64_t amount)
{
	ssp_token_info t;
	savepoint sp = begin(c);
	uint64_t supply;
	int rc;
	if (amount == 0) return SSP_ERR_PAYLOAD;
	if ((rc = ssp_token_get(c->st, symbol, &t))) return rc;
	if (memcmp(t.issuer.b, caller->b, SSP_ADDR_LEN) || !(t.flags & SSP_TOKEN_FLAG_MINTABLE))
		return SSP_ERR_INVAL;
	if (ssp_add_u64(&supply, t.supply, amount) || supply > t.max_supply)
		return SSP_ERR_OVERFLOW;
	t.supply = supply;
	if (!(rc = put_token(c->st, &t)) && !(rc = move_balance(c->st, symbol, to, amount, true)))
		rc = emit_transfer(c, symbol, NULL, to, amount);
	return finish(c, sp, rc);
}

int ssp_token_transfer(ssp_txctx *c, const ssp_addr *caller, const char *symbol, const ssp_addr *to,
                       uint64_t amount)
{
	ssp_token_info t;
	savepoint sp = begin(c);
	int rc;
	if (amount == 0) return SSP_ERR_PAYLOAD;
	if ((rc = ssp_token_get(c->st, symbol, &t))) return rc;
	/* A self-transfer (EIP-20 allows it) checks the balance and only emits the event. */
	if (!(rc = move_balance(c->st, symbol, caller, amount, false)) &&
	    !(rc = move_balance(c->st, symbol, to, amount, true)))
		rc = emit_transfer(c, symbol, caller, to, amount);
	return finish(c, sp, rc);
}

int ssp_token_burn(ssp_txctx *c, const ssp_addr *caller, const char *symbol, uint64_t amount)
{
	ssp_token_info t;
	savepoint sp = begin(c);
	int rc;
	if (amount == 0) return SSP_ERR_PAYLOAD;
	if ((rc = ssp_token_get(c->st, symbol, &t))) return rc;
	if (!(t.flags & SSP_TOKEN_FLAG_BURNABLE)) return SSP_ERR_INVAL;
	if ((rc = move_balance(c->st, symbol, caller, amount, false))) goto out;
	if (t.supply < amount) {
		rc = SSP_ERR_DBCORRUPT; /* a balance above the supply */
		goto out;
	}
	t.supply -= amount;
	if (!(rc = put_token(c->st, &t))) rc = emit_transfer(c, symbol, caller, NULL, amount);
out:
	return finish(c, sp, rc);
}

int ssp_token_approve(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                      const ssp_addr *spender, uint64_t amount)
{
	ssp_token_info t;
	savepoint sp = begin(c);
	uint8_t k[KEY_MAX];
	uint64_t old;
	int rc;
	if ((rc = ssp_token_get(c->st, symbol, &t))) return rc;
	if (amount > INT64_MAX) return SSP_ERR_RANGE;
	size_t kl = amount_key(k, symbol, caller, spender);
	if (!(rc = get_amount(c->st, SSP_TB_TOKEN_ALW, k, kl, &old)) &&
	    !(rc = set_amount(c->st, SSP_TB_TOKEN_ALW, k, kl, old, amount)))
		rc = emit_approval(c, symbol, caller, spender, amount);
	return finish(c, sp, rc);
}

int ssp_token_transfer_from(ssp_txctx *c, const ssp_addr *caller, const char *symbol,
                            const ssp_addr *from, const ssp_addr *to, uint64_t amount)
{
	ssp_token_info t;
	savepoint sp = begin(c);
	uint8_t k[KEY_MAX];
	uint64_t allowed;
	int rc;
	if (amount == 0) return SSP_ERR_PAYLOAD;
	if ((rc = ssp_token_get(c->st, symbol, &t))) return rc;
	size_t kl = amount_key(k, symbol, from, caller);
	if ((rc = get_amount(c->st, SSP_TB_TOKEN_ALW, k, kl, &allowed))) goto out;
	if (allowed < amount) {
		rc = SSP_ERR_BALANCE;
		goto out;
	}
	if (!(rc = set_amount(c->st, SSP_TB_TOKEN_ALW, k, kl, allowed, allowed - amount)) &&
	    !(rc = move_balance(c->st, symbol, from, amount, false)) &&
	    !(rc = move_balance(c->st, symbol, to, amount, true)))
		rc = emit_transfer(c, symbol, from, to, amount);
out:
	return finish(c, sp, rc);
}

/* ---------------------------------------------------------- committed scan */

typedef struct {
	ssp_token_visit fn;
	void *arg;
	int err;
} scan_ctx;

static int scan_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	scan_ctx *s = arg;
	ssp_token_info t;
	s->err = ssp_token_record_decode(&t, k, kl, v, vl);
	if (s->err) return 1;
	return s->fn(s->arg, &t);
}

int ssp_token_scan(const ssp_chain *c, ssp_txn *rt, const char *start, ssp_token_visit fn,
                   void *arg)
{
	scan_ctx s = {.fn = fn, .arg = arg};
	int rc = ssp_chain_state_scan(c, rt, SSP_TB_TOKEN, start, start ? strlen(start) : 0,
	                              scan_visit, &s);
	return s.err ? s.err : rc;
}

/* ------------------------------------------------------------------ module */

const ssp_module ssp_token_module = {
    .name = "token",
    .txtypes = ssp_token_txtypes,
    .ntxtypes = TOKEN_NTXTYPES,
    .methods = ssp_token_methods,
    .nmethods = TOKEN_NMETHODS,
};
