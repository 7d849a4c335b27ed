"""Sweeping: the sweepgen protocol, lazy and background sweeping together,
poisoning, reuse, and a bounded heap under steady churn.

Each span is swept at most once per cycle: MSpan_Sweep throws if a span's
sweptgen already equals the heap's sweepgen, and the test counts sweeps
against the spans that exist.  Concurrency tests are seeded (chaos at
schedule points) and print their seed.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pygcrt import Runtime
from pygcrt._binding import ffi, lib

POISON = 0xDEADDEADDEADDEAD


def counts(rt: Runtime) -> Any:
    c = ffi.new("gcrt_gc_counts *")
    assert lib.gcrt_test_gc_counts(rt.ptr(), c) == 0
    return c


def test_freed_objects_are_poisoned_and_reused_zeroed() -> None:
    with Runtime(on_throw="record") as rt:
        t = rt.type(64, [1])
        objs = [rt.alloc(t) for _ in range(50)]
        for o in objs:
            o.write(3, 7)
        addrs = {o.addr for o in objs}
        del objs, o
        rt.gc()
        for a in addrs:
            words = ffi.cast("uint64_t *", a)
            assert [int(words[i]) for i in range(1, 8)] == [POISON] * 7
        again = [rt.alloc(t) for _ in range(50)]
        assert {o.addr for o in again} == addrs  # the freed slots are reused
        assert all(o.read(i) == 0 for o in again for i in range(8))
        assert rt.stats().nfree == 50


def test_without_clobberfree_a_freed_object_gets_only_link_and_marker() -> None:
    """Go 1.4's sweep: the free-list link in word 0, 0xdead... in word 1,
    the rest of the object as it was; the survivors are not touched."""
    with Runtime(on_throw="record") as rt:
        rt.gc_options(clobberfree=False)
        t = rt.type(64, [1])
        objs = [rt.alloc(t) for _ in range(20)]
        for k, o in enumerate(objs):
            o.write(3, 100 + k)
        keep = objs[::2]  # survivors in the same span: it is chained, not dropped
        dead = {o.addr: 100 + k for k, o in enumerate(objs) if k % 2}
        del objs, o
        rt.gc()
        for a, v in dead.items():
            words = ffi.cast("uint64_t *", a)
            assert int(words[1]) == POISON and int(words[3]) == v
        assert [o.read(3) for o in keep] == [100 + 2 * k for k in range(10)]
        assert rt.stats().nfree == 10


def test_without_clobberfree_an_all_dead_span_is_not_written() -> None:
    """A span whose objects all died goes back to the heap untouched."""
    with Runtime(on_throw="record") as rt:
        rt.gc_options(clobberfree=False)
        t = rt.type(64, [1])
        objs = [rt.alloc(t) for _ in range(20)]
        for o in objs:
            o.write(1, 11)
            o.write(3, 33)
        addrs = [o.addr for o in objs]
        inuse = rt.stats().heap_inuse
        del objs, o
        rt.gc()
        for a in addrs:
            words = ffi.cast("uint64_t *", a)
            assert (int(words[1]), int(words[3])) == (11, 33)
        st = rt.stats()
        assert st.nfree == 20 and st.heap_inuse < inuse
        again = [rt.alloc(t) for _ in range(20)]
        assert all(o.read(i) == 0 for o in again for i in range(8))


def test_clobberfree_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """C's default is off; PYGCRT_DEBUG=clobberfree=1 turns it on, as Go's
    GODEBUG does, and any other value or name leaves it off."""
    for env, on in [(None, False), ("clobberfree=1", True), ("gctrace=0,clobberfree=1", True),
                    ("clobberfree=0", False), ("xclobberfree=1", False)]:
        if env is None:
            monkeypatch.delenv("PYGCRT_DEBUG", raising=False)
        else:
            monkeypatch.setenv("PYGCRT_DEBUG", env)
        out = ffi.new("gcrt_runtime **")
        assert lib.gcrt_new(ffi.NULL, out) == 0
        old = ffi.new("uint32_t *")
        assert lib.gcrt_gc_options(out[0], 0, old) == 0
        lib.gcrt_destroy(out[0])
        assert bool(old[0] & lib.GCRT_GC_CLOBBERFREE) == on, env


def test_large_objects_free_their_spans() -> None:
    with Runtime(on_throw="record") as rt:
        big = rt.type(100_000, [1])
        for _ in range(5):
            rt.alloc(big)
        rt.gc()
        st = rt.stats()
        assert st.heap_alloc == 0 and st.nfree == 5 and st.heap_inuse == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lazy_and_background_sweep_each_span_once(seed: int) -> None:
    print(f"seed={seed}")
    with Runtime(nprocs=2, on_throw="record") as rt:
        assert lib.gcrt_test_sched_mode(rt.ptr(), 2, seed, 20) in (0, lib.GCRT_ESTATE)
        t = rt.type(32, [1])
        region = rt.global_region(64, [1] * 64)
        stop = threading.Event()
        errs: list[BaseException] = []

        def churn(k: int) -> None:
            try:
                i = 0
                while not stop.is_set():
                    o = rt.alloc(t)
                    region[k * 32 + i % 32] = o
                    i += 1
            except BaseException as e:  # reported below
                errs.append(e)

        ths = [threading.Thread(target=churn, args=(k,)) for k in range(2)]
        for th in ths:
            th.start()
        try:
            for _ in range(8):
                before = counts(rt).nsweeps
                lib.gcrt_test_gc_cycle(rt.ptr(), 0)
                c = counts(rt)
                assert lib.gcrt_test_heap_check(rt.ptr()) == 0, rt.last_throw
                assert c.nsweeps >= before
        finally:
            stop.set()
            for th in ths:
                th.join()
        assert not errs, errs
        assert not rt.failed, rt.last_throw
        rt.gc()
        assert counts(rt).sweepdone == 1


def test_background_sweeper_finishes_a_cycle() -> None:
    with Runtime(on_throw="record") as rt:
        t = rt.type(128)
        for _ in range(5000):
            rt.alloc(t)
        lib.gcrt_test_gc_cycle(rt.ptr(), 0)
        for _ in range(2000):
            if counts(rt).sweepdone:
                break
            threading.Event().wait(0.001)
        c = counts(rt)
        assert c.sweepdone == 1 and c.nbgsweep_total > 0
        assert rt.stats().nfree == 5000


def test_heap_stays_bounded_under_steady_churn() -> None:
    with Runtime(on_throw="record") as rt:
        rt.gc_options(enable=True, checkmark=False)
        t = rt.type(256, [1, 0, 0])
        window: list[Any] = [None] * 256
        for i in range(60_000):
            o = rt.alloc(t)
            o.write(1, i)
            window[i % 256] = o
        st = rt.stats()
        assert st.total_alloc == 60_000 * 256
        assert st.numgc >= 2
        assert st.heap_sys <= 12 << 20, st.heap_sys
        assert [o.read(1) % 256 for o in window] == list(range(256))
