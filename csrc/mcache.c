/* mcache.c: per-P caches (Go 1.4 mcache.c).
 *
 * An mcache holds, for each size class, the span it allocates from
 * (alloc[], or the shared empty dummy).  Its owner pops objects off the
 * cached span's freelist with no lock and no shared write; when the list
 * is empty, mcache_refill returns the span to its central and caches
 * another.  The local_* counters are written only by the owner (relaxed
 * single-writer stores) and are summed by gcrt_stats_read; freemcache
 * folds them into the heap's totals.
 */
#include "runtime.h"

mcache *allocmcache(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	mcache *c = persistentalloc(rt, sizeof *c, CacheLineSize, &h->mcache_sys);
	for (int i = 0; i < NumSizeClasses; i++)
		c->alloc[i] = &h->emptymspan;
	LOCK(rt, &h->lock, "mheap.lock");
	c->allnext = h->allmcache;
	h->allmcache = c;
	UNLOCK(rt, &h->lock, "mheap.unlock");
	return c;
}

void freemcache(struct gcrt_runtime *rt, mcache *c)
{
	mheap *h = &rt->heap;
	for (int i = 0; i < NumSizeClasses; i++) {
		if (c->alloc[i] != &h->emptymspan)
			mcentral_uncachespan(rt, &h->central[i], c->alloc[i]);
		c->alloc[i] = &h->emptymspan;
	}
	LOCK(rt, &h->lock, "mheap.lock");
	for (mcache **pp = &h->allmcache; *pp != NULL; pp = &(*pp)->allnext) {
		if (*pp == c) {
			*pp = c->allnext;
			break;
		}
	}
	for (int i = 0; i < NumSizeClasses; i++) {
		h->nsmallalloc[i] += atomic_load(&c->local_nsmallalloc[i]);
		atomic_store(&c->local_nsmallalloc[i], 0);
	}
	UNLOCK(rt, &h->lock, "mheap.unlock");
}

int mcache_refill(struct gcrt_runtime *rt, mcache *c, int32_t sizeclass)
{
	mheap *h = &rt->heap;
	mspan *s = c->alloc[sizeclass];
	if (s->freelist != NULL)
		throw(rt, "MCache_Refill: the span has free objects");
	if (s != &h->emptymspan)
		mcentral_uncachespan(rt, &h->central[sizeclass], s);
	c->alloc[sizeclass] = &h->emptymspan;
	s = mcentral_cachespan(rt, &h->central[sizeclass]);
	if (s == NULL)
		return GCRT_ENOMEM;
	c->alloc[sizeclass] = s;
	return GCRT_OK;
}
