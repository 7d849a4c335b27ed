/* mbitmap.c: the heap bitmap (Go 1.4's 4 bits per heap word).
 *
 * Choice: Go's layout, not per-span bitmaps.  The bitmap sits right below
 * arena_start in the runtime's reservation and grows downward: for a heap
 * word at offset off = (a - arena_start)/8, its nibble is in the byte at
 * arena_start - off/2 - 1, at shift (off%2)*4.  It is made accessible in
 * 4 KB steps as arena_used grows (mheap_mapbits).
 *
 * Nibble: bit 0 bitBoundary (first word of an object), bit 1 bitMarked,
 * bits 2-3 the type code: BitsDead (in the first word: no pointers at all;
 * later: no pointers from here on), BitsScalar, BitsPointer.
 *
 * markspan writes boundary+Dead for every object of a fresh span (and a
 * boundary past the last object when there is leftover space); malloc
 * copies the type's nibble mask over the object (heapbits_settype, inline
 * in mheap.h), ending with Dead after the last pointer word.  objectstart
 * finds an object's first word from an interior pointer through
 * boundaries and the span.
 *
 * Concurrency: an object's nibbles are written by the cache that
 * allocates it, before the object is handed out.  Objects of 16 bytes or
 * more start on an even word, so they own whole bitmap bytes; two 8-byte
 * objects share a byte but live in one span, which only one cache fills.
 * Marking (mgcmark.c greyobject) sets the mark bit with a relaxed store,
 * or ATOMIC_OR8 when the byte holds two unmarked objects and several
 * markers run; sweeping (mgcsweep.c) clears it or resets a freed
 * object's nibble to boundary+Dead.
 */
#include <string.h>
#include <sys/mman.h>

#include "runtime.h"

void mheap_mapbits(struct gcrt_runtime *rt, uintptr_t arena_used)
{
	mheap *h = &rt->heap;
	size_t need = ROUND((arena_used - h->arena_start) / (PtrSize * wordsPerBitmapByte), 4096);
	if (need <= h->bitmap_mapped)
		return;
	if (mprotect(h->bitmap - need, need - h->bitmap_mapped, PROT_READ | PROT_WRITE) != 0)
		throw(rt, "runtime: cannot map pages in arena address space");
	h->bitmap_mapped = need;
}

/* The bitmap bytes of [v, v+n): n a multiple of 16, v 16-aligned. */
static void clearbits(mheap *h, uintptr_t v, uintptr_t n)
{
	uint32_t shift;
	uint8_t *hi = heapbits_byte(h, (void *)v, &shift);
	memset(hi - n / (PtrSize * wordsPerBitmapByte) + 1, 0, n / (PtrSize * wordsPerBitmapByte));
}

void unmarkspan(struct gcrt_runtime *rt, const mspan *s)
{
	clearbits(&rt->heap, s->start << PageShift, s->npages << PageShift);
}

/* markspan for a class whose objects each take k = elemsize/16 bitmap
 * bytes, k dividing 8, and fill the span exactly: the span's bitmap is a
 * repeat of 8 bytes, written a word at a time over the old contents.  In
 * ascending addresses an object's bytes run from its last word pair to
 * its first, so the boundary byte ends each group of k. */
static bool markspan_repeat(mheap *h, const mspan *s, uintptr_t base, uintptr_t n)
{
	uintptr_t k = s->elemsize / (PtrSize * wordsPerBitmapByte);
	if (s->elemsize % (PtrSize * wordsPerBitmapByte) != 0 || k == 0 || 8 % k != 0 ||
	    s->nelems * s->elemsize != n)
		return false;
	uint8_t pat[8] = {0};
	for (uintptr_t j = k - 1; j < 8; j += k)
		pat[j] = bitBoundary | BitsDead << 2;
	uint32_t shift;
	uint8_t *lo = heapbits_byte(h, (void *)(base + n - 2 * PtrSize), &shift);
	for (uintptr_t i = 0; i < n / (PtrSize * wordsPerBitmapByte); i += 8)
		memcpy(lo + i, pat, 8);
	return true;
}

void markspan(struct gcrt_runtime *rt, const mspan *s)
{
	mheap *h = &rt->heap;
	uintptr_t base = s->start << PageShift, n = s->npages << PageShift;
	uint32_t shift;
	if (s->sizeclass != 0 && markspan_repeat(h, s, base, n))
		return;
	unmarkspan(rt, s);
	if (s->sizeclass == 0) {
		*heapbits_byte(h, (void *)base, &shift) = bitBoundary | BitsDead << 2;
		return;
	}
	if (s->elemsize == PtrSize) {
		uint8_t b = (bitBoundary | BitsDead << 2) * 0x11;
		memset(heapbits_byte(h, (void *)(base + n - 2 * PtrSize), &shift), b,
		       n / (PtrSize * wordsPerBitmapByte));
		return;
	}
	for (uintptr_t i = 0; i < s->nelems; i++)
		*heapbits_byte(h, (void *)(base + i * s->elemsize), &shift) =
		    bitBoundary | BitsDead << 2;
	if (s->nelems * s->elemsize < n)
		*heapbits_byte(h, (void *)(base + s->nelems * s->elemsize), &shift) =
		    bitBoundary | BitsDead << 2;
}

void *objectstart(struct gcrt_runtime *rt, const void *p)
{
	mheap *h = &rt->heap;
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(PtrSize - 1);
	for (;;) {
		if (heapbits_get(h, (void *)a) & bitBoundary)
			return (void *)a;
		mspan *s = spanof(rt, (void *)a);
		if (s == NULL || s->state != MSpanInUse || a >= s->limit)
			return NULL;
		uintptr_t base = s->start << PageShift;
		uintptr_t start = s->sizeclass == 0 ? base : base + (a - base) / s->elemsize * s->elemsize;
		if (start == a)
			throw(rt, "failed to find block beginning");
		a = start;
	}
}

int ismarked(struct gcrt_runtime *rt, const void *p)
{
	return (heapbits_get(&rt->heap, p) & bitMarked) != 0;
}

void setmarked(struct gcrt_runtime *rt, const void *p)
{
	uint32_t shift;
	uint8_t *b = heapbits_byte(&rt->heap, p, &shift);
	ATOMIC_OR8(rt, "mbitmap.setmarked.or", (_Atomic uint8_t *)b, (uint8_t)(bitMarked << shift));
}

void clearmarked(struct gcrt_runtime *rt, const void *p)
{
	uint32_t shift;
	uint8_t *b = heapbits_byte(&rt->heap, p, &shift);
	SCHED_POINT(rt, "mbitmap.clearmarked.and");
	atomic_fetch_and((_Atomic uint8_t *)b, (uint8_t)~(bitMarked << shift));
}
