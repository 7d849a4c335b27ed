"""Goroutine, M and P constants of the runtime (Go 1.4 values), for hosts and tests.

The status of a goroutine is Go's ``atomicstatus``: the values below, with
the ``GSCAN`` bit OR-ed on while a GC thread owns the goroutine's stack.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from ._binding import check, ffi, lib

GIDLE = 0
GRUNNABLE = 1
GRUNNING = 2
GSYSCALL = 3
GWAITING = 4
GMORIBUND_UNUSED = 5
GDEAD = 6
GENQUEUE = 7
GCOPYSTACK = 8
GSCAN = 0x1000
GSCANRUNNABLE = GSCAN | GRUNNABLE
GSCANRUNNING = GSCAN | GRUNNING
GSCANSYSCALL = GSCAN | GSYSCALL
GSCANWAITING = GSCAN | GWAITING
GSCANENQUEUE = GSCAN | GENQUEUE

PIDLE, PRUNNING, PSYSCALL, PGCSTOP, PDEAD = range(5)

STACK_PREEMPT = (1 << 64) - 1314
FIXED_STACK = 2048
STACK_POISON = 0xFC

_NAMES = {
    GIDLE: "Gidle",
    GRUNNABLE: "Grunnable",
    GRUNNING: "Grunning",
    GSYSCALL: "Gsyscall",
    GWAITING: "Gwaiting",
    GMORIBUND_UNUSED: "Gmoribund_unused",
    GDEAD: "Gdead",
    GENQUEUE: "Genqueue",
    GCOPYSTACK: "Gcopystack",
}


def status_name(status: int) -> str:
    """Go's name of a status value, e.g. ``Gscanwaiting``."""
    if status == GSCAN:
        return "Gscan"
    base = _NAMES.get(status & ~GSCAN, f"G?{status & ~GSCAN}")
    return "Gscan" + base[1:] if status & GSCAN else base


# ---- goroutines, the world, host threads (thin, checked wrappers) ----


def start(rt: Any, nms: int) -> None:
    """Start nms more Ms (pthreads running goroutines); rt is a Runtime."""
    check(lib.gcrt_start(rt.ptr(), nms), rt.ptr(), "gcrt_start")


def wait(rt: Any, timeout_ms: int = 0) -> None:
    """Wait until every goroutine has exited (WrongState after timeout_ms > 0)."""
    check(lib.gcrt_wait(rt.ptr(), timeout_ms), rt.ptr(), "gcrt_wait")


def ready(rt: Any, g: Any) -> None:
    """Wake a parked goroutine (or remember the wakeup if it is not parked yet)."""
    check(lib.gcrt_ready(rt.ptr(), g), rt.ptr(), "gcrt_ready")


def status(rt: Any, g: Any) -> int:
    """The goroutine's atomicstatus (test hook)."""
    out = ffi.new("uint32_t *")
    check(lib.gcrt_test_g_status(rt.ptr(), g, out), rt.ptr(), "gcrt_test_g_status")
    return int(out[0])


@contextmanager
def world_stopped(rt: Any) -> Iterator[None]:
    """``with world_stopped(rt):`` no goroutine runs inside the block."""
    check(lib.gcrt_stoptheworld(rt.ptr()), rt.ptr(), "gcrt_stoptheworld")
    try:
        yield
    finally:
        check(lib.gcrt_starttheworld(rt.ptr()), rt.ptr(), "gcrt_starttheworld")


class HostG:
    """The calling thread attached as an M running one G inline
    (gcrt_attach); allocate with :meth:`alloc`, then :meth:`detach`."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        out = ffi.new("gcrt_g **")
        check(lib.gcrt_attach(rt.ptr(), out), rt.ptr(), "gcrt_attach")
        self.g = out[0]

    def alloc(self, t: Any) -> int:
        """A new object of type t from this P's mcache; its address."""
        out = ffi.new("void **")
        check(lib.gcrt_g_alloc(self.g, t.handle, out), self.rt.ptr(), "gcrt_g_alloc")
        return int(ffi.cast("uintptr_t", out[0]))

    def detach(self) -> None:
        check(lib.gcrt_detach(self.g), self.rt.ptr(), "gcrt_detach")


@contextmanager
def attached(rt: Any) -> Iterator[HostG]:
    """``with attached(rt) as h: h.alloc(t)``; detaches at the end."""
    h = HostG(rt)
    try:
        yield h
    finally:
        h.detach()
