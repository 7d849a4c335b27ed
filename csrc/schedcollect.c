/* schedcollect.c: a whole collection under the controller, registered
 * with SCHED_SCENARIO (schedctl.h).
 *
 *   collect  n_ms Ps, each run by a scheduler M (each body M starts one
 *            with gcrt_start), and n_ms + 1 goroutines running mutator VM
 *            programs (mutator.c), so one waits on the run queue.  Each
 *            round a goroutine allocates a node, links the old head into
 *            it, moves a pointer out of the old head into the new node
 *            through the write barrier (the old head's field is cleared:
 *            the pointer now lives only in the new node), drops a fresh
 *            object as garbage, calls a function whose frame does not fit
 *            the current stack (newstack copies it under Gcopystack; the
 *            collection shrinks it again) and yields (back on the run
 *            queue, where another M may take it).  G0 runs `gcat` rounds,
 *            then the VM's GC op: a full seed cycle from its M
 *            (gcrequest: its P given up as in a syscall; gogc: stop the
 *            world, finishsweep_m, start it, concurrent gcscan_m while
 *            the other goroutines run and store, stop it, the mark with
 *            n_ms markers (n_ms-1 gchelper threads), checkmark, eager
 *            sweep with the world running and allocating), then the rest
 *            of its rounds.  Every goroutine then parks.  Body M0, the
 *            host, waits (polling in virtual time, blocked in between)
 *            until all are parked, collects once more over the parked
 *            goroutines, counts live and reachable nodes, readies every
 *            goroutine, which walks its structure (every load checks the
 *            canaries of both objects, so a freed live object, poisoned
 *            or reused, is a throw) and exits; once every body M has
 *            started its scheduler M, M0 retires the gchelpers and the
 *            scheduler Ms (as gcrt_destroy would), so every M of the run
 *            ends.
 *          Oracles: checkmark after each mark (no reachable object left
 *          unmarked: "checkmark found unmarked object"); the canaries of
 *          every reachable node after each sweep; after the final
 *          collection, the live nodes (allocated slots of the node size
 *          class: span slots minus free-list entries) are exactly the
 *          nodes reachable from the parked goroutines' frames (a walk of
 *          their frames by descriptor and of the nodes' two pointer
 *          fields); every goroutine ends with GCRT_OK.
 *          Mutants of the status protocol, switched on by name through
 *          the runtime registry (schedtest.c): "stopg_blind_store"
 *          (gcscan_m's claim of a runnable G is a read then a store, and
 *          an M taking the G off the run queue in between runs it under
 *          the scan bit: its next status change spins, a livelock) and
 *          "scan_miss" (a failed claim counts as scanned; with a spurious
 *          claim failure from the fault tape during the stopped-world
 *          mark, a stack goes unscanned and the checkmark finds its
 *          nodes unmarked).  The collector's other mutants do not show
 *          here: the seed's stopped-world rescan re-greys what wb_off
 *          misses, its stop waits out any sweep finishsweep_nowait
 *          leaves running, and the eager sweep rarely meets an
 *          allocator's lazy sweep on a span (sweep_double).
 *
 * Parameters: p0 = rounds per goroutine (default 2, at most MaxRounds),
 * p1 = G0's rounds before its GC op (default 0, at most p0), p2 =
 * goroutines (default n_ms + 1, at most MaxGs).  Values passed to points
 * are goroutine indices and counts, never addresses.
 */
#include <stdio.h>
#include <string.h>

#include "schedctl.h"

enum {
	MaxRounds = 16,
	MaxGs = 6,
	MaxReach = MaxGs * (MaxRounds + 2),
	NodeWords = 4,   /* canary, left*, right*, scalar */
	MainSlots = 6,   /* head*, new*, tmp*, nil*, counter, spare */
	GrowSlots = 200, /* one frame of this size does not fit a fixed stack */
	PollNs = 200000, /* the host looks at the goroutines this often (virtual time) */
};

/* Slots of main's frame. */
enum { SHead = 0, SNew = 1, STmp = 2, SNil = 3, SCount = 4 };

struct collctx {
	int n, ngs, rounds, gcat;
	int32_t sizeclass;
	G *gs[MaxGs];
	uint64_t live, reach; /* nodes after the final collection */
	note tick;            /* never woken: the host's timed waits */
	_Atomic uint32_t started; /* body Ms that have started their scheduler M */
};

/* ---- the programs ---- */

typedef struct emitter {
	gcrt_vm_insn code[64];
	uint32_t n;
} emitter;

static void op(emitter *e, int32_t o, int32_t a, int32_t b, int32_t c)
{
	e->code[e->n++] = (gcrt_vm_insn){o, a, b, c};
}

/* k rounds of: new node, link, move a pointer, drop garbage, grow. */
static void rounds(emitter *e, int k)
{
	if (k == 0)
		return;
	op(e, GCRT_VM_SETI, SCount, k, 0);
	int32_t top = (int32_t)e->n;
	op(e, GCRT_VM_ALLOC, SNew, 0, 0);
	op(e, GCRT_VM_STORE, SNew, 1, SHead);  /* new.left = head */
	op(e, GCRT_VM_LOAD, STmp, SHead, 1);   /* tmp = head.left */
	op(e, GCRT_VM_STORE, SNew, 2, STmp);   /* new.right = tmp */
	op(e, GCRT_VM_STORE, SHead, 1, SNil);  /* head.left = nil: moved */
	op(e, GCRT_VM_MOVE, SHead, SNew, 0);
	op(e, GCRT_VM_ALLOC, STmp, 0, 0);      /* garbage */
	op(e, GCRT_VM_CALL, 1, 0, 0);          /* grows the stack */
	op(e, GCRT_VM_YIELD, 0, 0, 0);         /* back on the run queue */
	op(e, GCRT_VM_LOOP, top, SCount, 0);
}

/* After the wakeup: load (and so canary-check) two levels of the
 * structure, then exit. */
static void walk(emitter *e)
{
	op(e, GCRT_VM_CHECK, SHead, 0, 0);
	op(e, GCRT_VM_LOAD, SNew, SHead, 1);
	op(e, GCRT_VM_LOAD, STmp, SHead, 2);
	op(e, GCRT_VM_CHECK, SNew, 0, 0);
	op(e, GCRT_VM_CHECK, STmp, 0, 0);
	op(e, GCRT_VM_EXIT, 0, 0, 0);
}

/* rounds, [GC, rounds], park, walk; function 1 allocates in a big frame. */
static int program(struct gcrt_runtime *rt, struct collctx *x, bool collector, gcrt_type node,
		   const uint32_t desc[2], gcrt_vm_program **out)
{
	emitter e = {.n = 0};
	op(&e, GCRT_VM_ALLOC, SHead, 0, 0);
	rounds(&e, collector ? x->gcat : x->rounds);
	if (collector) {
		op(&e, GCRT_VM_GC, 0, 0, 0);
		rounds(&e, x->rounds - x->gcat);
	}
	op(&e, GCRT_VM_PARK, 0, 0, 0);
	walk(&e);
	uint32_t entry[2] = {0, e.n};
	op(&e, GCRT_VM_ALLOC, 0, 0, 0);
	op(&e, GCRT_VM_RET, 0, 0, 0);
	return gcrt_vm_program_new(rt, e.code, e.n, desc, entry, 2, &node, 1, out);
}

static int collsetup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct collctx *x = vctx;
	x->n = p->n_ms;
	x->rounds = p->p[0] != 0 ? (int)p->p[0] : 2;
	x->gcat = (int)p->p[1];
	x->ngs = p->p[2] != 0 ? (int)p->p[2] : x->n + 1;
	if (x->rounds < 1 || x->rounds > MaxRounds || x->gcat < 0 || x->gcat > x->rounds ||
	    x->ngs < 1 || x->ngs > MaxGs)
		return GCRT_ERANGE;
	uint8_t nodemask = 0x6, mainmask = 0xF, growmask = 0x1;
	gcrt_type node;
	uint32_t desc[2];
	int rc = gcrt_type_new(rt, NodeWords * PtrSize, &nodemask, NodeWords, &node);
	if (rc == GCRT_OK)
		rc = gcrt_frame_desc(rt, MainSlots, &mainmask, 4, &desc[0]);
	if (rc == GCRT_OK)
		rc = gcrt_frame_desc(rt, GrowSlots, &growmask, 1, &desc[1]);
	gcrt_vm_program *coll, *work;
	if (rc == GCRT_OK)
		rc = program(rt, x, true, node, desc, &coll);
	if (rc == GCRT_OK)
		rc = program(rt, x, false, node, desc, &work);
	if (rc == GCRT_OK)
		rc = gcrt_gc_options(rt, GCRT_GC_CHECKMARK | GCRT_GC_CLOBBERFREE, NULL);
	if (rc == GCRT_OK)
		rc = gcrt_vm_go(rt, coll, 1, &x->gs[0]);
	if (rc == GCRT_OK && x->ngs > 1)
		rc = gcrt_vm_go(rt, work, (size_t)x->ngs - 1, &x->gs[1]);
	if (rc != GCRT_OK)
		return rc;
	x->sizeclass = sizetoclass(&rt->heap, NodeWords * PtrSize);
	note_init(&x->tick);
	noteclear(&x->tick);
	return GCRT_OK;
}

/* ---- M0: the host ---- */

/* Every goroutine parked (or, wrongly, ended) / ended. */
static bool allstopped(struct gcrt_runtime *rt, struct collctx *x, bool dead)
{
	struct schedt *s = &rt->sched;
	bool all = true;
	LOCK(rt, &s->lock, "sched.lock");
	for (int i = 0; i < x->ngs; i++) {
		uint32_t st = readgstatus(rt, x->gs[i]) & ~(uint32_t)Gscan;
		all = all && (st == Gdead || (!dead && x->gs[i]->parked));
	}
	UNLOCK(rt, &s->lock, "sched.unlock");
	return all;
}

static void waitall(struct gcrt_runtime *rt, struct collctx *x, bool dead)
{
	while (!allstopped(rt, x, dead))
		notetsleep(rt, &x->tick, PollNs);
	for (int i = 0; i < x->ngs; i++) {
		G *g = x->gs[i];
		bool ended = (readgstatus(rt, g) & ~(uint32_t)Gscan) == Gdead;
		if (ended != dead || g->exitcode != GCRT_OK)
			throwf(rt, "collect: G%d %s with code %d", i, ended ? "ended" : "parked",
			       (int)g->exitcode);
		SCHED_NOTE(rt, "collscn.stopped", (uint64_t)i);
	}
}

typedef struct reachset {
	uintptr_t obj[MaxReach];
	uint32_t n;
} reachset;

static void reach(struct gcrt_runtime *rt, reachset *r, uintptr_t p)
{
	if (p == 0)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->obj[i] == p)
			return;
	if (r->n == MaxReach)
		throw(rt, "collect: more reachable nodes than allocated");
	r->obj[r->n++] = p;
	reach(rt, r, ((uintptr_t *)p)[1]);
	reach(rt, r, ((uintptr_t *)p)[2]);
}

/* Nodes reachable from the parked goroutines' frames. */
static uint64_t reachable(struct gcrt_runtime *rt, struct collctx *x)
{
	reachset r = {.n = 0};
	for (int i = 0; i < x->ngs; i++)
		for (uintptr_t fp = x->gs[i]->sched.fp; fp != 0;) {
			const framehdr *h = (const framehdr *)fp;
			const framedesc *d = framedesc_get(rt, h->desc);
			const uintptr_t *slots = (const uintptr_t *)(h + 1);
			for (uint32_t k = 0; d != NULL && k < d->nslots; k++)
				if (d->bitmap[k / 8] >> (k % 8) & 1)
					reach(rt, &r, slots[k]);
			fp = h->callerfp;
		}
	return r.n;
}

/* Allocated slots of the node class: span slots minus free-list entries. */
static uint64_t livenodes(struct gcrt_runtime *rt, struct collctx *x)
{
	mheap *h = &rt->heap;
	uint64_t live = 0;
	LOCK(rt, &h->lock, "mheap.lock");
	for (uint32_t i = 0; i < h->nspan; i++) {
		mspan *s = h->allspans[i];
		if (s->state != MSpanInUse || s->sizeclass != x->sizeclass)
			continue;
		uint64_t nfree = 0;
		for (mlink *l = s->freelist; l != NULL && nfree <= s->nelems; l = l->next)
			nfree++;
		live += s->nelems - nfree;
	}
	UNLOCK(rt, &h->lock, "mheap.unlock");
	return live;
}

/* Retire the gchelpers and the scheduler Ms (gcfini's and schedfini's
 * wakeups; gcrt_destroy joins the threads), so every M of the run ends. */
static void retire(struct gcrt_runtime *rt)
{
	struct gcstate *gc = &rt->gc;
	ATOMIC_STORE(rt, "collscn.helpexit", &gc->helpexit, 1);
	for (uint32_t i = 0; i < gc->nhelpers; i++)
		notewakeup(rt, &gc->helpers[i].park);
	schedshutdown(rt);
}

static void host(struct gcrt_runtime *rt, struct collctx *x)
{
	waitall(rt, x, false);
	if (gcollect(rt) != GCRT_OK)
		throw(rt, "collect: the final collection failed");
	x->live = livenodes(rt, x);
	x->reach = reachable(rt, x);
	SCHED_NOTE(rt, "collscn.live", x->live << 32 | x->reach);
	for (int i = 0; i < x->ngs; i++)
		ready(rt, x->gs[i]);
	waitall(rt, x, true);
	while (atomic_load(&x->started) < (uint32_t)x->n)
		notetsleep(rt, &x->tick, PollNs); /* a late body M still starts its M */
	retire(rt);
}

static void collbody(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct collctx *x = vctx;
	if (gcrt_start(rt, 1) != GCRT_OK)
		throw(rt, "collect: gcrt_start failed");
	atomic_fetch_add(&x->started, 1);
	if (m == 0)
		host(rt, x);
}

static const char *collcheck(struct gcrt_runtime *rt, void *vctx, char *buf, size_t n)
{
	struct collctx *x = vctx;
	if (x->live != x->reach)
		return checkfail(buf, n,
				 "collect: %llu live nodes after the final collection, %llu reachable",
				 (unsigned long long)x->live, (unsigned long long)x->reach);
	if (rt->gc.numgc != 2)
		return checkfail(buf, n, "collect: %u collections, want 2", rt->gc.numgc);
	return NULL;
}

static void collteardown(struct gcrt_runtime *rt, void *vctx)
{
	(void)rt;
	note_destroy(&((struct collctx *)vctx)->tick);
}

SCHED_SCENARIO_DEF(collect, 2, 3, struct collctx,
		   SCENARIO_MUTANTS("stopg_blind_store", "scan_miss"),
		   collsetup, collbody, collcheck, collteardown,
		   "goroutines allocate, link and move pointers while one runs a whole collection "
		   "(params: rounds, G0's rounds before its GC, goroutines)");
