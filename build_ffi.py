"""cffi build of pygcrt._gcrt: the runtime's C core plus its binding.

Out-of-line API mode.  Every csrc/*.c is compiled into the extension (the
same sources the Makefile builds into libgcrt), with schedule points kept
(GCRT_SCHED=1, the test build).  The cdef is read from the public headers
between their cdef markers, so the binding can never drift from them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cffi

HERE = Path(__file__).resolve().parent
CSRC = HERE / "csrc"
HEADERS = [CSRC / "include" / "gcrt.h", CSRC / "include" / "gcrt_test.h"]


def _rel(p: Path) -> str:
    return str(p.relative_to(HERE))


def cdef_of(header: Path) -> str:
    """The declarations between the cdef markers, without GCRT_API."""
    text = header.read_text()
    parts = re.findall(r"/\* cdef-begin \*/(.*?)/\* cdef-end \*/", text, re.S)
    if not parts:
        raise RuntimeError(f"{header}: no cdef region")
    return "\n".join(parts).replace("GCRT_API ", "")


SOURCES = sorted(_rel(p) for p in CSRC.glob("*.c"))
DEPENDS = sorted(_rel(p) for p in [*CSRC.glob("include/*.h"), *CSRC.glob("*.h")]) + ["build_ffi.py"]

ffibuilder = cffi.FFI()
ffibuilder.cdef("\n".join(cdef_of(h) for h in HEADERS))
ffibuilder.set_source(
    "pygcrt._gcrt",
    '#include "gcrt.h"\n#include "gcrt_test.h"\n',
    sources=SOURCES,
    depends=DEPENDS,
    include_dirs=["csrc/include", "csrc"],
    define_macros=[("GCRT_SCHED", "1")],
    undef_macros=["NDEBUG"],
    extra_compile_args=[
        "-std=c11",
        "-D_GNU_SOURCE",
        "-O2",
        "-g",
        "-pthread",
        "-fvisibility=hidden",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wno-unused-parameter",
    ]
    + os.environ.get("GCRT_CFLAGS", "").split(),
    extra_link_args=["-pthread"] + os.environ.get("GCRT_LDFLAGS", "").split(),
)

if __name__ == "__main__":
    # Development loop: build pygcrt/_gcrt*.so in place (what `pip install -e .` does).
    os.chdir(HERE)
    ffibuilder.compile(tmpdir=".", verbose=False)
