/*
 * dpos_set.c — the elected sets of the staking module (modules layer;
 * ssp/dpos.h): at the first block of every round R >= 1 on the chain, the
 * block hook runs the election (ssp_dpos_elect) on the capped weights as
 * the previous round left them and records the set for round R+1, so the
 * node can hand it to the consensus machine (ssp_dpos_set_get).
 *
 * State (under the chain's state table, u8 table id || key):
 *   SSP_TB_DPOS_SET   u64 BE R     -> full: u8 1 | u32 n | n x member, or
 *                                     reference: u8 2 | u64 R' (the full record
 *                                     of an earlier round with the same members)
 *   SSP_TB_DPOS_META  "set_last"   -> u64: the round of the latest record
 *   SSP_TB_DPOS_META  "seed"       -> [32]: the current round's seed (absent: zeros)
 *   SSP_TB_DPOS_META  "seed_acc"   -> [32]: XOR of the reveals of the current
 *                                     round's window so far (absent: zeros)
 *
 * The standby lottery's seed is this module's own: the reveals of the blocks
 * in the first ceil(2n/3) slots of a round (n = set_size) XORed, folded at the
 * round's first block into seed = SHA-256("ssp-bft-seed" | previous seed |
 * acc | u64le R). A block's hook sees its parent's reveal (ssp_block_start),
 * so a reveal is folded one block late — the same XOR. The consensus
 * machine keeps its own seed; nothing requires the two to be equal, only
 * that every node computes this one alike (it is a function of the chain).
 */
#include <stdlib.h>
#include <string.h>

#include "dpos_internal.h"

static const char k_set_last[] = "set_last", k_seed[] = "seed", k_acc[] = "seed_acc";

static int hash_meta_get(ssp_state *st, const char *key, ssp_hash *out)
{
	const void *v;
	size_t vl;
	int rc = ssp_state_get(st, SSP_TB_DPOS_META, key, strlen(key), &v, &vl);
	memset(out, 0, sizeof *out);
	if (rc == SSP_ERR_NOTFOUND) return 0;
	if (rc) return rc;
	if (vl != 32) return SSP_ERR_DBCORRUPT;
	memcpy(out->b, v, 32);
	return 0;
}

static bool is_zero(const ssp_hash *h)
{
	uint8_t x = 0;
	for (size_t i = 0; i < 32; i++)
		x |= h->b[i];
	return x == 0;
}

/* Zeros are stored as no record (the state holds nothing for a chain without reveals). */
static int hash_meta_set(ssp_state *st, const char *key, const ssp_hash *h)
{
	if (is_zero(h)) {
		int rc = ssp_state_del(st, SSP_TB_DPOS_META, key, strlen(key));
		return rc == SSP_ERR_NOTFOUND ? 0 : rc;
	}
	return ssp_state_put(st, SSP_TB_DPOS_META, key, strlen(key), h->b, 32);
}

int ssp_dpos_set_read(ssp_state *st, uint64_t round, ssp_dpos_member *m, size_t *n,
                      uint64_t *full_round)
{
	uint8_t k[8], kind;
	const void *v;
	size_t vl;
	uint64_t ref;
	uint64_t full_ignored;
	if (!full_round) full_round = &full_ignored;
	*n = 0;
	ssp_be64_put(k, round);
	int rc = ssp_state_get(st, SSP_TB_DPOS_SET, k, 8, &v, &vl);
	if (rc) return rc;
	if ((rc = ssp_dpos_set_decode(&kind, m, n, &ref, round, v, vl))) return rc;
	*full_round = round;
	if (kind == SSP_DPOS_SET_FULL) return 0;
	ssp_be64_put(k, ref);
	rc = ssp_state_get(st, SSP_TB_DPOS_SET, k, 8, &v, &vl);
	if (rc) return rc == SSP_ERR_NOTFOUND ? SSP_ERR_DBCORRUPT : rc;
	uint64_t ref2;
	if ((rc = ssp_dpos_set_decode(&kind, m, n, &ref2, ref, v, vl))) return rc;
	if (kind != SSP_DPOS_SET_FULL) return SSP_ERR_DBCORRUPT; /* a reference to a reference */
	*full_round = ref;
	return 0;
}

static bool same_members(const ssp_dpos_member *a, const ssp_dpos_member *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(a[i].account.b, b[i].account.b, SSP_ADDR_LEN) ||
		    a[i].key.type != b[i].key.type || a[i].key.len != b[i].key.len ||
		    memcmp(a[i].key.b, b[i].key.b, a[i].key.len) ||
		    memcmp(a[i].onion.b, b[i].onion.b, 32) || a[i].onion_round != b[i].onion_round)
			return false;
	return true;
}

static int addr_key_cmp(const void *key, const void *elem)
{
	return memcmp(key, ((const ssp_delegate *)elem)->account.b, SSP_ADDR_LEN);
}

static bool has_account(const ssp_dpos_member *m, size_t n, const ssp_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(m[i].account.b, a->b, SSP_ADDR_LEN)) return true;
	return false;
}

/*
 * The churn bound: at most SSP_DPOS_CHURN = max(1, set_size / 10) delegates
 * enter the set per election by choice. With c members changed between two
 * consecutive sets, two quorums (q = floor(2n/3) + 1) share 2q - n - c
 * members, so a conflict between blocks final under each needs only that many
 * double voters (the simulator's --break churn finds such runs without any
 * equivocation: docs/internals/consensus.md). A previous member that left the
 * ranking (unregistered, banned, on probation, no weight) is replaced on top
 * of that: keeping it would keep an absent or punished delegate. So the new
 * set is the previous record's members the election kept, the strongest
 * newcomers up to the bound (plus one per member that left the ranking),
 * then the previous members the election dropped that still have weight, the
 * strongest first, up to the elected size. A set smaller than set_size grows
 * by the bound per round. m (k members, in election order) is rewritten in
 * place; cands is in the order of d.
 */
static int bound_churn(const ssp_dpos_params *p, const ssp_delegate *d,
                       const ssp_dpos_cand *cands, size_t nd, const ssp_dpos_member *last,
                       size_t nlast, ssp_dpos_member *m, size_t *k)
{
	size_t c = p->set_size / 10 ? p->set_size / 10 : 1, enter = 0;
	for (size_t i = 0; i < *k; i++)
		enter += !has_account(last, nlast, &m[i].account);
	for (size_t i = 0; i < nlast; i++) { /* members that left the ranking */
		size_t j = 0;
		while (j < nd && memcmp(d[j].account.b, last[i].account.b, SSP_ADDR_LEN))
			j++;
		c += j == nd || !cands[j].weight;
	}
	if (enter <= c) return 0;
	ssp_dpos_member *out = ssp_malloc(*k * sizeof *out);
	if (!out) return SSP_ERR_NOMEM;
	size_t n = 0, took = 0;
	for (size_t i = 0; i < *k; i++) /* kept */
		if (has_account(last, nlast, &m[i].account)) out[n++] = m[i];
	for (size_t i = 0; i < *k && took < c; i++) /* the strongest newcomers */
		if (!has_account(last, nlast, &m[i].account)) {
			out[n++] = m[i];
			took++;
		}
	/* dropped members that still have weight, strongest first (ties: account order) */
	while (n < *k) {
		size_t best = nd;
		for (size_t j = 0; j < nd; j++) {
			if (!cands[j].weight || !has_account(last, nlast, &d[j].account) ||
			    has_account(out, n, &d[j].account))
				continue;
			if (best == nd || cands[j].weight > cands[best].weight) best = j;
		}
		if (best == nd) break;
		out[n++] = (ssp_dpos_member){.account = d[best].account,
		                             .key = d[best].node_key,
		                             .onion = d[best].onion,
		                             .onion_round = d[best].onion_round};
	}
	memcpy(m, out, n * sizeof *m);
	*k = n;
	free(out);
	return 0;
}

/* Elects the set for round+1 from the delegates as the block's start has them, records it. */
static int elect_and_record(const dpos_chain *dc, ssp_state *st, uint64_t round,
                            const ssp_hash *seed)
{
	const ssp_dpos_params *p = ssp_genesis_dpos(dc->g);
	dpos_dlist l = {.max = SIZE_MAX, .registered_only = true};
	ssp_dpos_cand *cands = NULL, *won = NULL;
	ssp_dpos_member *m = NULL, *last = NULL;
	size_t k = 0, nlast = 0;
	uint64_t prev, full;
	ssp_buf b;
	ssp_buf_init(&b, (size_t)SSP_DPOS_SET_MAX * 200);
	/* key order: the list comes sorted by account */
	int rc = ssp_state_scan(st, SSP_TB_DPOS_DELEGATE, dpos_dlist_visit, &l);
	if (rc == 1) rc = l.err;
	if (rc) goto out;
	cands = ssp_malloc((l.n ? l.n : 1) * sizeof *cands);
	won = ssp_malloc(p->set_size * sizeof *won);
	m = ssp_malloc(SSP_DPOS_SET_MAX * sizeof *m);
	last = ssp_malloc(SSP_DPOS_SET_MAX * sizeof *last);
	if (!cands || !won || !m || !last) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.n && !rc; i++) {
		/* on probation or deactivated by the productivity rules: weight 0, never elected */
		bool out = dpos_prod_excluded(st, &l.d[i].account, round, &rc);
		cands[i] = (ssp_dpos_cand){.id = l.d[i].account,
		                           .weight = out ? 0 : ssp_dpos_capped_weight(&l.d[i])};
	}
	if (rc) goto out;
	rc = ssp_dpos_elect(won, &k, cands, l.n, p->set_size, p->standby, p->max_rank, seed);
	if (rc || !k) goto out; /* nobody of weight > 0: no record, the set in force stays */
	for (size_t i = 0; i < k; i++) {
		const ssp_delegate *d = bsearch(won[i].id.b, l.d, l.n, sizeof *l.d, addr_key_cmp);
		if (!d) {
			rc = SSP_ERR_INTERNAL; /* the election returns candidates only */
			goto out;
		}
		m[i] = (ssp_dpos_member){.account = d->account,
		                         .key = d->node_key,
		                         .onion = d->onion,
		                         .onion_round = d->onion_round};
	}
	/* an unchanged set refers to the full record it repeats */
	if ((rc = dpos_meta_get(st, k_set_last, &prev))) goto out;
	rc = prev ? ssp_dpos_set_read(st, prev, last, &nlast, &full) : SSP_ERR_NOTFOUND;
	if (rc == SSP_ERR_NOTFOUND) rc = 0; /* no earlier record (0 is never a record's round) */
	if (rc) goto out;
	if (prev && nlast && (rc = bound_churn(p, l.d, cands, l.n, last, nlast, m, &k))) goto out;
	if (prev && nlast == k && same_members(last, m, k))
		ssp_dpos_set_encode_ref(&b, full);
	else
		ssp_dpos_set_encode_full(&b, m, k);
	uint8_t key[8];
	ssp_be64_put(key, round);
	if (!(rc = b.err) && !(rc = ssp_state_put(st, SSP_TB_DPOS_SET, key, 8, b.data, b.len)))
		rc = dpos_meta_set(st, k_set_last, round);
out:
	ssp_buf_free(&b);
	free(l.d);
	free(cands);
	free(won);
	free(m);
	free(last);
	return rc;
}

int dpos_set_begin(const dpos_chain *dc, ssp_state *st, const ssp_block_start *b)
{
	const uint64_t n = ssp_genesis_dpos(dc->g)->set_size;
	const uint64_t round = b->slot / n, window = (2 * n + 2) / 3; /* ceil(2n/3) */
	bool fold = !is_zero(&b->parent_reveal) && b->parent_slot % n < window;
	bool first = b->parent_slot / n < round; /* the first block of its round on the chain */
	ssp_hash acc, seed;
	int rc;
	if (!fold && !first) return 0;
	if ((rc = hash_meta_get(st, k_acc, &acc))) return rc;
	if (fold)
		for (size_t i = 0; i < 32; i++)
			acc.b[i] ^= b->parent_reveal.b[i];
	if (!first) return hash_meta_set(st, k_acc, &acc);
	/* the round's seed from the previous one and the window's reveals */
	static const char tag[] = "ssp-bft-seed";
	uint8_t msg[sizeof tag - 1 + 32 + 32 + 8];
	if ((rc = hash_meta_get(st, k_seed, &seed))) return rc;
	memcpy(msg, tag, sizeof tag - 1);
	memcpy(msg + sizeof tag - 1, seed.b, 32);
	memcpy(msg + sizeof tag - 1 + 32, acc.b, 32);
	ssp_le64_put(msg + sizeof tag - 1 + 64, round);
	ssp_sha256(&seed, msg, sizeof msg);
	memset(&acc, 0, sizeof acc);
	if ((rc = hash_meta_set(st, k_seed, &seed)) || (rc = hash_meta_set(st, k_acc, &acc)))
		return rc;
	return elect_and_record(dc, st, round, &seed);
}

int ssp_dpos_set_get(const ssp_chain *c, ssp_txn *rt, uint64_t round, ssp_dpos_member **out,
                     size_t *n)
{
	ssp_state *st = NULL;
	ssp_dpos_member *m = NULL;
	uint64_t full;
	*out = NULL;
	*n = 0;
	int rc = ssp_chain_state_view(c, rt, &st);
	if (rc) return rc;
	m = ssp_malloc(SSP_DPOS_SET_MAX * sizeof *m);
	if (!m) {
		rc = SSP_ERR_NOMEM;
		goto out;
	}
	rc = ssp_dpos_set_read(st, round, m, n, &full);
	if (!rc) {
		/* shrink to what it holds (a failed shrink keeps the larger block) */
		ssp_dpos_member *s = realloc(m, *n * sizeof *m);
		*out = s ? s : m;
		m = NULL;
	}
out:
	free(m);
	ssp_state_close(st);
	return rc;
}

int ssp_dpos_set_latest(const ssp_chain *c, ssp_txn *rt, uint64_t *round)
{
	ssp_state *st = NULL;
	int rc = ssp_chain_state_view(c, rt, &st);
	if (rc) return rc;
	rc = dpos_meta_get(st, k_set_last, round);
	if (!rc && !*round) rc = SSP_ERR_NOTFOUND;
	ssp_state_close(st);
	return rc;
}
