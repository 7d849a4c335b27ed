"""Many runtimes in one process: isolation, teardown without leaks, throws."""

from __future__ import annotations

import os

import pytest

from pygcrt import Runtime, errors
from pygcrt._binding import check, ffi, lib


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_many_runtimes_alive_at_once():
    rts = [Runtime(arena_size=8 << 20, on_throw="record") for _ in range(24)]
    try:
        nodes = [rt.type(16, [1, 0]) for rt in rts]
        heads = []
        for k, (rt, t) in enumerate(zip(rts, nodes)):
            a, b = rt.alloc(t), rt.alloc(t)
            a.set_ptr(0, b)
            b.write(1, k)
            heads.append(a)
        assert len({t.handle for t in nodes}) == len(nodes)
        for k, (rt, head) in enumerate(zip(rts, heads)):
            assert head.ptr(0).read(1) == k
            other = rts[(k + 1) % len(rts)]
            with pytest.raises(errors.BadType):
                rt.alloc(nodes[(k + 1) % len(rts)])
            with pytest.raises(errors.BadObject):
                other.object_of(head.addr)
            assert rt.stats().nmalloc == 2
    finally:
        for rt in rts:
            rt.close()


def test_create_destroy_cycles_do_not_grow_rss():
    def cycle() -> None:
        with Runtime(arena_size=32 << 20) as rt:
            small = rt.type(64, [1])
            big = rt.type(1 << 20)
            prev = None
            for _ in range(200):
                o = rt.alloc(small)
                o.set_ptr(0, prev)
                prev = o
            for _ in range(3):
                ffi.memmove(ffi.cast("char *", rt.alloc(big).addr), b"x" * 4096, 4096)
            assert rt.stats().nmalloc == 203

    for _ in range(20):
        cycle()
    base = rss_bytes()
    for _ in range(200):
        cycle()
    grown = rss_bytes() - base
    assert grown < 4 << 20, f"RSS grew by {grown} bytes over 200 cycles"


def test_arena_hint_and_taken_hint():
    # Far below where mmap places arenas (top-down), so very likely free.
    with Runtime(arena_size=8 << 20) as probe:
        free_at = (probe.alloc(probe.type(8)).addr - (64 << 30)) & ~((1 << 30) - 1)
    with Runtime(arena_size=8 << 20, arena_hint=free_at) as rt:
        o = rt.alloc(rt.type(8))
        assert free_at <= o.addr < free_at + (8 << 20)
        with pytest.raises(errors.OutOfMemory):
            Runtime(arena_size=8 << 20, arena_hint=free_at)
        assert rt.alloc(rt.type(8)).addr != o.addr
    with pytest.raises(errors.InvalidArgument):
        Runtime(arena_size=8 << 20, arena_hint=12345)
    with Runtime(arena_size=8 << 20, arena_hint=free_at) as again:
        assert again.alloc(again.type(8)).addr == o.addr


def test_recorded_throw_is_fatal_error():
    rt = Runtime(arena_size=8 << 20, on_throw="record")
    t = rt.type(16, [1])
    o = rt.alloc(t)
    with pytest.raises(errors.FatalError) as ei:
        check(lib.gcrt_test_heap_throw(rt.ptr(), b"forced by test"), rt.ptr(), "throw")
    assert "fatal error: forced by test" in ei.value.report
    assert "heap: arena=" in ei.value.report
    assert rt.failed
    for call in (lambda: rt.alloc(t), lambda: o.read(0), lambda: rt.stats(), lambda: rt.type(8)):
        with pytest.raises(errors.FatalError):
            call()
    rt.close()
    with pytest.raises(errors.RuntimeClosed):
        rt.stats()
