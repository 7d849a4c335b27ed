"""``python -m pygcrt.stress``: the free-running stress tool (see :mod:`.cli`)."""

from __future__ import annotations

from .cli import main

__all__ = ["main"]
