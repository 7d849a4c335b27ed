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
 * locks.  GCRT_ESTATE when no P is idle.  Detach from the same thread. */
GCRT_API int gcrt_attach(gcrt_runtime *rt, gcrt_g **out);
GCRT_API int gcrt_detach(gcrt_g *g);
GCRT_API int gcrt_g_alloc(gcrt_g *g, gcrt_type t, void **out);

/* ---- goroutines and the scheduler (proc.c) ---- */


/* ---- collection (mgc.c, mgcmark.c, mgcsweep.c, mfinal.c) ----
 * gcrt_gc runs a full collection from any thread and returns with every
 * span swept (Go's runtime.GC); GCRT_ESTATE when called from inside a
 * mark.  Roots: global regions (gcrt_root_add: size bytes from base,
 * ptrmask one bit per word as for types; GCRT_EINVAL if it overlaps a
 * registered region or the heap) and pins (gcrt_pin/gcrt_unpin, counted;
 * gcrt_alloc_pinned allocates an object already pinned, so no collection
 * can take it before the caller holds it).  A host must not store into a
 * registered region while a collection runs.
 * Collection by allocation pacing (next_gc = live * (1 + GOGC/100)) runs
 * only with GCRT_GC_ENABLE set (as Go's enablegc); GOGC -1 turns it off.
 * gctrace lines go to stderr (also with PYGCRT_DEBUG=gctrace=1);
 * checkmark re-marks from the roots after each mark and throws on an
 * unmarked reachable object.
 * A finalizer runs once, on the runtime's finalizer thread, after obj is
 * found unreachable; obj and what it references stay intact until then.
 * Setting one on an interior pointer or with fn NULL is GCRT_EINVAL, on a
 * non-object GCRT_EBADOBJ, a second one on the same object GCRT_ESTATE.
 * gcrt_finalizers_wait returns when no finalizer is queued or running. */
#define GCRT_GC_ENABLE 1
#define GCRT_GC_GCTRACE 2
#define GCRT_GC_CHECKMARK 4
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


/* cdef-end */

#ifdef __cplusplus
}
#endif
#endif
