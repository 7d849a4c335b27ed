"""Every bad input is rejected with its own error, and the runtime stays usable.

Each test checks both the Python exception and, where Python does not
pre-empt it, the C return code, then that allocation, access and the heap
self-check still work.
"""

from __future__ import annotations

import pytest

from pygcrt import Runtime, errors
from pygcrt._binding import ffi, lib


@pytest.fixture
def rt():
    with Runtime(arena_size=8 << 20, on_throw="record", max_types=64) as r:
        yield r


def still_usable(rt: Runtime) -> None:
    t = rt.type(24, [1, 0, 0])
    a, b = rt.alloc(t), rt.alloc(t)
    a.set_ptr(0, b)
    a.write(2, 99)
    assert a.ptr(0) == b and a.read(2) == 99
    assert not rt.failed
    assert lib.gcrt_test_heap_check(rt.ptr()) == 0


def vp(addr: int):
    return ffi.cast("void *", addr)


def test_size_zero(rt):
    with pytest.raises(errors.BadSize):
        rt.type(0)
    out = ffi.new("gcrt_type *")
    assert lib.gcrt_type_new(rt.ptr(), 0, ffi.NULL, 0, out) == lib.GCRT_ESIZE
    still_usable(rt)


def test_size_over_arena(rt):
    with pytest.raises(errors.BadSize):
        rt.type(rt.arena_size + 1)
    with pytest.raises(errors.BadSize):
        rt.type(1 << 64)
    whole = rt.type(rt.arena_size)  # the whole arena: fits once, then ENOMEM
    rt.alloc(rt.type(8))
    with pytest.raises(errors.OutOfMemory):
        rt.alloc(whole)
    still_usable(rt)


def test_ptrmask_longer_than_object(rt):
    with pytest.raises(errors.InvalidArgument):
        rt.type(16, [0, 0, 1])
    with pytest.raises(errors.InvalidArgument):
        rt.type(9, 0b100)
    out = ffi.new("gcrt_type *")
    mask = ffi.new("uint8_t[]", [0])
    assert lib.gcrt_type_new(rt.ptr(), 8, mask, 2, out) == lib.GCRT_EINVAL
    assert lib.gcrt_type_new(rt.ptr(), 8, ffi.NULL, 1, out) == lib.GCRT_EINVAL
    assert lib.gcrt_type_new(rt.ptr(), 8, mask, 1, ffi.NULL) == lib.GCRT_EINVAL
    rt.type(9, [0, 1])  # exactly ceil(9/8) bits is fine
    still_usable(rt)


def test_unknown_type(rt):
    t = rt.type(16)
    out = ffi.new("void **")
    for forged in (0, t.handle + 1, t.handle + (1 << 32), (1 << 64) - 1, t.handle & 0xFFFFFFFF):
        assert lib.gcrt_alloc(rt.ptr(), forged, out) == lib.GCRT_EBADTYPE
        assert lib.gcrt_type_info(rt.ptr(), forged, ffi.NULL, ffi.NULL) == lib.GCRT_EBADTYPE
    with pytest.raises(errors.BadType):
        rt.alloc("not a type")  # type: ignore[arg-type]
    still_usable(rt)


def test_foreign_type_and_object(rt):
    with Runtime(arena_size=8 << 20, on_throw="record") as other:
        ft = other.type(16, [1])
        fo = other.alloc(ft)
        mine = rt.alloc(rt.type(16, [1]))
        with pytest.raises(errors.BadType):
            rt.alloc(ft)
        out = ffi.new("void **")
        assert lib.gcrt_alloc(rt.ptr(), ft.handle, out) == lib.GCRT_EBADTYPE
        for call in (
            lambda: lib.gcrt_read_word(rt.ptr(), vp(fo.addr), 0, ffi.new("uint64_t *")),
            lambda: lib.gcrt_write_ptr(rt.ptr(), vp(fo.addr), 0, ffi.NULL),
            lambda: lib.gcrt_object_of(rt.ptr(), vp(fo.addr), ffi.NULL, ffi.NULL, ffi.NULL),
        ):
            assert call() == lib.GCRT_EBADOBJ
        with pytest.raises(errors.BadObject):
            mine.set_ptr(0, fo)
        with pytest.raises(errors.BadObject):
            rt.object_of(fo.addr)
        assert mine.ptr(0) is None
        assert fo.ptr(0) is None
    still_usable(rt)


def test_unknown_objects(rt):
    t = rt.type(32, [1])
    o = rt.alloc(t)
    buf = ffi.new("char[64]")
    not_ours = [0, 8, int(ffi.cast("uintptr_t", buf)), o.addr + 8, o.addr + 32, (1 << 64) - 8]
    w = ffi.new("uint64_t *")
    for a in not_ours:
        assert lib.gcrt_read_word(rt.ptr(), vp(a), 0, w) == lib.GCRT_EBADOBJ
        assert lib.gcrt_write_word(rt.ptr(), vp(a), 1, 5) == lib.GCRT_EBADOBJ
        assert lib.gcrt_read_ptr(rt.ptr(), vp(a), 0, ffi.new("void **")) == lib.GCRT_EBADOBJ
        assert lib.gcrt_write_ptr(rt.ptr(), vp(a), 0, ffi.NULL) == lib.GCRT_EBADOBJ
    # A never-allocated slot next to o, and a free page of the arena.
    for a in (o.addr + 32, o.addr + 8192 * 40):
        with pytest.raises(errors.BadObject):
            rt.object_of(a)
    with pytest.raises(errors.BadObject):
        o.set_ptr(0, int(ffi.cast("uintptr_t", buf)))
    with pytest.raises(errors.BadObject):
        o.set_ptr(0, o.addr + 32)
    with pytest.raises(errors.BadObject):
        rt.object_of(-1)
    assert o.ptr(0) is None
    still_usable(rt)


def test_field_index_out_of_range(rt):
    o = rt.alloc(rt.type(20, [0, 1]))
    for i in (3, 4, 1 << 40):
        with pytest.raises(errors.IndexOutOfRange):
            o.read(i)
        with pytest.raises(errors.IndexOutOfRange):
            o.write(i, 1)
        with pytest.raises(errors.IndexOutOfRange):
            o.set_ptr(i, None)
    with pytest.raises(errors.IndexOutOfRange):
        o.read(-1)
    assert lib.gcrt_read_word(rt.ptr(), vp(o.addr), 3, ffi.new("uint64_t *")) == lib.GCRT_ERANGE
    assert lib.gcrt_write_ptr(rt.ptr(), vp(o.addr), 2**64 - 1, ffi.NULL) == lib.GCRT_ERANGE
    o.write(2, 7)
    assert o.read(2) == 7
    still_usable(rt)


def test_pointer_into_scalar_word_and_reverse(rt):
    a = rt.alloc(rt.type(24, [1, 0, 0]))
    b = rt.alloc(rt.type(8))
    with pytest.raises(errors.KindMismatch):
        a.set_ptr(1, b)
    with pytest.raises(errors.KindMismatch):
        a.set_ptr(2, None)
    with pytest.raises(errors.KindMismatch):
        a.ptr(1)
    with pytest.raises(errors.KindMismatch):
        a.write(0, b.addr)
    assert lib.gcrt_write_ptr(rt.ptr(), vp(b.addr), 0, vp(a.addr)) == lib.GCRT_EKIND
    assert a.read(1) == 0 and a.read(0) == 0
    assert b.read(0) == 0
    still_usable(rt)


def test_null_outputs(rt):
    o = rt.alloc(rt.type(16, [1]))
    assert lib.gcrt_alloc(rt.ptr(), o.type.handle, ffi.NULL) == lib.GCRT_EINVAL
    assert lib.gcrt_read_word(rt.ptr(), vp(o.addr), 0, ffi.NULL) == lib.GCRT_EINVAL
    assert lib.gcrt_read_ptr(rt.ptr(), vp(o.addr), 0, ffi.NULL) == lib.GCRT_EINVAL
    assert lib.gcrt_stats_read(rt.ptr(), ffi.NULL) == lib.GCRT_EINVAL
    assert lib.gcrt_alloc(ffi.NULL, o.type.handle, ffi.new("void **")) == lib.GCRT_EBADRT
    assert lib.gcrt_stats_read(ffi.NULL, ffi.new("gcrt_stats *")) == lib.GCRT_EBADRT
    still_usable(rt)


def test_type_table_full(rt):
    for _ in range(64):
        rt.type(8)
    with pytest.raises(errors.OutOfMemory):
        rt.type(8)
    o = rt.alloc(rt._types[max(rt._types)])
    assert o.read(0) == 0
    assert lib.gcrt_test_heap_check(rt.ptr()) == 0


def test_use_after_close():
    rt = Runtime(arena_size=8 << 20)
    t = rt.type(16, [1])
    o = rt.alloc(t)
    rt.close()
    rt.close()
    for call in (
        lambda: rt.type(8),
        lambda: rt.alloc(t),
        lambda: o.read(0),
        lambda: o.write(1, 1),
        lambda: o.ptr(0),
        lambda: o.set_ptr(0, None),
        lambda: rt.object_of(o.addr),
        lambda: rt.stats(),
        lambda: o.type,
    ):
        with pytest.raises(errors.RuntimeClosed):
            call()
    with pytest.raises(errors.RuntimeClosed):
        with rt:
            pass


def test_bad_config():
    with pytest.raises(errors.InvalidArgument):
        Runtime(on_throw="explode")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgument):
        Runtime(nprocs=0)
    with pytest.raises(errors.BadSize):
        Runtime(arena_size=1 << 20)
