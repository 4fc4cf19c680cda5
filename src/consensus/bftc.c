/*
 * bftc.c — the BFT consensus of a node (consensus layer, ssp/consensus.h):
 * the pure state machine of ssp/bft.h fed by the chain, the fork database
 * and the votes of the network, behind the chain's ssp_consensus and the
 * fork database's ssp_forkchoice interfaces. It adds what the machine
 * leaves outside: signatures (block producers, votes, every vote of a
 * quorum certificate), the wire forms of votes and QCs, the producer's
 * hash onion and its vote watermark (persisted through the chain before a
 * vote leaves). docs/internals/consensus.md, "In the node".
 *
 * Wire forms (little-endian integers):
 *   vote (147 bytes):  u8 version=1 | u16 voter | link | sig[64]
 *   link (80 bytes):   u64 source height | source id | u64 target height | target id
 *   QC (finality_qc):  link | u16 n | bitmap[(n+7)/8] | sig[64] per set bit, in bit order
 * A vote signs the link under SSP_DOM_VOTE and the chain id.
 *
 * One owner thread (the chain's): every function here runs on it.
 */
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "bftc_evidence.h"
#include "ssp/bft.h"
#include "ssp/consensus.h"

#define LOG "bft"
#define LINK_LEN 80
#define SLINKS 64      /* links whose vote signatures are kept (for QCs) */
#define ONION_CP 1024  /* onion checkpoint spacing */
#define WM_VERSION 1
#define SEEN_MAX 65536 /* blocks remembered above the chain's final height */

/*
 * A block the machine accepted (every check passed), remembered until the
 * chain's own final height passes it. The machine drops the ancestors of
 * its final block; when that final block is on a branch the chain has not
 * switched to yet, the chain must still import those ancestors: they are
 * final (a quorum voted), and this record says who produced them.
 */
typedef struct {
	ssp_hash id, parent;
	uint64_t height, slot;
	ssp_pubkey producer;
	/* its block context (ssp_consensus.block_context), computed while its parent was live */
	bool has_ctx;
	uint64_t ctx_final;
	uint32_t ctx_nmissed;
	ssp_block_missed *ctx_missed; /* malloc'd, ctx_nmissed entries (NULL for none) */
} seen_block;

/* A key that was in a set this node was told of, by its address (headers name it so). */
typedef struct {
	ssp_addr addr;
	ssp_pubkey key;
} known_key;

typedef struct {
	bool used;
	ssp_bft_ref src, tgt;
	uint64_t bits[SSP_BFT_BITMAP_WORDS];
	ssp_sig *sig; /* SSP_BFT_MAX_N entries; sig[i] valid when bit i is set */
} slink;

struct ssp_bftc {
	const ssp_genesis *g;
	ssp_bft *m;
	uint32_t n, onion_len; /* the genesis set's size */
	const ssp_pubkey *keys; /* the genesis set */
	const ssp_hash *onion;
	known_key *known; /* every key of a set told (the genesis set first) */
	size_t nknown, capknown;
	ssp_bftc_elector elect;
	void *elect_ctx;
	/* a block whose election could not be read (a local failure): retried */
	bool elect_pending;
	ssp_hash ep_id;
	uint64_t ep_height, ep_slot, ep_parent_slot;
	ssp_hash genesis_seed;
	slink links[SLINKS];
	ssp_buf qcbuf; /* the QC of the header being prepared */
	/* this node as a producer and voter (me >= 0: it has a key; its index in a set
	 * depends on the round) */
	int me;
	ssp_pubkey me_key;
	ssp_signer signer;
	ssp_hash *cps; /* onion checkpoints: cps[j] = SHA-256^(j*ONION_CP)(secret) */
	size_t ncps;
	ssp_bft_watermark wm;
	ssp_hash voted; /* the last target voted for */
	ssp_bftc_stats st;
	seen_block *seen; /* blocks accepted, above the chain's final height; unordered */
	size_t nseen, capseen;
	bftc_ev *ev; /* signed headers and votes seen, evidence for the node (bftc_evidence.c) */
	ssp_block_context *cx; /* scratch for a block's context (add_header), made on first use */
};

static const ssp_pubkey *known_key_of(const ssp_bftc *b, const ssp_addr *a);

/* ------------------------------------------------------------ wire forms */

static void link_put(uint8_t *p, const ssp_bft_ref *src, const ssp_bft_ref *tgt)
{
	ssp_le64_put(p, src->height);
	memcpy(p + 8, src->id.b, 32);
	ssp_le64_put(p + 40, tgt->height);
	memcpy(p + 48, tgt->id.b, 32);
}

static void link_get(const uint8_t *p, ssp_bft_ref *src, ssp_bft_ref *tgt)
{
	src->height = ssp_le64_get(p);
	memcpy(src->id.b, p + 8, 32);
	tgt->height = ssp_le64_get(p + 40);
	memcpy(tgt->id.b, p + 48, 32);
}

static void vote_digest(const ssp_bftc *b, ssp_hash *d, const ssp_bft_ref *src,
                        const ssp_bft_ref *tgt)
{
	/* ssp/proto.h: the staking module checks vote evidence with the same digest */
	ssp_vote_link l = {src->height, src->id, tgt->height, tgt->id};
	ssp_vote_digest(d, ssp_genesis_chain_id(b->g), &l);
}

static bool bit_get(const uint64_t *bits, uint32_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

static void bit_set(uint64_t *bits, uint32_t i)
{
	bits[i / 64] |= 1ull << (i % 64);
}

static bool ref_eq(const ssp_bft_ref *a, const ssp_bft_ref *b)
{
	return a->height == b->height && !memcmp(a->id.b, b->id.b, 32);
}

/* ------------------------------------------------------- signature store */

static slink *slink_find(ssp_bftc *b, const ssp_bft_ref *src, const ssp_bft_ref *tgt)
{
	for (int i = 0; i < SLINKS; i++)
		if (b->links[i].used && ref_eq(&b->links[i].src, src) && ref_eq(&b->links[i].tgt, tgt))
			return &b->links[i];
	return NULL;
}

/* The entry of a link, made (evicting the lowest target) if needed; NULL without memory. */
static slink *slink_get(ssp_bftc *b, const ssp_bft_ref *src, const ssp_bft_ref *tgt)
{
	slink *l = slink_find(b, src, tgt), *victim = NULL;
	if (l) return l;
	for (int i = 0; i < SLINKS; i++) {
		slink *x = &b->links[i];
		if (!x->used) {
			victim = x;
			break;
		}
		if (!victim || x->tgt.height < victim->tgt.height) victim = x;
	}
	if (!victim->sig && !(victim->sig = ssp_calloc(SSP_BFT_MAX_N, sizeof *victim->sig)))
		return NULL;
	victim->used = true;
	victim->src = *src;
	victim->tgt = *tgt;
	memset(victim->bits, 0, sizeof victim->bits);
	return victim;
}

static void slink_put(ssp_bftc *b, const ssp_bft_ref *src, const ssp_bft_ref *tgt, uint32_t voter,
                      const ssp_sig *sig)
{
	slink *l = slink_get(b, src, tgt);
	if (!l) return; /* only a QC this node could have made is lost */
	l->sig[voter] = *sig;
	bit_set(l->bits, voter);
}

/*
 * Encodes the QC src -> tgt over the voters in want whose signatures are
 * kept, into out (replacing it). False when fewer than a quorum are.
 */
static bool qc_encode(ssp_bftc *b, ssp_buf *out, const ssp_bft_ref *src, const ssp_bft_ref *tgt,
                      const uint64_t *want)
{
	slink *l = slink_find(b, src, tgt);
	uint64_t bits[SSP_BFT_BITMAP_WORDS] = {0};
	uint32_t count = 0;
	ssp_bft_set st;
	if (!l || ssp_bft_block_set(b->m, &st, tgt)) return false;
	uint32_t n = st.n;
	for (uint32_t i = 0; i < n; i++)
		if (bit_get(want, i) && bit_get(l->bits, i)) {
			bit_set(bits, i);
			count++;
		}
	if (count < st.quorum) return false;
	uint8_t lk[LINK_LEN], bm[SSP_BFT_MAX_N / 8] = {0};
	link_put(lk, src, tgt);
	out->len = 0;
	ssp_buf_put(out, lk, sizeof lk);
	ssp_buf_u16(out, (uint16_t)n);
	for (uint32_t i = 0; i < n; i++)
		if (bit_get(bits, i)) bm[i / 8] |= (uint8_t)(1u << (i % 8));
	ssp_buf_put(out, bm, (n + 7) / 8);
	for (uint32_t i = 0; i < n; i++)
		if (bit_get(bits, i)) ssp_buf_put(out, l->sig[i].b, SSP_SIG_LEN);
	return out->err == 0;
}

/*
 * Decodes a QC strictly (exact length, n the size of its target's set, no
 * bit beyond it, at least a quorum) and, with verify, checks every
 * signature against that set's keys; keeps the signatures. SSP_ERR_BFT_QC
 * for anything wrong (a target whose set is unknown here included: a QC
 * in a block targets the block's own branch).
 */
static int qc_decode(ssp_bftc *b, ssp_bft_qc *qc, const uint8_t *p, size_t len, bool verify)
{
	ssp_bft_set st;
	memset(qc, 0, sizeof *qc);
	if (len < LINK_LEN + 2) return SSP_ERR_BFT_QC;
	link_get(p, &qc->source, &qc->target);
	if (ssp_bft_block_set(b->m, &st, &qc->target)) return SSP_ERR_BFT_QC;
	uint32_t n = st.n;
	size_t bml = (n + 7) / 8;
	if (len < LINK_LEN + 2 + bml) return SSP_ERR_BFT_QC;
	if ((uint32_t)(p[LINK_LEN] | p[LINK_LEN + 1] << 8) != n) return SSP_ERR_BFT_QC;
	const uint8_t *bm = p + LINK_LEN + 2;
	uint32_t count = 0;
	for (uint32_t i = 0; i < bml * 8; i++)
		if (bm[i / 8] >> (i % 8) & 1) {
			if (i >= n) return SSP_ERR_BFT_QC;
			bit_set(qc->bits, i);
			count++;
		}
	if (count < st.quorum || len != LINK_LEN + 2 + bml + (size_t)count * SSP_SIG_LEN)
		return SSP_ERR_BFT_QC;
	if (qc->source.height >= qc->target.height) return SSP_ERR_BFT_QC;
	ssp_hash d;
	vote_digest(b, &d, &qc->source, &qc->target);
	const uint8_t *s = bm + bml;
	for (uint32_t i = 0; i < n; i++) {
		if (!bit_get(qc->bits, i)) continue;
		ssp_sig sig;
		memcpy(sig.b, s, SSP_SIG_LEN);
		s += SSP_SIG_LEN;
		if (verify && ssp_verify_digest(&st.keys[i], &d, &sig)) return SSP_ERR_BFT_QC;
		slink_put(b, &qc->source, &qc->target, i, &sig);
		bftc_ev_vote(b->ev, &st.keys[i], &qc->source, &qc->target, &sig);
	}
	return 0;
}

/* ------------------------------------------------------------- lifecycle */

static int known_add(ssp_bftc *b, const ssp_pubkey *k)
{
	ssp_addr a;
	ssp_addr_from_pubkey(&a, k);
	if (known_key_of(b, &a)) return 0;
	if (b->nknown == b->capknown) {
		size_t cap = b->capknown ? b->capknown * 2 : 64;
		known_key *nk = ssp_realloc(b->known, cap * sizeof *nk);
		if (!nk) return SSP_ERR_NOMEM;
		b->known = nk;
		b->capknown = cap;
	}
	b->known[b->nknown++] = (known_key){a, *k};
	return 0;
}

int ssp_bftc_new(ssp_bftc **out, const ssp_genesis *g)
{
	ssp_bftc *b;
	*out = NULL;
	if (!ssp_genesis_bft(g, NULL, NULL)) return SSP_ERR_INVAL;
	if (!(b = ssp_calloc(1, sizeof *b))) return SSP_ERR_NOMEM;
	b->g = g;
	b->n = (uint32_t)ssp_genesis_producers(g, &b->keys);
	(void)ssp_genesis_bft(g, &b->onion, &b->onion_len);
	b->me = -1;
	ssp_buf_init(&b->qcbuf, SSP_QC_MAX);
	if (b->n > SSP_BFT_MAX_N) {
		ssp_bftc_free(b);
		return SSP_ERR_INVAL;
	}
	if (bftc_ev_new(&b->ev)) {
		ssp_bftc_free(b);
		return SSP_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < b->n; i++) {
		int rc = known_add(b, &b->keys[i]);
		if (rc) {
			ssp_bftc_free(b);
			return rc;
		}
	}
	static const char tag[] = "ssp-bft-genesis-seed";
	uint8_t msg[sizeof tag - 1 + 32];
	memcpy(msg, tag, sizeof tag - 1);
	memcpy(msg + sizeof tag - 1, ssp_genesis_hash(g)->b, 32);
	ssp_sha256(&b->genesis_seed, msg, sizeof msg);
	*out = b;
	return 0;
}

void ssp_bftc_free(ssp_bftc *b)
{
	if (!b) return;
	ssp_bft_free(b->m);
	for (int i = 0; i < SLINKS; i++)
		free(b->links[i].sig);
	free(b->known);
	free(b->cps);
	for (size_t i = 0; i < b->nseen; i++)
		free(b->seen[i].ctx_missed);
	free(b->seen);
	bftc_ev_free(b->ev);
	free(b->cx);
	ssp_buf_free(&b->qcbuf);
	free(b);
}

/* The key of an address of a set told, or NULL. */
static const ssp_pubkey *known_key_of(const ssp_bftc *b, const ssp_addr *a)
{
	for (size_t i = 0; i < b->nknown; i++)
		if (!memcmp(b->known[i].addr.b, a->b, SSP_ADDR_LEN)) return &b->known[i].key;
	return NULL;
}

/*
 * The machine's view of a header (QC signatures checked when verify): its
 * producer must be the key of its slot in its round's set (SSP_ERR_NOTFOUND:
 * the parent is unknown; SSP_ERR_BFT_SET: that set is not known yet).
 */
static int to_block(ssp_bftc *b, ssp_bft_block *out, const ssp_header *h, const ssp_hash *id,
                    bool verify)
{
	ssp_bft_set st;
	uint32_t p;
	ssp_addr a;
	memset(out, 0, sizeof *out);
	int rc = ssp_bft_slot_set(b->m, &st, &p, &h->prev_id, h->slot);
	if (rc) return rc;
	ssp_addr_from_pubkey(&a, &st.keys[p]);
	if (memcmp(a.b, h->producer.b, SSP_ADDR_LEN)) return SSP_ERR_BLOCK_PRODUCER;
	if (h->seed_len != 32) return SSP_ERR_BFT_REVEAL;
	out->id = *id;
	out->parent = h->prev_id;
	out->height = h->height;
	out->slot = h->slot;
	out->time_ms = h->timestamp_ms;
	out->producer = p;
	memcpy(out->reveal.b, h->seed_reveal, 32);
	if (h->qc_len) {
		if ((rc = qc_decode(b, &out->qc, h->qc, h->qc_len, verify))) return rc;
		out->has_qc = true;
	}
	return 0;
}

static void drain_evidence(ssp_bftc *b)
{
	ssp_bft_evidence e;
	while (ssp_bft_evidence_pop(b->m, &e)) {
		static const char *const kinds[] = {"none", "two blocks for one slot", "a double vote",
		                                    "a surround vote"};
		b->st.evidence++;
		bftc_ev_found(b->ev, &e);
		ssp_addr a;
		char at[96];
		ssp_addr_from_pubkey(&a, &e.key);
		ssp_addr_encode(at, sizeof at, ssp_genesis_hrp(b->g), &a);
		SSP_LOGW(LOG, "evidence: the delegate key of %s signed %s", at,
		         kinds[e.kind < 4 ? e.kind : 0]);
	}
}

/* The id of a header (the produced one has none yet: its fields are hashed). */
static void header_id(ssp_hash *id, const ssp_header *h)
{
	ssp_buf e;
	ssp_buf_init(&e, 1024 + SSP_QC_MAX);
	ssp_header_encode(&e, h, true);
	ssp_sha256(id, e.data, e.len);
	ssp_buf_free(&e);
}

/* ------------------------------------------------- blocks accepted before */

static const seen_block *seen_find(const ssp_bftc *b, const ssp_hash *id)
{
	for (size_t i = 0; i < b->nseen; i++)
		if (!memcmp(b->seen[i].id.b, id->b, 32)) return &b->seen[i];
	return NULL;
}

static void seen_add(ssp_bftc *b, const ssp_bft_block *blk)
{
	if (seen_find(b, &blk->id)) return;
	if (b->nseen == b->capseen) {
		size_t cap = b->capseen ? b->capseen * 2 : 256;
		seen_block *s = cap <= SEEN_MAX ? realloc(b->seen, cap * sizeof *s) : NULL;
		if (!s) { /* the lowest goes (only a switch onto a far final branch needs it) */
			size_t lo = 0;
			for (size_t i = 1; i < b->nseen; i++)
				if (b->seen[i].height < b->seen[lo].height) lo = i;
			if (!b->nseen) return;
			free(b->seen[lo].ctx_missed);
			b->seen[lo] = b->seen[--b->nseen];
		} else {
			b->seen = s;
			b->capseen = cap;
		}
	}
	ssp_bft_set st;
	ssp_bft_ref r = {blk->height, blk->id};
	if (ssp_bft_block_set(b->m, &st, &r)) return; /* just added: known */
	b->seen[b->nseen++] = (seen_block){.id = blk->id,
	                                   .parent = blk->parent,
	                                   .height = blk->height,
	                                   .slot = blk->slot,
	                                   .producer = st.keys[blk->producer]};
}

/* Forgets the blocks at or below the chain's final height. */
static void seen_prune(ssp_bftc *b, uint64_t final_height)
{
	for (size_t i = 0; i < b->nseen;)
		if (b->seen[i].height <= final_height) {
			free(b->seen[i].ctx_missed);
			b->seen[i] = b->seen[--b->nseen];
		} else {
			i++;
		}
}

/*
 * Is id the machine's final block or an ancestor of it above `floor`
 * (walked through the blocks accepted before: the machine dropped them)?
 * *out (may be NULL) gets its record.
 */
static bool on_final_path(const ssp_bftc *b, const ssp_hash *id, uint64_t floor,
                          const seen_block **out)
{
	ssp_bft_ref f;
	ssp_bft_final(b->m, &f);
	ssp_hash x = f.id;
	for (size_t k = 0; k <= b->nseen; k++) {
		const seen_block *s = seen_find(b, &x);
		if (!s || s->height <= floor) return false;
		if (!memcmp(x.b, id->b, 32)) {
			if (out) *out = s;
			return true;
		}
		x = s->parent;
	}
	return false;
}

/* Slots per round: with elections the staking module's set size, else the genesis set's. */
uint32_t ssp_bftc_round_len(const ssp_bftc *b)
{
	const ssp_dpos_params *d = ssp_genesis_dpos(b->g);
	return b->elect && d->set_size <= SSP_BFT_MAX_N ? d->set_size : b->n;
}

void ssp_bftc_set_elector(ssp_bftc *b, ssp_bftc_elector fn, void *ctx)
{
	b->elect = fn;
	b->elect_ctx = ctx;
}

/*
 * After block h committed (st: its state; NULL: read it through rt): when
 * it begins a round, what it elected goes to the machine. A local failure
 * leaves it pending (retried before the next check), so the blocks that
 * depend on it wait (SSP_ERR_BFT_SET), never get another verdict.
 */
static int elect_read(ssp_bftc *b, const ssp_chain *c, ssp_txn *rt, ssp_state *st,
                      const ssp_header *h, uint64_t parent_slot)
{
	if (!b->elect || h->height == 0) return 0;
	if (b->elect_pending && !memcmp(b->ep_id.b, h->id.b, 32)) b->elect_pending = false;
	uint32_t L = ssp_bftc_round_len(b);
	if (h->slot / L == parent_slot / L) return 0; /* it does not begin its round */
	uint64_t round = h->slot / L;
	ssp_bft_set set;
	ssp_state *view = st;
	ssp_txn *own = NULL;
	int rc = 0;
	if (!view) {
		if (!rt && (rc = ssp_store_read(ssp_chain_store(c), &own))) goto pend;
		if ((rc = ssp_chain_state_view(c, rt ? rt : own, &view))) goto pend;
	}
	rc = b->elect(b->elect_ctx, view, round, &set);
	if (rc == SSP_ERR_NOTFOUND) {
		rc = ssp_bft_set_elected(b->m, &h->id, NULL);
	} else if (!rc) {
		for (uint32_t i = 0; i < set.n && !rc; i++)
			rc = known_add(b, &set.keys[i]);
		if (!rc) rc = ssp_bft_set_elected(b->m, &h->id, &set);
		if (rc == SSP_ERR_INVAL) {
			SSP_LOGE(LOG, "the set elected in round %llu is not a valid set",
			         (unsigned long long)round);
			rc = ssp_bft_set_elected(b->m, &h->id, NULL);
		}
	}
	if (rc == SSP_ERR_NOTFOUND) rc = 0; /* the machine dropped it: decided already */
	if (view != st) ssp_state_close(view);
pend:
	ssp_txn_end(own);
	if (rc) {
		b->elect_pending = true;
		b->ep_id = h->id;
		b->ep_height = h->height;
		b->ep_slot = h->slot;
		b->ep_parent_slot = parent_slot;
		SSP_LOGW(LOG, "the set elected in round %llu could not be read: %s (retried)",
		         (unsigned long long)round, ssp_strerror(rc));
	}
	return ssp_err_local(rc) ? 0 : rc;
}

/* A pending election read again (committed state: the block may be final by now). */
static void elect_retry(ssp_bftc *b, const ssp_chain *c)
{
	if (!b->elect_pending) return;
	ssp_header h;
	memset(&h, 0, sizeof h);
	h.id = b->ep_id;
	h.height = b->ep_height;
	h.slot = b->ep_slot;
	(void)elect_read(b, c, NULL, NULL, &h, b->ep_parent_slot);
}

static void bc_committed(void *ctx, const ssp_chain *c, ssp_state *st, const ssp_header *h,
                         uint64_t parent_slot)
{
	ssp_bftc *b = ctx;
	elect_retry(b, c);
	(void)elect_read(b, c, NULL, st, h, parent_slot);
}

int ssp_bftc_load(ssp_bftc *b, const ssp_chain *c)
{
	ssp_txn *rt = NULL;
	ssp_head hd;
	const uint8_t *raw;
	size_t len;
	ssp_header h;
	ssp_rd rd;
	int rc = ssp_store_read(ssp_chain_store(c), &rt);
	if (rc) return rc;
	if ((rc = ssp_chain_read_head(c, rt, &hd)) ||
	    (rc = ssp_chain_read_block(c, rt, 0, &raw, &len)))
		goto out;
	ssp_rd_init(&rd, raw, len);
	if (ssp_header_read(&h, &rd)) {
		rc = SSP_ERR_DBCORRUPT;
		goto out;
	}
	ssp_bft_params p = {.n = b->n,
	                    .keys = b->keys,
	                    .onion = b->onion,
	                    .onion_len = b->onion_len,
	                    .round_len = ssp_bftc_round_len(b),
	                    .elections = b->elect != NULL,
	                    .genesis_id = h.id,
	                    .genesis_time_ms = ssp_genesis_time_ms(b->g),
	                    .genesis_seed = b->genesis_seed,
	                    .slot_ms = (uint32_t)ssp_genesis_params(b->g)->block_interval_ms,
	                    .max_blocks = 1u << 20};
	ssp_bft_free(b->m);
	b->m = NULL;
	if ((rc = ssp_bft_new(&b->m, &p))) goto out;
	/* the committed blocks, verified when they were committed */
	uint64_t prev_slot = 0; /* genesis: slot 0 */
	for (uint64_t i = 1; i <= hd.height && !rc; i++) {
		ssp_bft_block blk;
		if ((rc = ssp_chain_read_block(c, rt, i, &raw, &len))) break;
		ssp_rd_init(&rd, raw, len);
		if (ssp_header_read(&h, &rd) || to_block(b, &blk, &h, &h.id, false)) {
			rc = SSP_ERR_DBCORRUPT;
			break;
		}
		rc = ssp_bft_add_block(b->m, &blk);
		if (rc == SSP_ERR_EXISTS) rc = 0;
		if (!rc && i > hd.finalized) seen_add(b, &blk);
		if (!rc) rc = elect_read(b, c, rt, NULL, &h, prev_slot);
		prev_slot = h.slot;
		if (rc && !ssp_err_local(rc)) {
			SSP_LOGE(LOG, "committed block %llu refused by the consensus rules: %s",
			         (unsigned long long)i, ssp_strerror(rc));
			rc = SSP_ERR_DBCORRUPT;
		}
	}
	drain_evidence(b);
	/* the vote watermark, and the QC justifying its source (a restart must carry it) */
	uint8_t *rec = NULL;
	size_t rl = 0;
	if (!rc) rc = ssp_chain_read_vote_record(c, rt, &rec, &rl);
	if (!rc && rl) {
		if (rl < 1 + 2 * 40 || rec[0] != WM_VERSION) {
			rc = SSP_ERR_DBCORRUPT;
		} else {
			ssp_bft_qc qc;
			link_get(rec + 1, &b->wm.vote_source, &b->wm.vote_target);
			if (rl > 1 + LINK_LEN) {
				if (qc_decode(b, &qc, rec + 1 + LINK_LEN, rl - 1 - LINK_LEN, true))
					rc = SSP_ERR_DBCORRUPT;
				else
					b->wm.source_qc = qc;
			}
			b->voted = b->wm.vote_target.id;
		}
		if (!rc && b->wm.source_qc.target.height) {
			int q = ssp_bft_add_qc(b->m, &b->wm.source_qc);
			if (q && q != SSP_ERR_NOTFOUND && !ssp_err_local(q))
				SSP_LOGW(LOG, "the vote watermark's QC was refused: %s", ssp_strerror(q));
		}
	}
	free(rec);
out:
	ssp_txn_end(rt);
	return rc;
}

/* ----------------------------------------------------------- the onion */

int ssp_bftc_onion_secret(ssp_hash *out, const ssp_signer *s, const char *chain_id)
{
	ssp_hash d;
	ssp_sig a, b2;
	int rc;
	ssp_onion_secret_digest(&d, chain_id);
	if ((rc = s->sign(s->ctx, &a, &d)) || (rc = s->sign(s->ctx, &b2, &d))) return rc;
	/* deterministic signatures only (Ed25519): the secret must be the same every time */
	if (memcmp(a.b, b2.b, sizeof a.b)) return SSP_ERR_KEYTYPE;
	ssp_onion_secret(out, &a);
	sodium_memzero(&a, sizeof a);
	sodium_memzero(&b2, sizeof b2);
	return 0;
}

int ssp_bftc_set_producer(ssp_bftc *b, const ssp_signer *s)
{
	ssp_hash secret, x;
	int rc;
	int me = -1;
	for (uint32_t i = 0; i < b->n && me < 0; i++)
		if (ssp_pubkey_eq(&b->keys[i], &s->pub)) me = (int)i;
	/* a key outside the genesis set produces once elected (with an onion registered) */
	if (me < 0 && !b->elect) return SSP_ERR_NOTFOUND;
	if ((rc = ssp_bftc_onion_secret(&secret, s, ssp_genesis_chain_id(b->g)))) return rc;
	size_t ncps = b->onion_len / ONION_CP + 1;
	ssp_hash *cps = ssp_malloc(ncps * sizeof *cps);
	if (!cps) return SSP_ERR_NOMEM;
	x = secret;
	for (uint64_t j = 0; j <= b->onion_len; j++) {
		if (j % ONION_CP == 0) cps[j / ONION_CP] = x;
		if (j < b->onion_len) ssp_sha256(&x, x.b, 32);
	}
	sodium_memzero(&secret, sizeof secret);
	if (me >= 0 && memcmp(x.b, b->onion[me].b, 32)) {
		free(cps);
		return SSP_ERR_BFT_REVEAL; /* the genesis holds another commitment for this key */
	}
	free(b->cps);
	b->cps = cps;
	b->ncps = ncps;
	b->me = 0;
	b->me_key = s->pub;
	b->signer = *s;
	return 0;
}

/* Element i (1..k) of this producer's onion: SHA-256^(k-i)(secret). */
static int onion_element(const ssp_bftc *b, ssp_hash *out, uint64_t i)
{
	if (i == 0 || i > b->onion_len) return SSP_ERR_RANGE;
	uint64_t j = b->onion_len - i;
	ssp_hash x = b->cps[j / ONION_CP];
	for (uint64_t s = 0; s < j % ONION_CP; s++)
		ssp_sha256(&x, x.b, 32);
	*out = x;
	return 0;
}

/* -------------------------------------------------- the chain's interface */

static int bc_producer(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
                       ssp_pubkey *key)
{
	ssp_bftc *b = ctx;
	uint32_t idx;
	ssp_bft_set st;
	int rc = ssp_bft_slot_set(b->m, &st, &idx, &parent->id, slot);
	if (rc == SSP_ERR_NOTFOUND) {
		/* the parent was dropped: its child on the machine's final path (a branch the
		 * chain is switching to) was checked when the machine took it */
		for (size_t i = 0; i < b->nseen; i++) {
			const seen_block *s = &b->seen[i];
			if (s->slot == slot && !memcmp(s->parent.b, parent->id.b, 32) &&
			    on_final_path(b, &s->id, ssp_chain_head(c)->finalized, NULL)) {
				*key = s->producer;
				return 0;
			}
		}
		return SSP_ERR_BFT_CONFLICT; /* the head was left behind */
	}
	if (rc) return rc;
	*key = st.keys[idx];
	return 0;
}

/* ------------------------------------------------------- block contexts */

/*
 * The block context (ssp_consensus.block_context) of `slot` on `parent`, a
 * live block: the slot's producer, the finality the parent's branch's own
 * QCs give (ssp_bft_branch_final: never votes seen) and the producers of
 * the slots skipped since the parent's, the last round_len of them at most
 * (a longer gap is the chain halting, not one delegate: each counts one
 * round's misses). None after genesis: slots before the first block are
 * the chain's start, nobody's miss.
 */
static int ctx_compute(ssp_bftc *b, const ssp_hash *parent, uint64_t slot, ssp_block_context *out)
{
	ssp_bft_block pb;
	ssp_bft_set st;
	uint32_t idx;
	memset(out, 0, sizeof *out);
	if (!ssp_bft_get(b->m, &pb, parent)) return SSP_ERR_NOTFOUND;
	int rc = ssp_bft_slot_set(b->m, &st, &idx, parent, slot);
	if (rc) return rc;
	out->producer = st.keys[idx];
	out->has_producer = true;
	if ((rc = ssp_bft_branch_final(b->m, parent, &out->branch_final))) return rc;
	out->has_final = true;
	if (pb.height == 0 || slot <= pb.slot + 1) return 0;
	uint64_t len = ssp_bftc_round_len(b), from = pb.slot + 1;
	if (len > SSP_BLOCK_MISSED_MAX) len = SSP_BLOCK_MISSED_MAX;
	if (slot - from > len) from = slot - len;
	for (uint64_t x = from; x < slot; x++) {
		if ((rc = ssp_bft_slot_set(b->m, &st, &idx, parent, x))) return rc;
		out->missed[out->nmissed++] = (ssp_block_missed){x, st.keys[idx]};
	}
	return 0;
}

/* Keeps cx as the context of the accepted block id (its parent may be dropped before
 * the chain imports it). Only memory can fail here: the block then has none. */
static void seen_set_ctx(ssp_bftc *b, const ssp_hash *id, const ssp_block_context *cx)
{
	seen_block *s = (seen_block *)seen_find(b, id);
	if (!s || s->has_ctx) return;
	if (cx->nmissed && !(s->ctx_missed = ssp_malloc(cx->nmissed * sizeof *s->ctx_missed)))
		return;
	if (cx->nmissed) memcpy(s->ctx_missed, cx->missed, cx->nmissed * sizeof *s->ctx_missed);
	s->ctx_nmissed = cx->nmissed;
	s->ctx_final = cx->branch_final;
	s->has_ctx = true;
}

static int bc_block_context(void *ctx, const ssp_chain *c, const ssp_head *parent, uint64_t slot,
                            ssp_block_context *out)
{
	ssp_bftc *b = ctx;
	if (ssp_bft_get(b->m, NULL, &parent->id)) return ctx_compute(b, &parent->id, slot, out);
	/* the parent was dropped: the child the machine took on its final path kept its
	 * context (as bc_producer finds its producer) */
	for (size_t i = 0; i < b->nseen; i++) {
		const seen_block *s = &b->seen[i];
		if (s->has_ctx && s->slot == slot && !memcmp(s->parent.b, parent->id.b, 32) &&
		    on_final_path(b, &s->id, ssp_chain_head(c)->finalized, NULL)) {
			out->has_producer = out->has_final = true;
			out->producer = s->producer;
			out->branch_final = s->ctx_final;
			out->nmissed = s->ctx_nmissed;
			if (s->ctx_nmissed)
				memcpy(out->missed, s->ctx_missed, s->ctx_nmissed * sizeof *s->ctx_missed);
			return 0;
		}
	}
	return SSP_ERR_BFT_CONFLICT; /* as bc_producer: the head was left behind */
}

/* The full check of a header whose parent the machine holds; adds it. */
static int add_header(ssp_bftc *b, const ssp_header *h, const ssp_hash *id)
{
	ssp_bft_block blk;
	const seen_block *s;
	if (ssp_bft_get(b->m, NULL, id)) return 0; /* checked when it was added */
	if (on_final_path(b, id, 0, &s)) /* final, and checked when it was added */
		return s->height == h->height && s->slot == h->slot ? 0 : SSP_ERR_BFT_CONFLICT;
	if (!ssp_bft_get(b->m, NULL, &h->prev_id)) return SSP_ERR_NOTFOUND;
	int rc = to_block(b, &blk, h, id, true);
	if (!rc) bftc_ev_header(b->ev, h, id); /* signed: the half of a double block */
	/* its context while its parent is live (the child can only finalise blocks below it) */
	bool cx = !rc && (b->cx || (b->cx = ssp_malloc(sizeof *b->cx))) &&
	          !ctx_compute(b, &h->prev_id, h->slot, b->cx);
	if (!rc) rc = ssp_bft_add_block(b->m, &blk);
	if (rc == SSP_ERR_EXISTS) rc = 0;
	if (!rc) {
		seen_add(b, &blk);
		if (cx) seen_set_ctx(b, id, b->cx);
		b->st.blocks_added++;
	}
	drain_evidence(b);
	return rc;
}

static int bc_check(void *ctx, const ssp_chain *c, const ssp_header *h)
{
	ssp_bftc *b = ctx;
	ssp_hash id;
	elect_retry(b, c);
	header_id(&id, h);
	int rc = add_header(b, h, &id);
	return rc == SSP_ERR_NOTFOUND ? SSP_ERR_BFT_CONFLICT : rc;
}

/*
 * The final height on the branch ending at head: the machine's final height
 * when its final block is on it; head's own height when head is an ancestor
 * of the final block (the machine dropped it: final itself); else 0.
 */
static uint64_t final_under(const ssp_bftc *b, const ssp_head *head)
{
	ssp_bft_ref f;
	ssp_bft_final(b->m, &f);
	if (ssp_bft_descends(b->m, &f.id, &head->id)) return f.height;
	return on_final_path(b, &head->id, 0, NULL) ? head->height : 0;
}

static uint64_t bc_finalized(void *ctx, const ssp_chain *c, const ssp_head *head)
{
	ssp_bftc *b = ctx;
	seen_prune(b, ssp_chain_head(c)->finalized);
	return final_under(b, head);
}

static int bc_prepare(void *ctx, const ssp_chain *c, ssp_header *h)
{
	ssp_bftc *b = ctx;
	ssp_bft_block t;
	(void)c;
	ssp_bft_set st;
	uint32_t prod, me;
	if (b->me < 0) return SSP_ERR_BLOCK_PRODUCER;
	int rc = ssp_bft_slot_set(b->m, &st, &prod, &h->prev_id, h->slot);
	if (rc) return rc;
	if ((me = ssp_bft_set_index(&st, &b->me_key)) == UINT32_MAX) return SSP_ERR_BLOCK_PRODUCER;
	if ((rc = ssp_bft_propose(b->m, &t, me, &h->prev_id, h->slot))) return rc;
	ssp_hash reveal;
	uint64_t r = h->slot / ssp_bftc_round_len(b), base = st.onion_round[me];
	if (base != UINT64_MAX && base >= r) return SSP_ERR_BFT_REVEAL;
	if ((rc = onion_element(b, &reveal, base == UINT64_MAX ? r + 1 : r - base)))
		return SSP_ERR_BFT_REVEAL; /* the onion is used up: register a new one */
	memcpy(h->seed_reveal, reveal.b, 32);
	h->seed_len = 32;
	h->qc = NULL;
	h->qc_len = 0;
	if (t.has_qc && qc_encode(b, &b->qcbuf, &t.qc.source, &t.qc.target, t.qc.bits)) {
		h->qc = b->qcbuf.data;
		h->qc_len = (uint32_t)b->qcbuf.len;
		b->st.qcs_made++;
	}
	return 0;
}

void ssp_bftc_consensus(ssp_bftc *b, ssp_consensus *out)
{
	*out = (ssp_consensus){.producer = bc_producer,
	                       .finalized = bc_finalized,
	                       .committed = bc_committed,
	                       .check = bc_check,
	                       .prepare = bc_prepare,
	                       .block_context = bc_block_context,
	                       .ctx = b};
}

/* ------------------------------------------------------------ fork choice */

/* A branch as the machine sees it; false when it is not a candidate (unknown, off final). */
static bool bc_branch(ssp_bftc *b, const ssp_branch *x, ssp_bft_branch *out)
{
	ssp_bft_ref f;
	ssp_bft_final(b->m, &f);
	*out = (ssp_bft_branch){0, x->tip_time_ms, x->tip_id};
	return !ssp_bft_branch_justified(b->m, &out->justified_height, &x->tip_id) &&
	       ssp_bft_descends(b->m, &f.id, &x->tip_id);
}

static int bc_compare(void *ctx, const ssp_branch *a, const ssp_branch *bb)
{
	ssp_bftc *b = ctx;
	ssp_bft_branch x, y;
	bool ok_a = bc_branch(b, a, &x), ok_b = bc_branch(b, bb, &y);
	if (ok_a != ok_b) return ok_a ? 1 : -1;
	if (!ok_a) return 0; /* neither can be followed */
	return ssp_bft_branch_cmp(&x, &y);
}

static int bc_check_header(void *ctx, const ssp_chain *c, const ssp_header *h)
{
	ssp_bftc *b = ctx;
	elect_retry(b, c);
	/* a key of a set told here (its slot is checked once the parent is here) */
	const ssp_pubkey *k = known_key_of(b, &h->producer);
	if (!k) return SSP_ERR_BLOCK_PRODUCER;
	int rc = ssp_header_check_sig(h, ssp_genesis_chain_id(ssp_chain_genesis(c)), k);
	if (rc) return rc;
	rc = add_header(b, h, &h->id);
	if (rc == SSP_ERR_BFT_SET) return SSP_ERR_NOTFOUND; /* waits like an unknown parent */
	/* off the final block: stale, no blame; an unknown parent: the fork database keeps it
	 * unchecked (signed by a producer of the set) until its parent is here */
	return rc == SSP_ERR_BFT_CONFLICT ? SSP_ERR_FINAL_POP : rc;
}

void ssp_bftc_forkchoice(ssp_bftc *b, ssp_forkchoice *out)
{
	*out = (ssp_forkchoice){.compare = bc_compare, .check_header = bc_check_header, .ctx = b};
}

/* ----------------------------------------------------------------- votes */

int ssp_bftc_vote_in(ssp_bftc *b, const uint8_t *raw, size_t len, bool *fresh)
{
	ssp_bft_vote v;
	ssp_sig sig;
	ssp_hash d;
	*fresh = false;
	if (len != SSP_BFTC_VOTE_LEN || raw[0] != 1) return SSP_ERR_DECODE;
	v.voter = (uint32_t)(raw[1] | raw[2] << 8);
	if (v.voter >= SSP_BFT_MAX_N) return SSP_ERR_DECODE;
	link_get(raw + 3, &v.source, &v.target);
	if (v.source.height >= v.target.height) return SSP_ERR_DECODE;
	memcpy(sig.b, raw + 3 + LINK_LEN, SSP_SIG_LEN);
	slink *l = slink_find(b, &v.source, &v.target);
	if (l && bit_get(l->bits, v.voter) && !memcmp(l->sig[v.voter].b, sig.b, SSP_SIG_LEN))
		return 0; /* known: counted before */
	/* blocks not here yet: checked once they are (a source at or below the final block is
	 * dropped from the machine: the machine itself decides on it) */
	ssp_bft_ref fin;
	ssp_bft_final(b->m, &fin);
	if (!ssp_bft_get(b->m, NULL, &v.target.id) ||
	    (v.source.height > fin.height && !ssp_bft_get(b->m, NULL, &v.source.id))) {
		b->st.votes_early++;
		return SSP_ERR_NOTFOUND;
	}
	/* the voter is an index into the set of the target's round */
	ssp_bft_set st;
	if (ssp_bft_block_set(b->m, &st, &v.target)) return SSP_ERR_NOTFOUND;
	if (v.voter >= st.n) return SSP_ERR_DECODE;
	vote_digest(b, &d, &v.source, &v.target);
	if (ssp_verify_digest(&st.keys[v.voter], &d, &sig)) {
		b->st.votes_bad++;
		return SSP_ERR_BADSIG;
	}
	bftc_ev_vote(b->ev, &st.keys[v.voter], &v.source, &v.target, &sig);
	int rc = ssp_bft_add_vote(b->m, &v);
	drain_evidence(b);
	if (rc) {
		if (!ssp_err_local(rc)) b->st.votes_bad++;
		return rc;
	}
	slink_put(b, &v.source, &v.target, v.voter, &sig);
	b->st.votes_ok++;
	*fresh = true;
	return 0;
}

int ssp_bftc_vote_out(ssp_bftc *b, ssp_chain *c, uint8_t out[SSP_BFTC_VOTE_LEN])
{
	const ssp_head *head = ssp_chain_head(c);
	ssp_bft_vote v;
	ssp_bft_qc qc;
	ssp_bft_watermark next;
	ssp_hash d;
	ssp_sig sig;
	int rc;
	if (b->me < 0 || head->height == 0) return SSP_ERR_NOTFOUND;
	if (!memcmp(b->voted.b, head->id.b, 32)) return SSP_ERR_EXISTS;
	ssp_bft_set st;
	ssp_bft_ref hr = {head->height, head->id};
	if ((rc = ssp_bft_block_set(b->m, &st, &hr))) return rc;
	uint32_t me = ssp_bft_set_index(&st, &b->me_key);
	if (me == UINT32_MAX) return SSP_ERR_NOTFOUND; /* not in this round's set */
	if ((rc = ssp_bft_vote_for(b->m, &v, &qc, me, &head->id))) return rc;
	if ((rc = ssp_bft_may_vote(&next, &b->wm, &v.source, &v.target, &qc))) {
		b->voted = head->id; /* not again for this head */
		return rc;
	}
	/* the watermark, durable before the vote exists outside this function */
	ssp_buf rec;
	ssp_buf_init(&rec, 1 + LINK_LEN + SSP_QC_MAX);
	uint8_t lk[LINK_LEN];
	ssp_buf_u8(&rec, WM_VERSION);
	link_put(lk, &v.source, &v.target);
	ssp_buf_put(&rec, lk, sizeof lk);
	if (qc.target.height) {
		ssp_buf q;
		ssp_buf_init(&q, SSP_QC_MAX);
		if (qc_encode(b, &q, &qc.source, &qc.target, qc.bits))
			ssp_buf_put(&rec, q.data, q.len);
		else
			SSP_LOGD(LOG, "the QC justifying %llu is not kept whole: voting without it",
			         (unsigned long long)qc.target.height);
		ssp_buf_free(&q);
	}
	rc = rec.err ? rec.err : ssp_chain_write_vote_record(c, rec.data, rec.len);
	ssp_buf_free(&rec);
	if (rc) return rc;
	b->wm = next;
	b->voted = head->id;
	vote_digest(b, &d, &v.source, &v.target);
	if ((rc = b->signer.sign(b->signer.ctx, &sig, &d))) return rc;
	out[0] = 1;
	out[1] = (uint8_t)me;
	out[2] = (uint8_t)(me >> 8);
	link_put(out + 3, &v.source, &v.target);
	memcpy(out + 3 + LINK_LEN, sig.b, SSP_SIG_LEN);
	rc = ssp_bft_add_vote(b->m, &v);
	drain_evidence(b);
	if (!rc) slink_put(b, &v.source, &v.target, me, &sig);
	b->st.votes_made++;
	return rc == SSP_ERR_NOMEM ? rc : 0;
}

/* ------------------------------------------------------------- queries */

bool ssp_bftc_holds(const ssp_bftc *b, const ssp_hash *id)
{
	return ssp_bft_get(b->m, NULL, id);
}

uint64_t ssp_bftc_final_on(const ssp_bftc *b, const ssp_chain *c)
{
	return final_under(b, ssp_chain_head(c));
}

const ssp_pubkey *ssp_bftc_slot_producer(ssp_bftc *b, const ssp_hash *parent, uint64_t slot)
{
	uint32_t idx;
	ssp_bft_set st;
	if (ssp_bft_slot_set(b->m, &st, &idx, parent, slot)) return NULL;
	/* the machine's array may move: a copy of the key, known here for good */
	ssp_addr a;
	ssp_addr_from_pubkey(&a, &st.keys[idx]);
	return known_key_of(b, &a);
}

int ssp_bftc_may_produce(ssp_bftc *b, const ssp_hash *parent, uint64_t slot)
{
	ssp_bft_block t;
	ssp_bft_set st;
	uint32_t prod, me;
	if (b->me < 0) return SSP_ERR_BLOCK_PRODUCER;
	int rc = ssp_bft_slot_set(b->m, &st, &prod, parent, slot);
	if (rc) return rc;
	if ((me = ssp_bft_set_index(&st, &b->me_key)) == UINT32_MAX) return SSP_ERR_BLOCK_PRODUCER;
	return ssp_bft_propose(b->m, &t, me, parent, slot);
}

bool ssp_bftc_evidence_take(ssp_bftc *b, ssp_bftc_evidence *out)
{
	return bftc_ev_take(b->ev, out);
}

void ssp_bftc_info(const ssp_bftc *b, ssp_bftc_stats *out)
{
	ssp_bft_ref j, f;
	*out = b->st;
	ssp_bft_justified(b->m, &j);
	ssp_bft_final(b->m, &f);
	out->justified = j.height;
	out->final = f.height;
	out->blocks_held = ssp_bft_count(b->m);
	ssp_bft_ref h;
	ssp_bft_set st;
	ssp_bft_head(b->m, &h);
	out->set_size = b->n;
	out->me = -1;
	if (!ssp_bft_block_set(b->m, &st, &h)) {
		out->set_size = st.n;
		out->me = b->me < 0 ? -1 : (int)ssp_bft_set_index(&st, &b->me_key);
	}
	out->conflicted = ssp_bft_conflicted(b->m);
}
