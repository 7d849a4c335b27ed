/* schedtest.c: running a scenario under the controller, and the toy
 * scenarios that prove it.
 *
 * gcrt_test_sched_run gives every run a fresh runtime (record mode, its
 * arena at a fixed address), so a
 * run is a pure function of (scenario, parameters, n_ms, tape, fault tape,
 * mutant): nothing survives from the previous run, a recorded throw only
 * poisons the run's own runtime, and the next run starts clean.  The
 * calling thread runs the scenario's setup, starts the Ms (controlled Ms,
 * parked), hands the first turn out, and waits for the last M under a
 * wall-clock watchdog: an M stuck outside every schedule point cannot be
 * cancelled, so the watchdog prints the run's state and aborts.  After the
 * Ms are joined it runs the oracle (check) unless the run already failed,
 * and copies decisions, faults, trace and message into the result.  A
 * mutant name that the runtime registry knows is switched on before setup
 * (runtimemutant), so scenarios of any piece select mutants by name.
 *
 * The toy scenarios (each with a deliberate bug behind a mutant name):
 *   counter   Ms increment a shared counter with a CAS loop; "racy" does
 *             load-then-store and loses updates.  Parameter 1 > 0 makes
 *             each M spawn a helper M mid-run and join it (dynamic Ms).
 *             "leak" increments from a raw pthread the controller does not
 *             know: the run fails as uncontrolled.
 *   locks     Ms take two locks around a shared sum; "abba" takes them in
 *             opposite orders on odd Ms: a deadlock.
 *   spinwait  M0 sets a flag the others spin on; "nopartner" never sets
 *             it: a livelock; "nopoint" waits in a loop without a point,
 *             which only the wall-clock watchdog can catch (it aborts).
 *   pingpong  M0 and M1 trade a ball through notes; "lostwake" drops the
 *             last wakeup: a deadlock, or, with a sleep timeout
 *             (parameter 1, virtual ns), a timeout the oracle reports.
 *   owned     Ms claim a critical section; "racy" claims by load-then-
 *             store and an M throws when it finds another inside.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedctl.h"

extern const sched_scenario __start_gcrt_scn[] __attribute__((weak, visibility("hidden")));
extern const sched_scenario __stop_gcrt_scn[] __attribute__((weak, visibility("hidden")));

enum { DefaultWatchdogMs = 20000, MaxIters = 1 << 24 };

const char *checkfail(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}

/* Every run's heap sits at the same address, so heap addresses repeat
 * from run to run.  Only when the range is taken (another runtime lives
 * there) does a run fall back to an arena anywhere, and under TSan, whose
 * shadow memory owns that range (mapping it there aborts), runs always do.
 * Traces do not depend on it: values that name memory go through sched_sym
 * (lfstack heads, work buffers live outside the heap anyway). */
#if defined(__SANITIZE_THREAD__)
#define FixedArena ((uintptr_t)0) /* TSan keeps that range for its shadow */
#else
#define FixedArena ((uintptr_t)0x5e0000000000ull)
#endif
#define RunArenaSize ((uint64_t)64 << 20)

struct gcrt_schedrun {
	gcrt_sched_info info;
	char msg[1024];
	uint8_t *tape;
	uint32_t ntape;
	uint8_t *faults;
	uint32_t nfaults;
	gcrt_sched_event *trace;
	uint32_t ntrace;
};

static int nscenarios(void)
{
	return __start_gcrt_scn == NULL ? 0 : (int)(__stop_gcrt_scn - __start_gcrt_scn);
}

static const sched_scenario *findscn(const char *name)
{
	for (int i = 0; i < nscenarios(); i++)
		if (strcmp(__start_gcrt_scn[i].name, name) == 0)
			return &__start_gcrt_scn[i];
	return NULL;
}

/* 0: no mutant; k > 0: the scenario's (k-1)-th mutant; -1: unknown. */
static int mutantof(const sched_scenario *s, const char *name)
{
	if (name == NULL || name[0] == 0)
		return 0;
	for (int k = 0; s->mutants != NULL && s->mutants[k] != NULL; k++)
		if (strcmp(s->mutants[k], name) == 0)
			return k + 1;
	return -1;
}

GCRT_API void gcrt_test_sched_opts_init(gcrt_sched_opts *o)
{
	if (o == NULL)
		return;
	memset(o, 0, sizeof *o);
	o->pct_depth = 3;
}

GCRT_API int gcrt_test_sched_nscenarios(void)
{
	return nscenarios();
}

GCRT_API int gcrt_test_sched_scenario(int i, const char **name, const char **doc, int *min_ms,
				      int *max_ms, const char *const **mutants)
{
	static const char *const none[] = {NULL};
	if (i < 0 || i >= nscenarios())
		return GCRT_ERANGE;
	if (name == NULL || doc == NULL || min_ms == NULL || max_ms == NULL || mutants == NULL)
		return GCRT_EINVAL;
	const sched_scenario *s = &__start_gcrt_scn[i];
	*name = s->name;
	*doc = s->doc;
	*min_ms = s->min_ms;
	*max_ms = s->max_ms;
	*mutants = s->mutants != NULL ? s->mutants : none;
	return GCRT_OK;
}

static int checkopts(const sched_scenario *s, int32_t n_ms, const gcrt_sched_opts *o)
{
	if (n_ms < s->min_ms || n_ms > s->max_ms || n_ms > MaxCtlMs)
		return GCRT_ERANGE;
	if (o->strategy < GCRT_SCHED_STRAT_TAPE || o->strategy > GCRT_SCHED_STRAT_FREE)
		return GCRT_EINVAL;
	if ((o->ntape > 0 && o->tape == NULL) || (o->nfaults > 0 && o->faults == NULL))
		return GCRT_EINVAL;
	if (o->armed != NULL && o->narmed != (uint32_t)gcrt_test_sched_nsites())
		return GCRT_EINVAL;
	if (o->fault_permille > 1000)
		return GCRT_EINVAL;
	if (o->strategy == GCRT_SCHED_STRAT_PCT && (o->pct_depth < 1 || o->pct_depth > MaxPctDepth))
		return GCRT_EINVAL;
	if (o->nparams > MaxParams)
		return GCRT_ERANGE;
	if (o->nparams > 0 && o->params == NULL)
		return GCRT_EINVAL;
	if (mutantof(s, o->mutant) < 0)
		return GCRT_EINVAL;
	if (!GCRT_SCHED && o->strategy != GCRT_SCHED_STRAT_FREE)
		return GCRT_ESTATE;
	return GCRT_OK;
}

typedef struct mslot {
	rtthread t;
	const sched_scenario *s;
	void *ctx;
	int m;
} mslot;

static void mbody(struct gcrt_runtime *rt, void *arg)
{
	mslot *ms = arg;
	ms->s->body(rt, ms->ctx, ms->m);
}

static void rle(FILE *f, const uint8_t *v, uint32_t n)
{
	for (uint32_t i = 0; i < n;) {
		uint32_t z = 0;
		while (i + z < n && v[i + z] == 0)
			z++;
		if (z > 0) {
			fprintf(f, ".z%u", z);
			i += z;
		} else {
			fprintf(f, ".%u", v[i++]);
		}
	}
}

/* An M is stuck outside every point: nothing can be unwound safely. */
static _Noreturn void watchdog(const char *scn, schedctl *c, uint32_t ms)
{
	FILE *f = stderr;
	int cur = c->cur;
	fprintf(f, "schedctl watchdog: scenario %s made no progress for %u ms\n", scn, ms);
	fprintf(f, "  step %llu, M%d holds the baton, last at %s\n", (unsigned long long)c->step,
		cur, cur >= 0 && c->ms[cur].lastsite >= 0 ? c->sorted[c->ms[cur].lastsite]->name
							 : "start");
	fprintf(f, "  decisions so far:");
	rle(f, c->rec, c->nrec);
	fprintf(f, "\n");
	uint64_t from = c->nevents > 20 ? c->nevents - 20 : 0;
	for (uint64_t i = from; i < c->nevents; i++) {
		gcrt_sched_event *e = &c->trace[i % c->tracecap];
		fprintf(f, "  %8llu M%d %s %llu\n", (unsigned long long)e->step, e->m,
			c->sorted[e->site]->name, (unsigned long long)e->value);
	}
	fflush(f);
	abort();
}

static struct timespec after(uint32_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* Free runs have no points to stop at either: a stuck one aborts too. */
static void joinfree(const char *scn, mslot *slots, int n, uint32_t ms)
{
	struct timespec ts = after(ms);
	for (int i = 0; i < n; i++)
		if (pthread_timedjoin_np(slots[i].t.tid, NULL, &ts) != 0) {
			fprintf(stderr, "schedctl watchdog: free run of %s: M%d still running after %u ms\n",
				scn, i, ms);
			abort();
		}
}

static void waitdone(const char *scn, schedctl *c, uint32_t ms)
{
	struct timespec ts = after(ms);
	for (;;) {
		if (sem_timedwait(&c->done, &ts) == 0)
			return;
		if (errno == ETIMEDOUT)
			watchdog(scn, c, ms);
	}
}

static void keep(gcrt_schedrun *r, schedctl *c)
{
	r->info.steps = c->step;
	r->info.switches = c->nswitch;
	r->info.preemptions = c->npreempt;
	r->info.hash = c->hash;
	r->info.nevents = c->nevents;
	r->info.n_ms = c->n;
	if (c->outcome != GCRT_SCHED_OUT_OK) {
		r->info.outcome = c->outcome;
		snprintf(r->msg, sizeof r->msg, "%s", c->msg);
	}
	r->tape = c->rec;
	r->ntape = c->nrec;
	c->rec = NULL;
	r->faults = c->frec;
	r->nfaults = c->nfrec;
	c->frec = NULL;
	uint64_t kept = c->nevents < c->tracecap ? c->nevents : c->tracecap;
	r->trace = malloc((size_t)(kept ? kept : 1) * sizeof *r->trace);
	if (r->trace == NULL)
		return;
	for (uint64_t i = 0; i < kept; i++)
		r->trace[i] = c->trace[(c->nevents - kept + i) % c->tracecap];
	r->ntrace = (uint32_t)kept;
}

/* A controller failure (deadlock, livelock, budget, an uncontrolled
 * thread) unwound the Ms wherever they stood, maybe holding runtime locks
 * or mid-protocol: the runtime is as failed as after a throw, so its
 * teardown takes the failed paths and waits for nothing an unwound M held
 * (the scheduler's lock, for one). */
static void abandon(struct gcrt_runtime *rt, const char *msg)
{
	int expect = 0;
	if (!atomic_compare_exchange_strong(&rt->thr.failed, &expect, 1))
		return;
	size_t n = strlen(msg) + sizeof "fatal error: controlled run: ";
	rt->thr.report = malloc(n);
	if (rt->thr.report != NULL)
		snprintf(rt->thr.report, n, "fatal error: controlled run: %s", msg);
	atomic_store_explicit(&rt->thr.published, 1, memory_order_release);
	atomic_store(&rt->schedmode, SCHED_FAILED);
}

/* A scenario's mutant may name a runtime mutant (mutants.h); the run
 * switches it on before setup.  A name the registry does not know is the
 * scenario's own (its setup reads p->mutant). */
static int runtimemutant(struct gcrt_runtime *rt, const char *name)
{
	int rc = gcrt_test_set_mutant(rt, name);
	return rc == GCRT_EINVAL ? GCRT_OK : rc;
}

static void runscn(struct gcrt_runtime *rt, const sched_scenario *s, int32_t n_ms,
		   const gcrt_sched_opts *o, schedctl *c, gcrt_schedrun *r)
{
	schedparams p = {.n_ms = n_ms, .mutant = mutantof(s, o->mutant), .nparams = (int)o->nparams};
	for (uint32_t i = 0; i < o->nparams; i++)
		p.p[i] = o->params[i];
	void *ctx = calloc(1, s->ctxsize ? s->ctxsize : 1);
	mslot *slots = calloc((size_t)n_ms, sizeof *slots);
	if (ctx == NULL || slots == NULL) {
		free(ctx);
		free(slots);
		r->info.outcome = GCRT_ENOMEM;
		return;
	}
	volatile int started = 0, setup = 0;
	throwcatch tc;
	if (CATCH(rt, &tc)) {
		for (int i = 0; i < started; i++)
			rtthread_join(&slots[i].t);
		r->info.outcome = GCRT_SCHED_OUT_THROW;
		const char *rep = gcrt_last_throw(rt);
		snprintf(r->msg, sizeof r->msg, "%.*s (on the caller)", (int)strcspn(rep, "\n"), rep);
		goto out;
	}
	int rc = p.mutant > 0 ? runtimemutant(rt, s->mutants[p.mutant - 1]) : GCRT_OK;
	if (rc == GCRT_OK && s->setup != NULL)
		rc = s->setup(rt, ctx, &p);
	if (rc != GCRT_OK) {
		uncatch(&tc);
		r->info.outcome = rc;
		goto out;
	}
	setup = 1;
	for (int i = 0; i < n_ms; i++) {
		slots[i] = (mslot){.s = s, .ctx = ctx, .m = i};
		if (rtthread_start(rt, &slots[i].t, mbody, &slots[i]) != GCRT_OK)
			break;
		started++;
	}
	int64_t t0 = nanotime();
	uint32_t wd = o->watchdog_ms ? o->watchdog_ms : DefaultWatchdogMs;
	if (c != NULL) {
		ctl_go(c);
		waitdone(s->name, c, wd);
		for (int i = 0; i < started; i++)
			rtthread_join(&slots[i].t);
	} else {
		joinfree(s->name, slots, started, wd);
	}
	r->info.wall_ns = (uint64_t)(nanotime() - t0);
	if (c != NULL) {
		c->running = 0;
		uint32_t ctl = SCHED_CONTROL;
		atomic_compare_exchange_strong(&rt->schedmode, &ctl, SCHED_OFF);
		keep(r, c);
		if (c->outcome != GCRT_SCHED_OUT_OK && c->outcome != GCRT_SCHED_OUT_THROW)
			abandon(rt, c->msg);
	}
	if (started < n_ms && r->info.outcome == GCRT_SCHED_OUT_OK)
		r->info.outcome = GCRT_ENOMEM;
	if (r->info.outcome == GCRT_SCHED_OUT_OK && atomic_load(&rt->thr.failed)) {
		const char *rep = gcrt_last_throw(rt);
		r->info.outcome = GCRT_SCHED_OUT_THROW;
		snprintf(r->msg, sizeof r->msg, "%.*s", (int)strcspn(rep, "\n"), rep);
	}
	if (r->info.outcome == GCRT_SCHED_OUT_OK && s->check != NULL) {
		char buf[512];
		const char *m = s->check(rt, ctx, buf, sizeof buf);
		if (m != NULL) {
			r->info.outcome = GCRT_SCHED_OUT_ORACLE;
			snprintf(r->msg, sizeof r->msg, "%s", m);
		}
	}
	uncatch(&tc);
out:
	if (setup && s->teardown != NULL)
		s->teardown(rt, ctx);
	free(slots);
	free(ctx);
}

GCRT_API int gcrt_test_sched_run(const char *scenario, int32_t n_ms, const gcrt_sched_opts *o,
				 gcrt_schedrun **out)
{
	if (out == NULL || scenario == NULL || o == NULL)
		return GCRT_EINVAL;
	*out = NULL;
	const sched_scenario *s = findscn(scenario);
	if (s == NULL)
		return GCRT_EINVAL;
	int rc = checkopts(s, n_ms, o);
	if (rc != GCRT_OK)
		return rc;
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	cfg.on_throw = GCRT_THROW_RECORD;
	cfg.nprocs = n_ms;
	cfg.arena_size = RunArenaSize;
	cfg.arena_hint = FixedArena;
	struct gcrt_runtime *rt;
	rc = gcrt_new(&cfg, &rt);
	if (rc == GCRT_ENOMEM) {
		cfg.arena_hint = 0;
		rc = gcrt_new(&cfg, &rt);
	}
	if (rc != GCRT_OK)
		return rc;
	/* freed memory poisoned: a scenario's canaries see a freed object */
	(void)gcrt_gc_options(rt, GCRT_GC_CLOBBERFREE, NULL);
	gcrt_schedrun *r = calloc(1, sizeof *r);
	schedctl *c = NULL;
	if (r != NULL && o->strategy != GCRT_SCHED_STRAT_FREE) {
		c = ctl_new(rt, o);
		if (c == NULL) {
			free(r);
			r = NULL;
		}
	}
	if (r == NULL) {
		gcrt_destroy(rt);
		return GCRT_ENOMEM;
	}
	if (c != NULL) {
		rt->sp.ctl = c;
		atomic_store(&rt->schedmode, SCHED_CONTROL);
	}
	runscn(rt, s, n_ms, o, c, r);
	rc = r->info.outcome < 0 ? r->info.outcome : GCRT_OK;
	rt->sp.ctl = NULL;
	if (c != NULL)
		ctl_free(c);
	gcrt_destroy(rt);
	if (rc != GCRT_OK) {
		gcrt_test_schedrun_free(r);
		return rc;
	}
	r->info.ntape = r->ntape;
	r->info.nfaults = r->nfaults;
	*out = r;
	return GCRT_OK;
}

GCRT_API int gcrt_test_schedrun_info(const gcrt_schedrun *r, gcrt_sched_info *out)
{
	if (r == NULL || out == NULL)
		return GCRT_EINVAL;
	*out = r->info;
	return GCRT_OK;
}

GCRT_API const char *gcrt_test_schedrun_message(const gcrt_schedrun *r)
{
	return r != NULL ? r->msg : "";
}

GCRT_API const uint8_t *gcrt_test_schedrun_tape(const gcrt_schedrun *r, uint32_t *n)
{
	if (n != NULL)
		*n = r != NULL ? r->ntape : 0;
	return r != NULL ? r->tape : NULL;
}

GCRT_API const uint8_t *gcrt_test_schedrun_faults(const gcrt_schedrun *r, uint32_t *n)
{
	if (n != NULL)
		*n = r != NULL ? r->nfaults : 0;
	return r != NULL ? r->faults : NULL;
}

GCRT_API int gcrt_test_schedrun_trace(const gcrt_schedrun *r, gcrt_sched_event *out, uint32_t cap)
{
	if (r == NULL || (out == NULL && cap > 0))
		return GCRT_EINVAL;
	uint32_t n = r->ntrace < cap ? r->ntrace : cap;
	memcpy(out, r->trace, (size_t)n * sizeof *out);
	return (int)n;
}

GCRT_API void gcrt_test_schedrun_free(gcrt_schedrun *r)
{
	if (r == NULL)
		return;
	free(r->tape);
	free(r->faults);
	free(r->trace);
	free(r);
}

/* ---- toy scenarios ---- */

static int iters(const schedparams *p, int def)
{
	int64_t n = p->p[0];
	if (n < 0 || n > MaxIters)
		return -1;
	return n == 0 ? def : (int)n;
}

/* counter */

struct counterctx {
	_Atomic uint64_t v;
	int iters, n, racy, spawn, leak;
	rtthread helper[MaxCtlMs];
	struct gcrt_runtime *rt; /* for the leaked thread */
};

static int counter_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct counterctx *x = vctx;
	x->iters = iters(p, 2);
	if (x->iters < 0 || p->p[1] < 0 || p->p[1] > 1)
		return GCRT_ERANGE;
	x->n = p->n_ms;
	x->racy = p->mutant == 1;
	x->leak = p->mutant == 2;
	x->spawn = (int)p->p[1];
	x->rt = rt;
	return GCRT_OK;
}

static void increment(struct gcrt_runtime *rt, struct counterctx *x)
{
	if (x->racy) {
		uint64_t v = ATOMIC_LOAD(rt, "counter.load", &x->v);
		SCHED_NOTE(rt, "counter.saw", v);
		ATOMIC_STORE(rt, "counter.store", &x->v, v + 1);
		return;
	}
	for (;;) {
		uint64_t v = ATOMIC_LOAD(rt, "counter.load", &x->v);
		SCHED_NOTE(rt, "counter.saw", v);
		if (ATOMIC_CAS64(rt, "counter.cas", &x->v, v, v + 1))
			return;
	}
}

static void counter_helper(struct gcrt_runtime *rt, void *arg)
{
	struct counterctx *x = arg;
	for (int i = 0; i < x->iters; i++)
		increment(rt, x);
}

/* A thread started behind the runtime's back (mutant "leak"). */
static void *counter_leaked(void *arg)
{
	struct counterctx *x = arg;
	increment(x->rt, x);
	return NULL;
}

static void counter_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct counterctx *x = vctx;
	if (x->leak && m == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, counter_leaked, x) == 0)
			pthread_join(t, NULL);
	}
	if (x->spawn)
		rtthread_start(rt, &x->helper[m], counter_helper, x);
	for (int i = 0; i < x->iters; i++)
		increment(rt, x);
	if (x->spawn)
		rtthread_join(&x->helper[m]);
}

static const char *counter_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	(void)rt;
	struct counterctx *x = vctx;
	uint64_t want = (uint64_t)x->n * (uint64_t)x->iters * (x->spawn ? 2u : 1u) + (x->leak ? 1u : 0u);
	uint64_t got = atomic_load(&x->v);
	if (got == want)
		return NULL;
	return checkfail(buf, n,
			 "counter: lost update: counter=%llu, want %llu", (unsigned long long)got,
			 (unsigned long long)want);
}

SCHED_SCENARIO_DEF(counter, 1, 8, struct counterctx, SCENARIO_MUTANTS("racy", "leak"),
		   counter_setup, counter_body, counter_check, NULL,
		   "Ms increment a shared counter (params: iterations, spawn helpers 0/1)");

/* locks */

struct lockctx {
	rtlock a, b;
	uint64_t sum; /* guarded by a and b */
	int iters, n, abba;
};

static int locks_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	(void)rt;
	struct lockctx *x = vctx;
	x->iters = iters(p, 1);
	if (x->iters < 0)
		return GCRT_ERANGE;
	x->n = p->n_ms;
	x->abba = p->mutant == 1;
	lock_init(&x->a);
	lock_init(&x->b);
	return GCRT_OK;
}

static void locks_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct lockctx *x = vctx;
	rtlock *first = (x->abba && m % 2) ? &x->b : &x->a;
	rtlock *second = first == &x->a ? &x->b : &x->a;
	for (int i = 0; i < x->iters; i++) {
		LOCK(rt, first, "locks.first");
		LOCK(rt, second, "locks.second");
		SCHED_POINT(rt, "locks.critical");
		x->sum++;
		UNLOCK(rt, second, "locks.unlock2");
		UNLOCK(rt, first, "locks.unlock1");
	}
}

static const char *locks_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	(void)rt;
	struct lockctx *x = vctx;
	if (x->sum == (uint64_t)x->n * (uint64_t)x->iters)
		return NULL;
	return checkfail(buf, n, "locks: sum=%llu, want %llu", (unsigned long long)x->sum,
			 (unsigned long long)x->n * (unsigned long long)x->iters);
}

static void locks_teardown(struct gcrt_runtime *rt, void *vctx)
{
	(void)rt;
	struct lockctx *x = vctx;
	lock_destroy(&x->a);
	lock_destroy(&x->b);
}

SCHED_SCENARIO_DEF(locks, 1, 8, struct lockctx, SCENARIO_MUTANTS("abba"),
		   locks_setup, locks_body, locks_check, locks_teardown,
		   "Ms take two locks around a shared sum (params: iterations)");

/* spinwait */

struct spinctx {
	_Atomic uint32_t flag, seen;
	int n, nopartner, nopoint;
};

static int spin_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	(void)rt;
	struct spinctx *x = vctx;
	x->n = p->n_ms;
	x->nopartner = p->mutant == 1;
	x->nopoint = p->mutant == 2;
	return GCRT_OK;
}

static void spin_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct spinctx *x = vctx;
	if (m == 0) {
		SCHED_POINT(rt, "spinwait.work");
		if (!x->nopartner)
			ATOMIC_STORE(rt, "spinwait.set", &x->flag, 1);
		return;
	}
	if (x->nopoint) {
		while (atomic_load(&x->flag) == 0)
			procyield(10);
	}
	while (ATOMIC_LOAD(rt, "spinwait.load", &x->flag) == 0)
		SCHED_SPIN(rt, "spinwait.wait");
	(void)ATOMIC_XADD(rt, "spinwait.seen", &x->seen, 1);
}

static const char *spin_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	(void)rt;
	struct spinctx *x = vctx;
	if (atomic_load(&x->seen) == (uint32_t)x->n - 1)
		return NULL;
	return checkfail(buf, n,
			 "spinwait: %u waiters saw the flag, want %d", atomic_load(&x->seen),
			 x->n - 1);
}

SCHED_SCENARIO_DEF(spinwait, 2, 8, struct spinctx, SCENARIO_MUTANTS("nopartner", "nopoint"),
		   spin_setup, spin_body, spin_check, NULL,
		   "M0 sets a flag the other Ms spin on");

/* pingpong */

struct pingctx {
	note ping, pong;
	_Atomic int64_t ball, reply;
	int rounds, lostwake, timedout, bad;
	int64_t timeout;
};

static int ping_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	(void)rt;
	struct pingctx *x = vctx;
	x->rounds = iters(p, 2);
	if (x->rounds < 0 || p->p[1] < 0)
		return GCRT_ERANGE;
	x->timeout = p->p[1] > 0 ? p->p[1] : -1;
	x->lostwake = p->mutant == 1;
	note_init(&x->ping);
	note_init(&x->pong);
	return GCRT_OK;
}

static void ping_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct pingctx *x = vctx;
	for (int r = 0; r < x->rounds; r++) {
		if (m == 0) {
			noteclear(&x->pong);
			ATOMIC_STORE(rt, "pingpong.serve", &x->ball, r);
			notewakeup(rt, &x->ping);
			if (!notetsleep(rt, &x->pong, x->timeout)) {
				x->timedout = r + 1;
				return;
			}
			if (ATOMIC_LOAD(rt, "pingpong.read", &x->reply) != r + 1000)
				x->bad++;
		} else {
			notesleep(rt, &x->ping);
			noteclear(&x->ping);
			int64_t b = ATOMIC_LOAD(rt, "pingpong.catch", &x->ball);
			ATOMIC_STORE(rt, "pingpong.return", &x->reply, b + 1000);
			if (!(x->lostwake && r == x->rounds - 1))
				notewakeup(rt, &x->pong);
		}
	}
}

static const char *ping_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	(void)rt;
	struct pingctx *x = vctx;
	if (x->timedout)
		snprintf(buf, n, "pingpong: round %d timed out", x->timedout - 1);
	else if (x->bad)
		snprintf(buf, n, "pingpong: %d wrong replies", x->bad);
	else
		return NULL;
	return buf;
}

static void ping_teardown(struct gcrt_runtime *rt, void *vctx)
{
	(void)rt;
	struct pingctx *x = vctx;
	note_destroy(&x->ping);
	note_destroy(&x->pong);
}

SCHED_SCENARIO_DEF(pingpong, 2, 2, struct pingctx, SCENARIO_MUTANTS("lostwake"),
		   ping_setup, ping_body, ping_check, ping_teardown,
		   "M0 and M1 trade a ball through notes (params: rounds, sleep timeout ns)");

/* owned */

struct ownctx {
	_Atomic uint64_t owner; /* 0, or 1 + the M inside */
	int iters, racy;
};

static int own_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	(void)rt;
	struct ownctx *x = vctx;
	x->iters = iters(p, 1);
	if (x->iters < 0)
		return GCRT_ERANGE;
	x->racy = p->mutant == 1;
	return GCRT_OK;
}

static void own_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct ownctx *x = vctx;
	uint64_t me = (uint64_t)m + 1;
	for (int i = 0; i < x->iters; i++) {
		if (x->racy) {
			while (ATOMIC_LOAD(rt, "owned.load", &x->owner) != 0)
				SCHED_SPIN(rt, "owned.wait");
			ATOMIC_STORE(rt, "owned.store", &x->owner, me);
		} else {
			while (!ATOMIC_CAS64(rt, "owned.cas", &x->owner, 0, me))
				SCHED_SPIN(rt, "owned.wait");
		}
		uint64_t o = ATOMIC_LOAD(rt, "owned.check", &x->owner);
		if (o == 0)
			throwf(rt, "owned: M%d found its critical section released by another M", m);
		if (o != me)
			throwf(rt, "owned: M%d found M%d in its critical section", m, (int)o - 1);
		ATOMIC_STORE(rt, "owned.release", &x->owner, 0);
	}
}

SCHED_SCENARIO_DEF(owned, 1, 8, struct ownctx, SCENARIO_MUTANTS("racy"),
		   own_setup, own_body, NULL, NULL,
		   "Ms claim a critical section; an M that finds another inside throws");
