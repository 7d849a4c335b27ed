"""Where the C header lives, for C hosts built against pygcrt."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def get_include() -> str:
    """The directory holding gcrt.h (in a wheel or an editable checkout)."""
    for cand in (_HERE / "include", _HERE.parent / "csrc" / "include"):
        if (cand / "gcrt.h").is_file():
            return str(cand)
    raise FileNotFoundError("gcrt.h not found next to the pygcrt package")
