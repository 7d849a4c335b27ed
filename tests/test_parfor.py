"""parfor: Go's TestParForSetup, TestParFor, TestParFor2, and stealing.

Ranges come straight from parforsetup; execution counts are recorded per
iteration by the body (atomic increments) on runtime threads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pygcrt import errors
from pygcrt import workhooks as wh


@pytest.fixture
def rt() -> Iterator[wh.HookRuntime]:
    with wh.HookRuntime(nprocs=4) as r:
        yield r


def test_setup_ranges_are_contiguous_cover_n_and_balanced(rt: wh.HookRuntime) -> None:
    for n in range(101):
        for p in range(1, 12):
            ranges = wh.parforsetup(rt, p, n)
            msg = f"n={n} p={p} ranges={ranges}"
            assert len(ranges) == p, msg
            assert ranges[0][0] == 0, msg
            assert ranges[-1][1] == n, msg
            for (_, end), (begin, _) in zip(ranges, ranges[1:]):
                assert end == begin, msg
            sizes = [e - b for b, e in ranges]
            assert all(s >= 0 for s in sizes), msg
            assert sum(sizes) == n, msg
            assert max(sizes) - min(sizes) <= 1, msg


def test_single_thread_runs_every_iteration_once(rt: wh.HookRuntime) -> None:
    r = wh.parfor_run(rt, 1, 20, seed=1)
    assert r.counts == [1] * 20
    assert r.nsteal == 0


@pytest.mark.parametrize("nthr", [2, 3, 4, 8])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_iteration_runs_once_under_stealing(
    rt: wh.HookRuntime, nthr: int, seed: int
) -> None:
    # Thread 0's iterations sleep, so the others run out early and steal.
    n = 10 * nthr
    r = wh.parfor_run(rt, nthr, n, slow_us=1000, seed=seed)
    msg = f"nthr={nthr} seed={seed} {r}"
    assert r.counts == [1] * n, msg
    assert r.nsteal > 0, msg
    assert r.nstealcnt >= r.nsteal, msg
    assert r.ranges[0] == (0, n // nthr), msg


@pytest.mark.parametrize("seed", [3, 4])
def test_nonblocking_parfor_still_runs_everything(rt: wh.HookRuntime, seed: int) -> None:
    # TestParFor2's shape: 7 threads, 1003 iterations, wait = false.
    r = wh.parfor_run(rt, 7, 1003, wait=False, seed=seed)
    assert r.counts == [1] * 1003, f"seed={seed}"


def test_large_parallel_loop(rt: wh.HookRuntime) -> None:
    n = 200000
    r = wh.parfor_run(rt, 4, n, seed=5)
    assert r.counts == [1] * n


def test_zero_iterations(rt: wh.HookRuntime) -> None:
    assert wh.parfor_run(rt, 3, 0, seed=1).counts == []


def test_arguments_out_of_range(rt: wh.HookRuntime) -> None:
    for nthr in (0, 33):
        with pytest.raises(errors.InvalidArgument):
            wh.parforsetup(rt, nthr, 10)
        with pytest.raises(errors.InvalidArgument):
            wh.parfor_run(rt, nthr, 10)
    with pytest.raises(errors.IndexOutOfRange):
        wh.parforsetup(rt, 2, (1 << 24) + 1)
    with pytest.raises(errors.IndexOutOfRange):
        wh.parfor_run(rt, 2, 10, slow_us=10001)
    assert not rt.failed
    assert wh.parfor_run(rt, 2, 10, seed=1).counts == [1] * 10
