/* mgcsweep.c: sweeping (Go 1.4 mgc0.c sweepone, MSpan_Sweep,
 * MSpan_EnsureSwept, bgsweep, finishsweep_m; mheap.c MHeap_Reclaim).
 *
 * The sweepgen protocol: mheap.sweepgen (h) grows by 2 after each mark.
 * A span at h-2 needs sweeping, at h-1 is being swept, at h is swept.  A
 * sweeper claims a span with CAS h-2 -> h-1 ("sweep.cas_sweepgen") and
 * publishes it with a store of h ("sweep.store_sweepgen") once the span is
 * consistent and relinked.  Spans made during the cycle start at h.
 * sweepone claims under the heap lock, where span states change, so it
 * never claims a record that is being reused for a new span.
 *
 * MSpan_Sweep: objects on the free list are marked first, so only
 * allocated, unmarked objects are freed.  An unmarked object with a
 * finalizer special has its finalizer queued and is marked instead: it
 * survives this cycle.  Freed small objects get type index 0, their
 * nibble reset to boundary+BitsDead, Go 1.4's 0xdeaddeaddeaddead marker
 * in their second word (with GCRT_GC_CLOBBERFREE: in every word but the
 * free-list link; malloc zeroes the slot because the span now needs
 * zeroing) and go to the span's free list through mcentral_freespan,
 * which returns an empty span to the heap.  A span that no cache waits
 * for and whose allocated objects all died is not chained at all
 * (sweepdead): a bitmap pass finds it, and it goes back to the heap
 * without a store into its objects (poisoned whole with clobberfree).  A
 * dead large object's span has its bits cleared and is freed (poisoned
 * with clobberfree).  Each span is swept at most once per cycle
 * (checked: sweptgen).
 *
 * Sweepers: the background sweeper thread (parks on a note when all is
 * swept), mcentral_cachespan (lazy, before caching a span), mheap_reclaim
 * (before mheap_alloc takes pages, while sweeping is not done), gcrt_gc's
 * eager sweep, and finishsweep_m at the start of the next collection.
 *
 * A sweep is not over when it publishes h: an emptied span is given back
 * to the heap after that (Go's order; MHeap_Free wants a swept span).  In
 * Go no stop-the-world falls in between, since sweepone cannot be
 * preempted (m->locks) and bgsweep is a goroutine.  Here every sweeper
 * but the background thread runs inside the world (it holds a P, a busy
 * cache or a mutator count), so the background sweeper counts itself as
 * a mutator for each span (bgsweepone): a collection's stop waits until
 * that span is wholly done.  Otherwise a collection could finish its
 * sweep, mark and start a generation while the span is still in use at
 * h, and the next generation would sweep it again ("MCentral_FreeSpan:
 * freed more objects than allocated", or a large span freed twice).
 */
#include <string.h>

#include "runtime.h"
#include "mutants.h"

#define POISON 0xdeaddeaddeaddeadull

/* A note value naming span s and its sweepgen relative to the heap's h:
 * page index (from arena_start) << 32 | h - s->sweepgen, read by stories
 * as "span#i sg=h-1". */
static uint64_t spannote(struct gcrt_runtime *rt, mspan *s, uint32_t h)
{
	uintptr_t page = s->start - (rt->heap.arena_start >> PageShift);
	return (uint64_t)page << 32 | (uint32_t)(h - atomic_load(&s->sweepgen));
}

/* Mutant M_SWEEP_DOUBLE: claim by load == h-2 then store h-1, so two
 * sweepers can both win the span. */
static int blindclaim(struct gcrt_runtime *rt, mspan *s, uint32_t sg)
{
	uint32_t seen = ATOMIC_LOAD(rt, "sweepgen.blind.load", &s->sweepgen);
	SCHED_NOTE(rt, "sweepgen.blind.saw", spannote(rt, s, sg));
	if (seen != sg - 2)
		return 0;
	ATOMIC_STORE(rt, "sweepgen.blind.store", &s->sweepgen, sg - 1);
	return 1;
}

/* Claim and sweep the next span of the snapshot: pages freed to the
 * heap, or (uintptr_t)-1 when none is left. */
uintptr_t sweepone(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	struct gcstate *gc = &rt->gc;
	for (;;) {
		LOCK(rt, &h->lock, "mheap.lock");
		uint32_t idx = atomic_load(&gc->spanidx);
		if (idx >= gc->nspan) {
			ATOMIC_STORE(rt, "sweep.sweepdone", &gc->sweepdone, 1);
			UNLOCK(rt, &h->lock, "mheap.unlock");
			return (uintptr_t)-1;
		}
		atomic_store(&gc->spanidx, idx + 1);
		mspan *s = gc->spans[idx];
		uint32_t sg = atomic_load(&h->sweepgen);
		int claimed = 0;
		if (s->state != MSpanInUse)
			ATOMIC_STORE(rt, "sweep.store_sweepgen", &s->sweepgen, sg);
		else if (MUTANT(rt, M_SWEEP_DOUBLE))
			claimed = blindclaim(rt, s, sg);
		else
			claimed = ATOMIC_CAS32(rt, "sweep.cas_sweepgen", &s->sweepgen, sg - 2, sg - 1);
		if (claimed)
			SCHED_NOTE(rt, "sweepgen.sweepone.claimed", spannote(rt, s, sg));
		uintptr_t npages = s->npages;
		UNLOCK(rt, &h->lock, "mheap.unlock");
		if (claimed)
			return mspan_sweep(rt, s, 0) ? npages : 0;
	}
}

static bool clobberfree(struct gcrt_runtime *rt)
{
	return atomic_load_explicit(&rt->gc.opts, memory_order_relaxed) & GCOptClobberfree;
}

/* Fill words [from, n/8) of [v, v+n) with POISON. */
static void poison(uintptr_t v, uintptr_t n, uintptr_t from)
{
	for (uintptr_t i = from; i < n / PtrSize; i++)
		((uint64_t *)v)[i] = POISON;
}

/* A freed small object of size bytes at p, whose first word will be its
 * free-list link: poisoned whole with clobberfree, else Go 1.4's marker
 * in its second word when it has more than two. */
static void poisonobject(uintptr_t p, uintptr_t size, bool clobber)
{
	if (clobber)
		poison(p, size, 1);
	else if (size > 2 * PtrSize)
		((uint64_t *)p)[1] = POISON;
}

static void freespecials(struct gcrt_runtime *rt, mspan *s)
{
	uintptr_t base = s->start << PageShift;
	LOCK(rt, &s->speciallock, "sweep.specials.lock");
	for (special **pp = &s->specials; *pp != NULL;) {
		special *sp = *pp;
		uintptr_t obj = base + sp->offset / s->elemsize * s->elemsize;
		if (ismarked(rt, (void *)obj)) {
			pp = &sp->next;
			continue;
		}
		*pp = sp->next;
		queuefinalizer(rt, (specialfinalizer *)sp, (void *)obj);
		setmarked(rt, (void *)obj);
	}
	UNLOCK(rt, &s->speciallock, "sweep.specials.unlock");
}

static int sweeplarge(struct gcrt_runtime *rt, mspan *s, uint32_t sg)
{
	struct gcstate *gc = &rt->gc;
	uintptr_t base = s->start << PageShift;
	if (ismarked(rt, (void *)base)) {
		clearmarked(rt, (void *)base);
		ATOMIC_STORE(rt, "sweep.store_sweepgen", &s->sweepgen, sg);
		return 0;
	}
	atomic_store_explicit(&s->type1, 0, memory_order_release);
	if (clobberfree(rt))
		poison(base, s->limit - base, 0);
	unmarkspan(rt, s);
	s->needzero = 1;
	(void)ATOMIC_XADD(rt, "sweep.largefree", &gc->largefree, s->elemsize);
	(void)ATOMIC_XADD(rt, "sweep.nlargefree", &gc->nlargefree, 1);
	(void)ATOMIC_XADD(rt, "sweep.heap_live", &gc->heap_live, -(uint64_t)s->elemsize);
	gcpace_free(rt, s->elemsize);
	ATOMIC_STORE(rt, "sweep.store_sweepgen", &s->sweepgen, sg);
	mheap_free(rt, s);
	return 1;
}

/* Whether small span s has allocated objects and the mark left all of
 * them unmarked: its free slots are marked by now, so no more slots are
 * marked than are free.  Stops at the first mark over that count, so a
 * span with survivors costs a few bitmap loads. */
static bool alldead(const mheap *h, const mspan *s)
{
	uintptr_t base = s->start << PageShift, nfree = s->nelems - s->ref, marked = 0;
	for (uintptr_t i = 0; i < s->nelems; i++) {
		uint32_t shift;
		const _Atomic uint8_t *bp =
			(const _Atomic uint8_t *)heapbits_byte(h, (void *)(base + i * s->elemsize), &shift);
		marked += (atomic_load_explicit(bp, memory_order_relaxed) >> shift) & bitMarked ? 1 : 0;
		if (marked > nfree)
			return false;
	}
	return s->ref != 0;
}

/* nfree small objects of s freed: the accounting of both sweeps below. */
static void countfreed(struct gcrt_runtime *rt, mspan *s, uintptr_t nfree)
{
	struct gcstate *gc = &rt->gc;
	s->needzero = 1;
	(void)ATOMIC_XADD(rt, "sweep.nsmallfree", &gc->nsmallfree[s->sizeclass], nfree);
	(void)ATOMIC_XADD(rt, "sweep.heap_live", &gc->heap_live, -(uint64_t)(nfree * s->elemsize));
	gcpace_free(rt, nfree * s->elemsize);
}

/* A small span none of whose nfree allocated objects survived, and which
 * no cache waits for: its slots cleared (its memory poisoned whole with
 * clobberfree) and given back to the heap, which is what chaining every
 * object on a free list and mcentral_freespan would come to, without a
 * store into each object. */
static int sweepdead(struct gcrt_runtime *rt, mspan *s, uintptr_t nfree)
{
	uintptr_t base = s->start << PageShift;
	for (uintptr_t i = 0; i < s->nelems; i++)
		atomic_store_explicit(&s->types[i], 0, memory_order_release);
	if (clobberfree(rt))
		poison(base, s->limit - base, 0);
	countfreed(rt, s, nfree);
	return mcentral_freeall(rt, &rt->heap.central[s->sizeclass], s, nfree);
}

int mspan_sweep(struct gcrt_runtime *rt, mspan *s, int preserve)
{
	mheap *h = &rt->heap;
	struct gcstate *gc = &rt->gc;
	uint32_t sg = atomic_load(&h->sweepgen);
	if (s->state != MSpanInUse || atomic_load(&s->sweepgen) != sg - 1)
		throwf(rt, "MSpan_Sweep: bad span state (state %u sweepgen %u heap %u)", s->state,
		       atomic_load(&s->sweepgen), sg);
	if (s->sweptgen == sg)
		throw(rt, "MSpan_Sweep: span swept twice in one cycle");
	s->sweptgen = sg;
	(void)ATOMIC_XADD(rt, "sweep.nsweeps", &gc->nsweeps, 1);
	for (mlink *x = s->freelist; x != NULL; x = x->next)
		setmarked(rt, x);
	if (s->specials != NULL)
		freespecials(rt, s);
	if (s->sizeclass == 0) {
		if (preserve)
			throw(rt, "can't preserve large span");
		return sweeplarge(rt, s, sg);
	}
	if (!preserve && alldead(h, s))
		return sweepdead(rt, s, s->ref);
	uintptr_t base = s->start << PageShift, size = s->elemsize;
	mlink *head = NULL, *end = NULL;
	uintptr_t nfree = 0;
	bool clobber = clobberfree(rt);
	for (uintptr_t i = 0; i < s->nelems; i++) {
		uintptr_t p = base + i * size;
		uint32_t shift;
		_Atomic uint8_t *bp = (_Atomic uint8_t *)heapbits_byte(h, (void *)p, &shift);
		uint8_t byte = atomic_load_explicit(bp, memory_order_relaxed);
		if ((byte >> shift) & bitMarked) {
			atomic_store_explicit(bp, (uint8_t)(byte & ~(bitMarked << shift)),
					      memory_order_relaxed);
			continue;
		}
		atomic_store_explicit(&s->types[i], 0, memory_order_release);
		uint8_t nib = bitBoundary | BitsDead << 2;
		atomic_store_explicit(bp, (uint8_t)((byte & ~(0xF << shift)) | nib << shift),
				      memory_order_relaxed);
		poisonobject(p, size, clobber);
		((mlink *)p)->next = NULL;
		if (end == NULL)
			head = (mlink *)p;
		else
			end->next = (mlink *)p;
		end = (mlink *)p;
		nfree++;
	}
	if (nfree == 0) {
		if (s->state != MSpanInUse || atomic_load(&s->sweepgen) != sg - 1)
			throw(rt, "MSpan_Sweep: bad span state after sweep");
		ATOMIC_STORE(rt, "sweep.store_sweepgen", &s->sweepgen, sg);
		return 0;
	}
	countfreed(rt, s, nfree);
	return mcentral_freespan(rt, &h->central[s->sizeclass], s, nfree, head, end, preserve);
}

/* EnsureSwept's claim of an unswept span (h-2 -> h-1).  A failed CAS,
 * spurious or lost to another sweeper, sends the caller back to re-read
 * the span's sweepgen: it waits only while someone really holds it (h-1). */
static bool ensureclaim(struct gcrt_runtime *rt, mspan *s, uint32_t sg)
{
	return MUTANT(rt, M_SWEEP_DOUBLE)
		       ? blindclaim(rt, s, sg)
		       : ATOMIC_CAS32(rt, "ensureswept.cas_sweepgen", &s->sweepgen, sg - 2, sg - 1);
}

/* Return only when s (in use) is swept. */
void mspan_ensureswept(struct gcrt_runtime *rt, mspan *s)
{
	uint32_t sg = ATOMIC_LOAD(rt, "ensureswept.load_heapgen", &rt->heap.sweepgen);
	for (;;) {
		uint32_t cur = ATOMIC_LOAD(rt, "ensureswept.load_sweepgen", &s->sweepgen);
		if (cur == sg)
			return;
		if (cur == sg - 2 && ensureclaim(rt, s, sg)) {
			SCHED_NOTE(rt, "sweepgen.ensureswept.claimed", spannote(rt, s, sg));
			mspan_sweep(rt, s, 0);
			return;
		}
		if (cur == sg - 1) {
			SCHED_SPIN(rt, "ensureswept.spin");
			osyield();
		} else if (cur != sg - 2) {
			throwf(rt, "MSpan_EnsureSwept: span sweepgen %u, heap %u", cur, sg);
		}
	}
}

/* Sweep everything left, then wait for spans other sweepers hold. */
void finishsweep_m(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	mheap *h = &rt->heap;
	while (sweepone(rt) != (uintptr_t)-1)
		(void)ATOMIC_XADD(rt, "sweep.npausesweep", &gc->npausesweep, 1);
	if (MUTANT(rt, M_FINISHSWEEP_NOWAIT))
		return;
	uint32_t sg = atomic_load(&h->sweepgen);
	LOCK(rt, &h->lock, "mheap.lock");
	for (uint32_t i = 0; i < gc->nspan; i++) {
		mspan *s = gc->spans[i];
		if (s->state != MSpanInUse || atomic_load(&s->sweepgen) == sg)
			continue;
		UNLOCK(rt, &h->lock, "mheap.unlock");
		SCHED_NOTE(rt, "sweepgen.finishsweep.wait", spannote(rt, s, sg));
		mspan_ensureswept(rt, s);
		LOCK(rt, &h->lock, "mheap.lock");
	}
	UNLOCK(rt, &h->lock, "mheap.unlock");
}

/* Sweep until npages pages went back to the heap or nothing is left. */
void mheap_reclaim(struct gcrt_runtime *rt, uintptr_t npages)
{
	uintptr_t got = 0;
	while (got < npages) {
		uintptr_t n = sweepone(rt);
		if (n == (uintptr_t)-1)
			return;
		got += n;
	}
}

/* One span of the background sweeper, inside the world: a stop waits
 * until it is wholly swept (see the top of the file). */
uintptr_t bgsweepone(struct gcrt_runtime *rt)
{
	if (MUTANT(rt, M_BGSWEEP_NOSTOP))
		return sweepone(rt);
	mutator_enter(rt);
	uintptr_t n = sweepone(rt);
	mutator_exit(rt);
	return n;
}

static void bgsweep(struct gcrt_runtime *rt, void *arg)
{
	struct gcstate *gc = &rt->gc;
	(void)arg;
	for (;;) {
		int64_t t0 = nanotime();
		while (!ATOMIC_LOAD(rt, "bgsweep.exit", &gc->bgexit) && bgsweepone(rt) != (uintptr_t)-1)
		{
			(void)ATOMIC_XADD(rt, "bgsweep.nbgsweep", &gc->nbgsweep, 1);
			(void)ATOMIC_XADD(rt, "bgsweep.nbgsweep", &gc->nbgsweep_total, 1);
		}
		LOCK(rt, &gc->sweeplock, "bgsweep.lock");
		if (atomic_load(&gc->bgexit)) {
			UNLOCK(rt, &gc->sweeplock, "bgsweep.unlock");
			return;
		}
		if (!ATOMIC_LOAD(rt, "bgsweep.sweepdone", &gc->sweepdone)) {
			UNLOCK(rt, &gc->sweeplock, "bgsweep.unlock");
			continue;
		}
		gctrace_event(rt, "background sweep", 100, t0, nanotime());
		noteclear(&gc->bgnote);
		gc->bgparked = 1;
		UNLOCK(rt, &gc->sweeplock, "bgsweep.unlock");
		notesleep(rt, &gc->bgnote);
	}
}

/* After a mark (world stopped): a new generation and a fresh snapshot. */
void sweepstart(struct gcrt_runtime *rt, int eager)
{
	mheap *h = &rt->heap;
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &h->lock, "mheap.lock");
	gc->spans = h->allspans;
	gc->nspan = h->nspan;
	atomic_store(&gc->spanidx, 0);
	ATOMIC_STORE(rt, "sweep.sweepdone", &gc->sweepdone, 0);
	ATOMIC_STORE(rt, "gc.sweepgen", &h->sweepgen, atomic_load(&h->sweepgen) + 2);
	UNLOCK(rt, &h->lock, "mheap.unlock");
	if (eager)
		return;
	LOCK(rt, &gc->sweeplock, "bgsweep.lock");
	if (!gc->bgstarted) {
		if (rtthread_start(rt, &gc->bgsweep, bgsweep, NULL) == GCRT_OK)
			gc->bgstarted = 1;
	} else if (gc->bgparked) {
		gc->bgparked = 0;
		notewakeup(rt, &gc->bgnote);
	}
	UNLOCK(rt, &gc->sweeplock, "bgsweep.unlock");
}

void bgsweep_stop(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &gc->sweeplock, "bgsweep.lock");
	ATOMIC_STORE(rt, "bgsweep.exit", &gc->bgexit, 1);
	int started = gc->bgstarted;
	if (gc->bgparked) {
		gc->bgparked = 0;
		notewakeup(rt, &gc->bgnote);
	}
	UNLOCK(rt, &gc->sweeplock, "bgsweep.unlock");
	if (started)
		rtthread_join(&gc->bgsweep);
}
