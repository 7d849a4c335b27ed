/* msize.c: size classes (Go's msize.c, InitSizes).
 *
 * Small objects (<= MaxSmallSize) are rounded up to one of 66 class sizes
 * (class 0 means "large").  The classes are computed at start-up: walk
 * candidate sizes upward from 8 with an alignment step that grows at
 * powers of two (16 from 16, size/8 from 128, 256 from 2048); give each
 * candidate the fewest pages whose leftover is at most 1/8 of the span;
 * when that gives the same page count and objects per span as the
 * previous class, raise the previous class instead of adding one.
 *
 * Lookup: size_to_class8[(size+7)>>3] up to 1016 bytes, then
 * size_to_class128[(size-1024+127)>>7]; each gives the smallest class
 * whose size is >= size.  The tables live in the runtime (no globals).
 */
#include "runtime.h"

static void fillclasses(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	int32_t sizeclass = 1, align = 8;
	for (int32_t size = align; size <= MaxSmallSize; size += align) {
		if ((size & (size - 1)) == 0) {
			if (size >= 2048)
				align = 256;
			else if (size >= 128)
				align = size / 8;
			else if (size >= 16)
				align = 16;
		}
		if ((align & (align - 1)) != 0)
			throw(rt, "InitSizes - bug");
		int32_t allocsize = PageSize;
		while (allocsize % size > allocsize / 8)
			allocsize += PageSize;
		int32_t npages = allocsize >> PageShift;
		if (sizeclass > 1 && npages == h->class_to_allocnpages[sizeclass - 1] &&
		    allocsize / size == allocsize / h->class_to_size[sizeclass - 1]) {
			h->class_to_size[sizeclass - 1] = size;
			continue;
		}
		if (sizeclass >= NumSizeClasses)
			throw(rt, "InitSizes - bad NumSizeClasses");
		h->class_to_allocnpages[sizeclass] = npages;
		h->class_to_size[sizeclass] = size;
		sizeclass++;
	}
	if (sizeclass != NumSizeClasses)
		throwf(rt, "InitSizes - bad NumSizeClasses %d", sizeclass);
}

static void filllookup(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	int32_t nextsize = 0;
	for (int32_t sc = 1; sc < NumSizeClasses; sc++) {
		for (; nextsize < 1024 && nextsize <= h->class_to_size[sc]; nextsize += 8)
			h->size_to_class8[nextsize / 8] = (uint8_t)sc;
		if (nextsize >= 1024)
			for (; nextsize <= h->class_to_size[sc]; nextsize += 128)
				h->size_to_class128[(nextsize - 1024) / 128] = (uint8_t)sc;
	}
	for (uintptr_t n = 1; n <= MaxSmallSize; n++) {
		int32_t sc = sizetoclass(h, n);
		if (h->class_to_size[sc] < (int32_t)n ||
		    (sc > 1 && h->class_to_size[sc - 1] >= (int32_t)n))
			throwf(rt, "InitSizes - bad size_to_class: size=%zu class=%d", (size_t)n, sc);
	}
}

void initsizes(struct gcrt_runtime *rt)
{
	fillclasses(rt);
	filllookup(rt);
}

int32_t sizetoclass(const mheap *h, uintptr_t size)
{
	if (size <= 1024 - 8)
		return h->size_to_class8[(size + 7) >> 3];
	return h->size_to_class128[(size - 1024 + 127) >> 7];
}
