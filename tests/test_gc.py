"""Collection: random object graphs against a reachability oracle.

Hypothesis builds graphs of typed objects (cycles, interior pointers,
noscan and large objects) with roots in a registered global region and in
pinned handles; Python computes what is reachable.  After each collection
(checkmark on) every reachable object is present with its canaries and
pointers intact, every unreachable one is gone (its address is no longer an
object), and the live heap equals the reachable bytes exactly.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygcrt import Runtime, errors
from pygcrt._binding import ffi, lib

PAGE = 8192

# (size, pointer words): pointerful small, noscan, one-word, large.
SHAPES = [
    (16, [0]),
    (8, [0]),
    (48, [0, 2, 4]),
    (24, []),
    (200, [1, 20]),
    (3000, [0, 100]),
    (40000, [0, 4999]),
]


def canary(i: int, w: int) -> int:
    return (0x5EED0000_00000000 | i << 16 | w) & (1 << 64) - 1


def slotsize(rt: Runtime, size: int) -> int:
    if size > 32768:
        return (size + PAGE - 1) // PAGE * PAGE
    cl = ffi.new("int *")
    assert lib.gcrt_test_size_to_class(rt.ptr(), size, cl) == 0
    sz, np_ = ffi.new("uint32_t *"), ffi.new("uint32_t *")
    assert lib.gcrt_test_size_class(rt.ptr(), cl[0], sz, np_) == 0
    return int(sz[0])


def isobject(rt: Runtime, addr: int) -> bool:
    base = ffi.new("void **")
    rc = lib.gcrt_object_of(rt.ptr(), ffi.cast("void *", addr), base, ffi.NULL, ffi.NULL)
    return rc == 0 and int(ffi.cast("uintptr_t", base[0])) == addr


def word(addr: int, i: int) -> int:
    return int(ffi.cast("uint64_t *", addr)[i])


@st.composite
def graphs(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 30))
    kinds = [draw(st.integers(0, len(SHAPES) - 1)) for _ in range(n)]
    edges = []
    for i, k in enumerate(kinds):
        for f in SHAPES[k][1]:
            if draw(st.booleans()):
                j = draw(st.integers(0, n - 1))
                nwords = (SHAPES[kinds[j]][0] + 7) // 8
                off = draw(st.integers(0, nwords - 1)) * 8 if draw(st.booleans()) else 0
                edges.append((i, f, j, off))
    pins = draw(st.sets(st.integers(0, n - 1), max_size=3))
    globs = draw(st.lists(st.integers(0, n - 1), max_size=3))
    return {"kinds": kinds, "edges": edges, "pins": pins, "globs": globs}


def reachable(g: dict[str, Any]) -> set[int]:
    out: dict[int, list[int]] = {}
    for i, _f, j, _off in g["edges"]:
        out.setdefault(i, []).append(j)
    seen, todo = set(), list(g["pins"]) + list(g["globs"])
    while todo:
        i = todo.pop()
        if i not in seen:
            seen.add(i)
            todo.extend(out.get(i, []))
    return seen


@given(graphs())
@settings(max_examples=60)
def test_reachable_objects_survive_intact_and_garbage_is_freed(g: dict[str, Any]) -> None:
    with Runtime(nprocs=2, arena_size=64 << 20, on_throw="record") as rt:
        rt.gc_options(checkmark=True)
        types = [rt.type(size, sum(1 << w for w in ptrs)) for size, ptrs in SHAPES]
        objs = [rt.alloc(types[k]) for k in g["kinds"]]
        addrs = [o.addr for o in objs]
        for i, k in enumerate(g["kinds"]):
            size, ptrs = SHAPES[k]
            for w in range(min((size + 7) // 8, 8)):
                if w not in ptrs:
                    objs[i].write(w, canary(i, w))
        want: dict[tuple[int, int], int] = {}
        for i, f, j, off in g["edges"]:
            objs[i].set_ptr(f, addrs[j] + off)
            want[(i, f)] = addrs[j] + off
        region = rt.global_region(4, [1, 1, 1, 0])
        for slot, j in enumerate(g["globs"]):
            region[slot] = objs[j]
        region[3] = addrs[0] + 8  # a scalar word that looks like a pointer
        keep = [objs[i] for i in g["pins"]]
        del objs
        live = reachable(g)
        for cycle in range(2):
            rt.gc()
            assert not rt.failed
            for i, k in enumerate(g["kinds"]):
                assert isobject(rt, addrs[i]) == (i in live), (cycle, i)
                if i not in live:
                    continue
                size, ptrs = SHAPES[k]
                for w in range(min((size + 7) // 8, 8)):
                    if w not in ptrs:
                        assert word(addrs[i], w) == canary(i, w)
                for f in ptrs:
                    assert word(addrs[i], f) == want.get((i, f), 0)
            expect = sum(slotsize(rt, SHAPES[g["kinds"][i]][0]) for i in live)
            assert rt.stats().heap_alloc == expect
        del keep


def test_unpinned_chain_survives_through_a_global_root_only() -> None:
    with Runtime(on_throw="record") as rt:
        rt.gc_options(checkmark=True)
        t = rt.type(16, [1, 0])
        region = rt.global_region(1, [1])
        head = rt.alloc(t)
        region[0] = head
        prev, addrs = head, [head.addr]
        for k in range(2000):
            o = rt.alloc(t)
            o.write(1, k)
            prev.set_ptr(0, o)
            prev = o
            addrs.append(o.addr)
        del head, prev, o
        rt.gc()
        assert all(isobject(rt, a) for a in addrs)
        assert [word(a, 1) for a in addrs[1:]] == list(range(2000))
        region[0] = None
        rt.gc()
        assert not any(isobject(rt, a) for a in addrs)
        assert rt.stats().heap_alloc == 0


def test_pins_are_counted() -> None:
    with Runtime(on_throw="record") as rt:
        o = rt.alloc(rt.type(32))
        a = o.addr
        lib.gcrt_pin(rt.ptr(), ffi.cast("void *", a))
        o.release()
        rt.gc()
        assert isobject(rt, a)
        assert lib.gcrt_unpin(rt.ptr(), ffi.cast("void *", a)) == 0
        rt.gc()
        assert not isobject(rt, a)
        assert lib.gcrt_unpin(rt.ptr(), ffi.cast("void *", a)) == lib.GCRT_EINVAL


def test_released_handle_is_never_dereferenced() -> None:
    with Runtime() as rt:
        o = rt.alloc(rt.type(16, [1]))
        o.release()
        rt.gc()
        with pytest.raises(errors.BadObject):
            o.read(0)
        with pytest.raises(errors.BadObject):
            rt.alloc(rt.type(16, [1])).set_ptr(0, o)


def test_bad_roots_are_errors_and_the_runtime_stays_usable() -> None:
    with Runtime(on_throw="record") as rt:
        region = rt.global_region(8, [1])
        p = lib.gcrt_root_add
        assert p(rt.ptr(), region.words + 4, 16, ffi.NULL, 0) == lib.GCRT_EINVAL
        assert p(rt.ptr(), region.words, 64, ffi.NULL, 0) == lib.GCRT_EINVAL
        assert p(rt.ptr(), ffi.NULL, 8, ffi.NULL, 0) == lib.GCRT_EINVAL
        buf = ffi.new("uint64_t[4]")
        assert p(rt.ptr(), ffi.cast("char *", buf) + 1, 8, ffi.NULL, 0) == lib.GCRT_EINVAL
        assert p(rt.ptr(), buf, 32, ffi.new("uint8_t[]", [0xFF]), 5) == lib.GCRT_EINVAL
        o = rt.alloc(rt.type(64))
        assert p(rt.ptr(), ffi.cast("void *", o.addr), 8, ffi.NULL, 0) == lib.GCRT_EINVAL
        assert lib.gcrt_root_remove(rt.ptr(), buf) == lib.GCRT_EINVAL
        assert lib.gcrt_pin(rt.ptr(), ffi.cast("void *", o.addr + 8)) == lib.GCRT_EBADOBJ
        assert lib.gcrt_pin(rt.ptr(), buf) == lib.GCRT_EBADOBJ
        region.remove()
        with pytest.raises(errors.InvalidArgument):
            region.remove()
        rt.gc()
        assert isobject(rt, o.addr) and not rt.failed


def test_gc_from_inside_a_mark_is_wrong_state() -> None:
    with Runtime(on_throw="record") as rt:
        seen: list[int] = []

        @ffi.callback("void(gcrt_runtime *, void *)")
        def hook(r: Any, arg: Any) -> None:
            seen.append(lib.gcrt_gc(r))

        assert lib.gcrt_test_gc_markhook(rt.ptr(), hook, ffi.NULL) == 0
        rt.gc()
        assert seen == [lib.GCRT_ESTATE]
        assert lib.gcrt_test_gc_markhook(rt.ptr(), ffi.NULL, ffi.NULL) == 0
        rt.gc()
        assert seen == [lib.GCRT_ESTATE] and not rt.failed


def test_checkmark_throws_on_an_unmarked_reachable_object() -> None:
    with Runtime(on_throw="record") as rt:
        rt.gc_options(checkmark=True)
        o = rt.alloc(rt.type(32))

        @ffi.callback("void(gcrt_runtime *, void *)")
        def unmark(r: Any, arg: Any) -> None:
            lib.gcrt_test_heap_mark(r, ffi.cast("void *", o.addr), 2, ffi.new("int *"))

        lib.gcrt_test_gc_markhook(rt.ptr(), unmark, ffi.NULL)
        with pytest.raises(errors.FatalError) as e:
            rt.gc()
        assert f"checkmark found unmarked object {o.addr:#x}" in str(e.value)


@pytest.mark.parametrize("nprocs", [1, 2, 4])
def test_parallel_markers_mark_a_wide_graph(nprocs: int) -> None:
    with Runtime(nprocs=nprocs, on_throw="record") as rt:
        rt.gc_options(checkmark=True)
        t = rt.type(32, [1, 1, 0, 0])
        leaf = rt.type(8)
        root = rt.alloc(t)
        level, count = [root], 1
        for _ in range(9):
            nxt = []
            for o in level:
                for f in (0, 1):
                    c = rt.alloc(t)
                    o.set_ptr(f, c)
                    nxt.append(c)
            level = nxt
            count += len(nxt)
        for o in level:
            o.set_ptr(0, rt.alloc(leaf))
        del level, nxt, o, c
        rt.gc()
        assert not rt.failed
        assert rt.stats().heap_objects == count + 2**9


@pytest.mark.parametrize("stw", [False, True], ids=["concurrent-scan", "stw"])
@pytest.mark.parametrize("nms", [2, 3, 4])
def test_collections_while_ms_run_mutator_programs(nms: int, stw: bool) -> None:
    """Goroutines build linked lists held only by their stack frames and
    walk them back (the VM checks every node's canary on each load, and
    freed memory is poisoned) while the host collects with checkmark on,
    in the seed's cycle (concurrent scan) and in the plain STW mode."""
    import random
    import time

    from pygcrt.mutator import ProgramBuilder, start, wait

    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    n = 400
    with Runtime(nprocs=nms, on_throw="record", arena_size=64 << 20) as rt:
        rt.gc_options(checkmark=True, stw=stw)
        b = ProgramBuilder(rt)
        node = b.type(2, ptr_fields=[1])
        main = b.func(4, [0, 1])
        main.seti(2, n).label("build").alloc(1, node).store(1, 1, 0).move(0, 1)
        main.syscall(0).loop("build", 2)
        main.seti(3, n - 1).label("walk").check(0).load(0, 0, 1).yield_().loop("walk", 3)
        main.check(0).exit()
        prog = b.build()
        gs = prog.go(2 * nms)
        start(rt, nms)
        for _ in range(12):
            time.sleep(rnd.uniform(0.0002, 0.002))
            rt.gc()
            assert not rt.failed, f"seed={seed}: {rt.last_throw[:300]}"
        wait(rt, 60000)
        for g in gs:
            s = prog.stats(g)
            assert (s.exitcode, s.allocs, s.stores, s.loads) == (0, n, n, n - 1), f"seed={seed}"
        assert not rt.failed, f"seed={seed}: {rt.last_throw[:300]}"
        rt.gc()
        st = rt.stats()
        assert st.heap_alloc == 0 and st.numgc == 13, f"seed={seed}"


def test_default_pacing_bounds_the_heap() -> None:
    """With default settings, a Python loop allocating garbage (each handle
    dropped at once) triggers collections by pacing: numgc grows and the
    heap stays far below what was allocated (64 MB of 8 KB objects)."""
    with Runtime(nprocs=2) as rt:
        t = rt.type(8192)
        total = 64 << 20
        for _ in range(total // 8192):
            rt.alloc(t).release()
        st = rt.stats()
        assert st.numgc >= 3, st.numgc
        assert st.total_alloc >= total
        assert st.heap_alloc < 24 << 20, st.heap_alloc
        assert st.heap_sys < 48 << 20, st.heap_sys
