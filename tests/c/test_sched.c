/* test_sched.c: the scheduler from a C host: worker goroutines over Ms,
 * repeated stop-the-world with a counter oracle, a C step function, an
 * attached host thread, and bad input. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctest.h"
#include "gcrt.h"
#include "gcrt_test.h"

enum { NG = 16, ITERS = 5000 };

static uint64_t load(uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

TEST(workers_and_stw)
{
	gcrt_runtime *rt = ctest_newrt(2, 64 << 20);
	CHECK(rt != NULL);
	static uint64_t counters[NG];
	memset(counters, 0, sizeof counters);
	for (int i = 0; i < NG; i++)
		CHECK_EQ(gcrt_test_go_worker(rt, &counters[i], ITERS,
					     GCRT_TEST_W_YIELD | GCRT_TEST_W_SYSCALL, 99 + i, NULL),
			 GCRT_OK);
	CHECK_EQ(gcrt_start(rt, 3), GCRT_OK);
	for (int k = 0; k < 20; k++) {
		CHECK_EQ(gcrt_stoptheworld(rt), GCRT_OK);
		uint64_t snap[NG];
		for (int i = 0; i < NG; i++)
			snap[i] = load(&counters[i]);
		int nr, nn;
		CHECK_EQ(gcrt_test_sched_snapshot(rt, &nr, &nn), GCRT_OK);
		CHECK_EQ(nr, 0);
		CHECK_EQ(nn, 0);
		usleep(1000);
		for (int i = 0; i < NG; i++)
			CHECK_EQ(load(&counters[i]), snap[i]);
		CHECK_EQ(gcrt_starttheworld(rt), GCRT_OK);
		usleep(500);
	}
	CHECK_EQ(gcrt_wait(rt, 30000), GCRT_OK);
	for (int i = 0; i < NG; i++)
		CHECK_EQ(load(&counters[i]), ITERS);
	CHECK_EQ(gcrt_failed(rt), 0);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

typedef struct pingpong {
	gcrt_runtime *rt;
	gcrt_g *other;
	_Atomic int *left; /* shared by both */
} pingpong;

/* Two goroutines take turns: each wakes the other and parks, until
 * their shared budget runs out. */
static int pingstep(gcrt_g *g, void *arg)
{
	pingpong *pp = arg;
	(void)g;
	if (atomic_fetch_sub(pp->left, 1) <= 0) {
		gcrt_ready(pp->rt, pp->other);
		return GCRT_STEP_EXIT;
	}
	gcrt_ready(pp->rt, pp->other);
	return GCRT_STEP_PARK;
}

TEST(c_step_functions_park_and_ready)
{
	gcrt_runtime *rt = ctest_newrt(2, 64 << 20);
	CHECK(rt != NULL);
	static _Atomic int left;
	atomic_store(&left, 2000);
	pingpong a = {rt, NULL, &left}, b = {rt, NULL, &left};
	gcrt_g *ga, *gb;
	CHECK_EQ(gcrt_go(rt, pingstep, &a, &ga), GCRT_OK);
	CHECK_EQ(gcrt_go(rt, pingstep, &b, &gb), GCRT_OK);
	a.other = gb;
	b.other = ga;
	CHECK_EQ(gcrt_ready(rt, ga), GCRT_OK);
	CHECK_EQ(gcrt_ready(rt, gb), GCRT_OK);
	CHECK_EQ(gcrt_start(rt, 2), GCRT_OK);
	CHECK_EQ(gcrt_wait(rt, 30000), GCRT_OK);
	CHECK(atomic_load(&left) < 0);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(attach_detach)
{
	gcrt_type t;
	gcrt_runtime *rt = ctest_newrt_type(2, 64 << 20, 16, 1, 1, &t);
	CHECK(rt != NULL);
	gcrt_g *g1, *g2, *g3;
	CHECK_EQ(gcrt_attach(rt, &g1), GCRT_OK);
	CHECK_EQ(gcrt_attach(rt, &g2), GCRT_OK);
	CHECK_EQ(gcrt_attach(rt, &g3), GCRT_ESTATE); /* both Ps taken */
	void *o;
	CHECK_EQ(gcrt_g_alloc(g1, t, &o), GCRT_OK);
	/* Attached hosts between calls count as in a syscall: no wait. */
	CHECK_EQ(gcrt_stoptheworld(rt), GCRT_OK);
	CHECK_EQ(gcrt_starttheworld(rt), GCRT_OK);
	CHECK_EQ(gcrt_g_alloc(g2, t, &o), GCRT_OK);
	CHECK_EQ(gcrt_detach(g1), GCRT_OK);
	CHECK_EQ(gcrt_detach(g1), GCRT_ESTATE);
	CHECK_EQ(gcrt_attach(rt, &g3), GCRT_OK);
	CHECK_EQ(gcrt_detach(g3), GCRT_OK);
	CHECK_EQ(gcrt_detach(g2), GCRT_OK);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

/* A VM program: build a list, call down a chain of big frames (growth),
 * request a GC (STW + shrink of stopped peers), all while the host stops
 * the world too. */
TEST(vm_programs)
{
	gcrt_runtime *rt = ctest_newrt(2, 64 << 20);
	CHECK(rt != NULL);
	uint8_t tmask = 2; /* word 1 a pointer, word 0 the canary */
	gcrt_type node;
	CHECK_EQ(gcrt_type_new(rt, 16, &tmask, 2, &node), GCRT_OK);
	uint8_t fmask = 3;
	uint32_t dmain, dbig;
	CHECK_EQ(gcrt_frame_desc(rt, 3, &fmask, 2, &dmain), GCRT_OK);
	CHECK_EQ(gcrt_frame_desc(rt, 4000, &fmask, 2, &dbig), GCRT_OK);
	gcrt_vm_insn code[] = {
	    /* main: 0 */ {GCRT_VM_SETI, 2, 200, 0},
	    /* 1 */ {GCRT_VM_ALLOC, 1, 0, 0},
	    {GCRT_VM_STORE, 1, 1, 0},
	    {GCRT_VM_MOVE, 0, 1, 0},
	    {GCRT_VM_CALL, 1, 0, 0},
	    {GCRT_VM_LOAD, 1, 0, 1},
	    {GCRT_VM_CHECK, 0, 0, 0},
	    {GCRT_VM_LOOP, 1, 2, 0},
	    {GCRT_VM_GC, 0, 0, 0},
	    {GCRT_VM_EXIT, 0, 0, 0},
	    /* f1: 10 */ {GCRT_VM_ALLOC, 0, 0, 0},
	    {GCRT_VM_CALL, 2, 0, 0},
	    {GCRT_VM_CHECK, 0, 0, 0},
	    {GCRT_VM_RET, 0, 0, 0},
	    /* f2: 14 */ {GCRT_VM_ALLOC, 1, 0, 0},
	    {GCRT_VM_YIELD, 0, 0, 0},
	    {GCRT_VM_RET, 0, 0, 0},
	};
	uint32_t desc[] = {dmain, dbig, dbig}, entry[] = {0, 10, 14};
	gcrt_vm_program *prog;
	CHECK_EQ(gcrt_vm_program_new(rt, code, sizeof code / sizeof code[0], desc, entry, 3, &node, 1,
				     &prog),
		 GCRT_OK);
	gcrt_g *gs[6];
	CHECK_EQ(gcrt_vm_go(rt, prog, 6, gs), GCRT_OK);
	CHECK_EQ(gcrt_start(rt, 3), GCRT_OK);
	for (int k = 0; k < 10; k++) {
		CHECK_EQ(gcrt_stoptheworld(rt), GCRT_OK);
		int nr, nn;
		CHECK_EQ(gcrt_test_sched_snapshot(rt, &nr, &nn), GCRT_OK);
		CHECK_EQ(nr, 0);
		CHECK_EQ(gcrt_starttheworld(rt), GCRT_OK);
		usleep(300);
	}
	CHECK_EQ(gcrt_wait(rt, 30000), GCRT_OK);
	for (int i = 0; i < 6; i++) {
		gcrt_vm_stats st;
		CHECK_EQ(gcrt_vm_stats_read(rt, gs[i], &st), GCRT_OK);
		CHECK_EQ(st.exitcode, GCRT_OK);
		CHECK_EQ(st.allocs, 600);
		CHECK_EQ(st.stores, 200);
		CHECK_EQ(st.loads, 199);
		CHECK(st.maxstack >= 64 << 10);
	}
	CHECK_EQ(gcrt_failed(rt), 0);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(bad_input)
{
	gcrt_runtime *rt = ctest_newrt(1, 64 << 20);
	CHECK(rt != NULL);
	CHECK_EQ(gcrt_start(rt, 0), GCRT_EINVAL);
	CHECK_EQ(gcrt_start(rt, GCRT_MAX_MS + 1), GCRT_EINVAL);
	CHECK_EQ(gcrt_go(rt, NULL, NULL, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_starttheworld(rt), GCRT_ESTATE);
	CHECK_EQ(gcrt_wait(NULL, 0), GCRT_EBADRT);
	uint32_t id;
	uint8_t bits[2] = {0xff, 0xff};
	CHECK_EQ(gcrt_frame_desc(rt, 4, bits, 9, &id), GCRT_ERANGE);
	CHECK_EQ(gcrt_frame_desc(rt, 4, bits, 4, &id), GCRT_OK);
	CHECK_EQ(gcrt_stack_limit(rt, 16), GCRT_ESIZE);
	CHECK_EQ(gcrt_failed(rt), 0);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

int main(void)
{
	RUN(workers_and_stw);
	RUN(c_step_functions_park_and_ready);
	RUN(attach_detach);
	RUN(vm_programs);
	RUN(bad_input);
	return ctest_end();
}
