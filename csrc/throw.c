/* throw.c: fatal errors.
 *
 * throw(rt, msg) is Go's runtime·throw: a violated invariant.  It builds
 * "fatal error: <msg>" and a dump of the runtime's state (heap, work lists,
 * scheduler), then either aborts (the default) or, when the runtime was
 * created with GCRT_THROW_RECORD, records the report, marks the runtime
 * failed and unwinds to the innermost catcher installed for this runtime on
 * the current thread.  Public entry points install catchers, so a recorded
 * throw surfaces as GCRT_EFAILED; runtime threads install one in their start
 * routine and exit.  Other threads leave at their next schedule point,
 * because a failed runtime switches every point to its slow path.
 *
 * Invariants: the first throw wins the report; later throws only unwind.
 * failed is set (the claim) before the report is stored; published then
 * tells readers (gcrt_last_throw) that the report is in place.
 * A throw while building a dump (a nested throw) prints and aborts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

/* The innermost catcher of the calling thread, and the nesting of throws
 * on it.  Per-thread call context, never shared. */
static _Thread_local throwcatch *curcatch;
static _Thread_local int throwing;

void catch_push(throwcatch *tc, struct gcrt_runtime *rt)
{
	tc->rt = rt;
	tc->prev = curcatch;
	curcatch = tc;
}

void uncatch(throwcatch *tc)
{
	curcatch = tc->prev;
}

static throwcatch *findcatch(struct gcrt_runtime *rt)
{
	for (throwcatch *tc = curcatch; tc != NULL; tc = tc->prev)
		if (tc->rt == rt)
			return tc;
	return NULL;
}

int throw_has_catcher(struct gcrt_runtime *rt)
{
	return findcatch(rt) != NULL;
}

void dumpf(dumpbuf *d, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = d->cap - d->len;
		va_start(ap, fmt);
		int n = vsnprintf(d->p + d->len, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			d->len += (size_t)n;
			return;
		}
		size_t cap = d->cap * 2 + (size_t)n;
		char *p = realloc(d->p, cap);
		if (p == NULL)
			return;
		d->p = p;
		d->cap = cap;
	}
}

static char *buildreport(struct gcrt_runtime *rt, const char *msg)
{
	dumpbuf d = {malloc(1024), 0, 1024};
	if (d.p == NULL)
		return NULL;
	d.p[0] = 0;
	dumpf(&d, "fatal error: %s\n\n", msg);
	mheap_dump(rt, &d);
	work_dump(rt, &d);
	sched_dump(rt, &d);
	return d.p;
}

_Noreturn void throw_unwind(struct gcrt_runtime *rt)
{
	throwcatch *tc = findcatch(rt);
	if (tc == NULL) {
		fprintf(stderr, "fatal error: recorded throw on a thread with no catcher\n");
		abort();
	}
	curcatch = tc->prev;
	throwing = 0;
	longjmp(tc->jb, 1);
}

_Noreturn void throw(struct gcrt_runtime *rt, const char *msg)
{
	if (++throwing > 1) {
		fprintf(stderr, "fatal error: %s (while throwing)\n", msg);
		abort();
	}
	char *report = buildreport(rt, msg);
	if (rt->cfg.on_throw != GCRT_THROW_RECORD) {
		fputs(report != NULL ? report : msg, stderr);
		fflush(stderr);
		abort();
	}
	int expect = 0;
	if (atomic_compare_exchange_strong(&rt->thr.failed, &expect, 1)) {
		rt->thr.report = report;
		atomic_store_explicit(&rt->thr.published, 1, memory_order_release);
		atomic_store(&rt->schedmode, SCHED_FAILED);
	} else {
		free(report);
	}
	throw_unwind(rt);
}

_Noreturn void throwf(struct gcrt_runtime *rt, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	throw(rt, msg);
}
