/*
 * contract.c — the contract module's registration (modules layer): its two
 * transaction types, its RPC methods and the VMs it runs code in.
 *
 * VMs. Each chain has its own transaction VM (and compiled-code cache) in
 * the module's per-chain state (contract_chain, made by chain_new), used
 * only by that chain's owner thread through ssp_txctx.mod; two chains in
 * one process share nothing. RPC threads never touch it: queries use a
 * second VM in the env's private slot behind a mutex.
 *
 * Params. check() runs at admission on any thread; it reads the chain's
 * genesis params from the same per-chain state to refuse a fee that
 * apply() would refuse anyway.
 */
#include <stdlib.h>
#include <string.h>

#include "contract_internal.h"

static int contract_chain_new(void **out, const ssp_genesis *g)
{
	ssp_vm_opts o = {.max_depth = CONTRACT_MAX_DEPTH};
	contract_chain *cc = ssp_calloc(1, sizeof *cc);
	int rc;
	*out = NULL;
	if (!cc) return SSP_ERR_NOMEM;
	if ((rc = ssp_vm_new(&cc->vm, &o))) {
		free(cc);
		return rc;
	}
	cc->params = *ssp_genesis_params(g);
	*out = cc;
	return 0;
}

static void contract_chain_free(void *st)
{
	contract_chain *cc = st;
	if (!cc) return;
	ssp_vm_free(cc->vm);
	free(cc);
}

/* ------------------------------------------------------------ tx types */

static int fee_ok(const contract_chain *cc, const ssp_tx *tx, uint64_t gas_limit)
{
	const ssp_params *p = &cc->params;
	uint64_t min;
	if (gas_limit > p->max_block_gas) return SSP_ERR_PAYLOAD;
	if (ssp_contract_min_fee(p, tx->raw_len, gas_limit, &min) || tx->fee < min)
		return SSP_ERR_FEE_LOW;
	return 0;
}

static int deploy_check(void *mod, const ssp_tx *tx)
{
	ssp_contract_deploy d;
	int rc = ssp_contract_deploy_decode(&d, tx->payload, tx->payload_len);
	return rc ? rc : fee_ok(mod, tx, d.gas_limit);
}

static int call_check(void *mod, const ssp_tx *tx)
{
	ssp_contract_call k;
	int rc = ssp_contract_call_decode(&k, tx->payload, tx->payload_len);
	return rc ? rc : fee_ok(mod, tx, k.gas_limit);
}

/* The gas is inside the fee; beyond it only a call's value leaves the sender. */
static uint64_t deploy_spend(void *mod, const ssp_tx *tx, const ssp_params *p)
{
	(void)mod;
	(void)tx;
	(void)p;
	return 0;
}

static uint64_t call_spend(void *mod, const ssp_tx *tx, const ssp_params *p)
{
	(void)mod;
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
	contract_priv *p = ssp_calloc(1, sizeof *p);
	int rc;
	if (!p) return SSP_ERR_NOMEM;
	if ((rc = ssp_vm_new(&p->vm, &o))) {
		free(p);
		return rc;
	}
	pthread_mutex_init(&p->lock, NULL);
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
}

const ssp_module ssp_contract_module = {
    .name = "contract",
    .txtypes = types,
    .ntxtypes = sizeof types / sizeof *types,
    .methods = contract_rpc_methods,
    .nmethods = CONTRACT_RPC_NMETHODS,
    .chain_new = contract_chain_new,
    .chain_free = contract_chain_free,
    .init = contract_init,
    .fini = contract_fini,
};
