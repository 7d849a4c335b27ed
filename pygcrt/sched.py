"""Deterministic interleaving runs: run, replay, schedule strings, fuzzing.

:func:`run` executes a registered C scenario (csrc/schedtest.c and the
runtime pieces' own) with ``n_ms`` Ms under the schedule controller
(csrc/schedctl.c): one M runs at a time and a tape (or the C-side random or
PCT strategy) decides who runs at each schedule point.  A run is a pure
function of (scenario, params, n_ms, tape, fault tape, mutant); whatever
the strategy, the result carries the decisions it took, so every run
replays from its schedule string::

    counter:2/S1.<sitehash8>.<n_ms>.<mutant>.<rle>[~F<rle>][~A<site>,...]

``<rle>`` is dot-separated tokens, ``zN`` for N zero decisions or one
decision number; ``e`` is the empty tape.  ``<mutant>`` is ``0`` for none.
``~F`` is the fault tape (one entry per occurrence of an armed fault site)
and ``~A`` the armed fault sites when a run armed only some.
The site hash pins the set of schedule-point names: a string recorded
against other points is refused rather than silently diverging.

Command line::

    python -m pygcrt.sched list
    python -m pygcrt.sched replay 'counter/S1....'
    python -m pygcrt.sched fuzz counter --mutant racy --strategy pct --depth 3 --runs 1000
    python -m pygcrt.sched sweep getfull --mutant getfull_order --params 3 --max 2
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from . import errors
from ._binding import check, ffi, lib, string
from .story import EV_FAULT, Event, tell

OUTCOMES = {
    0: "ok",
    1: "oracle",
    2: "throw",
    3: "deadlock",
    4: "livelock",
    5: "budget",
    6: "uncontrolled",
}
STRATEGIES = {"tape": 0, "random": 1, "pct": 2, "free": 3}
VERSION = "S1"


@dataclass(frozen=True)
class Scenario:
    name: str
    doc: str
    min_ms: int
    max_ms: int
    mutants: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def sites() -> tuple[str, ...]:
    """Every schedule point's name, indexed by site id."""
    name, file, line = ffi.new("char **"), ffi.new("char **"), ffi.new("int *")
    out = []
    for i in range(lib.gcrt_test_sched_nsites()):
        check(lib.gcrt_test_sched_site(i, name, file, line))
        out.append(string(name[0]))
    return tuple(out)


def site_hash() -> str:
    """The hash of the sorted point names, as stamped into schedule strings."""
    return f"{lib.gcrt_test_sched_sitehash():08x}"


@functools.lru_cache(maxsize=1)
def scenarios() -> dict[str, Scenario]:
    """The registered scenarios by name."""
    name, doc = ffi.new("char **"), ffi.new("char **")
    lo, hi = ffi.new("int *"), ffi.new("int *")
    muts = ffi.new("char ***")
    out: dict[str, Scenario] = {}
    for i in range(lib.gcrt_test_sched_nscenarios()):
        check(lib.gcrt_test_sched_scenario(i, name, doc, lo, hi, muts))
        names = []
        k = 0
        while muts[0][k] != ffi.NULL:
            names.append(string(muts[0][k]))
            k += 1
        s = Scenario(string(name[0]), string(doc[0]), lo[0], hi[0], tuple(names))
        out[s.name] = s
    return out


@functools.lru_cache(maxsize=1)
def mutants() -> tuple[str, ...]:
    """Every runtime mutant's name (the one registry, csrc/mutants.h)."""
    out: list[str] = []
    while (name := lib.gcrt_test_mutant_name(len(out))) != ffi.NULL:
        out.append(string(name))
    return tuple(out)


# ---- schedule strings ----


def encode_rle(seq: Sequence[int]) -> str:
    """Run-length tokens: ``z12`` is twelve zeros, other numbers stand alone."""
    toks: list[str] = []
    zeros = 0
    for d in seq:
        if d == 0:
            zeros += 1
            continue
        if zeros:
            toks.append(f"z{zeros}")
            zeros = 0
        toks.append(str(d))
    if zeros:
        toks.append(f"z{zeros}")
    return ".".join(toks) if toks else "e"


def decode_rle(text: str) -> list[int]:
    if text == "e":
        return []
    out: list[int] = []
    for tok in text.split("."):
        if tok.startswith("z") and tok[1:].isdigit():
            out.extend([0] * int(tok[1:]))
        elif tok.isdigit() and int(tok) < 256:
            out.append(int(tok))
        else:
            raise errors.InvalidArgument(f"bad schedule token {tok!r}")
    return out


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule string."""

    scenario: str
    params: tuple[int, ...]
    n_ms: int
    mutant: str | None
    tape: tuple[int, ...]
    faults: tuple[int, ...]
    sitehash: str
    armed: tuple[str, ...] | None = None  # None: every fault site

    def __str__(self) -> str:
        head = self.scenario + (":" + ",".join(map(str, self.params)) if self.params else "")
        s = f"{head}/{VERSION}.{self.sitehash}.{self.n_ms}.{self.mutant or 0}.{encode_rle(self.tape)}"
        s += f"~F{encode_rle(self.faults)}" if any(self.faults) else ""
        return s + (f"~A{','.join(self.armed)}" if self.armed is not None else "")


def parse(text: str) -> Schedule:
    """Parse ``scenario[:p,..]/S1.<hash>.<n_ms>.<mutant>.<rle>[~F<rle>][~A<sites>]``."""
    try:
        head, body = text.strip().split("/", 1)
        scenario, _, ptext = head.partition(":")
        params = tuple(int(p) for p in ptext.split(",")) if ptext else ()
        body, armedsep, atext = body.partition("~A")
        body, _, ftext = body.partition("~F")
        ver, sh, nms, mutant, rle = body.split(".", 4)
    except ValueError as e:
        raise errors.InvalidArgument(f"malformed schedule string {text!r}") from e
    if ver != VERSION or len(sh) != 8 or not nms.isdigit():
        raise errors.InvalidArgument(f"malformed schedule string {text!r}")
    return Schedule(
        scenario,
        params,
        int(nms),
        None if mutant == "0" else mutant,
        tuple(decode_rle(rle)),
        tuple(decode_rle(ftext)) if ftext else (),
        sh,
        tuple(a for a in atext.split(",") if a) if armedsep else None,
    )


# ---- runs ----


@dataclass
class Result:
    """What one controlled run did."""

    scenario: str
    n_ms: int
    mutant: str | None
    params: tuple[int, ...]
    strategy: str
    outcome: str
    message: str
    steps: int
    switches: int
    preemptions: int
    trace_hash: int
    nevents: int
    wall_ns: int
    ms_ran: int
    tape: list[int]
    faults: list[int]
    trace: list[Event] = field(repr=False)
    armed: tuple[str, ...] | None = None

    @property
    def failed(self) -> bool:
        return self.outcome != "ok"

    @property
    def schedule(self) -> Schedule:
        tape = list(self.tape)
        while tape and tape[-1] == 0:
            tape.pop()
        faults = list(self.faults)
        while faults and faults[-1] == 0:
            faults.pop()
        return Schedule(self.scenario, self.params, self.n_ms, self.mutant, tuple(tape),
                        tuple(faults), site_hash(), self.armed)

    @property
    def schedule_string(self) -> str:
        return str(self.schedule)

    def steps_at(self, site: str) -> int:
        """Steps taken at a point, in the kept trace (notes not counted)."""
        return sum(1 for e in self.trace if e.site == site and not e.note)

    def preemption_sites(self) -> list[str]:
        """The point at which each preempted M was parked, in order."""
        out = []
        last: dict[int, str] = {}
        prev = -1
        for e in self.trace:
            if e.preempted and prev in last:
                out.append(last[prev])
            if not e.note:
                last[e.m] = e.site
            prev = e.m
        return out

    def story(self, limit: int = 400) -> str:
        """The trace as a story: summary, steps, and the failure last."""
        mut = f" (mutant {self.mutant})" if self.mutant else ""
        verdict = f"FAILED [{self.outcome}]" if self.failed else "passed"
        where = ", ".join(self.preemption_sites())
        header = [
            f"{self.scenario}{mut}, {self.n_ms} Ms, {self.strategy}: {verdict}",
            f"{self.steps} steps, {self.switches} switches, {self.preemptions} preemptions"
            + (f" at {where}" if where else ""),
            f"replay: {self.schedule_string}",
        ]
        failure = self.message if self.failed else ""
        return tell(header, self.trace, self.nevents - len(self.trace), failure, limit)


def _bytes(seq: Sequence[int] | None, what: str) -> Any:
    vals = list(seq or [])
    if any(not 0 <= v < 256 for v in vals):
        raise errors.InvalidArgument(f"{what}: decisions are 0..255")
    return ffi.new("uint8_t[]", vals or [0]), len(vals)


def run(
    scenario: str,
    n_ms: int = 2,
    tape: Sequence[int] | None = None,
    *,
    strategy: str = "tape",
    seed: int = 0,
    depth: int = 3,
    pct_steps: int = 0,
    faults: Sequence[int] | None = None,
    armed: Sequence[str] | None = None,
    fault_permille: int = 0,
    mutant: str | None = None,
    params: Sequence[int] = (),
    max_steps: int = 0,
    livelock_spins: int = 0,
    watchdog_ms: int = 0,
    trace_cap: int = 0,
) -> Result:
    """Run a scenario once under the controller (or free, ``strategy="free"``).

    ``armed`` restricts fault injection to the named fault sites.  Bad
    arguments raise InvalidArgument / IndexOutOfRange before anything runs.
    """
    if strategy not in STRATEGIES:
        raise errors.InvalidArgument(f"unknown strategy {strategy!r}")
    if seed < 0 or not 0 <= fault_permille <= 1000:
        raise errors.InvalidArgument("seed >= 0 and fault_permille in 0..1000")
    o = ffi.new("gcrt_sched_opts *")
    lib.gcrt_test_sched_opts_init(o)
    o.strategy = STRATEGIES[strategy]
    keep = []
    t, o.ntape = _bytes(tape, "tape")
    f, o.nfaults = _bytes(faults, "faults")
    o.tape, o.faults = t, f
    keep += [t, f]
    if armed is not None:
        names = sites()
        unknown = set(armed) - set(names)
        if unknown:
            raise errors.InvalidArgument(f"unknown fault sites {sorted(unknown)}")
        a = ffi.new("uint8_t[]", [1 if n in armed else 0 for n in names] or [0])
        o.armed, o.narmed = a, len(names)
        keep.append(a)
    mut = ffi.new("char[]", (mutant or "").encode())
    p = ffi.new("int64_t[]", list(params) or [0])
    o.mutant, o.params, o.nparams = mut, p, len(params)
    o.seed, o.pct_depth, o.pct_steps = seed, depth, pct_steps
    o.fault_permille = fault_permille
    o.max_steps, o.livelock_rounds = max_steps, livelock_spins
    o.watchdog_ms, o.trace_cap = watchdog_ms, trace_cap
    out = ffi.new("gcrt_schedrun **")
    check(lib.gcrt_test_sched_run(scenario.encode(), n_ms, o, out), None,
          f"sched.run({scenario!r}, n_ms={n_ms})")
    r = ffi.gc(out[0], lib.gcrt_test_schedrun_free)
    res = _result(r, scenario, n_ms, mutant or None, tuple(params), strategy)
    res.armed = tuple(armed) if armed is not None else None
    return res


def _result(r: Any, scenario: str, n_ms: int, mutant: str | None, params: tuple[int, ...],
            strategy: str) -> Result:
    info = ffi.new("gcrt_sched_info *")
    check(lib.gcrt_test_schedrun_info(r, info))
    n = ffi.new("uint32_t *")
    tp = lib.gcrt_test_schedrun_tape(r, n)
    tape = list(ffi.unpack(ffi.cast("uint8_t *", tp), n[0])) if n[0] else []
    fp = lib.gcrt_test_schedrun_faults(r, n)
    faults = list(ffi.unpack(ffi.cast("uint8_t *", fp), n[0])) if n[0] else []
    cap = min(info.nevents, 1 << 20)
    buf = ffi.new("gcrt_sched_event[]", max(cap, 1))
    kept = lib.gcrt_test_schedrun_trace(r, buf, cap)
    names = sites()
    trace = [Event(e.step, e.m, names[e.site], e.value, e.flags) for e in buf[0:kept]]
    return Result(
        scenario=scenario,
        n_ms=n_ms,
        mutant=mutant,
        params=params,
        strategy=strategy,
        outcome=OUTCOMES.get(info.outcome, str(info.outcome)),
        message=string(lib.gcrt_test_schedrun_message(r)),
        steps=info.steps,
        switches=info.switches,
        preemptions=info.preemptions,
        trace_hash=info.hash,
        nevents=info.nevents,
        wall_ns=info.wall_ns,
        ms_ran=info.n_ms,
        tape=tape,
        faults=faults,
        trace=trace,
    )


def replay(text: str, **kw: Any) -> Result:
    """Run a schedule string again (refused if the points changed since)."""
    s = parse(text)
    if s.sitehash != site_hash():
        raise errors.InvalidArgument(
            f"schedule recorded against schedule points {s.sitehash}, this build has {site_hash()}")
    kw.setdefault("armed", s.armed)
    return run(s.scenario, s.n_ms, list(s.tape), faults=list(s.faults), mutant=s.mutant,
               params=s.params, **kw)


def _simpler(tape: list[int]) -> list[list[int]]:
    """Candidate tapes with fewer preemptions, simplest edits first."""
    nz = [i for i, d in enumerate(tape) if d]
    out = [tape[:i] + [0] + tape[i + 1:] for i in reversed(nz)]
    out += [tape[:i] + tape[i + 1:] for i in reversed(nz)]
    for i, j in itertools.combinations(nz, 2):
        # A preemption and the switch back: undo both, or drop the detour
        # (and the decisions taken inside it) so later decisions stay put.
        out.append([0 if k in (i, j) else d for k, d in enumerate(tape)])
        out.append(tape[:i] + tape[j + 1:])
    return out


def minimize(r: Result, **kw: Any) -> Result:
    """Delta-debug a failing run's recorded tape towards fewer preemptions:
    zero or delete one nonzero decision, or a preemption together with the
    switch back (zeroing both, or deleting the detour between them); keep a
    candidate when the same outcome happens with fewer preemptions (or as
    many and a shorter tape); repeat until nothing more goes."""
    if not r.failed:
        return r
    best = r
    faults = list(best.schedule.faults)
    while True:
        for trial in _simpler(list(best.schedule.tape)):
            t = run(r.scenario, r.n_ms, trial, faults=faults, mutant=r.mutant, params=r.params,
                    **{"armed": r.armed, **kw})
            if t.outcome == r.outcome and (t.preemptions, len(t.schedule.tape)) < (
                    best.preemptions, len(best.schedule.tape)):
                best = t
                break
        else:
            return best


def sweep(scenario: str, n_ms: int, max_nonzero: int = 2, *, mutant: str | None = None,
          params: Sequence[int] = (), max_runs: int = 0, stop: str | None = None,
          **kw: Any) -> tuple[int, list[Result]]:
    """Bounded-exhaustive search (CHESS's preemption bounding): run every
    tape whose first decision (which M starts, a free choice) is anything
    and with at most max_nonzero nonzero decisions after it.  Each nonzero
    decision goes at every decision the run with the tape so far actually
    takes, so none is missed.  With 2 Ms the first is the only free decision
    (a switch away from an M that cannot go on has one candidate), so this
    is every schedule with at most max_nonzero preemptions; with more Ms a
    nonzero free choice also counts.  Returns (runs, failures); stops early
    after max_runs runs (0: no limit) or at the first failure whose outcome
    is stop."""
    runs = 0
    fails: list[Result] = []

    def go(tape: list[int], left: int) -> bool:
        nonlocal runs
        if max_runs and runs >= max_runs:
            return False
        r = run(scenario, n_ms, tape, mutant=mutant, params=params, **kw)
        runs += 1
        if r.failed:
            fails.append(r)
            if r.outcome == stop:
                return False
        if left == 0:
            return True
        for p in range(len(tape), len(r.tape)):
            for v in range(1, n_ms):
                if not go(tape + [0] * (p - len(tape)) + [v], left - 1):
                    return False
        return True

    for first in range(n_ms):
        if not go([first], max_nonzero):
            break
    return runs, fails


def simplest(r: Result, max_runs: int = 5000, **kw: Any) -> Result:
    """A failing run with the same outcome and as few preemptions as a
    bounded search finds: sweep with 0, 1, ... nonzero decisions (below r's
    preemptions) until one fails the same way, within max_runs runs in all;
    r itself if none does."""
    if not r.failed:
        return r
    left = max_runs
    for k in range(r.preemptions):
        runs, fails = sweep(r.scenario, r.n_ms, k, mutant=r.mutant, params=r.params,
                            max_runs=left, stop=r.outcome, **kw)
        same = [f for f in fails if f.outcome == r.outcome]
        if same:
            return min(same, key=lambda f: f.preemptions)
        left -= runs
        if left <= 0:
            break
    return r


# ---- command line ----


def _fuzz(a: argparse.Namespace) -> int:
    params = tuple(int(x) for x in a.params.split(",")) if a.params else ()
    kw: dict[str, Any] = dict(strategy=a.strategy, depth=a.depth, mutant=a.mutant,
                              params=params, fault_permille=a.faults, trace_cap=4096)
    steps = points = 0
    t0 = time.perf_counter()
    pct_steps = 0
    for i in range(a.runs):
        r = run(a.scenario, a.n_ms, seed=a.seed + i, pct_steps=pct_steps, **kw)
        pct_steps = pct_steps or max(len(r.tape), 1)
        steps += 1
        points += r.steps
        if r.failed:
            r = simplest(minimize(r)) if a.minimize else r
            print(f"run {i} (seed {a.seed + i}) failed:\n{r.story(a.limit)}")
            return 1
    dt = time.perf_counter() - t0
    print(f"{steps} runs of {a.scenario} ({a.strategy}) passed: {points} points, "
          f"{points / dt:,.0f} points/s including Python")
    return 0


def _sweep(a: argparse.Namespace) -> int:
    params = tuple(int(x) for x in a.params.split(",")) if a.params else ()
    runs, fails = sweep(a.scenario, a.n_ms, a.max, mutant=a.mutant, params=params,
                        trace_cap=4096)
    print(f"{runs} schedules of {a.scenario} with <= {a.max} nonzero decisions: "
          f"{len(fails)} failed")
    if not fails:
        return 0
    f = min(fails, key=lambda r: (r.preemptions, len(r.schedule.tape)))
    print(f"simplest failure:\n{f.story(a.limit)}")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pygcrt.sched", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list scenarios and their mutants")
    rp = sub.add_parser("replay", help="replay a schedule string and print its story")
    rp.add_argument("schedule")
    rp.add_argument("--limit", type=int, default=400, help="trace events to show")
    fz = sub.add_parser("fuzz", help="run a scenario many times with a C-side strategy")
    fz.add_argument("scenario")
    fz.add_argument("--strategy", choices=["random", "pct"], default="random")
    fz.add_argument("--depth", type=int, default=3)
    fz.add_argument("--runs", type=int, default=1000)
    fz.add_argument("--n-ms", type=int, default=2)
    fz.add_argument("--mutant", default=None)
    fz.add_argument("--params", default="", help="comma-separated scenario parameters")
    fz.add_argument("--seed", type=int, default=1)
    fz.add_argument("--faults", type=int, default=0, help="fault chance per fault site, permille")
    fz.add_argument("--minimize", action="store_true",
                    help="delta-debug a failing tape, then search for fewer preemptions")
    fz.add_argument("--limit", type=int, default=400)
    sw = sub.add_parser("sweep", help="run every schedule with few preemptions (bounded-exhaustive)")
    sw.add_argument("scenario")
    sw.add_argument("--max", type=int, default=2, help="nonzero decisions after the first")
    sw.add_argument("--n-ms", type=int, default=2)
    sw.add_argument("--mutant", default=None)
    sw.add_argument("--params", default="", help="comma-separated scenario parameters")
    sw.add_argument("--limit", type=int, default=400)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "list":
            for s in scenarios().values():
                muts = ", ".join(s.mutants) or "-"
                print(f"{s.name:<12} Ms {s.min_ms}..{s.max_ms}  mutants: {muts}\n    {s.doc}")
            print(f"runtime mutants: {', '.join(mutants())}")
            return 0
        if a.cmd == "replay":
            r = replay(a.schedule)
            print(r.story(a.limit))
            return 1 if r.failed else 0
        if a.cmd == "sweep":
            return _sweep(a)
        return _fuzz(a)
    except errors.GcrtError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "EV_FAULT",
    "Event",
    "Result",
    "Scenario",
    "Schedule",
    "decode_rle",
    "encode_rle",
    "minimize",
    "mutants",
    "parse",
    "replay",
    "run",
    "scenarios",
    "simplest",
    "sweep",
    "site_hash",
    "sites",
]
