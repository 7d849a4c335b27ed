"""The stress run's summary: figures, plain text, JSON, Chrome trace, plot.

Everything here is computed in Python from the trials' records: pause
percentiles by nearest rank over every pause the children reported, the
allocation rate over the trials' own run time, peak RSS as the largest
``ru_maxrss`` a child reported.  The plot needs matplotlib (the
``pygcrt[plot]`` extra) and is checked for before anything runs.
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass, field
from typing import Any

from .runner import Trial
from .scenarios import Options


# What each --mode runs (gcrt_gc_options: GCRT_GC_STW or not).
MODE_NOTE = {
    "seed": "the seed's cycle: roots and goroutine stacks scanned with the world running "
            "(write barrier on), mark termination stopped",
    "stw": "plain stop-the-world mark, then lazy and background sweep",
}


def percentile(values: list[int], q: float) -> int:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(1, math.ceil(q / 100 * len(s)))
    return s[k - 1]


def replay_command(o: Options) -> str:
    """The command that runs this trial again (same scenario, seed, shape;
    chaos makes the interleaving differ)."""
    args = ["python", "-m", "pygcrt.stress", "--scenario", o.scenario, "--seed", str(o.seed),
            "--ms", str(o.ms), "--procs", str(o.procs), "--gogc", str(o.gogc),
            "--chaos", str(o.chaos), "--mode", o.mode]
    args += ["--cycles", str(o.cycles)] if o.cycles else ["--duration", f"{o.duration:g}"]
    if o.mutant:
        args += ["--mutant", o.mutant]
    if o.checkmark:
        args.append("--checkmark")
    return shlex.join(args)


@dataclass
class Summary:
    seed: int
    trials: int = 0
    failures: int = 0
    cycles: int = 0
    allocs: int = 0
    bytes: int = 0
    collections: int = 0
    run_s: float = 0.0
    alloc_s: float = 0.0  # run time of the trials that allocate (churn, gc)
    wall_s: float = 0.0
    peak_rss_kb: int = 0
    pauses_ns: list[int] = field(default_factory=list)
    by_scenario: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: list[dict[str, Any]] = field(default_factory=list)
    mode: str = "seed"
    checkmark: bool = False

    def add(self, t: Trial) -> None:
        self.trials += 1
        recs = t.records
        last = t.last
        pauses = [p for r in recs for p in r.get("pauses_ns", [])]
        self.pauses_ns += pauses
        self.cycles += last.get("cycles", 0)
        self.allocs += last.get("allocs", 0)
        self.bytes += last.get("bytes", 0)
        self.collections += last.get("numgc", 0)
        self.run_s += last.get("t", 0.0)
        if last.get("allocs"):
            self.alloc_s += last.get("t", 0.0)
        self.peak_rss_kb = max(self.peak_rss_kb, last.get("maxrss_kb", 0))
        sc = self.by_scenario.setdefault(t.options.scenario,
                                         {"trials": 0, "cycles": 0, "failures": 0,
                                          "peak_rss_kb": 0, "peak_heap_bytes": 0})
        sc["trials"] += 1
        sc["cycles"] += last.get("cycles", 0)
        sc["peak_rss_kb"] = max(sc["peak_rss_kb"], last.get("maxrss_kb", 0))
        sc["peak_heap_bytes"] = max([sc["peak_heap_bytes"],
                                     *(b for r in recs for _, b in r.get("heap_samples", []))])
        if not t.ok:
            self.failures += 1
            sc["failures"] += 1
            self.failed.append({
                "trial": t.index,
                "scenario": t.options.scenario,
                "seed": t.options.seed,
                "failure": t.failure,
                "replay": replay_command(t.options),
                "events": t.events,
                "stderr_tail": t.stderr_tail if not t.events else [],
            })

    def pause_stats(self) -> dict[str, int] | None:
        if not self.pauses_ns:
            return None
        p = self.pauses_ns
        return {"n": len(p), "total": sum(p), "p50": percentile(p, 50),
                "p99": percentile(p, 99), "max": max(p)}

    def as_dict(self) -> dict[str, Any]:
        rate = self.allocs / self.alloc_s if self.alloc_s else 0.0
        return {
            "ok": self.failures == 0,
            "seed": self.seed,
            "trials": self.trials,
            "failures": self.failures,
            "cycles": self.cycles,
            "allocations": self.allocs,
            "bytes_allocated": self.bytes,
            "allocs_per_s": rate,
            "collections": self.collections,
            "mode": self.mode,
            "mode_note": MODE_NOTE[self.mode],
            "checkmark": self.checkmark,
            "pauses_ns": self.pause_stats(),
            "peak_rss_kb": self.peak_rss_kb,
            "wall_s": self.wall_s,
            "scenarios": self.by_scenario,
            "failed": self.failed,
        }


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f} ms"


def text(s: Summary) -> str:
    """The final report for humans."""
    d = s.as_dict()
    lines = [
        f"pygcrt stress: {'PASSED' if d['ok'] else 'FAILED'}  (seed {s.seed}, "
        f"{s.trials} trials, {s.cycles} cycles, {s.wall_s:.1f} s)",
        "  scenario    trials  cycles  failures  peak heap MiB  peak RSS MiB",
    ]
    for name, v in s.by_scenario.items():
        lines.append(f"  {name:<10} {v['trials']:>7} {v['cycles']:>7} {v['failures']:>9} "
                     f"{v['peak_heap_bytes'] / 2**20:>14,.1f} {v['peak_rss_kb'] / 1024:>13,.1f}")
    lines.append(f"  allocations: {s.allocs:,} objects, {s.bytes / 2**20:,.1f} MiB, "
                 f"{d['allocs_per_s']:,.0f} objects/s in the allocating trials")
    ps = s.pause_stats()
    lines.append(f"  collector: --mode {s.mode}: {MODE_NOTE[s.mode]}"
                 + (", checkmark on" if s.checkmark else ""))
    if ps is None:
        lines.append(f"  gctrace: {s.collections} collections, no pauses recorded")
    else:
        lines.append(f"  gctrace: {s.collections} collections, pauses total {_ms(ps['total'])}, "
                     f"p50 {_ms(ps['p50'])}, p99 {_ms(ps['p99'])}, max {_ms(ps['max'])}")
    lines.append(f"  peak RSS: {s.peak_rss_kb / 1024:,.1f} MiB")
    for f in s.failed:
        lines.append(f"FAILED trial {f['trial']}: scenario {f['scenario']}, seed {f['seed']}: "
                     f"{f['failure']}")
        for m, evs in f["events"].items():
            lines.append(f"  last events of {m}:" if m[:1] == "M" and m[1:].isdigit()
                         else f"  {m}:")
            lines += [f"    {e}" for e in evs]
        if f["stderr_tail"]:
            lines.append("  child stderr (tail):")
            lines += [f"    {ln}" for ln in f["stderr_tail"]]
        lines.append(f"  replay: {f['replay']}")
    return "\n".join(lines)


def _timed_pauses(r: dict[str, Any]) -> list[tuple[float, int]]:
    """A record's pauses with their times in the trial: sampled times where
    the scenario timed them (to 10 ms), else the record's time."""
    timed = [(t, p) for t, p in r.get("pause_samples", [])]
    rest = r.get("pauses_ns", [])[len(timed):]
    return timed + [(r.get("t", 0.0), p) for p in rest]


def chrome_trace(trials: list[tuple[float, Trial]]) -> dict[str, Any]:
    """Chrome trace JSON (chrome://tracing, Perfetto): one track per
    scenario, a slice per trial, the heap as a counter, pauses as slices."""
    ev: list[dict[str, Any]] = []
    for start, t in trials:
        base = start * 1e6
        tid = t.options.scenario
        dur = t.last.get("t", 0.0) * 1e6
        ev.append({"name": f"trial {t.index} seed {t.options.seed}", "ph": "X", "pid": 1,
                   "tid": tid, "ts": base, "dur": dur,
                   "args": {"ok": t.ok, "failure": t.failure}})
        for r in t.records:
            for st, b in r.get("heap_samples", []):
                ev.append({"name": "heap", "ph": "C", "pid": 1, "ts": base + st * 1e6,
                           "args": {"bytes": b}})
            for pt, p in _timed_pauses(r):
                ev.append({"name": "gc pause", "ph": "X", "pid": 1, "tid": tid,
                           "ts": base + pt * 1e6, "dur": p / 1e3})
    return {"traceEvents": ev, "displayTimeUnit": "ms"}


def write_json(path: str, data: Any) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=1)


def plot(path: str, trials: list[tuple[float, Trial]]) -> None:
    """Heap size and pauses over time (matplotlib, headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    ht, hv, pt, pv = [], [], [], []
    for start, t in trials:
        for r in t.records:
            for st, b in r.get("heap_samples", []):
                ht.append(start + st)
                hv.append(b / 2**20)
            for when, p in _timed_pauses(r):
                pt.append(start + when)
                pv.append(p / 1e6)
    ax1.plot(ht, hv, ".-", ms=3)
    ax1.set_ylabel("heap (MiB)")
    ax2.plot(pt, pv, "o", ms=3)
    ax2.set_ylabel("pause (ms)")
    ax2.set_xlabel("time (s)")
    if not pt:
        ax2.text(0.5, 0.5, "no collections", transform=ax2.transAxes, ha="center")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
