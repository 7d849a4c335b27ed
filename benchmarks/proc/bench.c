/* benchmarks/proc: scheduler costs, each beside a baseline of the same run.
 *
 *   syscall   ns per gcrt_entersyscall+gcrt_exitsyscall pair on the fast
 *             path (our P still Psyscall), vs a pthread mutex lock+unlock
 *             pair (the cost a locked hand-off would start from);
 *   poll      ns per gcrt_safepoint with nothing pending, vs the same
 *             indirect call as yield's baseline;
 *   yield     ns per goroutine step that yields (run queue round trip on
 *             one M), vs an indirect call of the same step function;
 *   stw       us per stop of the world (then a start and 200 us of
 *             running) while 2 Ms run busy Gs that poll safepoints, vs the
 *             same with no Ms (every P idle).
 * Links the release libgcrt.a (schedule points compiled out); best of
 * `reps` runs, to filter out other tenants of a shared machine.
 *
 *   bench [iters] [reps]      defaults 200000 5
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gcrt.h"

static int64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static gcrt_runtime *newrt(void)
{
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	cfg.nprocs = 2;
	cfg.arena_size = 64 << 20;
	gcrt_runtime *rt = NULL;
	if (gcrt_new(&cfg, &rt) != GCRT_OK) {
		fprintf(stderr, "gcrt_new failed\n");
		exit(1);
	}
	return rt;
}

typedef struct job {
	long iters;
	long left;
	int64_t ns;
	_Atomic int *stop;
} job;

static int syscallstep(gcrt_g *g, void *arg)
{
	job *j = arg;
	int64_t t0 = now();
	for (long i = 0; i < j->iters; i++) {
		gcrt_entersyscall(g);
		gcrt_exitsyscall(g);
	}
	j->ns = now() - t0;
	return GCRT_STEP_EXIT;
}

static int pollstep(gcrt_g *g, void *arg)
{
	job *j = arg;
	int64_t t0 = now();
	for (long i = 0; i < j->iters; i++)
		j->left += gcrt_safepoint(g); /* 0: nothing stops this runtime */
	j->ns = now() - t0;
	return GCRT_STEP_EXIT;
}

static int yieldstep(gcrt_g *g, void *arg)
{
	job *j = arg;
	(void)g;
	return --j->left > 0 ? GCRT_STEP_YIELD : GCRT_STEP_EXIT;
}

static int busystep(gcrt_g *g, void *arg)
{
	job *j = arg;
	while (!atomic_load(j->stop))
		if (gcrt_safepoint(g) == 1)
			return GCRT_STEP_YIELD;
	return GCRT_STEP_EXIT;
}

/* ns per iteration of a step that times its own loop on one M. */
static double timedstep_ns(gcrt_stepfn step, long iters)
{
	gcrt_runtime *rt = newrt();
	job j = {iters, 0, 0, NULL};
	gcrt_go(rt, step, &j, NULL);
	gcrt_start(rt, 1);
	gcrt_wait(rt, 0);
	gcrt_destroy(rt);
	if (j.left != 0) {
		fprintf(stderr, "a safepoint reported a stop nobody asked for\n");
		exit(1);
	}
	return (double)j.ns / (double)iters;
}

static double syscall_ns(long iters)
{
	return timedstep_ns(syscallstep, iters);
}

static double poll_ns(long iters)
{
	return timedstep_ns(pollstep, iters);
}

static double mutex_ns(long iters)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	int64_t t0 = now();
	for (long i = 0; i < iters; i++) {
		pthread_mutex_lock(&mu);
		__asm__ volatile("" ::: "memory");
		pthread_mutex_unlock(&mu);
	}
	return (double)(now() - t0) / (double)iters;
}

static double yield_ns(long iters)
{
	gcrt_runtime *rt = newrt();
	job j = {iters, iters, 0, NULL};
	gcrt_go(rt, yieldstep, &j, NULL);
	int64_t t0 = now();
	gcrt_start(rt, 1);
	gcrt_wait(rt, 0);
	double ns = (double)(now() - t0) / (double)iters;
	gcrt_destroy(rt);
	return ns;
}

static double call_ns(long iters)
{
	job j = {iters, iters, 0, NULL};
	int (*volatile fn)(gcrt_g *, void *) = yieldstep;
	int64_t t0 = now();
	while (fn(NULL, &j) == GCRT_STEP_YIELD)
		;
	return (double)(now() - t0) / (double)iters;
}

static double stw_us(int nms, int rounds)
{
	gcrt_runtime *rt = newrt();
	_Atomic int stop = 0;
	job j = {0, 0, 0, &stop};
	if (nms > 0) {
		for (int i = 0; i < 4; i++)
			gcrt_go(rt, busystep, &j, NULL);
		gcrt_start(rt, nms);
	}
	struct timespec gap = {0, 200000};
	nanosleep(&gap, NULL);
	int64_t total = 0;
	for (int r = 0; r < rounds; r++) {
		int64_t t0 = now();
		gcrt_stoptheworld(rt);
		total += now() - t0;
		gcrt_starttheworld(rt);
		nanosleep(&gap, NULL);
	}
	double us = (double)total / 1000.0 / rounds;
	atomic_store(&stop, 1);
	gcrt_wait(rt, 0);
	gcrt_destroy(rt);
	return us;
}

static double best(double (*f)(long), long iters, int reps)
{
	double b = 0;
	for (int r = 0; r < reps; r++) {
		double x = f(iters);
		if (r == 0 || x < b)
			b = x;
	}
	return b;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	double sc = best(syscall_ns, iters, reps), mu = best(mutex_ns, iters, reps);
	printf("syscall  enter+exit fast path %8.1f ns   mutex lock+unlock %8.1f ns   ratio %.2f\n",
	       sc, mu, sc / mu);
	double y = best(yield_ns, iters, reps), c = best(call_ns, iters, reps);
	double pl = best(poll_ns, iters, reps);
	printf("poll     gcrt_safepoint       %8.1f ns   indirect call     %8.1f ns   ratio %.1f\n", pl,
	       c, pl / c);
	printf("yield    step via run queue   %8.1f ns   indirect call     %8.1f ns   ratio %.1f\n", y,
	       c, y / c);
	double busy = 0, idle = 0;
	for (int r = 0; r < reps; r++) {
		double b = stw_us(2, 200), i = stw_us(0, 200);
		busy = r == 0 || b < busy ? b : busy;
		idle = r == 0 || i < idle ? i : idle;
	}
	printf("stw      stop, 2 busy Ms      %8.1f us   no Ms             %8.1f us   ratio %.1f\n",
	       busy, idle, busy / idle);
	return 0;
}
