/* proc.c: Ps, Ms and Gs, and host threads that attach as Ms.
 *
 * schedinit creates cfg.nprocs Ps, each Pidle with its own mcache.  A host
 * thread calls gcrt_attach: it takes an idle P by CAS (Pidle -> Prunning),
 * gets an M and a G running inline, and then allocates from the P's mcache
 * with no locks.  gcrt_detach gives the P back (Prunning -> Pidle).
 *
 * Invariant: a P in Prunning has exactly one owner M, and that M's mcache
 * is the P's mcache; an M without a P has mcache == NULL.
 */
#include <stdlib.h>

#include "runtime.h"

int schedinit(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	lock_init(&s->lock);
	s->nprocs = rt->cfg.nprocs;
	s->allp = calloc((size_t)s->nprocs, sizeof(P));
	if (s->allp == NULL)
		return GCRT_ENOMEM;
	for (int32_t i = 0; i < s->nprocs; i++) {
		P *p = &s->allp[i];
		p->id = i;
		atomic_store(&p->status, Pidle);
		p->mcache = allocmcache(rt);
	}
	return GCRT_OK;
}

void schedfini(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	if (s->allp != NULL) {
		for (int32_t i = 0; i < s->nprocs; i++)
			if (s->allp[i].mcache != NULL)
				freemcache(rt, s->allp[i].mcache);
		free(s->allp);
		s->allp = NULL;
	}
	lock_destroy(&s->lock);
}

static const char *pstatusname(uint32_t s)
{
	static const char *const names[] = {"Pidle", "Prunning", "Psyscall", "Pgcstop", "Pdead"};
	return s < nelem(names) ? names[s] : "P?";
}

void sched_dump(struct gcrt_runtime *rt, dumpbuf *d)
{
	struct schedt *s = &rt->sched;
	dumpf(d, "sched: nprocs=%d mcount=%lld goidgen=%lld\n", s->nprocs, (long long)s->mcount,
	      (long long)s->goidgen);
	for (int32_t i = 0; s->allp != NULL && i < s->nprocs; i++) {
		P *p = &s->allp[i];
		dumpf(d, "  P%d: %s m=%lld\n", p->id, pstatusname(atomic_load(&p->status)),
		      p->m != NULL ? (long long)p->m->id : -1LL);
	}
}

static P *pidleget(struct gcrt_runtime *rt)
{
	struct schedt *s = &rt->sched;
	for (int32_t i = 0; i < s->nprocs; i++) {
		P *p = &s->allp[i];
		if (ATOMIC_CAS32(rt, "proc.pidleget.cas", &p->status, Pidle, Prunning))
			return p;
	}
	return NULL;
}

GCRT_API int gcrt_attach(gcrt_runtime *rt, gcrt_g **out)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (out == NULL)
		return GCRT_EINVAL;
	*out = NULL;
	M *m = calloc(1, sizeof *m);
	G *g = calloc(1, sizeof *g);
	if (m == NULL || g == NULL) {
		free(m);
		free(g);
		return GCRT_ENOMEM;
	}
	throwcatch tc;
	if (CATCH(rt, &tc)) {
		free(m);
		free(g);
		return GCRT_EFAILED;
	}
	LOCK(rt, &rt->sched.lock, "sched.lock");
	P *p = pidleget(rt);
	if (p != NULL) {
		m->id = ++rt->sched.mcount;
		g->goid = ++rt->sched.goidgen;
	}
	UNLOCK(rt, &rt->sched.lock, "sched.unlock");
	uncatch(&tc);
	if (p == NULL) {
		free(m);
		free(g);
		return GCRT_ESTATE;
	}
	p->m = m;
	m->p = p;
	m->mcache = p->mcache;
	m->curg = g;
	g->magic = GCRT_G_MAGIC;
	g->rt = rt;
	g->m = m;
	atomic_store(&g->atomicstatus, Grunning);
	*out = g;
	return GCRT_OK;
}

/* A G handle passed in by a host: live, attached, of a live runtime. */
static int gcheck(G *g)
{
	if (g == NULL || g->magic != GCRT_G_MAGIC)
		return GCRT_EINVAL;
	int rc = rt_check(g->rt);
	if (rc != GCRT_OK)
		return rc;
	if (g->m == NULL || g->m->p == NULL)
		return GCRT_ESTATE;
	return GCRT_OK;
}

GCRT_API int gcrt_detach(gcrt_g *g)
{
	int rc = gcheck(g);
	if (rc != GCRT_OK && rc != GCRT_EFAILED)
		return rc;
	M *m = g->m;
	P *p = m->p;
	p->m = NULL;
	m->p = NULL;
	m->mcache = NULL;
	atomic_store(&p->status, Pidle);
	g->magic = 0;
	free(m);
	free(g);
	return GCRT_OK;
}

GCRT_API int gcrt_g_alloc(gcrt_g *g, gcrt_type t, void **out)
{
	int rc = gcheck(g);
	if (rc != GCRT_OK)
		return rc;
	return malloc_typed(g->rt, g->m->mcache, t, out);
}
