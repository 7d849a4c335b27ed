"""Test hooks for the lock-free stack, work buffers, getfull and parfor.

For the project's tests and benchmarks only.  Every scenario runs in C on
threads the runtime starts (never Python threads); these wrappers pass the
parameters, raise the matching pygcrt.errors exception on a C error code,
and return the results as dataclasses for the tests' own oracles.

A violated invariant inside the runtime (a bad node, a buffer put on the
wrong list, nproc out of range) is a throw: the HookRuntime is created in
record mode, so it surfaces as errors.FatalError and the runtime is failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from . import errors
from ._binding import check, ffi, lib, string

__all__ = [
    "HookRuntime",
    "LFStress",
    "WorkbufPut",
    "WorkbufStress",
    "Round",
    "ParforRun",
    "PUT_OPS",
    "LISTS",
    "set_mutant",
    "new_head",
    "lfnodes",
    "lfstack_push",
    "lfstack_pop",
    "lfstack_pack",
    "lfstack_stress",
    "workbuf_layout",
    "workbuf_put",
    "workbuf_stress",
    "getfull_round",
    "parforsetup",
    "parfor_run",
]

PUT_OPS: dict[str, int] = {
    "putempty": lib.GCRT_WB_PUTEMPTY,
    "putfull": lib.GCRT_WB_PUTFULL,
    "putpartial": lib.GCRT_WB_PUTPARTIAL,
    "gcworkbuffree": lib.GCRT_WB_GCWORKBUFFREE,
    "handoff": lib.GCRT_WB_HANDOFF,
}
LISTS: dict[int, str | None] = {
    lib.GCRT_WB_NONE: None,
    lib.GCRT_WB_EMPTY: "empty",
    lib.GCRT_WB_PARTIAL: "partial",
    lib.GCRT_WB_FULL: "full",
}
_SCENARIOS: dict[str, int] = {
    "random": lib.GCRT_ROUND_RANDOM,
    "partial_only": lib.GCRT_ROUND_PARTIAL_ONLY,
    "misuse": lib.GCRT_ROUND_MISUSE,
}


class HookRuntime:
    """A runtime in record mode (throws become FatalError) for the hooks."""

    def __init__(self, nprocs: int = 4) -> None:
        cfg = ffi.new("gcrt_config *")
        lib.gcrt_config_init(cfg)
        cfg.nprocs = nprocs
        cfg.on_throw = lib.GCRT_THROW_RECORD
        out = ffi.new("gcrt_runtime **")
        check(lib.gcrt_new(cfg, out), None, "gcrt_new")
        self._ptr: Any = out[0]
        self.nprocs = nprocs

    @property
    def ptr(self) -> Any:
        """The C runtime pointer; RuntimeClosed after close()."""
        if self._ptr is None:
            raise errors.RuntimeClosed("runtime is closed")
        return self._ptr

    @property
    def failed(self) -> bool:
        return bool(check(lib.gcrt_failed(self.ptr), self.ptr, "gcrt_failed"))

    @property
    def last_throw(self) -> str:
        return string(lib.gcrt_last_throw(self.ptr))

    def close(self) -> None:
        if self._ptr is not None:
            lib.gcrt_destroy(self._ptr)
            self._ptr = None

    def __enter__(self) -> HookRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def set_mutant(rt: HookRuntime, name: str) -> None:
    """Select a mutant by name (csrc/mutants.h: "getfull_partial", "lf_aba",
    "lf_next_after_cas", "lf_free_node", "getfull_order", "parfor_blind_steal"),
    or "none"."""
    check(lib.gcrt_test_set_mutant(rt.ptr, name.encode()), rt.ptr, "set_mutant")


# ---- lfstack ----


def new_head() -> Any:
    """A stack head word (uint64_t *) owned by Python, initially 0 (empty)."""
    return ffi.new("uint64_t *")


def lfnodes(rt: HookRuntime, n: int) -> list[int]:
    """n fresh node addresses from the runtime's persistent test pool."""
    out = ffi.new("uintptr_t[]", max(n, 1))
    check(lib.gcrt_test_lfnodes(rt.ptr, n, out), rt.ptr, "lfnodes")
    return list(out)[:n]


def lfstack_push(rt: HookRuntime, head: Any, node: int) -> None:
    check(lib.gcrt_test_lfstack_push(rt.ptr, head, node), rt.ptr, "lfstack_push")


def lfstack_pop(rt: HookRuntime, head: Any) -> int | None:
    out = ffi.new("uintptr_t *")
    check(lib.gcrt_test_lfstack_pop(rt.ptr, head, out), rt.ptr, "lfstack_pop")
    return int(out[0]) or None


def lfstack_pack(node: int, cnt: int) -> tuple[int, int]:
    """(packed head word, address unpacked from it)."""
    packed = ffi.new("uint64_t *")
    unpacked = ffi.new("uintptr_t *")
    check(lib.gcrt_test_lfstack_pack(node, cnt, packed, unpacked), None, "lfstack_pack")
    return int(packed[0]), int(unpacked[0])


@dataclass
class LFStress:
    sum_before: int
    sum_after: int
    found: int
    owned_twice: int
    seen: list[int]  # seen[i]: times node i came out of the final drain
    pops: list[int]
    pushes: list[int]
    emptypops: list[int]


def lfstack_stress(
    rt: HookRuntime, nthreads: int, nstacks: int, nnodes: int, rounds: int, seed: int
) -> LFStress:
    s = ffi.new("gcrt_lfstress *")
    s.nthreads, s.nstacks, s.nnodes, s.rounds, s.seed = nthreads, nstacks, nnodes, rounds, seed
    seen = ffi.new("uint32_t[]", max(nnodes, 1))
    check(lib.gcrt_test_lfstack_stress(rt.ptr, s, seen), rt.ptr, "lfstack_stress")
    k = nthreads
    return LFStress(
        s.sum_before,
        s.sum_after,
        s.found,
        s.owned_twice,
        list(seen)[:nnodes],
        list(s.pops)[:k],
        list(s.pushes)[:k],
        list(s.emptypops)[:k],
    )


# ---- work buffers ----


def workbuf_layout() -> tuple[int, int]:
    """(sizeof(workbuf), object slots)."""
    size = ffi.new("size_t *")
    nobjs = ffi.new("size_t *")
    check(lib.gcrt_test_workbuf_layout(size, nobjs), None, "workbuf_layout")
    return int(size[0]), int(nobjs[0])


@dataclass
class WorkbufPut:
    list: str | None  # list the buffer was found on afterwards
    listnobj: int
    listsum: int
    kept: int  # handoff: entries of the returned buffer
    keptsum: int
    keptmin: int
    others: int  # other buffers found on full or partial


def workbuf_put(rt: HookRuntime, op: str, nobj: int) -> WorkbufPut:
    """Fill a fresh buffer with 1..nobj, apply op, report where it went."""
    if op not in PUT_OPS:
        raise errors.InvalidArgument(f"workbuf_put: unknown op {op!r}")
    p = ffi.new("gcrt_wbput *")
    p.op, p.nobj = PUT_OPS[op], nobj
    check(lib.gcrt_test_workbuf_put(rt.ptr, p), rt.ptr, f"workbuf_put({op}, {nobj})")
    return WorkbufPut(
        LISTS[p.list], p.listnobj, p.listsum, p.kept, p.keptsum, p.keptmin, p.others
    )


@dataclass
class WorkbufStress:
    produced: int
    consumed: int
    dup: int
    lost: int
    on_empty: int
    on_partial: int
    on_full: int
    bad_empty: int
    bad_partial: int
    bad_full: int
    nbuf: int
    ops: list[int]


def workbuf_stress(
    rt: HookRuntime, nthreads: int, rounds: int, maxbatch: int, seed: int
) -> WorkbufStress:
    s = ffi.new("gcrt_wbstress *")
    s.nthreads, s.rounds, s.maxbatch, s.seed = nthreads, rounds, maxbatch, seed
    check(lib.gcrt_test_workbuf_stress(rt.ptr, s), rt.ptr, "workbuf_stress")
    return WorkbufStress(
        s.produced,
        s.consumed,
        s.dup,
        s.lost,
        s.on_empty,
        s.on_partial,
        s.on_full,
        s.bad_empty,
        s.bad_partial,
        s.bad_full,
        s.nbuf,
        list(s.ops)[:nthreads],
    )


@dataclass
class Round:
    generated: int
    processed: int
    dup: int
    lost: int
    per_marker: list[int]
    partial_taken: bool
    left_full: int
    left_partial: int
    nwait: int
    ndone: int
    nhandoff: int


def getfull_round(
    rt: HookRuntime,
    nproc: int,
    *,
    scenario: str = "random",
    items: int = 100,
    budget: int = 10000,
    maxfan: int = 3,
    hold_ms: int = 0,
    seed: int = 0,
) -> Round:
    """One getfull barrier round with nproc markers (see gcrt_test.h)."""
    if scenario not in _SCENARIOS:
        raise errors.InvalidArgument(f"getfull_round: unknown scenario {scenario!r}")
    r = ffi.new("gcrt_getfull_round *")
    r.nproc, r.scenario, r.items, r.budget = nproc, _SCENARIOS[scenario], items, budget
    r.maxfan, r.hold_ms, r.seed = maxfan, hold_ms, seed
    check(lib.gcrt_test_getfull_round(rt.ptr, r), rt.ptr, "getfull_round")
    n = max(nproc, 0)
    return Round(
        r.generated,
        r.processed,
        r.dup,
        r.lost,
        list(r.per_marker)[:n],
        bool(r.partial_taken),
        r.left_full,
        r.left_partial,
        r.nwait,
        r.ndone,
        r.nhandoff,
    )


# ---- parfor ----


def _range(pos: int) -> tuple[int, int]:
    return pos & 0xFFFFFFFF, pos >> 32


def parforsetup(rt: HookRuntime, nthr: int, n: int) -> list[tuple[int, int]]:
    """Per-thread [begin, end) ranges right after parforsetup."""
    out = ffi.new("uint64_t[]", max(nthr, 1))
    check(lib.gcrt_test_parforsetup(rt.ptr, nthr, n, out), rt.ptr, "parforsetup")
    return [_range(p) for p in list(out)[:nthr]]


@dataclass
class ParforRun:
    counts: list[int]  # counts[i]: times body(i) ran
    ranges: list[tuple[int, int]]
    nsteal: int
    nstealcnt: int
    nprocyield: int
    nosyield: int
    nsleep: int


def parfor_run(
    rt: HookRuntime, nthr: int, n: int, *, wait: bool = True, slow_us: int = 0, seed: int = 0
) -> ParforRun:
    r = ffi.new("gcrt_parfor_run *")
    r.nthr, r.n, r.wait, r.slow_us, r.seed = nthr, n, int(wait), slow_us, seed
    counts = ffi.new("uint32_t[]", max(n, 1))
    check(lib.gcrt_test_parfor_run(rt.ptr, r, counts), rt.ptr, "parfor_run")
    return ParforRun(
        list(counts)[:n],
        [_range(p) for p in list(r.ranges)[: max(nthr, 0)]],
        r.nsteal,
        r.nstealcnt,
        r.nprocyield,
        r.nosyield,
        r.nsleep,
    )
