/* C stress host: several runtime threads allocating typed objects, passing
 * them between each other and checking every canary (gcrt_test_stress_churn),
 * attached to Ps and through the shared cache, with one slow M and, in the
 * test build, chaos at the schedule points; and with collections by pacing
 * (checkmark on) while the Ms mutate pinned structures, and finalizers
 * that check the structures they finalize; and goroutine programs (the
 * mutator VM) on several Ms holding lists in stack frames, growing their
 * stacks through deep call chains, sitting in syscalls and parking, while
 * collections run in the seed's cycle and in the STW one.  Short and seeded, so it runs
 * under ThreadSanitizer and AddressSanitizer in CI.  The oracle is the
 * hook's canary/structure check plus the heap walk; a planted corruption
 * must be reported. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "ctest.h"
#include "gcrt.h"
#include "gcrt_test.h"

static void churnopts(gcrt_stress_churn *s, int nthreads, int attached, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->nthreads = nthreads;
	s->attached = attached;
	s->rounds = 60;
	s->maxnodes = 200;
	s->nslots = 3;
	s->slow_m = nthreads - 1;
	s->slow_us = 200;
	s->seed = seed;
}

TEST(churn_threads_check_every_object)
{
	gcrt_runtime *rt = ctest_newrt(2, (uint64_t)256 << 20);
	CHECK(rt != NULL);
	/* Chaos exists only where schedule points are compiled in. */
	int expect = gcrt_test_sched_nsites() == 0 ? GCRT_ESTATE : GCRT_OK;
	CHECK_EQ(gcrt_test_sched_mode(rt, 2, 7, 20), expect);
	static gcrt_stress_churn s;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		churnopts(&s, 4, (int)(seed % 2), seed);
		CHECK_EQ(gcrt_test_stress_churn(rt, &s), GCRT_OK);
		if (s.bad != 0)
			fprintf(stderr, "  seed %llu: %s\n", (unsigned long long)seed, s.first_bad);
		CHECK_EQ(s.bad, 0);
		CHECK_EQ(s.error, 0);
		CHECK(s.allocs >= 4 * 60);
		CHECK(s.checked >= s.allocs);
		/* Ps are freed as threads finish, so later threads may attach too. */
		if (seed % 2)
			CHECK(s.nattached >= 1 && s.nattached <= 4);
		else
			CHECK_EQ(s.nattached, 0);
	}
	CHECK_EQ(gcrt_test_sched_mode(rt, 0, 0, 0), GCRT_OK);
	CHECK_EQ(gcrt_test_heap_check(rt), GCRT_OK);
	gcrt_destroy(rt);
}

/* A host thread (not an M) forcing collections and reading the stats
 * while the churners run, as the Python stress does. */
typedef struct forcer {
	gcrt_runtime *rt;
	atomic_int stop;
	int ncollections, failed;
} forcer;

static void *forcegc(void *arg)
{
	forcer *f = arg;
	static gcrt_stats st;
	while (!atomic_load(&f->stop)) {
		if (gcrt_gc(f->rt) != GCRT_OK || gcrt_stats_read(f->rt, &st) != GCRT_OK) {
			f->failed = 1;
			return NULL;
		}
		f->ncollections++;
		usleep(2000);
	}
	return NULL;
}

TEST(churn_with_collections_and_finalizers)
{
	gcrt_runtime *rt = ctest_newrt(2, (uint64_t)256 << 20);
	CHECK(rt != NULL);
	CHECK_EQ(gcrt_gc_options(rt, GCRT_GC_ENABLE | GCRT_GC_CHECKMARK | GCRT_GC_CLOBBERFREE, NULL), GCRT_OK);
	CHECK_EQ(gcrt_gc_percent(rt, 10, NULL), GCRT_OK); /* collect often */
	static gcrt_stress_churn s;
	static gcrt_stats st;
	forcer f = {.rt = rt};
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, forcegc, &f), 0);
	for (uint64_t seed = 1; seed <= 2; seed++) {
		churnopts(&s, 4, 0, seed);
		s.gc = 1;
		s.rounds = 150;
		int rc = gcrt_test_stress_churn(rt, &s);
		if (rc != GCRT_OK) {
			atomic_store(&f.stop, 1);
			pthread_join(tid, NULL);
		}
		CHECK_EQ(rc, GCRT_OK);
		if (s.bad != 0)
			fprintf(stderr, "  seed %llu: %s\n", (unsigned long long)seed, s.first_bad);
		CHECK_EQ(s.bad, 0);
		CHECK_EQ(s.error, 0);
		CHECK(s.finalizers_set > 0);
		CHECK_EQ(s.finalizers_run, s.finalizers_set);
	}
	atomic_store(&f.stop, 1);
	pthread_join(tid, NULL);
	CHECK_EQ(f.failed, 0);
	CHECK(f.ncollections >= 1);
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK(st.numgc >= 1);
	/* Nothing is pinned any more: one collection frees everything. */
	CHECK_EQ(gcrt_gc(rt), GCRT_OK);
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.heap_objects, 0);
	CHECK_EQ(gcrt_test_heap_check(rt), GCRT_OK);
	gcrt_destroy(rt);
}

/* The goroutine program: main links List nodes from its frame (a syscall
 * each), runs Rounds of a Depth-deep call chain (Slots-word frames, each
 * holding two objects across the call), requests a collection, wakes the
 * next goroutine and parks, then walks its list back. */
enum { List = 200, Rounds = 2, Depth = 6, Slots = 1000, NGoroutines = 6, NMs = 3 };

static gcrt_vm_program *vmprogram(gcrt_runtime *rt)
{
	static gcrt_vm_insn code[19 + 7 * Depth];
	uint32_t entry[1 + Depth], desc[1 + Depth];
	const uint8_t nodemask = 0x2, framemask = 0x3;
	gcrt_type node;
	if (gcrt_type_new(rt, 24, &nodemask, 2, &node) != GCRT_OK ||
	    gcrt_frame_desc(rt, 5, &framemask, 2, &desc[0]) != GCRT_OK)
		return NULL;
	const gcrt_vm_insn main[] = {
	    {GCRT_VM_SETI, 2, List, 0}, {GCRT_VM_ALLOC, 1, 0, 0},   {GCRT_VM_STORE, 1, 1, 0},
	    {GCRT_VM_MOVE, 0, 1, 0},    {GCRT_VM_SYSCALL, 0, 0, 0}, {GCRT_VM_LOOP, 1, 2, 0},
	    {GCRT_VM_SETI, 3, Rounds, 0}, {GCRT_VM_CALL, 1, 0, 0},  {GCRT_VM_YIELD, 0, 0, 0},
	    {GCRT_VM_LOOP, 7, 3, 0},    {GCRT_VM_GC, 0, 0, 0},      {GCRT_VM_WAKE, 1, 0, 0},
	    {GCRT_VM_PARK, 0, 0, 0},    {GCRT_VM_SETI, 4, List - 1, 0}, {GCRT_VM_CHECK, 0, 0, 0},
	    {GCRT_VM_LOAD, 0, 0, 1},    {GCRT_VM_LOOP, 14, 4, 0},   {GCRT_VM_CHECK, 0, 0, 0},
	    {GCRT_VM_EXIT, 0, 0, 0},
	};
	size_t n = 0;
	entry[0] = 0;
	for (size_t i = 0; i < sizeof main / sizeof main[0]; i++)
		code[n++] = main[i];
	for (int f = 1; f <= Depth; f++) {
		if (gcrt_frame_desc(rt, Slots, &framemask, 2, &desc[f]) != GCRT_OK)
			return NULL;
		entry[f] = (uint32_t)n;
		code[n++] = (gcrt_vm_insn){GCRT_VM_ALLOC, 0, 0, 0};
		code[n++] = (gcrt_vm_insn){GCRT_VM_ALLOC, 1, 0, 0};
		code[n++] = (gcrt_vm_insn){GCRT_VM_STORE, 0, 1, 1};
		if (f < Depth)
			code[n++] = (gcrt_vm_insn){GCRT_VM_CALL, f + 1, 0, 0};
		code[n++] = (gcrt_vm_insn){GCRT_VM_LOAD, 1, 0, 1};
		code[n++] = (gcrt_vm_insn){GCRT_VM_CHECK, 1, 0, 0};
		code[n++] = (gcrt_vm_insn){GCRT_VM_RET, 0, 0, 0};
	}
	gcrt_vm_program *prog = NULL;
	if (gcrt_vm_program_new(rt, code, n, desc, entry, 1 + Depth, &node, 1, &prog) != GCRT_OK)
		return NULL;
	return prog;
}

TEST(goroutines_grow_stacks_park_and_survive_collections)
{
	for (int stw = 0; stw <= 1; stw++) {
		gcrt_runtime *rt = ctest_newrt(2, (uint64_t)256 << 20);
		CHECK(rt != NULL);
		uint32_t opts = GCRT_GC_ENABLE | GCRT_GC_CHECKMARK | GCRT_GC_CLOBBERFREE |
				(stw ? GCRT_GC_STW : 0);
		CHECK_EQ(gcrt_gc_options(rt, opts, NULL), GCRT_OK);
		if (gcrt_test_sched_nsites() > 0)
			CHECK_EQ(gcrt_test_sched_mode(rt, 2, 5 + (uint64_t)stw, 10), GCRT_OK);
		gcrt_vm_program *prog = vmprogram(rt);
		CHECK(prog != NULL);
		gcrt_g *gs[NGoroutines];
		CHECK_EQ(gcrt_vm_go(rt, prog, NGoroutines, gs), GCRT_OK);
		forcer f = {.rt = rt};
		pthread_t tid;
		CHECK_EQ(pthread_create(&tid, NULL, forcegc, &f), 0);
		int started = gcrt_start(rt, NMs);
		int waited = started == GCRT_OK ? gcrt_wait(rt, 30000) : started;
		atomic_store(&f.stop, 1);
		pthread_join(tid, NULL);
		if (waited != GCRT_OK)
			fprintf(stderr, "  %s\n", gcrt_last_throw(rt));
		CHECK_EQ(waited, GCRT_OK);
		CHECK_EQ(f.failed, 0);
		for (int i = 0; i < NGoroutines; i++) {
			gcrt_vm_stats st;
			CHECK_EQ(gcrt_vm_stats_read(rt, gs[i], &st), GCRT_OK);
			CHECK_EQ(st.exitcode, GCRT_OK);
			CHECK_EQ(st.allocs, List + 2 * Rounds * Depth);
			CHECK_EQ(st.stores, List + Rounds * Depth);
			CHECK_EQ(st.loads, List - 1 + Rounds * Depth);
			CHECK(st.maxstack >= (uint64_t)Depth * Slots * 8);
		}
		static gcrt_stats st;
		CHECK_EQ(gcrt_gc(rt), GCRT_OK);
		CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
		CHECK_EQ(st.heap_objects, 0);
		gcrt_destroy(rt);
	}
}

TEST(churn_reports_a_corrupted_canary)
{
	gcrt_runtime *rt = ctest_newrt(2, (uint64_t)256 << 20);
	CHECK(rt != NULL);
	static gcrt_stress_churn s;
	churnopts(&s, 2, 1, 11);
	s.rounds = 3;
	s.corrupt_round = 3; /* the last round, so the ring still holds it */
	CHECK_EQ(gcrt_test_stress_churn(rt, &s), GCRT_OK);
	CHECK(s.bad >= 1);
	CHECK(strstr(s.first_bad, "canary") != NULL);
	int corrupted = 0;
	for (int i = 0; i < GCRT_STRESS_RING; i++)
		corrupted |= s.ring[0][i].op == GCRT_STRESS_EV_CORRUPT;
	CHECK(corrupted);
	gcrt_destroy(rt);
}

TEST(churn_bad_arguments)
{
	gcrt_runtime *rt = ctest_newrt(2, (uint64_t)256 << 20);
	CHECK(rt != NULL);
	static gcrt_stress_churn s;
	CHECK_EQ(gcrt_test_stress_churn(rt, NULL), GCRT_EINVAL);
	churnopts(&s, 0, 0, 1);
	CHECK_EQ(gcrt_test_stress_churn(rt, &s), GCRT_ERANGE);
	churnopts(&s, 2, 0, 1);
	s.slow_m = 2;
	CHECK_EQ(gcrt_test_stress_churn(rt, &s), GCRT_ERANGE);
	churnopts(&s, 2, 0, 1);
	s.gc = 2;
	CHECK_EQ(gcrt_test_stress_churn(rt, &s), GCRT_ERANGE);
	churnopts(&s, 2, 0, 1);
	s.nslots = 0;
	CHECK_EQ(gcrt_test_stress_churn(rt, &s), GCRT_ERANGE);
	churnopts(&s, 2, 0, 1);
	CHECK_EQ(gcrt_test_stress_churn(rt, &s), GCRT_OK);
	CHECK_EQ(s.bad, 0);
	gcrt_destroy(rt);
}

int main(void)
{
	RUN(churn_threads_check_every_object);
	RUN(churn_with_collections_and_finalizers);
	RUN(goroutines_grow_stacks_park_and_survive_collections);
	RUN(churn_reports_a_corrupted_canary);
	RUN(churn_bad_arguments);
	return ctest_end();
}
