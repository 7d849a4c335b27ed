/* thread.c: threads the runtime starts (Ms, test workers).
 *
 * Every runtime thread starts through rtthread_start: its start routine
 * installs a throw catcher, so a recorded throw on the thread ends the
 * thread (t->threw = 1) instead of the process.  Threads get a dense index
 * in creation order (never derived from pthread ids).
 *
 * In controlled mode (schedctl.c) a thread started by the run's setup or
 * by the M holding the baton becomes a controlled M: it is registered
 * before it exists, pinned to the controller's CPU, waits for its first
 * turn before running, and hands the baton on when it ends; rtthread_join
 * from a controlled M waits under control instead of blocking for real.
 */
#include <sched.h>
#include <stdlib.h>

#include "schedctl.h"

static void *rtthread_main(void *arg)
{
	rtthread *t = arg;
	struct gcrt_runtime *rt = t->rt;
	int m = t->ctlm;
	if (m >= 0 && !ctl_begin(rt, m)) {
		ctl_end(rt, m);
		return NULL;
	}
	throwcatch tc;
	if (CATCH(rt, &tc)) {
		atomic_store(&t->threw, 1);
	} else {
		t->fn(rt, t->arg);
		uncatch(&tc);
	}
	if (m >= 0)
		ctl_end(rt, m);
	return NULL;
}

/* Controlled Ms share one CPU: only one runs anyway, and same-CPU handoffs
 * are several times cheaper and steadier than cross-CPU wakeups.  The CPU
 * is the one the run's first M was created on (so concurrent test
 * processes spread out), if this thread may run there. */
static void pin(struct gcrt_runtime *rt, pthread_attr_t *attr)
{
	cpu_set_t all, one;
	if (sched_getaffinity(0, sizeof all, &all) != 0)
		return;
	int *cpu = &rt->sp.ctl->cpu;
	if (*cpu < 0 || !CPU_ISSET(*cpu, &all)) {
		int here = sched_getcpu();
		*cpu = here >= 0 && CPU_ISSET(here, &all) ? here : -1;
		for (int i = 0; *cpu < 0 && i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &all))
				*cpu = i;
	}
	if (*cpu < 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(*cpu, &one);
	pthread_attr_setaffinity_np(attr, sizeof one, &one);
}

int rtthread_start(struct gcrt_runtime *rt, rtthread *t, void (*fn)(struct gcrt_runtime *, void *),
		   void *arg)
{
	t->rt = rt;
	t->fn = fn;
	t->arg = arg;
	atomic_store(&t->threw, 0);
	t->index = (int)atomic_fetch_add(&rt->nthreads, 1);
	t->ctlm = ctl_register(rt, t);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (t->ctlm >= 0)
		pin(rt, &attr);
	int rc = pthread_create(&t->tid, &attr, rtthread_main, t);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		if (t->ctlm >= 0) {
			ctl_fail(rt->sp.ctl, GCRT_SCHED_OUT_UNCONTROLLED, "pthread_create failed");
			ctl_end(rt, t->ctlm);
		}
		return GCRT_ENOMEM;
	}
	if (t->ctlm >= 0)
		ctl_started(rt, t->ctlm, t->tid);
	return GCRT_OK;
}

void rtthread_join(rtthread *t)
{
	if (t->ctlm >= 0)
		ctl_join(t->rt, t);
	pthread_join(t->tid, NULL);
}

int rtthread_runall(struct gcrt_runtime *rt, int n, void (*fn)(struct gcrt_runtime *, void *),
		    void *args, size_t stride)
{
	rtthread *t = calloc((size_t)n, sizeof *t);
	if (t == NULL)
		return GCRT_ENOMEM;
	int rc = GCRT_OK, started = 0;
	for (; started < n; started++) {
		if (rtthread_start(rt, &t[started], fn, (char *)args + (size_t)started * stride) !=
		    GCRT_OK) {
			rc = GCRT_ENOMEM;
			break;
		}
	}
	for (int i = 0; i < started; i++) {
		rtthread_join(&t[i]);
		if (atomic_load(&t[i].threw))
			rc = GCRT_EFAILED;
	}
	free(t);
	return rc;
}
