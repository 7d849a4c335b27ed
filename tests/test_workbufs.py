"""Work buffers on the full / empty / partial lists, handoff, and getfull.

Scenarios run in C on runtime threads (pygcrt.workhooks).  Oracles are item
ids: every item a producer or marker made must be consumed or processed
exactly once, and every buffer must end up on the list its fill level says.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pygcrt import errors
from pygcrt import workhooks as wh
from pygcrt._binding import ffi, lib

NOBJ = 509


@pytest.fixture
def rt() -> Iterator[wh.HookRuntime]:
    with wh.HookRuntime(nprocs=4) as r:
        yield r


def test_layout_is_one_page_of_509_slots() -> None:
    assert wh.workbuf_layout() == (4096, NOBJ)


@pytest.mark.parametrize(
    ("op", "nobj", "where"),
    [
        ("putpartial", 0, "empty"),
        ("putpartial", 1, "partial"),
        ("putpartial", NOBJ - 1, "partial"),
        ("putpartial", NOBJ, "full"),
        ("putempty", 0, "empty"),
        ("putfull", 1, "full"),
        ("putfull", NOBJ, "full"),
        ("gcworkbuffree", 0, "empty"),
        ("gcworkbuffree", 7, "full"),
    ],
)
def test_buffers_go_to_the_list_of_their_fill_level(
    rt: wh.HookRuntime, op: str, nobj: int, where: str
) -> None:
    p = wh.workbuf_put(rt, op, nobj)
    assert p.list == where
    assert p.listnobj == nobj
    assert p.listsum == nobj * (nobj + 1) // 2
    assert p.others == 0


@pytest.mark.parametrize("n", [1, 2, 5, 100, NOBJ])
def test_handoff_gives_away_the_upper_half(rt: wh.HookRuntime, n: int) -> None:
    p = wh.workbuf_put(rt, "handoff", n)
    give = n // 2
    keep = n - give
    # The caller continues with the upper half, entries keep+1..n ...
    assert p.kept == give
    assert p.keptsum == sum(range(keep + 1, n + 1))
    if give:
        assert p.keptmin == keep + 1
    # ... and the lower half, 1..keep, waits on full for idle markers.
    assert p.list == "full"
    assert p.listnobj == keep
    assert p.listsum == keep * (keep + 1) // 2


@pytest.mark.parametrize(
    ("op", "nobj", "message"),
    [
        ("putempty", 1, "putempty: b->nobj not 0"),
        ("putempty", NOBJ, "putempty: b->nobj not 0"),
        ("putfull", 0, "putfull: b->nobj <= 0"),
        ("handoff", 0, "putfull: b->nobj <= 0"),
    ],
)
def test_wrong_list_is_a_throw(rt: wh.HookRuntime, op: str, nobj: int, message: str) -> None:
    with pytest.raises(errors.FatalError, match=message) as e:
        wh.workbuf_put(rt, op, nobj)
    assert e.value.report.startswith(f"fatal error: {message}")
    assert "work: nproc=" in e.value.report  # the work lists' dump
    assert rt.failed
    with pytest.raises(errors.FatalError):
        wh.workbuf_put(rt, "putempty", 0)


@pytest.mark.parametrize("nobj", [-1, NOBJ + 1])
def test_fill_level_out_of_range_is_an_error(rt: wh.HookRuntime, nobj: int) -> None:
    with pytest.raises(errors.IndexOutOfRange):
        wh.workbuf_put(rt, "putpartial", nobj)
    with pytest.raises(errors.InvalidArgument):
        wh.workbuf_put(rt, "putsomewhere", 1)
    p = ffi.new("gcrt_wbput *")
    p.op = 99
    assert lib.gcrt_test_workbuf_put(rt.ptr, p) == lib.GCRT_EINVAL
    assert not rt.failed
    assert wh.workbuf_put(rt, "putpartial", 3).list == "partial"


def _check_stress(r: wh.WorkbufStress, rounds: int, seed: int) -> None:
    msg = f"seed={seed:#x} {r}"
    assert r.produced > 0, msg
    assert r.consumed == r.produced, msg
    assert r.lost == 0, msg
    assert r.dup == 0, msg
    assert (r.bad_empty, r.bad_partial, r.bad_full) == (0, 0, 0), msg
    # No buffer is lost or owned twice: all of them are back on a list.
    assert r.on_empty + r.on_partial + r.on_full == r.nbuf, msg
    assert r.ops == [rounds] * len(r.ops), msg


@pytest.mark.parametrize("seed", [1, 2, 0xC0FFEE])
def test_concurrent_producers_and_consumers(rt: wh.HookRuntime, seed: int) -> None:
    r = wh.workbuf_stress(rt, 4, 3000, 200, seed)
    _check_stress(r, 3000, seed)
    assert r.on_full + r.on_partial > 0  # the drain had work to check


@pytest.mark.parametrize("seed", [7, 8])
def test_concurrent_producers_and_consumers_under_chaos(rt: wh.HookRuntime, seed: int) -> None:
    assert lib.gcrt_test_sched_mode(rt.ptr, 2, seed, 50) == 0
    r = wh.workbuf_stress(rt, 4, 500, 100, seed)
    _check_stress(r, 500, seed)


def test_stress_arguments_out_of_range(rt: wh.HookRuntime) -> None:
    for args in [(0, 10, 10), (65, 10, 10), (2, 10, 0), (2, 10, 2001), (64, 10**6, 2000)]:
        with pytest.raises(errors.IndexOutOfRange):
            wh.workbuf_stress(rt, *args, seed=1)
    assert not rt.failed
    _check_stress(wh.workbuf_stress(rt, 2, 100, 10, seed=1), 100, 1)


# ---- getfull, the termination barrier ----


def _check_round(r: wh.Round, nproc: int, seed: int) -> None:
    msg = f"nproc={nproc} seed={seed:#x} {r}"
    assert r.lost == 0, msg
    assert r.dup == 0, msg
    assert r.processed == r.generated, msg
    assert sum(r.per_marker) == r.processed, msg
    assert (r.left_full, r.left_partial) == (0, 0), msg
    assert r.ndone == nproc, msg
    # Everyone returned from the same barrier: all nproc counted as waiting.
    assert r.nwait == (nproc if nproc > 1 else 0), msg


@pytest.mark.parametrize("nproc", [1, 2, 4])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_getfull_round_terminates_with_no_work_left(
    rt: wh.HookRuntime, nproc: int, seed: int
) -> None:
    r = wh.getfull_round(rt, nproc, items=64, budget=30000, maxfan=3, seed=seed)
    _check_round(r, nproc, seed)
    assert r.generated > 64


@pytest.mark.parametrize("nproc", [2, 4])
def test_getfull_round_under_chaos(rt: wh.HookRuntime, nproc: int) -> None:
    seed = 11 + nproc
    assert lib.gcrt_test_sched_mode(rt.ptr, 2, seed, 50) == 0
    r = wh.getfull_round(rt, nproc, items=16, budget=3000, maxfan=2, seed=seed)
    _check_round(r, nproc, seed)


def test_rounds_back_to_back_reuse_the_buffers(rt: wh.HookRuntime) -> None:
    for seed in range(5):
        r = wh.getfull_round(rt, 1 + seed % 4, items=10, budget=2000, maxfan=2, seed=seed)
        _check_round(r, 1 + seed % 4, seed)


@pytest.mark.parametrize("nproc", [2, 4])
def test_waiters_take_work_left_only_on_partial(rt: wh.HookRuntime, nproc: int) -> None:
    # Marker 0 holds the only work; once the others wait in getfull it puts
    # the buffer on partial and holds back.  A waiter must see it.
    r = wh.getfull_round(rt, nproc, scenario="partial_only", items=100, budget=100,
                         maxfan=0, hold_ms=5000, seed=nproc)
    _check_round(r, nproc, nproc)
    assert r.partial_taken, r
    assert r.per_marker[0] == 0, r


@pytest.mark.parametrize("nproc", [2, 4])
def test_seed_getfull_mutant_ignores_partial(rt: wh.HookRuntime, nproc: int) -> None:
    # The seed's wait loop watches only work.full: nobody takes the buffer
    # while marker 0 holds back; marker 0 ends up doing it all itself.
    wh.set_mutant(rt, "getfull_partial")
    r = wh.getfull_round(rt, nproc, scenario="partial_only", items=100, budget=100,
                         maxfan=0, hold_ms=300, seed=nproc)
    _check_round(r, nproc, nproc)
    assert not r.partial_taken, r
    assert r.per_marker[0] == 100, r


def test_getfull_schedule_points_are_named(rt: wh.HookRuntime) -> None:
    assert lib.gcrt_test_sched_mode(rt.ptr, 1, 0, 0) == 0
    wh.getfull_round(rt, 2, items=8, budget=500, maxfan=2, seed=1)
    out = ffi.new("uint64_t *")
    for name in ["getfull.nwait_inc", "getfull.wait", "getfull.nwait_load", "lfstack.pop.cas"]:
        assert lib.gcrt_test_sched_hits(rt.ptr, name.encode(), out) == 0
        assert out[0] >= 1, name


@pytest.mark.parametrize("nproc", [0, 5, 33])
def test_nproc_out_of_range_is_a_throw(rt: wh.HookRuntime, nproc: int) -> None:
    with pytest.raises(errors.FatalError, match="workbegin: nproc"):
        wh.getfull_round(rt, nproc, items=4, budget=10, seed=1)
    assert rt.failed


def test_round_arguments_out_of_range(rt: wh.HookRuntime) -> None:
    bad = [
        dict(items=0),
        dict(items=20, budget=10),
        dict(budget=(1 << 24) + 1),
        dict(maxfan=9),
        dict(hold_ms=10001),
    ]
    for kw in bad:
        with pytest.raises(errors.IndexOutOfRange):
            wh.getfull_round(rt, 2, **kw)  # type: ignore[arg-type]
    with pytest.raises(errors.IndexOutOfRange):  # partial-only needs 2 markers
        wh.getfull_round(rt, 1, scenario="partial_only", items=5, budget=5, maxfan=0)
    with pytest.raises(errors.InvalidArgument):
        wh.getfull_round(rt, 2, scenario="nonsense")
    assert not rt.failed
    _check_round(wh.getfull_round(rt, 2, items=5, budget=50, seed=1), 2, 1)


@pytest.mark.parametrize("nproc", [2, 4])
def test_wrong_list_during_a_round_fails_it_and_waiters_leave(
    rt: wh.HookRuntime, nproc: int
) -> None:
    # Marker 0 puts a non-empty buffer on empty while the others wait in
    # getfull: the throw is recorded and the waiters leave instead of hanging.
    with pytest.raises(errors.FatalError, match="putempty: b->nobj not 0"):
        wh.getfull_round(rt, nproc, scenario="misuse", items=10, budget=10, maxfan=0, seed=1)
    assert rt.failed
