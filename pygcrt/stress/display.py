"""Progress while trials run: a live line on a terminal, a plain log otherwise.

On a terminal the status (trial, scenario, cycles, allocations per second,
heap, last pause, failures) is redrawn in place: with rich when it is
installed (the ``pygcrt[ui]`` extra), else with a carriage return.  When
the stream is not a terminal (CI logs, pipes) each trial gets one plain
line when it ends, and nothing is redrawn.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from .runner import Trial


def _status(t: Trial, rec: dict[str, Any], failures: int) -> str:
    dt = rec.get("t", 0.0) or 1e-9
    pauses = rec.get("pauses_ns") or []
    last = f"{pauses[-1] / 1e6:.2f} ms" if pauses else "-"
    return (f"trial {t.index} {t.options.scenario:<8} seed {t.options.seed}  "
            f"cycles {rec.get('cycles', 0):>6}  {rec.get('allocs', 0) / dt:>11,.0f} allocs/s  "
            f"heap {rec.get('heap', 0) / 2**20:>7.1f} MiB  last pause {last}  "
            f"failures {failures}")


class Display:
    """Shows progress records and trial ends on ``out``."""

    def __init__(self, out: TextIO, live: bool) -> None:
        self.out = out
        self.live = live and out.isatty()
        self.failures = 0
        self.rich: Any = None
        self._last_draw = 0.0
        if self.live:
            try:
                from rich.console import Console
                from rich.live import Live
            except ImportError:
                return
            self.rich = Live("", console=Console(file=out), refresh_per_second=8,
                             transient=True)
            self.rich.start()

    def record(self, t: Trial, rec: dict[str, Any]) -> None:
        if not self.live or time.monotonic() - self._last_draw < 0.1:
            return
        self._last_draw = time.monotonic()
        line = _status(t, rec, self.failures)
        if self.rich is not None:
            self.rich.update(line)
        else:
            self.out.write("\r" + line[:200] + "\x1b[K")
            self.out.flush()

    def trial_done(self, t: Trial) -> None:
        self.failures += not t.ok
        verdict = "ok" if t.ok else f"FAILED: {t.failure}"
        line = (f"trial {t.index} {t.options.scenario} seed {t.options.seed}: "
                f"{t.last.get('cycles', 0)} cycles, {t.last.get('allocs', 0):,} allocs: {verdict}")
        if self.rich is not None:
            self.rich.console.print(line)
        elif self.live:
            self.out.write("\r\x1b[K" + line + "\n")
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.rich is not None:
            self.rich.stop()
        elif self.live:
            self.out.write("\r\x1b[K")
            self.out.flush()
