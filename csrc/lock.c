/* lock.c: runtime locks, notes, time and yields.
 *
 * Locks are pthread mutexes whose contended path waits in 10 ms slices and
 * re-checks the runtime's failure flag: when the runtime has thrown (record
 * mode) a waiter that has a catcher unwinds instead of waiting for a lock
 * whose owner may be gone.  Notes are Go's one-shot Note (noteclear,
 * notewakeup, notesleep, notetsleep) on a mutex and condition variable,
 * with the same bounded waits.
 *
 * In controlled mode (schedctl.c) nothing blocks for real, since the owner
 * of a lock may be parked waiting for the baton: a contended lock retries
 * trylock between SCHED_BLOCKs on the lock (UNLOCK wakes it), and a note
 * sleeper SCHED_BLOCKs on the note until notewakeup, or until its deadline
 * on the virtual clock.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "runtime.h"

int throw_has_catcher(struct gcrt_runtime *rt);

enum { WaitSliceNs = 10 * 1000 * 1000 };

static struct timespec deadline(clockid_t clk, int64_t ns)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	ts.tv_sec += ns / 1000000000;
	ts.tv_nsec += ns % 1000000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static void leave_if_failed(struct gcrt_runtime *rt)
{
	if (atomic_load(&rt->thr.failed) && throw_has_catcher(rt))
		throw_unwind(rt);
}

int64_t nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void osyield(void)
{
	sched_yield();
}

void gcrt_usleep(uint32_t usec)
{
	struct timespec ts = {usec / 1000000, (long)(usec % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

void lock_init(rtlock *l)
{
	pthread_mutex_init(&l->mu, NULL);
}

void lock_destroy(rtlock *l)
{
	pthread_mutex_destroy(&l->mu);
}

void lock_slow(struct gcrt_runtime *rt, rtlock *l)
{
	if (SCHED_CONTROLLED(rt)) {
		while (pthread_mutex_trylock(&l->mu) != 0)
			SCHED_BLOCK(rt, "lock.wait", l);
		return;
	}
	for (;;) {
		struct timespec ts = deadline(CLOCK_REALTIME, WaitSliceNs);
		if (pthread_mutex_timedlock(&l->mu, &ts) == 0)
			return;
		leave_if_failed(rt);
	}
}

void note_init(note *n)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	n->key = 0;
}

void note_destroy(note *n)
{
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
}

void noteclear(note *n)
{
	pthread_mutex_lock(&n->mu);
	n->key = 0;
	pthread_mutex_unlock(&n->mu);
}

void notewakeup(struct gcrt_runtime *rt, note *n)
{
	SCHED_POINT(rt, "note.wakeup");
	pthread_mutex_lock(&n->mu);
	n->key = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	SCHED_WAKE(rt, n);
}

static bool notekey(note *n)
{
	pthread_mutex_lock(&n->mu);
	bool k = n->key != 0;
	pthread_mutex_unlock(&n->mu);
	return k;
}

static bool notetsleep_controlled(struct gcrt_runtime *rt, note *n, int64_t ns)
{
	int64_t end = ns < 0 ? -1 : rt_nanotime(rt) + ns;
	while (!notekey(n)) {
		if (end >= 0 && rt_nanotime(rt) >= end)
			return false;
		SCHED_BLOCK_UNTIL(rt, "note.wait", n, end);
	}
	return true;
}

bool notetsleep(struct gcrt_runtime *rt, note *n, int64_t ns)
{
	(void)SCHED__SITE(rt, "note.sleep", SP_BLOCK, 0);
	if (SCHED_CONTROLLED(rt))
		return notetsleep_controlled(rt, n, ns);
	int64_t end = ns < 0 ? INT64_MAX : nanotime() + ns;
	pthread_mutex_lock(&n->mu);
	while (!n->key) {
		int64_t left = end - nanotime();
		if (left <= 0)
			break;
		struct timespec ts = deadline(CLOCK_MONOTONIC, left < WaitSliceNs ? left : WaitSliceNs);
		pthread_cond_timedwait(&n->cv, &n->mu, &ts);
		if (atomic_load(&rt->thr.failed) && throw_has_catcher(rt)) {
			pthread_mutex_unlock(&n->mu);
			throw_unwind(rt);
		}
	}
	bool woken = n->key != 0;
	pthread_mutex_unlock(&n->mu);
	return woken;
}

void notesleep(struct gcrt_runtime *rt, note *n)
{
	notetsleep(rt, n, -1);
}
