/*
 * alloc.c — the allocators of the consensus-path libraries and the fault
 * hook tests use to fail the Nth allocation or store write (core layer).
 * The hook's state is thread-local: arming it on the test's thread never
 * disturbs another thread, and nothing here is process-wide.
 */
#include <execinfo.h>
#include <stdlib.h>
#include <unistd.h>

#include "ssp/core.h"

typedef struct {
	uint64_t count, nth;
	bool persist;
} fault_state;

static _Thread_local fault_state faults[2];
static _Thread_local bool armed; /* any kind armed: the fast path tests only this */

void ssp_fault_arm(ssp_fault_kind kind, uint64_t nth, bool persist)
{
	faults[kind] = (fault_state){.nth = nth, .persist = persist};
	armed = faults[0].nth || faults[1].nth;
}

uint64_t ssp_fault_count(ssp_fault_kind kind)
{
	return faults[kind].count;
}

bool ssp_fault_hit(ssp_fault_kind kind)
{
	if (__builtin_expect(!armed, 1)) return false;
	fault_state *f = &faults[kind];
	uint64_t k = ++f->count;
	if (!f->nth) return false;
	bool hit = k == f->nth || (f->persist && k > f->nth);
	if (hit && getenv("SSP_FAULT_TRACE")) {
		/* where the fault lands, for a developer chasing a swallowed failure */
		void *frames[16];
		int n = backtrace(frames, 16);
		backtrace_symbols_fd(frames, n, STDERR_FILENO);
	}
	return hit;
}

void *ssp_malloc(size_t n)
{
	return ssp_fault_hit(SSP_FAULT_ALLOC) ? NULL : malloc(n);
}

void *ssp_calloc(size_t n, size_t size)
{
	return ssp_fault_hit(SSP_FAULT_ALLOC) ? NULL : calloc(n, size);
}

void *ssp_realloc(void *p, size_t n)
{
	return ssp_fault_hit(SSP_FAULT_ALLOC) ? NULL : realloc(p, n);
}
