/* mutants.h: seed bugs kept on purpose, switched on by name in test builds.
 *
 * The runtime fixes the defects of the 2014 seed by default.  Each one can
 * be turned back on at run time, so the stress and interleaving tests can
 * prove that they catch it (interleavings.md §5).  A mutant is one bit of
 * rt->work.mutant, set by gcrt_test_set_mutant(rt, name).  In the release
 * build (GCRT_SCHED=0) MUTANT() is the constant 0 and every buggy branch
 * compiles out.
 *
 *   bit  name              where        what changes
 *   ---  ----------------  -----------  ---------------------------------------
 *   0    getfull_partial   mgcwork.c    getfull's wait loop watches only
 *                                       work.full (the seed's code): work on
 *                                       work.partial does not wake waiters
 *   1    lf_aba            lfstack.c    push packs the node without its push
 *                                       counter, so a stale pop CAS succeeds
 *                                       after pop A, pop B, push A (ABA)
 *
 * Adding one: a bit below, a row in the table above and in mutantnames
 * (worktest.c), and MUTANT(rt, M_x) at the buggy branch.
 */
#ifndef GCRT_MUTANTS_H
#define GCRT_MUTANTS_H

enum {
	M_GETFULL_PARTIAL = 1u << 0,
	M_LF_ABA = 1u << 1,
};

#if GCRT_SCHED
#define MUTANT(rt, m)                                                                        \
	((atomic_load_explicit(&(rt)->work.mutant, memory_order_relaxed) & (uint32_t)(m)) != 0)
#else
#define MUTANT(rt, m) ((void)(rt), 0)
#endif

#endif
