"""Shared pytest configuration: Hypothesis profiles.

Profiles: "fast" (local iteration), "ci" (derandomized, on top of
Hypothesis's built-in ci profile, which it loads itself when CI is set),
"nightly" (long campaigns).  Pick one with --hypothesis-profile=NAME.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast", max_examples=25, stateful_step_count=20, deadline=None
)
settings.register_profile(
    "ci",
    settings.get_profile("ci"),
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    max_examples=5000,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
