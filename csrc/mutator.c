/* mutator.c: the goroutine-program VM, a workload host like any other.
 *
 * Each goroutine runs a verified program (mutator.h) as its step function:
 * the interpreter keeps the program counter in g->sched.pc and every
 * variable in frame slots on the goroutine's own stack, so the GC sees
 * them through the frame descriptors and copystack moves them.  A step
 * runs until an instruction yields, parks or ends the goroutine, or a
 * safepoint (CALL, LOOP back-edge) finds a preemption request.
 *
 * Canaries: word 0 of every object the VM allocates holds
 * canary(addr) ^ type index.  Every load checks the canary of the object
 * it reads from and of the object it loads; so does CHECK.  A zeroed,
 * poisoned or reused-by-another-type object fails the check, which is a
 * throw ("mutator: canary broken"): the collector freed a live object.
 *
 * Stats are written only by the goroutine's M and published by the
 * release store of `done` when the goroutine ends.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "mutator.h"

enum { MaxGroup = 4096, MaxSyscallUs = 1000000 };
#define NoReturn ((uintptr_t)-1)

typedef struct vmstate {
	gcrt_vm_program *prog;
	G *_Atomic *group;  /* the goroutines started together, for WAKE */
	uint32_t ngroup;
	uint32_t index;     /* this goroutine's place in group */
	int started;
	gcrt_vm_stats st;   /* written by the running M; see `done` */
	_Atomic int32_t done;
} vmstate;

static uint64_t canary(uintptr_t addr)
{
	return (addr ^ 0x6d7574617465ull) * CanaryMix;
}

/* The type index of a VM object, or a throw when its canary is broken. */
static uint32_t checkobj(struct gcrt_runtime *rt, const gcrt_vm_program *prog, uintptr_t obj)
{
	uint64_t w0 = ATOMIC_LOAD(rt, "mutator.canary.load", (_Atomic uint64_t *)obj);
	uint64_t t = w0 ^ canary(obj);
	if (t >= prog->ntypes)
		throw(rt, "mutator: canary broken");
	return (uint32_t)t;
}

static bool ptrfield(struct gcrt_runtime *rt, const gcrt_vm_program *prog, uint32_t t, int32_t f)
{
	const typeinfo *ti = typeof_handle(rt, prog->types[t]);
	return f >= 1 && (uintptr_t)f < ti->nmaskwords && (ti->ptrmask[f / 8] >> (f % 8) & 1);
}

static int finish(G *g, vmstate *v, int rc)
{
	v->st.exitcode = rc;
	v->st.done = 1;
	g->exitcode = rc;
	atomic_store_explicit(&v->done, 1, memory_order_release);
	return StepExit;
}

static void notestack(G *g, vmstate *v)
{
	uintptr_t n = g->stack.hi - g->stack.lo;
	if (n > v->st.maxstack)
		v->st.maxstack = n;
}

/* One step of a VM goroutine. */
static int vmstep(G *g, void *arg)
{
	struct gcrt_runtime *rt = g->rt;
	vmstate *v = arg;
	const gcrt_vm_program *prog = v->prog;
	v->st.steps++;
	if (!v->started) {
		v->started = 1;
		int rc = pushframe(rt, g, prog->funcdesc[0], NoReturn);
		if (rc != GCRT_OK)
			return finish(g, v, rc);
		g->sched.pc = prog->funcentry[0];
		notestack(g, v);
	}
	for (;;) {
		const gcrt_vm_insn *in = &prog->code[g->sched.pc];
		uintptr_t *slots = frameslots(g);
		v->st.insns++;
		switch (in->op) {
		case GCRT_VM_ALLOC: {
			void *o;
			mallocpoll(rt, g);
			M *m = ATOMIC_LOAD(rt, "mutator.alloc.gm", &g->m);
			int rc = malloc_typed(rt, m->mcache, prog->types[in->b], &o);
			if (rc != GCRT_OK)
				return finish(g, v, rc);
			ATOMIC_STORE(rt, "mutator.canary.store", (_Atomic uint64_t *)o,
				     canary((uintptr_t)o) ^ (uint64_t)in->b);
			slots[in->a] = (uintptr_t)o;
			v->st.allocs++;
			break;
		}
		case GCRT_VM_LOAD: {
			uintptr_t obj = slots[in->b];
			if (obj == 0)
				return finish(g, v, GCRT_EBADOBJ);
			if (!ptrfield(rt, prog, checkobj(rt, prog, obj), in->c))
				return finish(g, v, GCRT_EKIND);
			uintptr_t val = (uintptr_t)ATOMIC_LOAD(rt, "mutator.load",
							       (void *_Atomic *)obj + in->c);
			if (val != 0) {
				checkobj(rt, prog, val);
				v->st.loads++;
			}
			slots[in->a] = val;
			break;
		}
		case GCRT_VM_STORE: {
			uintptr_t obj = slots[in->a];
			if (obj == 0)
				return finish(g, v, GCRT_EBADOBJ);
			if (!ptrfield(rt, prog, checkobj(rt, prog, obj), in->b))
				return finish(g, v, GCRT_EKIND);
			writebarrierptr(rt, (void *_Atomic *)obj + in->b, (void *)slots[in->c]);
			v->st.stores++;
			break;
		}
		case GCRT_VM_CLEAR:
			slots[in->a] = 0;
			break;
		case GCRT_VM_MOVE:
			slots[in->a] = slots[in->b];
			break;
		case GCRT_VM_CALL: {
			if (safepoint(rt, g))
				return StepYield; /* the CALL runs again next step */
			int rc = pushframe(rt, g, prog->funcdesc[in->a], g->sched.pc + 1);
			if (rc != GCRT_OK)
				return finish(g, v, rc);
			notestack(g, v);
			g->sched.pc = prog->funcentry[in->a];
			continue;
		}
		case GCRT_VM_RET: {
			uintptr_t retpc = popframe(rt, g);
			if (g->sched.fp == 0)
				return finish(g, v, GCRT_OK);
			g->sched.pc = retpc;
			continue;
		}
		case GCRT_VM_YIELD:
			g->sched.pc++;
			return StepYield;
		case GCRT_VM_PARK:
			g->sched.pc++;
			return StepPark;
		case GCRT_VM_WAKE: {
			uint32_t j = (uint32_t)(((uint64_t)v->index + (uint64_t)in->a) % v->ngroup);
			G *peer = ATOMIC_LOAD(rt, "mutator.wake.peer", &v->group[j]);
			if (peer != NULL && peer != g)
				ready(rt, peer);
			break;
		}
		case GCRT_VM_SYSCALL:
			entersyscall(rt, g);
			gcrt_usleep((uint32_t)in->a);
			exitsyscall(rt, g);
			break;
		case GCRT_VM_GC:
			gcrequest(rt, g);
			break;
		case GCRT_VM_SETI:
			slots[in->a] = (uintptr_t)(int64_t)in->b;
			break;
		case GCRT_VM_LOOP:
			if ((intptr_t)--slots[in->b] > 0) {
				g->sched.pc = (uintptr_t)in->a;
				if (safepoint(rt, g))
					return StepYield;
				continue;
			}
			break;
		case GCRT_VM_CHECK:
			if (slots[in->a] != 0)
				checkobj(rt, prog, slots[in->a]);
			break;
		case GCRT_VM_EXIT:
			return finish(g, v, GCRT_OK);
		default:
			break; /* NOP */
		}
		g->sched.pc++;
	}
}

/* ---- verification ---- */

typedef struct vcheck {
	const framedesc *d;
	int rc;
} vcheck;

static void fail(vcheck *c, int rc)
{
	if (c->rc == GCRT_OK)
		c->rc = rc;
}

/* slot must exist in the frame and be a pointer slot iff ptr. */
static void slot(vcheck *c, int32_t s, bool ptr)
{
	if (s < 0 || (uint32_t)s >= c->d->nslots) {
		fail(c, GCRT_ERANGE);
		return;
	}
	bool isptr = c->d->bitmap != NULL && (c->d->bitmap[s / 8] >> (s % 8) & 1);
	if (isptr != ptr)
		fail(c, GCRT_EKIND);
}

static void verifyinsn(vcheck *c, const gcrt_vm_insn *in, uint32_t pc, uint32_t entry,
		       size_t nfuncs, size_t ntypes)
{
	switch (in->op) {
	case GCRT_VM_ALLOC:
		slot(c, in->a, true);
		if (in->b < 0 || (size_t)in->b >= ntypes)
			fail(c, GCRT_EINVAL);
		break;
	case GCRT_VM_LOAD:
		slot(c, in->a, true);
		slot(c, in->b, true);
		if (in->c < 1)
			fail(c, GCRT_ERANGE);
		break;
	case GCRT_VM_STORE:
		slot(c, in->a, true);
		slot(c, in->c, true);
		if (in->b < 1)
			fail(c, GCRT_ERANGE);
		break;
	case GCRT_VM_CLEAR:
	case GCRT_VM_CHECK:
		slot(c, in->a, true);
		break;
	case GCRT_VM_MOVE:
		slot(c, in->a, true);
		slot(c, in->b, true);
		break;
	case GCRT_VM_CALL:
		if (in->a < 0 || (size_t)in->a >= nfuncs)
			fail(c, GCRT_EINVAL);
		break;
	case GCRT_VM_WAKE:
		if (in->a < 0)
			fail(c, GCRT_EINVAL);
		break;
	case GCRT_VM_SYSCALL:
		if (in->a < 0 || in->a > MaxSyscallUs)
			fail(c, GCRT_EINVAL);
		break;
	case GCRT_VM_SETI:
		slot(c, in->a, false);
		break;
	case GCRT_VM_LOOP:
		if (in->a < 0 || (uint32_t)in->a < entry || (uint32_t)in->a > pc)
			fail(c, GCRT_EINVAL); /* back-edges within the function only */
		slot(c, in->b, false);
		break;
	case GCRT_VM_NOP:
	case GCRT_VM_RET:
	case GCRT_VM_YIELD:
	case GCRT_VM_PARK:
	case GCRT_VM_GC:
	case GCRT_VM_EXIT:
		break;
	default:
		fail(c, GCRT_EINVAL);
	}
}

static int verify(struct gcrt_runtime *rt, const gcrt_vm_insn *code, size_t ncode,
		  const uint32_t *desc, const uint32_t *entry, size_t nfuncs, const gcrt_type *types,
		  size_t ntypes)
{
	for (size_t t = 0; t < ntypes; t++) {
		const typeinfo *ti = typeof_handle(rt, types[t]);
		if (ti == NULL)
			return GCRT_EBADTYPE;
		if (ti->nmaskwords > 0 && (ti->ptrmask[0] & 1))
			return GCRT_EINVAL; /* word 0 is the canary */
	}
	vcheck c = {NULL, GCRT_OK};
	for (size_t f = 0; f < nfuncs && c.rc == GCRT_OK; f++) {
		uint32_t lo = entry[f], hi = f + 1 < nfuncs ? entry[f + 1] : (uint32_t)ncode;
		if ((f == 0 && lo != 0) || lo >= hi || hi > ncode)
			return GCRT_EINVAL;
		c.d = framedesc_get(rt, desc[f]);
		if (c.d == NULL)
			return GCRT_EINVAL;
		for (uint32_t pc = lo; pc < hi; pc++)
			verifyinsn(&c, &code[pc], pc, lo, nfuncs, ntypes);
		int32_t last = code[hi - 1].op;
		if (last != GCRT_VM_RET && last != GCRT_VM_EXIT)
			fail(&c, GCRT_EINVAL); /* would run into the next function */
	}
	return c.rc;
}

/* ---- public API ---- */

static void *pcopy(struct gcrt_runtime *rt, const void *src, size_t n)
{
	void *p = persistentalloc(rt, n > 0 ? n : 1, 8, NULL);
	if (p != NULL && n > 0)
		memcpy(p, src, n);
	return p;
}

static int programnew(struct gcrt_runtime *rt, const gcrt_vm_insn *code, size_t ncode,
		      const uint32_t *desc, const uint32_t *entry, size_t nfuncs,
		      const gcrt_type *types, size_t ntypes, gcrt_vm_program **out)
{
	int rc = verify(rt, code, ncode, desc, entry, nfuncs, types, ntypes);
	gcrt_vm_program *p = NULL;
	if (rc == GCRT_OK) {
		p = persistentalloc(rt, sizeof *p, 8, NULL);
		if (p != NULL) {
			p->code = pcopy(rt, code, ncode * sizeof *code);
			p->funcdesc = pcopy(rt, desc, nfuncs * sizeof *desc);
			p->funcentry = pcopy(rt, entry, nfuncs * sizeof *entry);
			p->types = pcopy(rt, types, ntypes * sizeof *types);
		}
		if (p == NULL || p->code == NULL || p->funcdesc == NULL || p->funcentry == NULL ||
		    p->types == NULL) {
			rc = GCRT_ENOMEM;
		} else {
			p->rt = rt;
			p->ncode = (uint32_t)ncode;
			p->nfuncs = (uint32_t)nfuncs;
			p->ntypes = (uint32_t)ntypes;
			p->magic = VmMagic;
			*out = p;
		}
	}
	return rc;
}

GCRT_API int gcrt_vm_program_new(gcrt_runtime *rt, const gcrt_vm_insn *code, size_t ncode,
				 const uint32_t *desc, const uint32_t *entry, size_t nfuncs,
				 const gcrt_type *types, size_t ntypes, gcrt_vm_program **out)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (out == NULL || code == NULL || ncode == 0 || ncode > (1u << 24) || desc == NULL ||
	    entry == NULL || nfuncs == 0 || nfuncs > ncode || (ntypes > 0 && types == NULL) ||
	    ntypes > (1u << 16))
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, programnew(rt, code, ncode, desc, entry, nfuncs, types, ntypes, out));
}

static int vmgo(struct gcrt_runtime *rt, gcrt_vm_program *prog, size_t n, G **gs)
{
	G *_Atomic *group = persistentalloc(rt, n * sizeof *group, 8, NULL);
	vmstate *vs = group != NULL ? persistentalloc(rt, n * sizeof *vs, 8, NULL) : NULL;
	int rc = vs == NULL ? GCRT_ENOMEM : GCRT_OK;
	for (size_t i = 0; i < n && rc == GCRT_OK; i++) {
		vs[i].prog = prog;
		vs[i].group = group;
		vs[i].ngroup = (uint32_t)n;
		vs[i].index = (uint32_t)i;
		rc = gcrt_go(rt, vmstep, &vs[i], &gs[i]);
		if (rc == GCRT_OK)
			ATOMIC_STORE(rt, "mutator.go.group", &group[i], gs[i]);
	}
	return rc;
}

GCRT_API int gcrt_vm_go(gcrt_runtime *rt, gcrt_vm_program *prog, size_t n, gcrt_g **gs)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (prog == NULL || prog->magic != VmMagic || prog->rt != rt || n == 0 || n > MaxGroup ||
	    gs == NULL)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, vmgo(rt, prog, n, gs));
}

GCRT_API int gcrt_vm_stats_read(gcrt_runtime *rt, gcrt_g *g, gcrt_vm_stats *out)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	if (g == NULL || g->magic != GCRT_G_MAGIC || g->rt != rt || g->fn != vmstep || out == NULL)
		return GCRT_EINVAL;
	vmstate *v = g->arg;
	if (!atomic_load_explicit(&v->done, memory_order_acquire))
		return GCRT_ESTATE;
	*out = v->st;
	return GCRT_OK;
}
