"""Mutants of the collector killed under the schedule controller.

Sweeping (csrc/mgcsweep.c) keeps two classic bugs behind mutants
(csrc/mutants.h, interleavings.md section 5), switched on by name through
sched.run: sweep_double (a span claimed by load == h-2 then store h-1
instead of a CAS, so two sweepers sweep it) and finishsweep_nowait
(finishsweep_m returns while another sweeper still holds a span at h-1, so
mark would start on an unswept span), and bgsweep_nostop (the background
sweeper sweeps outside the world, so a collection's stop does not wait for
the span it has published at h but not yet given back to the heap, and the
mark would start with that garbage span in use); the write barrier (csrc/mbarrier.c)
keeps wb_off (no shade while the collector greys: a pointer moved from a
cleared root into an already scanned object is never marked; the wbscan
mutator stores once a marker waits for work, so one preemption, letting
it clear the roots before they are scanned, shows it); greyobject keeps
markbit_nonatomic (a plain read-modify-write of a bitmap byte two markers
share: the markbits scenario's one preemption between a marker's read and
its store loses the other marker's mark; wbscan reaches it only by PCT).
Each must be killed by a derandomized Hypothesis search over dense tapes
within 500 examples with a
shrunk story naming the points where the bug lives and showing the span's
sweepgen relative to h; the clean build passes the same budget; the shrunk
failure replays exactly; and the bounded-exhaustive sweep over tapes with
at most `depth` preemptions finds the bug at exactly that depth.
"""

from __future__ import annotations

import pytest

from pygcrt import mutation, sched
from pygcrt._binding import lib
from pygcrt.mutation import check_clean, check_kill, check_replay, depth_sweep
from pygcrt.runtime import Runtime

TRACE = 1024


def Mutant(scenario: str, name: str, n_ms: int, sites: tuple[str, ...],  # noqa: N802
           message: str, depth: int, shows: tuple[str, ...] = (), tape: int = 64,
           params: tuple[int, ...] = (), first_pick: bool = False) -> mutation.Mutant:
    """A row of the table: a collector mutant, killed by a throw whose
    message contains message; depth = nonzero decisions in a minimal
    schedule; first_pick: the one decision picks the first M (not a
    preemption)."""
    return mutation.Mutant(scenario, name, n_ms, sites, ("throw",), depth, message, shows,
                           tape=tape, params=params, first_pick=first_pick, trace=TRACE)


MUTANTS = [
    Mutant("sweep", "sweep_double", 2, ("sweepgen.blind.load", "sweepgen.blind.store"),
           "span swept twice in one cycle", 1, ("sg=h-2",)),
    Mutant("sweep", "finishsweep_nowait", 2, ("sweepgen.sweepone.claimed",),
           "mark would start with span#", 1, ("sg=h-1",)),
    Mutant("sweepstop", "bgsweep_nostop", 2, ("sweep.store_sweepgen", "world.stop"),
           "mark would start with span#", 1, ("sg=h-0",)),
    Mutant("wbscan", "wb_off", 3, ("wbscn.root.clear", "markwb.store", "wbscn.storing"),
           "checkmark found unmarked object", 1, tape=128, first_pick=True),
    Mutant("markbits", "markbit_nonatomic", 2, ("greyobject.plain", "mbscn.grey"),
           "(greyed by M1) is unmarked", 1),
]


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_killed(m: mutation.Mutant) -> None:
    check_kill(m)


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.id)
def test_mutant_depth_by_bounded_exhaustive_sweep(m: mutation.Mutant) -> None:
    """Every tape with at most m.depth nonzero decisions: some tape shows
    the bug, and the minimal one has exactly m.depth preemptions (none when
    the decision only picks which M starts)."""
    depth_sweep(m)


@pytest.mark.parametrize("scenario,n_ms,params", [("sweep", 2, ()), ("sweep", 3, ()),
                                                  ("sweepstop", 2, (1, 1)),
                                                  ("wbscan", 3, (2, 0)), ("wbscan", 3, (2, 1)),
                                                  ("markbits", 2, (4,))])
def test_clean_build_survives_the_budget(scenario: str, n_ms: int,
                                         params: tuple[int, ...]) -> None:
    check_clean(Mutant(scenario, "", n_ms, (), "", 0, tape=128, params=params))


def test_gc_mutant_names_reach_the_registry() -> None:
    with Runtime() as rt:
        for name in ("sweep_double", "finishsweep_nowait", "bgsweep_nostop", "wb_off",
                     "markbit_nonatomic", "none"):
            assert lib.gcrt_test_set_mutant(rt.ptr(), name.encode()) == lib.GCRT_OK
        assert lib.gcrt_test_set_mutant(rt.ptr(), b"sweep_twice") == lib.GCRT_EINVAL
    assert sched.scenarios()["sweep"].mutants == ("sweep_double", "finishsweep_nowait")
    assert sched.scenarios()["sweepstop"].mutants == ("bgsweep_nostop",)
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
    check_replay(Mutant("wbscan", "markbit_nonatomic", 3, (), "", 0), r)


def test_clean_build_survives_the_same_pct_runs() -> None:
    for seed in range(1, 1500):
        r = sched.run("wbscan", 3, strategy="pct", seed=seed, depth=3, params=(2, 1))
        assert not r.failed, r.story()
