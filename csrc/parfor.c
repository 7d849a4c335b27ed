/* parfor.c: Go's parallel for loop with work stealing (runtime/parfor.c).
 *
 * parforsetup splits [0, n) into nthr contiguous ranges,
 * [n*i/nthr, n*(i+1)/nthr), one per thread: they cover [0, n) exactly and
 * their sizes differ by at most one.  Each range is one 64-bit word,
 * begin | end << 32.
 *
 * parfordo runs on each of the nthr threads.  A thread claims its next
 * iteration with one xadd64 on its own word (the low half is begin).  When
 * its range is exhausted it steals: it picks a random victim and, if the
 * victim has at least two iterations left, CASes the victim's word so the
 * victim keeps the lower half and the thief takes the upper half into its
 * own word.  Because claims only move begin up and steals only move end
 * down (both on the same word, atomically), every iteration runs exactly
 * once.  A thread that finds nothing for 4*nthr tries counts itself in
 * done; when every thread is done the loop is over.  An idle thread that
 * finds work again uncounts itself first.  Back-off: none for nthr tries,
 * then procyield(20), then (if the caller asked to wait) osyield, then
 * usleep(1).
 */
#include "runtime.h"
#include "parfor.h"

int throw_has_catcher(struct gcrt_runtime *rt);

parfor *parforalloc(struct gcrt_runtime *rt, uint32_t nthrmax)
{
	parfor *desc = persistentalloc(rt, sizeof *desc, CacheLineSize, NULL);
	desc->rt = rt;
	desc->nthrmax = nthrmax;
	desc->thr = persistentalloc(rt, nthrmax * sizeof(parforthread), CacheLineSize, NULL);
	return desc;
}

void parforsetup(parfor *desc, uint32_t nthr, uint32_t n, void *ctx, bool wait,
		 void (*body)(parfor *, uint32_t))
{
	struct gcrt_runtime *rt = desc->rt;
	if (nthr == 0 || nthr > desc->nthrmax || body == NULL)
		throwf(rt, "parfor: invalid args (nthr %u, nthrmax %u)", nthr, desc->nthrmax);
	desc->body = body;
	ATOMIC_STORE(rt, "parfor.setup.done", &desc->done, 0);
	desc->nthr = nthr;
	ATOMIC_STORE(rt, "parfor.setup.thrseq", &desc->thrseq, 0);
	desc->cnt = n;
	desc->ctx = ctx;
	desc->wait = wait;
	ATOMIC_STORE(rt, "parfor.setup.stats", &desc->nsteal, 0);
	ATOMIC_STORE(rt, "parfor.setup.stats", &desc->nstealcnt, 0);
	ATOMIC_STORE(rt, "parfor.setup.stats", &desc->nprocyield, 0);
	ATOMIC_STORE(rt, "parfor.setup.stats", &desc->nosyield, 0);
	ATOMIC_STORE(rt, "parfor.setup.stats", &desc->nsleep, 0);
	for (uint32_t i = 0; i < nthr; i++) {
		uint64_t begin = (uint64_t)n * i / nthr;
		uint64_t end = (uint64_t)n * (i + 1) / nthr;
		parforthread *t = &desc->thr[i];
		if (((uintptr_t)&t->pos & 7) != 0)
			throw(rt, "parforsetup: pos is not aligned");
		t->nsteal = t->nstealcnt = t->nprocyield = t->nosyield = t->nsleep = 0;
		ATOMIC_STORE(rt, "parfor.setup.pos", &t->pos, begin | end << 32);
	}
}

static uint32_t fastrand(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((x ^ (x >> 31)) >> 32);
}

/* Run our own range until it is exhausted. */
static void runlocal(parfor *desc, parforthread *me)
{
	struct gcrt_runtime *rt = desc->rt;
	for (;;) {
		uint64_t pos = ATOMIC_XADD(rt, "parfor.do.claim", &me->pos, 1);
		uint32_t begin = (uint32_t)pos - 1, end = (uint32_t)(pos >> 32);
		if (begin >= end)
			return;
		desc->body(desc, begin);
	}
}

/* Try to take the upper half of victim's range into *begin, *end.
 * Un-idles the thief (*idle) before taking anything. */
static bool steal(parfor *desc, parforthread *victim, bool *idle, uint32_t *begin, uint32_t *end)
{
	struct gcrt_runtime *rt = desc->rt;
	for (;;) {
		uint64_t pos = ATOMIC_LOAD(rt, "parfor.steal.load", &victim->pos);
		uint32_t b = (uint32_t)pos, e = (uint32_t)(pos >> 32);
		if (b + 1 >= e || b >= e)
			return false;
		if (*idle) {
			(void)ATOMIC_XADD(rt, "parfor.steal.unidle", &desc->done, (uint32_t)-1);
			*idle = false;
		}
		uint32_t b2 = b + (e - b) / 2;
		if (ATOMIC_CAS64(rt, "parfor.steal.cas", &victim->pos, pos, b | (uint64_t)b2 << 32)) {
			*begin = b2;
			*end = e;
			return true;
		}
	}
}

/* Out of local work: steal some into me->pos (true), or find that every
 * thread is idle, or that the caller does not wait (false). */
static bool findwork(parfor *desc, parforthread *me, uint32_t tid, uint64_t *rnd)
{
	struct gcrt_runtime *rt = desc->rt;
	uint32_t nthr = desc->nthr;
	bool idle = false;
	for (uint32_t try = 0;; try++) {
		SCHED_SPIN(rt, "parfor.steal.wait");
		if (try > nthr * 4 && !idle) {
			idle = true;
			(void)ATOMIC_XADD(rt, "parfor.steal.idle", &desc->done, 1);
		}
		if (ATOMIC_LOAD(rt, "parfor.steal.done", &desc->done) + !idle == nthr) {
			if (!idle)
				(void)ATOMIC_XADD(rt, "parfor.steal.finish", &desc->done, 1);
			return false;
		}
		uint32_t victim = fastrand(rnd) % (nthr - 1);
		if (victim >= tid)
			victim++;
		uint32_t begin, end;
		if (steal(desc, &desc->thr[victim], &idle, &begin, &end)) {
			if (idle)
				throw(rt, "parfor: should not be idle");
			ATOMIC_STORE(rt, "parfor.steal.store", &me->pos, begin | (uint64_t)end << 32);
			me->nsteal++;
			me->nstealcnt += end - begin;
			return true;
		}
		if (try < nthr) {
			continue;
		} else if (try < 4 * nthr) {
			me->nprocyield++;
			procyield(20);
		} else if (!desc->wait) {
			if (!idle)
				(void)ATOMIC_XADD(rt, "parfor.nowait.done", &desc->done, 1);
			return false;
		} else if (try < 6 * nthr) {
			me->nosyield++;
			osyield();
		} else {
			/* Another thread threw (record mode): leave, as getfull does. */
			if (ATOMIC_LOAD(rt, "parfor.steal.failed", &rt->thr.failed) &&
			    throw_has_catcher(rt))
				throw_unwind(rt);
			me->nsleep++;
			gcrt_usleep(1);
		}
	}
}

void parfordo(parfor *desc)
{
	struct gcrt_runtime *rt = desc->rt;
	uint32_t tid = ATOMIC_XADD(rt, "parfor.do.thrseq", &desc->thrseq, 1) - 1;
	if (tid >= desc->nthr)
		throwf(rt, "parfor: invalid tid %u (nthr %u)", tid, desc->nthr);
	if (desc->nthr == 1) {
		for (uint32_t i = 0; i < desc->cnt; i++)
			desc->body(desc, i);
		return;
	}
	parforthread *me = &desc->thr[tid];
	uint64_t rnd = desc->seed ^ ((uint64_t)tid << 32 | tid);
	do
		runlocal(desc, me);
	while (findwork(desc, me, tid, &rnd));
	(void)ATOMIC_XADD(rt, "parfor.exit.stats", &desc->nsteal, me->nsteal);
	(void)ATOMIC_XADD(rt, "parfor.exit.stats", &desc->nstealcnt, me->nstealcnt);
	(void)ATOMIC_XADD(rt, "parfor.exit.stats", &desc->nprocyield, me->nprocyield);
	(void)ATOMIC_XADD(rt, "parfor.exit.stats", &desc->nosyield, me->nosyield);
	(void)ATOMIC_XADD(rt, "parfor.exit.stats", &desc->nsleep, me->nsleep);
}
