/* mfinal.c: finalizers (Go's SetFinalizer, queuefinalizer, runfinq).
 *
 * gcrt_set_finalizer(obj, fn, arg) records a finalizer special on obj's
 * span (after making sure the span is swept, so the special is judged by
 * this cycle's mark), at most one per object.  The mark keeps everything
 * obj references alive (RootSpans) but not obj itself.  When the sweeper
 * finds obj unmarked it unlinks the special, queues {obj, fn, arg} on finq
 * and marks obj, which therefore survives this cycle with its referents.
 * finq (and the batch being run) are roots, so obj stays intact until fn
 * has returned; it is freed by the first collection after that which
 * finds it unreachable again.  Finalizers run one at a time on the
 * finalizer thread (fing), which parks on a note when the queue is empty;
 * each runs exactly once, since its special is gone once queued.
 *
 * Bad input: fn NULL, or obj not an allocated object's base address (an
 * interior pointer) is GCRT_EINVAL, or outside the heap GCRT_EBADOBJ; a
 * second finalizer on the same object is GCRT_ESTATE.
 */
#include <pthread.h>

#include "runtime.h"

static void fing(struct gcrt_runtime *rt, void *arg)
{
	struct gcstate *gc = &rt->gc;
	(void)arg;
	for (;;) {
		LOCK(rt, &gc->finlock, "fing.lock");
		finalizer *batch = gc->finq;
		if (batch == NULL) {
			if (atomic_load(&gc->finexit)) {
				UNLOCK(rt, &gc->finlock, "fing.unlock");
				return;
			}
			noteclear(&gc->finnote);
			gc->finparked = 1;
			UNLOCK(rt, &gc->finlock, "fing.unlock");
			notesleep(rt, &gc->finnote);
			continue;
		}
		gc->finq = NULL;
		gc->finrun = batch;
		UNLOCK(rt, &gc->finlock, "fing.unlock");
		uint64_t n = 0;
		for (finalizer *f = batch; f != NULL; f = f->next, n++)
			f->fn(rt, f->obj, f->arg);
		(void)ATOMIC_XADD(rt, "fing.nrun", &gc->nfinalizers_run, n);
		LOCK(rt, &gc->finlock, "fing.lock");
		gc->finrun = NULL;
		while (batch != NULL) {
			finalizer *f = batch;
			batch = f->next;
			f->next = gc->freefin;
			gc->freefin = f;
		}
		UNLOCK(rt, &gc->finlock, "fing.unlock");
	}
}

/* Wake fing (under finlock). */
static void fing_wakelocked(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	if (gc->finparked) {
		gc->finparked = 0;
		notewakeup(rt, &gc->finnote);
	}
}

/* Called by the sweeper holding s->speciallock: obj is unreachable. */
void queuefinalizer(struct gcrt_runtime *rt, specialfinalizer *sf, void *obj)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &gc->finlock, "fin.lock");
	finalizer *f = gc->freefin;
	if (f != NULL)
		gc->freefin = f->next;
	else
		f = persistentalloc(rt, sizeof *f, 8, NULL);
	f->obj = obj;
	f->fn = sf->fn;
	f->arg = sf->arg;
	finalizer **tail = &gc->finq;
	while (*tail != NULL)
		tail = &(*tail)->next;
	f->next = NULL;
	*tail = f;
	sf->sp.next = (special *)gc->freespecials;
	gc->freespecials = sf;
	fing_wakelocked(rt);
	UNLOCK(rt, &gc->finlock, "fin.unlock");
}

/* fn(obj) for every object waiting for or running its finalizer. */
void finq_scan(struct gcrt_runtime *rt, void (*fn)(struct gcrt_runtime *, void *, void *), void *ctx)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &gc->finlock, "fin.lock");
	for (finalizer *f = gc->finq; f != NULL; f = f->next)
		fn(rt, f->obj, ctx);
	for (finalizer *f = gc->finrun; f != NULL; f = f->next)
		fn(rt, f->obj, ctx);
	UNLOCK(rt, &gc->finlock, "fin.unlock");
}

void fing_stop(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &gc->finlock, "fin.lock");
	atomic_store(&gc->finexit, 1);
	int started = gc->fingstarted;
	fing_wakelocked(rt);
	UNLOCK(rt, &gc->finlock, "fin.unlock");
	if (started)
		rtthread_join(&gc->fing);
}

/* Add the special (span swept, caller a mutator). */
static int addfinalizer(struct gcrt_runtime *rt, mspan *s, uintptr_t off,
			void (*fn)(struct gcrt_runtime *, void *, void *), void *arg)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &gc->finlock, "fin.lock");
	specialfinalizer *sf = gc->freespecials;
	if (sf != NULL)
		gc->freespecials = (specialfinalizer *)sf->sp.next;
	else
		sf = persistentalloc(rt, sizeof *sf, 8, NULL);
	if (!gc->fingstarted && rtthread_start(rt, &gc->fing, fing, NULL) == GCRT_OK)
		gc->fingstarted = 1;
	int started = gc->fingstarted;
	UNLOCK(rt, &gc->finlock, "fin.unlock");
	sf->sp.offset = (uint16_t)off;
	sf->sp.kind = KindSpecialFinalizer;
	sf->fn = fn;
	sf->arg = arg;
	int rc = started ? GCRT_OK : GCRT_ENOMEM;
	LOCK(rt, &s->speciallock, "fin.specials.lock");
	special **pp = &s->specials;
	while (rc == GCRT_OK && *pp != NULL && (*pp)->offset < off)
		pp = &(*pp)->next;
	if (rc == GCRT_OK && *pp != NULL && (*pp)->offset == off)
		rc = GCRT_ESTATE;
	if (rc == GCRT_OK) {
		sf->sp.next = *pp;
		*pp = &sf->sp;
	}
	UNLOCK(rt, &s->speciallock, "fin.specials.unlock");
	if (rc != GCRT_OK) {
		LOCK(rt, &gc->finlock, "fin.lock");
		sf->sp.next = (special *)gc->freespecials;
		gc->freespecials = sf;
		UNLOCK(rt, &gc->finlock, "fin.unlock");
	}
	return rc;
}

static int setfinalizer(struct gcrt_runtime *rt, mspan *s, void *obj, gcrt_finalizer_fn fn,
			void *arg)
{
	mutator_enter(rt);
	mspan_ensureswept(rt, s);
	int rc = addfinalizer(rt, s, (uintptr_t)obj - (s->start << PageShift), fn, arg);
	mutator_exit(rt);
	return rc;
}

GCRT_API int gcrt_set_finalizer(gcrt_runtime *rt, void *obj, gcrt_finalizer_fn fn, void *arg)
{
	int rc = rt_check_args(rt, fn == NULL);
	if (rc != GCRT_OK)
		return rc;
	void *base;
	mspan *s;
	uintptr_t slot;
	if (objectof(rt, obj, &base, &s, &slot) != GCRT_OK)
		return GCRT_EBADOBJ;
	if (base != obj)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, setfinalizer(rt, s, obj, fn, arg));
}

static int finalizerswait(struct gcrt_runtime *rt, uint64_t *nrun)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &gc->finlock, "fin.lock");
	int self = gc->fingstarted && pthread_equal(gc->fing.tid, pthread_self());
	UNLOCK(rt, &gc->finlock, "fin.unlock");
	if (self)
		return GCRT_ESTATE;
	for (;;) {
		LOCK(rt, &gc->finlock, "fin.lock");
		int idle = gc->finq == NULL && gc->finrun == NULL;
		UNLOCK(rt, &gc->finlock, "fin.unlock");
		if (idle)
			break;
		SCHED_SPIN(rt, "fin.wait");
		gcrt_usleep(100);
	}
	if (nrun != NULL)
		*nrun = ATOMIC_LOAD(rt, "fin.nrun", &gc->nfinalizers_run);
	return GCRT_OK;
}

GCRT_API int gcrt_finalizers_wait(gcrt_runtime *rt, uint64_t *nrun)
{
	RETURN_CHECKED_CAUGHT(rt, finalizerswait(rt, nrun));
}
