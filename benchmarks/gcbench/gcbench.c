/* gcbench.c: Boehm and Ellis's GCBench (the classic C version's workload)
 * over heap.h's back ends.
 *
 * A stretch tree of depth 18 is built and dropped; a long-lived tree of
 * depth 16 and an array of 500000 doubles stay live throughout; then for
 * depths 4, 6, ..., 16, NumIters(d) trees are built top-down (Populate)
 * and as many bottom-up (MakeTree) and dropped.  NumIters(d) =
 * 2 * TreeSize(18) / TreeSize(d), so every depth allocates about the same.
 * At the end the long-lived data must be intact.  Pointers held across an
 * allocation are pushed on heap.h's shadow stack (roots for pygcrt).
 *
 * Prints "wall_ns N" and heap_report's lines.
 */
#include "heap.h"

enum {
	StretchTreeDepth = 18,
	LongLivedTreeDepth = 16,
	ArraySize = 500000,
	MinTreeDepth = 4,
	MaxTreeDepth = 16,
};

static long tree_size(int depth)
{
	return (1L << (depth + 1)) - 1;
}

static long num_iters(int depth)
{
	return 2 * tree_size(StretchTreeDepth) / tree_size(depth);
}

/* Build the tree below node (reachable from a root) top-down. */
static void populate(int depth, Node *node)
{
	if (depth <= 0)
		return;
	depth--;
	set_child(node, 0, new_node(NULL, NULL));
	set_child(node, 1, new_node(NULL, NULL));
	populate(depth, node->left);
	populate(depth, node->right);
}

static long count(const Node *n)
{
	return n == NULL ? 0 : 1 + count(n->left) + count(n->right);
}

static void time_construction(int depth)
{
	long iters = num_iters(depth);
	for (long i = 0; i < iters; i++) {
		Node *t = new_node(NULL, NULL);
		push(t);
		populate(depth, t);
		pop(1);
		free_tree(t);
	}
	for (long i = 0; i < iters; i++)
		free_tree(make_tree(depth));
}

int main(void)
{
	heap_init((size_t)2 << 30);
	uint64_t t0 = now_ns();
	free_tree(make_tree(StretchTreeDepth));
	Node *longlived = new_node(NULL, NULL);
	push(longlived);
	populate(LongLivedTreeDepth, longlived);
	double *array = new_doubles(ArraySize);
	push((Node *)array);
	for (int i = 0; i < ArraySize / 2; i++)
		array[i] = 1.0 / i;
	for (int d = MinTreeDepth; d <= MaxTreeDepth; d += 2)
		time_construction(d);
	uint64_t wall = now_ns() - t0;
	if (count(longlived) != tree_size(LongLivedTreeDepth) || array[1000] != 1.0 / 1000) {
		fprintf(stderr, "gcbench (%s): long-lived data lost\n", HEAP_NAME);
		return 1;
	}
	printf("wall_ns %llu\n", (unsigned long long)wall);
	heap_report();
	return 0;
}
