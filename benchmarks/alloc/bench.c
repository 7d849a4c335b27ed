/* bench.c: the cost of a small allocation, gcrt against glibc and Boehm GC.
 *
 * For each object shape (16/32/64 bytes, with and without pointers) it
 * times N allocations on one thread:
 *   gcrt      gcrt_attach + gcrt_g_enter + gcrt_g_alloc (the host G runs
 *             holding its P, so each allocation is the P's mcache with no
 *             world entry: lock-free), on fresh arena memory (each new page
 *             faults in)
 *   warm      the same on arena pages already touched once: a span is taken
 *             from the heap (test hook), written, and given back, so the
 *             allocations reuse faulted-in memory and must zero it, as a
 *             collector's heap does after its first cycles.  On this
 *             machine a first-touch page fault costs 1-4 us, which swamps
 *             the allocator itself; this column shows the allocator.
 *   malloc    glibc malloc, never freed (like gcrt, which has no GC yet)
 *   mal+free  glibc malloc then free (glibc's tcache fast path)
 *   GC_MALLOC Boehm GC's thread-local GC_MALLOC / GC_MALLOC_ATOMIC (when
 *             built with libgc)
 * all in the same run, best of R rounds, and prints ns per allocation
 * and the ratios gcrt/malloc and gcrt/GC_MALLOC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcrt.h"
#include "gcrt_test.h"

#ifdef HAVE_BDWGC
#define GC_THREADS
#include <gc/gc.h>
#endif

enum { N = 2000000, ROUNDS = 5 };

static void *volatile sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Fault in (and hand back to the heap) enough arena for the whole run. */
static void prefault(gcrt_runtime *rt, size_t bytes)
{
	size_t npages = bytes / GCRT_PAGE_SIZE + 64;
	void *base;
	if (gcrt_test_heap_allocstack(rt, npages, &base) != GCRT_OK) {
		fprintf(stderr, "prefault failed\n");
		exit(1);
	}
	memset(base, 1, npages * GCRT_PAGE_SIZE);
	gcrt_test_heap_freestack(rt, base);
}

static double bench_gcrt(size_t size, int ptrs, int warm)
{
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	cfg.arena_size = (uint64_t)N * size * 2 + (64 << 20);
	cfg.nprocs = 1;
	gcrt_runtime *rt;
	if (gcrt_new(&cfg, &rt) != GCRT_OK) {
		fprintf(stderr, "gcrt_new failed\n");
		exit(1);
	}
	uint8_t mask = ptrs ? 1 : 0;
	gcrt_type t;
	gcrt_g *g;
	if (gcrt_type_new(rt, size, &mask, 1, &t) != GCRT_OK || gcrt_attach(rt, &g) != GCRT_OK ||
	    gcrt_g_enter(g) != GCRT_OK) {
		fprintf(stderr, "gcrt setup failed\n");
		exit(1);
	}
	if (warm)
		prefault(rt, (size_t)N * size);
	void *o = NULL;
	double t0 = now();
	for (int i = 0; i < N; i++) {
		if (gcrt_g_alloc(g, t, &o) != GCRT_OK) {
			fprintf(stderr, "gcrt_g_alloc failed\n");
			exit(1);
		}
	}
	double ns = (now() - t0) / N;
	sink = o;
	gcrt_detach(g);
	gcrt_destroy(rt);
	return ns;
}

static double bench_malloc(size_t size)
{
	void **keep = malloc(N * sizeof *keep);
	double t0 = now();
	for (int i = 0; i < N; i++)
		keep[i] = malloc(size);
	double ns = (now() - t0) / N;
	for (int i = 0; i < N; i++)
		free(keep[i]);
	free(keep);
	return ns;
}

static double bench_mallocfree(size_t size)
{
	double t0 = now();
	for (int i = 0; i < N; i++) {
		void *p = malloc(size);
		sink = p;
		free(p);
	}
	return (now() - t0) / N;
}

#ifdef HAVE_BDWGC
static double bench_gc(size_t size, int ptrs)
{
	void *o = NULL;
	double t0 = now();
	if (ptrs)
		for (int i = 0; i < N; i++)
			o = GC_MALLOC(size);
	else
		for (int i = 0; i < N; i++)
			o = GC_MALLOC_ATOMIC(size);
	sink = o;
	return (now() - t0) / N;
}
#endif

static double best(double a, double b)
{
	return a < b ? a : b;
}

int main(void)
{
#ifdef HAVE_BDWGC
	GC_INIT();
	GC_allow_register_threads();
#endif
	static const size_t sizes[] = {16, 32, 64};
	printf("small-object allocation, ns per object (best of %d rounds of %d)\n", ROUNDS, N);
	printf("%-5s %-5s %8s %8s %8s %8s %9s %12s %10s %10s\n", "size", "ptrs", "gcrt", "warm",
	       "malloc", "mal+free", "GC_MALLOC", "gcrt/malloc", "warm/GC", "warm/m+f");
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		for (int ptrs = 0; ptrs <= 1; ptrs++) {
			double g = 1e30, w = 1e30, m = 1e30, mf = 1e30, b = 1e30;
			for (int r = 0; r < ROUNDS; r++) {
				g = best(g, bench_gcrt(sizes[k], ptrs, 0));
				w = best(w, bench_gcrt(sizes[k], ptrs, 1));
				m = best(m, bench_malloc(sizes[k]));
				mf = best(mf, bench_mallocfree(sizes[k]));
#ifdef HAVE_BDWGC
				b = best(b, bench_gc(sizes[k], ptrs));
#endif
			}
			char bs[32] = "n/a", ratio[32] = "n/a";
			if (b < 1e30) {
				snprintf(bs, sizeof bs, "%.2f", b);
				snprintf(ratio, sizeof ratio, "%.2fx", w / b);
			}
			printf("%-5zu %-5s %8.2f %8.2f %8.2f %8.2f %9s %11.2fx %10s %9.2fx\n", sizes[k],
			       ptrs ? "yes" : "no", g, w, m, mf, bs, g / m, ratio, w / mf);
		}
	}
	return 0;
}
