/* mheap.c: the page heap (Go 1.4 mheap.c), one per runtime.
 *
 * Address space: gcrt_new reserves, in one PROT_NONE mapping, the span map
 * (one mspan* per 8 KB arena page), the heap bitmap (4 bits per arena
 * word, growing down from arena_start, see mbitmap.c) and the arena.  As
 * arena_used grows, the used part of each is made readable and writable
 * with mprotect (Go's SysMap); gcrt_destroy unmaps the whole reservation.
 *
 * Spans: a run of pages has one mspan record (from a FixAlloc-like
 * recycler over persistentalloc; every record ever made is in allspans).
 * Every page of an in-use or stack span maps to it in the span map; a free
 * span is only sure of its first and last pages (enough for coalescing,
 * and it keeps splitting a big free span O(1)); other entries may be
 * stale, which spanof detects by the record's range and state.
 * Free spans sit in free[npages] (below MaxMHeapList pages) or freelarge;
 * allocation takes the first span of the smallest fitting list, or the
 * best fit (fewest pages, then lowest address) from freelarge, splitting
 * off the rest.  Freeing coalesces with free neighbours, so two free spans
 * are never adjacent.  When nothing fits, the arena grows by at least
 * HeapAllocChunk (or exactly what is needed near the end of the arena).
 *
 * Invariants (checked by gcrt_test_heap_check): spans tile
 * [arena_start, arena_used) without gaps or overlaps; the map agrees; no
 * two free spans are adjacent; every free span is on the list its size
 * names; in-use spans carry the heap's sweepgen when handed out.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime.h"

void spanlist_init(mspan *l)
{
	memset(l, 0, sizeof *l);
	l->next = l->prev = l;
	l->state = MSpanListHead;
}

static int spanlist_empty(const mspan *l)
{
	return l->next == l;
}

void spanlist_remove(mspan *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

void spanlist_insert(mspan *l, mspan *s)
{
	s->next = l->next;
	s->prev = l;
	l->next->prev = s;
	l->next = s;
}

void *spanbase(const mspan *s)
{
	return (void *)(s->start << PageShift);
}

static uintptr_t pageindex(const mheap *h, uintptr_t page)
{
	return page - (h->arena_start >> PageShift);
}

/* Point every page of s at s in the span map.  Readers load entries with
 * ATOMIC_LOAD; one point covers the run of relaxed stores. */
static void setspans(struct gcrt_runtime *rt, mspan *s)
{
	mheap *h = &rt->heap;
	uintptr_t i = pageindex(h, s->start);
	SCHED_POINT(rt, "mheap.setspans.store");
	for (uintptr_t n = 0; n < s->npages; n++)
		atomic_store_explicit(&h->spans[i + n], s, memory_order_relaxed);
}

/* A free span: only its first and last pages. */
static void setspanends(struct gcrt_runtime *rt, mspan *s)
{
	mheap *h = &rt->heap;
	uintptr_t i = pageindex(h, s->start);
	SCHED_POINT(rt, "mheap.setspans.store");
	atomic_store_explicit(&h->spans[i], s, memory_order_relaxed);
	atomic_store_explicit(&h->spans[i + s->npages - 1], s, memory_order_relaxed);
}

static void recordspan(struct gcrt_runtime *rt, mspan *s)
{
	mheap *h = &rt->heap;
	if (h->nspan == h->nspancap) {
		uint32_t cap = h->nspancap ? h->nspancap * 2 : 1024;
		mspan **a = persistentalloc(rt, cap * sizeof *a, 8, &h->mspan_sys);
		if (h->nspan > 0)
			memcpy(a, h->allspans, h->nspan * sizeof *a);
		/* The old array stays readable (persistent): a GC snapshot
		 * (gc.spans) may still iterate it. */
		h->allspans = a;
		h->nspancap = cap;
	}
	h->allspans[h->nspan++] = s;
}

static mspan *spanalloc(struct gcrt_runtime *rt, uintptr_t start, uintptr_t npages)
{
	mheap *h = &rt->heap;
	mspan *s = h->freespans;
	if (s != NULL) {
		h->freespans = s->next;
	} else {
		s = persistentalloc(rt, sizeof *s, CacheLineSize, &h->mspan_sys);
		lock_init(&s->speciallock);
		recordspan(rt, s);
	}
	s->next = s->prev = NULL;
	s->start = start;
	s->npages = npages;
	s->freelist = NULL;
	atomic_store(&s->sweepgen, atomic_load(&h->sweepgen));
	s->ref = 0;
	s->sizeclass = 0;
	s->incache = 0;
	s->state = MSpanDead;
	s->needzero = 0;
	s->elemsize = 0;
	s->nelems = 0;
	s->divmul = 0;
	s->unusedsince = 0;
	s->npreleased = 0;
	s->limit = 0;
	s->specials = NULL;
	s->types = NULL;
	s->typescap = 0;
	atomic_store(&s->type1, 0);
	return s;
}

static void spanfree(struct gcrt_runtime *rt, mspan *s)
{
	mheap *h = &rt->heap;
	s->state = MSpanDead;
	s->next = h->freespans;
	h->freespans = s;
}

static mspan *freelist_of(mheap *h, uintptr_t npages)
{
	return npages < MaxMHeapList ? &h->free[npages] : &h->freelarge;
}

/* Put s (not on any list) into the free lists, merging it with free
 * neighbours.  Stats are the caller's. */
static void freespanlocked(struct gcrt_runtime *rt, mspan *s)
{
	mheap *h = &rt->heap;
	spanwithdraw(rt, s);
	if (s->types != NULL && s->types != &s->type1)
		typesfree(rt, s->types, s->typescap);
	s->types = NULL;
	s->typescap = 0;
	s->state = MSpanFree;
	s->unusedsince = nanotime();
	uintptr_t used = pageindex(h, atomic_load(&h->arena_used) >> PageShift);
	uintptr_t p = pageindex(h, s->start);
	mspan *t;
	if (p > 0 && (t = atomic_load_explicit(&h->spans[p - 1], memory_order_relaxed)) != NULL &&
	    t != s && t->state == MSpanFree && t->start + t->npages == s->start) {
		s->start = t->start;
		s->npages += t->npages;
		s->needzero |= t->needzero;
		spanlist_remove(t);
		spanfree(rt, t);
	}
	p = pageindex(h, s->start) + s->npages;
	if (p < used && (t = atomic_load_explicit(&h->spans[p], memory_order_relaxed)) != NULL &&
	    t != s && t->state == MSpanFree && t->start == s->start + s->npages) {
		s->npages += t->npages;
		s->needzero |= t->needzero;
		spanlist_remove(t);
		spanfree(rt, t);
	}
	setspanends(rt, s);
	spanlist_insert(freelist_of(h, s->npages), s);
}

/* Make [old, new) of the arena, and the span map covering it, usable. */
static void sysmap(struct gcrt_runtime *rt, uintptr_t old, uintptr_t new_)
{
	mheap *h = &rt->heap;
	if (mprotect((void *)old, new_ - old, PROT_READ | PROT_WRITE) != 0)
		throw(rt, "runtime: cannot map pages in arena address space");
	size_t need = ROUND(((new_ - h->arena_start) >> PageShift) * sizeof(mspan *), 4096);
	if (need > h->spans_mapped) {
		if (mprotect((uint8_t *)h->spans + h->spans_mapped, need - h->spans_mapped,
			     PROT_READ | PROT_WRITE) != 0)
			throw(rt, "runtime: cannot map pages in arena address space");
		h->spans_mapped = need;
	}
	mheap_mapbits(rt, new_);
}

/* Grow the arena by at least npages; 0 when the arena is exhausted. */
static int mheap_grow(struct gcrt_runtime *rt, uintptr_t npages)
{
	mheap *h = &rt->heap;
	uintptr_t used = atomic_load(&h->arena_used);
	uintptr_t ask = ROUND(npages, (64 << 10) / PageSize) << PageShift;
	if (ask < HeapAllocChunk)
		ask = HeapAllocChunk;
	if (h->arena_end - used < ask) {
		ask = npages << PageShift;
		if (h->arena_end - used < ask)
			return 0;
	}
	sysmap(rt, used, used + ask);
	mspan *s = spanalloc(rt, used >> PageShift, ask >> PageShift);
	setspanends(rt, s);
	ATOMIC_STORE(rt, "mheap.grow.arena_used", &h->arena_used, used + ask);
	freespanlocked(rt, s);
	return 1;
}

static mspan *bestfit(mspan *list, uintptr_t npages)
{
	mspan *best = NULL;
	for (mspan *s = list->next; s != list; s = s->next) {
		if (s->npages < npages)
			continue;
		if (best == NULL || s->npages < best->npages ||
		    (s->npages == best->npages && s->start < best->start))
			best = s;
	}
	return best;
}

static mspan *findspan(mheap *h, uintptr_t npages)
{
	for (uintptr_t n = npages; n < MaxMHeapList; n++)
		if (!spanlist_empty(&h->free[n]))
			return h->free[n].next;
	return bestfit(&h->freelarge, npages);
}

/* Take npages from the free lists (growing the arena if needed) and
 * return them as a span not on any list, or NULL if the arena is full. */
static mspan *allocspanlocked(struct gcrt_runtime *rt, uintptr_t npages)
{
	mheap *h = &rt->heap;
	mspan *s = findspan(h, npages);
	if (s == NULL) {
		if (!mheap_grow(rt, npages))
			return NULL;
		s = findspan(h, npages);
		if (s == NULL)
			throw(rt, "MHeap_AllocLocked - MHeap_Grow failed");
	}
	if (s->state != MSpanFree)
		throw(rt, "MHeap_AllocLocked - MSpan not free");
	spanlist_remove(s);
	/* sweepgen first: sweepone claims only in-use spans, under this lock */
	atomic_store(&s->sweepgen, atomic_load(&h->sweepgen));
	s->state = MSpanInUse; /* so the split-off rest does not merge back */
	uintptr_t rest = s->npages - npages;
	s->npages = npages;
	setspans(rt, s); /* first, so the rest's left neighbour entry is exact */
	if (rest > 0) {
		mspan *t = spanalloc(rt, s->start + npages, rest);
		t->needzero = s->needzero;
		setspanends(rt, t);
		freespanlocked(rt, t);
	}
	s->unusedsince = 0;
	atomic_store(&s->sweepgen, atomic_load(&h->sweepgen));
	return s;
}

mspan *mheap_alloc(struct gcrt_runtime *rt, uintptr_t npages, int32_t sizeclass,
		   uintptr_t largesize)
{
	mheap *h = &rt->heap;
	if (!ATOMIC_LOAD(rt, "mheap.alloc.sweepdone", &rt->gc.sweepdone))
		mheap_reclaim(rt, npages);
	LOCK(rt, &h->lock, "mheap.lock");
	mspan *s = allocspanlocked(rt, npages);
	if (s != NULL) {
		uintptr_t base = s->start << PageShift;
		s->state = MSpanInUse;
		s->sizeclass = (uint8_t)sizeclass;
		if (sizeclass == 0) {
			s->elemsize = npages << PageShift;
			s->nelems = 1;
			s->ref = 1;
			s->limit = base + largesize;
			s->types = &s->type1;
			h->largealloc += s->elemsize;
			h->nlargealloc++;
			spanlist_insert(npages < MaxMHeapList ? &h->busy[npages] : &h->busylarge, s);
		} else {
			s->elemsize = (uintptr_t)h->class_to_size[sizeclass];
			s->nelems = (npages << PageShift) / s->elemsize;
			s->divmul = (uint32_t)(((1ull << 32) + s->elemsize - 1) / s->elemsize);
			s->limit = base + s->nelems * s->elemsize;
			s->types = typesalloc(rt, s->nelems, &s->typescap);
		}
		h->pages_inuse += npages;
		spanpublish(rt, s);
	}
	UNLOCK(rt, &h->lock, "mheap.unlock");
	return s;
}

void mheap_free(struct gcrt_runtime *rt, mspan *s)
{
	mheap *h = &rt->heap;
	LOCK(rt, &h->lock, "mheap.lock");
	if (s->state != MSpanInUse || s->incache)
		throw(rt, "MHeap_Free: bad span state");
	if (s->sizeclass == 0)
		spanlist_remove(s);
	h->pages_inuse -= s->npages;
	s->freelist = NULL;
	s->ref = 0;
	s->specials = NULL;
	freespanlocked(rt, s);
	UNLOCK(rt, &h->lock, "mheap.unlock");
}

mspan *mheap_allocstack(struct gcrt_runtime *rt, uintptr_t npages)
{
	mheap *h = &rt->heap;
	if (npages == 0)
		throw(rt, "MHeap_AllocStack: zero pages");
	LOCK(rt, &h->lock, "mheap.lock");
	mspan *s = allocspanlocked(rt, npages);
	if (s != NULL) {
		s->state = MSpanStack;
		s->ref = 0;
		s->elemsize = npages << PageShift;
		s->limit = (s->start + npages) << PageShift;
		h->pages_stack += npages;
	}
	UNLOCK(rt, &h->lock, "mheap.unlock");
	return s;
}

void mheap_freestack(struct gcrt_runtime *rt, mspan *s)
{
	mheap *h = &rt->heap;
	LOCK(rt, &h->lock, "mheap.lock");
	if (s == NULL || s->state != MSpanStack || s->ref != 0)
		throw(rt, "MHeap_FreeStack: bad span state");
	h->pages_stack -= s->npages;
	s->needzero = 1;
	freespanlocked(rt, s);
	UNLOCK(rt, &h->lock, "mheap.unlock");
}

mspan *spanof(struct gcrt_runtime *rt, const void *p)
{
	mheap *h = &rt->heap;
	uintptr_t a = (uintptr_t)p;
	if (a < h->arena_start || a >= ATOMIC_LOAD(rt, "mheap.spanof.arena_used", &h->arena_used))
		return NULL;
	mspan *s = ATOMIC_LOAD(rt, "mheap.spanof.load", &h->spans[pageindex(h, a >> PageShift)]);
	if (s == NULL || s->state == MSpanDead || (a >> PageShift) < s->start ||
	    (a >> PageShift) >= s->start + s->npages)
		return NULL;
	return s;
}

/* Reserve [span map | bitmap | arena] at cfg.arena_hint (the arena's
 * start) or anywhere. */
static int reserve(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	size_t arena = ROUND(rt->cfg.arena_size, 64 << 10);
	size_t spans = ROUND((arena >> PageShift) * sizeof(mspan *), 64 << 10);
	size_t bitmap = ROUND(arena / (PtrSize * wordsPerBitmapByte), 64 << 10);
	size_t prefix = spans + bitmap;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	uintptr_t arena_start;
	void *p;
	if (rt->cfg.arena_hint != 0) {
		uintptr_t want = rt->cfg.arena_hint - prefix;
		if (rt->cfg.arena_hint < prefix || rt->cfg.arena_hint + arena < rt->cfg.arena_hint)
			return GCRT_EINVAL;
		p = mmap((void *)want, prefix + arena, PROT_NONE, flags | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return errno == EEXIST || errno == ENOMEM ? GCRT_ENOMEM : GCRT_EINVAL;
		if ((uintptr_t)p != want) {
			munmap(p, prefix + arena);
			return GCRT_ENOMEM;
		}
		h->reserve_size = prefix + arena;
		arena_start = rt->cfg.arena_hint;
	} else {
		p = mmap(NULL, prefix + arena + (64 << 10), PROT_NONE, flags, -1, 0);
		if (p == MAP_FAILED)
			return GCRT_ENOMEM;
		h->reserve_size = prefix + arena + (64 << 10);
		arena_start = ROUND((uintptr_t)p + prefix, 64 << 10);
	}
	h->reserve = p;
	h->arena_start = arena_start;
	h->arena_end = arena_start + arena;
	atomic_store(&h->arena_used, arena_start);
	h->bitmap = (uint8_t *)arena_start;
	h->spans = (mspan *_Atomic *)(arena_start - bitmap - spans);
	return GCRT_OK;
}

int mallocinit(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	lock_init(&h->lock);
	lock_init(&h->extlock);
	lock_init(&h->typelock);
	for (int i = 0; i < MaxMHeapList; i++) {
		spanlist_init(&h->free[i]);
		spanlist_init(&h->busy[i]);
	}
	spanlist_init(&h->freelarge);
	spanlist_init(&h->busylarge);
	spanlist_init(&h->emptymspan);
	for (int i = 0; i < NumSizeClasses; i++)
		mcentral_init(&h->central[i], i);
	initsizes(rt);
	int rc = reserve(rt);
	if (rc != GCRT_OK)
		return rc;
	types_init(rt);
	h->extcache = allocmcache(rt);
	return GCRT_OK;
}

void mallocfini(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	for (uint32_t i = 0; i < h->nspan; i++)
		lock_destroy(&h->allspans[i]->speciallock);
	for (int i = 0; i < NumSizeClasses; i++)
		lock_destroy(&h->central[i].lock);
	if (h->reserve != NULL)
		munmap(h->reserve, h->reserve_size);
	h->reserve = NULL;
	lock_destroy(&h->typelock);
	lock_destroy(&h->extlock);
	lock_destroy(&h->lock);
}
