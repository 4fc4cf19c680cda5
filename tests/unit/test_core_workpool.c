/*
 * test_node_workpool.c — the verify work pool: every index of a loop runs
 * exactly once, whether the pool takes the loop or (pool busy) the caller
 * runs it alone, with several callers at once and loops back to back.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ssp/core.h"

#define N 20000
#define CALLERS 4
#define ROUNDS 25

typedef struct {
	_Atomic unsigned hits[N];
} counts;

static void bump(void *arg, size_t i)
{
	counts *c = arg;
	atomic_fetch_add(&c->hits[i], 1);
}

typedef struct {
	ssp_workpool *p;
	counts *c;
} caller;

static void *run_caller(void *arg)
{
	caller *k = arg;
	for (int r = 0; r < ROUNDS; r++)
		ssp_workpool_for(k->p, N, bump, k->c);
	return NULL;
}

static void test_exactly_once(void **state)
{
	(void)state;
	ssp_workpool *p;
	assert_int_equal(ssp_workpool_new(&p, 3), 0);
	counts *c = calloc(CALLERS, sizeof *c);
	assert_non_null(c);
	pthread_t th[CALLERS];
	caller k[CALLERS];
	for (int i = 0; i < CALLERS; i++) {
		k[i] = (caller){p, &c[i]};
		assert_int_equal(pthread_create(&th[i], NULL, run_caller, &k[i]), 0);
	}
	for (int i = 0; i < CALLERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < CALLERS; i++)
		for (size_t j = 0; j < N; j++)
			assert_int_equal(c[i].hits[j], ROUNDS);
	free(c);
	ssp_workpool_free(p);
}

static void test_small_and_empty(void **state)
{
	(void)state;
	ssp_workpool *p;
	assert_int_equal(ssp_workpool_new(&p, 1), 0);
	counts *c = calloc(1, sizeof *c);
	ssp_workpool_for(p, 0, bump, c);
	ssp_workpool_for(p, 5, bump, c); /* below one chunk: runs inline */
	for (size_t j = 0; j < 5; j++)
		assert_int_equal(c->hits[j], 1);
	assert_int_equal(c->hits[5], 0);
	ssp_workpool_for(NULL, 7, bump, c); /* no pool: inline */
	assert_int_equal(c->hits[6], 1);
	free(c);
	ssp_workpool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exactly_once),
	    cmocka_unit_test(test_small_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
