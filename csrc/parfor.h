/* parfor.h: parallel for with work stealing (parfor.c), used for root
 * marking. */
#ifndef GCRT_PARFOR_H
#define GCRT_PARFOR_H

#include <stdbool.h>
#include <stdint.h>

struct gcrt_runtime;
typedef struct parfor parfor;

typedef struct parforthread {
	/* [low 32 bits, high 32 bits) = [begin, end) of the iterations left.
	 * The owner claims with xadd64 on the low half; a thief CASes the
	 * whole word to keep the lower half for the victim. */
	_Atomic uint64_t pos;
	/* statistics, written by the owner thread only */
	uint64_t nsteal, nstealcnt, nprocyield, nosyield, nsleep;
	uint8_t pad[CacheLineSize];
} parforthread;

struct parfor {
	struct gcrt_runtime *rt;        /* immutable */
	void (*body)(parfor *, uint32_t); /* set by parforsetup */
	_Atomic uint32_t done;  /* threads that are idle; xadd by the workers */
	uint32_t nthr;          /* threads of this run; set by parforsetup */
	uint32_t nthrmax;       /* immutable */
	_Atomic uint32_t thrseq; /* next thread index; xadd by parfordo */
	uint32_t cnt;           /* iterations; set by parforsetup */
	void *ctx;              /* for body; set by parforsetup */
	bool wait;              /* wait for the others to finish; set by parforsetup */
	uint64_t seed;          /* victim choice PRNG seed; set by the caller before parfordo */
	parforthread *thr;      /* nthrmax records, cache-line padded */
	/* totals of the per-thread statistics, added at each thread's exit */
	_Atomic uint64_t nsteal, nstealcnt, nprocyield, nosyield, nsleep;
};

parfor *parforalloc(struct gcrt_runtime *rt, uint32_t nthrmax);
void parforsetup(parfor *desc, uint32_t nthr, uint32_t n, void *ctx, bool wait,
		 void (*body)(parfor *, uint32_t));
void parfordo(parfor *desc);

#endif
