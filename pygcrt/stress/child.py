"""One trial, in its own process: ``python -m pygcrt.stress.child '<options json>'``.

The child runs its scenario cycle after cycle until the trial's duration
or cycle count is reached, and writes one JSON object per line to stdout:
``{"kind": "progress", ...}`` now and then (cumulative cycles, allocations
and collections, the heap, new pauses, and heap and pause samples with
their times), then ``{"kind": "end", ...}`` with
its peak RSS, or ``{"kind": "fail", ...}`` with the failure and the
last events of each M.  Exit status 0 when every oracle held, 1 on a
failure; an abort or a crash is seen by the parent as a signal or a
missing "end" line.
"""

from __future__ import annotations

import faulthandler
import json
import resource
import sys
import time
from dataclasses import asdict
from typing import Any, TextIO

from .scenarios import SCENARIOS, Options


def _emit(out: TextIO, rec: dict[str, Any]) -> None:
    out.write(json.dumps(rec) + "\n")
    out.flush()


def _maxrss() -> int:
    """Peak RSS of this process so far, KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_trial(o: Options, out: TextIO, every: float = 0.1) -> int:
    """Run the trial; 0 if every cycle passed, 1 at the first failure.

    Progress goes out at most every ``every`` seconds: cumulative counts,
    plus the pauses and the heap seen since the previous line."""
    scen = SCENARIOS[o.scenario](o)
    t0 = last = time.monotonic()
    tot = {"cycles": 0, "allocs": 0, "bytes": 0, "numgc": 0}
    pauses: list[int] = []
    samples: list[tuple[float, int]] = []
    ptimes: list[tuple[float, int]] = []
    heap = 0
    try:
        while (o.cycles and tot["cycles"] < o.cycles) or (
            not o.cycles and time.monotonic() - t0 < o.duration
        ):
            c = scen.cycle(tot["cycles"])
            tot["cycles"] += 1
            tot["allocs"] += c.allocs
            tot["bytes"] += c.bytes
            tot["numgc"] += c.numgc
            pauses += c.pauses_ns
            samples += [(round(t - t0, 4), b) for t, b in c.heap_samples]
            ptimes += [(round(t - t0, 4), p) for t, p in c.pause_samples]
            heap = c.heap or heap
            now = time.monotonic()
            if c.failure:
                rec = asdict(c)
                rec.update(tot, kind="fail", t=now - t0, pauses_ns=pauses, maxrss_kb=_maxrss(),
                           heap_samples=samples, pause_samples=ptimes)
                _emit(out, rec)
                return 1
            if now - last >= every:
                _emit(out, dict(tot, kind="progress", t=now - t0, heap=heap, pauses_ns=pauses,
                                heap_samples=samples, pause_samples=ptimes, note=c.note))
                pauses, samples, ptimes, last = [], [], [], now
    finally:
        scen.close()
    _emit(out, dict(tot, kind="end", t=time.monotonic() - t0, heap=heap, pauses_ns=pauses,
                    heap_samples=samples, pause_samples=ptimes, maxrss_kb=_maxrss()))
    return 0


def main(argv: list[str] | None = None) -> int:
    faulthandler.enable()  # a crash leaves its Python stack on stderr for the report
    args = sys.argv[1:] if argv is None else argv
    o = Options(**json.loads(args[0]))
    return run_trial(o, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
