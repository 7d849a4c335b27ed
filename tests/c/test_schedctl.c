/* test_schedctl.c: the deterministic scheduling hooks from a C host.
 *
 * Built against the release libgcrt by `make -C csrc check` (no schedule
 * points: controlled runs refuse with GCRT_ESTATE, free runs work) and
 * against the test build by `make -C csrc SCHED=1 BUILD=build-sched check`
 * (controlled runs: a tape that interleaves the racy counter loses an
 * update, and replaying the recorded decisions gives the same trace).
 */
#include <string.h>

#include "ctest.h"
#include "gcrt.h"
#include "gcrt_test.h"

static int run(const char *scn, int nms, int strategy, const uint8_t *tape, uint32_t ntape,
	       const char *mutant, gcrt_schedrun **out)
{
	gcrt_sched_opts o;
	gcrt_test_sched_opts_init(&o);
	o.strategy = strategy;
	o.tape = tape;
	o.ntape = ntape;
	o.mutant = mutant;
	return gcrt_test_sched_run(scn, nms, &o, out);
}

TEST(free_runs_work_in_every_build)
{
	gcrt_schedrun *r;
	CHECK_EQ(run("counter", 2, GCRT_SCHED_STRAT_FREE, NULL, 0, NULL, &r), GCRT_OK);
	gcrt_sched_info info;
	CHECK_EQ(gcrt_test_schedrun_info(r, &info), GCRT_OK);
	CHECK_EQ(info.outcome, GCRT_SCHED_OUT_OK);
	CHECK_EQ(info.steps, 0);
	gcrt_test_schedrun_free(r);
}

TEST(bad_input)
{
	gcrt_schedrun *r;
	gcrt_sched_opts o;
	gcrt_test_sched_opts_init(&o);
	CHECK_EQ(gcrt_test_sched_run("nope", 2, &o, &r), GCRT_EINVAL);
	CHECK_EQ(gcrt_test_sched_run("pingpong", 3, &o, &r), GCRT_ERANGE);
	CHECK_EQ(gcrt_test_sched_run("counter", 2, NULL, &r), GCRT_EINVAL);
	CHECK_EQ(gcrt_test_sched_run("counter", 2, &o, NULL), GCRT_EINVAL);
	o.ntape = 4;
	CHECK_EQ(gcrt_test_sched_run("counter", 2, &o, &r), GCRT_EINVAL);
	o.ntape = 0;
	o.mutant = "no-such-mutant";
	CHECK_EQ(gcrt_test_sched_run("counter", 2, &o, &r), GCRT_EINVAL);
	o.mutant = NULL;
	o.strategy = 42;
	CHECK_EQ(gcrt_test_sched_run("counter", 2, &o, &r), GCRT_EINVAL);
	CHECK(gcrt_test_sched_nscenarios() >= 5);
}

/* The release build has no schedule points: counting them is refused. */
static int release_build(void)
{
	gcrt_runtime *rt;
	if (gcrt_new(NULL, &rt) != GCRT_OK)
		return -1;
	int rc = gcrt_test_sched_mode(rt, 1, 0, 0);
	gcrt_destroy(rt);
	return rc == GCRT_ESTATE;
}

TEST(controlled_runs)
{
	static const uint8_t tape[] = {0, 0, 0, 0, 1};
	gcrt_schedrun *r;
	int rc = run("counter", 2, GCRT_SCHED_STRAT_TAPE, tape, sizeof tape, "racy", &r);
	int release = release_build();
	CHECK(release >= 0);
	if (release) {
		CHECK_EQ(rc, GCRT_ESTATE);
		return;
	}
	CHECK_EQ(rc, GCRT_OK);
	gcrt_sched_info a;
	gcrt_test_schedrun_info(r, &a);
	CHECK_EQ(a.outcome, GCRT_SCHED_OUT_ORACLE);
	CHECK(strstr(gcrt_test_schedrun_message(r), "lost update") != NULL);
	uint32_t n;
	const uint8_t *taken = gcrt_test_schedrun_tape(r, &n);
	uint8_t copy[256];
	CHECK(n <= sizeof copy);
	memcpy(copy, taken, n);
	gcrt_test_schedrun_free(r);
	CHECK_EQ(run("counter", 2, GCRT_SCHED_STRAT_TAPE, copy, n, "racy", &r), GCRT_OK);
	gcrt_sched_info b;
	gcrt_test_schedrun_info(r, &b);
	CHECK(a.hash == b.hash);
	CHECK_EQ(b.outcome, GCRT_SCHED_OUT_ORACLE);
	gcrt_test_schedrun_free(r);
}

int main(void)
{
	RUN(free_runs_work_in_every_build);
	RUN(bad_input);
	RUN(controlled_runs);
	return ctest_end();
}
