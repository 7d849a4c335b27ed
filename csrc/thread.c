/* thread.c: threads the runtime starts (Ms, test workers).
 *
 * Every runtime thread starts through rtthread_start: its start routine
 * installs a throw catcher, so a recorded throw on the thread ends the
 * thread (t->threw = 1) instead of the process.  Threads get a dense index
 * in creation order (never derived from pthread ids), which the
 * deterministic scheduler uses as the M's identity.
 */
#include "runtime.h"

static void *rtthread_main(void *arg)
{
	rtthread *t = arg;
	throwcatch tc;
	if (CATCH(t->rt, &tc)) {
		atomic_store(&t->threw, 1);
		return NULL;
	}
	t->fn(t->rt, t->arg);
	uncatch(&tc);
	return NULL;
}

int rtthread_start(struct gcrt_runtime *rt, rtthread *t, void (*fn)(struct gcrt_runtime *, void *),
		   void *arg)
{
	t->rt = rt;
	t->fn = fn;
	t->arg = arg;
	atomic_store(&t->threw, 0);
	t->index = (int)atomic_fetch_add(&rt->nthreads, 1);
	if (pthread_create(&t->tid, NULL, rtthread_main, t) != 0)
		return GCRT_ENOMEM;
	return GCRT_OK;
}

void rtthread_join(rtthread *t)
{
	pthread_join(t->tid, NULL);
}
