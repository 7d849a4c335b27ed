"""Build bench.c against the release and the test libgcrt, run both, print ratios.

Figures:
  * the cost of schedule points when no controller is active: the same
    free-running counter scenario in the release build (points compiled
    out) and the test build (one relaxed load and branch per point);
  * the controller: schedule points and baton passes per second in
    controlled runs (target: >= 400k points/s with a switch at about every
    second point, the random walk), against the free-running baseline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(binary: Path, iters: int) -> dict[str, float]:
    out = subprocess.run([str(binary), str(iters)], check=True, capture_output=True, text=True)
    return {k: float(v) for k, v in (line.split() for line in out.stdout.splitlines())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.sched")
    ap.add_argument("--iters", type=int, default=200000, help="increments per M")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args(argv)
    if not a.no_build:
        subprocess.run(["make", "-s", "-C", str(HERE)], check=True, stdout=subprocess.DEVNULL)
    rel = measure(HERE / "build" / "bench-release", a.iters)
    test = measure(HERE / "build" / "bench-test", a.iters)
    for key, what in (("free1_ns_per_op", "1 M "), ("free_ns_per_op", "2 Ms")):
        r, t = rel[key], test[key]
        print(f"free-running counter, {what}, release : {r:8.2f} ns/increment (baseline)")
        print(f"free-running counter, {what}, test    : {t:8.2f} ns/increment "
              f"(x{t / r:.2f} of release: points present, controller off)")
    free_rel = rel["free_ns_per_op"]
    base_points = 1e9 / free_rel  # increments/s free; about 2 points per increment
    for name in ("zero", "random", "pct"):
        pts = test[f"ctl_{name}_points_per_s"]
        sw = test[f"ctl_{name}_switches_per_s"]
        print(f"controlled ({name:>6} strategy)       : {pts:12,.0f} points/s, {sw:10,.0f} switches/s "
              f"(x{pts / (2 * base_points):.3f} of free-running)")
    target = test["ctl_random_points_per_s"]
    print(f"target >= 400,000 points/s with switches (random walk): "
          f"{'met' if target >= 400_000 else 'NOT met'} ({target:,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
