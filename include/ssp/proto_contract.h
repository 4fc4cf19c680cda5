/*
 * ssp/proto_contract.h — the Lua contracts' wire formats (libssp_proto): the
 * deploy and call tx ids and payload codecs, the limits they carry (source
 * size, function names, gas, arguments), the contract address derivation
 * and the fee formula of a contract tx. Pure functions over bytes with no
 * VM, safe on any thread: a wallet (`ssp contract …`) or a device builds
 * contract txs with them. The contract module and its fees are in
 * ssp/contract.h (modules layer), the VM in ssp/vm.h; docs/contracts.md.
 */
#ifndef SSP_PROTO_CONTRACT_H
#define SSP_PROTO_CONTRACT_H

#include "ssp/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* all of it is API (SSP_API in ssp/core.h) */

enum {
	SSP_TX_CONTRACT_DEPLOY = 0x20,
	SSP_TX_CONTRACT_CALL = 0x21,
};

/* The VM's limits on what a payload carries: a contract's source and a function's name. */
#define SSP_VM_SOURCE_MAX (128 * 1024)
#define SSP_VM_NAME_MAX 64

/*
 * Per tx, whatever the block allows. Bounded so that what a tx can make Lua
 * allocate uncharged (table internals, ~48 bytes per gas) stays well under
 * the VM's per-node memory cap (4 x 32 MiB): a tx near any cap could pass on
 * one node and fail on another.
 */
#define SSP_CONTRACT_GAS_MAX 2000000ULL
#define SSP_CONTRACT_ARGS_MAX (64 * 1024) /* canonical args of a call */

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

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
