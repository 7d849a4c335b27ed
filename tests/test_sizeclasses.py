"""The size classes equal Go's table, and size->class picks the smallest fit."""

from __future__ import annotations

import pytest

from pygcrt import Runtime
from pygcrt._binding import ffi, lib

# Go 1.4, 8 KB pages: (size, pages) for classes 1..66, from the reference §1.4
# (pages default to 1).
GO_CLASSES = [
    (8, 1), (16, 1), (32, 1), (48, 1), (64, 1), (80, 1), (96, 1), (112, 1), (128, 1),
    (144, 1), (160, 1), (176, 1), (192, 1), (208, 1), (224, 1), (240, 1), (256, 1),
    (288, 1), (320, 1), (352, 1), (384, 1), (416, 1), (448, 1), (480, 1), (512, 1),
    (576, 1), (640, 1), (704, 1), (768, 1), (896, 1), (1024, 1), (1152, 1), (1280, 1),
    (1408, 2), (1536, 1), (1664, 2), (2048, 1), (2304, 2), (2560, 1), (2816, 3),
    (3072, 2), (3328, 3), (4096, 1), (4608, 3), (5376, 2), (6144, 3), (6400, 4),
    (6656, 5), (6912, 6), (8192, 1), (8448, 7), (8704, 6), (9472, 5), (10496, 4),
    (12288, 3), (13568, 5), (14080, 7), (16384, 2), (16640, 9), (17664, 7), (20480, 5),
    (21248, 8), (24576, 3), (24832, 10), (28416, 7), (32768, 4),
]


@pytest.fixture(scope="module")
def rt():
    with Runtime(arena_size=8 << 20) as r:
        yield r


def table(rt: Runtime) -> list[tuple[int, int]]:
    size = ffi.new("uint32_t *")
    npages = ffi.new("uint32_t *")
    out = []
    for cl in range(lib.GCRT_NUM_SIZE_CLASSES):
        assert lib.gcrt_test_size_class(rt.ptr(), cl, size, npages) == 0
        out.append((int(size[0]), int(npages[0])))
    return out


def test_table_equals_go(rt):
    assert len(GO_CLASSES) == 66
    t = table(rt)
    assert t[0] == (0, 0)
    assert t[1:] == GO_CLASSES


def test_waste_at_most_one_eighth(rt):
    for size, pages in table(rt)[1:]:
        span = pages * 8192
        assert span % size <= span // 8


def test_size_to_class_smallest_fit(rt):
    sizes = [s for s, _ in GO_CLASSES]
    cl = ffi.new("int *")
    expect = 0
    for n in range(1, 32768 + 1):
        while sizes[expect] < n:
            expect += 1
        assert lib.gcrt_test_size_to_class(rt.ptr(), n, cl) == 0
        assert cl[0] == expect + 1, n


def test_size_to_class_rejects_out_of_range(rt):
    cl = ffi.new("int *")
    assert lib.gcrt_test_size_to_class(rt.ptr(), 0, cl) == lib.GCRT_ESIZE
    assert lib.gcrt_test_size_to_class(rt.ptr(), 32769, cl) == lib.GCRT_ESIZE
    assert lib.gcrt_test_size_class(rt.ptr(), 67, ffi.new("uint32_t *"), ffi.new("uint32_t *")) == lib.GCRT_ERANGE


def test_stats_by_size_lists_classes(rt):
    assert [c.size for c in rt.stats().by_size] == [0] + [s for s, _ in GO_CLASSES]
