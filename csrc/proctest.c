/* proctest.c: test hooks of the scheduler, the status protocol and
 * stacks (gcrt_test.h).  They check their arguments like the public API
 * and run the internals under a throw catcher.  Bare Gs (kind Gtest) are
 * never scheduled: tests set their status directly and drive the status
 * primitives and stack operations on them from any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "fastrand.h"
#include "gcrt_test.h"
#include "runtime.h"

static int bareg(gcrt_runtime *rt, G *g)
{
	int rc = gcheckrt(rt, g);
	if (rc == GCRT_OK && g->kind != Gtest)
		rc = GCRT_EINVAL;
	return rc;
}

/* gcrt_test_g_new's set-up: gp, fresh from newgentry, gets a stack and joins allg. */
static int newbareg(struct gcrt_runtime *rt, G *gp, G **out)
{
	gp->stack = stackalloc(rt, NULL, FixedStack);
	if (gp->stack.lo == 0) {
		free(gp);
		return GCRT_ENOMEM;
	}
	gp->sched.sp = gp->stack.hi;
	atomic_store(&gp->stackguard0, gp->stack.lo + StackGuard);
	casgstatus(rt, gp, Gidle, Gdead);
	struct schedt *s = &rt->sched;
	LOCK(rt, &s->lock, "sched.lock");
	gp->goid = ++s->goidgen;
	UNLOCK(rt, &s->lock, "sched.unlock");
	allgadd(rt, gp);
	*out = gp;
	return GCRT_OK;
}

GCRT_API int gcrt_test_g_new(gcrt_runtime *rt, gcrt_g **out)
{
	return newgentry(rt, Gtest, newbareg, out);
}

GCRT_API int gcrt_test_g_status(gcrt_runtime *rt, gcrt_g *g, uint32_t *out)
{
	int rc = gcheckrt(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (out == NULL)
		return GCRT_EINVAL;
	*out = atomic_load(&g->atomicstatus);
	return GCRT_OK;
}

GCRT_API int gcrt_test_g_setstatus(gcrt_runtime *rt, gcrt_g *g, uint32_t status)
{
	int rc = bareg(rt, g);
	if (rc != GCRT_OK)
		return rc;
	atomic_store(&g->atomicstatus, status);
	return GCRT_OK;
}

GCRT_API int gcrt_test_g_flags(gcrt_runtime *rt, gcrt_g *g, uint32_t *gcworkdone,
			       uint32_t *preemptscan, uint32_t *preempt, uint64_t *stackguard0)
{
	int rc = gcheckrt(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (gcworkdone == NULL || preemptscan == NULL || preempt == NULL || stackguard0 == NULL)
		return GCRT_EINVAL;
	*gcworkdone = atomic_load(&g->gcworkdone);
	*preemptscan = atomic_load(&g->preemptscan);
	*preempt = atomic_load(&g->preempt);
	*stackguard0 = atomic_load(&g->stackguard0);
	return GCRT_OK;
}

static int gop(struct gcrt_runtime *rt, G *gp, int op, uint32_t oldval, uint32_t newval)
{
	switch (op) {
	case GCRT_TEST_OP_CASGSTATUS:
		casgstatus(rt, gp, oldval, newval);
		return 1;
	case GCRT_TEST_OP_CASTOGSCANSTATUS:
		return castogscanstatus(rt, gp, oldval, newval);
	case GCRT_TEST_OP_CASFROMGSCANSTATUS:
		casfromgscanstatus(rt, gp, oldval, newval);
		return 1;
	case GCRT_TEST_OP_STOPG:
		return stopg(rt, gp);
	case GCRT_TEST_OP_RESTARTG:
		restartg(rt, gp);
		return 1;
	case GCRT_TEST_OP_ISSCANSTATUS:
		return isscanstatus(rt, oldval);
	default:
		return (int)casgcopystack(rt, gp);
	}
}

GCRT_API int gcrt_test_g_op(gcrt_runtime *rt, gcrt_g *g, int op, uint32_t oldval,
			    uint32_t newval, int *result)
{
	bool claim = op == GCRT_TEST_OP_STOPG || op == GCRT_TEST_OP_RESTARTG;
	int rc = claim ? gcheckrt(rt, g) : bareg(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (op < GCRT_TEST_OP_CASGSTATUS || op > GCRT_TEST_OP_CASGCOPYSTACK || result == NULL ||
	    g->kind == Ghost)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, (*result = gop(rt, g, op, oldval, newval), GCRT_OK));
}

GCRT_API int gcrt_test_gstatus_try(int op, uint32_t from, uint32_t oldval, uint32_t newval,
				   uint32_t *after, int *result, char *msg, size_t msglen)
{
	if (op < GCRT_TEST_OP_CASGSTATUS || op > GCRT_TEST_OP_CASGCOPYSTACK || after == NULL ||
	    result == NULL || msg == NULL || msglen == 0)
		return GCRT_EINVAL;
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	cfg.nprocs = 1;
	cfg.arena_size = 4 << 20;
	cfg.on_throw = GCRT_THROW_RECORD;
	gcrt_runtime *rt;
	int rc = gcrt_new(&cfg, &rt);
	if (rc != GCRT_OK)
		return rc;
	G *g;
	rc = gcrt_test_g_new(rt, &g);
	if (rc == GCRT_OK)
		rc = gcrt_test_g_setstatus(rt, g, from);
	if (rc == GCRT_OK)
		rc = gcrt_test_g_op(rt, g, op, oldval, newval, result);
	msg[0] = 0;
	if (rc == GCRT_OK) {
		*after = atomic_load(&g->atomicstatus);
	} else if (rc == GCRT_EFAILED) {
		const char *r = gcrt_last_throw(rt);
		size_t n = strcspn(r, "\n");
		if (n >= msglen)
			n = msglen - 1;
		memcpy(msg, r, n);
		msg[n] = 0;
	}
	gcrt_destroy(rt);
	return rc;
}

/* ---- a worker goroutine ---- */

typedef struct worker {
	uint64_t *counter; /* the test's memory: written only here */
	int64_t left;
	uint32_t flags;
	uint64_t rng;
} worker;

static int workerstep(G *g, void *arg)
{
	struct gcrt_runtime *rt = g->rt;
	worker *w = arg;
	while (w->left > 0) {
		if (safepoint(rt, g))
			return StepYield;
		/* The test's counter, read by the test thread: relaxed. */
		__atomic_fetch_add(w->counter, 1, __ATOMIC_RELAXED);
		w->left--;
		procyield(20);
		uint64_t r = xorshift(&w->rng) % 256;
		if ((w->flags & GCRT_TEST_W_YIELD) && r < 4)
			return StepYield;
		if ((w->flags & GCRT_TEST_W_SYSCALL) && r >= 4 && r < 6) {
			entersyscall(rt, g);
			gcrt_usleep(20 + (uint32_t)(r % 8) * 10);
			exitsyscall(rt, g);
		}
		if ((w->flags & GCRT_TEST_W_PARK) && r >= 6 && r < 8)
			return StepPark;
	}
	free(w);
	return StepExit;
}

GCRT_API int gcrt_test_go_worker(gcrt_runtime *rt, uint64_t *counter, int64_t iters,
				 uint32_t flags, uint64_t seed, gcrt_g **out)
{
	int rc = rt_check_args(rt, counter == NULL || iters < 0 || (flags & ~7u) != 0);
	if (rc != GCRT_OK)
		return rc;
	worker *w = malloc(sizeof *w);
	if (w == NULL)
		return GCRT_ENOMEM;
	w->counter = counter;
	w->left = iters;
	w->flags = flags;
	w->rng = seed * 2 + 1;
	rc = gcrt_go(rt, workerstep, w, out);
	if (rc != GCRT_OK)
		free(w);
	return rc;
}

static int schedsnapshot(struct gcrt_runtime *rt, int *nrunning, int *nnotstopped)
{
	struct schedt *s = &rt->sched;
	int n = 0;
	LOCK(rt, &s->allglock, "sched.allglock");
	for (G *gp = s->allg; gp != NULL; gp = gp->alllink)
		if ((atomic_load(&gp->atomicstatus) & ~(uint32_t)Gscan) == Grunning)
			n++;
	UNLOCK(rt, &s->allglock, "sched.allgunlock");
	int np = 0;
	for (int32_t i = 0; i < s->nprocs; i++)
		if (atomic_load(&s->allp[i].status) != Pgcstop)
			np++;
	*nrunning = n;
	*nnotstopped = np;
	return GCRT_OK;
}

GCRT_API int gcrt_test_sched_snapshot(gcrt_runtime *rt, int *nrunning, int *nnotstopped)
{
	int rc = rt_check_args(rt, nrunning == NULL || nnotstopped == NULL);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(rt, schedsnapshot(rt, nrunning, nnotstopped));
}

/* ---- stacks of bare Gs ---- */

GCRT_API int gcrt_test_stack_info(gcrt_runtime *rt, gcrt_g *g, gcrt_test_stackinfo *out)
{
	int rc = gcheckrt(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (out == NULL)
		return GCRT_EINVAL;
	out->lo = g->stack.lo;
	out->hi = g->stack.hi;
	out->sp = g->sched.sp;
	out->fp = g->sched.fp;
	out->ctxt = g->sched.ctxt;
	out->param = g->sched.param;
	out->nframes = 0;
	for (uintptr_t fp = g->sched.fp; fp != 0; fp = ((framehdr *)fp)->callerfp)
		out->nframes++;
	return GCRT_OK;
}

static int stackpush(struct gcrt_runtime *rt, G *g, uint32_t desc, uint64_t *slots)
{
	int rc = pushframe(rt, g, desc, 0);
	if (rc == GCRT_OK)
		*slots = (uint64_t)(uintptr_t)frameslots(g);
	return rc;
}

GCRT_API int gcrt_test_stack_push(gcrt_runtime *rt, gcrt_g *g, uint32_t desc, uint64_t *slots)
{
	int rc = bareg(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (slots == NULL || atomic_load(&g->atomicstatus) != Grunning)
		return slots == NULL ? GCRT_EINVAL : GCRT_ESTATE;
	RETURN_CAUGHT(rt, stackpush(rt, g, desc, slots));
}

GCRT_API int gcrt_test_stack_pop(gcrt_runtime *rt, gcrt_g *g)
{
	int rc = bareg(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (g->sched.fp == 0 || atomic_load(&g->atomicstatus) != Grunning)
		return GCRT_ESTATE;
	RETURN_CAUGHT(rt, (popframe(rt, g), GCRT_OK));
}

GCRT_API int gcrt_test_stack_frame(gcrt_runtime *rt, gcrt_g *g, int64_t depth, uint64_t *slots,
				   uint32_t *desc)
{
	int rc = gcheckrt(rt, g);
	if (rc != GCRT_OK)
		return rc;
	if (slots == NULL || desc == NULL || depth < 0)
		return GCRT_EINVAL;
	uintptr_t fp = g->sched.fp;
	for (int64_t i = 0; i < depth && fp != 0; i++)
		fp = ((framehdr *)fp)->callerfp;
	if (fp == 0)
		return GCRT_ERANGE;
	*slots = (uint64_t)(fp + sizeof(framehdr));
	*desc = (uint32_t)((framehdr *)fp)->desc;
	return GCRT_OK;
}

GCRT_API int gcrt_test_stack_setctxt(gcrt_runtime *rt, gcrt_g *g, uint64_t ctxt, uint64_t param)
{
	int rc = bareg(rt, g);
	if (rc != GCRT_OK)
		return rc;
	g->sched.ctxt = (uintptr_t)ctxt;
	g->sched.param = (uintptr_t)param;
	return GCRT_OK;
}

GCRT_API int gcrt_test_stack_shrink(gcrt_runtime *rt, gcrt_g *g)
{
	int rc = bareg(rt, g);
	if (rc != GCRT_OK)
		return rc;
	uint32_t s = atomic_load(&g->atomicstatus);
	if (!atomic_load(&rt->sched.gcwaiting) || !atomic_load(&rt->sched.worldsema) ||
	    (s != Gwaiting && s != Grunnable && s != Gdead))
		return GCRT_ESTATE;
	RETURN_CAUGHT(rt, (shrinkstack(rt, g), GCRT_OK));
}
