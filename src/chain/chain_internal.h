/*
 * chain_internal.h — declarations shared inside the chain layer (private).
 */
#ifndef SSP_CHAIN_INTERNAL_H
#define SSP_CHAIN_INTERNAL_H

#include "ssp/chain.h"

extern const ssp_txtype ssp_transfer_type;

#endif
