/* schedctl.h: the deterministic schedule controller and its scenarios.
 *
 * schedctl.c holds the controller (one M runs at a time, baton passing),
 * schedtest.c the harness that runs a scenario under it and the toy
 * scenarios.  A scenario is a small concurrent program plus an oracle; any
 * runtime piece adds its own by defining one in its own file:
 *
 *     static int mysetup(struct gcrt_runtime *rt, void *ctx, const schedparams *p);
 *     static void mybody(struct gcrt_runtime *rt, void *ctx, int m);
 *     static const char *mycheck(struct gcrt_runtime *rt, void *ctx, char *buf, size_t n);
 *     SCHED_SCENARIO_DEF(lfstack, 2, 3, struct lfctx, SCENARIO_MUTANTS("lf_aba"),
 *                        mysetup, mybody, mycheck, NULL, "...");
 *
 * (the descriptor is named after its identifier; check and teardown may be
 * NULL).  The descriptor lands in ELF section gcrt_scn, so no central table is
 * edited.  setup runs on the calling thread before the Ms start (its points
 * are not scheduled), body(m) is the program of M m (0..n_ms-1), check runs
 * after every M is done and returns NULL or a message (the oracle).
 * Values a body passes to points should be symbolic (indices, counts), not
 * addresses, so traces hash the same in every run.
 */
#ifndef GCRT_SCHEDCTL_H
#define GCRT_SCHEDCTL_H

#include <semaphore.h>

#include "runtime.h"
#include "gcrt_test.h"

enum {
	MaxCtlMs = 16,  /* Ms one controlled run may have */
	MaxParams = 16, /* scenario parameters */
	MaxPctDepth = 16,
};

typedef struct schedparams {
	int n_ms;
	int mutant; /* 0 = none, else 1 + index into the scenario's mutants */
	int nparams;
	int64_t p[MaxParams]; /* missing parameters are 0 */
} schedparams;

typedef struct sched_scenario {
	const char *name;
	const char *doc;
	int min_ms, max_ms;
	const char *const *mutants; /* NULL-terminated names, or NULL */
	size_t ctxsize;             /* zeroed context handed to every callback */
	int (*setup)(struct gcrt_runtime *rt, void *ctx, const schedparams *p);
	void (*body)(struct gcrt_runtime *rt, void *ctx, int m);
	const char *(*check)(struct gcrt_runtime *rt, void *ctx, char *buf, size_t n);
	void (*teardown)(struct gcrt_runtime *rt, void *ctx);
} sched_scenario;

#define SCHED_SCENARIO(ident)                                                                    \
	const sched_scenario scn_##ident                                                         \
	    __attribute__((section("gcrt_scn"), used, aligned(8)))

/* A check's failure: formats the message into buf (n bytes) and returns buf. */
const char *checkfail(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A NULL-terminated mutant list for a descriptor. */
#define SCENARIO_MUTANTS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Defines scenario ident (its name is #ident) with every descriptor field. */
#define SCHED_SCENARIO_DEF(ident, msmin, msmax, ctxtype, muts, fsetup, fbody, fcheck, fteardown,  \
			   docstr)                                                               \
	SCHED_SCENARIO(ident) = {.name = #ident,                                                  \
				 .doc = docstr,                                                   \
				 .min_ms = msmin,                                                 \
				 .max_ms = msmax,                                                 \
				 .mutants = muts,                                                 \
				 .ctxsize = sizeof(ctxtype),                                      \
				 .setup = fsetup,                                                 \
				 .body = fbody,                                                   \
				 .check = fcheck,                                                 \
				 .teardown = fteardown}

/* M states in controlled mode. */
enum { MsRunnable, MsYielded, MsBlocked, MsDone };

typedef struct ctlm {
	rtthread *t;
	pthread_t tid;
	sem_t sem;         /* the M parks here while another holds the baton */
	int state;
	const void *blockon;
	int64_t until;     /* virtual deadline of a timed block, -1 = none */
	int32_t lastsite;
	uint32_t sincespin; /* own steps since its last spin */
	uint32_t prio;     /* PCT priority (higher runs first) */
} ctlm;

typedef struct schedctl {
	struct gcrt_runtime *rt;
	int n;            /* Ms registered, in creation order */
	int cur;          /* the M holding the baton, -1 before the run */
	int running;      /* between ctl_go and the last M's exit */
	int cpu;          /* the CPU every M is pinned to, -1 until the first */
	_Atomic int ndone;
	_Atomic int aborting;
	sem_t done;       /* posted once every M is done */
	ctlm ms[MaxCtlMs];

	int outcome;      /* GCRT_SCHED_OUT_* */
	char msg[1024];

	/* strategy */
	int strategy;
	const uint8_t *tape;
	uint32_t ntape, tapepos;
	const uint8_t *faults;
	uint32_t nfaults, faultpos;
	uint32_t fault_permille;
	const uint8_t *armed; /* per site id: may this fault site fire; NULL = all */
	uint64_t rng;
	int pctdepth;
	uint32_t change[MaxPctDepth]; /* PCT change points (choice numbers) */
	uint64_t nchoice;             /* decisions taken (points with a real choice) */

	/* what happened */
	uint8_t *rec;    /* decisions taken, in tape form */
	uint32_t nrec, caprec;
	uint8_t *frec;   /* fault decisions taken */
	uint32_t nfrec, capfrec;
	uint64_t step, maxsteps;
	uint32_t spins, maxspin; /* spin steps since the last progress */
	int64_t vclock;
	uint64_t nswitch, npreempt;
	int lastm, pendflags;
	uint64_t hash;
	gcrt_sched_event *trace; /* ring */
	uint32_t tracecap;
	uint64_t nevents;

	/* schedule points, sorted by name: id = rank */
	int nsites;
	const sched_site **sorted;
	int32_t *rank; /* section index -> id */

	/* sched_sym: addresses seen in trace values, open addressing */
	const void **symkey;
	uint64_t *symid;
	uint32_t nsym, capsym;
} schedctl;

/* schedctl.c */
schedctl *ctl_new(struct gcrt_runtime *rt, const gcrt_sched_opts *o);
void ctl_free(schedctl *c);
int ctl_register(struct gcrt_runtime *rt, rtthread *t);
void ctl_started(struct gcrt_runtime *rt, int m, pthread_t tid);
int ctl_begin(struct gcrt_runtime *rt, int m);
void ctl_end(struct gcrt_runtime *rt, int m);
void ctl_join(struct gcrt_runtime *rt, rtthread *t);
void ctl_go(schedctl *c);
int ctl_at(struct gcrt_runtime *rt, const sched_site *site, uint64_t value);
void ctl_fail(schedctl *c, int outcome, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* sched.c: the site table */
int sched_sites(const sched_site ***sorted, int32_t **rank);
uint32_t sched_sitehash(void);

#endif
