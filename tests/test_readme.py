"""The README's failing-schedule example stays true.

The README shows a schedule string and the story it replays to.  The site
hash in the string changes whenever schedule points are added, so a stale
example would be refused: this test replays the string printed there and
checks the outcome and the lines of the story the README shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def example() -> tuple[str, list[str]]:
    """The replayed schedule string and the story lines shown under it."""
    text = README.read_text()
    m = re.search(r"^\$ python -m pygcrt\.sched replay (\S+)\n(.*?)^```", text, re.M | re.S)
    assert m, "README has no replay example"
    return m.group(1), m.group(2).splitlines()


@pytest.mark.timeout(60)
def test_readme_replay_example_prints_the_story_shown() -> None:
    schedule, shown = example()
    r = subprocess.run([sys.executable, "-m", "pygcrt.sched", "replay", schedule],
                       capture_output=True, text=True, timeout=50)
    assert r.returncode == 1, r.stdout + r.stderr
    assert [ln.rstrip() for ln in r.stdout.splitlines()] == [ln.rstrip() for ln in shown]
