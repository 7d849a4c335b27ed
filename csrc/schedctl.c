/* schedctl.c: the deterministic schedule controller (controlled mode).
 *
 * Baton passing over real pthreads (CHESS's model): every M of a controlled
 * run is a runtime thread started through rtthread_start while the runtime
 * is in SCHED_CONTROL; it is registered with a dense index in creation
 * order and starts parked on its own semaphore.  Exactly one M holds the
 * baton (c->cur).  At each schedule point the running M records a trace
 * event, asks the strategy who runs next, and if that is another M posts
 * its semaphore and parks on its own.  Because only the baton holder ever
 * touches the controller, its fields need no locks: the semaphores order
 * every access.
 *
 * M states: Runnable; Yielded (it took a SCHED_SPIN step, so it waits for
 * someone else: not eligible while any other M can run; every non-spin
 * step makes yielded Ms runnable again); Blocked on an object (a lock, a
 * note, a thread being joined; SCHED_WAKE on the object, or a virtual
 * deadline, makes it runnable); Done.
 *
 * Livelock: an M is "in a wait loop" until it has taken SpinWindow steps
 * of its own since its last spin.  A step by an M not in a wait loop (or
 * an M's exit) is progress; maxspin spin steps without progress is a
 * livelock (spinners that only re-read what they wait for, or wake each
 * other, never count as progress).
 *
 * Decisions: at a point where more than one M could run, one decision d.
 * When the current M can go on, 0 keeps it and k > 0 takes the k-th other
 * runnable M in cyclic order after it (mod their count): a preemption.
 * When it cannot (it spins, blocks or ended; and for the first turn) the
 * switch is free and d picks the d-th runnable M in cyclic order after it
 * (mod their count), so 0 is the next one.  Strategies: a tape, uniform random, and PCT (random distinct
 * priorities, d-1 change points that demote the running M).  Whatever the
 * strategy, the decision taken is recorded in canonical tape form, so every
 * run replays as a tape.  Faults come from a separate tape, one entry per
 * occurrence of an armed SP_FAULT site, so shrinking one does not shift the
 * other.
 *
 * Failures end the run: a recorded throw, a deadlock (nobody runnable and
 * somebody blocked with no deadline), a livelock (maxspin spins without
 * progress), the step budget, or a point hit
 * by a thread that is not the baton holder (uncontrolled nondeterminism).
 * ctl_fail sets aborting and posts every parked M; each wakes in park(),
 * sees aborting and unwinds to its thread's catcher; the last M to finish
 * posts c->done.  The caller's wall-clock watchdog (schedtest.c) catches
 * an M stuck outside any point.
 *
 * Time: the virtual clock advances Tick ns per step; when every live M is
 * blocked and some have deadlines it jumps to the earliest.
 *
 * Limits: runs are sequentially consistent (one M at a time), so weak-
 * memory reorderings are invisible here (the chaos mode and TSan cover
 * them); only interleavings at schedule points are explored; and a search
 * that passes is evidence, not proof, except for bounded-exhaustive sweeps
 * up to their bound.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastrand.h"
#include "schedctl.h"

int throw_has_catcher(struct gcrt_runtime *rt);

extern const sched_site __start_gcrt_sp[] __attribute__((weak, visibility("hidden")));

enum {
	Tick = 1000,          /* virtual ns per step */
	SpinWindow = 32,      /* own steps after its last spin before an M counts as progressing */
	DefaultTraceCap = 65536,
	DefaultMaxSpin = 1000,
};
#define DefaultMaxSteps 1000000ull
#define ClockBase 1000000000ll

schedctl *ctl_new(struct gcrt_runtime *rt, const gcrt_sched_opts *o)
{
	schedctl *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->rt = rt;
	c->cur = -1;
	c->cpu = -1;
	c->lastm = -1;
	c->strategy = o->strategy;
	c->tape = o->tape;
	c->ntape = o->tape != NULL ? o->ntape : 0;
	c->faults = o->faults;
	c->nfaults = o->faults != NULL ? o->nfaults : 0;
	c->armed = o->armed;
	c->fault_permille = o->fault_permille;
	c->rng = o->seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (c->rng == 0)
		c->rng = 1;
	c->maxsteps = o->max_steps != 0 ? o->max_steps : DefaultMaxSteps;
	c->maxspin = o->livelock_rounds != 0 ? o->livelock_rounds : DefaultMaxSpin;
	c->tracecap = o->trace_cap != 0 ? o->trace_cap : DefaultTraceCap;
	c->vclock = ClockBase;
	c->hash = 0xcbf29ce484222325ull;
	c->pctdepth = o->pct_depth;
	if (c->strategy == GCRT_SCHED_STRAT_PCT) {
		uint32_t k = o->pct_steps != 0 ? o->pct_steps : 200;
		for (int i = 0; i < c->pctdepth - 1; i++)
			c->change[i] = 1 + (uint32_t)(xorshift(&c->rng) % k);
	}
	c->trace = malloc((size_t)c->tracecap * sizeof *c->trace);
	c->nsites = sched_sites(&c->sorted, &c->rank);
	if (sem_init(&c->done, 0, 0) != 0 || c->trace == NULL || c->nsites < 0) {
		free(c->trace);
		if (c->nsites >= 0) {
			free(c->sorted);
			free(c->rank);
		}
		free(c);
		return NULL;
	}
	return c;
}

void ctl_free(schedctl *c)
{
	for (int i = 0; i < c->n; i++)
		sem_destroy(&c->ms[i].sem);
	sem_destroy(&c->done);
	free(c->trace);
	free(c->rec);
	free(c->frec);
	free(c->sorted);
	free(c->rank);
	free(c->symkey);
	free(c->symid);
	free(c);
}

static bool push(uint8_t **v, uint32_t *n, uint32_t *cap, uint8_t b)
{
	if (*n == *cap) {
		uint32_t nc = *cap != 0 ? *cap * 2 : 256;
		uint8_t *p = realloc(*v, nc);
		if (p == NULL)
			return false;
		*v = p;
		*cap = nc;
	}
	(*v)[(*n)++] = b;
	return true;
}

static uint64_t mixh(uint64_t h, uint64_t x)
{
	h ^= x;
	h *= 0x100000001b3ull;
	return h ^ (h >> 29);
}

static void trace(schedctl *c, int m, int site, uint64_t value, uint32_t flags)
{
	if (m != c->lastm && c->lastm >= 0)
		flags |= GCRT_SCHED_EV_SWITCH | (uint32_t)c->pendflags;
	c->pendflags = 0;
	c->lastm = m;
	gcrt_sched_event *e = &c->trace[c->nevents++ % c->tracecap];
	e->step = c->step;
	e->value = value;
	e->m = m;
	e->site = site;
	e->flags = flags;
	c->hash = mixh(c->hash, c->step);
	c->hash = mixh(c->hash, value);
	c->hash = mixh(c->hash, ((uint64_t)(uint32_t)site << 32) | ((uint64_t)flags << 8) |
				    (uint64_t)(uint32_t)m);
}

static int siteid(schedctl *c, const sched_site *site)
{
	return c->rank[site - __start_gcrt_sp];
}

/* ---- failure ---- */

/* Post every M that is not done, the baton holder included: when the
 * failure comes from an uncontrolled thread the holder may be about to
 * park, and an extra post only makes a later park return at once. */
static void wakeall(schedctl *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->ms[i].state != MsDone)
			sem_post(&c->ms[i].sem);
}

void ctl_fail(schedctl *c, int outcome, const char *fmt, ...)
{
	if (atomic_load(&c->aborting))
		return;
	c->outcome = outcome;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	atomic_store(&c->aborting, 1);
	wakeall(c);
}

/* The baton holder leaves after a failure: to its thread's catcher. */
static _Noreturn void leave(schedctl *c)
{
	if (!throw_has_catcher(c->rt)) {
		fprintf(stderr, "schedctl: controlled M without a catcher\n");
		abort();
	}
	throw_unwind(c->rt);
}

static const char *const statename[] = {"runnable", "spinning", "blocked", "done"};

static void describe(schedctl *c, char *buf, size_t len)
{
	size_t at = 0;
	for (int i = 0; i < c->n && at < len; i++) {
		ctlm *m = &c->ms[i];
		int id = m->lastsite;
		int k = snprintf(buf + at, len - at, "%sM%d %s at %s", i ? "; " : "", i,
				 statename[m->state], id >= 0 ? c->sorted[id]->name : "start");
		if (k < 0)
			break;
		at += (size_t)k;
	}
}

/* ---- choosing the next M ---- */

/* The M the strategy picks among me (if it can run) and others. */
static int decide(schedctl *c, int me, bool meok, const int *others, int no)
{
	switch (c->strategy) {
	case GCRT_SCHED_STRAT_RANDOM: {
		int r = (int)(xorshift(&c->rng) % (uint64_t)(no + (meok ? 1 : 0)));
		return meok ? (r == 0 ? me : others[r - 1]) : others[r];
	}
	case GCRT_SCHED_STRAT_PCT: {
		for (int i = 0; i < c->pctdepth - 1; i++)
			if (c->change[i] == c->nchoice && meok)
				c->ms[me].prio = (uint32_t)(c->pctdepth - 2 - i);
		int best = meok ? me : others[0];
		for (int k = 0; k < no; k++)
			if (c->ms[others[k]].prio > c->ms[best].prio)
				best = others[k];
		return best;
	}
	default: {
		int d = c->tapepos < c->ntape ? c->tape[c->tapepos++] : 0;
		if (!meok)
			return others[d % no];
		return d == 0 ? me : others[(d - 1) % no];
	}
	}
}

/* The next M to hold the baton, or -1 when the run is over (all done or
 * failed). */
static int pick(schedctl *c, int me)
{
	for (;;) {
		int others[MaxCtlMs], no = 0;
		bool meok = me >= 0 && c->ms[me].state == MsRunnable;
		for (int k = 1; k <= c->n; k++) {
			int j = ((me < 0 ? c->n - 1 : me) + k) % c->n;
			if (j != me && c->ms[j].state == MsRunnable)
				others[no++] = j;
		}
		if (meok && no == 0)
			return me;
		if (!meok && no == 1)
			return others[0];
		if (no > 0) {
			c->nchoice++;
			int next = decide(c, me, meok, others, no);
			int code = 0;
			for (int k = 0; k < no; k++)
				if (others[k] == next)
					code = meok ? k + 1 : k;
			push(&c->rec, &c->nrec, &c->caprec, (uint8_t)code);
			if (next != me && meok) {
				c->npreempt++;
				c->pendflags = GCRT_SCHED_EV_PREEMPT;
			}
			return next;
		}
		/* Nobody can run. */
		bool spinning = false, timed = false, blocked = false;
		int64_t earliest = INT64_MAX;
		for (int i = 0; i < c->n; i++) {
			ctlm *m = &c->ms[i];
			if (m->state == MsYielded)
				spinning = true;
			if (m->state == MsBlocked) {
				blocked = true;
				if (m->until >= 0) {
					timed = true;
					if (m->until < earliest)
						earliest = m->until;
				}
			}
		}
		if (spinning) {
			for (int i = 0; i < c->n; i++)
				if (c->ms[i].state == MsYielded)
					c->ms[i].state = MsRunnable;
			continue;
		}
		if (timed) {
			if (earliest > c->vclock)
				c->vclock = earliest;
			for (int i = 0; i < c->n; i++) {
				ctlm *m = &c->ms[i];
				if (m->state == MsBlocked && m->until >= 0 && m->until <= c->vclock) {
					m->state = MsRunnable;
					m->until = -1;
					m->blockon = NULL;
				}
			}
			continue;
		}
		if (blocked) {
			char d[512];
			describe(c, d, sizeof d);
			ctl_fail(c, GCRT_SCHED_OUT_DEADLOCK, "deadlock: no M can run: %s", d);
		}
		return -1;
	}
}

static void park(schedctl *c, int me)
{
	while (sem_wait(&c->ms[me].sem) != 0 && errno == EINTR)
		;
	if (atomic_load(&c->aborting))
		leave(c);
}

/* Hand the baton from me to next and wait for it to come back. */
static void switchto(schedctl *c, int me, int next)
{
	if (next < 0)
		leave(c);
	if (next == me)
		return;
	c->nswitch++;
	c->cur = next;
	sem_post(&c->ms[next].sem);
	park(c, me);
}

static void wakeyielded(schedctl *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->ms[i].state == MsYielded)
			c->ms[i].state = MsRunnable;
}

static void makeprogress(schedctl *c)
{
	c->spins = 0;
	wakeyielded(c);
}

static bool isbaton(schedctl *c)
{
	return c != NULL && c->running && c->cur >= 0 &&
	       pthread_equal(pthread_self(), c->ms[c->cur].tid);
}

static bool takefault(schedctl *c, int id)
{
	if (c->armed != NULL && !c->armed[id])
		return false;
	uint8_t f;
	if (c->strategy == GCRT_SCHED_STRAT_TAPE || c->fault_permille == 0)
		f = c->faultpos < c->nfaults ? c->faults[c->faultpos] : 0;
	else
		f = xorshift(&c->rng) % 1000 < c->fault_permille;
	c->faultpos++;
	push(&c->frec, &c->nfrec, &c->capfrec, f != 0);
	return f != 0;
}

/* ---- the slow path of a point in SCHED_CONTROL ---- */

int ctl_at(struct gcrt_runtime *rt, const sched_site *site, uint64_t value)
{
	schedctl *c = rt->sp.ctl;
	if (!isbaton(c)) {
		if (c != NULL && c->running)
			ctl_fail(c, GCRT_SCHED_OUT_UNCONTROLLED,
				 "uncontrolled thread at schedule point %s", site->name);
		return 0;
	}
	if (atomic_load(&c->aborting))
		leave(c);
	int me = c->cur, id = siteid(c, site);
	if (site->kind == SP_NOTE) {
		trace(c, me, id, value, GCRT_SCHED_EV_NOTE);
		return 0;
	}
	c->step++;
	c->vclock += Tick;
	bool fault = site->kind == SP_FAULT && takefault(c, id);
	uint32_t flags = site->kind == SP_SPIN ? GCRT_SCHED_EV_SPIN : 0;
	trace(c, me, id, value, flags | (fault ? GCRT_SCHED_EV_FAULT : 0));
	c->ms[me].lastsite = id;
	if (c->step > c->maxsteps) {
		ctl_fail(c, GCRT_SCHED_OUT_BUDGET, "step budget of %llu exceeded",
			 (unsigned long long)c->maxsteps);
		leave(c);
	}
	ctlm *m = &c->ms[me];
	if (site->kind == SP_SPIN) {
		m->state = MsYielded;
		m->sincespin = 0;
		if (++c->spins > c->maxspin) {
			char d[512];
			describe(c, d, sizeof d);
			ctl_fail(c, GCRT_SCHED_OUT_LIVELOCK,
				 "livelock: %u spin steps and no progress: %s", c->maxspin, d);
			leave(c);
		}
	} else if (++m->sincespin > SpinWindow) {
		makeprogress(c);
	} else {
		wakeyielded(c);
	}
	switchto(c, me, pick(c, me));
	return fault;
}

void sched_block(struct gcrt_runtime *rt, const sched_site *site, const void *obj,
		 int64_t until_ns)
{
	schedctl *c = rt->sp.ctl;
	if (!isbaton(c))
		return;
	if (atomic_load(&c->aborting))
		leave(c);
	int me = c->cur, id = siteid(c, site);
	c->step++;
	c->vclock += Tick;
	trace(c, me, id, (uint64_t)until_ns, GCRT_SCHED_EV_BLOCK);
	c->ms[me].lastsite = id;
	c->ms[me].state = MsBlocked;
	c->ms[me].blockon = obj;
	c->ms[me].until = until_ns;
	switchto(c, me, pick(c, me));
}

void sched_wake(struct gcrt_runtime *rt, const void *obj)
{
	schedctl *c = rt->sp.ctl;
	if (!isbaton(c))
		return;
	for (int i = 0; i < c->n; i++) {
		ctlm *m = &c->ms[i];
		if (m->state == MsBlocked && m->blockon == obj) {
			m->state = MsRunnable;
			m->blockon = NULL;
			m->until = -1;
		}
	}
}

bool sched_controlled(struct gcrt_runtime *rt)
{
	return isbaton(rt->sp.ctl);
}

static uint32_t symslot(const schedctl *c, const void *p)
{
	uint32_t mask = c->capsym - 1, i = (uint32_t)(((uintptr_t)p >> 3) * 0x9e3779b1u) & mask;
	while (c->symkey[i] != NULL && c->symkey[i] != p)
		i = (i + 1) & mask;
	return i;
}

static bool symgrow(schedctl *c)
{
	uint32_t oldcap = c->capsym, cap = oldcap ? oldcap * 2 : 256;
	const void **oldkey = c->symkey;
	uint64_t *oldid = c->symid;
	c->symkey = calloc(cap, sizeof *c->symkey);
	c->symid = calloc(cap, sizeof *c->symid);
	if (c->symkey == NULL || c->symid == NULL) {
		free(c->symkey);
		free(c->symid);
		c->symkey = oldkey;
		c->symid = oldid;
		return false;
	}
	c->capsym = cap;
	for (uint32_t i = 0; i < oldcap; i++)
		if (oldkey[i] != NULL) {
			uint32_t j = symslot(c, oldkey[i]);
			c->symkey[j] = oldkey[i];
			c->symid[j] = oldid[i];
		}
	free(oldkey);
	free(oldid);
	return true;
}

uint64_t sched_sym(struct gcrt_runtime *rt, const void *p)
{
	schedctl *c = rt->sp.ctl;
	if (p == NULL)
		return 0;
	if (!isbaton(c))
		return (uintptr_t)p >> 3;
	if (2 * (c->nsym + 1) > c->capsym && !symgrow(c)) {
		ctl_fail(c, GCRT_SCHED_OUT_UNCONTROLLED, "sched_sym: out of memory");
		leave(c);
	}
	uint32_t i = symslot(c, p);
	if (c->symkey[i] == NULL) {
		c->symkey[i] = p;
		c->symid[i] = ++c->nsym;
	}
	return c->symid[i];
}

int64_t rt_nanotime(struct gcrt_runtime *rt)
{
	if (SCHED_CONTROLLED(rt))
		return rt->sp.ctl->vclock;
	return nanotime();
}

void rt_usleep(struct gcrt_runtime *rt, uint32_t usec)
{
	if (SCHED_CONTROLLED(rt)) {
		rt->sp.ctl->vclock += (int64_t)usec * 1000;
		return;
	}
	gcrt_usleep(usec);
}

/* ---- Ms: registration, start, exit, join ---- */

/* Called by rtthread_start before pthread_create: the new thread becomes
 * M c->n, parked until first chosen.  -1: not a controlled thread. */
int ctl_register(struct gcrt_runtime *rt, rtthread *t)
{
	schedctl *c = rt->sp.ctl;
	if (c == NULL || atomic_load(&rt->schedmode) != SCHED_CONTROL ||
	    atomic_load(&c->aborting))
		return -1;
	if (c->running && !isbaton(c))
		return -1;
	if (c->n == MaxCtlMs) {
		ctl_fail(c, GCRT_SCHED_OUT_UNCONTROLLED, "more than %d Ms in a controlled run",
			 MaxCtlMs);
		return -1;
	}
	int m = c->n;
	ctlm *cm = &c->ms[m];
	memset(cm, 0, sizeof *cm);
	if (sem_init(&cm->sem, 0, 0) != 0)
		return -1;
	cm->t = t;
	cm->state = MsRunnable;
	cm->until = -1;
	cm->lastsite = -1;
	cm->sincespin = SpinWindow + 1;
	cm->prio = (uint32_t)c->pctdepth + 1 + (uint32_t)(xorshift(&c->rng) % 1000000) * MaxCtlMs +
		   (uint32_t)m;
	c->n++;
	return m;
}

void ctl_started(struct gcrt_runtime *rt, int m, pthread_t tid)
{
	rt->sp.ctl->ms[m].tid = tid;
}

/* The new M waits for its first turn; false when the run failed first. */
int ctl_begin(struct gcrt_runtime *rt, int m)
{
	schedctl *c = rt->sp.ctl;
	while (sem_wait(&c->ms[m].sem) != 0 && errno == EINTR)
		;
	return !atomic_load(&c->aborting);
}

/* The M leaves the controller for good.  It reads c->n first: once the
 * last M posts done the caller may free c, and an M the harness does not
 * join before that (one a scenario started, e.g. a scheduler M) may still
 * be here. */
static void finish(schedctl *c)
{
	int n = c->n;
	if (atomic_fetch_add(&c->ndone, 1) + 1 == n)
		sem_post(&c->done);
}

/* M m's function returned or unwound: pass the baton on for good. */
void ctl_end(struct gcrt_runtime *rt, int m)
{
	schedctl *c = rt->sp.ctl;
	if (atomic_load(&c->aborting)) {
		c->ms[m].state = MsDone;
		finish(c);
		return;
	}
	c->ms[m].state = MsDone;
	if (atomic_load(&rt->thr.failed)) {
		const char *r = rt->thr.report != NULL ? rt->thr.report : "fatal error";
		size_t len = strcspn(r, "\n");
		ctl_fail(c, GCRT_SCHED_OUT_THROW, "%.*s (M%d at %s)", (int)len, r, m,
			 c->ms[m].lastsite >= 0 ? c->sorted[c->ms[m].lastsite]->name : "start");
		finish(c);
		return;
	}
	SCHED__DEFSITE("thread.exit", SP_STEP);
	trace(c, m, siteid(c, &gcrt__sp), 0, 0);
	makeprogress(c);
	sched_wake(rt, c->ms[m].t);
	int next = pick(c, m);
	if (next < 0) {
		finish(c);
		return;
	}
	atomic_fetch_add(&c->ndone, 1);
	c->nswitch++;
	c->cur = next;
	sem_post(&c->ms[next].sem);
}

/* rtthread_join from the baton holder: wait, under control, until t is
 * done (the real pthread_join after it returns at once).  Any other caller
 * joins for real. */
void ctl_join(struct gcrt_runtime *rt, rtthread *t)
{
	schedctl *c = rt->sp.ctl;
	if (!isbaton(c) || t->ctlm < 0)
		return;
	while (c->ms[t->ctlm].state != MsDone)
		SCHED_BLOCK(rt, "thread.join.wait", t);
}

/* Start the run: the first decision picks the first M. */
void ctl_go(schedctl *c)
{
	c->running = 1;
	if (c->n == 0) {
		sem_post(&c->done);
		return;
	}
	int first = pick(c, -1);
	c->cur = first;
	sem_post(&c->ms[first].sem);
}
