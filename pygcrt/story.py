"""Traces of controlled runs told as stories.

A story lists each schedule step: step number, M, point name and the value
the point observed (a point comes before its operation: an M switched back
in first does the operation of the point it was parked at, which the story
says as ``Mk did <point> first``), decoded by the point's subsystem (packed lfstack heads
as ``node#i/cnt``, work buffers as ``node#i nobj=n``, getfull's barrier as
``nwait=1/2``, G statuses as ``Gwaiting|Gscan``, spans as ``span#i sg=N``).  Switches are marked ``->``, preemptions (switches away
from an M that could have gone on) ``Mk preempted``, after-op notes are
indented under their point, a fault injected at a point reads
``FAULT <point>`` (``FAULT stack.morestack.force``), a block of events that repeats identically (a
wait loop) is shown once with its repeat count, and the failure comes last.

Decoders are looked up by the longest matching site-name prefix; a runtime
piece registers its own with :func:`register_decoder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

EV_NOTE = 1
EV_SPIN = 2
EV_BLOCK = 4
EV_FAULT = 8
EV_SWITCH = 16
EV_PREEMPT = 32


@dataclass(frozen=True)
class Event:
    """One trace event of a controlled run."""

    step: int
    m: int
    site: str
    value: int
    flags: int

    @property
    def note(self) -> bool:
        return bool(self.flags & EV_NOTE)

    @property
    def switched(self) -> bool:
        return bool(self.flags & EV_SWITCH)

    @property
    def preempted(self) -> bool:
        return bool(self.flags & EV_PREEMPT)


@dataclass
class Symbols:
    """Names handed out in order of first appearance (node#0, node#1, ...)."""

    names: dict[tuple[str, int], int] = field(default_factory=dict)

    def name(self, kind: str, key: int) -> str:
        idx = self.names.setdefault((kind, key), sum(1 for k in self.names if k[0] == kind))
        return f"{kind}#{idx}"


Decoder = Callable[[int, Symbols], str]

_GSTATUS = {
    0: "Gidle",
    1: "Grunnable",
    2: "Grunning",
    3: "Gsyscall",
    4: "Gwaiting",
    5: "Gmoribund",
    6: "Gdead",
    7: "Genqueue",
    8: "Gcopystack",
}
GSCAN = 0x1000
LF_CNT_BITS = 19  # lfstack.c: packed = node << 16 | pushcnt mod 2^19; node = (packed >> 19) << 3


def gstatus(value: int, _: Symbols) -> str:
    """A G status word: ``Gwaiting|Gscan``."""
    base = _GSTATUS.get(value & ~GSCAN & 0xFFFFFFFF, f"G?{value & ~GSCAN:#x}")
    return base + ("|Gscan" if value & GSCAN else "")


def lfstack_head(value: int, sym: Symbols) -> str:
    """A packed lfstack head: ``node#i/cnt`` (``nil`` for an empty stack)."""
    node = (value >> LF_CNT_BITS) << 3
    if node == 0:
        return "nil"
    return f"{sym.name('node', node)}/{value & ((1 << LF_CNT_BITS) - 1)}"


def workbuf_note(value: int, sym: Symbols) -> str:
    """A work buffer and its fill level (mgcwork.c bufnote): ``node#i nobj=n``."""
    node = (value >> LF_CNT_BITS) << 3
    if node == 0:
        return "nil"
    return f"{sym.name('node', node)} nobj={value & ((1 << LF_CNT_BITS) - 1)}"


def nwait_note(value: int, _: Symbols) -> str:
    """getfull's barrier count ``nwait << 32 | nproc``: ``nwait=1/2``."""
    return f"nwait={value >> 32}/{value & 0xFFFFFFFF}"


def lists_note(value: int, _: Symbols) -> str:
    """Which lists getfull's wait loop saw non-empty (mgcwork.c workvisible)."""
    if value & 4:
        return "full empty, partial not looked at"
    if value & 1:
        return "work on full"
    return "work on partial" if value & 2 else "full and partial empty"


def parfor_range(value: int, _: Symbols) -> str:
    """A parfor range word ``begin | end << 32``: ``[b,e)``."""
    return f"[{value & 0xFFFFFFFF},{value >> 32})"


def span_sweepgen(value: int, _: Symbols) -> str:
    """A span and its sweepgen packed as ``index << 32 | sweepgen``."""
    return f"span#{value >> 32} sg={value & 0xFFFFFFFF}"


def span_relgen(value: int, _: Symbols) -> str:
    """A span and its sweepgen relative to the heap's h, ``page << 32 | h - sg``."""
    d = value & 0xFFFFFFFF
    return f"span#{value >> 32} sg=" + (f"h-{d}" if d else "h")


def plain(value: int, _: Symbols) -> str:
    return str(value) if value < 1 << 20 else f"{value:#x}"


_DECODERS: dict[str, Decoder] = {
    "lfstack.": lfstack_head,
    "casgstatus": gstatus,
    "castogscanstatus": gstatus,
    "casfromgscanstatus": gstatus,
    "readgstatus": gstatus,
    "stopg": gstatus,
    "sweep.": span_sweepgen,
    "sweepgen.": span_relgen,
    "work.put.": workbuf_note,
    "work.got.": workbuf_note,
    "getfull.nwait": nwait_note,
    "getfull.visible": lists_note,
    "parfor.claimed": parfor_range,
    "parfor.steal.saw": parfor_range,
    "parfor.stole": parfor_range,
}


def register_decoder(prefix: str, decoder: Decoder) -> None:
    """Decode values of every site whose name starts with prefix."""
    _DECODERS[prefix] = decoder


def decode(site: str, value: int, sym: Symbols) -> str:
    best = ""
    for prefix in _DECODERS:
        if site.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return (_DECODERS[best] if best else plain)(value, sym)


def _line(e: Event, prev: int, parked: str, sym: Symbols) -> str:
    mark = "->" if e.switched else "  "
    tags = ["spin"] if e.flags & EV_SPIN else []
    if e.preempted:
        tags.append(f"M{prev} preempted")
    if e.switched and parked:
        tags.append(parked)
    tail = f"  ({', '.join(tags)})" if tags else ""
    if e.note:
        return f"{'':>6} {mark}M{e.m:<2}   .. {e.site:<25} {decode(e.site, e.value, sym)}{tail}"
    if e.flags & EV_BLOCK:
        seen = "waits" if e.value >= 1 << 63 else f"waits until t={e.value}"
    elif e.value == 0:
        seen = ""
    else:
        seen = decode(e.site, e.value, sym)
    site = f"FAULT {e.site}" if e.flags & EV_FAULT else e.site
    return f"{e.step:>6} {mark}M{e.m:<2} {site:<30} {seen}{tail}".rstrip()


def _fold(evs: list[Event], max_period: int = 32, min_reps: int = 3) -> list[tuple[int, int, int]]:
    """Cut evs into segments (start, period, repeats): a block of period
    events that recurs identically (same M, site, value, flags) at least
    min_reps times in a row is one segment, e.g. a spinner's wait loop."""
    keys = [hash((e.m, e.site, e.value, e.flags)) for e in evs]
    n = len(keys)
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < n:
        best_p, best_k = 1, 1
        for p in range(1, max_period + 1):
            if i + min_reps * p > n:
                break
            if keys[i] != keys[i + p]:
                continue
            k = 1
            while i + (k + 1) * p <= n and keys[i + k * p:i + (k + 1) * p] == keys[i:i + p]:
                k += 1
            if k >= min_reps and p * k > best_p * best_k:
                best_p, best_k = p, k
        out.append((i, best_p, best_k) if best_k >= min_reps else (i, 1, 1))
        i += best_p * best_k if best_k >= min_reps else 1
    return out


def tell(header: list[str], evs: list[Event], dropped: int, failure: str, limit: int) -> str:
    """The story: header lines, the (last ``limit``) events, the failure.

    A block of events that repeats identically (a spin loop) is shown once,
    followed by how often it recurred, so a livelock reads as its setup plus
    one turn of each waiter's loop."""
    sym = Symbols()
    segs = _fold(evs)
    shown = 0
    first_seg = len(segs)
    while first_seg > 0 and shown + segs[first_seg - 1][1] <= limit:
        first_seg -= 1
        shown += segs[first_seg][1]
    lines = list(header)
    lines.append(f"{'step':>6}   M   {'site':<30} observed")
    skipped = dropped + (segs[first_seg][0] if first_seg < len(segs) else len(evs))
    if skipped:
        lines.append(f"{'':>6}  ... {skipped} earlier events not shown")
    prev = -1
    last: dict[int, str] = {}
    for n, (start, period, reps) in enumerate(segs):
        for i in range(start, start + period * reps):
            e = evs[i]
            if n >= first_seg and i < start + period:
                lines.append(_line(e, prev, last.get(e.m, "") if e.switched else "", sym))
            if not e.note:
                waited = e.flags & (EV_SPIN | EV_BLOCK)
                last[e.m] = (f"M{e.m} resumes from {e.site}" if waited
                             else f"M{e.m} did {e.site} first")
            prev = e.m
        if n >= first_seg and reps > 1:
            end = evs[start + period * reps - 1].step
            what = f"the {period} events above repeat" if period > 1 else "the event above repeats"
            lines.append(f"{'':>6}  ... {what} {reps - 1} more times (to step {end})")
    if failure:
        lines.append(f"!! {failure}")
    return "\n".join(lines)
