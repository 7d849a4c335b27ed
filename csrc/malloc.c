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
 * nonzero, and the pointer inside the object's ceil(size/8) words.  It is
 * the check behind every handle the public API receives, so it takes no
 * lock (as Go's heap lookups): the span map entry is loaded atomically,
 * then the span's lookup record (base, limit, elemsize, nelems, divmul,
 * types), which mheap publishes under its lock once an object span is set
 * up and withdraws before the span is freed, is read under its seqlock
 * (lkseq odd while it changes; reread after the reads, which are acquire
 * loads pairing with the writer's release fence).  Span records and
 * types[] arrays are type-stable (persistentalloc, never unmapped while
 * the runtime lives), so a racy read of a stale record or array is memory
 * safe and is caught by the seqlock; a record seen changing sends the
 * lookup to the locked path.  The slot's type index is an acquire load
 * pairing with the allocator's release store, so a fresh object's type is
 * seen whole.  Sweep may clear a slot's index (release) while a host
 * validates a handle to it: such an object was unreachable, so that
 * handle was already dangling (a host bug, as in Go); handles to pinned
 * or reachable objects are never freed under the lookup, whose answer
 * for them is therefore exact.
 */
#include <string.h>

#include "runtime.h"

static int refill_slow(struct gcrt_runtime *rt, mcache *c, int32_t sizeclass)
{
	RETURN_CAUGHT(rt, mcache_refill(rt, c, sizeclass));
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
		heapbits_settype(&rt->heap, v, ti, s->elemsize);
	SCHED_POINT(rt, "malloc.large.settype");
	atomic_store_explicit(&s->type1, idx, memory_order_release);
	(void)ATOMIC_XADD(rt, "malloc.large.heap_live", &rt->gc.heap_live, s->elemsize);
	gcpace_alloc(rt);
	uncatch(&tc);
	*out = v;
	return GCRT_OK;
}

/* memset(v, 0, n), with the classes up to 64 bytes as 16-byte stores
 * (a call to memset costs more than zeroing 32 bytes). */
static inline void zeroobject(void *v, uintptr_t n)
{
	char *p = v;
	switch (n) {
	case 64:
		memset(p + 48, 0, 16);
		__attribute__((fallthrough));
	case 48:
		memset(p + 32, 0, 16);
		__attribute__((fallthrough));
	case 32:
		memset(p + 16, 0, 16);
		__attribute__((fallthrough));
	case 16:
		memset(p, 0, 16);
		break;
	default:
		memset(p, 0, n);
	}
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
		zeroobject(v, s->elemsize);
	else
		v->next = NULL;
	uintptr_t slot = (((uintptr_t)v - (s->start << PageShift)) * s->divmul) >> 32;
	SCHED_POINT(rt, "malloc.settype");
	atomic_store_explicit(&s->types[slot], idx, memory_order_release);
	if (!ti->noscan)
		heapbits_settype(&rt->heap, v, ti, s->elemsize);
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

void spanpublish(struct gcrt_runtime *rt, mspan *s)
{
	uint32_t seq = atomic_load_explicit(&s->lkseq, memory_order_relaxed);
	ATOMIC_STORE(rt, "mheap.publish.seq", &s->lkseq, seq + 1);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->lkbase, s->start << PageShift, memory_order_relaxed);
	atomic_store_explicit(&s->lkelemsize, s->elemsize, memory_order_relaxed);
	atomic_store_explicit(&s->lknelems, s->nelems, memory_order_relaxed);
	atomic_store_explicit(&s->lkdivmul, s->sizeclass == 0 ? 0 : s->divmul, memory_order_relaxed);
	atomic_store_explicit(&s->lktypes, s->types, memory_order_relaxed);
	atomic_store_explicit(&s->lklimit, s->limit, memory_order_relaxed);
	ATOMIC_STORE(rt, "mheap.publish.seqdone", &s->lkseq, seq + 2);
}

void spanwithdraw(struct gcrt_runtime *rt, mspan *s)
{
	uint32_t seq = atomic_load_explicit(&s->lkseq, memory_order_relaxed);
	if (atomic_load_explicit(&s->lklimit, memory_order_relaxed) == 0)
		return;
	ATOMIC_STORE(rt, "mheap.withdraw.seq", &s->lkseq, seq + 1);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->lklimit, 0, memory_order_relaxed);
	ATOMIC_STORE(rt, "mheap.withdraw.seqdone", &s->lkseq, seq + 2);
}

/* objectof under the heap lock (span fields stable): the lookup record
 * was seen changing. */
static __attribute__((noinline)) int objectof_locked(struct gcrt_runtime *rt, const void *p,
						     void **base, mspan **sp, uintptr_t *slotp,
						     uint16_t *idxp)
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
			*idxp = idx;
			rc = GCRT_OK;
		}
	}
	UNLOCK(rt, &h->lock, "mheap.objectof.unlock");
	return rc;
}

/* objectof, also giving the object's type index.  Inline: every checked
 * access runs it, most twice (a store checks the object and the value),
 * and the callers use only some of its results. */
static inline __attribute__((always_inline)) int lookup(struct gcrt_runtime *rt, const void *p,
							void **base, mspan **sp, uintptr_t *slotp,
							uint16_t *idxp)
{
	mheap *h = &rt->heap;
	uintptr_t a = (uintptr_t)p;
	if (a < h->arena_start || a >= ATOMIC_LOAD(rt, "mheap.objectof.arena_used", &h->arena_used))
		return GCRT_EBADOBJ;
	mspan *s = ATOMIC_LOAD(rt, "mheap.objectof.span", &h->spans[(a >> PageShift) - (h->arena_start >> PageShift)]);
	if (s == NULL)
		return GCRT_EBADOBJ;
	uint32_t seq = ATOMIC_LOAD(rt, "mheap.objectof.seq", &s->lkseq);
	/* acquire (plain loads on x86): the reread of the sequence cannot
	 * move above them, and one that reads a store made after the
	 * writer's release fence sees the odd sequence that preceded it */
	uintptr_t sbase = atomic_load_explicit(&s->lkbase, memory_order_acquire);
	uintptr_t limit = atomic_load_explicit(&s->lklimit, memory_order_acquire);
	uintptr_t elemsize = atomic_load_explicit(&s->lkelemsize, memory_order_acquire);
	uintptr_t nelems = atomic_load_explicit(&s->lknelems, memory_order_acquire);
	uint32_t divmul = atomic_load_explicit(&s->lkdivmul, memory_order_acquire);
	_Atomic uint16_t *types = atomic_load_explicit(&s->lktypes, memory_order_acquire);
	if ((seq & 1) != 0 || ATOMIC_LOAD(rt, "mheap.objectof.reseq", &s->lkseq) != seq)
		return objectof_locked(rt, p, base, sp, slotp, idxp);
	if (limit == 0 || a < sbase || a >= limit)
		return GCRT_EBADOBJ;
	uintptr_t slot = divmul == 0 ? 0 : ((a - sbase) * divmul) >> 32;
	if (slot >= nelems)
		return GCRT_EBADOBJ;
	uint16_t idx = atomic_load_explicit(&types[slot], memory_order_acquire);
	uintptr_t b = sbase + slot * elemsize;
	if (idx == 0 || idx > ATOMIC_LOAD(rt, "mheap.objectof.ntypes", &h->ntypes) ||
	    a >= b + h->types[idx - 1].nwords * PtrSize)
		return GCRT_EBADOBJ;
	*base = (void *)b;
	*sp = s;
	*slotp = slot;
	*idxp = idx;
	return GCRT_OK;
}

int objectof(struct gcrt_runtime *rt, const void *p, void **base, mspan **sp, uintptr_t *slotp)
{
	uint16_t idx;
	return lookup(rt, p, base, sp, slotp, &idx);
}

static int isptrword(const typeinfo *ti, size_t i)
{
	return i < ti->nmaskwords && ((ti->ptrmask[i / 8] >> (i % 8)) & 1);
}

/* The type of obj, which must be the base of an allocated object of rt
 * (a live runtime). */
static inline __attribute__((always_inline)) int objtype(struct gcrt_runtime *rt, void *obj,
							 const typeinfo **tip)
{
	void *base;
	mspan *s;
	uintptr_t slot;
	uint16_t idx;
	if (lookup(rt, obj, &base, &s, &slot, &idx) != GCRT_OK || base != obj)
		return GCRT_EBADOBJ;
	*tip = &rt->heap.types[idx - 1];
	return GCRT_OK;
}

/* Word i of an object of type ti, checked for range and kind. */
static int wordcheck(const typeinfo *ti, size_t i, int wantptr, int strict)
{
	if (i >= ti->nwords)
		return GCRT_ERANGE;
	if (strict && isptrword(ti, i) != wantptr)
		return GCRT_EKIND;
	return GCRT_OK;
}

/* Word i of obj, on a runtime passed in by the host. */
static int fieldcheck(struct gcrt_runtime *rt, void *obj, size_t i, int wantptr, int strict)
{
	const typeinfo *ti;
	int rc = rt_check(rt);
	if (rc == GCRT_OK)
		rc = objtype(rt, obj, &ti);
	return rc != GCRT_OK ? rc : wordcheck(ti, i, wantptr, strict);
}

/* gcrt_alloc's body: a host thread allocates from the shared mcache. */
static int extalloc(struct gcrt_runtime *rt, gcrt_type t, void **out)
{
	mheap *h = &rt->heap;
	gcpoll(rt);
	LOCK(rt, &h->extlock, "mheap.extlock");
	int rc = malloc_typed(rt, h->extcache, t, out);
	UNLOCK(rt, &h->extlock, "mheap.extunlock");
	return rc;
}

GCRT_API int gcrt_alloc(gcrt_runtime *rt, gcrt_type t, void **out)
{
	RETURN_CHECKED_CAUGHT(rt, extalloc(rt, t, out));
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
	uint16_t idx;
	if (lookup(rt, p, &b, &s, &slot, &idx) != GCRT_OK)
		return GCRT_EBADOBJ;
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

/* writeptr's barriered store; with counted, the caller (a host thread
 * holding no P) is counted in the world around it. */
static int wbwrite(struct gcrt_runtime *rt, void *_Atomic *slot, void *p, bool counted)
{
	if (counted)
		mutator_enter(rt);
	writebarrierptr(rt, slot, p);
	if (counted)
		mutator_exit(rt);
	return GCRT_OK;
}

/* wbwrite under a catcher, out of line: a function that calls setjmp
 * keeps nothing in registers, and writeptr's fast path must. */
static __attribute__((noinline)) int wbwrite_caught(struct gcrt_runtime *rt, void *_Atomic *slot,
						    void *p, bool counted)
{
	RETURN_CAUGHT(rt, wbwrite(rt, slot, p, counted));
}

int writeptr(struct gcrt_runtime *rt, void *obj, size_t i, void *p, bool counted,
	     const knownobjs *k)
{
	const typeinfo *ti = obj != NULL ? knowntype(k, obj) : NULL;
	int rc = ti != NULL ? GCRT_OK : objtype(rt, obj, &ti);
	if (rc == GCRT_OK)
		rc = wordcheck(ti, i, 1, 1);
	if (rc != GCRT_OK)
		return rc;
	void *b;
	mspan *s;
	uintptr_t slot;
	uint16_t idx;
	if (p != NULL && knowntype(k, p) == NULL && lookup(rt, p, &b, &s, &slot, &idx) != GCRT_OK)
		return GCRT_EBADOBJ;
	if (!counted && !wbneeded(rt)) {
		/* release: a reader that loads p sees p's object initialized */
		SCHED_POINT(rt, "markwb.store");
		atomic_store_explicit((void *_Atomic *)obj + i, p, memory_order_release);
		return GCRT_OK;
	}
	return wbwrite_caught(rt, (void *_Atomic *)obj + i, p, counted);
}

GCRT_API int gcrt_write_ptr(gcrt_runtime *rt, void *obj, size_t i, void *p)
{
	int rc = rt_check(rt);
	return rc != GCRT_OK ? rc : writeptr(rt, obj, i, p, true, NULL);
}
