/* stresstest.c: the allocation-churn stress hook (gcrt_test_stress_churn).
 *
 * Runtime threads allocate typed objects as a mutator would and check
 * every object they read against a canary computed from the object's id,
 * so an allocator that hands one slot out twice, a cache shared by two
 * Ms, a lost zeroing or (once the collector runs) a freed live object
 * shows up as a wrong canary, id, length or depth.  Ids are unique per
 * run: the thread index in the high bits, a per-thread counter below.
 *
 * Structures (a list, a tree or an array, tagged in the low bits of the
 * root pointer) move between threads only through the shared slots by
 * atomic exchange, so each structure has exactly one owner at a time and
 * objects are read and written with plain accesses by that owner; pointer
 * words change only through the write barrier.  Every choice comes from a
 * splitmix64 stream of (seed, thread); chaos at schedule points comes from
 * gcrt_test_sched_mode, the slow M from slow_m.
 *
 * In gc mode a collection may start inside any allocation of any thread,
 * and the collector sees no thread's C locals: objects come from
 * gcrt_alloc_pinned, and each step keeps what it will touch again
 * reachable from a pin (a child stays pinned until its parent points to
 * it; while a list is reversed the unreversed rest is pinned; a subtree
 * being swapped is pinned across the two stores).  A structure's root
 * stays pinned while it is built, held or parked in a slot.  Some dropped
 * structures get a finalizer, which checks the whole structure on the
 * finalizer thread (Go keeps an object and its referents intact until its
 * finalizer has run); each must run exactly once after the final gcrt_gc.
 *
 * Layouts (words): list node {next*, canary, id, length}; tree node
 * {left*, right*, canary, id, depth}; array {canary, id, nwords, fill...}
 * with fill word i = canary + i.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastrand.h"
#include "gcrt_test.h"
#include "runtime.h"

enum {
	MaxRounds = 10000000,
	MaxNodes = 65536,
	MaxSlots = 64,
	MaxSlowUs = 100000,
	KindList = 1,
	KindTree = 2,
	KindArray = 3,
	KindMask = 7,
	NArrayTypes = 4,
};

/* Array sizes in bytes: small, medium, one page class, large (own span). */
static const size_t arraysizes[NArrayTypes] = {48, 1024, 8192, 40000};

typedef struct churnshared {
	struct gcrt_runtime *rt;
	gcrt_stress_churn *s;
	gcrt_type list, tree, arrays[NArrayTypes];
	_Atomic uintptr_t slots[MaxSlots];
	_Atomic uint64_t bad;
	_Atomic int32_t nattached;
	_Atomic uint64_t finset, finran;
	struct churner *fin; /* the finalizer thread's checker (tid -1) */
	rtlock badlock; /* guards s->error (first_bad: written by the first bad only) */
} churnshared;

typedef struct churner {
	churnshared *sh;
	int tid;
	uint64_t rng, nextid;
	uint32_t round;
	gcrt_g *g;
	uint64_t allocs, bytes, checked, rewired;
	int failed; /* an allocation failed: stop building */
} churner;

static uint64_t rnext(churner *c)
{
	return splitmix64(&c->rng);
}

static uint32_t below(churner *c, uint32_t n)
{
	return (uint32_t)(rnext(c) % n);
}

static uint64_t canary(const churnshared *sh, uint64_t id)
{
	return mix64(sh->s->seed ^ mix64(id + 0x5a17ca7a));
}

static void event(churner *c, uint32_t op, uint64_t value)
{
	gcrt_stress_churn *s = c->sh->s;
	if (c->tid < 0)
		return;
	uint32_t i = s->ring_pos[c->tid]++ % GCRT_STRESS_RING;
	s->ring[c->tid][i] = (gcrt_stress_event){op, c->round, value};
}

static void bad(churner *c, const void *obj, const char *what, uint64_t want, uint64_t got)
{
	churnshared *sh = c->sh;
	event(c, GCRT_STRESS_EV_BAD, (uintptr_t)obj);
	if (ATOMIC_XADD(sh->rt, "test.stress.bad", &sh->bad, 1) == 1) {
		char who[32] = "the finalizer thread";
		if (c->tid >= 0)
			snprintf(who, sizeof who, "thread %d round %u", c->tid, c->round);
		snprintf(sh->s->first_bad, sizeof sh->s->first_bad,
			 "%s: object %p: %s is %#llx, want %#llx", who, obj, what,
			 (unsigned long long)got, (unsigned long long)want);
	}
}

static void *alloc(struct gcrt_runtime *rt, churner *c, gcrt_type t, size_t size)
{
	void *p = NULL;
	int rc = c->sh->s->gc ? gcrt_alloc_pinned(rt, t, &p)
		 : c->g != NULL ? gcrt_g_alloc(c->g, t, &p)
				: gcrt_alloc(rt, t, &p);
	if (rc != GCRT_OK) {
		event(c, GCRT_STRESS_EV_ERROR, (uint64_t)(int64_t)rc);
		LOCK(rt, &c->sh->badlock, "test.stress.errlock");
		if (c->sh->s->error == 0)
			c->sh->s->error = rc;
		UNLOCK(rt, &c->sh->badlock, "test.stress.errunlock");
		c->failed = 1;
		return NULL;
	}
	c->allocs++;
	c->bytes += size;
	return p;
}

/* pin / unpin in gc mode; a failure is an oracle violation (the object
 * must be live and pinned as the protocol says). */
static void pin(struct gcrt_runtime *rt, churner *c, void *o, int on)
{
	if (!c->sh->s->gc || o == NULL)
		return;
	int rc = on ? gcrt_pin(rt, o) : gcrt_unpin(rt, o);
	if (rc != GCRT_OK)
		bad(c, o, on ? "gcrt_pin result" : "gcrt_unpin result", 0, (uint64_t)(int64_t)rc);
}

/* Pointer word i of o := p, through the write barrier.  In gc mode
 * through gcrt_write_ptr, which also counts the store as a mutator (the
 * world waits for it) and checks that o and p are live objects. */
static void store(struct gcrt_runtime *rt, churner *c, void *o, int i, void *p)
{
	if (!c->sh->s->gc) {
		writebarrierptr(rt, (void *_Atomic *)o + i, p);
		return;
	}
	int rc = gcrt_write_ptr(rt, o, (size_t)i, p);
	if (rc != GCRT_OK)
		bad(c, o, "gcrt_write_ptr result", 0, (uint64_t)(int64_t)rc);
}

static void stamp(churner *c, uint64_t *w, uint64_t id)
{
	w[0] = canary(c->sh, id);
	w[1] = id;
}

/* ---- building ---- */

static void *buildlist(struct gcrt_runtime *rt, churner *c, uint32_t n)
{
	void *head = NULL;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t *o = alloc(rt, c, c->sh->list, 32);
		if (o == NULL)
			return head;
		stamp(c, o + 1, c->nextid++);
		o[3] = n;
		store(rt, c, o, 0, head);
		pin(rt, c, head, 0);
		head = o;
	}
	return head;
}

static void *buildtree(struct gcrt_runtime *rt, churner *c, uint32_t depth)
{
	uint64_t *o = alloc(rt, c, c->sh->tree, 40);
	if (o == NULL)
		return NULL;
	stamp(c, o + 2, c->nextid++);
	o[4] = depth;
	for (int i = 0; i < 2 && depth > 0; i++) {
		void *child = buildtree(rt, c, depth - 1);
		if (child == NULL)
			return o;
		store(rt, c, o, i, child);
		pin(rt, c, child, 0);
	}
	return o;
}

static void *buildarray(struct gcrt_runtime *rt, churner *c, int k)
{
	size_t nwords = arraysizes[k] / 8;
	uint64_t *o = alloc(rt, c, c->sh->arrays[k], arraysizes[k]);
	if (o == NULL)
		return NULL;
	stamp(c, o, c->nextid++);
	o[2] = nwords;
	for (size_t i = 3; i < nwords; i++)
		o[i] = o[0] + i;
	return o;
}

/* A new structure, tagged with its kind (its root pinned in gc mode), or 0
 * after a failed allocation (the thread then stops). */
static uintptr_t build(struct gcrt_runtime *rt, churner *c)
{
	uint32_t maxn = c->sh->s->maxnodes;
	uint32_t pick = below(c, 8);
	void *root;
	int kind;
	if (pick < 4) {
		uint32_t n = 1 + below(c, maxn);
		root = buildlist(rt, c, n);
		kind = KindList;
		event(c, GCRT_STRESS_EV_LIST, n);
	} else if (pick < 7) {
		uint32_t d = 0;
		while ((2u << (d + 1)) - 1 <= maxn && below(c, 6) != 0)
			d++;
		root = buildtree(rt, c, d);
		kind = KindTree;
		event(c, GCRT_STRESS_EV_TREE, d);
	} else {
		int k = (int)below(c, NArrayTypes);
		root = buildarray(rt, c, k);
		kind = KindArray;
		event(c, GCRT_STRESS_EV_ARRAY, arraysizes[k]);
	}
	if (c->failed || root == NULL)
		return 0;
	return (uintptr_t)root | (uintptr_t)kind;
}

/* ---- checking ---- */

static int checkstamp(churner *c, const void *obj, const uint64_t *w)
{
	c->checked++;
	uint64_t want = canary(c->sh, w[1]);
	if (w[0] != want) {
		bad(c, obj, "canary", want, w[0]);
		return 0;
	}
	return 1;
}

static void checklist(churner *c, uint64_t *head)
{
	uint64_t n = head[3], seen = 0;
	for (uint64_t *o = head; o != NULL; o = (uint64_t *)o[0]) {
		if (!checkstamp(c, o, o + 1))
			return;
		if (o[3] != n) {
			bad(c, o, "list length", n, o[3]);
			return;
		}
		if (++seen > n) {
			bad(c, o, "list nodes", n, seen);
			return;
		}
	}
	if (seen != n)
		bad(c, head, "list nodes", n, seen);
}

static void checktree(churner *c, uint64_t *o, uint64_t depth)
{
	if (o == NULL) {
		bad(c, o, "tree child", 1, 0);
		return;
	}
	if (!checkstamp(c, o, o + 2))
		return;
	if (o[4] != depth) {
		bad(c, o, "tree depth", depth, o[4]);
		return;
	}
	if (depth == 0) {
		if (o[0] != 0 || o[1] != 0)
			bad(c, o, "leaf child", 0, o[0] | o[1]);
		return;
	}
	checktree(c, (uint64_t *)o[0], depth - 1);
	checktree(c, (uint64_t *)o[1], depth - 1);
}

static void checkarray(churner *c, uint64_t *o)
{
	if (!checkstamp(c, o, o))
		return;
	for (uint64_t i = 3; i < o[2]; i++)
		if (o[i] != o[0] + i) {
			bad(c, o + i, "array word", o[0] + i, o[i]);
			return;
		}
}

static void check(churner *c, uintptr_t tagged)
{
	uint64_t *root = (uint64_t *)(tagged & ~(uintptr_t)KindMask);
	event(c, GCRT_STRESS_EV_CHECK, tagged & KindMask);
	switch (tagged & KindMask) {
	case KindList:
		checklist(c, root);
		break;
	case KindTree:
		checktree(c, root, root[4]);
		break;
	default:
		checkarray(c, root);
		break;
	}
}

/* ---- rewiring (pointer stores through the write barrier) ---- */

/* head is pinned; so is the new head returned.  In gc mode the node
 * being turned around and the unreversed rest stay pinned.  lose_rest
 * keeps only the old head pinned until the end, so both the rest and the
 * reversed part hang off no root meanwhile.  At most length steps, in case
 * a lost node was reused. */
static uintptr_t reverse(struct gcrt_runtime *rt, churner *c, uint64_t *head)
{
	int lose = c->sh->s->lose_rest;
	uint64_t *prev = NULL, *first = head;
	for (uint64_t n = head[3]; head != NULL && n > 0; n--) {
		uint64_t *next = (uint64_t *)head[0];
		if (!lose)
			pin(rt, c, next, 1);
		store(rt, c, head, 0, prev);
		if (!lose)
			pin(rt, c, prev, 0);
		prev = head;
		head = next;
	}
	if (lose && prev != first) {
		pin(rt, c, prev, 1);
		pin(rt, c, first, 0);
	}
	return (uintptr_t)prev | KindList;
}

/* o is reachable from a pin; the subtree swapped out is pinned between
 * the two stores. */
static void mirror(struct gcrt_runtime *rt, churner *c, uint64_t *o)
{
	if (o == NULL || o[4] == 0)
		return;
	void *l = (void *)o[0], *r = (void *)o[1];
	pin(rt, c, l, 1);
	store(rt, c, o, 0, r);
	store(rt, c, o, 1, l);
	pin(rt, c, l, 0);
	mirror(rt, c, l);
	mirror(rt, c, r);
}

static uintptr_t rewire(struct gcrt_runtime *rt, churner *c, uintptr_t tagged)
{
	uint64_t *root = (uint64_t *)(tagged & ~(uintptr_t)KindMask);
	event(c, GCRT_STRESS_EV_REWIRE, tagged & KindMask);
	c->rewired++;
	if ((tagged & KindMask) == KindList)
		return reverse(rt, c, root);
	if ((tagged & KindMask) == KindTree)
		mirror(rt, c, root);
	return tagged;
}

/* Flip the canary of one object in the middle of the structure. */
static void corrupt(churner *c, uintptr_t tagged)
{
	uint64_t *o = (uint64_t *)(tagged & ~(uintptr_t)KindMask);
	int kind = (int)(tagged & KindMask);
	if (kind == KindList)
		for (uint64_t n = o[3] / 2; n > 0 && o[0] != 0; n--)
			o = (uint64_t *)o[0];
	event(c, GCRT_STRESS_EV_CORRUPT, (uintptr_t)o);
	o[kind == KindList ? 1 : kind == KindTree ? 2 : 0] ^= 1;
}

static void slow(churner *c)
{
	gcrt_stress_churn *s = c->sh->s;
	if (c->tid != s->slow_m || s->slow_us == 0)
		return;
	uint32_t us = below(c, s->slow_us + 1);
	event(c, GCRT_STRESS_EV_SLEEP, us);
	gcrt_usleep(us);
}

/* A finalizer: the structure rooted at obj must still be intact. */
static void finalize(gcrt_runtime *rt, void *obj, void *arg)
{
	churnshared *sh = arg;
	gcrt_type t;
	uintptr_t kind = KindArray;
	if (gcrt_object_of(rt, obj, NULL, &t, NULL) != GCRT_OK) {
		bad(sh->fin, obj, "finalized object", 1, 0);
	} else {
		kind = t == sh->list ? KindList : t == sh->tree ? KindTree : KindArray;
		check(sh->fin, (uintptr_t)obj | kind);
	}
	(void)ATOMIC_XADD(rt, "test.stress.finran", &sh->finran, 1);
}

/* The thread lets go of a structure: in gc mode it becomes garbage, a
 * quarter of the time with a finalizer. */
static void drop(struct gcrt_runtime *rt, churner *c, uintptr_t tagged)
{
	void *root = (void *)(tagged & ~(uintptr_t)KindMask);
	if (!c->sh->s->gc)
		return;
	if (below(c, 4) == 0) {
		int rc = gcrt_set_finalizer(rt, root, finalize, c->sh);
		if (rc != GCRT_OK)
			bad(c, root, "gcrt_set_finalizer result", 0, (uint64_t)(int64_t)rc);
		else
			(void)ATOMIC_XADD(rt, "test.stress.finset", &c->sh->finset, 1);
	}
	pin(rt, c, root, 0);
}

static void churnmain(struct gcrt_runtime *rt, void *arg)
{
	churner *c = arg;
	churnshared *sh = c->sh;
	gcrt_stress_churn *s = sh->s;
	if (s->attached && gcrt_attach(rt, &c->g) == GCRT_OK)
		(void)ATOMIC_XADD(rt, "test.stress.nattached", &sh->nattached, 1);
	for (c->round = 1; c->round <= s->rounds && !c->failed; c->round++) {
		slow(c);
		uintptr_t mine = build(rt, c);
		if (mine == 0)
			break;
		check(c, mine);
		if (s->corrupt_round == c->round && c->tid == 0)
			corrupt(c, mine);
		slow(c);
		uint32_t k = below(c, (uint32_t)s->nslots);
		event(c, GCRT_STRESS_EV_SWAP, k);
		uintptr_t got = ATOMIC_XCHG(rt, "test.stress.swap", &sh->slots[k], mine);
		if (got == 0)
			continue;
		check(c, got);
		got = rewire(rt, c, got);
		check(c, got);
		if (below(c, 2) == 0) {
			k = below(c, (uint32_t)s->nslots);
			event(c, GCRT_STRESS_EV_SWAP, k);
			got = ATOMIC_XCHG(rt, "test.stress.swapback", &sh->slots[k], got);
			if (got == 0)
				continue;
			check(c, got);
		}
		drop(rt, c, got);
	}
	if (c->g != NULL)
		gcrt_detach(c->g);
	c->g = NULL;
}

static int churncheck(const gcrt_stress_churn *s)
{
	if (s == NULL)
		return GCRT_EINVAL;
	if (s->nthreads < 1 || s->nthreads > GCRT_STRESS_MAXTHREADS || s->rounds > MaxRounds ||
	    s->maxnodes < 1 || s->maxnodes > MaxNodes || s->nslots < 1 || s->nslots > MaxSlots ||
	    s->slow_m < -1 || s->slow_m >= s->nthreads || s->slow_us > MaxSlowUs ||
	    (s->attached != 0 && s->attached != 1) || (s->gc != 0 && s->gc != 1) ||
	    (s->lose_rest != 0 && s->lose_rest != 1))
		return GCRT_ERANGE;
	return GCRT_OK;
}

static int churntypes(gcrt_runtime *rt, churnshared *sh)
{
	const uint8_t listmask = 0x1, treemask = 0x3;
	int rc = gcrt_type_new(rt, 32, &listmask, 1, &sh->list);
	if (rc == GCRT_OK)
		rc = gcrt_type_new(rt, 40, &treemask, 2, &sh->tree);
	for (int k = 0; k < NArrayTypes && rc == GCRT_OK; k++)
		rc = gcrt_type_new(rt, arraysizes[k], NULL, 0, &sh->arrays[k]);
	return rc;
}

/* Everything is garbage now: a collection queues every finalizer set,
 * and each must run once. */
static int finalizeall(gcrt_runtime *rt, churnshared *sh)
{
	int rc = gcrt_gc(rt);
	if (rc == GCRT_OK)
		rc = gcrt_finalizers_wait(rt, NULL);
	if (rc != GCRT_OK)
		return rc;
	uint64_t set = atomic_load(&sh->finset), ran = atomic_load(&sh->finran);
	if (ran != set)
		bad(sh->fin, NULL, "finalizers run", set, ran);
	return GCRT_OK;
}

/* Start the churners, join them, then check what the slots still hold. */
static int churnrun(gcrt_runtime *rt, churnshared *sh, churner *cs)
{
	gcrt_stress_churn *s = sh->s;
	int rc = rtthread_runall(rt, s->nthreads, churnmain, cs, sizeof cs[0]);
	if (rc != GCRT_OK)
		return rc;
	for (int k = 0; k < s->nslots; k++) {
		uintptr_t got = atomic_exchange(&sh->slots[k], 0);
		if (got != 0) {
			check(&cs[0], got);
			pin(rt, &cs[0], (void *)(got & ~(uintptr_t)KindMask), 0);
		}
	}
	return s->gc ? finalizeall(rt, sh) : GCRT_OK;
}

GCRT_API int gcrt_test_stress_churn(gcrt_runtime *rt, gcrt_stress_churn *s)
{
	int rc = rt_check(rt);
	if (rc == GCRT_OK)
		rc = churncheck(s);
	if (rc != GCRT_OK)
		return rc;
	churnshared *sh = calloc(1, sizeof *sh);
	churner *cs = calloc((size_t)s->nthreads, sizeof *cs);
	if (sh == NULL || cs == NULL) {
		free(sh);
		free(cs);
		return GCRT_ENOMEM;
	}
	sh->rt = rt;
	sh->s = s;
	lock_init(&sh->badlock);
	s->allocs = s->bytes = s->checked = s->rewired = s->bad = 0;
	s->finalizers_set = s->finalizers_run = 0;
	s->nattached = s->error = 0;
	s->first_bad[0] = '\0';
	memset(s->ring_pos, 0, sizeof s->ring_pos);
	memset(s->ring, 0, sizeof s->ring);
	rc = churntypes(rt, sh);
	for (int i = 0; i < s->nthreads && rc == GCRT_OK; i++)
		cs[i] = (churner){.sh = sh, .tid = i, .rng = mix64(s->seed ^ mix64((uint64_t)i + 1)),
				  .nextid = (uint64_t)(i + 1) << 40};
	churner fin = {.sh = sh, .tid = -1};
	sh->fin = &fin;
	if (rc == GCRT_OK)
		rc = churnrun(rt, sh, cs);
	s->checked = fin.checked;
	s->finalizers_set = atomic_load(&sh->finset);
	s->finalizers_run = atomic_load(&sh->finran);
	for (int i = 0; i < s->nthreads; i++) {
		s->allocs += cs[i].allocs;
		s->bytes += cs[i].bytes;
		s->checked += cs[i].checked;
		s->rewired += cs[i].rewired;
	}
	s->bad = atomic_load(&sh->bad);
	s->nattached = atomic_load(&sh->nattached);
	lock_destroy(&sh->badlock);
	free(cs);
	free(sh);
	return rc;
}
