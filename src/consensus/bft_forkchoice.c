/*
 * bft_forkchoice.c — fork choice (consensus layer, ssp/bft.h): the order
 * of two branches (latest justified block, later tip, lower id) and the
 * machine's head, the best leaf that contains the final block.
 */
#include <string.h>

#include "bft_internal.h"

int ssp_bft_branch_cmp(const ssp_bft_branch *a, const ssp_bft_branch *b)
{
	if (a->justified_height != b->justified_height)
		return a->justified_height > b->justified_height ? 1 : -1;
	if (a->tip_time_ms != b->tip_time_ms) return a->tip_time_ms > b->tip_time_ms ? 1 : -1;
	int d = memcmp(a->tip_id.b, b->tip_id.b, 32);
	return d < 0 ? 1 : d > 0 ? -1 : 0;
}

void bft_update_head(ssp_bft *m)
{
	uint32_t best = m->final;
	ssp_bft_branch bb = {0};
	bool have = false;
	uint64_t fh = m->b[m->final].h.height;
	for (uint32_t i = 0; i < m->nb; i++) {
		const bft_node *x = &m->b[i];
		if (x->children && i != m->final) continue;
		if (x->h.height < fh) continue;
		/* its latest justified block, and whether the branch holds the final block */
		uint64_t jh = 0;
		bool found_j = false;
		uint32_t y = i;
		for (; y != BFT_NONE && m->b[y].h.height > fh; y = m->b[y].parent)
			if (!found_j && m->b[y].justified) {
				jh = m->b[y].h.height;
				found_j = true;
			}
		if (y != m->final) continue;
		if (!found_j) jh = fh;
		ssp_bft_branch br = {jh, x->h.time_ms, x->h.id};
		if (!have || ssp_bft_branch_cmp(&br, &bb) > 0) {
			best = i;
			bb = br;
			have = true;
		}
	}
	m->head = best;
}

void ssp_bft_head(const ssp_bft *m, ssp_bft_ref *out)
{
	*out = bft_ref(m, m->head);
}

bool ssp_bft_descends(const ssp_bft *m, const ssp_hash *a, const ssp_hash *b)
{
	uint32_t ia = bft_find(m, a), ib = bft_find(m, b);
	return ia != BFT_NONE && ib != BFT_NONE && bft_descends(m, ia, ib);
}

int ssp_bft_branch_justified(const ssp_bft *m, uint64_t *height, const ssp_hash *tip)
{
	uint32_t y = bft_find(m, tip);
	if (y == BFT_NONE) return SSP_ERR_NOTFOUND;
	uint64_t fh = m->b[m->final].h.height;
	for (; y != BFT_NONE && m->b[y].h.height > fh; y = m->b[y].parent)
		if (m->b[y].justified) {
			*height = m->b[y].h.height;
			return 0;
		}
	*height = fh;
	return 0;
}

int ssp_bft_branch_final(const ssp_bft *m, const ssp_hash *id, uint64_t *height)
{
	uint32_t i = bft_find_held(m, id);
	*height = 0;
	if (i != BFT_NONE) {
		*height = m->b[i].bfin_h;
		return 0;
	}
	for (uint32_t k = 0; k < SSP_BFT_QC_HORIZON; k++)
		if (m->path[k].used && !memcmp(m->path[k].id.b, id->b, 32)) {
			*height = m->path[k].height;
			return SSP_ERR_EXISTS;
		}
	return SSP_ERR_NOTFOUND;
}
