"""Object access: interior pointers, the heap bitmap, words and pointers.

Oracles: the type's own mask (as the test built it) for bitmap nibbles,
Python models for the contents of object graphs.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygcrt import Runtime, errors
from pygcrt._binding import ffi, lib

BOUNDARY, MARKED = 1, 2
DEAD, SCALAR, POINTER = 0, 1, 2


def nibble(rt: Runtime, addr: int) -> int:
    out = ffi.new("uint32_t *")
    assert lib.gcrt_test_heapbits(rt.ptr(), ffi.cast("void *", addr), out) == 0
    return int(out[0])


def objectstart(rt: Runtime, addr: int) -> int:
    out = ffi.new("void **")
    assert lib.gcrt_test_objectstart(rt.ptr(), ffi.cast("void *", addr), out) == 0
    return int(ffi.cast("uintptr_t", out[0]))


SHAPES = [
    (8, [1]),
    (8, []),
    (16, [0, 1]),
    (24, [1, 0, 1]),
    (40, [0, 0, 0, 1]),
    (100, [1, 1, 0, 0, 1]),
    (1024, [0] * 100 + [1]),
    (4000, []),
    (32768, [1] + [0] * 10 + [1]),
    (40000, [0, 1]),
    (200_000, [1]),
]


@pytest.mark.parametrize("size,mask", SHAPES, ids=[f"{s}b" for s, _ in SHAPES])
def test_interior_pointers_resolve(size, mask):
    with Runtime(arena_size=16 << 20, on_throw="record") as rt:
        t = rt.type(size, mask)
        objs = [rt.alloc(t) for _ in range(3)]
        last = max((i + 1 for i, b in enumerate(mask) if b), default=0)
        nwords = (size + 7) // 8
        for k, o in enumerate(objs):
            if k > 0 and nwords > 600:
                break  # every word of one large object is enough
            for w in range(nwords):
                for delta in (0, 7) if w % 5 == 0 else (0,):
                    a = o.addr + 8 * w + delta
                    assert rt.object_of(a) == o
                    assert objectstart(rt, a) == o.addr
                    nib = nibble(rt, a)
                    assert bool(nib & BOUNDARY) == (w == 0)
                    assert not nib & MARKED
                    code = nib >> 2
                    if last == 0:
                        assert code == DEAD
                    elif w < last:
                        assert code == (POINTER if mask[w] else SCALAR), (w, nib)
                    else:
                        assert code == DEAD, (w, nib)
            assert o.type is t
            assert o.size == size
            for outside in (o.addr - 1, o.addr + 8 * nwords):
                try:
                    other = rt.object_of(outside)
                except errors.BadObject:
                    continue
                assert other != o


def test_words_and_pointers_round_trip():
    with Runtime(arena_size=16 << 20, on_throw="record") as rt:
        node = rt.type(48, [1, 0, 1, 0, 0, 1])
        big = rt.type(50_000, [0, 1])
        a, b, c = rt.alloc(node), rt.alloc(node), rt.alloc(big)
        for i in (1, 3, 4):
            a.write(i, (1 << 64) - 1 - i)
        a.write(3, -5)
        a.set_ptr(0, b)
        a.set_ptr(2, c.addr + 12345)
        a.set_ptr(5, a)
        c.set_ptr(1, a.addr + 8)
        c.write(6249, 77)
        assert [a.read(i) for i in (1, 3, 4)] == [(1 << 64) - 2, (1 << 64) - 5, (1 << 64) - 5]
        assert a.ptr(0) == b and a.ptr(2) == c and a.ptr(5) == a
        assert a.ptr_addr(2) == c.addr + 12345
        assert c.ptr(1) == a and c.ptr_addr(1) == a.addr + 8
        assert c[6249] == 77
        assert a.read(0) == b.addr
        a.set_ptr(0, None)
        assert a.ptr(0) is None and a.read(0) == 0
        assert b.ptr(0) is None and all(b.read(i) == 0 for i in range(6))


@st.composite
def programs(draw):
    ntypes = draw(st.integers(1, 4))
    shapes = []
    for _ in range(ntypes):
        size = draw(st.one_of(st.integers(1, 300), st.sampled_from([4096, 32768, 33000])))
        nwords = (size + 7) // 8
        mask = draw(st.lists(st.booleans(), max_size=min(nwords, 12)))
        shapes.append((size, mask))
    ops = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["alloc", "word", "ptr", "null"]),
                st.integers(0, 1 << 16),
                st.integers(0, 1 << 16),
                st.integers(0, (1 << 64) - 1),
            ),
            min_size=1,
            max_size=60,
        )
    )
    return shapes, ops


@given(programs())
def test_random_graphs_match_model(prog):
    shapes, ops = prog
    with Runtime(arena_size=16 << 20, on_throw="record") as rt:
        types = [rt.type(size, mask) for size, mask in shapes]
        objs = []
        model: dict[tuple[int, int], object] = {}
        for op, x, y, v in ops:
            if op == "alloc" or not objs:
                t = types[x % len(types)]
                objs.append((rt.alloc(t), t))
                continue
            o, t = objs[x % len(objs)]
            w = y % t.nwords
            if op == "word":
                if t.is_ptr(w):
                    with pytest.raises(errors.KindMismatch):
                        o.write(w, v)
                else:
                    o.write(w, v)
                    model[(o.addr, w)] = v
            elif t.is_ptr(w):
                target = None if op == "null" else objs[v % len(objs)][0]
                o.set_ptr(w, target)
                model[(o.addr, w)] = target
            else:
                with pytest.raises(errors.KindMismatch):
                    o.set_ptr(w, o)
        for o, t in objs:
            for w in range(min(t.nwords, 40)):
                want = model.get((o.addr, w), None if t.is_ptr(w) else 0)
                if t.is_ptr(w):
                    assert o.ptr(w) == want
                else:
                    assert o.read(w) == want
        assert rt.stats().nmalloc == len(objs)
        assert lib.gcrt_test_heap_check(rt.ptr()) == 0


@pytest.mark.parametrize("size", [8, 16, 48, 40000])
def test_mark_bits_are_per_object(size):
    """Setting one object's mark bit (as the collector will, with an atomic
    OR on a byte that two 8-byte objects share) touches no other object."""
    with Runtime(arena_size=8 << 20, on_throw="record") as rt:
        objs = [rt.alloc(rt.type(size, [1])) for _ in range(6)]
        marked = ffi.new("int *")

        def mark(o, op: int) -> bool:
            assert lib.gcrt_test_heap_mark(rt.ptr(), ffi.cast("void *", o.addr + size - 1), op, marked) == 0
            return bool(marked[0])

        assert not any(mark(o, 0) for o in objs)
        for o in objs[::2]:
            assert mark(o, 1)
        assert [mark(o, 0) for o in objs] == [True, False] * 3
        for o in objs:
            assert nibble(rt, o.addr) == BOUNDARY | (MARKED if mark(o, 0) else 0) | POINTER << 2
        assert not mark(objs[2], 2)
        assert [mark(o, 0) for o in objs] == [True, False, False, False, True, False]
        assert objs[0].ptr(0) is None


def test_pointer_stores_go_through_the_write_barrier():
    with Runtime(arena_size=8 << 20, on_throw="record") as rt:
        t = rt.type(16, [1, 0])
        a, b = rt.alloc(t), rt.alloc(t)
        assert lib.gcrt_test_sched_mode(rt.ptr(), 1, 0, 0) == 0
        for k in range(8):
            a.set_ptr(0, b if k % 2 else None)
            a.write(1, k)
        with pytest.raises(errors.KindMismatch):
            a.set_ptr(1, b)
        hits = ffi.new("uint64_t *")
        assert lib.gcrt_test_sched_hits(rt.ptr(), b"markwb.store", hits) == 0
        assert hits[0] == 8
        assert a.ptr(0) == b
