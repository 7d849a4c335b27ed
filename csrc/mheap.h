/* mheap.h: the heap's structures (owned by the allocator files).
 * Placeholder shape; the allocator issue fills it in. */
#ifndef GCRT_MHEAP_H
#define GCRT_MHEAP_H

struct gcrt_runtime;
typedef struct mcache mcache;

struct mheap {
	uintptr_t arena_start, arena_used, arena_end;
};

mcache *allocmcache(struct gcrt_runtime *rt);
void freemcache(struct gcrt_runtime *rt, mcache *c);
/* Allocate one object of type t from cache c (the caller owns c). */
int malloc_typed(struct gcrt_runtime *rt, mcache *c, gcrt_type t, void **out);

#endif
