"""Finalizers: exactly once, only after the object is unreachable, with the
object and what it references intact; bad input is an error.

Oracle: the test's own record of calls and of the canaries it wrote.
"""

from __future__ import annotations

import threading

import pytest

from pygcrt import Obj, Runtime, errors
from pygcrt._binding import ffi, lib


def isobject(rt: Runtime, addr: int) -> bool:
    base = ffi.new("void **")
    rc = lib.gcrt_object_of(rt.ptr(), ffi.cast("void *", addr), base, ffi.NULL, ffi.NULL)
    return rc == 0 and int(ffi.cast("uintptr_t", base[0])) == addr


def test_finalizer_runs_once_after_unreachable_with_referents_intact() -> None:
    with Runtime(on_throw="record") as rt:
        rt.gc_options(checkmark=True)
        node = rt.type(24, [1, 0, 0])
        a, b = rt.alloc(node), rt.alloc(node)
        a.set_ptr(0, b)
        a.write(1, 0xA11CE)
        b.write(1, 0xB0B)
        seen: list[tuple[int, int, int, str]] = []

        def fin(o: Obj) -> None:
            ref = o.ptr(0)
            assert ref is not None
            seen.append((o.addr, o.read(1), ref.read(1), threading.current_thread().name))

        rt.set_finalizer(a, fin)
        addr_a, addr_b = a.addr, b.addr
        rt.gc()
        assert rt.wait_finalizers() == 0 and seen == []  # still pinned
        del a, b
        rt.gc()
        assert rt.wait_finalizers() == 1
        assert [s[:3] for s in seen] == [(addr_a, 0xA11CE, 0xB0B)]
        assert seen[0][3] != threading.current_thread().name
        for _ in range(3):
            rt.gc()
        assert rt.wait_finalizers() == 1 and len(seen) == 1
        assert not isobject(rt, addr_a) and not isobject(rt, addr_b)
        assert not rt.failed


def test_many_finalizers_each_exactly_once() -> None:
    with Runtime(on_throw="record") as rt:
        t = rt.type(48, [1])
        calls: dict[int, int] = {}
        addrs = []

        def fin(o: Obj) -> None:
            calls[o.addr] = calls.get(o.addr, 0) + 1

        for _ in range(300):
            o = rt.alloc(t)
            rt.set_finalizer(o, fin)
            addrs.append(o.addr)
        del o
        for _ in range(3):
            rt.gc()
            rt.wait_finalizers()
        assert calls == {a: 1 for a in addrs}


def test_finalizer_bad_input() -> None:
    with Runtime(on_throw="record") as rt:
        o = rt.alloc(rt.type(32, [1]))
        rt.set_finalizer(o, lambda x: None)
        with pytest.raises(errors.WrongState):
            rt.set_finalizer(o, lambda x: None)
        cb = rt._fincb
        assert lib.gcrt_set_finalizer(rt.ptr(), ffi.cast("void *", o.addr + 8), cb, ffi.NULL) == (
            lib.GCRT_EINVAL
        )
        buf = ffi.new("uint64_t[4]")
        assert lib.gcrt_set_finalizer(rt.ptr(), buf, cb, ffi.NULL) == lib.GCRT_EBADOBJ
        assert lib.gcrt_set_finalizer(rt.ptr(), ffi.cast("void *", o.addr), ffi.NULL, ffi.NULL) == (
            lib.GCRT_EINVAL
        )
        rt.gc()
        assert not rt.failed and isobject(rt, o.addr)
