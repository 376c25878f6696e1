"""Every sample scenario ends the same under our worker as under the SDK's own worker.

Both run side by side on separate in-memory sidecars, driven by the SDK's client through the
scenario drivers of :mod:`samples.record`. Like the recorder, two workers serve each sidecar:
one with the defaults, one with a one-second ``maximum_timer_interval`` for the split-timer
samples (work-item filters keep them apart).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from conftest import QUIET, free_port
from durabletask import client as dt_client
from durabletask import worker as dt_worker

from engine.worker import ConnectionOptions, Worker, WorkerOptions
from samples import orchestrations as samples
from samples.record import SCENARIOS, RecordingBackend, ScenarioContext

Final = dict[str, tuple[str, str | None, str | None, str | None]]


def _names(fns: list[Callable[..., Any]]) -> tuple[str, ...]:
    return tuple(fn.__name__ for fn in fns)


def _drive(backend: RecordingBackend, port: int) -> Final:
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    instances: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()
    try:
        contexts = [ScenarioContext(n, client, backend, instances, lock) for n in SCENARIOS]
        with ThreadPoolExecutor(max_workers=len(contexts)) as pool:
            futures = [pool.submit(SCENARIOS[c.name].driver, c) for c in contexts]
            for future in futures:
                future.result(timeout=60)
        final: Final = {}
        for iid in sorted(set(instances) | {t.instance_id for t in backend.turns}):
            state = client.get_orchestration_state(iid)
            assert state is not None, iid
            failure = state.failure_details
            final[iid] = (
                state.runtime_status.name,
                state.serialized_output,
                state.serialized_custom_status,
                None if failure is None else f"{failure.error_type}: {failure.message}",
            )
        return final
    finally:
        client.close()


def _run_sdk() -> Final:
    samples.reset_state()
    port = free_port()
    backend = RecordingBackend(port)
    backend.start()
    split = samples.SPLIT_TIMER_ORCHESTRATORS
    regular = [fn for fn in samples.ORCHESTRATORS if fn not in split]
    workers = []
    for orchestrators, activities, interval in (
        (regular, samples.ACTIVITIES, dt_worker.DEFAULT_MAXIMUM_TIMER_INTERVAL),
        (split, [], samples.SPLIT_TIMER_MAXIMUM_INTERVAL),
    ):
        w = dt_worker.TaskHubGrpcWorker(
            host_address=f"127.0.0.1:{port}", logger=QUIET, maximum_timer_interval=interval
        )
        for fn in orchestrators:
            w.add_orchestrator(fn)
        for fn in activities:
            w.add_activity(fn)
        w.use_work_item_filters()
        workers.append(w)
    try:
        for w in workers:
            w.start()
        return _drive(backend, port)
    finally:
        for w in workers:
            w.stop()
        backend.stop(grace=0)


def _run_ours(record_dir: Path) -> Final:
    port = free_port()
    backend = RecordingBackend(port)
    backend.start()
    split = samples.SPLIT_TIMER_ORCHESTRATORS
    regular = [fn for fn in samples.ORCHESTRATORS if fn not in split]
    connection = ConnectionOptions(f"127.0.0.1:{port}")
    workers = [
        Worker(
            connection,
            WorkerOptions(
                app="samples.orchestrations",
                orchestrator_filter=_names(regular),
                activity_filter=_names(samples.ACTIVITIES),
                record_dir=str(record_dir),
                max_orchestrations=2,
                max_activities=2,
            ),
        ),
        Worker(
            connection,
            WorkerOptions(
                app="samples.orchestrations",
                orchestrator_filter=_names(split),
                activity_filter=(),
                maximum_timer_interval=samples.SPLIT_TIMER_MAXIMUM_INTERVAL,
                max_orchestrations=1,
                max_activities=1,
            ),
        ),
    ]
    try:
        for w in workers:
            w.start()
        return _drive(backend, port)
    finally:
        for w in workers:
            w.stop()
        backend.stop(grace=0)


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _plain(text: str | None) -> str | None:
    """Wall-clock times and the uuids derived from them differ between two runs."""
    if text is None:
        return None
    return _UUID.sub("<uuid>", _TIME.sub("<time>", text))


def _without_traces(final: Final) -> Final:
    return {
        iid: (s, _plain(o), _plain(c), _plain(f.split("\n")[0]) if f else f)
        for iid, (s, o, c, f) in final.items()
    }


def test_every_sample_ends_as_under_the_sdk_worker(tmp_path: Path) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        sdk_future = pool.submit(_run_sdk)
        ours_future = pool.submit(_run_ours, tmp_path / "capture")
        sdk, ours = sdk_future.result(timeout=120), ours_future.result(timeout=120)
    assert time.monotonic() - started < 120
    assert set(ours) == set(sdk)
    assert len(sdk) >= len(SCENARIOS)
    mismatches = {
        iid: (sdk_state, ours[iid])
        for iid, sdk_state in _without_traces(sdk).items()
        if _without_traces(ours)[iid] != sdk_state
    }
    assert not mismatches
    statuses = {state[0] for state in sdk.values()}
    assert {"COMPLETED", "FAILED", "TERMINATED"} <= statuses
    # The capture holds every turn as files `inspector replay` reads back.
    captured = sorted((tmp_path / "capture").glob("*-turn.b64"))
    assert captured and all(p.with_name(p.stem + ".response.b64").exists() for p in captured)
