"""The deterministic schedule controller (csrc/schedctl.c) from Python.

Each toy scenario has a deliberate bug behind a mutant name; the tests check
that derandomized Hypothesis searches over tapes find each bug with a story
that names the right points, that the correct versions survive the same
budget, that failures replay exactly, and that deadlocks, livelocks, step
budgets, throws and stuck Ms end a run with a report instead of a hang.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from pygcrt import errors, sched
from pygcrt.strategies import bounded_preemptions, dense_tape, fault_tape, search

from schedinput import assert_rejects

ROOT = Path(__file__).resolve().parents[1]


def find(scenario: str, n_ms: int, mutant: str | None, budget: int,
         strat: st.SearchStrategy[list[int]] | None = None, **kw: Any) -> sched.Result | None:
    """Search tapes with derandomized Hypothesis; the shrunk failure or None."""
    failures: list[sched.Result] = []

    @search(budget)
    @given(tape=strat if strat is not None else dense_tape(n_ms))
    def prop(tape: list[int]) -> None:
        r = sched.run(scenario, n_ms, tape, mutant=mutant, **kw)
        if r.failed:
            failures.append(r)
            note(r.story())
        assert not r.failed, r.message

    try:
        prop()
    except AssertionError:
        return failures[-1]
    return None


def test_hypothesis_finds_lost_update_and_story_names_points() -> None:
    r = find("counter", 2, "racy", 200)
    assert r is not None, "lost update not found in 200 examples"
    assert r.outcome == "oracle" and "lost update" in r.message
    story = r.story()
    assert "counter.load" in story and "counter.store" in story
    assert story.splitlines()[-1].startswith("!! counter: lost update")
    # The minimal lost update needs one preemption: between a load and its store.
    assert 1 <= r.preemptions <= 2, story
    assert "counter.store" in r.preemption_sites(), story


@pytest.mark.parametrize("n_ms", [2, 3])
def test_correct_counter_survives_the_same_budget(n_ms: int) -> None:
    assert find("counter", n_ms, None, 200) is None


def test_replay_of_a_recorded_failure_is_identical_100_times() -> None:
    r = find("counter", 2, "racy", 200)
    assert r is not None
    s = r.schedule_string
    for _ in range(100):
        again = sched.replay(s)
        assert (again.outcome, again.message, again.trace_hash) == (
            r.outcome, r.message, r.trace_hash), s
        assert again.trace == r.trace


def test_schedule_string_round_trips() -> None:
    r = sched.run("counter", 2, [0, 1, 0, 0, 1], mutant="racy", params=(3,), faults=[0, 1])
    p = sched.parse(r.schedule_string)
    assert p.scenario == "counter" and p.params == (3,) and p.mutant == "racy"
    assert list(p.tape) == r.tape[: len(p.tape)] and not any(r.tape[len(p.tape):])
    assert sched.encode_rle([0, 0, 0, 2, 0, 1]) == "z3.2.z1.1"
    assert sched.decode_rle("z3.2.z1.1") == [0, 0, 0, 2, 0, 1]
    assert sched.decode_rle("e") == []


def test_deadlock_is_reported_not_hung() -> None:
    r = find("locks", 2, "abba", 200, strat=bounded_preemptions(2))
    assert r is not None
    assert r.outcome == "deadlock", r.story()
    assert "M0 blocked at lock.wait" in r.message and "M1 blocked at lock.wait" in r.message
    # Locks taken in one order never deadlock under the same search.
    assert find("locks", 2, None, 200, strat=bounded_preemptions(2)) is None


def test_lost_note_wakeup_is_a_deadlock_on_the_note() -> None:
    r = sched.run("pingpong", 2, mutant="lostwake")
    assert r.outcome == "deadlock"
    assert "M0 blocked at note.wait" in r.message and "M1 done" in r.message


def test_timed_note_sleep_uses_the_virtual_clock() -> None:
    # With a timeout, the lost wakeup becomes a deterministic timeout...
    r = sched.run("pingpong", 2, mutant="lostwake", params=(2, 1_000_000))
    assert r.outcome == "oracle" and r.message == "pingpong: round 1 timed out"
    # ...and the correct exchange never times out, whatever the schedule.
    assert find("pingpong", 2, None, 50, params=(3, 1_000_000)) is None


def test_livelock_is_reported_not_hung() -> None:
    r = sched.run("spinwait", 2, mutant="nopartner")
    assert r.outcome == "livelock"
    assert "M1 spinning at spinwait.wait" in r.message
    assert find("spinwait", 3, None, 50) is None


def test_step_budget() -> None:
    r = sched.run("counter", 2, params=(1000,), max_steps=100)
    assert r.outcome == "budget" and r.steps == 101


def test_throw_in_a_controlled_run_fails_the_run_and_the_next_run_works() -> None:
    r = find("owned", 2, "racy", 200)
    assert r is not None
    assert r.outcome == "throw" and r.message.startswith("fatal error: owned: M"), r.message
    assert "owned.check" in r.story()
    again = sched.run("owned", 2, r.tape)
    assert again.outcome == "ok"
    assert sched.replay(r.schedule_string).message == r.message


def test_bounded_exhaustive_two_preemptions() -> None:
    """Every tape with at most two nonzero decisions over the whole run."""

    def sweep(mutant: str | None) -> list[sched.Result]:
        n = len(sched.run("counter", 2, [1] * 64, mutant=mutant).tape) + 4
        fails = []
        for k in range(3):
            for pos in itertools.combinations(range(n), k):
                tape = [1 if i in pos else 0 for i in range(n)]
                r = sched.run("counter", 2, tape, mutant=mutant)
                assert len(r.tape) <= n
                if r.failed:
                    fails.append(r)
        return fails

    assert sweep(None) == []
    fails = sweep("racy")
    assert fails and all("lost update" in f.message for f in fails)


def test_spurious_cas_failures_are_retried() -> None:
    clean = sched.run("counter", 2)
    r = sched.run("counter", 2, faults=[1, 1, 0, 1])
    assert r.outcome == "ok" and r.faults[:4] == [1, 1, 0, 1]
    injected = [e for e in r.trace if e.flags & sched.EV_FAULT]
    assert [e.site for e in injected] == ["counter.cas"] * 3
    assert r.steps == clean.steps + 6  # each failed CAS costs a load and a CAS more
    assert find("counter", 2, None, 100, faults=None) is None


@given(tape=dense_tape(2, 32), faults=fault_tape(16))
@search(60)
def test_correct_counter_with_faults(tape: list[int], faults: list[int]) -> None:
    r = sched.run("counter", 2, tape, faults=faults)
    assert not r.failed, r.story()


def test_unarmed_fault_sites_take_no_faults() -> None:
    r = sched.run("counter", 2, faults=[1] * 8, armed=["owned.cas"])
    assert r.faults == [] and r.outcome == "ok"


def test_ms_started_during_a_run_are_controlled() -> None:
    r = sched.run("counter", 2, params=(2, 1))
    assert r.outcome == "ok" and r.ms_ran == 4
    assert {e.m for e in r.trace} == {0, 1, 2, 3}
    assert find("counter", 2, None, 100, params=(2, 1)) is None
    bad = find("counter", 2, "racy", 200, params=(1, 1))
    assert bad is not None and "lost update" in bad.message


def test_c_strategies_record_replayable_tapes() -> None:
    for strategy in ("random", "pct"):
        for seed in range(20):
            r = sched.run("counter", 3, strategy=strategy, seed=seed, depth=3)
            again = sched.run("counter", 3, r.tape)
            assert again.trace_hash == r.trace_hash, (strategy, seed)


def test_pct_and_random_find_the_lost_update() -> None:
    for strategy in ("random", "pct"):
        hits = [sched.run("counter", 2, strategy=strategy, seed=s, mutant="racy").failed
                for s in range(200)]
        assert any(hits), strategy


def test_bad_input_raises_and_leaves_everything_usable() -> None:
    assert_rejects(errors.InvalidArgument, "no-such-scenario", 2)
    assert_rejects(errors.IndexOutOfRange, "pingpong", 3)
    assert_rejects(errors.InvalidArgument, "counter", 2, mutant="no-such-mutant")
    assert_rejects(errors.InvalidArgument, "counter", 2, [300])
    assert_rejects(errors.InvalidArgument, "counter", 2, strategy="dfs")
    assert_rejects(errors.InvalidArgument, "counter", 2, armed=["no.such.site"])
    assert_rejects(errors.IndexOutOfRange, "counter", 2, params=(-1,))
    with pytest.raises(errors.InvalidArgument):
        sched.parse("counter/S2.deadbeef.2.0.e")
    with pytest.raises(errors.InvalidArgument):
        sched.parse("counter/S1.deadbeef.2.0.z1.x")
    with pytest.raises(errors.InvalidArgument):
        sched.replay("counter/S1.00000000.2.0.e")
    assert sched.run("counter", 2).outcome == "ok"


def test_every_scenario_is_listed_with_its_mutants() -> None:
    scns = sched.scenarios()
    assert {"counter", "locks", "spinwait", "pingpong", "owned"} <= set(scns)
    assert scns["counter"].mutants == ("racy", "leak")
    assert "thread.exit" in sched.sites() and "lock.wait" in sched.sites()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pygcrt.sched", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_replay_fuzz_and_list() -> None:
    r = sched.run("counter", 2, [0, 0, 1], mutant="racy")
    assert r.failed
    out = _cli("replay", r.schedule_string)
    assert out.returncode == 1 and "counter: lost update" in out.stdout
    assert f"replay: {r.schedule_string}" in out.stdout
    fz = _cli("fuzz", "counter", "--mutant", "racy", "--strategy", "pct", "--depth", "3",
              "--runs", "300", "--minimize")
    assert fz.returncode == 1 and "lost update" in fz.stdout
    ok = _cli("fuzz", "counter", "--strategy", "random", "--runs", "50")
    assert ok.returncode == 0 and "50 runs of counter" in ok.stdout
    ls = _cli("list")
    assert ls.returncode == 0 and "pingpong" in ls.stdout and "rootscan" in ls.stdout
    sw = _cli("sweep", "getfull", "--mutant", "getfull_order", "--params", "3", "--max", "2")
    assert sw.returncode == 1 and "2 preemptions" in sw.stdout, sw.stdout
    assert "early termination" in sw.stdout
    assert _cli("sweep", "counter", "--max", "1").returncode == 0
    assert _cli("replay", "garbage").returncode == 2


def test_stuck_m_trips_the_wall_clock_watchdog() -> None:
    code = (
        "from pygcrt import sched\n"
        "sched.run('spinwait', 2, [1], mutant='nopoint', watchdog_ms=300)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert "schedctl watchdog: scenario spinwait made no progress" in p.stderr
    assert "M1 holds the baton" in p.stderr


def test_stuck_free_run_trips_the_watchdog_too() -> None:
    code = "from pygcrt import sched\nsched.run('spinwait', 2, strategy='free', mutant='nopartner', watchdog_ms=300)\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert "free run of spinwait: M1 still running" in p.stderr


def test_free_runs_are_a_baseline() -> None:
    r = sched.run("counter", 2, strategy="free", params=(1000,))
    assert r.outcome == "ok" and r.steps == 0 and r.trace == []


# ---- work-list scenarios (csrc/schedwork.c over lfstack.c, mgcwork.c) ----


def sparse_sweep(scenario: str, n_ms: int, mutant: str | None, max_pre: int = 2,
                 **kw: Any) -> tuple[int, list[sched.Result]]:
    """sched.sweep, checking that no run preempts more than its tape says."""
    runs, fails = sched.sweep(scenario, n_ms, max_pre, mutant=mutant, **kw)
    assert all(f.preemptions <= max_pre for f in fails)
    return runs, fails


@given(data=st.data())
@search(60, shrink=False)
def test_lfstack_conserves_nodes_for_drawn_shapes(data: st.DataObject) -> None:
    n_ms = data.draw(st.integers(2, 3), label="n_ms")
    nodes = data.draw(st.integers(2, 5), label="nodes")
    rounds = data.draw(st.integers(1, 2), label="rounds")
    tape = data.draw(dense_tape(n_ms, 96), label="tape")
    r = sched.run("lfstack", n_ms, tape, params=(nodes, rounds))
    assert not r.failed, r.story()


def test_hypothesis_finds_lfstack_aba() -> None:
    r = find("lfstack", 2, "lf_aba", 500)
    assert r is not None, "M_LF_ABA survived 500 examples"
    assert r.outcome in ("throw", "oracle"), r.story()
    assert "lfstack" in r.message
    story = r.story()
    # Every CAS point shows the packed head it expects, and the notes after
    # loads and CASes show the heads they saw: the ABA is readable.
    assert re.search(r"lfstack\.pop\.cas +node#\d+/\d+", story), story
    assert re.search(r"\.\. lfstack\.pop\.now +(node#\d+/\d+|nil)", story), story
    assert re.search(r"\.\. lfstack\.push\.saw +(node#\d+/\d+|nil)", story), story
    assert r.preemptions <= 4, story
    # The clean lfstack surviving the same budget: test_mutants.py.


def test_lfstack_bounded_exhaustive() -> None:
    runs, fails = sparse_sweep("lfstack", 2, None)
    assert runs > 500 and fails == []
    runs, fails = sparse_sweep("lfstack", 2, "lf_aba")
    assert fails, f"no tape with <= 2 preemptions shows ABA in {runs} runs"
    assert min(f.preemptions for f in fails) == 2
    runs, fails = sparse_sweep("lfstack", 2, "lf_next_after_cas", max_pre=1)
    assert fails and min(f.preemptions for f in fails) == 1


def test_getfull_bounded_exhaustive_and_searched() -> None:
    runs, fails = sparse_sweep("getfull", 2, None, params=(5,))
    assert runs > 100 and fails == [], fails[0].story() if fails else ""
    assert find("getfull", 3, None, 150, params=(7, 2)) is None


def test_freed_workbuf_is_read_after_one_preemption() -> None:
    # M_LF_FREE_NODE: one preemption between reading a head and reading its
    # next lets the other marker take, drain and free that buffer.
    runs, fails = sparse_sweep("getfull", 2, "lf_free_node", max_pre=1, params=(5,))
    assert fails and min(f.preemptions for f in fails) == 1
    assert all("next of a freed node" in f.message for f in fails)
    assert all(f.preemption_sites() == ["lfstack.pop.next"] for f in fails if f.preemptions == 1)


def test_getfull_order_needs_exactly_two_preemptions() -> None:
    # Bounded-exhaustive: no schedule with one preemption ends the mark
    # early under M_GETFULL_ORDER, some with two do (take work while
    # counted, then let the other marker see nwait == nproc).
    runs, fails = sparse_sweep("getfull", 2, "getfull_order", params=(3,))
    assert fails, f"no schedule with <= 2 preemptions in {runs} runs"
    assert min(f.preemptions for f in fails) == 2
    assert all("early termination" in f.message for f in fails)


def test_rootscan_bounded_exhaustive() -> None:
    for n_ms, items in [(2, 2), (2, 3)]:
        runs, fails = sparse_sweep("rootscan", n_ms, None, params=(items,))
        assert runs > 100 and fails == [], fails[0].story() if fails else ""
    # No preemption needed: the marker starts first, waits, and M0 then
    # puts its work on partial and sleeps.
    runs, fails = sparse_sweep("rootscan", 2, "getfull_partial", max_pre=1)
    assert fails and min(f.preemptions for f in fails) == 0
    assert all(f.outcome == "livelock" for f in fails)


def test_parfor_bounded_exhaustive_and_searched() -> None:
    # Every iteration runs exactly once under every schedule with <= 2
    # preemptions of claims and steals; a blind steal needs exactly two.
    runs, fails = sparse_sweep("parfor", 2, None, params=(5,))
    assert runs > 500 and fails == [], fails[0].story() if fails else ""
    runs, fails = sparse_sweep("parfor", 2, "parfor_blind_steal", params=(4,))
    assert fails and min(f.preemptions for f in fails) == 2
    assert all("ran 2 times" in f.message for f in fails)
    assert find("parfor", 3, None, 150, params=(7, 1)) is None


def test_parfor_story_shows_ranges() -> None:
    r = sched.run("parfor", 2, [1, 0, 1] * 20, params=(6,))
    assert r.outcome == "ok", r.story()
    story = r.story(10000)
    assert re.search(r"\.\. parfor\.claimed +\[\d+,\d+\)", story), story
    assert re.search(r"\.\. parfor\.steal\.saw +\[\d+,\d+\)", story), story


def test_rootscan_partial_work_is_taken_by_a_waiting_marker() -> None:
    # M1 starts (the first decision is free), waits in getfull, and M0's
    # buffer lands on partial: with the fix M1 takes it and wakes M0; the
    # seed's loop never looks at partial, so M1 spins and M0 sleeps forever.
    tape = [1]
    r = sched.run("rootscan", 2, tape)
    assert r.outcome == "ok", r.story()
    story = r.story(10000)
    assert re.search(r"M1 +\.\. getfull\.visible +work on partial", story), story
    assert re.search(r"M1 +\.\. rsscn\.item +0", story), story
    bad = sched.run("rootscan", 2, tape, mutant="getfull_partial")
    assert bad.outcome == "livelock", bad.story()
    assert "M0 blocked at note.wait; M1 spinning at getfull.wait" in bad.message


def test_rootscan_runs_free_with_real_threads() -> None:
    for seed in range(3):
        r = sched.run("rootscan", 3, strategy="free", params=(4,), seed=seed)
        assert r.outcome == "ok", (seed, r.message)


def test_getfull_backoff_sleeps_in_virtual_time() -> None:
    # Every wait-loop turn past the 20th sleeps 100 us; in a controlled run
    # that advances the virtual clock only, so thousands of sleeps take
    # far less wall time than they would for real.
    r = sched.run("rootscan", 2, [1], mutant="getfull_partial", livelock_spins=4000)
    assert r.outcome == "livelock"
    sleeps = r.steps_at("getfull.nsleep")
    assert sleeps > 3000, sleeps
    assert r.wall_ns < sleeps * 100_000 // 2, (r.wall_ns, sleeps)


def test_minimize_drops_detours() -> None:
    # Random tapes fail with many needless preemptions; minimize removes
    # them (a preemption and the switch back at once) and keeps the outcome.
    rng = random.Random(7)
    for scenario, mutant, want in [("counter", "racy", 1), ("lfstack", "lf_aba", 4)]:
        r = next(r for r in (sched.run(scenario, 2, [rng.randrange(2) for _ in range(48)],
                                       mutant=mutant) for _ in range(300))
                 if r.failed and r.preemptions >= 6)
        m = sched.minimize(r)
        assert m.outcome == r.outcome and m.preemptions <= want, (r.story(), m.story())
        assert sched.run(scenario, 2, m.tape, mutant=mutant).trace_hash == m.trace_hash


def test_a_thread_outside_the_controller_fails_the_run() -> None:
    r = sched.run("counter", 2, mutant="leak")
    assert r.outcome == "uncontrolled"
    assert "uncontrolled thread at schedule point counter.load" in r.message
    assert sched.run("counter", 2).outcome == "ok"


def test_story_decoders() -> None:
    from pygcrt import story

    sym = story.Symbols()
    assert story.gstatus(0x1004, sym) == "Gwaiting|Gscan"
    assert story.gstatus(8, sym) == "Gcopystack"
    a = (0x7F0000001000 << 16) | 5
    b = (0x7F0000002000 << 16) | 1
    assert story.lfstack_head(a, sym) == "node#0/5"
    assert story.lfstack_head(b, sym) == "node#1/1"
    assert story.lfstack_head(a + 1, sym) == "node#0/6"
    assert story.lfstack_head(0, sym) == "nil"
    assert story.span_sweepgen((7 << 32) | 4, sym) == "span#7 sg=4"
    assert story.decode("casgstatus.cas", 0x1001, sym) == "Grunnable|Gscan"
    assert story.decode("counter.saw", 3, sym) == "3"
    assert story.decode("work.put.partial", (0x7F0000002000 << 16) | 3, sym) == "node#1 nobj=3"
    assert story.decode("work.got.full", 0, sym) == "nil"
    assert story.decode("getfull.nwait", (1 << 32) | 2, sym) == "nwait=1/2"
    assert story.decode("getfull.visible", 2, sym) == "work on partial"
    assert story.decode("getfull.visible", 4, sym) == "full empty, partial not looked at"


def test_getfull_story_shows_lists_and_the_barrier() -> None:
    r = sched.run("getfull", 2, [1, 0, 1] * 20, params=(5,))
    assert r.outcome == "ok", r.story()
    story = r.story(10000)
    for pat in [r"\.\. work\.put\.(partial|empty) +node#\d+ nobj=\d+",
                r"\.\. work\.got\.full +(nil|node#\d+ nobj=\d+)",
                r"\.\. getfull\.nwait +nwait=\d/2",
                r"\.\. getfull\.visible +"]:
        assert re.search(pat, story), f"{pat} not in\n{story}"
