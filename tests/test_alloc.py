"""Allocation of every size class and of large objects, with accounting.

Oracles: the expected stats are computed from our own list of allocations
and Go's class table (tests/test_sizeclasses.py); object memory is read
raw through cffi, not through the runtime.
"""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygcrt import Runtime, errors
from pygcrt._binding import ffi, lib

from test_sizeclasses import GO_CLASSES

PAGE = 8192


def raw(addr: int, n: int) -> bytes:
    return bytes(ffi.buffer(ffi.cast("char *", addr), n))


def class_of(size: int) -> int:
    """Index (1-based) of the smallest Go class >= size."""
    for i, (s, _) in enumerate(GO_CLASSES):
        if s >= size:
            return i + 1
    raise ValueError(size)


def heap_check(rt: Runtime) -> None:
    assert lib.gcrt_test_heap_check(rt.ptr()) == 0, rt.last_throw


@pytest.mark.parametrize("ptrs", [False, True], ids=["noscan", "scan"])
def test_every_class(ptrs):
    with Runtime(arena_size=128 << 20, on_throw="record") as rt:
        expect_n = [0] * 67
        total = 0
        for cl, (size, pages) in enumerate(GO_CLASSES, start=1):
            t = rt.type(size, 1 if ptrs else 0)
            per_span = pages * PAGE // size
            n = min(per_span + 1, 40) if size >= 64 else per_span + 1
            addrs = sorted(rt.alloc(t).addr for _ in range(n))
            for a, b in zip(addrs, addrs[1:]):
                assert b - a >= size, f"class {size}: overlap"
            for a in addrs:
                assert a % (16 if size >= 16 else 8) == 0
                assert raw(a, size) == bytes(size), f"class {size}: not zeroed"
            expect_n[cl] += n
            total += n * size
        s = rt.stats()
        assert [c.nmalloc for c in s.by_size] == expect_n
        assert s.nmalloc == sum(expect_n) == s.heap_objects
        assert s.total_alloc == total == s.alloc == s.heap_alloc
        assert s.nfree == 0
        assert s.heap_inuse + s.heap_idle + s.stacks_inuse == s.heap_sys
        assert s.heap_inuse >= total
        assert s.sys >= s.heap_sys + s.gc_sys
        heap_check(rt)


def test_size_rounds_to_class():
    with Runtime(arena_size=16 << 20) as rt:
        sizes = [1, 7, 9, 17, 33, 1000, 1017, 1025, 5000, 32767]
        for size in sizes:
            rt.alloc(rt.type(size))
        s = rt.stats()
        assert s.total_alloc == sum(GO_CLASSES[class_of(n) - 1][0] for n in sizes)
        for n in sizes:
            assert s.by_size[class_of(n)].nmalloc >= 1


@pytest.mark.parametrize("size", [32769, 40000, 100_000, (1 << 20) + 1, 5 << 20])
def test_large_objects(size):
    with Runtime(arena_size=64 << 20, on_throw="record") as rt:
        t = rt.type(size, [0, 1, 0, 1])
        objs = [rt.alloc(t) for _ in range(3)]
        spans = (size + PAGE - 1) // PAGE * PAGE
        addrs = sorted(o.addr for o in objs)
        for a, b in zip(addrs, addrs[1:]):
            assert b - a >= spans
        for o in objs:
            assert o.addr % PAGE == 0
            assert raw(o.addr, size) == bytes(size)
            assert o.size == size
        s = rt.stats()
        assert s.nmalloc == 3 and s.total_alloc == 3 * spans
        assert sum(c.nmalloc for c in s.by_size) == 0
        assert s.heap_inuse == 3 * spans
        heap_check(rt)


def test_arena_exhaustion_is_enomem_and_recoverable():
    with Runtime(arena_size=4 << 20, on_throw="record") as rt:
        big = rt.type(3 << 20)
        small = rt.type(64, 1)
        a = rt.alloc(big)
        before = rt.stats()
        with pytest.raises(errors.OutOfMemory):
            rt.alloc(big)
        after = rt.stats()
        assert (after.nmalloc, after.total_alloc) == (before.nmalloc, before.total_alloc)
        o = rt.alloc(small)
        o.set_ptr(0, a)
        assert o.ptr(0) == a
        n = 0
        with pytest.raises(errors.OutOfMemory):
            while True:
                rt.alloc(small)
                n += 1
        assert n > 1000
        assert rt.stats().by_size[class_of(64)].nmalloc == n + 1
        assert not rt.failed
        heap_check(rt)


def test_coalescing_of_freed_spans():
    """Stack spans are the only memory freed before the collector exists:
    freed neighbours merge, so their pages serve a larger request without
    growing the arena."""
    with Runtime(arena_size=16 << 20, on_throw="record") as rt:
        rt.gc_options(enable=False)  # live objects are kept as addresses: no collection
        base = ffi.new("void **")
        spans = []
        for n in (3, 5, 8, 16):
            assert lib.gcrt_test_heap_allocstack(rt.ptr(), n, base) == 0
            spans.append(int(ffi.cast("uintptr_t", base[0])))
        assert rt.stats().stacks_inuse == 32 * PAGE
        heap_sys = rt.stats().heap_sys
        for i in (1, 3, 0, 2):
            assert lib.gcrt_test_heap_freestack(rt.ptr(), ffi.cast("void *", spans[i])) == 0
            heap_check(rt)
        assert rt.stats().stacks_inuse == 0
        o = rt.alloc(rt.type(32 * PAGE))
        assert o.addr == min(spans)
        assert raw(o.addr, 32 * PAGE) == bytes(32 * PAGE)
        assert rt.stats().heap_sys == heap_sys
        bad = lib.gcrt_test_heap_freestack(rt.ptr(), ffi.cast("void *", o.addr))
        assert bad == lib.GCRT_EBADOBJ
        heap_check(rt)


def test_concurrent_gcrt_alloc():
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    with Runtime(arena_size=64 << 20, on_throw="record") as rt:
        rt.gc_options(enable=False)  # addresses of dropped handles are compared: no collection
        sizes = [rng.choice([8, 16, 24, 48, 200, 3000, 40000]) for _ in range(6)]
        types = [rt.type(n, rng.randrange(1 << min(2, n // 8))) for n in sizes]
        plans = [[rng.choice(types) for _ in range(400)] for _ in range(4)]
        results: list[list[tuple[int, int]]] = [[] for _ in plans]

        def worker(k: int) -> None:
            for t in plans[k]:
                results[k].append((rt.alloc(t).addr, t.size))

        # Chaos at every schedule point: random yields and spins in locks,
        # span map and counter accesses, seeded by the test's seed.
        assert lib.gcrt_test_sched_mode(rt.ptr(), 2, seed, 50) == 0
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(plans))]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert lib.gcrt_test_sched_mode(rt.ptr(), 0, 0, 0) == 0
        got = sorted(a for r in results for a in r)
        assert len(got) == sum(len(p) for p in plans), f"seed={seed}"
        for (a, n), (b, _) in zip(got, got[1:]):
            assert a + n <= b, f"seed={seed}: overlapping objects"
        s = rt.stats()
        assert s.nmalloc == len(got), f"seed={seed}"
        expect = sum(
            GO_CLASSES[class_of(n) - 1][0] if n <= 32768 else (n + PAGE - 1) // PAGE * PAGE
            for _, n in got
        )
        assert s.total_alloc == expect, f"seed={seed}"
        heap_check(rt)


@st.composite
def heap_programs(draw):
    return draw(
        st.lists(
            st.tuples(st.sampled_from(["stack", "free", "large", "small"]), st.integers(1, 300)),
            min_size=1,
            max_size=40,
        )
    )


@given(heap_programs())
def test_page_heap_random_alloc_free(prog):
    """Random stack-span allocations and frees mixed with objects: spans
    never overlap, freed pages are reused, invariants hold at every step."""
    with Runtime(arena_size=16 << 20, on_throw="record") as rt:
        rt.gc_options(enable=False)  # live objects are kept as addresses: no collection
        base = ffi.new("void **")
        stacks: list[tuple[int, int]] = []
        live: list[tuple[int, int]] = []
        small = rt.type(48, [1])
        for op, n in prog:
            if op == "stack":
                rc = lib.gcrt_test_heap_allocstack(rt.ptr(), n, base)
                if rc == lib.GCRT_ENOMEM:
                    continue
                assert rc == 0
                a = int(ffi.cast("uintptr_t", base[0]))
                ffi.memmove(ffi.cast("char *", a), b"\xab" * (n * PAGE), n * PAGE)
                stacks.append((a, n * PAGE))
            elif op == "free" and stacks:
                a, _ = stacks.pop(n % len(stacks))
                assert lib.gcrt_test_heap_freestack(rt.ptr(), ffi.cast("void *", a)) == 0
            elif op == "large":
                try:
                    o = rt.alloc(rt.type(n * PAGE - 100, [1]))
                except errors.OutOfMemory:
                    continue
                assert raw(o.addr, n * PAGE - 100) == bytes(n * PAGE - 100)
                live.append((o.addr, n * PAGE))
            else:
                o = rt.alloc(small)
                assert raw(o.addr, 48) == bytes(48)
                live.append((o.addr, 48))
            heap_check(rt)
            spans = sorted(stacks + live)
            for (a, la), (b, _) in zip(spans, spans[1:]):
                assert a + la <= b
        assert rt.stats().stacks_inuse == sum(n for _, n in stacks)
