/*
 * workpool.c — a small fixed pool of threads for data-parallel loops
 * (core layer): signature checks of a submitted batch or of an imported
 * block run on every core.
 * The caller takes part, so a pool of N-1 threads keeps N cores busy.
 */
#include <stdlib.h>

#include <pthread.h>
#include <stdatomic.h>

#include "ssp/core.h"

struct ssp_workpool {
	pthread_t *th;
	unsigned n;
	pthread_mutex_t mu;
	pthread_cond_t cv, donecv;
	/* the current loop */
	void (*fn)(void *, size_t);
	void *arg;
	size_t total;
	_Atomic size_t next;
	size_t finished;
	unsigned active; /* workers inside the current loop */
	unsigned gen;
	bool quit;
	pthread_mutex_t callers; /* one loop at a time */
};

#define CHUNK 32

static void run_chunks(ssp_workpool *p, void (*fn)(void *, size_t), void *arg, size_t total)
{
	for (;;) {
		size_t s = atomic_fetch_add(&p->next, CHUNK);
		if (s >= total) break;
		size_t e = s + CHUNK < total ? s + CHUNK : total;
		for (size_t i = s; i < e; i++)
			fn(arg, i);
		pthread_mutex_lock(&p->mu);
		p->finished += e - s;
		if (p->finished == total) pthread_cond_broadcast(&p->donecv);
		pthread_mutex_unlock(&p->mu);
	}
}

static void *worker(void *vp)
{
	ssp_workpool *p = vp;
	unsigned seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->quit) break;
		seen = p->gen;
		void (*fn)(void *, size_t) = p->fn;
		void *arg = p->arg;
		size_t total = p->total;
		p->active++;
		pthread_mutex_unlock(&p->mu);
		run_chunks(p, fn, arg, total);
		pthread_mutex_lock(&p->mu);
		/* the caller waits for this, so no worker carries a stale loop into the next */
		if (--p->active == 0) pthread_cond_broadcast(&p->donecv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int ssp_workpool_new(ssp_workpool **out, unsigned threads)
{
	ssp_workpool *p = calloc(1, sizeof *p);
	if (!p) return SSP_ERR_NOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->callers, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_cond_init(&p->donecv, NULL);
	p->th = calloc(threads ? threads : 1, sizeof *p->th);
	if (!p->th) {
		free(p);
		return SSP_ERR_NOMEM;
	}
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&p->th[i], NULL, worker, p)) break;
		p->n++;
	}
	*out = p;
	return 0;
}

void ssp_workpool_free(ssp_workpool *p)
{
	if (!p) return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	free(p->th);
	free(p);
}

void ssp_workpool_for(ssp_workpool *p, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	if (n == 0) return;
	if (!p || p->n == 0 || n <= CHUNK) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i);
		return;
	}
	/*
	 * One loop at a time owns the pool. Another caller does not wait for it:
	 * it runs its loop on its own thread, so concurrent batches (one per RPC
	 * connection) keep every core busy instead of queueing.
	 */
	if (pthread_mutex_trylock(&p->callers) != 0) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i);
		return;
	}
	pthread_mutex_lock(&p->mu);
	while (p->active)
		pthread_cond_wait(&p->donecv, &p->mu); /* late workers of the last loop */
	p->fn = fn;
	p->arg = arg;
	p->total = n;
	atomic_store(&p->next, 0);
	p->finished = 0;
	p->gen++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	run_chunks(p, fn, arg, n);
	pthread_mutex_lock(&p->mu);
	while (p->finished < n || p->active)
		pthread_cond_wait(&p->donecv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_unlock(&p->callers);
}
