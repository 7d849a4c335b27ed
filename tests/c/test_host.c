/* test_host.c: a C host of libgcrt using only the public API (gcrt.h).
 *
 * Creates runtimes, registers types, allocates every size class and large
 * objects, checks the stats against its own count, resolves interior
 * pointers, feeds every entry point bad input (checking the runtime still
 * works after each), and creates and destroys many runtimes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "gcrt.h"

/* The smallest class size >= n, by the table's own walk (stats oracle). */
static uint64_t roundclass(const gcrt_stats *st, uint64_t n)
{
	for (int i = 1; i < GCRT_NUM_SIZE_CLASSES; i++)
		if (st->by_size[i].size >= n)
			return st->by_size[i].size;
	return (n + GCRT_PAGE_SIZE - 1) / GCRT_PAGE_SIZE * GCRT_PAGE_SIZE;
}

static int usable(gcrt_runtime *rt)
{
	uint8_t mask = 1;
	gcrt_type t;
	void *a, *b, *p;
	if (gcrt_type_new(rt, 16, &mask, 1, &t) != GCRT_OK || gcrt_alloc(rt, t, &a) != GCRT_OK ||
	    gcrt_alloc(rt, t, &b) != GCRT_OK)
		return 0;
	if (gcrt_write_ptr(rt, a, 0, b) != GCRT_OK || gcrt_read_ptr(rt, a, 0, &p) != GCRT_OK)
		return 0;
	return p == b && gcrt_failed(rt) == 0;
}

TEST(every_class_and_stats)
{
	gcrt_runtime *rt = ctest_newrt(0, 256 << 20);
	CHECK(rt != NULL);
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.by_size[1].size, 8);
	CHECK_EQ(st.by_size[66].size, 32768);
	uint64_t nobj = 0, bytes = 0;
	for (int cl = 1; cl < GCRT_NUM_SIZE_CLASSES; cl++) {
		uint32_t size = st.by_size[cl].size;
		uint8_t mask = 0x5;
		gcrt_type t;
		CHECK_EQ(gcrt_type_new(rt, size, &mask, size >= 24 ? 3 : 1, &t), GCRT_OK);
		int n = size <= 1024 ? 1100 : 12;
		char *prev = NULL;
		for (int i = 0; i < n; i++) {
			void *o;
			CHECK_EQ(gcrt_alloc(rt, t, &o), GCRT_OK);
			CHECK(o != prev);
			for (uint32_t j = 0; j < size; j++)
				CHECK(((char *)o)[j] == 0);
			memset(o, 0x5a, size); /* dirty it: the next object must still be zero */
			prev = o;
		}
		nobj += (uint64_t)n;
		bytes += (uint64_t)n * size;
	}
	gcrt_stats after;
	CHECK_EQ(gcrt_stats_read(rt, &after), GCRT_OK);
	CHECK_EQ(after.nmalloc, nobj);
	CHECK_EQ(after.total_alloc, bytes);
	CHECK_EQ(after.heap_objects, nobj);
	CHECK_EQ(after.by_size[1].nmalloc, 1100);
	CHECK_EQ(after.by_size[66].nmalloc, 12);
	CHECK_EQ(after.heap_inuse + after.heap_idle + after.stacks_inuse, after.heap_sys);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(large_objects_and_interior_pointers)
{
	gcrt_runtime *rt = ctest_newrt(0, 64 << 20);
	CHECK(rt != NULL);
	size_t sizes[] = {32769, 65536, 100000, 3 << 20};
	uint64_t bytes = 0;
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		uint8_t mask[2] = {0x81, 0x1};
		gcrt_type t;
		CHECK_EQ(gcrt_type_new(rt, sizes[k], mask, 9, &t), GCRT_OK);
		size_t sz, nw;
		CHECK_EQ(gcrt_type_info(rt, t, &sz, &nw), GCRT_OK);
		CHECK_EQ(sz, sizes[k]);
		CHECK_EQ(nw, (sizes[k] + 7) / 8);
		void *o;
		CHECK_EQ(gcrt_alloc(rt, t, &o), GCRT_OK);
		CHECK_EQ((uintptr_t)o % GCRT_PAGE_SIZE, 0);
		for (size_t off = 0; off < sizes[k]; off += 4093) {
			void *base;
			gcrt_type bt;
			size_t bsz;
			CHECK_EQ(gcrt_object_of(rt, (char *)o + off, &base, &bt, &bsz), GCRT_OK);
			CHECK(base == o);
			CHECK_EQ(bt, t);
			CHECK_EQ(bsz, sizes[k]);
		}
		CHECK_EQ(gcrt_object_of(rt, (char *)o + nw * 8, NULL, NULL, NULL), GCRT_EBADOBJ);
		CHECK_EQ(gcrt_write_ptr(rt, o, 8, (char *)o + 4), GCRT_OK);
		void *p;
		CHECK_EQ(gcrt_read_ptr(rt, o, 8, &p), GCRT_OK);
		CHECK(p == (char *)o + 4);
		CHECK_EQ(gcrt_write_word(rt, o, nw - 1, 42), GCRT_OK);
		uint64_t w;
		CHECK_EQ(gcrt_read_word(rt, o, nw - 1, &w), GCRT_OK);
		CHECK_EQ(w, 42);
		bytes += (sizes[k] + GCRT_PAGE_SIZE - 1) / GCRT_PAGE_SIZE * GCRT_PAGE_SIZE;
	}
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.nmalloc, 4);
	CHECK_EQ(st.total_alloc, bytes);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(small_interior_pointers)
{
	gcrt_type t;
	gcrt_runtime *rt = ctest_newrt_type(0, 16 << 20, 40, 0, 0, &t);
	CHECK(rt != NULL);
	void *objs[50];
	for (int i = 0; i < 50; i++)
		CHECK_EQ(gcrt_alloc(rt, t, &objs[i]), GCRT_OK);
	for (int i = 0; i < 50; i++) {
		for (int off = 0; off < 40; off++) {
			void *base;
			CHECK_EQ(gcrt_object_of(rt, (char *)objs[i] + off, &base, NULL, NULL), GCRT_OK);
			CHECK(base == objs[i]);
		}
		/* The class is 48 bytes: the slot's tail is not part of the object. */
		CHECK_EQ(gcrt_object_of(rt, (char *)objs[i] + 40, NULL, NULL, NULL), GCRT_EBADOBJ);
	}
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.total_alloc, 50 * roundclass(&st, 40));
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(bad_input_every_entry_point)
{
	gcrt_runtime *rt = ctest_newrt(0, 8 << 20);
	gcrt_runtime *other = ctest_newrt(0, 8 << 20);
	CHECK(rt != NULL && other != NULL);
	uint8_t mask[2] = {0x1, 0};
	gcrt_type t, ft, nt;
	void *o, *fo, *p;
	uint64_t w;
	CHECK_EQ(gcrt_type_new(rt, 24, mask, 1, &t), GCRT_OK);
	CHECK_EQ(gcrt_type_new(other, 24, mask, 1, &ft), GCRT_OK);
	CHECK_EQ(gcrt_alloc(rt, t, &o), GCRT_OK);
	CHECK_EQ(gcrt_alloc(other, ft, &fo), GCRT_OK);

	/* config */
	gcrt_config cfg;
	gcrt_runtime *bad = NULL;
	gcrt_config_init(&cfg);
	cfg.nprocs = 0;
	CHECK_EQ(gcrt_new(&cfg, &bad), GCRT_EINVAL);
	gcrt_config_init(&cfg);
	cfg.arena_size = 1;
	CHECK_EQ(gcrt_new(&cfg, &bad), GCRT_ESIZE);
	CHECK_EQ(gcrt_new(NULL, NULL), GCRT_EINVAL);
	/* types: size 0, over the arena, mask longer than the object, NULLs */
	CHECK_EQ(gcrt_type_new(rt, 0, NULL, 0, &nt), GCRT_ESIZE);
	CHECK_EQ(gcrt_type_new(rt, (9 << 20), NULL, 0, &nt), GCRT_ESIZE);
	CHECK_EQ(gcrt_type_new(rt, SIZE_MAX, NULL, 0, &nt), GCRT_ESIZE);
	CHECK_EQ(gcrt_type_new(rt, 16, mask, 3, &nt), GCRT_EINVAL);
	CHECK_EQ(gcrt_type_new(rt, 16, NULL, 1, &nt), GCRT_EINVAL);
	CHECK_EQ(gcrt_type_new(rt, 16, mask, 1, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_type_new(NULL, 16, mask, 1, &nt), GCRT_EBADRT);
	CHECK_EQ(gcrt_type_info(rt, ft, NULL, NULL), GCRT_EBADTYPE);
	CHECK_EQ(gcrt_type_info(rt, 0, NULL, NULL), GCRT_EBADTYPE);
	CHECK_EQ(gcrt_type_info(rt, t + 1, NULL, NULL), GCRT_EBADTYPE);
	/* alloc: unknown and foreign types */
	CHECK_EQ(gcrt_alloc(rt, ft, &p), GCRT_EBADTYPE);
	CHECK_EQ(gcrt_alloc(rt, 0, &p), GCRT_EBADTYPE);
	CHECK_EQ(gcrt_alloc(rt, t + 7, &p), GCRT_EBADTYPE);
	CHECK_EQ(gcrt_alloc(rt, t, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_alloc(NULL, t, &p), GCRT_EBADRT);
	/* objects: foreign, unknown, interior, NULL */
	char stackbuf[32];
	void *notobjs[] = {fo, stackbuf, (char *)o + 8, NULL, (void *)8};
	for (size_t k = 0; k < sizeof notobjs / sizeof notobjs[0]; k++) {
		CHECK_EQ(gcrt_read_word(rt, notobjs[k], 0, &w), GCRT_EBADOBJ);
		CHECK_EQ(gcrt_write_word(rt, notobjs[k], 1, 1), GCRT_EBADOBJ);
		CHECK_EQ(gcrt_read_ptr(rt, notobjs[k], 0, &p), GCRT_EBADOBJ);
		CHECK_EQ(gcrt_write_ptr(rt, notobjs[k], 0, NULL), GCRT_EBADOBJ);
		if (notobjs[k] != (char *)o + 8) /* an interior pointer is a fine value */
			CHECK_EQ(gcrt_write_ptr(rt, o, 0, notobjs[k] ? notobjs[k] : (void *)1),
				 GCRT_EBADOBJ);
	}
	CHECK_EQ(gcrt_write_ptr(rt, o, 0, (char *)o + 8), GCRT_OK);
	CHECK_EQ(gcrt_read_ptr(rt, o, 0, &p), GCRT_OK);
	CHECK(p == (char *)o + 8);
	CHECK_EQ(gcrt_write_ptr(rt, o, 0, NULL), GCRT_OK);
	CHECK_EQ(gcrt_object_of(rt, fo, NULL, NULL, NULL), GCRT_EBADOBJ);
	CHECK_EQ(gcrt_object_of(rt, stackbuf, NULL, NULL, NULL), GCRT_EBADOBJ);
	/* field index out of range; kind mismatches */
	CHECK_EQ(gcrt_read_word(rt, o, 3, &w), GCRT_ERANGE);
	CHECK_EQ(gcrt_write_word(rt, o, 3, 1), GCRT_ERANGE);
	CHECK_EQ(gcrt_read_ptr(rt, o, SIZE_MAX, &p), GCRT_ERANGE);
	CHECK_EQ(gcrt_write_ptr(rt, o, 3, NULL), GCRT_ERANGE);
	CHECK_EQ(gcrt_write_ptr(rt, o, 1, o), GCRT_EKIND);
	CHECK_EQ(gcrt_read_ptr(rt, o, 2, &p), GCRT_EKIND);
	CHECK_EQ(gcrt_write_word(rt, o, 0, (uint64_t)(uintptr_t)o), GCRT_EKIND);
	CHECK_EQ(gcrt_read_word(rt, o, 0, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_read_ptr(rt, o, 0, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_read_word(rt, o, 0, &w), GCRT_OK);
	CHECK_EQ(w, 0);
	/* stats */
	CHECK_EQ(gcrt_stats_read(rt, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_stats_read(NULL, NULL), GCRT_EBADRT);
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.nmalloc, 1);
	CHECK(usable(rt));
	CHECK(usable(other));
	/* use after destroy is caught by the handle check while the memory of
	 * the runtime record is still ours: only test NULL-like handles. */
	CHECK_EQ(gcrt_destroy(other), GCRT_OK);
	CHECK_EQ(gcrt_destroy(NULL), GCRT_EBADRT);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(arena_exhaustion)
{
	gcrt_runtime *rt = ctest_newrt(0, 4 << 20);
	CHECK(rt != NULL);
	gcrt_type big, small;
	CHECK_EQ(gcrt_type_new(rt, 3 << 20, NULL, 0, &big), GCRT_OK);
	CHECK_EQ(gcrt_type_new(rt, 512, NULL, 0, &small), GCRT_OK);
	void *a, *b;
	CHECK_EQ(gcrt_alloc(rt, big, &a), GCRT_OK);
	CHECK_EQ(gcrt_alloc(rt, big, &b), GCRT_ENOMEM);
	int n = 0;
	while (gcrt_alloc(rt, small, &b) == GCRT_OK)
		n++;
	CHECK(n >= 1000);
	CHECK_EQ(gcrt_alloc(rt, small, &b), GCRT_ENOMEM);
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.nmalloc, (uint64_t)n + 1);
	CHECK_EQ(gcrt_failed(rt), 0);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(attached_alloc)
{
	gcrt_type t;
	gcrt_runtime *rt = ctest_newrt_type(0, 16 << 20, 32, 2, 2, &t);
	CHECK(rt != NULL);
	gcrt_g *g;
	CHECK_EQ(gcrt_attach(rt, &g), GCRT_OK);
	void *prev = NULL;
	for (int i = 0; i < 5000; i++) {
		void *o;
		CHECK_EQ(gcrt_g_alloc(g, t, &o), GCRT_OK);
		CHECK_EQ(gcrt_write_ptr(rt, o, 1, prev), GCRT_OK);
		prev = o;
	}
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.nmalloc, 5000);
	CHECK_EQ(st.by_size[3].nmalloc, 5000);
	CHECK_EQ(gcrt_detach(g), GCRT_OK);
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.nmalloc, 5000);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

struct gcloop {
	gcrt_runtime *rt;
	_Atomic int stop;
	int ncollections;
};

static void *gcloop(void *arg)
{
	struct gcloop *l = arg;
	while (!atomic_load(&l->stop) && l->ncollections < 200)
		if (gcrt_gc(l->rt) == GCRT_OK)
			l->ncollections++;
	return NULL;
}

/* A host G that runs (gcrt_g_enter) across thousands of calls while
 * another thread collects: the collector must stop it at its polls, and
 * the list it builds (rooted only through a holder object in a registered
 * region, head stores through the barrier, each node numbered in a scalar
 * word) must survive whole. */
TEST(running_host_batch)
{
	gcrt_type t;
	gcrt_runtime *rt = ctest_newrt_type(0, 64 << 20, 16, 1, 1, &t);
	CHECK(rt != NULL);
	static void *root[1];
	uint8_t rootmask = 1;
	CHECK_EQ(gcrt_root_add(rt, root, sizeof root, &rootmask, 1), GCRT_OK);
	CHECK_EQ(gcrt_gc_options(rt, GCRT_GC_ENABLE | GCRT_GC_CLOBBERFREE, NULL), GCRT_OK);
	gcrt_g *g;
	CHECK_EQ(gcrt_attach(rt, &g), GCRT_OK);
	CHECK_EQ(gcrt_g_leave(g), GCRT_ESTATE);
	CHECK_EQ(gcrt_g_enter(g), GCRT_OK);
	CHECK_EQ(gcrt_g_enter(g), GCRT_ESTATE);
	CHECK_EQ(gcrt_safepoint(g), 0);
	CHECK_EQ(gcrt_g_alloc(g, t, &root[0]), GCRT_OK);
	void *holder = root[0];
	struct gcloop l = {.rt = rt};
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, gcloop, &l), 0);
	enum { N = 200000 };
	void *head = NULL;
	uint64_t n = 0;
	for (uint64_t i = 0; i < N; i++) {
		void *o, *junk;
		CHECK_EQ(gcrt_g_alloc(g, t, &junk), GCRT_OK);
		/* o is linked before the next poll (collections happen there) */
		CHECK_EQ(gcrt_g_alloc(g, t, &o), GCRT_OK);
		CHECK_EQ(gcrt_write_word(rt, o, 1, i), GCRT_OK);
		CHECK_EQ(gcrt_g_write_ptr(g, o, 0, head), GCRT_OK);
		CHECK_EQ(gcrt_g_write_ptr(g, holder, 0, o), GCRT_OK);
		head = o;
		if (i % 1000 == 0)
			CHECK_EQ(gcrt_safepoint(g), 0);
	}
	void *bad = &n;
	CHECK_EQ(gcrt_g_write_ptr(g, head, 0, bad), GCRT_EBADOBJ);
	CHECK_EQ(gcrt_g_write_ptr(g, bad, 0, NULL), GCRT_EBADOBJ);
	CHECK_EQ(gcrt_g_write_ptr(g, head, 1, NULL), GCRT_EKIND);
	CHECK_EQ(gcrt_g_write_ptr(NULL, head, 0, NULL), GCRT_EINVAL);
	CHECK_EQ(gcrt_g_leave(g), GCRT_OK);
	atomic_store(&l.stop, 1);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK(l.ncollections > 0);
	CHECK_EQ(gcrt_gc(rt), GCRT_OK);
	void *o;
	CHECK_EQ(gcrt_read_ptr(rt, holder, 0, &o), GCRT_OK);
	for (; o != NULL; n++) {
		uint64_t v;
		CHECK_EQ(gcrt_read_word(rt, o, 1, &v), GCRT_OK);
		CHECK_EQ(v, N - 1 - n);
		CHECK_EQ(gcrt_read_ptr(rt, o, 0, &o), GCRT_OK);
	}
	CHECK_EQ(n, N);
	CHECK_EQ(gcrt_g_enter(g), GCRT_OK);
	CHECK_EQ(gcrt_detach(g), GCRT_OK);
	CHECK_EQ(gcrt_failed(rt), 0);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

TEST(many_runtimes)
{
	enum { N = 16 };
	gcrt_runtime *rts[N];
	gcrt_type ts[N];
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < N; i++) {
			rts[i] = ctest_newrt(0, 8 << 20);
			CHECK(rts[i] != NULL);
			CHECK_EQ(gcrt_type_new(rts[i], 64, NULL, 0, &ts[i]), GCRT_OK);
			void *o;
			CHECK_EQ(gcrt_alloc(rts[i], ts[i], &o), GCRT_OK);
		}
		for (int i = 0; i < N; i++) {
			void *o;
			CHECK_EQ(gcrt_alloc(rts[i], ts[(i + 1) % N], &o), GCRT_EBADTYPE);
		}
		for (int i = 0; i < N; i++)
			CHECK_EQ(gcrt_destroy(rts[i]), GCRT_OK);
	}
}

enum { PerThread = 20000, NThreads = 3 };

struct worker {
	gcrt_runtime *rt;
	gcrt_type t;
	int attached;
	int ok;
	void *last;
};

/* Allocate a chain: through an attached P (lock-free) or gcrt_alloc. */
static void *work(void *arg)
{
	struct worker *w = arg;
	gcrt_g *g = NULL;
	void *prev = NULL;
	w->ok = 0;
	if (w->attached && gcrt_attach(w->rt, &g) != GCRT_OK)
		return NULL;
	for (int i = 0; i < PerThread; i++) {
		void *o;
		int rc = w->attached ? gcrt_g_alloc(g, w->t, &o) : gcrt_alloc(w->rt, w->t, &o);
		if (rc != GCRT_OK || gcrt_write_ptr(w->rt, o, 0, prev) != GCRT_OK)
			return NULL;
		if (i % 1000 == 0) {
			gcrt_stats st;
			void *base;
			if (gcrt_stats_read(w->rt, &st) != GCRT_OK ||
			    gcrt_object_of(w->rt, (char *)o + 8, &base, NULL, NULL) != GCRT_OK || base != o)
				return NULL;
		}
		prev = o;
	}
	if (g != NULL && gcrt_detach(g) != GCRT_OK)
		return NULL;
	w->last = prev;
	w->ok = 1;
	return NULL;
}

TEST(concurrent_allocation)
{
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	cfg.arena_size = 64 << 20;
	cfg.nprocs = 2;
	cfg.on_throw = GCRT_THROW_RECORD;
	gcrt_runtime *rt;
	CHECK_EQ(gcrt_new(&cfg, &rt), GCRT_OK);
	uint8_t mask = 1;
	gcrt_type t;
	CHECK_EQ(gcrt_type_new(rt, 24, &mask, 1, &t), GCRT_OK);
	struct worker ws[NThreads];
	pthread_t th[NThreads];
	for (int i = 0; i < NThreads; i++) {
		ws[i] = (struct worker){rt, t, i < 2, 0, NULL};
		CHECK_EQ(pthread_create(&th[i], NULL, work, &ws[i]), 0);
	}
	for (int i = 0; i < NThreads; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NThreads; i++)
		CHECK(ws[i].ok);
	/* Walk every chain: all objects distinct, counts match. */
	int n = 0;
	for (int i = 0; i < NThreads; i++) {
		void *o = ws[i].last;
		while (o != NULL) {
			n++;
			CHECK_EQ(gcrt_read_ptr(rt, o, 0, &o), GCRT_OK);
		}
	}
	CHECK_EQ(n, NThreads * PerThread);
	gcrt_stats st;
	CHECK_EQ(gcrt_stats_read(rt, &st), GCRT_OK);
	CHECK_EQ(st.nmalloc, (uint64_t)NThreads * PerThread);
	CHECK_EQ(st.by_size[3].nmalloc, (uint64_t)NThreads * PerThread);
	CHECK_EQ(gcrt_destroy(rt), GCRT_OK);
}

int main(void)
{
	RUN(every_class_and_stats);
	RUN(large_objects_and_interior_pointers);
	RUN(small_interior_pointers);
	RUN(bad_input_every_entry_point);
	RUN(arena_exhaustion);
	RUN(attached_alloc);
	RUN(running_host_batch);
	RUN(many_runtimes);
	RUN(concurrent_allocation);
	return ctest_end();
}
