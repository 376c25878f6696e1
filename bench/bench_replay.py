"""Replay throughput: ours (headless and frame-recording) against the durabletask SDK executor.

Runs both, side by side in one process, on the same long histories, and prints events per
second and ratios; then the peak memory of a frame-recorded 100,000-event replay.

    python bench/bench_replay.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from durabletask import worker as sdk_worker  # noqa: E402
from durabletask.internal import orchestrator_service_pb2 as sdk_pb  # noqa: E402
from durabletask.serialization import DEFAULT_DATA_CONVERTER  # noqa: E402

from bench import histories  # noqa: E402
from engine.app_loader import UserApp  # noqa: E402
from engine.history import OrchestrationRequest  # noqa: E402
from engine.proto import orchestrator_service_pb2 as pb  # noqa: E402
from engine.session import ReplaySession, replay_request  # noqa: E402

APP = UserApp(
    "bench",
    types.ModuleType("bench_app"),
    {
        "chain_orchestrator": histories.chain_orchestrator,
        "fan_out_orchestrator": histories.fan_out_orchestrator,
    },
)


def _best_of(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best CPU time of each run, the runs interleaved so machine noise hits all alike."""
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            gc.collect()
            start = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - start)
    return best


def _sdk(request: pb.OrchestratorRequest) -> Callable[[], Any]:
    sdk_req = sdk_pb.OrchestratorRequest.FromString(request.SerializeToString())
    registry = sdk_worker._Registry()
    registry.add_orchestrator(histories.chain_orchestrator)
    registry.add_orchestrator(histories.fan_out_orchestrator)
    logger = logging.getLogger("bench.sdk")
    logger.setLevel(logging.WARNING)

    def run() -> Any:
        executor = sdk_worker._OrchestrationExecutor(registry, logger, DEFAULT_DATA_CONVERTER)
        return executor.execute(sdk_req.instanceId, sdk_req.pastEvents, sdk_req.newEvents)

    return run


def _ours(request: pb.OrchestratorRequest) -> Callable[[], Any]:
    def run() -> Any:
        return replay_request(OrchestrationRequest.from_proto(request), APP)

    return run


def _ours_frames(request: pb.OrchestratorRequest) -> Callable[[], Any]:
    def run() -> Any:
        session = ReplaySession(OrchestrationRequest.from_proto(request), APP)
        session.advance()
        return session

    return run


def compare(label: str, request: pb.OrchestratorRequest, repeat: int) -> None:
    events = len(request.pastEvents) + len(request.newEvents)
    sdk_actions = _sdk(request)().actions
    ours_actions = _ours(request)().response.actions
    assert len(sdk_actions) == len(ours_actions), "the engines disagree"
    best = _best_of(
        {"sdk": _sdk(request), "ours": _ours(request), "frames": _ours_frames(request)}, repeat
    )
    t_sdk, t_ours, t_frames = best["sdk"], best["ours"], best["frames"]
    print(f"{label}: {events:,} events (best CPU time of {repeat} interleaved runs)")
    print(f"  SDK executor          {t_sdk:7.3f} s  {events / t_sdk:10,.0f} events/s")
    print(
        f"  ours, headless        {t_ours:7.3f} s  {events / t_ours:10,.0f} events/s"
        f"  ratio {t_sdk / t_ours:4.2f}x  (target >= 2x)"
    )
    print(
        f"  ours, frames recorded {t_frames:7.3f} s  {events / t_frames:10,.0f} events/s"
        f"  ratio {t_sdk / t_frames:4.2f}x  (target >= 1x)"
    )


def peak_memory(events_target: int) -> None:
    request = histories.activity_chain(events_target // 4)
    data = request.SerializeToString()
    del request
    gc.collect()
    tracemalloc.start()
    msg = pb.OrchestratorRequest.FromString(data)
    session = ReplaySession(OrchestrationRequest.from_proto(msg), APP)
    del msg
    session.advance()
    middle = session.frame(session.total // 2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"frame-recorded replay of {session.total:,} events: peak traced memory "
        f"{peak / 2**20:.0f} MB (target < 300 MB); frame {middle.index} has "
        f"{len(middle.open_tasks)} open task(s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller histories, one run each")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    repeat = 1 if args.quick else 5
    compare("activity chain", histories.activity_chain(20_000 // scale), repeat)
    compare("fan-out", histories.fan_out(20_000 // scale), repeat)
    peak_memory(100_000 // scale)


if __name__ == "__main__":
    main()
