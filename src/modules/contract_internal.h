/*
 * contract_internal.h — what the contract module's files share (modules
 * layer, private): the stored-code tables, the execution context behind the
 * VM's host callbacks, the VM handles and small canonical-value helpers.
 */
#ifndef SSP_CONTRACT_INTERNAL_H
#define SSP_CONTRACT_INTERNAL_H

#include <pthread.h>

#include "ssp/contract.h"

#define CONTRACT_MAX_DEPTH 8 /* nested contract calls, the entry call included */

/* ------------------------------------------------------------- state */

/* Stores code and meta of a new contract (SSP_ERR_EXISTS if one is there). */
SSP_WUR int contract_store_new(ssp_state *st, const ssp_addr *a, const ssp_hash *code_hash,
                               const uint8_t *src, size_t n, const ssp_addr *creator,
                               uint64_t height, uint64_t nonce, const ssp_vm_abi *abi);
/* 1 if a contract lives at a. */
int contract_exists(ssp_state *st, const ssp_addr *a);
/* The state key of storage `key` of contract a: a | 0x00 | key (short) or a | 0x01 | SHA-256(key).
 */
SSP_WUR int contract_storage_key(uint8_t *out, size_t *outlen, const ssp_addr *a,
                                 const uint8_t *key, size_t kl);

/* ------------------------------------------------------- execution */

/*
 * One transaction's (or one query's) execution: shared by every frame of
 * the nested call tree. `c` is the chain's tx context (a fake one over a
 * read-only view for queries). `fatal` records a host failure that is not
 * the contract's fault (OOM, database): the tx must then be invalid, never
 * a deterministic-looking FAILED receipt.
 */
typedef struct {
	ssp_vm *vm;
	ssp_txctx *c;
	ssp_addr origin;
	bool view;
	int fatal;
} contract_exec;

/* One contract activation; host.ctx points back to it. */
typedef struct contract_frame {
	contract_exec *x;
	const struct contract_frame *parent;
	unsigned depth; /* 1 for the entry call */
	ssp_vm_host host;
} contract_frame;

void contract_frame_init(contract_frame *f, contract_exec *x, const contract_frame *parent,
                         const ssp_addr *self, const ssp_addr *sender, uint64_t value);

/*
 * Runs fn of the contract described by ci in frame f (mode INIT, CALL or
 * VIEW) with a private copy of its source. Returns ssp_vm_call's code.
 */
SSP_WUR int contract_run(contract_frame *f, const ssp_contract_info *ci, int mode, const char *fn,
                         const uint8_t *args, size_t argn, uint64_t gas, ssp_vm_result *res);

/* The IOT_Coin bridge behind host.token (contract_token.c). */
int contract_token_op(contract_frame *f, const char *op, const uint8_t *args, size_t n,
                      ssp_buf *ret);

/* Moves amount of SSP from one account to another (balance checked). */
SSP_WUR int contract_move(ssp_state *st, const ssp_addr *from, const ssp_addr *to, uint64_t amount);

/* True for errors that are the host's, not the contract's (see contract_exec.fatal). */
int contract_err_fatal(int rc);
/* Records a fatal host failure in f->x->fatal and passes rc on. */
int contract_host_rc(contract_frame *f, int rc);

/* -------------------------------------------------------------- VMs */

/*
 * The module's per-chain state (ssp_txctx.mod of its tx types): the chain
 * owner's VM for transactions and the chain's genesis params (check()
 * reads them on any thread; they never change).
 */
typedef struct {
	ssp_vm *vm;
	ssp_params params;
} contract_chain;

/* ------------------------------------------------ canonical values */

/* Appends a canonical string value. */
void contract_val_str(ssp_buf *b, const char *s, size_t n);

/* ---------------------------------------------------- transactions */

SSP_WUR int contract_deploy_apply(ssp_txctx *c, const ssp_tx *tx);
SSP_WUR int contract_call_apply(ssp_txctx *c, const ssp_tx *tx);

/* RPC methods (contract_rpc.c). */
#define CONTRACT_RPC_NMETHODS 3
extern const ssp_rpc_method contract_rpc_methods[CONTRACT_RPC_NMETHODS];

/* The module's private slot: a mutex-protected VM for queries on RPC threads. */
typedef struct {
	pthread_mutex_t lock;
	ssp_vm *vm;
} contract_priv;

#endif
