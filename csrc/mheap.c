/* mheap.c: placeholder until the allocator issue lands. */
#include "runtime.h"

int mallocinit(struct gcrt_runtime *rt)
{
	(void)rt;
	return GCRT_OK;
}

void mallocfini(struct gcrt_runtime *rt)
{
	(void)rt;
}

void mheap_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	(void)rt;
	(void)d;
}
