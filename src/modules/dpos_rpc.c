/*
 * dpos_rpc.c — the staking module's JSON-RPC methods (modules layer):
 * dpos_getDelegates, dpos_getDelegate, dpos_getVotes, dpos_getRewards, dpos_getEvidence,
 * dpos_getElection. Handlers run on RPC threads with this module's ssp_module_env as ctx and read committed state only (one
 * read txn, closed on every path). The ranking is computed per call from every registered delegate
 * (at most RANK_MAX, else -32003); lists are bounded (LIST_MAX per call, with a `next` rank as
 * cursor).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dpos_internal.h"
#include "rpc_util.h"

#define LIST_MAX 100
#define RANK_MAX 100000

static json_t *jamount(uint64_t v)
{
	char s[SSP_AMOUNT_STR];
	ssp_amount_format(s, sizeof s, v, SSP_DECIMALS);
	return json_string(s);
}

static const char *status_name(uint8_t s)
{
	return s == SSP_DELEGATE_REGISTERED    ? "registered"
	       : s == SSP_DELEGATE_BANNED      ? "banned"
	       : s == SSP_DELEGATE_DEACTIVATED ? "deactivated"
	                                       : "unregistered";
}

/*
 * The productivity fields of d (its record in st, the round of the head):
 * produced, missed (totals), productivity over its window (per cent, the
 * round under way included; null without a slot in it), consecutive
 * misses, its last block's slot, probation, block rewards paid and
 * waiting. *status becomes "probation" for a registered delegate on it.
 */
static int prod_fields(const ssp_module_env *env, const modrpc_reader *rd, const ssp_delegate *d,
                       json_t *o)
{
	const ssp_dpos_params *p = ssp_genesis_dpos(ssp_chain_genesis(env->chain));
	ssp_dpos_prod r;
	uint64_t made = 0, missed = 0, pn = 0, pa = 0, round = 0;
	ssp_head h;
	int rc = ssp_dpos_prod_get(rd->st, &d->account, &r);
	if (rc == SSP_ERR_NOTFOUND) {
		memset(&r, 0, sizeof r);
		rc = 0;
	}
	if (!rc) rc = ssp_dpos_blockpay_pending(rd->st, &d->account, &pn, &pa);
	if (!rc) rc = ssp_chain_read_head(env->chain, rd->rt, &h);
	if (rc) return rc;
	round = h.slot / (p->set_size ? p->set_size : 1);
	ssp_dpos_prod_window(&r, round + 1, p->prod_window_rounds, &made, &missed);
	bool probation = d->status == SSP_DELEGATE_REGISTERED && ssp_dpos_on_probation(&r, round);
	if (probation) json_object_set_new(o, "status", json_string("probation"));
	json_object_set_new(o, "produced", json_integer((json_int_t)r.produced));
	json_object_set_new(o, "missed", json_integer((json_int_t)r.missed));
	json_object_set_new(o, "productivity",
	                    made + missed ? json_real((double)((made * 10000 / (made + missed))) /
	                                              100.0)
	                                  : json_null());
	json_object_set_new(o, "window_produced", json_integer((json_int_t)made));
	json_object_set_new(o, "window_missed", json_integer((json_int_t)missed));
	json_object_set_new(o, "consecutive_misses", json_integer((json_int_t)r.consecutive_misses));
	json_object_set_new(o, "last_produced_slot", r.produced_any
	                                                 ? json_integer((json_int_t)r.last_slot)
	                                                 : json_null());
	json_object_set_new(o, "probation_until_round",
	                    probation ? json_integer((json_int_t)r.probation_until) : json_null());
	json_object_set_new(o, "block_rewards", jamount(r.block_rewards));
	json_object_set_new(o, "block_rewards_pending", jamount(pa));
	json_object_set_new(o, "blocks_pending", json_integer((json_int_t)pn));
	return 0;
}

/* rank: 1-based, 0 for none (an unregistered delegate). */
static json_t *delegate_json(const ssp_module_env *env, const ssp_delegate *d, size_t rank)
{
	char key[96], onion[65];
	ssp_pubkey_text(key, sizeof key, &d->node_key);
	sodium_bin2hex(onion, sizeof onion, d->onion.b, 32);
	return json_pack(
	    "{s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:i, s:s, s:s, s:s, s:I, s:I, s:i, s:o}", "rank",
	    rank ? json_integer((json_int_t)rank) : json_null(), "name", d->name, "address",
	    modrpc_jaddr(env, &d->account), "status", status_name(d->status), "capped_weight",
	    jamount(ssp_dpos_capped_weight(d)), "self_stake", jamount(d->self_stake), "votes",
	    jamount(d->votes), "commission_bp", (int)d->commission_bp, "url", d->url, "node_key",
	    key, "onion", onion, "registered_height", (json_int_t)d->registered_height,
	    "updated_height", (json_int_t)d->updated_height, "slashes", (int)d->slashes,
	    "banned_until_slot",
	    d->status != SSP_DELEGATE_BANNED     ? json_null()
	    : d->banned_until_slot == UINT64_MAX ? json_string("never")
	                                         : json_integer((json_int_t)d->banned_until_slot));
}

static int uint_param(json_t *params, const char *key, json_int_t lo, json_int_t hi, json_int_t def,
                      json_int_t *out, ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	*out = def;
	if (!v) return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "%s must be an integer %lld to %lld", key, (long long)lo,
		                    (long long)hi);
	*out = json_integer_value(v);
	return 0;
}

static int rank_fail(const ssp_module_env *env, ssp_rpc_error *err, int rc)
{
	if (rc == SSP_ERR_TOOBIG)
		return ssp_rpc_fail(err, SSP_RPC_LIMIT, "more than %d registered delegates to rank",
		                    RANK_MAX);
	return modrpc_fail_internal(env, err, rc);
}

static int m_get_delegates(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	json_int_t start, limit;
	ssp_delegate *d = NULL;
	size_t n = 0;
	modrpc_reader r;
	if (modrpc_obj_params(params, err) ||
	    uint_param(params, "start", 1, RANK_MAX, 1, &start, err) ||
	    uint_param(params, "limit", 1, LIST_MAX, LIST_MAX, &limit, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = ssp_dpos_ranking(env->chain, r.rt, RANK_MAX, &d, &n);
	if (rc) {
		modrpc_reader_close(&r);
		return rank_fail(env, err, rc);
	}
	json_t *items = json_array();
	size_t i = (size_t)start - 1, end = i + (size_t)limit;
	for (; items && i < n && i < end && !rc; i++) {
		json_t *j = delegate_json(env, &d[i], i + 1);
		if (j) rc = prod_fields(env, &r, &d[i], j);
		if (!j || rc || json_array_append_new(items, j)) {
			if (j && rc) json_decref(j);
			json_decref(items);
			items = NULL;
		}
	}
	modrpc_reader_close(&r);
	if (rc) {
		free(d);
		return modrpc_fail_internal(env, err, rc);
	}
	*res = items ? json_pack("{s:o, s:o, s:I}", "delegates", items, "next",
	                         i < n ? json_integer((json_int_t)i + 1) : json_null(), "total",
	                         (json_int_t)n)
	             : NULL;
	free(d);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

static int m_get_delegate(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	json_t *nv = params ? json_object_get(params, "name") : NULL;
	ssp_addr a;
	ssp_delegate d, *rank = NULL;
	modrpc_reader r;
	size_t n = 0, pos = 0;
	if (modrpc_obj_params(params, err)) return -1;
	if (nv) {
		if (!json_is_string(nv) ||
		    strlen(json_string_value(nv)) != json_string_length(nv) ||
		    !ssp_dpos_name_valid(json_string_value(nv), json_string_length(nv)))
			return ssp_rpc_fail(
			    err, SSP_RPC_INVALID_PARAMS,
			    "name must be a delegate name: 3 to 32 characters a-z 0-9 . _ "
			    "-, starting with a letter");
	} else if (modrpc_addr_param(env, params, "address", true, &a, NULL, err)) {
		return -1;
	}
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = nv ? ssp_dpos_delegate_by_name(r.st, json_string_value(nv), &d)
	        : ssp_dpos_delegate_get(r.st, &a, &d);
	if (!rc && d.status == SSP_DELEGATE_REGISTERED) {
		rc = ssp_dpos_ranking(env->chain, r.rt, RANK_MAX, &rank, &n);
		for (size_t i = 0; !rc && i < n && !pos; i++)
			if (!memcmp(rank[i].account.b, d.account.b, SSP_ADDR_LEN)) pos = i + 1;
		free(rank);
	}
	json_t *pf = json_object();
	if (!rc && !pf) rc = SSP_ERR_NOMEM;
	if (!rc) rc = prod_fields(env, &r, &d, pf);
	modrpc_reader_close(&r);
	if (rc == SSP_ERR_NOTFOUND) json_decref(pf);
	if (rc == SSP_ERR_NOTFOUND)
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "unknown delegate %s",
		                    nv ? json_string_value(nv)
		                       : json_string_value(json_object_get(params, "address")));
	if (rc) {
		json_decref(pf);
		return rank_fail(env, err, rc);
	}
	*res = delegate_json(env, &d, pos);
	if (*res) json_object_update(*res, pf);
	json_decref(pf);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

static int m_get_votes(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	ssp_addr a;
	ssp_staker s;
	ssp_head head;
	modrpc_reader r;
	json_t *votes = NULL, *unl = NULL;
	uint64_t withdrawable = 0, unlocking = 0;
	if (modrpc_obj_params(params, err) ||
	    modrpc_addr_param(env, params, "address", true, &a, NULL, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = ssp_chain_read_head(env->chain, r.rt, &head);
	if (!rc) rc = ssp_dpos_staker_get(r.st, &a, &s);
	votes = json_array();
	unl = json_array();
	if (!votes || !unl) rc = rc ? rc : SSP_ERR_NOMEM;
	for (uint32_t i = 0; !rc && i < s.nvotes; i++) {
		ssp_delegate d;
		rc = ssp_dpos_delegate_get(r.st, &s.votes[i], &d);
		if (rc == SSP_ERR_NOTFOUND) rc = SSP_ERR_DBCORRUPT;
		if (!rc &&
		    json_array_append_new(votes, json_pack("{s:s, s:o, s:s}", "name", d.name,
		                                           "address", modrpc_jaddr(env, &d.account),
		                                           "status", status_name(d.status))))
			rc = SSP_ERR_NOMEM;
	}
	for (uint32_t i = 0; !rc && i < s.nunlock; i++) {
		const ssp_unlock *u = &s.unlock[i];
		/* a block after the head has a later slot: withdrawable from then on */
		bool ready = u->unlock_slot <= head.slot + 1;
		if ((ready && ssp_add_u64(&withdrawable, withdrawable, u->amount)) ||
		    (!ready && ssp_add_u64(&unlocking, unlocking, u->amount))) {
			rc = SSP_ERR_DBCORRUPT;
			break;
		}
		if (json_array_append_new(
		        unl, json_pack("{s:s, s:o, s:I, s:b}", "kind",
		                       u->kind == SSP_UNLOCK_SELF ? "self_stake" : "stake",
		                       "amount", jamount(u->amount), "unlock_slot",
		                       (json_int_t)u->unlock_slot, "unlocked", ready)))
			rc = SSP_ERR_NOMEM;
	}
	modrpc_reader_close(&r);
	if (rc) {
		json_decref(votes);
		json_decref(unl);
		return modrpc_fail_internal(env, err, rc);
	}
	*res = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "address", modrpc_jaddr(env, &a),
	                 "staked", jamount(s.staked), "votes", votes, "unlocking", unl,
	                 "withdrawable", jamount(withdrawable), "still_locked", jamount(unlocking),
	                 "head_slot", (json_int_t)head.slot);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

typedef struct {
	const ssp_module_env *env;
	ssp_state *st;
	const ssp_addr *only; /* NULL: every delegate */
	json_t *items;
	size_t n;
	bool more;
	int err;
} ev_list;

static int visit_evidence(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	ev_list *l = arg;
	ssp_addr a;
	ssp_delegate d;
	/* account | u64 BE slot (two blocks), or account | 'V' | u64 BE target height (votes) */
	bool votes = kl == SSP_ADDR_LEN + 9 && ((const uint8_t *)k)[SSP_ADDR_LEN] == 'V';
	if ((kl != SSP_ADDR_LEN + 8 && !votes) || vl != 8) {
		l->err = SSP_ERR_DBCORRUPT;
		return 1;
	}
	memcpy(a.b, k, SSP_ADDR_LEN);
	if (l->only && memcmp(a.b, l->only->b, SSP_ADDR_LEN)) return 1; /* past its entries */
	if (l->n == LIST_MAX) {
		l->more = true;
		return 1;
	}
	int rc = ssp_dpos_delegate_get(l->st, &a, &d);
	if (rc) {
		l->err = rc == SSP_ERR_NOTFOUND ? SSP_ERR_DBCORRUPT : rc;
		return 1;
	}
	json_t *j = json_pack("{s:s, s:o, s:s, s:I, s:I}", "delegate", d.name, "address",
	                      modrpc_jaddr(l->env, &a), "kind", votes ? "votes" : "blocks",
	                      votes ? "target_height" : "slot",
	                      (json_int_t)ssp_be64_get((const uint8_t *)k + kl - 8), "height",
	                      (json_int_t)ssp_le64_get(v));
	if (!j || json_array_append_new(l->items, j)) {
		l->err = SSP_ERR_NOMEM;
		return 1;
	}
	l->n++;
	return 0;
}

/* dpos_getEvidence {name?}: the double signings punished (of one delegate), 100 at most:
 * {kind "blocks", slot} or {kind "votes", target_height}. */
static int m_get_evidence(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	json_t *nv = params ? json_object_get(params, "name") : NULL;
	ssp_delegate d;
	modrpc_reader r;
	ev_list l = {.env = env};
	if (modrpc_obj_params(params, err)) return -1;
	if (nv && (!json_is_string(nv) || strlen(json_string_value(nv)) != json_string_length(nv) ||
	           !ssp_dpos_name_valid(json_string_value(nv), json_string_length(nv))))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "name must be a delegate name");
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	l.st = r.st;
	l.items = json_array();
	if (!l.items) rc = SSP_ERR_NOMEM;
	if (!rc && nv) {
		rc = ssp_dpos_delegate_by_name(r.st, json_string_value(nv), &d);
		l.only = &d.account;
	}
	if (!rc)
		rc = ssp_chain_state_scan(env->chain, r.rt, SSP_TB_DPOS_EVIDENCE,
		                          l.only ? l.only->b : NULL, l.only ? SSP_ADDR_LEN : 0,
		                          visit_evidence, &l);
	if (rc == 1) rc = l.err;
	modrpc_reader_close(&r);
	if (rc == SSP_ERR_NOTFOUND) {
		json_decref(l.items);
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "no delegate is named %s",
		                    json_string_value(nv));
	}
	if (rc) {
		json_decref(l.items);
		return modrpc_fail_internal(env, err, rc);
	}
	*res = json_pack("{s:o, s:b}", "evidence", l.items, "more", l.more);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

/* dpos_getRewards {address}: what it may claim, and the schedule's next payout. */
static int m_get_rewards(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	const ssp_dpos_params *p = ssp_genesis_dpos(env->genesis);
	ssp_addr a;
	ssp_head head;
	modrpc_reader r;
	uint64_t owed = 0, pend = 0, claimable;
	if (modrpc_obj_params(params, err) ||
	    modrpc_addr_param(env, params, "address", true, &a, NULL, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = ssp_chain_read_head(env->chain, r.rt, &head);
	if (!rc) rc = ssp_dpos_rewards_get(r.st, &a, &owed, &pend);
	modrpc_reader_close(&r);
	if (!rc) rc = ssp_add_u64(&claimable, owed, pend) ? SSP_ERR_DBCORRUPT : 0;
	if (rc) return modrpc_fail_internal(env, err, rc);
	uint64_t round = head.slot / p->set_size;
	*res = json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:o}", "address", modrpc_jaddr(env, &a),
	                 "owed", jamount(owed), "pending", jamount(pend), "claimable",
	                 jamount(claimable), "round", (json_int_t)round, "next_payout_slot",
	                 (json_int_t)((round + 1) * p->set_size), "round_emission",
	                 jamount(ssp_dpos_emission(p, round, round + 1)));
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

/*
 * dpos_getElection {round?}: the set the first block of `round` elected for round + 1
 * (absent: the latest recorded), with the delegates' names; -32001 when there is none.
 */
static int m_get_election(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	json_int_t want;
	json_t *rv = params ? json_object_get(params, "round") : NULL;
	modrpc_reader r;
	ssp_dpos_member *m = NULL;
	json_t *items = NULL;
	size_t n = 0;
	uint64_t round = 0, full = 0;
	if (modrpc_obj_params(params, err) ||
	    uint_param(params, "round", 0, INT64_MAX - 1, 0, &want, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	m = ssp_malloc(SSP_DPOS_SET_MAX * sizeof *m);
	items = json_array();
	if (!m || !items) rc = SSP_ERR_NOMEM;
	if (!rc && rv) round = (uint64_t)want;
	if (!rc && !rv) rc = ssp_dpos_set_latest(env->chain, r.rt, &round);
	if (!rc) rc = ssp_dpos_set_read(r.st, round, m, &n, &full);
	for (size_t i = 0; !rc && i < n; i++) {
		char key[96], onion[65];
		ssp_delegate d;
		int dr = ssp_dpos_delegate_get(r.st, &m[i].account, &d);
		if (dr && dr != SSP_ERR_NOTFOUND) {
			rc = dr;
			break;
		}
		ssp_pubkey_text(key, sizeof key, &m[i].key);
		sodium_bin2hex(onion, sizeof onion, m[i].onion.b, 32);
		json_t *j = json_pack(
		    "{s:o, s:o, s:s, s:s, s:I}", "name", dr ? json_null() : json_string(d.name),
		    "address", modrpc_jaddr(env, &m[i].account), "node_key", key, "onion", onion,
		    /* UINT64_MAX: round -1 (a genesis delegate) */
		    "onion_round",
		    m[i].onion_round == UINT64_MAX ? (json_int_t)-1 : (json_int_t)m[i].onion_round);
		if (!j || json_array_append_new(items, j)) rc = SSP_ERR_NOMEM;
	}
	modrpc_reader_close(&r);
	free(m);
	if (rc == SSP_ERR_NOTFOUND) {
		json_decref(items);
		if (!rv) return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "no elected set recorded yet");
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND,
		                    "no set was elected at the start of round %llu",
		                    (unsigned long long)round);
	}
	if (rc) {
		json_decref(items);
		return modrpc_fail_internal(env, err, rc);
	}
	*res = json_pack("{s:I, s:I, s:o}", "round", (json_int_t)round, "applies_to_round",
	                 (json_int_t)round + 1, "members", items);
	if (*res && full != round)
		json_object_set_new(*res, "reference_round", json_integer((json_int_t)full));
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

const ssp_rpc_method ssp_dpos_methods[DPOS_NMETHODS] = {
    {"dpos_getDelegates", m_get_delegates, NULL}, {"dpos_getDelegate", m_get_delegate, NULL},
    {"dpos_getVotes", m_get_votes, NULL},         {"dpos_getRewards", m_get_rewards, NULL},
    {"dpos_getEvidence", m_get_evidence, NULL},   {"dpos_getElection", m_get_election, NULL},
};
