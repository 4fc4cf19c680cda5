/*
 * genesis.c — the genesis document (chain layer): parsing and validating
 * the JSON file and its canonical hash (the devnet genesis builder is
 * libssp_proto's, src/proto/genesis_dev.c, so the wallet writes one too).
 *
 * The chain enforces the whitepaper's allocation: 25% private placement
 * (liquid), 20% foundation (whatever it grants is locked 24 months), 10%
 * team (vests in 12 monthly steps), 45% ecosystem pool (emitted only by
 * protocol rules). A file whose shares differ is rejected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genesis_internal.h"
#include "ssp/chain.h"

static const struct {
	const char *name;
	int kind;
	unsigned percent;
} categories[] = {
    {"private_placement", SSP_ALLOC_LIQUID, 25},
    {"foundation", SSP_ALLOC_FOUNDATION, 20},
    {"team", SSP_ALLOC_TEAM, 10},
    {"ecosystem_pool", SSP_ALLOC_POOL, 45},
};

void ssp_genesis_free(ssp_genesis *g)
{
	if (!g) return;
	free(g->alloc);
	free(g->producers);
	free(g->onion);
	free(g->delegates);
	free(g);
}

#define FAIL(...)                                   \
	do {                                        \
		snprintf(why, whylen, __VA_ARGS__); \
		rc = SSP_ERR_GENESIS;               \
		goto out;                           \
	} while (0)

static int get_amount(json_t *o, const char *key, uint64_t def, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_string(v)) return SSP_ERR_BADAMOUNT;
	return ssp_amount_parse(out, json_string_value(v), SSP_DECIMALS);
}

static int get_uint(json_t *o, const char *key, uint64_t def, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return SSP_ERR_RANGE;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static void genesis_hash(ssp_genesis *g)
{
	ssp_buf b;
	ssp_buf_init(&b, 1 << 24);
	ssp_buf_bytes(&b, g->chain_id, strlen(g->chain_id));
	ssp_buf_bytes(&b, g->network, strlen(g->network));
	ssp_buf_u64(&b, g->time_ms);
	ssp_buf_u8(&b, g->producer_key.type);
	ssp_buf_put(&b, g->producer_key.b, g->producer_key.len);
	ssp_buf_u64(&b, g->params.block_interval_ms);
	ssp_buf_u64(&b, g->params.max_block_bytes);
	ssp_buf_u32(&b, g->params.max_block_txs);
	ssp_buf_u64(&b, g->params.min_fee);
	ssp_buf_u64(&b, g->params.fee_per_byte);
	ssp_buf_u64(&b, g->params.month_seconds);
	ssp_buf_u32(&b, g->params.max_expiry_blocks);
	ssp_buf_u64(&b, g->params.max_block_gas);
	ssp_buf_u64(&b, g->params.gas_price);
	ssp_buf_u64(&b, g->params.token_create_fee);
	ssp_buf_u32(&b, (uint32_t)g->nalloc);
	for (size_t i = 0; i < g->nalloc; i++) {
		ssp_buf_u8(&b, (uint8_t)g->alloc[i].kind);
		ssp_buf_put(&b, g->alloc[i].addr.b, SSP_ADDR_LEN);
		ssp_buf_u64(&b, g->alloc[i].amount);
	}
	/* only a genesis with "producers" hashes them: older genesis files keep their hash */
	if (g->nproducers) {
		ssp_buf_u32(&b, (uint32_t)g->nproducers);
		for (size_t i = 0; i < g->nproducers; i++) {
			ssp_buf_u8(&b, g->producers[i].type);
			ssp_buf_put(&b, g->producers[i].b, g->producers[i].len);
		}
	}
	/* likewise "dpos": a genesis without it keeps its hash */
	if (g->has_dpos) {
		ssp_buf_u64(&b, g->dpos.vote_unlock_slots);
		ssp_buf_u64(&b, g->dpos.self_unlock_slots);
		ssp_buf_u64(&b, g->dpos.min_self_stake);
		ssp_buf_u32(&b, g->dpos.set_size);
		ssp_buf_u32(&b, g->dpos.standby);
		ssp_buf_u32(&b, g->dpos.max_rank);
		ssp_buf_u64(&b, g->dpos.round_reward);
		ssp_buf_u64(&b, g->dpos.halving_rounds);
		ssp_buf_u32(&b, g->dpos.reward_ranks);
		ssp_buf_u64(&b, g->dpos.evidence_slots);
		ssp_buf_u64(&b, g->dpos.ban_slots);
		/* likewise the productivity knobs: a "dpos" without them keeps its hash */
		if (g->has_prod) {
			ssp_buf_put(&b, "prod", 4);
			ssp_buf_u32(&b, g->dpos.prod_window_rounds);
			ssp_buf_u32(&b, g->dpos.probation_rounds);
			ssp_buf_u32(&b, g->dpos.deactivate_misses);
			ssp_buf_u64(&b, g->dpos.deactivate_slots);
		}
	}
	/* likewise "bft" */
	if (g->has_bft) {
		ssp_buf_put(&b, "bft", 3);
		ssp_buf_u32(&b, g->onion_layers);
		for (size_t i = 0; i < g->nproducers; i++)
			ssp_buf_put(&b, g->onion[i].b, 32);
	}
	/* likewise "delegates" in "dpos" */
	if (g->ndelegates) {
		ssp_buf_put(&b, "delegates", 9);
		ssp_buf_u32(&b, (uint32_t)g->ndelegates);
		for (size_t i = 0; i < g->ndelegates; i++) {
			const ssp_genesis_delegate *d = &g->delegates[i];
			ssp_buf_u8(&b, (uint8_t)strlen(d->name));
			ssp_buf_put(&b, d->name, strlen(d->name));
			ssp_buf_put(&b, d->addr.b, SSP_ADDR_LEN);
			ssp_buf_u8(&b, d->node_key.type);
			ssp_buf_u8(&b, d->node_key.len);
			ssp_buf_put(&b, d->node_key.b, d->node_key.len);
			ssp_buf_put(&b, d->onion.b, 32);
			ssp_buf_u64(&b, d->self_stake);
			ssp_buf_u64(&b, d->stake);
		}
	}
	if (b.err) abort();
	ssp_sha256(&g->hash, b.data, b.len);
	ssp_buf_free(&b);
}

/*
 * "dpos": {"delegates": [{"name", "address", "node_key", "onion", "self_stake",
 * "stake"?}]}: strict (no other field, nothing listed twice). Whether the
 * allocations cover the stakes is checked once they are parsed
 * (delegates_covered). Needs g->hrp and g->dpos.min_self_stake.
 */
static int parse_delegates(ssp_genesis *g, json_t *dl, char *why, size_t whylen)
{
	static const char *const fields[] = {"name",  "address",    "node_key",
	                                     "onion", "self_stake", "stake"};
	int rc = 0;
	size_t n = json_array_size(dl);
	if (!dl) return 0;
	if (!json_is_array(dl) || n == 0 || n > SSP_GENESIS_DELEGATES_MAX)
		FAIL("dpos: delegates must be an array of 1..%d delegates",
		     SSP_GENESIS_DELEGATES_MAX);
	g->delegates = ssp_calloc(n, sizeof *g->delegates);
	if (!g->delegates) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		ssp_genesis_delegate *d = &g->delegates[i];
		json_t *e = json_array_get(dl, i), *v;
		const char *k;
		if (!json_is_object(e)) FAIL("dpos: delegates[%zu] must be an object", i);
		json_object_foreach(e, k, v)
		{
			size_t f = 0;
			while (f < sizeof fields / sizeof *fields && strcmp(k, fields[f]))
				f++;
			if (f == sizeof fields / sizeof *fields)
				FAIL("dpos: delegates[%zu] has an unknown field \"%s\"", i, k);
		}
		v = json_object_get(e, "name");
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
		    !ssp_dpos_name_valid(json_string_value(v), json_string_length(v)))
			FAIL("dpos: delegates[%zu].name must be a delegate name (3..32 of a-z 0-9 "
			     ". _ "
			     "-, first a letter)",
			     i);
		memcpy(d->name, json_string_value(v), json_string_length(v));
		v = json_object_get(e, "address");
		if (!json_is_string(v) || ssp_addr_decode(&d->addr, g->hrp, json_string_value(v)))
			FAIL("dpos: delegates[%zu].address must be a %s address", i, g->hrp);
		v = json_object_get(e, "node_key");
		if (!json_is_string(v) || ssp_pubkey_text_parse(&d->node_key, json_string_value(v)))
			FAIL(
			    "dpos: delegates[%zu].node_key must be a public key as \"ed25519:HEX\" "
			    "or \"p256:HEX\"",
			    i);
		v = json_object_get(e, "onion");
		if (!json_is_string(v) || json_string_length(v) != 64 ||
		    ssp_hex_decode(d->onion.b, 32, json_string_value(v), 64))
			FAIL("dpos: delegates[%zu].onion must be 64 hex characters", i);
		if (get_amount(e, "self_stake", 0, &d->self_stake) || d->self_stake > INT64_MAX ||
		    d->self_stake < g->dpos.min_self_stake)
			FAIL("dpos: delegates[%zu].self_stake must be an SSP amount of at least "
			     "min_self_stake",
			     i);
		if (get_amount(e, "stake", 0, &d->stake) || d->stake > INT64_MAX)
			FAIL("dpos: delegates[%zu].stake must be an SSP amount", i);
		for (size_t j = 0; j < i; j++) {
			const ssp_genesis_delegate *o = &g->delegates[j];
			if (!strcmp(o->name, d->name))
				FAIL("dpos: delegates[%zu].name %s is listed twice", i, d->name);
			if (!memcmp(o->addr.b, d->addr.b, SSP_ADDR_LEN))
				FAIL("dpos: delegates[%zu].address is listed twice", i);
			if (o->node_key.type == d->node_key.type &&
			    o->node_key.len == d->node_key.len &&
			    !memcmp(o->node_key.b, d->node_key.b, d->node_key.len))
				FAIL("dpos: delegates[%zu].node_key is listed twice", i);
		}
		g->ndelegates++;
	}
out:
	return rc;
}

/* Each genesis delegate's liquid allocations cover its self-stake and stake. */
static int delegates_covered(const ssp_genesis *g, char *why, size_t whylen)
{
	int rc = 0;
	for (size_t i = 0; i < g->ndelegates; i++) {
		const ssp_genesis_delegate *d = &g->delegates[i];
		uint64_t need, have = 0;
		if (ssp_add_u64(&need, d->self_stake, d->stake))
			FAIL("dpos: delegates[%zu]: self_stake + stake overflows", i);
		for (size_t k = 0; k < g->nalloc; k++)
			if ((g->alloc[k].kind == SSP_ALLOC_LIQUID ||
			     g->alloc[k].kind == SSP_ALLOC_FOUNDATION) &&
			    !memcmp(g->alloc[k].addr.b, d->addr.b, SSP_ADDR_LEN))
				have +=
				    g->alloc[k].amount; /* allocations sum to the supply: no wrap */
		if (have < need) {
			char a[SSP_AMOUNT_STR], b[SSP_AMOUNT_STR];
			ssp_amount_format(a, sizeof a, have, SSP_DECIMALS);
			ssp_amount_format(b, sizeof b, need, SSP_DECIMALS);
			FAIL("dpos: delegates[%zu] (%s) stakes %s SSP but its address is allocated "
			     "%s "
			     "SSP liquid",
			     i, d->name, b, a);
		}
	}
out:
	return rc;
}

int ssp_genesis_parse(ssp_genesis **out, const char *text, size_t n, char *why, size_t whylen)
{
	json_error_t je;
	json_t *root = NULL, *v;
	ssp_genesis *g = NULL;
	int rc = 0;
	uint64_t sums[4] = {0}, u = 0;
	*out = NULL;
	snprintf(why, whylen, "ok");
	root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) FAIL("genesis is not valid JSON: %s (line %d)", je.text, je.line);
	if (!json_is_object(root)) FAIL("genesis must be a JSON object");
	g = ssp_calloc(1, sizeof *g);
	if (!g) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	v = json_object_get(root, "chain_id");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > SSP_CHAIN_ID_MAX)
		FAIL("chain_id must be a string of 1..%d characters", SSP_CHAIN_ID_MAX);
	snprintf(g->chain_id, sizeof g->chain_id, "%s", json_string_value(v));
	for (const char *p = g->chain_id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.' || *p == '_'))
			FAIL("chain_id may only contain a-z 0-9 - . _");
	v = json_object_get(root, "network");
	if (!json_is_string(v) || !ssp_network_hrp(json_string_value(v)))
		FAIL("network must be \"main\", \"test\" or \"dev\"");
	snprintf(g->network, sizeof g->network, "%s", json_string_value(v));
	g->hrp = ssp_network_hrp(g->network);
	if (get_uint(root, "genesis_time", 0, UINT64_MAX / 4, &g->time_ms) || g->time_ms == 0)
		FAIL("genesis_time must be a positive integer (ms since the epoch)");
	v = json_object_get(root, "producers");
	if (v) {
		size_t np = json_array_size(v);
		if (!json_is_array(v) || np == 0 || np > SSP_GENESIS_PRODUCERS_MAX)
			FAIL("producers must be an array of 1..%d public keys",
			     SSP_GENESIS_PRODUCERS_MAX);
		g->producers = ssp_calloc(np, sizeof *g->producers);
		if (!g->producers) {
			rc = SSP_ERR_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < np; i++) {
			json_t *e = json_array_get(v, i);
			if (!json_is_string(e) ||
			    ssp_pubkey_text_parse(&g->producers[i], json_string_value(e)))
				FAIL("producers[%zu] must be a public key as \"ed25519:HEX\" or "
				     "\"p256:HEX\"",
				     i);
			for (size_t k = 0; k < i; k++)
				if (g->producers[k].len == g->producers[i].len &&
				    !memcmp(g->producers[k].b, g->producers[i].b, g->producers[i].len))
					FAIL("producers[%zu] is listed twice", i);
		}
		g->nproducers = np;
	}
	v = json_object_get(root, "producer");
	if (!v && g->nproducers) {
		g->producer_key = g->producers[0];
	} else if (!json_is_string(v) ||
	           ssp_pubkey_text_parse(&g->producer_key, json_string_value(v))) {
		FAIL("producer must be a public key as \"ed25519:HEX\" or \"p256:HEX\"");
	} else if (g->nproducers && (g->producer_key.len != g->producers[0].len ||
	                             memcmp(g->producer_key.b, g->producers[0].b,
	                                    g->producer_key.len))) {
		FAIL("producer must be producers[0] when both are given");
	}
	ssp_addr_from_pubkey(&g->producer, &g->producer_key);

	json_t *pj = json_object_get(root, "params");
	if (pj && !json_is_object(pj)) FAIL("params must be an object");
	if (!pj)
		pj = json_object(); /* all defaults */
	else
		json_incref(pj);
	ssp_params *p = &g->params;
	int bad = get_uint(pj, "block_interval_ms", 3000, 600000, &p->block_interval_ms) ||
	          get_uint(pj, "max_block_bytes", 1 << 20, 64 << 20, &p->max_block_bytes) ||
	          get_uint(pj, "max_block_txs", 20000, 1000000, &u) ||
	          get_amount(pj, "min_fee", 1000, &p->min_fee) ||
	          get_amount(pj, "fee_per_byte", 10, &p->fee_per_byte) ||
	          get_uint(pj, "month_seconds", 2592000, 1ull << 32, &p->month_seconds);
	p->max_block_txs = (uint32_t)u;
	if (!bad) bad = get_uint(pj, "max_expiry_blocks", 100000, 1u << 30, &u);
	p->max_expiry_blocks = (uint32_t)u;
	if (!bad)
		bad = get_uint(pj, "max_block_gas", 200000000, 1ull << 50, &p->max_block_gas) ||
		      get_amount(pj, "gas_price", 100, &p->gas_price) ||
		      get_amount(pj, "token_create_fee", 100 * SSP_COIN, &p->token_create_fee);
	json_decref(pj);
	if (bad) FAIL("params: a value is malformed or out of range");
	if (p->block_interval_ms < 100 || p->max_block_bytes < 4096 || p->max_block_txs == 0 ||
	    p->month_seconds == 0 || p->max_expiry_blocks == 0)
		FAIL("params: a value is below its minimum");

	json_t *dj = json_object_get(root, "dpos");
	if (dj && !json_is_object(dj)) FAIL("dpos must be an object");
	g->has_dpos = dj != NULL;
	if (!dj)
		dj = json_object(); /* all defaults */
	else
		json_incref(dj);
	{
		ssp_dpos_params *d = &g->dpos;
		uint64_t day = 86400000 / p->block_interval_ms, ss = 0, sb = 0, mr = 0, rr = 0;
		uint64_t pw = 0, pr = 0, dm = 0;
		static const char *const prod_keys[] = {"prod_window_rounds", "probation_rounds",
		                                        "deactivate_misses", "deactivate_slots"};
		for (size_t i = 0; i < 4; i++)
			if (json_object_get(dj, prod_keys[i])) g->has_prod = true;
		bad = get_uint(dj, "vote_unlock_slots", 3 * day, 1ull << 40, &d->vote_unlock_slots) ||
		      get_uint(dj, "self_unlock_slots", 28 * day, 1ull << 40, &d->self_unlock_slots) ||
		      get_amount(dj, "min_self_stake", 10000 * SSP_COIN, &d->min_self_stake) ||
		      get_uint(dj, "set_size", 99, 1000, &ss) || get_uint(dj, "standby", 4, 1000, &sb) ||
		      get_uint(dj, "max_rank", 200, 10000, &mr) ||
		      get_amount(dj, "round_reward", 0, &d->round_reward) ||
		      get_uint(dj, "halving_rounds", 0, 1ull << 40, &d->halving_rounds) ||
		      get_uint(dj, "reward_ranks", 150, 10000, &rr) ||
		      get_uint(dj, "evidence_slots", 28 * day, 1ull << 40, &d->evidence_slots) ||
		      get_uint(dj, "ban_slots", 28 * day, 1ull << 40, &d->ban_slots) ||
		      get_uint(dj, "prod_window_rounds", 24, SSP_DPOS_PROD_WINDOW_MAX, &pw) ||
		      get_uint(dj, "probation_rounds", 6, 1u << 20, &pr) ||
		      get_uint(dj, "deactivate_misses", 50, 1u << 30, &dm) ||
		      get_uint(dj, "deactivate_slots", 14 * day, 1ull << 40, &d->deactivate_slots);
		d->prod_window_rounds = (uint32_t)pw;
		d->probation_rounds = (uint32_t)pr;
		d->deactivate_misses = (uint32_t)dm;
		d->reward_ranks = (uint32_t)rr;
		d->set_size = (uint32_t)ss;
		d->standby = (uint32_t)sb;
		d->max_rank = (uint32_t)mr;
		if (!bad) {
			rc = parse_delegates(g, json_object_get(dj, "delegates"), why, whylen);
			if (rc) {
				json_decref(dj);
				goto out;
			}
		}
		json_decref(dj);
		if (bad) FAIL("dpos: a value is malformed or out of range");
		if (d->vote_unlock_slots == 0 || d->self_unlock_slots == 0 || d->min_self_stake == 0 ||
		    d->set_size == 0 || d->standby >= d->set_size || d->max_rank < d->set_size ||
		    d->reward_ranks == 0 || d->evidence_slots == 0 || d->prod_window_rounds == 0 ||
		    d->probation_rounds == 0 || d->deactivate_slots == 0)
			FAIL("dpos: needs unlock delays and min_self_stake >= 1, set_size >= 1, "
			     "standby < set_size <= max_rank, reward_ranks, evidence_slots, "
			     "prod_window_rounds, probation_rounds and deactivate_slots >= 1");
	}

	json_t *bj = json_object_get(root, "bft");
	if (bj) {
		json_t *ol = json_object_get(bj, "onion");
		uint64_t layers = 0;
		if (!json_is_object(bj) || !g->nproducers)
			FAIL("bft must be an object, with a \"producers\" array beside it");
		if (get_uint(bj, "onion_layers", 1000000, UINT32_MAX, &layers) || layers == 0)
			FAIL("bft: onion_layers must be 1..%u", UINT32_MAX);
		if (!json_is_array(ol) || json_array_size(ol) != g->nproducers)
			FAIL("bft: onion must list one commitment per producer (%zu)", g->nproducers);
		g->onion = ssp_calloc(g->nproducers, sizeof *g->onion);
		if (!g->onion) {
			rc = SSP_ERR_NOMEM;
			goto out;
		}
		for (size_t k = 0; k < g->nproducers; k++) {
			const char *hx = json_string_value(json_array_get(ol, k));
			if (!hx || strlen(hx) != 64 || ssp_hex_decode(g->onion[k].b, 32, hx, 64))
				FAIL("bft: onion[%zu] must be 64 hex characters", k);
		}
		g->onion_layers = (uint32_t)layers;
		g->has_bft = true;
	}

	json_t *al = json_object_get(root, "allocations");
	if (!json_is_array(al) || json_array_size(al) == 0 || json_array_size(al) > 100000)
		FAIL("allocations must be a non-empty array");
	g->alloc = ssp_calloc(json_array_size(al), sizeof *g->alloc);
	if (!g->alloc) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	size_t i;
	json_t *a;
	json_array_foreach(al, i, a)
	{
		ssp_alloc *x = &g->alloc[g->nalloc];
		json_t *cat = json_object_get(a, "category");
		size_t c;
		if (!json_is_object(a) || !json_is_string(cat))
			FAIL("allocation %zu: needs a category", i);
		for (c = 0; c < 4; c++)
			if (!strcmp(json_string_value(cat), categories[c].name)) break;
		if (c == 4) FAIL("allocation %zu: unknown category %s", i, json_string_value(cat));
		x->kind = categories[c].kind;
		v = json_object_get(a, "amount");
		if (!json_is_string(v) || ssp_amount_parse(&x->amount, json_string_value(v), 8) ||
		    x->amount == 0)
			FAIL("allocation %zu: amount must be a positive SSP decimal string", i);
		v = json_object_get(a, "address");
		if (x->kind == SSP_ALLOC_POOL) {
			if (v) FAIL("allocation %zu: the ecosystem pool has no address", i);
		} else if (!json_is_string(v) ||
		           ssp_addr_decode(&x->addr, g->hrp, json_string_value(v))) {
			FAIL("allocation %zu: address must be a %s address", i, g->hrp);
		}
		for (size_t k = 0; k < g->nalloc; k++)
			if (x->kind != SSP_ALLOC_POOL && g->alloc[k].kind != SSP_ALLOC_POOL &&
			    !memcmp(&g->alloc[k].addr, &x->addr, sizeof x->addr))
				FAIL("allocation %zu: address listed twice", i);
		if (ssp_add_u64(&sums[c], sums[c], x->amount)) FAIL("allocation sums overflow");
		g->nalloc++;
	}
	for (size_t c = 0; c < 4; c++) {
		uint64_t want = SSP_TOTAL_SUPPLY / 100 * categories[c].percent;
		if (sums[c] != want) {
			char have[SSP_AMOUNT_STR], need[SSP_AMOUNT_STR];
			ssp_amount_format(have, sizeof have, sums[c], 8);
			ssp_amount_format(need, sizeof need, want, 8);
			FAIL("category %s holds %s SSP; it must be exactly %s (%u%%)",
			     categories[c].name, have, need, categories[c].percent);
		}
	}
	if ((rc = delegates_covered(g, why, whylen))) goto out;
	genesis_hash(g);
	*out = g;
	g = NULL;
out:
	ssp_genesis_free(g);
	json_decref(root);
	return rc;
}

int ssp_genesis_load(ssp_genesis **out, const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f) {
		snprintf(why, whylen, "cannot open genesis file %s", path);
		return SSP_ERR_IO;
	}
	size_t cap = 64 << 20, n;
	char *buf = ssp_malloc(cap);
	if (!buf) {
		fclose(f);
		return SSP_ERR_NOMEM;
	}
	n = fread(buf, 1, cap, f);
	int toolong = !feof(f);
	fclose(f);
	int rc;
	if (toolong) {
		snprintf(why, whylen, "genesis file %s is over 64 MiB", path);
		rc = SSP_ERR_TOOBIG;
	} else {
		rc = ssp_genesis_parse(out, buf, n, why, whylen);
	}
	free(buf);
	return rc;
}

const char *ssp_genesis_chain_id(const ssp_genesis *g)
{
	return g->chain_id;
}
const char *ssp_genesis_network(const ssp_genesis *g)
{
	return g->network;
}
const char *ssp_genesis_hrp(const ssp_genesis *g)
{
	return g->hrp;
}
const ssp_params *ssp_genesis_params(const ssp_genesis *g)
{
	return &g->params;
}

const ssp_dpos_params *ssp_genesis_dpos(const ssp_genesis *g)
{
	return &g->dpos;
}
bool ssp_genesis_has_dpos(const ssp_genesis *g)
{
	return g->has_dpos;
}
const ssp_hash *ssp_genesis_hash(const ssp_genesis *g)
{
	return &g->hash;
}
const ssp_addr *ssp_genesis_producer(const ssp_genesis *g)
{
	return &g->producer;
}
const ssp_pubkey *ssp_genesis_producer_key(const ssp_genesis *g)
{
	return &g->producer_key;
}
size_t ssp_genesis_producers(const ssp_genesis *g, const ssp_pubkey **keys)
{
	if (!g->nproducers) {
		*keys = &g->producer_key;
		return 1;
	}
	*keys = g->producers;
	return g->nproducers;
}
bool ssp_genesis_has_producer_set(const ssp_genesis *g)
{
	return g->nproducers > 0;
}
bool ssp_genesis_bft(const ssp_genesis *g, const ssp_hash **onion, uint32_t *layers)
{
	if (!g->has_bft) return false;
	if (onion) *onion = g->onion;
	if (layers) *layers = g->onion_layers;
	return true;
}

uint64_t ssp_genesis_time_ms(const ssp_genesis *g)
{
	return g->time_ms;
}
