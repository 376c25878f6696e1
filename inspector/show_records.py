"""``inspector show`` on a recorded file other than a request: a response, an activity's
request or response, an abandon note (the ``durable-inspector/record/1`` document)."""

from __future__ import annotations

from typing import Any

from engine.history import FailureDetails
from engine.recording import (
    AbandonNote,
    ActivityCall,
    ActivityResult,
    NotARequest,
    TurnResponse,
)
from inspector.cli_show import RECORD_JSON_FORMAT
from inspector.show_events import PAYLOAD_WIDTH
from inspector.show_events import plain as _plain
from inspector.text import short_text

# --- the other recorded files ------------------------------------------------------------------

_TITLES: dict[type, str] = {
    TurnResponse: "orchestrator response (OrchestratorResponse): the worker's answer to a turn",
    ActivityCall: "activity request (ActivityRequest): the sidecar asks a worker to run it",
    ActivityResult: "activity response (ActivityResponse): the worker's answer to an activity",
    AbandonNote: "abandon note: the worker gave a work item back, the sidecar delivers it again",
}


def _or_dash(value: Any) -> str:
    return "-" if value is None or value == "" else short_text(str(value), PAYLOAD_WIDTH * 2)


def _failure_line(failure: FailureDetails | None) -> str:
    return "-" if failure is None else f"{failure.error_type}: {failure.message}"


def _fields_of(found: NotARequest) -> list[tuple[str, Any]]:
    if isinstance(found, ActivityCall):
        return [
            ("activity", found.name),
            ("version", found.version),
            ("input", found.input),
            ("instance", found.instance_id),
            ("execution", found.execution_id),
            ("task id", found.task_id),
            ("tags", ", ".join(f"{k}={v}" for k, v in sorted(found.tags.items()))),
        ]
    if isinstance(found, ActivityResult):
        return [
            ("instance", found.instance_id),
            ("task id", found.task_id),
            ("result", found.result),
            ("failure", _failure_line(found.failure)),
            ("token", found.completion_token),
        ]
    if isinstance(found, TurnResponse):
        return [
            ("instance", found.instance_id),
            ("custom status", found.custom_status),
            ("token", found.completion_token),
            ("actions", len(found.actions)),
        ]
    return [("request", found.request_file), ("reason", found.reason)]


def record_text(found: NotARequest) -> str:
    """A recorded file other than a request: what it is, then its fields, one per line."""
    lines = [f"{'file:':<15}{_TITLES[type(found)]}"]
    lines.extend(f"{label + ':':<15}{_or_dash(value)}" for label, value in _fields_of(found))
    if isinstance(found, TurnResponse):
        for action in found.actions:
            name = f" {action.name}" if action.name else ""
            payload = f" {short_text(action.payload, PAYLOAD_WIDTH)}" if action.payload else ""
            lines.append(f"  #{action.id} {action.kind}{name}{payload}")
    return "\n".join(lines) + "\n"


def record_document(found: NotARequest) -> dict[str, Any]:
    """The ``durable-inspector/record/1`` document (see docs/show-json.md)."""
    head: dict[str, Any] = {"format": RECORD_JSON_FORMAT, "kind": found.KIND}
    if isinstance(found, ActivityCall):
        body: dict[str, Any] = {
            "name": found.name,
            "version": found.version,
            "input": found.input,
            "instanceId": found.instance_id,
            "executionId": found.execution_id,
            "taskId": found.task_id,
            "tags": found.tags,
        }
    elif isinstance(found, ActivityResult):
        body = {
            "instanceId": found.instance_id,
            "taskId": found.task_id,
            "result": found.result,
            "failure": _plain(found.failure),
            "completionToken": found.completion_token,
        }
    elif isinstance(found, TurnResponse):
        body = {
            "instanceId": found.instance_id,
            "customStatus": found.custom_status,
            "completionToken": found.completion_token,
            "actions": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "name": a.name,
                    "payload": a.payload,
                    "details": a.details,
                }
                for a in found.actions
            ],
        }
    else:
        body = {"reason": found.reason, "requestFile": found.request_file}
    return head | body
