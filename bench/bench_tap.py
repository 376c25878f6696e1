"""The SDK's worker through ``inspector tap`` vs straight to the sidecar: orchestrations per second.

Each run starts a fresh ``durabletask.testing.InMemoryOrchestrationBackend`` in this process and
the SDK's ``TaskHubGrpcWorker`` (the samples registered) as a separate process, connected
either to the sidecar itself or to an ``inspector tap`` process in front of it (headless, its
log lines written as usual). After the same warm-up, N ``fan_out_fan_in`` orchestrations (5
activities at once, then one more) are scheduled with the SDK's client, straight to the
sidecar, and waited for. Rounds interleave both set-ups, alternating which goes first; the
medians and the throughput ratio are printed (target: at least 0.9), and the CPU time each
process spent per orchestration (read from /proc: steadier than rates on a shared machine)::

    python bench/bench_tap.py [--count 300] [--rounds 5] [--tap-arg=ARG ...]

``--tap-arg`` passes one more argument to ``inspector tap``: ``--tap-arg=--header
--tap-arg=x-bench=1`` (a header to add, which the in-memory sidecar ignores) measures the gRPC
forwarder, the path the tap takes when it must rewrite calls (docs/tap.md), instead of the relay.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_worker import (  # noqa: E402
    _QUIET,
    _SDK_WORKER,
    FAN_OUT,
    SETTLE_SECONDS,
    WARMUP,
    _free_port,
    _wait_all,
)
from samples import orchestrations as samples  # noqa: E402


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start_tap(
    sidecar_port: int, env: dict[str, str], log: Path, extra: list[str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    out = open(log, "wb")  # noqa: SIM115 - the child owns it from here
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspector",
            "tap",
            f"127.0.0.1:{port}",
            "--sidecar",
            f"127.0.0.1:{sidecar_port}",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    deadline = time.monotonic() + 60
    while "tap: listening on" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the tap did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)
    return proc, f"127.0.0.1:{port}"


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (0.0 where /proc is not there)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CPU: dict[str, list[dict[str, float]]] = {"direct": [], "tap": []}
"""Per run: CPU milliseconds per orchestration of the worker, the tap, and this process (the
sidecar and the client)."""


def run_once(kind: str, count: int, folder: Path, tap_args: list[str] | None = None) -> float:
    """Push ``count`` orchestrations with the SDK's worker, ``direct`` or through the ``tap``."""
    port = _free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs: list[subprocess.Popen[bytes]] = []
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=_QUIET)
    try:
        address = f"127.0.0.1:{port}"
        if kind == "tap":
            tap, address = _start_tap(port, env, folder / "tap.log", tap_args or [])
            procs.append(tap)
        procs.insert(
            0,
            subprocess.Popen(
                [sys.executable, "-c", _SDK_WORKER, address],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        )
        warm = [
            client.schedule_new_orchestration(samples.fan_out_fan_in, input=FAN_OUT)
            for _ in range(WARMUP)
        ]
        _wait_all(client, warm)
        time.sleep(SETTLE_SECONDS)
        before = {"worker": _cpu_seconds(procs[0].pid), "here": time.process_time()}
        before["tap"] = _cpu_seconds(procs[1].pid) if kind == "tap" else 0.0
        started = time.perf_counter()
        ids = [
            client.schedule_new_orchestration(samples.fan_out_fan_in, input=FAN_OUT)
            for _ in range(count)
        ]
        statuses = _wait_all(client, ids)
        elapsed = time.perf_counter() - started
        after = {"worker": _cpu_seconds(procs[0].pid), "here": time.process_time()}
        after["tap"] = _cpu_seconds(procs[1].pid) if kind == "tap" else 0.0
        CPU[kind].append({name: 1000 * (after[name] - before[name]) / count for name in after})
        if statuses != {"COMPLETED": count}:
            raise SystemExit(f"{kind}: not every orchestration completed: {statuses}")
        return count / elapsed
    finally:
        client.close()
        for proc in procs:  # the worker first, then the tap behind it
            _stop(proc)
        backend.stop(grace=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=300, help="orchestrations per run")
    parser.add_argument("--rounds", type=int, default=5, help="runs per set-up")
    parser.add_argument(
        "--tap-arg", action="append", default=[], help="one more argument for inspector tap"
    )
    args = parser.parse_args(argv)
    rates: dict[str, list[float]] = {"direct": [], "tap": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            order = ("direct", "tap") if round_no % 2 == 0 else ("tap", "direct")
            for kind in order:
                rate = run_once(kind, args.count, Path(tmp), args.tap_arg)
                rates[kind].append(rate)
                print(f"round {round_no + 1}: {kind:7} {rate:8.1f} orchestrations/s", flush=True)
    print(
        f"{args.count} orchestrations, fan-out of {FAN_OUT} activities each (+1 to sum), "
        f"SDK worker, cpus={os.cpu_count()}, {args.rounds} rounds"
        + (f", tap {' '.join(args.tap_arg)}" if args.tap_arg else "")
    )
    median = {kind: statistics.median(values) for kind, values in rates.items()}
    print(f"{'':28}{'median':>8}{'best':>8}")
    print(f"straight to the sidecar:    {median['direct']:8.1f}{max(rates['direct']):8.1f}")
    print(f"through inspector tap:      {median['tap']:8.1f}{max(rates['tap']):8.1f}")
    ratios = [tap / direct for tap, direct in zip(rates["tap"], rates["direct"], strict=True)]
    print(
        f"throughput ratio (tap / direct): {median['tap'] / median['direct']:.2f} of medians"
        f"   (per round: {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.9)"
    )
    cpu = {
        kind: {name: statistics.median(run[name] for run in runs) for name in runs[0]}
        for kind, runs in CPU.items()
    }
    print(
        "CPU per orchestration, medians (ms): "
        f"direct: worker {cpu['direct']['worker']:.2f}, sidecar+client {cpu['direct']['here']:.2f}"
        f"; tapped: worker {cpu['tap']['worker']:.2f}, sidecar+client {cpu['tap']['here']:.2f}, "
        f"tap {cpu['tap']['tap']:.2f} ({cpu['tap']['tap'] / cpu['tap']['worker']:.2f} of the "
        "worker's)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
