/* mgcwork.h: work buffers and the mark work lists (owned by mgcwork.c).
 * Placeholder shape; the work-list issue fills it in. */
#ifndef GCRT_MGCWORK_H
#define GCRT_MGCWORK_H

struct workdata {
	_Atomic uint64_t full, empty, partial;
};

#endif
