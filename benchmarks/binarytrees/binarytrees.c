/* binarytrees.c: the Computer Language Benchmarks Game's binary-trees
 * (depth 18 by default, argv[1] otherwise) over heap.h's back ends.
 *
 * A stretch tree of depth max+1 is built, checked and dropped; a
 * long-lived tree of depth max stays live; then for depths 4, 6, ..., max,
 * 2^(max - d + 4) trees of depth d are built bottom-up, checked (node
 * count) and dropped.  Nodes have two pointers and no payload.  The node
 * counts are verified against 2^(d+1) - 1.  Pointers held across an
 * allocation are pushed on heap.h's shadow stack (roots for pygcrt).
 *
 * Prints "wall_ns N" and heap_report's lines.
 */
#define NSCALARS 0
#include "heap.h"

static long check(const Node *n)
{
	return n->left == NULL ? 1 : 1 + check(n->left) + check(n->right);
}

static int expect(long got, int depth)
{
	if (got == (1L << (depth + 1)) - 1)
		return 1;
	fprintf(stderr, "binarytrees (%s): tree of depth %d has %ld nodes\n", HEAP_NAME, depth, got);
	return 0;
}

int main(int argc, char **argv)
{
	int max = argc > 1 ? atoi(argv[1]) : 18;
	if (max < 6)
		max = 6;
	heap_init((size_t)4 << 30);
	uint64_t t0 = now_ns();
	Node *stretch = make_tree(max + 1);
	int ok = expect(check(stretch), max + 1);
	free_tree(stretch);
	Node *longlived = make_tree(max);
	push(longlived);
	for (int d = 4; d <= max && ok; d += 2) {
		long iters = 1L << (max - d + 4), sum = 0;
		for (long i = 0; i < iters; i++) {
			Node *t = make_tree(d);
			sum += check(t);
			free_tree(t);
		}
		ok = expect(sum / iters, d) && sum % iters == 0;
	}
	ok = ok && expect(check(longlived), max);
	uint64_t wall = now_ns() - t0;
	if (!ok)
		return 1;
	printf("wall_ns %llu\n", (unsigned long long)wall);
	heap_report();
	return 0;
}
