"""The collector scenarios (csrc/schedgc.c) under the controller.

sweep: spans at h-2 are swept concurrently by sweepone (the background
sweeper), mcentral's lazy sweep and MSpan_EnsureSwept, then finishsweep_m
must leave no span unswept.  Its oracles (sweepgen always in {h-2, h-1, h},
each span swept exactly once, the free lists exactly the unmarked objects,
marks cleared) must hold for every schedule with at most two preemptions
(two Ms) or one (three Ms), and for drawn shapes; a run is a pure function
of its inputs (the same tape twice gives the identical trace).

sweepstop: the background sweeper empties spans and gives them back to the
heap while a collection stops the world, finishes the sweep, starts a new
generation and sweeps it.  Where the mark would start, every span (all
garbage) must be back in the heap: the stop waits for the span the
background sweeper has in hand, which has published h before its
MHeap_Free (else the next generation sweeps it again: "MCentral_FreeSpan:
freed more objects than allocated").  Each span is swept exactly once and
the heap walk holds, for every schedule with at most two preemptions.

wbscan: two markers mark concurrently (parfor over the roots, drain through
getfull) while a mutator moves pointers from cleared roots into a heap
object through the write barrier; then the stopped world's mark
termination and the checkmark.  Every reachable object must be marked for
every schedule with at most one nonzero decision, under both mutator gates,
and for drawn tapes.
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

SEED = 20141106


def test_sweep_bounded_exhaustive_two_preemptions() -> None:
    runs, fails = exhaustive("sweep", 2, 2, slack=32)
    assert runs > 1000 and fails == [], fails[0].story() if fails else ""


def test_sweep_three_ms_bounded_exhaustive_one_preemption() -> None:
    runs, fails = exhaustive("sweep", 3, 1, slack=32)
    assert runs > 100 and fails == [], fails[0].story() if fails else ""


@pytest.mark.parametrize("params", [(1, 0), (1, 1), (0, 2)])
def test_sweepstop_bounded_exhaustive_two_preemptions(params: tuple[int, ...]) -> None:
    runs, fails = exhaustive("sweepstop", 2, 2, params=params, slack=48)
    assert runs > 1500 and fails == [], fails[0].story() if fails else ""


def test_sweepstop_stop_meets_the_sweeper() -> None:
    """The oracle means something only if schedules reach the race: the
    collector's stop waits for the background sweeper in the middle of a
    span, and the sweeper waits for the collection to end."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    for i in range(100):
        r = sched.run("sweepstop", 2, [rng.randrange(2) for _ in range(128)],
                      params=(1 + i % 3, i % 3), trace_cap=1024)
        assert not r.failed, f"seed {SEED}: {r.story()}"
        sites = [e.site for e in r.trace]
        if "world.stop.nmutators" in sites and sites.count("world.stop.nmutators") > 1:
            seen.add("stop waited")
        if "world.enter.dec" in sites:
            seen.add("sweeper waited")
    assert seen == {"stop waited", "sweeper waited"}, seen


@pytest.mark.parametrize("gate", [0, 1])
def test_wbscan_bounded_exhaustive_one_preemption(gate: int) -> None:
    runs, fails = exhaustive("wbscan", 3, 1, params=(2, gate), slack=32)
    assert runs > 300 and fails == [], fails[0].story() if fails else ""


@given(data=st.data())
@search(60, shrink=False)
def test_wbscan_drawn_shapes_pass(data: st.DataObject) -> None:
    k = data.draw(st.integers(1, 4), label="pairs")
    gate = data.draw(st.integers(0, 1), label="gate")
    tape = data.draw(dense_tape(3, 256), label="tape")
    r = sched.run("wbscan", 3, tape, params=(k, gate))
    assert not r.failed, r.story()


def test_wbscan_stores_meet_the_mark() -> None:
    """The barrier shades during the mark: the mutator's stores happen
    while the collector greys (phase GCmark), and some land while a marker
    waits in getfull."""
    rng = random.Random(SEED)
    stores = 0
    for i in range(60):
        r = sched.run("wbscan", 3, [rng.randrange(3) for _ in range(256)], params=(2, i % 2))
        assert not r.failed, f"seed {SEED}: {r.story()}"
        stores += sum(e.site == "markwb.store" for e in r.trace)
    assert stores >= 60 * 2


def test_the_sweepers_really_meet() -> None:
    """The oracles mean something only if schedules reach the races: a
    span seen mid-sweep (h-1), EnsureSwept waiting for another sweeper,
    finishsweep_m waiting for one, each sweeper winning some span."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    for i in range(200):
        n_ms = 2 + i % 2
        r = sched.run("sweep", n_ms, [rng.randrange(n_ms) for _ in range(128)],
                      params=(3, i))
        assert not r.failed, f"seed {SEED}: {r.story()}"
        for e in r.trace:
            if e.site == "sweepgen.scn.seen" and e.value & 0xFFFFFFFF == 1:
                seen.add("seen h-1")
            elif e.site in ("ensureswept.spin", "sweepgen.finishsweep.wait",
                            "sweepgen.sweepone.claimed", "sweepgen.ensureswept.claimed"):
                seen.add(e.site)
            elif e.site == "sweep.cas_sweepgen" and e.m == 1:
                seen.add("lazy claim")
    assert {"ensureswept.spin", "sweepgen.finishsweep.wait", "sweepgen.sweepone.claimed",
            "sweepgen.ensureswept.claimed", "lazy claim"} <= seen, seen


@given(data=st.data())
@search(60, shrink=False)
def test_drawn_shapes_pass(data: st.DataObject) -> None:
    n_ms = data.draw(st.integers(2, 3), label="n_ms")
    spans = data.draw(st.integers(1, 6), label="spans")
    seed = data.draw(st.integers(0, 5), label="seed")
    tape = data.draw(dense_tape(n_ms, 160), label="tape")
    faults = data.draw(fault_tape(32), label="faults")
    r = sched.run("sweep", n_ms, tape, faults=faults, params=(spans, seed))
    assert not r.failed, r.story()




@given(tape=dense_tape(2, 96), faults=fault_tape(48))
@search(40, shrink=False)
def test_spurious_cas_failures_keep_the_oracles(tape: list[int], faults: list[int]) -> None:
    """A spuriously failing claim CAS is a lost claim, never a double one;
    the forced empty central list (a fresh span) is armed too."""
    r = sched.run("sweep", 2, tape, faults=faults)
    assert not r.failed, r.story()


CASES = [("sweep", 2, None), ("sweep", 3, None), ("sweep", 2, "sweep_double"),
         ("sweep", 3, "finishsweep_nowait"), ("sweepstop", 2, None),
         ("sweepstop", 2, "bgsweep_nostop"), ("wbscan", 3, None), ("wbscan", 3, "wb_off")]


@pytest.mark.parametrize("scenario,n_ms,mutant", CASES)
def test_same_tape_twice_gives_the_identical_trace(scenario: str, n_ms: int,
                                                    mutant: str | None) -> None:
    rng = random.Random(f"{SEED}-{scenario}-{n_ms}-{mutant}")
    for i in range(8):
        tape = [rng.randrange(n_ms) for _ in range(160)]
        faults = [int(rng.random() < 0.2) for _ in range(16)]
        kw = dict(mutant=mutant, faults=faults, params=(4, i % 2))
        a = sched.run(scenario, n_ms, tape, **kw)
        b = sched.run(scenario, n_ms, tape, **kw)
        fa = (a.outcome, a.message, a.steps, a.tape, a.faults, a.trace_hash, a.trace)
        fb = (b.outcome, b.message, b.steps, b.tape, b.faults, b.trace_hash, b.trace)
        assert fa == fb, f"seed {SEED} run {i}: {a.schedule_string}"


OUT_OF_RANGE = [("sweep", 1, ()), ("sweep", 4, ()), ("sweep", 2, (9,)), ("sweep", 2, (-1,)),
                ("sweepstop", 3, ()), ("sweepstop", 2, (9,)), ("sweepstop", 2, (1, 3)),
                ("sweepstop", 2, (1, -1)), ("wbscan", 2, ()), ("wbscan", 3, (9,)),
                ("wbscan", 3, (2, 2))]


def test_bad_input_raises_and_runs_go_on() -> None:
    for scenario, n_ms, params in OUT_OF_RANGE:
        assert_rejects(errors.IndexOutOfRange, scenario, n_ms, params=params)
    assert_rejects(errors.InvalidArgument, "sweep", 2, mutant="scan_miss")
    assert sched.run("sweep", 2, params=(8,)).outcome == "ok"
    assert sched.run("sweep", 3, params=(1,)).outcome == "ok"
    assert sched.run("sweepstop", 2, params=(8, 2)).outcome == "ok"
    assert sched.run("wbscan", 3, params=(8, 1)).outcome == "ok"


def test_sweep_is_listed_with_its_mutants() -> None:
    s = sched.scenarios()["sweep"]
    assert s.mutants == ("sweep_double", "finishsweep_nowait")
    assert (s.min_ms, s.max_ms) == (2, 3)


def test_sweepstop_is_listed_with_its_mutant() -> None:
    s = sched.scenarios()["sweepstop"]
    assert s.mutants == ("bgsweep_nostop",)
    assert (s.min_ms, s.max_ms) == (2, 2)
