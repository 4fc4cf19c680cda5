/*
 * contract_state.c — the contract module's state tables (modules layer):
 * code (address -> code hash and source), meta (address -> creator,
 * deploy height and nonce, ABI) and the storage key layout. Everything goes
 * through ssp_state, so a tx's writes live in the block's overlay (the
 * per-tx journal with savepoints) and reach LMDB only with the block.
 */
#include <stdlib.h>
#include <string.h>

#include "contract_internal.h"

#define META_MAX (64 * 1024)
#define SHORT_KEY_MAX (SSP_STATE_KEY_MAX - SSP_ADDR_LEN - 1)

int contract_storage_key(uint8_t *out, size_t *outlen, const ssp_addr *a, const uint8_t *key,
                         size_t kl)
{
	if (kl > SSP_CONTRACT_STORAGE_KEY_MAX) return SSP_ERR_TOOBIG;
	memcpy(out, a->b, SSP_ADDR_LEN);
	if (kl <= SHORT_KEY_MAX) {
		out[SSP_ADDR_LEN] = 0;
		if (kl) memcpy(out + SSP_ADDR_LEN + 1, key, kl);
		*outlen = SSP_ADDR_LEN + 1 + kl;
	} else {
		/* long keys are hashed; the form byte keeps the two spaces apart */
		ssp_hash h;
		ssp_sha256(&h, key, kl);
		out[SSP_ADDR_LEN] = 1;
		memcpy(out + SSP_ADDR_LEN + 1, h.b, 32);
		*outlen = SSP_ADDR_LEN + 1 + 32;
	}
	return 0;
}

int contract_exists(ssp_state *st, const ssp_addr *a)
{
	const void *v;
	size_t vl;
	return ssp_state_get(st, SSP_TB_CONTRACT_CODE, a->b, SSP_ADDR_LEN, &v, &vl) == 0;
}

int contract_store_new(ssp_state *st, const ssp_addr *a, const ssp_hash *code_hash,
                       const uint8_t *src, size_t n, const ssp_addr *creator, uint64_t height,
                       uint64_t nonce, const ssp_vm_abi *abi)
{
	ssp_buf b;
	int rc;
	if (contract_exists(st, a)) return SSP_ERR_EXISTS;
	ssp_buf_init(&b, SSP_STATE_VAL_MAX);
	ssp_buf_put(&b, code_hash->b, 32);
	ssp_buf_put(&b, src, n);
	rc = b.err ? b.err
	           : ssp_state_put(st, SSP_TB_CONTRACT_CODE, a->b, SSP_ADDR_LEN, b.data, b.len);
	if (rc) goto out;
	/* meta: creator | u64 height | u64 nonce | u8 has_init | u16 n | (u8 len + name | u8 kind)*
	 */
	ssp_buf_reset(&b);
	b.max = META_MAX;
	ssp_buf_put(&b, creator->b, SSP_ADDR_LEN);
	ssp_buf_u64(&b, height);
	ssp_buf_u64(&b, nonce);
	ssp_buf_u8(&b, abi->has_init);
	if (abi->nfns > UINT16_MAX) {
		rc = SSP_ERR_TOOBIG;
		goto out;
	}
	ssp_buf_u16(&b, (uint16_t)abi->nfns);
	for (size_t i = 0; i < abi->nfns; i++) {
		size_t nl = strnlen(abi->fns[i].name, SSP_VM_NAME_MAX + 1);
		if (nl == 0 || nl > SSP_VM_NAME_MAX) {
			rc = SSP_ERR_INVAL;
			goto out;
		}
		ssp_buf_u8(&b, (uint8_t)nl);
		ssp_buf_put(&b, abi->fns[i].name, nl);
		ssp_buf_u8(&b, abi->fns[i].kind);
	}
	rc = b.err ? b.err
	           : ssp_state_put(st, SSP_TB_CONTRACT_META, a->b, SSP_ADDR_LEN, b.data, b.len);
out:
	ssp_buf_free(&b);
	return rc;
}

static int meta_decode(ssp_contract_info *ci, const uint8_t *p, size_t n)
{
	ssp_rd r;
	ssp_rd_init(&r, p, n);
	ssp_rd_raw(&r, ci->creator.b, SSP_ADDR_LEN);
	ci->height = ssp_rd_u64(&r);
	ci->nonce = ssp_rd_u64(&r);
	ci->abi.has_init = ssp_rd_bool(&r) == 1;
	uint16_t nf = ssp_rd_u16(&r);
	if (r.err) return SSP_ERR_DBCORRUPT;
	ci->abi.fns = ssp_calloc(nf ? nf : 1, sizeof *ci->abi.fns);
	if (!ci->abi.fns) return SSP_ERR_NOMEM;
	for (uint16_t i = 0; i < nf; i++) {
		uint8_t nl = ssp_rd_u8(&r);
		const uint8_t *name = ssp_rd_view(&r, nl);
		uint8_t kind = ssp_rd_u8(&r);
		if (r.err || nl == 0 || nl > SSP_VM_NAME_MAX) return SSP_ERR_DBCORRUPT;
		memcpy(ci->abi.fns[i].name, name, nl);
		ci->abi.fns[i].name[nl] = 0;
		ci->abi.fns[i].kind = kind;
		ci->abi.nfns++;
	}
	return ssp_rd_end(&r) ? SSP_ERR_DBCORRUPT : 0;
}

int ssp_contract_get(ssp_state *st, const ssp_addr *a, ssp_contract_info *out)
{
	const void *v;
	size_t vl;
	memset(out, 0, sizeof *out);
	int rc = ssp_state_get(st, SSP_TB_CONTRACT_CODE, a->b, SSP_ADDR_LEN, &v, &vl);
	if (rc) return rc;
	if (vl < 32) return SSP_ERR_DBCORRUPT;
	memcpy(out->code_hash.b, v, 32);
	out->src = (const uint8_t *)v + 32;
	out->src_len = vl - 32;
	rc = ssp_state_get(st, SSP_TB_CONTRACT_META, a->b, SSP_ADDR_LEN, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) rc = SSP_ERR_DBCORRUPT;
	if (!rc) rc = meta_decode(out, v, vl);
	if (rc) {
		ssp_vm_abi_free(&out->abi);
		memset(out, 0, sizeof *out);
	}
	return rc;
}
