/* gcrt.h: the public C API of pygcrt's runtime (libgcrt).
 *
 * A runtime instance (gcrt_runtime) owns everything: its heap, types,
 * threads and statistics.  Several instances may live in one process.
 *
 * Errors: every entry point that can fail returns an int, GCRT_OK (0) on
 * success or a negative GCRT_E* code.  Bad input never crashes and never
 * corrupts the runtime.  A violated internal invariant is a "throw": by
 * default it prints "fatal error: <msg>" and a state dump and aborts; with
 * cfg.on_throw = GCRT_THROW_RECORD the runtime instead marks itself failed,
 * every later call returns GCRT_EFAILED, and gcrt_last_throw() gives the
 * message and dump.  gcrt_destroy always works.
 *
 * Thread safety: every entry point may be called from any thread.
 *
 * The region between the cdef markers is also read by build_ffi.py as the
 * cffi declarations, so it holds plain C declarations only.
 */
#ifndef GCRT_H
#define GCRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GCRT_API __attribute__((visibility("default")))

/* cdef-begin */

#define GCRT_VERSION_MAJOR 0
#define GCRT_VERSION_MINOR 1

/* Error codes. */
enum {
	GCRT_OK = 0,
	GCRT_EINVAL = -1,   /* a malformed argument (NULL, bad flag, bad config) */
	GCRT_EBADRT = -2,   /* not a live runtime (NULL, destroyed) */
	GCRT_EBADTYPE = -3, /* an unknown type, or one of another runtime */
	GCRT_EBADOBJ = -4,  /* not an allocated object of this runtime */
	GCRT_ERANGE = -5,   /* a field or slot index out of range */
	GCRT_ESIZE = -6,    /* a size of 0, or too large */
	GCRT_EKIND = -7,    /* a pointer op on a scalar word, or the reverse */
	GCRT_ENOMEM = -8,   /* the arena is exhausted */
	GCRT_ESTATE = -9,   /* the call is not allowed in the current state */
	GCRT_EFAILED = -10  /* the runtime has thrown (record mode) */
};

/* What a throw does. */
enum {
	GCRT_THROW_ABORT = 0, /* print, dump, abort() (Go's behaviour) */
	GCRT_THROW_RECORD = 1 /* record, fail the runtime, return to the caller */
};

typedef struct gcrt_runtime gcrt_runtime;
/* A goroutine: also the context of a host thread attached as an M. */
typedef struct gcrt_g gcrt_g;

/* A type handle: 0 is never a valid type. */
typedef uint64_t gcrt_type;

typedef struct gcrt_config {
	int32_t nprocs;         /* GOMAXPROCS: number of Ps, 1..256 (default 2) */
	int32_t gogc;           /* GOGC percent; -1 = off (default 100) */
	uint64_t arena_size;    /* bytes of address space for the heap (default 1 GiB) */
	uintptr_t arena_hint;   /* fixed arena address, 0 = anywhere */
	int32_t on_throw;       /* GCRT_THROW_ABORT or GCRT_THROW_RECORD */
	int32_t max_types;      /* most types one runtime may register (default 4096) */
	uint64_t heap_minimum;  /* pacing never triggers below this heap (default 4 MiB) */
} gcrt_config;

#define GCRT_NUM_SIZE_CLASSES 67
#define GCRT_MAX_SMALL_SIZE 32768
#define GCRT_PAGE_SIZE 8192

/* A MemStats-style record (Go's runtime.MemStats, 2014). */
typedef struct gcrt_size_stats {
	uint32_t size;    /* class size in bytes */
	uint64_t nmalloc; /* objects allocated in this class */
	uint64_t nfree;   /* objects freed in this class */
} gcrt_size_stats;

typedef struct gcrt_stats {
	uint64_t alloc;         /* bytes in allocated heap objects */
	uint64_t total_alloc;   /* cumulative bytes allocated */
	uint64_t sys;           /* bytes obtained from the OS (arena + metadata) */
	uint64_t nmalloc;       /* cumulative objects allocated */
	uint64_t nfree;         /* cumulative objects freed */
	uint64_t heap_alloc;    /* = alloc */
	uint64_t heap_sys;      /* arena bytes mapped */
	uint64_t heap_idle;     /* bytes in free spans */
	uint64_t heap_inuse;    /* bytes in in-use spans */
	uint64_t heap_released; /* bytes returned to the OS */
	uint64_t heap_objects;  /* allocated objects */
	uint64_t stacks_inuse;  /* bytes in stack spans */
	uint64_t mspan_inuse;   /* span metadata bytes in use */
	uint64_t mcache_inuse;  /* mcache metadata bytes */
	uint64_t gc_sys;        /* GC metadata (bitmap, workbufs) */
	uint64_t other_sys;     /* other runtime metadata */
	uint64_t next_gc;       /* heap_alloc that triggers the next collection */
	uint64_t last_gc;       /* end of the last collection, Unix ns */
	uint64_t pause_total_ns;
	uint64_t pause_ns[256]; /* circular, index numgc % 256 */
	uint32_t numgc;
	gcrt_size_stats by_size[67];
} gcrt_stats;

/* ---- runtime instance ---- */
GCRT_API void gcrt_config_init(gcrt_config *cfg);
GCRT_API int gcrt_new(const gcrt_config *cfg, gcrt_runtime **out);
GCRT_API int gcrt_destroy(gcrt_runtime *rt);
/* Message and state dump of the recorded throw ("" if none). */
GCRT_API const char *gcrt_last_throw(gcrt_runtime *rt);
GCRT_API int gcrt_failed(gcrt_runtime *rt);
GCRT_API const char *gcrt_strerror(int err);

/* ---- types ----
 * size in bytes (> 0); ptrmask has one bit per 8-byte word, LSB first,
 * bit i set = word i holds a pointer.  nbits = number of mask bits given,
 * at most ceil(size/8); missing bits are scalars.  ptrmask may be NULL when
 * nbits == 0 (no pointers). */
GCRT_API int gcrt_type_new(gcrt_runtime *rt, size_t size, const uint8_t *ptrmask,
			   size_t nbits, gcrt_type *out);
GCRT_API int gcrt_type_info(gcrt_runtime *rt, gcrt_type t, size_t *size, size_t *nwords);

/* ---- allocation and object access ----
 * gcrt_alloc may be called from any thread (it uses a shared, locked
 * cache); a thread attached with gcrt_attach allocates lock-free from its
 * P's cache with gcrt_g_alloc.  Objects are zeroed. */
GCRT_API int gcrt_alloc(gcrt_runtime *rt, gcrt_type t, void **out);
/* The object containing p (interior pointers allowed), its type and size. */
GCRT_API int gcrt_object_of(gcrt_runtime *rt, const void *p, void **base, gcrt_type *t,
			    size_t *size);
/* Word i of obj (obj must be an object's base address). */
GCRT_API int gcrt_read_word(gcrt_runtime *rt, void *obj, size_t i, uint64_t *out);
GCRT_API int gcrt_write_word(gcrt_runtime *rt, void *obj, size_t i, uint64_t v);
GCRT_API int gcrt_read_ptr(gcrt_runtime *rt, void *obj, size_t i, void **out);
/* Store a pointer (NULL or into an object of rt) into pointer word i,
 * through the write barrier. */
GCRT_API int gcrt_write_ptr(gcrt_runtime *rt, void *obj, size_t i, void *p);
GCRT_API int gcrt_stats_read(gcrt_runtime *rt, gcrt_stats *out);

/* ---- host threads ----
 * gcrt_attach makes the calling thread an M that owns an idle P and runs
 * one G inline; gcrt_g_alloc then allocates from that P's mcache without
 * locks.  GCRT_ESTATE when no P is idle.  Every call on a host G comes
 * from the thread that attached it (the G is that thread's context).
 * Between calls the G is in a syscall (a stopper never waits for it) and
 * each call enters and leaves the world.  For a batch of work, call
 * gcrt_g_enter: the G then runs (holds its P) until gcrt_g_leave, and
 * gcrt_g_alloc / gcrt_g_write_ptr skip the world entry.  While it runs
 * the host must poll: gcrt_g_alloc polls, and a loop that does not
 * allocate calls gcrt_safepoint(g) (always 0 for a host G; a pending stop
 * or scan is served inside); before blocking, or before any call that can
 * stop the world (gcrt_gc, gcrt_alloc, gcrt_stoptheworld, ...), it calls
 * gcrt_g_leave.  gcrt_g_enter waits while the world is stopped;
 * GCRT_ESTATE when the G already runs (gcrt_g_enter) or does not
 * (gcrt_g_leave).  gcrt_g_write_ptr is gcrt_write_ptr from the host G;
 * gcrt_detach works in either state. */
GCRT_API int gcrt_attach(gcrt_runtime *rt, gcrt_g **out);
GCRT_API int gcrt_detach(gcrt_g *g);
GCRT_API int gcrt_g_alloc(gcrt_g *g, gcrt_type t, void **out);
GCRT_API int gcrt_g_enter(gcrt_g *g);
GCRT_API int gcrt_g_leave(gcrt_g *g);
GCRT_API int gcrt_g_write_ptr(gcrt_g *g, void *obj, size_t i, void *p);

/* ---- goroutines and the scheduler (proc.c) ----
 * A goroutine is a step function that an M (a runtime pthread) calls
 * until it returns GCRT_STEP_YIELD (run again later), GCRT_STEP_PARK
 * (sleep until gcrt_ready) or GCRT_STEP_EXIT (done; any other value also
 * ends the goroutine).  Inside a step, call gcrt_safepoint(g) at loop
 * back-edges: 1 means "return GCRT_STEP_YIELD now" (a stop-the-world or
 * a preemption is pending).  A step that blocks calls
 * gcrt_entersyscall(g) before and gcrt_exitsyscall(g) after; the world
 * can stop meanwhile and exitsyscall waits until it restarts.
 * gcrt_start adds nms Ms (at most GCRT_MAX_MS in all; GCRT_EINVAL beyond).
 * gcrt_wait waits until every goroutine has exited (GCRT_ESTATE after
 * timeout_ms > 0 ms; <= 0 waits forever).  gcrt_ready may be called from
 * any thread; a ready before the park is remembered (one pending wakeup).
 * gcrt_stoptheworld/gcrt_starttheworld: from a thread that is not running
 * a goroutine step; one stopper at a time (others wait; the same thread
 * stopping twice gets GCRT_ESTATE). */
#define GCRT_STEP_YIELD 0
#define GCRT_STEP_PARK 1
#define GCRT_STEP_EXIT 2
#define GCRT_MAX_MS 64
typedef int (*gcrt_stepfn)(gcrt_g *g, void *arg);
GCRT_API int gcrt_go(gcrt_runtime *rt, gcrt_stepfn fn, void *arg, gcrt_g **out);
GCRT_API int gcrt_start(gcrt_runtime *rt, int nms);
GCRT_API int gcrt_wait(gcrt_runtime *rt, int64_t timeout_ms);
GCRT_API int gcrt_ready(gcrt_runtime *rt, gcrt_g *g);
GCRT_API int gcrt_safepoint(gcrt_g *g);
GCRT_API int gcrt_entersyscall(gcrt_g *g);
GCRT_API int gcrt_exitsyscall(gcrt_g *g);
GCRT_API int gcrt_g_id(gcrt_g *g, int64_t *out);
GCRT_API int gcrt_stoptheworld(gcrt_runtime *rt);
GCRT_API int gcrt_starttheworld(gcrt_runtime *rt);
/* Host Gs (gcrt_attach) count as in a syscall between calls: a stopper
 * never waits for them, and gcrt_g_alloc/gcrt_detach wait while the
 * world is stopped. */

/* Stacks: frame descriptors describe the frames goroutine programs push
 * (nslots words; bit i of bitmap = slot i holds a pointer; nbits <= nslots
 * else GCRT_ERANGE).  Ids start at 1.  gcrt_stack_limit sets the largest
 * stack a goroutine may grow to (default 1 GiB): growth beyond it fails
 * with GCRT_ESIZE. */
#define GCRT_MAX_FRAME_SLOTS 65536
GCRT_API int gcrt_frame_desc(gcrt_runtime *rt, uint32_t nslots, const uint8_t *bitmap,
			     size_t nbits, uint32_t *out);
GCRT_API int gcrt_stack_limit(gcrt_runtime *rt, size_t max);

/* The mutator VM (mutator.c): goroutine programs.  A program has nfuncs
 * functions; function f runs instructions [entry[f], entry[f+1]) (the last
 * one to ncode) in a frame of descriptor desc[f]; function 0 is main.
 * Slots are frame slots; a pointer slot is one the descriptor marks.
 * Every type a program allocates must have a scalar word 0: the VM writes
 * a canary there at allocation and checks it on every load (a broken
 * canary throws "mutator: canary broken").  Field stores go through the
 * write barrier.  Opcodes (a, b, c):
 *   ALLOC  slot, type index         new object into a pointer slot
 *   LOAD   dst, src, field          dst = src->field (pointer field)
 *   STORE  obj, field, src          obj->field = src (write barrier)
 *   CLEAR  slot                     slot = nil
 *   MOVE   dst, src                 dst = src (pointer slots)
 *   CALL   func                     push func's frame (may grow the stack)
 *   RET                             pop; returning from main exits
 *   YIELD / PARK                    end the step (park: until woken)
 *   WAKE   delta                    ready group member (index + delta) % n
 *   SYSCALL usec                    sleep in a syscall
 *   GC                              request a collection (a stop-the-world
 *                                   with shrinkstack for now)
 *   SETI   slot, value              scalar slot = value
 *   LOOP   target, slot             if --slot > 0, jump back to target
 *   CHECK  slot                     check the canary of slot's object
 *   EXIT                            end the goroutine
 * Safepoints: CALL (function entry) and LOOP back-edges.
 * gcrt_vm_program_new: GCRT_EINVAL for a bad opcode, target, function or
 * type, GCRT_ERANGE for a slot outside its frame, GCRT_EKIND for a
 * pointer op on a scalar slot (or the reverse).  A goroutine that fails
 * at run time (nil object, field out of range or not a pointer, stack
 * over the limit, out of memory) ends with that error as its exit code. */
#define GCRT_VM_NOP 0
#define GCRT_VM_ALLOC 1
#define GCRT_VM_LOAD 2
#define GCRT_VM_STORE 3
#define GCRT_VM_CLEAR 4
#define GCRT_VM_CALL 5
#define GCRT_VM_RET 6
#define GCRT_VM_YIELD 7
#define GCRT_VM_PARK 8
#define GCRT_VM_WAKE 9
#define GCRT_VM_SYSCALL 10
#define GCRT_VM_GC 11
#define GCRT_VM_SETI 12
#define GCRT_VM_LOOP 13
#define GCRT_VM_CHECK 14
#define GCRT_VM_EXIT 15
#define GCRT_VM_MOVE 16
typedef struct gcrt_vm_insn {
	int32_t op, a, b, c;
} gcrt_vm_insn;
typedef struct gcrt_vm_program gcrt_vm_program;
typedef struct gcrt_vm_stats {
	uint64_t steps;   /* step calls */
	uint64_t insns;   /* instructions executed */
	uint64_t allocs;  /* objects allocated */
	uint64_t loads;   /* non-nil pointers loaded */
	uint64_t stores;  /* field stores */
	uint64_t maxstack; /* largest stack, bytes */
	int32_t done;     /* the goroutine ended */
	int32_t exitcode; /* GCRT_OK or the error that ended it */
} gcrt_vm_stats;
GCRT_API int gcrt_vm_program_new(gcrt_runtime *rt, const gcrt_vm_insn *code, size_t ncode,
				 const uint32_t *desc, const uint32_t *entry, size_t nfuncs,
				 const gcrt_type *types, size_t ntypes, gcrt_vm_program **out);
/* Start n goroutines running prog as one group (for WAKE); gs[n] out. */
GCRT_API int gcrt_vm_go(gcrt_runtime *rt, gcrt_vm_program *prog, size_t n, gcrt_g **gs);
GCRT_API int gcrt_vm_stats_read(gcrt_runtime *rt, gcrt_g *g, gcrt_vm_stats *out);


/* ---- collection (mgc.c, mgcmark.c, mgcsweep.c, mfinal.c) ----
 * gcrt_gc runs a full collection from any thread and returns with every
 * span swept (Go's runtime.GC); GCRT_ESTATE when called from inside a
 * mark.  Roots: global regions (gcrt_root_add: size bytes from base,
 * ptrmask one bit per word as for types; GCRT_EINVAL if it overlaps a
 * registered region or the heap) and pins (gcrt_pin/gcrt_unpin, counted;
 * gcrt_alloc_pinned allocates an object already pinned, so no collection
 * can take it before the caller holds it).  A host must not store into a
 * registered region while a collection runs.
 * Collection by allocation pacing (next_gc = live * (1 + GOGC/100), but
 * never below cfg.heap_minimum) runs
 * only with GCRT_GC_ENABLE set (as Go's enablegc): off by default in C,
 * where a host may hold unpinned pointers in its own memory; the Python
 * Runtime turns it on (its handles pin their objects).  GOGC -1 turns it
 * off.
 * gctrace lines go to stderr (also with PYGCRT_DEBUG=gctrace=1);
 * checkmark re-marks from the roots after each mark and throws on an
 * unmarked reachable object.  The cycle is the seed's (stop the world to
 * finish sweeping, concurrent scan of roots and stopped goroutines with
 * the world running, stop the world to mark); GCRT_GC_STW selects a plain
 * stop-the-world cycle.  pause_ns counts stopped-world time only.
 * A finalizer runs once, on the runtime's finalizer thread, after obj is
 * found unreachable; obj and what it references stay intact until then.
 * Setting one on an interior pointer or with fn NULL is GCRT_EINVAL, on a
 * non-object GCRT_EBADOBJ, a second one on the same object GCRT_ESTATE.
 * gcrt_finalizers_wait returns when no finalizer is queued or running. */
#define GCRT_GC_ENABLE 1
#define GCRT_GC_GCTRACE 2
#define GCRT_GC_CHECKMARK 4
#define GCRT_GC_STW 8
#define GCRT_GC_TRACE 16
/* GCRT_GC_CLOBBERFREE (Go's GODEBUG=clobberfree): the sweep fills every
 * word of a freed object but its free-list link with 0xdeaddeaddeaddead,
 * and a freed span whole, so a stale pointer reads poison.  Without it a
 * freed small object gets Go 1.4's marker in its second word (objects over
 * two words) and a span whose objects all died is not written at all.  Off
 * by default in C (also on with PYGCRT_DEBUG=clobberfree=1); the Python
 * Runtime turns it on. */
#define GCRT_GC_CLOBBERFREE 32
typedef void (*gcrt_finalizer_fn)(gcrt_runtime *rt, void *obj, void *arg);
GCRT_API int gcrt_gc(gcrt_runtime *rt);
GCRT_API int gcrt_gc_options(gcrt_runtime *rt, uint32_t opts, uint32_t *old);
GCRT_API int gcrt_gc_percent(gcrt_runtime *rt, int32_t percent, int32_t *old);
GCRT_API int gcrt_root_add(gcrt_runtime *rt, void *base, size_t size, const uint8_t *ptrmask,
			   size_t nbits);
GCRT_API int gcrt_root_remove(gcrt_runtime *rt, void *base);
GCRT_API int gcrt_pin(gcrt_runtime *rt, void *obj);
GCRT_API int gcrt_unpin(gcrt_runtime *rt, void *obj);
GCRT_API int gcrt_alloc_pinned(gcrt_runtime *rt, gcrt_type t, void **out);
GCRT_API int gcrt_set_finalizer(gcrt_runtime *rt, void *obj, gcrt_finalizer_fn fn, void *arg);
GCRT_API int gcrt_finalizers_wait(gcrt_runtime *rt, uint64_t *nrun);
/* With GCRT_GC_TRACE set, phases are recorded per thread (the last 4096):
 * gcrt_gc_trace writes them as Chrome trace event JSON (Perfetto opens
 * it) into buf; *len is the full length (GCRT_ERANGE if cap is short). */
GCRT_API int gcrt_gc_trace(gcrt_runtime *rt, char *buf, size_t cap, size_t *len);


/* cdef-end */

#ifdef __cplusplus
}
#endif
#endif
