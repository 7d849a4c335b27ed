/* ctest.h: a minimal test harness for the C hosts in tests/c.
 *
 *   TEST(name) { CHECK(expr); CHECK_EQ(a, b); ... }
 *   int main(void) { RUN(name); ...; return ctest_end(); }
 *   ctest_newrt(nprocs, arena_size): a runtime that records throws
 *   ctest_newrt_type(nprocs, arena_size, size, mask, nbits, &t): and one type
 *   ctest_sched(scenario, n_ms, &opts, &outcome, msg, len): one controlled run
 *
 * A failed CHECK reports file:line and the expression, fails the test and
 * carries on with the next test.  ctest_end prints "N passed, N failed"
 * and returns nonzero if anything failed or nothing ran.
 */
#ifndef CTEST_H
#define CTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcrt.h"
#include "gcrt_test.h"

static int ctest_passed, ctest_failed, ctest_cur_failed;

#define TEST(name) static void test_##name(void)

#define CHECK(expr)                                                                          \
	do {                                                                                 \
		if (!(expr)) {                                                               \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr); \
			ctest_cur_failed = 1;                                                \
			return;                                                              \
		}                                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                                       \
	do {                                                                                 \
		long long ctest_a = (long long)(a), ctest_b = (long long)(b);                \
		if (ctest_a != ctest_b) {                                                    \
			fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, \
				__LINE__, #a, #b, ctest_a, ctest_b);                         \
			ctest_cur_failed = 1;                                                \
			return;                                                              \
		}                                                                            \
	} while (0)

#define RUN(name)                                                                            \
	do {                                                                                 \
		ctest_cur_failed = 0;                                                        \
		test_##name();                                                               \
		if (ctest_cur_failed) {                                                      \
			ctest_failed++;                                                      \
			printf("FAIL %s\n", #name);                                          \
		} else {                                                                     \
			ctest_passed++;                                                      \
			printf("ok   %s\n", #name);                                          \
		}                                                                            \
		fflush(stdout);                                                              \
	} while (0)

/* A runtime that records throws (so a test can see GCRT_EFAILED); nprocs
 * or arena_size 0 keeps gcrt_config_init's default.  NULL on failure. */
static inline gcrt_runtime *ctest_newrt(int nprocs, uint64_t arena_size)
{
	gcrt_config cfg;
	gcrt_config_init(&cfg);
	if (nprocs > 0)
		cfg.nprocs = nprocs;
	if (arena_size > 0)
		cfg.arena_size = arena_size;
	cfg.on_throw = GCRT_THROW_RECORD;
	gcrt_runtime *rt = NULL;
	if (gcrt_new(&cfg, &rt) != GCRT_OK)
		return NULL;
	uint32_t opts; /* freed memory poisoned, PYGCRT_DEBUG's options kept */
	(void)gcrt_gc_options(rt, 0, &opts);
	(void)gcrt_gc_options(rt, opts | GCRT_GC_CLOBBERFREE, NULL);
	return rt;
}

/* ctest_newrt plus the type t of size bytes whose pointer mask is the
 * nbits low bits of mask (nbits 0: no pointers, the mask passed as NULL).
 * NULL (nothing left behind) on failure. */
static inline gcrt_runtime *ctest_newrt_type(int nprocs, uint64_t arena_size, size_t size,
					     uint8_t mask, size_t nbits, gcrt_type *t)
{
	gcrt_runtime *rt = ctest_newrt(nprocs, arena_size);
	if (rt != NULL && gcrt_type_new(rt, size, nbits > 0 ? &mask : NULL, nbits, t) != GCRT_OK) {
		(void)gcrt_destroy(rt);
		return NULL;
	}
	return rt;
}

/* Run a scenario under the controller with options o: *outcome is its
 * GCRT_SCHED_OUT_*, and msg (if not NULL) the start of its message.
 * Returns gcrt_test_sched_run's code (GCRT_ESTATE in a release build). */
static inline int ctest_sched(const char *scn, int nms, const gcrt_sched_opts *o,
			      int32_t *outcome, char *msg, size_t msglen)
{
	gcrt_schedrun *r;
	int rc = gcrt_test_sched_run(scn, nms, o, &r);
	if (rc != GCRT_OK)
		return rc;
	gcrt_sched_info info;
	gcrt_test_schedrun_info(r, &info);
	*outcome = info.outcome;
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s", gcrt_test_schedrun_message(r));
	gcrt_test_schedrun_free(r);
	return GCRT_OK;
}

static int ctest_end(void)
{
	printf("%d passed, %d failed\n", ctest_passed, ctest_failed);
	return ctest_failed != 0 || ctest_passed == 0;
}

#endif
