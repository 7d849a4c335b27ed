/* schedpark.c: the scheduler's park and ready (proc.c) under the
 * controller, registered with SCHED_SCENARIO (schedctl.h).
 *
 *   park  Setup creates one goroutine, the sleeper, and starts one
 *         scheduler M (gcrt_start: a controlled M like the body's).  The
 *         sleeper's step parks (StepPark) K times and exits on its
 *         K+1-th run.  The only body M (M1 in traces: the scheduler M
 *         registers first) is its waker: for each park k it waits until
 *         the sleeper's step has asked to park (the ready may still land
 *         before the park itself: one pending wakeup),
 *         counts the ready and calls ready(); after the last it waits for
 *         the sleeper's exit and shuts the scheduler down, which ends the
 *         scheduler M.  Oracle: the sleeper never runs without a ready for
 *         its park (its k-th resume sees at least k readies) and exits.
 *         Fault proc.park.spurious makes a parked G runnable with no
 *         ready; execute must re-check and park it again.  Mutant
 *         "park_no_recheck" (M_PARK_NO_RECHECK) runs it anyway: killed
 *         only with the fault.
 *
 * Parameters: p0 = parks K (default 3, at most MaxParks).  The model
 * counters are plain atomics without points (the oracle's bookkeeping).
 */
#include <stdio.h>

#include "schedctl.h"

enum { MaxParks = 64 };

struct parkctx {
	int parks;
	G *g;
	_Atomic uint32_t steps;   /* runs of the sleeper's step */
	_Atomic uint32_t asked;   /* parks its step asked for */
	_Atomic uint32_t readies; /* readies the waker made */
	_Atomic uint32_t exited;
};

static int sleeper(G *g, void *arg)
{
	struct parkctx *x = arg;
	uint32_t k = atomic_fetch_add(&x->steps, 1);
	uint32_t r = atomic_load(&x->readies);
	SCHED_NOTE(g->rt, "schedpark.g.run", k);
	if (r < k)
		throwf(g->rt, "park: the G resumed from park %u with %u readies", k, r);
	if (k == (uint32_t)x->parks) {
		atomic_store(&x->exited, 1);
		return StepExit;
	}
	atomic_store(&x->asked, k + 1);
	return StepPark;
}

static int parksetup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct parkctx *x = vctx;
	x->parks = p->p[0] != 0 ? (int)p->p[0] : 3;
	if (x->parks < 1 || x->parks > MaxParks)
		return GCRT_ERANGE;
	int rc = gcrt_go(rt, sleeper, x, &x->g);
	return rc == GCRT_OK ? gcrt_start(rt, 1) : rc;
}

static void parkbody(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct parkctx *x = vctx;
	(void)m;
	for (uint32_t k = 1; k <= (uint32_t)x->parks; k++) {
		while (atomic_load(&x->asked) < k)
			SCHED_SPIN(rt, "schedpark.wake.wait");
		atomic_store(&x->readies, k);
		ready(rt, x->g);
	}
	while (!atomic_load(&x->exited))
		SCHED_SPIN(rt, "schedpark.exit.wait");
	schedshutdown(rt);
}

static const char *parkcheck(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	(void)rt;
	struct parkctx *x = vctx;
	if (!atomic_load(&x->exited) || atomic_load(&x->steps) != (uint32_t)x->parks + 1)
		return checkfail(buf, n, "park: the G ran %u steps for %d parks and %s",
				 atomic_load(&x->steps), x->parks,
				 atomic_load(&x->exited) ? "exited" : "did not exit");
	return NULL;
}

SCHED_SCENARIO_DEF(park, 1, 1, struct parkctx, SCENARIO_MUTANTS("park_no_recheck"),
		   parksetup, parkbody, parkcheck, NULL,
		   "a goroutine parks and is readied on a scheduler M (params: parks)");
