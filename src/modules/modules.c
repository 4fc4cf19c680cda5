/*
 * modules.c — the one table of native modules' transaction types (modules
 * layer). Adding a module means adding its type(s) here, nothing else.
 */
#include "ssp/modules.h"

static const ssp_txtype *const types[] = {
	NULL, /* placeholder so the array is never empty; skipped below */
};

const ssp_txtype *const *ssp_modules_txtypes(size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (types[i]) (*n)++;
	return types + (sizeof types / sizeof *types - *n);
}
