/* malloc.c: allocation and object access (Go 1.4 mallocgc, per runtime).
 *
 * malloc_typed is mallocgc for one typed object.  Small objects (<=
 * MaxSmallSize, class precomputed in the type) pop the first free object
 * off the span the cache holds for the class: no lock, no shared write,
 * no throw catcher.  The object is zeroed (the whole slot if the span
 * needs zeroing, else just the freelist link), its slot's type index is
 * published with a release store, its heap-bitmap type nibbles are copied
 * from the type (pointerful types only: markspan left boundary+Dead,
 * which is a noscan object), and the cache's local counter is bumped.
 * When the span is exhausted, the slow path (with a catcher) refills from
 * the central.  Large objects get a span of their own from the heap.
 *
 * objectof maps any pointer into an allocated object of this runtime to
 * that object: span lookup, slot from the offset, slot's type index
 * nonzero, and the pointer inside the object's ceil(size/8) words.  It
 * holds the heap lock, so span fields it reads are stable.  It is the
 * check behind every handle the public API receives.
 */
#include <string.h>

#include "runtime.h"

static int refill_slow(struct gcrt_runtime *rt, mcache *c, int32_t sizeclass)
{
	throwcatch tc;
	if (CATCH(rt, &tc))
		return GCRT_EFAILED;
	int rc = mcache_refill(rt, c, sizeclass);
	uncatch(&tc);
	return rc;
}

static int largealloc(struct gcrt_runtime *rt, const typeinfo *ti, uint16_t idx, void **out)
{
	throwcatch tc;
	if (CATCH(rt, &tc))
		return GCRT_EFAILED;
	mspan *s = mheap_alloc(rt, ti->npages, 0, ti->size);
	if (s == NULL) {
		uncatch(&tc);
		return GCRT_ENOMEM;
	}
	void *v = spanbase(s);
	if (s->needzero)
		memset(v, 0, s->elemsize);
	markspan(rt, s);
	if (!ti->noscan)
		heapbits_settype(rt, v, ti, s->elemsize);
	SCHED_POINT(rt, "malloc.large.settype");
	atomic_store_explicit(&s->type1, idx, memory_order_release);
	(void)ATOMIC_XADD(rt, "malloc.large.heap_live", &rt->gc.heap_live, s->elemsize);
	gcpace_alloc(rt);
	uncatch(&tc);
	*out = v;
	return GCRT_OK;
}

int mallocgc(struct gcrt_runtime *rt, mcache *c, gcrt_type t, void **out)
{
	if (out == NULL)
		return GCRT_EINVAL;
	mheap *h = &rt->heap;
	const typeinfo *ti = typelookup(h, t, ATOMIC_LOAD(rt, "malloc.typeof.ntypes", &h->ntypes));
	if (ti == NULL)
		return GCRT_EBADTYPE;
	uint16_t idx = (uint16_t)t;
	int32_t cl = ti->sizeclass;
	if (cl == 0)
		return largealloc(rt, ti, idx, out);
	mspan *s = c->alloc[cl];
	mlink *v = s->freelist;
	if (__builtin_expect(v == NULL, 0)) {
		int rc = refill_slow(rt, c, cl);
		if (rc != GCRT_OK)
			return rc;
		gcpace_alloc(rt);
		s = c->alloc[cl];
		v = s->freelist;
	}
	s->freelist = v->next;
	s->ref++;
	if (s->needzero)
		memset(v, 0, s->elemsize);
	else
		v->next = NULL;
	uintptr_t slot = (((uintptr_t)v - (s->start << PageShift)) * s->divmul) >> 32;
	SCHED_POINT(rt, "malloc.settype");
	atomic_store_explicit(&s->types[slot], idx, memory_order_release);
	if (!ti->noscan)
		heapbits_settype(rt, v, ti, s->elemsize);
	SCHED_POINT(rt, "malloc.local.nsmallalloc");
	atomic_store_explicit(&c->local_nsmallalloc[cl],
			      atomic_load_explicit(&c->local_nsmallalloc[cl], memory_order_relaxed) + 1,
			      memory_order_relaxed);
	*out = v;
	return GCRT_OK;
}

int malloc_typed(struct gcrt_runtime *rt, mcache *c, gcrt_type t, void **out)
{
	cache_enter(rt, c);
	int rc = mallocgc(rt, c, t, out);
	cache_exit(c);
	return rc;
}

int objectof(struct gcrt_runtime *rt, const void *p, void **base, mspan **sp, uintptr_t *slotp)
{
	mheap *h = &rt->heap;
	int rc = GCRT_EBADOBJ;
	LOCK(rt, &h->lock, "mheap.objectof.lock");
	mspan *s = spanof(rt, p);
	if (s != NULL && s->state == MSpanInUse && (uintptr_t)p < s->limit) {
		uintptr_t off = (uintptr_t)p - (s->start << PageShift);
		uintptr_t slot = s->sizeclass == 0 ? 0 : (off * s->divmul) >> 32;
		uint16_t idx = atomic_load_explicit(&s->types[slot], memory_order_acquire);
		uintptr_t b = (s->start << PageShift) + slot * s->elemsize;
		if (idx != 0 && idx <= atomic_load(&h->ntypes) &&
		    (uintptr_t)p < b + h->types[idx - 1].nwords * PtrSize) {
			*base = (void *)b;
			*sp = s;
			*slotp = slot;
			rc = GCRT_OK;
		}
	}
	UNLOCK(rt, &h->lock, "mheap.objectof.unlock");
	return rc;
}

/* obj must be the base of an allocated object of rt: its type. */
static int objcheck(struct gcrt_runtime *rt, void *obj, const typeinfo **tip)
{
	void *base;
	mspan *s;
	uintptr_t slot;
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (objectof(rt, obj, &base, &s, &slot) != GCRT_OK || base != obj)
		return GCRT_EBADOBJ;
	uint16_t idx = atomic_load_explicit(&s->types[slot], memory_order_acquire);
	*tip = &rt->heap.types[idx - 1];
	return GCRT_OK;
}

static int isptrword(const typeinfo *ti, size_t i)
{
	return i < ti->nmaskwords && ((ti->ptrmask[i / 8] >> (i % 8)) & 1);
}

/* The word i of an object of type ti, checked for range and kind. */
static int fieldcheck(struct gcrt_runtime *rt, void *obj, size_t i, int wantptr, int strict)
{
	const typeinfo *ti;
	int rc = objcheck(rt, obj, &ti);
	if (rc != GCRT_OK)
		return rc;
	if (i >= ti->nwords)
		return GCRT_ERANGE;
	if (strict && isptrword(ti, i) != wantptr)
		return GCRT_EKIND;
	return GCRT_OK;
}

GCRT_API int gcrt_alloc(gcrt_runtime *rt, gcrt_type t, void **out)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	mheap *h = &rt->heap;
	throwcatch tc;
	if (CATCH(rt, &tc))
		return GCRT_EFAILED;
	gcpoll(rt);
	LOCK(rt, &h->extlock, "mheap.extlock");
	rc = malloc_typed(rt, h->extcache, t, out);
	UNLOCK(rt, &h->extlock, "mheap.extunlock");
	uncatch(&tc);
	return rc;
}

GCRT_API int gcrt_object_of(gcrt_runtime *rt, const void *p, void **base, gcrt_type *t,
			    size_t *size)
{
	void *b;
	mspan *s;
	uintptr_t slot;
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (objectof(rt, p, &b, &s, &slot) != GCRT_OK)
		return GCRT_EBADOBJ;
	uint16_t idx = atomic_load_explicit(&s->types[slot], memory_order_acquire);
	if (base != NULL)
		*base = b;
	if (t != NULL)
		*t = type_handle(&rt->heap, idx);
	if (size != NULL)
		*size = rt->heap.types[idx - 1].size;
	return GCRT_OK;
}

GCRT_API int gcrt_read_word(gcrt_runtime *rt, void *obj, size_t i, uint64_t *out)
{
	int rc = fieldcheck(rt, obj, i, 0, 0);
	if (rc != GCRT_OK)
		return rc;
	if (out == NULL)
		return GCRT_EINVAL;
	*out = ATOMIC_LOAD(rt, "malloc.read_word.load", (_Atomic uint64_t *)obj + i);
	return GCRT_OK;
}

GCRT_API int gcrt_write_word(gcrt_runtime *rt, void *obj, size_t i, uint64_t v)
{
	int rc = fieldcheck(rt, obj, i, 0, 1);
	if (rc != GCRT_OK)
		return rc;
	ATOMIC_STORE(rt, "malloc.write_word.store", (_Atomic uint64_t *)obj + i, v);
	return GCRT_OK;
}

GCRT_API int gcrt_read_ptr(gcrt_runtime *rt, void *obj, size_t i, void **out)
{
	int rc = fieldcheck(rt, obj, i, 1, 1);
	if (rc != GCRT_OK)
		return rc;
	if (out == NULL)
		return GCRT_EINVAL;
	*out = ATOMIC_LOAD(rt, "malloc.read_ptr.load", (void *_Atomic *)obj + i);
	return GCRT_OK;
}

GCRT_API int gcrt_write_ptr(gcrt_runtime *rt, void *obj, size_t i, void *p)
{
	int rc = fieldcheck(rt, obj, i, 1, 1);
	if (rc != GCRT_OK)
		return rc;
	void *b;
	mspan *s;
	uintptr_t slot;
	if (p != NULL && objectof(rt, p, &b, &s, &slot) != GCRT_OK)
		return GCRT_EBADOBJ;
	throwcatch tc;
	if (CATCH(rt, &tc))
		return GCRT_EFAILED;
	mutator_enter(rt);
	writebarrierptr(rt, (void *_Atomic *)obj + i, p);
	mutator_exit(rt);
	uncatch(&tc);
	return GCRT_OK;
}
