/* fastrand.h: the small pseudo-random generators of the test hooks and the
 * schedule controller (Go's runtime has fastrand for the same jobs): a
 * xorshift step, the splitmix64 finalizer mix64, and splitmix64 itself.
 * Each caller owns its state word; none of them is shared between threads.
 */
#ifndef GCRT_FASTRAND_H
#define GCRT_FASTRAND_H

#include <stdint.h>

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static inline uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t splitmix64(uint64_t *s)
{
	return mix64(*s += 0x9e3779b97f4a7c15ull);
}

#endif
