"""The goroutine-side scenarios (csrc/schedproc.c) under the controller.

gstatus: a bare G runs, parks and is readied while a scanner claims it with
stopg every round; copystack: the same G also grows its stack (newstack
under Gcopystack) and has it shrunk while parked.  Their oracles (legal
statuses, never running under the scan bit, exactly one phase work per
round, a scan never seeing a stack mid-copy) must hold for every schedule
with at most two preemptions (copystack: over one cycle, about 90
decisions; one preemption over two) and for drawn shapes; a run is a pure function of its
inputs (the same tape twice gives the identical trace).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygcrt import errors, sched
from pygcrt.strategies import dense_tape, fault_tape, search

from schedinput import assert_rejects
from schedsweep import exhaustive

SEED = 20141105


def test_gstatus_bounded_exhaustive_two_preemptions() -> None:
    runs, fails = exhaustive("gstatus", 2, 2)
    assert runs > 500 and fails == [], fails[0].story() if fails else ""


def test_copystack_bounded_exhaustive() -> None:
    """Two preemptions over a whole one-cycle run (grow, scan, shrink, ready:
    about 18k runs), one over a two-cycle run."""
    runs, fails = exhaustive("copystack", 2, 2, params=(1,))
    assert runs > 10000 and fails == [], fails[0].story() if fails else ""
    runs, fails = exhaustive("copystack", 2, 1)
    assert runs > 150 and fails == [], fails[0].story() if fails else ""


def test_the_scanner_really_meets_the_goroutine() -> None:
    """The sweeps mean something only if schedules reach the interesting
    states: a scan of a Grunnable G, a preemption request honoured by a
    yield, a scanner waiting out a stack copy, a ready during a shrink."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    for i in range(150):
        scn = ("gstatus", "copystack")[i % 2]
        r = sched.run(scn, 3, [rng.randrange(3) for _ in range(256)])
        assert not r.failed, f"seed {SEED}: {r.story()}"
        for e in r.trace:
            if e.site == "stopg.claimed":
                seen.add(f"claimed {e.value:#x}")
            elif e.site in ("schedproc.g.unpreempt", "stopg.copystack.spin",
                            "casgcopystack.spin"):
                seen.add(e.site)
    assert {"claimed 0x1001", "claimed 0x1004", "schedproc.g.unpreempt",
            "stopg.copystack.spin"} <= seen, seen


@given(data=st.data())
@search(60, shrink=False)
def test_drawn_shapes_pass(data: st.DataObject) -> None:
    scn = data.draw(st.sampled_from(["gstatus", "copystack"]), label="scenario")
    n_ms = data.draw(st.integers(2, 3), label="n_ms")
    cycles = data.draw(st.integers(1, 3), label="cycles")
    tape = data.draw(dense_tape(n_ms, 192), label="tape")
    # Spurious CAS failures and forced stack growth (stack.morestack.force).
    faults = data.draw(fault_tape(32), label="faults")
    r = sched.run(scn, n_ms, tape, faults=faults, params=(cycles,))
    assert not r.failed, r.story()


@given(tape=dense_tape(2, 96), faults=fault_tape(48))
@search(40, shrink=False)
def test_spurious_cas_failures_keep_the_oracles(tape: list[int], faults: list[int]) -> None:
    """Injected CAS failures (stopg's claim, casgstatus, casgcopystack,
    casfromgscanstatus) are retried; nothing is scanned twice or missed."""
    for scn in ("gstatus", "copystack"):
        r = sched.run(scn, 2, tape, faults=faults)
        assert not r.failed, r.story()


CASES = [
    ("gstatus", 2, None), ("gstatus", 3, None), ("gstatus", 3, "stopg_blind_store"),
    ("gstatus", 2, "scan_miss"), ("copystack", 2, None), ("copystack", 3, None),
    ("copystack", 2, "copy_no_gcopystack"), ("copystack", 3, "copy_read_then_cas"),
]


@pytest.mark.parametrize("scenario,n_ms,mutant", CASES)
def test_same_tape_twice_gives_the_identical_trace(scenario: str, n_ms: int,
                                                    mutant: str | None) -> None:
    rng = random.Random(f"{SEED}-{scenario}-{n_ms}-{mutant}")
    for i in range(8):
        tape = [rng.randrange(n_ms) for _ in range(192)]
        faults = [int(rng.random() < 0.2) for _ in range(16)]
        kw = dict(mutant=mutant, faults=faults, params=(2,), livelock_spins=100)
        a = sched.run(scenario, n_ms, tape, **kw)
        b = sched.run(scenario, n_ms, tape, **kw)
        fa = (a.outcome, a.message, a.steps, a.tape, a.faults, a.trace_hash, a.trace)
        fb = (b.outcome, b.message, b.steps, b.tape, b.faults, b.trace_hash, b.trace)
        assert fa == fb, f"seed {SEED} run {i}: {a.schedule_string}"


def test_bad_input_raises_and_runs_go_on() -> None:
    assert_rejects(errors.IndexOutOfRange, "gstatus", 1)
    assert_rejects(errors.IndexOutOfRange, "copystack", 4)
    assert_rejects(errors.IndexOutOfRange, "gstatus", 2, params=(33,))
    assert_rejects(errors.IndexOutOfRange, "copystack", 2, params=(-1,))
    assert_rejects(errors.InvalidArgument, "copystack", 2, mutant="stopg_blind_store")
    assert sched.run("gstatus", 2, params=(32,)).outcome == "ok"
    assert sched.run("copystack", 3, params=(1,)).outcome == "ok"


def test_scenarios_are_listed_with_their_mutants() -> None:
    s = sched.scenarios()
    assert s["gstatus"].mutants == ("stopg_blind_store", "scan_miss")
    assert s["copystack"].mutants == ("copy_no_gcopystack", "copy_read_then_cas")
    assert (s["gstatus"].min_ms, s["gstatus"].max_ms) == (2, 3)
