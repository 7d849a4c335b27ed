/* bench.c: cost of schedule points and of the controller.
 *
 * Linked twice: against the release libgcrt (GCRT_SCHED=0, points compiled
 * out) and the test build (GCRT_SCHED=1).  Prints "key value" lines:
 *   free1_ns_per_op     counter scenario on one free thread, per increment
 *                       (uncontended: the cost of the points themselves)
 *   free_ns_per_op      the same on 2 free threads (contended CAS)
 *   ctl_*_points_per_s  controlled runs (test build only): schedule points per
 *                       second of wall time, with no switches (zero tape), a
 *                       random walk (about one switch per two points), and PCT
 *   ctl_*_switches_per_s baton passes per second in the same runs
 * Each figure is the best of several repetitions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcrt.h"
#include "gcrt_test.h"

enum { Reps = 5 };

typedef struct figure {
	double wall_ns;
	double steps, switches;
} figure;

static figure run(const char *scn, int nms, int strategy, int64_t iters)
{
	figure best = {0, 0, 0};
	for (int rep = 0; rep < Reps; rep++) {
		gcrt_sched_opts o;
		gcrt_test_sched_opts_init(&o);
		o.strategy = strategy;
		o.seed = 1 + (uint64_t)rep;
		o.params = &iters;
		o.nparams = 1;
		o.max_steps = 1ull << 40;
		o.trace_cap = 1024;
		gcrt_schedrun *r;
		int rc = gcrt_test_sched_run(scn, nms, &o, &r);
		if (rc != GCRT_OK) {
			fprintf(stderr, "bench: %s: %s\n", scn, gcrt_strerror(rc));
			exit(1);
		}
		gcrt_sched_info info;
		gcrt_test_schedrun_info(r, &info);
		if (info.outcome != GCRT_SCHED_OUT_OK) {
			fprintf(stderr, "bench: %s failed: %s\n", scn, gcrt_test_schedrun_message(r));
			exit(1);
		}
		if (best.wall_ns == 0 || (double)info.wall_ns < best.wall_ns)
			best = (figure){(double)info.wall_ns, (double)info.steps, (double)info.switches};
		gcrt_test_schedrun_free(r);
	}
	return best;
}

int main(int argc, char **argv)
{
	int64_t iters = argc > 1 ? atoll(argv[1]) : 200000;
	figure f1 = run("counter", 1, GCRT_SCHED_STRAT_FREE, iters * 4);
	printf("free1_ns_per_op %.2f\n", f1.wall_ns / (4.0 * (double)iters));
	figure f = run("counter", 2, GCRT_SCHED_STRAT_FREE, iters);
	printf("free_ns_per_op %.2f\n", f.wall_ns / (2.0 * (double)iters));
	gcrt_sched_opts probe;
	gcrt_test_sched_opts_init(&probe);
	gcrt_schedrun *r;
	if (gcrt_test_sched_run("counter", 1, &probe, &r) != GCRT_OK)
		return 0; /* release build: no controller */
	gcrt_test_schedrun_free(r);
	static const struct {
		const char *name;
		int strategy;
	} ctl[] = {{"zero", GCRT_SCHED_STRAT_TAPE},
		   {"random", GCRT_SCHED_STRAT_RANDOM},
		   {"pct", GCRT_SCHED_STRAT_PCT}};
	for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++) {
		figure c = run("counter", 2, ctl[i].strategy, iters / 4);
		printf("ctl_%s_points_per_s %.0f\n", ctl[i].name, c.steps / c.wall_ns * 1e9);
		printf("ctl_%s_switches_per_s %.0f\n", ctl[i].name, c.switches / c.wall_ns * 1e9);
	}
	return 0;
}
