"""Fault sites beyond CAS failures (interleavings.md 4.9), each consumed
from the run's fault tape:

  stack.morestack.force     the stack check at a function entry fails
                            although the frame fits: the G takes morestack
                            (newstack, copystack to a doubled stack) there;
  mcentral.cachespan.empty  mcentral_cachespan finds its lists empty: a
                            fresh span from the heap;
  proc.park.spurious        a parked G is made runnable with no ready for
                            its park: execute re-checks and parks it again.

Each fault demonstrably takes its slow path (the story shows ``FAULT
<site>`` and the stack size, span count or park count proves it), the
scenarios' oracles hold under drawn fault tapes, and a run with faults
replays to the identical trace.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given

from pygcrt import sched
from pygcrt.strategies import dense_tape, fault_tape, search

SEED = 20141126
MORESTACK = "stack.morestack.force"
EMPTY = "mcentral.cachespan.empty"
SPURIOUS = "proc.park.spurious"


def notes(r: sched.Result, site: str) -> list[int]:
    return [e.value for e in r.trace if e.note and e.site == site]


def pushed_before_growth(r: sched.Result) -> int:
    """Frames the G had pushed when its stack first doubled."""
    depth = 0
    for e in r.trace:
        if e.note and e.site == "schedproc.g.pushed":
            depth = e.value
        if e.note and e.site == "stack.copystack.size" and e.value == 4096:
            return depth
    raise AssertionError("the stack never grew")


def test_forced_morestack_grows_at_the_stack_check() -> None:
    """Unforced, the 2 KB stack doubles at the fourth frame; a fault at the
    first stack check doubles it before the first frame, and the frames
    that follow fit, so it grows once; the shrink takes it back."""
    plain = sched.run("copystack", 2, [], params=(1,))
    forced = sched.run("copystack", 2, [], faults=[1], armed=[MORESTACK], params=(1,))
    assert plain.outcome == forced.outcome == "ok", forced.story()
    assert pushed_before_growth(plain) == 3
    assert pushed_before_growth(forced) == 0
    assert notes(forced, "stack.copystack.size") == [4096, 2048]
    assert f"FAULT {MORESTACK}" in forced.story(10000)
    assert f"FAULT {MORESTACK}" not in plain.story(10000)
    assert forced.faults[0] == 1 and not any(plain.faults)


def test_every_forced_morestack_doubles_the_stack() -> None:
    """A fault at every stack check: each of the four pushes doubles the
    stack (2 -> 32 KB), and the scan's frame checks still hold."""
    r = sched.run("copystack", 2, [], faults=[1] * 8, armed=[MORESTACK], params=(1,))
    assert r.outcome == "ok", r.story()
    assert notes(r, "stack.copystack.size")[:4] == [4096, 8192, 16384, 32768]
    assert r.story(10000).count(f"FAULT {MORESTACK}") == 4


def test_forced_empty_list_takes_a_fresh_span() -> None:
    """The lazy sweeper's first cachespan finds its lists 'empty': the
    class grows a fourth span (the three of the setup are all it had),
    which is swept by construction and handed out; the sweep oracles
    (each span swept once, free lists exact) still hold."""
    plain = sched.run("sweep", 2, [])
    forced = sched.run("sweep", 2, [], faults=[1], armed=[EMPTY])
    assert plain.outcome == forced.outcome == "ok", forced.story()
    assert notes(plain, "mcentral.cachespan.grew") == []
    assert notes(forced, "mcentral.cachespan.grew") == [4]
    story = forced.story(10000)
    assert f"FAULT {EMPTY}" in story
    assert "span#3 sg=h" in story and "span#3" not in plain.story(10000)


def test_spurious_wakeups_park_again() -> None:
    """Every park woken spuriously: each wakeup is re-checked and parked
    again, so the sleeper still runs once per ready (K+1 steps) and
    never without one."""
    plain = sched.run("park", 1, [], params=(3,))
    r = sched.run("park", 1, [], faults=[1] * 8, armed=[SPURIOUS], params=(3,))
    assert plain.outcome == r.outcome == "ok", r.story()
    assert notes(r, "schedpark.g.run") == notes(plain, "schedpark.g.run") == [0, 1, 2, 3]
    assert len(notes(r, "proc.park.recheck")) == 3
    assert notes(plain, "proc.park.recheck") == []
    assert r.story(10000).count(f"FAULT {SPURIOUS}") == 3


def test_park_no_recheck_needs_the_fault() -> None:
    """The mutant runs a spuriously woken G: with the fault it resumes
    without a ready at once; without faults no schedule tells it apart."""
    r = sched.run("park", 1, [], faults=[1], armed=[SPURIOUS], mutant="park_no_recheck")
    assert r.outcome == "throw" and "resumed from park 1 with 0 readies" in r.message
    assert f"FAULT {SPURIOUS}" in r.story()
    rng = random.Random(SEED)
    for i in range(100):
        # Two controlled Ms: the scheduler M and the waker.
        tape = [rng.randrange(2) for _ in range(96)]
        r = sched.run("park", 1, tape, mutant="park_no_recheck")
        assert not r.failed, f"seed {SEED} run {i}: {r.story()}"


@given(tape=dense_tape(2, 96), faults=fault_tape(24, 3))
@search(40, shrink=False)
def test_oracles_hold_under_drawn_fault_tapes(tape: list[int], faults: list[int]) -> None:
    """The three sites armed together over the scenarios each lives in
    (CAS failures have their own searches in test_schedproc/test_schedgc)."""
    for scn, params in (("copystack", (2,)), ("sweep", (3,)), ("park", (3,))):
        n_ms = 1 if scn == "park" else 2
        r = sched.run(scn, n_ms, tape, faults=faults, armed=[MORESTACK, EMPTY, SPURIOUS],
                      params=params)
        assert not r.failed, r.story()


@pytest.mark.parametrize("scenario,n_ms,site", [("copystack", 2, MORESTACK),
                                                ("copystack", 3, MORESTACK),
                                                ("sweep", 3, EMPTY), ("park", 1, SPURIOUS)])
def test_runs_with_faults_replay_identically(scenario: str, n_ms: int, site: str) -> None:
    """The schedule string carries the fault tape and the armed sites
    (~F, ~A): the replay injects the same faults at the same points."""
    rng = random.Random(f"{SEED}-{scenario}-{n_ms}")
    fired = 0
    for i in range(6):
        tape = [rng.randrange(n_ms + 1) for _ in range(128)]
        faults = [int(rng.random() < 0.5) for _ in range(16)]
        a = sched.run(scenario, n_ms, tape, faults=faults, armed=[site])
        b = sched.replay(a.schedule_string)
        assert not a.failed, f"seed {SEED} run {i}: {a.story()}"
        assert (a.outcome, a.tape, a.faults, a.trace_hash, a.trace) == (
            b.outcome, b.tape, b.faults, b.trace_hash, b.trace), f"seed {SEED} run {i}"
        fired += any(a.faults)
        assert sched.parse(a.schedule_string).armed == (site,)
        assert str(sched.parse(a.schedule_string)) == a.schedule_string
    assert fired >= 3


def test_ensureswept_retries_a_spuriously_failed_claim() -> None:
    """atomic.h: a CAS may fail spuriously under a controller, and every
    caller retries.  sweepone's lost claim leaves span#0 unswept; then
    EnsureSwept's own claim fails spuriously and it waits for a sweep
    that nobody does."""
    r = sched.run("sweep", 2, [], faults=[1] * 16, livelock_spins=100,
                  armed=["ensureswept.cas_sweepgen", "sweep.cas_sweepgen"])
    assert not r.failed, r.story()
