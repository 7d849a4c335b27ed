/* stack.c: goroutine stacks (Go 1.4 stack.c, per runtime).
 *
 * Allocation: stacks are powers of two.  2, 4 and 8 KB stacks (orders 0-2)
 * come from a global pool of MSpanStack spans of StackCacheSize bytes,
 * each carved into stacks of one order (span freelist and ref count, as in
 * Go), under stk.lock; a P caches free stacks per order (refilled to half
 * of StackCacheSize from the pool, released down to half when full), so
 * the M holding the P allocates without locks.  Larger stacks get a
 * dedicated span from the heap.  A freed stack is poisoned (StackPoison
 * bytes) before it goes back, so a stale pointer into it shows.
 *
 * Frames: a frame is a framehdr plus the slots of its frame descriptor
 * (registered per runtime: slot count and pointer bitmap, immutable once
 * published).  pushframe is a function entry: the stack check
 * (stackcheck: does the frame fit above stack.lo + StackGuard?), and when
 * it fails the morestack path, which doubles the stack (newstack) until
 * the frame fits, up to stk.maxstacksize.  In controlled runs the fault
 * site stack.morestack.force makes a check fail although the frame fits,
 * so the G takes newstack/copystack at that point (at most one doubling;
 * none past the limit), and stack copies meet concurrent scans where a
 * schedule puts them (interleavings.md 4.9).
 *
 * Copying (copystack): the G is Gcopystack, so no scanner reads the stack
 * meanwhile (stopg waits).  Every pointer into the old stack is moved by
 * delta = new.hi - old.hi: pointer slots of every frame (by descriptor),
 * the frames' callerfp links, and the saved context (sched.fp, ctxt,
 * param).  Then the used part is copied to the top of the new stack and
 * the old one freed (poisoned).  newstack doubles a running G's stack
 * (Grunning -> Gwaiting -> Gcopystack -> Grunning); shrinkstack halves a
 * Gwaiting or Grunnable G's stack when less than a quarter is used, only
 * with the world stopped.  Unlike Go 1.4, the old stack of a shrink is
 * freed at once: no scanner can hold a pointer into it with the world
 * stopped here.  shrinkparked is that shrink without the world check, for
 * a G no M runs (controlled scenarios shrink a parked G while a scanner
 * runs, as later Go does when isShrinkStackSafe).
 *
 * Between adjusting the frames and swapping gp->stack the stack is
 * inconsistent (the old frames already point into the new stack): the
 * point stack.copystack.memmove sits there, so a scanner that could claim
 * the G mid-copy (mutant M_COPY_NO_GCOPYSTACK, which skips Gcopystack)
 * shows up in controlled runs.
 */
#include <string.h>

#include "runtime.h"
#include "mutants.h"

static int stackorder(uintptr_t n)
{
	int order = 0;
	for (uintptr_t x = FixedStack; x < n; x <<= 1)
		order++;
	return order;
}

void stackinit(struct gcrt_runtime *rt)
{
	struct stackpool *k = &rt->sched.stk;
	lock_init(&k->lock);
	lock_init(&k->desclock);
	for (int i = 0; i < NumStackOrders; i++)
		spanlist_init(&k->pool[i]);
	atomic_store(&k->maxstacksize, DefaultMaxStack);
}

void stackfini(struct gcrt_runtime *rt)
{
	lock_destroy(&rt->sched.stk.desclock);
	lock_destroy(&rt->sched.stk.lock);
}

/* A stack of the given order from the pool; under stk.lock. */
static mlink *poolalloc(struct gcrt_runtime *rt, int order)
{
	mspan *list = &rt->sched.stk.pool[order];
	mspan *s = list->next;
	if (s == list) {
		s = mheap_allocstack(rt, StackCacheSize >> PageShift);
		if (s == NULL)
			return NULL;
		if (s->ref != 0)
			throw(rt, "bad ref");
		s->freelist = NULL;
		uintptr_t size = (uintptr_t)FixedStack << order;
		uint8_t *base = spanbase(s);
		for (uintptr_t i = 0; i < StackCacheSize; i += size) {
			mlink *x = (mlink *)(base + i);
			x->next = s->freelist;
			s->freelist = x;
		}
		spanlist_insert(list, s);
	}
	mlink *x = s->freelist;
	if (x == NULL)
		throw(rt, "span has no free stacks");
	s->freelist = x->next;
	s->ref++;
	if (s->freelist == NULL)
		spanlist_remove(s);
	return x;
}

static void poolfree(struct gcrt_runtime *rt, mlink *x, int order)
{
	mspan *s = spanof(rt, x);
	if (s == NULL || s->state != MSpanStack)
		throw(rt, "freeing stack not in a stack span");
	if (s->freelist == NULL)
		spanlist_insert(&rt->sched.stk.pool[order], s);
	x->next = s->freelist;
	s->freelist = x;
	if (s->ref == 0)
		throw(rt, "bad ref");
	if (--s->ref == 0) {
		spanlist_remove(s);
		s->freelist = NULL;
		mheap_freestack(rt, s);
	}
}

static void stackcacherefill(struct gcrt_runtime *rt, stackcache *c, int order)
{
	struct stackpool *k = &rt->sched.stk;
	LOCK(rt, &k->lock, "stack.pool.lock");
	while (c->size[order] < StackCacheSize / 2) {
		mlink *x = poolalloc(rt, order);
		if (x == NULL)
			break;
		x->next = c->list[order];
		c->list[order] = x;
		c->size[order] += (uintptr_t)FixedStack << order;
	}
	UNLOCK(rt, &k->lock, "stack.pool.unlock");
}

static void stackcacherelease(struct gcrt_runtime *rt, stackcache *c, int order)
{
	struct stackpool *k = &rt->sched.stk;
	LOCK(rt, &k->lock, "stack.pool.lock");
	while (c->size[order] > StackCacheSize / 2) {
		mlink *x = c->list[order];
		c->list[order] = x->next;
		c->size[order] -= (uintptr_t)FixedStack << order;
		poolfree(rt, x, order);
	}
	UNLOCK(rt, &k->lock, "stack.pool.unlock");
}

void stackcache_clear(struct gcrt_runtime *rt, stackcache *c)
{
	struct stackpool *k = &rt->sched.stk;
	LOCK(rt, &k->lock, "stack.pool.lock");
	for (int order = 0; order < NumStackOrders; order++) {
		while (c->list[order] != NULL) {
			mlink *x = c->list[order];
			c->list[order] = x->next;
			poolfree(rt, x, order);
		}
		c->size[order] = 0;
	}
	UNLOCK(rt, &k->lock, "stack.pool.unlock");
}

gstack stackalloc(struct gcrt_runtime *rt, stackcache *c, uintptr_t n)
{
	struct stackpool *k = &rt->sched.stk;
	gstack stk = {0, 0};
	if (n < FixedStack || (n & (n - 1)) != 0)
		throw(rt, "stack size not a power of 2");
	int order = stackorder(n);
	void *v = NULL;
	if (order < NumStackOrders) {
		if (c == NULL) {
			LOCK(rt, &k->lock, "stack.pool.lock");
			v = poolalloc(rt, order);
			UNLOCK(rt, &k->lock, "stack.pool.unlock");
		} else {
			if (c->list[order] == NULL)
				stackcacherefill(rt, c, order);
			mlink *x = c->list[order];
			if (x != NULL) {
				c->list[order] = x->next;
				c->size[order] -= n;
			}
			v = x;
		}
	} else {
		mspan *s = mheap_allocstack(rt, n >> PageShift);
		v = s != NULL ? spanbase(s) : NULL;
	}
	if (v == NULL)
		return stk;
	(void)ATOMIC_XADD(rt, "stack.inuse.add", &k->inuse, n);
	stk.lo = (uintptr_t)v;
	stk.hi = stk.lo + n;
	return stk;
}

void stackfree(struct gcrt_runtime *rt, stackcache *c, gstack stk)
{
	struct stackpool *k = &rt->sched.stk;
	uintptr_t n = stk.hi - stk.lo;
	void *v = (void *)stk.lo;
	if ((n & (n - 1)) != 0 || n < FixedStack)
		throw(rt, "stack not a power of 2");
	memset(v, StackPoison, n);
	(void)ATOMIC_XADD(rt, "stack.inuse.sub", &k->inuse, -(uint64_t)n);
	int order = stackorder(n);
	if (order >= NumStackOrders) {
		mspan *s = spanof(rt, v);
		if (s == NULL || s->state != MSpanStack)
			throw(rt, "freeing stack not in a stack span");
		mheap_freestack(rt, s);
	} else if (c == NULL) {
		LOCK(rt, &k->lock, "stack.pool.lock");
		poolfree(rt, v, order);
		UNLOCK(rt, &k->lock, "stack.pool.unlock");
	} else {
		if (c->size[order] >= StackCacheSize)
			stackcacherelease(rt, c, order);
		mlink *x = v;
		x->next = c->list[order];
		c->list[order] = x;
		c->size[order] += n;
	}
}

/* ---- frame descriptors ---- */

const framedesc *framedesc_get(struct gcrt_runtime *rt, uintptr_t id)
{
	struct stackpool *k = &rt->sched.stk;
	if (id == 0 || id > ATOMIC_LOAD(rt, "stack.framedesc.ndesc", &k->ndesc))
		return NULL;
	return &k->descs[id - 1];
}

static bool slotisptr(const framedesc *d, uint32_t i)
{
	return d->bitmap != NULL && (d->bitmap[i / 8] >> (i % 8) & 1);
}

/* ---- frames ---- */

static uintptr_t framebytes(const framedesc *d)
{
	return sizeof(framehdr) + (uintptr_t)d->nslots * PtrSize;
}

uintptr_t *frameslots(G *gp)
{
	return (uintptr_t *)(gp->sched.fp + sizeof(framehdr));
}

static bool fits(G *gp, uintptr_t need)
{
	return gp->sched.sp - gp->stack.lo >= need + StackGuard;
}

bool stackcheck(struct gcrt_runtime *rt, G *gp, uintptr_t need)
{
	return !fits(gp, need) || SCHED_FAULT(rt, "stack.morestack.force");
}

int morestack(struct gcrt_runtime *rt, G *gp, uintptr_t need)
{
	bool forced = fits(gp, need);
	do {
		int rc = newstack(rt, gp, 2 * (gp->stack.hi - gp->stack.lo));
		if (rc != GCRT_OK)
			return forced && rc == GCRT_ESIZE ? GCRT_OK : rc;
	} while (!fits(gp, need));
	return GCRT_OK;
}

int pushframe_nosplit(struct gcrt_runtime *rt, G *gp, uintptr_t id, uintptr_t retpc)
{
	const framedesc *d = framedesc_get(rt, id);
	if (d == NULL)
		return GCRT_EINVAL;
	uintptr_t need = framebytes(d);
	if (!fits(gp, need))
		throw(rt, "stack overflow in a nosplit frame");
	uintptr_t sp = gp->sched.sp - need;
	framehdr *h = (framehdr *)sp;
	h->desc = id;
	h->retpc = retpc;
	h->callerfp = gp->sched.fp;
	memset(h + 1, 0, need - sizeof *h);
	gp->sched.fp = sp;
	gp->sched.sp = sp;
	return GCRT_OK;
}

int pushframe(struct gcrt_runtime *rt, G *gp, uintptr_t id, uintptr_t retpc)
{
	const framedesc *d = framedesc_get(rt, id);
	if (d == NULL)
		return GCRT_EINVAL;
	if (stackcheck(rt, gp, framebytes(d))) {
		int rc = morestack(rt, gp, framebytes(d));
		if (rc != GCRT_OK)
			return rc;
	}
	return pushframe_nosplit(rt, gp, id, retpc);
}

uintptr_t popframe(struct gcrt_runtime *rt, G *gp)
{
	framehdr *h = (framehdr *)gp->sched.fp;
	const framedesc *d = framedesc_get(rt, h->desc);
	if (d == NULL)
		throw(rt, "missing stackmap");
	uintptr_t retpc = h->retpc;
	gp->sched.sp = gp->sched.fp + framebytes(d);
	gp->sched.fp = h->callerfp;
	return retpc;
}

/* ---- copying ---- */

typedef struct adjinfo {
	gstack old;
	uintptr_t delta;
} adjinfo;

static void adjustpointer(struct gcrt_runtime *rt, const adjinfo *a, uintptr_t *slot)
{
	uintptr_t p = *slot;
	if ((p != 0 && p < 4096) || p == (uintptr_t)0xfcfcfcfcfcfcfcfcull)
		throw(rt, "invalid stack pointer");
	if (p >= a->old.lo && p < a->old.hi)
		*slot = p + a->delta;
}

/* Adjust every frame's pointer slots and callerfp link, innermost first,
 * still on the old stack. */
static void adjustframes(struct gcrt_runtime *rt, G *gp, const adjinfo *a)
{
	for (uintptr_t fp = gp->sched.fp; fp != 0;) {
		if (fp < a->old.lo || fp >= a->old.hi)
			throw(rt, "bad frame pointer");
		framehdr *h = (framehdr *)fp;
		const framedesc *d = framedesc_get(rt, h->desc);
		if (d == NULL)
			throw(rt, "missing stackmap");
		uintptr_t *slots = (uintptr_t *)(h + 1);
		for (uint32_t i = 0; i < d->nslots; i++)
			if (slotisptr(d, i))
				adjustpointer(rt, a, &slots[i]);
		fp = h->callerfp;
		adjustpointer(rt, a, &h->callerfp);
	}
}

int copystack(struct gcrt_runtime *rt, G *gp, uintptr_t newsize, stackcache *c)
{
	if (gp->syscallsp != 0)
		throw(rt, "stack growth not allowed in system call");
	if (gp->stack.lo == 0)
		throw(rt, "nil stackbase");
	gstack old = gp->stack;
	uintptr_t used = old.hi - gp->sched.sp;
	gstack new_ = stackalloc(rt, c, newsize);
	if (new_.lo == 0)
		return GCRT_ENOMEM;
	adjinfo a = {old, new_.hi - old.hi};
	adjustframes(rt, gp, &a);
	adjustpointer(rt, &a, &gp->sched.fp);
	adjustpointer(rt, &a, &gp->sched.ctxt);
	adjustpointer(rt, &a, &gp->sched.param);
	SCHED_POINT(rt, "stack.copystack.memmove");
	memmove((void *)(new_.hi - used), (void *)gp->sched.sp, used);
	gp->stack = new_;
	gp->sched.sp = new_.hi - used;
	SCHED_NOTE(rt, "stack.copystack.size", newsize);
	bool preempt = ATOMIC_LOAD(rt, "stack.copystack.preempt", &gp->preempt);
	ATOMIC_STORE(rt, "stack.copystack.stackguard0", &gp->stackguard0,
		     preempt ? StackPreempt : new_.lo + StackGuard);
	stackfree(rt, c, old);
	return GCRT_OK;
}

int newstack(struct gcrt_runtime *rt, G *gp, uintptr_t newsize)
{
	if (newsize > ATOMIC_LOAD(rt, "stack.newstack.max", &rt->sched.stk.maxstacksize))
		return GCRT_ESIZE;
	P *p = gp_p(rt, gp);
	casgstatus(rt, gp, Grunning, Gwaiting);
	bool nocopystatus = MUTANT(rt, M_COPY_NO_GCOPYSTACK);
	if (!nocopystatus)
		casgcopystack(rt, gp);
	int rc = copystack(rt, gp, newsize, p != NULL ? &p->stackcache : NULL);
	casgstatus(rt, gp, nocopystatus ? Gwaiting : Gcopystack, Grunning);
	return rc;
}

static bool worldstopped(struct gcrt_runtime *rt)
{
	return ATOMIC_LOAD(rt, "stack.worldstopped.gcwaiting", &rt->sched.gcwaiting) &&
	       ATOMIC_LOAD(rt, "stack.worldstopped.worldsema", &rt->sched.worldsema);
}

void shrinkstack(struct gcrt_runtime *rt, G *gp)
{
	if (!worldstopped(rt))
		throw(rt, "shrinkstack: world not stopped");
	if ((readgstatus(rt, gp) & ~(uint32_t)Gscan) == Gdead) {
		if (gp->stack.lo != 0) {
			stackfree(rt, NULL, gp->stack);
			gp->stack.lo = gp->stack.hi = 0;
		}
		return;
	}
	shrinkparked(rt, gp);
}

void shrinkparked(struct gcrt_runtime *rt, G *gp)
{
	if (gp->stack.lo == 0)
		throw(rt, "missing stack in shrinkstack");
	uintptr_t oldsize = gp->stack.hi - gp->stack.lo;
	uintptr_t newsize = oldsize / 2;
	uintptr_t used = gp->stack.hi - gp->sched.sp;
	if (newsize < FixedStack || used >= oldsize / 4 || gp->syscallsp != 0)
		return;
	if (MUTANT(rt, M_COPY_NO_GCOPYSTACK)) {
		copystack(rt, gp, newsize, NULL);
		return;
	}
	uint32_t s = casgcopystack(rt, gp);
	copystack(rt, gp, newsize, NULL);
	casgstatus(rt, gp, Gcopystack, s);
}

void stack_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	struct stackpool *k = &rt->sched.stk;
	dumpf(d, "stacks: inuse=%llu descs=%u max=%llu\n", (unsigned long long)atomic_load(&k->inuse),
	      atomic_load(&k->ndesc), (unsigned long long)atomic_load(&k->maxstacksize));
}

/* ---- public API ---- */

static int framedesc_new(struct gcrt_runtime *rt, uint32_t nslots, const uint8_t *bitmap,
			 size_t nbits, uint32_t *out)
{
	struct stackpool *k = &rt->sched.stk;
	size_t nbytes = (nslots + 7) / 8;
	int rc = GCRT_OK;
	LOCK(rt, &k->desclock, "stack.desclock");
	uint32_t n = atomic_load(&k->ndesc);
	if (k->descs == NULL)
		k->descs = persistentalloc(rt, MaxFrameDescs * sizeof(framedesc), 8, NULL);
	uint8_t *bits = nbytes > 0 && k->descs != NULL ? persistentalloc(rt, nbytes, 1, NULL) : NULL;
	if (k->descs == NULL || (nbytes > 0 && bits == NULL)) {
		rc = GCRT_ENOMEM;
	} else if (n >= MaxFrameDescs) {
		rc = GCRT_ESIZE;
	} else {
		framedesc *d = &k->descs[n];
		d->nslots = nslots;
		d->bitmap = bits;
		for (size_t i = 0; i < nbits; i++)
			if (bitmap[i / 8] >> (i % 8) & 1)
				d->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
		ATOMIC_STORE(rt, "stack.framedesc.publish", &k->ndesc, n + 1);
		*out = n + 1;
	}
	UNLOCK(rt, &k->desclock, "stack.descunlock");
	return rc;
}

GCRT_API int gcrt_frame_desc(gcrt_runtime *rt, uint32_t nslots, const uint8_t *bitmap,
			     size_t nbits, uint32_t *out)
{
	int rc = rt_check_args(rt, out == NULL || (nbits > 0 && bitmap == NULL));
	if (rc != GCRT_OK)
		return rc;
	if (nslots > GCRT_MAX_FRAME_SLOTS)
		return GCRT_ESIZE;
	if (nbits > nslots)
		return GCRT_ERANGE;
	RETURN_CAUGHT(rt, framedesc_new(rt, nslots, bitmap, nbits, out));
}

GCRT_API int gcrt_stack_limit(gcrt_runtime *rt, size_t max)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (max < FixedStack)
		return GCRT_ESIZE;
	atomic_store(&rt->sched.stk.maxstacksize, (uintptr_t)max);
	return GCRT_OK;
}
