"""Running one trial in a child process and reading what it reports.

The child (:mod:`pygcrt.stress.child`) prints JSON lines; the parent
passes every record to a callback as it arrives (the live display) and
keeps the last one.  A child that dies from a signal, exits without its
final line, overruns its time (a duration trial's length plus a grace
period) or stalls (no record for the grace period, in any trial: a
cycle-count trial has no length, but it reports progress every 0.1 s while
it makes any) is a failure too: the report then carries the exit status and the tail of
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
import time
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


class _Watchdog:
    """Kills the child when it overruns ``limit`` seconds in all, or goes
    GRACE_S seconds without printing a line; ``why`` then says which."""

    def __init__(self, p: subprocess.Popen[str], limit: float | None) -> None:
        self.p, self.limit, self.why = p, limit, ""
        self.t0 = self.last = time.monotonic()
        self.done = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def fed(self) -> None:
        self.last = time.monotonic()

    def stop(self) -> None:
        self.done.set()

    def _watch(self) -> None:
        while not self.done.wait(0.5):
            now = time.monotonic()
            if self.limit is not None and now - self.t0 > self.limit:
                self.why = f"timed out after {self.limit:.0f} s"
            elif now - self.last > GRACE_S:
                self.why = f"stalled: no progress for {GRACE_S:.0f} s"
            else:
                continue
            self.p.kill()
            return


def run_trial(index: int, o: Options, on_record: Callable[[Trial, dict[str, Any]], None]) -> Trial:
    """Run trial ``index`` with options ``o`` in a child; never raises for
    what happens inside the child."""
    t = Trial(index, o)
    cmd = [sys.executable, "-m", "pygcrt.stress.child", json.dumps(asdict(o))]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        dog = _Watchdog(p, o.duration + GRACE_S if not o.cycles else None)
        try:
            assert p.stdout is not None
            for line in p.stdout:
                dog.fed()
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                t.records.append(rec)
                on_record(t, rec)
            t.returncode = p.wait()
        finally:
            dog.stop()
        err.seek(0)
        t.stderr_tail = err.read().splitlines()[-STDERR_TAIL:]
    last = t.last
    if last.get("kind") == "fail":
        t.failure = last.get("failure", "")
        t.events = last.get("events", {})
    elif last.get("kind") != "end" or t.returncode != 0:
        how = dog.why or _status(t.returncode)
        t.failure = f"child {how} without finishing the trial"
        if t.stderr_tail:
            fatal = [ln for ln in t.stderr_tail if "error" in ln.lower()]
            t.failure += ": " + (fatal[0] if fatal else t.stderr_tail[-1])
    t.ok = not t.failure
    return t
