/*
 * bft_internal.h — what the files of the BFT state machine share
 * (consensus layer; private to src/consensus/bft_*.c): the machine's
 * struct, its block index and the helpers the tree and the finality code
 * both use. Not an API.
 */
#ifndef SSP_BFT_INTERNAL_H
#define SSP_BFT_INTERNAL_H

#include "ssp/bft.h"

#define BFT_NONE UINT32_MAX
#define BFT_ORDER_CACHE 4
/* K, compaction's threshold (ssp_bft_params.compact_min 0) */
#define BFT_COMPACT_MIN 64

/* set indexes besides a real one: not told yet / told that the block elected none */
#define BFT_SET_UNKNOWN UINT32_MAX
#define BFT_SET_NONE (UINT32_MAX - 1)

typedef struct {
	ssp_bft_block h;
	uint32_t parent;         /* index, BFT_NONE for the root (genesis, or the final block) */
	uint32_t set;            /* the delegate set of its round on its branch (m->sets) */
	uint32_t elected;        /* first block of its round: the set it elected (or UNKNOWN/NONE) */
	uint32_t pkx;            /* its producer's key (m->ks) */
	uint64_t first_h;        /* height of the first block of its round on its branch */
	uint64_t bfin_h;         /* the highest block its branch's QCs make final, up to itself */
	uint32_t qc_src, qc_tgt; /* its QC's link (indexes), BFT_NONE without or below the final */
	uint32_t children;       /* blocks built on it (0: a leaf, a fork-choice candidate) */
	ssp_hash seed, acc;      /* its round's seed; XOR of its round's window reveals up to it */
	uint32_t cnt;            /* blocks of its round on its branch, itself included */
	uint32_t prev_cnt;       /* blocks of the round before on its branch */
	bool justified;
} bft_node;

/*
 * A link source -> target: the votes seen for it, and whether it has a
 * quorum. The target is a live block; the source is too, or BFT_NONE once
 * it is below the final block (then only sref names it, and it counts as
 * justified: see bft_src_trusted).
 */
typedef struct {
	uint32_t src, tgt;
	ssp_bft_ref sref;
	uint32_t count;
	uint64_t bits[SSP_BFT_BITMAP_WORDS];
	bool qc;   /* count >= quorum (assembled here, or carried by a block) */
	bool done; /* applied: its source was justified when it got its quorum */
} bft_link;

/*
 * A voter's votes seen, sorted by target height, conflict-free (so sources
 * ascend too). Heights and ids, not block indexes: a vote outlives its
 * blocks (compaction), so a later vote conflicting with it is still found.
 */
typedef struct {
	ssp_bft_ref src, tgt;
} bft_vrec;

/* A dropped block's slot, producer and id, kept while its slot can still matter
 * (participation, the producer's last block, two blocks for one slot). */
typedef struct {
	uint64_t slot;
	uint32_t pkx; /* the producer's key (m->ks) */
	ssp_hash id;
} bft_oldslot;

/* A record's heights, apart: the checks read 16 bytes a record (hot), the ids only
 * for a duplicate or evidence. */
typedef struct {
	uint64_t th, sh;
} bft_vh;

typedef struct {
	bft_vrec *v;
	bft_vh *h; /* h[i]: v[i]'s target and source heights */
	uint32_t n, cap;
} bft_voter;

/*
 * A key that was ever in a set: its votes (for evidence: a vote outlives
 * its set) and its latest onion reveal at or below the final block, with
 * the set entry it was revealed under (a key that registered again has a
 * new onion: a reveal of the old one says nothing about it).
 */
typedef struct {
	ssp_pubkey key;
	bft_voter votes;
	ssp_hash fin_reveal;
	uint64_t fin_round; /* UINT64_MAX: none yet (the set's onion entry applies) */
	ssp_hash fin_onion; /* the entry of fin_reveal's block: its element ... */
	uint64_t fin_base;  /* ... and round (bft_set.onion, onion_round) */
} bft_key;

/* A delegate set (the genesis set is sets[0]); freed by compaction once unused. */
typedef struct {
	uint32_t n, quorum;
	ssp_pubkey *keys;
	uint32_t *kx;          /* each member's m->ks index */
	ssp_hash *onion;       /* each member's onion element at election ... */
	uint64_t *onion_round; /* ... and the round it counts as revealed in (UINT64_MAX: -1) */
	bool used;
} bft_set;

/* Open addressing, u64 key -> block index; several entries may share a key. */
typedef struct {
	uint64_t *key;
	uint32_t *val; /* index + 1; 0 empty */
	uint32_t cap, n;
} bft_map;

struct ssp_bft {
	ssp_bft_params p;
	uint32_t L; /* slots per round */
	bft_key *ks;
	uint32_t nks, capks;
	bft_set *sets;
	uint32_t nsets;

	bft_node *b;
	uint32_t nb, capb;
	bft_map by_id, by_slot;

	bft_link *links;
	uint32_t nl, capl;

	uint32_t final, top_justified, head;
	bool conflicted;
	/* compaction: blocks held right after the last one, the threshold K */
	uint32_t kept, compact_k;
	bft_oldslot *old;
	uint32_t nold, capold;
	/*
	 * The final path's blocks at or below the final block, by height mod
	 * SSP_BFT_QC_HORIZON: id, and whether a QC in a block of the path
	 * justifies it (genesis: justified). Filled as finality moves, so QC
	 * checks against dropped (or hidden) blocks need no walk below final.
	 */
	struct {
		uint64_t height;
		ssp_hash id;
		uint32_t set, elected; /* as in bft_node */
		bool justified, used;
	} path[SSP_BFT_QC_HORIZON];

	struct {
		ssp_hash seed;
		uint32_t set;
		bool used;
		uint32_t order[SSP_BFT_MAX_N];
	} cache[BFT_ORDER_CACHE];
	uint32_t cache_next;

	ssp_bft_evidence evq[SSP_BFT_EVIDENCE_QUEUE];
	uint32_t evq_head, evq_n;
};

/* The set of a block that may be below the final block: a live one's, else the final
 * path's record (BFT_NONE when neither knows it). */
uint32_t bft_set_of_ref(const ssp_bft *m, const ssp_bft_ref *r);
/* The set a vote or QC for r is counted in: bft_set_of_ref, and without elections the
 * genesis set for any block (so a vote for a block never held still names its key). */
uint32_t bft_vote_set(const ssp_bft *m, const ssp_bft_ref *r);

/* bft_sets.c: a set into m->sets (an identical one is shared) */
SSP_WUR int bft_set_add(ssp_bft *m, uint32_t *out, const ssp_bft_set *s);
void bft_keys_free(ssp_bft *m);
/* The set of a block at slot on parent pi (the rule above bft_sets.c) */
SSP_WUR int bft_branch_set(const ssp_bft *m, uint32_t pi, uint64_t slot, uint32_t *out);
void bft_sets_gc(ssp_bft *m);
/* The QC's bits fit set's members and make its quorum (false for no set). */
bool bft_qc_quorum(const ssp_bft *m, const ssp_bft_qc *qc, uint32_t set);
/* bft_tree.c: the set and the producer (index in it) of slot on parent pi */
SSP_WUR int bft_producer_at(ssp_bft *m, uint32_t pi, uint64_t slot, uint32_t *set,
                            uint32_t *producer);

static inline ssp_bft_ref bft_ref(const ssp_bft *m, uint32_t i)
{
	return (ssp_bft_ref){m->b[i].h.height, m->b[i].h.id};
}

/*
 * The index of a LIVE block (the final block or a descendant of it), else
 * BFT_NONE: a block the final block left behind is gone for every
 * question, dropped from memory yet or not (so when compaction runs never
 * changes an answer). O(its depth above the final block).
 */
uint32_t bft_find(const ssp_bft *m, const ssp_hash *id);
/* Any block held, live or not (a dropped one's copy may still be held). */
uint32_t bft_find_held(const ssp_bft *m, const ssp_hash *id);
/* a == b or a is an ancestor of b */
bool bft_descends(const ssp_bft *m, uint32_t a, uint32_t b);
/* i is the final block or a descendant of it */
bool bft_live(const ssp_bft *m, uint32_t i);
/* A link's source counts as justified without a look: it is below the final block. */
static inline bool bft_src_trusted(const ssp_bft *m, const bft_link *l)
{
	return l->src == BFT_NONE || !bft_live(m, l->src);
}
void bft_evidence_push(ssp_bft *m, const ssp_bft_evidence *e);
/* r is a final-path block at or below the final block (*justified: by a QC on the path). */
bool bft_path_has(const ssp_bft *m, const ssp_bft_ref *r, bool *justified);
typedef enum { BFT_VOTE_NEW, BFT_VOTE_SEEN, BFT_VOTE_CONFLICT } bft_vote_rec;
/*
 * Records voter's vote src -> tgt unless it conflicts with one recorded
 * (then queues the evidence) or was recorded before (bft_evidence.c).
 */
bft_vote_rec bft_record_vote(ssp_bft *m, uint32_t set, uint32_t voter, const ssp_bft_ref *src,
                             const ssp_bft_ref *tgt);
/* Room for one more link, so bft_on_block cannot fail. */
SSP_WUR int bft_links_reserve(ssp_bft *m);
/*
 * The finality side of a stored block: its QC (shape checked by the caller)
 * and the QC's votes for evidence, justification, finality, the head. A
 * memory shortage here can only lose evidence, never change a verdict.
 */
void bft_on_block(ssp_bft *m, uint32_t ix);
/* Moves the final block to ix (a descendant of it), updating the reveal table. */
void bft_set_final(ssp_bft *m, uint32_t ix);
void bft_update_head(ssp_bft *m);
/*
 * Drops the blocks the final block left behind (and links to them) once
 * enough have piled up since the last time (bft_tree.c); called at the
 * end of every call that can move the final block. force: whenever any
 * can be dropped (add_block when full).
 */
void bft_compact(ssp_bft *m, bool force);

#endif
