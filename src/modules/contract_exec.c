/*
 * contract_exec.c — applying contract transactions (modules layer). The
 * chain has charged tx->fee and bumped the nonce; here the fee is checked
 * against base + gas_limit × gas_price, the code runs in the VM, and the
 * unused gas is refunded from the pool. A contract failure (error, out of
 * gas, bad arguments, unknown function, value to a non-payable function)
 * rolls back everything the tx did past the fee and is recorded as a FAILED
 * receipt whose return value is the error message (a canonical string).
 * Host failures (OOM, database) make the tx invalid instead, so no node
 * records a result another node could not reproduce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract_internal.h"

/* Replaces the receipt's return value by a copy of p[0..n). */
static int set_ret(ssp_receipt *r, const uint8_t *p, size_t n)
{
	uint8_t *d = ssp_malloc(n ? n : 1);
	if (!d) return SSP_ERR_NOMEM;
	if (n) memcpy(d, p, n);
	free(r->ret);
	r->ret = d;
	r->ret_len = (uint32_t)n;
	return 0;
}

static int set_ret_str(ssp_receipt *r, const char *s)
{
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	contract_val_str(&b, s, strlen(s));
	int rc = b.err ? b.err : set_ret(r, b.data, b.len);
	ssp_buf_free(&b);
	return rc;
}

/* The fee must cover base + gas_limit × gas_price; the limit must fit a block. */
static int fee_check(const ssp_txctx *c, const ssp_tx *tx, uint64_t gas_limit)
{
	uint64_t min;
	if (gas_limit > c->params->max_block_gas) return SSP_ERR_PAYLOAD;
	if (ssp_contract_min_fee(c->params, tx->raw_len, gas_limit, &min) || tx->fee < min)
		return SSP_ERR_FEE_LOW;
	return 0;
}

/* Refunds the unused gas and settles the receipt's gas and fee. */
static int settle(ssp_txctx *c, const ssp_tx *tx, uint64_t gas_limit, uint64_t gas_used)
{
	uint64_t refund;
	if (gas_used > gas_limit) gas_used = gas_limit;
	if (ssp_mul_u64(&refund, gas_limit - gas_used, c->params->gas_price) || refund > tx->fee)
		return SSP_ERR_OVERFLOW; /* excluded by fee_check */
	int rc = refund ? ssp_state_pool_pay(c->st, &tx->from, refund) : 0;
	if (rc) return rc;
	c->rcpt->gas_used = gas_used;
	c->rcpt->fee_paid = tx->fee - refund;
	return 0;
}

/* Undoes the tx's own changes and records the failure. */
static int fail(ssp_txctx *c, size_t mark, uint64_t emark, int code, const char *msg)
{
	ssp_state_rollback(c->st, mark);
	ssp_receipt_events_rollback(c->rcpt, emark);
	c->rcpt->status = SSP_RCPT_FAILED;
	c->rcpt->error = code;
	return set_ret_str(c->rcpt, msg && *msg ? msg : ssp_strerror(code));
}

static int is_vm_err(int rc)
{
	return (rc <= SSP_ERR_VM_ERROR && rc >= SSP_ERR_VM_VALUE) || rc == SSP_ERR_TOOBIG;
}

int contract_deploy_apply(ssp_txctx *c, const ssp_tx *tx)
{
	ssp_contract_deploy d;
	ssp_contract_info ci;
	ssp_vm_result res;
	contract_exec x;
	contract_frame f;
	char err[256], text[96];
	uint64_t gas_used = 0;
	int rc = ssp_contract_deploy_decode(&d, tx->payload, tx->payload_len);
	if (rc) return rc;
	if ((rc = fee_check(c, tx, d.gas_limit))) return rc;
	ssp_vm *vm = ((contract_chain *)c->mod)->vm;
	size_t mark = ssp_state_mark(c->st);
	uint64_t emark = ssp_receipt_events_mark(c->rcpt);
	memset(&ci, 0, sizeof ci);
	memset(&res, 0, sizeof res);
	ssp_addr addr;
	ssp_contract_address(&addr, &tx->from, tx->nonce);
	ci.creator = tx->from;

	uint64_t code_gas = (uint64_t)d.src_len * SSP_CONTRACT_GAS_PER_SOURCE_BYTE;
	if (code_gas > d.gas_limit) {
		snprintf(err, sizeof err, "out of gas: storing %u bytes of code costs %llu gas",
		         d.src_len, (unsigned long long)code_gas);
		gas_used = d.gas_limit;
		rc = fail(c, mark, emark, SSP_ERR_VM_GAS, err);
		goto settle;
	}
	gas_used = code_gas;
	err[0] = 0;
	rc = ssp_vm_check_ex(vm, (const char *)d.src, d.src_len, d.gas_limit - code_gas,
	                     c->validating, &ci.abi, err, sizeof err);
	if (rc) {
		ssp_vm_abi_free(&ci.abi);
		if (!is_vm_err(rc)) return rc;
		if (rc == SSP_ERR_VM_GAS) gas_used = d.gas_limit;
		rc = fail(c, mark, emark, rc, err);
		goto settle;
	}
	ssp_sha256(&ci.code_hash, d.src, d.src_len);
	ci.src = d.src;
	ci.src_len = d.src_len;
	ci.height = c->height;
	ci.nonce = tx->nonce;
	rc = contract_store_new(c->st, &addr, &ci.code_hash, d.src, d.src_len, &tx->from, c->height,
	                        tx->nonce, &ci.abi);
	if (rc == SSP_ERR_EXISTS) {
		ssp_vm_abi_free(&ci.abi);
		rc = fail(c, mark, emark, rc, "a contract already lives at this address");
		goto settle;
	}
	if (rc) {
		ssp_vm_abi_free(&ci.abi);
		return rc;
	}
	x = (contract_exec){.vm = vm, .c = c, .origin = tx->from};
	contract_frame_init(&f, &x, NULL, &addr, &tx->from, 0);
	rc = contract_run(&f, &ci, SSP_VM_MODE_INIT, "init", d.args, d.args_len,
	                  d.gas_limit - code_gas, &res);
	ssp_vm_abi_free(&ci.abi);
	if (!rc) rc = x.fatal;
	if (rc) {
		ssp_vm_result_free(&res);
		return rc;
	}
	gas_used += res.gas_used;
	if (res.status) {
		rc = fail(c, mark, emark, res.status, res.error);
	} else {
		/* a deploy returns the new contract's address */
		ssp_addr_encode(text, sizeof text, c->hrp, &addr);
		rc = set_ret_str(c->rcpt, text);
	}
	ssp_vm_result_free(&res);
settle:
	return rc ? rc : settle(c, tx, d.gas_limit, gas_used);
}

int contract_call_apply(ssp_txctx *c, const ssp_tx *tx)
{
	ssp_contract_call k;
	ssp_contract_info ci;
	ssp_vm_result res;
	ssp_account from;
	contract_exec x;
	contract_frame f;
	char err[160], text[96];
	uint64_t gas_used = 0;
	int rc = ssp_contract_call_decode(&k, tx->payload, tx->payload_len);
	if (rc) return rc;
	if ((rc = fee_check(c, tx, k.gas_limit))) return rc;
	ssp_vm *vm = ((contract_chain *)c->mod)->vm;
	/* the value, like a transfer's amount, must be there: otherwise the tx is invalid */
	if ((rc = ssp_state_account(c->st, &tx->from, &from))) return rc;
	if (k.value) {
		/* a grant-locked sender (the foundation) could launder the lock through a contract
		 */
		if (from.grant_lock_ms) return SSP_ERR_LOCKED;
		if (from.balance < k.value) return from.locked ? SSP_ERR_LOCKED : SSP_ERR_BALANCE;
	}
	size_t mark = ssp_state_mark(c->st);
	uint64_t emark = ssp_receipt_events_mark(c->rcpt);
	memset(&res, 0, sizeof res);
	/* the value first: the code read below is borrowed until the next state change */
	rc = contract_move(c->st, &tx->from, &k.contract, k.value);
	if (rc) return rc;
	rc = ssp_contract_get(c->st, &k.contract, &ci);
	if (rc == SSP_ERR_NOTFOUND) {
		ssp_addr_encode(text, sizeof text, c->hrp, &k.contract);
		snprintf(err, sizeof err, "no contract at %s", text);
		rc = fail(c, mark, emark, SSP_ERR_NOTFOUND, err);
		goto settle;
	}
	if (rc) return rc;
	x = (contract_exec){.vm = vm, .c = c, .origin = tx->from};
	contract_frame_init(&f, &x, NULL, &k.contract, &tx->from, k.value);
	rc = contract_run(&f, &ci, SSP_VM_MODE_CALL, k.fn, k.args, k.args_len, k.gas_limit, &res);
	ssp_vm_abi_free(&ci.abi);
	if (!rc) rc = x.fatal;
	if (rc) {
		ssp_vm_result_free(&res);
		return rc;
	}
	gas_used = res.gas_used;
	if (res.status)
		rc = fail(c, mark, emark, res.status, res.error);
	else
		rc = set_ret(c->rcpt, res.ret.data, res.ret.len);
	ssp_vm_result_free(&res);
settle:
	return rc ? rc : settle(c, tx, k.gas_limit, gas_used);
}
