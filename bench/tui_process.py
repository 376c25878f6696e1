"""``inspector open`` as a whole process, in a pseudo-terminal, as a user starts it.

Each round starts ``python -m inspector open REQUEST`` in a 160x48 pty and reads what it draws:
the first screen is drawn when the history pane's title appears, the replay is fully recorded
when the replay pane's border says ``replay done``. At each, the wall time since the process
was started and the CPU time the process has used so far (user + system, from ``/proc``) are
taken; then ``q`` quits it. With a baseline checkout, its rounds interleave with ours (in a
rotating order), so a busy machine slows both alike.

Used by ``bench/bench_tui.py --process``.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
_ESCAPE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
DEADLINE = 60.0
"""Seconds a round may take before it is given up (a broken checkout, not a slow machine)."""


class Round(NamedTuple):
    first_wall: float
    first_cpu: float
    done_wall: float
    done_cpu: float
    total_cpu: float
    """The whole process's CPU time, to its exit after ``q``."""


def _cpu_so_far(pid: int) -> float:
    """User + system seconds of ``pid`` (every thread), from ``/proc/PID/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _pty(cols: int, rows: int) -> tuple[int, int]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return master, slave


def _read(master: int, until: float) -> bytes:
    ready, _, _ = select.select([master], [], [], max(0.0, until - time.perf_counter()))
    if not ready:
        return b""
    try:
        return os.read(master, 65536)
    except OSError:  # the child closed the terminal
        return b""


def run_round(
    root: Path, request: Path, markers: tuple[bytes, bytes], env: dict[str, str]
) -> Round:
    """One ``inspector open`` of ``request`` from checkout ``root``, timed to both markers."""
    master, slave = _pty(160, 48)
    argv = [sys.executable, "-m", "inspector", "open", str(request)]
    env = {**env, "PYTHONPATH": str(root), "TERM": "xterm-256color", "COLUMNS": "160"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=root, start_new_session=True
    )
    os.close(slave)
    seen = b""
    found: list[tuple[float, float]] = []
    deadline = start + DEADLINE
    try:
        while len(found) < len(markers) and time.perf_counter() < deadline:
            chunk = _read(master, deadline)
            if not chunk and proc.poll() is not None:
                break
            # keep a tail: a marker can straddle two reads
            seen = seen[-4096:] + chunk
            text = _ESCAPE.sub(b"", seen)
            while len(found) < len(markers) and markers[len(found)] in text:
                found.append((time.perf_counter() - start, _cpu_so_far(proc.pid)))
        if len(found) < len(markers):
            raise SystemExit(f"no {markers[len(found)]!r} on the screen: {' '.join(argv)}")
        os.write(master, b"q")
        _drain_until_exit(master, proc)
        _, _, usage = os.wait4(proc.pid, 0)
    finally:
        if proc.returncode is None and proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    (first_wall, first_cpu), (done_wall, done_cpu) = found
    return Round(first_wall, first_cpu, done_wall, done_cpu, usage.ru_utime + usage.ru_stime)


def _drain_until_exit(master: int, proc: subprocess.Popen[bytes]) -> None:
    """Read what the app writes while it quits (a full pty would block it)."""
    deadline = time.perf_counter() + DEADLINE
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return
        elif _exited(proc.pid):
            return
    raise SystemExit("inspector open did not quit on q")


def _exited(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie, not reaped yet: ``wait4`` reads its usage)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _median(rounds: list[Round], field: str) -> float:
    return statistics.median(getattr(r, field) for r in rounds)


def _spread(rounds: list[Round], field: str) -> str:
    values = [getattr(r, field) * 1000 for r in rounds]
    return f"({min(values):.0f}-{max(values):.0f})"


def bench_process(
    request: Path, total: int, rounds: int, baseline: Path | None, env: dict[str, str]
) -> None:
    """Print medians (and CPU spreads) of both markers for ours and, if given, the baseline."""
    markers = (f"history · {total:,} events".encode(), f"replay done, {total:,} events".encode())
    roots = {"ours": ROOT} if baseline is None else {"ours": ROOT, "baseline": baseline}
    names = list(roots)
    for name in names:  # untimed: fills the bytecode cache
        run_round(roots[name], request, markers, env)
    results: dict[str, list[Round]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(run_round(roots[name], request, markers, env))
    print(f"\nwhole process, `inspector open` in a 160x48 pty, median of {rounds} (CPU spread):")
    for name in names:
        res = results[name]
        print(
            f"  {name:<9} first screen  wall {_median(res, 'first_wall') * 1000:7.1f} ms"
            f"  cpu {_median(res, 'first_cpu') * 1000:7.1f} ms {_spread(res, 'first_cpu')}"
        )
        print(
            f"  {'':<9} replay done   wall {_median(res, 'done_wall') * 1000:7.1f} ms"
            f"  cpu {_median(res, 'done_cpu') * 1000:7.1f} ms {_spread(res, 'done_cpu')}"
        )
        print(
            f"  {'':<9} to exit (q)                      cpu "
            f"{_median(res, 'total_cpu') * 1000:7.1f} ms {_spread(res, 'total_cpu')}"
        )
    if baseline is not None:
        ours, base = results["ours"], results["baseline"]
        for label, field in (("first screen", "first"), ("replay done", "done")):
            wall = _median(base, f"{field}_wall") / _median(ours, f"{field}_wall")
            cpu = _median(base, f"{field}_cpu") / _median(ours, f"{field}_cpu")
            print(f"  baseline/ours, {label}: wall {wall:4.2f}x, cpu {cpu:4.2f}x")
