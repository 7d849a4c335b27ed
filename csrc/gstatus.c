/* gstatus.c: the goroutine status protocol (Go 1.4 proc.c).
 *
 * A G's atomicstatus is read and written only here.  casgstatus does the
 * ordinary transitions and spins until its CAS succeeds: while a GC thread
 * holds the Gscan bit (status | Gscan) the CAS cannot succeed, so the bit
 * is a lock on the G's stack and the G cannot leave its state until the
 * scanner releases it.  castogscanstatus takes the bit with one CAS (false
 * means the status moved; callers retry), casfromgscanstatus releases it
 * and must succeed.  Each accepts exactly Go's legal pairs and throws with
 * Go's message otherwise.
 *
 * casgcopystack moves a Gwaiting or Grunnable G to Gcopystack, re-reading
 * the status on every try: an asynchronous ready may turn Gwaiting into
 * Grunnable at any moment.  The seed instead read the status once and
 * casgstatus-ed from it, which spins forever when the ready lands between
 * the read and the CAS; that form is kept as mutant M_COPY_READ_THEN_CAS.
 *
 * stopg/restartg claim a G for the GC's per-G work (gcphasework: the
 * collector's scanstack in the scan and mark phases) and give it back,
 * with the seed's semantics: in GCscan a running G is marked done without
 * a scan (the stopped-world mark rescans every stack); in other phases it
 * is asked to scan itself at its next safepoint (preemptscan, preempt,
 * stackguard0 = StackPreempt).
 *
 * Test builds keep classic bugs of this protocol behind mutants (mutants.h):
 * a blind read-then-store claim (M_STOPG_BLIND_STORE) and a failed claim
 * counted as done (M_SCAN_MISS).  After-op notes record the status each
 * primitive read or installed, so stories show Gwaiting|Gscan, not
 * numbers.
 */
#include "runtime.h"
#include "mutants.h"

uint32_t readgstatus(struct gcrt_runtime *rt, G *gp)
{
	uint32_t s = ATOMIC_LOAD(rt, "readgstatus", &gp->atomicstatus);
	SCHED_NOTE(rt, "readgstatus.saw", s);
	return s;
}

bool isscanstatus(struct gcrt_runtime *rt, uint32_t status)
{
	if (status == Gscan)
		throw(rt, "isscanstatus: Bad status Gscan");
	return (status & Gscan) == Gscan;
}

void casgstatus(struct gcrt_runtime *rt, G *gp, uint32_t oldval, uint32_t newval)
{
	if ((oldval & Gscan) || (newval & Gscan) || oldval == newval)
		throw(rt, "casgstatus: bad incoming values");
	/* Loops while the status is not oldval, in particular while a GC
	 * thread holds oldval|Gscan. */
	while (!ATOMIC_CAS32(rt, "casgstatus.cas", &gp->atomicstatus, oldval, newval))
		SCHED_SPIN(rt, "casgstatus.spin");
	SCHED_NOTE(rt, "casgstatus.set", newval);
}

/* Mutant M_STOPG_BLIND_STORE: the claim as a read, then a store that
 * clobbers whatever the G did in between. */
static bool blindclaim(struct gcrt_runtime *rt, G *gp, uint32_t oldval, uint32_t newval)
{
	if (readgstatus(rt, gp) != oldval)
		return false;
	ATOMIC_STORE(rt, "castogscanstatus.store", &gp->atomicstatus, newval);
	return true;
}

bool castogscanstatus(struct gcrt_runtime *rt, G *gp, uint32_t oldval, uint32_t newval)
{
	switch (oldval) {
	case Grunnable:
	case Gwaiting:
	case Gsyscall:
		if (newval != (oldval | Gscan))
			break;
		if (MUTANT(rt, M_STOPG_BLIND_STORE))
			return blindclaim(rt, gp, oldval, newval);
		return ATOMIC_CAS32(rt, "castogscanstatus.cas", &gp->atomicstatus, oldval, newval);
	case Grunning:
		if (newval == Gscanrunning || newval == Gscanenqueue)
			return ATOMIC_CAS32(rt, "castogscanstatus.cas", &gp->atomicstatus, oldval,
					    newval);
		break;
	}
	throw(rt, "castogscanstatus");
}

void casfromgscanstatus(struct gcrt_runtime *rt, G *gp, uint32_t oldval, uint32_t newval)
{
	bool legal = false;
	switch (oldval) {
	case Gscanrunnable:
	case Gscanwaiting:
	case Gscanrunning:
	case Gscansyscall:
		legal = newval == (oldval & ~(uint32_t)Gscan);
		break;
	case Gscanenqueue:
		legal = newval == Gwaiting;
		break;
	}
	/* The holder of the bit is the only writer: the CAS fails only
	 * spuriously (an injected fault) while the status is still oldval. */
	while (legal && !ATOMIC_CAS32(rt, "casfromgscanstatus.cas", &gp->atomicstatus, oldval, newval))
		legal = readgstatus(rt, gp) == oldval;
	if (!legal)
		throw(rt, "casfromgscanstatus: gp->status is not in scan state");
	SCHED_NOTE(rt, "casfromgscanstatus.set", newval);
}

uint32_t casgcopystack(struct gcrt_runtime *rt, G *gp)
{
	if (MUTANT(rt, M_COPY_READ_THEN_CAS)) {
		uint32_t s = readgstatus(rt, gp) & ~(uint32_t)Gscan;
		SCHED_POINT(rt, "casgcopystack.read");
		casgstatus(rt, gp, s, Gcopystack);
		return s;
	}
	for (;;) {
		uint32_t s = readgstatus(rt, gp) & ~(uint32_t)Gscan;
		if (s != Gwaiting && s != Grunnable)
			throw(rt, "status is not Gwaiting or Grunnable");
		if (ATOMIC_CAS32(rt, "casgcopystack.cas", &gp->atomicstatus, s, Gcopystack))
			return s;
		SCHED_SPIN(rt, "casgcopystack.spin");
	}
}

void gcphasework(struct gcrt_runtime *rt, G *gp)
{
	switch (ATOMIC_LOAD(rt, "gcphasework.phase", &rt->gc.phase)) {
	case GCoff:
	case GCquiesce:
	case GCstw:
	case GCsweep:
		break;
	case GCscan:
	case GCmark:
	case GCmarktermination:
		scanstack(rt, gp);
		break;
	default:
		throw(rt, "gcphasework in bad gcphase");
	}
	ATOMIC_STORE(rt, "gcphasework.gcworkdone", &gp->gcworkdone, 1);
}

bool stopg(struct gcrt_runtime *rt, G *gp)
{
	for (;;) {
		if (ATOMIC_LOAD(rt, "stopg.gcworkdone", &gp->gcworkdone))
			return false;
		uint32_t s = readgstatus(rt, gp);
		switch (s) {
		case Gdead:
			return false;
		case Gcopystack:
			/* The new stack is being put in place: wait. */
			SCHED_SPIN(rt, "stopg.copystack.spin");
			break;
		case Grunnable:
		case Gsyscall:
		case Gwaiting:
			if (!castogscanstatus(rt, gp, s, s | Gscan)) {
				if (MUTANT(rt, M_SCAN_MISS)) {
					/* The mutant: the G moved; call it done. */
					ATOMIC_STORE(rt, "stopg.miss", &gp->gcworkdone, 1);
					return false;
				}
				break;
			}
			SCHED_NOTE(rt, "stopg.claimed", s | Gscan);
			gcphasework(rt, gp);
			return true;
		case Gscanrunnable:
		case Gscanwaiting:
		case Gscansyscall:
			return false; /* another GC thread owns it */
		case Grunning:
			if (ATOMIC_LOAD(rt, "stopg.phase", &rt->gc.phase) == GCscan) {
				/* The seed: running Gs are not scanned concurrently;
				 * the stopped-world mark rescans them. */
				ATOMIC_STORE(rt, "stopg.scanrunning", &gp->gcworkdone, 1);
				return false;
			}
			if (!castogscanstatus(rt, gp, Grunning, Gscanrunning))
				break;
			if (!ATOMIC_LOAD(rt, "stopg.gcworkdone", &gp->gcworkdone)) {
				ATOMIC_STORE(rt, "stopg.preemptscan", &gp->preemptscan, 1);
				ATOMIC_STORE(rt, "stopg.preempt", &gp->preempt, 1);
				ATOMIC_STORE(rt, "stopg.stackguard0", &gp->stackguard0, StackPreempt);
			}
			casfromgscanstatus(rt, gp, Gscanrunning, Grunning);
			return false;
		default:
			throw(rt, "stopg: gp->atomicstatus is not valid");
		}
	}
}

void restartg(struct gcrt_runtime *rt, G *gp)
{
	uint32_t s = readgstatus(rt, gp);
	switch (s) {
	case Gdead:
		return;
	case Gscanrunnable:
	case Gscanwaiting:
	case Gscansyscall:
		casfromgscanstatus(rt, gp, s, s & ~(uint32_t)Gscan);
		return;
	case Gscanenqueue: {
		casfromgscanstatus(rt, gp, Gscanenqueue, Gwaiting);
		M *m = ATOMIC_LOAD(rt, "restartg.gm", &gp->m);
		if (m == NULL || ATOMIC_LOAD(rt, "restartg.curg", &m->curg) != gp)
			throw(rt, "processing Gscanenqueue on wrong m");
		ATOMIC_STORE(rt, "restartg.curg", &m->curg, NULL);
		ATOMIC_STORE(rt, "restartg.gm", &gp->m, NULL);
		ready(rt, gp);
		return;
	}
	default:
		throw(rt, "restartg: unexpected status");
	}
}
