"""The scheduler (proc.c): Gs over 2-4 Ms, stop-the-world, host threads.

Oracles are independent of the runtime's own bookkeeping: every worker G
adds 1 to its own counter in test memory only while it runs, so while the
world is stopped no counter may move; completion is checked against the
iteration counts the test chose.  Seeds are printed on failure.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from pygcrt import proc as P
from pygcrt._binding import ffi, lib
from pygcrt.runtime import Runtime

from hostloop import alloc_until_stopped, stop_host

pytestmark = pytest.mark.timeout(90)

W_YIELD, W_SYSCALL, W_PARK = lib.GCRT_TEST_W_YIELD, lib.GCRT_TEST_W_SYSCALL, lib.GCRT_TEST_W_PARK


def go_workers(rt: Runtime, n: int, iters: int, flags: int, seed: int) -> tuple[Any, list[Any]]:
    counters = ffi.new("uint64_t[]", n)
    gs = []
    for i in range(n):
        out = ffi.new("gcrt_g **")
        assert lib.gcrt_test_go_worker(rt.ptr(), counters + i, iters, flags, seed * 1000 + i, out) == 0
        gs.append(out[0])
    return counters, gs


class Waker:
    """A host thread that readies every G each millisecond (an async
    wakeup source, like Go's netpoll)."""

    def __init__(self, rt: Runtime, gs: list[Any]) -> None:
        self.rt, self.gs = rt, gs
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for g in self.gs:
                assert lib.gcrt_ready(self.rt.ptr(), g) == 0
            time.sleep(0.001)

    def __enter__(self) -> "Waker":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def snapshot(rt: Runtime) -> tuple[int, int]:
    nr, nn = ffi.new("int *"), ffi.new("int *")
    assert lib.gcrt_test_sched_snapshot(rt.ptr(), nr, nn) == 0
    return nr[0], nn[0]


def gstatus(rt: Runtime, g: Any) -> int:
    out = ffi.new("uint32_t *")
    assert lib.gcrt_test_g_status(rt.ptr(), g, out) == 0
    return int(out[0])


@pytest.mark.parametrize("nms,nprocs", [(2, 2), (3, 2), (4, 4)])
def test_many_gs_complete(nms: int, nprocs: int) -> None:
    seed = random.randrange(1 << 30)
    with Runtime(nprocs=nprocs, on_throw="record") as rt:
        iters = [random.Random(seed + i).randrange(100, 3000) for i in range(48)]
        counters = ffi.new("uint64_t[]", len(iters))
        gs = []
        for i, n in enumerate(iters):
            out = ffi.new("gcrt_g **")
            flags = (W_YIELD, W_SYSCALL, W_YIELD | W_SYSCALL)[i % 3]
            assert lib.gcrt_test_go_worker(rt.ptr(), counters + i, n, flags, seed + i, out) == 0
            gs.append(out[0])
        assert lib.gcrt_start(rt.ptr(), nms) == 0
        assert lib.gcrt_wait(rt.ptr(), 30000) == 0, f"seed={seed}"
        assert [counters[i] for i in range(len(iters))] == iters, f"seed={seed}"
        assert all(gstatus(rt, g) == P.GDEAD for g in gs)
        assert not rt.failed, rt.last_throw


@pytest.mark.parametrize("nms,nprocs,chaos", [(2, 2, 0), (4, 3, 0), (3, 2, 20)])
def test_stoptheworld_stops_everything(nms: int, nprocs: int, chaos: int) -> None:
    """chaos > 0: random yields and sleeps at every schedule point (per mille)."""
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    with Runtime(nprocs=nprocs, on_throw="record") as rt:
        n = 24
        if chaos:
            assert lib.gcrt_test_sched_mode(rt.ptr(), 2, seed, chaos) == 0
        counters, gs = go_workers(rt, n, 20000 if not chaos else 3000, W_YIELD | W_SYSCALL | W_PARK, seed)
        assert lib.gcrt_start(rt.ptr(), nms) == 0
        progressed = 0
        with Waker(rt, gs):
            last = [0] * n
            for _ in range(25):
                time.sleep(rnd.uniform(0.001, 0.005))
                assert lib.gcrt_stoptheworld(rt.ptr()) == 0
                before = [counters[i] for i in range(n)]
                assert snapshot(rt) == (0, 0), f"seed={seed}"
                time.sleep(0.003)
                assert [counters[i] for i in range(n)] == before, f"a G ran while stopped, seed={seed}"
                assert snapshot(rt) == (0, 0), f"seed={seed}"
                assert lib.gcrt_starttheworld(rt.ptr()) == 0
                progressed += sum(b != a for a, b in zip(last, before))
                last = before
            assert lib.gcrt_wait(rt.ptr(), 60000) == 0, f"seed={seed}"
        assert progressed > 0, "no G ran between stops"
        assert [counters[i] for i in range(n)] == [20000 if not chaos else 3000] * n, f"seed={seed}"
        assert not rt.failed, rt.last_throw


def test_attach_detach_with_running_gs() -> None:
    seed = random.randrange(1 << 30)
    with Runtime(nprocs=3, on_throw="record") as rt:
        counters, gs = go_workers(rt, 8, 20000, W_YIELD | W_SYSCALL, seed)
        assert lib.gcrt_start(rt.ptr(), 2) == 0
        t = rt.type(16, [1, 0])
        allocs = [0]
        stop = threading.Event()
        errors: list[str] = []

        def host() -> None:
            out = ffi.new("gcrt_g **")
            rc = lib.gcrt_attach(rt.ptr(), out)
            while rc == lib.GCRT_ESTATE and not stop.is_set():  # every P busy: retry
                time.sleep(0.001)
                rc = lib.gcrt_attach(rt.ptr(), out)
            if rc != 0:
                errors.append(f"attach {rc}")
                return
            g = out[0]
            alloc_until_stopped(g, t.handle, stop, allocs, errors)
            if lib.gcrt_detach(g) != 0:
                errors.append("detach")
            obj = ffi.new("void **")
            if lib.gcrt_g_alloc(g, t.handle, obj) != lib.GCRT_ESTATE:
                errors.append("alloc after detach")

        th = threading.Thread(target=host, daemon=True)
        th.start()
        time.sleep(0.05)
        for _ in range(10):
            assert lib.gcrt_stoptheworld(rt.ptr()) == 0
            a0 = allocs[0]
            c0 = [counters[i] for i in range(8)]
            time.sleep(0.005)
            assert allocs[0] - a0 <= 1, "the host allocated while the world was stopped"
            assert [counters[i] for i in range(8)] == c0
            assert snapshot(rt) == (0, 0)
            assert lib.gcrt_starttheworld(rt.ptr()) == 0
            time.sleep(0.005)
        stop_host(stop, th, allocs, errors)
        assert lib.gcrt_wait(rt.ptr(), 60000) == 0, f"seed={seed}"
        assert not rt.failed, rt.last_throw


def test_python_step_function() -> None:
    calls: list[int] = []

    @ffi.callback("int(gcrt_g *, void *)")
    def step(g: Any, arg: Any) -> int:
        calls.append(1)
        if len(calls) < 5:
            return lib.GCRT_STEP_YIELD
        return lib.GCRT_STEP_EXIT

    with Runtime(on_throw="record") as rt:
        out = ffi.new("gcrt_g **")
        assert lib.gcrt_go(rt.ptr(), step, ffi.NULL, out) == 0
        gid = ffi.new("int64_t *")
        assert lib.gcrt_g_id(out[0], gid) == 0 and gid[0] > 0
        assert lib.gcrt_start(rt.ptr(), 2) == 0
        assert lib.gcrt_wait(rt.ptr(), 10000) == 0
        assert len(calls) == 5


def test_wait_times_out_on_parked_gs_and_destroy_still_works() -> None:
    with Runtime(on_throw="record") as rt:
        counters, gs = go_workers(rt, 4, 10**9, W_PARK, 7)
        assert lib.gcrt_start(rt.ptr(), 2) == 0
        # Without a waker every G ends up parked for good.
        assert lib.gcrt_wait(rt.ptr(), 200) == lib.GCRT_ESTATE
        time.sleep(0.05)
        assert all(gstatus(rt, g) in (P.GWAITING, P.GRUNNABLE, P.GRUNNING) for g in gs)
    # leaving the with block destroyed it with parked Gs and idle Ms


def test_bad_input() -> None:
    with Runtime(on_throw="record") as rt, Runtime(on_throw="record") as other:
        r = rt.ptr()
        assert lib.gcrt_start(r, 0) == lib.GCRT_EINVAL
        assert lib.gcrt_start(r, lib.GCRT_MAX_MS + 1) == lib.GCRT_EINVAL
        assert lib.gcrt_start(r, 2) == 0
        assert lib.gcrt_start(r, lib.GCRT_MAX_MS - 1) == lib.GCRT_EINVAL
        assert lib.gcrt_go(r, ffi.NULL, ffi.NULL, ffi.new("gcrt_g **")) == lib.GCRT_EINVAL
        assert lib.gcrt_starttheworld(r) == lib.GCRT_ESTATE
        assert lib.gcrt_stoptheworld(r) == 0
        assert lib.gcrt_stoptheworld(r) == lib.GCRT_ESTATE  # same thread: would wait for itself
        assert lib.gcrt_starttheworld(r) == 0
        assert lib.gcrt_go(ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL) == lib.GCRT_EBADRT
        counters, gs = go_workers(rt, 2, 100, 0, 1)
        assert lib.gcrt_ready(other.ptr(), gs[0]) == lib.GCRT_EINVAL
        assert lib.gcrt_safepoint(ffi.NULL) == lib.GCRT_EINVAL
        bogus = ffi.new("uint64_t[64]")
        assert lib.gcrt_ready(r, ffi.cast("gcrt_g *", bogus)) == lib.GCRT_EINVAL
        # A G that is not running cannot poll or enter a syscall.
        assert lib.gcrt_wait(r, 10000) == 0
        assert lib.gcrt_safepoint(gs[0]) == lib.GCRT_ESTATE
        assert lib.gcrt_entersyscall(gs[0]) == lib.GCRT_ESTATE
        assert lib.gcrt_exitsyscall(gs[0]) == lib.GCRT_ESTATE
        # Still usable.
        counters, gs = go_workers(rt, 4, 500, W_YIELD, 2)
        assert lib.gcrt_wait(r, 10000) == 0
        assert [counters[i] for i in range(4)] == [500] * 4
        assert not rt.failed


def test_stopg_restartg_while_gs_run() -> None:
    """The GC's claim protocol against live goroutines: stopg takes the
    scan bit of runnable/waiting/syscall Gs (their M's casgstatus waits
    until restartg) and asks running Gs to scan themselves at their next
    safepoint.  Every G ends up with its phase work done."""
    seed = random.randrange(1 << 30)
    with Runtime(nprocs=2, on_throw="record") as rt:
        assert lib.gcrt_test_sched_mode(rt.ptr(), 1, 0, 0) == 0  # count point hits
        counters, gs = go_workers(rt, 4, 100000, 0, seed)  # mostly running
        assert lib.gcrt_start(rt.ptr(), 2) == 0
        res = ffi.new("int *")
        flags = [ffi.new("uint32_t *") for _ in range(3)]
        guard = ffi.new("uint64_t *")
        selfscans = ffi.new("uint64_t *")

        def claim(g: Any) -> None:
            assert lib.gcrt_test_g_op(rt.ptr(), g, 3, 0, 0, res) == 0  # stopg
            if res[0]:
                assert gstatus(rt, g) & P.GSCAN
                time.sleep(0.0002)  # hold the scan bit a little
                assert lib.gcrt_test_g_op(rt.ptr(), g, 4, 0, 0, res) == 0  # restartg

        with Waker(rt, gs):
            deadline = time.time() + 30
            # First ask running Gs only, until one has scanned itself.
            while selfscans[0] == 0 and time.time() < deadline:
                for g in gs:
                    if gstatus(rt, g) == P.GRUNNING:
                        claim(g)
                time.sleep(0.001)
                assert lib.gcrt_test_sched_hits(rt.ptr(), b"proc.safepoint.scandone", selfscans) == 0
            assert selfscans[0] > 0, "no running G scanned itself at a safepoint"
            pending = list(gs)
            while pending and time.time() < deadline:
                for g in list(pending):
                    claim(g)
                    assert lib.gcrt_test_g_flags(rt.ptr(), g, *flags, guard) == 0
                    if flags[0][0] and not flags[1][0]:  # gcworkdone, no scan pending
                        pending.remove(g)
                time.sleep(0.001)
            assert not pending, f"phase work never done on {len(pending)} Gs, seed={seed}"
            assert lib.gcrt_wait(rt.ptr(), 60000) == 0, f"seed={seed}"
        assert [counters[i] for i in range(4)] == [100000] * 4
        assert not rt.failed, rt.last_throw


def test_python_wrappers() -> None:
    from pygcrt import errors
    from pygcrt.proc import HostG, attached, start, wait, world_stopped

    with Runtime(nprocs=2, on_throw="record") as rt:
        t = rt.type(16, [0, 1])
        with attached(rt) as h:
            a = h.alloc(t)
            assert rt.object_of(a).addr == a
            with world_stopped(rt):
                assert snapshot(rt) == (0, 0)
            assert h.alloc(t) != a
        with pytest.raises(errors.WrongState):
            h.alloc(t)  # detached
        h1, h2 = HostG(rt), HostG(rt)
        with pytest.raises(errors.WrongState):
            HostG(rt)  # no idle P left
        h1.detach()
        h2.detach()
        counters, gs = go_workers(rt, 3, 1000, W_YIELD, 3)
        start(rt, 2)
        wait(rt, 10000)
        assert [counters[i] for i in range(3)] == [1000] * 3


_STUCK: list[Runtime] = []  # runtimes a hung test must not destroy under its threads


def test_detach_during_stoptheworld() -> None:
    """A host G detaching while a stop-the-world is in progress must hand
    its P to the stopper (Pgcstop, stopwait--), not to the idle list,
    or the stopper waits forever.  Chaos yields widen the window between
    detach's exitsyscall and its release of the P."""
    seed = random.randrange(1 << 30)
    rt = Runtime(nprocs=2, on_throw="record")
    assert lib.gcrt_test_sched_mode(rt.ptr(), 2, seed, 300) == 0
    stop = threading.Event()
    errors: list[str] = []

    def host() -> None:
        out = ffi.new("gcrt_g **")
        while not stop.is_set():
            rc = lib.gcrt_attach(rt.ptr(), out)
            if rc == lib.GCRT_ESTATE:  # the world is stopped: retry
                continue
            if rc != 0 or lib.gcrt_detach(out[0]) != 0:
                errors.append(f"attach/detach {rc}")
                return

    done = [0]

    def stopper() -> None:
        for _ in range(300):
            if lib.gcrt_stoptheworld(rt.ptr()) != 0 or lib.gcrt_starttheworld(rt.ptr()) != 0:
                errors.append("stop/start")
                return
            done[0] += 1

    hosts = [threading.Thread(target=host, daemon=True) for _ in range(2)]
    for th in hosts:
        th.start()
    st = threading.Thread(target=stopper, daemon=True)
    st.start()
    st.join(30)
    stop.set()
    if st.is_alive():
        _STUCK.append(rt)
        pytest.fail(f"stoptheworld hung after {done[0]} stops, seed={seed}")
    for th in hosts:
        th.join(10)
    assert not errors, f"{errors} seed={seed}"
    assert done[0] == 300
    assert lib.gcrt_test_sched_mode(rt.ptr(), 0, 0, 0) == 0
    assert not rt.failed, rt.last_throw
    rt.close()
