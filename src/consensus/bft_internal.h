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

typedef struct {
	ssp_bft_block h;
	uint32_t parent;         /* index, BFT_NONE for genesis */
	uint32_t qc_src, qc_tgt; /* its QC's link (indexes), BFT_NONE without */
	uint32_t children;       /* blocks built on it (0: a leaf, a fork-choice candidate) */
	ssp_hash seed, acc;      /* its round's seed; XOR of its round's window reveals up to it */
	uint32_t cnt;            /* blocks of its round on its branch, itself included */
	uint32_t prev_cnt;       /* blocks of the round before on its branch */
	bool justified;
} bft_node;

/* A link source -> target: the votes seen for it, and whether it has a quorum. */
typedef struct {
	uint32_t src, tgt;
	uint32_t count;
	uint64_t bits[SSP_BFT_BITMAP_WORDS];
	bool qc;   /* count >= quorum (assembled here, or carried by a block) */
	bool done; /* applied: its source was justified when it got its quorum */
} bft_link;

/* A voter's votes seen, sorted by target height, conflict-free (so sources ascend too). */
typedef struct {
	uint32_t src, tgt; /* block indexes */
} bft_vrec;

typedef struct {
	bft_vrec *v;
	uint32_t n, cap;
} bft_voter;

/* Open addressing, u64 key -> block index; several entries may share a key. */
typedef struct {
	uint64_t *key;
	uint32_t *val; /* index + 1; 0 empty */
	uint32_t cap, n;
} bft_map;

struct ssp_bft {
	ssp_bft_params p;
	ssp_pubkey *keys;
	ssp_hash *onion;
	uint32_t quorum;

	bft_node *b;
	uint32_t nb, capb;
	bft_map by_id, by_slot;

	bft_link *links;
	uint32_t nl, capl;
	bft_voter *voters;

	uint32_t final, top_justified, head;
	bool conflicted;
	/* each delegate's last reveal at or below the final block (round UINT64_MAX: the
	 * commitment, "round -1") */
	ssp_hash *fin_reveal;
	uint64_t *fin_round;

	struct {
		ssp_hash seed;
		bool used;
		uint32_t order[SSP_BFT_MAX_N];
	} cache[BFT_ORDER_CACHE];
	uint32_t cache_next;

	ssp_bft_evidence evq[SSP_BFT_EVIDENCE_QUEUE];
	uint32_t evq_head, evq_n;
};

static inline ssp_bft_ref bft_ref(const ssp_bft *m, uint32_t i)
{
	return (ssp_bft_ref){m->b[i].h.height, m->b[i].h.id};
}

uint32_t bft_find(const ssp_bft *m, const ssp_hash *id);
/* a == b or a is an ancestor of b */
bool bft_descends(const ssp_bft *m, uint32_t a, uint32_t b);
void bft_evidence_push(ssp_bft *m, const ssp_bft_evidence *e);
/*
 * Records voter's vote src -> tgt (block indexes) unless it conflicts with
 * one recorded (then queues the evidence). True for a new, conflict-free
 * vote (bft_evidence.c).
 */
bool bft_record_vote(ssp_bft *m, uint32_t voter, uint32_t src, uint32_t tgt);
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

#endif
