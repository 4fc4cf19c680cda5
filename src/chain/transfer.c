/*
 * transfer.c — the SSP transfer transaction type (chain layer). A transfer
 * out of an account with a grant lock (the foundation) arrives locked at
 * the recipient for that long: the chain, not the foundation, enforces the
 * whitepaper's 24-month lock on ecosystem grants.
 */
#include <string.h>

#include "chain_internal.h"

static int transfer_check(void *mod, const ssp_tx *tx)
{
	(void)mod;
	ssp_transfer t;
	int rc = ssp_transfer_decode(&t, tx->payload, tx->payload_len);
	if (rc) return SSP_ERR_PAYLOAD;
	if (!memcmp(t.to.b, tx->from.b, SSP_ADDR_LEN)) return SSP_ERR_SELF_TRANSFER;
	return 0;
}

static uint64_t transfer_spend(void *mod, const ssp_tx *tx, const ssp_params *p)
{
	(void)mod;
	(void)p;
	ssp_transfer t;
	return ssp_transfer_decode(&t, tx->payload, tx->payload_len) ? 0 : t.amount;
}

static int transfer_apply(ssp_txctx *c, const ssp_tx *tx)
{
	ssp_transfer t;
	ssp_account from;
	int rc = ssp_transfer_decode(&t, tx->payload, tx->payload_len);
	if (rc) return SSP_ERR_PAYLOAD;
	rc = ssp_state_account(c->st, &tx->from, &from);
	if (rc) return rc;
	if (from.balance < t.amount) return from.locked ? SSP_ERR_LOCKED : SSP_ERR_BALANCE;
	from.balance -= t.amount;
	rc = ssp_state_set_account(c->st, &tx->from, &from);
	if (rc) return rc;
	uint64_t unlock = 0;
	if (from.grant_lock_ms && ssp_add_u64(&unlock, c->time_ms, from.grant_lock_ms))
		return SSP_ERR_OVERFLOW;
	return ssp_state_credit(c->st, &t.to, t.amount, unlock);
}

static json_t *transfer_json(const ssp_tx *tx, const char *hrp)
{
	ssp_transfer t;
	char to[96], amt[SSP_AMOUNT_STR];
	if (ssp_transfer_decode(&t, tx->payload, tx->payload_len)) return NULL;
	ssp_addr_encode(to, sizeof to, hrp, &t.to);
	ssp_amount_format(amt, sizeof amt, t.amount, SSP_DECIMALS);
	return json_pack("{s:s, s:s, s:s%}", "to", to, "amount", amt, "memo", (const char *)t.memo,
	                 (size_t)t.memo_len);
}

const ssp_txtype ssp_transfer_type = {
    .id = SSP_TX_TRANSFER,
    .name = "transfer",
    .check = transfer_check,
    .spend = transfer_spend,
    .apply = transfer_apply,
    .to_json = transfer_json,
};
