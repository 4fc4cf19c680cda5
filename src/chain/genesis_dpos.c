/*
 * genesis_dpos.c — the genesis delegates' state (chain layer): the
 * "delegates" of the genesis "dpos" object become registered delegates at
 * height 0, in the staking module's own records (their codecs are
 * libssp_proto's, ssp/proto_dpos.h, so the chain needs no module for it and
 * a chain opened without modules has the same genesis state root). Each
 * delegate's self-stake and stake leave its address's balance for the stake
 * escrow and the module's "held" total grows by them, so the supply
 * invariant and ssp_dpos_check hold from height 0. A delegate with a stake
 * votes for itself: a staker record and the reward record a vote set needs
 * (owed 0 and one snapshot of the accumulator, 0 at genesis; the layout of
 * src/modules/dpos_reward.c, docs/internals/dpos.md).
 */
#include <string.h>

#include "genesis_internal.h"

static int put_rec(ssp_state *st, uint8_t table, const void *k, size_t kl, ssp_buf *b)
{
	int rc = b->err ? b->err : ssp_state_put(st, table, k, kl, b->data, b->len);
	ssp_buf_reset(b);
	return rc;
}

static int one_delegate(ssp_state *st, const ssp_genesis_delegate *gd, ssp_buf *b)
{
	ssp_account a;
	uint64_t total = gd->self_stake + gd->stake; /* checked at parse: no wrap */
	int rc = ssp_state_account(st, &gd->addr, &a);
	if (rc) return rc;
	if (a.balance < total) return SSP_ERR_GENESIS; /* the parser checked the allocations */
	a.balance -= total;
	if ((rc = ssp_state_set_account(st, &gd->addr, &a))) return rc;

	ssp_delegate d;
	memset(&d, 0, sizeof d);
	d.account = gd->addr;
	memcpy(d.name, gd->name, sizeof d.name);
	d.status = SSP_DELEGATE_REGISTERED;
	d.node_key = gd->node_key;
	d.self_stake = gd->self_stake;
	d.votes = gd->stake;
	d.onion = gd->onion;
	d.onion_round = UINT64_MAX; /* round -1: its block in round r reveals element r + 1 */
	ssp_dpos_delegate_encode(b, &d);
	if ((rc = put_rec(st, SSP_TB_DPOS_DELEGATE, d.account.b, SSP_ADDR_LEN, b)) ||
	    (rc = ssp_state_put(st, SSP_TB_DPOS_NAME, d.name, strlen(d.name), d.account.b,
	                        SSP_ADDR_LEN)))
		return rc;
	if (!gd->stake) return 0;
	ssp_staker s;
	memset(&s, 0, sizeof s);
	s.account = gd->addr;
	s.staked = gd->stake;
	s.nvotes = 1;
	s.votes[0] = gd->addr;
	ssp_dpos_staker_encode(b, &s);
	if ((rc = put_rec(st, SSP_TB_DPOS_STAKER, s.account.b, SSP_ADDR_LEN, b))) return rc;
	/* the reward record: u64 owed 0 | u8 1 | u128 snap 0 */
	uint8_t r[8 + 1 + 16] = {0};
	r[8] = 1;
	return ssp_state_put(st, SSP_TB_DPOS_REWARD, gd->addr.b, SSP_ADDR_LEN, r, sizeof r);
}

int genesis_dpos_state(const ssp_genesis *g, ssp_state *st)
{
	ssp_account e;
	ssp_addr ea;
	ssp_buf b;
	uint64_t held = 0;
	uint8_t v[8];
	int rc = 0;
	if (!g->ndelegates) return 0;
	ssp_buf_init(&b, 4096);
	for (size_t i = 0; i < g->ndelegates && !rc; i++) {
		rc = one_delegate(st, &g->delegates[i], &b);
		if (!rc) rc = ssp_add_u64(&held, held, g->delegates[i].self_stake);
		if (!rc) rc = ssp_add_u64(&held, held, g->delegates[i].stake);
	}
	ssp_buf_free(&b);
	ssp_dpos_escrow(&ea);
	if (rc || (rc = ssp_state_account(st, &ea, &e)) ||
	    (rc = ssp_add_u64(&e.balance, e.balance, held)) ||
	    (rc = ssp_state_set_account(st, &ea, &e)))
		return rc;
	ssp_le64_put(v, held);
	return ssp_state_put(st, SSP_TB_DPOS_META, "held", 4, v, 8);
}
