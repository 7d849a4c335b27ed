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
 * Sweeping is not implemented yet (there is no collector): every span
 * reachable here carries the heap's sweepgen, as Go requires of spans it
 * allocates from.  Lock order: central lock, then heap lock.
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
	c->nspans++;
	return s;
}

mspan *mcentral_cachespan(struct gcrt_runtime *rt, mcentral *c)
{
	LOCK(rt, &c->lock, "mcentral.lock");
	mspan *s = NULL;
	if (c->nonempty.next != &c->nonempty) {
		s = c->nonempty.next;
		clist_remove(s);
	} else {
		s = mcentral_grow(rt, c);
	}
	if (s != NULL) {
		if (s->freelist == NULL)
			throw(rt, "MCentral_CacheSpan: empty span");
		if (atomic_load(&s->sweepgen) != atomic_load(&rt->heap.sweepgen))
			throw(rt, "MCentral_CacheSpan: unswept span");
		clist_insertback(&c->empty, s);
		s->incache = 1;
	}
	UNLOCK(rt, &c->lock, "mcentral.unlock");
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
