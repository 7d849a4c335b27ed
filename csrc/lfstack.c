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
 * Every push checks that unpacking gives back the node ("lfstack.push
 * invalid packing"): that catches misaligned nodes and addresses outside
 * the 48-bit range before the stack is corrupted.
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

void lfstackpush(struct gcrt_runtime *rt, _Atomic uint64_t *head, lfnode *node)
{
	if (lfstackunpack(lfstackpack(node, 0)) != node)
		throwf(rt, "lfstack.push invalid packing: node=%p", (void *)node);
	node->pushcnt++;
	uint64_t new_ = lfstackpack(node, MUTANT(rt, M_LF_ABA) ? 0 : node->pushcnt);
	for (;;) {
		uint64_t old = ATOMIC_LOAD(rt, "lfstack.push.load", head);
		/* Relaxed: the CAS below publishes it.  It is atomic only because a
		 * popper holding a stale head may read it at the same time. */
		SCHED_POINT(rt, "lfstack.push.next");
		atomic_store_explicit(&node->next, old, memory_order_relaxed);
		if (ATOMIC_CAS64(rt, "lfstack.push.cas", head, old, new_))
			return;
	}
}

lfnode *lfstackpop(struct gcrt_runtime *rt, _Atomic uint64_t *head)
{
	for (;;) {
		uint64_t old = ATOMIC_LOAD(rt, "lfstack.pop.load", head);
		if (old == 0)
			return NULL;
		lfnode *node = lfstackunpack(old);
		uint64_t next = ATOMIC_LOAD(rt, "lfstack.pop.next", &node->next);
		if (ATOMIC_CAS64(rt, "lfstack.pop.cas", head, old, next))
			return node;
	}
}

int lfstackempty(struct gcrt_runtime *rt, _Atomic uint64_t *head)
{
	return ATOMIC_LOAD(rt, "lfstack.empty.load", head) == 0;
}

uint64_t lfstacklen(uint64_t head, uint64_t max)
{
	uint64_t n = 0;
	for (lfnode *p = lfstackunpack(head); p != NULL && n < max; n++)
		p = lfstackunpack(atomic_load(&p->next));
	return n;
}
