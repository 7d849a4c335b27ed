/* lfstack.h: lock-free Treiber stacks of intrusive nodes (lfstack.c). */
#ifndef GCRT_LFSTACK_H
#define GCRT_LFSTACK_H

#include <stdint.h>

struct gcrt_runtime;

/* The first field of anything kept on an lfstack.  Nodes come from
 * persistentalloc and are never freed while the runtime lives, so a
 * popper may read next of a node another thread just took. */
typedef struct lfnode {
	_Atomic uint64_t next; /* packed head seen by the push that linked this node */
	uintptr_t pushcnt;     /* pushes of this node; written by its owner only */
} lfnode;

enum {
	LFAddrBits = 48,                 /* user-space addresses on amd64 */
	LFCntBits = 64 - LFAddrBits + 3, /* 19: the 16 top bits plus 3 alignment bits */
};

uint64_t lfstackpack(lfnode *node, uintptr_t cnt);
lfnode *lfstackunpack(uint64_t val);
void lfstackpush(struct gcrt_runtime *rt, _Atomic uint64_t *head, lfnode *node);
lfnode *lfstackpop(struct gcrt_runtime *rt, _Atomic uint64_t *head);
/* Nodes on the stack whose head word is head, counting at most max
 * (diagnostics: dumps and tests; exact only while nobody pushes or pops). */
uint64_t lfstacklen(uint64_t head, uint64_t max);
/* True if the stack is empty right now (an atomic load of the head). */
int lfstackempty(struct gcrt_runtime *rt, _Atomic uint64_t *head);

#endif
