/*
 * ssp/contract.h — Lua smart contracts on chain (modules layer; ARCHITECTURE
 * §7). Two transaction types deploy a contract's source and call its
 * functions; the module keeps each contract's code, ABI and storage in its
 * own state tables, runs the code in the LVM (ssp/vm.h) and bridges what a
 * contract does (storage, SSP transfers, nested calls, events, IOT_Coin) to
 * the chain through the VM's host callbacks. Read-only RPC methods answer
 * view calls, code and event queries.
 *
 * Fees: a contract tx's fee must cover the chain's base fee (min_fee +
 * fee_per_byte × size) plus gas_limit × gas_price; the unused part
 * (gas_limit − gas_used) × gas_price goes back to the sender from the pool
 * after execution, so the sender pays base + gas_used × gas_price (+ any
 * tip above the minimum). See docs/contracts.md "Fees".
 *
 * The payload codecs, the address derivation and the fee formula are
 * libssp_proto's (ssp/proto_contract.h): they touch no VM, and the CLI links
 * them without the node.
 */
#ifndef SSP_CONTRACT_H
#define SSP_CONTRACT_H

#include "ssp/modules.h"
#include "ssp/proto_contract.h"
#include "ssp/vm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tx ids, payload limits and codecs, the address and the fee formula: ssp/proto_contract.h. */

/* State tables owned by the module (the token module uses +0..+2). */
enum {
	SSP_TB_CONTRACT_CODE = SSP_TB_MODULE_FIRST + 8,  /* addr -> code_hash[32] | source */
	SSP_TB_CONTRACT_STORE = SSP_TB_MODULE_FIRST + 9, /* addr | key form -> canonical value */
	SSP_TB_CONTRACT_META = SSP_TB_MODULE_FIRST + 10, /* addr -> creator, height, nonce, ABI */
};

#define SSP_CONTRACT_GAS_PER_SOURCE_BYTE 10ULL /* storing code at deploy */
#define SSP_CONTRACT_QUERY_GAS 10000000ULL     /* contract_query's gas cap */
#define SSP_CONTRACT_STORAGE_KEY_MAX 1024      /* bytes of a storage key */

/* ------------------------------------------------------------ stored code */

/* One deployed contract as stored: code, creator and ABI. */
typedef struct {
	ssp_hash code_hash;
	const uint8_t *src; /* borrowed from the state until its next change */
	size_t src_len;
	ssp_addr creator;
	uint64_t height; /* block of the deploy */
	uint64_t nonce;  /* the deploy tx's nonce */
	ssp_vm_abi abi;  /* owned: free with ssp_vm_abi_free */
} ssp_contract_info;

/*
 * Reads contract `a` from a state (a block overlay or a read-only view).
 * SSP_ERR_NOTFOUND when no contract lives there. Free out->abi after use.
 */
SSP_WUR int ssp_contract_get(ssp_state *st, const ssp_addr *a, ssp_contract_info *out);

extern const ssp_module ssp_contract_module;

#ifdef __cplusplus
}
#endif
#endif
