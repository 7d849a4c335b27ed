"""The stress command line: a short default run passes (collections included), a planted bug is
caught and reported with its seed and replay command, bad arguments get
exit status 2 and one line naming the argument.

Each run is a real ``python -m pygcrt.stress`` process (its trials are
child processes of it), so exit codes and output are what a user sees.
The planted bugs are independent of the tool's own logic: the churn hook
flips a live object's canary (``--mutant canary``), and the runtime's
``lf_aba`` mutant loses lock-free stack nodes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pygcrt.stress import report
from pygcrt.stress.cli import main, parser, plan

ROOT = Path(__file__).resolve().parent.parent


def stress(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pygcrt.stress", "--no-live", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.timeout(90)  # about 4 s alone; child start-up stretches it on a loaded machine
def test_default_mix_of_three_seconds_passes(tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    r = stress("--duration", "3", "--seed", "12", "--json", "--trace", str(trace), timeout=85)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] and out["failures"] == 0 and out["seed"] == 12
    assert set(out["scenarios"]) == {"gc", "goroutines", "churn", "shared", "lfstack",
                                     "workbufs", "getfull", "sched"}
    assert all(v["cycles"] > 0 for v in out["scenarios"].values())
    assert out["allocations"] > 0 and out["peak_rss_kb"] > 0
    # the gc and goroutines trials collected, and their pauses are summarized
    assert out["collections"] >= out["scenarios"]["gc"]["cycles"]
    assert out["collections"] >= out["scenarios"]["goroutines"]["cycles"]
    p = out["pauses_ns"]
    assert p["n"] == out["collections"] and 0 < p["p50"] <= p["p99"] <= p["max"] <= p["total"]
    assert "replay: python -m pygcrt.stress" in r.stderr and "--seed 12" in r.stderr
    ev = json.loads(trace.read_text())["traceEvents"]
    assert sum(e["ph"] == "X" and e["name"].startswith("trial") for e in ev) == 8
    assert any(e["name"] == "gc pause" for e in ev)


@pytest.mark.timeout(60)
def test_corrupted_canary_exits_1_naming_the_seed() -> None:
    r = stress("--scenario", "churn", "--cycles", "2", "--seed", "77", "--mutant", "canary")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED trial 0: scenario churn, seed 77" in r.stdout
    assert "canary is" in r.stdout
    assert "last events of M0" in r.stdout
    assert ("replay: python -m pygcrt.stress --scenario churn --seed 77" in r.stdout
            and "--mutant canary" in r.stdout)


@pytest.mark.timeout(150)
def test_lost_root_in_the_gc_scenario_exits_1() -> None:
    """A list being reversed is left unrooted while collections run: live
    nodes are freed and reused, which the checks report (or the child dies
    of it, or hangs on the corrupted heap until the runner kills it after
    its grace period: all reported the same way).  Whether a given cycle
    reuses the lost nodes depends on timing, so the trial gets many cycles:
    it stops at the first failure."""
    r = stress("--scenario", "gc", "--cycles", "30", "--seed", "11", "--mutant", "lose_rest",
               timeout=140)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED trial 0: scenario gc, seed 11" in r.stdout
    assert "--mutant lose_rest" in r.stdout


@pytest.mark.timeout(60)
def test_lf_aba_mutant_is_found_by_lfstack_trials() -> None:
    r = stress("--scenario", "lfstack", "--duration", "2", "--seed", "5", "--mutant", "lf_aba",
               "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["failures"] >= 1
    f = out["failed"][0]
    assert f["scenario"] == "lfstack" and f["seed"] >= 5 and "lfstack:" in f["failure"]


@pytest.mark.parametrize(
    "args, named",
    [
        (["--ms", "0"], "argument --ms"),
        (["--procs", "many"], "argument --procs"),
        (["--duration", "-1"], "argument --duration"),
        (["--scenario", "nosuch"], "argument --scenario"),
        (["--mode", "fast"], "argument --mode"),
        (["--mutant", "nosuch"], "argument --mutant"),
        (["--chaos", "1001"], "argument --chaos"),
        (["--trace", "/nonexistent-dir/t.json"], "argument --trace"),
        (["--frobnicate"], "--frobnicate"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("python -m pygcrt.stress: error:") and named in err


def test_plan_slices_the_duration_and_numbers_the_seeds() -> None:
    a = parser().parse_args(["--duration", "30", "--seed", "100"])
    trials = plan(a, 100)
    assert [t.scenario for t in trials[:8]] == a.scenario
    assert [t.seed for t in trials] == list(range(100, 100 + len(trials)))
    assert sum(t.duration for t in trials) == pytest.approx(30)
    assert max(t.duration for t in trials) <= 5
    one = plan(parser().parse_args(["--scenario", "lfstack", "--cycles", "7"]), 1)
    assert [(t.scenario, t.cycles, t.seed) for t in one] == [("lfstack", 7, 1)]


def test_percentiles_by_nearest_rank() -> None:
    xs = list(range(1, 101))
    assert report.percentile(xs, 50) == 50
    assert report.percentile(xs, 99) == 99
    assert report.percentile(xs, 100) == 100
    assert report.percentile([7], 99) == 7


def test_a_child_that_dies_is_a_failure_with_its_stderr() -> None:
    from pygcrt.stress.runner import run_trial
    from pygcrt.stress.scenarios import Options

    seen: list[dict[str, object]] = []
    t = run_trial(3, Options(scenario="no-such-scenario", seed=9, cycles=1),
                  lambda _t, rec: seen.append(rec))
    assert not t.ok and t.returncode == 1 and not seen
    assert "without finishing the trial" in t.failure and "KeyError" in t.failure
    assert any("no-such-scenario" in ln for ln in t.stderr_tail)


@pytest.mark.timeout(30)
def test_watchdog_kills_a_child_that_stalls_but_not_one_that_reports(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cycle-count trial has no length limit: it may run as long as it
    reports progress, and is killed once it stops reporting."""
    from pygcrt.stress import runner

    monkeypatch.setattr(runner, "GRACE_S", 1.5)
    chatty = subprocess.Popen([sys.executable, "-c",
                               "import time\nfor _ in range(12): print(1, flush=True); "
                               "time.sleep(0.25)"], stdout=subprocess.PIPE, text=True)
    dog = runner._Watchdog(chatty, None)
    assert chatty.stdout is not None
    for _ in chatty.stdout:
        dog.fed()
    assert chatty.wait() == 0 and dog.why == ""
    dog.stop()
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(20)"])
    dog = runner._Watchdog(silent, None)
    assert silent.wait(timeout=10) < 0 and dog.why.startswith("stalled")
    dog.stop()


def test_plot_without_matplotlib_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert main(["--plot", str(tmp_path / "p.png")]) == 2
        assert "argument --plot: matplotlib is not installed" in capsys.readouterr().err
    else:
        pytest.skip("matplotlib is installed")


@pytest.mark.timeout(60)
def test_plot_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "p.png"
    r = stress("--scenario", "gc", "--cycles", "1", "--seed", "2", "--plot", str(png))
    assert r.returncode == 0, r.stdout + r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
