/* mgc.c: the collection cycle (Go's gogc and gc(), dev.garbage 6184f46).
 *
 * A collection (gogc): take gclock (Go's worldsema), stop the world,
 * finishsweep_m (every span at the current sweepgen), then (the seed's
 * cycle, unless GCRT_GC_STW selects the plain stop-the-world mode) start
 * the world, gcscan_m (phase GCscan, roots and stopped goroutines greyed
 * one level, with the write barrier shading), stop the world again; then
 * snapshot the spans,
 * phase GCmark, mark with nproc markers (this thread and nproc-1 helper
 * threads parked on notes; markroot under parfor, then drain through the
 * getfull barrier; full and partial asserted empty), optionally the
 * checkmark verification (phase GCmarktermination), phase GCoff, pacing,
 * pause, gctrace, sweepgen += 2 with a fresh snapshot, start the world,
 * then sweep: eagerly for gcrt_gc (Go's runtime.GC), else in the
 * background sweeper and lazily by allocation.
 *
 * The world: proc's stoptheworld (with worldsema) stops every P, so no
 * goroutine and no attached host G runs.  Host threads that call the API
 * without a P are stopped by a second protocol: API calls that change the
 * object graph or the roots, and the background sweeper for each span it
 * sweeps, count themselves in nmutators (mutator_enter); an allocation
 * sets its mcache's busy flag (cache_enter).  Both then check stopping
 * and, if it is set, back out and wait on gclock.  After the Ps are
 * stopped the collector sets stopping and waits until nmutators is 0 and
 * no cache is busy (in that order, so an M holding a P never waits on
 * gclock while the collector waits for its P).  A host must not change registered global regions while a
 * collection runs.
 *
 * Pacing: heap_live counts bytes of large objects, of cached spans (all
 * their slots) and of small objects in uncached spans.  After a mark,
 * next_gc = heap_live * (100 + GOGC) / 100, and every swept free takes
 * bytes * (100 + GOGC) / 100 off it, so it converges to live * (1 +
 * GOGC/100).  An allocation that refills its cache or allocates a large
 * object sets pending when heap_live >= max(next_gc, heap_minimum); the next
 * allocation through gcrt_alloc or gcrt_alloc_pinned collects first (its
 * own result is then never at risk).  heap_minimum (gcrt_config) is 4 MiB
 * by default, Go 1.4's heapminimum: a small heap is collected often but
 * quickly.  A host that knows its working set (a VM with a large
 * long-lived heap) raises it to trade memory for fewer collections; GOGC
 * keeps its meaning above the floor.  A goroutine allocating on a P
 * (the mutator's alloc) polls too, but first leaves its P like a syscall
 * (mallocpoll in proc.c), or the stop would wait for its own P; Go's
 * mallocgc calls gogc from the allocating goroutine the same way.
 * Collection by pacing is off in the C API until the host enables it
 * (Go's enablegc; the Python Runtime enables it), and GOGC = -1 turns it
 * off.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime.h"
#include "gcrt_test.h"

/* ---- the world ---- */

static void waitworld(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	while (ATOMIC_LOAD(rt, "world.wait.stopping", &gc->stopping)) {
		LOCK(rt, &gc->gclock, "world.wait.lock");
		UNLOCK(rt, &gc->gclock, "world.wait.unlock");
	}
}

void mutator_enter(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	for (;;) {
		(void)ATOMIC_XADD(rt, "world.enter.inc", &gc->nmutators, 1);
		if (!ATOMIC_LOAD(rt, "world.enter.stopping", &gc->stopping))
			return;
		(void)ATOMIC_XADD(rt, "world.enter.dec", &gc->nmutators, (uint32_t)-1);
		waitworld(rt);
	}
}

void mutator_exit(struct gcrt_runtime *rt)
{
	(void)ATOMIC_XADD(rt, "world.exit.dec", &rt->gc.nmutators, (uint32_t)-1);
}

void cache_enter(struct gcrt_runtime *rt, mcache *c)
{
	for (;;) {
		ATOMIC_STORE(rt, "world.cache.busy", &c->busy, 1);
		if (!ATOMIC_LOAD(rt, "world.cache.stopping", &rt->gc.stopping))
			return;
		ATOMIC_STORE(rt, "world.cache.idle", &c->busy, 0);
		waitworld(rt);
	}
}

void cache_exit(mcache *c)
{
	atomic_store_explicit(&c->busy, 0, memory_order_release);
}

void world_stop(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	ATOMIC_STORE(rt, "world.stop", &gc->stopping, 1);
	while (ATOMIC_LOAD(rt, "world.stop.nmutators", &gc->nmutators) != 0) {
		SCHED_SPIN(rt, "world.stop.spin");
		osyield();
	}
	for (mcache *c = rt->heap.allmcache; c != NULL; c = c->allnext)
		while (ATOMIC_LOAD(rt, "world.stop.busy", &c->busy) != 0) {
			SCHED_SPIN(rt, "world.stop.spin");
			osyield();
		}
}

void world_start(struct gcrt_runtime *rt)
{
	ATOMIC_STORE(rt, "world.start", &rt->gc.stopping, 0);
}

/* Both stops: Ps first (proc's stoptheworld, under worldsema), then the
 * host API calls; self becomes the owner (gcrt_gc inside is ESTATE). */
static int stopworld(struct gcrt_runtime *rt, uint64_t self)
{
	int rc = gcrt_stoptheworld(rt);
	if (rc != GCRT_OK)
		return rc;
	world_stop(rt);
	ATOMIC_STORE(rt, "gc.owner.set", &rt->gc.owner, self);
	return GCRT_OK;
}

static int startworld(struct gcrt_runtime *rt)
{
	ATOMIC_STORE(rt, "gc.owner.clear", &rt->gc.owner, 0);
	world_start(rt);
	return gcrt_starttheworld(rt);
}

/* ---- helpers ---- */

/* A helper marks once per new helpgen: it clears its note, then checks
 * the generation, then sleeps, so a wakeup is never lost. */
static void helper_main(struct gcrt_runtime *rt, void *arg)
{
	gchelper *hp = arg;
	struct gcstate *gc = &rt->gc;
	uint32_t seen = 0;
	for (;;) {
		noteclear(&hp->park);
		if (ATOMIC_LOAD(rt, "gchelper.exit", &gc->helpexit))
			return;
		uint32_t gen = ATOMIC_LOAD(rt, "gchelper.gen", &gc->helpgen);
		if (gen == seen) {
			notesleep(rt, &hp->park);
			continue;
		}
		seen = gen;
		gchelper_run(rt, hp->id);
	}
}

/* nproc-1 helpers exist (fewer markers if threads cannot be started). */
static uint32_t gcprocs(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	uint32_t want = (uint32_t)rt->cfg.nprocs;
	if (want > MaxGcproc)
		want = MaxGcproc;
	while (gc->nhelpers + 1 < want) {
		gchelper *hp = &gc->helpers[gc->nhelpers];
		hp->id = gc->nhelpers + 1;
		if (rtthread_start(rt, &hp->t, helper_main, hp) != GCRT_OK)
			break;
		gc->nhelpers++;
	}
	return gc->nhelpers + 1 < want ? gc->nhelpers + 1 : want;
}

/* ---- pacing ---- */

static uint64_t trigger(struct gcrt_runtime *rt)
{
	uint64_t n = ATOMIC_LOAD(rt, "gc.next_gc", &rt->gc.next_gc);
	return n < rt->cfg.heap_minimum ? rt->cfg.heap_minimum : n;
}

void gcpace_alloc(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	if (ATOMIC_LOAD(rt, "gc.pace.live", &gc->heap_live) >= trigger(rt))
		ATOMIC_STORE(rt, "gc.pace.pending", &gc->pending, 1);
}

void gcpace_free(struct gcrt_runtime *rt, uint64_t bytes)
{
	struct gcstate *gc = &rt->gc;
	int32_t pct = ATOMIC_LOAD(rt, "gc.pace.percent", &gc->gcpercent);
	if (pct < 0)
		return;
	uint64_t d = bytes * (uint64_t)(pct + 100) / 100;
	uint64_t old = atomic_load(&gc->next_gc);
	while (!ATOMIC_CAS64(rt, "gc.pace.next_gc", &gc->next_gc, old, old > d ? old - d : 0))
		old = atomic_load(&gc->next_gc);
}

static int gogc(struct gcrt_runtime *rt, int force, int eager);

void gcpoll(struct gcrt_runtime *rt)
{
	if (gcdue(rt))
		gogc(rt, 0, 0);
}

/* ---- gctrace ---- */

typedef struct gctimes {
	int64_t t0, t1, t2, t3, t4;
} gctimes;

static void gctrace(struct gcrt_runtime *rt, const gctimes *t, uint32_t nproc, uint64_t heap0,
		    uint64_t heap1)
{
	struct gcstate *gc = &rt->gc;
	struct workdata *w = &rt->work;
	gcrt_stats st;
	LOCK(rt, &rt->heap.lock, "mheap.lock");
	stats_fill(rt, &st);
	UNLOCK(rt, &rt->heap.lock, "mheap.unlock");
	parfor *pf = w->markfor;
	fprintf(stderr,
		"gc%u(%u): %" PRId64 "+%" PRId64 "+%" PRId64 "+%" PRId64 " us, %" PRIu64 " -> %" PRIu64
		" MB, %" PRIu64 " (%" PRIu64 "-%" PRIu64 ") objects, %d goroutines, %u/%" PRIu64
		"/%" PRIu64 " sweeps, %" PRIu64 "(%" PRIu64 ") handoff, %" PRIu64 "(%" PRIu64
		") steal, %" PRIu64 "/%" PRIu64 "/%" PRIu64 " yields\n",
		st.numgc, nproc, (t->t1 - t->t0) / 1000, (t->t2 - t->t1) / 1000, (t->t3 - t->t2) / 1000,
		(t->t4 - t->t3) / 1000, heap0 >> 20, heap1 >> 20, st.nmalloc - st.nfree, st.nmalloc,
		st.nfree, 0, gc->nspan, atomic_exchange(&gc->nbgsweep, 0),
		atomic_exchange(&gc->npausesweep, 0), atomic_load(&w->nhandoff),
		atomic_load(&w->nhandoffcnt), atomic_load(&pf->nsteal), atomic_load(&pf->nstealcnt),
		atomic_load(&w->nprocyield) + atomic_load(&pf->nprocyield),
		atomic_load(&w->nosyield) + atomic_load(&pf->nosyield),
		atomic_load(&w->nsleep) + atomic_load(&pf->nsleep));
}

/* ---- the phase trace (Chrome trace event format, which Perfetto opens) ---- */

void gctrace_event(struct gcrt_runtime *rt, const char *name, uint32_t tid, int64_t t0, int64_t t1)
{
	struct gcstate *gc = &rt->gc;
	if (!(ATOMIC_LOAD(rt, "gc.trace.opts", &gc->opts) & GCOptTrace))
		return;
	LOCK(rt, &gc->tracelock, "gc.trace.lock");
	if (gc->trace == NULL)
		gc->trace = calloc(TraceEvents, sizeof *gc->trace);
	if (gc->trace != NULL)
		gc->trace[gc->ntrace++ % TraceEvents] =
		    (traceev){name, t0, t1 - t0, tid, atomic_load(&gc->numgc_atomic)};
	UNLOCK(rt, &gc->tracelock, "gc.trace.unlock");
}

GCRT_API int gcrt_gc_trace(gcrt_runtime *rt, char *buf, size_t cap, size_t *len)
{
	int rc = rt_check_args(rt, len == NULL || (buf == NULL && cap > 0));
	if (rc != GCRT_OK)
		return rc;
	struct gcstate *gc = &rt->gc;
	size_t n = 0;
#define EMIT(...)                                                                           \
	do {                                                                                 \
		int k_ = snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, __VA_ARGS__); \
		n += (size_t)(k_ > 0 ? k_ : 0);                                              \
	} while (0)
	EMIT("{\"traceEvents\":[");
	LOCK(rt, &gc->tracelock, "gc.trace.lock");
	uint64_t first = gc->ntrace > TraceEvents ? gc->ntrace - TraceEvents : 0;
	for (uint64_t i = first; gc->trace != NULL && i < gc->ntrace; i++) {
		const traceev *e = &gc->trace[i % TraceEvents];
		EMIT("%s{\"name\":\"%s\",\"cat\":\"gc\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,"
		     "\"pid\":1,\"tid\":%u,\"args\":{\"gc\":%u}}",
		     i > first ? "," : "", e->name, (double)e->ts / 1000.0, (double)e->dur / 1000.0,
		     e->tid, e->numgc);
	}
	UNLOCK(rt, &gc->tracelock, "gc.trace.unlock");
	EMIT("]}");
#undef EMIT
	*len = n;
	return n < cap ? GCRT_OK : GCRT_ERANGE;
}

/* ---- the cycle ---- */

static uint64_t unixnanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The Gs to scan, their gcworkdone cleared (allg only grows; a G added
 * later is a root of the next mark). */
static void snapshotallg(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->allglock, "sched.allglock");
	uint32_t n = 0;
	for (G *g = s->allg; g != NULL; g = g->alllink)
		n++;
	if (n > gc->allgscap) {
		G **a = realloc(gc->allgs, n * sizeof *a);
		if (a == NULL) {
			UNLOCK(rt, &s->allglock, "sched.allgunlock");
			throw(rt, "gc: out of memory for the goroutine snapshot");
		}
		gc->allgs = a;
		gc->allgscap = n;
	}
	n = 0;
	for (G *g = s->allg; g != NULL; g = g->alllink) {
		ATOMIC_STORE(rt, "gc.snapshot.workdone", &g->gcworkdone, 0);
		gc->allgs[n++] = g;
	}
	gc->nallgs = n;
	UNLOCK(rt, &s->allglock, "sched.allgunlock");
}

/* What a mark visits: the spans allocated so far (Go's work.spans) and
 * the Gs. */
static void snapshotroots(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	mheap *h = &rt->heap;
	LOCK(rt, &h->lock, "mheap.lock");
	gc->spans = h->allspans;
	gc->nspan = h->nspan;
	UNLOCK(rt, &h->lock, "mheap.unlock");
	snapshotallg(rt);
}

/* Every G of the snapshot had its phase work done (gcscan_m's check). */
static void checkworkdone(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	for (uint32_t i = 0; i < gc->nallgs; i++)
		if (!ATOMIC_LOAD(rt, "gc.check.workdone", &gc->allgs[i]->gcworkdone))
			throw(rt, "scan missed a g");
}

/* The seed's concurrent scan, world running (Go's gcscan_m): roots and
 * the stacks of goroutines that are not running are greyed one level
 * deep by this thread alone; running goroutines are skipped (the
 * stop-the-world mark rescans everything).  What is greyed stays marked
 * on work.partial/full for the mark to drain. */
static void gcscan_m(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	struct workdata *w = &rt->work;
	snapshotroots(rt);
	while (!ATOMIC_CAS32(rt, "gc.markfor.acquire", &w->markfor_busy, 0, 1))
		SCHED_SPIN(rt, "gc.markfor.wait");
	ATOMIC_STORE(rt, "gc.phase", &gc->phase, GCscan);
	workbegin(rt, 1);
	w->markfor->seed = (uint64_t)w->tstart | 1;
	parforsetup(w->markfor, 1, RootCount + gc->nallgs, NULL, false, markroot);
	parfordo(w->markfor);
	checkworkdone(rt);
	ATOMIC_STORE(rt, "gc.phase", &gc->phase, GCoff);
	ATOMIC_STORE(rt, "gc.markfor.release", &w->markfor_busy, 0);
}

/* The world is stopped and every span swept: mark, then hand over to the
 * sweepers.  Returns the markers used. */
static uint32_t gc_m(struct gcrt_runtime *rt, gctimes *t, uint64_t *heap0, uint64_t *heap1)
{
	struct gcstate *gc = &rt->gc;
	snapshotroots(rt);
	uint32_t nproc = gcprocs(rt);
	ATOMIC_STORE(rt, "gc.phase", &gc->phase, GCmark);
	t->t2 = nanotime();
	gcmark(rt, nproc);
	t->t3 = nanotime();
	gctrace_event(rt, "mark", 0, t->t2, nanotime());
	if (ATOMIC_LOAD(rt, "gc.opts", &gc->opts) & GCOptCheckmark) {
		ATOMIC_STORE(rt, "gc.phase", &gc->phase, GCmarktermination);
		checkmark(rt);
		gctrace_event(rt, "checkmark", 0, t->t3, nanotime());
	}
	ATOMIC_STORE(rt, "gc.phase", &gc->phase, GCoff);
	int32_t pct = atomic_load(&gc->gcpercent);
	uint64_t live = atomic_load(&gc->heap_live);
	*heap0 = pct < 0 ? 0 : atomic_load(&gc->next_gc) * 100 / (uint64_t)(pct + 100);
	*heap1 = live;
	ATOMIC_STORE(rt, "gc.next_gc", &gc->next_gc,
		     pct < 0 ? UINT64_MAX : live + live * (uint64_t)pct / 100);
	ATOMIC_STORE(rt, "gc.pending", &gc->pending, 0);
	return nproc;
}

/* Counts a finished mark with its stopped-world time so far (pause_ns
 * holds only time with the world stopped: the two STW windows, never the
 * concurrent scan between them). */
static void countgc(struct gcrt_runtime *rt, int64_t pause, uint32_t nproc)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &rt->heap.lock, "mheap.lock");
	gc->pause_ns[gc->numgc % 256] = (uint64_t)pause;
	gc->pause_total_ns += (uint64_t)pause;
	gc->last_gc = unixnanotime();
	gc->lastnproc = nproc;
	gc->numgc++;
	UNLOCK(rt, &rt->heap.lock, "mheap.unlock");
}

/* Adds the pause's tail (gctrace line, the new sweep generation) to the
 * last collection's entry. */
static void addpause(struct gcrt_runtime *rt, int64_t tail)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &rt->heap.lock, "mheap.lock");
	gc->pause_ns[(gc->numgc - 1) % 256] += (uint64_t)tail;
	gc->pause_total_ns += (uint64_t)tail;
	UNLOCK(rt, &rt->heap.lock, "mheap.unlock");
}

static int gogc(struct gcrt_runtime *rt, int force, int eager)
{
	struct gcstate *gc = &rt->gc;
	uint64_t self = (uint64_t)pthread_self();
	if (ATOMIC_LOAD(rt, "gc.owner", &gc->owner) == self)
		return GCRT_ESTATE;
	LOCK(rt, &gc->gclock, "gc.lock");
	if (!force && ATOMIC_LOAD(rt, "gc.heap_live", &gc->heap_live) < trigger(rt)) {
		ATOMIC_STORE(rt, "gc.pending", &gc->pending, 0);
		UNLOCK(rt, &gc->gclock, "gc.unlock");
		return GCRT_OK;
	}
	gctimes t;
	t.t0 = nanotime();
	atomic_store(&gc->numgc_atomic, gc->numgc + 1);
	int rc = stopworld(rt, self);
	if (rc != GCRT_OK) {
		UNLOCK(rt, &gc->gclock, "gc.unlock");
		return rc;
	}
	finishsweep_m(rt);
	int64_t tstw = nanotime();
	gctrace_event(rt, "stw: finish sweep", 0, t.t0, tstw);
	int64_t pause = tstw - t.t0;
	if (!(ATOMIC_LOAD(rt, "gc.opts", &gc->opts) & GCOptStw)) {
		rc = startworld(rt);
		int64_t tscan = nanotime();
		if (rc == GCRT_OK)
			gcscan_m(rt);
		tstw = nanotime();
		gctrace_event(rt, "concurrent scan", 0, tscan, tstw);
		if (rc == GCRT_OK)
			rc = stopworld(rt, self);
		if (rc != GCRT_OK) {
			UNLOCK(rt, &gc->gclock, "gc.unlock");
			return rc;
		}
	}
	t.t1 = nanotime();
	uint64_t heap0, heap1;
	uint32_t nproc = gc_m(rt, &t, &heap0, &heap1);
	t.t4 = nanotime();
	countgc(rt, pause + (t.t4 - tstw), nproc);
	if (ATOMIC_LOAD(rt, "gc.opts", &gc->opts) & GCOptGctrace)
		gctrace(rt, &t, nproc, heap0, heap1);
	sweepstart(rt, eager);
	int64_t tend = nanotime();
	addpause(rt, tend - t.t4);
	gctrace_event(rt, "stw: mark termination", 0, tstw, tend);
	rc = startworld(rt);
	int64_t tsweep = nanotime();
	if (eager && rc == GCRT_OK) {
		finishsweep_m(rt);
		gctrace_event(rt, "eager sweep", 0, tsweep, nanotime());
	}
	UNLOCK(rt, &gc->gclock, "gc.unlock");
	return rc;
}

/* ---- public entry points ---- */

int gcollect(struct gcrt_runtime *rt)
{
	return gogc(rt, 1, 1);
}

static int collect(gcrt_runtime *rt, int eager)
{
	RETURN_CHECKED_CAUGHT(rt, gogc(rt, 1, eager));
}

GCRT_API int gcrt_gc(gcrt_runtime *rt)
{
	return collect(rt, 1);
}

GCRT_API int gcrt_gc_options(gcrt_runtime *rt, uint32_t opts, uint32_t *old)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (opts & ~(uint32_t)(GCRT_GC_ENABLE | GCRT_GC_GCTRACE | GCRT_GC_CHECKMARK | GCRT_GC_STW |
			       GCRT_GC_TRACE | GCRT_GC_CLOBBERFREE))
		return GCRT_EINVAL;
	uint32_t prev = ATOMIC_XCHG(rt, "gc.opts.set", &rt->gc.opts, opts);
	if (old != NULL)
		*old = prev;
	return GCRT_OK;
}

GCRT_API int gcrt_gc_percent(gcrt_runtime *rt, int32_t percent, int32_t *old)
{
	int rc = rt_check_args(rt, percent < -1);
	if (rc != GCRT_OK)
		return rc;
	int32_t prev = ATOMIC_XCHG(rt, "gc.percent.set", &rt->gc.gcpercent, percent);
	if (old != NULL)
		*old = prev;
	return GCRT_OK;
}

GCRT_API int gcrt_test_gc_cycle(gcrt_runtime *rt, int eager)
{
	return collect(rt, eager != 0);
}

GCRT_API int gcrt_test_gc_counts(gcrt_runtime *rt, gcrt_gc_counts *out)
{
	int rc = rt_check_args(rt, out == NULL);
	if (rc != GCRT_OK)
		return rc;
	struct gcstate *gc = &rt->gc;
	out->nsweeps = atomic_load(&gc->nsweeps);
	out->nbgsweep_total = atomic_load(&gc->nbgsweep_total);
	out->heap_live = atomic_load(&gc->heap_live);
	out->sweepgen = atomic_load(&rt->heap.sweepgen);
	out->sweepdone = atomic_load(&gc->sweepdone);
	out->phase = atomic_load(&gc->phase);
	out->nfinalizers_run = atomic_load(&gc->nfinalizers_run);
	LOCK(rt, &gc->rootlock, "gc.rootlock");
	out->npins = gc->npins;
	out->nroots = gc->nroots;
	UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
	return GCRT_OK;
}

GCRT_API int gcrt_test_gc_markhook(gcrt_runtime *rt, void (*fn)(gcrt_runtime *, void *), void *arg)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	LOCK(rt, &rt->gc.gclock, "gc.lock");
	rt->gc.markhook = fn;
	rt->gc.markhookarg = arg;
	UNLOCK(rt, &rt->gc.gclock, "gc.unlock");
	return GCRT_OK;
}

/* ---- lifecycle ---- */

/* Whether PYGCRT_DEBUG (a comma-separated list, Go's GODEBUG form)
 * sets name=N with N > 0. */
static int envdebug(const char *name)
{
	const char *d = getenv("PYGCRT_DEBUG");
	size_t n = strlen(name);
	for (const char *p = d; p != NULL && *p != '\0'; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return atoi(p + n + 1) > 0;
	return 0;
}

void gcinit(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	lock_init(&gc->gclock);
	lock_init(&gc->rootlock);
	lock_init(&gc->finlock);
	lock_init(&gc->sweeplock);
	lock_init(&gc->tracelock);
	note_init(&gc->finnote);
	note_init(&gc->bgnote);
	for (int i = 0; i < MaxGcproc; i++)
		note_init(&gc->helpers[i].park);
	atomic_store(&gc->sweepdone, 1);
	atomic_store(&gc->gcpercent, rt->cfg.gogc);
	atomic_store(&gc->next_gc, rt->cfg.heap_minimum);
	atomic_store(&gc->opts, (envdebug("gctrace") ? GCOptGctrace : 0) |
					(envdebug("clobberfree") ? GCOptClobberfree : 0));
}

void gcfini(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	bgsweep_stop(rt);
	fing_stop(rt);
	atomic_store(&gc->helpexit, 1);
	for (uint32_t i = 0; i < gc->nhelpers; i++) {
		notewakeup(rt, &gc->helpers[i].park);
		rtthread_join(&gc->helpers[i].t);
	}
	for (uint32_t i = 0; i < gc->nroots; i++)
		free(gc->roots[i].mask);
	free(gc->roots);
	free(gc->pins);
	free(gc->allgs);
	free(gc->checkbits);
	free(gc->checkstack);
	for (int i = 0; i < MaxGcproc; i++)
		note_destroy(&gc->helpers[i].park);
	note_destroy(&gc->bgnote);
	note_destroy(&gc->finnote);
	lock_destroy(&gc->sweeplock);
	lock_destroy(&gc->tracelock);
	free(gc->trace);
	lock_destroy(&gc->finlock);
	lock_destroy(&gc->rootlock);
	lock_destroy(&gc->gclock);
}
