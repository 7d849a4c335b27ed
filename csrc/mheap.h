/* mheap.h: the heap's structures (Go 1.4 malloc.h, per runtime).
 *
 * One reservation per runtime holds [span map | heap bitmap | arena]; the
 * arena is carved into 8 KB pages grouped in spans (mheap.c), small
 * objects come from size-classed spans (msize.c) handed out by one
 * mcentral per class (mcentral.c) to one mcache per P (mcache.c); malloc.c
 * is the allocation entry; mbitmap.c keeps Go's 4-bit-per-word heap bitmap
 * (boundary, mark, type code); type.c is the type registry; mstats.c
 * folds the counters into a MemStats record.
 *
 * Locks: mcentral.lock before mheap.lock; mheap.extlock (the shared cache
 * used by gcrt_alloc) before both.  Nothing is taken while holding
 * mheap.lock except persistentalloc's lock.
 */
#ifndef GCRT_MHEAP_H
#define GCRT_MHEAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct gcrt_runtime;
struct dumpbuf;

enum {
	PageShift = 13,
	PageSize = 1 << PageShift,
	NumSizeClasses = GCRT_NUM_SIZE_CLASSES,
	MaxSmallSize = GCRT_MAX_SMALL_SIZE,
	MaxMHeapList = 1 << (20 - PageShift), /* free lists by page count below 1 MB */
	HeapAllocChunk = 1 << 20,             /* the arena grows at least this much */
	SizeToClass8Len = 1024 / 8 + 1,
	SizeToClass128Len = (MaxSmallSize - 1024) / 128 + 1,
};

/* Span states (Go 1.4). */
enum { MSpanInUse = 0, MSpanStack = 1, MSpanFree = 2, MSpanListHead = 3, MSpanDead = 4 };

/* Heap bitmap nibble (mbitmap.c). */
enum {
	bitBoundary = 1,
	bitMarked = 2,
	bitMask = bitBoundary | bitMarked,
	bitPtrMask = 0xC,
	gcBits = 4,
	wordsPerBitmapByte = 8 / gcBits,
	BitsPerPointer = 2,
	BitsMask = 3,
	BitsDead = 0,
	BitsScalar = 1,
	BitsPointer = 2,
	BitsMultiWord = 3,
};

typedef struct mlink {
	struct mlink *next;
} mlink;

typedef struct special {
	struct special *next;
	uint16_t offset;
	uint8_t kind;
} special;

/* A run of pages.  Fields other than sweepgen are written under the heap
 * lock (state, start, npages, links in heap lists), under the central lock
 * (links in central lists, incache), or by the mcache that caches the span
 * (freelist, ref) while incache.  types[] is read by any thread. */
typedef struct mspan {
	/* The first cache line holds what a marker reads for every pointer
	 * (start, limit, state, sizeclass, elemsize). */
	struct mspan *next, *prev; /* in a heap free list or a central list */
	uintptr_t start;           /* first page number (address >> PageShift) */
	uintptr_t limit;           /* end of object data */
	uintptr_t npages;
	uintptr_t elemsize;        /* class size, or npages<<PageShift for large */
	_Atomic uint32_t sweepgen; /* see mheap.sweepgen */
	uint16_t ref;              /* allocated objects */
	uint8_t sizeclass;         /* 0 = one large object */
	uint8_t incache;           /* owned by an mcache */
	_Atomic uint8_t state;     /* MSpan*; written under the heap lock, read by parallel markers (RootSpans) while helpers allocate stack spans */
	uint8_t needzero;          /* memory must be zeroed before use */
	uint32_t sweptgen;         /* heap sweepgen of its last sweep (at most once a cycle) */
	mlink *freelist;           /* free objects (small spans) */
	uintptr_t nelems;          /* object slots */
	uint32_t divmul;           /* slot = (off * divmul) >> 32 for off < span size */
	int64_t unusedsince;
	uintptr_t npreleased;
	rtlock speciallock;
	special *specials;
	/* Type index (1-based, this runtime's table) of each slot, 0 = free.
	 * Written with a release store by the allocating cache, read with an
	 * acquire load by handle checks on any thread. */
	_Atomic uint16_t *types;
	uintptr_t typescap;        /* capacity of types[] (for recycling) */
	_Atomic uint16_t type1;    /* types[] of a large span */
	/* The lookup record of an MSpanInUse span (malloc.c, objectof):
	 * copies of base, limit, elemsize, nelems, divmul and types, set by
	 * spanpublish once the span is set up and cleared (lklimit = 0) by
	 * spanwithdraw before it is freed, both under the heap lock.  lkseq
	 * is a seqlock: odd while the record changes. */
	_Atomic uint32_t lkseq;
	_Atomic uint32_t lkdivmul;
	_Atomic uintptr_t lkbase, lklimit, lkelemsize, lknelems;
	_Atomic uint16_t *_Atomic lktypes;
} mspan;
_Static_assert(offsetof(mspan, start) < CacheLineSize && offsetof(mspan, limit) < CacheLineSize &&
		       offsetof(mspan, state) < CacheLineSize &&
		       offsetof(mspan, sizeclass) < CacheLineSize &&
		       offsetof(mspan, elemsize) < CacheLineSize,
	       "mspan: a field the marker reads left the first cache line");

/* One central free list per size class. */
typedef struct mcentral {
	rtlock lock;
	int32_t sizeclass;
	mspan nonempty; /* list head: spans with a free object, not cached */
	mspan empty;    /* list head: full spans, or cached in an mcache */
	uint64_t nspans; /* spans ever given to this class */
} mcentral;

/* Per-P cache.  Only its owner touches alloc[]; the local_* counters are
 * written only by the owner (relaxed stores through mcache_count) and
 * read by gcrt_stats_read from any thread. */
typedef struct mcache {
	struct mcache *allnext; /* link in mheap.allmcache, under mheap.lock */
	_Atomic uint32_t busy;  /* 1 while its owner allocates (the world waits for 0) */
	mspan *alloc[NumSizeClasses];
	_Atomic uint64_t local_nsmallalloc[NumSizeClasses];
} mcache;

/* A registered type.  Immutable once published by mheap.ntypes. */
typedef struct typeinfo {
	uintptr_t size;       /* bytes requested */
	uintptr_t nwords;     /* ceil(size / 8) */
	uintptr_t npages;     /* large objects: pages of their span */
	uint8_t sizeclass;    /* 0 = large */
	uint8_t noscan;       /* no pointer words */
	uint8_t *ptrmask;     /* one bit per word, nptrmask bytes */
	uintptr_t nmaskwords; /* words described by ptrmask (last pointer + 1) */
	uint8_t *gcmask;      /* 4-bit nibbles, 2 words a byte, boundary set */
	uintptr_t ngcmask;    /* bytes of gcmask */
} typeinfo;

typedef struct mheap {
	rtlock lock; /* guards the heap fields below unless said otherwise */
	mspan free[MaxMHeapList]; /* list heads: free spans by page count */
	mspan freelarge;          /* list head: free spans of >= MaxMHeapList pages */
	mspan busy[MaxMHeapList]; /* list heads: in-use large spans by page count */
	mspan busylarge;
	mspan **allspans; /* every span record ever created */
	uint32_t nspan, nspancap;
	_Atomic uint32_t sweepgen; /* +2 per GC; spans at sweepgen are swept */
	mspan *freespans; /* recycled span records (FixAlloc free list) */

	/* The reservation: [spans map | bitmap | arena].  arena_used grows
	 * under the lock; other threads read it with ATOMIC_LOAD, after the
	 * memory below it is mapped and the span map entries are set. */
	uint8_t *reserve;
	size_t reserve_size;
	mspan *_Atomic *spans;   /* page (from arena_start) -> span; NULL if unused */
	size_t spans_mapped;     /* bytes of the span map made accessible */
	uint8_t *bitmap;         /* = arena_start; bytes grow downward */
	size_t bitmap_mapped;
	uintptr_t arena_start, arena_end;
	_Atomic uintptr_t arena_used;

	mcentral central[NumSizeClasses];
	mspan emptymspan;   /* the dummy every fresh mcache points at */
	mcache *allmcache;  /* every live mcache */
	mcache *extcache;   /* the shared cache of gcrt_alloc */
	rtlock extlock;     /* guards extcache */

	/* Size classes (msize.c), immutable after mallocinit. */
	int32_t class_to_size[NumSizeClasses];
	int32_t class_to_allocnpages[NumSizeClasses];
	uint8_t size_to_class8[SizeToClass8Len];
	uint8_t size_to_class128[SizeToClass128Len];

	/* Type registry (type.c): entries [0, ntypes) are published. */
	rtlock typelock;
	typeinfo *types;
	_Atomic uint32_t ntypes;
	uint32_t typetag; /* high half of this runtime's gcrt_type handles */

	/* Recycled types[] arrays by power-of-two capacity (mcentral.c),
	 * written by sweepers: padded off the line of the type registry,
	 * which every allocation and checked access reads. */
	uint8_t pad_types[CacheLineSize];
	void *freetypes[17];

	/* Stats not kept per cache, under the lock. */
	uint64_t largealloc, nlargealloc;      /* bytes and count of large objects */
	uint64_t nsmallalloc[NumSizeClasses];  /* folded from freed mcaches */
	uint64_t pages_inuse, pages_stack;     /* in MSpanInUse and MSpanStack spans */
	_Atomic uint64_t mspan_sys, mcache_sys, types_sys;
} mheap;

/* mheap.c */
int mallocinit(struct gcrt_runtime *rt);
void mallocfini(struct gcrt_runtime *rt);
/* An MSpanInUse span of npages for class sizeclass, or for one large
 * object of largesize bytes (sizeclass 0); NULL if the arena is full. */
mspan *mheap_alloc(struct gcrt_runtime *rt, uintptr_t npages, int32_t sizeclass,
		   uintptr_t largesize);
mspan *mheap_allocstack(struct gcrt_runtime *rt, uintptr_t npages);
/* Give an in-use span (not on any central list) back to the heap. */
void mheap_free(struct gcrt_runtime *rt, mspan *s);
void mheap_freestack(struct gcrt_runtime *rt, mspan *s);
/* The span holding p: exact for in-use and stack spans; for a page of a
 * free span, that span or NULL; NULL outside the used arena. */
mspan *spanof(struct gcrt_runtime *rt, const void *p);
/* malloc.c: publish s's lookup record / withdraw it (heap lock held). */
void spanpublish(struct gcrt_runtime *rt, mspan *s);
void spanwithdraw(struct gcrt_runtime *rt, mspan *s);
void *spanbase(const mspan *s);
/* Doubly linked span lists with a dummy head (Go's MSpanList_*). */
void spanlist_init(mspan *l);
void spanlist_insert(mspan *l, mspan *s);
void spanlist_remove(mspan *s);

/* msize.c */
void initsizes(struct gcrt_runtime *rt);
int32_t sizetoclass(const mheap *h, uintptr_t size);

/* mcentral.c */
void mcentral_init(mcentral *c, int32_t sizeclass);
mspan *mcentral_cachespan(struct gcrt_runtime *rt, mcentral *c);
void mcentral_uncachespan(struct gcrt_runtime *rt, mcentral *c, mspan *s);
int mcentral_freespan(struct gcrt_runtime *rt, mcentral *c, mspan *s, uintptr_t n, mlink *head,
		      mlink *end, int preserve);
/* Swept s lost all of its n allocated objects: back to the heap. */
int mcentral_freeall(struct gcrt_runtime *rt, mcentral *c, mspan *s, uintptr_t n);
/* Zeroed types[] arrays, recycled by capacity; under mheap.lock. */
_Atomic uint16_t *typesalloc(struct gcrt_runtime *rt, uintptr_t n, uintptr_t *cap);
void typesfree(struct gcrt_runtime *rt, _Atomic uint16_t *p, uintptr_t cap);

/* mcache.c */
mcache *allocmcache(struct gcrt_runtime *rt);
void freemcache(struct gcrt_runtime *rt, mcache *c);
int mcache_refill(struct gcrt_runtime *rt, mcache *c, int32_t sizeclass);

/* malloc.c: allocate one object of type t from cache c (the caller owns
 * c).  Lock-free unless the cache must be refilled. */
int malloc_typed(struct gcrt_runtime *rt, mcache *c, gcrt_type t, void **out);
/* The allocation itself, for callers already inside the world protocol. */
int mallocgc(struct gcrt_runtime *rt, mcache *c, gcrt_type t, void **out);
/* The allocated object containing p: base, span and slot, or 0. */
int objectof(struct gcrt_runtime *rt, const void *p, void **base, mspan **sp, uintptr_t *slot);

/* mbitmap.c */
void markspan(struct gcrt_runtime *rt, const mspan *s);
void unmarkspan(struct gcrt_runtime *rt, const mspan *s);
/* The bitmap byte of the word at p, for a bitmap ending at arena_start
 * (it grows down from there), and the shift of p's nibble in it. */
static inline uint8_t *bitmap_byte(uint8_t *bitmap, uintptr_t arena_start, uintptr_t p,
				   uint32_t *shift)
{
	uintptr_t off = (p - arena_start) / PtrSize;
	*shift = (uint32_t)(off % wordsPerBitmapByte) * gcBits;
	return bitmap - off / wordsPerBitmapByte - 1;
}
static inline uint8_t *heapbits_byte(const mheap *h, const void *p, uint32_t *shift)
{
	return bitmap_byte(h->bitmap, h->arena_start, (uintptr_t)p, shift);
}

/* Copy type ti's nibbles over the object at v (elemsize bytes), Dead
 * after its last pointer word.  Inline: malloc's fast path runs it. */
static inline void heapbits_settype(const mheap *h, void *v, const typeinfo *ti, uintptr_t elemsize)
{
	uint32_t shift;
	uint8_t *b = heapbits_byte(h, v, &shift);
	if (elemsize == PtrSize) {
		uint8_t nib = (uint8_t)(ti->gcmask[0] & 0xF);
		*b = (uint8_t)((*b & ~(0xF << shift)) | nib << shift);
		return;
	}
	const uint8_t *mask = ti->gcmask; /* locals: the byte stores may alias ti */
	uintptr_t n = ti->ngcmask;
	for (uintptr_t j = 0; j < n; j++)
		b[-(intptr_t)j] = mask[j];
	if (ti->nmaskwords % 2 == 0 && ti->nmaskwords < elemsize / PtrSize)
		b[-(intptr_t)n] = 0;
}

static inline uint32_t heapbits_get(const mheap *h, const void *p)
{
	uint32_t shift;
	const uint8_t *b = heapbits_byte(h, p, &shift);
	return (atomic_load_explicit((_Atomic uint8_t *)b, memory_order_relaxed) >> shift) & 0xF;
}
void *objectstart(struct gcrt_runtime *rt, const void *p);
int ismarked(struct gcrt_runtime *rt, const void *p);
void setmarked(struct gcrt_runtime *rt, const void *p);
void clearmarked(struct gcrt_runtime *rt, const void *p);
void mheap_mapbits(struct gcrt_runtime *rt, uintptr_t arena_used);

/* type.c */
void types_init(struct gcrt_runtime *rt);
/* The typeinfo of handle t, or NULL if t is not a type of rt. */
const typeinfo *typeof_handle(struct gcrt_runtime *rt, gcrt_type t);

/* The lookup behind typeof_handle, given a load of h->ntypes (inline for
 * malloc's fast path). */
static inline const typeinfo *typelookup(const mheap *h, gcrt_type t, uint32_t ntypes)
{
	uint32_t idx = (uint32_t)t;
	if ((uint32_t)(t >> 32) != h->typetag || idx == 0 || idx > ntypes)
		return NULL;
	return &h->types[idx - 1];
}
gcrt_type type_handle(const mheap *h, uint32_t index);

/* mbarrier.c */
void writebarrierptr(struct gcrt_runtime *rt, void *_Atomic *slot, void *ptr);

/* Objects known to be allocated, with their types: a running host G's
 * recent allocations, which no sweep can free before that G enters a
 * syscall (see proc.c).  A direct-mapped cache indexed by address bits
 * above the smallest object size, so a run of allocations up a span fills
 * distinct entries: a tree built bottom-up or top-down stores into nodes
 * a few dozen allocations old, which a ring of the last few would miss.
 * A NULL obj is no entry. */
enum { KnownObjs = 32 };
typedef struct knownobjs {
	const void *obj[KnownObjs];
	const typeinfo *ti[KnownObjs];
} knownobjs;

static inline uint32_t knownslot(const void *p)
{
	return (uint32_t)((uintptr_t)p >> 4) % KnownObjs;
}

/* p's type if p is the base of one of k's objects, else NULL. */
static inline const typeinfo *knowntype(const knownobjs *k, const void *p)
{
	if (k == NULL)
		return NULL;
	uint32_t j = knownslot(p);
	return k->obj[j] == p ? k->ti[j] : NULL;
}

/* Remember obj, of type ti, in place of the entry it maps to. */
static inline void knownput(knownobjs *k, const void *obj, const typeinfo *ti)
{
	uint32_t j = knownslot(obj);
	k->obj[j] = obj;
	k->ti[j] = ti;
}

/* malloc.c: gcrt_write_ptr's checked store; counted says whether the
 * caller holds no P and must count itself in the world (mutator_enter).
 * rt is a live runtime the caller checked; obj or p among k's objects (k
 * may be NULL) is not looked up again. */
int writeptr(struct gcrt_runtime *rt, void *obj, size_t i, void *p, bool counted,
	     const knownobjs *k);

/* mstats.c */
void mheap_dump(struct gcrt_runtime *rt, struct dumpbuf *d);
/* Walk the heap and throw on a broken invariant (under mheap.lock). */
void mheap_checklocked(struct gcrt_runtime *rt);

#endif
