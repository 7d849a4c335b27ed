/* runtime.c: creating and destroying a runtime instance.
 *
 * gcrt_new validates the configuration, then brings the pieces up in
 * order: schedule points, persistent metadata, the heap (arena, spans,
 * size classes), the mark work lists, the scheduler (Ps with their
 * mcaches).  gcrt_destroy takes them down in reverse, unmapping every
 * mapping, so nothing of the runtime survives it.  A runtime that threw in
 * record mode stays destroyable.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

void persistent_fini(struct gcrt_runtime *rt);

enum {
	MaxProcs = 256,
	MinArena = 4 << 20,
};
#define MaxArena (1ull << 40)

GCRT_API void gcrt_config_init(gcrt_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof *cfg);
	cfg->nprocs = 2;
	cfg->gogc = 100;
	cfg->arena_size = 1ull << 30;
	cfg->arena_hint = 0;
	cfg->on_throw = GCRT_THROW_ABORT;
	cfg->max_types = 4096;
	cfg->heap_minimum = 4 << 20; /* Go's heapminimum */
}

static int config_check(const gcrt_config *c)
{
	if (c->nprocs < 1 || c->nprocs > MaxProcs)
		return GCRT_EINVAL;
	if (c->gogc < -1)
		return GCRT_EINVAL;
	if (c->arena_size < MinArena || c->arena_size > MaxArena)
		return GCRT_ESIZE;
	if (c->arena_hint % (64 << 10) != 0)
		return GCRT_EINVAL;
	if (c->on_throw != GCRT_THROW_ABORT && c->on_throw != GCRT_THROW_RECORD)
		return GCRT_EINVAL;
	if (c->max_types < 1 || c->max_types > 65535)
		return GCRT_EINVAL;
	return GCRT_OK;
}

static void teardown(struct gcrt_runtime *rt, int upto)
{
	if (upto >= 2)
		gcfini(rt);
	if (upto >= 3)
		schedfini(rt);
	if (upto >= 2)
		gcworkfini(rt);
	if (upto >= 1)
		mallocfini(rt);
	persistent_fini(rt);
	lock_destroy(&rt->pers.lock);
	sched_points_fini(rt);
	free(rt->thr.report);
	rt->magic = GCRT_DEAD;
	free(rt);
}

GCRT_API int gcrt_new(const gcrt_config *cfg, gcrt_runtime **out)
{
	gcrt_config def;
	if (out == NULL)
		return GCRT_EINVAL;
	*out = NULL;
	if (cfg == NULL) {
		gcrt_config_init(&def);
		cfg = &def;
	}
	int rc = config_check(cfg);
	if (rc != GCRT_OK)
		return rc;
	struct gcrt_runtime *rt = calloc(1, sizeof *rt);
	if (rt == NULL)
		return GCRT_ENOMEM;
	rt->cfg = *cfg;
	rt->magic = GCRT_MAGIC;
	lock_init(&rt->pers.lock);
	sched_points_init(rt);

	volatile int stage = 0;
	throwcatch tc;
	if (CATCH(rt, &tc)) {
		teardown(rt, stage);
		return GCRT_EFAILED;
	}
	rc = mallocinit(rt);
	if (rc == GCRT_OK) {
		stage = 1;
		gcworkinit(rt);
		gcinit(rt);
		stage = 2;
		rc = schedinit(rt);
		if (rc == GCRT_OK)
			stage = 3;
	}
	uncatch(&tc);
	if (rc != GCRT_OK) {
		teardown(rt, stage);
		return rc;
	}
	*out = rt;
	return GCRT_OK;
}

GCRT_API int gcrt_destroy(gcrt_runtime *rt)
{
	if (rt == NULL || rt->magic != GCRT_MAGIC)
		return GCRT_EBADRT;
	teardown(rt, 3);
	return GCRT_OK;
}

GCRT_API const char *gcrt_last_throw(gcrt_runtime *rt)
{
	if (rt == NULL || rt->magic != GCRT_MAGIC || !atomic_load(&rt->thr.failed))
		return "";
	/* failed is the first thrower's claim; its report follows at once.
	 * A caller that saw GCRT_EFAILED must not read it before then. */
	while (!atomic_load_explicit(&rt->thr.published, memory_order_acquire))
		osyield();
	return rt->thr.report != NULL ? rt->thr.report : "";
}

GCRT_API int gcrt_failed(gcrt_runtime *rt)
{
	if (rt == NULL || rt->magic != GCRT_MAGIC)
		return GCRT_EBADRT;
	return atomic_load(&rt->thr.failed) ? 1 : 0;
}

GCRT_API const char *gcrt_strerror(int err)
{
	switch (err) {
	case GCRT_OK:
		return "ok";
	case GCRT_EINVAL:
		return "invalid argument";
	case GCRT_EBADRT:
		return "not a live runtime";
	case GCRT_EBADTYPE:
		return "unknown type or type of another runtime";
	case GCRT_EBADOBJ:
		return "not an allocated object of this runtime";
	case GCRT_ERANGE:
		return "index out of range";
	case GCRT_ESIZE:
		return "bad size";
	case GCRT_EKIND:
		return "pointer/scalar mismatch for this word";
	case GCRT_ENOMEM:
		return "out of memory: arena exhausted";
	case GCRT_ESTATE:
		return "not allowed in the current state";
	case GCRT_EFAILED:
		return "runtime failed: a fatal error was recorded";
	}
	return "unknown error";
}
