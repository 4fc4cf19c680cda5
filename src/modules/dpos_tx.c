/*
 * dpos_tx.c — the staking module's transaction types 0x40..0x49 (modules
 * layer): check/spend/apply/to_json for each type over the strict payload
 * codec of src/proto/dpos_codec.c. apply runs dpos.c's operations; their
 * error makes the tx invalid (not included, dropped by the mempool), and
 * the chain undoes everything the tx wrote.
 */
#include <string.h>

#include <sodium.h>

#include "dpos_internal.h"

static int dpos_check(void *mod, const ssp_tx *tx)
{
	(void)mod;
	ssp_dpos_payload p;
	return ssp_dpos_payload_decode(&p, tx->type, tx->payload, tx->payload_len) ? SSP_ERR_PAYLOAD
	                                                                           : 0;
}

/* What leaves the sender's balance beyond the fee: a stake or self-stake. */
static uint64_t dpos_spend(void *mod, const ssp_tx *tx, const ssp_params *params)
{
	(void)mod;
	(void)params;
	ssp_dpos_payload p;
	if (ssp_dpos_payload_decode(&p, tx->type, tx->payload, tx->payload_len)) return 0;
	switch (tx->type) {
	case SSP_TX_DELEGATE_REGISTER:
	case SSP_TX_DELEGATE_UPDATE:
	case SSP_TX_STAKE:
		return p.amount;
	default:
		return 0;
	}
}

static int dpos_apply_tx(ssp_txctx *c, const ssp_tx *tx)
{
	ssp_dpos_payload p;
	if (ssp_dpos_payload_decode(&p, tx->type, tx->payload, tx->payload_len))
		return SSP_ERR_PAYLOAD;
	return dpos_apply(c, tx, &p);
}

static void set_amount(json_t *j, const char *key, uint64_t v)
{
	char s[SSP_AMOUNT_STR];
	ssp_amount_format(s, sizeof s, v, SSP_DECIMALS);
	json_object_set_new(j, key, json_string(s));
}

static void set_key(json_t *j, const ssp_pubkey *k)
{
	char s[96];
	ssp_pubkey_text(s, sizeof s, k);
	json_object_set_new(j, "node_key", json_string(s));
}

static json_t *dpos_json(const ssp_tx *tx, const char *hrp)
{
	(void)hrp;
	ssp_dpos_payload p;
	if (ssp_dpos_payload_decode(&p, tx->type, tx->payload, tx->payload_len)) return NULL;
	json_t *j = json_object();
	if (!j) return NULL;
	switch (tx->type) {
	case SSP_TX_DELEGATE_REGISTER: {
		char h[65];
		json_object_set_new(j, "name", json_string(p.name));
		sodium_bin2hex(h, sizeof h, p.onion.b, 32);
		json_object_set_new(j, "onion", json_string(h));
		set_amount(j, "self_stake", p.amount);
	}
		/* fall through */
	case SSP_TX_DELEGATE_UPDATE:
		json_object_set_new(j, "commission_bp", json_integer(p.commission_bp));
		json_object_set_new(j, "url", json_string(p.url));
		set_key(j, &p.node_key);
		if (tx->type == SSP_TX_DELEGATE_UPDATE) set_amount(j, "self_stake_added", p.amount);
		break;
	case SSP_TX_STAKE:
	case SSP_TX_UNSTAKE:
		set_amount(j, "amount", p.amount);
		break;
	case SSP_TX_EVIDENCE: {
		json_object_set_new(j, "delegate", json_string(p.name));
		json_t *hs = json_array();
		for (int i = 0; hs && i < 2; i++) {
			ssp_header h;
			char id[65];
			if (ssp_header_decode(&h, p.header[i], p.header_len[i])) continue;
			sodium_bin2hex(id, sizeof id, h.id.b, 32);
			json_array_append_new(hs, json_pack("{s:I, s:I, s:s}", "height",
			                                    (json_int_t)h.height, "slot",
			                                    (json_int_t)h.slot, "id", id));
		}
		json_object_set_new(j, "headers", hs ? hs : json_null());
		break;
	}
	case SSP_TX_EVIDENCE_VOTES: {
		json_object_set_new(j, "delegate", json_string(p.name));
		json_t *vs = json_array();
		for (int i = 0; vs && i < 2; i++) {
			char src[65], tgt[65];
			sodium_bin2hex(src, sizeof src, p.vote[i].src_id.b, 32);
			sodium_bin2hex(tgt, sizeof tgt, p.vote[i].tgt_id.b, 32);
			json_array_append_new(vs, json_pack("{s:I, s:s, s:I, s:s}", "source_height",
			                                    (json_int_t)p.vote[i].src_height,
			                                    "source_id", src, "target_height",
			                                    (json_int_t)p.vote[i].tgt_height,
			                                    "target_id", tgt));
		}
		json_object_set_new(j, "votes", vs ? vs : json_null());
		break;
	}
	case SSP_TX_VOTE: {
		json_t *v = json_array();
		for (uint32_t i = 0; v && i < p.nvotes; i++)
			json_array_append_new(v, json_string(p.votes[i]));
		json_object_set_new(j, "votes", v ? v : json_null());
		break;
	}
	default:
		break;
	}
	return j;
}

#define DPOS_TYPE(ID, NAME)                                                           \
	{                                                                             \
		.id = (ID), .name = (NAME), .check = dpos_check, .spend = dpos_spend, \
		.apply = dpos_apply_tx, .to_json = dpos_json,                         \
	}

static const ssp_txtype t_register = DPOS_TYPE(SSP_TX_DELEGATE_REGISTER, "delegate_register");
static const ssp_txtype t_update = DPOS_TYPE(SSP_TX_DELEGATE_UPDATE, "delegate_update");
static const ssp_txtype t_unregister = DPOS_TYPE(SSP_TX_DELEGATE_UNREGISTER, "delegate_unregister");
static const ssp_txtype t_stake = DPOS_TYPE(SSP_TX_STAKE, "stake");
static const ssp_txtype t_unstake = DPOS_TYPE(SSP_TX_UNSTAKE, "unstake");
static const ssp_txtype t_vote = DPOS_TYPE(SSP_TX_VOTE, "vote");
static const ssp_txtype t_withdraw = DPOS_TYPE(SSP_TX_WITHDRAW, "withdraw");
static const ssp_txtype t_claim = DPOS_TYPE(SSP_TX_REWARDS_CLAIM, "rewards_claim");
static const ssp_txtype t_evidence = DPOS_TYPE(SSP_TX_EVIDENCE, "evidence");
static const ssp_txtype t_evidence_votes = DPOS_TYPE(SSP_TX_EVIDENCE_VOTES, "evidence_votes");

const ssp_txtype *const ssp_dpos_txtypes[DPOS_NTXTYPES] = {
    &t_register, &t_update,   &t_unregister, &t_stake,    &t_unstake,
    &t_vote,     &t_withdraw, &t_claim,      &t_evidence, &t_evidence_votes,
};
