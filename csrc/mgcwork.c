/* mgcwork.c: placeholder until the work-list issue lands. */
#include "runtime.h"

void gcworkinit(struct gcrt_runtime *rt)
{
	(void)rt;
}

void gcworkfini(struct gcrt_runtime *rt)
{
	(void)rt;
}

void work_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	(void)rt;
	(void)d;
}
