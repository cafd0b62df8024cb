"""Progress of a long contract run: a counter, the pass/fail/skip tally and an ETA per step,
and a printer that rewrites one line on a terminal and prints every 5% (and each new failure)
in a CI log, instead of one bare line per operation."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Counts steps of a run of ``total`` and says where it is: ``[ 37/614   6%] 35 passed,
    1 failed, 1 skipped; 0:42 elapsed, ETA 6:15 | operation Matter#index``."""

    def __init__(self, total: int, now: Callable[[], float] = time.perf_counter) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.tally: Counter = Counter()
        self.now = now
        self.started = now()

    def step(self, label: str, status: str) -> str:
        self.done += 1
        self.tally[status] += 1
        return self.line(label)

    def line(self, label: str = "") -> str:
        elapsed = self.now() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        width = len(str(self.total))
        counts = f"{self.tally['passed']} passed, {self.tally['failed']} failed, {self.tally['skipped']} skipped"
        when = f"{_clock(elapsed)} elapsed, ETA {_clock(eta)}" if self.done < self.total else f"done in {_clock(elapsed)}"
        return f"[{self.done:>{width}}/{self.total} {self.done * 100 // self.total:>3}%] {counts}; {when}" + (f" | {label}" if label else "")


class ProgressPrinter:
    """Where progress lines go: one line rewritten in place on a terminal; in a log, a line
    every ``every`` percent, on each new failure, and at the end."""

    def __init__(self, stream: TextIO | None = None, every: int = 5, prefix: str = "clio-mock contract: ") -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every, self.prefix = every, prefix
        self.last_bucket, self.last_failed = -1, 0
        self.pending_newline = False

    def __call__(self, message: str) -> None:
        if not message.startswith("["):  # not a progress line: print as is
            self._plain(message)
            return
        done, total, failed = _parse(message)
        if self.tty:
            self.stream.write("\r\x1b[K" + (self.prefix + message)[:200])
            self.pending_newline = done < total
            if done >= total:
                self.stream.write("\n")
            self.stream.flush()
            return
        bucket = done * 100 // max(total, 1) // self.every
        if bucket != self.last_bucket or failed > self.last_failed or done >= total:
            self._plain(message)
        self.last_bucket, self.last_failed = bucket, failed

    def _plain(self, message: str) -> None:
        if self.pending_newline:
            self.stream.write("\n")
            self.pending_newline = False
        self.stream.write(self.prefix + message + "\n")
        self.stream.flush()


def _parse(line: str) -> tuple[int, int, int]:
    counter, rest = line[1:].split("]", 1)
    done, total = (int(x) for x in counter.split("%")[0].rsplit(" ", 1)[0].strip().split("/"))
    failed = int(rest.split(" failed", 1)[0].rsplit(" ", 1)[-1]) if " failed" in rest else 0
    return done, total, failed
