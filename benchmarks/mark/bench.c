/* benchmarks/mark: the cost of marking, per live object, on a heap of
 * binary trees, with 1 and 2 markers (cfg.nprocs), against Boehm GC's full
 * collection of the same trees measured in the same run.
 *
 * The trees are built by an attached thread (gcrt_g_alloc); the root is
 * pinned and every node stays live, so a collection's stop-the-world pause
 * (finishing an already finished sweep, the mark, bookkeeping: what
 * gcrt_stats reports in pause_ns) is the mark of every node.  Best of
 * ROUNDS collections.  Children are stored directly: no collection runs
 * while the tree is built.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gcrt.h"

#ifdef HAVE_BDWGC
#define GC_THREADS
#include <gc/gc.h>
#endif

enum { DEPTH = 19, ROUNDS = 5, NODE = 32 };

typedef struct node {
	struct node *left, *right;
	uint64_t a, b;
} node;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static node *build(gcrt_g *g, gcrt_type t, int depth, long *n)
{
	void *o;
	if (gcrt_g_alloc(g, t, &o) != GCRT_OK)
		return NULL;
	node *x = o;
	(*n)++;
	x->a = (uint64_t)depth;
	if (depth > 0) {
		x->left = build(g, t, depth - 1, n);
		x->right = build(g, t, depth - 1, n);
	}
	return x;
}

/* Best pause in ns over ROUNDS collections of a live tree; 0 on failure. */
static double bench_gcrt(int nprocs, long *nobj)
{
	gcrt_config cfg;
	gcrt_runtime *rt;
	gcrt_type t;
	gcrt_g *g;
	uint8_t mask = 3;
	gcrt_config_init(&cfg);
	cfg.nprocs = nprocs;
	if (gcrt_new(&cfg, &rt) != GCRT_OK || gcrt_type_new(rt, NODE, &mask, 2, &t) != GCRT_OK ||
	    gcrt_attach(rt, &g) != GCRT_OK)
		return 0;
	*nobj = 0;
	node *root = build(g, t, DEPTH, nobj);
	gcrt_detach(g);
	if (root == NULL || gcrt_pin(rt, root) != GCRT_OK)
		return 0;
	double best = 1e30;
	static gcrt_stats st;
	for (int r = 0; r < ROUNDS; r++) {
		if (gcrt_gc(rt) != GCRT_OK || gcrt_stats_read(rt, &st) != GCRT_OK)
			return 0;
		double p = (double)st.pause_ns[r % 256];
		if (p < best)
			best = p;
	}
	if (st.heap_objects != (uint64_t)*nobj) {
		fprintf(stderr, "mark: %llu live objects, want %ld\n",
			(unsigned long long)st.heap_objects, *nobj);
		return 0;
	}
	gcrt_destroy(rt);
	return best;
}

#ifdef HAVE_BDWGC
static node *buildgc(int depth)
{
	node *x = GC_MALLOC(sizeof *x);
	x->a = (uint64_t)depth;
	if (depth > 0) {
		x->left = buildgc(depth - 1);
		x->right = buildgc(depth - 1);
	}
	return x;
}

static node *volatile gcroot;

static double bench_bdwgc(void)
{
	gcroot = buildgc(DEPTH);
	double best = 1e30;
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now();
		GC_gcollect();
		double dt = now() - t0;
		if (dt < best)
			best = dt;
	}
	return best;
}
#endif

int main(void)
{
	long n1 = 0, n2 = 0;
	double p1 = bench_gcrt(1, &n1), p2 = bench_gcrt(2, &n2);
	if (p1 == 0 || p2 == 0) {
		fprintf(stderr, "mark: gcrt run failed\n");
		return 1;
	}
	printf("mark of a binary tree of depth %d (%ld live %d-byte objects), best of %d\n", DEPTH,
	       n1, NODE, ROUNDS);
	printf("%-22s %10s %10s %10s\n", "collector", "pause ms", "ns/object", "MB/s");
	double mb = (double)n1 * NODE / (1 << 20);
	printf("%-22s %10.2f %10.2f %10.0f\n", "gcrt, 1 marker", p1 / 1e6, p1 / n1, mb / (p1 / 1e9));
	printf("%-22s %10.2f %10.2f %10.0f\n", "gcrt, 2 markers", p2 / 1e6, p2 / n2, mb / (p2 / 1e9));
#ifdef HAVE_BDWGC
	GC_INIT();
	double pb = bench_bdwgc();
	printf("%-22s %10.2f %10.2f %10.0f\n", "bdwgc GC_gcollect", pb / 1e6, pb / n1,
	       mb / (pb / 1e9));
	printf("gcrt 1 marker / bdwgc: %.2fx the time (target <= 1.00)\n", p1 / pb);
#else
	printf("bdwgc not installed: no baseline (reference figure: about 14 ns/object)\n");
#endif
	printf("2 markers speedup over 1: %.2fx (target >= 1.60)\n", p1 / p2);
	return 0;
}
