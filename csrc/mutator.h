/* mutator.h: the goroutine-program VM (mutator.c).
 *
 * A program is a list of functions, each a frame descriptor and a range of
 * instructions, plus the types it allocates.  It is verified once when it
 * is made (opcodes, slots against the function's frame, pointer slots vs
 * scalar slots, jump and call targets, types with a scalar word 0 for the
 * canary), so the interpreter only checks what depends on the heap.
 * Programs are immutable and live until the runtime is destroyed.
 */
#ifndef GCRT_MUTATOR_H
#define GCRT_MUTATOR_H

struct gcrt_vm_program {
	uint64_t magic;              /* VmMagic */
	struct gcrt_runtime *rt;     /* owner */
	gcrt_vm_insn *code;
	uint32_t ncode;
	uint32_t *funcdesc;          /* frame descriptor of each function */
	uint32_t *funcentry;         /* first pc of each function (ascending) */
	uint32_t nfuncs;
	gcrt_type *types;
	uint32_t ntypes;
};

#define VmMagic 0x67637274766d2121ull
/* word 0 of every object a program allocates = canary(addr) ^ type index */
#define CanaryMix 0x9e3779b97f4a7c15ull

#endif
