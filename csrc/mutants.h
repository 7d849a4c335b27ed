/* mutants.h: seed bugs kept on purpose, switched on by name in test builds.
 *
 * The runtime fixes the defects of the 2014 seed by default.  Each one can
 * be turned back on at run time, so the stress and interleaving tests can
 * prove that they catch it (interleavings.md §5).  A mutant is one bit of
 * rt->work.mutant, set by name with gcrt_test_set_mutant(rt, name): one
 * registry for the mutants of every piece (mutants.c; gcrt_test_mutant_name
 * lists them).  In the release build (GCRT_SCHED=0) MUTANT() is the
 * constant 0 and every buggy branch compiles out.
 *
 *   bit  name               where        what changes              killed by (scenario)
 *   ---  -----------------  -----------  ------------------------  -------------------
 *   0    getfull_partial    mgcwork.c    getfull's wait loop       rootscan: livelock
 *                                        watches only work.full
 *                                        (the seed's code): work
 *                                        on partial does not wake
 *                                        waiters
 *   1    lf_aba             lfstack.c    push packs the node       lfstack: owner
 *                                        without its push counter  throw / lost node
 *                                        (ABA)
 *   2    lf_next_after_cas  lfstack.c    push links node->next     lfstack: owner
 *                                        after the CAS that        throw / lost node
 *                                        published the node
 *   3    lf_free_node       mgcwork.c    putempty frees (poisons)  getfull: "next of
 *                                        buffers, getempty reuses  a freed node"
 *                                        them: nodes are no longer throw in pop
 *                                        type-stable
 *   4    getfull_order      mgcwork.c    getfull's waiter pops     getfull: "nil with
 *                                        before uncounting itself  N items outstanding"
 *                                        from nwait                throw
 *   5    parfor_blind_steal parfor.c     a thief stores the        parfor: iteration
 *                                        victim's shrunk range     ran twice
 *                                        instead of CASing it
 *   6    sweep_double       mgcsweep.c   sweepone and EnsureSwept  sweep: "span swept
 *                                        claim a span by load ==   twice in one
 *                                        h-2 then store h-1, not   cycle" throw
 *                                        CAS: two sweepers win
 *   7    finishsweep_nowait mgcsweep.c   finishsweep_m does not    sweep: "mark would
 *                                        wait for spans another    start with span#i
 *                                        sweeper holds (h-1)       sg=h-1" throw
 *   8    wb_off             mbarrier.c   the write barrier does    wbscan: checkmark
 *                                        not shade while the       "found unmarked
 *                                        collector greys           object" throw
 *   9    markbit_nonatomic  mgcmark.c    greyobject always sets    wbscan: checkmark
 *                                        the mark bit by a plain   throw (a neighbour's
 *                                        read-modify-write         mark lost)
 *   10   bgsweep_nostop     mgcsweep.c   the background sweeper    sweepstop: "mark
 *                                        sweeps outside the world: would start with
 *                                        a stop does not wait for  span#i (garbage) in
 *                                        the span it has published use" throw
 *                                        at h but not yet freed
 *   11   copy_read_then_cas gstatus.c    going to Gcopystack reads copystack: livelock
 *                                        the status, then          (casgstatus spins on
 *                                        casgstatus-es from what   a G readied in
 *                                        it read (the seed's form) between)
 *   12   stopg_blind_store  gstatus.c    castogscanstatus of a     gstatus: the G runs
 *                                        stopped G reads, then     (or is claimed) with
 *                                        stores status|Gscan,      a clobbered status
 *                                        clobbering a move in
 *                                        between
 *   13   scan_miss          gstatus.c    a failed claim CAS in     gstatus: "scan missed
 *                                        stopg counts as done      a g" throw
 *   14   copy_no_gcopystack stack.c      newstack and the shrink   copystack: "scan saw"
 *                                        copy without moving the   a stack mid-copy
 *                                        G to Gcopystack
 *   15   park_no_recheck    proc.c       a G woken without its     park (with fault
 *                                        ready runs on instead of  proc.park.spurious):
 *                                        parking again             "resumed without a
 *                                                                  ready" throw
 *
 * Adding one: a bit below, a row in the table above and in mutantnames
 * (mutants.c), and MUTANT(rt, M_x) at the buggy branch.  The bits live in
 * rt->work.mutant (one word for the whole runtime).
 */
#ifndef GCRT_MUTANTS_H
#define GCRT_MUTANTS_H

enum {
	M_GETFULL_PARTIAL = 1u << 0,
	M_LF_ABA = 1u << 1,
	M_LF_NEXT_AFTER_CAS = 1u << 2,
	M_LF_FREE_NODE = 1u << 3,
	M_GETFULL_ORDER = 1u << 4,
	M_PARFOR_BLIND_STEAL = 1u << 5,
	M_SWEEP_DOUBLE = 1u << 6,
	M_FINISHSWEEP_NOWAIT = 1u << 7,
	M_WB_OFF = 1u << 8,
	M_MARKBIT_NONATOMIC = 1u << 9,
	M_BGSWEEP_NOSTOP = 1u << 10,
	M_COPY_READ_THEN_CAS = 1u << 11,
	M_STOPG_BLIND_STORE = 1u << 12,
	M_SCAN_MISS = 1u << 13,
	M_COPY_NO_GCOPYSTACK = 1u << 14,
	M_PARK_NO_RECHECK = 1u << 15,
};

#if GCRT_SCHED
#define MUTANT(rt, m)                                                                        \
	((atomic_load_explicit(&(rt)->work.mutant, memory_order_relaxed) & (uint32_t)(m)) != 0)
#else
#define MUTANT(rt, m) ((void)(rt), 0)
#endif

#endif
