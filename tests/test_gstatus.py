"""The goroutine status protocol (gstatus.c) against Go's legal pairs.

Each primitive runs on a bare G of a fresh record-mode runtime
(gcrt_test_gstatus_try), so an illegal pair's throw is observed as its
message without ending the test process.  The oracle is the table of
legal transitions written out here from Go 1.4's proc.c, not the C code.
"""

from __future__ import annotations

import threading
import time
from typing import Optional

import pytest

from pygcrt import proc as P
from pygcrt._binding import ffi, lib
from pygcrt.runtime import Runtime

pytestmark = pytest.mark.timeout(60)

# Every status value, the unused and illegal ones included.
ALL = list(range(0, 9)) + [P.GSCAN | s for s in range(0, 9)]
SCANNABLE = [P.GRUNNABLE, P.GWAITING, P.GSYSCALL]

OP_CAS, OP_TOSCAN, OP_FROMSCAN, OP_STOPG, OP_RESTARTG, OP_ISSCAN, OP_COPY = range(7)


def attempt(op: int, frm: int, old: int, new: int) -> tuple[Optional[int], int, str]:
    """(status after or None if it threw, result, throw message)."""
    after = ffi.new("uint32_t *")
    res = ffi.new("int *")
    msg = ffi.new("char[256]")
    rc = lib.gcrt_test_gstatus_try(op, frm, old, new, after, res, msg, 256)
    if rc == lib.GCRT_EFAILED:
        return None, 0, ffi.string(msg).decode()
    assert rc == lib.GCRT_OK, rc
    return after[0], res[0], ""


def fatal(msg: str) -> str:
    return "fatal error: " + msg


def test_casgstatus_every_pair() -> None:
    for old in ALL:
        for new in ALL:
            after, _, msg = attempt(OP_CAS, old, old, new)
            legal = not (old & P.GSCAN) and not (new & P.GSCAN) and old != new
            if legal:
                assert after == new, (P.status_name(old), P.status_name(new))
            else:
                assert msg == fatal("casgstatus: bad incoming values"), (old, new, msg)


def toscan_legal(old: int, new: int) -> bool:
    if old in SCANNABLE:
        return new == old | P.GSCAN
    if old == P.GRUNNING:
        return new in (P.GSCANRUNNING, P.GSCANENQUEUE)
    return False


def test_castogscanstatus_every_pair() -> None:
    for old in ALL:
        for new in ALL:
            after, res, msg = attempt(OP_TOSCAN, old, old, new)
            if toscan_legal(old, new):
                assert (after, res) == (new, 1), (old, new)
            else:
                assert msg == fatal("castogscanstatus"), (old, new, msg)


def test_castogscanstatus_fails_when_status_moved() -> None:
    # A legal pair whose CAS loses: false, status untouched (callers retry).
    after, res, _ = attempt(OP_TOSCAN, P.GRUNNABLE, P.GWAITING, P.GSCANWAITING)
    assert (after, res) == (P.GRUNNABLE, 0)


def fromscan_legal(old: int, new: int) -> bool:
    if old in (P.GSCANRUNNABLE, P.GSCANWAITING, P.GSCANRUNNING, P.GSCANSYSCALL):
        return new == old & ~P.GSCAN
    return old == P.GSCANENQUEUE and new == P.GWAITING


def test_casfromgscanstatus_every_pair() -> None:
    for old in ALL:
        for new in ALL:
            after, _, msg = attempt(OP_FROMSCAN, old, old, new)
            if fromscan_legal(old, new):
                assert after == new, (old, new)
            else:
                assert msg == fatal("casfromgscanstatus: gp->status is not in scan state"), (
                    old,
                    new,
                    msg,
                )


def test_casfromgscanstatus_throws_when_not_holding_the_bit() -> None:
    _, _, msg = attempt(OP_FROMSCAN, P.GWAITING, P.GSCANWAITING, P.GWAITING)
    assert msg == fatal("casfromgscanstatus: gp->status is not in scan state")


def test_isscanstatus() -> None:
    assert attempt(OP_ISSCAN, P.GDEAD, P.GSCAN, 0)[2] == fatal("isscanstatus: Bad status Gscan")
    assert attempt(OP_ISSCAN, P.GDEAD, P.GSCANWAITING, 0)[1] == 1
    assert attempt(OP_ISSCAN, P.GDEAD, P.GWAITING, 0)[1] == 0


def flags(rt: Runtime, g: object) -> tuple[int, int, int, int]:
    a, b, c = ffi.new("uint32_t *"), ffi.new("uint32_t *"), ffi.new("uint32_t *")
    d = ffi.new("uint64_t *")
    assert lib.gcrt_test_g_flags(rt.ptr(), g, a, b, c, d) == 0
    return a[0], b[0], c[0], d[0]


def bare_g(rt: Runtime, status: int) -> object:
    out = ffi.new("gcrt_g **")
    assert lib.gcrt_test_g_new(rt.ptr(), out) == 0
    assert lib.gcrt_test_g_setstatus(rt.ptr(), out[0], status) == 0
    return out[0]


def status(rt: Runtime, g: object) -> int:
    out = ffi.new("uint32_t *")
    assert lib.gcrt_test_g_status(rt.ptr(), g, out) == 0
    return int(out[0])


def op(rt: Runtime, g: object, which: int, old: int = 0, new: int = 0) -> int:
    res = ffi.new("int *")
    assert lib.gcrt_test_g_op(rt.ptr(), g, which, old, new, res) == 0
    return int(res[0])


def test_stopg_by_status() -> None:
    for s in ALL:
        if s == P.GCOPYSTACK:
            continue  # stopg waits for the copy: covered with threads below
        after, res, msg = attempt(OP_STOPG, s, 0, 0)
        if s == P.GDEAD or s in (P.GSCANRUNNABLE, P.GSCANWAITING, P.GSCANSYSCALL):
            assert (after, res) == (s, 0), P.status_name(s)
        elif s in SCANNABLE:
            assert (after, res) == (s | P.GSCAN, 1), P.status_name(s)
        elif s == P.GRUNNING:
            assert (after, res) == (P.GRUNNING, 0)
        else:
            assert msg == fatal("stopg: gp->atomicstatus is not valid"), (s, msg)


def test_stopg_flags() -> None:
    with Runtime(on_throw="record") as rt:
        g = bare_g(rt, P.GRUNNING)
        assert op(rt, g, OP_STOPG) == 0
        assert flags(rt, g) == (0, 1, 1, P.STACK_PREEMPT)
        g2 = bare_g(rt, P.GWAITING)
        assert op(rt, g2, OP_STOPG) == 1
        assert flags(rt, g2)[0] == 1  # gcphasework ran: gcworkdone
        assert op(rt, g2, OP_STOPG) == 0  # work done: not claimed again
        op(rt, g2, OP_RESTARTG)
        assert status(rt, g2) == P.GWAITING


def test_restartg_by_status() -> None:
    for s in ALL:
        after, _, msg = attempt(OP_RESTARTG, s, 0, 0)
        if s == P.GDEAD:
            assert after == P.GDEAD
        elif s in (P.GSCANRUNNABLE, P.GSCANWAITING, P.GSCANSYSCALL):
            assert after == s & ~P.GSCAN
        elif s == P.GSCANENQUEUE:
            # A bare G has no M: Go's check that the G is the M's curg.
            assert msg == fatal("processing Gscanenqueue on wrong m")
        else:
            assert msg == fatal("restartg: unexpected status"), (s, msg)


def test_casgcopystack_accepts_waiting_and_runnable() -> None:
    for s in ALL:
        if s in (P.GSCANWAITING, P.GSCANRUNNABLE):
            continue  # waits for the scan bit to go
        after, res, msg = attempt(OP_COPY, s, 0, 0)
        if s in (P.GWAITING, P.GRUNNABLE):
            assert (after, res) == (P.GCOPYSTACK, s)
        else:
            assert msg == fatal("status is not Gwaiting or Grunnable"), (s, msg)


def call_in_thread(fn, *args: object) -> tuple[threading.Thread, list[int]]:  # type: ignore[no-untyped-def]
    out: list[int] = []
    t = threading.Thread(target=lambda: out.append(fn(*args)), daemon=True)
    t.start()
    return t, out


@pytest.mark.parametrize("base", SCANNABLE)
def test_scan_bit_blocks_casgstatus(base: int) -> None:
    """One thread holds base|Gscan; another's casgstatus(base -> X) spins
    until the bit is released, then succeeds."""
    target = P.GRUNNING if base != P.GRUNNING else P.GWAITING
    with Runtime(on_throw="record") as rt:
        g = bare_g(rt, base)
        assert op(rt, g, OP_TOSCAN, base, base | P.GSCAN) == 1
        res = ffi.new("int *")
        t, out = call_in_thread(lib.gcrt_test_g_op, rt.ptr(), g, OP_CAS, base, target, res)
        time.sleep(0.2)
        assert t.is_alive() and not out, "casgstatus went through the scan bit"
        assert status(rt, g) == base | P.GSCAN
        op(rt, g, OP_FROMSCAN, base | P.GSCAN, base)
        t.join(10)
        assert not t.is_alive() and out == [0]
        assert status(rt, g) == target


def test_stopg_waits_for_copystack() -> None:
    with Runtime(on_throw="record") as rt:
        g = bare_g(rt, P.GCOPYSTACK)
        res = ffi.new("int *")
        t, out = call_in_thread(lib.gcrt_test_g_op, rt.ptr(), g, OP_STOPG, 0, 0, res)
        time.sleep(0.1)
        assert t.is_alive()
        assert lib.gcrt_test_g_setstatus(rt.ptr(), g, P.GWAITING) == 0
        t.join(10)
        assert out == [0] and res[0] == 1
        assert status(rt, g) == P.GSCANWAITING


def test_bad_handles() -> None:
    with Runtime(on_throw="record") as rt, Runtime(on_throw="record") as other:
        g = bare_g(rt, P.GWAITING)
        out = ffi.new("uint32_t *")
        assert lib.gcrt_test_g_status(other.ptr(), g, out) == lib.GCRT_EINVAL
        assert lib.gcrt_ready(other.ptr(), g) == lib.GCRT_EINVAL
        assert lib.gcrt_test_g_op(rt.ptr(), g, 99, 0, 0, ffi.new("int *")) == lib.GCRT_EINVAL
        assert lib.gcrt_test_set_mutant(rt.ptr(), b"no_such_mutant") == lib.GCRT_EINVAL
        assert status(rt, g) == P.GWAITING  # still usable
        assert not rt.failed
