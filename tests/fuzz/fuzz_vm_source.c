/*
 * fuzz_vm_source.c — libFuzzer harness for contract source (vm layer):
 * arbitrary bytes go through ssp_vm_check with a small gas limit; when the
 * source is accepted, every exported function is called once with no
 * arguments against an in-memory host. Invariants: the VM never crashes or
 * hangs, statuses are VM codes, gas never exceeds the limit, an out-of-gas
 * call used exactly the limit, and a successful call returns one canonical
 * value. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/vm_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_GAS 200000

static int vm_status_ok(int s)
{
	return s == 0 || (s <= SSP_ERR_VM_ERROR && s >= SSP_ERR_VM_VALUE) || s == SSP_ERR_TOOBIG;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fx_world *w;
	if (!w) {
		if (ssp_core_init()) abort();
		ssp_vm_opts o = {.mem_limit = 4 << 20, .pool_size = 4};
		w = fx_new(&o);
	}
	ssp_vm_abi abi;
	char err[256];
	int rc = ssp_vm_check(w->vm, (const char *)data, size, FUZZ_GAS, &abi, err, sizeof err);
	if (rc == SSP_ERR_NOMEM || rc == SSP_ERR_VM_NODELIMIT)
		return 0; /* node-local: not a result */
	if (!vm_status_ok(rc)) abort();
	if (rc) return 0;
	fx_contract k;
	memset(&k, 0, sizeof k);
	k.addr = fx_addr(77);
	k.src = (const char *)data;
	k.n = size;
	ssp_sha256(&k.hash, data, size);
	for (size_t i = 0; i < abi.nfns && i < 8; i++) {
		fx_ctx c = {.w = w, .self = k.addr};
		ssp_vm_host h;
		ssp_addr snd = fx_addr(1);
		fx_host(&h, &c, &k.addr, &snd, &snd, 0);
		ssp_vm_result res;
		int mode = (abi.fns[i].kind & SSP_VM_FN_VIEW) ? SSP_VM_MODE_VIEW : SSP_VM_MODE_CALL;
		rc = ssp_vm_call(w->vm, &h, &k.hash, k.src, k.n, mode, abi.fns[i].name, NULL, 0,
		                 FUZZ_GAS, &res);
		if (rc && rc != SSP_ERR_NOMEM && rc != SSP_ERR_VM_NODELIMIT) abort();
		if (!rc) {
			if (!vm_status_ok(res.status) || res.gas_used > FUZZ_GAS) abort();
			if (res.status == SSP_ERR_VM_GAS && res.gas_used != FUZZ_GAS) abort();
			if (ssp_val_check(res.ret.data, res.ret.len)) abort();
		}
		ssp_vm_result_free(&res);
	}
	ssp_vm_abi_free(&abi);
	/* the fake world must not fill up across inputs */
	memset(&w->st, 0, sizeof w->st);
	return 0;
}
