/*
 * dpos_record.c — the staking module's state records (proto layer;
 * ssp/proto_dpos.h): the delegate and staker records, the elected-set
 * record and the stake escrow's address, shared by the module
 * (src/modules/dpos*.c), the genesis (src/chain, genesis delegates) and
 * anyone reading a state proof. Layouts in docs/internals/dpos.md; every
 * decoder is strict (SSP_ERR_DBCORRUPT), so one record has one byte string.
 */
#include <string.h>

#include "ssp/proto_dpos.h"

static void put_str(ssp_buf *b, const char *s)
{
	size_t n = strlen(s);
	ssp_buf_u8(b, (uint8_t)n);
	ssp_buf_put(b, s, n);
}

void ssp_dpos_delegate_encode(ssp_buf *b, const ssp_delegate *d)
{
	put_str(b, d->name);
	ssp_buf_u8(b, d->status);
	ssp_buf_u16(b, d->commission_bp);
	put_str(b, d->url);
	ssp_buf_u8(b, d->node_key.type);
	ssp_buf_u8(b, d->node_key.len);
	ssp_buf_put(b, d->node_key.b, d->node_key.len);
	ssp_buf_u64(b, d->self_stake);
	ssp_buf_u64(b, d->votes);
	ssp_buf_put(b, d->onion.b, 32);
	ssp_buf_u64(b, d->registered_height);
	ssp_buf_u64(b, d->updated_height);
	ssp_buf_u8(b, d->slashes);
	ssp_buf_u64(b, d->banned_until_slot);
	ssp_buf_u64(b, d->onion_round);
}

int ssp_dpos_delegate_decode(ssp_delegate *d, const void *key, size_t kl, const void *p, size_t n)
{
	ssp_rd r;
	memset(d, 0, sizeof *d);
	if (kl != SSP_ADDR_LEN) return SSP_ERR_DBCORRUPT;
	memcpy(d->account.b, key, SSP_ADDR_LEN);
	ssp_rd_init(&r, p, n);
	uint8_t nl = ssp_rd_u8(&r);
	const uint8_t *name = nl <= SSP_DPOS_NAME_MAX ? ssp_rd_view(&r, nl) : NULL;
	if (!name || !ssp_dpos_name_valid((const char *)name, nl)) return SSP_ERR_DBCORRUPT;
	memcpy(d->name, name, nl);
	d->status = ssp_rd_u8(&r);
	d->commission_bp = ssp_rd_u16(&r);
	uint8_t ul = ssp_rd_u8(&r);
	const uint8_t *url = ul <= SSP_DPOS_URL_MAX ? ssp_rd_view(&r, ul) : NULL;
	if (r.err || (ul && !url) || !ssp_dpos_url_valid((const char *)url, ul))
		return SSP_ERR_DBCORRUPT;
	if (ul) memcpy(d->url, url, ul);
	uint8_t kt = ssp_rd_u8(&r), klen = ssp_rd_u8(&r);
	const uint8_t *k = klen <= SSP_PUBKEY_MAX ? ssp_rd_view(&r, klen) : NULL;
	if (!k || klen != ssp_pubkey_len(kt) || ssp_pubkey_parse(&d->node_key, kt, k, klen))
		return SSP_ERR_DBCORRUPT;
	d->self_stake = ssp_rd_u64(&r);
	d->votes = ssp_rd_u64(&r);
	ssp_rd_raw(&r, d->onion.b, 32);
	d->registered_height = ssp_rd_u64(&r);
	d->updated_height = ssp_rd_u64(&r);
	d->slashes = ssp_rd_u8(&r);
	d->banned_until_slot = ssp_rd_u64(&r);
	d->onion_round = ssp_rd_u64(&r);
	if (ssp_rd_end(&r) || d->commission_bp > SSP_DPOS_COMMISSION_MAX ||
	    d->status < SSP_DELEGATE_REGISTERED || d->status > SSP_DELEGATE_DEACTIVATED ||
	    /* a deactivated delegate's self-stake stays locked until it registers again */
	    (d->status != SSP_DELEGATE_REGISTERED && d->status != SSP_DELEGATE_DEACTIVATED &&
	     d->self_stake) ||
	    d->slashes > SSP_DPOS_SLASHES_MAX ||
	    (d->status != SSP_DELEGATE_BANNED && d->banned_until_slot))
		return SSP_ERR_DBCORRUPT;
	return 0;
}

void ssp_dpos_staker_encode(ssp_buf *b, const ssp_staker *s)
{
	ssp_buf_u64(b, s->staked);
	ssp_buf_u8(b, (uint8_t)s->nvotes);
	for (uint32_t i = 0; i < s->nvotes; i++)
		ssp_buf_put(b, s->votes[i].b, SSP_ADDR_LEN);
	ssp_buf_u8(b, (uint8_t)s->nunlock);
	for (uint32_t i = 0; i < s->nunlock; i++) {
		ssp_buf_u8(b, s->unlock[i].kind);
		ssp_buf_u64(b, s->unlock[i].amount);
		ssp_buf_u64(b, s->unlock[i].unlock_slot);
	}
}

int ssp_dpos_staker_decode(ssp_staker *s, const void *key, size_t kl, const void *p, size_t n)
{
	ssp_rd r;
	memset(s, 0, sizeof *s);
	if (kl != SSP_ADDR_LEN) return SSP_ERR_DBCORRUPT;
	memcpy(s->account.b, key, SSP_ADDR_LEN);
	ssp_rd_init(&r, p, n);
	s->staked = ssp_rd_u64(&r);
	s->nvotes = ssp_rd_u8(&r);
	if (s->nvotes > SSP_DPOS_VOTES_MAX) return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < s->nvotes; i++)
		ssp_rd_raw(&r, s->votes[i].b, SSP_ADDR_LEN);
	s->nunlock = ssp_rd_u8(&r);
	if (s->nunlock > SSP_DPOS_UNLOCKS_MAX) return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < s->nunlock; i++) {
		s->unlock[i].kind = ssp_rd_u8(&r);
		s->unlock[i].amount = ssp_rd_u64(&r);
		s->unlock[i].unlock_slot = ssp_rd_u64(&r);
		if (s->unlock[i].amount == 0 ||
		    (s->unlock[i].kind != SSP_UNLOCK_VOTE && s->unlock[i].kind != SSP_UNLOCK_SELF))
			return SSP_ERR_DBCORRUPT;
	}
	/* an empty record is deleted, never stored */
	if (ssp_rd_end(&r) || (!s->staked && !s->nvotes && !s->nunlock)) return SSP_ERR_DBCORRUPT;
	return 0;
}

void ssp_dpos_escrow(ssp_addr *out)
{
	ssp_hash h;
	static const char label[] = "smartshare/dpos/stake-escrow";
	ssp_sha256(&h, label, sizeof label - 1);
	memcpy(out->b, h.b, SSP_ADDR_LEN);
}

/* ---------------------------------------------------------- elected sets */

static void member_put(ssp_buf *b, const ssp_dpos_member *m)
{
	ssp_buf_put(b, m->account.b, SSP_ADDR_LEN);
	ssp_buf_u8(b, m->key.type);
	ssp_buf_u8(b, m->key.len);
	ssp_buf_put(b, m->key.b, m->key.len);
	ssp_buf_put(b, m->onion.b, 32);
	ssp_buf_u64(b, m->onion_round);
}

void ssp_dpos_set_encode_full(ssp_buf *b, const ssp_dpos_member *m, size_t n)
{
	if (n == 0 || n > SSP_DPOS_SET_MAX) {
		if (!b->err) b->err = SSP_ERR_INVAL;
		return;
	}
	ssp_buf_u8(b, SSP_DPOS_SET_FULL);
	ssp_buf_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		member_put(b, &m[i]);
}

void ssp_dpos_set_encode_ref(ssp_buf *b, uint64_t ref)
{
	ssp_buf_u8(b, SSP_DPOS_SET_REF);
	ssp_buf_u64(b, ref);
}

int ssp_dpos_set_decode(uint8_t *kind, ssp_dpos_member *m, size_t *n, uint64_t *ref, uint64_t round,
                        const void *p, size_t len)
{
	ssp_rd r;
	*kind = 0;
	*n = 0;
	*ref = 0;
	ssp_rd_init(&r, p, len);
	uint8_t k = ssp_rd_u8(&r);
	if (k == SSP_DPOS_SET_REF) {
		uint64_t to = ssp_rd_u64(&r);
		if (ssp_rd_end(&r) || to >= round) return SSP_ERR_DBCORRUPT;
		*kind = k;
		*ref = to;
		return 0;
	}
	if (k != SSP_DPOS_SET_FULL) return SSP_ERR_DBCORRUPT;
	uint32_t cnt = ssp_rd_u32(&r);
	if (r.err || cnt == 0 || cnt > SSP_DPOS_SET_MAX) return SSP_ERR_DBCORRUPT;
	for (uint32_t i = 0; i < cnt; i++) {
		ssp_dpos_member x;
		memset(&x, 0, sizeof x);
		ssp_rd_raw(&r, x.account.b, SSP_ADDR_LEN);
		uint8_t kt = ssp_rd_u8(&r), kl = ssp_rd_u8(&r);
		const uint8_t *kb = kl <= SSP_PUBKEY_MAX ? ssp_rd_view(&r, kl) : NULL;
		if (!kb || kl != ssp_pubkey_len(kt) || ssp_pubkey_parse(&x.key, kt, kb, kl))
			return SSP_ERR_DBCORRUPT;
		ssp_rd_raw(&r, x.onion.b, 32);
		x.onion_round = ssp_rd_u64(&r);
		if (r.err) return SSP_ERR_DBCORRUPT;
		/* a member listed twice: O(n^2) over at most 1000 members, checked on read only */
		for (uint32_t j = 0; j < i; j++)
			if (!memcmp(m[j].account.b, x.account.b, SSP_ADDR_LEN))
				return SSP_ERR_DBCORRUPT;
		m[i] = x;
	}
	if (ssp_rd_end(&r)) return SSP_ERR_DBCORRUPT;
	*kind = k;
	*n = cnt;
	return 0;
}
