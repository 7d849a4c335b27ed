/* C test of the lfstack / workbuf / getfull / parfor hooks (gcrt_test.h),
 * against libgcrt.a: the same scenarios the Python tests drive, with the
 * same oracles (node ids and item ids, not the runtime's counters). */
#include <string.h>

#include "ctest.h"
#include "gcrt.h"
#include "gcrt_test.h"

TEST(lfstack_order)
{
	gcrt_runtime *rt = ctest_newrt(2, 0);
	CHECK(rt != NULL);
	uint64_t head = 0;
	uintptr_t n[2], out = 1;
	CHECK_EQ(gcrt_test_lfnodes(rt, 2, n), GCRT_OK);
	CHECK_EQ(gcrt_test_lfstack_push(rt, &head, n[0]), GCRT_OK);
	CHECK_EQ(gcrt_test_lfstack_push(rt, &head, n[1]), GCRT_OK);
	CHECK(head != 0);
	CHECK_EQ(gcrt_test_lfstack_pop(rt, &head, &out), GCRT_OK);
	CHECK_EQ(out, n[1]);
	CHECK_EQ(gcrt_test_lfstack_pop(rt, &head, &out), GCRT_OK);
	CHECK_EQ(out, n[0]);
	CHECK_EQ(gcrt_test_lfstack_pop(rt, &head, &out), GCRT_OK);
	CHECK_EQ(out, 0);
	CHECK_EQ(head, 0);
	gcrt_destroy(rt);
}

TEST(lfstack_packing)
{
	uint64_t packed;
	uintptr_t unpacked;
	uintptr_t good = (uintptr_t)1 << 46 | 0x1238;
	CHECK_EQ(gcrt_test_lfstack_pack(good, 5, &packed, &unpacked), GCRT_OK);
	CHECK_EQ(unpacked, good);
	CHECK_EQ(packed & ((1u << 19) - 1), 5);
	CHECK_EQ(gcrt_test_lfstack_pack(good + 4, 0, &packed, &unpacked), GCRT_OK);
	CHECK(unpacked != good + 4);
	CHECK_EQ(gcrt_test_lfstack_pack((uintptr_t)1 << 50, 0, &packed, &unpacked), GCRT_OK);
	CHECK(unpacked != (uintptr_t)1 << 50);
}

TEST(lfstack_stress)
{
	gcrt_runtime *rt = ctest_newrt(2, 0);
	CHECK(rt != NULL);
	for (uint64_t seed = 1; seed <= 3; seed++) {
		gcrt_lfstress s;
		uint32_t seen[100];
		memset(&s, 0, sizeof s);
		s.nthreads = 8;
		s.nstacks = 2;
		s.nnodes = 100;
		s.rounds = 10000;
		s.seed = seed;
		CHECK_EQ(gcrt_test_lfstack_stress(rt, &s, seen), GCRT_OK);
		for (int i = 0; i < 100; i++)
			CHECK_EQ(seen[i], 1);
		CHECK_EQ(s.found, 100);
		CHECK_EQ(s.sum_after, s.sum_before);
		CHECK_EQ(s.owned_twice, 0);
		for (int t = 0; t < 8; t++)
			CHECK_EQ(s.pops[t] + s.emptypops[t], 10000);
	}
	gcrt_destroy(rt);
}

TEST(lfstack_bad_node_throws)
{
	gcrt_runtime *rt = ctest_newrt(2, 0);
	CHECK(rt != NULL);
	uint64_t head = 0;
	uintptr_t n;
	CHECK_EQ(gcrt_test_lfnodes(rt, 1, &n), GCRT_OK);
	CHECK_EQ(gcrt_test_lfstack_stress(rt, &(gcrt_lfstress){.nthreads = 0}, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_test_lfnodes(rt, 0, &n), GCRT_ERANGE);
	CHECK_EQ(gcrt_failed(rt), 0);
	gcrt_destroy(rt);

	/* Each low address bit alone, and all three: the packing drops them. */
	static const uintptr_t offsets[] = {1, 2, 4, 7};
	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		rt = ctest_newrt(2, 0);
		CHECK(rt != NULL);
		CHECK_EQ(gcrt_test_lfnodes(rt, 1, &n), GCRT_OK);
		CHECK_EQ(gcrt_test_lfstack_push(rt, &head, n + offsets[i]), GCRT_EFAILED);
		CHECK(strstr(gcrt_last_throw(rt), "fatal error: lfstack.push invalid packing") != NULL);
		CHECK_EQ(gcrt_failed(rt), 1);
		CHECK_EQ(head, 0);
		gcrt_destroy(rt);
	}

	rt = ctest_newrt(2, 0);
	CHECK(rt != NULL);
	CHECK_EQ(gcrt_test_lfnodes(rt, 1, &n), GCRT_OK);
	CHECK_EQ(gcrt_test_lfstack_push(rt, &head, 0x1000), GCRT_EFAILED);
	CHECK(strstr(gcrt_last_throw(rt), "fatal error: bad lfnode address") != NULL);
	gcrt_destroy(rt);
}

TEST(mutant_names)
{
	gcrt_runtime *rt = ctest_newrt(2, 0);
	CHECK(rt != NULL);
	int expect = gcrt_test_sched_nsites() == 0 ? GCRT_ESTATE : GCRT_OK; /* release: none */
	CHECK_EQ(gcrt_test_set_mutant(rt, "getfull_partial"), expect);
	CHECK_EQ(gcrt_test_set_mutant(rt, "lf_aba"), expect);
	CHECK_EQ(gcrt_test_set_mutant(rt, "lf_next_after_cas"), expect);
	CHECK_EQ(gcrt_test_set_mutant(rt, "lf_free_node"), expect);
	CHECK_EQ(gcrt_test_set_mutant(rt, "getfull_order"), expect);
	CHECK_EQ(gcrt_test_set_mutant(rt, "parfor_blind_steal"), expect);
	CHECK_EQ(gcrt_test_set_mutant(rt, "none"), GCRT_OK);
	CHECK_EQ(gcrt_test_set_mutant(rt, "bogus"), GCRT_EINVAL);
	CHECK_EQ(gcrt_test_set_mutant(rt, NULL), GCRT_EINVAL);
	gcrt_destroy(rt);
}

static int putwhere(gcrt_runtime *rt, int op, int nobj, gcrt_wbput *p)
{
	memset(p, 0, sizeof *p);
	p->op = op;
	p->nobj = nobj;
	int rc = gcrt_test_workbuf_put(rt, p);
	return rc != GCRT_OK ? rc : p->list;
}

TEST(workbuf_lists)
{
	gcrt_runtime *rt = ctest_newrt(2, 0);
	CHECK(rt != NULL);
	gcrt_wbput p;
	size_t size, nobjs;
	CHECK_EQ(gcrt_test_workbuf_layout(&size, &nobjs), GCRT_OK);
	CHECK_EQ(size, 4096);
	CHECK_EQ(nobjs, 509);
	CHECK_EQ(putwhere(rt, GCRT_WB_PUTPARTIAL, 0, &p), GCRT_WB_EMPTY);
	CHECK_EQ(putwhere(rt, GCRT_WB_PUTPARTIAL, 1, &p), GCRT_WB_PARTIAL);
	CHECK_EQ(putwhere(rt, GCRT_WB_PUTPARTIAL, 508, &p), GCRT_WB_PARTIAL);
	CHECK_EQ(putwhere(rt, GCRT_WB_PUTPARTIAL, 509, &p), GCRT_WB_FULL);
	CHECK_EQ(putwhere(rt, GCRT_WB_GCWORKBUFFREE, 0, &p), GCRT_WB_EMPTY);
	CHECK_EQ(putwhere(rt, GCRT_WB_GCWORKBUFFREE, 3, &p), GCRT_WB_FULL);
	CHECK_EQ(putwhere(rt, GCRT_WB_HANDOFF, 9, &p), GCRT_WB_FULL);
	CHECK_EQ(p.listnobj, 5);
	CHECK_EQ(p.listsum, 15);
	CHECK_EQ(p.kept, 4);
	CHECK_EQ(p.keptsum, 6 + 7 + 8 + 9);
	CHECK_EQ(putwhere(rt, GCRT_WB_PUTEMPTY, 510, &p), GCRT_ERANGE);
	CHECK_EQ(gcrt_failed(rt), 0);
	CHECK_EQ(putwhere(rt, GCRT_WB_PUTEMPTY, 3, &p), GCRT_EFAILED);
	CHECK(strstr(gcrt_last_throw(rt), "fatal error: putempty: b->nobj not 0") != NULL);
	gcrt_destroy(rt);
}

TEST(workbuf_stress)
{
	gcrt_runtime *rt = ctest_newrt(2, 0);
	CHECK(rt != NULL);
	gcrt_wbstress s;
	memset(&s, 0, sizeof s);
	s.nthreads = 4;
	s.rounds = 2000;
	s.maxbatch = 200;
	s.seed = 42;
	CHECK_EQ(gcrt_test_workbuf_stress(rt, &s), GCRT_OK);
	CHECK(s.produced > 0);
	CHECK_EQ(s.consumed, s.produced);
	CHECK_EQ(s.lost, 0);
	CHECK_EQ(s.dup, 0);
	CHECK_EQ(s.bad_empty + s.bad_partial + s.bad_full, 0);
	CHECK_EQ(s.on_empty + s.on_partial + s.on_full, s.nbuf);
	gcrt_destroy(rt);
}

static int runround(gcrt_runtime *rt, int nproc, int scenario, gcrt_getfull_round *r)
{
	memset(r, 0, sizeof *r);
	r->nproc = nproc;
	r->scenario = scenario;
	r->items = scenario == GCRT_ROUND_RANDOM ? 64 : 100;
	r->budget = scenario == GCRT_ROUND_RANDOM ? 20000 : 100;
	r->maxfan = scenario == GCRT_ROUND_RANDOM ? 3 : 0;
	r->hold_ms = 5000;
	r->seed = (uint64_t)nproc * 7 + 1;
	return gcrt_test_getfull_round(rt, r);
}

TEST(getfull_rounds)
{
	gcrt_runtime *rt = ctest_newrt(4, 0);
	CHECK(rt != NULL);
	gcrt_getfull_round r;
	for (int nproc = 1; nproc <= 4; nproc *= 2) {
		CHECK_EQ(runround(rt, nproc, GCRT_ROUND_RANDOM, &r), GCRT_OK);
		CHECK_EQ(r.lost, 0);
		CHECK_EQ(r.dup, 0);
		CHECK_EQ(r.processed, r.generated);
		CHECK_EQ(r.left_full + r.left_partial, 0);
		CHECK_EQ(r.ndone, nproc);
	}
	CHECK_EQ(runround(rt, 2, GCRT_ROUND_PARTIAL_ONLY, &r), GCRT_OK);
	CHECK_EQ(r.partial_taken, 1);
	CHECK_EQ(r.per_marker[0], 0);
	CHECK_EQ(r.processed, 100);
	CHECK_EQ(r.lost, 0);
	CHECK_EQ(gcrt_failed(rt), 0);
	CHECK_EQ(runround(rt, 0, GCRT_ROUND_RANDOM, &r), GCRT_EFAILED);
	CHECK(strstr(gcrt_last_throw(rt), "fatal error: workbegin: nproc 0") != NULL);
	gcrt_destroy(rt);

	/* A throw on one marker while the others wait in getfull: they leave
	 * (in the release build too, where schedule points compile out). */
	rt = ctest_newrt(4, 0);
	CHECK(rt != NULL);
	CHECK_EQ(runround(rt, 4, GCRT_ROUND_MISUSE, &r), GCRT_EFAILED);
	CHECK(strstr(gcrt_last_throw(rt), "fatal error: putempty: b->nobj not 0") != NULL);
	gcrt_destroy(rt);
}

TEST(parfor)
{
	gcrt_runtime *rt = ctest_newrt(4, 0);
	CHECK(rt != NULL);
	uint64_t ranges[11];
	for (uint32_t n = 0; n < 101; n++) {
		for (uint32_t p = 1; p <= 11; p++) {
			CHECK_EQ(gcrt_test_parforsetup(rt, p, n, ranges), GCRT_OK);
			uint32_t prev = 0, lo = n, hi = 0;
			for (uint32_t i = 0; i < p; i++) {
				uint32_t b = (uint32_t)ranges[i], e = (uint32_t)(ranges[i] >> 32);
				CHECK_EQ(b, prev);
				prev = e;
				lo = e - b < lo ? e - b : lo;
				hi = e - b > hi ? e - b : hi;
			}
			CHECK_EQ(prev, n);
			CHECK(hi - lo <= 1);
		}
	}
	static uint32_t counts[1003];
	gcrt_parfor_run r;
	memset(&r, 0, sizeof r);
	r.nthr = 4;
	r.n = 1003;
	r.wait = 1;
	r.slow_us = 100;
	r.seed = 3;
	CHECK_EQ(gcrt_test_parfor_run(rt, &r, counts), GCRT_OK);
	for (int i = 0; i < 1003; i++)
		CHECK_EQ(counts[i], 1);
	CHECK(r.nsteal > 0);
	CHECK_EQ(gcrt_test_parforsetup(rt, 0, 10, ranges), GCRT_EINVAL);
	gcrt_destroy(rt);
}

int main(void)
{
	RUN(lfstack_order);
	RUN(lfstack_packing);
	RUN(lfstack_stress);
	RUN(lfstack_bad_node_throws);
	RUN(mutant_names);
	RUN(workbuf_lists);
	RUN(workbuf_stress);
	RUN(getfull_rounds);
	RUN(parfor);
	return ctest_end();
}
