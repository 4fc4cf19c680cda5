/*
 * account.c — the account record (proto layer): the value the chain keeps
 * under SSP_TB_ACCOUNT ‖ address, encoded and strictly decoded. The chain
 * reads and writes its state with it; a wallet (`ssp proof account`) or a
 * device decodes a value it has proven against a header's state_root.
 */
#include <string.h>

#include "ssp/proto.h"

void ssp_account_encode(ssp_buf *b, const ssp_account *a)
{
	ssp_buf_u64(b, a->balance);
	ssp_buf_u64(b, a->locked);
	ssp_buf_u64(b, a->nonce);
	ssp_buf_u64(b, a->grant_lock_ms);
	ssp_buf_u8(b, a->has_key);
	if (a->has_key) {
		ssp_buf_u8(b, a->key.type);
		ssp_buf_put(b, a->key.b, a->key.len);
	}
	/* flags: present only when non-zero (bit 0 restricted) */
	if (a->restricted) ssp_buf_u8(b, 1);
}

int ssp_account_decode(ssp_account *a, const void *p, size_t n)
{
	ssp_rd r;
	memset(a, 0, sizeof *a);
	ssp_rd_init(&r, p, n);
	a->balance = ssp_rd_u64(&r);
	a->locked = ssp_rd_u64(&r);
	a->nonce = ssp_rd_u64(&r);
	a->grant_lock_ms = ssp_rd_u64(&r);
	a->has_key = ssp_rd_bool(&r);
	if (a->has_key) {
		a->key.type = ssp_rd_u8(&r);
		a->key.len = (uint8_t)ssp_pubkey_len(a->key.type);
		if (!a->key.len) return SSP_ERR_DBCORRUPT;
		ssp_rd_raw(&r, a->key.b, a->key.len);
	}
	if (!r.err && r.off < r.len) {
		/* the flags byte: only bit 0 defined, and only present when non-zero */
		uint8_t f = ssp_rd_u8(&r);
		if (f != 1) return SSP_ERR_DBCORRUPT;
		a->restricted = true;
	}
	return ssp_rd_end(&r) ? SSP_ERR_DBCORRUPT : 0;
}
