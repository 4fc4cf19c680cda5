/*
 * util.c — clocks and randomness (core layer).
 */
#include <sodium.h>
#include <time.h>

#include "ssp/core.h"

uint64_t ssp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ssp_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ssp_random(void *p, size_t n)
{
	randombytes_buf(p, n);
}
