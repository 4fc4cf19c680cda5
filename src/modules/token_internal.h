/*
 * token_internal.h — what the files of the IOT_Coin module share (modules
 * layer, private): the state-record codec, the name check, and the tx-type
 * and RPC tables that token.c assembles into ssp_token_module.
 */
#ifndef SSP_TOKEN_INTERNAL_H
#define SSP_TOKEN_INTERNAL_H

#include "ssp/token.h"

#define TOKEN_NTXTYPES 6
#define TOKEN_NMETHODS 4

extern const ssp_txtype *const ssp_token_txtypes[TOKEN_NTXTYPES];
extern const ssp_rpc_method ssp_token_methods[TOKEN_NMETHODS];

/*
 * Token record (the value under SSP_TB_TOKEN / symbol):
 *   u8 len + name | u8 decimals | u64 max_supply | u64 supply | issuer[20] |
 *   u32 flags | u64 created_height
 * The symbol is the key. Decoding is strict (SSP_ERR_DBCORRUPT).
 */
void ssp_token_record_encode(ssp_buf *b, const ssp_token_info *t);
SSP_WUR int ssp_token_record_decode(ssp_token_info *t, const char *symbol, size_t slen,
                                    const void *p, size_t n);

#endif
