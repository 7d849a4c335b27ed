/* test_faults.c: fault sites beyond CAS failures, from a C host, so the
 * sanitizer builds run them too (csrc/stack.c stack.morestack.force,
 * csrc/mcentral.c mcentral.cachespan.empty, csrc/proc.c
 * proc.park.spurious).
 *
 * In the test build (SCHED=1): seeded random schedules with random faults
 * at those sites pass the copystack, sweep and park oracles; the mutant
 * park_no_recheck survives random schedules without faults and dies (a
 * throw) with a spurious wakeup at every park.  The release build refuses
 * controlled runs (GCRT_ESTATE).
 */
#include <string.h>

#include "ctest.h"
#include "gcrt.h"
#include "gcrt_test.h"

static const char *const sites[] = {"stack.morestack.force", "mcentral.cachespan.empty",
				    "proc.park.spurious"};

/* armed[i] = 1 for the fault sites above (site ids as gcrt_test_sched_site). */
static int arm(uint8_t *armed, int cap)
{
	int n = gcrt_test_sched_nsites();
	if (n > cap)
		return -1;
	for (int i = 0; i < n; i++) {
		const char *name, *file;
		int line;
		armed[i] = 0;
		if (gcrt_test_sched_site(i, &name, &file, &line) != GCRT_OK)
			return -1;
		for (size_t k = 0; k < sizeof sites / sizeof sites[0]; k++)
			if (strcmp(name, sites[k]) == 0)
				armed[i] = 1;
	}
	return n;
}

/* A run with the fault sites above armed: a random schedule with random
 * faults (permille), or (seed 0) an empty tape with every fault on. */
static int run(const char *scn, int nms, uint64_t seed, uint32_t permille, const char *mutant,
	       int32_t *outcome, char *msg, size_t msglen)
{
	static uint8_t armed[8192];
	static const uint8_t ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	int n = arm(armed, (int)sizeof armed);
	if (n < 0)
		return GCRT_ENOMEM;
	gcrt_sched_opts o;
	gcrt_test_sched_opts_init(&o);
	if (seed != 0) {
		o.strategy = GCRT_SCHED_STRAT_RANDOM;
		o.seed = seed;
		o.fault_permille = permille;
	} else {
		o.faults = ones;
		o.nfaults = sizeof ones;
	}
	o.armed = armed;
	o.narmed = (uint32_t)n;
	o.mutant = mutant;
	o.trace_cap = 256;
	return ctest_sched(scn, nms, &o, outcome, msg, msglen);
}

static int release_build(void)
{
	int32_t out;
	return run("park", 1, 1, 0, NULL, &out, NULL, 0) == GCRT_ESTATE;
}

TEST(oracles_hold_with_faults)
{
	if (release_build())
		return;
	for (uint64_t seed = 1; seed <= 30; seed++) {
		int32_t out = -1;
		CHECK_EQ(run("copystack", 2 + (int)(seed % 2), seed, 300, NULL, &out, NULL, 0),
			 GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
		CHECK_EQ(run("sweep", 2, seed, 300, NULL, &out, NULL, 0), GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
		CHECK_EQ(run("park", 1, seed, 300, NULL, &out, NULL, 0), GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
	}
}

TEST(park_no_recheck_dies_only_by_the_fault)
{
	if (release_build())
		return;
	int32_t out = -1;
	char msg[256];
	for (uint64_t seed = 1; seed <= 30; seed++) {
		CHECK_EQ(run("park", 1, seed, 0, "park_no_recheck", &out, NULL, 0), GCRT_OK);
		CHECK_EQ(out, GCRT_SCHED_OUT_OK);
	}
	CHECK_EQ(run("park", 1, 0, 0, NULL, &out, NULL, 0), GCRT_OK);
	CHECK_EQ(out, GCRT_SCHED_OUT_OK);
	CHECK_EQ(run("park", 1, 0, 0, "park_no_recheck", &out, msg, sizeof msg), GCRT_OK);
	CHECK_EQ(out, GCRT_SCHED_OUT_THROW);
	CHECK(strstr(msg, "resumed from park 1 with 0 readies") != NULL);
}

int main(void)
{
	RUN(oracles_hold_with_faults);
	RUN(park_no_recheck_dies_only_by_the_fault);
	return ctest_end();
}
