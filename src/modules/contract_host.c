/*
 * contract_host.c — the VM's host callbacks (modules layer): what a running
 * contract can do to the chain. Storage is the contract's own keys in the
 * block's state overlay; SSP moves between ordinary accounts (a contract's
 * account has no key, so only its code moves its funds); events go into
 * the tx's receipt; nested calls run in a child frame between a state and
 * an event savepoint, so a failed callee leaves nothing behind. The call
 * stack is the chain of frames: its length is the depth limit and a
 * contract already on it cannot be entered again (no re-entrancy).
 */
#include <stdlib.h>
#include <string.h>

#include "contract_internal.h"

static int addr_eq(const ssp_addr *a, const ssp_addr *b)
{
	return !memcmp(a->b, b->b, SSP_ADDR_LEN);
}

int contract_err_fatal(int rc)
{
	return rc == SSP_ERR_NOMEM || rc == SSP_ERR_VM_NODELIMIT || rc == SSP_ERR_IO ||
	       rc == SSP_ERR_DBCORRUPT || rc == SSP_ERR_MAPFULL || rc == SSP_ERR_INTERNAL;
}

int contract_host_rc(contract_frame *f, int rc)
{
	if (rc && contract_err_fatal(rc) && !f->x->fatal) f->x->fatal = rc;
	return rc;
}

void contract_val_str(ssp_buf *b, const char *s, size_t n)
{
	ssp_buf_u8(b, SSP_VAL_STR);
	ssp_buf_bytes(b, s, n);
}

int contract_move(ssp_state *st, const ssp_addr *from, const ssp_addr *to, uint64_t amount)
{
	ssp_account a;
	int rc;
	if (amount == 0 || addr_eq(from, to)) return 0;
	if ((rc = ssp_state_account(st, from, &a))) return rc;
	if (a.balance < amount) return SSP_ERR_BALANCE;
	a.balance -= amount;
	if ((rc = ssp_state_set_account(st, from, &a))) return rc;
	return ssp_state_credit(st, to, amount, 0);
}

/* ------------------------------------------------------------ storage */

static int h_storage_get(void *ctx, const uint8_t *key, size_t kl, ssp_buf *val)
{
	contract_frame *f = ctx;
	uint8_t k[SSP_STATE_KEY_MAX];
	size_t klen;
	const void *v;
	size_t vl;
	int rc = contract_storage_key(k, &klen, &f->host.self, key, kl);
	if (rc) return rc;
	rc = ssp_state_get(f->x->c->st, SSP_TB_CONTRACT_STORE, k, klen, &v, &vl);
	if (rc) return contract_host_rc(f, rc);
	/* stored values were checked by h_storage_set: one that fails now was altered on disk */
	if (ssp_val_check(v, vl) || (vl == 1 && ((const uint8_t *)v)[0] == SSP_VAL_NIL))
		return contract_host_rc(f, SSP_ERR_DBCORRUPT);
	ssp_buf_put(val, v, vl);
	return contract_host_rc(f, val->err);
}

static int h_storage_set(void *ctx, const uint8_t *key, size_t kl, const uint8_t *val, size_t vl)
{
	contract_frame *f = ctx;
	uint8_t k[SSP_STATE_KEY_MAX];
	size_t klen;
	if (f->x->view) return SSP_ERR_VM_VIEW;
	int rc = ssp_val_check(val, vl);
	if (rc) return SSP_ERR_VM_VALUE;
	if (vl == 1 && val[0] == SSP_VAL_NIL) return SSP_ERR_VM_VALUE; /* nil is a delete */
	rc = contract_storage_key(k, &klen, &f->host.self, key, kl);
	if (rc) return rc;
	return contract_host_rc(
	    f, ssp_state_put(f->x->c->st, SSP_TB_CONTRACT_STORE, k, klen, val, vl));
}

static int h_storage_del(void *ctx, const uint8_t *key, size_t kl)
{
	contract_frame *f = ctx;
	uint8_t k[SSP_STATE_KEY_MAX];
	size_t klen;
	const void *v;
	size_t vl;
	if (f->x->view) return SSP_ERR_VM_VIEW;
	int rc = contract_storage_key(k, &klen, &f->host.self, key, kl);
	if (rc) return rc;
	/* deleting an absent key changes nothing (and adds nothing to the write set) */
	rc = ssp_state_get(f->x->c->st, SSP_TB_CONTRACT_STORE, k, klen, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) return 0;
	if (rc) return contract_host_rc(f, rc);
	return contract_host_rc(f, ssp_state_del(f->x->c->st, SSP_TB_CONTRACT_STORE, k, klen));
}

/* ------------------------------------------------------------ SSP funds */

static int h_balance(void *ctx, const ssp_addr *a, uint64_t *out)
{
	contract_frame *f = ctx;
	ssp_account acc;
	int rc = ssp_state_account(f->x->c->st, a, &acc);
	if (rc) return contract_host_rc(f, rc);
	*out = acc.balance;
	return 0;
}

static int h_transfer(void *ctx, const ssp_addr *to, uint64_t amount)
{
	contract_frame *f = ctx;
	if (f->x->view) return SSP_ERR_VM_VIEW;
	return contract_host_rc(f, contract_move(f->x->c->st, &f->host.self, to, amount));
}

/* ------------------------------------------------------------- events */

static int h_emit(void *ctx, const char *name, const uint8_t *fields, size_t n)
{
	contract_frame *f = ctx;
	if (f->x->view) return SSP_ERR_VM_VIEW;
	if (ssp_val_check(fields, n) || n < 1 || fields[0] != SSP_VAL_TABLE)
		return SSP_ERR_VM_VALUE;
	return contract_host_rc(f, ssp_receipt_emit(f->x->c->rcpt, &f->host.self, name, fields, n));
}

/* ---------------------------------------------------------- nested calls */

static int h_call(void *ctx, const ssp_addr *target, const char *fn, const uint8_t *args, size_t n,
                  uint64_t value, bool protected_call, uint64_t *gas, ssp_buf *ret)
{
	contract_frame *f = ctx;
	contract_exec *x = f->x;
	ssp_contract_info ci;
	ssp_vm_result res;
	contract_frame child;
	uint64_t limit = *gas;
	int rc;
	*gas = 0;
	if (f->depth >= CONTRACT_MAX_DEPTH) return SSP_ERR_VM_DEPTH;
	for (const contract_frame *p = f; p; p = p->parent)
		if (addr_eq(&p->host.self, target)) return SSP_ERR_VM_REENTRY;
	if (x->view && value) return SSP_ERR_VM_VIEW;
	size_t smark = ssp_state_mark(x->c->st);
	uint64_t emark = ssp_receipt_events_mark(x->c->rcpt);
	/* the value first: the code read below is borrowed until the next state change */
	rc = contract_move(x->c->st, &f->host.self, target, value);
	if (!rc) rc = ssp_contract_get(x->c->st, target, &ci);
	if (rc) {
		ssp_state_rollback(x->c->st, smark);
		return contract_host_rc(f, rc == SSP_ERR_NOTFOUND ? SSP_ERR_VM_NOFN : rc);
	}
	contract_frame_init(&child, x, f, target, &f->host.self, value);
	memset(&res, 0, sizeof res);
	rc = contract_run(&child, &ci, x->view ? SSP_VM_MODE_VIEW : SSP_VM_MODE_CALL, fn, args, n,
	                  limit, &res);
	ssp_vm_abi_free(&ci.abi);
	if (rc) {
		ssp_state_rollback(x->c->st, smark);
		ssp_receipt_events_rollback(x->c->rcpt, emark);
		ssp_vm_result_free(&res);
		return contract_host_rc(f, rc);
	}
	*gas = res.gas_used;
	if (x->fatal || res.status) {
		/* the callee's writes, transfers and events go */
		ssp_state_rollback(x->c->st, smark);
		ssp_receipt_events_rollback(x->c->rcpt, emark);
		contract_val_str(ret, res.error, strnlen(res.error, sizeof res.error));
		rc = x->fatal ? x->fatal : res.status;
		/* out of gas is never caught: the caller's budget went with it */
		if (!x->fatal && protected_call && rc != SSP_ERR_VM_GAS) rc = SSP_ERR_VM_ERROR;
	} else {
		ssp_buf_put(ret, res.ret.data, res.ret.len);
		rc = ret->err;
	}
	ssp_vm_result_free(&res);
	return rc;
}

/* ------------------------------------------------------------- frames */

static int h_token(void *ctx, const char *op, const uint8_t *args, size_t n, ssp_buf *ret)
{
	return contract_token_op(ctx, op, args, n, ret);
}

void contract_frame_init(contract_frame *f, contract_exec *x, const contract_frame *parent,
                         const ssp_addr *self, const ssp_addr *sender, uint64_t value)
{
	memset(f, 0, sizeof *f);
	f->x = x;
	f->parent = parent;
	f->depth = parent ? parent->depth + 1 : 1;
	f->host = (ssp_vm_host){
	    .ctx = f,
	    .self = *self,
	    .sender = *sender,
	    .origin = x->origin,
	    .value = value,
	    .height = x->c->height,
	    .time_ms = x->c->time_ms,
	    .hrp = x->c->hrp,
	    .validating = x->c->validating,
	    .storage_get = h_storage_get,
	    .storage_set = h_storage_set,
	    .storage_del = h_storage_del,
	    .balance = h_balance,
	    .transfer = h_transfer,
	    .call = h_call,
	    .emit = h_emit,
	    .token = h_token,
	};
}

int contract_run(contract_frame *f, const ssp_contract_info *ci, int mode, const char *fn,
                 const uint8_t *args, size_t argn, uint64_t gas, ssp_vm_result *res)
{
	/* the source is borrowed from the state, which the call itself changes: copy it */
	char *src = ssp_malloc(ci->src_len ? ci->src_len : 1);
	if (!src) return SSP_ERR_NOMEM;
	memcpy(src, ci->src, ci->src_len);
	int rc = ssp_vm_call(f->x->vm, &f->host, &ci->code_hash, src, ci->src_len, mode, fn, args,
	                     argn, gas, res);
	free(src);
	return rc;
}
