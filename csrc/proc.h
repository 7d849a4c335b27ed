/* proc.h: goroutines (G), machines (M) and processors (P).
 *
 * A P is a right to run Go code and owns an mcache.  An M is a thread; it
 * holds a P while it runs a G.  A host thread joins with gcrt_attach: it
 * becomes an M that owns an idle P and runs one G inline.
 */
#ifndef GCRT_PROC_H
#define GCRT_PROC_H

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

struct gcrt_g {
	uint64_t magic;                 /* GCRT_G_MAGIC while the G exists */
	struct gcrt_runtime *rt;        /* owner; immutable */
	_Atomic uint32_t atomicstatus;  /* only through the status primitives */
	int64_t goid;                   /* immutable */
	M *m;                           /* current M; written by the M running it */
};

struct m {
	int64_t id;      /* immutable */
	G *curg;         /* written by this M */
	P *p;            /* written by this M, or by the world-stopper */
	mcache *mcache;  /* = p->mcache while this M holds p; NULL otherwise */
};

struct p {
	int32_t id;               /* immutable */
	_Atomic uint32_t status;  /* P* status; CAS by the acquirer */
	M *m;                     /* owner while Prunning */
	mcache *mcache;           /* allocated at schedinit, freed at schedfini */
};

struct schedt {
	rtlock lock;            /* guards the fields below */
	P *allp;                /* nprocs Ps */
	int32_t nprocs;         /* immutable after schedinit */
	int64_t mcount;         /* Ms ever created (ids) */
	int64_t goidgen;        /* last goroutine id */
};

#endif
