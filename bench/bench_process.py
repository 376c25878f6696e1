"""Whole-process speed: ``inspector replay`` against the SDK doing the same job, start-up, show.

Every figure is a separate process, as a user runs it, and every comparison runs side by
side: the rounds interleave ours and the SDK's (in a rotating order), so a busy machine slows
both alike. It prints the median wall time and the median CPU time (user + system, which a
loaded machine disturbs less) of each, and the ratios.

- ``replay``: ``python -m inspector replay REQUEST --app APP --output FILE`` against
  ``bench/sdk_replay.py`` (read the base64 request, run the SDK's executor, write the base64
  response) on an 80,002-event activity chain and a 40,004-event fan-out; both responses
  must be equal byte for byte.
- start-up: ``inspector --help`` and ``inspector replay`` on a one-event request, each next
  to a bare ``python -c pass``.
- ``inspector show`` on a 100,000-event request, its listing and ``--json``.

    python bench/bench_process.py [--rounds N] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import histories  # noqa: E402
from bench.bench_show import build_chain  # noqa: E402
from engine.proto import orchestrator_service_pb2 as pb  # noqa: E402

APP = ROOT / "bench" / "replay_app.py"
SDK = ROOT / "bench" / "sdk_replay.py"
INSPECTOR = [sys.executable, "-m", "inspector"]
# As installed: the SDK's site-packages hold compiled bytecode, so ours gets it too (cached
# under a private prefix, never in the tree), and a warm-up round fills the cache untimed.
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPATH": str(ROOT),
}


def run_once(argv: Sequence[str]) -> tuple[float, float]:
    """Run one process to its end (stdout to /dev/null); return its wall and CPU seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"exit status {code}: {' '.join(map(str, argv))}")
    return wall, usage.ru_utime + usage.ru_stime


def interleaved(jobs: dict[str, Sequence[str]], rounds: int) -> dict[str, tuple[float, float]]:
    """Run every job once untimed, then ``rounds`` times interleaved; return medians."""
    walls: dict[str, list[float]] = {name: [] for name in jobs}
    cpus: dict[str, list[float]] = {name: [] for name in jobs}
    names = list(jobs)
    for name in names:
        run_once(jobs[name])
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            wall, cpu = run_once(jobs[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {n: (statistics.median(walls[n]), statistics.median(cpus[n])) for n in names}


def _row(label: str, wall: float, cpu: float, extra: str = "") -> None:
    print(f"  {label:<34} wall {wall * 1000:7.1f} ms   cpu {cpu * 1000:7.1f} ms{extra}")


def _write_b64(path: Path, msg: pb.OrchestratorRequest) -> Path:
    path.write_bytes(base64.b64encode(msg.SerializeToString()) + b"\n")
    return path


def bench_replay(tmp: Path, label: str, msg: pb.OrchestratorRequest, rounds: int) -> None:
    """``inspector replay`` against the SDK's executor, both as whole processes."""
    request = _write_b64(tmp / f"{label}.b64", msg)
    ours_out, sdk_out = tmp / f"{label}.ours.b64", tmp / f"{label}.sdk.b64"
    ours = [*INSPECTOR, "replay", str(request), "--app", str(APP), "--output", str(ours_out)]
    sdk = [sys.executable, str(SDK), str(request), str(APP), str(sdk_out)]
    result = interleaved({"sdk": sdk, "ours": ours}, rounds)
    same = ours_out.read_bytes() == sdk_out.read_bytes()
    events = len(msg.pastEvents) + len(msg.newEvents)
    print(f"replay, {label}: {events:,} events (medians of {rounds} interleaved rounds)")
    (sdk_wall, sdk_cpu), (our_wall, our_cpu) = result["sdk"], result["ours"]
    _row("SDK executor (sdk_replay.py)", sdk_wall, sdk_cpu)
    _row("inspector replay", our_wall, our_cpu)
    print(
        f"  ratio SDK/ours: wall {sdk_wall / our_wall:4.2f}x, cpu {sdk_cpu / our_cpu:4.2f}x"
        f" (target >= 3x); responses byte for byte equal: {'yes' if same else 'NO'}"
    )
    if not same:
        raise SystemExit("the responses differ")


def bench_startup(tmp: Path, rounds: int) -> None:
    """``inspector --help`` and a one-event ``inspector replay`` next to a bare interpreter."""
    one = pb.OrchestratorRequest(instanceId="bench-one")
    started = one.newEvents.add(eventId=-1).executionStarted
    started.name = "chain_orchestrator"
    started.input.value = "0"
    request = _write_b64(tmp / "one.b64", one)
    jobs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "inspector --help": [*INSPECTOR, "--help"],
        "inspector replay (1 event)": [
            *INSPECTOR,
            "replay",
            str(request),
            "--app",
            str(APP),
            "--output",
            str(tmp / "one.out"),
        ],
    }
    result = interleaved(jobs, rounds)
    bare_wall, bare_cpu = result.pop("python -c pass")
    print(f"start-up (medians of {rounds} interleaved rounds)")
    _row("python -c pass", bare_wall, bare_cpu)
    for label, (wall, cpu) in result.items():
        extra = (
            f"   +{(wall - bare_wall) * 1000:.0f} ms wall, +{(cpu - bare_cpu) * 1000:.0f} ms cpu"
        )
        _row(label, wall, cpu, extra + " over bare python (target < 100 ms)")


def bench_show(tmp: Path, events: int, rounds: int) -> None:
    """``inspector show`` and ``show --json`` on a long history, whole process."""
    request = _write_b64(tmp / "show.b64", build_chain(events))
    jobs = {
        "inspector show": [*INSPECTOR, "show", str(request)],
        "inspector show --json": [*INSPECTOR, "show", str(request), "--json"],
    }
    result = interleaved(jobs, rounds)
    print(f"show, {events:,} events (medians of {rounds} interleaved rounds)")
    for (label, (wall, cpu)), target in zip(result.items(), ("400", "600"), strict=True):
        _row(label, wall, cpu, f"   (target < {target} ms)")


def main(argv: list[str] | None = None) -> int:
    """Build the requests and print every comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="histories a tenth as long")
    parser.add_argument(
        "--only", choices=("replay", "startup", "show"), help="run one section only"
    )
    opts = parser.parse_args(argv)
    scale = 10 if opts.quick else 1
    with tempfile.TemporaryDirectory(prefix="bench-process-") as name:
        tmp = Path(name)
        ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        if opts.only in (None, "replay"):
            bench_replay(tmp, "chain", histories.activity_chain(20_000 // scale), opts.rounds)
            bench_replay(tmp, "fan-out", histories.fan_out(20_000 // scale), opts.rounds)
        if opts.only in (None, "startup"):
            bench_startup(tmp, opts.rounds)
        if opts.only in (None, "show"):
            bench_show(tmp, 100_000 // scale, opts.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
