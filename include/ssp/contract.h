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
 * The payload codecs, the address derivation and the fee formula below
 * touch no VM and are safe on any thread (the CLI links them).
 */
#ifndef SSP_CONTRACT_H
#define SSP_CONTRACT_H

#include "ssp/modules.h"
#include "ssp/vm.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	SSP_TX_CONTRACT_DEPLOY = 0x20,
	SSP_TX_CONTRACT_CALL = 0x21,
};

/* State tables owned by the module (the token module uses +0..+2). */
enum {
	SSP_TB_CONTRACT_CODE = SSP_TB_MODULE_FIRST + 8,  /* addr -> code_hash[32] | source */
	SSP_TB_CONTRACT_STORE = SSP_TB_MODULE_FIRST + 9, /* addr | key form -> canonical value */
	SSP_TB_CONTRACT_META = SSP_TB_MODULE_FIRST + 10, /* addr -> creator, height, nonce, ABI */
};

/*
 * Per tx, whatever the block allows. Bounded so that what a tx can make Lua
 * allocate uncharged (table internals, ~48 bytes per gas) stays well under
 * the VM's per-node memory cap (4 x 32 MiB): a tx near any cap could pass on
 * one node and fail on another.
 */
#define SSP_CONTRACT_GAS_MAX 2000000ULL
#define SSP_CONTRACT_GAS_PER_SOURCE_BYTE 10ULL /* storing code at deploy */
#define SSP_CONTRACT_QUERY_GAS 10000000ULL     /* contract_query's gas cap */
#define SSP_CONTRACT_STORAGE_KEY_MAX 1024      /* bytes of a storage key */
#define SSP_CONTRACT_ARGS_MAX (64 * 1024)      /* canonical args of a call */

/*
 * Deploy payload: u64 gas_limit | u32 len + source | u32 len + args, where
 * args is one canonical table (the init arguments 1..n; an empty table for
 * none). The source is UTF-8 Lua text without NUL bytes, at most
 * SSP_VM_SOURCE_MAX bytes, never bytecode (a leading ESC).
 */
typedef struct {
	uint64_t gas_limit;
	const uint8_t *src; /* borrowed */
	uint32_t src_len;
	const uint8_t *args; /* borrowed */
	uint32_t args_len;
} ssp_contract_deploy;

/*
 * Call payload: contract[20] | u8 len + function name | u32 len + args |
 * u64 value | u64 gas_limit. The name is a Lua identifier of 1..64 bytes;
 * args one canonical table; value SSP base units sent to a payable function.
 */
typedef struct {
	ssp_addr contract;
	char fn[SSP_VM_NAME_MAX + 1];
	const uint8_t *args; /* borrowed */
	uint32_t args_len;
	uint64_t value;
	uint64_t gas_limit;
} ssp_contract_call;

/*
 * Strict decoders: every length checked, trailing bytes rejected, gas_limit
 * 1..SSP_CONTRACT_GAS_MAX, args a canonical table. Return 0 or
 * SSP_ERR_PAYLOAD; the deploy decoder returns SSP_ERR_TOOBIG for a source
 * over SSP_VM_SOURCE_MAX and SSP_ERR_VM_BYTECODE for bytecode. The result
 * borrows from p.
 */
SSP_WUR int ssp_contract_deploy_decode(ssp_contract_deploy *d, const uint8_t *p, size_t n);
SSP_WUR int ssp_contract_call_decode(ssp_contract_call *c, const uint8_t *p, size_t n);
/* Append the encoded payload to b (errors are sticky in b->err). */
void ssp_contract_deploy_encode(ssp_buf *b, const ssp_contract_deploy *d);
void ssp_contract_call_encode(ssp_buf *b, const ssp_contract_call *c);

/* A contract's address: first 20 bytes of SHA-256("ssp/contract/" || creator || u64 LE nonce). */
void ssp_contract_address(ssp_addr *out, const ssp_addr *creator, uint64_t nonce);

/*
 * The least fee a contract tx of txlen encoded bytes with this gas limit
 * may carry: min_fee + fee_per_byte × txlen + gas_limit × gas_price.
 * Returns 0 or SSP_ERR_OVERFLOW.
 */
SSP_WUR int ssp_contract_min_fee(const ssp_params *p, size_t txlen, uint64_t gas_limit,
                                 uint64_t *out);

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
