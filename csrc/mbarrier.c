/* mbarrier.c: the pointer write barrier (Go's markwb / gcmarkwb_m).
 *
 * Every pointer store into a heap object goes through writebarrierptr.
 * While a collection greys objects with the world running (GCscan, GCmark,
 * GCmarktermination) the new pointer is shaded before the store, the Dec
 * 2014 form (shade unconditionally, no slot test: Dijkstra's barrier
 * coarsened to avoid the IRIW race of reading the slot's mark).  In GCoff
 * and GCsweep it is the store itself, at the point "markwb.store".
 *
 * wbneeded lets a caller that holds a P skip the barrier's catcher and
 * call: the phase changes only while every P is stopped, so between two
 * safepoints of a running G the phase it loads cannot turn to greying
 * under it.  A caller without a P must instead be counted in the world
 * (mutator_enter) across the load and the store.
 */
#include "runtime.h"
#include "mutants.h"

void writebarrierptr(struct gcrt_runtime *rt, void *_Atomic *slot, void *ptr)
{
	uint32_t phase = ATOMIC_LOAD(rt, "markwb.phase", &rt->gc.phase);
	if (ptr != NULL && gcphase_greying(phase) && !MUTANT(rt, M_WB_OFF))
		shade(rt, ptr);
	ATOMIC_STORE(rt, "markwb.store", slot, ptr);
}
