/* mcentral.c: central free lists (Go 1.4 mcentral.c), one per size class.
 *
 * A central keeps the spans of its class in two lists: nonempty (spans
 * with at least one free object that no cache holds) and empty (full
 * spans, and spans cached by an mcache).  A cache takes a span whole
 * (mcentral_cachespan: first of nonempty, else a new span carved from the
 * heap) and gives it back when it is full (mcentral_uncachespan).  While
 * a span is cached (incache) only its cache touches its freelist, which is
 * what makes the mcache fast path lock-free.
 *
 * Sweeping (mgcsweep.c): a span is swept before a cache takes it
 * (lazily here, or by another sweeper); swept spans go to the back of
 * their list, so a scan of empty stops at the first swept one.  The
 * central lock is not held while growing, so reclaiming sweeps may free
 * spans of this class.  Lock order: central lock, then heap lock.
 *
 * In controlled runs the fault site mcentral.cachespan.empty makes both
 * lists look empty, so the slow path (a fresh span from the heap) runs
 * where a schedule puts it (interleavings.md 4.9).
 */
#include <string.h>

#include "runtime.h"

static void clist_init(mspan *l)
{
	memset(l, 0, sizeof *l);
	l->next = l->prev = l;
	l->state = MSpanListHead;
}

static void clist_remove(mspan *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void clist_insertback(mspan *l, mspan *s)
{
	s->next = l;
	s->prev = l->prev;
	l->prev->next = s;
	l->prev = s;
}

void mcentral_init(mcentral *c, int32_t sizeclass)
{
	lock_init(&c->lock);
	c->sizeclass = sizeclass;
	clist_init(&c->nonempty);
	clist_init(&c->empty);
}

/* A fresh span for the class with its objects chained on the freelist
 * and their boundaries in the heap bitmap (MCentral_Grow). */
static mspan *mcentral_grow(struct gcrt_runtime *rt, mcentral *c)
{
	mheap *h = &rt->heap;
	uintptr_t npages = (uintptr_t)h->class_to_allocnpages[c->sizeclass];
	mspan *s = mheap_alloc(rt, npages, c->sizeclass, 0);
	if (s == NULL)
		return NULL;
	uint8_t *p = spanbase(s);
	mlink **tail = &s->freelist;
	for (uintptr_t i = 0; i < s->nelems; i++, p += s->elemsize) {
		mlink *v = (mlink *)p;
		*tail = v;
		tail = &v->next;
	}
	*tail = NULL;
	markspan(rt, s);
	return s;
}

/* Account a span's free slots as in use while a cache holds it. */
static void cachedbytes(struct gcrt_runtime *rt, mspan *s, int sign)
{
	uint64_t n = (uint64_t)(s->nelems - s->ref) * s->elemsize;
	(void)ATOMIC_XADD(rt, "mcentral.heap_live", &rt->gc.heap_live, sign > 0 ? n : -n);
}

/* A span with free objects for an mcache (MCentral_CacheSpan): a swept
 * span of nonempty, or one we sweep first (lazy sweep, with preserve so
 * its free list stays ours), or a span of empty whose sweep freed
 * something, else a new span. */
mspan *mcentral_cachespan(struct gcrt_runtime *rt, mcentral *c)
{
	mheap *h = &rt->heap;
	mspan *s;
	LOCK(rt, &c->lock, "mcentral.lock");
	uint32_t sg = ATOMIC_LOAD(rt, "mcentral.sweepgen", &h->sweepgen);
	if (SCHED_FAULT(rt, "mcentral.cachespan.empty"))
		goto grow;
retry:
	for (s = c->nonempty.next; s != &c->nonempty; s = s->next) {
		if (ATOMIC_CAS32(rt, "sweep.cas_sweepgen", &s->sweepgen, sg - 2, sg - 1)) {
			clist_remove(s);
			clist_insertback(&c->empty, s);
			UNLOCK(rt, &c->lock, "mcentral.unlock");
			mspan_sweep(rt, s, 1);
			goto havespan;
		}
		if (atomic_load(&s->sweepgen) != sg)
			continue; /* being swept by someone else */
		clist_remove(s);
		clist_insertback(&c->empty, s);
		UNLOCK(rt, &c->lock, "mcentral.unlock");
		goto havespan;
	}
	for (s = c->empty.next; s != &c->empty; s = s->next) {
		if (ATOMIC_CAS32(rt, "sweep.cas_sweepgen", &s->sweepgen, sg - 2, sg - 1)) {
			clist_remove(s);
			clist_insertback(&c->empty, s);
			UNLOCK(rt, &c->lock, "mcentral.unlock");
			mspan_sweep(rt, s, 1);
			if (s->freelist != NULL)
				goto havespan;
			LOCK(rt, &c->lock, "mcentral.lock");
			goto retry;
		}
		if (atomic_load(&s->sweepgen) == sg - 1)
			continue;
		break;
	}
grow:
	UNLOCK(rt, &c->lock, "mcentral.unlock");
	s = mcentral_grow(rt, c);
	if (s == NULL)
		return NULL;
	LOCK(rt, &c->lock, "mcentral.lock");
	clist_insertback(&c->empty, s);
	c->nspans++;
	SCHED_NOTE(rt, "mcentral.cachespan.grew", c->nspans);
	UNLOCK(rt, &c->lock, "mcentral.unlock");
havespan:
	if (s->freelist == NULL || s->ref >= s->nelems)
		throw(rt, "MCentral_CacheSpan: empty span");
	if (atomic_load(&s->sweepgen) != atomic_load(&h->sweepgen))
		throw(rt, "MCentral_CacheSpan: unswept span");
	LOCK(rt, &c->lock, "mcentral.lock");
	s->incache = 1;
	UNLOCK(rt, &c->lock, "mcentral.unlock");
	cachedbytes(rt, s, 1);
	return s;
}

void mcentral_uncachespan(struct gcrt_runtime *rt, mcentral *c, mspan *s)
{
	LOCK(rt, &c->lock, "mcentral.lock");
	if (!s->incache)
		throw(rt, "MCentral_UncacheSpan: span not in cache");
	s->incache = 0;
	if (s->freelist != NULL) {
		clist_remove(s);
		clist_insertback(&c->nonempty, s);
	}
	UNLOCK(rt, &c->lock, "mcentral.unlock");
	cachedbytes(rt, s, -1);
}

/* Give n freed objects [head..end] back to s (MCentral_FreeSpan) and
 * publish s as swept; an empty span goes back to the heap (returns 1). */
/* Give s, swept and now empty, back to the heap; called holding c's lock,
 * which it releases. */
static int releasespan(struct gcrt_runtime *rt, mcentral *c, mspan *s)
{
	clist_remove(s);
	s->freelist = NULL;
	UNLOCK(rt, &c->lock, "mcentral.unlock");
	s->needzero = 1;
	unmarkspan(rt, s);
	mheap_free(rt, s);
	return 1;
}

int mcentral_freespan(struct gcrt_runtime *rt, mcentral *c, mspan *s, uintptr_t n, mlink *head,
		      mlink *end, int preserve)
{
	mheap *h = &rt->heap;
	uint32_t sg = atomic_load(&h->sweepgen);
	if (s->incache)
		throw(rt, "freespan into cached span");
	int wasempty = s->freelist == NULL;
	end->next = s->freelist;
	s->freelist = head;
	if (n > s->ref)
		throw(rt, "MCentral_FreeSpan: freed more objects than allocated");
	s->ref = (uint16_t)(s->ref - n);
	LOCK(rt, &c->lock, "mcentral.lock");
	if (preserve) {
		int linked = s->next != NULL;
		UNLOCK(rt, &c->lock, "mcentral.unlock");
		if (!linked)
			throw(rt, "can't preserve unlinked span");
		ATOMIC_STORE(rt, "sweep.store_sweepgen", &s->sweepgen, sg);
		return 0;
	}
	if (wasempty) {
		clist_remove(s);
		clist_insertback(&c->nonempty, s);
	}
	ATOMIC_STORE(rt, "sweep.store_sweepgen", &s->sweepgen, sg);
	if (s->ref != 0) {
		UNLOCK(rt, &c->lock, "mcentral.unlock");
		return 0;
	}
	return releasespan(rt, c, s);
}

int mcentral_freeall(struct gcrt_runtime *rt, mcentral *c, mspan *s, uintptr_t n)
{
	if (s->incache)
		throw(rt, "freespan into cached span");
	if (n != s->ref)
		throw(rt, "MCentral_FreeSpan: freed more objects than allocated");
	s->ref = 0;
	LOCK(rt, &c->lock, "mcentral.lock");
	ATOMIC_STORE(rt, "sweep.store_sweepgen", &s->sweepgen, atomic_load(&rt->heap.sweepgen));
	return releasespan(rt, c, s);
}

static int capclass(uintptr_t n, uintptr_t *cap)
{
	int k = 0;
	while (((uintptr_t)1 << k) < n)
		k++;
	*cap = (uintptr_t)1 << k;
	return k;
}

_Atomic uint16_t *typesalloc(struct gcrt_runtime *rt, uintptr_t n, uintptr_t *cap)
{
	mheap *h = &rt->heap;
	int k = capclass(n, cap);
	if (k >= (int)nelem(h->freetypes))
		throw(rt, "typesalloc: too many objects in a span");
	void *p = h->freetypes[k];
	if (p != NULL) {
		h->freetypes[k] = *(void **)p;
		memset(p, 0, *cap * sizeof(uint16_t));
		return p;
	}
	uintptr_t bytes = *cap * sizeof(uint16_t);
	return persistentalloc(rt, bytes < sizeof(void *) ? sizeof(void *) : bytes, 8,
			       &h->types_sys);
}

void typesfree(struct gcrt_runtime *rt, _Atomic uint16_t *p, uintptr_t cap)
{
	mheap *h = &rt->heap;
	uintptr_t c;
	int k = capclass(cap, &c);
	*(void **)p = h->freetypes[k];
	h->freetypes[k] = (void *)p;
}
