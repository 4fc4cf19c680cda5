/*
 * bench_agent — what a SmartAgent signature costs a device: signatures per
 * second through libsmartagent (sign inside the backend, low-S, and the
 * verify-before-return check) for the agent URI given, and as a baseline in
 * the same run the in-process P-256 signature (ssp_sign_digest with the key
 * in memory) on this core. Prints BENCH lines (docs/bench.md).
 *
 *   bench_agent --uri URI [--pin PIN] [--seconds S] [--name NAME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssp/agent.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *pin = NULL, *name = "agent";
	double secs = 1.0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--uri")) uri = argv[i + 1];
		else if (!strcmp(argv[i], "--pin")) pin = argv[i + 1];
		else if (!strcmp(argv[i], "--seconds")) secs = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--name")) name = argv[i + 1];
	}
	if (!uri || secs <= 0) {
		fprintf(stderr, "usage: bench_agent --uri URI [--pin PIN] [--seconds S] [--name NAME]\n");
		return 2;
	}
	if (ssp_core_init()) return 1;
	char why[512];
	ssp_agent *a;
	if (ssp_agent_open(&a, uri, pin, 0, why, sizeof why)) {
		fprintf(stderr, "bench_agent: %s\n", why);
		return 1;
	}
	ssp_hash d;
	ssp_sig sig;
	memset(d.b, 7, sizeof d.b);
	unsigned long n = 0;
	double t0 = now_s(), t;
	do {
		d.b[0] = (uint8_t)n;
		if (ssp_agent_sign_digest(a, &d, &sig)) {
			fprintf(stderr, "bench_agent: sign: %s\n", ssp_agent_last_error(a));
			return 1;
		}
		n++;
	} while ((t = now_s() - t0) < secs);
	double rate = (double)n / t;
	ssp_agent_close(a);
	/* baseline: the same signature with the key in this process's memory */
	ssp_seckey sk;
	ssp_pubkey pk;
	if (ssp_key_generate(&sk, &pk, SSP_KEY_P256)) return 1;
	unsigned long m = 0;
	t0 = now_s();
	do {
		d.b[0] = (uint8_t)m;
		if (ssp_sign_digest(&sig, &sk, &d)) return 1;
		m++;
	} while ((t = now_s() - t0) < secs);
	double base = (double)m / t;
	printf("BENCH agent_sign_%s %.0f sig/s\n", name, rate);
	printf("BENCH p256_sign_in_memory %.0f sig/s\n", base);
	printf("BENCH agent_sign_%s_vs_in_memory %.3f ratio\n", name, rate / base);
	return 0;
}
