/* lfstack.c: Go's lock-free stack (Treiber stack with an ABA counter).
 *
 * The head is one 64-bit word: 0 when empty, otherwise the top node's
 * address packed with that node's push counter,
 *     packed = node << 16 | (pushcnt mod 2^19)
 * Nodes are 8-aligned and live below 2^48, so the 3 low alignment bits
 * and the 16 high bits hold the 19-bit counter, and unpacking is
 * (packed >> 19) << 3.  Every push bumps the node's counter, so a node
 * popped and pushed back has a different packed value: a pop that read
 * the old head and its next is then refused by its CAS (ABA protection).
 *
 * push: node->next = the current head (packed), CAS head to pack(node).
 * pop:  read head, unpack the top node, read its next, CAS head to next.
 * A pop may read next from a node another thread popped meanwhile; the
 * value is then stale, but the head changed too and the CAS fails.  This is
 * safe only because nodes are type-stable (persistentalloc, never freed).
 *
 * In the test build a pop also checks that the next it read is not
 * LFPoison, the pattern a freed node carries (mutant M_LF_FREE_NODE, which
 * frees workbufs instead of keeping them type-stable): this is the read
 * of freed memory that a sanitizer would report.
 *
 * Every push checks that unpacking gives back the node ("lfstack.push
 * invalid packing"): that catches misaligned nodes and addresses outside
 * the 48-bit range before the stack is corrupted.  unpack(pack(node)) ==
 * node exactly when the node has no bit below 3 or at 48 and above, so the
 * check is one test of the address against that mask.
 *
 * A retry loads the head again rather than starting from the value the
 * failed CAS found: after a lost CAS the line is already in this core's
 * cache, so the reload costs nothing measurable (benchmarks/lfstack), and
 * every round keeps the same schedule points (load, next, CAS), which the
 * controlled searches' tapes are laid out on (dropping the retry's load
 * point moved the derandomized mutant search onto other first kills).
 *
 * Memory order, access by access (atomic.h's macros are all seq_cst; here
 * each access says what it needs):
 *   push.load  relaxed: only a guess of the head, which the CAS checks;
 *   push.next  relaxed: the CAS that installs the node publishes it;
 *   pop.load   acquire: pairs with the push CAS that installed the top node
 *              (every later write of the head is a CAS, a read-modify-write,
 *              so the release sequence reaches whatever head pop reads), so
 *              the node's next and contents are visible;
 *   pop.next   relaxed: a stale next is harmless, the CAS then fails;
 *   CAS        seq_cst: the getfull barrier (mgcwork.c) orders list
 *              operations against nwait the way Go's full-barrier cas did;
 *   empty      seq_cst: getfull reads it after counting itself in nwait.
 * On amd64 all of these loads are plain moves and the CAS is one locked
 * cmpxchg whatever the order; the orders matter on weaker machines.
 *
 * Traces: each point records the packed head it acts on (the CAS points the
 * head they expect), and a note after each load and CAS records what it
 * saw: the head a load read (.saw, .saw_next), the head a CAS installed
 * (.now) or the different head that made it fail (.lost).  A traced head
 * names its node by symbol (sched_sym), not address, so traces repeat
 * exactly; stories print them as node#i/cnt (pygcrt/story.py).
 */
#include "runtime.h"
#include "lfstack.h"
#include "mutants.h"

uint64_t lfstackpack(lfnode *node, uintptr_t cnt)
{
	return (uint64_t)(uintptr_t)node << (64 - LFAddrBits) |
	       (uint64_t)(cnt & (((uintptr_t)1 << LFCntBits) - 1));
}

lfnode *lfstackunpack(uint64_t val)
{
	return (lfnode *)(uintptr_t)((val >> LFCntBits) << 3);
}

/* A head for a trace value: the node as its symbol (sched_sym, so traces
 * do not depend on addresses) in place of the address, and the counter. */
static uint64_t headnote(struct gcrt_runtime *rt, uint64_t head)
{
	return sched_sym(rt, lfstackunpack(head)) << LFCntBits |
	       (head & (((uint64_t)1 << LFCntBits) - 1));
}

/* The address bits a node may use: 3..47.  A node with any other bit set
 * does not survive packing. */
#define LFNodeBadBits (~((((uint64_t)1 << LFAddrBits) - 1) & ~(uint64_t)7))

/* Link node above old.  Relaxed: the CAS that installs node publishes it.
 * It is atomic only because a popper holding a stale head may read it at
 * the same time. */
static void setnext(struct gcrt_runtime *rt, lfnode *node, uint64_t old)
{
	SCHED_POINT_V(rt, "lfstack.push.next", headnote(rt, old));
	atomic_store_explicit(&node->next, old, memory_order_relaxed);
}

void lfstackpush(struct gcrt_runtime *rt, _Atomic uint64_t *head, lfnode *node)
{
	if (((uint64_t)(uintptr_t)node & LFNodeBadBits) != 0)
		throwf(rt, "lfstack.push invalid packing: node=%p", (void *)node);
	node->pushcnt++;
	uint64_t new_ = lfstackpack(node, MUTANT(rt, M_LF_ABA) ? 0 : node->pushcnt);
	bool late = MUTANT(rt, M_LF_NEXT_AFTER_CAS);
	for (;;) {
		SCHED_POINT(rt, "lfstack.push.load");
		uint64_t old = atomic_load_explicit(head, memory_order_relaxed);
		SCHED_NOTE(rt, "lfstack.push.saw", headnote(rt, old));
		if (!late)
			setnext(rt, node, old);
		uint64_t seen = old;
		if (ATOMIC_CAS64_SEEN(rt, "lfstack.push.cas", head, &seen, new_, headnote(rt, old))) {
			SCHED_NOTE(rt, "lfstack.push.now", headnote(rt, new_));
			if (late)
				setnext(rt, node, old);
			return;
		}
		SCHED_NOTE(rt, "lfstack.push.lost", headnote(rt, seen));
	}
}

lfnode *lfstackpop(struct gcrt_runtime *rt, _Atomic uint64_t *head)
{
	for (;;) {
		SCHED_POINT(rt, "lfstack.pop.load");
		uint64_t old = atomic_load_explicit(head, memory_order_acquire);
		SCHED_NOTE(rt, "lfstack.pop.saw", headnote(rt, old));
		if (old == 0)
			return NULL;
		lfnode *node = lfstackunpack(old);
		SCHED_POINT_V(rt, "lfstack.pop.next", headnote(rt, old));
		uint64_t next = atomic_load_explicit(&node->next, memory_order_relaxed);
		if (GCRT_SCHED && next == LFPoison)
			throw(rt, "lfstack.pop: next of a freed node (use after free)");
		SCHED_NOTE(rt, "lfstack.pop.saw_next", headnote(rt, next));
		uint64_t seen = old;
		if (ATOMIC_CAS64_SEEN(rt, "lfstack.pop.cas", head, &seen, next, headnote(rt, old))) {
			SCHED_NOTE(rt, "lfstack.pop.now", headnote(rt, next));
			return node;
		}
		SCHED_NOTE(rt, "lfstack.pop.lost", headnote(rt, seen));
	}
}

int lfstackempty(struct gcrt_runtime *rt, _Atomic uint64_t *head)
{
	uint64_t h = ATOMIC_LOAD(rt, "lfstack.empty.load", head);
	SCHED_NOTE(rt, "lfstack.empty.saw", headnote(rt, h));
	return h == 0;
}

uint64_t lfstacklen(uint64_t head, uint64_t max)
{
	uint64_t n = 0;
	for (lfnode *p = lfstackunpack(head); p != NULL && n < max; n++)
		p = lfstackunpack(atomic_load(&p->next));
	return n;
}
