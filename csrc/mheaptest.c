/* mheaptest.c: test hooks into the heap (gcrt_test.h, "heap" section).
 *
 * They expose what tests need to hold the allocator to Go's design: the
 * size-class tables, the heap bitmap as objectstart and per-word nibbles
 * see it, stack spans (the only memory freed before the collector lands,
 * hence the way to exercise coalescing), a full heap self-check, and a
 * forced throw.  Arguments are checked like the public API.
 */
#include "runtime.h"

GCRT_API int gcrt_test_size_class(gcrt_runtime *rt, int cl, uint32_t *size, uint32_t *npages)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (cl < 0 || cl >= NumSizeClasses)
		return GCRT_ERANGE;
	if (size == NULL || npages == NULL)
		return GCRT_EINVAL;
	*size = (uint32_t)rt->heap.class_to_size[cl];
	*npages = (uint32_t)rt->heap.class_to_allocnpages[cl];
	return GCRT_OK;
}

GCRT_API int gcrt_test_size_to_class(gcrt_runtime *rt, size_t size, int *cl)
{
	int rc = rt_check_args(rt, cl == NULL);
	if (rc != GCRT_OK)
		return rc;
	if (size == 0 || size > MaxSmallSize)
		return GCRT_ESIZE;
	*cl = sizetoclass(&rt->heap, size);
	return GCRT_OK;
}

/* p must lie in an allocated object (else GCRT_EBADOBJ). */
static int inobject(struct gcrt_runtime *rt, const void *p)
{
	return gcrt_object_of(rt, p, NULL, NULL, NULL);
}

GCRT_API int gcrt_test_objectstart(gcrt_runtime *rt, const void *p, void **base)
{
	int rc = inobject(rt, p);
	if (rc != GCRT_OK)
		return rc;
	if (base == NULL)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, (*base = objectstart(rt, p), GCRT_OK));
}

GCRT_API int gcrt_test_heapbits(gcrt_runtime *rt, const void *p, uint32_t *nibble)
{
	int rc = inobject(rt, p);
	if (rc != GCRT_OK)
		return rc;
	if (nibble == NULL)
		return GCRT_EINVAL;
	*nibble = heapbits_get(&rt->heap, p);
	return GCRT_OK;
}

static int heapmark(struct gcrt_runtime *rt, const void *p, int op, int *marked)
{
	void *base = objectstart(rt, p);
	if (op == 1)
		setmarked(rt, base);
	else if (op == 2)
		clearmarked(rt, base);
	*marked = ismarked(rt, base);
	return GCRT_OK;
}

GCRT_API int gcrt_test_heap_mark(gcrt_runtime *rt, const void *p, int op, int *marked)
{
	int rc = inobject(rt, p);
	if (rc != GCRT_OK)
		return rc;
	if (marked == NULL || op < 0 || op > 2)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, heapmark(rt, p, op, marked));
}

static int heapcheck(struct gcrt_runtime *rt)
{
	LOCK(rt, &rt->heap.lock, "mheap.lock");
	mheap_checklocked(rt);
	UNLOCK(rt, &rt->heap.lock, "mheap.unlock");
	return GCRT_OK;
}

GCRT_API int gcrt_test_heap_check(gcrt_runtime *rt)
{
	RETURN_CHECKED_CAUGHT(rt, heapcheck(rt));
}

static int allocstack(struct gcrt_runtime *rt, size_t npages, void **base)
{
	mspan *s = mheap_allocstack(rt, npages);
	if (s == NULL)
		return GCRT_ENOMEM;
	*base = spanbase(s);
	return GCRT_OK;
}

GCRT_API int gcrt_test_heap_allocstack(gcrt_runtime *rt, size_t npages, void **base)
{
	int rc = rt_check_args(rt, base == NULL);
	if (rc != GCRT_OK)
		return rc;
	if (npages == 0 || npages > (rt->heap.arena_end - rt->heap.arena_start) >> PageShift)
		return GCRT_ESIZE;
	RETURN_CAUGHT(rt, allocstack(rt, npages, base));
}

GCRT_API int gcrt_test_heap_freestack(gcrt_runtime *rt, void *base)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	mspan *s = spanof(rt, base);
	if (s == NULL || s->state != MSpanStack || spanbase(s) != base)
		return GCRT_EBADOBJ;
	RETURN_CAUGHT(rt, (mheap_freestack(rt, s), GCRT_OK));
}

GCRT_API int gcrt_test_heap_throw(gcrt_runtime *rt, const char *msg)
{
	int rc = rt_check_args(rt, msg == NULL);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(rt, (throw(rt, msg), GCRT_OK));
}
