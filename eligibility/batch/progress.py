"""Progress on stderr: a rich bar with rows per second on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys
import time

LOG_EVERY_S = 5.0


class Progress:
    def __init__(self, label: str, total: int, unit_is_bytes: bool, enabled: bool = True):
        self.label, self.total, self.unit_is_bytes = label, total, unit_is_bytes
        self.enabled = enabled
        self.rows = 0
        self.t0 = time.monotonic()
        self._last_log = self.t0
        self._bar = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.percentage:>5.1f} %"),
                                     TextColumn("{task.fields[rows]} lignes · {task.fields[rate]} lignes/s"),
                                     TimeElapsedColumn(), console=Console(stderr=True), transient=False)
            self._task = self._bar.add_task(label, total=max(total, 1), rows="0", rate="—")
            self._bar.start()

    def rate(self) -> float:
        return self.rows / max(time.monotonic() - self.t0, 1e-9)

    def update(self, rows: int, done: int) -> None:
        self.rows += rows
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=done, rows=f"{self.rows:,}".replace(",", " "),
                             rate=f"{self.rate():,.0f}".replace(",", " "))
            return
        now = time.monotonic()
        if now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            pct = f", {100 * done / self.total:.1f} %" if self.total else ""
            print(f"{self.label} : {self.rows} lignes traitées ({self.rate():.0f} lignes/s{pct})",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.enabled:
            print(f"{self.label} : terminé, {self.rows} lignes en {time.monotonic() - self.t0:.1f} s "
                  f"({self.rate():.0f} lignes/s)", file=sys.stderr, flush=True)
