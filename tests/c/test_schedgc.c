/* test_schedgc.c: the collector's controlled scenarios (csrc/schedgc.c)
 * from a C host, so the sanitizer builds run them too.
 *
 * In the test build (SCHED=1): random schedules of sweep (2 and 3 Ms),
 * sweepstop (small spans and large objects), wbscan (both mutator gates),
 * markbits and collect (2 and 3 Ms: a whole collection with scheduler Ms,
 * gchelpers and VM goroutines) pass their oracles, and the sweep mutants,
 * bgsweep_nostop, wb_off and markbit_nonatomic are each caught by some
 * seeded random or PCT schedule (a throw; wb_off's is checkmark's, whose
 * buffers the runtime's destroy frees, so LeakSanitizer stays quiet).  The
 * release build refuses controlled runs (GCRT_ESTATE).
 */
#include <string.h>

#include "ctest.h"
#include "gcrt.h"
#include "gcrt_test.h"

static int run(const char *scn, int nms, int strategy, uint64_t seed, const char *mutant,
	       int64_t p0, int64_t p1, int32_t *outcome)
{
	int64_t params[2] = {p0, p1};
	gcrt_sched_opts o;
	gcrt_test_sched_opts_init(&o);
	o.strategy = strategy;
	o.seed = seed;
	o.pct_depth = 3;
	o.mutant = mutant;
	o.params = params;
	o.nparams = 2;
	o.trace_cap = 256;
	return ctest_sched(scn, nms, &o, outcome, NULL, 0);
}

static int release_build(void)
{
	int32_t out;
	return run("sweep", 2, GCRT_SCHED_STRAT_PCT, 1, NULL, 0, 0, &out) == GCRT_ESTATE;
}

TEST(clean_runs_pass)
{
	if (release_build())
		return;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		int32_t out = -1;
		int strat = seed % 2 ? GCRT_SCHED_STRAT_PCT : GCRT_SCHED_STRAT_RANDOM;
		CHECK_EQ(run("sweep", 2 + (int)(seed % 2), strat, seed, NULL, 3, (int64_t)seed, &out),
			 GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
		CHECK_EQ(run("wbscan", 3, strat, seed, NULL, 2, (int64_t)(seed % 2), &out), GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
		CHECK_EQ(run("sweepstop", 2, strat, seed, NULL, 1 + (int64_t)(seed % 3),
			     (int64_t)(seed % 3), &out),
			 GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
		CHECK_EQ(run("markbits", 2, strat, seed, NULL, 3, 0, &out), GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
		CHECK_EQ(run("collect", 2 + (int)(seed % 2), strat, seed, NULL, 2, (int64_t)(seed % 3),
			     &out),
			 GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
	}
}

static int caught(const char *scn, int nms, const char *mutant)
{
	for (uint64_t seed = 1; seed <= 400; seed++) {
		int32_t out = -1;
		int strat = seed % 2 ? GCRT_SCHED_STRAT_PCT : GCRT_SCHED_STRAT_RANDOM;
		if (run(scn, nms, strat, seed, mutant, 0, 0, &out) != GCRT_OK)
			return 0;
		if (out == GCRT_SCHED_OUT_THROW)
			return 1;
	}
	return 0;
}

TEST(mutants_are_caught)
{
	if (release_build())
		return;
	CHECK(caught("sweep", 2, "sweep_double"));
	CHECK(caught("sweep", 2, "finishsweep_nowait"));
	CHECK(caught("sweepstop", 2, "bgsweep_nostop"));
	CHECK(caught("wbscan", 3, "wb_off"));
	CHECK(caught("markbits", 2, "markbit_nonatomic"));
}

int main(void)
{
	RUN(clean_runs_pass);
	RUN(mutants_are_caught);
	return ctest_end();
}
