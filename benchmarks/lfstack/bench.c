/* benchmarks/lfstack: ns per push+pop on the runtime's lock-free stack,
 * beside a pthread-mutex-protected stack measured in the same run.
 *
 * Links the release libgcrt.a (schedule points compiled out).  The timing
 * loops run in C inside gcrt_test_lfstack_bench: nthreads threads each do
 * iters pop+push pairs on one shared stack; the figure is wall time per
 * pair per thread (the rate each contending thread sees), and per single
 * operation (half of it).  A plain CAS loop on one word (each op of the
 * stack does exactly one CAS) is measured too, as the hardware floor.
 * Each configuration is measured `reps` times and the best is kept, to
 * filter out the other tenants of a shared machine.
 *
 *   bench [iters] [reps]      defaults 10000000 5
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gcrt.h"
#include "gcrt_test.h"

static int64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct casloop {
	_Atomic uint64_t *word;
	uint64_t iters;
} casloop;

static void *casmain(void *arg)
{
	casloop *c = arg;
	for (uint64_t i = 0; i < c->iters; i++) {
		uint64_t old = atomic_load(c->word);
		while (!atomic_compare_exchange_strong(c->word, &old, old + 1))
			;
	}
	return NULL;
}

/* ns per successful CAS increment, per thread, nthreads on one word. */
static double casbest(int nthreads, uint64_t iters, int reps)
{
	double bestns = 0;
	for (int r = 0; r < reps; r++) {
		_Atomic uint64_t word = 0;
		casloop c = {&word, iters};
		pthread_t t[2];
		int64_t t0 = now();
		for (int i = 0; i < nthreads; i++)
			pthread_create(&t[i], NULL, casmain, &c);
		for (int i = 0; i < nthreads; i++)
			pthread_join(t[i], NULL);
		double per = (double)(now() - t0) / (double)iters;
		if (r == 0 || per < bestns)
			bestns = per;
	}
	return bestns;
}

static double best(gcrt_runtime *rt, int nthreads, uint64_t iters, int mutex, int reps)
{
	double bestns = 0;
	for (int i = 0; i < reps; i++) {
		uint64_t ns = 0;
		int rc = gcrt_test_lfstack_bench(rt, nthreads, iters, mutex, &ns);
		if (rc != GCRT_OK) {
			fprintf(stderr, "gcrt_test_lfstack_bench: %s\n", gcrt_strerror(rc));
			exit(1);
		}
		double per = (double)ns / (double)iters;
		if (i == 0 || per < bestns)
			bestns = per;
	}
	return bestns;
}

int main(int argc, char **argv)
{
	uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	gcrt_runtime *rt;
	if (gcrt_new(&cfg, &rt) != GCRT_OK) {
		fprintf(stderr, "gcrt_new failed\n");
		return 1;
	}
	printf("lfstack benchmark: %llu pop+push pairs per thread, best of %d\n",
	       (unsigned long long)iters, reps);
	printf("%-8s %15s %13s %13s %11s %8s %11s %9s\n", "threads", "lfstack ns/pair",
	       "lfstack ns/op", "mutex ns/pair", "mutex ns/op", "mutex/lf", "CAS ns/op", "op/CAS");
	for (int nthreads = 1; nthreads <= 2; nthreads++) {
		double lf = best(rt, nthreads, iters, 0, reps);
		double mu = best(rt, nthreads, iters, 1, reps);
		double cas = casbest(nthreads, 2 * iters, reps);
		printf("%-8d %15.2f %13.2f %13.2f %11.2f %7.2fx %11.2f %8.2fx\n", nthreads, lf, lf / 2,
		       mu, mu / 2, mu / lf, cas, lf / 2 / cas);
	}
	printf("targets: <= 5 ns/op with 1 thread, <= 25 ns/op with 2 threads\n");
	gcrt_destroy(rt);
	return 0;
}
