/* mgcwork.h: work buffers and the mark work lists (mgcwork.c).
 *
 * Grey objects wait in 4 KB workbufs.  A workbuf is on at most one of the
 * three lock-free lists of rt->work, or owned by exactly one thread:
 *   empty    nobj == 0
 *   partial  0 < nobj < WorkbufObjs
 *   full     nobj > 0 (usually, but not necessarily, WorkbufObjs)
 */
#ifndef GCRT_MGCWORK_H
#define GCRT_MGCWORK_H

#include "lfstack.h"
#include "parfor.h"

enum {
	WorkbufSize = 4096,
	/* 509 on 64-bit: 4096 - 16 (lfnode) - 8 (nobj), in words */
	WorkbufObjs = (WorkbufSize - sizeof(lfnode) - sizeof(uintptr_t)) / PtrSize,
	MaxGcproc = 32, /* most mark threads, and the size of markfor */
};

typedef struct workbuf {
	lfnode node; /* must be first */
	uintptr_t nobj;
	uintptr_t obj[WorkbufObjs];
} workbuf;

struct workdata {
	uint8_t pad_lists[CacheLineSize]; /* keeps the list heads on lines of their own */
	/* lfstack heads; pushed and popped by any marking thread */
	_Atomic uint64_t full, empty, partial;
	uint8_t pad0[CacheLineSize];
	_Atomic uint32_t nproc;  /* marking threads; stored by workbegin, before they start */
	int64_t tstart;          /* mark start (nanotime); written by workbegin */
	_Atomic uint32_t nwait;  /* threads idle in getfull; xadd by the markers */
	_Atomic uint32_t ndone;  /* markers finished; xadd by each marker at its end */
	note alldone;            /* woken by the last marker to finish */
	parfor *markfor;         /* root marking; persistentalloc'd at gcworkinit */
	_Atomic uint32_t markfor_busy; /* 1 while a parfor run holds markfor */
	rtlock wblock;           /* serializes allocating new workbufs */
	/* statistics (Go's gcstats), xadd by any thread */
	_Atomic uint64_t nbuf;   /* workbufs ever allocated */
	_Atomic uint64_t sys;    /* bytes of workbufs (Go's gc_sys share) */
	_Atomic uint64_t nhandoff, nhandoffcnt, nprocyield, nosyield, nsleep;
	_Atomic uint32_t mutant; /* M_* bits (mutants.h); set by tests between runs */
	/* test nodes for the lfstack hooks: one persistentalloc'd pool */
	struct lftestnode *testnodes; /* NULL until first use; under wblock */
	uint32_t ntestnodes;     /* nodes handed out; under wblock */
};

/* The work-list operations of the seed commit (mgcwork.c).  Each throws
 * on a buffer whose fill level does not belong on the target list. */
workbuf *getempty(struct gcrt_runtime *rt, workbuf *b);
void putempty(struct gcrt_runtime *rt, workbuf *b);
void putfull(struct gcrt_runtime *rt, workbuf *b);
workbuf *getpartialorempty(struct gcrt_runtime *rt);
void putpartial(struct gcrt_runtime *rt, workbuf *b);
void gcworkbuffree(struct gcrt_runtime *rt, workbuf *b);
workbuf *handoff(struct gcrt_runtime *rt, workbuf *b);
/* Pop full, then partial; NULL if both are empty.  Never waits. */
workbuf *trygetfull(struct gcrt_runtime *rt);
/* The termination barrier of the nproc markers (see mgcwork.c). */
workbuf *getfull(struct gcrt_runtime *rt, workbuf *b);
/* Start a mark with nproc markers (1..cfg.nprocs, else a throw). */
void workbegin(struct gcrt_runtime *rt, uint32_t nproc);
/* gc()'s check after the mark: full and partial must be empty. */
void workcheckempty(struct gcrt_runtime *rt);

#endif
