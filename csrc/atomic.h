/* atomic.h: the one door to shared memory.
 *
 * Every access to a field that more than one thread touches goes through a
 * macro in this file, and every macro carries a named schedule point
 * ("lfstack.pop.cas", "mheap.lock", ...).  A schedule point is where a later
 * controller may switch threads, inject a fault, or record a trace step.
 *
 *   - Release build (GCRT_SCHED=0): a point compiles to nothing.
 *   - Test build (GCRT_SCHED=1): a point is one relaxed load of
 *     rt->schedmode and a never-taken branch while no controller is active.
 *
 * All atomics are sequentially consistent (Go's 2014 cas/xadd/atomicload
 * were full barriers).  Each site owns a static const descriptor placed in
 * the "gcrt_sp" ELF section so the set of points can be listed at run time.
 *
 * Waiting: every loop that waits for another thread contains a SCHED_SPIN
 * (a busy iteration) or blocks in a lock or note below.  Locks and notes
 * wait in bounded slices and re-check the runtime's failure flag, so a
 * recorded throw on one thread never leaves another blocked forever.  In
 * controlled mode (schedctl.c) they never block for real: a contended lock
 * or an unsignalled note parks the M with SCHED_BLOCK on the object, and
 * UNLOCK / notewakeup SCHED_WAKE it.
 */
#ifndef GCRT_ATOMIC_H
#define GCRT_ATOMIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef GCRT_SCHED
#define GCRT_SCHED 1
#endif

struct gcrt_runtime;

/* A schedule point's identity.  Immutable; lives in section gcrt_sp. */
typedef struct sched_site {
	const char *name;
	const char *file;
	int line;
	int kind;
} sched_site;

enum {
	SP_STEP = 0,  /* before a shared-memory operation */
	SP_SPIN = 1,  /* one iteration of a wait loop */
	SP_BLOCK = 2, /* about to block on a lock or note */
	SP_FAULT = 3, /* a step where a fault may be injected (CAS, SCHED_FAULT) */
	SP_NOTE = 4,  /* trace only: a value observed after an operation */
	SP_WAIT = 5   /* a controlled M waits here until woken (SCHED_BLOCK) */
};

/* Slow path of a point, taken only while rt->schedmode != 0.
 * Returns nonzero when the controller injects a fault at this site
 * (a spurious CAS failure, for instance). */
int sched_at(struct gcrt_runtime *rt, const sched_site *site, uint64_t value);
/* Controlled mode only (schedctl.c): park the calling M until SCHED_WAKE
 * on obj, or until the virtual clock reaches until_ns (-1: no deadline). */
void sched_block(struct gcrt_runtime *rt, const sched_site *site, const void *obj,
		 int64_t until_ns);
void sched_wake(struct gcrt_runtime *rt, const void *obj);
/* True when the calling thread is the M holding the controller's baton. */
bool sched_controlled(struct gcrt_runtime *rt);
/* A symbolic name for an address in trace values: in a controlled run,
 * 1, 2, ... in order of first use by the baton holder (deterministic,
 * unlike the address); 0 for NULL.  Elsewhere any value (traces are off). */
uint64_t sched_sym(struct gcrt_runtime *rt, const void *p);

/* A site descriptor, in the gcrt_sp section in the test build (the
 * controller defines a few itself); the release build lists no sites. */
#if GCRT_SCHED
#define SCHED__SECTION __attribute__((section("gcrt_sp"), used, aligned(8)))
#else
#define SCHED__SECTION __attribute__((unused))
#endif
#define SCHED__DEFSITE(NAME, KIND)                                                            \
	static const sched_site gcrt__sp SCHED__SECTION = {NAME, __FILE__, __LINE__, KIND}

#if GCRT_SCHED
#define SCHED__SITE(rt, NAME, KIND, V)                                                       \
	__extension__({                                                                          \
		static const sched_site gcrt__sp                                                 \
		    __attribute__((section("gcrt_sp"), used, aligned(8))) = {NAME, __FILE__,     \
									     __LINE__, KIND};    \
		__builtin_expect(atomic_load_explicit(&(rt)->schedmode, memory_order_relaxed) !=  \
				     0,                                                          \
				 0)                                                              \
		    ? sched_at((rt), &gcrt__sp, (uint64_t)(V))                                   \
		    : 0;                                                                         \
	})
#define SCHED__MODE(rt) atomic_load_explicit(&(rt)->schedmode, memory_order_relaxed)
/* Wait (controlled mode, calling M only) until SCHED_WAKE(obj) or the
 * virtual clock passes UNTIL (ns, -1 = never). */
#define SCHED_BLOCK_UNTIL(rt, NAME, OBJ, UNTIL)                                               \
	do {                                                                                     \
		SCHED__DEFSITE(NAME, SP_WAIT);                                                   \
		sched_block((rt), &gcrt__sp, (OBJ), (UNTIL));                                    \
	} while (0)
/* Make every M waiting on OBJ runnable again (no-op unless controlled). */
#define SCHED_WAKE(rt, OBJ)                                                                      \
	do {                                                                                     \
		if (__builtin_expect(SCHED__MODE(rt) == SCHED_CONTROL, 0))                                   \
			sched_wake((rt), (OBJ));                                                 \
	} while (0)
#define SCHED_CONTROLLED(rt) (SCHED__MODE(rt) == SCHED_CONTROL && sched_controlled(rt))
#else
/* V is not evaluated, only named (helpers that compute it stay used). */
#define SCHED__SITE(rt, NAME, KIND, V) ((void)(rt), (void)sizeof(V), 0)
#define SCHED_BLOCK_UNTIL(rt, NAME, OBJ, UNTIL) ((void)(rt), (void)(OBJ), (void)(UNTIL))
#define SCHED_WAKE(rt, OBJ) ((void)(rt), (void)(OBJ))
#define SCHED_CONTROLLED(rt) ((void)(rt), 0)
#endif
#define SCHED_BLOCK(rt, NAME, OBJ) SCHED_BLOCK_UNTIL(rt, NAME, OBJ, -1)

/* A plain point before an operation; V is a value recorded in the trace. */
#define SCHED_POINT(rt, NAME) ((void)SCHED__SITE(rt, NAME, SP_STEP, 0))
#define SCHED_POINT_V(rt, NAME, V) ((void)SCHED__SITE(rt, NAME, SP_STEP, V))
/* One iteration of a wait loop: the thread is spinning, not progressing. */
#define SCHED_SPIN(rt, NAME) ((void)SCHED__SITE(rt, NAME, SP_SPIN, 0))
/* A point that may inject a fault; evaluates to nonzero to inject it.
 * In controlled mode each occurrence consumes one entry of the fault tape. */
#define SCHED_FAULT(rt, NAME) SCHED__SITE(rt, NAME, SP_FAULT, 0)
/* The same, recording V (e.g. the value a CAS expects) in the trace. */
#define SCHED_FAULT_V(rt, NAME, V) SCHED__SITE(rt, NAME, SP_FAULT, V)
/* Trace only: V is the value an operation observed or produced (after
 * it), e.g. the head a CAS installed; never a switch. */
#define SCHED_NOTE(rt, NAME, V) ((void)SCHED__SITE(rt, NAME, SP_NOTE, V))

/* ---- sequentially consistent atomics, each with its point ---- */

#define ATOMIC_LOAD(rt, NAME, p) (SCHED_POINT(rt, NAME), atomic_load(p))
/* A load whose point records V (what is being read, e.g. a node). */
#define ATOMIC_LOAD_V(rt, NAME, p, V) (SCHED_POINT_V(rt, NAME, V), atomic_load(p))
#define ATOMIC_STORE(rt, NAME, p, v) (SCHED_POINT(rt, NAME), atomic_store((p), (v)))
#define ATOMIC_XADD(rt, NAME, p, d) (SCHED_POINT(rt, NAME), atomic_fetch_add((p), (d)) + (d))
#define ATOMIC_XCHG(rt, NAME, p, v) (SCHED_POINT(rt, NAME), atomic_exchange((p), (v)))
#define ATOMIC_OR8(rt, NAME, p, v) (SCHED_POINT(rt, NAME), (void)atomic_fetch_or((p), (v)))

/* Compare-and-swap by value.  A controller may make it fail spuriously,
 * which every caller must tolerate (they all retry, as in Go). */
#define ATOMIC_CAS32(rt, NAME, p, o, n) (!SCHED_FAULT(rt, NAME) && cas32((p), (o), (n)))
#define ATOMIC_CAS64(rt, NAME, p, o, n) (!SCHED_FAULT(rt, NAME) && cas64((p), (o), (n)))
#define ATOMIC_CASP(rt, NAME, p, o, n) (!SCHED_FAULT(rt, NAME) && casp((p), (o), (n)))
/* CAS of *seenp to n whose point records V (symbolic: no addresses); a
 * failed CAS leaves the value it found in *seenp (unchanged when the
 * failure was injected), so the trace can tell what the CAS saw. */
#define ATOMIC_CAS64_SEEN(rt, NAME, p, seenp, n, V)                                              \
	(!SCHED_FAULT_V(rt, NAME, V) && atomic_compare_exchange_strong((p), (seenp), (n)))

static inline bool cas32(_Atomic uint32_t *p, uint32_t old, uint32_t new_)
{
	return atomic_compare_exchange_strong(p, &old, new_);
}

static inline bool cas64(_Atomic uint64_t *p, uint64_t old, uint64_t new_)
{
	return atomic_compare_exchange_strong(p, &old, new_);
}

static inline bool casp(void *_Atomic *p, void *old, void *new_)
{
	return atomic_compare_exchange_strong(p, &old, new_);
}

/* ---- back-off ---- */

static inline void procyield(int n)
{
	for (int i = 0; i < n; i++)
		__builtin_ia32_pause();
}

void osyield(void);
void gcrt_usleep(uint32_t usec);
int64_t nanotime(void);
/* Time as the runtime sees it: in controlled mode a virtual clock that
 * advances one tick per schedule step (deterministic); otherwise the real
 * monotonic clock and a real sleep.  Runtime code uses these. */
int64_t rt_nanotime(struct gcrt_runtime *rt);
void rt_usleep(struct gcrt_runtime *rt, uint32_t usec);

/* ---- runtime locks ----
 * A mutex that a thread blocked on it can abandon when the runtime fails. */
typedef struct rtlock {
	pthread_mutex_t mu;
} rtlock;

void lock_init(rtlock *l);
void lock_destroy(rtlock *l);
void lock_slow(struct gcrt_runtime *rt, rtlock *l);

#define LOCK(rt, l, NAME)                                                                        \
	do {                                                                                     \
		(void)SCHED__SITE(rt, NAME, SP_BLOCK, 0);                                            \
		if (pthread_mutex_trylock(&(l)->mu) != 0)                                        \
			lock_slow((rt), (l));                                                    \
	} while (0)
#define UNLOCK(rt, l, NAME)                                                                      \
	do {                                                                                     \
		pthread_mutex_unlock(&(l)->mu);                                                  \
		SCHED_WAKE(rt, l);                                                               \
		SCHED_POINT(rt, NAME);                                                           \
	} while (0)

/* ---- notes: one-shot wakeups (Go's Note) ----
 * noteclear, then any number of sleepers wait until one notewakeup. */
typedef struct note {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int key;
} note;

void note_init(note *n);
void note_destroy(note *n);
void noteclear(note *n);
void notewakeup(struct gcrt_runtime *rt, note *n);
void notesleep(struct gcrt_runtime *rt, note *n);
/* Sleep at most ns nanoseconds; true if woken. */
bool notetsleep(struct gcrt_runtime *rt, note *n, int64_t ns);

#endif
