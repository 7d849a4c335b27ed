/* persistent.c: persistentalloc, off-heap metadata for one runtime.
 *
 * A bump allocator over 256 KB chunks mapped with mmap; requests over
 * 64 KB get a chunk of their own.  Memory is zeroed, never freed singly,
 * and unmapped all at once when the runtime is destroyed.  This is what
 * makes workbufs and lfstack nodes type-stable: once a block is handed out
 * it stays readable for the runtime's whole life.
 */
#include <sys/mman.h>

#include "runtime.h"

enum { ChunkSize = 256 << 10, MaxBump = 64 << 10 };

struct persistchunk {
	persistchunk *next;
	size_t size;
};

static persistchunk *mapchunk(struct gcrt_runtime *rt, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		throw(rt, "persistentalloc: out of memory");
	persistchunk *c = p;
	c->size = size;
	c->next = rt->pers.chunks;
	rt->pers.chunks = c;
	rt->pers.sys += size;
	return c;
}

void *persistentalloc(struct gcrt_runtime *rt, size_t size, size_t align, _Atomic uint64_t *stat)
{
	if (align == 0)
		align = 8;
	if (align & (align - 1) || align > 4096)
		throw(rt, "persistentalloc: bad align");
	void *v;
	LOCK(rt, &rt->pers.lock, "persistentalloc.lock");
	if (size > MaxBump) {
		size_t hdr = ROUND(sizeof(persistchunk), align < 64 ? 64 : align);
		persistchunk *c = mapchunk(rt, ROUND(hdr + size, 4096));
		v = (uint8_t *)c + hdr;
	} else {
		uint8_t *p = (uint8_t *)ROUND((uintptr_t)rt->pers.pos, align);
		if (rt->pers.pos == NULL || p + size > rt->pers.end) {
			persistchunk *c = mapchunk(rt, ChunkSize);
			p = (uint8_t *)ROUND((uintptr_t)(c + 1), align);
			rt->pers.end = (uint8_t *)c + ChunkSize;
		}
		rt->pers.pos = p + size;
		v = p;
	}
	if (stat != NULL)
		atomic_fetch_add(stat, size);
	UNLOCK(rt, &rt->pers.lock, "persistentalloc.unlock");
	return v;
}

void persistent_fini(struct gcrt_runtime *rt)
{
	persistchunk *c = rt->pers.chunks;
	while (c != NULL) {
		persistchunk *next = c->next;
		munmap(c, c->size);
		c = next;
	}
	rt->pers.chunks = NULL;
	rt->pers.pos = rt->pers.end = NULL;
}
