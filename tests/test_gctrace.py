"""gctrace lines (the 2014 format) and the stats they agree with.

Oracle: the counts of objects the test allocated and dropped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from pygcrt import Runtime

LINE = re.compile(
    r"^gc(\d+)\((\d+)\): (\d+)\+(\d+)\+(\d+)\+(\d+) us, (\d+) -> (\d+) MB, "
    r"(\d+) \((\d+)-(\d+)\) objects, (\d+) goroutines, (\d+)/(\d+)/(\d+) sweeps, "
    r"(\d+)\((\d+)\) handoff, (\d+)\((\d+)\) steal, (\d+)/(\d+)/(\d+) yields$"
)


def test_gctrace_lines_agree_with_what_was_allocated(capfd: pytest.CaptureFixture[str]) -> None:
    with Runtime(nprocs=2, on_throw="record") as rt:
        rt.gc_options(gctrace=True)
        t = rt.type(48, [1])
        keep = [rt.alloc(t) for _ in range(100)]
        for _ in range(400):
            rt.alloc(t)
        rt.gc()
        rt.gc()
        st = rt.stats()
        del keep
    lines = [ln for ln in capfd.readouterr().err.splitlines() if ln.startswith("gc")]
    assert len(lines) == 2, lines
    m1, m2 = LINE.match(lines[0]), LINE.match(lines[1])
    assert m1 and m2, lines
    # gcN(nproc); live (nmalloc-nfree) before this cycle's sweep
    assert (m1[1], m1[2]) == ("1", "2") and (m2[1], m2[2]) == ("2", "2")
    assert (int(m1[9]), int(m1[10]), int(m1[11])) == (500, 500, 0)
    assert (int(m2[9]), int(m2[10]), int(m2[11])) == (100, 500, 400)
    assert st.numgc == 2 and st.nmalloc == 500 and st.nfree == 400
    assert st.heap_alloc == 100 * 48
    assert all(p > 0 for p in st.pause_ns[:2]) and not any(st.pause_ns[2:])
    assert st.pause_total_ns == sum(st.pause_ns[:2])
    assert st.last_gc > 0


def test_gctrace_from_the_environment() -> None:
    code = (
        "from pygcrt import Runtime\n"
        "with Runtime() as rt:\n"
        "    rt.gc()\n"
    )
    env = dict(os.environ, PYGCRT_DEBUG="gctrace=1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("gc")]
    assert len(lines) == 1 and LINE.match(lines[0]), out.stderr


def test_phase_trace_is_chrome_trace_json_with_a_track_per_thread() -> None:
    with Runtime(nprocs=2, on_throw="record") as rt:
        rt.gc_options(trace=True, checkmark=True)
        t = rt.type(32, [1])
        keep = [rt.alloc(t) for _ in range(2000)]
        for _ in range(3):
            rt.gc()
        rt.gc_options(trace=True, stw=True)
        rt.gc()
        doc = rt.gc_trace()
        pauses = rt.stats().pause_ns[:4]
        del keep
    ev = doc["traceEvents"]
    names = [e["name"] for e in ev]
    for name in ("stw: finish sweep", "concurrent scan", "mark", "mark (helper)",
                 "checkmark", "stw: mark termination", "eager sweep"):
        assert name in names, name
    assert names.count("concurrent scan") == 3  # not in the STW-mode cycle
    assert names.count("stw: mark termination") == 4
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in ev)
    assert {e["tid"] for e in ev if e["name"] == "mark (helper)"} == {1}
    assert {e["tid"] for e in ev if e["name"] == "mark"} == {0}
    # per collection, mark lies inside the stop-the-world mark termination
    assert sorted({e["args"]["gc"] for e in ev}) == [1, 2, 3, 4]
    for g in range(1, 5):
        mark = next(e for e in ev if e["name"] == "mark" and e["args"]["gc"] == g)
        stw = next(e for e in ev if e["name"] == "stw: mark termination" and e["args"]["gc"] == g)
        assert stw["ts"] <= mark["ts"] and mark["ts"] + mark["dur"] <= stw["ts"] + stw["dur"] + 1e-3
    # pause_ns is stopped-world time only: the two STW phases, not the scan
    # (the events and the pause are cut from the same clock readings, so
    # they agree to the trace's rounding whatever the machine's load)
    for g in range(1, 5):
        stw = sum(e["dur"] for e in ev if e["args"]["gc"] == g and e["name"].startswith("stw:"))
        assert abs(pauses[g - 1] / 1000 - stw) < 0.01, (g, pauses[g - 1], stw)
