"""The allocating host thread that the stop-the-world tests share.

A host thread allocates through its attached G until told to stop, counting
each allocation in allocs[0], so the test thread can check that the count
does not move while it holds the world stopped; then the test stops it.
"""

from __future__ import annotations

import threading
from typing import Any

from pygcrt._binding import ffi, lib


def alloc_until_stopped(g: Any, handle: Any, stop: threading.Event, allocs: list[int],
                        errors: list[str], self_link: bool = False) -> None:
    """gcrt_g_alloc until stop is set (or a call fails: recorded in errors);
    with self_link each object's word 0 is then pointed at itself through
    gcrt_g_write_ptr."""
    obj = ffi.new("void **")
    while not stop.is_set():
        rc = lib.gcrt_g_alloc(g, handle, obj)
        if rc != 0:
            errors.append(f"g_alloc {rc}")
            return
        allocs[0] += 1
        if self_link and lib.gcrt_g_write_ptr(g, obj[0], 0, obj[0]) != 0:
            errors.append("g_write_ptr")
            return


def stop_host(stop: threading.Event, th: threading.Thread, allocs: list[int],
              errors: list[str]) -> None:
    """Stop the host thread th and check it ended cleanly after allocating."""
    stop.set()
    th.join(20)
    assert not th.is_alive() and not errors, errors
    assert allocs[0] > 0
