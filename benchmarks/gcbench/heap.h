/* heap.h: the one allocation interface the head-to-head benchmarks use,
 * over three back ends chosen at compile time:
 *
 *   HEAP_MALLOC  glibc malloc/free; the benchmark frees what it drops
 *   HEAP_BDWGC   Boehm's collector (GC_MALLOC, GC_MALLOC_ATOMIC); a
 *                collection's pause is GC_EVENT_START..GC_EVENT_END (the
 *                non-incremental collector stops the mutator throughout)
 *   HEAP_GCRT    libgcrt's public API: gcrt_new, gcrt_type_new,
 *                gcrt_attach + gcrt_g_enter (the host G runs, holding its
 *                P, for the whole benchmark; gcrt_g_alloc polls for
 *                stops), gcrt_g_alloc, pointer stores through
 *                gcrt_g_write_ptr (the write barrier), collection by pacing
 *                (gcrt_gc_options GCRT_GC_ENABLE, GOGC 100, heap_minimum
 *                32 MiB), and
 *                gcrt_stats_read for collections and pauses (numgc,
 *                pause_ns).  The collector sees no C stack, so the
 *                benchmarks keep every pointer they hold across an
 *                allocation on a shadow stack, a root region registered
 *                with gcrt_root_add (push/pop; no-ops in the other back
 *                ends, which need no roots or scan the stack themselves).
 *
 * A Node has two pointer words and NSCALARS scalar words.  heap_report
 * prints "collections N", "pause_total_ns N" and "pause_max_ns N" lines
 * for the runner (benchmarks/run.py).
 */
#ifndef BENCH_HEAP_H
#define BENCH_HEAP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef NSCALARS
#define NSCALARS 2
#endif

typedef struct Node {
	struct Node *left, *right;
#if NSCALARS > 0
	int64_t s[NSCALARS];
#endif
} Node;

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void die(const char *what, int rc)
{
	fprintf(stderr, "%s failed (%d)\n", what, rc);
	exit(2);
}

#if defined(HEAP_MALLOC)

#define HEAP_NAME "malloc"
#define HEAP_FREES 1

static inline void heap_init(size_t arena_bytes) { (void)arena_bytes; }

static inline Node *node_alloc(void)
{
	Node *n = calloc(1, sizeof *n);
	if (n == NULL)
		die("calloc", 0);
	return n;
}

static inline void free_tree(Node *n)
{
	if (n == NULL)
		return;
	free_tree(n->left);
	free_tree(n->right);
	free(n);
}

static inline double *new_doubles(size_t n)
{
	double *d = calloc(n, sizeof *d);
	if (d == NULL)
		die("calloc", 0);
	return d;
}

static inline void heap_report(void)
{
	printf("collections 0\npause_total_ns 0\npause_max_ns 0\n");
}

#elif defined(HEAP_BDWGC)

#include <gc.h>

#define HEAP_NAME "bdwgc"
#define HEAP_FREES 0

static uint64_t gc_start, gc_total, gc_max;

static inline void on_gc_event(GC_EventType e)
{
	if (e == GC_EVENT_START) {
		gc_start = now_ns();
	} else if (e == GC_EVENT_END) {
		uint64_t d = now_ns() - gc_start;
		gc_total += d;
		gc_max = d > gc_max ? d : gc_max;
	}
}

static inline void heap_init(size_t arena_bytes)
{
	(void)arena_bytes;
	GC_INIT();
	GC_set_on_collection_event(on_gc_event);
}

static inline Node *node_alloc(void)
{
	Node *n = GC_MALLOC(sizeof *n);
	if (n == NULL)
		die("GC_MALLOC", 0);
	return n;
}

static inline void free_tree(Node *n) { (void)n; }

static inline double *new_doubles(size_t n)
{
	double *d = GC_MALLOC_ATOMIC(n * sizeof *d);
	if (d == NULL)
		die("GC_MALLOC_ATOMIC", 0);
	for (size_t i = 0; i < n; i++)
		d[i] = 0;
	return d;
}

static inline void heap_report(void)
{
	printf("collections %lu\npause_total_ns %llu\npause_max_ns %llu\n",
	       (unsigned long)GC_get_gc_no(), (unsigned long long)gc_total,
	       (unsigned long long)gc_max);
}

#elif defined(HEAP_GCRT)

#include "gcrt.h"

#define HEAP_NAME "pygcrt"
#define HEAP_FREES 0

enum { MaxShadow = 256 };
/* The pacing floor a VM with a heap of tens of MB would pick (Go's 4 MiB
 * default collects GCBench's 8 MB live heap every 8 MB allocated, 58
 * times; bdwgc's heap growth collects it 37 times): 32 MiB unless
 * -DHEAP_MINIMUM=bytes. */
#ifndef HEAP_MINIMUM
#define HEAP_MINIMUM ((uint64_t)32 << 20)
#endif

static gcrt_runtime *rt;
static gcrt_g *g;
static gcrt_type nodetype;
static Node *shadow[MaxShadow];
static int nshadow;

static inline void push(Node *n)
{
	if (nshadow == MaxShadow)
		die("shadow stack overflow", 0);
	shadow[nshadow++] = n;
}

static inline void pop(int n)
{
	while (n-- > 0)
		shadow[--nshadow] = NULL;
}

static inline void heap_init(size_t arena_bytes)
{
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	cfg.nprocs = 2; /* the host's P and one idle: two markers, as bdwgc's parallel mark */
	cfg.arena_size = arena_bytes;
	cfg.heap_minimum = HEAP_MINIMUM;
	int rc = gcrt_new(&cfg, &rt);
	if (rc != GCRT_OK)
		die("gcrt_new", rc);
	const uint8_t mask = 0x3;
	if ((rc = gcrt_type_new(rt, sizeof(Node), &mask, 2, &nodetype)) != GCRT_OK)
		die("gcrt_type_new", rc);
	uint8_t allptrs[MaxShadow / 8];
	for (size_t i = 0; i < sizeof allptrs; i++)
		allptrs[i] = 0xff;
	if ((rc = gcrt_root_add(rt, shadow, sizeof shadow, allptrs, MaxShadow)) != GCRT_OK)
		die("gcrt_root_add", rc);
	uint32_t opts; /* keep what PYGCRT_DEBUG set (gctrace) */
	if ((rc = gcrt_gc_options(rt, 0, &opts)) != GCRT_OK ||
	    (rc = gcrt_gc_options(rt, opts | GCRT_GC_ENABLE, NULL)) != GCRT_OK)
		die("gcrt_gc_options", rc);
	if ((rc = gcrt_attach(rt, &g)) != GCRT_OK)
		die("gcrt_attach", rc);
	if ((rc = gcrt_g_enter(g)) != GCRT_OK)
		die("gcrt_g_enter", rc);
}

static inline void set_child(Node *n, int i, Node *c)
{
	int rc = gcrt_g_write_ptr(g, n, (size_t)i, c);
	if (rc != GCRT_OK)
		die("gcrt_g_write_ptr", rc);
}

static inline Node *new_node(Node *l, Node *r)
{
	void *p;
	int rc = gcrt_g_alloc(g, nodetype, &p);
	if (rc != GCRT_OK)
		die("gcrt_g_alloc", rc);
	if (l != NULL)
		set_child(p, 0, l);
	if (r != NULL)
		set_child(p, 1, r);
	return p;
}

static inline void free_tree(Node *n) { (void)n; }

static inline double *new_doubles(size_t n)
{
	gcrt_type t;
	void *p;
	int rc = gcrt_type_new(rt, n * sizeof(double), NULL, 0, &t);
	if (rc == GCRT_OK)
		rc = gcrt_g_alloc(g, t, &p);
	if (rc != GCRT_OK)
		die("gcrt_g_alloc(doubles)", rc);
	return p;
}

static inline void heap_report(void)
{
	static gcrt_stats st;
	int rc = gcrt_g_leave(g);
	if (rc != GCRT_OK)
		die("gcrt_g_leave", rc);
	rc = gcrt_stats_read(rt, &st);
	if (rc != GCRT_OK)
		die("gcrt_stats_read", rc);
	uint64_t max = 0;
	for (uint32_t i = 0; i < st.numgc && i < 256; i++)
		max = st.pause_ns[i] > max ? st.pause_ns[i] : max;
	printf("collections %u\npause_total_ns %llu\npause_max_ns %llu\n", st.numgc,
	       (unsigned long long)st.pause_total_ns, (unsigned long long)max);
}

#else
#error "define HEAP_MALLOC, HEAP_BDWGC or HEAP_GCRT"
#endif

#ifndef HEAP_GCRT
/* malloc and Boehm GC: plain stores, no roots to keep (Boehm GC scans the
 * C stack itself). */
static inline void push(Node *n) { (void)n; }
static inline void pop(int n) { (void)n; }

static inline void set_child(Node *n, int i, Node *c)
{
	*(i == 0 ? &n->left : &n->right) = c;
}

static inline Node *new_node(Node *l, Node *r)
{
	Node *n = node_alloc();
	n->left = l;
	n->right = r;
	return n;
}
#endif

/* A complete tree of the given depth, built bottom-up: each subtree stays
 * on the shadow stack while its sibling and parent are allocated. */
static inline Node *make_tree(int depth)
{
	if (depth <= 0)
		return new_node(NULL, NULL);
	Node *l = make_tree(depth - 1);
	push(l);
	Node *r = make_tree(depth - 1);
	push(r);
	Node *n = new_node(l, r);
	pop(2);
	return n;
}

#endif
