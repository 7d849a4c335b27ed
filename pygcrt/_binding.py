"""The thin layer over the cffi module: error codes become exceptions."""

from __future__ import annotations

from typing import Any

from . import errors
from ._gcrt import ffi, lib

__all__ = ["ffi", "lib", "check", "string"]


def string(p: Any) -> str:
    """A C string (char *) as str; NULL gives ''."""
    return "" if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def check(rc: int, rt: Any = None, what: str = "") -> int:
    """Return rc if it is not an error, else raise the matching exception.

    rt, when given, is the C runtime pointer: a FatalError then carries the
    recorded report.
    """
    if rc >= 0:
        return rc
    cls = errors.BY_CODE.get(rc, errors.GcrtError)
    msg = string(lib.gcrt_strerror(rc))
    if what:
        msg = f"{what}: {msg}"
    if cls is errors.FatalError:
        report = string(lib.gcrt_last_throw(rt)) if rt is not None else ""
        first = report.splitlines()[0] if report else msg
        raise errors.FatalError(first, report)
    raise cls(msg)
