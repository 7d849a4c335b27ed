/* type.c: the type registry of a runtime.
 *
 * gcrt_type_new records a type's size and pointer mask; a gcrt_type handle
 * is (tag << 32) | index, index 1-based in this runtime's table, tag
 * derived from the arena's base address (arena_start >> 16), which no two
 * live runtimes share, so a handle of another runtime is rejected.  The
 * table has cfg.max_types entries, published in order by ntypes: entry i
 * is immutable once ntypes > i, so the allocation fast path reads it with
 * one load of ntypes and no lock.
 *
 * Each type precomputes what malloc needs: its size class (0 = large, then
 * its page count) and its heap-bitmap nibbles up to the last pointer word
 * (BitsPointer/BitsScalar, boundary on word 0, BitsDead after), so malloc
 * copies bytes instead of decoding the mask.
 *
 * Bad input: size 0 or larger than the arena is GCRT_ESIZE; a ptrmask with
 * more bits than the object has words (nbits > ceil(size/8)) is
 * GCRT_EINVAL (a malformed argument); a full table is GCRT_ENOMEM.
 */
#include <string.h>

#include "runtime.h"

void types_init(struct gcrt_runtime *rt)
{
	mheap *h = &rt->heap;
	h->types = persistentalloc(rt, (size_t)rt->cfg.max_types * sizeof(typeinfo), CacheLineSize,
				   &h->types_sys);
	h->typetag = (uint32_t)(h->arena_start >> 16);
	atomic_store(&h->ntypes, 0);
}

gcrt_type type_handle(const mheap *h, uint32_t index)
{
	return (uint64_t)h->typetag << 32 | index;
}

const typeinfo *typeof_handle(struct gcrt_runtime *rt, gcrt_type t)
{
	mheap *h = &rt->heap;
	return typelookup(h, t, ATOMIC_LOAD(rt, "type.typeof.ntypes", &h->ntypes));
}

static int maskbit(const uint8_t *mask, uintptr_t i)
{
	return (mask[i / 8] >> (i % 8)) & 1;
}

/* Fill ti's masks from the caller's nbits-bit ptrmask. */
static void buildmasks(struct gcrt_runtime *rt, typeinfo *ti, const uint8_t *ptrmask, size_t nbits)
{
	mheap *h = &rt->heap;
	uintptr_t last = 0;
	for (uintptr_t i = 0; i < nbits; i++)
		if (maskbit(ptrmask, i))
			last = i + 1;
	ti->nmaskwords = last;
	ti->noscan = last == 0;
	ti->ptrmask = persistentalloc(rt, last / 8 + 1, 1, &h->types_sys);
	if (last > 0)
		memcpy(ti->ptrmask, ptrmask, (last + 7) / 8);
	if (last % 8 != 0)
		ti->ptrmask[last / 8] &= (uint8_t)((1u << (last % 8)) - 1);
	ti->ngcmask = last == 0 ? 1 : (last + 1) / 2;
	ti->gcmask = persistentalloc(rt, ti->ngcmask, 1, &h->types_sys);
	for (uintptr_t i = 0; i < last; i++) {
		uint8_t code = maskbit(ptrmask, i) ? BitsPointer : BitsScalar;
		ti->gcmask[i / 2] |= (uint8_t)((code << 2) << (i % 2 * gcBits));
	}
	ti->gcmask[0] |= bitBoundary;
}

static int typenew(struct gcrt_runtime *rt, size_t size, const uint8_t *ptrmask, size_t nbits,
		   gcrt_type *out)
{
	mheap *h = &rt->heap;
	LOCK(rt, &h->typelock, "type.lock");
	uint32_t n = atomic_load(&h->ntypes);
	if (n == (uint32_t)rt->cfg.max_types) {
		UNLOCK(rt, &h->typelock, "type.unlock");
		return GCRT_ENOMEM;
	}
	typeinfo *ti = &h->types[n];
	ti->size = size;
	ti->nwords = (size + PtrSize - 1) / PtrSize;
	if (size <= MaxSmallSize) {
		ti->sizeclass = (uint8_t)sizetoclass(h, size);
	} else {
		ti->sizeclass = 0;
		ti->npages = ROUND(size, PageSize) >> PageShift;
	}
	buildmasks(rt, ti, ptrmask, nbits);
	ATOMIC_STORE(rt, "type.new.ntypes", &h->ntypes, n + 1);
	UNLOCK(rt, &h->typelock, "type.unlock");
	*out = type_handle(h, n + 1);
	return GCRT_OK;
}

GCRT_API int gcrt_type_new(gcrt_runtime *rt, size_t size, const uint8_t *ptrmask, size_t nbits,
			   gcrt_type *out)
{
	int rc = rt_check_args(rt, out == NULL || (ptrmask == NULL && nbits > 0));
	if (rc != GCRT_OK)
		return rc;
	*out = 0;
	if (size == 0 || size > rt->cfg.arena_size)
		return GCRT_ESIZE;
	if (nbits > (size + PtrSize - 1) / PtrSize)
		return GCRT_EINVAL;
	RETURN_CAUGHT(rt, typenew(rt, size, ptrmask, nbits, out));
}

GCRT_API int gcrt_type_info(gcrt_runtime *rt, gcrt_type t, size_t *size, size_t *nwords)
{
	int rc = rt_check(rt);
	if (rc != GCRT_OK)
		return rc;
	const typeinfo *ti = typeof_handle(rt, t);
	if (ti == NULL)
		return GCRT_EBADTYPE;
	if (size != NULL)
		*size = ti->size;
	if (nwords != NULL)
		*nwords = ti->nwords;
	return GCRT_OK;
}
