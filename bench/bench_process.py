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

    python bench/bench_process.py [--rounds N] [--quick] [--only SECTION] [--baseline DIR]

``--baseline DIR`` runs a second checkout's ``inspector`` in the same interleaved rounds (the
before of a change beside its after) and prints baseline/ours ratios.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

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
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
BASELINE: Path | None = None
"""Another checkout (``--baseline``) whose ``inspector`` runs beside ours in every comparison."""


class Job(NamedTuple):
    argv: Sequence[str]
    root: Path = ROOT
    """The checkout run (ours, or the baseline's): on ``PYTHONPATH`` and the current folder
    (``python -m`` looks in the current folder first)."""


class Figure(NamedTuple):
    wall: float
    cpu: float
    cpu_low: float
    cpu_high: float


def run_once(job: Job) -> tuple[float, float]:
    """Run one process to its end (stdout to /dev/null); return its wall and CPU seconds."""
    env = {**ENV, "PYTHONPATH": str(job.root)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        job.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env, cwd=job.root
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"exit status {code}: {' '.join(map(str, job.argv))}")
    return wall, usage.ru_utime + usage.ru_stime


INSTRUCTIONS = False
"""``--instructions``: also count each job's instructions once under valgrind (callgrind),
a figure a loaded machine does not disturb."""


def instructions(job: Job) -> int:
    """The instructions one run of ``job`` executes, as callgrind counts them."""
    env = {**ENV, "PYTHONPATH": str(job.root)}
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *job.argv]
    done = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, text=True, cwd=job.root
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"valgrind failed ({done.returncode}): {' '.join(map(str, job.argv))}")
    return int(found.group(1))


def _count_all(jobs: dict[str, Job]) -> None:
    if not INSTRUCTIONS:
        return
    counts = {name: instructions(job) for name, job in jobs.items()}
    first = next(iter(counts.values()))
    for name, count in counts.items():
        print(
            f"  {name:<34} {count / 1e6:9.1f} M instructions   ({first / count:4.2f}x of the first)"
        )


def interleaved(jobs: dict[str, Job], rounds: int) -> dict[str, Figure]:
    """Run every job once untimed, then ``rounds`` times interleaved (in a rotating order);
    return each one's median wall and CPU time and its CPU time's spread."""
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
    return {
        n: Figure(
            statistics.median(walls[n]), statistics.median(cpus[n]), min(cpus[n]), max(cpus[n])
        )
        for n in names
    }


def _row(label: str, fig: Figure, extra: str = "") -> None:
    spread = f"({fig.cpu_low * 1000:.0f}-{fig.cpu_high * 1000:.0f})"
    print(
        f"  {label:<34} wall {fig.wall * 1000:7.1f} ms   cpu {fig.cpu * 1000:7.1f} ms "
        f"{spread:<11}{extra}"
    )


def _with_baseline(jobs: dict[str, Job], ours: str) -> dict[str, Job]:
    """``jobs`` and, with ``--baseline``, ``ours`` run from the baseline checkout too."""
    if BASELINE is None:
        return jobs
    return {**jobs, f"{ours} [baseline]": jobs[ours]._replace(root=BASELINE)}


def _baseline_line(result: dict[str, Figure], ours: str) -> None:
    base = result.get(f"{ours} [baseline]")
    if base is not None:
        mine = result[ours]
        print(
            f"  baseline/ours: wall {base.wall / mine.wall:4.2f}x, cpu {base.cpu / mine.cpu:4.2f}x"
        )


def _write_b64(path: Path, msg: pb.OrchestratorRequest) -> Path:
    path.write_bytes(base64.b64encode(msg.SerializeToString()) + b"\n")
    return path


def bench_replay(tmp: Path, label: str, msg: pb.OrchestratorRequest, rounds: int) -> None:
    """``inspector replay`` against the SDK's executor, both as whole processes."""
    request = _write_b64(tmp / f"{label}.b64", msg)
    ours_out, sdk_out = tmp / f"{label}.ours.b64", tmp / f"{label}.sdk.b64"
    ours = [*INSPECTOR, "replay", str(request), "--app", str(APP), "--output", str(ours_out)]
    sdk = [sys.executable, str(SDK), str(request), str(APP), str(sdk_out)]
    jobs = _with_baseline(
        {"SDK executor (sdk_replay.py)": Job(sdk), "inspector replay": Job(ours)},
        "inspector replay",
    )
    result = interleaved(jobs, rounds)
    same = ours_out.read_bytes() == sdk_out.read_bytes()
    events = len(msg.pastEvents) + len(msg.newEvents)
    print(
        f"replay, {label}: {events:,} events (medians of {rounds} interleaved rounds, cpu spread)"
    )
    for name, fig in result.items():
        _row(name, fig)
    sdk_fig, our_fig = result["SDK executor (sdk_replay.py)"], result["inspector replay"]
    print(
        f"  ratio SDK/ours: wall {sdk_fig.wall / our_fig.wall:4.2f}x,"
        f" cpu {sdk_fig.cpu / our_fig.cpu:4.2f}x"
        f" (target >= 3x); responses byte for byte equal: {'yes' if same else 'NO'}"
    )
    _baseline_line(result, "inspector replay")
    _count_all(jobs)
    if not same:
        raise SystemExit("the responses differ")


def bench_startup(tmp: Path, rounds: int) -> None:
    """``inspector --help`` and a one-event ``inspector replay`` next to a bare interpreter,
    and next to importing the SDK's task module (what the app itself imports)."""
    one = pb.OrchestratorRequest(instanceId="bench-one")
    started = one.newEvents.add(eventId=-1).executionStarted
    started.name = "chain_orchestrator"
    started.input.value = "0"
    request = _write_b64(tmp / "one.b64", one)
    replay = [
        *INSPECTOR,
        "replay",
        str(request),
        "--app",
        str(APP),
        "--output",
        str(tmp / "one.out"),
    ]
    jobs = {
        "python -c pass": Job([sys.executable, "-c", "pass"]),
        "import durabletask.task (the app's)": Job(
            [sys.executable, "-c", "import durabletask.task"]
        ),
        "inspector --help": Job([*INSPECTOR, "--help"]),
        "inspector replay (1 event)": Job(replay),
        "SDK executor (1 event)": Job(
            [sys.executable, str(SDK), str(request), str(APP), str(tmp / "one.sdk")]
        ),
    }
    jobs = _with_baseline(_with_baseline(jobs, "inspector --help"), "inspector replay (1 event)")
    result = interleaved(jobs, rounds)
    bare = result.pop("python -c pass")
    print(f"start-up (medians of {rounds} interleaved rounds, cpu spread)")
    _row("python -c pass", bare)
    for label, fig in result.items():
        extra = (
            f"+{(fig.wall - bare.wall) * 1000:.0f} ms wall,"
            f" +{(fig.cpu - bare.cpu) * 1000:.0f} ms cpu"
            " over bare python (target < 100 ms)"
        )
        _row(label, fig, extra)
    _count_all(jobs)


def bench_show(tmp: Path, events: int, rounds: int) -> None:
    """``inspector show`` and ``show --json`` on a long history, whole process."""
    request = _write_b64(tmp / "show.b64", build_chain(events))
    jobs = {
        "inspector show": Job([*INSPECTOR, "show", str(request)]),
        "inspector show --json": Job([*INSPECTOR, "show", str(request), "--json"]),
    }
    jobs = _with_baseline(_with_baseline(jobs, "inspector show"), "inspector show --json")
    result = interleaved(jobs, rounds)
    print(f"show, {events:,} events (medians of {rounds} interleaved rounds, cpu spread)")
    targets = {
        "inspector show": "   (target < 400 ms)",
        "inspector show --json": "   (target < 600 ms)",
    }
    for label, fig in result.items():
        _row(label, fig, targets.get(label, ""))
    _baseline_line(result, "inspector show")
    _baseline_line(result, "inspector show --json")
    _count_all(jobs)


def main(argv: list[str] | None = None) -> int:
    """Build the requests and print every comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="histories a tenth as long")
    parser.add_argument(
        "--only", choices=("replay", "startup", "show"), help="run one section only"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another checkout (say `git archive main` unpacked) run beside ours: before/after",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each job's instructions once under valgrind (steady under load)",
    )
    opts = parser.parse_args(argv)
    global BASELINE, INSTRUCTIONS
    INSTRUCTIONS = opts.instructions
    BASELINE = opts.baseline.resolve() if opts.baseline else None
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
