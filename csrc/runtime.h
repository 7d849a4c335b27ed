/* runtime.h: the runtime instance and the pieces every file shares.
 *
 * Go keeps the heap, the work lists, the scheduler and the statistics in
 * globals; here all of it hangs off one struct gcrt_runtime, so several
 * runtimes live in one process and each is torn down completely.  Nothing
 * in csrc/ has mutable static storage; the only thread-local is the
 * current throw catcher (throw.c), which is per-thread call context.
 *
 * Each piece of the runtime owns one header with its part of the struct:
 *   mheap.h   heap, spans, central lists, caches, types, stats
 *   mgcwork.h work buffers and the mark work lists
 *   proc.h    Gs, Ms, Ps and the scheduler
 */
#ifndef GCRT_RUNTIME_H
#define GCRT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include "gcrt.h"
#include "atomic.h"

#define GCRT_INTERNAL __attribute__((visibility("hidden")))

enum {
	PtrSize = 8,
	CacheLineSize = 64,
};

#define nelem(a) (sizeof(a) / sizeof((a)[0]))
#define ROUND(x, n) (((x) + (n)-1) & ~(uintptr_t)((n)-1))

/* ---- persistentalloc: off-heap runtime metadata, never freed until the
 * runtime is destroyed (workbufs, span records, finalizer blocks). ---- */
typedef struct persistchunk persistchunk;
typedef struct persistent {
	rtlock lock;         /* guards everything below */
	persistchunk *chunks; /* every mapping, for teardown */
	uint8_t *pos, *end;  /* bump region of the current chunk */
	uint64_t sys;        /* bytes mapped */
} persistent;

/* *stat (a stats field, may be NULL) is increased by size. */
void *persistentalloc(struct gcrt_runtime *rt, size_t size, size_t align, _Atomic uint64_t *stat);

/* ---- schedule points ---- */
enum {
	SCHED_OFF = 0,
	SCHED_COUNT = 1,  /* count hits per site (tests, coverage of points) */
	SCHED_CHAOS = 2,  /* random yields and spins at points (stress) */
	SCHED_FAILED = 3, /* the runtime threw: threads leave at their next point */
	SCHED_CONTROL = 4 /* deterministic: one M runs at a time (schedctl.c) */
};

typedef struct sitecount {
	const sched_site *_Atomic site;
	_Atomic uint64_t hits;
} sitecount;

typedef struct schedpoints {
	int32_t mode;          /* mode requested by the user (SCHED_*) */
	_Atomic uint64_t seed; /* chaos PRNG state, advanced by every chaos point */
	uint32_t chaos_permille; /* chance of a disturbance per point, in 1/1000 */
	sitecount *counts;     /* open-addressed by site; written with atomics */
	uint32_t ncounts;      /* capacity (power of two) */
	struct schedctl *ctl;  /* the controller of a controlled run, or NULL */
} schedpoints;

/* ---- throws ---- */
typedef struct throwcatch {
	jmp_buf jb;
	struct gcrt_runtime *rt;
	struct throwcatch *prev;
} throwcatch;

typedef struct throwstate {
	_Atomic int failed; /* set once by the first throw; never cleared */
	char *report;       /* "fatal error: ..." plus dump (record mode) */
	_Atomic int published; /* report stored (after failed: readers wait for it) */
} throwstate;

/* ---- runtime threads (thread.c) ---- */
typedef struct rtthread {
	pthread_t tid;
	struct gcrt_runtime *rt;
	void (*fn)(struct gcrt_runtime *, void *);
	void *arg;
	int index;          /* dense, in creation order */
	int ctlm;           /* M index in a controlled run (schedctl.c), or -1 */
	_Atomic int threw;  /* set by the thread when a recorded throw ended it */
} rtthread;

int rtthread_start(struct gcrt_runtime *rt, rtthread *t, void (*fn)(struct gcrt_runtime *, void *),
		   void *arg);
void rtthread_join(rtthread *t);
/* Start n threads running fn(rt, args + i*stride) and join them all.
 * GCRT_EFAILED if any of them threw, GCRT_ENOMEM if one could not start. */
int rtthread_runall(struct gcrt_runtime *rt, int n, void (*fn)(struct gcrt_runtime *, void *),
		    void *args, size_t stride);

#include "mheap.h"
#include "mgcwork.h"
#include "proc.h"
#include "mgc.h"

#define GCRT_MAGIC 0x67637274696d6521ull /* "gcrtime!" */
#define GCRT_DEAD 0xdeadd00ddeadd00dull

struct gcrt_runtime {
	uint64_t magic;              /* GCRT_MAGIC while alive */
	_Atomic uint32_t schedmode;  /* read by every schedule point; SCHED_* */
	gcrt_config cfg;             /* immutable after gcrt_new */
	schedpoints sp;
	_Atomic uint32_t nthreads;   /* runtime threads ever started (indices) */
	throwstate thr;
	persistent pers;
	struct mheap heap;
	struct workdata work;
	struct schedt sched;
	struct gcstate gc;
};

/* throw: a violated invariant.  Never returns. */
_Noreturn void throw(struct gcrt_runtime *rt, const char *msg);
_Noreturn void throwf(struct gcrt_runtime *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Recording throws: a public entry point (RETURN_CAUGHT below) or a
 * runtime thread's start routine installs a catcher; a throw in record
 * mode longjmps to it.
 *   throwcatch tc;
 *   if (CATCH(rt, &tc)) return GCRT_EFAILED;   -- reached after a throw
 *   ... work that may throw ...
 *   uncatch(&tc);
 */
void catch_push(throwcatch *tc, struct gcrt_runtime *rt);
void uncatch(throwcatch *tc);
#define CATCH(rt, tc) (catch_push((tc), (rt)), setjmp((tc)->jb) != 0)
/* The tail of a public entry point, after its argument checks: call (an
 * int expression, the entry point's static body) runs under a catcher in
 * this frame, and its result is returned, or GCRT_EFAILED after a throw. */
#define RETURN_CAUGHT(rt, call)                                                                    \
	do {                                                                                       \
		throwcatch tc_;                                                                    \
		if (CATCH((rt), &tc_))                                                             \
			return GCRT_EFAILED;                                                       \
		int rc_ = (call);                                                                  \
		uncatch(&tc_);                                                                     \
		return rc_;                                                                        \
	} while (0)
/* RETURN_CAUGHT for an entry point that checks nothing but rt itself. */
#define RETURN_CHECKED_CAUGHT(rt, call)                                                            \
	do {                                                                                       \
		int rtc_ = rt_check(rt);                                                           \
		if (rtc_ != GCRT_OK)                                                               \
			return rtc_;                                                               \
		RETURN_CAUGHT(rt, call);                                                           \
	} while (0)
/* Leave the current catcher's frame after a recorded throw (used by
 * threads that notice the failure at a schedule point). */
_Noreturn void throw_unwind(struct gcrt_runtime *rt);

/* Append a state dump to buf (called by throw); each piece adds its own. */
typedef struct dumpbuf {
	char *p;
	size_t len, cap;
} dumpbuf;
void dumpf(dumpbuf *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mheap_dump(struct gcrt_runtime *rt, dumpbuf *d);
void work_dump(struct gcrt_runtime *rt, dumpbuf *d);
void sched_dump(struct gcrt_runtime *rt, dumpbuf *d);

/* Entry checks shared by the public API.  rt_check returns GCRT_OK,
 * GCRT_EBADRT or GCRT_EFAILED (inline: every public call runs it). */
static inline int rt_check(struct gcrt_runtime *rt)
{
	if (rt == NULL || rt->magic != GCRT_MAGIC)
		return GCRT_EBADRT;
	return atomic_load(&rt->thr.failed) ? GCRT_EFAILED : GCRT_OK;
}

/* rt_check, then GCRT_EINVAL if the entry point's other arguments are
 * bad: badargs is the caller's test of them, which must not read through
 * rt or through the arguments themselves. */
static inline int rt_check_args(struct gcrt_runtime *rt, bool badargs)
{
	int rc = rt_check(rt);
	return rc == GCRT_OK && badargs ? GCRT_EINVAL : rc;
}

/* The polls of the allocation and store fast paths (inline: every
 * allocation and pointer store runs them).  gcdue: whether gcpoll would
 * collect.  wbneeded: whether stores must shade (mbarrier.c says when a
 * caller may trust the answer). */
static inline bool gcdue(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	return ATOMIC_LOAD(rt, "gc.poll.pending", &gc->pending) &&
	       (ATOMIC_LOAD(rt, "gc.poll.opts", &gc->opts) & GCOptEnable) &&
	       ATOMIC_LOAD(rt, "gc.poll.percent", &gc->gcpercent) >= 0;
}

static inline bool wbneeded(struct gcrt_runtime *rt)
{
	return gcphase_greying(ATOMIC_LOAD(rt, "markwb.needed.phase", &rt->gc.phase));
}

/* Piece lifecycle, called in this order by gcrt_new and reversed by
 * gcrt_destroy. */
int mallocinit(struct gcrt_runtime *rt);
void mallocfini(struct gcrt_runtime *rt);
void gcworkinit(struct gcrt_runtime *rt);
void gcworkfini(struct gcrt_runtime *rt);
int schedinit(struct gcrt_runtime *rt);
void schedfini(struct gcrt_runtime *rt);
void gcinit(struct gcrt_runtime *rt);
void gcfini(struct gcrt_runtime *rt);

void sched_points_init(struct gcrt_runtime *rt);
void sched_points_fini(struct gcrt_runtime *rt);

#endif
