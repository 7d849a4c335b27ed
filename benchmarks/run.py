"""Head-to-head: GCBench and binary-trees on pygcrt, Boehm GC and malloc/free.

``python -m benchmarks.run`` builds benchmarks/gcbench and
benchmarks/binarytrees (each variant a C host; pygcrt's against the
release libgcrt.a), runs every variant ``--runs`` times (at least 5),
interleaving the variants so drift on a shared machine hits them alike,
and prints per variant the medians of wall time, collections, total and
max stop-the-world pause and peak RSS (the child's ru_maxrss from wait4),
then pygcrt's ratios against bdwgc measured in the same run, next to the
targets.  It installs nothing: a missing compiler, make or libgc-dev is
named, and what can still run does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {"gcbench": [], "binarytrees": ["18"]}
VARIANTS = ("pygcrt", "bdwgc", "malloc")
FIELDS = ("wall_ns", "collections", "pause_total_ns", "pause_max_ns", "maxrss_kb")
# Targets (issue 7), as (bench, field, limit): pygcrt/bdwgc ratio at most limit.
RATIO_TARGETS = [
    ("gcbench", "wall_ns", 1.0),
    ("gcbench", "pause_max_ns", 1.0),
    ("gcbench", "maxrss_kb", 1.5),
    ("binarytrees", "wall_ns", 1.0),
    ("binarytrees", "maxrss_kb", 1.5),
]
ABS_TARGETS = [("binarytrees", "pause_max_ns", 5_000_000)]


@dataclass
class Sample:
    wall_ns: int
    collections: int
    pause_total_ns: int
    pause_max_ns: int
    maxrss_kb: int


def missing_tools() -> tuple[list[str], bool]:
    """(fatal missing tools, whether bdwgc is available)."""
    fatal = [t for t in ("cc", "make", "ld", "objcopy", "ar") if shutil.which(t) is None]
    bdw = shutil.which("pkg-config") is not None and subprocess.run(
        ["pkg-config", "--exists", "bdw-gc"]).returncode == 0
    return fatal, bdw


def run_once(binary: Path, args: list[str]) -> Sample:
    """Run a benchmark binary; its peak RSS comes from wait4's rusage."""
    p = subprocess.Popen([str(binary), *args], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{binary.name} exited with status {p.returncode}")
    vals = {k: int(v) for k, v in (ln.split() for ln in out.splitlines() if ln.strip())}
    return Sample(vals["wall_ns"], vals["collections"], vals["pause_total_ns"],
                  vals["pause_max_ns"], ru.ru_maxrss)


def median(samples: list[Sample], f: str) -> float:
    return statistics.median(getattr(s, f) for s in samples)


def fmt(f: str, v: float) -> str:
    if f.endswith("_ns"):
        return f"{v / 1e6:10.2f} ms"
    if f == "maxrss_kb":
        return f"{v / 1024:9.1f} MiB"
    return f"{v:13.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per variant (at least 5)")
    ap.add_argument("--bench", choices=sorted(BENCHES), action="append",
                    help="only these benchmarks (repeatable)")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args(argv)
    if a.runs < 5:
        ap.error("argument --runs: at least 5 runs, for medians")
    fatal, bdw = missing_tools()
    if fatal:
        print(f"missing: {', '.join(fatal)} (a C toolchain: apt-get install build-essential "
              "binutils); nothing can be built", file=sys.stderr)
        return 1
    if not bdw:
        print("missing: Boehm GC (pkg-config bdw-gc; apt-get install libgc-dev pkg-config): "
              "bdwgc variants and pygcrt/bdwgc ratios are skipped", file=sys.stderr)
    variants = [v for v in VARIANTS if bdw or v != "bdwgc"]
    benches = a.bench or list(BENCHES)
    if not a.no_build:
        for b in benches:
            subprocess.run(["make", "-s", "-C", str(HERE / b)], check=True,
                           stdout=subprocess.DEVNULL)
    results: dict[tuple[str, str], list[Sample]] = {}
    for b in benches:
        for _ in range(a.runs):
            for v in variants:
                s = run_once(HERE / b / "build" / f"{b}-{v}", BENCHES[b])
                results.setdefault((b, v), []).append(s)
    ok = True
    for b in benches:
        print(f"== {b} (medians of {a.runs} runs)")
        print(f"  {'variant':<8} {'wall':>13} {'collections':>13} {'total pause':>13} "
              f"{'max pause':>13} {'peak RSS':>13}")
        for v in variants:
            row = " ".join(f"{fmt(f, median(results[b, v], f)):>13}" for f in FIELDS)
            print(f"  {v:<8} {row}")
        if bdw:
            print("  pygcrt / bdwgc: " + ", ".join(
                f"{f.replace('_ns', '').replace('_kb', '')} x{ratio(results, b, f):.2f}"
                for f in FIELDS))
            for tb, f, lim in RATIO_TARGETS:
                if tb == b:
                    if "pause" in f and nogc(results, b):
                        print(f"  target {f} <= {lim:g} x bdwgc: not measurable "
                              "(pygcrt ran no collections)")
                        continue
                    r = ratio(results, b, f)
                    met = r <= lim
                    ok &= met
                    print(f"  target {f} <= {lim:g} x bdwgc: {'met' if met else 'NOT met'} "
                          f"(x{r:.2f})")
        for tb, f, lim in ABS_TARGETS:
            if tb == b:
                if nogc(results, b):
                    print(f"  target pygcrt {f} < {lim / 1e6:g} ms: not measurable "
                          "(pygcrt ran no collections)")
                    continue
                v = median(results[b, "pygcrt"], f)
                print(f"  target pygcrt {f} < {lim / 1e6:g} ms: "
                      f"{'met' if v < lim else 'NOT met'} ({v / 1e6:.2f} ms)")
                ok &= v < lim
    if not bdw:
        print("targets against bdwgc not checked: bdwgc is missing")
    else:
        print("all targets met" if ok else "some targets not met")
    return 0


def nogc(results: dict[tuple[str, str], list[Sample]], b: str) -> bool:
    return median(results[b, "pygcrt"], "collections") == 0


def ratio(results: dict[tuple[str, str], list[Sample]], b: str, f: str) -> float:
    den = median(results[b, "bdwgc"], f)
    num = median(results[b, "pygcrt"], f)
    return num / den if den else (0.0 if num == 0 else float("inf"))


if __name__ == "__main__":
    sys.exit(main())
