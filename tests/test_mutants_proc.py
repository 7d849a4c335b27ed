"""Mutants of the goroutine side killed under the schedule controller.

The status protocol and stack copying (csrc/gstatus.c, csrc/stack.c) keep
four classic bugs behind mutants (proc.h, interleavings.md section 5),
switched on by name through sched.run, which hands the name to whichever
runtime registry knows it.  Each must be killed by a derandomized
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

from dataclasses import dataclass

import itertools

import pytest
from hypothesis import given, note

from pygcrt import errors, sched
from pygcrt._binding import lib
from pygcrt.runtime import Runtime
from pygcrt.strategies import dense_tape, search

BUDGET = 500
LIVELOCK = 50
TRACE = 1024  # events kept per run: the story shows the last 400


@dataclass(frozen=True)
class Mutant:
    scenario: str
    name: str
    n_ms: int
    sites: tuple[str, ...]  # points the shrunk story must mention
    outcome: str
    message: str  # part of the failure message
    depth: int  # preemptions in a minimal schedule
    shows: tuple[str, ...] = ()  # decoded values the story must show
    tape: int = 64  # decisions drawn (later ones are 0)
    params: tuple[int, ...] = ()  # scenario parameters of the search (cycles)


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
]


@dataclass
class Search:
    examples: int = 0
    first_kill: int = 0
    shrunk: sched.Result | None = None


def hunt(scenario: str, n_ms: int, mutant: str | None, length: int,
         params: tuple[int, ...]) -> Search:
    s = Search()

    @search(BUDGET)
    @given(tape=dense_tape(n_ms, length))
    def prop(tape: list[int]) -> None:
        s.examples += 1
        r = sched.run(scenario, n_ms, tape, mutant=mutant, params=params,
                      livelock_spins=LIVELOCK, trace_cap=TRACE)
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
    s = hunt(m.scenario, m.n_ms, m.name, m.tape, m.params)
    assert s.shrunk is not None, f"{m.name} survived {BUDGET} examples"
    print(f"{m.scenario}/{m.name}: killed after {s.first_kill} examples")
    r = s.shrunk
    story = r.story()
    assert r.outcome == m.outcome, story
    assert m.message in r.message, story
    for site in m.sites + m.shows:
        assert site in story, f"{site} not in\n{story}"
    again = sched.replay(r.schedule_string, livelock_spins=LIVELOCK, trace_cap=TRACE)
    assert (again.outcome, again.message, again.trace_hash) == (r.outcome, r.message,
                                                                r.trace_hash)


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: f"{m.scenario}-{m.name}")
def test_mutant_depth_by_bounded_exhaustive_sweep(m: Mutant) -> None:
    """Every tape with at most m.depth preemptions (each value 1..n_ms-1 at
    each decision): some tape shows the bug, and the minimal one has
    exactly m.depth preemptions."""
    kw = dict(mutant=m.name, livelock_spins=LIVELOCK)
    n = max(len(sched.run(m.scenario, m.n_ms, [v] * 512, **kw).tape)
            for v in range(m.n_ms)) + 8
    found: list[sched.Result] = []
    for k in range(m.depth + 1):
        for pos in itertools.combinations(range(n), k):
            for vals in itertools.product(range(1, m.n_ms), repeat=k):
                tape = [0] * n
                for p, v in zip(pos, vals):
                    tape[p] = v
                r = sched.run(m.scenario, m.n_ms, tape, **kw)
                if r.failed and m.message in r.message:
                    found.append(r)
        if found:
            break
    assert found, f"{m.name}: no tape with <= {m.depth} preemptions shows it"
    best = min(found, key=lambda r: r.preemptions)
    assert best.preemptions == m.depth, best.story()
    assert best.outcome == m.outcome, best.story()


@pytest.mark.parametrize("scenario,n_ms,length,params",
                         sorted({(m.scenario, m.n_ms, m.tape, m.params) for m in MUTANTS}))
def test_clean_build_survives_the_budget(scenario: str, n_ms: int, length: int,
                                         params: tuple[int, ...]) -> None:
    s = hunt(scenario, n_ms, None, length, params)
    assert s.shrunk is None, s.shrunk.story() if s.shrunk else ""
    assert s.examples >= 100


def test_mutant_names_reach_both_registries() -> None:
    """Goroutine-side names are the proc registry's, work-list names the
    work registry's; a name neither knows is refused."""
    with Runtime() as rt:
        for name in ("copy_read_then_cas", "stopg_blind_store", "scan_miss",
                     "copy_no_gcopystack", "none"):
            assert lib.gcrt_test_proc_mutant(rt.ptr(), name.encode()) == lib.GCRT_OK
        assert lib.gcrt_test_proc_mutant(rt.ptr(), b"lf_aba") == lib.GCRT_EINVAL
        assert lib.gcrt_test_set_mutant(rt.ptr(), b"scan_miss") == lib.GCRT_EINVAL
    with pytest.raises(errors.InvalidArgument):
        sched.run("gstatus", 2, mutant="lf_aba")
    assert sched.run("gstatus", 2).outcome == "ok"
