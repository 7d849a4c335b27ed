"""Mutants of the collector killed under the schedule controller.

Sweeping (csrc/mgcsweep.c) keeps two classic bugs behind mutants
(csrc/mutants.h, interleavings.md section 5), switched on by name through
sched.run: sweep_double (a span claimed by load == h-2 then store h-1
instead of a CAS, so two sweepers sweep it) and finishsweep_nowait
(finishsweep_m returns while another sweeper still holds a span at h-1, so
mark would start on an unswept span); the write barrier (csrc/mbarrier.c)
keeps wb_off (no shade while the collector greys: a pointer moved from a
cleared root into an already scanned object is never marked; the wbscan
mutator stores once a marker waits for work, so one preemption, letting
it clear the roots before they are scanned, shows it).  Each must be killed by a
derandomized Hypothesis search over dense tapes within 500 examples with a
shrunk story naming the points where the bug lives and showing the span's
sweepgen relative to h; the clean build passes the same budget; the shrunk
failure replays exactly; and the bounded-exhaustive sweep over tapes with
at most `depth` preemptions finds the bug at exactly that depth.
"""

from __future__ import annotations

import pytest

from pygcrt import sched
from pygcrt._binding import lib
from pygcrt.mutation import Mutant, check_clean, check_kill, check_replay, depth_sweep
from pygcrt.runtime import Runtime

TRACE = 1024


THROW = ("throw",)

MUTANTS = [
    Mutant("sweep", "sweep_double", 2, ("sweepgen.blind.load", "sweepgen.blind.store"), THROW,
           1, "span swept twice in one cycle", ("sg=h-2",), trace=TRACE),
    Mutant("sweep", "finishsweep_nowait", 2, ("sweepgen.sweepone.claimed",), THROW,
           1, "mark would start with span#", ("sg=h-1",), trace=TRACE),
    Mutant("wbscan", "wb_off", 3, ("wbscn.root.clear", "markwb.store", "wbscn.storing"), THROW,
           1, "checkmark found unmarked object", tape=128, first_pick=True, trace=TRACE),
]


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_killed(m: Mutant) -> None:
    check_kill(m)


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_depth_by_bounded_exhaustive_sweep(m: Mutant) -> None:
    """Every tape with at most m.depth nonzero decisions: some tape shows
    the bug, and the minimal one has exactly m.depth preemptions (none when
    the decision only picks which M starts)."""
    depth_sweep(m)


@pytest.mark.parametrize("scenario,n_ms,params", [("sweep", 2, ()), ("sweep", 3, ()),
                                                  ("wbscan", 3, (2, 0)), ("wbscan", 3, (2, 1))])
def test_clean_build_survives_the_budget(scenario: str, n_ms: int,
                                         params: tuple[int, ...]) -> None:
    check_clean(Mutant(scenario, "", n_ms, (), THROW, 0, tape=128, params=params))


def test_gc_mutant_names_reach_the_registry() -> None:
    with Runtime() as rt:
        for name in ("sweep_double", "finishsweep_nowait", "wb_off", "markbit_nonatomic",
                     "none"):
            assert lib.gcrt_test_set_mutant(rt.ptr(), name.encode()) == lib.GCRT_OK
        assert lib.gcrt_test_set_mutant(rt.ptr(), b"sweep_twice") == lib.GCRT_EINVAL
    assert sched.scenarios()["sweep"].mutants == ("sweep_double", "finishsweep_nowait")
    assert sched.scenarios()["wbscan"].mutants == ("wb_off", "markbit_nonatomic")


def test_markbit_nonatomic_is_reachable_by_pct() -> None:
    """markbit_nonatomic needs the barrier's shade of O[2j+1] to land
    between a marker's load and plain store of the bitmap byte it shares
    with O[2j] (about three well-placed decisions): the dense-tape budget
    does not reach it, PCT of depth 3 does within 1500 seeded runs, and its
    story shows the stale store."""
    for seed in range(1, 1500):
        r = sched.run("wbscan", 3, mutant="markbit_nonatomic", strategy="pct", seed=seed,
                      depth=3, params=(2, 1), trace_cap=TRACE)
        if r.failed:
            break
    assert r.failed, "markbit_nonatomic survived 1500 PCT runs"
    assert "checkmark found unmarked object" in r.message, r.story()
    assert "greyobject.plain" in r.story()
    check_replay(Mutant("wbscan", "markbit_nonatomic", 3, (), THROW, 0, trace=TRACE), r)


def test_clean_build_survives_the_same_pct_runs() -> None:
    for seed in range(1, 1500):
        r = sched.run("wbscan", 3, strategy="pct", seed=seed, depth=3, params=(2, 1))
        assert not r.failed, r.story()
