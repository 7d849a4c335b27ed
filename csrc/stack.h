/* stack.h: goroutine stacks (Go 1.4 stack.h / stack.c), per runtime.
 *
 * A G's stack is [lo, hi) of runtime memory from MSpanStack spans; it
 * grows down and holds frames.  Each frame is a header (framehdr) followed
 * by the slots its frame descriptor describes (size, pointer bitmap), the
 * way Go's stack maps describe compiled frames.  The header's callerfp
 * points at the caller's frame, so frames point into their own stack and
 * copystack adjusts those pointers like any other.
 */
#ifndef GCRT_STACK_H
#define GCRT_STACK_H

#include <stdbool.h>
#include <stdint.h>

struct gcrt_runtime;
struct gcrt_g;
struct p;
struct dumpbuf;

enum {
	StackMin = 2048,
	FixedStack = 2048,
	NumStackOrders = 3,       /* 2, 4, 8 KB from the pool */
	StackCacheSize = 32768,   /* a pool span; a per-P cache holds at most this */
	StackGuard = 512,
	StackPoison = 0xfc,       /* fill of a freed stack */
	MaxFrameDescs = 4096,
};
#define StackPreempt ((uintptr_t)-1314) /* 0xff...fade: above any real SP */
#define DefaultMaxStack ((uintptr_t)1 << 30)

typedef struct gstack {
	uintptr_t lo, hi;
} gstack;

/* The saved context of a G that is not running on an M, and of the VM
 * while it runs.  sp, fp, ctxt and param may point into the stack. */
typedef struct gobuf {
	uintptr_t sp;    /* lowest byte in use */
	uintptr_t fp;    /* innermost frame header, 0 if no frame */
	uintptr_t ctxt;  /* a context pointer (Go's closure context) */
	uintptr_t param; /* a pointer handed to the G (Go's sudog elem) */
	uintptr_t pc;    /* the VM's program counter */
} gobuf;

/* A frame on the stack: the header, then the descriptor's slots. */
typedef struct framehdr {
	uintptr_t desc;     /* frame descriptor id (1-based) */
	uintptr_t retpc;    /* caller's pc */
	uintptr_t callerfp; /* caller's header, 0 for the outermost frame */
} framehdr;

/* A frame descriptor: nslots words, bit i of bitmap set = slot i holds a
 * pointer.  Immutable once published. */
typedef struct framedesc {
	uint32_t nslots;
	uint8_t *bitmap;
} framedesc;

/* Per-P cache of free stacks by order (Go keeps it in the mcache). */
typedef struct stackcache {
	mlink *list[NumStackOrders];
	uintptr_t size[NumStackOrders];
} stackcache;

struct stackpool {
	rtlock lock;                     /* guards pool[] */
	mspan pool[NumStackOrders];      /* list heads: spans with free stacks */
	rtlock desclock;                 /* guards adding descriptors */
	framedesc *descs;                /* MaxFrameDescs entries */
	_Atomic uint32_t ndesc;          /* published descriptors */
	_Atomic uintptr_t maxstacksize;  /* newstack refuses beyond this */
	_Atomic uint64_t inuse;          /* bytes of stacks handed out */
};

void stackinit(struct gcrt_runtime *rt);
void stackfini(struct gcrt_runtime *rt);
/* n a power of two >= FixedStack; c the caller's P cache or NULL.
 * Returns {0,0} when out of memory. */
gstack stackalloc(struct gcrt_runtime *rt, stackcache *c, uintptr_t n);
void stackfree(struct gcrt_runtime *rt, stackcache *c, gstack stk);
void stackcache_clear(struct gcrt_runtime *rt, stackcache *c);
const framedesc *framedesc_get(struct gcrt_runtime *rt, uintptr_t id);

/* Push a frame of descriptor id, a function entry: stackcheck, then
 * morestack if needed.  GCRT_OK, GCRT_EINVAL for an unknown descriptor,
 * GCRT_ESIZE beyond the maximum stack, GCRT_ENOMEM. */
int pushframe(struct gcrt_runtime *rt, struct gcrt_g *gp, uintptr_t id, uintptr_t retpc);
/* The stack check of a function entry (Go's prologue): true when need
 * bytes do not fit above stack.lo + StackGuard, or when a controller
 * forces the morestack path here (fault "stack.morestack.force"). */
bool stackcheck(struct gcrt_runtime *rt, struct gcrt_g *gp, uintptr_t need);
/* The morestack path: double gp's stack (newstack) until need bytes fit,
 * at least once; a forced growth (need already fits) past the stack limit
 * is skipped. */
int morestack(struct gcrt_runtime *rt, struct gcrt_g *gp, uintptr_t need);
/* Push a frame the caller made room for (Go's NOSPLIT: no stack check);
 * a frame that does not fit throws. */
int pushframe_nosplit(struct gcrt_runtime *rt, struct gcrt_g *gp, uintptr_t id, uintptr_t retpc);
/* Pop the innermost frame; returns its retpc. */
uintptr_t popframe(struct gcrt_runtime *rt, struct gcrt_g *gp);
/* Slots of the innermost frame. */
uintptr_t *frameslots(struct gcrt_g *gp);
/* Grow gp's stack to newsize (the G is running on this M). */
int newstack(struct gcrt_runtime *rt, struct gcrt_g *gp, uintptr_t newsize);
int copystack(struct gcrt_runtime *rt, struct gcrt_g *gp, uintptr_t newsize, stackcache *c);
/* Halve gp's stack if less than a quarter is used; world stopped. */
void shrinkstack(struct gcrt_runtime *rt, struct gcrt_g *gp);
/* The same for a live G that no M runs and nobody else writes the stack
 * of (Gwaiting or Grunnable), without the world check. */
void shrinkparked(struct gcrt_runtime *rt, struct gcrt_g *gp);
void stack_dump(struct gcrt_runtime *rt, struct dumpbuf *d);

#endif
