"""Mutation testing of the interleaving search (interleavings.md section 5).

A :class:`Mutant` names a bug kept in the runtime (csrc/mutants.h, or a
toy scenario's own), the controlled scenario that should kill it, and what
its shrunk story must show.  :func:`hunt` runs the derandomized Hypothesis
search over dense tapes (and, for bugs only a fault exposes, fault tapes)
and keeps the shrunk failure; :func:`check_kill` asserts the failure is the
expected one and replays exactly; :func:`depth_sweep` is the bounded-
exhaustive search for the bug's depth.  The tests/test_mutants*.py tables
drive them; the clean build must survive the same budget.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from . import sched
from .strategies import bounded_preemptions, dense_tape, fault_tape, search

BUDGET = 500


@dataclass(frozen=True)
class Mutant:
    scenario: str
    name: str
    n_ms: int
    sites: tuple[str, ...]  # points the shrunk story must mention
    outcome: tuple[str, ...]  # acceptable outcomes of the kill
    depth: int  # preemptions in a minimal schedule
    message: str = ""  # part of the failure message
    shows: tuple[str, ...] = ()  # decoded values the story must show
    tape: int = 64  # decisions drawn (later ones are 0)
    params: tuple[int, ...] = ()
    first_pick: bool = False  # the one decision picks the first M (not a preemption)
    armed: tuple[str, ...] = ()  # fault sites the search injects at (none: no faults)
    livelock: int = 0  # spin steps without progress before a livelock (0: default)
    trace: int = 0  # trace events kept (0: default)
    # (preemptions, gap): search sparse tapes, at most that many preemptions
    # about gap decisions apart, instead of dense ones: for scenarios whose
    # runs are thousands of decisions long, where shrinking a dense tape
    # takes minutes and a sparse one a few dozen runs
    sparse: tuple[int, ...] = ()
    fault_one_in: int = 2  # chance of a fault at an armed site, 1 in this
    search_trace: int = 0  # trace events kept while searching (0: as trace)

    @property
    def id(self) -> str:
        return f"{self.scenario}-{self.name}"

    def run_kw(self) -> dict[str, Any]:
        """sched.run keywords every run of this mutant's search uses."""
        kw: dict[str, Any] = {"params": self.params, "livelock_spins": self.livelock,
                              "trace_cap": self.trace}
        if self.armed:
            kw["armed"] = list(self.armed)
        return kw

    def clean(self) -> Mutant:
        """The same search on the clean build."""
        return Mutant(self.scenario, "", self.n_ms, (), (), 0, tape=self.tape,
                      params=self.params, armed=self.armed, livelock=self.livelock,
                      trace=self.trace)


@dataclass
class Search:
    examples: int = 0
    first_kill: int = 0
    shrunk: sched.Result | None = None


def hunt(m: Mutant, budget: int = BUDGET) -> Search:
    """The derandomized search for m (m.name None or "" = clean build)."""
    s = Search()
    tapes = bounded_preemptions(m.n_ms, *m.sparse) if m.sparse else dense_tape(m.n_ms, m.tape)
    faults = fault_tape(16, m.fault_one_in) if m.armed else st.just([])
    kw = m.run_kw()
    if m.search_trace:
        kw["trace_cap"] = m.search_trace

    @search(budget)
    @given(tape=tapes, faults=faults)
    def prop(tape: list[int], faults: list[int]) -> None:
        s.examples += 1
        r = sched.run(m.scenario, m.n_ms, tape, faults=faults, mutant=m.name or None, **kw)
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


def check_story(m: Mutant, r: sched.Result) -> None:
    """r failed the way m fails, and its story names m's points and values."""
    story = r.story()
    assert r.outcome in m.outcome, story
    assert m.message in r.message, story
    for site in m.sites + m.shows:
        assert site in story, f"{site} not in\n{story}"


def check_replay(m: Mutant, r: sched.Result) -> None:
    """r's schedule string replays to the identical run."""
    again = sched.replay(r.schedule_string, **{k: v for k, v in m.run_kw().items()
                                               if k != "params"})
    assert (again.outcome, again.message, again.trace_hash) == (r.outcome, r.message,
                                                                r.trace_hash)


def check_kill(m: Mutant) -> sched.Result:
    """m dies within the budget, its shrunk failure is the expected one
    and replays exactly; returns the shrunk failure."""
    s = hunt(m)
    assert s.shrunk is not None, f"{m.name} survived {BUDGET} examples"
    print(f"{m.scenario}/{m.name}: killed after {s.first_kill} examples")
    check_story(m, s.shrunk)
    check_replay(m, s.shrunk)
    return s.shrunk


def check_clean(m: Mutant) -> None:
    """The clean build survives m's search."""
    s = hunt(m.clean())
    assert s.shrunk is None, s.shrunk.story() if s.shrunk else ""
    assert s.examples >= 100


def depth_sweep(m: Mutant) -> sched.Result:
    """Every tape with at most m.depth nonzero decisions (each value
    1..n_ms-1 anywhere in the run; every armed fault injected): some tape
    shows the bug, and the minimal one has exactly m.depth preemptions
    (none when the decision only picks which M starts).  Returns that
    minimal failure."""
    kw = dict(m.run_kw(), mutant=m.name, faults=[1] * 64 if m.armed else [])
    n = max(len(sched.run(m.scenario, m.n_ms, [v] * 512, **kw).tape)
            for v in range(m.n_ms)) + 8
    found: list[sched.Result] = []
    for k in range(m.depth + 1):
        for pos in itertools.combinations(range(n), k):
            for vals in itertools.product(range(1, m.n_ms), repeat=k):
                tape = [0] * n
                for p, v in zip(pos, vals, strict=True):
                    tape[p] = v
                r = sched.run(m.scenario, m.n_ms, tape, **kw)
                if r.failed and m.message in r.message:
                    found.append(r)
        if found:
            break
    assert found, f"{m.name}: no tape with <= {m.depth} preemptions shows it"
    best = min(found, key=lambda r: r.preemptions)
    assert best.preemptions == (0 if m.first_pick else m.depth), best.story()
    assert best.outcome in m.outcome, best.story()
    return best


__all__ = [
    "BUDGET",
    "Mutant",
    "Search",
    "check_clean",
    "check_kill",
    "check_replay",
    "check_story",
    "depth_sweep",
    "hunt",
]
