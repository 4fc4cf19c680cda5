/*
 * device_internal.h — what the files of the device module share (modules
 * layer, private): record codecs and the tx-type and RPC tables device.c
 * assembles into ssp_device_module.
 */
#ifndef SSP_DEVICE_INTERNAL_H
#define SSP_DEVICE_INTERNAL_H

#include "ssp/device.h"

#define DEVICE_NTXTYPES 10
#define DEVICE_NMETHODS 5

extern const ssp_txtype *const ssp_device_txtypes[DEVICE_NTXTYPES];
extern const ssp_rpc_method ssp_device_methods[DEVICE_NMETHODS];

/* Strict record codecs (SSP_ERR_DBCORRUPT on anything off). */
void device_mfr_encode(ssp_buf *b, const ssp_mfr *m);
SSP_WUR int device_mfr_decode(ssp_mfr *m, const void *key, size_t kl, const void *p, size_t n);
SSP_WUR int device_model_decode(ssp_model *m, const void *key, size_t kl, const void *p,
                                size_t n);

/* What a batch revocation of n devices moves to the pool on top of its fee. */
uint64_t device_batch_extra(const ssp_params *params, uint32_t n);

/* The tx operations (device.c); the sender is tx->from. */
SSP_WUR int device_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_device_payload *p);

#endif
