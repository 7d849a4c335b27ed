/* schedproc.c: controlled scenarios of the goroutine side (gstatus.c,
 * stack.c), registered with SCHED_SCENARIO (schedctl.h).
 *
 * One bare G (kind Gtest) and its cast of Ms:
 *   M0  the G's own M.  It runs the G for K cycles: Grunnable -> Grunning,
 *       some G code with safepoints, then it parks (Grunning -> Gwaiting)
 *       and waits to be readied; after the last cycle the G exits
 *       (Grunning -> Gdead).  At a safepoint it honours a preemption
 *       request (stopg's preempt) by yielding, Go's gosched: Grunning ->
 *       Grunnable -> Grunning, which lets the scanner claim it.
 *   M1  the scanner: K rounds of markroot's per-G loop (Go 1.4 mgc0.c):
 *       clear gcworkdone, stopg, and while the G is not done (a running G
 *       is asked to stop and waited for) stopg again; a dead G counts as
 *       done.  When stopg claims the G (its status | Gscan), the phase
 *       work runs under the scan bit, then restartg releases it.
 *   M2  (three Ms) the waker: readies every park of the G (Gwaiting ->
 *       Grunnable, the status half of Go's ready; no run queue), at any
 *       moment after the park, like netpoll's injectglist.  With two Ms
 *       the scanner readies the G after each of its rounds.
 *
 *   gstatus    the G only changes status.  Oracle: every status anyone
 *              reads is a legal one; the G never runs with a status other
 *              than Grunning, never runs without having been readied,
 *              and never runs while the scanner holds the scan bit (a
 *              model flag set by M0 around its Grunning spans); every
 *              claim sees a scan status; each round's phase work happens
 *              exactly once (or the G was already dead: "scan missed a
 *              g"); no livelock (the controller's detector).  Mutants
 *              "stopg_blind_store" and "scan_miss" (proc.h).
 *   copystack  each cycle the G pushes frames until its stack doubles
 *              (newstack under Gcopystack; earlier, and once per frame,
 *              where the fault stack.morestack.force fails a stack check)
 *              and pops back to one frame;
 *              then, parked, its M shrinks the stack (as a scheduler
 *              would before running it again; an asynchronous ready may
 *              land meanwhile) before waiting for the ready.  The phase
 *              work walks the G's frames against the model: every frame
 *              lies in the G's current stack and has the scenario's
 *              descriptor, the heap slot points into the heap block, the
 *              stack slot points at its own frame, the scalar is the
 *              frame's index, and the frame count is the model's.  A scan
 *              mid-copy sees frames already moved to (or slots pointing
 *              into) a stack the G does not have, or a freed, poisoned
 *              one.  M0 checks its own frames after every growth too.
 *              Mutants "copy_no_gcopystack" and "copy_read_then_cas".
 *
 * Parameters: p0 = cycles K (default 2, at most MaxCycles).  The model
 * counters are plain atomics without points: bookkeeping of the oracle,
 * not part of the protocol under test.  Values passed to points are
 * statuses and indices, never addresses.
 */
#include <stdio.h>
#include <string.h>

#include "schedctl.h"

enum {
	MaxCycles = 32,
	FrameSlots = 60,  /* 504-byte frames: the fourth doubles a 2 KB stack */
	GrowFrames = 4,
	HeapWords = 16,
};

struct pctx {
	G *g;
	int cycles, n, frames;
	uint32_t desc;           /* frame descriptor: slots 0 and 1 are pointers */
	uintptr_t *heap;         /* the heap block frames point into */
	_Atomic uint32_t running; /* M0 runs the G (inside its Grunning spans) */
	_Atomic uint32_t parked;  /* parks so far */
	_Atomic uint32_t readied; /* readies so far */
	_Atomic uint32_t depth;   /* frames on the G's stack (M0 writes, running) */
	_Atomic uint32_t exited;
	_Atomic uint32_t scans[MaxCycles]; /* phase work done in round r */
	_Atomic uint32_t dead[MaxCycles];  /* round r found the G dead */
};

static const char *const gnames[] = {"Gidle",   "Grunnable", "Grunning", "Gsyscall", "Gwaiting",
				     "Gmoribund", "Gdead",   "Genqueue", "Gcopystack"};

static void statusname(uint32_t s, char *buf, size_t n)
{
	uint32_t base = s & ~(uint32_t)Gscan;
	if (base < nelem(gnames))
		snprintf(buf, n, "%s%s", gnames[base], s & Gscan ? "|Gscan" : "");
	else
		snprintf(buf, n, "%#x", s);
}

/* Every status read must be one the protocol can produce here. */
static uint32_t legal(struct gcrt_runtime *rt, uint32_t s)
{
	switch (s) {
	case Grunnable:
	case Grunning:
	case Gwaiting:
	case Gdead:
	case Gcopystack:
	case Gscanrunnable:
	case Gscanrunning:
	case Gscanwaiting:
		return s;
	}
	char b[32];
	statusname(s, b, sizeof b);
	throwf(rt, "schedproc: illegal status %s observed", b);
}

static uint32_t status(struct gcrt_runtime *rt, struct pctx *x)
{
	return legal(rt, readgstatus(rt, x->g));
}

static int psetup(struct gcrt_runtime *rt, void *vctx, const schedparams *p, bool frames)
{
	struct pctx *x = vctx;
	x->cycles = p->p[0] != 0 ? (int)p->p[0] : 2;
	if (x->cycles < 1 || x->cycles > MaxCycles)
		return GCRT_ERANGE;
	x->n = p->n_ms;
	x->frames = frames;
	int rc = gcrt_test_g_new(rt, &x->g);
	if (rc != GCRT_OK)
		return rc;
	if (frames) {
		uint8_t bits = 0x3;
		rc = gcrt_frame_desc(rt, FrameSlots, &bits, 2, &x->desc);
		if (rc != GCRT_OK)
			return rc;
		x->heap = persistentalloc(rt, HeapWords * sizeof(uintptr_t), 8, NULL);
		if (x->heap == NULL)
			return GCRT_ENOMEM;
	}
	casgstatus(rt, x->g, Gdead, Grunnable);
	return GCRT_OK;
}

/* ---- M0: the G's own M ---- */

/* Run the G: Grunnable -> Grunning (spins while it is parked, scanned or
 * copied).  A G must only run after a ready for each of its parks. */
static void grun(struct gcrt_runtime *rt, struct pctx *x)
{
	casgstatus(rt, x->g, Grunnable, Grunning);
	atomic_store(&x->running, 1);
	if (atomic_load(&x->readied) != atomic_load(&x->parked))
		throwf(rt, "schedproc: the G runs after %u parks and %u readies",
		       atomic_load(&x->parked), atomic_load(&x->readied));
}

static void gleave(struct gcrt_runtime *rt, struct pctx *x, uint32_t to)
{
	atomic_store(&x->running, 0);
	casgstatus(rt, x->g, Grunning, to);
}

/* A safepoint of the G's code: it must be Grunning (Gscanrunning while
 * stopg sets its preemption request); a request makes it yield so the
 * scanner can claim it. */
static void gsafepoint(struct gcrt_runtime *rt, struct pctx *x)
{
	G *g = x->g;
	uint32_t s = status(rt, x);
	if (s != Grunning && s != Gscanrunning) {
		char b[32];
		statusname(s, b, sizeof b);
		throwf(rt, "schedproc: the G runs with status %s", b);
	}
	if (!ATOMIC_LOAD(rt, "schedproc.g.preempt", &g->preempt))
		return;
	ATOMIC_STORE(rt, "schedproc.g.unpreempt", &g->preempt, 0);
	ATOMIC_STORE(rt, "schedproc.g.unpreemptscan", &g->preemptscan, 0);
	ATOMIC_STORE(rt, "schedproc.g.guard", &g->stackguard0, g->stack.lo + StackGuard);
	gleave(rt, x, Grunnable);
	grun(rt, x);
}

static void gpark(struct gcrt_runtime *rt, struct pctx *x)
{
	gleave(rt, x, Gwaiting);
	atomic_fetch_add(&x->parked, 1);
	SCHED_NOTE(rt, "schedproc.g.parked", atomic_load(&x->parked));
}

/* Frame i (0 = outermost): slot 0 points into the heap block, slot 1 at
 * the frame's own slot 2, slot 2 holds i. */
static void fillframe(struct pctx *x, uint32_t i)
{
	uintptr_t *s = frameslots(x->g);
	s[0] = (uintptr_t)&x->heap[i % HeapWords];
	s[1] = (uintptr_t)&s[2];
	s[2] = i;
}

/* The frames of the G against the model; NULL or what is wrong. */
static const char *checkframes(struct pctx *x, char *buf, size_t n)
{
	G *g = x->g;
	uintptr_t lo = g->stack.lo, hi = g->stack.hi;
	uint32_t depth = atomic_load(&x->depth), k = 0;
	for (uintptr_t fp = g->sched.fp; fp != 0; k++) {
		if (fp < lo || fp + sizeof(framehdr) + 3 * sizeof(uintptr_t) > hi || k >= depth)
			return checkfail(buf, n,
					 "frame %u of %u at stack+%#lx, outside the G's stack [%#lx bytes]",
					 k, depth, (unsigned long)(fp - lo), (unsigned long)(hi - lo));
		framehdr *h = (framehdr *)fp;
		uintptr_t *s = (uintptr_t *)(h + 1);
		uint32_t i = depth - 1 - k;
		if (h->desc != x->desc || s[2] != i)
			return checkfail(buf, n,
					 "frame %u of %u: descriptor %#lx, scalar %#lx (a freed or unfinished stack)",
					 k, depth, (unsigned long)h->desc, (unsigned long)s[2]);
		if (s[0] != (uintptr_t)&x->heap[i % HeapWords])
			return checkfail(buf, n,
					 "frame %u of %u: heap slot points outside the heap", k, depth);
		if (s[1] != (uintptr_t)&s[2]) {
			bool old = s[1] < lo || s[1] >= hi;
			return checkfail(buf, n, "frame %u of %u: stack slot points %s", k, depth,
					 old ? "outside the G's current stack" : "at the wrong slot");
		}
		fp = h->callerfp;
	}
	if (k != depth)
		return checkfail(buf, n, "%u frames on the stack, the G has %u", k, depth);
	return NULL;
}

/* Push frame i, a function entry.  When the stack check fails (the frame
 * does not fit, or the fault stack.morestack.force says so) the G stops
 * running G code until morestack is done: it is Gwaiting meanwhile. */
static void gpush(struct gcrt_runtime *rt, struct pctx *x)
{
	G *g = x->g;
	uintptr_t size = g->stack.hi - g->stack.lo;
	uintptr_t need = sizeof(framehdr) + FrameSlots * sizeof(uintptr_t);
	uint32_t i = atomic_load(&x->depth);
	if (stackcheck(rt, g, need)) {
		atomic_store(&x->running, 0);
		int rc = morestack(rt, g, need);
		if (rc != GCRT_OK)
			throwf(rt, "schedproc: morestack failed (%d)", rc);
		atomic_store(&x->running, 1);
	}
	int rc = pushframe_nosplit(rt, g, x->desc, i);
	if (rc != GCRT_OK)
		throwf(rt, "schedproc: pushframe failed (%d)", rc);
	fillframe(x, i);
	atomic_store(&x->depth, i + 1);
	SCHED_NOTE(rt, "schedproc.g.pushed", i + 1);
	if (g->stack.hi - g->stack.lo != size) {
		char buf[160];
		const char *bad = checkframes(x, buf, sizeof buf);
		if (bad != NULL)
			throwf(rt, "schedproc: after newstack: %s", bad);
	}
}

static void gpop(struct gcrt_runtime *rt, struct pctx *x)
{
	popframe(rt, x->g);
	atomic_fetch_sub(&x->depth, 1);
}

/* One cycle of G code: safepoints, and in copystack a stack that doubles
 * and comes back to one frame. */
static void gcode(struct gcrt_runtime *rt, struct pctx *x)
{
	gsafepoint(rt, x);
	if (x->frames) {
		while (atomic_load(&x->depth) < GrowFrames) {
			gpush(rt, x);
			gsafepoint(rt, x);
		}
		while (atomic_load(&x->depth) > 1)
			gpop(rt, x);
	}
	gsafepoint(rt, x);
}

static void gbody(struct gcrt_runtime *rt, struct pctx *x)
{
	grun(rt, x);
	for (int c = 0; c < x->cycles; c++) {
		gcode(rt, x);
		gpark(rt, x);
		/* The parked G's M shrinks its stack before running it again;
		 * a ready may come at any moment. */
		if (x->frames)
			shrinkparked(rt, x->g);
		grun(rt, x);
	}
	gsafepoint(rt, x);
	while (atomic_load(&x->depth) > 0)
		gpop(rt, x);
	gleave(rt, x, Gdead);
	atomic_store(&x->exited, 1);
}

/* ---- M1: the scanner ---- */

/* The phase work, the scan bit held. */
static void phasework(struct gcrt_runtime *rt, struct pctx *x, int r)
{
	uint32_t s = status(rt, x);
	if (s != Gscanrunnable && s != Gscanwaiting) {
		char b[32];
		statusname(s, b, sizeof b);
		throwf(rt, "GC not in scan state: claimed a G in %s", b);
	}
	if (atomic_load(&x->running))
		throwf(rt, "schedproc: the G is running while the scanner holds Gscan");
	SCHED_POINT(rt, "schedproc.scan.work");
	if (x->frames) {
		char buf[160];
		const char *bad = checkframes(x, buf, sizeof buf);
		if (bad != NULL)
			throwf(rt, "schedproc: scan saw %s", bad);
	}
	if (atomic_load(&x->running))
		throwf(rt, "schedproc: the G ran during its scan");
	atomic_fetch_add(&x->scans[r], 1);
	SCHED_NOTE(rt, "schedproc.scan.round", r);
}

/* Round r of markroot's per-G loop. */
static void scanround(struct gcrt_runtime *rt, struct pctx *x, int r)
{
	G *g = x->g;
	ATOMIC_STORE(rt, "schedproc.scan.begin", &g->gcworkdone, 0);
	for (;;) {
		if (stopg(rt, g)) {
			phasework(rt, x, r);
			restartg(rt, g);
		}
		if (ATOMIC_LOAD(rt, "schedproc.scan.done", &g->gcworkdone))
			break;
		if (status(rt, x) == Gdead) {
			atomic_store(&x->dead[r], 1);
			break;
		}
		/* Running (asked to stop), being copied, or moved under stopg. */
		SCHED_SPIN(rt, "schedproc.scan.spin");
	}
	uint32_t k = atomic_load(&x->scans[r]) + atomic_load(&x->dead[r]);
	if (k != 1)
		throwf(rt, "scan missed a g: round %d did the phase work %u times", r,
		       atomic_load(&x->scans[r]));
}

/* ---- M2 (or M1): the waker ---- */

static void wake(struct gcrt_runtime *rt, struct pctx *x, int c)
{
	while (atomic_load(&x->parked) <= (uint32_t)c)
		SCHED_SPIN(rt, "schedproc.wake.wait");
	casgstatus(rt, x->g, Gwaiting, Grunnable);
	atomic_fetch_add(&x->readied, 1);
}

static void pbody(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct pctx *x = vctx;
	if (m == 0) {
		gbody(rt, x);
		return;
	}
	for (int c = 0; c < x->cycles; c++) {
		if (m == 1)
			scanround(rt, x, c);
		if (m == x->n - 1)
			wake(rt, x, c);
	}
}

static const char *pcheck(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	(void)rt;
	struct pctx *x = vctx;
	uint32_t s = atomic_load(&x->g->atomicstatus);
	if (!atomic_load(&x->exited) || s != Gdead)
		return checkfail(buf, n, "schedproc: the G did not exit (status %#x)", s);
	if (atomic_load(&x->readied) != (uint32_t)x->cycles)
		return checkfail(buf, n,
				 "schedproc: %u readies for %d parks", atomic_load(&x->readied),
				 x->cycles);
	for (int r = 0; r < x->cycles; r++)
		if (atomic_load(&x->scans[r]) + atomic_load(&x->dead[r]) != 1)
			return checkfail(buf, n, "scan missed a g: round %d", r);
	return NULL;
}

static int gs_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	return psetup(rt, vctx, p, false);
}

static int cs_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	return psetup(rt, vctx, p, true);
}

SCHED_SCENARIO_DEF(gstatus, 2, 3, struct pctx, SCENARIO_MUTANTS("stopg_blind_store", "scan_miss"),
		   gs_setup, pbody, pcheck, NULL,
		   "a G runs, parks and is readied while a scanner claims it each round (params: cycles)");

SCHED_SCENARIO_DEF(copystack, 2, 3, struct pctx,
		   SCENARIO_MUTANTS("copy_no_gcopystack", "copy_read_then_cas"),
		   cs_setup, pbody, pcheck, NULL,
		   "a G grows and shrinks its stack while a scanner claims it (params: cycles)");
