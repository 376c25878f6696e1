"""Profiles of ``inspector worker`` under the benchmark's load: the worker and its user processes.

``python bench/bench_worker.py --profile DIR`` runs ours under this module: every thread of
the worker process (gRPC's own Python threads included) and every user process is profiled
with :mod:`cProfile`, and each writes ``DIR/<pid>-<thread>.prof`` when it ends. Read them
with ``python bench/profile_worker.py DIR [--top N]`` (the worker's threads merged, the user
processes merged). The profiler slows everything down; read the shares, not the times.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import threading
import time
from pathlib import Path
from typing import Any

_DIR_ENV = "INSPECTOR_BENCH_PROFILE_DIR"


def _dump(profile: cProfile.Profile, name: str) -> None:
    folder = Path(os.environ[_DIR_ENV])
    profile.dump_stats(folder / f"{os.getpid()}-{name}.prof")


def _profile_threads() -> None:
    run = threading.Thread.run

    def profiled(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        try:
            run(self)
        finally:
            profile.disable()
            _dump(profile, f"worker-{self.name}")

    threading.Thread.run = profiled  # type: ignore[method-assign]


def profiled_user_process(app_spec: str, *args: Any) -> None:
    """A user process's entry point with its jobs profiled (loading the APP is not);
    written when the process is asked to exit."""
    from engine.app_loader import import_app

    import_app(app_spec)
    import engine.worker._child as child

    profile = cProfile.Profile(time.thread_time)
    for name in ("turn", "activity", "entity"):
        method = getattr(child.JobRunner, name)

        def profiled(self: Any, *job: Any, _method: Any = method) -> Any:
            profile.enable()
            try:
                return _method(self, *job)
            finally:
                profile.disable()

        setattr(child.JobRunner, name, profiled)
    try:
        child.child_main(app_spec, *args)
    finally:
        _dump(profile, "user")


def run_worker(argv: list[str]) -> int:
    """``inspector worker ARGS`` with every thread and user process profiled."""
    _profile_threads()
    import engine.worker._process as process

    process.run_user_process = profiled_user_process  # type: ignore[assignment]
    from inspector.__main__ import main

    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    try:
        return main(["worker", *argv])
    finally:
        profile.disable()
        _dump(profile, "worker-main")


def report(folder: Path, top: int) -> None:
    """Print the worker's threads merged, then the user processes merged."""
    parts = (("worker process", "*-worker-*.prof"), ("user processes", "*-user.prof"))
    for title, pattern in parts:
        files = sorted(folder.glob(pattern))
        if not files:
            continue
        stats = pstats.Stats(*map(str, files))
        print(f"=== {title} ({len(files)} profiles) ===")
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=30)
    opts = parser.parse_args()
    report(opts.folder, opts.top)
    sys.exit(0)
