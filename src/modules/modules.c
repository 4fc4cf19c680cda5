/*
 * modules.c — the one table of native modules (modules layer). Adding a
 * module means adding one line to `modules` below, nothing else: the node
 * registers its transaction types with the chain and its RPC methods with
 * the server from this table.
 */
#include "ssp/modules.h"
#include "ssp/contract.h"
#include "ssp/token.h"

static const ssp_module *const modules[] = {
    &ssp_token_module, &ssp_contract_module,
    NULL, /* keeps the array non-empty; NULLs are skipped */
};

#define NMOD (sizeof modules / sizeof *modules)
#define MAX_TYPES 63

const ssp_module *const *ssp_modules_all(size_t *n)
{
	static const ssp_module *list[NMOD];
	size_t k = 0;
	for (size_t i = 0; i < NMOD; i++)
		if (modules[i]) list[k++] = modules[i];
	*n = k;
	return list;
}

const ssp_txtype *const *ssp_modules_txtypes(size_t *n)
{
	static const ssp_txtype *types[MAX_TYPES];
	size_t k = 0, nm;
	const ssp_module *const *m = ssp_modules_all(&nm);
	for (size_t i = 0; i < nm; i++)
		for (size_t j = 0; j < m[i]->ntxtypes && k < MAX_TYPES; j++)
			types[k++] = m[i]->txtypes[j];
	*n = k;
	return types;
}
