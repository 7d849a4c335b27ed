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

/* Mutants of every piece, one registry (csrc/mutants.h, mutants.c): select
 * one by name ("getfull_partial", "lf_aba", ..., "scan_miss", ...),
 * replacing the previous one; "none" clears.  GCRT_EINVAL for an unknown
 * name, GCRT_ESTATE in a release build.  gcrt_test_mutant_name(i) is the
 * i-th name, NULL past the last. */
GCRT_API int gcrt_test_set_mutant(gcrt_runtime *rt, const char *name);
GCRT_API const char *gcrt_test_mutant_name(int i);

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

/* ---- stress (stresstest.c) ---- */
/* Allocation churn: nthreads runtime threads each build, for rounds
 * rounds, one structure of typed objects (a linked list, a complete binary
 * tree, or a scalar array, sometimes larger than a page class) whose
 * every object carries a canary derived from its id.  A built structure
 * is checked, swapped into one of nslots shared slots (taking out what
 * another thread left there), and the taken structure is checked, rewired
 * through the write barrier (a list reversed, a tree mirrored) and checked
 * again.  The slots are drained and checked at the end.  With attached,
 * a thread allocates with gcrt_g_alloc when gcrt_attach found a P, else
 * with gcrt_alloc.  Thread slow_m (or none, -1) sleeps up to slow_us at
 * every step.  corrupt_round > 0: thread 0 flips one canary of a live
 * object in that round (to prove the oracle catches it).  The oracle is the
 * canaries, ids, lengths and depths; bad counts violations, first_bad says
 * where the first one was.  ring holds each thread's last events (oldest
 * first from ring_pos), GCRT_STRESS_EV_* in op.  With gc, collections may
 * run at any moment (the caller enables pacing): every object comes from
 * gcrt_alloc_pinned and everything a thread will touch again stays
 * reachable from a pin (pins move along as structures are linked and
 * rewired); a quarter of the structures a thread drops get a finalizer
 * that checks the whole structure is still intact when it runs.  At the
 * end every structure is unpinned, one gcrt_gc runs and the hook waits for
 * the finalizers: each one set must have run exactly once.  lose_rest = 1
 * (gc mode) plants a rooting bug: a list being reversed leaves its
 * unreversed rest unpinned, so a collection meanwhile frees live nodes and
 * the checks must report it. */
#define GCRT_STRESS_MAXTHREADS 64
#define GCRT_STRESS_RING 16
#define GCRT_STRESS_EV_LIST 1
#define GCRT_STRESS_EV_TREE 2
#define GCRT_STRESS_EV_ARRAY 3
#define GCRT_STRESS_EV_CHECK 4
#define GCRT_STRESS_EV_SWAP 5
#define GCRT_STRESS_EV_REWIRE 6
#define GCRT_STRESS_EV_SLEEP 7
#define GCRT_STRESS_EV_CORRUPT 8
#define GCRT_STRESS_EV_BAD 9
#define GCRT_STRESS_EV_ERROR 10
typedef struct gcrt_stress_event {
	uint32_t op;     /* GCRT_STRESS_EV_* */
	uint32_t round;
	uint64_t value;  /* objects, slot, microseconds or error code */
} gcrt_stress_event;
typedef struct gcrt_stress_churn {
	int32_t nthreads;      /* 1..64 */
	int32_t attached;      /* 0/1 */
	uint32_t rounds;       /* per thread, <= 10000000 */
	uint32_t maxnodes;     /* 1..65536 objects per list or tree */
	int32_t nslots;        /* 1..64 */
	int32_t slow_m;        /* -1..nthreads-1 */
	uint32_t slow_us;      /* <= 100000 */
	uint32_t corrupt_round; /* 0 = never */
	int32_t gc;            /* 0/1: objects pinned, collections may run */
	int32_t lose_rest;     /* 0/1: the planted rooting bug (gc mode) */
	uint64_t seed;
	uint64_t allocs, bytes;  /* out: objects and bytes allocated */
	uint64_t checked;        /* out: object checks done */
	uint64_t rewired;        /* out: structures rewired */
	uint64_t bad;            /* out: oracle violations */
	uint64_t finalizers_set, finalizers_run; /* out (gc mode) */
	int32_t nattached;       /* out: threads that got a P */
	int32_t error;           /* out: first GCRT_E* an allocation returned, 0 none */
	char first_bad[160];     /* out: the first violation, "" if none */
	uint32_t ring_pos[64];   /* out: next write index of each ring */
	gcrt_stress_event ring[64][16]; /* out */
} gcrt_stress_churn;
GCRT_API int gcrt_test_stress_churn(gcrt_runtime *rt, gcrt_stress_churn *s);

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


/* ---- deterministic scheduling (sched.c, schedctl.c, schedtest.c) ----
 * gcrt_test_sched_run runs a registered scenario with n_ms Ms on a fresh
 * runtime (record mode) under the controller: exactly one M runs at a
 * time and the strategy decides at every schedule point who runs next.
 * Tape decisions, taken only where more than one M can run (past the
 * tape's end, 0): 0 = keep running, k = switch to the k-th other runnable M
 * in cyclic order; when the current M cannot run (or for the first turn),
 * d = take the d-th runnable M after it (0 = the next one).  Faults: one
 * tape entry per occurrence of an armed fault site, nonzero = inject: a
 * CAS fails spuriously; stack.morestack.force fails a function entry's
 * stack check (the G grows its stack there); mcentral.cachespan.empty
 * makes a central's lists look empty (a fresh span); proc.park.spurious
 * wakes a parked G with no ready (it must park again).
 * Every run records the decisions it took in tape form, so any run, of
 * any strategy, replays with GCRT_SCHED_STRAT_TAPE.  STRAT_FREE runs the
 * scenario on free threads (no control: a baseline, not deterministic).
 * The result is an opaque record the caller frees. */
#define GCRT_SCHED_STRAT_TAPE 0
#define GCRT_SCHED_STRAT_RANDOM 1
#define GCRT_SCHED_STRAT_PCT 2
#define GCRT_SCHED_STRAT_FREE 3

#define GCRT_SCHED_OUT_OK 0
#define GCRT_SCHED_OUT_ORACLE 1
#define GCRT_SCHED_OUT_THROW 2
#define GCRT_SCHED_OUT_DEADLOCK 3
#define GCRT_SCHED_OUT_LIVELOCK 4
#define GCRT_SCHED_OUT_BUDGET 5
#define GCRT_SCHED_OUT_UNCONTROLLED 6

/* Trace event flags. */
#define GCRT_SCHED_EV_NOTE 1
#define GCRT_SCHED_EV_SPIN 2
#define GCRT_SCHED_EV_BLOCK 4
#define GCRT_SCHED_EV_FAULT 8
#define GCRT_SCHED_EV_SWITCH 16
#define GCRT_SCHED_EV_PREEMPT 32

typedef struct gcrt_sched_opts {
	int32_t strategy;         /* GCRT_SCHED_STRAT_* */
	const uint8_t *tape;      /* decisions (STRAT_TAPE) */
	uint32_t ntape;
	const uint8_t *faults;    /* fault tape (any strategy) */
	uint32_t nfaults;
	const uint8_t *armed;     /* per site id (gcrt_test_sched_site order), or NULL = all */
	uint32_t narmed;          /* must equal gcrt_test_sched_nsites() when armed != NULL */
	uint32_t fault_permille;  /* RANDOM/PCT: chance of a fault per armed fault site */
	uint64_t seed;            /* RANDOM/PCT */
	int32_t pct_depth;        /* PCT: d (1..16) */
	uint32_t pct_steps;       /* PCT: estimate of the decisions in a run (k) */
	uint64_t max_steps;       /* step budget (0 = default 1e6) */
	uint32_t livelock_rounds; /* spin steps without progress before a livelock (0 = 1000) */
	uint32_t watchdog_ms;     /* wall clock before abort() (0 = default 20000) */
	uint32_t trace_cap;       /* trace ring entries (0 = default 65536) */
	const char *mutant;       /* NULL or "" = none */
	const int64_t *params;    /* scenario parameters */
	uint32_t nparams;
} gcrt_sched_opts;

typedef struct gcrt_sched_event {
	uint64_t step;   /* schedule step (notes share the step of their point) */
	uint64_t value;  /* the value the point recorded */
	int32_t m;       /* M index */
	int32_t site;    /* site id (gcrt_test_sched_site order) */
	uint32_t flags;  /* GCRT_SCHED_EV_* */
} gcrt_sched_event;

typedef struct gcrt_sched_info {
	int32_t outcome;      /* GCRT_SCHED_OUT_* */
	int32_t n_ms;         /* Ms that ran (including ones started during the run) */
	uint64_t steps;
	uint64_t switches;
	uint64_t preemptions; /* switches away from an M that could have continued */
	uint64_t hash;        /* of every trace event */
	uint64_t nevents;     /* events recorded (the ring keeps the last trace_cap) */
	uint64_t wall_ns;     /* wall time of the scheduled part */
	uint32_t ntape;       /* decisions taken */
	uint32_t nfaults;     /* fault decisions taken */
} gcrt_sched_info;

typedef struct gcrt_schedrun gcrt_schedrun;

GCRT_API void gcrt_test_sched_opts_init(gcrt_sched_opts *o);
GCRT_API int gcrt_test_sched_run(const char *scenario, int32_t n_ms, const gcrt_sched_opts *o,
				 gcrt_schedrun **out);
GCRT_API int gcrt_test_schedrun_info(const gcrt_schedrun *r, gcrt_sched_info *out);
/* "" when the run passed, else what failed (oracle message, throw report
 * first line, deadlock description, ...). */
GCRT_API const char *gcrt_test_schedrun_message(const gcrt_schedrun *r);
GCRT_API const uint8_t *gcrt_test_schedrun_tape(const gcrt_schedrun *r, uint32_t *n);
GCRT_API const uint8_t *gcrt_test_schedrun_faults(const gcrt_schedrun *r, uint32_t *n);
/* Copies the kept trace events, oldest first; returns how many. */
GCRT_API int gcrt_test_schedrun_trace(const gcrt_schedrun *r, gcrt_sched_event *out, uint32_t cap);
GCRT_API void gcrt_test_schedrun_free(gcrt_schedrun *r);
/* Hash of the sorted schedule-point names (stamped into schedule strings). */
GCRT_API uint32_t gcrt_test_sched_sitehash(void);
/* Registered scenarios: name, doc, M range and mutant names (NULL-terminated). */
GCRT_API int gcrt_test_sched_nscenarios(void);
GCRT_API int gcrt_test_sched_scenario(int i, const char **name, const char **doc, int *min_ms,
				      int *max_ms, const char *const **mutants);


/* cdef-end */

#ifdef __cplusplus
}
#endif
#endif
