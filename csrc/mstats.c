/* mstats.c: the MemStats record, the heap's dump and its self-check.
 *
 * Counters live where they are cheapest to bump: small allocations in
 * each mcache's local_nsmallalloc (owner-only), large ones and page totals
 * in the heap under its lock, the counts of freed caches folded into
 * mheap.nsmallalloc.  gcrt_stats_read sums them under the heap lock (which
 * also keeps the list of caches stable), so with no allocation in flight
 * the record is exact.  Frees are counted by the sweepers (mgcsweep.c):
 * alloc = total_alloc - freed bytes; the pause ring, numgc and last_gc
 * are written by the collector under the heap lock.
 */
#include <string.h>

#include "runtime.h"

static void smallcounts(mheap *h, uint64_t n[NumSizeClasses])
{
	for (int i = 0; i < NumSizeClasses; i++)
		n[i] = h->nsmallalloc[i];
	for (mcache *c = h->allmcache; c != NULL; c = c->allnext)
		for (int i = 0; i < NumSizeClasses; i++)
			n[i] += atomic_load_explicit(&c->local_nsmallalloc[i], memory_order_relaxed);
}

void stats_fill(struct gcrt_runtime *rt, gcrt_stats *st)
{
	mheap *h = &rt->heap;
	struct gcstate *gc = &rt->gc;
	uint64_t n[NumSizeClasses], freed = 0;
	memset(st, 0, sizeof *st);
	smallcounts(h, n);
	for (int i = 0; i < NumSizeClasses; i++) {
		uint64_t nf = i == 0 ? 0 : atomic_load(&gc->nsmallfree[i]);
		st->by_size[i].size = (uint32_t)h->class_to_size[i];
		st->by_size[i].nmalloc = i == 0 ? 0 : n[i];
		st->by_size[i].nfree = nf;
		st->total_alloc += i == 0 ? 0 : n[i] * (uint64_t)h->class_to_size[i];
		st->nmalloc += i == 0 ? 0 : n[i];
		st->nfree += nf;
		freed += nf * (uint64_t)h->class_to_size[i];
	}
	st->total_alloc += h->largealloc;
	st->nmalloc += h->nlargealloc;
	st->nfree += atomic_load(&gc->nlargefree);
	freed += atomic_load(&gc->largefree);
	st->alloc = st->total_alloc - freed;
	st->heap_alloc = st->alloc;
	st->heap_objects = st->nmalloc - st->nfree;
	st->heap_sys = atomic_load(&h->arena_used) - h->arena_start;
	st->heap_inuse = h->pages_inuse << PageShift;
	st->stacks_inuse = h->pages_stack << PageShift;
	st->heap_idle = st->heap_sys - st->heap_inuse - st->stacks_inuse;
	st->heap_released = 0;
	st->mspan_inuse = atomic_load(&h->mspan_sys);
	st->mcache_inuse = atomic_load(&h->mcache_sys);
	st->gc_sys = h->bitmap_mapped + atomic_load(&rt->work.sys);
	LOCK(rt, &rt->pers.lock, "persistentalloc.lock");
	uint64_t pers = rt->pers.sys;
	UNLOCK(rt, &rt->pers.lock, "persistentalloc.unlock");
	st->other_sys = h->spans_mapped + pers - st->mspan_inuse - st->mcache_inuse -
			atomic_load(&rt->work.sys);
	st->sys = st->heap_sys + h->bitmap_mapped + h->spans_mapped + pers;
	st->next_gc = atomic_load(&gc->gcpercent) < 0 ? UINT64_MAX : atomic_load(&gc->next_gc);
	st->last_gc = gc->last_gc;
	st->pause_total_ns = gc->pause_total_ns;
	memcpy(st->pause_ns, gc->pause_ns, sizeof st->pause_ns);
	st->numgc = gc->numgc;
}

static int statsread(struct gcrt_runtime *rt, gcrt_stats *out)
{
	LOCK(rt, &rt->heap.lock, "mheap.lock");
	stats_fill(rt, out);
	UNLOCK(rt, &rt->heap.lock, "mheap.unlock");
	return GCRT_OK;
}

GCRT_API int gcrt_stats_read(gcrt_runtime *rt, gcrt_stats *out)
{
	int rc = rt_check_args(rt, out == NULL);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(rt, statsread(rt, out));
}

static const char *spanstatename(uint8_t s)
{
	static const char *const names[] = {"MSpanInUse", "MSpanStack", "MSpanFree",
					    "MSpanListHead", "MSpanDead"};
	return s < nelem(names) ? names[s] : "MSpan?";
}

void mheap_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	mheap *h = &rt->heap;
	if (h->reserve == NULL)
		return;
	dumpf(d, "heap: arena=[%#lx,%#lx) used=%#lx sweepgen=%u nspan=%u types=%u\n",
	      (unsigned long)h->arena_start, (unsigned long)h->arena_end,
	      (unsigned long)atomic_load(&h->arena_used), atomic_load(&h->sweepgen), h->nspan,
	      atomic_load(&h->ntypes));
	dumpf(d, "  pages inuse=%llu stack=%llu large=%llu bytes in %llu objects\n",
	      (unsigned long long)h->pages_inuse, (unsigned long long)h->pages_stack,
	      (unsigned long long)h->largealloc, (unsigned long long)h->nlargealloc);
	for (int i = 1; i < NumSizeClasses; i++)
		if (h->central[i].nspans > 0)
			dumpf(d, "  central %d (size %d): %llu spans\n", i, h->class_to_size[i],
			      (unsigned long long)h->central[i].nspans);
	uint32_t shown = 0;
	for (uint32_t i = 0; i < h->nspan && shown < 32; i++) {
		mspan *s = h->allspans[i];
		if (s->state == MSpanDead)
			continue;
		shown++;
		dumpf(d, "  span %#lx npages=%lu %s class=%u elemsize=%lu ref=%u incache=%u\n",
		      (unsigned long)(s->start << PageShift), (unsigned long)s->npages,
		      spanstatename(s->state), s->sizeclass, (unsigned long)s->elemsize, s->ref,
		      s->incache);
	}
}

void mheap_checklocked(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	uintptr_t used = atomic_load(&h->arena_used);
	uintptr_t page = h->arena_start >> PageShift, prevfree = 0, inuse = 0, stack = 0;
	while (page < used >> PageShift) {
		mspan *s = atomic_load(&h->spans[page - (h->arena_start >> PageShift)]);
		if (s == NULL || s->start != page || s->npages == 0)
			throwf(rt, "heap check: span map broken at page %#lx", (unsigned long)page);
		for (uintptr_t i = 0; i < s->npages; i++)
			if ((s->state != MSpanFree || i == s->npages - 1) &&
			    atomic_load(&h->spans[page + i - (h->arena_start >> PageShift)]) != s)
				throw(rt, "heap check: span map disagrees inside a span");
		if (s->state == MSpanFree) {
			if (prevfree)
				throw(rt, "heap check: adjacent free spans not coalesced");
			mspan *l = s->npages < MaxMHeapList ? &h->free[s->npages] : &h->freelarge;
			mspan *t = l->next;
			while (t != l && t != s)
				t = t->next;
			if (t != s)
				throw(rt, "heap check: free span not on its list");
		} else if (s->state == MSpanInUse) {
			inuse += s->npages;
		} else if (s->state == MSpanStack) {
			stack += s->npages;
		} else {
			throwf(rt, "heap check: span in state %s in the arena",
			       spanstatename(s->state));
		}
		prevfree = s->state == MSpanFree;
		page += s->npages;
	}
	if (page != used >> PageShift)
		throw(rt, "heap check: spans overrun arena_used");
	if (inuse != h->pages_inuse || stack != h->pages_stack)
		throw(rt, "heap check: page counts disagree with the spans");
}
