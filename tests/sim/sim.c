/*
 * sim.c — ssp_sim, the deterministic simulator of the BFT consensus rules
 * (tests; TigerBeetle's VOPR and FoundationDB's simulation are the models).
 * One process runs n = 4..200 delegates, each with its own copy of the real
 * state machine (ssp/bft.h, libssp_consensus), over a simulated network
 * with latency, loss, reordering, partitions, crashes and restarts and
 * clock skew, with Byzantine delegates (fewer than a third) that
 * equivocate, double and surround vote, withhold votes and forge onion
 * reveals. Everything random comes from one seeded xoshiro256** generator:
 * a seed replays exactly. Checked after every event: no two conflicting
 * blocks final at honest nodes (safety), honest nodes never accept a
 * forged reveal or reject an honest block for anything but conflict with
 * their final block, evidence only ever names Byzantine delegates, and the
 * supply of the run's ledger (stakes, balances, pool: blocks paid once
 * final, slashes) never changes; at the
 * end: every equivocation an honest node saw both halves of was slashed,
 * and finality resumed within LIVE_SLOTS slots after the network healed.
 * With --elect the delegate set changes: a pool larger than the set, each
 * round's first block electing (ssp_bft_set_elected) a set that swaps a
 * bounded number of members, second onions registered on the way, and at
 * the end the check that the final chain really went through other sets.
 * docs/internals/consensus.md describes it; `ssp_sim --help` the options.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssp/bft.h"

#define SLOT_MS 1000
#define GENESIS_MS 1000000
#define ONION_LEN 1024
#define VOTE_FANOUT 3  /* votes go to the producers of the next 3 slots */
#define LIVE_SLOTS 16  /* finality must resume within this many slots after heal */
#define FETCH_DEPTH 16 /* ancestors sent for one fetch */
#define ORPHANS_MAX 4096
#define PENDING_MAX 8192
#define UNTOLD_MAX 1024 /* --elect: elections a node tells at its next tick */

/* ------------------------------------------------------------------ PRNG */

typedef struct {
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* uniform in [lo, hi] */
static uint64_t rng_range(rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

/* true with probability permille/1000 */
static bool rng_chance(rng *r, uint32_t permille)
{
	return rng_next(r) % 1000 < permille;
}

/* ------------------------------------------------------------ the world */

enum { B_EQUIV = 1, B_DOUBLE_VOTE = 2, B_SURROUND = 4, B_WITHHOLD = 8, B_FORGE = 16 };

typedef struct {
	ssp_bft_block h;
	bool forged;
	int32_t act; /* equivocation act it is half `half` of, or -1 */
	uint8_t half;
	uint32_t node; /* the pool member that made it */
} gblock;

typedef struct {
	ssp_bft_vote v;
	int32_t act;
	uint8_t half;
	uint32_t node; /* the pool member that cast it */
} gvote;

/* An equivocation: both halves were sent to the witnesses. */
#define WITNESSES 4
typedef struct {
	uint32_t offender;
	uint32_t w[WITNESSES];
	uint8_t seen[WITNESSES]; /* bit h: half h processed by w[i] since its last restart */
	uint32_t nw;
	uint8_t kind;
} gact;

typedef struct {
	ssp_bft *m;
	bool up, byz;
	unsigned behav;
	int64_t skew_ms;
	ssp_bft_watermark wm; /* persisted: survives a crash */
	ssp_hash secret;      /* persisted */
	/* --reregister: a second onion (persisted), registered in round reg_round
	 * (UINT64_MAX: never); sets elected from a block of that round or later carry it */
	ssp_hash secret2, onion2;
	uint64_t reg_round;
	uint32_t group;
	uint32_t *orphans; /* gblock indexes */
	uint32_t norphans;
	uint32_t *pending; /* gvote indexes whose blocks are unknown */
	uint32_t npending;
	ssp_hash voted; /* the last head voted for */
	uint64_t restart_slot;
	bool qc_pending;   /* the watermark's QC, to hand back after a restart */
	uint32_t *myvotes; /* Byzantine: every vote cast (gvote indexes) */
	uint32_t nmyvotes, capmyvotes;
	uint32_t *untold; /* --elect: blocks whose election it tells at its next tick */
	uint32_t nuntold;
	uint32_t disk_head; /* --elect: its head when it crashed (its chain store), or UINT32_MAX */
} snode;

enum { EV_TICK, EV_BLOCK, EV_VOTE, EV_FETCH, EV_SYNC };

typedef struct {
	uint64_t t, seq;
	uint8_t kind;
	uint32_t to, from, arg;
} event;

typedef struct {
	/* options */
	uint64_t seed;
	const char *brk;
	uint32_t n_force;
	bool small;      /* --small: 4..40 delegates in every seed */
	bool no_compact; /* --no-compact: the machines never drop a block */
	bool elect;      /* --elect: sets change (a pool of np > n delegates) */
	bool rereg;      /* --reregister: members register a new onion in every seed */
	int verbose;
	/* parameters drawn from the seed: n the set size, np the pool (n without
	 * --elect; node i holds keys[i]), L the slots per round */
	uint32_t n, np, L, f;
	uint32_t loss_pm, spike_pm, lat_min, lat_max, crash_pm;
	uint64_t part_start, part_end, calm, end; /* slots */
	bool minority_cut;
	/* state */
	rng r;
	snode *nodes;
	ssp_pubkey *keys;
	ssp_hash *onion;
	ssp_bft_params params;
	gblock *blocks;
	uint32_t nblocks, capblocks;
	gvote *votes;
	uint32_t nvotes, capvotes;
	gact *acts;
	uint32_t nacts, capacts;
	event *heap;
	uint32_t nheap, capheap;
	uint64_t seq, now;
	bool calm_on;
	bool *slashed;
	/*
	 * The ledger: the chain's money rules applied to what the run decides
	 * (the staking module's own code is tested on real chains): every
	 * delegate's stake and balance and the pool. A block paid once final on
	 * the global final chain (the 30% block part), a slash moving 10% of
	 * the offender's stake, half to the pool and half to the reporter. The
	 * supply (stakes + balances + pool) is checked after every change.
	 */
	uint64_t *stake, *bal, pool, supply;
	uint64_t n_paid;
	/* the highest final block at any honest node */
	uint32_t final_g;
	/* --elect: the elections' salt, scratch for one election, the figures */
	uint64_t elect_salt;
	ssp_pubkey *ekeys;
	ssp_hash *eonion;
	uint64_t *eround;
	uint32_t *eix, cmax; /* cmax: members an election may swap (setup) */
	bool *made, *ein, stop, churn;
	bool rr_on; /* members register second onions in this run */
	uint64_t n_told, n_set_waits, n_final_elected;
	uint32_t n_final_keys; /* distinct producers of the final chain (at the end) */
	/* figures */
	uint64_t n_events, n_final_moves, n_evidence, n_forged_rejected, n_crashes, n_equiv;
	size_t max_held; /* the most blocks any machine held */
	uint64_t trace;  /* a digest of every event processed, for --replay-check */
	char fail[512];
} sim;

static uint32_t gix(const ssp_hash *id)
{
	uint32_t i;
	memcpy(&i, id->b, 4);
	return i;
}

#define GROW(arr, n, cap)                                                          \
	do {                                                                       \
		if ((n) == (cap)) {                                                \
			(cap) = (cap) ? (cap)*2 : 64;                              \
			void *np_ = realloc((arr), (size_t)(cap) * sizeof *(arr)); \
			if (!np_) abort();                                         \
			(arr) = np_;                                               \
		}                                                                  \
	} while (0)

static void failf(sim *s, const char *what, uint32_t node)
{
	if (s->fail[0]) return;
	snprintf(s->fail, sizeof s->fail, "slot %" PRIu64 " node %u: %s",
	         (s->now - GENESIS_MS) / SLOT_MS, node, what);
}

/* ------------------------------------------------------------ event queue */

static bool ev_less(const event *a, const event *b)
{
	return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void push(sim *s, uint64_t t, uint8_t kind, uint32_t to, uint32_t from, uint32_t arg)
{
	GROW(s->heap, s->nheap, s->capheap);
	event e = {t, s->seq++, kind, to, from, arg};
	uint32_t i = s->nheap++;
	while (i > 0 && ev_less(&e, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static event pop(sim *s)
{
	event top = s->heap[0], last = s->heap[--s->nheap];
	uint32_t i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= s->nheap) break;
		if (c + 1 < s->nheap && ev_less(&s->heap[c + 1], &s->heap[c])) c++;
		if (!ev_less(&s->heap[c], &last)) break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap) s->heap[i] = last;
	return top;
}

/* ---------------------------------------------------------------- network */

static bool linked(const sim *s, uint32_t a, uint32_t b)
{
	const snode *x = &s->nodes[a], *y = &s->nodes[b];
	return x->byz || y->byz || x->group == y->group; /* Byzantine nodes bridge partitions */
}

/* Sends a message; `reliable` skips loss (equivocation halves to witnesses). */
static void send(sim *s, uint8_t kind, uint32_t from, uint32_t to, uint32_t arg, bool reliable)
{
	if (from == to) {
		push(s, s->now, kind, to, from, arg);
		return;
	}
	if (!linked(s, from, to)) return;
	if (!reliable && !s->calm_on && rng_chance(&s->r, s->loss_pm)) return;
	uint64_t lat = rng_range(&s->r, s->lat_min, s->lat_max);
	if (!s->calm_on && rng_chance(&s->r, s->spike_pm)) lat += rng_range(&s->r, 0, 3 * SLOT_MS);
	push(s, s->now + lat, kind, to, from, arg);
}

static uint64_t local_slot(const sim *s, uint32_t i)
{
	int64_t t = (int64_t)s->now + s->nodes[i].skew_ms - GENESIS_MS;
	return t < 0 ? 0 : (uint64_t)t / SLOT_MS;
}

/* -------------------------------------------------------------- elections */

/* The pool member holding key (UINT32_MAX: none). */
static uint32_t key_node(const sim *s, const ssp_pubkey *key)
{
	for (uint32_t i = 0; i < s->np; i++)
		if (s->keys[i].type == key->type && s->keys[i].len == key->len &&
		    !memcmp(s->keys[i].b, key->b, key->len))
			return i;
	return UINT32_MAX;
}

/* The pool member producing `slot` on parent's branch in m's view (UINT32_MAX: unknown,
 * or an election it needs was not told yet). Without --elect, index = member. */
static uint32_t slot_producer(const sim *s, ssp_bft *m, const ssp_hash *parent, uint64_t slot)
{
	uint32_t p;
	if (!s->elect) return ssp_bft_producer(m, &p, parent, slot) ? UINT32_MAX : p;
	ssp_bft_set set;
	if (ssp_bft_slot_set(m, &set, &p, parent, slot)) return UINT32_MAX;
	return key_node(s, &set.keys[p]);
}

/* Node i's index in the set a vote for target is counted in (UINT32_MAX: not a member). */
static uint32_t vote_index(const sim *s, uint32_t i, const ssp_bft_ref *target)
{
	if (!s->elect) return i;
	ssp_bft_set set;
	if (ssp_bft_block_set(s->nodes[i].m, &set, target)) return UINT32_MAX;
	return ssp_bft_set_index(&set, &s->keys[i]);
}

static uint64_t mix64(uint64_t z)
{
	return splitmix64(&z);
}

/*
 * What a block F that begins a round elects, as every honest node's state
 * would give it: a function of the block (its id, slot, and through its
 * branch the set of its round, cur) and never of the view or of the run's
 * generator. The election replaces cur (it applies after F's round, where
 * cur is in force): in an odd round cur with 1..cmax members swapped for
 * pool members outside it (so a run's sets surely change); in an even one a
 * third each: none (false: the set in force stays), cur again, or such a
 * swap. cmax bounds the churn (setup; --break churn: any number). *out
 * points into s's scratch until the next call.
 */
static bool election_of(sim *s, ssp_bft_set *out, const ssp_bft_block *b, uint64_t salt,
                        const ssp_bft_set *cur)
{
	uint64_t h = mix64(salt ^ b->slot);
	for (int k = 0; k < 32; k += 8) {
		uint64_t w;
		memcpy(&w, b->id.b + k, 8);
		h = mix64(h ^ w);
	}
	rng r;
	rng_seed(&r, h);
	uint64_t rf = ssp_bft_round(b->slot, s->L);
	uint64_t pick = rf % 2 ? 2 : rng_next(&r) % 3;
	if (pick == 0) return false;
	/* ix[0..n): cur's members, ix[n..np): the rest of the pool */
	uint32_t *ix = s->eix, n = s->n, no = n;
	memset(s->ein, 0, s->np * sizeof *s->ein);
	for (uint32_t k = 0; k < n; k++) {
		ix[k] = key_node(s, &cur->keys[k]);
		if (ix[k] == UINT32_MAX) abort(); /* every key of a set is a pool member's */
		s->ein[ix[k]] = true;
	}
	for (uint32_t i = 0; i < s->np; i++)
		if (!s->ein[i]) ix[no++] = i;
	uint32_t nout = s->np - n, cmax = s->churn ? n : s->cmax;
	if (cmax > nout) cmax = nout;
	if (pick == 2 && cmax > 0) {
		uint32_t c = 1 + (uint32_t)(rng_next(&r) % cmax), t;
		for (uint32_t j = 0; j < c; j++) {
			uint32_t o =
			    n + j + (uint32_t)(rng_next(&r) % (nout - j)); /* an outsider */
			t = ix[n + j], ix[n + j] = ix[o], ix[o] = t;
			uint32_t k =
			    j + (uint32_t)(rng_next(&r) % (n - j)); /* the member it replaces */
			t = ix[j], ix[j] = ix[k], ix[k] = t;
			t = ix[j], ix[j] = ix[n + j], ix[n + j] = t;
		}
	}
	for (uint32_t k = 1; k < n; k++) /* members by pool index (tidy; any order works) */
		for (uint32_t j = k; j > 0 && ix[j - 1] > ix[j]; j--) {
			uint32_t t = ix[j];
			ix[j] = ix[j - 1];
			ix[j - 1] = t;
		}
	for (uint32_t k = 0; k < n; k++) {
		const snode *x = &s->nodes[ix[k]];
		s->ekeys[k] = s->keys[ix[k]];
		/* the registration in force at the block: the commitment of round -1, or
		 * the second onion from its registration's round */
		bool second = x->reg_round != UINT64_MAX && x->reg_round <= rf;
		s->eonion[k] = second ? x->onion2 : s->onion[ix[k]];
		s->eround[k] = second ? x->reg_round : UINT64_MAX;
	}
	*out =
	    (ssp_bft_set){.n = n, .keys = s->ekeys, .onion = s->eonion, .onion_round = s->eround};
	return true;
}

static void tell(sim *s, uint32_t i, uint32_t g)
{
	ssp_bft_set set, cur;
	const ssp_bft_block *h = &s->blocks[g].h;
	ssp_bft_ref f = {h->height, h->id};
	if (ssp_bft_block_set(s->nodes[i].m, &cur, &f)) return; /* dropped: decided already */
	/* --break election: odd pool members read another election from the same block */
	uint64_t salt = s->elect_salt ^ (!strcmp(s->brk, "election") && i % 2);
	bool some = election_of(s, &set, h, salt, &cur);
	int rc = ssp_bft_set_elected(s->nodes[i].m, &s->blocks[g].h.id, some ? &set : NULL);
	if (rc == SSP_ERR_NOMEM) abort();
	if (rc == 0) s->n_told++;
	/* NOTFOUND: a deferred one whose block the final block left behind */
	if (rc && rc != SSP_ERR_NOTFOUND) failf(s, "an election was refused", i);
}

/*
 * Node i's machine added block g: a block that begins a round (its parent's
 * round before its own) has its election told — at once, or 1 in 4 later
 * (each slot tick tells a deferred one with probability 1/2: a node that
 * reads it from the block's state late), so blocks needing it wait with
 * BFT_SET meanwhile, and it may be told once the block is final or dropped.
 */
static void on_added(sim *s, uint32_t i, uint32_t g)
{
	if (!s->elect) return;
	const ssp_bft_block *h = &s->blocks[g].h;
	uint32_t pg = gix(&h->parent);
	uint64_t ps = pg == UINT32_MAX ? 0 : s->blocks[pg].h.slot;
	if (ssp_bft_round(h->slot, s->L) == ssp_bft_round(ps, s->L)) return;
	snode *x = &s->nodes[i];
	if (x->nuntold < UNTOLD_MAX && rng_chance(&s->r, 250)) {
		x->untold[x->nuntold++] = g;
		return;
	}
	tell(s, i, g);
}

/* ----------------------------------------------------------------- blocks */

static uint32_t register_block(sim *s, ssp_bft_block *h, bool forged, uint32_t node)
{
	GROW(s->blocks, s->nblocks, s->capblocks);
	uint32_t g = s->nblocks++;
	/* the id: its registry index, then a hash of the header (unique per block) */
	const void *parts[6] = {&g, h->parent.b, &h->slot, &h->time_ms, h->reveal.b, &h->producer};
	size_t lens[6] = {4, 32, 8, 8, 32, 4};
	ssp_sha256v(&h->id, parts, lens, 6);
	memcpy(h->id.b, &g, 4);
	s->blocks[g] = (gblock){*h, forged, -1, 0, node};
	return g;
}

/* a is b or an ancestor of b, in the global registry */
static bool g_descends(const sim *s, uint32_t a, uint32_t b)
{
	uint64_t ha = a == UINT32_MAX ? 0 : s->blocks[a].h.height;
	while (b != UINT32_MAX && s->blocks[b].h.height > ha)
		b = gix(&s->blocks[b].h.parent);
	return a == b;
}

/* The genesis set: the pool's first n members, in that order. */
static bool is_genesis_set(const sim *s, const ssp_bft_set *set)
{
	if (set->n != s->n) return false;
	for (uint32_t k = 0; k < s->n; k++)
		if (memcmp(&set->keys[k], &s->keys[k], sizeof set->keys[k])) return false;
	return true;
}

#define SIM_STAKE 1000000u
#define SIM_POOL 100000000u
#define SIM_BLOCK_REWARD 30u

static void check_supply(sim *s, uint32_t i)
{
	uint64_t sum = s->pool;
	for (uint32_t k = 0; k < s->np; k++)
		sum += s->stake[k] + s->bal[k];
	if (sum != s->supply) failf(s, "SUPPLY: stakes + balances + pool changed", i);
}

/* The blocks made final by the move of the global final block from `from` to g, paid. */
static void pay_final(sim *s, uint32_t i, uint32_t from, uint32_t g)
{
	uint64_t fh = from == UINT32_MAX ? 0 : s->blocks[from].h.height;
	for (uint32_t x = g; x != UINT32_MAX && s->blocks[x].h.height > fh;
	     x = gix(&s->blocks[x].h.parent)) {
		uint32_t o = s->blocks[x].node;
		uint64_t r = s->pool < SIM_BLOCK_REWARD ? s->pool : SIM_BLOCK_REWARD;
		s->pool -= r;
		s->bal[o] += r;
		s->n_paid++;
	}
	check_supply(s, i);
}

/* Node i reported offender o: 10% of its stake, half to the pool, half to i. */
static void slash(sim *s, uint32_t i, uint32_t o)
{
	uint64_t cut = s->stake[o] / 10;
	s->stake[o] -= cut;
	s->pool += cut / 2;
	s->bal[i] += cut - cut / 2;
	check_supply(s, i);
}

static void check_final(sim *s, uint32_t i)
{
	snode *x = &s->nodes[i];
	if (x->byz || !x->up) return;
	if (ssp_bft_conflicted(x->m)) failf(s, "SAFETY: conflicting final blocks in one view", i);
	ssp_bft_ref f;
	ssp_bft_final(x->m, &f);
	size_t held = ssp_bft_count(x->m);
	if (held > s->max_held) s->max_held = held;
	if (!s->no_compact) {
		/* compaction on every move (compact_min 1): the final block is the root */
		ssp_bft_block root;
		ssp_bft_at(x->m, &root, 0);
		if (memcmp(root.id.b, f.id.b, 32))
			failf(s, "COMPACTION: the final block is not the root", i);
	}
	if (f.height == 0) return;
	uint32_t g = gix(&f.id);
	uint32_t top = s->final_g;
	if (g == top) return;
	uint64_t th = top == UINT32_MAX ? 0 : s->blocks[top].h.height;
	if (f.height <= th) {
		if (!g_descends(s, g, top)) failf(s, "SAFETY: two conflicting final blocks", i);
	} else {
		if (!g_descends(s, top, g)) failf(s, "SAFETY: two conflicting final blocks", i);
		pay_final(s, i, top, g);
		s->final_g = g;
		s->n_final_moves++;
		ssp_bft_set set;
		if (s->elect && !ssp_bft_block_set(x->m, &set, &f) && !is_genesis_set(s, &set))
			s->n_final_elected++; /* the new final block's round had an elected set */
	}
}

static void act_seen(sim *s, int32_t act, uint8_t half, uint32_t node)
{
	if (act < 0 || s->nodes[node].byz) return;
	gact *a = &s->acts[act];
	for (uint32_t k = 0; k < a->nw; k++)
		if (a->w[k] == node) a->seen[k] |= (uint8_t)(1u << half);
}

/*
 * A vote node i's machine took (0): a half of an act, unless --elect and
 * the view knows no set for its target (a block it never held, off the
 * final branch): an index into an unknown set names no key, so the machine
 * cannot record it (bft.h, ssp_bft_add_vote) and no evidence can follow.
 */
static void vote_seen(sim *s, uint32_t i, uint32_t vi)
{
	ssp_bft_set set;
	if (s->elect && ssp_bft_block_set(s->nodes[i].m, &set, &s->votes[vi].v.target)) return;
	act_seen(s, s->votes[vi].act, s->votes[vi].half, i);
}

static void drain_evidence(sim *s, uint32_t i)
{
	ssp_bft_evidence e;
	while (ssp_bft_evidence_pop(s->nodes[i].m, &e)) {
		if (s->nodes[i].byz) continue;
		if (!ssp_bft_evidence_valid(&e)) failf(s, "evidence that does not hold", i);
		/* the offender by its key (indexes differ between sets) */
		uint32_t o = key_node(s, &e.key);
		if (o == UINT32_MAX || (!s->elect && o != e.offender)) {
			failf(s, "evidence names a key that is not the offender's", i);
			continue;
		}
		if (!s->nodes[o].byz) failf(s, "evidence against an honest delegate", i);
		if (!s->slashed[o]) {
			s->n_evidence++;
			slash(s, i, o); /* one incident, one ban: once per delegate */
		}
		s->slashed[o] = true;
	}
}

static void cast_vote(sim *s, uint32_t i, const ssp_bft_vote *v);

/* An honest node votes for its head when the watermark allows it. */
static void maybe_vote(sim *s, uint32_t i)
{
	snode *x = &s->nodes[i];
	if (x->byz) return;
	ssp_bft_ref head;
	ssp_bft_head(x->m, &head);
	if (head.height == 0 || !memcmp(head.id.b, x->voted.b, 32)) return;
	ssp_bft_vote v;
	ssp_bft_qc qc;
	ssp_bft_watermark next;
	uint32_t me = vote_index(s, i, &head); /* outside the head's set: no vote */
	if (me == UINT32_MAX || ssp_bft_vote_for(x->m, &v, &qc, me, &head.id)) return;
	if (!strcmp(s->brk, "watermark") && x->restart_slot) {
		next = x->wm; /* the broken rule: a restarted node forgets its watermark */
		next.vote_source = v.source;
		next.vote_target = v.target;
	} else if (ssp_bft_may_vote(&next, &x->wm, &v.source, &v.target, &qc)) {
		return;
	}
	x->wm = next; /* persisted before the vote leaves */
	x->voted = head.id;
	cast_vote(s, i, &v);
}

static void try_pending(sim *s, uint32_t i);

static void on_block(sim *s, uint32_t i, uint32_t from, uint32_t g)
{
	snode *x = &s->nodes[i];
	const gblock *b = &s->blocks[g];
	int rc = ssp_bft_add_block(x->m, &b->h);
	if (rc == SSP_ERR_NOTFOUND || rc == SSP_ERR_BFT_SET) {
		/* an unknown parent: kept and fetched; an election not told yet: kept
		 * until it is (try_pending) */
		if (x->norphans < ORPHANS_MAX) {
			for (uint32_t k = 0; k < x->norphans; k++)
				if (x->orphans[k] == g) return;
			x->orphans[x->norphans++] = g;
		}
		if (rc == SSP_ERR_NOTFOUND)
			send(s, EV_FETCH, i, from, gix(&b->h.parent), false);
		else
			s->n_set_waits++;
		return;
	}
	if (rc == SSP_ERR_NOMEM) abort();
	if (rc && rc != SSP_ERR_EXISTS) {
		if (b->forged && rc == SSP_ERR_BFT_REVEAL) {
			s->n_forged_rejected++;
		} else if (!x->byz && !b->forged && rc != SSP_ERR_BFT_CONFLICT &&
		           rc != SSP_ERR_BUSY) {
			char msg[128];
			snprintf(msg, sizeof msg, "honest block %u rejected: %s", g,
			         ssp_errname(rc));
			failf(s, msg, i);
		}
		return;
	}
	if (b->forged && !x->byz && rc == 0) failf(s, "a forged reveal was accepted", i);
	act_seen(s, b->act, b->half, i);
	if (rc == 0) {
		on_added(s, i, g);
		drain_evidence(s, i);
		try_pending(s, i);
		check_final(s, i);
		maybe_vote(s, i);
	}
}

static void on_vote(sim *s, uint32_t i, uint32_t vi)
{
	snode *x = &s->nodes[i];
	int rc = ssp_bft_add_vote(x->m, &s->votes[vi].v);
	if (rc == SSP_ERR_NOTFOUND) {
		if (x->npending < PENDING_MAX) x->pending[x->npending++] = vi;
		return;
	}
	if (rc == SSP_ERR_NOMEM) abort();
	if (rc == SSP_ERR_INVAL && !s->nodes[s->votes[vi].node].byz)
		failf(s, "an honest vote refused (INVAL)", i);
	if (rc) return;
	vote_seen(s, i, vi);
	drain_evidence(s, i);
	check_final(s, i);
	maybe_vote(s, i);
}

/* Orphans and votes waiting for blocks, after a block was added. */
static void try_pending(sim *s, uint32_t i)
{
	snode *x = &s->nodes[i];
	bool progress = true;
	while (progress) {
		progress = false;
		for (uint32_t k = 0; k < x->norphans; k++) {
			uint32_t g = x->orphans[k];
			int rc = ssp_bft_add_block(x->m, &s->blocks[g].h);
			if (rc == SSP_ERR_NOTFOUND || rc == SSP_ERR_BFT_SET) continue;
			x->orphans[k--] = x->orphans[--x->norphans];
			if (rc == 0) {
				progress = true;
				on_added(s, i, g);
				act_seen(s, s->blocks[g].act, s->blocks[g].half, i);
				drain_evidence(s, i);
			} else if (!x->byz && !s->blocks[g].forged && rc != SSP_ERR_EXISTS &&
			           rc != SSP_ERR_BFT_CONFLICT && rc != SSP_ERR_BUSY) {
				failf(s, "honest orphan rejected", i);
			} else if (!x->byz && s->blocks[g].forged && rc == 0) {
				failf(s, "a forged reveal was accepted", i);
			}
		}
	}
	if (x->qc_pending) {
		int rc = ssp_bft_add_qc(x->m, &x->wm.source_qc);
		if (rc != SSP_ERR_NOTFOUND) x->qc_pending = false;
		if (rc && rc != SSP_ERR_NOTFOUND) failf(s, "the watermark's QC was refused", i);
	}
	for (uint32_t k = 0; k < x->npending; k++) {
		uint32_t vi = x->pending[k];
		int rc = ssp_bft_add_vote(x->m, &s->votes[vi].v);
		if (rc == SSP_ERR_NOTFOUND) continue;
		x->pending[k--] = x->pending[--x->npending];
		if (rc == SSP_ERR_INVAL && !s->nodes[s->votes[vi].node].byz)
			failf(s, "an honest vote refused (INVAL)", i);
		if (rc == 0) vote_seen(s, i, vi);
	}
	drain_evidence(s, i);
}

/* ------------------------------------------------------------------ votes */

/* The recipients of a vote: the producers of the next VOTE_FANOUT slots on the target's branch. */
static uint32_t vote_targets(sim *s, uint32_t i, const ssp_hash *target, uint32_t *to)
{
	snode *x = &s->nodes[i];
	ssp_bft_block tb;
	uint32_t nto = 0;
	if (!ssp_bft_get(x->m, &tb, target)) return 0;
	uint64_t cur = local_slot(s, i);
	if (cur < tb.slot) cur = tb.slot;
	for (uint64_t sl = cur + 1; sl <= cur + VOTE_FANOUT; sl++) {
		uint32_t p = slot_producer(s, x->m, target, sl);
		if (p == UINT32_MAX) continue;
		bool dup = false;
		for (uint32_t k = 0; k < nto; k++)
			dup |= to[k] == p;
		if (!dup) to[nto++] = p;
	}
	return nto;
}

static uint32_t new_vote(sim *s, const ssp_bft_vote *v, int32_t act, uint8_t half, uint32_t node)
{
	GROW(s->votes, s->nvotes, s->capvotes);
	s->votes[s->nvotes] = (gvote){*v, act, half, node};
	return s->nvotes++;
}

static void cast_vote(sim *s, uint32_t i, const ssp_bft_vote *v)
{
	snode *x = &s->nodes[i];
	uint32_t to[VOTE_FANOUT + 1];
	uint32_t nto = vote_targets(s, i, &v->target.id, to);
	int32_t act = -1;
	uint32_t other = UINT32_MAX;
	if (x->byz) { /* is it an equivocation? then both halves go to the recipients */
		/* by the key: its index differs between the sets of its votes' targets */
		ssp_bft_vote c = *v, o;
		c.voter = 0;
		for (uint32_t k = 0; k < x->nmyvotes && other == UINT32_MAX; k++) {
			o = s->votes[x->myvotes[k]].v;
			o.voter = 0;
			if (ssp_bft_votes_conflict(&o, &c)) other = x->myvotes[k];
		}
		if (other != UINT32_MAX) {
			GROW(s->acts, s->nacts, s->capacts);
			gact *a = &s->acts[s->nacts];
			memset(a, 0, sizeof *a);
			a->offender = i;
			o = s->votes[other].v;
			o.voter = 0;
			a->kind = (uint8_t)ssp_bft_votes_conflict(&o, &c);
			for (uint32_t k = 0; k < nto && a->nw < WITNESSES; k++)
				if (!s->nodes[to[k]].byz && s->nodes[to[k]].up)
					a->w[a->nw++] = to[k];
			act = (int32_t)s->nacts++;
			s->n_equiv++;
		}
	}
	uint32_t vi = new_vote(s, v, act, 1, i);
	if (x->byz) {
		GROW(x->myvotes, x->nmyvotes, x->capmyvotes);
		x->myvotes[x->nmyvotes++] = vi;
	}
	for (uint32_t k = 0; k < nto; k++) {
		if (act >= 0) {
			ssp_bft_vote ov = s->votes[other].v; /* new_vote may move s->votes */
			uint32_t oi = new_vote(s, &ov, act, 0, i);
			send(s, EV_VOTE, i, to[k], oi, true);
			send(s, EV_VOTE, i, to[k], vi, true);
		} else {
			send(s, EV_VOTE, i, to[k], vi, false);
		}
	}
	if (!x->byz) push(s, s->now, EV_VOTE, i, i, vi); /* its own vote counts too */
}

/* A Byzantine delegate's votes on a new block: per its behaviour. */
static void byz_votes(sim *s, uint32_t i, uint32_t g)
{
	snode *x = &s->nodes[i];
	if (x->behav & B_WITHHOLD) return;
	ssp_bft_vote v;
	ssp_bft_ref t = {s->blocks[g].h.height, s->blocks[g].h.id};
	uint32_t me = vote_index(s, i, &t); /* a member of the set of g's round only */
	if (me == UINT32_MAX || ssp_bft_vote_for(x->m, &v, NULL, me, &t.id)) return;
	if (!(x->behav & (B_DOUBLE_VOTE | B_SURROUND))) {
		/* votes like an honest delegate, for its head */
		ssp_bft_ref head;
		ssp_bft_head(x->m, &head);
		ssp_bft_watermark next;
		if (head.height == 0) return;
		me = vote_index(s, i, &head);
		if (me == UINT32_MAX || ssp_bft_vote_for(x->m, &v, NULL, me, &head.id)) return;
		if (ssp_bft_may_vote(&next, &x->wm, &v.source, &v.target, NULL)) return;
		x->wm = next;
		cast_vote(s, i, &v);
		return;
	}
	cast_vote(s, i, &v); /* every block it sees, on every branch */
	if ((x->behav & B_DOUBLE_VOTE) && v.source.height > 0 && rng_chance(&s->r, 300)) {
		ssp_bft_vote w = v; /* the same target from another source: a double vote */
		w.source = (ssp_bft_ref){0, s->params.genesis_id};
		cast_vote(s, i, &w);
	} else if ((x->behav & B_SURROUND) && v.target.height > 2 && rng_chance(&s->r, 300)) {
		ssp_bft_vote w = v; /* from genesis over its earlier votes: a surround vote */
		w.source = (ssp_bft_ref){0, s->params.genesis_id};
		cast_vote(s, i, &w);
	}
}

/* ---------------------------------------------------------------- produce */

static void broadcast_block(sim *s, uint32_t i, uint32_t g, uint32_t half)
{
	/* half 0: everyone; 1 or 2: one side (the partition group, else index parity) */
	for (uint32_t k = 0; k < s->np; k++) {
		if (k == i) continue;
		if (half) {
			bool side = s->part_start < s->part_end &&
			                    s->now >= s->part_start * SLOT_MS &&
			                    s->now < s->part_end * SLOT_MS
			                ? s->nodes[k].group == 1
			                : (k & 1);
			if ((uint32_t)side + 1 != half) continue;
		}
		send(s, EV_BLOCK, i, k, g, false);
	}
}

static void produce(sim *s, uint32_t i, uint64_t slot)
{
	snode *x = &s->nodes[i];
	ssp_bft_ref head;
	ssp_bft_block b;
	ssp_bft_head(x->m, &head);
	uint32_t me = i;
	uint64_t base = UINT64_MAX; /* its onion entry's round */
	if (s->elect) {
		/* its index in the slot's set, if it is the slot's producer */
		ssp_bft_set set;
		if (ssp_bft_slot_set(x->m, &set, &me, &head.id, slot)) return;
		if (ssp_bft_set_index(&set, &s->keys[i]) != me) return;
		base = set.onion_round[me];
	}
	int rc = ssp_bft_propose(x->m, &b, me, &head.id, slot);
	if (rc) return; /* not its slot on its branch, or participation below 33% */
	ssp_bft_watermark next;
	if (!x->byz && ssp_bft_may_sign_block(&next, &x->wm, slot)) return;
	if (!x->byz) x->wm = next; /* persisted with the block, before it leaves */
	/* element r + 1 of the onion registered for round -1, or r - R of the one
	 * registered in round R (the slot's set's entry says which); a second block in
	 * one round (a set smaller than the round) reveals it again */
	uint64_t r = ssp_bft_round(slot, s->L);
	if (base == UINT64_MAX) {
		if (ssp_bft_onion_element(&b.reveal, &x->secret, ONION_LEN, r + 1)) return;
	} else if (base >= r ||
	           ssp_bft_onion_element(&b.reveal, &x->secret2, ONION_LEN, r - base)) {
		return;
	}
	b.time_ms = GENESIS_MS + slot * SLOT_MS + rng_range(&s->r, 0, 50);
	bool forge = x->byz && (x->behav & B_FORGE) && rng_chance(&s->r, 500);
	if (forge) {
		b.reveal.b[rng_range(&s->r, 0, 31)] ^= 1;
		uint32_t g = register_block(s, &b, true, i);
		broadcast_block(s, i, g, 0);
		return;
	}
	uint32_t g = register_block(s, &b, false, i);
	if ((rc = ssp_bft_add_block(x->m, &s->blocks[g].h))) {
		char msg[96]; /* the machine's own template, a reveal from its set's entry */
		snprintf(msg, sizeof msg, "its own block %u refused: %s", g, ssp_errname(rc));
		failf(s, msg, i);
		return;
	}
	on_added(s, i, g);
	drain_evidence(s, i);
	if (x->byz && (x->behav & B_EQUIV)) {
		/* a second block for the slot: each side of the network gets one, and the
		 * witnesses (the next producers) both */
		ssp_bft_block b2 = b;
		b2.time_ms = GENESIS_MS + slot * SLOT_MS + rng_range(&s->r, 51, 900);
		uint32_t g2 = register_block(s, &b2, false, i);
		if (ssp_bft_add_block(x->m, &s->blocks[g2].h)) abort();
		on_added(s, i, g2);
		drain_evidence(s, i);
		GROW(s->acts, s->nacts, s->capacts);
		gact *a = &s->acts[s->nacts];
		memset(a, 0, sizeof *a);
		a->offender = i;
		a->kind = SSP_BFT_EV_DOUBLE_BLOCK;
		for (uint64_t sl = slot + 1; sl <= slot + VOTE_FANOUT && a->nw < WITNESSES; sl++) {
			uint32_t p = slot_producer(s, x->m, &b.id, sl);
			if (p == UINT32_MAX || s->nodes[p].byz || p == i) continue;
			bool dup = false;
			for (uint32_t k = 0; k < a->nw; k++)
				dup |= a->w[k] == p;
			if (!dup) a->w[a->nw++] = p;
		}
		s->blocks[g].act = s->blocks[g2].act = (int32_t)s->nacts;
		s->blocks[g2].half = 1;
		s->nacts++;
		s->n_equiv++;
		broadcast_block(s, i, s->blocks[g].h.id.b[0] & 1 ? g : g2, 1);
		broadcast_block(s, i, s->blocks[g].h.id.b[0] & 1 ? g2 : g, 2);
		for (uint32_t k = 0; k < a->nw; k++) {
			/* witnesses get both (reliably: a missing slash is then the rules' fault)
			 */
			send(s, EV_BLOCK, i, a->w[k], g, true);
			send(s, EV_BLOCK, i, a->w[k], g2, true);
		}
		return;
	}
	broadcast_block(s, i, g, 0);
	if (!x->byz) {
		check_final(s, i);
		maybe_vote(s, i);
	} else {
		byz_votes(s, i, g);
	}
}

/* ---------------------------------------------------------------- nodes */

static void node_start(sim *s, uint32_t i)
{
	snode *x = &s->nodes[i];
	if (ssp_bft_new(&x->m, &s->params)) abort();
	x->up = true;
	x->norphans = x->npending = x->nuntold = 0;
	memset(&x->voted, 0, sizeof x->voted);
}

static void crash(sim *s, uint32_t i)
{
	snode *x = &s->nodes[i];
	if (s->elect) { /* the chain it had committed stays on its disk */
		ssp_bft_ref h;
		ssp_bft_head(x->m, &h);
		x->disk_head = h.height ? gix(&h.id) : UINT32_MAX;
	}
	ssp_bft_free(x->m);
	x->m = NULL;
	x->up = false;
	s->n_crashes++;
	for (uint32_t a = 0; a < s->nacts; a++) /* its memory of equivocations is gone */
		for (uint32_t k = 0; k < s->acts[a].nw; k++)
			if (s->acts[a].w[k] == i) s->acts[a].seen[k] = 0;
}

static void restart(sim *s, uint32_t i)
{
	node_start(s, i);
	s->nodes[i].restart_slot = s->now / SLOT_MS;
	s->nodes[i].qc_pending = s->nodes[i].wm.source_qc.target.height > 0;
	if (s->elect && s->nodes[i].disk_head != UINT32_MAX) {
		/*
		 * --elect: first the chain from its own store, genesis first, as a node
		 * restarts (without --elect every node produces, and its peers hold
		 * whatever it held; in a pool a branch can live at non-members only:
		 * a restarted voter would then never see its own vote's source again)
		 */
		uint32_t *chain = NULL, nchain = 0, capchain = 0;
		for (uint32_t g = s->nodes[i].disk_head; g != UINT32_MAX;
		     g = gix(&s->blocks[g].h.parent)) {
			GROW(chain, nchain, capchain);
			chain[nchain++] = g;
		}
		while (nchain)
			push(s, s->now, EV_BLOCK, i, i, chain[--nchain]);
		free(chain);
	}
	/* re-sync: ask two peers for every block they hold */
	for (int k = 0; k < 2; k++) {
		uint32_t p = (uint32_t)rng_range(&s->r, 0, s->np - 1);
		if (p != i) send(s, EV_SYNC, i, p, 0, false);
	}
}

/* The peer's final block in the registry (UINT32_MAX: genesis). */
static uint32_t final_of(const sim *s, uint32_t peer)
{
	ssp_bft_ref f;
	ssp_bft_final(s->nodes[peer].m, &f);
	return f.height ? gix(&f.id) : UINT32_MAX;
}

/*
 * A peer serves the blocks its machine holds above its final block, and
 * its final chain as a node's block store would (the machine keeps no
 * block below its final one).
 */
static void on_fetch(sim *s, uint32_t peer, uint32_t asker, uint32_t g)
{
	snode *x = &s->nodes[peer];
	ssp_hash id = s->blocks[g].h.id;
	uint32_t fin = final_of(s, peer);
	for (int d = 0; d < FETCH_DEPTH; d++) {
		ssp_bft_block b;
		uint32_t gi = gix(&id);
		if (gi == UINT32_MAX) return; /* genesis */
		if (!ssp_bft_get(x->m, &b, &id)) {
			if (!g_descends(s, gi, fin)) return;
			b = s->blocks[gi].h;
		}
		send(s, EV_BLOCK, peer, asker, gi, false);
		id = b.parent;
	}
}

/* Every block: the final chain from the store, then the machine's blocks above it. */
static void on_sync(sim *s, uint32_t peer, uint32_t asker)
{
	snode *x = &s->nodes[peer];
	uint32_t fin = final_of(s, peer), nchain = 0;
	uint32_t *chain = NULL, capchain = 0;
	for (uint32_t g = fin; g != UINT32_MAX; g = gix(&s->blocks[g].h.parent)) {
		GROW(chain, nchain, capchain);
		chain[nchain++] = g;
	}
	while (nchain)
		send(s, EV_BLOCK, peer, asker, chain[--nchain], false);
	free(chain);
	ssp_bft_ref f;
	ssp_bft_final(x->m, &f);
	size_t nb = ssp_bft_count(x->m);
	for (size_t k = 0; k < nb; k++) {
		ssp_bft_block b;
		ssp_bft_at(x->m, &b, k);
		/* held above the final block (a machine that has not dropped a block yet
		 * holds more: the same blocks go out either way) */
		if (b.height > f.height && ssp_bft_descends(x->m, &f.id, &b.id))
			send(s, EV_BLOCK, peer, asker, gix(&b.id), false);
	}
}

/*
 * --elect: did sets really change? The final chain's blocks were made by more
 * than n keys and some final block's round had an elected set (check_final).
 */
static bool elect_done(sim *s)
{
	memset(s->made, 0, s->np * sizeof *s->made);
	s->n_final_keys = 0;
	for (uint32_t g = s->final_g; g != UINT32_MAX; g = gix(&s->blocks[g].h.parent))
		if (!s->made[s->blocks[g].node]) {
			s->made[s->blocks[g].node] = true;
			s->n_final_keys++;
		}
	return s->n_final_keys > s->n && s->n_final_elected;
}

/* The world's clock: phases, crashes, the liveness check. Runs at each slot start. */
static void trace_slot(const sim *s, uint64_t slot)
{
	printf("slot %" PRIu64 "%s:", slot, s->calm_on ? " calm" : "");
	for (uint32_t i = 0; i < s->np && i < 12; i++) {
		const snode *x = &s->nodes[i];
		if (!x->up) {
			printf(" [%u down]", i);
			continue;
		}
		ssp_bft_ref h, j, f;
		ssp_bft_head(x->m, &h);
		ssp_bft_justified(x->m, &j);
		ssp_bft_final(x->m, &f);
		printf(" [%u%s g%u h%" PRIu64 " j%" PRIu64 " f%" PRIu64 " wm%" PRIu64 "/%" PRIu64
		       "]",
		       i, x->byz ? "B" : "", x->group, h.height, j.height, f.height,
		       x->wm.vote_source.height, x->wm.vote_target.height);
	}
	printf("\n");
}

static void world_slot(sim *s, uint64_t slot)
{
	if (s->verbose > 1) trace_slot(s, slot);
	if (slot == s->part_start) {
		/* a partition: a minority under 1/3 cut off, or the honest split in two */
		uint32_t cut = 0;
		for (uint32_t i = 0; i < s->np; i++) {
			snode *x = &s->nodes[i];
			x->group = 0;
			if (x->byz) continue;
			bool side = s->minority_cut ? (cut + 1) * 3 < s->n && rng_chance(&s->r, 400)
			                            : rng_chance(&s->r, 500);
			if (side) {
				x->group = 1;
				cut++;
			}
		}
	}
	if (slot == s->part_end)
		for (uint32_t i = 0; i < s->np; i++)
			s->nodes[i].group = 0;
	if (slot == s->calm) {
		s->calm_on = true;
		for (uint32_t i = 0; i < s->np; i++)
			if (!s->nodes[i].up) restart(s, i);
	}
	if (!s->calm_on && slot > 1 && rng_chance(&s->r, s->crash_pm)) {
		uint32_t i = (uint32_t)rng_range(&s->r, 0, s->np - 1);
		if (!s->nodes[i].byz && s->nodes[i].up) crash(s, i);
	}
	if (!s->calm_on)
		for (uint32_t i = 0; i < s->np; i++)
			if (!s->nodes[i].up && !s->nodes[i].byz && rng_chance(&s->r, 300))
				restart(s, i);
	if (s->elect && slot > s->calm + LIVE_SLOTS + s->L && elect_done(s))
		s->stop = true; /* sets changed on the final chain: nothing more to see */
	if (slot == s->calm + LIVE_SLOTS) {
		/* liveness: every honest node finalised a block made after the network healed */
		for (uint32_t i = 0; i < s->np; i++) {
			snode *x = &s->nodes[i];
			if (x->byz) continue;
			ssp_bft_ref f;
			ssp_bft_block fb;
			ssp_bft_final(x->m, &f);
			if (!ssp_bft_get(x->m, &fb, &f.id) || fb.slot < s->calm) {
				char msg[160];
				snprintf(msg, sizeof msg,
				         "LIVENESS: no block after slot %" PRIu64
				         " final within %d slots (final height %" PRIu64 ")",
				         s->calm, LIVE_SLOTS, f.height);
				failf(s, msg, i);
			}
		}
	}
}

static void on_tick(sim *s, uint32_t i, uint64_t slot)
{
	snode *x = &s->nodes[i];
	if (slot + 1 < s->end) {
		/* the next local slot start: global time = slot start - skew */
		uint64_t t = (uint64_t)((int64_t)(GENESIS_MS + (slot + 1) * SLOT_MS) - x->skew_ms);
		push(s, t, EV_TICK, i, i, (uint32_t)(slot + 1));
	}
	if (!x->up) return;
	if (x->nuntold) { /* half the elections it deferred, then what waited for them */
		uint32_t kept = 0;
		for (uint32_t k = 0; k < x->nuntold; k++)
			if (rng_chance(&s->r, 500))
				tell(s, i, x->untold[k]);
			else
				x->untold[kept++] = x->untold[k];
		x->nuntold = kept;
		try_pending(s, i);
		check_final(s, i);
		maybe_vote(s, i);
	}
	produce(s, i, slot);
}

/* ----------------------------------------------------------------- a seed */

static void setup(sim *s)
{
	rng_seed(&s->r, s->seed);
	rng *r = &s->r;
	s->churn = !strcmp(s->brk, "churn");
	/* most seeds small (fast), every 8th 99..200 delegates; with --elect 4..16 (a
	 * run must see several rounds, each of at most 2n slots) */
	s->n = s->n_force                      ? s->n_force
	       : s->elect                      ? (uint32_t)rng_range(r, 4, 16)
	       : s->seed % 8 == 0 && !s->small ? (uint32_t)rng_range(r, 99, 200)
	                                       : (uint32_t)rng_range(r, 4, 40);
	/* --elect: a pool of n + n/4 + 2, the genesis set its first n */
	s->np = s->elect ? s->n + s->n / 4 + 2 : s->n;
	/*
	 * --elect: an election swaps at most cmax = min(2q - n - f - 1, n - q - f)
	 * members (q the quorum). Safety: two quorums of sets c apart share at
	 * least 2q - n - c members, more than f, so one is honest and two
	 * conflicting final blocks at one height need an honest double vote.
	 * Liveness: a delegate whose highest justified block is on a branch whose
	 * set it left can neither vote there nor carry that QC in a block; at most
	 * c of a set are such, so n - c - f >= q honest members still vote. f is
	 * drawn so that cmax >= 1.
	 */
	uint32_t maxf = (s->n - 1) / 3;
	int q = (int)ssp_bft_quorum(s->n), nn = (int)s->n;
	if (s->elect && !s->churn) { /* (--break churn: f as without --elect) */
		int fe = 2 * q - nn - 2 < nn - q - 1 ? 2 * q - nn - 2 : nn - q - 1;
		maxf = fe < 0 ? 0 : (uint32_t)fe;
	}
	s->f = rng_chance(r, 500) ? maxf : (uint32_t)rng_range(r, 0, maxf);
	if (s->elect) {
		int fi = (int)s->f, c1 = 2 * q - nn - fi - 1, c2 = nn - q - fi;
		int c = c1 < c2 ? c1 : c2;
		s->cmax = c < 0 ? 0 : (uint32_t)c;
	}
	s->loss_pm = (uint32_t)rng_range(r, 0, 50);
	s->spike_pm = (uint32_t)rng_range(r, 0, 30);
	s->lat_min = (uint32_t)rng_range(r, 5, 50);
	s->lat_max = s->lat_min + (uint32_t)rng_range(r, 0, 200);
	s->crash_pm = (uint32_t)rng_range(r, 0, 200);
	s->part_start = rng_range(r, 4, 10);
	s->part_end = s->part_start + rng_range(r, 3, 10);
	s->minority_cut = rng_chance(r, 500);
	s->calm = s->part_end + rng_range(r, 0, 3);
	s->end = s->calm + LIVE_SLOTS + 1;

	s->nodes = calloc(s->np, sizeof *s->nodes);
	s->keys = calloc(s->np, sizeof *s->keys);
	s->onion = calloc(s->np, sizeof *s->onion);
	s->slashed = calloc(s->np, sizeof *s->slashed);
	s->stake = calloc(s->np, sizeof *s->stake);
	s->bal = calloc(s->np, sizeof *s->bal);
	if (!s->nodes || !s->keys || !s->onion || !s->slashed || !s->stake || !s->bal) abort();
	s->pool = SIM_POOL;
	s->supply = SIM_POOL;
	for (uint32_t k = 0; k < s->np; k++) {
		s->stake[k] = SIM_STAKE;
		s->supply += SIM_STAKE;
	}
	for (uint32_t i = 0; i < s->np; i++) {
		snode *x = &s->nodes[i];
		s->keys[i].type = SSP_KEY_ED25519;
		s->keys[i].len = 32;
		for (int k = 0; k < 32; k++)
			s->keys[i].b[k] = (uint8_t)rng_next(r);
		for (int k = 0; k < 32; k++)
			x->secret.b[k] = (uint8_t)rng_next(r);
		ssp_bft_onion_commit(&s->onion[i], &x->secret, ONION_LEN);
		x->skew_ms = (int64_t)rng_range(r, 0, 300) - 150;
		x->orphans = calloc(ORPHANS_MAX, sizeof *x->orphans);
		x->pending = calloc(PENDING_MAX, sizeof *x->pending);
		if (!x->orphans || !x->pending) abort();
		if (s->elect && !(x->untold = calloc(UNTOLD_MAX, sizeof *x->untold))) abort();
	}
	/* the Byzantine delegates: f of them, each with its own mix of misbehaviour */
	for (uint32_t k = 0; k < s->f;) {
		uint32_t i = (uint32_t)rng_range(r, 0, s->np - 1);
		if (s->nodes[i].byz) continue;
		s->nodes[i].byz = true;
		s->nodes[i].behav = (unsigned)rng_range(r, 1, 31);
		k++;
	}
	s->params = (ssp_bft_params){
	    .n = s->n,
	    .keys = s->keys,
	    .onion = s->onion,
	    .onion_len = ONION_LEN,
	    .genesis_time_ms = GENESIS_MS,
	    .slot_ms = SLOT_MS,
	};
	for (int k = 0; k < 32; k++)
		s->params.genesis_id.b[k] = (uint8_t)rng_next(r);
	memset(s->params.genesis_id.b, 0xff, 4); /* registry index UINT32_MAX: genesis */
	for (int k = 0; k < 32; k++)
		s->params.genesis_seed.b[k] = (uint8_t)rng_next(r);
	if (!strcmp(s->brk, "quorum")) s->params.quorum_override = s->n / 2;
	s->L = s->n;
	if (s->elect) {
		/* rounds of n slots (half the seeds), shorter (only the order's first L
		 * produce), or longer (the order repeats: a key's second block in a round) */
		uint64_t shape = rng_range(r, 0, 3);
		uint32_t lo = s->n / 2 > 4 ? s->n / 2 : 4, hi = 2 * s->n;
		if (hi > SSP_BFT_MAX_N) hi = SSP_BFT_MAX_N;
		if (shape == 2 && lo < s->n) s->L = (uint32_t)rng_range(r, lo, s->n - 1);
		if (shape == 3 && s->n < hi) s->L = (uint32_t)rng_range(r, s->n + 1, hi);
		s->params.round_len = s->L;
		s->params.elections = true;
		s->elect_salt = rng_next(r);
		/* up to 16 rounds after the liveness check, for the elections to reach
		 * the final chain and their outsiders to produce final blocks; the run
		 * ends at the first slot a round after it where they have (world_slot) */
		s->end += 16 * (uint64_t)s->L;
		s->ekeys = calloc(s->np, sizeof *s->ekeys);
		s->eonion = calloc(s->np, sizeof *s->eonion);
		s->eround = calloc(s->np, sizeof *s->eround);
		s->eix = calloc(s->np, sizeof *s->eix);
		s->made = calloc(s->np, sizeof *s->made);
		s->ein = calloc(s->np, sizeof *s->ein);
		if (!s->ekeys || !s->eonion || !s->eround || !s->eix || !s->made || !s->ein)
			abort();
		/* half the seeds (every one with --reregister): a third of the pool
		 * registers a second onion in round 1..4 */
		s->rr_on = rng_chance(r, 500) || s->rereg;
		for (uint32_t i = 0; i < s->np; i++) {
			snode *x = &s->nodes[i];
			x->reg_round = UINT64_MAX;
			x->disk_head = UINT32_MAX;
			if (!s->rr_on || !rng_chance(r, 333)) continue;
			x->reg_round = rng_range(r, 1, 4);
			for (int k = 0; k < 32; k++)
				x->secret2.b[k] = (uint8_t)rng_next(r);
			ssp_bft_onion_commit(&x->onion2, &x->secret2, ONION_LEN);
		}
	}
	/* drop blocks on every move of the final block (the most remapping), or never */
	s->params.compact_min = 1;
	s->params.no_compact = s->no_compact;
	s->final_g = UINT32_MAX;
	for (uint32_t i = 0; i < s->np; i++) {
		node_start(s, i);
		uint64_t t = (uint64_t)((int64_t)(GENESIS_MS + SLOT_MS) - s->nodes[i].skew_ms);
		push(s, t, EV_TICK, i, i, 1);
	}
	for (uint64_t sl = 1; sl < s->end; sl++)
		push(s, GENESIS_MS + sl * SLOT_MS, EV_TICK, UINT32_MAX, 0, (uint32_t)sl);
}

static void teardown(sim *s)
{
	for (uint32_t i = 0; i < s->np; i++) {
		ssp_bft_free(s->nodes[i].m);
		free(s->nodes[i].orphans);
		free(s->nodes[i].pending);
		free(s->nodes[i].myvotes);
		free(s->nodes[i].untold);
	}
	free(s->ekeys);
	free(s->eonion);
	free(s->eround);
	free(s->eix);
	free(s->made);
	free(s->ein);
	free(s->nodes);
	free(s->keys);
	free(s->onion);
	free(s->slashed);
	free(s->stake);
	free(s->bal);
	free(s->blocks);
	free(s->votes);
	free(s->acts);
	free(s->heap);
}

static void run(sim *s)
{
	setup(s);
	while (s->nheap && !s->fail[0] && !s->stop) {
		event e = pop(s);
		s->now = e.t;
		s->n_events++;
		uint64_t fields[5] = {e.t, e.kind, e.to, e.from, e.arg};
		for (int k = 0; k < 5; k++) /* FNV-1a over the event */
			for (int b = 0; b < 64; b += 8)
				s->trace =
				    (s->trace ^ ((fields[k] >> b) & 0xff)) * 0x100000001b3ULL;
		if (e.kind == EV_TICK && e.to == UINT32_MAX) {
			world_slot(s, e.arg);
			continue;
		}
		snode *x = &s->nodes[e.to];
		if (e.kind == EV_TICK) {
			on_tick(s, e.to, e.arg);
			continue;
		}
		if (!x->up) continue;
		switch (e.kind) {
		case EV_BLOCK: {
			uint32_t g = e.arg;
			on_block(s, e.to, e.from, g);
			if (x->byz && ssp_bft_get(x->m, NULL, &s->blocks[g].h.id)) {
				byz_votes(s, e.to, g);
			}
			break;
		}
		case EV_VOTE:
			on_vote(s, e.to, e.arg);
			break;
		case EV_FETCH:
			if (linked(s, e.to, e.from)) on_fetch(s, e.to, e.from, e.arg);
			break;
		case EV_SYNC:
			on_sync(s, e.to, e.from);
			break;
		}
	}
	if (s->verbose > 2) {
		for (uint32_t i = 0; i < 2 && i < s->np; i++) {
			snode *x = &s->nodes[i];
			printf("node %u:\n", i);
			for (size_t k = 0; k < ssp_bft_count(x->m); k++) {
				ssp_bft_block b;
				ssp_bft_at(x->m, &b, k);
				printf("  g%u h%" PRIu64 " s%" PRIu64
				       " parent g%u j%d qc %s g%u->g%u (h%" PRIu64 "->h%" PRIu64
				       ") %u\n",
				       gix(&b.id), b.height, b.slot, gix(&b.parent),
				       ssp_bft_is_justified(x->m, &b.id), b.has_qc ? "yes" : "no",
				       gix(&b.qc.source.id), gix(&b.qc.target.id),
				       b.qc.source.height, b.qc.target.height,
				       ssp_bft_qc_count(&b.qc));
			}
		}
	}
	if (s->fail[0]) return;
	/* every equivocation an honest witness processed both halves of was slashed */
	for (uint32_t a = 0; a < s->nacts; a++) {
		const gact *ac = &s->acts[a];
		for (uint32_t k = 0; k < ac->nw; k++)
			if (ac->seen[k] == 3 && !s->slashed[ac->offender]) {
				char msg[128];
				snprintf(msg, sizeof msg,
				         "equivocation by %u (kind %u) seen by %u, not slashed",
				         ac->offender, ac->kind, ac->w[k]);
				failf(s, msg, ac->w[k]);
			}
	}
	if (s->elect) {
		/* the mode did something: sets really changed on the final chain */
		if (!elect_done(s)) {
			char msg[160];
			snprintf(msg, sizeof msg,
			         "ELECTIONS: no set change reached the final chain (%u producers "
			         "of final blocks for n = %u, %" PRIu64 " final in an elected set)",
			         s->n_final_keys, s->n, s->n_final_elected);
			failf(s, msg, 0);
		}
	}
}

/* ------------------------------------------------------------------- main */

static void usage(void)
{
	fputs("usage: ssp_sim [--seed S | --seeds N [--first F]] [--n N] [--small]\n"
	      "               [--break quorum|watermark|election|churn] [--expect-violation]\n"
	      "               [--replay-check]\n"
	      "               [--no-compact | --compare-compact]\n"
	      "               [--elect | --elect-every K | --reregister] [-v]\n"
	      "  --seed S            run one seed (replay)\n"
	      "  --seeds N           run seeds F..F+N-1 (default 0..199)\n"
	      "  --n N               force the number of delegates (default: from the seed)\n"
	      "  --small             4..40 delegates in every seed (no 99..200 ones)\n"
	      "  --break RULE        run a deliberately broken rule: quorum (n/2 votes),\n"
	      "                      watermark (a restarted node forgets what it signed),\n"
	      "                      election (with --elect: nodes disagree on elections) or\n"
	      "                      churn (with --elect: an election swaps any number of\n"
	      "                      members, not at most min(2q-n-f-1, n-q-f))\n"
	      "  --expect-violation  succeed only if some seed finds a violation (self-check)\n"
	      "  --replay-check      run every seed twice and fail if the runs differ\n"
	      "  --no-compact        the machines never drop a block (by default they drop\n"
	      "                      everything below the final block on every move of it)\n"
	      "  --compare-compact   run every seed with and without compaction and fail\n"
	      "                      if the runs differ (compaction must change no answer)\n"
	      "  --elect             delegate sets change: a pool of n + n/4 + 2, a round's\n"
	      "                      first block elects its set with a few members swapped\n"
	      "                      (n 4..16 unless --n)\n"
	      "  --elect-every K     seeds S with S % K == K - 1 run with --elect\n"
	      "  --reregister        --elect, and a third of the pool registers a second\n"
	      "                      onion in round 1..4 (set entries with onion_round) in\n"
	      "                      every seed (--elect: in half of them)\n",
	      stderr);
}

static void replay_cmd(char *out, size_t cap, const sim *s)
{
	int k = snprintf(out, cap, "ssp_sim --seed %" PRIu64, s->seed);
	if (s->n_force && k > 0) k += snprintf(out + k, cap - (size_t)k, " --n %u", s->n_force);
	if (s->small && k > 0) k += snprintf(out + k, cap - (size_t)k, " --small");
	if (s->brk[0] && k > 0) k += snprintf(out + k, cap - (size_t)k, " --break %s", s->brk);
	if (s->no_compact && k > 0) k += snprintf(out + k, cap - (size_t)k, " --no-compact");
	if (s->elect && k > 0)
		snprintf(out + k, cap - (size_t)k, s->rereg ? " --reregister" : " --elect");
}

int main(int argc, char **argv)
{
	uint64_t first = 0, count = 200;
	bool expect = false, replay_check = false, no_compact = false, compare = false;
	int verbose = 0;
	const char *brk = "";
	uint32_t n_force = 0, elect_every = 0;
	bool small = false, elect = false, rereg = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--seed") && v) {
			first = strtoull(v, NULL, 0);
			count = 1;
			i++;
		} else if (!strcmp(a, "--seeds") && v) {
			count = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--first") && v) {
			first = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--n") && v) {
			n_force = (uint32_t)strtoul(v, NULL, 0);
			if (n_force < 1 || n_force > SSP_BFT_MAX_N) {
				usage();
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--break") && v) {
			brk = v;
			if (strcmp(brk, "quorum") && strcmp(brk, "watermark") &&
			    strcmp(brk, "election") && strcmp(brk, "churn")) {
				usage();
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--small")) {
			small = true;
		} else if (!strcmp(a, "--elect")) {
			elect = true;
		} else if (!strcmp(a, "--reregister")) {
			elect = rereg = true;
		} else if (!strcmp(a, "--elect-every") && v) {
			elect_every = (uint32_t)strtoul(v, NULL, 0);
			if (elect_every < 1) {
				usage();
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--replay-check")) {
			replay_check = true;
		} else if (!strcmp(a, "--no-compact")) {
			no_compact = true;
		} else if (!strcmp(a, "--compare-compact")) {
			compare = true;
		} else if (!strcmp(a, "--expect-violation")) {
			expect = true;
		} else if (!strcmp(a, "-v")) {
			verbose++;
		} else {
			usage();
			return 2;
		}
	}
	if ((!strcmp(brk, "election") || !strcmp(brk, "churn")) && !elect && !elect_every) {
		/* nothing to break */
		usage();
		return 2;
	}
	if (ssp_core_init()) return 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t ran = 0, failures = 0, events = 0, finals = 0, evid = 0, forged = 0, crashes = 0,
	         equiv = 0, e_ran = 0, e_failures = 0, e_told = 0, e_waits = 0, e_final = 0;
	uint32_t nmin = UINT32_MAX, nmax = 0;
	size_t held_max = 0;
	for (uint64_t seed = first; seed < first + count; seed++) {
		sim *s = calloc(1, sizeof *s);
		if (!s) return 1;
		s->seed = seed;
		s->brk = brk;
		s->n_force = n_force;
		s->small = small;
		s->no_compact = no_compact;
		s->elect = elect || (elect_every && seed % elect_every == elect_every - 1);
		s->rereg = rereg;
		s->verbose = verbose;
		run(s);
		ran++;
		if (replay_check || compare) {
			/* the same seed again must give the same run, event for event; so must
			 * the seed without compaction (which only frees memory) */
			sim *t = calloc(1, sizeof *t);
			if (!t) return 1;
			t->seed = seed;
			t->brk = brk;
			t->n_force = n_force;
			t->small = small;
			t->no_compact = compare ? !no_compact : no_compact;
			t->elect = s->elect;
			t->rereg = s->rereg;
			run(t);
			uint64_t fs = s->final_g == UINT32_MAX ? 0 : s->blocks[s->final_g].h.height,
			         ft = t->final_g == UINT32_MAX ? 0 : t->blocks[t->final_g].h.height;
			if (!s->fail[0] && (t->trace != s->trace || t->n_events != s->n_events ||
			                    strcmp(t->fail, s->fail) || fs != ft ||
			                    t->n_evidence != s->n_evidence))
				snprintf(s->fail, sizeof s->fail,
				         "%s (%" PRIu64 " vs %" PRIu64 " events, final %" PRIu64
				         " vs %" PRIu64 ")",
				         compare ? "COMPACTION: the run without it differs"
				                 : "NONDETERMINISM: a replay of the seed differs",
				         s->n_events, t->n_events, fs, ft);
			teardown(t);
			free(t);
		}
		char cmd[128];
		replay_cmd(cmd, sizeof cmd, s);
		if (verbose || s->fail[0])
			printf("seed %" PRIu64 ": n=%u f=%u %s part=%" PRIu64 "..%" PRIu64
			       " calm=%" PRIu64 " loss=%u%% events=%" PRIu64 " final=%" PRIu64
			       " equivocations=%" PRIu64 " slashed=%" PRIu64
			       " forged-rejected=%" PRIu64 " crashes=%" PRIu64 " held<=%zu",
			       seed, s->n, s->f, s->minority_cut ? "minority" : "split",
			       s->part_start, s->part_end, s->calm, s->loss_pm / 10, s->n_events,
			       s->final_g == UINT32_MAX ? 0 : s->blocks[s->final_g].h.height,
			       s->n_equiv, s->n_evidence, s->n_forged_rejected, s->n_crashes,
			       s->max_held);
		if ((verbose || s->fail[0]) && s->elect)
			printf(" elect: pool=%u round=%u%s told=%" PRIu64 " waits=%" PRIu64
			       " final-in-elected=%" PRIu64 " final-producers=%u",
			       s->np, s->L, s->rr_on ? " reregister" : "", s->n_told,
			       s->n_set_waits, s->n_final_elected, s->n_final_keys);
		if (verbose || s->fail[0]) printf("%s%s\n", s->fail[0] ? " FAIL: " : "", s->fail);
		if (s->fail[0]) {
			failures++;
			printf("  replay: %s\n", cmd);
		}
		if (s->elect) {
			e_ran++;
			e_failures += s->fail[0] != 0;
			e_told += s->n_told;
			e_waits += s->n_set_waits;
			e_final += s->n_final_elected;
		}
		if (s->n < nmin) nmin = s->n;
		if (s->n > nmax) nmax = s->n;
		events += s->n_events;
		finals += s->n_final_moves;
		evid += s->n_evidence;
		forged += s->n_forged_rejected;
		crashes += s->n_crashes;
		if (s->max_held > held_max) held_max = s->max_held;
		equiv += s->n_equiv;
		bool stop = s->fail[0] && expect;
		teardown(s);
		free(s);
		if (stop) break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("ssp_sim: %" PRIu64 " seeds from %" PRIu64 ", n %u..%u, %" PRIu64
	       " failed%s%s; %" PRIu64 " events, %" PRIu64 " finality moves, %" PRIu64
	       " equivocations, %" PRIu64 " delegates slashed, %" PRIu64
	       " forged reveals rejected, %" PRIu64 " crashes; at most %zu blocks held%s; %.2f s\n",
	       ran, first, nmin, nmax, failures, brk[0] ? " with --break " : "", brk, events,
	       finals, equiv, evid, forged, crashes, held_max, no_compact ? " (no compaction)" : "",
	       secs);
	if (e_ran)
		printf("ssp_sim: --elect: %" PRIu64 " of the seeds, %" PRIu64 " failed; %" PRIu64
		       " elections told, %" PRIu64 " blocks waited for one, %" PRIu64
		       " finality moves into elected sets\n",
		       e_ran, e_failures, e_told, e_waits, e_final);
	if (expect) {
		if (failures) {
			printf("ssp_sim: the broken rule (--break %s) was caught, as it must be\n",
			       brk);
			return 0;
		}
		printf("ssp_sim: FAIL: the broken rule (--break %s) went unnoticed\n", brk);
		return 1;
	}
	return failures ? 1 : 0;
}
