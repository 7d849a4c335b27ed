"""A controlled run is a pure function of (scenario, tape, fault tape, mutant).

shuttle's uncontrolled-nondeterminism check: run the same random tapes
twice and compare everything the run exposes (outcome, message, decisions
taken, faults taken, trace hash and the trace itself).  A difference means
something outside the controller leaked into a run: a real address in a
point value, wall-clock time, an uncontrolled thread, or state left over
from the previous run.
"""

from __future__ import annotations

import mmap
import random

import pytest
from hypothesis import given

from pygcrt import sched
from pygcrt.strategies import dense_tape, fault_tape, search

CASES = [
    ("counter", 2, None, ()),
    ("counter", 3, "racy", (2,)),
    ("counter", 2, None, (2, 1)),
    ("locks", 2, None, (2,)),
    ("locks", 2, "abba", ()),
    ("spinwait", 3, None, ()),
    ("spinwait", 2, "nopartner", ()),
    ("pingpong", 2, None, (3,)),
    ("pingpong", 2, "lostwake", (2, 50_000)),
    ("owned", 3, "racy", (2,)),
    ("owned", 2, None, (2,)),
    ("rootscan", 3, None, (3,)),
    ("rootscan", 2, "getfull_partial", ()),
    ("lfstack", 2, "lf_aba", (4, 2)),
    ("getfull", 3, None, (7, 2)),
    ("parfor", 3, None, (7, 1)),
    ("parfor", 2, "parfor_blind_steal", (4,)),
    ("park", 1, None, (3,)),
    ("park", 1, "park_no_recheck", (2,)),
    ("copystack", 2, None, (1,)),
    ("sweep", 2, None, (3,)),
    ("collect", 3, None, ()),
    ("collect", 2, "stopg_blind_store", (2, 1)),
    ("markbits", 2, "markbit_nonatomic", (3,)),
]


def fingerprint(r: sched.Result) -> tuple[object, ...]:
    return (r.outcome, r.message, r.steps, r.switches, r.tape, r.faults, r.trace_hash, r.trace)


@pytest.mark.parametrize("scenario,n_ms,mutant,params", CASES)
def test_random_tapes_twice_give_identical_traces(
    scenario: str, n_ms: int, mutant: str | None, params: tuple[int, ...]
) -> None:
    seed = 20141103
    rng = random.Random(f"{seed}-{scenario}-{n_ms}-{mutant}")
    for i in range(15):
        tape = [rng.randrange(max(n_ms, 2)) for _ in range(64)]
        faults = [int(rng.random() < 0.2) for _ in range(16)]
        kw = dict(mutant=mutant, params=params, faults=faults, livelock_spins=200)
        a = sched.run(scenario, n_ms, tape, **kw)
        b = sched.run(scenario, n_ms, tape, **kw)
        assert fingerprint(a) == fingerprint(b), f"seed {seed} run {i}: {a.schedule_string}"


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_c_strategies_are_seeded(strategy: str) -> None:
    for seed in range(10):
        a = sched.run("owned", 3, strategy=strategy, seed=seed, params=(2,), fault_permille=100)
        b = sched.run("owned", 3, strategy=strategy, seed=seed, params=(2,), fault_permille=100)
        assert fingerprint(a) == fingerprint(b), f"seed {seed}"
        replay = sched.replay(a.schedule_string)
        assert replay.trace_hash == a.trace_hash, f"seed {seed}: {a.schedule_string}"


def test_different_schedules_give_different_traces() -> None:
    """The hash is not blind: two different interleavings hash differently."""
    a = sched.run("counter", 2, [0])
    b = sched.run("counter", 2, [0, 1])
    assert a.trace != b.trace and a.trace_hash != b.trace_hash


@given(tape=dense_tape(3, 48), faults=fault_tape(8))
@search(40, shrink=False)
def test_hypothesis_tapes_replay_identically(tape: list[int], faults: list[int]) -> None:
    a = sched.run("counter", 3, tape, faults=faults, params=(2, 1))
    b = sched.replay(a.schedule_string)
    assert fingerprint(a)[:3] == fingerprint(b)[:3] and a.trace == b.trace


@pytest.mark.parametrize("scenario,n_ms,params", [("lfstack", 2, (3, 2)), ("getfull", 2, (5,)),
                                                  ("rootscan", 3, (3,))])
def test_traces_name_nodes_by_symbol_not_address(
    scenario: str, n_ms: int, params: tuple[int, ...]
) -> None:
    # Buffers and lfstack nodes live wherever mmap puts them; the mappings
    # made in between move them, but traced heads name nodes by order of
    # first use, so the trace is the same.
    tape = [1, 0, 1] * 30
    a = sched.run(scenario, n_ms, tape, params=params)
    maps = [mmap.mmap(-1, (k + 1) << 20) for k in range(3)]
    try:
        b = sched.run(scenario, n_ms, tape, params=params)
    finally:
        for m in maps:
            m.close()
    assert any("node#" in line for line in a.story(10000).splitlines())
    assert fingerprint(a) == fingerprint(b), a.schedule_string
