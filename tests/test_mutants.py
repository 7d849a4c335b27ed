"""Mutation testing of the interleaving search (interleavings.md §5).

Every mutant switched on by name must be killed by a derandomized
Hypothesis search over dense tapes within 500 examples, the shrunk story
must name the points where the bug lives, and the shrunk schedule must be
shallow (at most the bug's depth plus slack).  The clean build passes the
same budget.  Mutants of runtime pieces join this table as their scenarios
land (csrc/*: SCHED_SCENARIO).
"""

from __future__ import annotations

import pytest

from pygcrt import sched
from pygcrt.mutation import BUDGET, Mutant, check_clean, check_replay, check_story, hunt

MUTANTS = [
    Mutant("counter", "racy", 2, ("counter.load", "counter.store"), ("oracle",), 1),
    Mutant("owned", "racy", 2, ("owned.store", "owned.check"), ("throw",), 2),
    Mutant("locks", "abba", 2, ("locks.second", "lock.wait"), ("deadlock",), 1),
    Mutant("lfstack", "lf_aba", 2, ("lfstack.pop.cas",), ("throw", "oracle"), 2),
    # The markers wait before the root scanner's work lands on partial; with
    # the seed's loop they never look there: every marker spins forever.
    Mutant("rootscan", "getfull_partial", 2,
           ("work.put.partial", "getfull.wait", "partial not looked at", "note.wait"),
           ("livelock",), 0),
    # A pushed node is linked after the CAS that published it: a popper
    # takes the stale next and the stack loses or duplicates nodes.
    Mutant("lfstack", "lf_next_after_cas", 2, ("lfstack.push.cas", "lfstack.pop.next"),
           ("throw", "oracle"), 1),
    # Empty buffers are freed (poisoned) instead of staying type-stable: a
    # popper parked after reading a buffer as head reads its freed next.
    Mutant("getfull", "lf_free_node", 3,
           ("lfstack.pop.next", "putempty.free.poison", "next of a freed node"),
           ("throw",), 1, params=(7, 2)),
    # A waiter takes a buffer while still counted in nwait: the other marker
    # sees nwait == nproc and ends the mark with work in the waiter's hands.
    Mutant("getfull", "getfull_order", 2,
           ("getfull.visible", "getfull.nwait_dec", "nwait=2/2", "early termination"),
           ("throw",), 2, params=(5,)),
    # A thief stores the victim's shrunk range blindly, undoing a claim the
    # victim made after the thief read the range: that iteration runs twice.
    Mutant("parfor", "parfor_blind_steal", 2,
           ("parfor.steal.saw", "parfor.steal.cas", "parfor.claimed", "ran 2 times"),
           ("oracle",), 2, params=(4,)),
]


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_killed(m: Mutant) -> None:
    s = hunt(m)
    assert s.shrunk is not None, f"{m.name} survived {BUDGET} examples"
    # Hypothesis shrinks a tape decision by decision; removing a preemption
    # shifts every later decision onto other steps, so it can stop above the
    # minimum.  sched.minimize then drops detours (a preemption with its
    # switch back), and sched.simplest searches all schedules with fewer
    # preemptions (bounded-exhaustive) for the same outcome.
    shrunk = s.shrunk
    r = sched.simplest(sched.minimize(shrunk), max_runs=4000)
    print(f"{m.scenario}/{m.name}: killed after {s.first_kill} examples, "
          f"shrunk to {shrunk.preemptions} preemptions, simplest {r.preemptions}")
    for res in (shrunk, r):
        check_story(m, res)
    assert r.preemptions == m.depth, r.story()
    check_replay(m, r)


@pytest.mark.parametrize("m", sorted({m.clean() for m in MUTANTS}, key=repr),
                         ids=lambda m: f"{m.scenario}-{m.n_ms}-{m.params}")
def test_clean_build_survives_the_budget(m: Mutant) -> None:
    check_clean(m)
