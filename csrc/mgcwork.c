/* mgcwork.c: work buffers on three lock-free lists, and getfull, the
 * termination barrier of the mark (Go's mgc0.c after the seed commit).
 *
 * Lists and their membership invariants (checked at every put and get):
 *   empty    nobj == 0                     putempty, getempty
 *   partial  0 < nobj < WorkbufObjs        putpartial, getpartialorempty
 *   full     nobj > 0                      putfull, getfull, handoff
 * A buffer that is on no list is owned by exactly one thread.  Buffers
 * come from persistentalloc and are never freed (lfstack needs
 * type-stable nodes); a new one is made under wblock when empty is empty.
 *
 * getfull(b) is the barrier for the work.nproc markers.  A marker that
 * finds no buffer on full or partial counts itself in nwait and waits;
 * when work shows up on either list it uncounts itself and tries to take
 * it.  When nwait == nproc every marker is idle and holds nothing, so no
 * new work can appear: all of them return NULL, together.  The seed
 * watched only full in the wait loop (work left on partial did not wake
 * anyone); that form is the mutant M_GETFULL_PARTIAL.
 */
#include <string.h>

#include "runtime.h"
#include "mutants.h"

int throw_has_catcher(struct gcrt_runtime *rt);

_Static_assert(sizeof(workbuf) == WorkbufSize, "runtime: size of Workbuf is suboptimal");
_Static_assert(offsetof(workbuf, node) == 0, "workbuf: node must be first");

static workbuf *newworkbuf(struct gcrt_runtime *rt)
{
	struct workdata *w = &rt->work;
	LOCK(rt, &w->wblock, "getempty.wblock.lock");
	workbuf *b = persistentalloc(rt, sizeof *b, CacheLineSize, &w->sys);
	b->nobj = 0;
	(void)ATOMIC_XADD(rt, "getempty.nbuf", &w->nbuf, 1);
	UNLOCK(rt, &w->wblock, "getempty.wblock.unlock");
	return b;
}

/* An empty buffer off work.empty, or a new one.  A given b goes to full. */
workbuf *getempty(struct gcrt_runtime *rt, workbuf *b)
{
	if (b != NULL)
		putfull(rt, b);
	b = (workbuf *)lfstackpop(rt, &rt->work.empty);
	if (b != NULL && b->nobj != 0)
		throwf(rt, "getempty: workbuffer not empty, b->nobj not 0 (b=%p nobj=%zu)",
		       (void *)b, (size_t)b->nobj);
	if (b == NULL)
		b = newworkbuf(rt);
	return b;
}

void putempty(struct gcrt_runtime *rt, workbuf *b)
{
	if (b->nobj != 0)
		throw(rt, "putempty: b->nobj not 0");
	lfstackpush(rt, &rt->work.empty, &b->node);
}

void putfull(struct gcrt_runtime *rt, workbuf *b)
{
	if (b->nobj == 0)
		throw(rt, "putfull: b->nobj <= 0");
	lfstackpush(rt, &rt->work.full, &b->node);
}

workbuf *getpartialorempty(struct gcrt_runtime *rt)
{
	workbuf *b = (workbuf *)lfstackpop(rt, &rt->work.partial);
	if (b == NULL)
		b = getempty(rt, NULL);
	return b;
}

/* Route b by its fill level: empty, partial or full. */
void putpartial(struct gcrt_runtime *rt, workbuf *b)
{
	if (b->nobj == 0)
		lfstackpush(rt, &rt->work.empty, &b->node);
	else if (b->nobj < WorkbufObjs)
		lfstackpush(rt, &rt->work.partial, &b->node);
	else if (b->nobj == WorkbufObjs)
		lfstackpush(rt, &rt->work.full, &b->node);
	else
		throwf(rt, "putpartial: bad Workbuf b->nobj (b=%p nobj=%zu)", (void *)b,
		       (size_t)b->nobj);
}

void gcworkbuffree(struct gcrt_runtime *rt, workbuf *b)
{
	if (b == NULL)
		return;
	if (b->nobj == 0)
		putempty(rt, b);
	else
		putfull(rt, b);
}

/* Give the upper half of b's entries to a new buffer, which the caller
 * keeps; b with the lower half goes to full for idle markers to take. */
workbuf *handoff(struct gcrt_runtime *rt, workbuf *b)
{
	workbuf *b1 = getempty(rt, NULL);
	uintptr_t n = b->nobj / 2;
	b->nobj -= n;
	b1->nobj = n;
	memcpy(b1->obj, b->obj + b->nobj, n * sizeof b1->obj[0]);
	(void)ATOMIC_XADD(rt, "handoff.nhandoff", &rt->work.nhandoff, 1);
	(void)ATOMIC_XADD(rt, "handoff.nhandoffcnt", &rt->work.nhandoffcnt, n);
	putfull(rt, b);
	return b1;
}

workbuf *trygetfull(struct gcrt_runtime *rt)
{
	workbuf *b = (workbuf *)lfstackpop(rt, &rt->work.full);
	if (b == NULL)
		b = (workbuf *)lfstackpop(rt, &rt->work.partial);
	return b;
}

static bool workvisible(struct gcrt_runtime *rt)
{
	struct workdata *w = &rt->work;
	if (ATOMIC_LOAD(rt, "getfull.full", &w->full) != 0)
		return true;
	if (MUTANT(rt, M_GETFULL_PARTIAL))
		return false;
	return ATOMIC_LOAD(rt, "getfull.partial", &w->partial) != 0;
}

static void nwaitinc(struct gcrt_runtime *rt, uint32_t nproc)
{
	if (ATOMIC_XADD(rt, "getfull.nwait_inc", &rt->work.nwait, 1) > nproc)
		throw(rt, "work.nwait > work.nproc");
}

static void backoff(struct gcrt_runtime *rt, uint32_t i)
{
	struct workdata *w = &rt->work;
	if (i < 10) {
		(void)ATOMIC_XADD(rt, "getfull.nprocyield", &w->nprocyield, 1);
		procyield(20);
	} else if (i < 20) {
		(void)ATOMIC_XADD(rt, "getfull.nosyield", &w->nosyield, 1);
		osyield();
	} else {
		/* Another marker threw (record mode): leave, even in the release
		 * build where the schedule points that would unwind us are gone. */
		if (ATOMIC_LOAD(rt, "getfull.failed", &rt->thr.failed) && throw_has_catcher(rt))
			throw_unwind(rt);
		(void)ATOMIC_XADD(rt, "getfull.nsleep", &w->nsleep, 1);
		gcrt_usleep(100);
	}
}

/* A full (or partial) buffer, or NULL once all nproc markers wait here
 * with nothing left anywhere.  A given b must be empty: it goes to empty. */
workbuf *getfull(struct gcrt_runtime *rt, workbuf *b)
{
	struct workdata *w = &rt->work;
	if (b != NULL)
		putempty(rt, b);
	b = trygetfull(rt);
	uint32_t nproc = ATOMIC_LOAD(rt, "getfull.nproc", &w->nproc);
	if (b != NULL || nproc == 1)
		return b;
	nwaitinc(rt, nproc);
	for (uint32_t i = 0;; i++) {
		SCHED_SPIN(rt, "getfull.wait");
		if (workvisible(rt)) {
			(void)ATOMIC_XADD(rt, "getfull.nwait_dec", &w->nwait, (uint32_t)-1);
			b = trygetfull(rt);
			if (b != NULL)
				return b;
			nwaitinc(rt, nproc);
		}
		uint32_t nwait = ATOMIC_LOAD(rt, "getfull.nwait_load", &w->nwait);
		if (nwait > nproc)
			throw(rt, "work.nwait > work.nproc");
		if (nwait == nproc)
			return NULL;
		backoff(rt, i);
	}
}

void workbegin(struct gcrt_runtime *rt, uint32_t nproc)
{
	struct workdata *w = &rt->work;
	if (nproc == 0 || nproc > (uint32_t)rt->cfg.nprocs || nproc > MaxGcproc)
		throwf(rt, "workbegin: nproc %u out of range 1..%d", nproc, rt->cfg.nprocs);
	ATOMIC_STORE(rt, "workbegin.nproc", &w->nproc, nproc);
	ATOMIC_STORE(rt, "workbegin.nwait", &w->nwait, 0);
	ATOMIC_STORE(rt, "workbegin.ndone", &w->ndone, 0);
	w->tstart = nanotime();
	noteclear(&w->alldone);
}

void workcheckempty(struct gcrt_runtime *rt)
{
	if (!lfstackempty(rt, &rt->work.full))
		throw(rt, "runtime·work.full != nil");
	if (!lfstackempty(rt, &rt->work.partial))
		throw(rt, "runtime·work.partial != nil");
}

void gcworkinit(struct gcrt_runtime *rt)
{
	struct workdata *w = &rt->work;
	if (sizeof(workbuf) != WorkbufSize)
		throw(rt, "runtime: size of Workbuf is suboptimal");
	lock_init(&w->wblock);
	note_init(&w->alldone);
	atomic_store(&w->nproc, 1);
	w->markfor = parforalloc(rt, MaxGcproc);
}

void gcworkfini(struct gcrt_runtime *rt)
{
	note_destroy(&rt->work.alldone);
	lock_destroy(&rt->work.wblock);
}

/* Called by throw with other threads possibly running: reads only, with
 * plain atomic loads and no schedule points (a point in a failing runtime
 * would unwind the thread that is building the report). */
void work_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	struct workdata *w = &rt->work;
	dumpf(d, "work: nproc=%u nwait=%u ndone=%u nbuf=%llu mutant=%#x\n", atomic_load(&w->nproc),
	      atomic_load(&w->nwait), atomic_load(&w->ndone),
	      (unsigned long long)atomic_load(&w->nbuf), atomic_load(&w->mutant));
	dumpf(d, "work: full=%llu partial=%llu empty=%llu buffers\n",
	      (unsigned long long)lfstacklen(atomic_load(&w->full), 1000000),
	      (unsigned long long)lfstacklen(atomic_load(&w->partial), 1000000),
	      (unsigned long long)lfstacklen(atomic_load(&w->empty), 1000000));
	dumpf(d, "work: nhandoff=%llu nhandoffcnt=%llu nprocyield=%llu nosyield=%llu nsleep=%llu\n",
	      (unsigned long long)atomic_load(&w->nhandoff),
	      (unsigned long long)atomic_load(&w->nhandoffcnt),
	      (unsigned long long)atomic_load(&w->nprocyield),
	      (unsigned long long)atomic_load(&w->nosyield),
	      (unsigned long long)atomic_load(&w->nsleep));
}
