/*
 * contract.c — the contract module's registration (modules layer): its two
 * transaction types, its RPC methods and the VMs it runs code in.
 *
 * VMs. Transactions run on the chain owner's thread, but a tx type's apply
 * sees only the ssp_txctx, not the module's env. So the transaction VM is
 * a module-level pointer: created by init (or lazily on first use, for
 * tools and tests that drive a chain without the node), used only by the
 * chain owner thread, freed by fini. RPC threads never touch it: queries
 * use a second VM in the env's private slot behind a mutex.
 *
 * Params. check() has no chain at hand either; init records the genesis
 * params so check() can refuse at admission a fee that apply() would refuse
 * anyway (apply checks again with the chain's own params).
 */
#include <stdlib.h>
#include <string.h>

#include "contract_internal.h"

static ssp_vm *tx_vm;
static ssp_params init_params;
static bool have_params;

ssp_vm *contract_tx_vm(void)
{
	if (!tx_vm) {
		ssp_vm_opts o = {.max_depth = CONTRACT_MAX_DEPTH};
		if (ssp_vm_new(&tx_vm, &o)) tx_vm = NULL;
	}
	return tx_vm;
}

const ssp_params *contract_params(void)
{
	return have_params ? &init_params : NULL;
}

/* ------------------------------------------------------------ tx types */

static int fee_ok(const ssp_tx *tx, uint64_t gas_limit)
{
	const ssp_params *p = contract_params();
	uint64_t min;
	if (!p) return 0;
	if (gas_limit > p->max_block_gas) return SSP_ERR_PAYLOAD;
	if (ssp_contract_min_fee(p, tx->raw_len, gas_limit, &min) || tx->fee < min)
		return SSP_ERR_FEE_LOW;
	return 0;
}

static int deploy_check(const ssp_tx *tx)
{
	ssp_contract_deploy d;
	int rc = ssp_contract_deploy_decode(&d, tx->payload, tx->payload_len);
	return rc ? rc : fee_ok(tx, d.gas_limit);
}

static int call_check(const ssp_tx *tx)
{
	ssp_contract_call k;
	int rc = ssp_contract_call_decode(&k, tx->payload, tx->payload_len);
	return rc ? rc : fee_ok(tx, k.gas_limit);
}

/* The gas is inside the fee; beyond it only a call's value leaves the sender. */
static uint64_t deploy_spend(const ssp_tx *tx, const ssp_params *p)
{
	(void)tx;
	(void)p;
	return 0;
}

static uint64_t call_spend(const ssp_tx *tx, const ssp_params *p)
{
	(void)p;
	ssp_contract_call k;
	return ssp_contract_call_decode(&k, tx->payload, tx->payload_len) ? 0 : k.value;
}

static uint64_t deploy_gas(const ssp_tx *tx)
{
	ssp_contract_deploy d;
	return ssp_contract_deploy_decode(&d, tx->payload, tx->payload_len) ? 0 : d.gas_limit;
}

static uint64_t call_gas(const ssp_tx *tx)
{
	ssp_contract_call k;
	return ssp_contract_call_decode(&k, tx->payload, tx->payload_len) ? 0 : k.gas_limit;
}

static json_t *args_json(const uint8_t *p, size_t n)
{
	json_t *j = NULL;
	return ssp_val_to_json(&j, p, n) ? json_null() : j;
}

static json_t *deploy_json(const ssp_tx *tx, const char *hrp)
{
	ssp_contract_deploy d;
	ssp_addr a;
	ssp_hash h;
	char addr[96], hex[65];
	if (ssp_contract_deploy_decode(&d, tx->payload, tx->payload_len)) return NULL;
	ssp_contract_address(&a, &tx->from, tx->nonce);
	ssp_addr_encode(addr, sizeof addr, hrp, &a);
	ssp_sha256(&h, d.src, d.src_len);
	ssp_hex_encode(hex, h.b, 32);
	return json_pack("{s:s, s:s, s:I, s:I, s:o}", "contract", addr, "code_hash", hex,
	                 "source_size", (json_int_t)d.src_len, "gas_limit", (json_int_t)d.gas_limit,
	                 "args", args_json(d.args, d.args_len));
}

static json_t *call_json(const ssp_tx *tx, const char *hrp)
{
	ssp_contract_call k;
	char addr[96], value[SSP_AMOUNT_STR];
	if (ssp_contract_call_decode(&k, tx->payload, tx->payload_len)) return NULL;
	ssp_addr_encode(addr, sizeof addr, hrp, &k.contract);
	ssp_amount_format(value, sizeof value, k.value, SSP_DECIMALS);
	return json_pack("{s:s, s:s, s:o, s:s, s:I}", "contract", addr, "function", k.fn, "args",
	                 args_json(k.args, k.args_len), "value", value, "gas_limit",
	                 (json_int_t)k.gas_limit);
}

static const ssp_txtype deploy_type = {
    .id = SSP_TX_CONTRACT_DEPLOY,
    .name = "contract_deploy",
    .check = deploy_check,
    .spend = deploy_spend,
    .apply = contract_deploy_apply,
    .to_json = deploy_json,
    .gas_limit = deploy_gas,
};

static const ssp_txtype call_type = {
    .id = SSP_TX_CONTRACT_CALL,
    .name = "contract_call",
    .check = call_check,
    .spend = call_spend,
    .apply = contract_call_apply,
    .to_json = call_json,
    .gas_limit = call_gas,
};

static const ssp_txtype *const types[] = {&deploy_type, &call_type};

/* -------------------------------------------------------------- module */

static int contract_init(ssp_module_env *env)
{
	ssp_vm_opts o = {.max_depth = CONTRACT_MAX_DEPTH};
	contract_priv *p = calloc(1, sizeof *p);
	int rc;
	if (!p) return SSP_ERR_NOMEM;
	if ((rc = ssp_vm_new(&p->vm, &o))) {
		free(p);
		return rc;
	}
	if (!contract_tx_vm()) {
		ssp_vm_free(p->vm);
		free(p);
		return SSP_ERR_NOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	if (env->genesis) {
		init_params = *ssp_genesis_params(env->genesis);
		have_params = true;
	}
	env->priv = p;
	return 0;
}

static void contract_fini(ssp_module_env *env)
{
	contract_priv *p = env->priv;
	if (p) {
		if (p->vm) ssp_vm_free(p->vm);
		pthread_mutex_destroy(&p->lock);
		free(p);
		env->priv = NULL;
	}
	if (tx_vm) ssp_vm_free(tx_vm);
	tx_vm = NULL;
	have_params = false;
}

const ssp_module ssp_contract_module = {
    .name = "contract",
    .txtypes = types,
    .ntxtypes = sizeof types / sizeof *types,
    .methods = contract_rpc_methods,
    .nmethods = CONTRACT_RPC_NMETHODS,
    .init = contract_init,
    .fini = contract_fini,
};
