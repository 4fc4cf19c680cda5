/*
 * modules.c — the one table of native modules (modules layer). Adding a
 * module means adding one line to `modules` below, nothing else: the node
 * registers its transaction types with the chain and its RPC methods with
 * the server from this table. A modset holds one chain's module states.
 */
#include <stdlib.h>

#include "ssp/contract.h"
#include "ssp/device.h"
#include "ssp/dpos.h"
#include "ssp/modules.h"
#include "ssp/token.h"

static const ssp_module *const modules[] = {
    &ssp_token_module,
    &ssp_contract_module,
    &ssp_device_module,
    &ssp_dpos_module,
};

#define NMOD (sizeof modules / sizeof *modules)
#define MAX_TYPES 63

const ssp_module *const *ssp_modules_all(size_t *n)
{
	*n = NMOD;
	return modules;
}

struct ssp_modset {
	void *state[NMOD];
	ssp_txreg types[MAX_TYPES];
	size_t ntypes;
	ssp_sender_hook hooks[NMOD];
	size_t nhooks;
	ssp_block_hook bhooks[NMOD];
	size_t nbhooks;
};

int ssp_modset_new(ssp_modset **out, const ssp_genesis *g)
{
	ssp_modset *ms = ssp_calloc(1, sizeof *ms);
	int rc = 0;
	*out = NULL;
	if (!ms) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < NMOD && !rc; i++) {
		const ssp_module *m = modules[i];
		if (m->chain_new) rc = m->chain_new(&ms->state[i], g);
		if (!rc && m->sender)
			ms->hooks[ms->nhooks++] = (ssp_sender_hook){.check = m->sender, .mod = ms->state[i]};
		if (!rc && m->begin_block)
			ms->bhooks[ms->nbhooks++] = (ssp_block_hook){
			    .begin = m->begin_block, .check = m->check, .mod = ms->state[i]};
		for (size_t j = 0; j < m->ntxtypes && !rc; j++) {
			if (ms->ntypes == MAX_TYPES) {
				rc = SSP_ERR_INTERNAL; /* the table outgrew MAX_TYPES */
				break;
			}
			ms->types[ms->ntypes++] =
			    (ssp_txreg){.type = m->txtypes[j], .mod = ms->state[i]};
		}
	}
	if (rc) {
		ssp_modset_free(ms);
		return rc;
	}
	*out = ms;
	return 0;
}

void ssp_modset_free(ssp_modset *ms)
{
	if (!ms) return;
	for (size_t i = NMOD; i-- > 0;)
		if (ms->state[i] && modules[i]->chain_free) modules[i]->chain_free(ms->state[i]);
	free(ms);
}

const ssp_txreg *ssp_modset_txtypes(const ssp_modset *ms, size_t *n)
{
	*n = ms->ntypes;
	return ms->types;
}

int ssp_modset_open_chain(ssp_chain **chain, ssp_modset **ms, ssp_store *st, const ssp_genesis *g)
{
	size_t nt;
	*chain = NULL;
	int rc = ssp_modset_new(ms, g);
	if (rc) return rc;
	const ssp_txreg *types = ssp_modset_txtypes(*ms, &nt);
	rc = ssp_chain_open(chain, st, g, types, nt);
	if (!rc && (rc = ssp_modset_attach(*ms, *chain))) {
		ssp_chain_close(*chain);
		*chain = NULL;
	}
	if (rc) {
		ssp_modset_free(*ms);
		*ms = NULL;
	}
	return rc;
}

const ssp_sender_hook *ssp_modset_sender_hooks(const ssp_modset *ms, size_t *n)
{
	*n = ms->nhooks;
	return ms->hooks;
}

int ssp_modset_attach(const ssp_modset *ms, ssp_chain *c)
{
	int rc = ssp_chain_set_sender_hooks(c, ms->hooks, ms->nhooks);
	return rc ? rc : ssp_chain_set_block_hooks(c, ms->bhooks, ms->nbhooks);
}

void *ssp_modset_state(const ssp_modset *ms, size_t i)
{
	return i < NMOD ? ms->state[i] : NULL;
}
