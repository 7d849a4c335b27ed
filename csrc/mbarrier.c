/* mbarrier.c: the pointer write barrier.
 *
 * Every pointer store into a heap object goes through writebarrierptr.
 * With no collector yet it is the store itself, one atomic store at the
 * point "markwb.store"; the collector issue adds Dijkstra-style shading
 * of the new pointer here (Go's writebarrierptr / gcmarkwb_m).
 */
#include "runtime.h"

void writebarrierptr(struct gcrt_runtime *rt, void *_Atomic *slot, void *ptr)
{
	ATOMIC_STORE(rt, "markwb.store", slot, ptr);
}
