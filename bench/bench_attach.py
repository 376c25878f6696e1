"""Time ``inspector attach`` on a sidecar holding many instances, next to one holding few.

Starts the SDK's in-memory sidecar twice, each in its own process as a user's sidecar would be
(``--instances`` and ``--few`` instances, scheduled with the SDK's client from four threads and
left PENDING: no worker runs, so nothing changes under the list but what the bench changes),
runs the attach app on each under Textual's ``run_test`` pilot with
the poller listing as it does for a user, and prints, side by side with the ratio:

- per key (down, pagedown, End, Home, a name filter applied, f (the status filter), enter
  opening an instance and escape back): the UI thread's CPU time and the pilot round trip
  (press, then wait until idle), median and max;
- one refresh: the UI's time to take a new listing (its handler, the list's refill and the
  redraw), and the poller's listings in its thread (the sidecar's answers included): every
  instance (every few seconds) and the second's one (the new instances and those in sight).

The UI's time is the main thread's CPU (``time.thread_time``): the poller runs in another
thread and the sidecar in another process, so a shared machine changes it less than the wall
clock. The pilot's own round trip is the no-op key's (f12, bound to nothing).

Opening an instance is shown twice: the first open of a session (the first stepper screen:
Textual lays a screen out when it is first pushed, unless the app prepared it ahead) and a
reused open (the stepper kept and loaded again).

Each measurement runs in its own process on sidecars filled once; ``--rounds`` runs it that many
times (a new session each, so one first open per round) and ``--baseline DIR`` measures another
checkout in the same rounds, interleaved with ours, and prints ours next to it.

Run: ``python bench/bench_attach.py [--instances N] [--few N] [--repeat R] [--rounds N]
[--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _tree() -> str:
    """The checkout measured (``--tree DIR``, given to a measuring process): ours by default."""
    argv = sys.argv
    return argv[argv.index("--tree") + 1] if "--tree" in argv[:-1] else str(ROOT)


sys.path.insert(0, _tree())

from durabletask import client as dt_client  # noqa: E402
from durabletask.testing import InMemoryOrchestrationBackend  # noqa: E402

from engine.worker import ConnectionOptions  # noqa: E402
from inspector.live import LiveApp, LiveConfig  # noqa: E402
from inspector.live.app import STATUS_FILTERS  # noqa: E402
from inspector.messages import InstancesLoaded  # noqa: E402
from inspector.screens.live import LiveScreen, LiveStepperScreen  # noqa: E402
from inspector.widgets.live import InstancesTable  # noqa: E402

QUIET = logging.getLogger("bench.attach.quiet")
QUIET.setLevel(logging.CRITICAL)
QUIET.propagate = False

FILTER = "bench-0000"
"""The name filter typed: ten instances match it (``bench-00000`` to ``bench-00009``)."""

Sample = tuple[float, float]
"""(UI thread CPU seconds, wall seconds) of one key or refresh."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _fill(address: str, count: int) -> float:
    """Schedule ``count`` instances (left pending); the seconds it took."""
    started = time.perf_counter()
    clients = [dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET) for _ in range(4)]

    def schedule(i: int) -> None:
        name = "bench_even" if i % 2 == 0 else "bench_odd"
        clients[i % 4].schedule_new_orchestration(name, instance_id=f"bench-{i:05d}")

    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(schedule, range(count)))
    finally:
        for c in clients:
            c.close()
    return time.perf_counter() - started


def _serve(port: int, count: int) -> None:
    """The sidecar's process: start, fill, say so, and serve until stdin closes."""
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    try:
        filled = _fill(f"127.0.0.1:{port}", count)
        print(f"{filled:.2f}", flush=True)
        sys.stdin.read()
    finally:
        backend.stop(grace=0)


def _start_sidecar(count: int) -> tuple[subprocess.Popen[str], str, float]:
    """The in-memory sidecar in its own process (as a user's would be), holding ``count``."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--instances", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise SystemExit("bench_attach: the sidecar did not start")
    return proc, f"127.0.0.1:{port}", float(line)


async def _timed(pilot: Any, action: Callable[[], Awaitable[object]]) -> Sample:
    cpu, wall = time.thread_time(), time.perf_counter()
    await action()
    await pilot.pause()
    return time.thread_time() - cpu, time.perf_counter() - wall


async def _wait(pilot: Any, test: Callable[[], object], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench waited too long")
        await pilot.pause(0.02)


async def _keys(app: LiveApp, pilot: Any, repeat: int) -> dict[str, list[Sample]]:
    table = app.screen.query_one(InstancesTable)
    total = table.row_count
    out: dict[str, list[Sample]] = {}

    def add(label: str, sample: Sample) -> None:
        out.setdefault(label, []).append(sample)

    for _ in range(repeat):
        for label, key in (("down", "down"), ("pagedown", "pagedown"), ("End", "end")):
            add(label, await _timed(pilot, lambda k=key: pilot.press(k)))
        add("Home", await _timed(pilot, lambda: pilot.press("home")))
        await pilot.press("slash", *FILTER)
        add("filter (enter)", await _timed(pilot, lambda: pilot.press("enter")))
        await _wait(pilot, lambda: table.row_count and table.row_count < len(table.instances))
        await pilot.press("slash", *["backspace"] * len(FILTER), "enter")
        await _wait(pilot, lambda: table.row_count == len(table.instances))
        table.focus()
        add("status (f)", await _timed(pilot, lambda: pilot.press("f")))
        await pilot.press(*["f"] * (len(STATUS_FILTERS) - 1))  # round to every status again
        await _wait(pilot, lambda: not app.filters.status and table.row_count == total)

        async def open_it() -> None:
            await pilot.press("enter")
            await _wait(pilot, lambda: isinstance(app.screen, LiveStepperScreen))

        first = "open: first (enter)" not in out
        add(
            "open: first (enter)" if first else "open: reused (enter)", await _timed(pilot, open_it)
        )

        async def back() -> None:
            await pilot.press("escape")
            await _wait(pilot, lambda: isinstance(app.screen, LiveScreen))

        add("back (escape)", await _timed(pilot, back))
    return out


async def _refreshes(app: LiveApp, pilot: Any, repeat: int) -> dict[str, list[Sample]]:
    """One refresh: what the UI does with a new listing, and the poller's listings themselves."""
    app._halt.set()  # the poller stops: the bench lists and posts
    await pilot.pause(1.5)
    out: dict[str, list[Sample]] = {"refresh (UI)": []}
    poller = app.poller

    def listing(full: bool) -> tuple[list[Any], Sample]:
        cpu, wall = time.thread_time(), time.perf_counter()
        rows = poller.listing(poller.filters(), full=full)
        return rows, (time.thread_time() - cpu, time.perf_counter() - wall)

    for i in range(repeat):
        rows, sample = await asyncio.to_thread(listing, True)
        out.setdefault("listing: every instance", []).append(sample)
        rows, sample = await asyncio.to_thread(listing, False)
        out.setdefault("listing: new + in sight", []).append(sample)
        if rows and i % 2:
            rows = [replace(rows[0], status="RUNNING"), *rows[1:]]  # the newest one moved on
        out["refresh (UI)"].append(
            await _timed(pilot, lambda r=rows: _post(app, InstancesLoaded(r)))
        )
    return out


async def _post(app: LiveApp, message: InstancesLoaded) -> None:
    app.post_message(message)


async def _measure(address: str, count: int, repeat: int) -> dict[str, list[Sample]]:
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            table = app.screen.query_one(InstancesTable)
            await _wait(pilot, lambda: table.row_count == count)
            await pilot.pause(1.2)  # a second listing is under way, as for a user
            samples = {"no-op key (pilot)": [await _timed(pilot, lambda: pilot.press("f12"))]}
            for _ in range(repeat - 1):
                samples["no-op key (pilot)"].append(await _timed(pilot, lambda: pilot.press("f12")))
            samples.update(await _keys(app, pilot, repeat))
            samples.update(await _refreshes(app, pilot, repeat))
            await pilot.press("q")
    finally:
        app.close()
    return samples


def _run_measure(tree: str, address: str, count: int, repeat: int) -> dict[str, list[Sample]]:
    """One measurement in its own process, on ``tree``'s inspector (a new session)."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            address,
            "--instances",
            str(count),
            "--repeat",
            str(repeat),
            "--tree",
            tree,
        ],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    samples: dict[str, list[list[float]]] = json.loads(out.splitlines()[-1])
    return {label: [(cpu, wall) for cpu, wall in values] for label, values in samples.items()}


def _merge(into: dict[str, list[Sample]], more: dict[str, list[Sample]]) -> None:
    for label, values in more.items():
        into.setdefault(label, []).extend(values)


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} {max(values) * 1000:7.1f}"


def _print(many: int, few: int, a: dict[str, list[Sample]], b: dict[str, list[Sample]]) -> None:
    head = f"{'':24} {f'{many:,} instances':>31} {f'{few:,} instances':>31} {'ratio':>12}"
    print(head)
    sub = "cpu med/max  wall med/max"
    print(f"{'ms':24} {sub:>31} {sub:>31} {'cpu  wall':>12}")
    for label in a:
        cpu_a = [s[0] for s in a[label]]
        cpu_b = [s[0] for s in b.get(label, a[label])]
        wall_a = [s[1] for s in a[label]]
        wall_b = [s[1] for s in b.get(label, a[label])]
        ratio_cpu = statistics.median(cpu_a) / max(statistics.median(cpu_b), 1e-6)
        ratio_wall = statistics.median(wall_a) / max(statistics.median(wall_b), 1e-6)
        print(
            f"{label:24} {_ms(cpu_a)}  {_ms(wall_a)}  {_ms(cpu_b)}  {_ms(wall_b)}"
            f"  {ratio_cpu:5.1f} {ratio_wall:5.1f}"
        )


def _print_beside(many: int, ours: dict[str, list[Sample]], base: dict[str, list[Sample]]) -> None:
    """Ours next to the baseline's, on the sidecar holding many."""
    print(f"\n{many:,} instances: ours next to the baseline (UI cpu and wall, medians, ms)")
    print(
        f"{'':24} {'ours cpu':>9} {'base cpu':>9} {'ratio':>6} {'ours wall':>10} {'base wall':>10}"
    )
    for label in ours:
        if label not in base:
            continue
        cpu_o = statistics.median(s[0] for s in ours[label]) * 1000
        cpu_b = statistics.median(s[0] for s in base[label]) * 1000
        wall_o = statistics.median(s[1] for s in ours[label]) * 1000
        wall_b = statistics.median(s[1] for s in base[label]) * 1000
        print(
            f"{label:24} {cpu_o:9.1f} {cpu_b:9.1f} {cpu_o / max(cpu_b, 1e-6):6.2f}"
            f" {wall_o:10.1f} {wall_b:10.1f}"
        )


def main() -> None:
    """Fill the sidecars, drive the app on each (ours and the baseline's), print the tables."""
    parser = argparse.ArgumentParser(description="Time inspector attach on many instances.")
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--few", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", metavar="DIR", help="another checkout, measured beside")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--measure", default="", help=argparse.SUPPRESS)
    parser.add_argument("--tree", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.instances)
        return
    if args.measure:
        samples = asyncio.run(_measure(args.measure, args.instances, args.repeat))
        print(json.dumps(samples))
        return
    if args.instances < 1 or args.few < 1 or args.repeat < 1 or args.rounds < 1:
        print(
            "bench_attach: --instances, --few, --repeat and --rounds must be at least 1",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if args.baseline and not (Path(args.baseline) / "inspector" / "live").is_dir():
        print(f"bench_attach: {args.baseline} is not a checkout of the inspector", file=sys.stderr)
        raise SystemExit(2)
    trees = {"ours": str(ROOT)}
    if args.baseline:
        trees["baseline"] = str(Path(args.baseline).resolve())
    many_proc, many_at, filled = _start_sidecar(args.instances)
    try:
        few_proc, few_at, _ = _start_sidecar(args.few)
        try:
            many: dict[str, dict[str, list[Sample]]] = {name: {} for name in trees}
            few: dict[str, dict[str, list[Sample]]] = {name: {} for name in trees}
            for _ in range(args.rounds):
                for name, tree in trees.items():  # interleaved: each round, each tree
                    _merge(many[name], _run_measure(tree, many_at, args.instances, args.repeat))
                    _merge(few[name], _run_measure(tree, few_at, args.few, args.repeat))
        finally:
            _stop(few_proc)
    finally:
        _stop(many_proc)
    print(
        f"load {os.getloadavg()[0]:.2f}; {args.instances:,} scheduled in {filled:.1f} s (pending);"
        f" {args.rounds} round(s) of {args.repeat}"
    )
    for name in trees:
        print(f"\n{name}:")
        _print(args.instances, args.few, many[name], few[name])
    if args.baseline:
        _print_beside(args.instances, many["ours"], many["baseline"])


def _stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(30)


if __name__ == "__main__":
    main()
