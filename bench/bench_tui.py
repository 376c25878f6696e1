"""Time ``inspector open`` on a 100,000-event request, driven headless with ``run_test``.

Builds an activity chain (the same shape as ``bench_show.py``), then measures:

- loading it (decode and wrap, as ``inspector open`` does before the app starts);
- the time from starting the app to its first screen drawn (replay still running);
- how long the worker thread takes to record every event;
- per key, once recorded (``n`` step, ``End``, ``Home``, ``g`` to the middle): the app's own
  work (the move and redrawing the screen) and the whole pilot round trip (press, then wait
  until idle), next to the round trip of a key bound to nothing.

``--process`` instead times the whole ``inspector open`` process in a pseudo-terminal, as a
user starts it (see ``bench/tui_process.py``): first screen and replay recorded, wall and CPU
time from the process's start, median of ``--rounds``; ``--baseline DIR`` runs another
checkout in the same interleaved rounds.

Run: ``python bench/bench_tui.py [--events N] [--repeat R] [--process [--rounds N]
[--baseline DIR]]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_show import build_chain  # noqa: E402

from engine.load import to_request  # noqa: E402
from engine.session import ReplaySession  # noqa: E402
from inspector.app import InspectorApp  # noqa: E402
from inspector.screens.main import StepperScreen  # noqa: E402


class _Meter:
    """Adds up the time spent in the wrapped callables."""

    def __init__(self) -> None:
        self.spent = 0.0

    def wrap(self, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - t0

        return timed


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms"


async def _drive(n_events: int, repeat: int) -> None:
    msg = build_chain(n_events)
    start = time.perf_counter()
    session = ReplaySession(to_request(msg, "<bench>"))
    print(f"events:                  {n_events:,}")
    print(f"load (before the app):   {(time.perf_counter() - start) * 1000:8.1f} ms")

    app = InspectorApp(session)
    started = time.perf_counter()
    async with app.run_test(size=(160, 48)) as pilot:
        while not isinstance(app.screen, StepperScreen) or app.screen.first_painted_at is None:
            await asyncio.sleep(0.001)
        screen = app.stepper
        assert screen.first_painted_at is not None
        first = screen.first_painted_at - started
        print(f"first screen:            {first * 1000:8.1f} ms")
        while not screen.replay_done:
            await asyncio.sleep(0.005)
        print(
            f"replay recorded:         {(time.perf_counter() - started) * 1000:8.1f} ms after start"
        )
        await pilot.pause()

        meter = _Meter()
        compositor: Any = screen._compositor
        compositor.render_update = meter.wrap(compositor.render_update)
        screen.goto = meter.wrap(screen.goto)  # type: ignore[method-assign]

        async def timed(keys: list[str], expect: int) -> tuple[float, float]:
            meter.spent = 0.0
            t0 = time.perf_counter()
            await pilot.press(*keys)
            await pilot.pause()
            wall = time.perf_counter() - t0
            frame = screen.current_frame
            assert frame is not None and frame.index == expect, (keys, frame and frame.index)
            return meter.spent, wall

        noop = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            await pilot.press("f12")
            await pilot.pause()
            noop.append(time.perf_counter() - t0)

        middle = n_events // 2
        work: dict[str, list[float]] = {}
        wall: dict[str, list[float]] = {}
        for _ in range(repeat):
            for label, keys, expect in (
                ("n (step)", ["n"], screen.position + 1),
                ("End", ["end"], n_events - 1),
                ("Home", ["home"], -1),
            ):
                w, t = await timed(keys, expect)
                work.setdefault(label, []).append(w)
                wall.setdefault(label, []).append(t)
            await pilot.press("g", *str(middle))
            w, t = await timed(["enter"], middle)
            work.setdefault("g middle", []).append(w)
            wall.setdefault("g middle", []).append(t)
        print(f"\nper key ({repeat} runs)       app work (move + redraw)        pilot round trip")
        for label in work:
            print(f"  {label:<22} {_ms(work[label])}   {_ms(wall[label])}")
        print(f"  {'no-op key':<22} {'':<31}   {_ms(noop)}")
        await pilot.press("q")


def main() -> None:
    """Build the request and print the timings."""
    parser = argparse.ArgumentParser(description="Time inspector open on a long history.")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--process", action="store_true", help="time the whole process in a pty")
    parser.add_argument("--rounds", type=int, default=5, help="--process rounds (default 5)")
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="another checkout beside")
    args = parser.parse_args()
    if args.process:
        _process(args)
    else:
        asyncio.run(_drive(args.events, args.repeat))


def _process(args: argparse.Namespace) -> None:
    """Write the request to a file, then time ``inspector open`` on it as whole processes."""
    from tui_process import bench_process

    print(f"events: {args.events:,}   load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as name:
        tmp = Path(name)
        request = tmp / "chain.b64"
        request.write_bytes(base64.b64encode(build_chain(args.events).SerializeToString()))
        # compiled bytecode, as installed, cached under a private prefix (never in the tree)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        baseline = args.baseline.resolve() if args.baseline else None
        bench_process(request, args.events, args.rounds, baseline, env)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
