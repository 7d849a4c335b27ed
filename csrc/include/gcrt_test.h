/* gcrt_test.h: test hooks of libgcrt.
 *
 * These entry points exist for the project's own tests and benchmarks:
 * they drive runtime internals (schedule points, lock-free stacks, work
 * buffers, ...) directly, from threads the runtime spawns.  They check
 * their arguments like the public API.  Not part of the stable API.
 *
 * The region between the cdef markers is read by build_ffi.py.
 */
#ifndef GCRT_TEST_H
#define GCRT_TEST_H

#include "gcrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cdef-begin */

/* ---- schedule points (sched.c) ---- */
/* Modes: 0 off, 1 count hits per site, 2 chaos (random yields/spins;
 * permille = chance per point).  GCRT_ESTATE in a build without points. */
GCRT_API int gcrt_test_sched_mode(gcrt_runtime *rt, int mode, uint64_t seed, uint32_t permille);
GCRT_API int gcrt_test_sched_hits(gcrt_runtime *rt, const char *name, uint64_t *out);
/* Every schedule point compiled in, sorted by name. */
GCRT_API int gcrt_test_sched_nsites(void);
GCRT_API int gcrt_test_sched_site(int i, const char **name, const char **file, int *line);

/* ---- lock-free stacks, work buffers, parfor (lfstack.c, mgcwork.c, parfor.c) ---- */


/* ---- heap (msize.c, mbitmap.c, mheap.c: mheaptest.c) ---- */
/* Class cl's size and span pages (class 0: 0, 0). */
GCRT_API int gcrt_test_size_class(gcrt_runtime *rt, int cl, uint32_t *size, uint32_t *npages);
/* The class size_to_class gives for 1 <= size <= 32768 (else GCRT_ESIZE). */
GCRT_API int gcrt_test_size_to_class(gcrt_runtime *rt, size_t size, int *cl);
/* For p inside an allocated object: objectstart(p) through the heap bitmap,
 * and the 4-bit bitmap nibble of p's word. */
GCRT_API int gcrt_test_objectstart(gcrt_runtime *rt, const void *p, void **base);
GCRT_API int gcrt_test_heapbits(gcrt_runtime *rt, const void *p, uint32_t *nibble);
/* The mark bit of the object holding p: op 0 reads it, 1 sets it, 2
 * clears it; *marked is its value afterwards. */
GCRT_API int gcrt_test_heap_mark(gcrt_runtime *rt, const void *p, int op, int *marked);
/* Walk spans, span map and free lists; a broken invariant throws. */
GCRT_API int gcrt_test_heap_check(gcrt_runtime *rt);
/* An MSpanStack span of npages from the heap, and freeing it (coalescing). */
GCRT_API int gcrt_test_heap_allocstack(gcrt_runtime *rt, size_t npages, void **base);
GCRT_API int gcrt_test_heap_freestack(gcrt_runtime *rt, void *base);
/* Throw msg (record mode: GCRT_EFAILED and the report). */
GCRT_API int gcrt_test_heap_throw(gcrt_runtime *rt, const char *msg);

/* ---- goroutines, Ms, Ps, stacks (proc.c, stack.c, mutator.c) ---- */


/* ---- deterministic scheduling (sched.c) ---- */


/* cdef-end */

#ifdef __cplusplus
}
#endif
#endif
