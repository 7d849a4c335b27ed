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
it clear the roots before they are scanned, shows it); greyobject keeps
markbit_nonatomic (a plain read-modify-write of a bitmap byte two markers
share: the markbits scenario's one preemption between a marker's read and
its store loses the other marker's mark; wbscan reaches it only by PCT).  Each must be killed by a
derandomized Hypothesis search over dense tapes within 500 examples with a
shrunk story naming the points where the bug lives and showing the span's
sweepgen relative to h; the clean build passes the same budget; the shrunk
failure replays exactly; and the bounded-exhaustive sweep over tapes with
at most `depth` preemptions finds the bug at exactly that depth.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given, note

from pygcrt import sched
from pygcrt._binding import lib
from pygcrt.runtime import Runtime
from pygcrt.strategies import dense_tape, search

BUDGET = 500
TRACE = 1024


@dataclass(frozen=True)
class Mutant:
    scenario: str
    name: str
    n_ms: int
    sites: tuple[str, ...]  # points the shrunk story must mention
    message: str  # part of the failure message
    depth: int  # nonzero decisions in a minimal schedule
    shows: tuple[str, ...] = ()  # decoded values the story must show
    tape: int = 64
    params: tuple[int, ...] = ()
    first_pick: bool = False  # the one decision picks the first M (not a preemption)


MUTANTS = [
    Mutant("sweep", "sweep_double", 2, ("sweepgen.blind.load", "sweepgen.blind.store"),
           "span swept twice in one cycle", 1, ("sg=h-2",)),
    Mutant("sweep", "finishsweep_nowait", 2, ("sweepgen.sweepone.claimed",),
           "mark would start with span#", 1, ("sg=h-1",)),
    Mutant("wbscan", "wb_off", 3, ("wbscn.root.clear", "markwb.store", "wbscn.storing"),
           "checkmark found unmarked object", 1, tape=128, first_pick=True),
    Mutant("markbits", "markbit_nonatomic", 2, ("greyobject.plain", "mbscn.grey"),
           "(greyed by M1) is unmarked", 1),
]


@dataclass
class Search:
    examples: int = 0
    first_kill: int = 0
    shrunk: sched.Result | None = None


def hunt(m: Mutant, mutant: str | None) -> Search:
    s = Search()

    @search(BUDGET)
    @given(tape=dense_tape(m.n_ms, m.tape))
    def prop(tape: list[int]) -> None:
        s.examples += 1
        r = sched.run(m.scenario, m.n_ms, tape, mutant=mutant, params=m.params,
                      trace_cap=TRACE)
        if r.failed:
            s.first_kill = s.first_kill or s.examples
            s.shrunk = r
            note(r.story())
        assert not r.failed, r.message

    try:
        prop()
    except AssertionError:
        pass
    return s


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: f"{m.scenario}-{m.name}")
def test_mutant_is_killed(m: Mutant) -> None:
    s = hunt(m, m.name)
    assert s.shrunk is not None, f"{m.name} survived {BUDGET} examples"
    print(f"{m.scenario}/{m.name}: killed after {s.first_kill} examples")
    r = s.shrunk
    story = r.story()
    assert r.outcome == "throw", story
    assert m.message in r.message, story
    for site in m.sites + m.shows:
        assert site in story, f"{site} not in\n{story}"
    again = sched.replay(r.schedule_string, trace_cap=TRACE)
    assert (again.outcome, again.message, again.trace_hash) == (r.outcome, r.message,
                                                                r.trace_hash)


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: f"{m.scenario}-{m.name}")
def test_mutant_depth_by_bounded_exhaustive_sweep(m: Mutant) -> None:
    """Every tape with at most m.depth nonzero decisions: some tape shows
    the bug, and the minimal one has exactly m.depth preemptions (none when
    the decision only picks which M starts)."""
    n = max(len(sched.run(m.scenario, m.n_ms, [v] * 512, mutant=m.name,
                          params=m.params).tape)
            for v in range(m.n_ms)) + 8
    found: list[sched.Result] = []
    for k in range(m.depth + 1):
        for pos in itertools.combinations(range(n), k):
            for vals in itertools.product(range(1, m.n_ms), repeat=k):
                tape = [0] * n
                for p, v in zip(pos, vals):
                    tape[p] = v
                r = sched.run(m.scenario, m.n_ms, tape, mutant=m.name, params=m.params)
                if r.failed and m.message in r.message:
                    found.append(r)
        if found:
            break
    assert found, f"{m.name}: no tape with <= {m.depth} preemptions shows it"
    best = min(found, key=lambda r: r.preemptions)
    assert best.preemptions == (0 if m.first_pick else m.depth), best.story()


@pytest.mark.parametrize("scenario,n_ms,params", [("sweep", 2, ()), ("sweep", 3, ()),
                                                  ("wbscan", 3, (2, 0)), ("wbscan", 3, (2, 1)),
                                                  ("markbits", 2, (4,))])
def test_clean_build_survives_the_budget(scenario: str, n_ms: int,
                                         params: tuple[int, ...]) -> None:
    m = Mutant(scenario, "", n_ms, (), "", 0, tape=128, params=params)
    s = hunt(m, None)
    assert s.shrunk is None, s.shrunk.story() if s.shrunk else ""
    assert s.examples >= 100


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
    again = sched.replay(r.schedule_string, trace_cap=TRACE)
    assert (again.outcome, again.message, again.trace_hash) == (r.outcome, r.message,
                                                                r.trace_hash)


def test_clean_build_survives_the_same_pct_runs() -> None:
    for seed in range(1, 1500):
        r = sched.run("wbscan", 3, strategy="pct", seed=seed, depth=3, params=(2, 1))
        assert not r.failed, r.story()
