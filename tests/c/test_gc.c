/* test_gc.c: a C host collecting while its threads allocate.
 *
 * Threads grow chains whose head lives in a registered global region (each
 * new node is allocated pinned, linked in front, published in the region,
 * then unpinned), attached threads churn garbage through their Ps, and a
 * collector thread runs gcrt_gc with checkmark in both cycle modes.
 * Afterwards every chain is walked: length and per-node counters intact.
 * Also: finalizers from C, bad input, and the pacing trigger.  Clean under
 * TSan and ASan/UBSan (make SAN=... check).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ctest.h"
#include "gcrt.h"
#include "gcrt_test.h"

enum { NChains = 2, NChurn = 2, PerChain = 3000, Churn = 20000 };

struct shared {
	gcrt_runtime *rt;
	gcrt_type node, junk;
	void *heads[NChains]; /* the registered root region */
	_Atomic int running;
	_Atomic int attached, allocated, detach; /* churner progress; may detach */
	int ok[NChains + NChurn];
};

struct arg {
	struct shared *sh;
	int k;
};

static void *chain(void *p)
{
	struct arg *a = p;
	struct shared *sh = a->sh;
	for (int i = 0; i < PerChain; i++) {
		void *o;
		if (gcrt_alloc_pinned(sh->rt, sh->node, &o) != GCRT_OK ||
		    gcrt_write_ptr(sh->rt, o, 0, sh->heads[a->k]) != GCRT_OK ||
		    gcrt_write_word(sh->rt, o, 1, (uint64_t)i) != GCRT_OK)
			return NULL;
		__atomic_store_n(&sh->heads[a->k], o, __ATOMIC_RELEASE);
		if (gcrt_unpin(sh->rt, o) != GCRT_OK)
			return NULL;
	}
	sh->ok[a->k] = 1;
	return NULL;
}

static void *churn(void *p)
{
	struct arg *a = p;
	struct shared *sh = a->sh;
	gcrt_g *g;
	/* attached before the collector starts: gcrt_attach is GCRT_ESTATE
	 * while the world is stopped */
	int rc = gcrt_attach(sh->rt, &g);
	atomic_fetch_add(&sh->attached, 1);
	if (rc != GCRT_OK)
		return NULL;
	for (int i = 0; i < Churn; i++) {
		void *o;
		if (gcrt_g_alloc(g, sh->junk, &o) != GCRT_OK)
			return NULL;
	}
	/* Detach only once no collection runs: proc's gcrt_detach during a
	 * stop-the-world leaves its P idle uncounted (reported). */
	atomic_fetch_add(&sh->allocated, 1);
	while (!atomic_load(&sh->detach))
		sched_yield();
	sh->ok[a->k] = gcrt_detach(g) == GCRT_OK;
	return NULL;
}

static void *collector(void *p)
{
	struct shared *sh = p;
	for (int i = 0; atomic_load(&sh->running); i++) {
		gcrt_gc_options(sh->rt, GCRT_GC_CHECKMARK | GCRT_GC_CLOBBERFREE | (i % 2 ? GCRT_GC_STW : 0), NULL);
		if (gcrt_gc(sh->rt) != GCRT_OK)
			return NULL;
		/* back-to-back collections would starve the mutators, which
		 * wait on gclock while the world is stopped */
		usleep(200);
	}
	return NULL;
}

TEST(collect_while_threads_allocate)
{
	static struct shared sh;
	memset(&sh, 0, sizeof sh);
	sh.rt = ctest_newrt(2, 64 << 20);
	CHECK(sh.rt != NULL);
	uint8_t mask = 1, rmask = 3;
	CHECK_EQ(gcrt_type_new(sh.rt, 24, &mask, 1, &sh.node), GCRT_OK);
	CHECK_EQ(gcrt_type_new(sh.rt, 48, &mask, 1, &sh.junk), GCRT_OK);
	CHECK_EQ(gcrt_root_add(sh.rt, sh.heads, sizeof sh.heads, &rmask, NChains), GCRT_OK);
	atomic_store(&sh.running, 1);
	pthread_t th[NChains + NChurn], col;
	struct arg args[NChains + NChurn];
	for (int k = NChains; k < NChains + NChurn; k++) {
		args[k] = (struct arg){&sh, k};
		CHECK_EQ(pthread_create(&th[k], NULL, churn, &args[k]), 0);
	}
	while (atomic_load(&sh.attached) < NChurn)
		sched_yield();
	CHECK_EQ(pthread_create(&col, NULL, collector, &sh), 0);
	for (int k = 0; k < NChains; k++) {
		args[k] = (struct arg){&sh, k};
		CHECK_EQ(pthread_create(&th[k], NULL, chain, &args[k]), 0);
	}
	for (int k = 0; k < NChains; k++)
		pthread_join(th[k], NULL);
	while (atomic_load(&sh.allocated) < NChurn)
		sched_yield();
	atomic_store(&sh.running, 0);
	pthread_join(col, NULL);
	atomic_store(&sh.detach, 1);
	for (int k = NChains; k < NChains + NChurn; k++)
		pthread_join(th[k], NULL);
	CHECK_EQ(gcrt_failed(sh.rt), 0);
	for (int k = 0; k < NChains + NChurn; k++)
		CHECK_EQ(sh.ok[k] * 10 + k, 10 + k);
	CHECK_EQ(gcrt_gc(sh.rt), GCRT_OK);
	for (int k = 0; k < NChains; k++) {
		int n = PerChain;
		for (void *o = sh.heads[k]; o != NULL; n--) {
			uint64_t v;
			CHECK_EQ(gcrt_read_word(sh.rt, o, 1, &v), GCRT_OK);
			CHECK_EQ(v, n - 1);
			CHECK_EQ(gcrt_read_ptr(sh.rt, o, 0, &o), GCRT_OK);
		}
		CHECK_EQ(n, 0);
	}
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(sh.rt, &st), GCRT_OK);
	CHECK_EQ(st.heap_objects, NChains * PerChain);
	CHECK_EQ(gcrt_destroy(sh.rt), GCRT_OK);
}

static _Atomic int finran;
static void *finobj;

static void fin(gcrt_runtime *rt, void *obj, void *arg)
{
	uint64_t v;
	if (arg == &finran && obj == finobj && gcrt_read_word(rt, obj, 1, &v) == GCRT_OK && v == 42)
		atomic_fetch_add(&finran, 1);
}

TEST(finalizer_from_c)
{
	gcrt_type t;
	gcrt_runtime *rt = ctest_newrt_type(1, 64 << 20, 16, 1, 1, &t);
	CHECK(rt != NULL);
	CHECK_EQ(gcrt_alloc_pinned(rt, t, &finobj), GCRT_OK);
	CHECK_EQ(gcrt_write_word(rt, finobj, 1, 42), GCRT_OK);
	CHECK_EQ(gcrt_set_finalizer(rt, finobj, fin, &finran), GCRT_OK);
	CHECK_EQ(gcrt_set_finalizer(rt, finobj, fin, &finran), GCRT_ESTATE);
	CHECK_EQ(gcrt_set_finalizer(rt, (char *)finobj + 8, fin, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_set_finalizer(rt, &t, fin, NULL), GCRT_EBADOBJ);
	CHECK_EQ(gcrt_gc(rt), GCRT_OK);
	uint64_t n;
	CHECK_EQ(gcrt_finalizers_wait(rt, &n), GCRT_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(gcrt_unpin(rt, finobj), GCRT_OK);
	CHECK_EQ(gcrt_gc(rt), GCRT_OK);
	CHECK_EQ(gcrt_finalizers_wait(rt, &n), GCRT_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(atomic_load(&finran), 1);
	CHECK_EQ(gcrt_gc(rt), GCRT_OK);
	CHECK_EQ(gcrt_gc(rt), GCRT_OK);
	CHECK_EQ(gcrt_finalizers_wait(rt, &n), GCRT_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(gcrt_object_of(rt, finobj, NULL, NULL, NULL), GCRT_EBADOBJ);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(pacing_collects_and_bounds_the_heap)
{
	gcrt_type t;
	gcrt_runtime *rt = ctest_newrt_type(1, 64 << 20, 1024, 0, 0, &t);
	CHECK(rt != NULL);
	CHECK_EQ(gcrt_gc_options(rt, GCRT_GC_ENABLE | GCRT_GC_CLOBBERFREE, NULL), GCRT_OK);
	for (int i = 0; i < 50000; i++) {
		void *o;
		CHECK_EQ(gcrt_alloc(rt, t, &o), GCRT_OK);
	}
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK(st.numgc >= 5);
	CHECK(st.heap_sys <= 12u << 20);
	int32_t old;
	CHECK_EQ(gcrt_gc_percent(rt, -1, &old), GCRT_OK);
	CHECK_EQ(old, 100);
	uint32_t before = st.numgc;
	for (int i = 0; i < 20000; i++) {
		void *o;
		CHECK_EQ(gcrt_alloc(rt, t, &o), GCRT_OK);
	}
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.numgc, before);
	CHECK_EQ(gcrt_gc_percent(rt, -2, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_gc_options(rt, 1u << 20, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_gc(NULL), GCRT_EBADRT);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

int main(void)
{
	RUN(collect_while_threads_allocate);
	RUN(finalizer_from_c);
	RUN(pacing_collects_and_bounds_the_heap);
	return ctest_end();
}
