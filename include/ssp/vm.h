/*
 * ssp/vm.h — the public API of libssp_vm, the Lua virtual machine ("LVM")
 * that runs contracts (ARCHITECTURE §7). Sits above chain; knows nothing of
 * accounts or tokens: everything a contract does to the chain goes through
 * the host callbacks the contract module supplies.
 *
 * Deterministic and isolated: source only (no bytecode), a whitelisted
 * library, ordered pairs/next, a deterministic sort, no addresses in
 * tostring, setmetatable without __gc/__mode, no floats across boundaries,
 * gas from an instruction-count hook that pcall cannot swallow plus charges
 * for work inside C functions, a memory cap, bounded call depth. Pinned to
 * Lua 5.4.4 (gas counts instructions of that exact release).
 *
 * Threading: an ssp_vm is used by one thread at a time (the chain owner).
 */
#ifndef SSP_VM_H
#define SSP_VM_H

#include "ssp/chain.h"
#include "ssp/proto_contract.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SSP_VM_SOURCE_MAX and SSP_VM_NAME_MAX: ssp/proto_contract.h (what a payload may carry). */

typedef struct ssp_vm ssp_vm;

typedef struct {
	size_t mem_limit;   /* bytes per contract call; 0 = 32 MiB */
	unsigned max_depth; /* nested contract calls; 0 = 8 */
	unsigned pool_size; /* warm lua_States kept; 0 = 16 */
} ssp_vm_opts;

SSP_WUR int ssp_vm_new(ssp_vm **out, const ssp_vm_opts *o);
void ssp_vm_free(ssp_vm *vm);

/* The functions a contract exposes, from abi.register / abi.payable / abi.view. */
typedef struct {
	char name[SSP_VM_NAME_MAX + 1];
	uint8_t
	    kind; /* SSP_VM_FN_CALL (register) | SSP_VM_FN_PAYABLE | SSP_VM_FN_VIEW, bit flags */
} ssp_vm_fn;

enum { SSP_VM_FN_CALL = 1, SSP_VM_FN_PAYABLE = 2, SSP_VM_FN_VIEW = 4 };

typedef struct {
	ssp_vm_fn *fns; /* owned; free with ssp_vm_abi_free */
	size_t nfns;
	bool has_init;
} ssp_vm_abi;

void ssp_vm_abi_free(ssp_vm_abi *abi);

/*
 * Deploy-time check of a contract's source: at most SSP_VM_SOURCE_MAX
 * bytes, text only (a leading ESC is bytecode: rejected), compiles (syntax
 * errors give "line N: message" in err), top level runs within gas_limit
 * and returns its ABI. Returns 0 or SSP_ERR_VM_* / SSP_ERR_TOOBIG.
 */
SSP_WUR int ssp_vm_check(ssp_vm *vm, const char *src, size_t n, uint64_t gas_limit, ssp_vm_abi *abi,
                         char *err, size_t errlen);
/* The same, validating another node's block (see ssp_vm_host.validating). */
SSP_WUR int ssp_vm_check_ex(ssp_vm *vm, const char *src, size_t n, uint64_t gas_limit,
                            bool validating, ssp_vm_abi *abi, char *err, size_t errlen);

/*
 * What a contract can do to the world. Every callback returns 0 or an
 * ssp_err; a non-zero return raises a Lua error in the contract (which a
 * protected ssp.pcall may catch, except out-of-gas). All bytes in and out
 * are canonical values (ssp/core.h) unless stated.
 */
typedef struct ssp_vm_host {
	void *ctx;
	ssp_addr self, sender, origin;
	uint64_t value; /* SSP base units sent with this call */
	uint64_t height, time_ms;
	const char *hrp; /* for address strings in Lua */
	/*
	 * Validating someone else's block: the node-local caps (live memory,
	 * cumulative allocation; never consensus results) are doubled, so a call
	 * its producer ran within them, with a different string-hash seed and
	 * so different table sizes, cannot exceed them here.
	 */
	bool validating;
	/* storage of `self`: key is a Lua string; NOTFOUND means nil */
	int (*storage_get)(void *ctx, const uint8_t *key, size_t kl, ssp_buf *val);
	int (*storage_set)(void *ctx, const uint8_t *key, size_t kl, const uint8_t *val, size_t vl);
	int (*storage_del)(void *ctx, const uint8_t *key, size_t kl);
	int (*balance)(void *ctx, const ssp_addr *a, uint64_t *out);
	int (*transfer)(void *ctx, const ssp_addr *to, uint64_t amount);
	/*
	 * Calls contract `target`.fn(args) with value, nested; `gas` in: the gas
	 * the callee may use, out: what it used. protected = ssp.pcall: a callee
	 * failure reverts the callee's writes, transfers and events and returns
	 * SSP_ERR_VM_ERROR with the message in ret (as a string value).
	 */
	int (*call)(void *ctx, const ssp_addr *target, const char *fn, const uint8_t *args,
	            size_t n, uint64_t value, bool protected_call, uint64_t *gas, ssp_buf *ret);
	/* event: name and a canonical table of fields */
	int (*emit)(void *ctx, const char *name, const uint8_t *fields, size_t n);
	/* IOT_Coin bridge: op is "create", "issue", "transfer", … with canonical args (a table) */
	int (*token)(void *ctx, const char *op, const uint8_t *args, size_t n, ssp_buf *ret);
} ssp_vm_host;

enum { SSP_VM_MODE_INIT = 1, SSP_VM_MODE_CALL = 2, SSP_VM_MODE_VIEW = 3 };

typedef struct {
	int status;        /* 0, or the SSP_ERR_VM_* that ended the call */
	uint64_t gas_used; /* never more than the limit */
	ssp_buf ret;       /* canonical return value (nil when none); caller frees */
	char error[256];   /* a one-line message when status != 0 */
} ssp_vm_result;

/*
 * Runs `fn` of a contract with canonical args (a table used as the argument
 * list 1..n). mode INIT runs the global init (if any) after the top level;
 * CALL requires fn registered (and payable when host->value > 0); VIEW
 * requires fn marked view and forbids every state-changing callback.
 * code_hash identifies the source for the VM's compiled-code cache.
 * Returns 0 when the call ran (res->status says how it ended) or an ssp_err
 * for misuse / OOM of the host itself.
 */
SSP_WUR int ssp_vm_call(ssp_vm *vm, const ssp_vm_host *host, const ssp_hash *code_hash,
                        const char *src, size_t n, int mode, const char *fn, const uint8_t *args,
                        size_t argn, uint64_t gas_limit, ssp_vm_result *res);
void ssp_vm_result_free(ssp_vm_result *res);

#ifdef __cplusplus
}
#endif
#endif
