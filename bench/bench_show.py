"""Time ``inspector show`` on a 100,000-event request.

Builds a realistic activity chain (orchestratorStarted, taskCompleted, taskScheduled,
orchestratorCompleted per turn) in a temporary directory, then times, in this process:

- loading it (base64 and binary): read, detect, decode, parse and convert to dataclasses;
- ``inspector show`` writing the full listing to /dev/null;
- ``inspector show --json`` writing to /dev/null;

and, as a separate process, the whole ``python -m inspector show`` command line.

Run: ``python bench/bench_show.py [--events N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.load import load_request
from engine.proto import orchestrator_service_pb2 as pb
from inspector.__main__ import main

BASE_SECONDS = 1_700_000_000


def _event(event_id: int, turn: int) -> pb.HistoryEvent:
    ev = pb.HistoryEvent(eventId=event_id)
    ev.timestamp.seconds = BASE_SECONDS + turn
    ev.timestamp.nanos = (turn * 7_919_000) % 1_000_000_000
    return ev


def build_chain(n_events: int, instance_id: str = "chain-0001") -> pb.OrchestratorRequest:
    """An activity chain of ``n_events`` events; the last turn's two events are new."""
    events: list[pb.HistoryEvent] = []
    ev = _event(-1, 0)
    ev.orchestratorStarted.SetInParent()
    events.append(ev)
    ev = _event(-1, 0)
    ev.executionStarted.name = "process_orders"
    ev.executionStarted.version.value = "1.0"
    ev.executionStarted.input.value = '{"batch": "2024-01", "count": 25000}'
    ev.executionStarted.orchestrationInstance.instanceId = instance_id
    ev.executionStarted.orchestrationInstance.executionId.value = "e-1"
    events.append(ev)
    ev = _event(0, 0)
    ev.taskScheduled.name = "process_order"
    ev.taskScheduled.input.value = '{"order": 0}'
    events.append(ev)
    ev = _event(-1, 0)
    ev.orchestratorCompleted.SetInParent()
    events.append(ev)
    seq = 0
    turn = 0
    while len(events) < n_events:
        turn += 1
        ev = _event(-1, turn)
        ev.orchestratorStarted.SetInParent()
        events.append(ev)
        ev = _event(-1, turn)
        ev.taskCompleted.taskScheduledId = seq
        ev.taskCompleted.result.value = f'{{"order": {seq}, "status": "shipped"}}'
        events.append(ev)
        seq += 1
        ev = _event(seq, turn)
        ev.taskScheduled.name = "process_order"
        ev.taskScheduled.input.value = f'{{"order": {seq}}}'
        events.append(ev)
        ev = _event(-1, turn)
        ev.orchestratorCompleted.SetInParent()
        events.append(ev)
    del events[n_events:]
    req = pb.OrchestratorRequest(instanceId=instance_id)
    req.executionId.value = "e-1"
    split = max(0, len(events) - 2)
    req.pastEvents.extend(events[:split])
    req.newEvents.extend(events[split:])
    return req


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _cli_seconds(args: list[str], repeat: int) -> float:
    def run() -> None:
        subprocess.run(
            [sys.executable, "-m", "inspector", *args],
            stdout=subprocess.DEVNULL,
            check=True,
        )

    return _best(run, repeat)


def main_bench(argv: list[str] | None = None) -> int:
    """Build the request, time every stage, print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args(argv)

    req = build_chain(opts.events)
    raw = req.SerializeToString()
    with tempfile.TemporaryDirectory(prefix="bench-show-") as tmp:
        b64_path = Path(tmp, "request.b64")
        bin_path = Path(tmp, "request.bin")
        b64_path.write_bytes(base64.b64encode(raw))
        bin_path.write_bytes(raw)
        n = len(req.pastEvents) + len(req.newEvents)
        print(f"request: {n} events, {len(raw):,} bytes binary, {b64_path.stat().st_size:,} base64")

        def parse_only() -> None:
            pb.OrchestratorRequest.FromString(raw)

        rows: list[tuple[str, float]] = [
            ("proto parse only (FromString)", _best(parse_only, opts.repeat)),
            ("load_request (binary file)", _best(lambda: load_request(bin_path), opts.repeat)),
            ("load_request (base64 file)", _best(lambda: load_request(b64_path), opts.repeat)),
        ]
        with _stdout_to_devnull():
            listing = _best(lambda: main(["show", str(b64_path)]), opts.repeat)
            as_json = _best(lambda: main(["show", str(b64_path), "--json"]), opts.repeat)
        rows.append(("show (load + full listing to /dev/null)", listing))
        rows.append(("show --json (load + JSON to /dev/null)", as_json))
        rows.append(
            ("`python -m inspector show` process", _cli_seconds(["show", str(b64_path)], 1))
        )
        rows.append(
            (
                "`python -m inspector show --json` process",
                _cli_seconds(["show", str(b64_path), "--json"], 1),
            )
        )
    width = max(len(label) for label, _ in rows)
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_bench())
