"""The command line of ``python -m pygcrt.stress`` (console script ``pygcrt-stress``).

A run is a sequence of trials; each trial runs one scenario in a child
process (so an abort or a crash is caught and reported) for a slice of
the duration or for ``--cycles`` cycles.  Trial k of a run with seed S
uses seed S+k and the k-th scenario of the mix, round robin; a failing
trial is reported with its scenario, its seed, the last events of each M
and the command that runs it alone again.

Exit status: 0 when every oracle held, 1 when a trial failed, 2 on bad
arguments (one line naming the argument).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import shlex
import sys
import time
from typing import Any, NoReturn, Sequence

from . import report
from .display import Display
from .runner import Trial, run_trial
from .scenarios import (DEFAULT_MIX, HOOK_MUTANTS, PROC_MUTANTS, RUNTIME_MUTANTS, SCENARIOS,
                        Options)

PROG = "python -m pygcrt.stress"
MAX_SLICE_S = 5.0
MIN_TRIAL_S = 0.05


class UsageError(Exception):
    """A bad command-line argument; the message names it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _ranged(lo: float, hi: float, kind: type = int) -> Any:
    what = "an integer" if kind is int else "a number"

    def conv(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{text} is out of range {lo:g}..{hi:g}")
        return v

    return conv


def _scenarios(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no scenario named")
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {unknown[0]!r} (choose from {', '.join(SCENARIOS)})")
    return names


def _outfile(text: str) -> str:
    d = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(d):
        raise argparse.ArgumentTypeError(f"directory {d!r} does not exist")
    return text


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog=PROG, description="Stress pygcrt's runtime: Ms allocating, passing and "
                 "checking objects, lock-free lists and work queues, controlled interleavings, "
                 "with chaos at schedule points and a slow M.")
    scen = "; ".join(f"{n}: {c.doc}" for n, c in SCENARIOS.items())
    ap.add_argument("--scenario", type=_scenarios, default=list(DEFAULT_MIX),
                    help=f"comma-separated scenarios (default: all). {scen}")
    ap.add_argument("--ms", type=_ranged(1, 64), default=4, help="Ms (runtime threads), 1..64")
    ap.add_argument("--procs", type=_ranged(1, 256), default=2, help="Ps (GOMAXPROCS), 1..256")
    ap.add_argument("--duration", type=_ranged(0.1, 86400, float), default=30.0,
                    help="seconds to run in all (default 30)")
    ap.add_argument("--cycles", type=_ranged(1, 10**9), default=0,
                    help="run this many cycles of each scenario instead of a duration (a cycle "
                         "is one batch of the scenario's work; in gc, one run of the Ms with "
                         "the collections during it and a final one)")
    ap.add_argument("--seed", type=_ranged(0, 2**62), default=None,
                    help="base seed (default: random, printed)")
    ap.add_argument("--gogc", type=_ranged(-1, 100000), default=100, help="GOGC percent, -1 = off")
    ap.add_argument("--mode", choices=["seed", "stw"], default="seed",
                    help="collector mode: the seed's concurrent scan, or stop-the-world")
    ap.add_argument("--checkmark", action="store_true",
                    help="verify every collection's marking with a checkmark pass")
    ap.add_argument("--chaos", type=_ranged(0, 1000), default=10,
                    help="chance of a yield/spin/sleep per schedule point, permille")
    ap.add_argument("--mutant", choices=[*RUNTIME_MUTANTS, *PROC_MUTANTS, *HOOK_MUTANTS],
                    default=None,
                    help="switch a planted bug on to check that the stress catches it "
                         "(canary: corrupt a live object; lose_rest: leave part of a list "
                         "being rewired unrooted in the gc scenario)")
    ap.add_argument("--json", action="store_true", help="print the final report as JSON")
    ap.add_argument("--trace", type=_outfile, metavar="FILE", help="write a Chrome trace JSON")
    ap.add_argument("--plot", type=_outfile, metavar="FILE",
                    help="plot heap size and pauses over time (needs matplotlib: pygcrt[plot])")
    ap.add_argument("--no-live", action="store_true", help="plain log even on a terminal")
    return ap


def plan(a: argparse.Namespace, seed: int) -> list[Options]:
    """The trials of the run, in order."""
    names: list[str] = a.scenario
    common = dict(ms=a.ms, procs=a.procs, gogc=a.gogc, chaos=a.chaos, mutant=a.mutant,
                  mode=a.mode, checkmark=a.checkmark)
    if a.cycles:
        return [Options(scenario=n, seed=seed + k, cycles=a.cycles, **common)
                for k, n in enumerate(names)]
    slice_s = min(MAX_SLICE_S, a.duration / len(names))
    n = max(len(names), math.ceil(a.duration / slice_s - 1e-9))
    return [Options(scenario=names[k % len(names)], seed=seed + k, duration=a.duration / n,
                    **common) for k in range(n)]


def _check_plot(a: argparse.Namespace) -> None:
    if a.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("argument --plot: matplotlib is not installed "
                             "(pip install 'pygcrt[plot]')") from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        a = parser().parse_args(argv)
        _check_plot(a)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**31)
    trials = plan(a, seed)
    full = list(argv if argv is not None else sys.argv[1:])
    if not any(x == "--seed" or x.startswith("--seed=") for x in full):
        full += ["--seed", str(seed)]
    print(f"pygcrt stress: seed {seed}, {len(trials)} trials of "
          f"{', '.join(dict.fromkeys(t.scenario for t in trials))}; "
          f"replay: {PROG} {shlex.join(full)}", file=sys.stderr)
    summary = report.Summary(seed=seed, mode=a.mode, checkmark=a.checkmark)
    done: list[tuple[float, Trial]] = []
    disp = Display(sys.stderr, live=not a.no_live)
    t0 = time.monotonic()
    try:
        for k, o in enumerate(trials):
            start = time.monotonic() - t0
            if not a.cycles:  # what is left of the run, so child start-up counts too
                left = (a.duration - start) / (len(trials) - k)
                o = dataclasses.replace(o, duration=round(max(MIN_TRIAL_S, left), 3))
            t = run_trial(k, o, disp.record)
            disp.trial_done(t)
            summary.add(t)
            done.append((start, t))
    finally:
        disp.close()
    summary.wall_s = time.monotonic() - t0
    if a.json:
        print(json.dumps(summary.as_dict(), indent=1))
    else:
        print(report.text(summary))
    if a.trace:
        report.write_json(a.trace, report.chrome_trace(done))
    if a.plot:
        report.plot(a.plot, done)
    return 0 if summary.failures == 0 else 1
