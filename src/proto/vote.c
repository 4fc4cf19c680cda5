/*
 * vote.c — a BFT finality vote's link, the digest its voter signs and the
 * two slashing conditions between two votes (proto layer, ssp/proto.h):
 * what the node's consensus signs and checks, and what the staking
 * module's vote-evidence tx (0x49) checks, from one definition.
 */
#include <string.h>

#include "ssp/proto.h"

void ssp_vote_link_encode(uint8_t out[SSP_VOTE_LINK_LEN], const ssp_vote_link *l)
{
	ssp_le64_put(out, l->src_height);
	memcpy(out + 8, l->src_id.b, 32);
	ssp_le64_put(out + 40, l->tgt_height);
	memcpy(out + 48, l->tgt_id.b, 32);
}

void ssp_vote_link_decode(ssp_vote_link *l, const uint8_t in[SSP_VOTE_LINK_LEN])
{
	l->src_height = ssp_le64_get(in);
	memcpy(l->src_id.b, in + 8, 32);
	l->tgt_height = ssp_le64_get(in + 40);
	memcpy(l->tgt_id.b, in + 48, 32);
}

void ssp_vote_digest(ssp_hash *d, const char *chain_id, const ssp_vote_link *l)
{
	uint8_t b[SSP_VOTE_LINK_LEN];
	ssp_vote_link_encode(b, l);
	ssp_sig_digest(d, SSP_DOM_VOTE, chain_id, b, sizeof b);
}

ssp_votes_conflict_kind ssp_votes_conflict(const ssp_vote_link *a, const ssp_vote_link *b)
{
	if (a->tgt_height == b->tgt_height)
		return a->src_height == b->src_height && !memcmp(a->src_id.b, b->src_id.b, 32) &&
		               !memcmp(a->tgt_id.b, b->tgt_id.b, 32)
		           ? SSP_VOTES_NONE
		           : SSP_VOTES_DOUBLE;
	if (a->src_height < b->src_height && b->tgt_height < a->tgt_height)
		return SSP_VOTES_SURROUND;
	if (b->src_height < a->src_height && a->tgt_height < b->tgt_height)
		return SSP_VOTES_SURROUND;
	return SSP_VOTES_NONE;
}
