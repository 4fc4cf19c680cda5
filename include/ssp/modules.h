/*
 * ssp/modules.h — the public API of libssp_modules: the registry of native
 * modules (tokens, staking, devices, markets, data) the node wires into the
 * chain. Sits above chain.
 */
#ifndef SSP_MODULES_H
#define SSP_MODULES_H

#include "ssp/chain.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The transaction types of every native module, for ssp_chain_open. Static storage. */
const ssp_txtype *const *ssp_modules_txtypes(size_t *n);

#ifdef __cplusplus
}
#endif
#endif
