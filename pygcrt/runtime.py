"""A pygcrt runtime: its types, objects and statistics, as Python objects.

A :class:`Runtime` owns one C runtime (``gcrt_new``) until :meth:`Runtime.close`
(or the end of its ``with`` block).  Types and objects are checked handles:
every operation goes through the C API, which validates the handle against
the runtime, and any use after close raises :class:`errors.RuntimeClosed`
before C is called.

An :class:`Obj` pins its object (``gcrt_pin``) for as long as the handle
lives (until it is garbage collected by Python or :meth:`Obj.release` is
called), so a collection never frees an object Python can still reach; a
released handle raises :class:`errors.BadObject` instead of touching memory.
Global regions (:meth:`Runtime.global_region`) are host memory scanned as
roots; finalizers (:meth:`Runtime.set_finalizer`) run on the runtime's
finalizer thread.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional, Sequence, Union

from . import errors
from ._binding import check, ffi, lib

__all__ = ["Runtime", "Type", "Obj", "Stats", "SizeStats", "GlobalRegion"]

_ON_THROW = {"abort": lib.GCRT_THROW_ABORT, "record": lib.GCRT_THROW_RECORD}

PtrMask = Union[int, Sequence[Union[bool, int]]]


def _maskbits(ptrmask: PtrMask) -> list[bool]:
    """The pointer mask as one bool per word, as many as the caller gave
    (an int bitmask gives up to its highest set bit)."""
    if isinstance(ptrmask, int):
        if ptrmask < 0:
            raise errors.InvalidArgument("ptrmask: a negative bitmask")
        bits = [bool(ptrmask >> i & 1) for i in range(ptrmask.bit_length())]
    else:
        bits = [bool(b) for b in ptrmask]
    return bits


@dataclass(frozen=True)
class SizeStats:
    size: int
    nmalloc: int
    nfree: int


@dataclass(frozen=True)
class Stats:
    """A snapshot of the runtime's MemStats-style record (gcrt_stats)."""

    alloc: int
    total_alloc: int
    sys: int
    nmalloc: int
    nfree: int
    heap_alloc: int
    heap_sys: int
    heap_idle: int
    heap_inuse: int
    heap_released: int
    heap_objects: int
    stacks_inuse: int
    mspan_inuse: int
    mcache_inuse: int
    gc_sys: int
    other_sys: int
    next_gc: int
    last_gc: int
    pause_total_ns: int
    numgc: int
    pause_ns: list[int] = field(repr=False)
    by_size: list[SizeStats] = field(repr=False)


_SCALARS = [f for f in Stats.__dataclass_fields__ if f not in ("pause_ns", "by_size")]


class Runtime:
    """One runtime instance: ``with Runtime(nprocs=2) as rt: ...``."""

    _rt: Any = None

    def __init__(
        self,
        nprocs: int = 2,
        gogc: int = 100,
        arena_size: Optional[int] = None,
        on_throw: Literal["abort", "record"] = "abort",
        max_types: Optional[int] = None,
        arena_hint: int = 0,
        heap_minimum: Optional[int] = None,
    ) -> None:
        if on_throw not in _ON_THROW:
            raise errors.InvalidArgument(f"on_throw must be 'abort' or 'record', not {on_throw!r}")
        cfg = ffi.new("gcrt_config *")
        lib.gcrt_config_init(cfg)
        cfg.nprocs = nprocs
        cfg.gogc = gogc
        if arena_size is not None:
            cfg.arena_size = arena_size
        cfg.arena_hint = arena_hint
        cfg.on_throw = _ON_THROW[on_throw]
        if max_types is not None:
            cfg.max_types = max_types
        if heap_minimum is not None:
            if heap_minimum < 0:
                raise errors.InvalidArgument(f"heap_minimum must be >= 0, not {heap_minimum}")
            cfg.heap_minimum = heap_minimum
        out = ffi.new("gcrt_runtime **")
        check(lib.gcrt_new(cfg, out), None, "gcrt_new")
        self._rt: Any = out[0]
        # Collection by pacing is on for Python (handles pin their objects),
        # and freed memory is poisoned (a stale read sees 0xdead...); the
        # options already set (PYGCRT_DEBUG=gctrace=1) are kept.
        old = ffi.new("uint32_t *")
        on = lib.GCRT_GC_ENABLE | lib.GCRT_GC_CLOBBERFREE
        check(lib.gcrt_gc_options(self._rt, on, old), self._rt, "gcrt_gc_options")
        check(lib.gcrt_gc_options(self._rt, old[0] | on, ffi.NULL), self._rt, "gcrt_gc_options")
        self._types: dict[int, Type] = {}
        self._finalizers: dict[int, Callable[["Obj"], None]] = {}
        self._finids = itertools.count(1)
        self._fincb: Any = None
        self._regions: list[GlobalRegion] = []
        self.nprocs = nprocs
        self.arena_size = int(cfg.arena_size)

    # -- lifetime ---------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._rt is None

    def ptr(self) -> Any:
        """The C runtime pointer; RuntimeClosed after close."""
        if self._rt is None:
            raise errors.RuntimeClosed("the runtime is closed")
        return self._rt

    def close(self) -> None:
        """Destroy the C runtime (idempotent)."""
        if self._rt is not None:
            rt, self._rt = self._rt, None
            lib.gcrt_destroy(rt)
            self._finalizers.clear()

    def __enter__(self) -> "Runtime":
        self.ptr()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _check(self, rc: int, what: str) -> int:
        return check(rc, self._rt, what)

    @property
    def failed(self) -> bool:
        return bool(self._check(lib.gcrt_failed(self.ptr()), "gcrt_failed"))

    @property
    def last_throw(self) -> str:
        return ffi.string(lib.gcrt_last_throw(self.ptr())).decode("utf-8", "replace")

    # -- types and objects ------------------------------------------------
    def type(self, size: int, ptrmask: PtrMask = 0) -> "Type":
        """Register a type of size bytes; ptrmask marks pointer words
        (a sequence of bools/ints, or an int bitmask, LSB = word 0)."""
        if not isinstance(size, int) or size <= 0 or size >= 1 << 64:
            raise errors.BadSize(f"a type size must be a positive int below 2**64, not {size!r}")
        bits = _maskbits(ptrmask)
        raw = bytearray((len(bits) + 7) // 8)
        for i, b in enumerate(bits):
            if b:
                raw[i // 8] |= 1 << (i % 8)
        out = ffi.new("gcrt_type *")
        mask = ffi.from_buffer("uint8_t[]", raw) if raw else ffi.NULL
        self._check(lib.gcrt_type_new(self.ptr(), size, mask, len(bits), out), "gcrt_type_new")
        t = Type(self, int(out[0]), size, tuple(i for i, b in enumerate(bits) if b))
        self._types[t.handle] = t
        return t

    def alloc(self, t: "Type") -> "Obj":
        """A new zeroed object of type t (from the runtime's shared cache),
        pinned while the returned handle lives."""
        out = ffi.new("void **")
        self._check(lib.gcrt_alloc_pinned(self.ptr(), _handle(t), out), "gcrt_alloc_pinned")
        return Obj(self, int(ffi.cast("uintptr_t", out[0])))

    def object_of(self, addr: Union[int, "Obj"]) -> "Obj":
        """The object containing address addr (interior pointers allowed),
        as a new handle that pins it."""
        base = ffi.new("void **")
        self._check(
            lib.gcrt_object_of(self.ptr(), _voidp(addr), base, ffi.NULL, ffi.NULL),
            "gcrt_object_of",
        )
        self._check(lib.gcrt_pin(self.ptr(), base[0]), "gcrt_pin")
        return Obj(self, int(ffi.cast("uintptr_t", base[0])))

    # -- collection -------------------------------------------------------
    def gc(self) -> None:
        """A full collection; returns with everything swept (gcrt_gc)."""
        self._check(lib.gcrt_gc(self.ptr()), "gcrt_gc")

    def gc_options(
        self,
        enable: bool = True,
        gctrace: bool = False,
        checkmark: bool = False,
        stw: bool = False,
        trace: bool = False,
        clobberfree: bool = True,
    ) -> None:
        """Collection by pacing (enable, the default), gctrace lines on stderr, checkmark,
        the plain stop-the-world cycle instead of the seed's (stw), the
        phase event trace (trace, read with :meth:`gc_trace`), and freed
        memory poisoned whole (clobberfree, the default in Python)."""
        opts = (
            (lib.GCRT_GC_ENABLE if enable else 0)
            | (lib.GCRT_GC_GCTRACE if gctrace else 0)
            | (lib.GCRT_GC_CHECKMARK if checkmark else 0)
            | (lib.GCRT_GC_STW if stw else 0)
            | (lib.GCRT_GC_TRACE if trace else 0)
            | (lib.GCRT_GC_CLOBBERFREE if clobberfree else 0)
        )
        self._check(lib.gcrt_gc_options(self.ptr(), opts, ffi.NULL), "gcrt_gc_options")

    def gc_trace(self) -> dict[str, Any]:
        """The recorded phases as a Chrome trace event document (a dict;
        json.dump it to a file and open it in Perfetto)."""
        n = ffi.new("size_t *")
        rc = lib.gcrt_gc_trace(self.ptr(), ffi.NULL, 0, n)
        if rc not in (0, lib.GCRT_ERANGE):
            self._check(rc, "gcrt_gc_trace")
        buf = ffi.new("char[]", int(n[0]) + 1)
        self._check(lib.gcrt_gc_trace(self.ptr(), buf, len(buf), n), "gcrt_gc_trace")
        doc: dict[str, Any] = json.loads(ffi.string(buf).decode())
        return doc

    def set_gc_percent(self, percent: int) -> int:
        """Set GOGC (-1 = off); returns the previous value."""
        old = ffi.new("int32_t *")
        self._check(lib.gcrt_gc_percent(self.ptr(), percent, old), "gcrt_gc_percent")
        return int(old[0])

    def global_region(self, nwords: int, ptrmask: PtrMask = 0) -> "GlobalRegion":
        """nwords words of host memory registered as a root region."""
        return GlobalRegion(self, nwords, _maskbits(ptrmask))

    def set_finalizer(self, obj: "Obj", fn: Callable[["Obj"], None]) -> None:
        """fn(obj) runs once, on the finalizer thread, after obj is found
        unreachable (its handles all gone)."""
        if self._fincb is None:
            self._fincb = ffi.callback("void(gcrt_runtime *, void *, void *)", self._runfinalizer)
        k = next(self._finids)
        self._finalizers[k] = fn
        rc = lib.gcrt_set_finalizer(self.ptr(), obj._p(), self._fincb, ffi.cast("void *", k))
        if rc < 0:
            del self._finalizers[k]
        self._check(rc, "gcrt_set_finalizer")

    def _runfinalizer(self, rt: Any, obj: Any, arg: Any) -> None:
        fn = self._finalizers.pop(int(ffi.cast("uintptr_t", arg)), None)
        if fn is None or self._rt is None:
            return
        addr = int(ffi.cast("uintptr_t", obj))
        if lib.gcrt_pin(rt, obj) == 0:
            fn(Obj(self, addr))

    def wait_finalizers(self) -> int:
        """Wait until no finalizer is queued or running; finalizers run so far."""
        n = ffi.new("uint64_t *")
        self._check(lib.gcrt_finalizers_wait(self.ptr(), n), "gcrt_finalizers_wait")
        return int(n[0])

    def stats(self) -> Stats:
        st = ffi.new("gcrt_stats *")
        self._check(lib.gcrt_stats_read(self.ptr(), st), "gcrt_stats_read")
        vals = {f: int(getattr(st, f)) for f in _SCALARS}
        return Stats(
            **vals,
            pause_ns=list(st.pause_ns),
            by_size=[
                SizeStats(int(s.size), int(s.nmalloc), int(s.nfree)) for s in st.by_size
            ],
        )

    def __repr__(self) -> str:
        state = "closed" if self._rt is None else "open"
        return f"<pygcrt.Runtime nprocs={self.nprocs} {state}>"


def _handle(t: "Type") -> int:
    if not isinstance(t, Type):
        raise errors.BadType(f"not a pygcrt Type: {t!r}")
    t.runtime.ptr()
    return t.handle


def _voidp(addr: Union[int, "Obj", None]) -> Any:
    if addr is None:
        return ffi.NULL
    if isinstance(addr, Obj):
        addr.runtime.ptr()
        addr._p()
        addr = addr.addr
    if not isinstance(addr, int) or addr < 0 or addr >= 1 << 64:
        raise errors.BadObject(f"not an address: {addr!r}")
    return ffi.cast("void *", addr)


class Type:
    """A registered type: size in bytes, nwords words, ptrs = pointer words."""

    __slots__ = ("runtime", "handle", "size", "nwords", "ptrs")

    def __init__(self, runtime: Runtime, handle: int, size: int, ptrs: tuple[int, ...]) -> None:
        self.runtime = runtime
        self.handle = handle
        self.size = size
        self.nwords = (size + 7) // 8
        self.ptrs = ptrs

    def is_ptr(self, i: int) -> bool:
        return i in self.ptrs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Type) and other.handle == self.handle

    def __hash__(self) -> int:
        return hash(self.handle)

    def __repr__(self) -> str:
        return f"<pygcrt.Type size={self.size} ptrs={list(self.ptrs)}>"


class Obj:
    """A checked handle on an object: its address and its runtime.

    Every access is validated by the C runtime (an object of this runtime,
    a word in range, the right kind of word)."""

    __slots__ = ("runtime", "addr", "_pinned")

    def __init__(self, runtime: Runtime, addr: int) -> None:
        """A handle on an object the caller has just pinned (the handle
        owns that pin)."""
        self.runtime = runtime
        self.addr = addr
        self._pinned = True

    def release(self) -> None:
        """Drop this handle's pin; the handle is unusable afterwards."""
        if self._pinned:
            self._pinned = False
            if self.runtime._rt is not None:
                lib.gcrt_unpin(self.runtime._rt, ffi.cast("void *", self.addr))

    def __del__(self) -> None:
        self.release()

    def _rt(self) -> Any:
        return self.runtime.ptr()

    def _p(self) -> Any:
        if not self._pinned:
            raise errors.BadObject(f"the handle on {self.addr:#x} was released")
        return ffi.cast("void *", self.addr)

    def _check(self, rc: int, what: str) -> int:
        return check(rc, self.runtime._rt, what)

    @property
    def type(self) -> Type:
        t = ffi.new("gcrt_type *")
        self._check(
            lib.gcrt_object_of(self._rt(), self._p(), ffi.NULL, t, ffi.NULL), "gcrt_object_of"
        )
        return self.runtime._types[int(t[0])]

    @property
    def size(self) -> int:
        size = ffi.new("size_t *")
        self._check(
            lib.gcrt_object_of(self._rt(), self._p(), ffi.NULL, ffi.NULL, size), "gcrt_object_of"
        )
        return int(size[0])

    def read(self, i: int) -> int:
        """Word i as an unsigned integer (any word)."""
        out = ffi.new("uint64_t *")
        self._check(lib.gcrt_read_word(self._rt(), self._p(), _index(i), out), "gcrt_read_word")
        return int(out[0])

    def __getitem__(self, i: int) -> int:
        return self.read(i)

    def write(self, i: int, value: int) -> None:
        """Store value into scalar word i (KindMismatch on a pointer word)."""
        if not isinstance(value, int) or not -(1 << 63) <= value < 1 << 64:
            raise errors.InvalidArgument(f"not a 64-bit word: {value!r}")
        self._check(
            lib.gcrt_write_word(self._rt(), self._p(), _index(i), value & (1 << 64) - 1),
            "gcrt_write_word",
        )

    def __setitem__(self, i: int, value: int) -> None:
        self.write(i, value)

    def ptr(self, i: int) -> Optional["Obj"]:
        """Pointer word i as the object it points into, or None."""
        out = ffi.new("void **")
        self._check(lib.gcrt_read_ptr(self._rt(), self._p(), _index(i), out), "gcrt_read_ptr")
        if out[0] == ffi.NULL:
            return None
        return self.runtime.object_of(int(ffi.cast("uintptr_t", out[0])))

    def ptr_addr(self, i: int) -> int:
        """Pointer word i as a raw address (0 for NULL)."""
        out = ffi.new("void **")
        self._check(lib.gcrt_read_ptr(self._rt(), self._p(), _index(i), out), "gcrt_read_ptr")
        return int(ffi.cast("uintptr_t", out[0]))

    def set_ptr(self, i: int, target: Union["Obj", int, None]) -> None:
        """Store a pointer to target (an Obj, an interior address, or None)
        into pointer word i, through the write barrier."""
        if isinstance(target, Obj) and target.runtime is not self.runtime:
            target.runtime.ptr()
        p = _voidp(target)
        self._check(lib.gcrt_write_ptr(self._rt(), self._p(), _index(i), p), "gcrt_write_ptr")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Obj) and other.addr == self.addr

    def __hash__(self) -> int:
        return hash(self.addr)

    def __repr__(self) -> str:
        return f"<pygcrt.Obj {self.addr:#x}>"


def _index(i: int) -> int:
    if not isinstance(i, int) or isinstance(i, bool):
        raise errors.InvalidArgument(f"a word index must be an int, not {i!r}")
    if i < 0 or i >= 1 << 63:
        raise errors.IndexOutOfRange(f"word index {i} out of range")
    return i


class GlobalRegion:
    """Host memory (nwords words) registered as a root region with a
    pointer mask: pointer words keep their objects alive."""

    def __init__(self, runtime: Runtime, nwords: int, ptrbits: list[bool]) -> None:
        if not isinstance(nwords, int) or nwords <= 0:
            raise errors.InvalidArgument(f"nwords must be a positive int, not {nwords!r}")
        self.runtime = runtime
        self.nwords = nwords
        self.words: Any = ffi.new("uint64_t[]", nwords)
        raw = bytearray((len(ptrbits) + 7) // 8)
        for i, b in enumerate(ptrbits):
            if b:
                raw[i // 8] |= 1 << (i % 8)
        mask = ffi.from_buffer("uint8_t[]", raw) if raw else ffi.NULL
        self.ptrs = tuple(i for i, b in enumerate(ptrbits) if b)
        check(
            lib.gcrt_root_add(runtime.ptr(), self.words, nwords * 8, mask, len(ptrbits)),
            runtime._rt,
            "gcrt_root_add",
        )
        runtime._regions.append(self)

    @property
    def base(self) -> int:
        return int(ffi.cast("uintptr_t", self.words))

    def __setitem__(self, i: int, target: Union["Obj", int, None]) -> None:
        """Store an object's address (or None, or a raw int) in word i."""
        if not 0 <= i < self.nwords:
            raise errors.IndexOutOfRange(f"word {i} of a {self.nwords}-word region")
        if isinstance(target, Obj):
            target._p()
            target = target.addr
        self.words[i] = 0 if target is None else target

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self.nwords:
            raise errors.IndexOutOfRange(f"word {i} of a {self.nwords}-word region")
        return int(self.words[i])

    def remove(self) -> None:
        """Unregister the region (its words stop being roots)."""
        rt = self.runtime.ptr()
        check(lib.gcrt_root_remove(rt, self.words), rt, "gcrt_root_remove")
        self.runtime._regions.remove(self)
