/* sched.c: the slow path of schedule points.
 *
 * Points are compiled into every shared-memory operation (atomic.h).  While
 * rt->schedmode is SCHED_OFF they cost one relaxed load; otherwise they land
 * here:
 *   SCHED_COUNT   count hits per site in an open-addressed table keyed by
 *                 the site's address (lock-free: claim a slot by CAS);
 *   SCHED_CHAOS   disturb the thread at random: yield, spin, or sleep a
 *                 little, driven by a seeded counter-based PRNG;
 *   SCHED_FAILED  the runtime threw in record mode: a thread that has a
 *                 catcher for this runtime unwinds to it;
 *   SCHED_CONTROL a deterministic run: the controller (schedctl.c) decides
 *                 at every point which M runs next.
 * The set of all sites is the gcrt_sp ELF section.  Sorted by (name, line)
 * a site's rank is its id: stable across runs and processes of one build,
 * never dependent on execution order.  The hash of the sorted names stamps
 * schedule strings, so a replay against changed points is refused.
 *
 * Deterministic runs: the controller is schedctl.c, the run harness and
 * toy scenarios schedtest.c, the work-list scenarios schedwork.c.  A piece
 * of the runtime adds a scenario of its own, in its own file, with
 * SCHED_SCENARIO (schedctl.h explains the fields); `python -m pygcrt.sched
 * list` then shows it and sched.run / replay / fuzz drive it.  Its Ms must
 * be started with rtthread_start (the run harness starts the body's Ms;
 * Ms started from inside a run, e.g. background workers, are controlled
 * too), every wait loop needs a SCHED_SPIN or a lock / note / join wait,
 * and code that reads time uses rt_nanotime / rt_usleep (virtual in
 * controlled runs).
 */
#include <stdlib.h>
#include <string.h>

#include "schedctl.h"

int throw_has_catcher(struct gcrt_runtime *rt);

extern const sched_site __start_gcrt_sp[] __attribute__((weak, visibility("hidden")));
extern const sched_site __stop_gcrt_sp[] __attribute__((weak, visibility("hidden")));

enum { CountSlots = 4096 };

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void sched_points_init(struct gcrt_runtime *rt)
{
	rt->sp.mode = SCHED_OFF;
	rt->sp.ncounts = CountSlots;
	rt->sp.counts = calloc(CountSlots, sizeof(sitecount));
	if (rt->sp.counts == NULL)
		rt->sp.ncounts = 0;
	atomic_store(&rt->sp.seed, 1);
	rt->sp.chaos_permille = 0;
}

void sched_points_fini(struct gcrt_runtime *rt)
{
	free(rt->sp.counts);
	rt->sp.counts = NULL;
}

static void count(struct gcrt_runtime *rt, const sched_site *site)
{
	if (rt->sp.ncounts == 0)
		return;
	uint32_t mask = rt->sp.ncounts - 1;
	uint32_t i = (uint32_t)mix64((uintptr_t)site) & mask;
	for (uint32_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
		sitecount *c = &rt->sp.counts[i];
		const sched_site *cur = atomic_load(&c->site);
		if (cur == NULL) {
			const sched_site *expect = NULL;
			if (!atomic_compare_exchange_strong(&c->site,
							    &expect, site) &&
			    expect != site)
				continue;
			cur = site;
		}
		if (cur == site) {
			atomic_fetch_add(&c->hits, 1);
			return;
		}
	}
}

static void chaos(struct gcrt_runtime *rt)
{
	uint64_t r = mix64(atomic_fetch_add(&rt->sp.seed, 0x9e3779b97f4a7c15ull));
	if (r % 1000 >= rt->sp.chaos_permille)
		return;
	r >>= 10;
	switch (r % 8) {
	case 0:
		gcrt_usleep(1 + (uint32_t)(r >> 3) % 50);
		break;
	case 1:
	case 2:
	case 3:
		osyield();
		break;
	default:
		procyield(1 + (int)((r >> 3) % 200));
		break;
	}
}

int sched_at(struct gcrt_runtime *rt, const sched_site *site, uint64_t value)
{
	(void)value;
	switch (atomic_load_explicit(&rt->schedmode, memory_order_relaxed)) {
	case SCHED_COUNT:
		count(rt, site);
		break;
	case SCHED_CHAOS:
		if (site->kind != SP_NOTE) /* trace only: no disturbance */
			chaos(rt);
		break;
	case SCHED_FAILED:
		if (throw_has_catcher(rt))
			throw_unwind(rt);
		break;
	case SCHED_CONTROL:
		return ctl_at(rt, site, value);
	}
	return 0;
}

/* ---- test hooks ---- */

static int bysitename(const void *a, const void *b)
{
	const sched_site *x = *(const sched_site *const *)a, *y = *(const sched_site *const *)b;
	int c = strcmp(x->name, y->name);
	return c != 0 ? c : x->line - y->line;
}

GCRT_API int gcrt_test_sched_nsites(void)
{
	return __start_gcrt_sp == NULL ? 0 : (int)(__stop_gcrt_sp - __start_gcrt_sp);
}

/* The sites sorted by (name, line), and for each section index its rank.
 * Both arrays are malloc'd for the caller; returns the count or -1. */
int sched_sites(const sched_site ***sorted, int32_t **rank)
{
	int n = gcrt_test_sched_nsites();
	const sched_site **v = malloc(((size_t)n + 1) * sizeof *v);
	int32_t *r = malloc(((size_t)n + 1) * sizeof *r);
	if (v == NULL || r == NULL) {
		free(v);
		free(r);
		return -1;
	}
	for (int k = 0; k < n; k++)
		v[k] = &__start_gcrt_sp[k];
	qsort(v, (size_t)n, sizeof *v, bysitename);
	for (int k = 0; k < n; k++)
		r[v[k] - __start_gcrt_sp] = k;
	*sorted = v;
	*rank = r;
	return n;
}

uint32_t sched_sitehash(void)
{
	const sched_site **v;
	int32_t *r;
	int n = sched_sites(&v, &r);
	uint32_t h = 2166136261u;
	for (int k = 0; k < n; k++) {
		for (const char *c = v[k]->name; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		h = (h ^ '\n') * 16777619u;
	}
	if (n >= 0) {
		free(v);
		free(r);
	}
	return h;
}

GCRT_API uint32_t gcrt_test_sched_sitehash(void)
{
	return sched_sitehash();
}

GCRT_API int gcrt_test_sched_site(int i, const char **name, const char **file, int *line)
{
	if (i < 0 || i >= gcrt_test_sched_nsites() || name == NULL || file == NULL ||
	    line == NULL)
		return GCRT_ERANGE;
	const sched_site **v;
	int32_t *r;
	if (sched_sites(&v, &r) < 0)
		return GCRT_ENOMEM;
	*name = v[i]->name;
	*file = v[i]->file;
	*line = v[i]->line;
	free(v);
	free(r);
	return GCRT_OK;
}

GCRT_API int gcrt_test_sched_mode(gcrt_runtime *rt, int mode, uint64_t seed, uint32_t permille)
{
	int rc = rt_check_args(rt, mode != SCHED_OFF && mode != SCHED_COUNT && mode != SCHED_CHAOS);
	if (rc != GCRT_OK)
		return rc;
	if (permille > 1000)
		return GCRT_EINVAL;
	if (!GCRT_SCHED && mode != SCHED_OFF)
		return GCRT_ESTATE;
	rt->sp.mode = mode;
	rt->sp.chaos_permille = permille;
	atomic_store(&rt->sp.seed, seed | 1);
	atomic_store(&rt->schedmode, (uint32_t)mode);
	return GCRT_OK;
}

GCRT_API int gcrt_test_sched_hits(gcrt_runtime *rt, const char *name, uint64_t *out)
{
	int rc = rt_check_args(rt, name == NULL || out == NULL);
	if (rc != GCRT_OK)
		return rc;
	uint64_t total = 0;
	for (uint32_t i = 0; i < rt->sp.ncounts; i++) {
		const sched_site *s = atomic_load(&rt->sp.counts[i].site);
		if (s != NULL && strcmp(s->name, name) == 0)
			total += atomic_load(&rt->sp.counts[i].hits);
	}
	*out = total;
	return GCRT_OK;
}
