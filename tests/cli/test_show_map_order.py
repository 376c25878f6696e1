"""``inspector show --json`` writes every protobuf map in key order, the same on every run.

upb iterates a map in an order that depends on the process (and on the order its entries were
added), so a document built by iterating one differed between two runs on the same file. Each
test writes the same request (or recorded file) with its map entries added in many orders, and
in fresh processes, and requires one text.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from inspector.cli_show import show_json

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["zeta", "alpha", "mid", "b", "a", "k9", "k10", "omega", "é", "Z"]


def _fill(target: Any, order: list[str]) -> None:
    for key in order:
        target[key] = f"v-{key}"


def _properties(target: Any, order: list[str]) -> None:
    for key in order:
        value = target[key]
        for inner in order:  # a Struct value: an object, itself a map
            value.struct_value.fields[inner].string_value = inner


def _request(order: list[str]) -> pb.OrchestratorRequest:
    msg = pb.OrchestratorRequest(instanceId="maps")
    started = msg.pastEvents.add(eventId=-1).executionStarted
    started.name = "o"
    _fill(started.tags, order)
    scheduled = msg.pastEvents.add(eventId=0).taskScheduled
    scheduled.name = "a"
    _fill(scheduled.tags, order)
    child = msg.pastEvents.add(eventId=1).subOrchestrationInstanceCreated
    child.name = "c"
    _fill(child.tags, order)
    failed = msg.pastEvents.add(eventId=-1).taskFailed
    failed.taskScheduledId = 0
    failed.failureDetails.errorType = "E"
    _properties(failed.failureDetails.properties, order)
    state = msg.pastEvents.add(eventId=-1).historyState.orchestrationState
    state.name = "o"
    _fill(state.tags, order)
    done = msg.newEvents.add(eventId=-1).executionCompleted
    done.orchestrationStatus = 3
    _properties(done.failureDetails.properties, order)
    return msg


def _orders() -> list[list[str]]:
    draw = random.Random(16)
    orders = [KEYS, sorted(KEYS), sorted(KEYS, reverse=True)]
    for _ in range(12):
        order = list(KEYS)
        draw.shuffle(order)
        orders.append(order)
    return orders


def test_the_document_is_the_same_whatever_order_the_entries_were_added() -> None:
    texts = set()
    for order in _orders():
        data = _request(order).SerializeToString()
        for parsed in (_request(order), pb.OrchestratorRequest.FromString(data)):
            texts.add(show_json(OrchestrationRequest(parsed)))
    assert len(texts) == 1
    document = json.loads(texts.pop())
    tags = document["events"][1]["details"]["tags"]
    assert list(tags) == sorted(KEYS)
    properties = document["events"][3]["details"]["failure"]["properties"]
    assert list(properties) == sorted(KEYS)
    assert all(list(value) == sorted(KEYS) for value in properties.values())


def _show(path: Path, seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "show", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_two_runs_on_one_file_write_the_same_text(tmp_path: Path) -> None:
    request = tmp_path / "maps.b64"
    request.write_bytes(base64.b64encode(_request(KEYS).SerializeToString()))
    runs = {_show(request, seed) for seed in ("1", "2", "3")}
    assert len(runs) == 1


def test_recorded_files_other_than_requests_too(tmp_path: Path) -> None:
    texts = set()
    for index, order in enumerate(itertools.islice(_orders(), 6)):
        call = pb.ActivityRequest(name="a", taskId=1)
        _fill(call.tags, order)
        call.orchestrationInstance.instanceId = "i"
        call_file = tmp_path / f"call{index}.activity.b64"
        call_file.write_bytes(base64.b64encode(call.SerializeToString()))
        response = pb.OrchestratorResponse(instanceId="i")
        action = response.actions.add(id=0).scheduleTask
        action.name = "a"
        _fill(action.tags, order)
        done = response.actions.add(id=1).completeOrchestration
        done.orchestrationStatus = 2  # continued as new, carrying an event over (repeated)
        _fill(done.carryoverEvents.add(eventId=4).taskScheduled.tags, order)
        response_file = tmp_path / f"turn{index}.response.b64"
        response_file.write_bytes(base64.b64encode(response.SerializeToString()))
        texts.add(_show(call_file, str(index)) + _show(response_file, str(index)))
    assert len(texts) == 1
