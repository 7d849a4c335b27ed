/* proc.h: goroutines (G), machines (M) and processors (P).
 *
 * A P is a right to run goroutine code and owns an mcache and a stack
 * cache.  An M is a pthread (or a host thread attached with gcrt_attach);
 * it holds a P while it runs a G.  A G is a status word, a stack of frames
 * (stack.h) and a step function that its M calls until the G yields,
 * parks or exits (proc.c).  The status word is only touched through the
 * primitives of gstatus.c.
 */
#ifndef GCRT_PROC_H
#define GCRT_PROC_H

#include "stack.h"

/* G status values (Go 1.4 runtime.h). */
enum {
	Gidle = 0,
	Grunnable = 1,
	Grunning = 2,
	Gsyscall = 3,
	Gwaiting = 4,
	Gmoribund_unused = 5,
	Gdead = 6,
	Genqueue = 7,
	Gcopystack = 8,
	Gscan = 0x1000,
	Gscanrunnable = Gscan + Grunnable,
	Gscanrunning = Gscan + Grunning,
	Gscansyscall = Gscan + Gsyscall,
	Gscanwaiting = Gscan + Gwaiting,
	Gscanenqueue = Gscan + Genqueue,
};

/* P status values. */
enum { Pidle = 0, Prunning = 1, Psyscall = 2, Pgcstop = 3, Pdead = 4 };

typedef struct gcrt_g G;
typedef struct m M;
typedef struct p P;

#define GCRT_G_MAGIC 0x6763727467212121ull

/* What a step function returns (also GCRT_STEP_* in gcrt.h). */
enum { StepYield = 0, StepPark = 1, StepExit = 2 };

typedef gcrt_stepfn stepfn;

/* Kinds of G. */
enum {
	Ghost = 1, /* a host thread attached with gcrt_attach; runs inline */
	Gstep = 2, /* a goroutine run by an M through its step function */
	Gtest = 3  /* a bare G for status tests; never runs */
};

struct gcrt_g {
	uint64_t magic;                 /* GCRT_G_MAGIC while the G exists */
	struct gcrt_runtime *rt;        /* owner; immutable */
	int64_t goid;                   /* immutable */
	int kind;                       /* G*; immutable */
	_Atomic uint32_t atomicstatus;  /* only through the status primitives */
	/* GC requests: written by stopg (any M) and by the G's own M. */
	_Atomic uint32_t gcworkdone;    /* phase work done this cycle */
	_Atomic uint32_t preemptscan;   /* scan own stack at the next safepoint */
	_Atomic uint32_t preempt;       /* preemption requested */
	_Atomic uintptr_t stackguard0;  /* stack.lo + StackGuard, or StackPreempt */
	M *_Atomic m;                   /* current M; written by the M running it */

	/* Stack and saved context: written by the G's own M while it runs
	 * the G, or by the copier while the G is Gcopystack. */
	gstack stack;
	gobuf sched;
	uintptr_t syscallsp;            /* nonzero while in a syscall */
	knownobjs known;                /* host G: its recent allocations while it runs;
					   cleared when it enters a syscall (proc.c) */

	/* Scheduler fields, under sched.lock. */
	G *schedlink;                   /* run queue link */
	uint32_t readypending;          /* a ready() came before the park */
	uint32_t parked;                /* parked by its step (Gwaiting), not in newstack */
	uint32_t spurious;              /* made runnable with no ready for its park */
	stepfn fn;                      /* immutable */
	void *arg;                      /* immutable */
	int32_t exitcode;               /* the step's last error (mutator) */
	G *alllink;                     /* allg list, under allglock */
};

struct m {
	int64_t id;                     /* immutable */
	G *_Atomic curg;                /* written by this M */
	P *_Atomic p;                   /* written by this M, or the world-stopper */
	P *nextp;                       /* P handed to this sleeping M, under sched.lock */
	mcache *mcache;                 /* = p->mcache while this M holds p; NULL otherwise */
	note park;                      /* sleeps here when idle or waiting for a P */
	M *schedlink;                   /* midle / syscall-wait lists, under sched.lock */
	int host;                       /* a host thread attached with gcrt_attach */
	rtthread thread;                /* the pthread (not for hosts) */
	M *alllink;                     /* allm list, under sched.lock */
};

struct p {
	int32_t id;                     /* immutable */
	_Atomic uint32_t status;        /* P* status; CAS by the acquirer */
	M *_Atomic m;                   /* owner while Prunning or Psyscall */
	mcache *mcache;                 /* allocated at schedinit, freed at schedfini */
	P *link;                        /* pidle list, under sched.lock */
	stackcache stackcache;          /* owned by the M holding this P */
};

struct schedt {
	rtlock lock;            /* guards the fields below unless said otherwise */
	P *allp;                /* nprocs Ps */
	int32_t nprocs;         /* immutable after schedinit */
	int64_t mcount;         /* Ms ever created (ids) */
	int64_t goidgen;        /* last goroutine id */

	G *runqhead, *runqtail; /* the global run queue */
	int32_t runqsize;
	P *pidle;               /* idle Ps */
	int32_t npidle;
	M *midle;               /* idle Ms, sleeping on their park note */
	int32_t nmidle;
	M *syswait;             /* Ms back from a syscall, waiting for a P */
	M *allm;                /* every M, for teardown */
	int32_t nms;            /* Ms started by gcrt_start */
	int32_t nlive;          /* goroutines started and not yet exited */
	int shutdown;           /* Ms exit when idle (gcrt_destroy) */

	/* Stop-the-world (Go's sched.gcwaiting / stopwait / stopnote). */
	_Atomic uint32_t gcwaiting;
	int32_t stopwait;
	note stopnote;
	_Atomic uint32_t worldsema; /* one stopper at a time */
	_Atomic uint32_t hoststopped; /* stopped by gcrt_stoptheworld */
	_Atomic uintptr_t hoststopper; /* its thread (pthread_self) */

	rtlock allglock;        /* guards allg */
	G *allg;
	int32_t allglen;

	struct stackpool stk;   /* stack pool and frame descriptors (stack.c) */
};

/* gstatus.c: the status primitives (Go's names and throws). */
uint32_t readgstatus(struct gcrt_runtime *rt, G *gp);
void casgstatus(struct gcrt_runtime *rt, G *gp, uint32_t oldval, uint32_t newval);
bool castogscanstatus(struct gcrt_runtime *rt, G *gp, uint32_t oldval, uint32_t newval);
void casfromgscanstatus(struct gcrt_runtime *rt, G *gp, uint32_t oldval, uint32_t newval);
bool isscanstatus(struct gcrt_runtime *rt, uint32_t status);
/* Move a Gwaiting or Grunnable G to Gcopystack; returns which it was. */
uint32_t casgcopystack(struct gcrt_runtime *rt, G *gp);
bool stopg(struct gcrt_runtime *rt, G *gp);
void restartg(struct gcrt_runtime *rt, G *gp);
/* The GC phase's per-G work at a safe point, on a G whose scan bit the
 * caller holds: scanstack in GCscan, GCmark and GCmarktermination, nothing
 * in the other phases; then gcworkdone. */
void gcphasework(struct gcrt_runtime *rt, G *gp);

/* proc.c */
void ready(struct gcrt_runtime *rt, G *gp);
/* Shut the scheduler down: Ms exit when idle (the first half of
 * gcrt_destroy's stop; a controlled scenario ends its run with it). */
void schedshutdown(struct gcrt_runtime *rt);
/* A G handle passed in with its runtime: rt live and g a G of rt. */
int gcheckrt(struct gcrt_runtime *rt, G *g);
/* The body of a public entry point that makes a G: checks rt and out,
 * takes a fresh G of the kind (status Gidle, no stack) and hands it to
 * setup under a catcher; setup frees the G when it fails. */
int newgentry(struct gcrt_runtime *rt, int kind, int (*setup)(struct gcrt_runtime *, G *, G **),
	      G **out);
/* Link gp into allg (under allglock). */
void allgadd(struct gcrt_runtime *rt, G *gp);
void stoptheworld(struct gcrt_runtime *rt);
void starttheworld(struct gcrt_runtime *rt);
void entersyscall(struct gcrt_runtime *rt, G *gp);
void exitsyscall(struct gcrt_runtime *rt, G *gp);
/* A safepoint poll: handles a pending preemption; returns true when the
 * G must yield (its step function returns StepYield). */
bool safepoint(struct gcrt_runtime *rt, G *gp);
/* A collection requested by the running G gp (the mutator's GC op, Go's
 * runtime.GC): gp gives up its P like a syscall while it collects. */
void gcrequest(struct gcrt_runtime *rt, G *gp);
/* Before the running G gp allocates: a due paced collection, without
 * gp's P. */
void mallocpoll(struct gcrt_runtime *rt, G *gp);
/* The P the running G holds (NULL in a syscall). */
P *gp_p(struct gcrt_runtime *rt, G *gp);

#endif
