"""The bounded-exhaustive sweep the scenario tests share.

Every tape with at most max_pre nonzero decisions (values 1..n_ms-1), at
every position of a tape as long as the longest run (plus slack): CHESS's
preemption bounding over the whole run, so a scenario's oracles are shown
to hold for every schedule with that few preemptions.
"""

from __future__ import annotations

import itertools

from pygcrt import sched


def exhaustive(scenario: str, n_ms: int, max_pre: int, mutant: str | None = None,
               params: tuple[int, ...] = (), slack: int = 8) -> tuple[int, list[sched.Result]]:
    """Every tape with at most max_pre nonzero decisions over the whole run:
    the number of runs and the failures."""
    n = max(len(sched.run(scenario, n_ms, [v] * 512, mutant=mutant, params=params).tape)
            for v in range(n_ms)) + slack
    runs, fails = 0, []
    for k in range(max_pre + 1):
        for pos in itertools.combinations(range(n), k):
            for vals in itertools.product(range(1, n_ms), repeat=k):
                tape = [0] * n
                for p, v in zip(pos, vals, strict=True):
                    tape[p] = v
                r = sched.run(scenario, n_ms, tape, mutant=mutant, params=params)
                assert len(r.tape) <= n, "the sweep must cover every decision"
                runs += 1
                if r.failed:
                    fails.append(r)
    return runs, fails
