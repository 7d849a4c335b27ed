"""Bad input to a controlled run, shared by the scenario tests.

A run the controller must refuse raises the given error class before
anything runs, so the same process can go on running scenarios after it.
"""

from __future__ import annotations

from typing import Any

import pytest

from pygcrt import sched


def assert_rejects(exc: type[Exception], scenario: str, n_ms: int, *args: Any,
                   **kw: Any) -> None:
    """sched.run(scenario, n_ms, *args, **kw) raises exc."""
    with pytest.raises(exc):
        sched.run(scenario, n_ms, *args, **kw)
