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
/* Hooks of worktest.c.  Each scenario runs in C on threads the runtime
 * starts; results come back in the structs below.  Argument ranges are
 * checked (GCRT_EINVAL / GCRT_ERANGE, no throw); violated invariants of the
 * lists themselves (a bad node, a buffer on the wrong list, nproc out of
 * 1..nprocs) are throws (GCRT_EFAILED in record mode). */

/* Mutants (csrc/mutants.h): "getfull_partial", "lf_aba"; "none" clears.
 * GCRT_EINVAL for an unknown name, GCRT_ESTATE in a release build. */
GCRT_API int gcrt_test_set_mutant(gcrt_runtime *rt, const char *name);

/* lfstack.  Test nodes (32 bytes, 8-aligned) come from a pool of 4096 in
 * the runtime's persistent memory (GCRT_ENOMEM once used up).  head is an
 * 8-aligned word of the caller, 0 = empty, written only by these hooks.  Pushing an address that is
 * not a pool node, or is not a node boundary, throws. */
#define GCRT_TEST_LFNODES 4096
GCRT_API int gcrt_test_lfnodes(gcrt_runtime *rt, int n, uintptr_t *nodes);
GCRT_API int gcrt_test_lfstack_push(gcrt_runtime *rt, uint64_t *head, uintptr_t node);
GCRT_API int gcrt_test_lfstack_pop(gcrt_runtime *rt, uint64_t *head, uintptr_t *node);
/* The packing of a head word: packed = pack(node, cnt), unpacked = unpack(packed). */
GCRT_API int gcrt_test_lfstack_pack(uintptr_t node, uint64_t cnt, uint64_t *packed, uintptr_t *unpacked);

/* TestLFStackStress: nnodes nodes with seeded data spread over nstacks
 * stacks; nthreads threads each do rounds of pop-from-random-stack,
 * push-to-random-stack.  Afterwards every stack is drained (at most
 * 2*nnodes pops): seen[i] counts how often node i came out. */
typedef struct gcrt_lfstress {
	int32_t nthreads;  /* 1..64 */
	int32_t nstacks;   /* 1..16 */
	int32_t nnodes;    /* 1..4096 */
	uint32_t rounds;   /* per thread, <= 10000000 */
	uint64_t seed;
	uint64_t sum_before;  /* out: sum of node data at the start */
	uint64_t sum_after;   /* out: sum of the data of the drained nodes */
	uint64_t found;       /* out: nodes drained */
	uint64_t owned_twice; /* out: pops of a node some thread already owned */
	uint64_t pops[64], emptypops[64], pushes[64]; /* out: per thread */
} gcrt_lfstress;
GCRT_API int gcrt_test_lfstack_stress(gcrt_runtime *rt, gcrt_lfstress *s, uint32_t *seen);
/* Benchmark: nthreads threads each do iters pop+push pairs on one shared
 * stack (mutex = 1: a pthread-mutex-protected list instead).  Wall time. */
GCRT_API int gcrt_test_lfstack_bench(gcrt_runtime *rt, int nthreads, uint64_t iters, int mutex,
			    uint64_t *elapsed_ns);

/* Work buffers. */
enum { GCRT_WB_NONE = -1, GCRT_WB_EMPTY = 0, GCRT_WB_PARTIAL = 1, GCRT_WB_FULL = 2 };
enum {
	GCRT_WB_PUTEMPTY = 0,
	GCRT_WB_PUTFULL = 1,
	GCRT_WB_PUTPARTIAL = 2,
	GCRT_WB_GCWORKBUFFREE = 3,
	GCRT_WB_HANDOFF = 4
};
GCRT_API int gcrt_test_workbuf_layout(size_t *size, size_t *nobjs);
/* Take an empty buffer, fill it with 1..nobj, apply op, then drain the
 * three lists (emptying every buffer back onto empty) to see where it went. */
typedef struct gcrt_wbput {
	int32_t op;       /* GCRT_WB_PUT*, GCRT_WB_GCWORKBUFFREE or GCRT_WB_HANDOFF */
	int32_t nobj;     /* 0..509 */
	int32_t list;     /* out: GCRT_WB_* list the buffer was found on */
	int32_t listnobj; /* out: its nobj there */
	uint64_t listsum; /* out: sum of its entries */
	int32_t kept;     /* out (handoff): entries of the buffer handoff returned */
	uint64_t keptsum; /* out (handoff): their sum */
	uint64_t keptmin; /* out (handoff): their smallest entry */
	uint64_t others;  /* out: buffers found on full or partial besides this one */
} gcrt_wbput;
GCRT_API int gcrt_test_workbuf_put(gcrt_runtime *rt, gcrt_wbput *p);
/* Producers and consumers across the three lists: nthreads threads each do
 * rounds steps, either filling a buffer from getpartialorempty (new unique
 * items) or taking one with trygetfull and consuming items, then routing it
 * with putpartial / putfull / putempty / gcworkbuffree / handoff.  At the
 * end the lists are drained and each buffer's membership is checked. */
typedef struct gcrt_wbstress {
	int32_t nthreads;  /* 1..64 */
	uint32_t rounds;   /* per thread */
	uint32_t maxbatch; /* 1..2000 items per step; nthreads*rounds*maxbatch <= 2^24 */
	uint64_t seed;
	uint64_t produced;   /* out: items made by the threads */
	uint64_t consumed;   /* out: items consumed by the threads and the final drain */
	uint64_t dup, lost;          /* out: items consumed twice / never (by item id) */
	uint64_t on_empty, on_partial, on_full;      /* out: buffers per list at the end */
	uint64_t bad_empty, bad_partial, bad_full;   /* out: buffers violating their list */
	uint64_t nbuf;       /* out: buffers the runtime ever allocated (all must be on a list) */
	uint64_t ops[64];    /* out: steps done per thread */
} gcrt_wbstress;
GCRT_API int gcrt_test_workbuf_stress(gcrt_runtime *rt, gcrt_wbstress *s);

/* A getfull barrier round with nproc markers (a throw unless 1..nprocs).
 * GCRT_ROUND_RANDOM: items initial items spread over the markers; each
 * processed item makes up to maxfan new ones (seeded) until budget items
 * exist; markers hand off, put buffers on partial, and drain with getfull.
 * GCRT_ROUND_PARTIAL_ONLY (nproc >= 2): marker 0 holds all items; the others
 * wait in getfull; once they all wait, marker 0 puts its buffer on partial
 * and holds back up to hold_ms for a waiter to take and process it, then
 * enters getfull itself.  GCRT_ROUND_MISUSE (nproc >= 2): like partial-only,
 * but marker 0 puts its non-empty buffer on empty, which throws; the waiting
 * markers must leave (GCRT_EFAILED, no hang).  Rounds other than random take
 * maxfan 0 and items < 509.  After all markers return, the lists must be
 * empty (else the gc() throws "runtime·work.full != nil" / "...partial..."). */
enum { GCRT_ROUND_RANDOM = 0, GCRT_ROUND_PARTIAL_ONLY = 1, GCRT_ROUND_MISUSE = 2 };
typedef struct gcrt_getfull_round {
	int32_t nproc;
	int32_t scenario;  /* GCRT_ROUND_* */
	uint32_t items;    /* 1..budget */
	uint32_t budget;   /* <= 2^24 */
	uint32_t maxfan;   /* 0..8 */
	uint32_t hold_ms;  /* 0..10000 */
	uint64_t seed;
	uint64_t generated, processed;  /* out: items made / processed (by the markers) */
	uint64_t dup, lost;             /* out: items processed twice / never (by item id) */
	uint64_t per_marker[32];        /* out: items processed by each marker */
	uint64_t partial_taken;         /* out (partial-only): a waiter took marker 0's buffer */
	uint64_t left_full, left_partial; /* out: buffers on the lists after the round */
	uint64_t nwait, ndone;          /* out: work.nwait and work.ndone at the end */
	uint64_t nhandoff;              /* out: handoffs during the round */
} gcrt_getfull_round;
GCRT_API int gcrt_test_getfull_round(gcrt_runtime *rt, gcrt_getfull_round *r);

/* parfor.  ranges[i] = begin | end << 32 of thread i after parforsetup. */
GCRT_API int gcrt_test_parforsetup(gcrt_runtime *rt, uint32_t nthr, uint32_t n, uint64_t *ranges);
/* Run parfordo on nthr threads over n iterations; counts[i] = times body(i)
 * ran.  Iterations in thread 0's initial range sleep slow_us (skew that
 * makes the others steal). */
typedef struct gcrt_parfor_run {
	uint32_t nthr;     /* 1..32 */
	uint32_t n;        /* <= 2^24 */
	int32_t wait;      /* parforsetup's wait flag */
	uint32_t slow_us;  /* 0..10000 */
	uint64_t seed;
	uint64_t nsteal, nstealcnt, nprocyield, nosyield, nsleep; /* out: parfor stats */
	uint64_t ranges[32]; /* out: per-thread ranges after setup */
} gcrt_parfor_run;
GCRT_API int gcrt_test_parfor_run(gcrt_runtime *rt, gcrt_parfor_run *r, uint32_t *counts);



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

/* ---- collection (mgc.c) ---- */
typedef struct gcrt_gc_counts {
	uint64_t nsweeps;         /* MSpan_Sweep calls ever */
	uint64_t nbgsweep_total;  /* spans swept by the background sweeper */
	uint64_t heap_live;       /* pacing's live bytes */
	uint32_t sweepgen;
	uint32_t sweepdone;
	uint32_t phase;
	uint64_t nfinalizers_run;
	uint32_t npins;           /* distinct pinned objects */
	uint32_t nroots;          /* registered global regions */
} gcrt_gc_counts;
/* A collection; eager 0 leaves sweeping to the background and lazy sweepers. */
GCRT_API int gcrt_test_gc_cycle(gcrt_runtime *rt, int eager);
GCRT_API int gcrt_test_gc_counts(gcrt_runtime *rt, gcrt_gc_counts *out);
/* fn(rt, arg) runs on the collecting thread in the middle of each mark. */
GCRT_API int gcrt_test_gc_markhook(gcrt_runtime *rt, void (*fn)(gcrt_runtime *, void *), void *arg);

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
