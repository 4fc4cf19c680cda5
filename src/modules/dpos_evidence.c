/*
 * dpos_evidence.c — double-signing evidence and slashing (modules layer;
 * ssp/dpos.h, ARCHITECTURE §6): tx 0x48 carries a delegate's name and two
 * block headers its node key signed for the same slot; tx 0x49 two BFT
 * finality votes its node key signed that conflict (a double vote: one
 * target height, two links; or a surround vote). Anyone may submit them
 * within evidence_slots (0x48: of the slot; 0x49: blocks of the higher
 * target height, see dpos_evidence_votes_apply); honest nodes do it
 * themselves (src/node/evidence.c). The chain checks both signatures
 * against the delegate's node key, then takes SSP_DPOS_SLASH_BP (10%) of
 * its self-stake — half back to the pool, half to the reporter — bans it
 * for ban_slots (for good after SSP_DPOS_SLASHES_MAX slashes) and starts
 * the rest of its self-stake unlocking, as an unregistration would. One
 * offence is punished once (SSP_TB_DPOS_EVIDENCE: a slot's two blocks, or
 * the votes with one higher target height).
 *
 * What is slashed: the self-stake of a registered delegate, or, when it
 * has already left (unregistered or banned), its self-stake still
 * unlocking — so unregistering right after double signing does not escape
 * the slash while the evidence window is open (the self-stake unlock
 * delay and the window are both 28 days on mainnet).
 */
#include <string.h>

#include "dpos_internal.h"

/* The two headers: decoded, same slot and producer, different blocks, both signed by key. */
static int check_pair(const dpos_chain *dc, const ssp_dpos_payload *p, const ssp_delegate *d,
                      uint64_t now_slot, uint64_t *slot)
{
	ssp_header h[2];
	ssp_addr node;
	for (int i = 0; i < 2; i++)
		if (ssp_header_decode(&h[i], p->header[i], p->header_len[i]))
			return SSP_ERR_PAYLOAD;
	ssp_addr_from_pubkey(&node, &d->node_key);
	if (h[0].slot != h[1].slot || !memcmp(h[0].id.b, h[1].id.b, 32) ||
	    memcmp(h[0].producer.b, node.b, SSP_ADDR_LEN) ||
	    memcmp(h[1].producer.b, node.b, SSP_ADDR_LEN))
		return SSP_ERR_DPOS_EVIDENCE;
	/* a slot not reached yet, or too old to be punished */
	if (h[0].slot > now_slot || now_slot - h[0].slot > ssp_genesis_dpos(dc->g)->evidence_slots)
		return SSP_ERR_DPOS_EVIDENCE;
	const char *chain_id = ssp_genesis_chain_id(dc->g);
	for (int i = 0; i < 2; i++)
		if (ssp_header_check_sig(&h[i], chain_id, &d->node_key))
			return SSP_ERR_DPOS_EVIDENCE;
	*slot = h[0].slot;
	return 0;
}

/* Takes up to `want` from the delegate's self-stake, else from its unlocking self-stake. */
static void take_self(ssp_delegate *d, ssp_staker *s, uint64_t want, uint64_t *took)
{
	uint64_t from_stake = d->self_stake < want ? d->self_stake : want;
	d->self_stake -= from_stake;
	*took = from_stake;
	uint32_t keep = 0;
	for (uint32_t i = 0; i < s->nunlock; i++) {
		ssp_unlock *u = &s->unlock[i];
		if (u->kind == SSP_UNLOCK_SELF && *took < want) {
			uint64_t t = u->amount < want - *took ? u->amount : want - *took;
			u->amount -= t;
			*took += t;
		}
		if (u->amount) s->unlock[keep++] = *u;
	}
	s->nunlock = keep;
}

/*
 * Records the offence (key k[0..kl) in SSP_TB_DPOS_EVIDENCE: DPOS_PUNISHED when
 * it is there) and slashes delegate d: the rule both evidence txs share.
 * One incident, one ban: an offence of a banned delegate made before the ban
 * began (covered: the callers tell, by slot or by height) is covered by that
 * ban (DPOS_PUNISHED). Without it, honest nodes that each saw another half
 * of one incident (a double block here, a double vote there) would slash
 * it several times over, and three reports of one incident ban for good.
 */
static int punish(ssp_txctx *c, const ssp_tx *tx, ssp_delegate *d, const uint8_t *k, size_t kl,
                  bool covered)
{
	const dpos_chain *dc = c->mod;
	const ssp_dpos_params *dp = ssp_genesis_dpos(dc->g);
	ssp_staker s;
	uint64_t now = dpos_slot_of(dc->g, c->time_ms);
	const void *v;
	size_t vl;
	if (d->status == SSP_DELEGATE_BANNED && covered) return SSP_ERR_DPOS_PUNISHED;
	int rc = ssp_state_get(c->st, SSP_TB_DPOS_EVIDENCE, k, kl, &v, &vl);
	if (!rc) return SSP_ERR_DPOS_PUNISHED;
	if (rc != SSP_ERR_NOTFOUND) return rc;
	uint8_t hv[8];
	ssp_le64_put(hv, c->height);
	if ((rc = ssp_state_put(c->st, SSP_TB_DPOS_EVIDENCE, k, kl, hv, 8)) ||
	    (rc = ssp_dpos_staker_get(c->st, &d->account, &s)))
		return rc;

	/* 10% of everything it has at stake as a delegate */
	uint64_t at_stake = d->self_stake, took;
	for (uint32_t i = 0; i < s.nunlock; i++)
		if (s.unlock[i].kind == SSP_UNLOCK_SELF &&
		    (rc = ssp_add_u64(&at_stake, at_stake, s.unlock[i].amount)))
			return SSP_ERR_DBCORRUPT;
	uint64_t cut = (uint64_t)((unsigned __int128)at_stake * SSP_DPOS_SLASH_BP / 10000);
	take_self(d, &s, cut, &took);

	/* banned: out of the ranking; what is left of its self-stake starts unlocking */
	if (d->status == SSP_DELEGATE_REGISTERED && d->self_stake) {
		uint64_t at;
		if ((rc = ssp_add_u64(&at, now, dp->self_unlock_slots))) return rc;
		rc = dpos_add_unlock(&s, SSP_UNLOCK_SELF, d->self_stake, at);
		if (rc == SSP_ERR_DPOS_UNLOCKS) {
			/* all 16 entries in use (a delegate cannot escape a slash by filling
			 * them): it joins the entry that unlocks last, and unlocks with it or
			 * at `at`, whichever is later */
			ssp_unlock *last = &s.unlock[0];
			for (uint32_t i = 1; i < s.nunlock; i++)
				if (s.unlock[i].unlock_slot > last->unlock_slot)
					last = &s.unlock[i];
			rc = ssp_add_u64(&last->amount, last->amount, d->self_stake);
			last->kind = SSP_UNLOCK_SELF;
			if (last->unlock_slot < at) last->unlock_slot = at;
		}
		if (rc) return rc;
		d->self_stake = 0;
	}
	if (d->slashes < SSP_DPOS_SLASHES_MAX) d->slashes++;
	d->status = SSP_DELEGATE_BANNED;
	if (d->slashes >= SSP_DPOS_SLASHES_MAX ||
	    ssp_add_u64(&d->banned_until_slot, now, dp->ban_slots))
		d->banned_until_slot = UINT64_MAX;
	d->updated_height = c->height;
	if ((rc = dpos_put_delegate(c->st, d)) || (rc = dpos_put_staker(c->st, &s))) return rc;

	/* the slashed SSP leaves the stake escrow: half to the pool, half to the reporter */
	if (!took) return 0;
	uint64_t to_pool = took / 2;
	if ((rc = dpos_escrow_take(c->st, took)) || (rc = ssp_state_pool_add(c->st, to_pool)))
		return rc;
	return ssp_state_credit(c->st, &tx->from, took - to_pool, 0);
}

int dpos_evidence_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	const dpos_chain *dc = c->mod;
	ssp_delegate d;
	uint64_t now = dpos_slot_of(dc->g, c->time_ms), slot;
	int rc = ssp_dpos_delegate_by_name(c->st, p->name, &d);
	if (rc == SSP_ERR_NOTFOUND) return SSP_ERR_DPOS_UNKNOWN;
	if (rc || (rc = check_pair(dc, p, &d, now, &slot))) return rc;
	/* once per delegate and slot */
	uint8_t k[SSP_ADDR_LEN + 8];
	memcpy(k, d.account.b, SSP_ADDR_LEN);
	ssp_be64_put(k + SSP_ADDR_LEN, slot);
	/* the ban began at banned_until - ban_slots (for good: every offence is covered) */
	uint64_t ban = ssp_genesis_dpos(dc->g)->ban_slots;
	bool covered = d.banned_until_slot == UINT64_MAX ||
	               (d.banned_until_slot >= ban && slot <= d.banned_until_slot - ban);
	return punish(c, tx, &d, k, sizeof k, covered);
}

/*
 * Tx 0x49: two votes signed by the named delegate's current node key that
 * conflict (ssp_votes_conflict: a double vote or a surround vote). Votes
 * carry heights, not slots, so the window is in blocks: the higher target
 * height plus evidence_slots must reach the evidence tx's height (a block
 * takes a slot at least, so this never refuses what the slot rule of 0x48
 * would accept for the same age). A target above the current height is
 * accepted: it is the delegate's signature all the same (on a branch this
 * chain did not take). The offence is the higher target height: the key
 * account ‖ 'V' ‖ u64 BE height (29 bytes: never one of 0x48's 28-byte keys),
 * so the same double vote, or another vote surrounding or doubling one of
 * those two at that height, is punished once.
 */
int dpos_evidence_votes_apply(ssp_txctx *c, const ssp_tx *tx, const ssp_dpos_payload *p)
{
	const dpos_chain *dc = c->mod;
	ssp_delegate d;
	int rc = ssp_dpos_delegate_by_name(c->st, p->name, &d);
	if (rc == SSP_ERR_NOTFOUND) return SSP_ERR_DPOS_UNKNOWN;
	if (rc) return rc;
	if (ssp_votes_conflict(&p->vote[0], &p->vote[1]) == SSP_VOTES_NONE)
		return SSP_ERR_DPOS_EVIDENCE;
	uint64_t hi = p->vote[0].tgt_height > p->vote[1].tgt_height ? p->vote[0].tgt_height
	                                                            : p->vote[1].tgt_height;
	if (hi < c->height && c->height - hi > ssp_genesis_dpos(dc->g)->evidence_slots)
		return SSP_ERR_DPOS_EVIDENCE; /* too old to be punished */
	const char *chain_id = ssp_genesis_chain_id(dc->g);
	for (int i = 0; i < 2; i++) {
		ssp_hash dg;
		ssp_vote_digest(&dg, chain_id, &p->vote[i]);
		if (ssp_verify_digest(&d.node_key, &dg, &p->vote_sig[i]))
			return SSP_ERR_DPOS_EVIDENCE;
	}
	uint8_t k[SSP_ADDR_LEN + 1 + 8];
	memcpy(k, d.account.b, SSP_ADDR_LEN);
	k[SSP_ADDR_LEN] = 'V';
	ssp_be64_put(k + SSP_ADDR_LEN + 1, hi);
	/* while banned, updated_height is the banning block's (a banned delegate cannot update) */
	return punish(c, tx, &d, k, sizeof k,
	              d.banned_until_slot == UINT64_MAX || hi <= d.updated_height);
}

typedef struct {
	const ssp_pubkey *key;
	ssp_delegate found;
	int n; /* 0 none, 1 found, 2 found a registered one (final) */
	int err;
} by_key;

static int visit_by_key(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	by_key *b = arg;
	ssp_delegate d;
	if ((b->err = ssp_dpos_delegate_decode(&d, k, kl, v, vl))) return 1;
	if (!ssp_pubkey_eq(&d.node_key, b->key)) return 0;
	if (b->n == 0 || d.status == SSP_DELEGATE_REGISTERED) {
		b->found = d;
		b->n = d.status == SSP_DELEGATE_REGISTERED ? 2 : 1;
	}
	return b->n == 2;
}

int ssp_dpos_delegate_by_key(const ssp_chain *c, ssp_txn *rt, const ssp_pubkey *key,
                             ssp_delegate *out)
{
	by_key b = {.key = key};
	int rc = ssp_chain_state_scan(c, rt, SSP_TB_DPOS_DELEGATE, NULL, 0, visit_by_key, &b);
	if (rc == 1) rc = b.err;
	if (rc) return rc;
	if (!b.n) return SSP_ERR_NOTFOUND;
	*out = b.found;
	return 0;
}
