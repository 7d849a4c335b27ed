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
/* Status primitives on a G (gstatus.c).  op: one of GCRT_TEST_OP_*;
 * *result is the primitive's bool result (castogscanstatus, stopg,
 * isscanstatus) or its old status (casgcopystack). */
#define GCRT_TEST_OP_CASGSTATUS 0
#define GCRT_TEST_OP_CASTOGSCANSTATUS 1
#define GCRT_TEST_OP_CASFROMGSCANSTATUS 2
#define GCRT_TEST_OP_STOPG 3
#define GCRT_TEST_OP_RESTARTG 4
#define GCRT_TEST_OP_ISSCANSTATUS 5
#define GCRT_TEST_OP_CASGCOPYSTACK 6
/* A bare G (never scheduled) with a 2 KB stack, status Gdead. */
GCRT_API int gcrt_test_g_new(gcrt_runtime *rt, gcrt_g **out);
GCRT_API int gcrt_test_g_status(gcrt_runtime *rt, gcrt_g *g, uint32_t *out);
/* Bare Gs only. */
GCRT_API int gcrt_test_g_setstatus(gcrt_runtime *rt, gcrt_g *g, uint32_t status);
GCRT_API int gcrt_test_g_flags(gcrt_runtime *rt, gcrt_g *g, uint32_t *gcworkdone,
			       uint32_t *preemptscan, uint32_t *preempt, uint64_t *stackguard0);
/* stopg and restartg also act on goroutines (as the GC would), the
 * other ops on bare Gs only. */
GCRT_API int gcrt_test_g_op(gcrt_runtime *rt, gcrt_g *g, int op, uint32_t oldval,
			    uint32_t newval, int *result);
/* Run op on a bare G in status `from` of a fresh record-mode runtime:
 * GCRT_OK with the status after and the result, or GCRT_EFAILED with the
 * throw's message ("fatal error: ...", first line) in msg. */
GCRT_API int gcrt_test_gstatus_try(int op, uint32_t from, uint32_t oldval, uint32_t newval,
				   uint32_t *after, int *result, char *msg, size_t msglen);
/* Mutants of proc.c/gstatus.c: "copy_read_then_cas"; "none" clears. */
GCRT_API int gcrt_test_proc_mutant(gcrt_runtime *rt, const char *name);
/* A goroutine that runs iters iterations, each adding 1 to *counter while
 * it is running, polling gcrt_safepoint each iteration, and at random
 * (seeded) yielding, sleeping in a syscall or parking (flags). */
#define GCRT_TEST_W_YIELD 1
#define GCRT_TEST_W_SYSCALL 2
#define GCRT_TEST_W_PARK 4
GCRT_API int gcrt_test_go_worker(gcrt_runtime *rt, uint64_t *counter, int64_t iters,
				 uint32_t flags, uint64_t seed, gcrt_g **out);
/* Gs in Grunning (any G of rt), and Ps not in Pgcstop. */
GCRT_API int gcrt_test_sched_snapshot(gcrt_runtime *rt, int *nrunning, int *nnotstopped);
/* Stacks of bare Gs (stack.c). */
typedef struct gcrt_test_stackinfo {
	uint64_t lo, hi, sp, fp, ctxt, param;
	int64_t nframes;
} gcrt_test_stackinfo;
GCRT_API int gcrt_test_stack_info(gcrt_runtime *rt, gcrt_g *g, gcrt_test_stackinfo *out);
/* Push a frame on a Grunning bare G (growing its stack): *slots = address
 * of the frame's first slot. */
GCRT_API int gcrt_test_stack_push(gcrt_runtime *rt, gcrt_g *g, uint32_t desc, uint64_t *slots);
GCRT_API int gcrt_test_stack_pop(gcrt_runtime *rt, gcrt_g *g);
/* Frame at depth (0 = innermost): its slots' address and descriptor (any
 * G of rt that is not running). */
GCRT_API int gcrt_test_stack_frame(gcrt_runtime *rt, gcrt_g *g, int64_t depth, uint64_t *slots,
				   uint32_t *desc);
GCRT_API int gcrt_test_stack_setctxt(gcrt_runtime *rt, gcrt_g *g, uint64_t ctxt, uint64_t param);
/* shrinkstack on a Gwaiting/Grunnable bare G; the world must be stopped
 * (gcrt_stoptheworld) else GCRT_ESTATE. */
GCRT_API int gcrt_test_stack_shrink(gcrt_runtime *rt, gcrt_g *g);


/* ---- deterministic scheduling (sched.c) ---- */


/* cdef-end */

#ifdef __cplusplus
}
#endif
#endif
