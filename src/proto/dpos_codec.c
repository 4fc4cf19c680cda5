/*
 * dpos_codec.c — the staking module's wire formats (proto layer): delegate
 * names and URLs and the payload codec of every staking tx (layouts in
 * docs/internals/dpos.md). Decoding is strict: one byte string per value.
 */
#include <string.h>

#include "ssp/proto_dpos.h"

int ssp_dpos_name_valid(const char *s, size_t n)
{
	if (!s || n < SSP_DPOS_NAME_MIN || n > SSP_DPOS_NAME_MAX) return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
		if (i == 0 ? !lower : !(lower || digit || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int ssp_dpos_url_valid(const char *s, size_t n)
{
	if (n > SSP_DPOS_URL_MAX || (n && !s)) return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) return 0;
	return 1;
}

static bool is_dpos_type(uint16_t type)
{
	return type >= SSP_TX_DELEGATE_REGISTER && type <= SSP_TX_EVIDENCE_VOTES;
}

static bool amount_ok(uint64_t v)
{
	return v > 0 && v <= INT64_MAX;
}

static void put_str(ssp_buf *b, const char *s, size_t n)
{
	ssp_buf_u8(b, (uint8_t)n);
	ssp_buf_put(b, s, n);
}

static void put_key(ssp_buf *b, const ssp_pubkey *k)
{
	ssp_buf_u8(b, k->type);
	ssp_buf_u8(b, k->len);
	ssp_buf_put(b, k->b, k->len);
}

static int rd_name(ssp_rd *r, char *out)
{
	uint8_t n = ssp_rd_u8(r);
	const uint8_t *p = n <= SSP_DPOS_NAME_MAX ? ssp_rd_view(r, n) : NULL;
	if (!p || !ssp_dpos_name_valid((const char *)p, n)) return SSP_ERR_PAYLOAD;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

static int rd_url(ssp_rd *r, char *out)
{
	uint8_t n = ssp_rd_u8(r);
	const uint8_t *p = n <= SSP_DPOS_URL_MAX ? ssp_rd_view(r, n) : NULL;
	if ((!p && n) || r->err || !ssp_dpos_url_valid((const char *)p, n)) return SSP_ERR_PAYLOAD;
	if (n) memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

static int rd_key(ssp_rd *r, ssp_pubkey *k)
{
	uint8_t type = ssp_rd_u8(r), len = ssp_rd_u8(r);
	const uint8_t *p = len <= SSP_PUBKEY_MAX ? ssp_rd_view(r, len) : NULL;
	if (!p || len == 0 || len != ssp_pubkey_len(type)) return SSP_ERR_PAYLOAD;
	return ssp_pubkey_parse(k, type, p, len) ? SSP_ERR_PAYLOAD : 0;
}

void ssp_dpos_payload_encode(ssp_buf *b, uint16_t type, const ssp_dpos_payload *p)
{
	size_t nl = strnlen(p->name, sizeof p->name), ul = strnlen(p->url, sizeof p->url);
	bool ok = is_dpos_type(type);
	if (type == SSP_TX_DELEGATE_REGISTER || type == SSP_TX_DELEGATE_UPDATE)
		ok = ok && p->commission_bp <= SSP_DPOS_COMMISSION_MAX &&
		     ssp_dpos_url_valid(p->url, ul) && p->node_key.len &&
		     p->node_key.len == ssp_pubkey_len(p->node_key.type);
	if (type == SSP_TX_DELEGATE_REGISTER)
		ok = ok && ssp_dpos_name_valid(p->name, nl) && amount_ok(p->amount);
	if (type == SSP_TX_DELEGATE_UPDATE) ok = ok && p->amount <= INT64_MAX;
	if (type == SSP_TX_STAKE || type == SSP_TX_UNSTAKE) ok = ok && amount_ok(p->amount);
	if (type == SSP_TX_EVIDENCE) {
		ok = ok && ssp_dpos_name_valid(p->name, nl);
		for (int i = 0; ok && i < 2; i++) {
			ssp_header h;
			ok = p->header[i] && p->header_len[i] <= SSP_DPOS_HEADER_MAX &&
			     !ssp_header_decode(&h, p->header[i], p->header_len[i]);
		}
	}
	if (type == SSP_TX_EVIDENCE_VOTES)
		ok = ok && ssp_dpos_name_valid(p->name, nl) &&
		     p->vote[0].src_height < p->vote[0].tgt_height &&
		     p->vote[1].src_height < p->vote[1].tgt_height;
	if (type == SSP_TX_VOTE) {
		ok = ok && p->nvotes <= SSP_DPOS_VOTES_MAX;
		for (uint32_t i = 0; ok && i < p->nvotes; i++)
			ok = ssp_dpos_name_valid(p->votes[i],
			                         strnlen(p->votes[i], sizeof p->votes[i]));
	}
	if (!ok) {
		if (!b->err) b->err = SSP_ERR_INVAL;
		return;
	}
	switch (type) {
	case SSP_TX_DELEGATE_REGISTER:
		put_str(b, p->name, nl);
		/* fall through */
	case SSP_TX_DELEGATE_UPDATE:
		ssp_buf_u16(b, p->commission_bp);
		put_str(b, p->url, ul);
		put_key(b, &p->node_key);
		ssp_buf_u64(b, p->amount);
		if (type == SSP_TX_DELEGATE_REGISTER) ssp_buf_put(b, p->onion.b, 32);
		break;
	case SSP_TX_STAKE:
	case SSP_TX_UNSTAKE:
		ssp_buf_u64(b, p->amount);
		break;
	case SSP_TX_VOTE:
		ssp_buf_u8(b, (uint8_t)p->nvotes);
		for (uint32_t i = 0; i < p->nvotes; i++)
			put_str(b, p->votes[i], strlen(p->votes[i]));
		break;
	case SSP_TX_EVIDENCE:
		put_str(b, p->name, nl);
		for (int i = 0; i < 2; i++) {
			ssp_buf_u32(b, p->header_len[i]);
			ssp_buf_put(b, p->header[i], p->header_len[i]);
		}
		break;
	case SSP_TX_EVIDENCE_VOTES:
		put_str(b, p->name, nl);
		for (int i = 0; i < 2; i++) {
			uint8_t l[SSP_VOTE_LINK_LEN];
			ssp_vote_link_encode(l, &p->vote[i]);
			ssp_buf_put(b, l, sizeof l);
			ssp_buf_put(b, p->vote_sig[i].b, SSP_SIG_LEN);
		}
		break;
	default: /* unregister, withdraw, rewards_claim: empty */
		break;
	}
}

int ssp_dpos_payload_decode(ssp_dpos_payload *p, uint16_t type, const uint8_t *buf, size_t n)
{
	ssp_rd r;
	memset(p, 0, sizeof *p);
	if (!is_dpos_type(type)) return SSP_ERR_TXTYPE;
	ssp_rd_init(&r, buf, n);
	switch (type) {
	case SSP_TX_DELEGATE_REGISTER:
		if (rd_name(&r, p->name)) return SSP_ERR_PAYLOAD;
		/* fall through */
	case SSP_TX_DELEGATE_UPDATE:
		p->commission_bp = ssp_rd_u16(&r);
		if (p->commission_bp > SSP_DPOS_COMMISSION_MAX || rd_url(&r, p->url) ||
		    rd_key(&r, &p->node_key))
			return SSP_ERR_PAYLOAD;
		p->amount = ssp_rd_u64(&r);
		if (type == SSP_TX_DELEGATE_REGISTER) {
			ssp_rd_raw(&r, p->onion.b, 32);
			if (!amount_ok(p->amount)) return SSP_ERR_PAYLOAD;
		} else if (p->amount > INT64_MAX) {
			return SSP_ERR_PAYLOAD;
		}
		break;
	case SSP_TX_STAKE:
	case SSP_TX_UNSTAKE:
		p->amount = ssp_rd_u64(&r);
		if (!r.err && !amount_ok(p->amount)) return SSP_ERR_PAYLOAD;
		break;
	case SSP_TX_VOTE:
		p->nvotes = ssp_rd_u8(&r);
		if (p->nvotes > SSP_DPOS_VOTES_MAX) return SSP_ERR_PAYLOAD;
		for (uint32_t i = 0; i < p->nvotes; i++)
			if (rd_name(&r, p->votes[i])) return SSP_ERR_PAYLOAD;
		break;
	case SSP_TX_EVIDENCE:
		if (rd_name(&r, p->name)) return SSP_ERR_PAYLOAD;
		for (int i = 0; i < 2; i++) {
			ssp_header h;
			p->header_len[i] = ssp_rd_u32(&r);
			p->header[i] = p->header_len[i] <= SSP_DPOS_HEADER_MAX
			                   ? ssp_rd_view(&r, p->header_len[i])
			                   : NULL;
			if (!p->header[i] || ssp_header_decode(&h, p->header[i], p->header_len[i]))
				return SSP_ERR_PAYLOAD;
		}
		break;
	case SSP_TX_EVIDENCE_VOTES:
		if (rd_name(&r, p->name)) return SSP_ERR_PAYLOAD;
		for (int i = 0; i < 2; i++) {
			const uint8_t *v = ssp_rd_view(&r, SSP_DPOS_VOTE_LEN);
			if (!v) return SSP_ERR_PAYLOAD;
			ssp_vote_link_decode(&p->vote[i], v);
			memcpy(p->vote_sig[i].b, v + SSP_VOTE_LINK_LEN, SSP_SIG_LEN);
			/* not a vote anyone can sign (bftc refuses it too) */
			if (p->vote[i].src_height >= p->vote[i].tgt_height) return SSP_ERR_PAYLOAD;
		}
		break;
	default:
		break;
	}
	return ssp_rd_end(&r) ? SSP_ERR_PAYLOAD : 0;
}
