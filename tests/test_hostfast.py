"""The running host G's fast paths and the pacing floor (issue 7).

A running host G's checked store trusts its recent allocations without
a heap lookup: they must still be checked for range and kind, older
objects must still be looked up, and all must be forgotten once the G
has let a collection run (gcrt_g_leave), so a handle freed meanwhile is
refused.  The pacing floor (heap_minimum)
decides when allocation starts collecting: below it, garbage piles up
uncollected; the default floor (4 MiB) collects the same garbage.
"""

from __future__ import annotations

from typing import Any

import pytest

from pygcrt import errors
from pygcrt._binding import ffi, lib
from pygcrt.runtime import Runtime


def _attach_running(rt: Runtime) -> Any:
    out = ffi.new("gcrt_g **")
    assert lib.gcrt_attach(rt.ptr(), out) == 0
    assert lib.gcrt_g_enter(out[0]) == 0
    return out[0]


def test_last_allocation_is_still_checked_for_range_and_kind() -> None:
    with Runtime(nprocs=1, on_throw="record") as rt:
        t = rt.type(16, [1, 0])
        g = _attach_running(rt)
        a = ffi.new("void **")
        b = ffi.new("void **")
        assert lib.gcrt_g_alloc(g, t.handle, a) == 0
        assert lib.gcrt_g_alloc(g, t.handle, b) == 0  # b is the last allocation
        stack_word = ffi.new("uint64_t *")
        assert lib.gcrt_g_write_ptr(g, b[0], 2, ffi.NULL) == lib.GCRT_ERANGE
        assert lib.gcrt_g_write_ptr(g, b[0], 1, a[0]) == lib.GCRT_EKIND
        assert lib.gcrt_g_write_ptr(g, b[0], 0, stack_word) == lib.GCRT_EBADOBJ
        interior = ffi.cast("char *", b[0]) + 8
        assert lib.gcrt_g_write_ptr(g, interior, 0, ffi.NULL) == lib.GCRT_EBADOBJ
        assert lib.gcrt_g_write_ptr(g, b[0], 0, a[0]) == 0
        assert lib.gcrt_g_write_ptr(g, a[0], 0, b[0]) == 0
        got = ffi.new("void **")
        assert lib.gcrt_read_ptr(rt.ptr(), b[0], 0, got) == 0 and got[0] == a[0]
        assert lib.gcrt_read_ptr(rt.ptr(), a[0], 0, got) == 0 and got[0] == b[0]
        assert lib.gcrt_detach(g) == 0
        assert not rt.failed, rt.last_throw


def test_older_objects_are_looked_up_and_linked() -> None:
    with Runtime(nprocs=1, on_throw="record") as rt:
        t = rt.type(16, [1, 0])
        g = _attach_running(rt)
        objs = []
        out = ffi.new("void **")
        for k in range(40):
            assert lib.gcrt_g_alloc(g, t.handle, out) == 0
            objs.append(out[0])
            back = objs[max(0, k - 1 - k % 9)] if k > 0 else ffi.NULL  # 1..9 allocations back
            assert lib.gcrt_g_write_ptr(g, out[0], 0, back) == 0
            assert lib.gcrt_g_write_ptr(g, objs[k // 2], 1, out[0]) == lib.GCRT_EKIND
        got = ffi.new("void **")
        for k in range(1, 40):
            assert lib.gcrt_read_ptr(rt.ptr(), objs[k], 0, got) == 0
            assert got[0] == objs[max(0, k - 1 - k % 9)]
        assert lib.gcrt_detach(g) == 0
        assert not rt.failed, rt.last_throw


def test_last_allocation_is_forgotten_once_a_collection_could_free_it() -> None:
    with Runtime(nprocs=1, on_throw="record") as rt:
        t16 = rt.type(16, [1, 0])
        t64 = rt.type(64, [1])
        g = _attach_running(rt)
        keep = ffi.new("void **")  # pinned: keeps x's span in use once x is freed
        assert lib.gcrt_g_alloc(g, t16.handle, keep) == 0
        assert lib.gcrt_pin(rt.ptr(), keep[0]) == 0
        x = ffi.new("void **")
        assert lib.gcrt_g_alloc(g, t16.handle, x) == 0  # unreachable: no root holds it
        assert lib.gcrt_g_leave(g) == 0
        assert lib.gcrt_gc(rt.ptr()) == 0  # frees x (eager sweep)
        assert lib.gcrt_object_of(rt.ptr(), x[0], ffi.NULL, ffi.NULL, ffi.NULL) == lib.GCRT_EBADOBJ
        assert lib.gcrt_g_enter(g) == 0
        assert lib.gcrt_g_write_ptr(g, x[0], 0, ffi.NULL) == lib.GCRT_EBADOBJ
        y = ffi.new("void **")
        assert lib.gcrt_g_alloc(g, t64.handle, y) == 0  # another size class: not x's slot
        assert lib.gcrt_g_write_ptr(g, y[0], 0, x[0]) == lib.GCRT_EBADOBJ
        assert lib.gcrt_g_write_ptr(g, y[0], 0, y[0]) == 0
        assert lib.gcrt_detach(g) == 0
        assert not rt.failed, rt.last_throw


def _collections_after_garbage(heap_minimum: int | None, mib: int) -> tuple[int, int]:
    """(numgc, heap_sys) after allocating mib MiB of unreachable 1 KiB objects."""
    with Runtime(nprocs=1, on_throw="record", arena_size=256 << 20,
                 heap_minimum=heap_minimum) as rt:
        t = rt.type(1024)
        out = ffi.new("void **")
        for _ in range(mib * 1024):
            assert lib.gcrt_alloc(rt.ptr(), t.handle, out) == 0
        st = rt.stats()
        assert not rt.failed, rt.last_throw
        return st.numgc, st.heap_sys


def test_heap_minimum_is_the_pacing_floor() -> None:
    n_default, sys_default = _collections_after_garbage(None, 24)
    n_high, sys_high = _collections_after_garbage(48 << 20, 24)
    assert n_default >= 2
    assert sys_default < 16 << 20
    assert n_high == 0
    assert sys_high >= 24 << 20  # nothing was collected: the garbage is all there


def test_heap_minimum_must_not_be_negative() -> None:
    with pytest.raises(errors.InvalidArgument):
        Runtime(heap_minimum=-1)
