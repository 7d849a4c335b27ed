/* schedgc.c: controlled scenarios of the collector (mgcsweep.c,
 * mcentral.c), registered with SCHED_SCENARIO (schedctl.h).
 *
 *   sweep  Setup fills S spans of one small size class (every slot
 *          allocated), marks a fixed pattern of their objects (each span
 *          keeps at least one marked and one unmarked object, so no span
 *          goes back to the heap) and starts a sweep generation the way
 *          gc() does after a mark (sweepstart, eager: no background
 *          thread), so every in-use span is at h-2.  Then the sweepers
 *          race:
 *            M0  the background sweeper: sweepone until it returns -1;
 *            M1  the lazy sweep: mcentral_cachespan twice (each span it
 *                is handed must be swept; it gives it back), EnsureSwept
 *                on the first span, then finishsweep_m, after which every
 *                in-use span of the snapshot must be at h (mark would
 *                start next: "mark would start with span#i sg=h-1");
 *            M2  (three Ms) EnsureSwept on every span, last first.
 *          Oracles: sweepgen in {h-2, h-1, h} whenever an M looks; after
 *          the run every snapshot span is at h and was swept exactly once
 *          (the sweep count grew by the number of in-use spans), the
 *          marked objects are in use with their mark cleared, and each
 *          span's free list is exactly its unmarked objects, each once.
 *          Mutants "sweep_double" (M_SWEEP_DOUBLE: claims by load then
 *          store, so two sweepers sweep one span) and "finishsweep_nowait"
 *          (M_FINISHSWEEP_NOWAIT: finishsweep_m returns while a span is
 *          still being swept).
 *
 *   sweepstop  Setup fills S small spans (every slot allocated) and
 *          allocates L large objects, marks nothing and starts a sweep
 *          generation (eager), so every span is garbage at h-2.  Then:
 *            M0  the background sweeper: bgsweepone until it returns -1
 *                (it empties each span and gives it back to the heap,
 *                after publishing h);
 *            M1  the next collection: gclock, world_stop, finishsweep_m,
 *                (the mark would start here: every span of ours must be
 *                back in the heap, "mark would start with span#i (garbage)
 *                in use"), a new generation (sweepstart), world_start,
 *                then sweepone until -1 (an allocation's reclaim).
 *          Oracles: that check; each in-use span swept exactly once over
 *          both generations, none of ours in use, no page in use, the
 *          heap walk.  Mutant "bgsweep_nostop" (M_BGSWEEP_NOSTOP: the
 *          background sweeper sweeps outside the world, so the stop does
 *          not wait for the span between its store of h and its
 *          MHeap_Free; left alone, the next generation sweeps that span
 *          again: "MCentral_FreeSpan: freed more objects than allocated").
 *
 *   wbscan The concurrent mark of the roadmap (steps 5-6: the write
 *          barrier on while the collector greys and blackens with the
 *          world running), then the stopped world's mark termination.
 *          Heap: H, 2K pointer words (f[j] = O[2j], f[K+j] = nil), and 2K
 *          one-word noscan objects O (O[2j] and O[2j+1] share a bitmap
 *          byte); roots: R[0] = H, R[1+j] = O[2j+1].
 *            M0, M1  the markers (work.nproc = 2): markroot under parfor,
 *                    then drain through getfull (gchelper_run);
 *            M2      the mutator (last, so a marker that spins hands the
 *                    turn to the other marker first): it takes every O[2j+1] from R[1+j] and
 *                    clears the root (the pointers now live only in its
 *                    registers), waits until the mark is under way
 *                    (storetime: a marker waits in getfull, or H is
 *                    marked), then, a few steps of work apart, stores
 *                    each into H.f[K+j] through the write barrier, so the
 *                    pointer hides in a possibly black object (Dijkstra's
 *                    case).
 *          When all are done, M0 runs the mark termination (gcmark, one
 *          marker: roots again, then drain) and the checkmark.  Oracles:
 *          checkmark (every object reachable from the roots is marked),
 *          and the model: H and all 2K objects O are marked.  No sweep
 *          runs, so nothing is freed.  Mutants "wb_off" (M_WB_OFF: the
 *          barrier does not shade: O[2j+1] stays white in black H) and
 *          "markbit_nonatomic" (M_MARKBIT_NONATOMIC: a marker's plain
 *          mark-bit store undoes the barrier's mark of the neighbour).
 *
 *   markbits  Two markers grey neighbouring one-word noscan objects whose
 *          mark bits share a bitmap byte (O[2j] and O[2j+1]): M0 shades
 *          every O[2j], M1 every O[2j+1], with the write barrier's shade
 *          (greyobject with nproc 2: the atomic OR when the neighbour is
 *          an unmarked one-word object).  The last marker to finish checks
 *          every object it and the other greyed: all must be marked.
 *          Mutant "markbit_nonatomic" (M_MARKBIT_NONATOMIC): a marker's
 *          plain store of the byte it read, after the other marker set
 *          its bit in between, clears that bit (one preemption, at
 *          "greyobject.plain", whose value is the byte read).
 *
 * Parameters: sweep: p0 = spans S (default 3, at most MaxSpans), p1 = a
 * seed that shifts the marked pattern; sweepstop: p0 = S (default 1, at
 * most MaxSpans), p1 = L (0..MaxLarge); wbscan: p0 = K (default 2, at most
 * MaxWbPairs), p1 = the mutator's gate (storetime); markbits: p0 = pairs
 * (default 2, at most MaxWbPairs).  Values passed to points are span page
 * indices and relative sweepgens ("sweepgen." notes: page << 32 | h - sg)
 * or pair and object indices, never addresses.
 */
#include <stdio.h>
#include <string.h>

#include "schedctl.h"

enum {
	MaxSpans = 8,
	MaxObjs = 64 * MaxSpans,
	SweepObjSize = 1024,
	MaxLarge = 2,
	LargeObjSize = 40 << 10,
	MaxWbPairs = 8,
	WbWork = 2, /* mutator steps between two stores */
};

/* Each span in use when a sweep generation starts is swept exactly once:
 * the sweep count then, and the spans it must grow by. */
struct sweepcount {
	uint64_t nsweeps0;
	uint32_t ninuse;
};

static void sweepcount_start(struct gcrt_runtime *rt, struct sweepcount *c)
{
	c->nsweeps0 = atomic_load(&rt->gc.nsweeps);
	c->ninuse = 0;
	for (uint32_t i = 0; i < rt->gc.nspan; i++)
		c->ninuse += rt->gc.spans[i]->state == MSpanInUse;
}

static const char *sweepcount_check(struct gcrt_runtime *rt, const struct sweepcount *c,
				    char *buf, size_t n)
{
	uint64_t swept = atomic_load(&rt->gc.nsweeps) - c->nsweeps0;
	if (swept != c->ninuse)
		return checkfail(buf, n, "%llu sweeps for %u in-use spans (each must be swept once)",
				 (unsigned long long)swept, c->ninuse);
	return NULL;
}

struct sweepctx {
	int n, nspan, nobj, perspan;
	int32_t sizeclass;
	uint32_t h;                 /* the sweep generation under test */
	struct sweepcount count;
	mspan *spans[MaxSpans];
	uintptr_t objs[MaxObjs];    /* objects in span order */
	uint8_t marked[MaxObjs];
};

static uint64_t spanid(struct gcrt_runtime *rt, const mspan *s)
{
	return s->start - (rt->heap.arena_start >> PageShift);
}

/* sweepgen relative to h; a value outside {h-2, h-1, h} is a throw. */
static uint32_t relgen(struct gcrt_runtime *rt, struct sweepctx *x, mspan *s)
{
	uint32_t d = x->h - atomic_load(&s->sweepgen);
	if (d > 2)
		throwf(rt, "sweepgen of span#%llu is h-%u, outside {h-2, h-1, h}",
		       (unsigned long long)spanid(rt, s), d);
	return d;
}

static void look(struct gcrt_runtime *rt, struct sweepctx *x, mspan *s)
{
	uint32_t d = relgen(rt, x, s);
	SCHED_NOTE(rt, "sweepgen.scn.seen", spanid(rt, s) << 32 | d);
}

/* Allocate from c every slot of n fresh spans of t's (small) class:
 * spans[] in order, objs[] the objects in span order, *perspan the slots
 * of a span (at least 2, at most MaxObjs in all). */
static int fillspans(struct gcrt_runtime *rt, mcache *c, gcrt_type t, int n, mspan **spans,
		     uintptr_t *objs, int *perspan)
{
	*perspan = 0;
	for (int k = 0; *perspan == 0 || k < n * *perspan; k++) {
		void *v;
		int rc = mallocgc(rt, c, t, &v);
		if (rc != GCRT_OK)
			return rc;
		mspan *s = spanof(rt, v);
		if (k == 0) {
			*perspan = (int)s->nelems;
			if (n * *perspan > MaxObjs || *perspan < 2)
				return GCRT_ERANGE;
		}
		if (k % *perspan == 0)
			spans[k / *perspan] = s;
		else if (spans[k / *perspan] != s)
			return GCRT_ESTATE; /* a span started with a slot already taken */
		objs[k] = (uintptr_t)v;
	}
	return GCRT_OK;
}

static int sweepsetup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct sweepctx *x = vctx;
	x->n = p->n_ms;
	x->nspan = p->p[0] != 0 ? (int)p->p[0] : 3;
	if (x->nspan < 1 || x->nspan > MaxSpans)
		return GCRT_ERANGE;
	gcrt_type t;
	int rc = gcrt_type_new(rt, SweepObjSize, NULL, 0, &t);
	if (rc != GCRT_OK)
		return rc;
	mcache *c = allocmcache(rt);
	rc = fillspans(rt, c, t, x->nspan, x->spans, x->objs, &x->perspan);
	freemcache(rt, c);
	if (rc != GCRT_OK)
		return rc;
	x->sizeclass = x->spans[0]->sizeclass;
	x->nobj = x->nspan * x->perspan;
	int seed = (int)p->p[1];
	for (int k = 0; k < x->nobj; k++) {
		int i = k % x->perspan;
		x->marked[k] = i == 0 || (i != x->perspan - 1 && (k + seed) % 3 != 0);
		if (x->marked[k])
			setmarked(rt, (void *)x->objs[k]);
	}
	sweepstart(rt, 1);
	x->h = atomic_load(&rt->heap.sweepgen);
	sweepcount_start(rt, &x->count);
	return GCRT_OK;
}

static void lazysweep(struct gcrt_runtime *rt, struct sweepctx *x)
{
	mcentral *c = &rt->heap.central[x->sizeclass];
	for (int r = 0; r < 2; r++) {
		mspan *s = mcentral_cachespan(rt, c);
		if (s == NULL)
			throw(rt, "sweep scenario: cachespan found no span");
		look(rt, x, s);
		if (relgen(rt, x, s) != 0)
			throw(rt, "sweep scenario: cachespan handed out an unswept span");
		mcentral_uncachespan(rt, c, s);
	}
	mspan_ensureswept(rt, x->spans[0]);
	look(rt, x, x->spans[0]);
	finishsweep_m(rt);
	struct gcstate *gc = &rt->gc;
	for (uint32_t i = 0; i < gc->nspan; i++) {
		mspan *s = gc->spans[i];
		if (s->state != MSpanInUse)
			continue;
		uint32_t d = relgen(rt, x, s);
		if (d != 0)
			throwf(rt, "mark would start with span#%llu sg=h-%u",
			       (unsigned long long)spanid(rt, s), d);
	}
}

static void sweepbody(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct sweepctx *x = vctx;
	if (m == 0) {
		while (sweepone(rt) != (uintptr_t)-1)
			;
	} else if (m == 1) {
		lazysweep(rt, x);
	} else {
		for (int i = x->nspan - 1; i >= 0; i--) {
			mspan_ensureswept(rt, x->spans[i]);
			look(rt, x, x->spans[i]);
		}
	}
}

/* The free list of span j against the model: exactly its unmarked
 * objects, each once. */
static const char *checkspan(struct sweepctx *x, int j, char *buf, size_t n)
{
	mspan *s = x->spans[j];
	int seen[64] = {0}, len = 0;
	uintptr_t base = x->objs[j * x->perspan];
	for (mlink *l = s->freelist; l != NULL && len <= x->perspan; l = l->next, len++) {
		uintptr_t off = (uintptr_t)l - base;
		int i = (int)(off / SweepObjSize);
		if ((uintptr_t)l < base || i >= x->perspan || off % SweepObjSize != 0)
			return checkfail(buf, n, "span#%d: a foreign object on its free list", j);
		if (seen[i]++)
			return checkfail(buf, n, "span#%d: object %d twice on the free list", j, i);
		if (x->marked[j * x->perspan + i])
			return checkfail(buf, n, "span#%d: marked object %d was freed", j, i);
	}
	for (int i = 0; i < x->perspan; i++)
		if (!x->marked[j * x->perspan + i] && !seen[i])
			return checkfail(buf, n, "span#%d: unmarked object %d was not freed", j, i);
	return NULL;
}

static const char *sweepcheck(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	struct sweepctx *x = vctx;
	const char *bad = sweepcount_check(rt, &x->count, buf, n);
	if (bad != NULL)
		return bad;
	for (int j = 0; j < x->nspan; j++) {
		mspan *s = x->spans[j];
		if (s->state != MSpanInUse || atomic_load(&s->sweepgen) != x->h)
			return checkfail(buf, n,
					 "span#%d: state %u sweepgen h-%u after the sweep", j, s->state,
					 x->h - atomic_load(&s->sweepgen));
		const char *bad = checkspan(x, j, buf, n);
		if (bad != NULL)
			return bad;
	}
	for (int k = 0; k < x->nobj; k++)
		if (x->marked[k] && ismarked(rt, (void *)x->objs[k]))
			return checkfail(buf, n, "object %d kept its mark after the sweep", k);
	return NULL;
}

SCHED_SCENARIO_DEF(sweep, 2, 3, struct sweepctx,
		   SCENARIO_MUTANTS("sweep_double", "finishsweep_nowait"),
		   sweepsetup, sweepbody, sweepcheck, NULL,
		   "background, lazy and EnsureSwept sweepers race over spans at h-2 (params: spans, seed)");

/* ---- sweepstop ---- */

struct stopctx {
	int nsmall, nlarge;
	struct sweepcount count; /* its in-use spans are all garbage */
	mspan *spans[MaxSpans + MaxLarge];
	uintptr_t objs[MaxObjs];
};

static int stopsetup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct stopctx *x = vctx;
	x->nsmall = p->p[0] != 0 ? (int)p->p[0] : 1;
	x->nlarge = (int)p->p[1];
	if (x->nsmall < 1 || x->nsmall > MaxSpans || x->nlarge < 0 || x->nlarge > MaxLarge)
		return GCRT_ERANGE;
	gcrt_type small, large;
	int rc = gcrt_type_new(rt, SweepObjSize, NULL, 0, &small);
	if (rc == GCRT_OK)
		rc = gcrt_type_new(rt, LargeObjSize, NULL, 0, &large);
	if (rc != GCRT_OK)
		return rc;
	mcache *c = allocmcache(rt);
	int perspan;
	rc = fillspans(rt, c, small, x->nsmall, x->spans, x->objs, &perspan);
	for (int i = 0; rc == GCRT_OK && i < x->nlarge; i++) {
		void *v;
		rc = mallocgc(rt, c, large, &v);
		if (rc == GCRT_OK)
			x->spans[x->nsmall + i] = spanof(rt, v);
	}
	freemcache(rt, c);
	if (rc != GCRT_OK)
		return rc;
	sweepstart(rt, 1);
	sweepcount_start(rt, &x->count);
	return GCRT_OK;
}

/* Where the mark would start, every span is swept, so each of ours (all
 * garbage) is back in the heap: the first still in use (its sweeper has
 * published h but not yet freed it) and its sweepgen below h, or -1. */
static int garbageinuse(struct gcrt_runtime *rt, struct stopctx *x, uint32_t *d)
{
	mheap *h = &rt->heap;
	int bad = -1;
	LOCK(rt, &h->lock, "mheap.lock");
	for (int j = 0; bad < 0 && j < x->nsmall + x->nlarge; j++)
		if (x->spans[j]->state == MSpanInUse) {
			bad = j;
			*d = atomic_load(&h->sweepgen) - atomic_load(&x->spans[j]->sweepgen);
		}
	UNLOCK(rt, &h->lock, "mheap.unlock");
	return bad;
}

/* The next collection, nothing reachable: stop, finish the sweep, (an
 * empty mark), a new generation, start; then sweep that generation as
 * an allocation's reclaim would.  A failed check throws once gclock is
 * released. */
static void stopcollect(struct gcrt_runtime *rt, struct stopctx *x)
{
	struct gcstate *gc = &rt->gc;
	uint32_t d = 0;
	LOCK(rt, &gc->gclock, "gc.lock");
	world_stop(rt);
	finishsweep_m(rt);
	int bad = garbageinuse(rt, x, &d);
	if (bad < 0)
		sweepstart(rt, 1);
	world_start(rt);
	UNLOCK(rt, &gc->gclock, "gc.unlock");
	if (bad >= 0)
		throwf(rt, "mark would start with span#%d (garbage) in use at sg=h-%u", bad, d);
	while (sweepone(rt) != (uintptr_t)-1)
		;
}

static void stopbody(struct gcrt_runtime *rt, void *vctx, int m)
{
	if (m == 0) {
		while (bgsweepone(rt) != (uintptr_t)-1)
			;
	} else {
		stopcollect(rt, vctx);
	}
}

static const char *stopcheck(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	struct stopctx *x = vctx;
	const char *bad = sweepcount_check(rt, &x->count, buf, n);
	if (bad != NULL)
		return bad;
	for (int j = 0; j < x->nsmall + x->nlarge; j++)
		if (x->spans[j]->state == MSpanInUse)
			return checkfail(buf, n,
					 "span#%d (garbage) is still in use after two sweeps", j);
	LOCK(rt, &rt->heap.lock, "mheap.lock");
	mheap_checklocked(rt);
	uint64_t inuse = rt->heap.pages_inuse;
	UNLOCK(rt, &rt->heap.lock, "mheap.unlock");
	if (inuse != 0)
		return checkfail(buf, n, "%llu pages in use after every span was freed",
				 (unsigned long long)inuse);
	return NULL;
}

SCHED_SCENARIO_DEF(sweepstop, 2, 2, struct stopctx, SCENARIO_MUTANTS("bgsweep_nostop"),
		   stopsetup, stopbody, stopcheck, NULL,
		   "the background sweeper frees spans while a collection stops the world and sweeps the next generation (params: small spans, large objects)");

/* ---- wbscan ---- */

struct wbctx {
	int k, gate;
	uintptr_t *roots;            /* R: 1 + K words */
	void *_Atomic *h;            /* H: 2K pointer words */
	uintptr_t objs[2 * MaxWbPairs];
	_Atomic uint32_t done[3];
};

static int wbsetup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct wbctx *x = vctx;
	x->k = p->p[0] != 0 ? (int)p->p[0] : 2;
	x->gate = (int)p->p[1];
	if (x->k < 1 || x->k > MaxWbPairs || x->gate < 0 || x->gate > 1)
		return GCRT_ERANGE;
	if (p->n_ms != 3)
		return GCRT_ERANGE;
	uint8_t hmask[2 * MaxWbPairs / 8 + 1], rmask[(1 + MaxWbPairs) / 8 + 1];
	memset(hmask, 0xFF, sizeof hmask);
	memset(rmask, 0xFF, sizeof rmask);
	gcrt_type th, to;
	int rc = gcrt_type_new(rt, 2 * (size_t)x->k * PtrSize, hmask, 2 * (size_t)x->k, &th);
	if (rc == GCRT_OK)
		rc = gcrt_type_new(rt, PtrSize, NULL, 0, &to);
	if (rc != GCRT_OK)
		return rc;
	mcache *c = allocmcache(rt);
	void *v;
	rc = mallocgc(rt, c, th, &v);
	x->h = v;
	for (int i = 0; rc == GCRT_OK && i < 2 * x->k; i++) {
		rc = mallocgc(rt, c, to, &v);
		x->objs[i] = (uintptr_t)v;
		if (i % 2 == 1 && x->objs[i] != x->objs[i - 1] + PtrSize)
			rc = GCRT_ESTATE; /* a pair must share a bitmap byte */
	}
	freemcache(rt, c);
	if (rc != GCRT_OK)
		return rc;
	x->roots = persistentalloc(rt, (1 + (size_t)x->k) * PtrSize, 8, NULL);
	if (x->roots == NULL)
		return GCRT_ENOMEM;
	x->roots[0] = (uintptr_t)x->h;
	for (int j = 0; j < x->k; j++) {
		atomic_store(&x->h[j], (void *)x->objs[2 * j]);
		x->roots[1 + j] = x->objs[2 * j + 1];
	}
	rc = gcrt_root_add(rt, x->roots, (1 + (size_t)x->k) * PtrSize, rmask, 1 + (size_t)x->k);
	if (rc != GCRT_OK)
		return rc;
	struct workdata *w = &rt->work;
	workbegin(rt, 2);
	w->markfor->seed = 1;
	parforsetup(w->markfor, 2, RootCount + rt->gc.nallgs, NULL, false, markroot);
	atomic_store(&rt->gc.phase, GCmark);
	return GCRT_OK;
}

/* The mutator stores while the mark runs: gate 0, once a marker has
 * drained what it had and waits in getfull; gate 1, once the collector has
 * reached (marked) H; with either, when a marker is done. */
static int storetime(struct gcrt_runtime *rt, struct wbctx *x)
{
	if (atomic_load(&x->done[0]) || atomic_load(&x->done[1]))
		return 1;
	if (x->gate == 0)
		return ATOMIC_LOAD(rt, "wbscn.nwait", &rt->work.nwait) != 0;
	uint32_t shift;
	_Atomic uint8_t *bp = (_Atomic uint8_t *)heapbits_byte(&rt->heap, (void *)x->h, &shift);
	return (ATOMIC_LOAD(rt, "wbscn.hmark", bp) >> shift & bitMarked) != 0;
}

static void mutate(struct gcrt_runtime *rt, struct wbctx *x)
{
	_Atomic uintptr_t *r = (_Atomic uintptr_t *)x->roots;
	uintptr_t held[MaxWbPairs];
	for (int j = 0; j < x->k; j++) {
		held[j] = ATOMIC_LOAD(rt, "wbscn.root.load", &r[1 + j]);
		ATOMIC_STORE(rt, "wbscn.root.clear", &r[1 + j], 0);
	}
	while (!storetime(rt, x))
		SCHED_SPIN(rt, "wbscn.mutator.wait");
	for (int j = 0; j < x->k; j++) {
		for (int i = 0; i < WbWork; i++)
			SCHED_POINT(rt, "wbscn.work");
		SCHED_NOTE(rt, "wbscn.storing", j);
		writebarrierptr(rt, &x->h[x->k + j], (void *)held[j]);
	}
}

/* The stopped world's mark termination, then the checkmark. */
static void terminate(struct gcrt_runtime *rt, struct wbctx *x)
{
	while (!atomic_load(&x->done[1]) || !atomic_load(&x->done[2]))
		SCHED_SPIN(rt, "wbscn.world.stop");
	gcmark(rt, 1);
	atomic_store(&rt->gc.phase, GCoff);
	checkmark(rt);
}

static void wbbody(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct wbctx *x = vctx;
	if (m == 2)
		mutate(rt, x);
	else
		gchelper_run(rt, (uint32_t)m);
	atomic_store(&x->done[m], 1);
	if (m == 0)
		terminate(rt, x);
}

static const char *wbcheck(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	struct wbctx *x = vctx;
	if (!ismarked(rt, (void *)x->h))
		return checkfail(buf, n, "wbscan: H is unmarked after the mark");
	for (int i = 0; i < 2 * x->k; i++)
		if (!ismarked(rt, (void *)x->objs[i]))
			return checkfail(buf, n,
					 "wbscan: O[%d] (reachable) is unmarked after the mark", i);
	return NULL;
}

SCHED_SCENARIO_DEF(wbscan, 3, 3, struct wbctx, SCENARIO_MUTANTS("wb_off", "markbit_nonatomic"),
		   wbsetup, wbbody, wbcheck, NULL,
		   "two markers mark concurrently while a mutator moves pointers through the write barrier (params: K, gate)");

/* ---- markbits ---- */

struct mbctx {
	int k;
	uintptr_t objs[2 * MaxWbPairs]; /* O[2j] and O[2j+1] share a bitmap byte */
	_Atomic uint32_t done;
};

static int mbsetup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct mbctx *x = vctx;
	x->k = p->p[0] != 0 ? (int)p->p[0] : 2;
	if (x->k < 1 || x->k > MaxWbPairs)
		return GCRT_ERANGE;
	gcrt_type to;
	int rc = gcrt_type_new(rt, PtrSize, NULL, 0, &to);
	if (rc != GCRT_OK)
		return rc;
	mcache *c = allocmcache(rt);
	for (int i = 0; rc == GCRT_OK && i < 2 * x->k; i++) {
		void *v;
		rc = mallocgc(rt, c, to, &v);
		x->objs[i] = (uintptr_t)v;
		if (rc == GCRT_OK && i % 2 == 1 && x->objs[i] != x->objs[i - 1] + PtrSize)
			rc = GCRT_ESTATE; /* a pair must share a bitmap byte */
	}
	freemcache(rt, c);
	return rc;
}

/* Marker m greys O[2j+m] for every j (the write barrier's shade: the
 * parallel form of greyobject), then the last one to finish checks every
 * object against the list it greyed. */
static void mbbody(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct mbctx *x = vctx;
	for (int j = 0; j < x->k; j++) {
		SCHED_NOTE(rt, "mbscn.grey", (uint64_t)(2 * j + m));
		shade(rt, (void *)x->objs[2 * j + m]);
	}
	if (atomic_fetch_add(&x->done, 1) == 0)
		return;
	for (int i = 0; i < 2 * x->k; i++)
		if (!ismarked(rt, (void *)x->objs[i]))
			throwf(rt, "markbits: O[%d] (greyed by M%d) is unmarked", i, i % 2);
}

SCHED_SCENARIO_DEF(markbits, 2, 2, struct mbctx, SCENARIO_MUTANTS("markbit_nonatomic"),
		   mbsetup, mbbody, NULL, NULL,
		   "two markers grey neighbouring objects whose mark bits share a bitmap byte (params: pairs)");
