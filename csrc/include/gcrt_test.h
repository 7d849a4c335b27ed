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


/* ---- goroutines, Ms, Ps, stacks (proc.c, stack.c, mutator.c) ---- */


/* ---- deterministic scheduling (sched.c, schedctl.c, schedtest.c) ----
 * gcrt_test_sched_run runs a registered scenario with n_ms Ms on a fresh
 * runtime (record mode) under the controller: exactly one M runs at a
 * time and the strategy decides at every schedule point who runs next.
 * Tape decisions, taken only where more than one M can run (past the
 * tape's end, 0): 0 = keep running, k = switch to the k-th other runnable M
 * in cyclic order; when the current M cannot run (or for the first turn),
 * d = take the d-th runnable M after it (0 = the next one).  Faults: one
 * tape entry per occurrence of an armed fault site, nonzero = inject.
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
