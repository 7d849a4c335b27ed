"""Goroutine, M and P constants of the runtime (Go 1.4 values), for hosts and tests.

The status of a goroutine is Go's ``atomicstatus``: the values below, with
the ``GSCAN`` bit OR-ed on while a GC thread owns the goroutine's stack.
"""

from __future__ import annotations

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
