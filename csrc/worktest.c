/* worktest.c: test hooks for lfstack, work buffers, getfull and parfor.
 *
 * Each hook checks its arguments (GCRT_EINVAL / GCRT_ERANGE without
 * touching anything), installs a throw catcher, and runs its whole scenario
 * in C on threads the runtime starts (rtthread_start), so Python only
 * passes parameters and reads back results.  Every random choice comes from
 * a splitmix64 stream seeded by the caller's seed and the thread index.
 * The oracles are the hooks' own bookkeeping (item ids counted per
 * processing, node ids counted when draining), never the runtime's
 * counters.  The hooks' own shared accesses carry "test.*" points.
 */
#include <stdlib.h>
#include <string.h>

#include "fastrand.h"
#include "gcrt_test.h"
#include "runtime.h"

enum {
	MaxTestThreads = 64,
	MaxStacks = 16,
	MaxItems = 1 << 24,
	MaxRounds = 10000000,
};

typedef struct lftestnode {
	lfnode node; /* must be first */
	uint64_t data;
	_Atomic uint32_t owner; /* thread index + 1 while popped, else 0 */
	uint32_t id;
} lftestnode;

_Static_assert(sizeof(lftestnode) == 32, "lftestnode is 32 bytes");

/* ---- helpers ---- */

typedef struct rng {
	uint64_t s;
} rng;

static rng rngfor(uint64_t seed, uint64_t stream)
{
	return (rng){mix64(seed ^ mix64(stream + 0x51ed2701))};
}

static uint64_t rnext(rng *r)
{
	return splitmix64(&r->s);
}

static uint32_t below(rng *r, uint32_t n)
{
	return (uint32_t)(rnext(r) % n);
}

/* ---- lfstack: single operations ---- */

static int lfnodes(struct gcrt_runtime *rt, int n, uintptr_t *nodes)
{
	struct workdata *w = &rt->work;
	int rc = GCRT_OK;
	LOCK(rt, &w->wblock, "test.lfnodes.lock");
	if (w->testnodes == NULL)
		w->testnodes = persistentalloc(rt, GCRT_TEST_LFNODES * sizeof(lftestnode),
					       CacheLineSize, NULL);
	if (w->ntestnodes + (uint32_t)n > GCRT_TEST_LFNODES) {
		rc = GCRT_ENOMEM;
	} else {
		for (int i = 0; i < n; i++)
			nodes[i] = (uintptr_t)&w->testnodes[w->ntestnodes + (uint32_t)i];
		w->ntestnodes += (uint32_t)n;
	}
	UNLOCK(rt, &w->wblock, "test.lfnodes.unlock");
	return rc;
}

GCRT_API int gcrt_test_lfnodes(gcrt_runtime *rt, int n, uintptr_t *nodes)
{
	int rc = rt_check_args(rt, nodes == NULL);
	if (rc != GCRT_OK)
		return rc;
	if (n < 1 || n > GCRT_TEST_LFNODES)
		return GCRT_ERANGE;
	RETURN_CAUGHT(rt, lfnodes(rt, n, nodes));
}

/* A pushed address must be a node of the pool: outside it, or inside but
 * 8-aligned off a node boundary, is "bad lfnode address"; a misaligned
 * address inside it reaches lfstackpush, whose packing check throws. */
static lfnode *testnode(struct gcrt_runtime *rt, uintptr_t node)
{
	struct workdata *w = &rt->work;
	LOCK(rt, &w->wblock, "test.lfnodes.lock");
	uintptr_t lo = (uintptr_t)w->testnodes;
	UNLOCK(rt, &w->wblock, "test.lfnodes.unlock");
	uintptr_t hi = lo + GCRT_TEST_LFNODES * sizeof(lftestnode);
	if (lo == 0 || node < lo || node >= hi)
		throwf(rt, "bad lfnode address %#lx: not in the runtime's persistent node memory",
		       (unsigned long)node);
	if ((node - lo) % 8 == 0 && (node - lo) % sizeof(lftestnode) != 0)
		throwf(rt, "bad lfnode address %#lx: not a node boundary", (unsigned long)node);
	return (lfnode *)node;
}

GCRT_API int gcrt_test_lfstack_push(gcrt_runtime *rt, uint64_t *head, uintptr_t node)
{
	int rc = rt_check_args(rt, head == NULL || (uintptr_t)head % 8 != 0);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(rt, (lfstackpush(rt, (_Atomic uint64_t *)head, testnode(rt, node)), GCRT_OK));
}

GCRT_API int gcrt_test_lfstack_pop(gcrt_runtime *rt, uint64_t *head, uintptr_t *node)
{
	int rc = rt_check_args(rt, head == NULL || (uintptr_t)head % 8 != 0 || node == NULL);
	if (rc != GCRT_OK)
		return rc;
	*node = (uintptr_t)lfstackpop(rt, (_Atomic uint64_t *)head);
	return GCRT_OK;
}

GCRT_API int gcrt_test_lfstack_pack(uintptr_t node, uint64_t cnt, uint64_t *packed,
				    uintptr_t *unpacked)
{
	if (packed == NULL || unpacked == NULL)
		return GCRT_EINVAL;
	*packed = lfstackpack((lfnode *)node, (uintptr_t)cnt);
	*unpacked = (uintptr_t)lfstackunpack(*packed);
	return GCRT_OK;
}

/* ---- lfstack: stress (Go's TestLFStackStress) ---- */

typedef struct lfstressworker {
	gcrt_lfstress *s;
	_Atomic uint64_t *heads;
	int tid;
	uint64_t pops, emptypops, pushes, owned_twice;
} lfstressworker;

static void lfstressmain(struct gcrt_runtime *rt, void *arg)
{
	lfstressworker *wk = arg;
	gcrt_lfstress *s = wk->s;
	rng r = rngfor(s->seed, (uint64_t)wk->tid + 1);
	for (uint32_t i = 0; i < s->rounds; i++) {
		lftestnode *n = (lftestnode *)lfstackpop(rt, &wk->heads[below(&r, (uint32_t)s->nstacks)]);
		if (n == NULL) {
			wk->emptypops++;
			continue;
		}
		wk->pops++;
		if (ATOMIC_XCHG(rt, "test.lfstress.own", &n->owner, (uint32_t)wk->tid + 1) != 0)
			wk->owned_twice++;
		ATOMIC_STORE(rt, "test.lfstress.disown", &n->owner, 0);
		lfstackpush(rt, &wk->heads[below(&r, (uint32_t)s->nstacks)], &n->node);
		wk->pushes++;
	}
}

static int lfstresscheck(const gcrt_lfstress *s, const uint32_t *seen)
{
	if (s == NULL || seen == NULL)
		return GCRT_EINVAL;
	if (s->nthreads < 1 || s->nthreads > MaxTestThreads || s->nstacks < 1 ||
	    s->nstacks > MaxStacks || s->nnodes < 1 || s->nnodes > GCRT_TEST_LFNODES ||
	    s->rounds > MaxRounds)
		return GCRT_ERANGE;
	return GCRT_OK;
}

/* Drain every stack, at most 2*nnodes pops in all (a corrupted stack may
 * hold a cycle), counting nodes by id. */
static void lfstressdrain(struct gcrt_runtime *rt, gcrt_lfstress *s, _Atomic uint64_t *heads,
			  lftestnode *nodes, uint32_t *seen)
{
	uint64_t budget = 2 * (uint64_t)s->nnodes;
	for (int k = 0; k < s->nstacks; k++) {
		lftestnode *n;
		while (budget > 0 && (n = (lftestnode *)lfstackpop(rt, &heads[k])) != NULL) {
			budget--;
			s->found++;
			s->sum_after += n->data;
			seen[n - nodes]++;
		}
	}
}

static int lfstress(struct gcrt_runtime *rt, gcrt_lfstress *s, uint32_t *seen)
{
	_Atomic uint64_t heads[MaxStacks] = {0};
	lfstressworker wk[MaxTestThreads];
	lftestnode *nodes = persistentalloc(rt, (size_t)s->nnodes * sizeof *nodes, CacheLineSize, NULL);
	rng r = rngfor(s->seed, 0);
	s->sum_before = s->sum_after = s->found = s->owned_twice = 0;
	for (int i = 0; i < s->nnodes; i++) {
		nodes[i].id = (uint32_t)i;
		nodes[i].data = rnext(&r) >> 40;
		s->sum_before += nodes[i].data;
		seen[i] = 0;
		lfstackpush(rt, &heads[i % s->nstacks], &nodes[i].node);
	}
	for (int t = 0; t < s->nthreads; t++)
		wk[t] = (lfstressworker){.s = s, .heads = heads, .tid = t};
	int rc = rtthread_runall(rt, s->nthreads, lfstressmain, wk, sizeof wk[0]);
	if (rc == GCRT_OK) {
		for (int t = 0; t < s->nthreads; t++) {
			s->pops[t] = wk[t].pops;
			s->emptypops[t] = wk[t].emptypops;
			s->pushes[t] = wk[t].pushes;
			s->owned_twice += wk[t].owned_twice;
		}
		lfstressdrain(rt, s, heads, nodes, seen);
	}
	return rc;
}

GCRT_API int gcrt_test_lfstack_stress(gcrt_runtime *rt, gcrt_lfstress *s, uint32_t *seen)
{
	int rc = rt_check(rt);
	if (rc == GCRT_OK)
		rc = lfstresscheck(s, seen);
	if (rc != GCRT_OK)
		return rc;
	RETURN_CAUGHT(rt, lfstress(rt, s, seen));
}

/* ---- work buffers ---- */

GCRT_API int gcrt_test_workbuf_layout(size_t *size, size_t *nobjs)
{
	if (size == NULL || nobjs == NULL)
		return GCRT_EINVAL;
	*size = sizeof(workbuf);
	*nobjs = WorkbufObjs;
	return GCRT_OK;
}

/* Pop every buffer off the list at head, call visit on it, empty it and
 * keep it on *hold.  Returns the number of buffers. */
typedef void (*wbvisit)(void *ctx, workbuf *b, int list);

static uint64_t drainlist(struct gcrt_runtime *rt, _Atomic uint64_t *head, int list, wbvisit visit,
			  void *ctx, _Atomic uint64_t *hold)
{
	uint64_t n = 0;
	workbuf *b;
	while ((b = (workbuf *)lfstackpop(rt, head)) != NULL) {
		visit(ctx, b, list);
		b->nobj = 0;
		lfstackpush(rt, hold, &b->node);
		n++;
	}
	return n;
}

/* Drain the three lists through visit, then put every buffer on empty. */
static void drainall(struct gcrt_runtime *rt, wbvisit visit, void *ctx)
{
	struct workdata *w = &rt->work;
	_Atomic uint64_t hold = 0;
	drainlist(rt, &w->empty, GCRT_WB_EMPTY, visit, ctx, &hold);
	drainlist(rt, &w->partial, GCRT_WB_PARTIAL, visit, ctx, &hold);
	drainlist(rt, &w->full, GCRT_WB_FULL, visit, ctx, &hold);
	workbuf *b;
	while ((b = (workbuf *)lfstackpop(rt, &hold)) != NULL)
		putempty(rt, b);
}

typedef struct putctx {
	gcrt_wbput *p;
	workbuf *b;
} putctx;

static uint64_t entrysum(const workbuf *b)
{
	uint64_t sum = 0;
	for (uintptr_t i = 0; i < b->nobj; i++)
		sum += b->obj[i];
	return sum;
}

static void putvisit(void *ctx, workbuf *b, int list)
{
	putctx *c = ctx;
	if (b == c->b) {
		c->p->list = list;
		c->p->listnobj = (int32_t)b->nobj;
		c->p->listsum = entrysum(b);
	} else if (list != GCRT_WB_EMPTY) {
		c->p->others++;
	}
}

static int workbufput(struct gcrt_runtime *rt, gcrt_wbput *p)
{
	p->list = GCRT_WB_NONE;
	p->listnobj = p->kept = 0;
	p->listsum = p->keptsum = p->keptmin = p->others = 0;
	workbuf *b = getempty(rt, NULL), *kept = NULL;
	for (int32_t i = 0; i < p->nobj; i++)
		b->obj[i] = (uintptr_t)i + 1;
	b->nobj = (uintptr_t)p->nobj;
	switch (p->op) {
	case GCRT_WB_PUTEMPTY:
		putempty(rt, b);
		break;
	case GCRT_WB_PUTFULL:
		putfull(rt, b);
		break;
	case GCRT_WB_PUTPARTIAL:
		putpartial(rt, b);
		break;
	case GCRT_WB_GCWORKBUFFREE:
		gcworkbuffree(rt, b);
		break;
	default:
		kept = handoff(rt, b);
		p->kept = (int32_t)kept->nobj;
		p->keptsum = entrysum(kept);
		p->keptmin = kept->nobj > 0 ? kept->obj[0] : 0;
		kept->nobj = 0;
		putempty(rt, kept);
		break;
	}
	putctx c = {p, b};
	drainall(rt, putvisit, &c);
	return GCRT_OK;
}

GCRT_API int gcrt_test_workbuf_put(gcrt_runtime *rt, gcrt_wbput *p)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (p == NULL || p->op < GCRT_WB_PUTEMPTY || p->op > GCRT_WB_HANDOFF)
		return GCRT_EINVAL;
	if (p->nobj < 0 || p->nobj > (int32_t)WorkbufObjs)
		return GCRT_ERANGE;
	RETURN_CAUGHT(rt, workbufput(rt, p));
}

/* ---- work buffers: producers and consumers ---- */

typedef struct wbshared {
	gcrt_wbstress *s;
	_Atomic uint8_t *counts; /* per item id: times consumed */
	uint64_t perthread;      /* ids [tid*perthread, (tid+1)*perthread) */
} wbshared;

typedef struct wbworker {
	wbshared *sh;
	int tid;
	uint64_t produced, consumed, ops;
} wbworker;

static void wbroute(struct gcrt_runtime *rt, rng *r, workbuf *b)
{
	switch (below(r, 3)) {
	case 0:
		putpartial(rt, b);
		break;
	case 1:
		gcworkbuffree(rt, b);
		break;
	default:
		if (b->nobj == 0)
			putempty(rt, b);
		else
			putfull(rt, b);
		break;
	}
}

static void wbconsume(struct gcrt_runtime *rt, wbworker *wk, workbuf *b, uint32_t m)
{
	while (m-- > 0 && b->nobj > 0) {
		uintptr_t id = b->obj[--b->nobj];
		(void)ATOMIC_XADD(rt, "test.wbstress.consume", &wk->sh->counts[id], 1);
		wk->consumed++;
	}
}

static void wbstressmain(struct gcrt_runtime *rt, void *arg)
{
	wbworker *wk = arg;
	gcrt_wbstress *s = wk->sh->s;
	rng r = rngfor(s->seed, (uint64_t)wk->tid + 1);
	uint64_t next = (uint64_t)wk->tid * wk->sh->perthread, limit = next + wk->sh->perthread;
	for (uint32_t round = 0; round < s->rounds; round++, wk->ops++) {
		uint32_t m = 1 + below(&r, s->maxbatch);
		if (below(&r, 2) == 0) {
			workbuf *b = getpartialorempty(rt);
			for (uint32_t j = 0; j < m && next < limit; j++) {
				if (b->nobj == WorkbufObjs)
					b = getempty(rt, b);
				b->obj[b->nobj++] = next++;
				wk->produced++;
			}
			wbroute(rt, &r, b);
			continue;
		}
		workbuf *b = trygetfull(rt);
		if (b == NULL)
			continue;
		if (b->nobj == 0)
			throw(rt, "trygetfull: empty buffer on full or partial");
		wbconsume(rt, wk, b, m);
		if (b->nobj > 4 && below(&r, 4) == 0) {
			workbuf *b1 = handoff(rt, b);
			wbroute(rt, &r, b1);
		} else {
			wbroute(rt, &r, b);
		}
	}
}

typedef struct wbdrain {
	struct gcrt_runtime *rt;
	gcrt_wbstress *s;
	_Atomic uint8_t *counts;
	uint64_t nids; /* ids are below this */
} wbdrain;

static void wbdrainvisit(void *ctx, workbuf *b, int list)
{
	wbdrain *d = ctx;
	gcrt_wbstress *s = d->s;
	switch (list) {
	case GCRT_WB_EMPTY:
		s->on_empty++;
		s->bad_empty += b->nobj != 0;
		break;
	case GCRT_WB_PARTIAL:
		s->on_partial++;
		s->bad_partial += b->nobj == 0 || b->nobj >= WorkbufObjs;
		break;
	default:
		s->on_full++;
		s->bad_full += b->nobj == 0 || b->nobj > WorkbufObjs;
		break;
	}
	for (uintptr_t i = 0; i < b->nobj && i < WorkbufObjs; i++) {
		if (b->obj[i] >= d->nids)
			throw(d->rt, "workbuf stress: entry is not an item id");
		atomic_fetch_add(&d->counts[b->obj[i]], 1);
		s->consumed++;
	}
}

GCRT_API int gcrt_test_workbuf_stress(gcrt_runtime *rt, gcrt_wbstress *s)
{
	int rc = rt_check_args(rt, s == NULL);
	if (rc != GCRT_OK)
		return rc;
	if (s->nthreads < 1 || s->nthreads > MaxTestThreads || s->maxbatch < 1 ||
	    s->maxbatch > 2000 || (uint64_t)s->nthreads * s->rounds * s->maxbatch > MaxItems)
		return GCRT_ERANGE;
	uint64_t perthread = (uint64_t)s->rounds * s->maxbatch;
	wbshared sh = {s, calloc((size_t)s->nthreads * perthread + 1, 1), perthread};
	if (sh.counts == NULL)
		return GCRT_ENOMEM;
	wbworker wk[MaxTestThreads];
	throwcatch tc;
	if (CATCH(rt, &tc)) {
		free(sh.counts);
		return GCRT_EFAILED;
	}
	for (int t = 0; t < s->nthreads; t++)
		wk[t] = (wbworker){.sh = &sh, .tid = t};
	rc = rtthread_runall(rt, s->nthreads, wbstressmain, wk, sizeof wk[0]);
	if (rc == GCRT_OK) {
		s->produced = s->consumed = s->dup = s->lost = 0;
		s->on_empty = s->on_partial = s->on_full = 0;
		s->bad_empty = s->bad_partial = s->bad_full = 0;
		for (int t = 0; t < s->nthreads; t++) {
			s->produced += wk[t].produced;
			s->consumed += wk[t].consumed;
			s->ops[t] = wk[t].ops;
		}
		wbdrain d = {rt, s, sh.counts, (uint64_t)s->nthreads * perthread};
		drainall(rt, wbdrainvisit, &d);
		for (int t = 0; t < s->nthreads; t++) {
			uint64_t base = (uint64_t)t * perthread;
			for (uint64_t id = base; id < base + wk[t].produced; id++) {
				uint8_t c = atomic_load(&sh.counts[id]);
				s->lost += c == 0;
				s->dup += c > 1;
			}
		}
		s->nbuf = atomic_load(&rt->work.nbuf);
	}
	uncatch(&tc);
	free(sh.counts);
	return rc;
}

/* ---- getfull: a barrier round ---- */

typedef struct roundshared {
	gcrt_getfull_round *r;
	_Atomic uint8_t *counts;    /* per item id: times processed */
	_Atomic uint64_t nextid;    /* next item id to make */
	_Atomic uint64_t processed; /* by all markers */
	uint32_t maxfan;
} roundshared;

typedef struct marker {
	roundshared *sh;
	int idx;
	workbuf *initial; /* owned by the marker from its start */
	uint64_t processed;
	uint64_t partial_taken;
} marker;

/* Process one item: count it, make up to maxfan new ones into *b. */
static void process(struct gcrt_runtime *rt, marker *m, rng *r, uintptr_t id, workbuf **b)
{
	roundshared *sh = m->sh;
	(void)ATOMIC_XADD(rt, "test.round.count", &sh->counts[id], 1);
	(void)ATOMIC_XADD(rt, "test.round.processed", &sh->processed, 1);
	m->processed++;
	uint32_t n = sh->maxfan > 0 ? below(r, sh->maxfan + 1) : 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t nid = ATOMIC_XADD(rt, "test.round.nextid", &sh->nextid, 1) - 1;
		if (nid >= sh->r->budget)
			return;
		if ((*b)->nobj == WorkbufObjs)
			*b = getempty(rt, *b);
		(*b)->obj[(*b)->nobj++] = nid;
	}
}

/* scanblock's drain loop (keepworking): take work with getfull until the
 * barrier says everything is done. */
static void drain(struct gcrt_runtime *rt, marker *m, rng *r, workbuf *b)
{
	struct workdata *w = &rt->work;
	for (;;) {
		if (b == NULL || b->nobj == 0) {
			b = getfull(rt, b);
			if (b == NULL)
				return;
			if (b->nobj == 0)
				throw(rt, "runtime:scanblock getfull returns empty buffer");
		}
		if (ATOMIC_LOAD(rt, "test.round.nwait", &w->nwait) > 0 && b->nobj > 4 &&
		    lfstackempty(rt, &w->full))
			b = handoff(rt, b);
		uintptr_t id = b->obj[--b->nobj];
		process(rt, m, r, id, &b);
		if (below(r, 8) == 0 && b->nobj > 0) {
			putpartial(rt, b);
			b = getpartialorempty(rt);
		}
	}
}

/* Wait (at most 10 s) until the nproc-1 other markers wait in getfull. */
static void awaitwaiters(struct gcrt_runtime *rt, uint32_t nproc)
{
	int64_t deadline = rt_nanotime(rt) + 10ll * 1000 * 1000 * 1000;
	while (ATOMIC_LOAD(rt, "test.round.await_waiters", &rt->work.nwait) < nproc - 1 &&
	       rt_nanotime(rt) < deadline) {
		SCHED_SPIN(rt, "test.round.await_waiters.spin");
		osyield();
	}
}

/* Marker 0 of the partial-only round: wait until every other marker waits
 * in getfull, put the buffer on partial, and hold back for hold_ms (or
 * until a waiter has processed it all) before draining. */
static workbuf *offerpartial(struct gcrt_runtime *rt, marker *m, workbuf *b)
{
	roundshared *sh = m->sh;
	awaitwaiters(rt, (uint32_t)sh->r->nproc);
	uint64_t items = b->nobj;
	putpartial(rt, b);
	int64_t deadline = rt_nanotime(rt) + (int64_t)sh->r->hold_ms * 1000 * 1000;
	while (ATOMIC_LOAD(rt, "test.round.await_taken", &sh->processed) < items &&
	       rt_nanotime(rt) < deadline) {
		SCHED_SPIN(rt, "test.round.await_taken.spin");
		rt_usleep(rt, 50);
	}
	m->partial_taken = ATOMIC_LOAD(rt, "test.round.await_taken", &sh->processed) >= items;
	return NULL;
}

/* Marker 0 of the misuse round: once the others wait in getfull, put its
 * non-empty buffer on the empty list, which throws. */
static void misuse(struct gcrt_runtime *rt, marker *m, workbuf *b)
{
	awaitwaiters(rt, (uint32_t)m->sh->r->nproc);
	putempty(rt, b);
}

static void markermain(struct gcrt_runtime *rt, void *arg)
{
	marker *m = arg;
	gcrt_getfull_round *rd = m->sh->r;
	rng r = rngfor(rd->seed, (uint64_t)m->idx + 1);
	workbuf *b = m->initial;
	if (rd->scenario == GCRT_ROUND_PARTIAL_ONLY && m->idx == 0)
		b = offerpartial(rt, m, b);
	if (rd->scenario == GCRT_ROUND_MISUSE && m->idx == 0)
		misuse(rt, m, b);
	drain(rt, m, &r, b);
	uint32_t nproc = ATOMIC_LOAD(rt, "test.round.nproc", &rt->work.nproc);
	if (ATOMIC_XADD(rt, "test.round.ndone", &rt->work.ndone, 1) == nproc)
		notewakeup(rt, &rt->work.alldone);
}

static int roundcheck(const gcrt_getfull_round *rd)
{
	if (rd == NULL)
		return GCRT_EINVAL;
	if (rd->scenario != GCRT_ROUND_RANDOM && rd->scenario != GCRT_ROUND_PARTIAL_ONLY &&
	    rd->scenario != GCRT_ROUND_MISUSE)
		return GCRT_EINVAL;
	if (rd->budget > MaxItems || rd->items < 1 || rd->items > rd->budget || rd->maxfan > 8 ||
	    rd->hold_ms > 10000)
		return GCRT_ERANGE;
	if (rd->scenario != GCRT_ROUND_RANDOM &&
	    (rd->nproc < 2 || rd->items >= WorkbufObjs || rd->maxfan != 0))
		return GCRT_ERANGE;
	return GCRT_OK;
}

/* Give marker i its share of the items 0..items-1 (all to marker 0 in the
 * partial-only and misuse rounds); shares over one buffer overflow to full. */
static void dealitems(struct gcrt_runtime *rt, gcrt_getfull_round *rd, marker *mk)
{
	uint32_t nproc = (uint32_t)rd->nproc;
	for (uint32_t i = 0; i < nproc; i++) {
		uint64_t lo = (uint64_t)rd->items * i / nproc, hi = (uint64_t)rd->items * (i + 1) / nproc;
		if (rd->scenario != GCRT_ROUND_RANDOM) {
			lo = i == 0 ? 0 : rd->items;
			hi = i == 0 ? rd->items : rd->items;
		}
		workbuf *b = NULL;
		for (uint64_t id = lo; id < hi; id++) {
			if (b == NULL || b->nobj == WorkbufObjs)
				b = getempty(rt, b);
			b->obj[b->nobj++] = id;
		}
		mk[i].initial = b;
	}
}

static void roundresults(struct gcrt_runtime *rt, gcrt_getfull_round *rd, roundshared *sh,
			 marker *mk, uint64_t nhandoff0)
{
	struct workdata *w = &rt->work;
	uint64_t gen = atomic_load(&sh->nextid);
	rd->generated = gen < rd->budget ? gen : rd->budget;
	rd->processed = rd->dup = rd->lost = rd->partial_taken = 0;
	for (int i = 0; i < rd->nproc; i++) {
		rd->per_marker[i] = mk[i].processed;
		rd->processed += mk[i].processed;
		rd->partial_taken |= mk[i].partial_taken;
	}
	for (uint64_t id = 0; id < rd->generated; id++) {
		uint8_t c = atomic_load(&sh->counts[id]);
		rd->lost += c == 0;
		rd->dup += c > 1;
	}
	rd->left_full = lfstacklen(atomic_load(&w->full), 1000000);
	rd->left_partial = lfstacklen(atomic_load(&w->partial), 1000000);
	rd->nwait = atomic_load(&w->nwait);
	rd->ndone = atomic_load(&w->ndone);
	rd->nhandoff = atomic_load(&w->nhandoff) - nhandoff0;
}

GCRT_API int gcrt_test_getfull_round(gcrt_runtime *rt, gcrt_getfull_round *rd)
{
	int rc = rt_check(rt);
	if (rc == GCRT_OK)
		rc = roundcheck(rd);
	if (rc != GCRT_OK)
		return rc;
	roundshared sh = {rd, calloc((size_t)rd->budget + 1, 1), rd->items, 0, rd->maxfan};
	if (sh.counts == NULL)
		return GCRT_ENOMEM;
	marker mk[MaxGcproc];
	throwcatch tc;
	if (CATCH(rt, &tc)) {
		free(sh.counts);
		return GCRT_EFAILED;
	}
	workbegin(rt, rd->nproc < 0 ? 0 : (uint32_t)rd->nproc);
	uint64_t nhandoff0 = atomic_load(&rt->work.nhandoff);
	for (int i = 0; i < rd->nproc; i++)
		mk[i] = (marker){.sh = &sh, .idx = i};
	dealitems(rt, rd, mk);
	rc = rtthread_runall(rt, rd->nproc, markermain, mk, sizeof mk[0]);
	if (rc == GCRT_OK) {
		roundresults(rt, rd, &sh, mk, nhandoff0);
		workcheckempty(rt);
	}
	uncatch(&tc);
	free(sh.counts);
	return rc;
}

/* ---- parfor ---- */

/* One parfor run at a time holds rt->work.markfor. */
static bool markforacquire(struct gcrt_runtime *rt)
{
	while (!ATOMIC_CAS32(rt, "test.parfor.acquire", &rt->work.markfor_busy, 0, 1))
		if (ATOMIC_LOAD(rt, "test.parfor.busy", &rt->work.markfor_busy) != 0)
			return false;
	return true;
}

static void markforrelease(struct gcrt_runtime *rt)
{
	ATOMIC_STORE(rt, "test.parfor.release", &rt->work.markfor_busy, 0);
}

static void nobody(parfor *desc, uint32_t i)
{
	(void)desc;
	(void)i;
}

/* Set up a parfor with markfor held, report the ranges, release it. */
static int pfsetup(struct gcrt_runtime *rt, uint32_t nthr, uint32_t n, uint64_t *ranges)
{
	parfor *desc = rt->work.markfor;
	parforsetup(desc, nthr, n, NULL, true, nobody);
	for (uint32_t i = 0; i < nthr; i++)
		ranges[i] = ATOMIC_LOAD(rt, "test.parfor.ranges", &desc->thr[i].pos);
	markforrelease(rt);
	return GCRT_OK;
}

GCRT_API int gcrt_test_parforsetup(gcrt_runtime *rt, uint32_t nthr, uint32_t n, uint64_t *ranges)
{
	int rc = rt_check_args(rt, ranges == NULL || nthr < 1 || nthr > MaxGcproc);
	if (rc != GCRT_OK)
		return rc;
	if (n > MaxItems)
		return GCRT_ERANGE;
	if (!markforacquire(rt))
		return GCRT_ESTATE;
	RETURN_CAUGHT(rt, pfsetup(rt, nthr, n, ranges));
}

typedef struct pfctx {
	_Atomic uint32_t *counts;
	uint32_t slowend; /* iterations below it are thread 0's initial range */
	uint32_t slow_us;
} pfctx;

static void pfbody(parfor *desc, uint32_t i)
{
	pfctx *c = desc->ctx;
	(void)ATOMIC_XADD(desc->rt, "test.parfor.body", &c->counts[i], 1);
	if (i < c->slowend && c->slow_us > 0)
		rt_usleep(desc->rt, c->slow_us);
}

typedef struct pfworker {
	parfor *desc;
} pfworker;

static void pfmain(struct gcrt_runtime *rt, void *arg)
{
	(void)rt;
	parfordo(((pfworker *)arg)->desc);
}

GCRT_API int gcrt_test_parfor_run(gcrt_runtime *rt, gcrt_parfor_run *r, uint32_t *counts)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (r == NULL || counts == NULL || r->nthr < 1 || r->nthr > MaxGcproc)
		return GCRT_EINVAL;
	if (r->n > MaxItems || r->slow_us > 10000)
		return GCRT_ERANGE;
	pfctx c = {calloc((size_t)r->n + 1, sizeof(uint32_t)), r->n / r->nthr, r->slow_us};
	if (c.counts == NULL)
		return GCRT_ENOMEM;
	if (!markforacquire(rt)) {
		free(c.counts);
		return GCRT_ESTATE;
	}
	pfworker wk[MaxGcproc];
	throwcatch tc;
	if (CATCH(rt, &tc)) {
		free(c.counts);
		return GCRT_EFAILED;
	}
	parfor *desc = rt->work.markfor;
	parforsetup(desc, r->nthr, r->n, &c, r->wait != 0, pfbody);
	desc->seed = mix64(r->seed);
	for (uint32_t i = 0; i < r->nthr; i++) {
		r->ranges[i] = ATOMIC_LOAD(rt, "test.parfor.ranges", &desc->thr[i].pos);
		wk[i].desc = desc;
	}
	rc = rtthread_runall(rt, (int)r->nthr, pfmain, wk, sizeof wk[0]);
	if (rc == GCRT_OK) {
		for (uint32_t i = 0; i < r->n; i++)
			counts[i] = atomic_load(&c.counts[i]);
		r->nsteal = atomic_load(&desc->nsteal);
		r->nstealcnt = atomic_load(&desc->nstealcnt);
		r->nprocyield = atomic_load(&desc->nprocyield);
		r->nosyield = atomic_load(&desc->nosyield);
		r->nsleep = atomic_load(&desc->nsleep);
	}
	uncatch(&tc);
	free(c.counts);
	markforrelease(rt);
	return rc;
}
