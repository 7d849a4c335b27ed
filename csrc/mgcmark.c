/* mgcmark.c: roots and marking (Go's mgc0.c markroot, scanblock,
 * scanobject, greyobject), and the checkmark verification.
 *
 * Roots, by markroot index: RootData (global regions the host registered
 * with gcrt_root_add, one mask bit a word), RootPins (objects the host
 * holds, gcrt_pin, counted), RootFinalizers (objects on the finalizer
 * queue, or being finalized), RootSpans (for each finalizer special, the
 * contents of its object, but not the object itself, so it can be found
 * unreachable while what it references survives), RootFlushCaches (every
 * mcache gives its spans back, so sweeping sees no cached span), and
 * then one index per goroutine of the allg snapshot, the seed's loop: its
 * stack is shrunk outside GCscan (world stopped), gcworkdone starts as
 * "is dead", and stopg claims a stopped G with its scan bit and runs
 * gcphasework, which calls scanstack (frames by their descriptors, plus
 * the saved context pointers); the loop re-claims until the G's work is
 * done, then restartg releases it.  In GCscan stopg marks a running G done
 * without a scan (the stopped-world mark rescans it).
 *
 * Mark: a pointer is kept if it lies in an in-use span below its limit;
 * objectstart gives the object's first word (interior pointers); the
 * object's mark bit in the heap bitmap is set (greyobject) and, unless its
 * first word's type code is BitsDead (noscan), it is pushed on the
 * marker's workbuf.  scanobject walks an object's nibbles until the next
 * boundary or a BitsDead code and greys every BitsPointer word.  With
 * nproc markers, a bitmap byte that holds two unmarked one-word objects
 * is marked with an atomic OR; any other byte has one writer per nibble
 * (the same value from every marker), so a relaxed store suffices.
 * Markers run markroot under parfor, then drain through getfull, the
 * termination barrier; afterwards full and partial must be empty.
 *
 * Checkmark: with the world still stopped, a single-threaded depth-first
 * walk from the same roots records what it reaches in a separate bitmap
 * and throws "checkmark found unmarked object" for any reachable object
 * whose mark bit is clear.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "mutants.h"

/* ---- registered global regions ---- */

static int rootadd(struct gcrt_runtime *rt, uintptr_t b, size_t size, const uint8_t *ptrmask,
		   size_t nbits)
{
	struct gcstate *gc = &rt->gc;
	mutator_enter(rt);
	LOCK(rt, &gc->rootlock, "gc.rootlock");
	int rc = GCRT_OK;
	for (uint32_t i = 0; i < gc->nroots; i++)
		if (b < gc->roots[i].base + gc->roots[i].size && gc->roots[i].base < b + size)
			rc = GCRT_EINVAL;
	if (rc == GCRT_OK && gc->nroots == gc->rootscap) {
		uint32_t cap = gc->rootscap ? gc->rootscap * 2 : 16;
		gcroot *r = realloc(gc->roots, cap * sizeof *r);
		if (r == NULL)
			rc = GCRT_ENOMEM;
		else {
			gc->roots = r;
			gc->rootscap = cap;
		}
	}
	uint8_t *mask = NULL;
	if (rc == GCRT_OK && (mask = calloc(1, nbits / 8 + 1)) == NULL)
		rc = GCRT_ENOMEM;
	if (rc == GCRT_OK) {
		if (nbits > 0)
			memcpy(mask, ptrmask, (nbits + 7) / 8);
		if (nbits % 8 != 0)
			mask[nbits / 8] &= (uint8_t)((1u << (nbits % 8)) - 1);
		gc->roots[gc->nroots++] = (gcroot){b, size, mask, (uint32_t)nbits};
	}
	UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
	mutator_exit(rt);
	return rc;
}

GCRT_API int gcrt_root_add(gcrt_runtime *rt, void *base, size_t size, const uint8_t *ptrmask,
			   size_t nbits)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	uintptr_t b = (uintptr_t)base;
	if (base == NULL || b % PtrSize != 0 || size == 0 || size % PtrSize != 0 ||
	    b + size < b || nbits > size / PtrSize || (ptrmask == NULL && nbits > 0))
		return GCRT_EINVAL;
	mheap *h = &rt->heap;
	if (b < (uintptr_t)h->reserve + h->reserve_size && b + size > (uintptr_t)h->reserve)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, rootadd(rt, b, size, ptrmask, nbits));
}

static int rootremove(struct gcrt_runtime *rt, void *base)
{
	struct gcstate *gc = &rt->gc;
	mutator_enter(rt);
	LOCK(rt, &gc->rootlock, "gc.rootlock");
	int rc = GCRT_EINVAL;
	for (uint32_t i = 0; i < gc->nroots; i++) {
		if (gc->roots[i].base == (uintptr_t)base) {
			free(gc->roots[i].mask);
			gc->roots[i] = gc->roots[--gc->nroots];
			rc = GCRT_OK;
			break;
		}
	}
	UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
	mutator_exit(rt);
	return rc;
}

GCRT_API int gcrt_root_remove(gcrt_runtime *rt, void *base)
{
	RETURN_CHECKED_CAUGHT(rt, rootremove(rt, base));
}

/* ---- pins: open addressing, linear probing, backward-shift deletion ---- */

static uint32_t pinhash(uintptr_t obj, uint32_t cap)
{
	return (uint32_t)((obj >> 3) * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
}

static gcpin *pinfind(struct gcstate *gc, uintptr_t obj)
{
	if (gc->pinscap == 0)
		return NULL;
	for (uint32_t i = pinhash(obj, gc->pinscap);; i = (i + 1) & (gc->pinscap - 1)) {
		if (gc->pins[i].obj == obj)
			return &gc->pins[i];
		if (gc->pins[i].obj == 0)
			return NULL;
	}
}

static int pingrow(struct gcstate *gc)
{
	uint32_t cap = gc->pinscap ? gc->pinscap * 2 : 256;
	gcpin *n = calloc(cap, sizeof *n);
	if (n == NULL)
		return GCRT_ENOMEM;
	for (uint32_t i = 0; i < gc->pinscap; i++) {
		if (gc->pins[i].obj == 0)
			continue;
		uint32_t j = pinhash(gc->pins[i].obj, cap);
		while (n[j].obj != 0)
			j = (j + 1) & (cap - 1);
		n[j] = gc->pins[i];
	}
	free(gc->pins);
	gc->pins = n;
	gc->pinscap = cap;
	return GCRT_OK;
}

static void pindelete(struct gcstate *gc, gcpin *e)
{
	uint32_t mask = gc->pinscap - 1, i = (uint32_t)(e - gc->pins);
	for (uint32_t j = (i + 1) & mask; gc->pins[j].obj != 0; j = (j + 1) & mask) {
		uint32_t home = pinhash(gc->pins[j].obj, gc->pinscap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			gc->pins[i] = gc->pins[j];
			i = j;
		}
	}
	gc->pins[i] = (gcpin){0, 0};
	gc->npins--;
}

/* obj is an allocated object's base: GCRT_OK, else GCRT_EBADOBJ. */
static int isobjectbase(struct gcrt_runtime *rt, void *obj)
{
	void *b;
	mspan *s;
	uintptr_t slot;
	if (objectof(rt, obj, &b, &s, &slot) != GCRT_OK || b != obj)
		return GCRT_EBADOBJ;
	return GCRT_OK;
}

/* Pin under the world: the caller has entered as a mutator. */
static int pinlocked(struct gcrt_runtime *rt, void *obj)
{
	struct gcstate *gc = &rt->gc;
	int rc = GCRT_OK;
	LOCK(rt, &gc->rootlock, "gc.rootlock");
	gcpin *e = pinfind(gc, (uintptr_t)obj);
	if (e == NULL && (gc->npins + 1) * 2 > gc->pinscap)
		rc = pingrow(gc);
	if (rc == GCRT_OK && e == NULL) {
		uint32_t i = pinhash((uintptr_t)obj, gc->pinscap);
		while (gc->pins[i].obj != 0)
			i = (i + 1) & (gc->pinscap - 1);
		e = &gc->pins[i];
		e->obj = (uintptr_t)obj;
		gc->npins++;
	}
	if (rc == GCRT_OK)
		e->count++;
	UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
	return rc;
}

static int pin(struct gcrt_runtime *rt, void *obj)
{
	mutator_enter(rt);
	int rc = isobjectbase(rt, obj);
	if (rc == GCRT_OK)
		rc = pinlocked(rt, obj);
	mutator_exit(rt);
	return rc;
}

GCRT_API int gcrt_pin(gcrt_runtime *rt, void *obj)
{
	RETURN_CHECKED_CAUGHT(rt, pin(rt, obj));
}

static int unpin(struct gcrt_runtime *rt, void *obj)
{
	struct gcstate *gc = &rt->gc;
	mutator_enter(rt);
	LOCK(rt, &gc->rootlock, "gc.rootlock");
	gcpin *e = pinfind(gc, (uintptr_t)obj);
	int rc = e == NULL ? GCRT_EINVAL : GCRT_OK;
	if (e != NULL && --e->count == 0)
		pindelete(gc, e);
	UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
	mutator_exit(rt);
	return rc;
}

GCRT_API int gcrt_unpin(gcrt_runtime *rt, void *obj)
{
	RETURN_CHECKED_CAUGHT(rt, unpin(rt, obj));
}

static int allocpinned(struct gcrt_runtime *rt, gcrt_type t, void **out)
{
	mutator_enter(rt);
	mheap *h = &rt->heap;
	LOCK(rt, &h->extlock, "mheap.extlock");
	int rc = mallocgc(rt, h->extcache, t, out);
	UNLOCK(rt, &h->extlock, "mheap.extunlock");
	if (rc == GCRT_OK)
		rc = pinlocked(rt, *out);
	mutator_exit(rt);
	return rc;
}

GCRT_API int gcrt_alloc_pinned(gcrt_runtime *rt, gcrt_type t, void **out)
{
	int rc = rt_check_args(rt, out == NULL);
	if (rc != GCRT_OK)
		return rc;
	gcpoll(rt);
	RETURN_CAUGHT(rt, allocpinned(rt, t, out));
}

int pinned_count(struct gcrt_runtime *rt, uintptr_t obj)
{
	struct gcstate *gc = &rt->gc;
	LOCK(rt, &gc->rootlock, "gc.rootlock");
	gcpin *e = pinfind(gc, obj);
	int n = e == NULL ? 0 : (int)e->count;
	UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
	return n;
}

/* ---- marking ---- */

/* The span holding p if p lies in an in-use span below its limit, else
 * NULL (a stale or foreign word is ignored).  Checkmark's lookup. */
static mspan *spanofheap(mheap *h, uintptr_t p)
{
	if (p < h->arena_start || p >= atomic_load_explicit(&h->arena_used, memory_order_relaxed))
		return NULL;
	mspan *s = atomic_load_explicit(&h->spans[(p >> PageShift) - (h->arena_start >> PageShift)],
					memory_order_relaxed);
	if (s == NULL || s->state != MSpanInUse || (p >> PageShift) < s->start || p >= s->limit)
		return NULL;
	return s;
}

/* A marker: its buffer, the number of markers (with more than one, a
 * bitmap byte shared by two objects' mark bits is set atomically), and
 * the heap's layout copied out of rt.  The layout is fixed once
 * mheap_init has run; held in a local, it stays in registers across the
 * bitmap's byte stores, which may alias anything reached through rt.
 * The inline functions below take the marker by pointer and are always
 * inlined into a caller that owns it. */
typedef struct marker {
	struct gcrt_runtime *rt;
	workbuf *wbuf;
	uint32_t nproc;
	uintptr_t arena_start;
	uintptr_t arena_page;             /* arena_start >> PageShift */
	const _Atomic uintptr_t *arena_used; /* grows while the world runs */
	mspan *_Atomic *spans;
	uint8_t *bitmap;
} marker;

#define MARK_INLINE static inline __attribute__((always_inline))

static marker marker_new(struct gcrt_runtime *rt, workbuf *wbuf, uint32_t nproc)
{
	mheap *h = &rt->heap;
	return (marker){rt, wbuf, nproc, h->arena_start, h->arena_start >> PageShift,
			&h->arena_used, h->spans, h->bitmap};
}

/* Mark the object at obj, whose bitmap byte bp (its nibble at shift)
 * read byte, and queue it if it has pointers. */
MARK_INLINE void greyobject(marker *m, uintptr_t obj, _Atomic uint8_t *bp, uint32_t shift,
			    uint8_t byte)
{
	uint32_t bits = (byte >> shift) & 0xF;
	if (bits & bitMarked)
		return;
	uint32_t other = (byte >> (shift ^ gcBits)) & 0xF;
	if (MUTANT(m->rt, M_MARKBIT_NONATOMIC)) {
		/* The plain read-modify-write even when another marker may
		 * set the other nibble's mark bit in between. */
		SCHED_POINT_V(m->rt, "greyobject.plain", byte);
		atomic_store_explicit(bp, (uint8_t)(byte | bitMarked << shift), memory_order_relaxed);
	} else if (m->nproc > 1 && (other & bitMask) == bitBoundary)
		ATOMIC_OR8(m->rt, "greyobject.or8", bp, (uint8_t)(bitMarked << shift));
	else
		atomic_store_explicit(bp, (uint8_t)(byte | bitMarked << shift), memory_order_relaxed);
	if (((bits >> 2) & BitsMask) == BitsDead)
		return;
	if (m->wbuf->nobj == WorkbufObjs)
		m->wbuf = getempty(m->rt, m->wbuf);
	m->wbuf->obj[m->wbuf->nobj++] = obj;
}

/* Grey the object p points into, if p lies in an in-use span below its
 * limit.  A pointer to an object's first word (the common case) costs
 * one bitmap load; an interior one walks back to its object's boundary
 * (objectstart). */
MARK_INLINE void markptr(marker *m, uintptr_t p)
{
	if (p < m->arena_start || p >= atomic_load_explicit(m->arena_used, memory_order_relaxed))
		return;
	const mspan *s =
		atomic_load_explicit(&m->spans[(p >> PageShift) - m->arena_page], memory_order_relaxed);
	if (s == NULL || s->state != MSpanInUse || (p >> PageShift) < s->start || p >= s->limit)
		return;
	uintptr_t obj = p & ~(uintptr_t)(PtrSize - 1);
	uint32_t shift;
	_Atomic uint8_t *bp = (_Atomic uint8_t *)bitmap_byte(m->bitmap, m->arena_start, obj, &shift);
	uint8_t byte = atomic_load_explicit(bp, memory_order_relaxed);
	if (!((byte >> shift) & bitBoundary)) {
		obj = (uintptr_t)objectstart(m->rt, (void *)p);
		if (obj == 0)
			return;
		bp = (_Atomic uint8_t *)bitmap_byte(m->bitmap, m->arena_start, obj, &shift);
		byte = atomic_load_explicit(bp, memory_order_relaxed);
	}
	greyobject(m, obj, bp, shift, byte);
}

/* Grey the pointers of the object at b, read from the heap bitmap: its
 * words' nibbles until the next boundary, a BitsDead code or the end of
 * its span's element. */
MARK_INLINE void scanobject(marker *m, uintptr_t b)
{
	const mspan *s =
		atomic_load_explicit(&m->spans[(b >> PageShift) - m->arena_page], memory_order_relaxed);
	uintptr_t nw = (s->sizeclass == 0 ? s->limit - b : s->elemsize) / PtrSize;
	uint32_t shift;
	const _Atomic uint8_t *bp =
		(const _Atomic uint8_t *)bitmap_byte(m->bitmap, m->arena_start, b, &shift);
	uint32_t byte = (uint32_t)atomic_load_explicit(bp, memory_order_relaxed) >> shift;
	uint32_t left = shift == 0 ? 2 : 1;
	const uintptr_t *w = (const uintptr_t *)b;
	for (uintptr_t i = 0; i < nw; i++) {
		if (left == 0) {
			bp--;
			byte = atomic_load_explicit(bp, memory_order_relaxed);
			left = 2;
		}
		uint32_t nib = byte & 0xF;
		byte >>= gcBits;
		left--;
		if (i > 0 && (nib & bitBoundary))
			break;
		uint32_t code = (nib >> 2) & BitsMask;
		if (code == BitsPointer)
			markptr(m, w[i]);
		else if (code == BitsDead)
			break;
		else if (code != BitsScalar)
			throw(m->rt, "unexpected garbage collection bits");
	}
}

/* Grey the pointer words of [b, b+nbits words) named by a one-bit mask.
 * Root words may change under a concurrent scan: relaxed loads. */
static void scanblock(marker *m, uintptr_t b, const uint8_t *mask, uint32_t nbits)
{
	for (uint32_t i = 0; i < nbits; i++)
		if ((mask[i / 8] >> (i % 8)) & 1)
			markptr(m, atomic_load_explicit((_Atomic uintptr_t *)b + i, memory_order_relaxed));
}

enum { PrefetchN = 64 };

/* Drain grey objects until the getfull barrier says every marker is done.
 * A popped object is prefetched and scanned PrefetchN pops later (the
 * ring of Go 1.4's scanblock), which hides most of the cache miss on its
 * words; the ring is empty whenever this marker enters getfull.  64
 * entries, not 16: when memory is slow (a loaded host), 16 pops of a
 * tree's small nodes come back before the lines do (measured: 16 -> 64
 * took a tree of 32-byte nodes from 10.7 to 7.7 ns per object on one
 * marker, 6.0 to 4.6 on two; 128 was slower again). */
static void drain(struct gcrt_runtime *rt, uint32_t nproc)
{
	struct workdata *w = &rt->work;
	uintptr_t ring[PrefetchN];
	uint32_t head = 0, n = 0;
	marker m = marker_new(rt, getfull(rt, NULL), nproc);
	while (m.wbuf != NULL) {
		uintptr_t obj;
		if (m.wbuf->nobj == 0) {
			if (n == 0) {
				m.wbuf = getfull(rt, m.wbuf);
				if (m.wbuf != NULL && m.wbuf->nobj == 0)
					throw(rt, "runtime:scanblock getfull returns empty buffer");
				continue;
			}
			obj = ring[head];
			head = (head + 1) % PrefetchN;
			n--;
		} else {
			if (nproc > 1 && m.wbuf->nobj > 4 &&
			    ATOMIC_LOAD(rt, "drain.nwait", &w->nwait) > 0 && lfstackempty(rt, &w->full))
				m.wbuf = handoff(rt, m.wbuf);
			uintptr_t next = m.wbuf->obj[--m.wbuf->nobj];
			__builtin_prefetch((void *)next);
			if (n < PrefetchN) {
				ring[(head + n++) % PrefetchN] = next;
				continue;
			}
			obj = ring[head];
			ring[head] = next;
			head = (head + 1) % PrefetchN;
		}
		scanobject(&m, obj);
	}
}

static void flushallmcaches(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	for (mcache *c = h->allmcache; c != NULL; c = c->allnext)
		for (int i = 0; i < NumSizeClasses; i++) {
			if (c->alloc[i] != &h->emptymspan)
				mcentral_uncachespan(rt, &h->central[i], c->alloc[i]);
			c->alloc[i] = &h->emptymspan;
		}
}

/* Every finalizer special of the spans being marked: fn(obj) for its object. */
static void specials_each(struct gcrt_runtime *rt, void (*fn)(struct gcrt_runtime *, uintptr_t, void *),
			  void *ctx, int check)
{
	struct gcstate *gc = &rt->gc;
	uint32_t sg = atomic_load(&rt->heap.sweepgen);
	for (uint32_t i = 0; i < gc->nspan; i++) {
		mspan *s = gc->spans[i];
		if (s->state != MSpanInUse)
			continue;
		if (check && atomic_load(&s->sweepgen) != sg)
			throwf(rt, "gc: unswept span (sweepgen %u, heap %u)", atomic_load(&s->sweepgen),
			       sg);
		if (s->specials == NULL)
			continue;
		LOCK(rt, &s->speciallock, "gc.specials.lock");
		for (special *sp = s->specials; sp != NULL; sp = sp->next) {
			uintptr_t obj = (s->start << PageShift) + sp->offset / s->elemsize * s->elemsize;
			fn(rt, obj, ctx);
		}
		UNLOCK(rt, &s->speciallock, "gc.specials.unlock");
	}
}

static void markfinobj(struct gcrt_runtime *rt, void *obj, void *ctx)
{
	(void)rt;
	markptr(ctx, (uintptr_t)obj);
}

static void scanspecialobj(struct gcrt_runtime *rt, uintptr_t obj, void *ctx)
{
	(void)rt;
	scanobject(ctx, obj);
}

/* Grey what gp's frames and saved context point to; gp is claimed
 * (Gscan bit held by us) and stopped. */
static void scanframes(marker *m, G *gp)
{
	struct gcrt_runtime *rt = m->rt;
	uint32_t st = readgstatus(rt, gp);
	if (!(st & Gscan))
		throw(rt, "scanstack - bad status: no scan bit");
	st &= ~(uint32_t)Gscan;
	if (st == Grunning)
		throw(rt, "scanstack: - goroutine not stopped");
	if (st != Grunnable && st != Gsyscall && st != Gwaiting)
		throw(rt, "mark - bad status");
	for (uintptr_t fp = gp->sched.fp; fp != 0;) {
		if (fp < gp->stack.lo || fp + sizeof(framehdr) > gp->stack.hi)
			throw(rt, "scanstack: frame outside the stack");
		const framehdr *hdr = (const framehdr *)fp;
		const framedesc *d = framedesc_get(rt, hdr->desc);
		if (d == NULL)
			throw(rt, "missing stackmap");
		scanblock(m, fp + sizeof *hdr, d->bitmap, d->nslots);
		fp = hdr->callerfp;
	}
	markptr(m, gp->sched.ctxt);
	markptr(m, gp->sched.param);
}

/* The phase's stack work for gp, called by gcphasework with gp claimed
 * (Gscan bit held by the caller).  In GCscan the stack's pointers are
 * greyed one level (marked and queued on work.partial/full, which the
 * stopped-world mark drains); in GCmark and GCmarktermination the same
 * greying is followed by the marker's drain, so the stack is scanned
 * fully.  Greying uses the atomic mark form unless a single marker runs
 * with the world stopped. */
void scanstack(struct gcrt_runtime *rt, G *gp)
{
	uint32_t phase = ATOMIC_LOAD(rt, "scanstack.phase", &rt->gc.phase);
	uint32_t nproc = phase == GCscan ? 2 : ATOMIC_LOAD(rt, "scanstack.nproc", &rt->work.nproc);
	marker m = marker_new(rt, getpartialorempty(rt), nproc);
	scanframes(&m, gp);
	putpartial(rt, m.wbuf);
}

static bool stoppedstatus(uint32_t st)
{
	return st == Gwaiting || st == Grunnable;
}

/* Goroutine root gp (the seed's per-G loop of markroot): the stack work
 * happens in stopg -> gcphasework -> scanstack.  Outside GCscan (world
 * stopped) the stack is shrunk first.  A running G is marked done by
 * stopg in GCscan without a scan (the stopped-world mark rescans it); with
 * the world stopped no G runs, and a G held by another scanner is waited
 * for until its work is done. */
static void markrootg(struct gcrt_runtime *rt, G *gp, int scanphase)
{
	uint32_t st = readgstatus(rt, gp);
	if (!scanphase && gp->kind == Gstep && (stoppedstatus(st) || st == Gdead))
		shrinkstack(rt, gp);
	st = readgstatus(rt, gp);
	ATOMIC_STORE(rt, "markroot.g.workdone", &gp->gcworkdone, st == Gdead || st == Gidle);
	bool restart = stopg(rt, gp);
	while (readgstatus(rt, gp) == Grunning && !ATOMIC_LOAD(rt, "markroot.g.done", &gp->gcworkdone))
		SCHED_SPIN(rt, "markroot.g.running.spin");
	while (!ATOMIC_LOAD(rt, "markroot.g.done", &gp->gcworkdone)) {
		st = readgstatus(rt, gp);
		if (st == Gdead)
			ATOMIC_STORE(rt, "markroot.g.dead", &gp->gcworkdone, 1);
		else if (stoppedstatus(st) || st == Gsyscall || st == Grunning)
			restart = stopg(rt, gp) || restart;
		SCHED_SPIN(rt, "markroot.g.spin");
		osyield();
	}
	if (restart)
		restartg(rt, gp);
}

/* Root i, greyed into this marker's buffer.  In GCscan (one scanner,
 * mutators shading concurrently) marks use the atomic form, span
 * specials only check the sweep, and caches are not flushed. */
void markroot(parfor *desc, uint32_t i)
{
	struct gcrt_runtime *rt = desc->rt;
	struct gcstate *gc = &rt->gc;
	int scanphase = ATOMIC_LOAD(rt, "markroot.phase", &gc->phase) == GCscan;
	marker m = marker_new(rt, getpartialorempty(rt),
			      scanphase ? 2 : ATOMIC_LOAD(rt, "markroot.nproc", &rt->work.nproc));
	switch (i) {
	case RootData:
		LOCK(rt, &gc->rootlock, "gc.rootlock");
		for (uint32_t k = 0; k < gc->nroots; k++)
			scanblock(&m, gc->roots[k].base, gc->roots[k].mask, gc->roots[k].nbits);
		UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
		break;
	case RootPins:
		LOCK(rt, &gc->rootlock, "gc.rootlock");
		for (uint32_t k = 0; k < gc->pinscap; k++)
			if (gc->pins[k].obj != 0)
				markptr(&m, gc->pins[k].obj);
		UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
		break;
	case RootFinalizers:
		finq_scan(rt, markfinobj, &m);
		break;
	case RootSpans:
		/* Spans change state while the world runs: only the stopped
		 * world's mark checks them and scans finalizer referents. */
		if (!scanphase)
			specials_each(rt, scanspecialobj, &m, 1);
		break;
	case RootFlushCaches:
		if (!scanphase)
			flushallmcaches(rt);
		break;
	default:
		if (i - RootCount >= gc->nallgs)
			throw(rt, "markroot: bad index");
		markrootg(rt, gc->allgs[i - RootCount], scanphase);
	}
	putpartial(rt, m.wbuf);
}

void gchelper_run(struct gcrt_runtime *rt, uint32_t id)
{
	struct workdata *w = &rt->work;
	int64_t t0 = nanotime();
	parfordo(w->markfor);
	uint32_t nproc = ATOMIC_LOAD(rt, "gchelper.nproc", &w->nproc);
	drain(rt, nproc);
	gctrace_event(rt, "mark (helper)", id, t0, nanotime());
	if (ATOMIC_XADD(rt, "gchelper.ndone", &w->ndone, 1) == nproc - 1)
		notewakeup(rt, &w->alldone);
}

/* The mark of gc(): nproc markers (this thread and nproc-1 helpers, which
 * the caller has woken after this sets up the parfor). */
void gcmark(struct gcrt_runtime *rt, uint32_t nproc)
{
	struct workdata *w = &rt->work;
	struct gcstate *gc = &rt->gc;
	while (!ATOMIC_CAS32(rt, "gc.markfor.acquire", &w->markfor_busy, 0, 1))
		SCHED_SPIN(rt, "gc.markfor.wait");
	workbegin(rt, nproc);
	w->markfor->seed = (uint64_t)w->tstart | 1;
	parforsetup(w->markfor, nproc, RootCount + gc->nallgs, NULL, false, markroot);
	if (nproc > 1)
		(void)ATOMIC_XADD(rt, "gc.helpgen", &gc->helpgen, 1);
	for (uint32_t i = 1; i < nproc; i++)
		notewakeup(rt, &gc->helpers[i - 1].park);
	parfordo(w->markfor);
	if (gc->markhook != NULL)
		gc->markhook(rt, gc->markhookarg);
	drain(rt, nproc);
	workcheckempty(rt);
	if (nproc > 1)
		notesleep(rt, &w->alldone);
	ATOMIC_STORE(rt, "gc.markfor.release", &w->markfor_busy, 0);
}

/* The write barrier's shade: grey p's object (the world may be running). */
void shade(struct gcrt_runtime *rt, void *p)
{
	marker m = marker_new(rt, getpartialorempty(rt), 2);
	markptr(&m, (uintptr_t)p);
	putpartial(rt, m.wbuf);
}

/* ---- checkmark ---- */

typedef struct checkctx {
	uint64_t *bits;
	uintptr_t *stack;
	size_t n, cap;
} checkctx;

static void checkpush(struct gcrt_runtime *rt, uintptr_t p, void *ctxp)
{
	checkctx *cc = ctxp;
	if (spanofheap(&rt->heap, p) == NULL)
		return;
	uintptr_t obj = (uintptr_t)objectstart(rt, (void *)p);
	if (obj == 0)
		return;
	uintptr_t w = (obj - rt->heap.arena_start) / PtrSize;
	if (cc->bits[w / 64] >> (w % 64) & 1)
		return;
	cc->bits[w / 64] |= 1ull << (w % 64);
	if (!ismarked(rt, (void *)obj))
		throwf(rt, "checkmark found unmarked object %#lx", (unsigned long)obj);
	if (((heapbits_get(&rt->heap, (void *)obj) >> 2) & BitsMask) == BitsDead)
		return;
	if (cc->n == cc->cap) {
		size_t cap = cc->cap ? cc->cap * 2 : 1024;
		uintptr_t *stack = realloc(cc->stack, cap * sizeof *stack);
		if (stack == NULL)
			throw(rt, "checkmark: out of memory");
		rt->gc.checkstack = cc->stack = stack;
		cc->cap = cap;
	}
	cc->stack[cc->n++] = obj;
}

/* The pointer words of the object at b, by the heap bitmap. */
static void checkscan(struct gcrt_runtime *rt, uintptr_t b, void *ctx)
{
	mheap *h = &rt->heap;
	const mspan *s = spanof(rt, (void *)b);
	uintptr_t nw = (s->sizeclass == 0 ? s->limit - b : s->elemsize) / PtrSize;
	for (uintptr_t i = 0; i < nw; i++) {
		uint32_t nib = heapbits_get(h, (void *)(b + i * PtrSize));
		if ((i > 0 && (nib & bitBoundary)) || ((nib >> 2) & BitsMask) == BitsDead)
			break;
		if (((nib >> 2) & BitsMask) == BitsPointer)
			checkpush(rt, ((uintptr_t *)b)[i], ctx);
	}
}

static void checkfinobj(struct gcrt_runtime *rt, void *obj, void *ctx)
{
	checkpush(rt, (uintptr_t)obj, ctx);
}

void checkmark(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	struct gcstate *gc = &rt->gc;
	uintptr_t words = (atomic_load(&h->arena_used) - h->arena_start) / PtrSize;
	checkctx cc = {calloc(words / 64 + 1, sizeof(uint64_t)), NULL, 0, 0};
	if (cc.bits == NULL)
		throw(rt, "checkmark: out of memory");
	gc->checkbits = cc.bits; /* a throw below leaves both buffers to gcfini */
	LOCK(rt, &gc->rootlock, "gc.rootlock");
	for (uint32_t k = 0; k < gc->nroots; k++)
		for (uint32_t i = 0; i < gc->roots[k].nbits; i++)
			if ((gc->roots[k].mask[i / 8] >> (i % 8)) & 1)
				checkpush(rt,
					  atomic_load_explicit((_Atomic uintptr_t *)gc->roots[k].base + i,
							       memory_order_relaxed),
					  &cc);
	for (uint32_t k = 0; k < gc->pinscap; k++)
		if (gc->pins[k].obj != 0)
			checkpush(rt, gc->pins[k].obj, &cc);
	UNLOCK(rt, &gc->rootlock, "gc.rootunlock");
	finq_scan(rt, checkfinobj, &cc);
	specials_each(rt, checkscan, &cc, 0);
	for (uint32_t k = 0; k < gc->nallgs; k++) {
		G *gp = gc->allgs[k];
		uint32_t st = readgstatus(rt, gp);
		if (st == Gidle || st == Gdead)
			continue;
		for (uintptr_t fp = gp->sched.fp; fp != 0; fp = ((const framehdr *)fp)->callerfp) {
			const framedesc *d = framedesc_get(rt, ((const framehdr *)fp)->desc);
			for (uint32_t i = 0; d != NULL && i < d->nslots; i++)
				if ((d->bitmap[i / 8] >> (i % 8)) & 1)
					checkpush(rt, ((uintptr_t *)(fp + sizeof(framehdr)))[i], &cc);
		}
		checkpush(rt, gp->sched.ctxt, &cc);
		checkpush(rt, gp->sched.param, &cc);
	}
	while (cc.n > 0)
		checkscan(rt, cc.stack[--cc.n], &cc);
	free(cc.stack);
	free(cc.bits);
	gc->checkstack = NULL;
	gc->checkbits = NULL;
}
