/* proc.c: the scheduler: Gs, Ms and Ps (Go 1.4 proc.c, per runtime).
 *
 * Goroutines are resumable: a G has a step function that its M calls
 * until the step returns StepYield (back on the run queue), StepPark
 * (Gwaiting until someone readies it) or StepExit (Gdead).  Inside a
 * step, a G may enter and leave a syscall (entersyscall/exitsyscall block
 * the M, not the scheduler) and polls safepoint() at function entry and
 * loop back-edges; a pending preemption makes the step return StepYield.
 * A step's C frame lives on the M's thread, so a G never changes M in the
 * middle of a step: an M coming back from a syscall whose P was taken
 * waits (on sched.syswait) for a P instead of queueing its G.
 *
 * A parked G runs again only after a ready for its park: a G made runnable
 * without one (a spurious wakeup; controlled runs inject it at the fault
 * site proc.park.spurious) re-checks in execute and parks again without
 * running its step, as Go's park loops re-check their condition.
 *
 * Ms are pthreads (gcrt_start).  An M loops in schedule(): with a P it
 * takes a G from the global run queue (under sched.lock) and runs one
 * step; without work it puts its P on the idle list and sleeps on its
 * park note until a P is handed to it (handoff).  Ms waiting for a P
 * after a syscall get freed Ps first, and a running M hands its P to such
 * an M between steps, so syscall returns do not starve.
 *
 * Stop-the-world as in Go: set gcwaiting and stopwait = nprocs, preempt
 * every running G (preempt + stackguard0 = StackPreempt), CAS every
 * Psyscall P to Pgcstop, take the idle Ps, then sleep on stopnote in
 * 100 us slices, re-preempting, until the running Ms have stopped their Ps
 * (gcstopm) and stopwait is 0; finally every P must be Pgcstop.
 * starttheworld hands the Ps back (syscall waiters first, then Ms with
 * work) and clears gcwaiting.
 *
 * Host threads: gcrt_attach makes the calling thread an M with a P and a
 * G that runs inline.  A host thread outside a call cannot poll, so by
 * default the host G is in a syscall between API calls (Gsyscall, its P
 * Psyscall): stop-the-world takes its P without waiting, and each API
 * call on the host G is bracketed by exitsyscall/entersyscall.  A host
 * that does a batch of work (a language VM between its own blocking
 * points) instead calls gcrt_g_enter: the G leaves its syscall and stays
 * Grunning, holding its P, across calls, as a Go goroutine does.  Then
 * gcrt_g_alloc is mallocgc on the P's mcache (no world entry, no busy
 * flag: the collector looks at mcaches only after every P is stopped) and
 * gcrt_g_write_ptr is a checked store through the write barrier (no
 * nmutators count, for the same reason).  The store looks its object and
 * value up in the heap, except the G's recent allocations (known):
 * they came from spans its cache swept this cycle, and nothing frees
 * them before the sweep after the next mark, which needs this G's P, so
 * not before the G enters a syscall (which forgets them).  The G
 * polls preemption like a
 * goroutine: in every gcrt_g_alloc and in gcrt_safepoint, where a pending
 * stop or scan request is served (safepoint's host branch parks the P in
 * a syscall so the stopper takes it).  A collection that a running host
 * G's allocation makes due is run from a syscall (entersyscall, gcpoll,
 * exitsyscall), as Go's gcrequest does.  gcrt_g_leave puts the G back in
 * its syscall; a host must leave before blocking or calling anything that
 * can stop the world (gcrt_gc, gcrt_alloc, gcrt_stoptheworld, ...), since
 * the stopper would wait for its own P.
 *
 * Known limit (as in Go 1.4, fixed in Go 1.5 with syscalltick): the
 * exitsyscall fast path CASes its old P from Psyscall to Prunning; if the
 * world stopped and restarted meanwhile and that P went into a syscall
 * under another M, the CAS could take it (the M would have to stall
 * between its load of m->p and the CAS across a whole stop and start).
 *
 * Invariants: a Prunning P has exactly one owner M and that M's mcache is
 * the P's mcache; an M without a P (or in a syscall) has mcache == NULL;
 * Gs are never freed before gcrt_destroy (allg only grows), so a stale
 * pointer to a G stays valid to read.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "mutants.h"

enum { StopSliceNs = 100 * 1000 };

/* ---- Ps and Ms, under sched.lock ---- */

static void acquirep(struct gcrt_runtime *rt, M *m, P *p)
{
	ATOMIC_STORE(rt, "proc.acquirep.mp", &m->p, p);
	m->mcache = p->mcache;
	ATOMIC_STORE(rt, "proc.acquirep.pm", &p->m, m);
	ATOMIC_STORE(rt, "proc.acquirep.status", &p->status, Prunning);
}

static P *releasep(struct gcrt_runtime *rt, M *m)
{
	P *p = ATOMIC_LOAD(rt, "proc.releasep.mp", &m->p);
	ATOMIC_STORE(rt, "proc.releasep.pm", &p->m, NULL);
	ATOMIC_STORE(rt, "proc.releasep.mp", &m->p, NULL);
	m->mcache = NULL;
	return p;
}

static P *pidleget_locked(struct schedt *s)
{
	P *p = s->pidle;
	if (p != NULL) {
		s->pidle = p->link;
		s->npidle--;
	}
	return p;
}

/* Hand p to m, which is asleep on its park note. */
static void startm_locked(struct gcrt_runtime *rt, M *m, P *p)
{
	ATOMIC_STORE(rt, "proc.startm.status", &p->status, Prunning);
	ATOMIC_STORE(rt, "proc.startm.pm", &p->m, m);
	m->nextp = p;
	notewakeup(rt, &m->park);
}

/* p has no owner: give it to an M back from a syscall, or make it idle. */
static void pidleput_locked(struct gcrt_runtime *rt, P *p)
{
	struct schedt *s = &rt->sched;
	M *m = s->syswait;
	if (m != NULL) {
		s->syswait = m->schedlink;
		startm_locked(rt, m, p);
		return;
	}
	ATOMIC_STORE(rt, "proc.pidleput.pm", &p->m, NULL);
	ATOMIC_STORE(rt, "proc.pidleput.status", &p->status, Pidle);
	p->link = s->pidle;
	s->pidle = p;
	s->npidle++;
}

/* Wake idle Ms for queued work while there are idle Ps. */
static void handoff_locked(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	while (s->runqsize > 0 && s->pidle != NULL && s->midle != NULL &&
	       !ATOMIC_LOAD(rt, "proc.handoff.gcwaiting", &s->gcwaiting)) {
		M *m = s->midle;
		s->midle = m->schedlink;
		s->nmidle--;
		startm_locked(rt, m, pidleget_locked(s));
	}
}

static void runqput_locked(struct gcrt_runtime *rt, G *gp)
{
	struct schedt *s = &rt->sched;
	gp->schedlink = NULL;
	if (s->runqtail != NULL)
		s->runqtail->schedlink = gp;
	else
		s->runqhead = gp;
	s->runqtail = gp;
	s->runqsize++;
	handoff_locked(rt);
}

static G *runqget_locked(struct schedt *s)
{
	G *gp = s->runqhead;
	if (gp != NULL) {
		s->runqhead = gp->schedlink;
		if (s->runqhead == NULL)
			s->runqtail = NULL;
		s->runqsize--;
	}
	return gp;
}

/* Sleep until another M hands this one a P (m->nextp) or shutdown;
 * list is &sched.midle or &sched.syswait.  Called and returns locked. */
static void stopm_locked(struct gcrt_runtime *rt, M *m, M **list)
{
	struct schedt *s = &rt->sched;
	m->schedlink = *list;
	*list = m;
	if (list == &s->midle)
		s->nmidle++;
	noteclear(&m->park);
	UNLOCK(rt, &s->lock, "sched.unlock");
	notesleep(rt, &m->park);
	LOCK(rt, &s->lock, "sched.lock");
	if (m->nextp != NULL) {
		acquirep(rt, m, m->nextp);
		m->nextp = NULL;
	}
}

/* The world is stopping: give up the P (Go's gcstopm). */
static void gcstopm_locked(struct gcrt_runtime *rt, M *m)
{
	struct schedt *s = &rt->sched;
	P *p = releasep(rt, m);
	ATOMIC_STORE(rt, "proc.gcstopm.status", &p->status, Pgcstop);
	if (--s->stopwait == 0)
		notewakeup(rt, &s->stopnote);
}

/* ---- goroutines ---- */

void allgadd(struct gcrt_runtime *rt, G *gp)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->allglock, "sched.allglock");
	gp->alllink = s->allg;
	s->allg = gp;
	s->allglen++;
	UNLOCK(rt, &s->allglock, "sched.allgunlock");
}

static G *malg(struct gcrt_runtime *rt, int kind)
{
	G *gp = calloc(1, sizeof *gp);
	if (gp == NULL)
		return NULL;
	gp->magic = GCRT_G_MAGIC;
	gp->rt = rt;
	gp->kind = kind;
	atomic_store(&gp->atomicstatus, Gidle);
	return gp;
}

static void dropg(struct gcrt_runtime *rt, M *m, G *gp)
{
	ATOMIC_STORE(rt, "proc.dropg.gm", &gp->m, NULL);
	ATOMIC_STORE(rt, "proc.dropg.curg", &m->curg, NULL);
}

static void resetguard(struct gcrt_runtime *rt, G *gp)
{
	ATOMIC_STORE(rt, "proc.resetguard.stackguard0", &gp->stackguard0, gp->stack.lo + StackGuard);
}

/* A spurious wakeup (controlled runs: fault proc.park.spurious): the
 * parked G is made runnable although no ready came for its park, as a
 * stale netpoll or timer wakeup would; execute must re-check.  Under
 * sched.lock. */
static void wakespurious_locked(struct gcrt_runtime *rt, G *gp)
{
	casgstatus(rt, gp, Gwaiting, Grunnable);
	gp->spurious = 1;
	runqput_locked(rt, gp);
}

/* Go's park loop, `for !cond { gopark }`: a G woken spuriously re-checks
 * its park's condition (a ready came) and parks again without running.
 * Mutant M_PARK_NO_RECHECK takes any wakeup as the ready.  True when gp
 * parked again. */
static bool reparked(struct gcrt_runtime *rt, G *gp)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	bool again = gp->spurious && !MUTANT(rt, M_PARK_NO_RECHECK);
	if (gp->spurious && !again)
		gp->parked = 0;
	gp->spurious = 0;
	if (again) {
		SCHED_NOTE(rt, "proc.park.recheck", gp->goid);
		casgstatus(rt, gp, Grunning, Gwaiting);
	}
	UNLOCK(rt, &s->lock, "sched.unlock");
	return again;
}

/* A G's step ended: act on its result. */
static void gostepped(struct gcrt_runtime *rt, M *m, G *gp, int r)
{
	struct schedt *s = &rt->sched;
	switch (r) {
	case StepYield:
		casgstatus(rt, gp, Grunning, Grunnable);
		dropg(rt, m, gp);
		LOCK(rt, &s->lock, "sched.lock");
		runqput_locked(rt, gp);
		break;
	case StepPark:
		LOCK(rt, &s->lock, "sched.lock");
		dropg(rt, m, gp);
		if (gp->readypending) {
			gp->readypending = 0;
			casgstatus(rt, gp, Grunning, Grunnable);
			runqput_locked(rt, gp);
		} else {
			casgstatus(rt, gp, Grunning, Gwaiting);
			gp->parked = 1;
			if (SCHED_FAULT(rt, "proc.park.spurious"))
				wakespurious_locked(rt, gp);
		}
		break;
	default:
		casgstatus(rt, gp, Grunning, Gdead);
		dropg(rt, m, gp);
		if (gp->stack.lo != 0) {
			stackfree(rt, &ATOMIC_LOAD(rt, "proc.goexit.mp", &m->p)->stackcache, gp->stack);
			gp->stack.lo = gp->stack.hi = 0;
		}
		LOCK(rt, &s->lock, "sched.lock");
		s->nlive--;
		break;
	}
	UNLOCK(rt, &s->lock, "sched.unlock");
}

/* Run one step of gp on m (Go's execute + the return through gosched,
 * park or goexit). */
static void execute(struct gcrt_runtime *rt, M *m, G *gp)
{
	casgstatus(rt, gp, Grunnable, Grunning);
	if (reparked(rt, gp))
		return;
	ATOMIC_STORE(rt, "proc.execute.gm", &gp->m, m);
	ATOMIC_STORE(rt, "proc.execute.curg", &m->curg, gp);
	ATOMIC_STORE(rt, "proc.execute.preempt", &gp->preempt, 0);
	resetguard(rt, gp);
	gostepped(rt, m, gp, gp->fn(gp, gp->arg));
}

/* An M's life: find work, run it, stop when the world stops. */
static void schedule(struct gcrt_runtime *rt, M *m)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	for (;;) {
		if (ATOMIC_LOAD(rt, "proc.schedule.mp", &m->p) == NULL) {
			if (s->shutdown)
				break;
			if (!ATOMIC_LOAD(rt, "proc.schedule.gcwaiting", &s->gcwaiting) &&
			    s->runqsize > 0 && s->pidle != NULL)
				acquirep(rt, m, pidleget_locked(s));
			else
				stopm_locked(rt, m, &s->midle);
			continue;
		}
		if (ATOMIC_LOAD(rt, "proc.schedule.gcwaiting", &s->gcwaiting)) {
			gcstopm_locked(rt, m);
			continue;
		}
		if (s->shutdown || s->syswait != NULL) {
			pidleput_locked(rt, releasep(rt, m));
			continue;
		}
		G *gp = runqget_locked(s);
		if (gp == NULL) {
			pidleput_locked(rt, releasep(rt, m));
			continue;
		}
		UNLOCK(rt, &s->lock, "sched.unlock");
		execute(rt, m, gp);
		LOCK(rt, &s->lock, "sched.lock");
	}
	UNLOCK(rt, &s->lock, "sched.unlock");
}

static void mstart(struct gcrt_runtime *rt, void *arg)
{
	schedule(rt, arg);
}

static M *allocm_locked(struct gcrt_runtime *rt, int host)
{
	struct schedt *s = &rt->sched;
	M *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->id = ++s->mcount;
	m->host = host;
	note_init(&m->park);
	m->alllink = s->allm;
	s->allm = m;
	return m;
}

void ready(struct gcrt_runtime *rt, G *gp)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	if (gp->spurious) {
		/* Woken early and still runnable: this is its ready. */
		gp->spurious = 0;
		gp->parked = 0;
	} else if (gp->parked) {
		gp->parked = 0;
		/* Spins while a GC thread holds the scan bit or copies the
		 * stack (Gcopystack). */
		casgstatus(rt, gp, Gwaiting, Grunnable);
		runqput_locked(rt, gp);
	} else if ((readgstatus(rt, gp) & ~(uint32_t)Gscan) != Gdead) {
		gp->readypending = 1;
	}
	UNLOCK(rt, &s->lock, "sched.unlock");
}

/* ---- syscalls ---- */

void entersyscall(struct gcrt_runtime *rt, G *gp)
{
	struct schedt *s = &rt->sched;
	M *m = ATOMIC_LOAD(rt, "proc.entersyscall.gm", &gp->m);
	P *p = ATOMIC_LOAD(rt, "proc.entersyscall.mp", &m->p);
	gp->syscallsp = gp->sched.sp != 0 ? gp->sched.sp : gp->stack.hi + 1;
	memset(gp->known.obj, 0, sizeof gp->known.obj);
	casgstatus(rt, gp, Grunning, Gsyscall);
	m->mcache = NULL;
	ATOMIC_STORE(rt, "proc.entersyscall.status", &p->status, Psyscall);
	if (ATOMIC_LOAD(rt, "proc.entersyscall.gcwaiting", &s->gcwaiting)) {
		/* Go's entersyscall_gcwait: give the P to the stopper now. */
		LOCK(rt, &s->lock, "sched.lock");
		if (s->stopwait > 0 &&
		    ATOMIC_CAS32(rt, "proc.entersyscall.cas", &p->status, Psyscall, Pgcstop)) {
			releasep(rt, m);
			if (--s->stopwait == 0)
				notewakeup(rt, &s->stopnote);
		}
		UNLOCK(rt, &s->lock, "sched.unlock");
	}
}

void exitsyscall(struct gcrt_runtime *rt, G *gp)
{
	struct schedt *s = &rt->sched;
	M *m = ATOMIC_LOAD(rt, "proc.exitsyscall.gm", &gp->m);
	P *p = ATOMIC_LOAD(rt, "proc.exitsyscall.mp", &m->p);
	if (p != NULL && ATOMIC_CAS32(rt, "proc.exitsyscall.cas", &p->status, Psyscall, Prunning)) {
		m->mcache = p->mcache; /* the fast path: our P was left alone */
	} else {
		LOCK(rt, &s->lock, "sched.lock");
		ATOMIC_STORE(rt, "proc.exitsyscall.mp", &m->p, NULL);
		if (!ATOMIC_LOAD(rt, "proc.exitsyscall.gcwaiting", &s->gcwaiting) && s->pidle != NULL)
			acquirep(rt, m, pidleget_locked(s));
		while (ATOMIC_LOAD(rt, "proc.exitsyscall.mp", &m->p) == NULL)
			stopm_locked(rt, m, &s->syswait);
		UNLOCK(rt, &s->lock, "sched.unlock");
	}
	gp->syscallsp = 0;
	casgstatus(rt, gp, Gsyscall, Grunning);
}

/* ---- preemption ---- */

static void preemptall(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	for (int32_t i = 0; i < s->nprocs; i++) {
		P *p = &s->allp[i];
		if (ATOMIC_LOAD(rt, "proc.preemptall.status", &p->status) != Prunning)
			continue;
		M *m = ATOMIC_LOAD(rt, "proc.preemptall.m", &p->m);
		G *gp = m != NULL ? ATOMIC_LOAD(rt, "proc.preemptall.curg", &m->curg) : NULL;
		if (gp == NULL)
			continue;
		ATOMIC_STORE(rt, "proc.preemptall.preempt", &gp->preempt, 1);
		ATOMIC_STORE(rt, "proc.preemptall.stackguard0", &gp->stackguard0, StackPreempt);
	}
}

/* safepoint once the G has seen StackPreempt. */
static bool preempted(struct gcrt_runtime *rt, G *gp)
{
	if (ATOMIC_LOAD(rt, "proc.safepoint.preemptscan", &gp->preemptscan)) {
		casgstatus(rt, gp, Grunning, Gwaiting);
		while (!castogscanstatus(rt, gp, Gwaiting, Gscanwaiting))
			SCHED_SPIN(rt, "proc.safepoint.scan.spin");
		gcphasework(rt, gp);
		casfromgscanstatus(rt, gp, Gscanwaiting, Gwaiting);
		casgstatus(rt, gp, Gwaiting, Grunning);
		ATOMIC_STORE(rt, "proc.safepoint.scandone", &gp->preemptscan, 0);
	}
	ATOMIC_STORE(rt, "proc.safepoint.preempt", &gp->preempt, 0);
	resetguard(rt, gp);
	if (gp->kind == Ghost) {
		/* A host G cannot return to a scheduler: let a stopper
		 * take its P while it waits, like a syscall. */
		entersyscall(rt, gp);
		exitsyscall(rt, gp);
		return false;
	}
	return true;
}

/* The preemption branch of Go's newstack, at a safepoint of the running
 * G.  A scan request is served in place under the scan bit (the Dec 2014
 * fix of the seed's unlocked self-scan); any other request yields. */
bool safepoint(struct gcrt_runtime *rt, G *gp)
{
	if (ATOMIC_LOAD(rt, "proc.safepoint.stackguard0", &gp->stackguard0) != StackPreempt)
		return false;
	return preempted(rt, gp);
}

P *gp_p(struct gcrt_runtime *rt, G *gp)
{
	M *m = ATOMIC_LOAD(rt, "proc.gp_p.gm", &gp->m);
	return m != NULL ? ATOMIC_LOAD(rt, "proc.gp_p.mp", &m->p) : NULL;
}

/* ---- stop the world ---- */

void stoptheworld(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	noteclear(&s->stopnote);
	LOCK(rt, &s->lock, "sched.lock");
	s->stopwait = s->nprocs;
	ATOMIC_STORE(rt, "proc.stoptheworld.gcwaiting", &s->gcwaiting, 1);
	preemptall(rt);
	for (int32_t i = 0; i < s->nprocs; i++) {
		P *p = &s->allp[i];
		if (ATOMIC_CAS32(rt, "proc.stoptheworld.cas", &p->status, Psyscall, Pgcstop))
			s->stopwait--;
	}
	for (P *p; (p = pidleget_locked(s)) != NULL;) {
		ATOMIC_STORE(rt, "proc.stoptheworld.status", &p->status, Pgcstop);
		s->stopwait--;
	}
	bool wait = s->stopwait > 0;
	UNLOCK(rt, &s->lock, "sched.unlock");
	while (wait) {
		if (notetsleep(rt, &s->stopnote, StopSliceNs))
			break;
		preemptall(rt);
	}
	LOCK(rt, &s->lock, "sched.lock");
	bool stopped = s->stopwait == 0;
	for (int32_t i = 0; i < s->nprocs; i++)
		stopped = stopped &&
			  ATOMIC_LOAD(rt, "proc.stoptheworld.check", &s->allp[i].status) == Pgcstop;
	UNLOCK(rt, &s->lock, "sched.unlock");
	if (!stopped)
		throw(rt, "stoptheworld: not stopped");
}

void starttheworld(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	ATOMIC_STORE(rt, "proc.starttheworld.gcwaiting", &s->gcwaiting, 0);
	for (int32_t i = s->nprocs - 1; i >= 0; i--)
		pidleput_locked(rt, &s->allp[i]);
	handoff_locked(rt);
	UNLOCK(rt, &s->lock, "sched.unlock");
}

static void worldsema_acquire(struct gcrt_runtime *rt)
{
	while (!ATOMIC_CAS32(rt, "proc.worldsema.cas", &rt->sched.worldsema, 0, 1)) {
		SCHED_SPIN(rt, "proc.worldsema.spin");
		gcrt_usleep(50);
	}
}

static void worldsema_release(struct gcrt_runtime *rt)
{
	ATOMIC_STORE(rt, "proc.worldsema.release", &rt->sched.worldsema, 0);
}

/* Go runs gogc's stop-the-world on g0 while the calling G's M keeps its
 * P: stoptheworld stops that P itself.  Here the collector (gcollect) is
 * an ordinary thread's code and stops every P, so the G first leaves its P
 * as a syscall does (its stack frozen and scannable as Gsyscall), runs
 * the whole collection on its M, and takes a P back after it. */
void gcrequest(struct gcrt_runtime *rt, G *gp)
{
	entersyscall(rt, gp);
	if (gcollect(rt) != GCRT_OK)
		throw(rt, "gcrequest: collection failed");
	exitsyscall(rt, gp);
}

/* A due collection before a goroutine allocates on its P (Go's mallocgc
 * calling gogc): the P is given up for the stop, as in gcrequest. */
void mallocpoll(struct gcrt_runtime *rt, G *gp)
{
	if (!gcdue(rt))
		return;
	entersyscall(rt, gp);
	gcpoll(rt);
	exitsyscall(rt, gp);
}

/* ---- lifecycle ---- */

int schedinit(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	lock_init(&s->lock);
	lock_init(&s->allglock);
	note_init(&s->stopnote);
	stackinit(rt);
	s->nprocs = rt->cfg.nprocs;
	s->allp = calloc((size_t)s->nprocs, sizeof(P));
	if (s->allp == NULL)
		return GCRT_ENOMEM;
	for (int32_t i = s->nprocs - 1; i >= 0; i--) {
		P *p = &s->allp[i];
		p->id = i;
		p->mcache = allocmcache(rt);
		p->link = s->pidle;
		s->pidle = p;
		s->npidle++;
		atomic_store(&p->status, Pidle);
	}
	return GCRT_OK;
}

void schedshutdown(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	s->shutdown = 1;
	for (M *m = s->midle; m != NULL; m = m->schedlink)
		notewakeup(rt, &m->park);
	s->midle = NULL;
	s->nmidle = 0;
	UNLOCK(rt, &s->lock, "sched.unlock");
}

/* Stop the Ms: wake every sleeper and join the threads.  After a
 * recorded throw the Ms leave by themselves (at their next point). */
static void stopms(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	bool failed = atomic_load(&rt->thr.failed);
	if (!failed) {
		if (atomic_load(&s->hoststopped)) {
			atomic_store(&s->hoststopped, 0);
			starttheworld(rt);
			worldsema_release(rt);
		}
		schedshutdown(rt);
	}
	for (M *m = s->allm; m != NULL; m = m->alllink)
		if (!m->host)
			rtthread_join(&m->thread);
}

void schedfini(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	stopms(rt);
	while (s->allm != NULL) {
		M *m = s->allm;
		s->allm = m->alllink;
		note_destroy(&m->park);
		free(m);
	}
	while (s->allg != NULL) {
		G *gp = s->allg;
		s->allg = gp->alllink;
		gp->magic = 0;
		free(gp);
	}
	if (s->allp != NULL) {
		/* A failed runtime may have lost a thread holding the heap
		 * lock (a controlled M unwound mid-sweep): its caches are
		 * persistent memory, left for persistent_fini. */
		for (int32_t i = 0; i < s->nprocs; i++) {
			if (atomic_load(&rt->thr.failed))
				continue;
			stackcache_clear(rt, &s->allp[i].stackcache);
			if (s->allp[i].mcache != NULL)
				freemcache(rt, s->allp[i].mcache);
		}
		free(s->allp);
		s->allp = NULL;
	}
	stackfini(rt);
	note_destroy(&s->stopnote);
	lock_destroy(&s->allglock);
	lock_destroy(&s->lock);
}

static const char *pstatusname(uint32_t s)
{
	static const char *const names[] = {"Pidle", "Prunning", "Psyscall", "Pgcstop", "Pdead"};
	return s < nelem(names) ? names[s] : "P?";
}

void sched_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	struct schedt *s = &rt->sched;
	dumpf(d, "sched: nprocs=%d mcount=%lld goidgen=%lld gcwaiting=%u stopwait=%d runqsize=%d "
		 "npidle=%d nmidle=%d nlive=%d\n",
	      s->nprocs, (long long)s->mcount, (long long)s->goidgen, atomic_load(&s->gcwaiting),
	      s->stopwait, s->runqsize, s->npidle, s->nmidle, s->nlive);
	for (int32_t i = 0; s->allp != NULL && i < s->nprocs; i++) {
		P *p = &s->allp[i];
		M *m = atomic_load(&p->m);
		dumpf(d, "  P%d: %s m=%lld\n", p->id, pstatusname(atomic_load(&p->status)),
		      m != NULL ? (long long)m->id : -1LL);
	}
	for (M *m = s->allm; m != NULL; m = m->alllink) {
		G *gp = atomic_load(&m->curg);
		dumpf(d, "  M%lld: curg=%lld%s\n", (long long)m->id,
		      gp != NULL ? (long long)gp->goid : -1LL, m->host ? " host" : "");
	}
	int n = 0;
	for (G *gp = s->allg; gp != NULL && n < 64; gp = gp->alllink, n++)
		dumpf(d, "  G%lld: status=%#x stack=[%#lx,%#lx)\n", (long long)gp->goid,
		      atomic_load(&gp->atomicstatus), (unsigned long)gp->stack.lo,
		      (unsigned long)gp->stack.hi);
	stack_dump(rt, d);
}

/* ---- public API ---- */

/* A G handle passed in by a host: live and of a live runtime. */
static int gcheck(G *g)
{
	if (g == NULL || g->magic != GCRT_G_MAGIC)
		return GCRT_EINVAL;
	return rt_check(g->rt);
}

int gcheckrt(gcrt_runtime *rt, G *g)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (g == NULL || g->magic != GCRT_G_MAGIC || g->rt != rt)
		return GCRT_EINVAL;
	return GCRT_OK;
}

/* Make a goroutine (Go's newproc1): Gidle -> Gdead once it has a stack,
 * published in allg, then Gdead -> Grunnable on the run queue. */
static int newproc(struct gcrt_runtime *rt, stepfn fn, void *arg, G **out)
{
	struct schedt *s = &rt->sched;
	G *gp = malg(rt, Gstep);
	if (gp == NULL)
		return GCRT_ENOMEM;
	gp->stack = stackalloc(rt, NULL, FixedStack);
	if (gp->stack.lo == 0) {
		free(gp);
		return GCRT_ENOMEM;
	}
	gp->sched.sp = gp->stack.hi;
	gp->fn = fn;
	gp->arg = arg;
	resetguard(rt, gp);
	casgstatus(rt, gp, Gidle, Gdead);
	LOCK(rt, &s->lock, "sched.lock");
	gp->goid = ++s->goidgen;
	s->nlive++;
	UNLOCK(rt, &s->lock, "sched.unlock");
	allgadd(rt, gp);
	*out = gp;
	casgstatus(rt, gp, Gdead, Grunnable);
	LOCK(rt, &s->lock, "sched.lock");
	runqput_locked(rt, gp);
	UNLOCK(rt, &s->lock, "sched.unlock");
	return GCRT_OK;
}

/* gcrt_go's body: *out (if wanted) is the new G, or NULL on failure. */
static int goproc(struct gcrt_runtime *rt, stepfn fn, void *arg, G **out)
{
	G *gp = NULL;
	int rc = newproc(rt, fn, arg, &gp);
	if (out != NULL)
		*out = gp;
	return rc;
}

GCRT_API int gcrt_go(gcrt_runtime *rt, gcrt_stepfn fn, void *arg, gcrt_g **out)
{
	int rc = rt_check_args(rt, fn == NULL);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(rt, goproc(rt, (stepfn)fn, arg, out));
}

static int startms(struct gcrt_runtime *rt, int nms)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	if (nms < 1 || nms > GCRT_MAX_MS - s->nms || s->shutdown) {
		UNLOCK(rt, &s->lock, "sched.unlock");
		return GCRT_EINVAL;
	}
	int rc = GCRT_OK;
	for (int i = 0; i < nms && rc == GCRT_OK; i++) {
		M *m = allocm_locked(rt, 0);
		if (m == NULL) {
			rc = GCRT_ENOMEM;
			break;
		}
		rc = rtthread_start(rt, &m->thread, mstart, m);
		if (rc != GCRT_OK) {
			s->allm = m->alllink;
			note_destroy(&m->park);
			free(m);
			break;
		}
		s->nms++;
	}
	UNLOCK(rt, &s->lock, "sched.unlock");
	return rc;
}

GCRT_API int gcrt_start(gcrt_runtime *rt, int nms)
{
	RETURN_CHECKED_CAUGHT(rt, startms(rt, nms));
}

/* Wait until no G lives, or until end (nanotime): GCRT_ESTATE. */
static int waitall(struct gcrt_runtime *rt, int64_t end)
{
	struct schedt *s = &rt->sched;
	int rc;
	for (;;) {
		/* A G that throws never exits: report the failure, not a
		 * timeout, whether it threw before or during the wait. */
		rc = rt_check(rt);
		if (rc != GCRT_OK)
			break;
		LOCK(rt, &s->lock, "sched.lock");
		int32_t n = s->nlive;
		UNLOCK(rt, &s->lock, "sched.unlock");
		if (n == 0)
			break;
		if (nanotime() >= end) {
			rc = GCRT_ESTATE;
			break;
		}
		SCHED_SPIN(rt, "proc.wait.spin");
		gcrt_usleep(200);
	}
	return rc;
}

GCRT_API int gcrt_wait(gcrt_runtime *rt, int64_t timeout_ms)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	int64_t end = timeout_ms > 0 ? nanotime() + timeout_ms * 1000000 : INT64_MAX;
	RETURN_CAUGHT(rt, waitall(rt, end));
}

GCRT_API int gcrt_ready(gcrt_runtime *rt, gcrt_g *g)
{
	int rc = gcheckrt(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (g->kind != Gstep)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, (ready(rt, g), GCRT_OK));
}

/* The running step G calling in from its step function (or, for
 * gcrt_safepoint, a host G that runs after gcrt_g_enter). */
static int runningcheck(G *g, bool host)
{
	int rc = gcheck(g);
	if (rc != GCRT_OK)
		return rc;
	if (g->kind != Gstep && !(host && g->kind == Ghost))
		return GCRT_EINVAL;
	if ((readgstatus(g->rt, g) & ~(uint32_t)Gscan) != Grunning)
		return GCRT_ESTATE;
	return GCRT_OK;
}

/* gcrt_safepoint's preemption, under a catcher, out of line: the poll
 * that finds nothing pending must not pay for a setjmp. */
static __attribute__((noinline)) int preempted_caught(struct gcrt_runtime *rt, G *g)
{
	RETURN_CAUGHT(rt, preempted(rt, g) ? 1 : 0);
}

GCRT_API int gcrt_safepoint(gcrt_g *g)
{
	int rc = runningcheck(g, true);
	if (rc != GCRT_OK)
		return rc;
	if (ATOMIC_LOAD(g->rt, "proc.safepoint.stackguard0", &g->stackguard0) != StackPreempt)
		return 0;
	return preempted_caught(g->rt, g);
}

GCRT_API int gcrt_entersyscall(gcrt_g *g)
{
	int rc = runningcheck(g, false);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(g->rt, (entersyscall(g->rt, g), GCRT_OK));
}

GCRT_API int gcrt_exitsyscall(gcrt_g *g)
{
	int rc = gcheck(g);
	if (rc != GCRT_OK)
		return rc;
	if (g->kind != Gstep)
		return GCRT_EINVAL;
	if ((readgstatus(g->rt, g) & ~(uint32_t)Gscan) != Gsyscall)
		return GCRT_ESTATE;
	RETURN_CAUGHT(g->rt, (exitsyscall(g->rt, g), GCRT_OK));
}

GCRT_API int gcrt_g_id(gcrt_g *g, int64_t *out)
{
	int rc = gcheck(g);
	if (rc != GCRT_OK)
		return rc;
	if (out == NULL)
		return GCRT_EINVAL;
	*out = g->goid;
	return GCRT_OK;
}

/* A host thread (self) stops the world and holds it stopped. */
static int hoststop(struct gcrt_runtime *rt, uintptr_t self)
{
	struct schedt *s = &rt->sched;
	worldsema_acquire(rt);
	stoptheworld(rt);
	ATOMIC_STORE(rt, "proc.hoststopper.set", &s->hoststopper, self);
	ATOMIC_STORE(rt, "proc.hoststopped.set", &s->hoststopped, 1);
	return GCRT_OK;
}

GCRT_API int gcrt_stoptheworld(gcrt_runtime *rt)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	struct schedt *s = &rt->sched;
	uintptr_t self = (uintptr_t)pthread_self();
	if (ATOMIC_LOAD(rt, "proc.hoststopped.check", &s->hoststopped) &&
	    ATOMIC_LOAD(rt, "proc.hoststopper.check", &s->hoststopper) == self)
		return GCRT_ESTATE; /* this thread already stopped it */
	RETURN_CAUGHT(rt, hoststop(rt, self));
}

GCRT_API int gcrt_starttheworld(gcrt_runtime *rt)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	struct schedt *s = &rt->sched;
	uint32_t one = 1;
	if (!atomic_compare_exchange_strong(&s->hoststopped, &one, 0))
		return GCRT_ESTATE; /* not stopped by a host (maybe by a G's GC) */
	RETURN_CAUGHT(rt, (starttheworld(rt), worldsema_release(rt), GCRT_OK));
}

/* ---- host threads ---- */

/* gcrt_attach's body: gp, a new host G, takes an idle P and an M and
 * leaves in its syscall (or is freed: no P, or no memory for the M). */
static int attach(struct gcrt_runtime *rt, G *gp, G **out)
{
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	P *p = ATOMIC_LOAD(rt, "proc.attach.gcwaiting", &s->gcwaiting) ? NULL : pidleget_locked(s);
	M *m = p != NULL ? allocm_locked(rt, 1) : NULL;
	if (m != NULL) {
		acquirep(rt, m, p);
		gp->goid = ++s->goidgen;
	} else if (p != NULL) {
		pidleput_locked(rt, p);
	}
	UNLOCK(rt, &s->lock, "sched.unlock");
	if (m == NULL) {
		free(gp);
		return p == NULL ? GCRT_ESTATE : GCRT_ENOMEM;
	}
	ATOMIC_STORE(rt, "proc.attach.gm", &gp->m, m);
	ATOMIC_STORE(rt, "proc.attach.curg", &m->curg, gp);
	casgstatus(rt, gp, Gidle, Gdead);
	allgadd(rt, gp);
	casgstatus(rt, gp, Gdead, Grunnable);
	casgstatus(rt, gp, Grunnable, Grunning);
	resetguard(rt, gp);
	entersyscall(rt, gp);
	*out = gp;
	return GCRT_OK;
}

int newgentry(struct gcrt_runtime *rt, int kind, int (*setup)(struct gcrt_runtime *, G *, G **),
	      G **out)
{
	int rc = rt_check_args(rt, out == NULL);
	if (rc != GCRT_OK)
		return rc;
	*out = NULL;
	G *gp = malg(rt, kind);
	if (gp == NULL)
		return GCRT_ENOMEM;
	RETURN_CAUGHT(rt, setup(rt, gp, out));
}

GCRT_API int gcrt_attach(gcrt_runtime *rt, gcrt_g **out)
{
	return newgentry(rt, Ghost, attach, out);
}

/* A host G of a live runtime: its status (Gsyscall between calls, or
 * Grunning after gcrt_g_enter), else 0 with *rc set.  Inline: it opens
 * every gcrt_g_alloc and gcrt_g_write_ptr. */
static inline __attribute__((always_inline)) uint32_t hoststatus(G *g, int *rc)
{
	*rc = gcheck(g);
	if (*rc == GCRT_OK && g->kind != Ghost)
		*rc = GCRT_EINVAL;
	if (*rc != GCRT_OK)
		return 0;
	uint32_t st = readgstatus(g->rt, g) & ~(uint32_t)Gscan;
	if (st != Gsyscall && st != Grunning)
		*rc = GCRT_ESTATE;
	return st;
}

/* A host G between calls: attached, in its syscall. */
static int hostcheck(G *g)
{
	int rc;
	uint32_t st = hoststatus(g, &rc);
	if (rc == GCRT_OK && st != Gsyscall)
		rc = GCRT_ESTATE;
	return rc;
}

/* gcrt_detach's body: g (in status st) gives back its M and P. */
static int detach(struct gcrt_runtime *rt, G *g, uint32_t st)
{
	struct schedt *s = &rt->sched;
	if (st == Gsyscall)
		exitsyscall(rt, g);
	M *m = ATOMIC_LOAD(rt, "proc.detach.gm", &g->m);
	casgstatus(rt, g, Grunning, Gdead);
	dropg(rt, m, g);
	LOCK(rt, &s->lock, "sched.lock");
	/* A stopper counted our P in stopwait when exitsyscall took it back:
	 * give it to the stopper, as a stopping M does (gcstopm). */
	if (ATOMIC_LOAD(rt, "proc.detach.gcwaiting", &s->gcwaiting))
		gcstopm_locked(rt, m);
	else
		pidleput_locked(rt, releasep(rt, m));
	handoff_locked(rt);
	UNLOCK(rt, &s->lock, "sched.unlock");
	return GCRT_OK;
}

GCRT_API int gcrt_detach(gcrt_g *g)
{
	int rc;
	uint32_t st = hoststatus(g, &rc);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(g->rt, detach(g->rt, g, st));
}

GCRT_API int gcrt_g_enter(gcrt_g *g)
{
	int rc = hostcheck(g);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(g->rt, (exitsyscall(g->rt, g), GCRT_OK));
}

GCRT_API int gcrt_g_leave(gcrt_g *g)
{
	int rc;
	uint32_t st = hoststatus(g, &rc);
	if (rc != GCRT_OK)
		return rc;
	if (st != Grunning)
		return GCRT_ESTATE;
	RETURN_CAUGHT(g->rt, (entersyscall(g->rt, g), GCRT_OK));
}

/* A running host G's poll: serve a pending stop or scan, and run a due
 * collection from a syscall. */
static int g_poll(struct gcrt_runtime *rt, G *g)
{
	safepoint(rt, g);
	if (gcdue(rt)) {
		entersyscall(rt, g);
		gcpoll(rt);
		exitsyscall(rt, g);
	}
	return GCRT_OK;
}

/* g_poll under a catcher, out of line: a function that calls setjmp
 * keeps nothing in registers, and the allocation fast path must. */
static __attribute__((noinline)) int g_poll_caught(struct gcrt_runtime *rt, G *g)
{
	RETURN_CAUGHT(rt, g_poll(rt, g));
}

/* gcrt_g_alloc on a host G that runs (holds its P): poll preemption,
 * collect from a syscall if a collection is due, then mallocgc on the P's
 * mcache (the busy flag is not needed: the collector reaches the mcache
 * only after stopping this P). */
static int g_alloc_running(struct gcrt_runtime *rt, G *g, gcrt_type t, void **out)
{
	/* gcdue, not the raw pending flag: with pacing off the flag stays set
	 * and would send every allocation through a world exit and entry. */
	if ((ATOMIC_LOAD(rt, "proc.g_alloc.stackguard0", &g->stackguard0) == StackPreempt ||
	     gcdue(rt)) &&
	    g_poll_caught(rt, g) != GCRT_OK)
		return GCRT_EFAILED;
	/* mallocgc's slow paths install their own catchers */
	int rc = mallocgc(rt, ATOMIC_LOAD(rt, "proc.g_alloc.gm", &g->m)->mcache, t, out);
	if (rc == GCRT_OK)
		knownput(&g->known, *out, &rt->heap.types[(uint32_t)t - 1]);
	return rc;
}

GCRT_API int gcrt_g_write_ptr(gcrt_g *g, void *obj, size_t i, void *p)
{
	int rc;
	uint32_t st = hoststatus(g, &rc);
	if (rc != GCRT_OK)
		return rc;
	return writeptr(g->rt, obj, i, p, st != Grunning, st == Grunning ? &g->known : NULL);
}

/* gcrt_g_alloc on a host G between calls: take its P for the allocation. */
static int g_alloc_syscall(struct gcrt_runtime *rt, G *g, gcrt_type t, void **out)
{
	gcpoll(rt); /* a due collection runs while this host G holds no P */
	exitsyscall(rt, g);
	int rc = malloc_typed(rt, ATOMIC_LOAD(rt, "proc.g_alloc.gm", &g->m)->mcache, t, out);
	entersyscall(rt, g);
	return rc;
}

/* Out of line, as g_poll_caught: gcrt_g_alloc's running path must keep
 * its arguments in registers. */
static __attribute__((noinline)) int g_alloc_syscall_caught(struct gcrt_runtime *rt, G *g,
							    gcrt_type t, void **out)
{
	RETURN_CAUGHT(rt, g_alloc_syscall(rt, g, t, out));
}

GCRT_API int gcrt_g_alloc(gcrt_g *g, gcrt_type t, void **out)
{
	int rc;
	uint32_t st = hoststatus(g, &rc);
	if (rc != GCRT_OK)
		return rc;
	if (st == Grunning)
		return g_alloc_running(g->rt, g, t, out);
	return g_alloc_syscall_caught(g->rt, g, t, out);
}
