"""Mutants of the goroutine side killed under the schedule controller.

The status protocol and stack copying (csrc/gstatus.c, csrc/stack.c) keep
four classic bugs behind mutants (proc.h, interleavings.md section 5),
switched on by name through sched.run (the one registry, csrc/mutants.h).  Each must be killed by a derandomized
Hypothesis search over dense tapes within 500 examples, with a shrunk story
that names the points where the bug lives; the clean build passes the same
budget; and the shrunk failure replays exactly.  Dense tapes find these
bugs in a few examples but shrink poorly here (a preemption has to move to
a later decision, which the shrinker does not try), so the depth is shown
separately: the bounded-exhaustive sweep over every tape with at most
`depth` preemptions finds the same failure.  Livelocks are called after
LIVELOCK spin steps without progress so the story still shows their cause.
"""

from __future__ import annotations

import pytest

from pygcrt import errors, sched
from pygcrt._binding import lib
from pygcrt.mutation import Mutant, check_clean, check_kill, depth_sweep
from pygcrt.runtime import Runtime

LIVELOCK = 50
TRACE = 1024  # events kept per run: the story shows the last 400
THROW = ("throw",)


def proc_mutant(scenario: str, name: str, sites: tuple[str, ...], outcome: tuple[str, ...],
                message: str, shows: tuple[str, ...] = (), tape: int = 64,
                params: tuple[int, ...] = ()) -> Mutant:
    """A goroutine-side mutant: two Ms, depth 1."""
    return Mutant(scenario, name, 2, sites, outcome, 1, message, shows, tape=tape,
                  params=params, livelock=LIVELOCK, trace=TRACE)


MUTANTS = [
    proc_mutant("gstatus", "stopg_blind_store", ("castogscanstatus.store",), THROW, "the G",
                ("Grunnable|Gscan", "Grunning")),
    proc_mutant("gstatus", "scan_miss", ("castogscanstatus.cas", "stopg.miss"), THROW,
                "scan missed a g"),
    proc_mutant("copystack", "copy_no_gcopystack", ("stack.copystack.memmove",
                                                     "schedproc.scan.work"), THROW,
                "scan saw", params=(1,)),
    # The shrink and its race come after the first growth: about 70 decisions in.
    proc_mutant("copystack", "copy_read_then_cas", ("casgcopystack.read", "casgstatus.spin"),
                ("livelock",), "livelock", tape=96, params=(1,)),
    # Only a spurious wakeup shows it: the search draws fault tapes for
    # proc.park.spurious, and no schedule is needed (depth 0).
    Mutant("park", "park_no_recheck", 1, ("FAULT proc.park.spurious", "schedpark.g.run"),
           THROW, 0, "resumed from park", armed=("proc.park.spurious",), livelock=LIVELOCK,
           trace=TRACE),
]


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_killed(m: Mutant) -> None:
    check_kill(m)


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_depth_by_bounded_exhaustive_sweep(m: Mutant) -> None:
    """Every tape with at most m.depth preemptions (each value 1..n_ms-1 at
    each decision): some tape shows the bug, and the minimal one has
    exactly m.depth preemptions."""
    depth_sweep(m)


@pytest.mark.parametrize("m", sorted({m.clean() for m in MUTANTS}, key=repr),
                         ids=lambda m: f"{m.scenario}-{m.tape}-{m.params}-{len(m.armed)}")
def test_clean_build_survives_the_budget(m: Mutant) -> None:
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
