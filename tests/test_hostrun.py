"""A host G that runs across calls (gcrt_g_enter/gcrt_g_leave).

The running host G holds its P between calls, so stop-the-world must stop
it at its polls (every gcrt_g_alloc, gcrt_safepoint): a host thread
allocating in a loop must make at most one allocation (the one in flight)
while another thread holds the world stopped, and the world must stop at
all.  The state rules and bad input are checked with the runtime still
usable afterwards.
"""

from __future__ import annotations

import threading
import time

from pygcrt._binding import ffi, lib
from pygcrt.runtime import Runtime

from hostloop import alloc_until_stopped, stop_host


def test_stop_the_world_stops_a_running_host_g() -> None:
    with Runtime(nprocs=2, on_throw="record") as rt:
        t = rt.type(16, [1, 0])
        allocs = [0]
        stop = threading.Event()
        entered = threading.Event()
        errors: list[str] = []

        def host() -> None:
            out = ffi.new("gcrt_g **")
            if lib.gcrt_attach(rt.ptr(), out) != 0:
                errors.append("attach")
                entered.set()
                return
            g = out[0]
            if lib.gcrt_g_enter(g) != 0:
                errors.append("enter")
            entered.set()
            alloc_until_stopped(g, t.handle, stop, allocs, errors, self_link=True)
            if lib.gcrt_detach(g) != 0:
                errors.append("detach")

        th = threading.Thread(target=host, daemon=True)
        th.start()
        assert entered.wait(20)
        time.sleep(0.02)
        for _ in range(10):
            assert lib.gcrt_stoptheworld(rt.ptr()) == 0
            a0 = allocs[0]
            time.sleep(0.005)
            assert allocs[0] - a0 <= 1, "the running host G allocated while the world was stopped"
            assert lib.gcrt_starttheworld(rt.ptr()) == 0
            time.sleep(0.005)
        stop_host(stop, th, allocs, errors)
        assert lib.gcrt_gc(rt.ptr()) == 0
        assert not rt.failed, rt.last_throw


def test_running_host_g_states_and_bad_input() -> None:
    with Runtime(nprocs=1, on_throw="record") as rt:
        t = rt.type(16, [1, 0])
        assert lib.gcrt_g_enter(ffi.NULL) == lib.GCRT_EINVAL
        assert lib.gcrt_g_leave(ffi.NULL) == lib.GCRT_EINVAL
        out = ffi.new("gcrt_g **")
        assert lib.gcrt_attach(rt.ptr(), out) == 0
        g = out[0]
        assert lib.gcrt_g_leave(g) == lib.GCRT_ESTATE  # not running yet
        assert lib.gcrt_g_enter(g) == 0
        assert lib.gcrt_g_enter(g) == lib.GCRT_ESTATE
        assert lib.gcrt_safepoint(g) == 0
        a = ffi.new("void **")
        b = ffi.new("void **")
        assert lib.gcrt_g_alloc(g, t.handle, a) == 0
        assert lib.gcrt_g_alloc(g, t.handle, b) == 0
        stack_word = ffi.new("uint64_t *")
        assert lib.gcrt_g_write_ptr(g, a[0], 0, stack_word) == lib.GCRT_EBADOBJ
        assert lib.gcrt_g_write_ptr(g, stack_word, 0, b[0]) == lib.GCRT_EBADOBJ
        assert lib.gcrt_g_write_ptr(g, a[0], 1, b[0]) == lib.GCRT_EKIND
        assert lib.gcrt_g_write_ptr(g, a[0], 2, b[0]) == lib.GCRT_ERANGE
        assert lib.gcrt_g_write_ptr(g, a[0], 0, b[0]) == 0
        got = ffi.new("void **")
        assert lib.gcrt_read_ptr(rt.ptr(), a[0], 0, got) == 0
        assert got[0] == b[0]
        assert lib.gcrt_g_leave(g) == 0
        # between calls again: the old bracketing path still works
        assert lib.gcrt_g_write_ptr(g, a[0], 0, ffi.NULL) == 0
        assert lib.gcrt_g_alloc(g, t.handle, b) == 0
        assert lib.gcrt_detach(g) == 0
        assert lib.gcrt_g_enter(g) == lib.GCRT_ESTATE  # detached: Gdead
        assert lib.gcrt_g_write_ptr(g, a[0], 0, ffi.NULL) == lib.GCRT_ESTATE
        assert lib.gcrt_gc(rt.ptr()) == 0
        assert not rt.failed, rt.last_throw
