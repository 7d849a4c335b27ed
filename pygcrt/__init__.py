"""pygcrt: Go's 2014 garbage collector as a C runtime, driven from Python."""

from __future__ import annotations

from . import errors
from .paths import get_include
from .runtime import GlobalRegion, Obj, Runtime, SizeStats, Stats, Type

__all__ = [
    "Runtime",
    "Type",
    "Obj",
    "Stats",
    "SizeStats",
    "GlobalRegion",
    "errors",
    "get_include",
]
