"""Hypothesis strategies for controlled runs (see pygcrt.sched).

dense_tape is the default: a fixed-length list of decisions, which
generates like a random walk (finds bugs fast) and shrinks towards zeros,
i.e. towards the fewest preemptions.  bounded_preemptions is the sparse
alternative: at most a few (gap, k) preemptions.  fault_tape draws the
separate fault tape (0 = no fault; shrinks towards no faults).

CI and NIGHTLY are the settings for schedule searches: CI is
derandomized (the same examples every run) with about 200 examples;
NIGHTLY explores new schedules at length.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]

_SEARCH = settings(deadline=None, report_multiple_bugs=False, suppress_health_check=_QUIET)
CI = settings(_SEARCH, max_examples=200, derandomize=True, database=None)
NIGHTLY = settings(_SEARCH, max_examples=20000, derandomize=False)


def search(max_examples: int, shrink: bool = True) -> settings:
    """Derandomized settings with a given budget (mutant-kill tests)."""
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(CI, max_examples=max_examples, phases=phases)


def dense_tape(n_ms: int, length: int = 64) -> st.SearchStrategy[list[int]]:
    """length decisions, each 0 (keep running) .. n_ms-1 (switch)."""
    return st.lists(st.integers(0, max(n_ms - 1, 1)), min_size=length, max_size=length)


def sparse_to_tape(pre: list[tuple[int, int]]) -> list[int]:
    """[(gap, k), ...] -> gap zeros then k, for each preemption."""
    tape: list[int] = []
    for gap, k in pre:
        tape.extend([0] * gap)
        tape.append(k)
    return tape


def bounded_preemptions(
    n_ms: int, max_preemptions: int = 3, max_gap: int = 48
) -> st.SearchStrategy[list[int]]:
    """Tapes with at most max_preemptions nonzero decisions."""
    pre = st.tuples(st.integers(0, max_gap), st.integers(1, max(n_ms - 1, 1)))
    return st.lists(pre, max_size=max_preemptions).map(sparse_to_tape)


def fault_tape(length: int = 32, one_in: int = 4) -> st.SearchStrategy[list[int]]:
    """length fault decisions, each a fault with chance about 1/one_in."""
    bit = st.integers(0, one_in - 1).map(lambda x: int(x == one_in - 1))
    return st.lists(bit, min_size=length, max_size=length)


__all__ = [
    "CI",
    "NIGHTLY",
    "bounded_preemptions",
    "dense_tape",
    "fault_tape",
    "search",
    "sparse_to_tape",
]
