/* mgc.h: collection state (mgc.c, mgcmark.c, mgcsweep.c, mfinal.c).
 *
 * One struct gcstate per runtime (rt->gc): the phase, the roots the host
 * registered (global regions and pins), finalizer queue, sweep state, the
 * world-stop protocol that stands in for stoptheworld until the proc
 * branch provides it, pacing and the statistics the collector keeps.
 */
#ifndef GCRT_MGC_H
#define GCRT_MGC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Phases (the dev.garbage order). */
enum {
	GCoff = 0,
	GCquiesce = 1,
	GCstw = 2,
	GCscan = 3,
	GCmark = 4,
	GCmarktermination = 5,
	GCsweep = 6,
};

/* Whether a collection in phase greys with the world running, so that
 * pointer stores must shade (the write barrier's test). */
static inline bool gcphase_greying(uint32_t phase)
{
	return phase == GCscan || phase == GCmark || phase == GCmarktermination;
}

/* Root indices of markroot. */
enum {
	RootData = 0,       /* registered global regions */
	RootPins = 1,       /* host-held references */
	RootFinalizers = 2, /* finq: objects whose finalizer waits to run */
	RootSpans = 3,      /* finalizer specials: the referents of their objects */
	RootFlushCaches = 4,
	RootCount = 5,
};

/* Option bits (gcrt_gc_options). */
enum {
	GCOptEnable = GCRT_GC_ENABLE,       /* collect when heap_live reaches next_gc */
	GCOptGctrace = GCRT_GC_GCTRACE,     /* a gctrace line per collection on stderr */
	GCOptCheckmark = GCRT_GC_CHECKMARK, /* verify every mark from the roots */
	GCOptStw = GCRT_GC_STW,             /* plain stop-the-world cycle (no gcscan_m) */
	GCOptTrace = GCRT_GC_TRACE,         /* record phase events (Chrome trace) */
	GCOptClobberfree = GCRT_GC_CLOBBERFREE, /* poison freed memory whole */
};

/* A registered global region: nbits words from base, mask 2 bits a word
 * (Go's dense BitVector: BitsScalar / BitsPointer). */
typedef struct gcroot {
	uintptr_t base, size;
	uint8_t *mask;
	uint32_t nbits;
} gcroot;

/* A pin: a host-held reference, counted. */
typedef struct gcpin {
	uintptr_t obj; /* 0 = empty slot */
	uint64_t count;
} gcpin;

/* A finalizer special on a span (kind KindSpecialFinalizer). */
typedef struct specialfinalizer {
	special sp; /* must be first */
	void (*fn)(struct gcrt_runtime *, void *, void *);
	void *arg;
} specialfinalizer;

enum { KindSpecialFinalizer = 1 };

/* A finalizer waiting to run: obj is a root until it has run. */
typedef struct finalizer {
	struct finalizer *next;
	void *obj;
	void (*fn)(struct gcrt_runtime *, void *, void *);
	void *arg;
} finalizer;

/* A complete event of the phase trace ("X" in the Chrome trace format). */
typedef struct traceev {
	const char *name; /* static string */
	int64_t ts, dur;  /* ns, nanotime */
	uint32_t tid;     /* 0 = collecting thread, k = helper k, 100 = bgsweep */
	uint32_t numgc;
} traceev;

enum { TraceEvents = 4096 };

typedef struct gchelper {
	rtthread t;
	note park;       /* woken for a mark; cleared by the helper */
	uint32_t id;     /* 1.. (the master is 0) */
} gchelper;

struct gcstate {
	/* Read by every allocation and pointer store (gcdue, wbneeded), hardly
	 * ever written: padded onto a line of their own, apart from what other
	 * threads write (the scheduler's fields before, the world and the
	 * sweepers' counters after). */
	uint8_t pad_hot[CacheLineSize];
	_Atomic uint32_t phase;     /* GC*; written by the collector with the world stopped */
	_Atomic uint32_t opts;      /* GCOpt* bits; any thread */
	_Atomic int32_t gcpercent;  /* GOGC; -1 = off */
	_Atomic uint32_t pending;   /* heap_live reached next_gc */
	uint8_t pad_hotend[CacheLineSize];

	/* world: stands in for stoptheworld.  A mutator entry (API call or
	 * allocation) counts itself in nmutators or sets its cache's busy
	 * flag, then checks stopping; the collector sets stopping and waits
	 * for both to drain.  gclock serializes collections (worldsema). */
	rtlock gclock;
	_Atomic uint32_t stopping;
	_Atomic uint32_t nmutators;
	_Atomic uint64_t owner; /* pthread id of the thread collecting, or 0 */

	/* roots (under rootlock) */
	rtlock rootlock;
	gcroot *roots;
	uint32_t nroots, rootscap;
	gcpin *pins;      /* open-addressed by object address */
	uint32_t npins, pinscap;

	/* finalizers (under finlock) */
	rtlock finlock;
	specialfinalizer *freespecials;
	finalizer *finq;     /* queued by sweep, run by fing */
	finalizer *freefin;
	finalizer *finrun;   /* the batch fing is running (still roots) */
	uint32_t finparked;
	_Atomic uint32_t finexit;
	note finnote;        /* wakes fing */
	rtthread fing;
	uint32_t fingstarted;
	_Atomic uint64_t nfinalizers_run;

	/* sweep */
	mspan **spans;         /* snapshot of allspans being swept */
	uint32_t nspan;
	_Atomic uint32_t spanidx;
	_Atomic uint32_t sweepdone;
	_Atomic uint64_t nsweeps;     /* MSpan_Sweep calls ever */
	_Atomic uint64_t nbgsweep, npausesweep; /* since the last gctrace line */
	_Atomic uint64_t nbgsweep_total;
	rtthread bgsweep;
	rtlock sweeplock;          /* guards bgstarted, bgparked */
	uint32_t bgstarted, bgparked;
	_Atomic uint32_t bgexit;   /* set once at destroy */
	note bgnote;

	/* goroutines of this mark: allg snapshot, world stopped (malloc'd) */
	G **allgs;
	uint32_t nallgs, allgscap;

	/* helpers */
	gchelper helpers[MaxGcproc];
	uint32_t nhelpers;       /* started */
	_Atomic uint32_t helpexit;
	_Atomic uint32_t helpgen; /* +1 per parallel mark; helpers run once per value */

	/* pacing and stats */
	_Atomic uint64_t heap_live;  /* bytes in cached spans, large and swept-live objects */
	_Atomic uint64_t next_gc;
	_Atomic uint64_t nsmallfree[NumSizeClasses];
	_Atomic uint64_t largefree, nlargefree;
	uint32_t numgc;          /* under gclock (written), read under heap lock in stats */
	_Atomic uint32_t numgc_atomic; /* the collection being traced (gcN, 1-based) */
	uint64_t pause_ns[256];
	uint64_t pause_total_ns;
	uint64_t last_gc;
	uint32_t lastnproc;
	uint64_t *checkbits;     /* checkmark's bitmap, one bit a heap word, and */
	uintptr_t *checkstack;   /* its stack (malloc'd; left to gcfini by a throw) */
	rtlock tracelock;        /* guards the ring below */
	traceev *trace;          /* TraceEvents entries, malloc'd at first use */
	uint64_t ntrace;         /* events ever recorded */
	void (*markhook)(struct gcrt_runtime *, void *);
	void *markhookarg;
};

void gcinit(struct gcrt_runtime *rt);
/* Record a phase that ran on thread tid from t0 until now (if tracing). */
void gctrace_event(struct gcrt_runtime *rt, const char *name, uint32_t tid, int64_t t0,
		   int64_t t1);
void gcfini(struct gcrt_runtime *rt);

/* world (mgc.c) */
void mutator_enter(struct gcrt_runtime *rt);
void mutator_exit(struct gcrt_runtime *rt);
void cache_enter(struct gcrt_runtime *rt, mcache *c);
void cache_exit(mcache *c);
/* The collector's side, gclock held: stop the host API calls (after the
 * Ps), start them again. */
void world_stop(struct gcrt_runtime *rt);
void world_start(struct gcrt_runtime *rt);
/* A forced collection with eager sweep (runtime.GC) from a thread that
 * holds no P. */
int gcollect(struct gcrt_runtime *rt);
/* A collection if pacing asks for one (called before allocating, holding
 * no P; gcdue in runtime.h says whether it would collect). */
void gcpoll(struct gcrt_runtime *rt);
/* Pacing: an allocation slow path (may set pending), a swept free. */
void gcpace_alloc(struct gcrt_runtime *rt);
void gcpace_free(struct gcrt_runtime *rt, uint64_t bytes);
/* The stats record (mstats.c), under the heap lock. */
void stats_fill(struct gcrt_runtime *rt, gcrt_stats *st);

/* mark (mgcmark.c) */
void gcmark(struct gcrt_runtime *rt, uint32_t nproc);
void markroot(parfor *desc, uint32_t i);
/* The phase's stack work on a claimed G (gcphasework). */
void scanstack(struct gcrt_runtime *rt, G *gp);
void gchelper_run(struct gcrt_runtime *rt, uint32_t id);
void checkmark(struct gcrt_runtime *rt);
void shade(struct gcrt_runtime *rt, void *p);
int pinned_count(struct gcrt_runtime *rt, uintptr_t obj);

/* sweep (mgcsweep.c) */
uintptr_t sweepone(struct gcrt_runtime *rt);
/* sweepone for the background sweeper, counted in the world. */
uintptr_t bgsweepone(struct gcrt_runtime *rt);
int mspan_sweep(struct gcrt_runtime *rt, mspan *s, int preserve);
void mspan_ensureswept(struct gcrt_runtime *rt, mspan *s);
void finishsweep_m(struct gcrt_runtime *rt);
void mheap_reclaim(struct gcrt_runtime *rt, uintptr_t npages);
void sweepstart(struct gcrt_runtime *rt, int eager);
void bgsweep_stop(struct gcrt_runtime *rt);

/* finalizers (mfinal.c) */
void queuefinalizer(struct gcrt_runtime *rt, specialfinalizer *f, void *obj);
void finq_scan(struct gcrt_runtime *rt, void (*fn)(struct gcrt_runtime *, void *, void *), void *ctx);
void fing_stop(struct gcrt_runtime *rt);

#endif
