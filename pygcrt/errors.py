"""Exceptions raised by pygcrt.

Each C error code (GCRT_E*) maps to one class here; all derive from
GcrtError.  FatalError is a recorded throw: the runtime is failed and only
closing it is allowed.
"""

from __future__ import annotations


class GcrtError(Exception):
    """Base class of every pygcrt error."""


class InvalidArgument(GcrtError, ValueError):
    """A malformed argument (GCRT_EINVAL)."""


class RuntimeClosed(GcrtError):
    """The runtime was destroyed, or is not a runtime (GCRT_EBADRT)."""


class BadType(GcrtError, TypeError):
    """An unknown type, or a type of another runtime (GCRT_EBADTYPE)."""


class BadObject(GcrtError, ValueError):
    """Not an allocated object of this runtime (GCRT_EBADOBJ)."""


class IndexOutOfRange(GcrtError, IndexError):
    """A field or slot index out of range (GCRT_ERANGE)."""


class BadSize(GcrtError, ValueError):
    """A size of zero or beyond what the runtime can hold (GCRT_ESIZE)."""


class KindMismatch(GcrtError, TypeError):
    """A pointer operation on a scalar word, or the reverse (GCRT_EKIND)."""


class OutOfMemory(GcrtError, MemoryError):
    """The runtime's arena is exhausted (GCRT_ENOMEM)."""


class WrongState(GcrtError):
    """The call is not allowed in the runtime's current state (GCRT_ESTATE)."""


class FatalError(GcrtError):
    """The runtime threw: an internal invariant was violated (GCRT_EFAILED).

    ``report`` holds the "fatal error: ..." line and the state dump.
    """

    def __init__(self, message: str, report: str = "") -> None:
        super().__init__(message)
        self.report = report


BY_CODE: dict[int, type[GcrtError]] = {
    -1: InvalidArgument,
    -2: RuntimeClosed,
    -3: BadType,
    -4: BadObject,
    -5: IndexOutOfRange,
    -6: BadSize,
    -7: KindMismatch,
    -8: OutOfMemory,
    -9: WrongState,
    -10: FatalError,
}
