"""Entity work the APP cannot serve is given back with a growing delay, never in a loop.

Also: the worker asks for entity work only when the APP defines entities.
"""

from __future__ import annotations

import re
from pathlib import Path

from durabletask import client as dt_client
from durabletask.entities import EntityInstanceId
from worker_helpers import QUIET, WorkerProcess, start_sidecar

from engine.worker import WorkerOptions
from engine.worker._entities import HoldBack
from engine.worker._stream import work_request


def test_entity_work_is_asked_for_only_with_entities() -> None:
    options = WorkerOptions(app="samples.entities", orchestrator_filter=("o",))
    without = work_request(options)
    assert without.maxConcurrentEntityWorkItems == 0
    assert not without.workItemFilters.entities
    with_entities = work_request(options, ("account", "counter"))
    assert with_entities.maxConcurrentEntityWorkItems == options.max_activities
    assert [f.name for f in with_entities.workItemFilters.entities] == ["account", "counter"]


def test_unservable_entity_work_backs_off_and_is_given_back_on_stop(tmp_path: Path) -> None:
    backend, port = start_sidecar()
    worker = WorkerProcess(f"127.0.0.1:{port}", "samples.orchestrations", log=tmp_path / "w.log")
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        worker.wait_for("connected")
        client.signal_entity(EntityInstanceId("counter", "k"), "add", 1)
        worker.wait_for_count("no entities; back in", 3)
        assert worker.terminate() == 0
        log = worker.output()
    finally:
        worker.stop()
        client.close()
        backend.stop(grace=0)
    delays = [float(d) for d in re.findall(r"no entities; back in ([\d.]+)s", log)]
    assert delays[:3] == [0.5, 1.0, 2.0], log
    received = int(re.search(r"(\d+) work items received", log).group(1))  # type: ignore[union-attr]
    abandoned = int(re.search(r"(\d+) abandoned", log).group(1))  # type: ignore[union-attr]
    assert received == abandoned == len(delays), log


def test_hold_back_doubles_up_to_its_limit_and_flushes() -> None:
    given: list[int] = []
    hold = HoldBack(given.append)
    delays = [hold.hold(n) for n in range(9)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == 30.0
    assert hold.pending() == 9
    hold.flush()
    assert sorted(given) == list(range(9))
    assert hold.pending() == 0
