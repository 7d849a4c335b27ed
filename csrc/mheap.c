/* mheap.c: placeholder until the allocator issue lands: every entry
 * point answers GCRT_ESTATE so the binding links. */
#include "runtime.h"

int mallocinit(struct gcrt_runtime *rt)
{
	(void)rt;
	return GCRT_OK;
}

void mallocfini(struct gcrt_runtime *rt)
{
	(void)rt;
}

void mheap_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	(void)rt;
	(void)d;
}

mcache *allocmcache(struct gcrt_runtime *rt)
{
	(void)rt;
	return NULL;
}

void freemcache(struct gcrt_runtime *rt, mcache *c)
{
	(void)rt;
	(void)c;
}

int malloc_typed(struct gcrt_runtime *rt, mcache *c, gcrt_type t, void **out)
{
	(void)rt;
	(void)c;
	(void)t;
	(void)out;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_type_new(gcrt_runtime *rt, size_t size, const uint8_t *ptrmask, size_t nbits,
			   gcrt_type *out)
{
	(void)rt, (void)size, (void)ptrmask, (void)nbits, (void)out;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_type_info(gcrt_runtime *rt, gcrt_type t, size_t *size, size_t *nwords)
{
	(void)rt, (void)t, (void)size, (void)nwords;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_alloc(gcrt_runtime *rt, gcrt_type t, void **out)
{
	(void)rt, (void)t, (void)out;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_object_of(gcrt_runtime *rt, const void *p, void **base, gcrt_type *t,
			    size_t *size)
{
	(void)rt, (void)p, (void)base, (void)t, (void)size;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_read_word(gcrt_runtime *rt, void *obj, size_t i, uint64_t *out)
{
	(void)rt, (void)obj, (void)i, (void)out;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_write_word(gcrt_runtime *rt, void *obj, size_t i, uint64_t v)
{
	(void)rt, (void)obj, (void)i, (void)v;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_read_ptr(gcrt_runtime *rt, void *obj, size_t i, void **out)
{
	(void)rt, (void)obj, (void)i, (void)out;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_write_ptr(gcrt_runtime *rt, void *obj, size_t i, void *p)
{
	(void)rt, (void)obj, (void)i, (void)p;
	return GCRT_ESTATE;
}

GCRT_API int gcrt_stats_read(gcrt_runtime *rt, gcrt_stats *out)
{
	(void)rt, (void)out;
	return GCRT_ESTATE;
}
