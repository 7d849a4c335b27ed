/* schedwork.c: controlled scenarios over the work lists (lfstack.c,
 * mgcwork.c) and root marking's parfor (parfor.c), registered with SCHED_SCENARIO (schedctl.h).
 *
 *   lfstack  K nodes start on one stack; every M repeatedly pops two nodes
 *            and pushes them back, first popped first (so the node under
 *            the first one is not back yet when the first is).  An M owns what it popped: popping a
 *            node that another M owns is a throw, and at the end every node
 *            must be on the stack exactly once (conservation).  Mutant
 *            "lf_aba" (M_LF_ABA) packs heads without the push counter, so
 *            a stale pop CAS succeeds after pop A, pop B, push A; mutant
 *            "lf_next_after_cas" (M_LF_NEXT_AFTER_CAS) links a pushed node
 *            only after the CAS published it, so a popper can read its
 *            stale next.
 *   getfull  n_ms markers drain a tree of items through the work lists:
 *            marker 0 starts with the root items in a buffer; processing
 *            an item may create two children; after each item a marker
 *            puts its buffer back (putpartial) and asks getfull for work,
 *            so buffers travel through full and partial and markers wait
 *            in the barrier.  Oracles: a marker that gets NULL finds no
 *            item outstanding (made and not processed: early termination
 *            is a throw); every item processed exactly once; full and
 *            partial empty.  Mutants: "getfull_partial" (M_GETFULL_PARTIAL,
 *            the seed's wait loop watching only full: harmless here, see
 *            rootscan); "getfull_order" (M_GETFULL_ORDER: a waiter takes a
 *            buffer before uncounting itself, so another sees nwait ==
 *            nproc and ends the mark early); "lf_free_node"
 *            (M_LF_FREE_NODE: empty buffers are freed and poisoned, so a
 *            popper that read one as head reads its next after the free).
 *   rootscan M0 scans roots while M1..n-1 mark: all n are the work.nproc
 *            markers, but M0 starts outside the getfull barrier.  It puts
 *            the only work (items 0..K-1 in one buffer) on partial, as root
 *            scanning leaves its buffers, and sleeps on a note until item 0
 *            has been processed; only then does it drain with the others.
 *            So the barrier cannot end before the work exists, and the
 *            work must be taken by a marker already waiting in getfull.
 *            Oracle: every item processed exactly once, lists empty.
 *            Mutant "getfull_partial" (M_GETFULL_PARTIAL): once the markers
 *            wait before the work shows up, they never look at partial and
 *            M0 is never woken: a livelock (every marker spins, M0 blocked).
 *   parfor   n_ms threads run one parfor over N iterations (parfor.c):
 *            each claims from its own range and, once it is empty, steals
 *            half of a victim's, with the victim choice seeded by a
 *            parameter.  Oracle: every iteration ran exactly once.
 *            Mutant "parfor_blind_steal" (M_PARFOR_BLIND_STEAL): a thief
 *            stores the victim's shrunk range instead of CASing it, undoing
 *            a claim made in between: that iteration runs twice.
 * Every mutant here is a runtime mutant (mutants.h), switched on by the run
 * harness before setup.  Values passed to points are node and item
 * indices, never addresses.
 */
#include <stdio.h>
#include <string.h>

#include "schedctl.h"

enum { MaxLfNodes = 64, MaxItems = 256 };

static const char *const lfmutants[] = {"lf_aba", "lf_next_after_cas", NULL};
static const char *const gfmutants[] = {"getfull_partial", "lf_free_node", "getfull_order", NULL};

/* ---- lfstack ---- */

struct lfctx {
	_Atomic uint64_t head;
	lfnode *nodes; /* K contiguous nodes, persistentalloc'd */
	_Atomic uint32_t owner[MaxLfNodes]; /* 1 + the M holding node i, or 0 */
	int k, rounds;
};

static int lf_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct lfctx *x = vctx;
	x->k = p->p[0] != 0 ? (int)p->p[0] : 3;
	x->rounds = p->p[1] != 0 ? (int)p->p[1] : 2;
	if (x->k < 2 || x->k > MaxLfNodes || x->rounds < 1 || x->rounds > 1000)
		return GCRT_ERANGE;
	x->nodes = persistentalloc(rt, (size_t)x->k * sizeof(lfnode), 16, NULL);
	for (int i = x->k - 1; i >= 0; i--)
		lfstackpush(rt, &x->head, &x->nodes[i]);
	return GCRT_OK;
}

static int lfindex(struct lfctx *x, lfnode *n)
{
	return (int)(n - x->nodes);
}

static void lf_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct lfctx *x = vctx;
	for (int r = 0; r < x->rounds; r++) {
		lfnode *held[2];
		int nheld = 0;
		for (int i = 0; i < 2; i++) {
			lfnode *n = lfstackpop(rt, &x->head);
			if (n == NULL)
				continue;
			int idx = lfindex(x, n);
			if (idx < 0 || idx >= x->k)
				throwf(rt, "lfstack: pop returned a foreign node");
			SCHED_NOTE(rt, "lfscn.popped", idx);
			uint32_t prev = atomic_exchange(&x->owner[idx], (uint32_t)m + 1);
			if (prev != 0)
				throwf(rt, "lfstack: M%d popped node#%d, which M%d holds", m, idx,
				       (int)prev - 1);
			held[nheld++] = n;
		}
		for (int i = 0; i < nheld; i++) {
			lfnode *n = held[i];
			int idx = lfindex(x, n);
			atomic_store(&x->owner[idx], 0);
			SCHED_NOTE(rt, "lfscn.pushing", idx);
			lfstackpush(rt, &x->head, n);
		}
	}
}

static const char *lf_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t len)
{
	(void)rt;
	struct lfctx *x = vctx;
	int seen[MaxLfNodes] = {0}, total = 0;
	for (lfnode *n = lfstackunpack(atomic_load(&x->head)); n != NULL && total <= x->k;
	     n = lfstackunpack(atomic_load(&n->next)), total++) {
		int idx = lfindex(x, n);
		if (idx < 0 || idx >= x->k)
			return checkfail(buf, len, "lfstack: a foreign node on the stack");
		if (seen[idx]++)
			return checkfail(buf, len,
					 "lfstack: node#%d twice on the stack (a cycle)", idx);
	}
	if (total == x->k)
		return NULL;
	for (int i = 0; i < x->k; i++)
		if (!seen[i])
			return checkfail(buf, len,
					 "lfstack: node#%d lost: %d of %d nodes on the stack", i,
					 total, x->k);
	return NULL;
}

SCHED_SCENARIO_DEF(lfstack, 1, 4, struct lfctx, lfmutants,
		   lf_setup, lf_body, lf_check, NULL,
		   "Ms pop two nodes and push them back; nodes are conserved (params: nodes, rounds)");

/* ---- getfull ---- */

struct gfctx {
	int nitems, roots, n;
	workbuf *first;                  /* marker 0's starting buffer */
	_Atomic uint32_t done[MaxItems]; /* times item i was processed */
	_Atomic uint32_t nnull;          /* markers that got NULL from getfull */
	_Atomic uint32_t outstanding;    /* items made and not yet processed */
};

static int gf_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct gfctx *x = vctx;
	x->nitems = p->p[0] != 0 ? (int)p->p[0] : 7;
	x->roots = p->p[1] != 0 ? (int)p->p[1] : 1;
	if (x->nitems < 1 || x->nitems > MaxItems || x->roots < 1 || x->roots > x->nitems)
		return GCRT_ERANGE;
	x->n = p->n_ms;
	atomic_store(&x->outstanding, (uint32_t)x->roots);
	workbegin(rt, (uint32_t)p->n_ms);
	x->first = getempty(rt, NULL);
	for (int i = 0; i < x->roots; i++)
		x->first->obj[x->first->nobj++] = (uintptr_t)i;
	return GCRT_OK;
}

static void gf_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct gfctx *x = vctx;
	workbuf *b = m == 0 ? x->first : getfull(rt, NULL);
	while (b != NULL) {
		uintptr_t item = b->obj[--b->nobj];
		SCHED_NOTE(rt, "gfscn.item", item);
		atomic_fetch_add(&x->done[item], 1);
		/* Items form a binary tree: item i has children 2i+1 and 2i+2. */
		for (uintptr_t c = 2 * item + 1; c <= 2 * item + 2; c++)
			if (c >= (uintptr_t)x->roots && c < (uintptr_t)x->nitems) {
				b->obj[b->nobj++] = c;
				atomic_fetch_add(&x->outstanding, 1);
			}
		atomic_fetch_sub(&x->outstanding, 1);
		if (b->nobj > 0) {
			putpartial(rt, b);
			b = NULL;
		}
		b = getfull(rt, b);
	}
	/* NULL ends the mark: nothing may be left, on a list or in a hand. */
	uint32_t left = atomic_load(&x->outstanding);
	if (left != 0)
		throwf(rt, "getfull: M%d got nil with %u items outstanding (early termination)", m,
		       left);
	atomic_fetch_add(&x->nnull, 1);
}

static const char *gf_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t len)
{
	struct gfctx *x = vctx;
	for (int i = 0; i < x->nitems; i++) {
		uint32_t d = atomic_load(&x->done[i]);
		if (d != 1)
			return checkfail(buf, len, "getfull: item %d processed %u times", i, d);
	}
	if (!lfstackempty(rt, &rt->work.full) || !lfstackempty(rt, &rt->work.partial))
		return checkfail(buf, len, "getfull: work left on %s after every marker returned",
				 lfstackempty(rt, &rt->work.full) ? "partial" : "full");
	return NULL;
}

SCHED_SCENARIO_DEF(getfull, 2, 4, struct gfctx, gfmutants,
		   gf_setup, gf_body, gf_check, NULL,
		   "markers drain a tree of items through the work lists (params: items, roots)");

/* ---- rootscan ---- */

struct rsctx {
	int nitems;
	note consumed;                   /* woken by whoever processes item 0 */
	_Atomic uint32_t done[MaxItems]; /* times item i was processed */
};

static int rs_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct rsctx *x = vctx;
	x->nitems = p->p[0] != 0 ? (int)p->p[0] : 2;
	if (x->nitems < 1 || x->nitems > MaxItems)
		return GCRT_ERANGE;
	note_init(&x->consumed);
	noteclear(&x->consumed);
	workbegin(rt, (uint32_t)p->n_ms);
	return GCRT_OK;
}

/* Take items one at a time, giving the rest of a buffer back to partial
 * after each, until the barrier ends. */
static void rs_drain(struct gcrt_runtime *rt, struct rsctx *x)
{
	workbuf *b = getfull(rt, NULL);
	while (b != NULL) {
		uintptr_t item = b->obj[--b->nobj];
		SCHED_NOTE(rt, "rsscn.item", item);
		atomic_fetch_add(&x->done[item], 1);
		if (item == 0)
			notewakeup(rt, &x->consumed);
		if (b->nobj > 0) {
			putpartial(rt, b);
			b = NULL;
		}
		b = getfull(rt, b);
	}
}

static void rs_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	struct rsctx *x = vctx;
	if (m == 0) {
		workbuf *b = getempty(rt, NULL);
		for (int i = 0; i < x->nitems; i++)
			b->obj[b->nobj++] = (uintptr_t)i;
		putpartial(rt, b);
		notesleep(rt, &x->consumed);
	}
	rs_drain(rt, x);
}

static const char *rs_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t len)
{
	struct rsctx *x = vctx;
	for (int i = 0; i < x->nitems; i++) {
		uint32_t d = atomic_load(&x->done[i]);
		if (d != 1)
			return checkfail(buf, len, "rootscan: item %d processed %u times", i, d);
	}
	if (!lfstackempty(rt, &rt->work.full) || !lfstackempty(rt, &rt->work.partial))
		return checkfail(buf, len, "rootscan: work left after every marker returned");
	return NULL;
}

static void rs_teardown(struct gcrt_runtime *rt, void *vctx)
{
	(void)rt;
	note_destroy(&((struct rsctx *)vctx)->consumed);
}

SCHED_SCENARIO_DEF(rootscan, 2, 4, struct rsctx, SCENARIO_MUTANTS("getfull_partial"),
		   rs_setup, rs_body, rs_check, rs_teardown,
		   "M0 leaves the only work on partial and waits until it is taken; the others "
		   "wait in getfull (params: items)");

/* ---- parfor ---- */

struct pfctx {
	parfor *desc;
	uint32_t n;
	_Atomic uint32_t ran[MaxItems]; /* times iteration i ran */
};

static void pf_iter(parfor *desc, uint32_t i)
{
	struct pfctx *x = desc->ctx;
	SCHED_NOTE(desc->rt, "pfscn.iter", i);
	atomic_fetch_add(&x->ran[i], 1);
}

static int pf_setup(struct gcrt_runtime *rt, void *vctx, const schedparams *p)
{
	struct pfctx *x = vctx;
	int64_t n = p->p[0] != 0 ? p->p[0] : 6;
	if (n < 1 || n > MaxItems || p->p[1] < 0)
		return GCRT_ERANGE;
	x->n = (uint32_t)n;
	x->desc = parforalloc(rt, (uint32_t)p->n_ms);
	parforsetup(x->desc, (uint32_t)p->n_ms, x->n, x, true, pf_iter);
	x->desc->seed = (uint64_t)p->p[1];
	return GCRT_OK;
}

static void pf_body(struct gcrt_runtime *rt, void *vctx, int m)
{
	(void)rt;
	(void)m;
	parfordo(((struct pfctx *)vctx)->desc);
}

static const char *pf_check(struct gcrt_runtime *rt, void *vctx, char *buf, size_t len)
{
	(void)rt;
	struct pfctx *x = vctx;
	for (uint32_t i = 0; i < x->n; i++) {
		uint32_t r = atomic_load(&x->ran[i]);
		if (r != 1)
			return checkfail(buf, len, "parfor: iteration %u ran %u times", i, r);
	}
	return NULL;
}

SCHED_SCENARIO_DEF(parfor, 2, 4, struct pfctx, SCENARIO_MUTANTS("parfor_blind_steal"),
		   pf_setup, pf_body, pf_check, NULL,
		   "threads claim and steal the iterations of one parfor (params: iterations, seed)");
