"""Mutants of the goroutine side killed under the schedule controller.

The status protocol and stack copying (csrc/gstatus.c, csrc/stack.c) keep
four classic bugs behind mutants (csrc/mutants.h, interleavings.md
section 5), and the scheduler's park (csrc/proc.c) one more, switched on by
name through sched.run (one registry for every piece).  Each must be
killed by a derandomized Hypothesis search over dense tapes (with fault
tapes for park_no_recheck, which only a spurious wakeup exposes) within 500
examples, with a shrunk story that names the points where the bug lives;
the clean build passes the same budget; and the shrunk failure replays
exactly.  Dense tapes find these bugs in a few examples but shrink poorly
here (a preemption has to move to a later decision, which the shrinker
does not try), so the depth is shown separately: the bounded-exhaustive
sweep over every tape with at most `depth` preemptions finds the same
failure.  Livelocks are called after LIVELOCK spin steps without progress
so the story still shows their cause.
"""

from __future__ import annotations

import pytest

from pygcrt import errors, mutation, sched
from pygcrt._binding import lib
from pygcrt.mutation import check_clean, check_kill, depth_sweep
from pygcrt.runtime import Runtime

LIVELOCK = 50
TRACE = 1024  # events kept per run: the story shows the last 400


def Mutant(scenario: str, name: str, n_ms: int, sites: tuple[str, ...],  # noqa: N802
           outcome: str, message: str, depth: int, shows: tuple[str, ...] = (),
           tape: int = 64, params: tuple[int, ...] = (),
           armed: tuple[str, ...] = ()) -> mutation.Mutant:
    """A row of the table: depth = preemptions in a minimal schedule, tape
    = decisions drawn (later ones are 0), params = the scenario's (cycles),
    armed = fault sites the search injects at."""
    return mutation.Mutant(scenario, name, n_ms, sites, (outcome,), depth, message, shows,
                           tape=tape, params=params, armed=armed, livelock=LIVELOCK,
                           trace=TRACE)


MUTANTS = [
    Mutant("gstatus", "stopg_blind_store", 2, ("castogscanstatus.store",), "throw",
           "the G", 1, ("Grunnable|Gscan", "Grunning")),
    Mutant("gstatus", "scan_miss", 2, ("castogscanstatus.cas", "stopg.miss"), "throw",
           "scan missed a g", 1),
    Mutant("copystack", "copy_no_gcopystack", 2, ("stack.copystack.memmove",
                                                  "schedproc.scan.work"), "throw",
           "scan saw", 1, params=(1,)),
    # The shrink and its race come after the first growth: about 70 decisions in.
    Mutant("copystack", "copy_read_then_cas", 2, ("casgcopystack.read", "casgstatus.spin"),
           "livelock", "livelock", 1, tape=96, params=(1,)),
    # Only a spurious wakeup shows it: the search draws fault tapes for
    # proc.park.spurious, and no schedule is needed (depth 0).
    Mutant("park", "park_no_recheck", 1, ("FAULT proc.park.spurious", "schedpark.g.run"),
           "throw", "resumed from park", 0, armed=("proc.park.spurious",)),
]


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_killed(m: mutation.Mutant) -> None:
    check_kill(m)


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_depth_by_bounded_exhaustive_sweep(m: mutation.Mutant) -> None:
    """Every tape with at most m.depth preemptions (each value 1..n_ms-1 at
    each decision): some tape shows the bug, and the minimal one has
    exactly m.depth preemptions."""
    depth_sweep(m)


@pytest.mark.parametrize("m", sorted({m.clean() for m in MUTANTS}, key=repr),
                         ids=lambda m: f"{m.scenario}-{m.tape}-{m.params}-{len(m.armed)}")
def test_clean_build_survives_the_budget(m: mutation.Mutant) -> None:
    check_clean(m)


def test_mutant_names_reach_the_one_registry() -> None:
    """Goroutine-side and work-list names are one registry's; a name it
    does not know is refused, and the runtime stays usable."""
    names = sched.mutants()
    with Runtime() as rt:
        for name in ("copy_read_then_cas", "stopg_blind_store", "scan_miss",
                     "copy_no_gcopystack", "park_no_recheck", "lf_aba", "none"):
            assert name == "none" or name in names
            assert lib.gcrt_test_set_mutant(rt.ptr(), name.encode()) == lib.GCRT_OK
        assert lib.gcrt_test_set_mutant(rt.ptr(), b"scan_missed") == lib.GCRT_EINVAL
        assert not rt.failed
    assert len(set(names)) == len(names) >= 15
    with pytest.raises(errors.InvalidArgument):
        sched.run("gstatus", 2, mutant="lf_aba")
    assert sched.run("gstatus", 2).outcome == "ok"
