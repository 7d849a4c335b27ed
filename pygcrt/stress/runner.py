"""Running one trial in a child process and reading what it reports.

The child (:mod:`pygcrt.stress.child`) prints JSON lines; the parent
passes every record to a callback as it arrives (the live display) and
keeps the last one.  A child that dies from a signal, exits without its
final line, or overruns its time (trial duration plus a grace period) is
a failure too: the report then carries the exit status and the tail of
the child's stderr (where an aborting runtime writes "fatal error: ..."
and its state dump).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .scenarios import Options

GRACE_S = 60.0
STDERR_TAIL = 40


@dataclass
class Trial:
    """One trial's result, as the parent saw it."""

    index: int
    options: Options
    ok: bool = False
    failure: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, list[str]] = field(default_factory=dict)
    stderr_tail: list[str] = field(default_factory=list)
    returncode: int = 0

    @property
    def last(self) -> dict[str, Any]:
        return self.records[-1] if self.records else {}


def _status(rc: int) -> str:
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


def run_trial(index: int, o: Options, on_record: Callable[[Trial, dict[str, Any]], None]) -> Trial:
    """Run trial ``index`` with options ``o`` in a child; never raises for
    what happens inside the child."""
    t = Trial(index, o)
    cmd = [sys.executable, "-m", "pygcrt.stress.child", json.dumps(asdict(o))]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        limit = (o.duration if not o.cycles else 0) + GRACE_S
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            p.kill()

        timer = threading.Timer(limit, expire)
        timer.start()
        try:
            assert p.stdout is not None
            for line in p.stdout:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                t.records.append(rec)
                on_record(t, rec)
            t.returncode = p.wait()
        finally:
            timer.cancel()
        err.seek(0)
        t.stderr_tail = err.read().splitlines()[-STDERR_TAIL:]
    last = t.last
    if last.get("kind") == "fail":
        t.failure = last.get("failure", "")
        t.events = last.get("events", {})
    elif last.get("kind") != "end" or t.returncode != 0:
        how = f"timed out after {limit:.0f} s" if expired.is_set() else _status(t.returncode)
        t.failure = f"child {how} without finishing the trial"
        if t.stderr_tail:
            fatal = [ln for ln in t.stderr_tail if "error" in ln.lower()]
            t.failure += ": " + (fatal[0] if fatal else t.stderr_tail[-1])
    t.ok = not t.failure
    return t
