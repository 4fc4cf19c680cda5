/*
 * contract_token.c — the IOT_Coin bridge behind `token.*` in Lua (modules
 * layer). The VM hands over an op name and its positional arguments as a
 * canonical table; the bridge calls the native token module (ssp/token.h)
 * with the running contract as the caller, so a contract holds, sends and
 * approves tokens exactly like an account. Addresses are bech32m strings
 * of the chain's network, amounts integers (or decimal strings of base
 * units for amounts beyond 2^63-1). Writes are refused in view calls.
 *
 *   create(symbol, name, decimals, max_supply [, flags]) -> true
 *   issue(symbol, to, amount) / transfer(symbol, to, amount) -> true
 *   burn(symbol, amount) / approve(symbol, spender, amount) -> true
 *   transfer_from(symbol, from, to, amount) -> true
 *   balance(symbol, address) / allowance(symbol, owner, spender) -> amount
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract_internal.h"
#include "ssp/token.h"

#define MAX_ARGS 6

typedef struct {
	json_t *arr; /* the argument list */
	const char *hrp;
	int err;
} targs;

/*
 * A Lua string may hold NUL bytes, and the token module takes C strings:
 * cut at its first NUL, "ABC\0x" would pass as "ABC". Such a string is
 * refused whole.
 */
static bool has_nul(const json_t *v)
{
	return strlen(json_string_value(v)) != json_string_length(v);
}

static const char *arg_str(targs *a, size_t i)
{
	json_t *v = json_array_get(a->arr, i);
	if (!json_is_string(v)) {
		a->err = SSP_ERR_VM_VALUE;
		return "";
	}
	if (has_nul(v)) {
		a->err = SSP_ERR_INVAL; /* as for any other invalid symbol, name or address */
		return "";
	}
	return json_string_value(v);
}

static ssp_addr arg_addr(targs *a, size_t i)
{
	ssp_addr out = {{0}};
	const char *s = arg_str(a, i);
	if (!a->err && ssp_addr_decode(&out, a->hrp, s)) a->err = SSP_ERR_BADADDR;
	return out;
}

static uint64_t arg_u64(targs *a, size_t i)
{
	json_t *v = json_array_get(a->arr, i);
	uint64_t out = 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v) && !has_nul(v) &&
	    ssp_amount_parse(&out, json_string_value(v), 0) == 0)
		return out;
	a->err = SSP_ERR_VM_VALUE;
	return 0;
}

static json_t *jamount(uint64_t v)
{
	if (v <= INT64_MAX) return json_integer((json_int_t)v);
	char s[32];
	snprintf(s, sizeof s, "%" PRIu64, v);
	return json_string(s);
}

/* Encodes a JSON result as a canonical value into ret. */
static int put_json(ssp_buf *ret, json_t *j)
{
	if (!j) return SSP_ERR_NOMEM;
	int rc = ssp_val_from_json(ret, j);
	json_decref(j);
	return rc ? rc : ret->err;
}

int contract_token_op(contract_frame *f, const char *op, const uint8_t *args, size_t n,
                      ssp_buf *ret)
{
	contract_exec *x = f->x;
	ssp_txctx *c = x->c;
	const ssp_addr *me = &f->host.self;
	targs a = {.hrp = c->hrp};
	bool write = strcmp(op, "balance") && strcmp(op, "allowance");
	int rc;
	if (write && x->view) return SSP_ERR_VM_VIEW;
	rc = ssp_val_to_json(&a.arr, args, n);
	if (rc)
		return ssp_err_local(rc) ? rc
		                         : SSP_ERR_VM_VALUE; /* host OOM is not the args' fault */
	if (!json_is_array(a.arr) && !(json_is_object(a.arr) && json_object_size(a.arr) == 0)) {
		json_decref(a.arr);
		return SSP_ERR_VM_VALUE;
	}
	if (json_array_size(a.arr) > MAX_ARGS) {
		json_decref(a.arr);
		return SSP_ERR_VM_VALUE;
	}
	if (!strcmp(op, "create")) {
		const char *sym = arg_str(&a, 0), *name = arg_str(&a, 1);
		uint64_t dec = arg_u64(&a, 2), max = arg_u64(&a, 3);
		uint64_t flags = json_array_size(a.arr) > 4
		                     ? arg_u64(&a, 4)
		                     : SSP_TOKEN_FLAG_BURNABLE | SSP_TOKEN_FLAG_MINTABLE;
		if (!a.err && (dec > SSP_TOKEN_DECIMALS_MAX || flags > UINT32_MAX))
			a.err = SSP_ERR_RANGE;
		rc = a.err ? a.err
		           : ssp_token_create(c, me, sym, name, (uint8_t)dec, max, (uint32_t)flags);
	} else if (!strcmp(op, "issue") || !strcmp(op, "transfer") || !strcmp(op, "approve")) {
		const char *sym = arg_str(&a, 0);
		ssp_addr to = arg_addr(&a, 1);
		uint64_t amt = arg_u64(&a, 2);
		rc = a.err                    ? a.err
		     : op[0] == 'i'           ? ssp_token_issue(c, me, sym, &to, amt)
		     : !strcmp(op, "approve") ? ssp_token_approve(c, me, sym, &to, amt)
		                              : ssp_token_transfer(c, me, sym, &to, amt);
	} else if (!strcmp(op, "burn")) {
		const char *sym = arg_str(&a, 0);
		uint64_t amt = arg_u64(&a, 1);
		rc = a.err ? a.err : ssp_token_burn(c, me, sym, amt);
	} else if (!strcmp(op, "transfer_from")) {
		const char *sym = arg_str(&a, 0);
		ssp_addr from = arg_addr(&a, 1), to = arg_addr(&a, 2);
		uint64_t amt = arg_u64(&a, 3);
		rc = a.err ? a.err : ssp_token_transfer_from(c, me, sym, &from, &to, amt);
	} else if (!strcmp(op, "balance")) {
		const char *sym = arg_str(&a, 0);
		ssp_addr who = arg_addr(&a, 1);
		uint64_t v = 0;
		rc = a.err ? a.err : ssp_token_balance(c->st, sym, &who, &v);
		if (!rc) rc = put_json(ret, jamount(v));
	} else if (!strcmp(op, "allowance")) {
		const char *sym = arg_str(&a, 0);
		ssp_addr owner = arg_addr(&a, 1), spender = arg_addr(&a, 2);
		uint64_t v = 0;
		rc = a.err ? a.err : ssp_token_allowance(c->st, sym, &owner, &spender, &v);
		if (!rc) rc = put_json(ret, jamount(v));
	} else {
		rc = SSP_ERR_VM_NOFN;
	}
	/* state-changing ops answer true */
	if (!rc && write) {
		ssp_buf_u8(ret, SSP_VAL_TRUE);
		rc = ret->err;
	}
	json_decref(a.arr);
	return contract_host_rc(f, rc);
}
