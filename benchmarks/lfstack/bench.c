/* benchmarks/lfstack: ns per lfstack operation, 1 and 2 threads, beside a
 * mutex-protected stack and a plain CAS measured the same way in the same run.
 *
 * The benchmark links the release objects of libgcrt (schedule points
 * compiled out) and calls lfstackpush/lfstackpop directly, so it times the
 * code the collector runs, not a test hook around it.
 *
 * Each measurement: nthreads threads, pinned to different CPUs, meet at a
 * barrier, then each runs a fixed number of pairs on one shared stack; the
 * figure is the wall time of the whole run (first start to last end) per
 * operation of one thread, i.e. the rate each contending thread sees.  Two
 * loops, each over 2 * nthreads nodes (so a pop never finds the stack empty):
 *   pop+push  pop a node and push that same node back;
 *   push+pop  push the node the thread holds, pop one (maybe another's).
 * The baselines use the same harness, thread placement and loop shape:
 *   own       the lfstack loop with each thread on a stack of its own (heads
 *             on lines of their own): what two threads that share nothing
 *             get from the machine at that moment, so lfstack/own is the
 *             price of sharing the stack (with 1 thread, the same as lfstack);
 *   near      the same as own, but the heads of the threads' stacks share one
 *             cache line (as work.full/empty/partial do in mgcwork.h): the
 *             price of false sharing between two stacks;
 *   mutex     the same stack behind a pthread mutex (same node layout, one
 *             lock/unlock per operation, an out-of-line call per operation);
 *   CAS       one out-of-line load + CAS increment of one word per operation,
 *             the floor for an operation that must win one CAS.
 * The head, each node, the mutex stack and the CAS word sit on cache lines
 * of their own (NEAR's heads excepted, on purpose), so what contends is only
 * what the algorithm shares.
 * The kinds run interleaved within each repetition (so load from other
 * tenants hits them alike).  The table gives the ratios first, each the
 * median of per-repetition ratios (two runs made back to back, so a change
 * of the machine between repetitions cancels: on this VM the contended
 * figures of a quiet machine jump between about 13 and 40 ns/op from one
 * repetition to the next, presumably as the host moves the two vCPUs
 * between cores that share a cache and cores that do not), then each
 * kind's best and median ns/op, and the median overlap of the lfstack and
 * CAS runs (the share of a run during which every thread was inside its
 * loop: near 1 means the threads really contended; two threads taking
 * turns on one CPU look cheaper than two fighting over a line, which is
 * why they are pinned apart).
 *
 *   build/bench [pairs] [reps]      defaults 5000000 7
 *   make -C benchmarks/lfstack run ARGS="2000000 7"
 */
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcrt.h"
#include "lfstack.h"

enum {
	Line = 64,
	MaxThreads = 2,
	MaxReps = 99,
};

enum kind { LF, OWN, NEAR, MUTEX, CAS, NKIND };
enum loop { POPPUSH, PUSHPOP, NLOOP };

static const char *const loopname[NLOOP] = {"pop+push", "push+pop"};

/* One node per cache line; the lfnode first (lfstack's rule), the mutex
 * stack's link beside it, so both stacks walk identical memory. */
typedef struct bnode {
	alignas(Line) lfnode lf;
	struct bnode *mnext; /* under mstack.mu */
} bnode;

typedef struct mstack {
	alignas(Line) pthread_mutex_t mu;
	bnode *top;
} mstack;

typedef struct shared {
	alignas(Line) _Atomic uint64_t head; /* the lfstack; alone on its line */
	struct {
		alignas(Line) _Atomic uint64_t head;
	} own[MaxThreads]; /* OWN: one lfstack per thread, each head on its line */
	alignas(Line) _Atomic uint64_t near[MaxThreads]; /* NEAR: one per thread, one line */
	alignas(Line) _Atomic uint64_t word; /* the CAS baseline's word */
	alignas(Line) mstack ms;
	alignas(Line) _Atomic int arrived; /* start barrier */
	gcrt_runtime *rt;
	enum kind kind;
	enum loop loop;
	uint64_t pairs;
	bnode nodes[2 * MaxThreads];
} shared;

typedef struct worker {
	alignas(Line) shared *sh;
	_Atomic uint64_t *head; /* the lfstack this thread works on */
	bnode *mine;            /* push+pop: the node this thread holds */
	int cpu, nthreads;
	int64_t t0, t1;
} worker;

static int64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

__attribute__((noinline)) static bnode *mpop(mstack *s)
{
	pthread_mutex_lock(&s->mu);
	bnode *n = s->top;
	s->top = n->mnext;
	pthread_mutex_unlock(&s->mu);
	return n;
}

__attribute__((noinline)) static void mpush(mstack *s, bnode *n)
{
	pthread_mutex_lock(&s->mu);
	n->mnext = s->top;
	s->top = n;
	pthread_mutex_unlock(&s->mu);
}

__attribute__((noinline)) static void casinc(_Atomic uint64_t *w)
{
	uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
	while (!atomic_compare_exchange_weak(w, &old, old + 1))
		;
}

static bnode *pop(shared *sh, _Atomic uint64_t *head)
{
	if (sh->kind == MUTEX)
		return mpop(&sh->ms);
	return (bnode *)lfstackpop(sh->rt, head);
}

static void push(shared *sh, _Atomic uint64_t *head, bnode *n)
{
	if (sh->kind == MUTEX)
		mpush(&sh->ms, n);
	else
		lfstackpush(sh->rt, head, &n->lf);
}

/* pairs iterations of the chosen loop. */
static void run(shared *sh, worker *w)
{
	uint64_t pairs = sh->pairs;
	_Atomic uint64_t *head = w->head;
	bnode *mine = w->mine;
	if (sh->kind == CAS) {
		for (uint64_t i = 0; i < 2 * pairs; i++)
			casinc(&sh->word);
	} else if (sh->loop == POPPUSH) {
		for (uint64_t i = 0; i < pairs; i++)
			push(sh, head, pop(sh, head));
	} else {
		for (uint64_t i = 0; i < pairs; i++) {
			push(sh, head, mine);
			mine = pop(sh, head);
		}
	}
}

static void *workermain(void *arg)
{
	worker *w = arg;
	shared *sh = w->sh;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	atomic_fetch_add(&sh->arrived, 1);
	while (atomic_load(&sh->arrived) < w->nthreads)
		;
	w->t0 = now();
	run(sh, w);
	w->t1 = now();
	return NULL;
}

/* The stacks as each run starts.  Thread t's nodes are 2t and 2t+1: for
 * push+pop it holds node 2t; the others are on the stack it works on (the
 * shared one, or its own for OWN and NEAR), and all on the mutex stack. */
static void reset(shared *sh, int nthreads, worker *w)
{
	atomic_store(&sh->head, 0);
	sh->ms.top = NULL;
	for (int t = 0; t < nthreads; t++) {
		atomic_store(&sh->own[t].head, 0);
		atomic_store(&sh->near[t], 0);
		w[t].head = sh->kind == OWN ? &sh->own[t].head
			    : sh->kind == NEAR ? &sh->near[t]
					       : &sh->head;
	}
	for (int i = 0; i < 2 * nthreads; i++) {
		bnode *n = &sh->nodes[i];
		worker *owner = &w[i / 2];
		if (sh->loop == PUSHPOP && i % 2 == 0) {
			owner->mine = n;
			continue;
		}
		lfstackpush(sh->rt, owner->head, &n->lf);
		n->mnext = sh->ms.top;
		sh->ms.top = n;
	}
}

/* One run's figures: ns per operation of one thread, and how much of the
 * run all threads were inside their loops together (common time / whole
 * time; a run whose threads took turns was not contended). */
typedef struct runfig {
	double ns, overlap;
} runfig;

static runfig measure(shared *sh, const int *cpus, int nthreads)
{
	worker w[MaxThreads];
	pthread_t t[MaxThreads];
	memset(w, 0, sizeof w);
	reset(sh, nthreads, w);
	atomic_store(&sh->arrived, 0);
	for (int i = 0; i < nthreads; i++) {
		w[i].sh = sh;
		w[i].cpu = cpus[i];
		w[i].nthreads = nthreads;
		if (pthread_create(&t[i], NULL, workermain, &w[i]) != 0) {
			perror("pthread_create");
			exit(1);
		}
	}
	int64_t first = 0, last = 0, lastin = 0, firstout = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		if (i == 0 || w[i].t0 < first)
			first = w[i].t0;
		if (i == 0 || w[i].t0 > lastin)
			lastin = w[i].t0;
		if (i == 0 || w[i].t1 < firstout)
			firstout = w[i].t1;
		if (i == 0 || w[i].t1 > last)
			last = w[i].t1;
	}
	double whole = (double)(last - first);
	double common = firstout > lastin ? (double)(firstout - lastin) : 0;
	return (runfig){whole / (double)(2 * sh->pairs), whole > 0 ? common / whole : 0};
}

static int cmpdouble(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef struct summary {
	double best, median;
} summary;

static summary summarize(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmpdouble);
	return (summary){v[0], n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2};
}

/* The median over the repetitions of v[a][r] / v[b][r]: each ratio is of
 * two runs made one right after the other, so a change in the machine
 * between repetitions (a host moving the vCPUs, another tenant) cancels. */
static double ratio(double v[NKIND][MaxReps], enum kind a, enum kind b, int reps)
{
	double q[MaxReps];
	for (int r = 0; r < reps; r++)
		q[r] = v[a][r] / v[b][r];
	return summarize(q, reps).median;
}

/* Measure every kind reps times, interleaved, and print the row. */
static void row(shared *sh, const int *cpus, int nthreads, int reps)
{
	double v[NKIND][MaxReps], ov[NKIND][MaxReps];
	for (int r = 0; r < reps; r++)
		for (int k = 0; k < NKIND; k++) {
			sh->kind = (enum kind)k;
			runfig f = measure(sh, cpus, nthreads);
			v[k][r] = f.ns;
			ov[k][r] = f.overlap;
		}
	printf("%-7d %-8s", nthreads, loopname[sh->loop]);
	printf(" %6.2fx %6.2fx %6.2fx ", ratio(v, LF, CAS, reps), ratio(v, LF, OWN, reps),
	       ratio(v, MUTEX, LF, reps));
	for (int k = 0; k < NKIND; k++) {
		double copy[MaxReps];
		memcpy(copy, v[k], sizeof copy);
		summary s = summarize(copy, reps);
		printf(" %6.2f /%6.2f", s.best, s.median);
	}
	printf("  %4.2f %4.2f\n", summarize(ov[LF], reps).median, summarize(ov[CAS], reps).median);
}

/* The CPUs the process may run on, the first MaxThreads of them. */
static int usablecpus(int *cpus)
{
	cpu_set_t set;
	int n = 0;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < MaxThreads; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

int main(int argc, char **argv)
{
	uint64_t pairs = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	if (pairs < 1 || reps < 1 || reps > MaxReps) {
		fprintf(stderr, "usage: bench [pairs >= 1] [reps 1..%d]\n", MaxReps);
		return 2;
	}
	int cpus[MaxThreads];
	int ncpu = usablecpus(cpus);
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	shared *sh = aligned_alloc(Line, sizeof *sh);
	if (sh != NULL)
		memset(sh, 0, sizeof *sh);
	if (ncpu < 1 || sh == NULL || gcrt_new(&cfg, &sh->rt) != GCRT_OK) {
		fprintf(stderr, "bench: setup failed\n");
		return 1;
	}
	pthread_mutex_init(&sh->ms.mu, NULL);
	sh->pairs = pairs;
	printf("lfstack benchmark: %llu pairs per thread, %d repetitions, threads pinned to "
	       "CPUs",
	       (unsigned long long)pairs, reps);
	for (int i = 0; i < ncpu; i++)
		printf(" %d", cpus[i]);
	printf("\nratios: medians of per-repetition ratios; then ns per operation per thread, "
	       "best / median\n");
	printf("%-7s %-8s %7s %7s %7s  %14s %14s %14s %14s %14s  %s\n", "threads", "loop", "lf/CAS",
	       "lf/own", "mut/lf", "lfstack", "own", "near", "mutex", "CAS", "overlap lf CAS");
	for (int nthreads = 1; nthreads <= MaxThreads && nthreads <= ncpu; nthreads++)
		for (int l = 0; l < NLOOP; l++) {
			sh->loop = (enum loop)l;
			row(sh, cpus, nthreads, reps);
		}
	printf("targets: lfstack <= 5 ns/op with 1 thread, <= 25 ns/op with 2 threads\n");
	pthread_mutex_destroy(&sh->ms.mu);
	gcrt_destroy(sh->rt);
	free(sh);
	return 0;
}
