"""A short tour: typed linked structures in a runtime, then its stats.

Run with ``python -m pygcrt.demo``.
"""

from __future__ import annotations

from .runtime import Obj, Runtime, Type


def build_list(rt: Runtime, node: Type, n: int) -> Obj:
    """A singly linked list of n nodes {next *node; value int64}."""
    head = None
    for v in reversed(range(n)):
        cell = rt.alloc(node)
        cell.write(1, v)
        cell.set_ptr(0, head)
        head = cell
    assert head is not None
    return head


def build_tree(rt: Runtime, tree: Type, depth: int) -> Obj:
    """A complete binary tree {left, right *tree; depth int64}."""
    t = rt.alloc(tree)
    t.write(2, depth)
    if depth > 0:
        t.set_ptr(0, build_tree(rt, tree, depth - 1))
        t.set_ptr(1, build_tree(rt, tree, depth - 1))
    return t


def main() -> int:
    with Runtime(nprocs=2, arena_size=64 << 20, on_throw="record") as rt:
        node = rt.type(16, [1, 0])
        tree = rt.type(24, 0b011)
        blob = rt.type(100_000)
        head = build_list(rt, node, 100)
        total = 0
        cell: Obj | None = head
        while cell is not None:
            total += cell.read(1)
            cell = cell.ptr(0)
        root = build_tree(rt, tree, 6)
        rt.alloc(blob)
        s = rt.stats()
        print(f"list of 100 nodes: sum of values = {total}")
        print(f"tree of depth 6: root {root}, left child {root.ptr(0)}")
        print(
            f"heap: {s.nmalloc} objects, {s.heap_alloc} bytes allocated, "
            f"heap_inuse {s.heap_inuse}, heap_sys {s.heap_sys}, sys {s.sys}"
        )
        for c in s.by_size:
            if c.nmalloc:
                print(f"  class {c.size:6d} bytes: {c.nmalloc} objects")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
