"""Acting on a sidecar's instances, as the dashboards do: each action is one call, one line back.

:class:`InstanceActions` raises an event, suspends, resumes, terminates, purges, restarts,
rewinds and schedules; every method returns an :class:`ActionResult` whose ``text`` is the one
line the live view shows (what happened, or why not: ``this sidecar does not implement
RewindInstance``, ``bad JSON in the payload: …``). Nothing here raises for a sidecar's answer.

This module never imports Textual or Rich.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
from google.protobuf import wrappers_pb2

from engine.channel import describe_failure
from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SidecarStub

_RELATIVE = re.compile(r"^\+?\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}


@dataclass(frozen=True)
class ActionResult:
    """What an action did.

    Attributes:
        ok: The sidecar did it.
        text: One line saying what happened, or why not.
        instance_id: The instance it created (schedule, restart), else the one acted on.
    """

    ok: bool
    text: str
    instance_id: str = ""


def json_payload(text: str, what: str) -> tuple[str | None, str]:
    """``text`` checked as JSON: ``(payload, "")``, ``(None, "")`` when empty, or the error.

    Args:
        text: What the user typed.
        what: What it is (``payload``, ``input``), for the error line.
    """
    text = text.strip()
    if not text:
        return None, ""
    try:
        json.loads(text)
    except ValueError as err:
        return None, f"the {what} is not JSON: {err}"
    return text, ""


def parse_start_time(text: str, now: datetime | None = None) -> datetime | None:
    """A start time: empty (now), ``+30s`` / ``+5m`` / ``+1h``, or ISO 8601 (UTC if no zone).

    Raises:
        ValueError: not one of those (the message says which forms work).
    """
    text = text.strip()
    if not text:
        return None
    now = now or datetime.now(timezone.utc)
    if match := _RELATIVE.match(text):
        unit = _UNITS[(match.group(2) or "s").lower()]
        return now + timedelta(seconds=float(match.group(1)) * unit)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"start time {text!r}: use +30s, +5m, +1h or 2026-01-31T12:00:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _sv(value: str) -> wrappers_pb2.StringValue:
    return wrappers_pb2.StringValue(value=value)


class InstanceActions:
    """The instance-control calls of one sidecar.

    Args:
        stub: The sidecar's client.
        metadata: Headers sent with every call.
        timeout: Deadline of each call, in seconds.
    """

    def __init__(
        self,
        stub: SidecarStub,
        metadata: Sequence[tuple[str, str]] | None,
        timeout: float,
    ) -> None:
        self.stub = stub
        self.metadata = metadata
        self.timeout = timeout

    def _call(self, method: str, request: Any, failed: str) -> tuple[Any, ActionResult | None]:
        """Call ``method``; on failure, the result saying ``failed: why``."""
        try:
            response = self.stub.control(
                method, request, timeout=self.timeout, metadata=self.metadata
            )
        except grpc.RpcError as err:
            return None, ActionResult(False, f"{failed}: {describe_failure(err, method)}")
        return response, None

    def raise_event(self, instance_id: str, name: str, payload: str = "") -> ActionResult:
        """Raise the event ``name`` (with a JSON payload, or none) on the instance."""
        if not name.strip():
            return ActionResult(False, "cannot raise an event without a name", instance_id)
        data, error = json_payload(payload, "payload")
        if error:
            return ActionResult(False, error, instance_id)
        request = pb.RaiseEventRequest(instanceId=instance_id, name=name.strip())
        if data is not None:
            request.input.CopyFrom(_sv(data))
        _, failure = self._call("RaiseEvent", request, f"cannot raise {name} on {instance_id}")
        return failure or ActionResult(True, f"raised {name} on {instance_id}", instance_id)

    def suspend(self, instance_id: str, reason: str = "") -> ActionResult:
        """Suspend the instance (events are kept until it resumes)."""
        request = pb.SuspendRequest(instanceId=instance_id)
        if reason:
            request.reason.CopyFrom(_sv(reason))
        _, failure = self._call("SuspendInstance", request, f"cannot suspend {instance_id}")
        return failure or ActionResult(True, f"suspend sent to {instance_id}", instance_id)

    def resume(self, instance_id: str, reason: str = "") -> ActionResult:
        """Resume a suspended instance."""
        request = pb.ResumeRequest(instanceId=instance_id)
        if reason:
            request.reason.CopyFrom(_sv(reason))
        _, failure = self._call("ResumeInstance", request, f"cannot resume {instance_id}")
        return failure or ActionResult(True, f"resume sent to {instance_id}", instance_id)

    def terminate(self, instance_id: str, reason: str = "", recursive: bool = True) -> ActionResult:
        """Terminate the instance (and, if ``recursive``, its sub-orchestrations)."""
        request = pb.TerminateRequest(instanceId=instance_id, recursive=recursive)
        if reason:
            request.output.CopyFrom(_sv(json.dumps(reason)))
        _, failure = self._call("TerminateInstance", request, f"cannot terminate {instance_id}")
        how = " (recursive)" if recursive else ""
        return failure or ActionResult(True, f"terminated {instance_id}{how}", instance_id)

    def purge(self, instance_id: str, recursive: bool = True) -> ActionResult:
        """Delete a finished instance and its history from the sidecar."""
        request = pb.PurgeInstancesRequest(instanceId=instance_id, recursive=recursive)
        response, failure = self._call("PurgeInstances", request, f"cannot purge {instance_id}")
        if failure is not None:
            return failure
        if response.deletedInstanceCount == 0:
            why = "it is not finished, or it does not exist"
            return ActionResult(False, f"nothing purged: {why} ({instance_id})", instance_id)
        return ActionResult(True, f"purged {instance_id}", instance_id)

    def restart(self, instance_id: str, new_instance_id: bool = False) -> ActionResult:
        """Start a finished instance again with its input (under a new id if asked)."""
        request = pb.RestartInstanceRequest(
            instanceId=instance_id, restartWithNewInstanceId=new_instance_id
        )
        response, failure = self._call("RestartInstance", request, f"cannot restart {instance_id}")
        if failure is not None:
            return failure
        new_id = response.instanceId or instance_id
        as_new = f" as {new_id}" if new_id != instance_id else ""
        return ActionResult(True, f"restarted {instance_id}{as_new}", new_id)

    def rewind(self, instance_id: str, reason: str = "") -> ActionResult:
        """Rewind a failed instance to before its failures, so it runs on."""
        request = pb.RewindInstanceRequest(instanceId=instance_id)
        if reason:
            request.reason.CopyFrom(_sv(reason))
        _, failure = self._call("RewindInstance", request, f"cannot rewind {instance_id}")
        return failure or ActionResult(True, f"rewind sent to {instance_id}", instance_id)

    def schedule(
        self,
        name: str,
        instance_id: str = "",
        payload: str = "",
        start_at: datetime | None = None,
    ) -> ActionResult:
        """Schedule a new instance of the orchestrator ``name`` (the sidecar picks an id)."""
        if not name.strip():
            return ActionResult(False, "cannot schedule without an orchestrator name")
        data, error = json_payload(payload, "input")
        if error:
            return ActionResult(False, error)
        request = pb.CreateInstanceRequest(name=name.strip(), instanceId=instance_id.strip())
        if data is not None:
            request.input.CopyFrom(_sv(data))
        if start_at is not None:
            request.scheduledStartTimestamp.FromDatetime(start_at.astimezone(timezone.utc))
        try:
            response = self.stub.start_instance(
                request, timeout=self.timeout, metadata=self.metadata
            )
        except grpc.RpcError as err:
            why = describe_failure(err, "StartInstance")
            return ActionResult(False, f"cannot schedule {name}: {why}")
        when = f" to start at {start_at:%Y-%m-%d %H:%M:%S}" if start_at is not None else ""
        new_id = response.instanceId or instance_id
        return ActionResult(True, f"scheduled {name} as {new_id}{when}", new_id)


def _yes(text: str | None, default: bool) -> bool:
    if text is None or not text.strip():
        return default
    return text.strip().lower() in ("y", "yes", "true", "1", "on")


def run_action(
    actions: InstanceActions, action: str, instance_id: str, values: dict[str, str]
) -> ActionResult:
    """Run an action by its name with the values of its form (as the live view asks).

    Args:
        actions: The sidecar's instance actions.
        action: ``raise``, ``suspend``, ``resume``, ``terminate``, ``purge``, ``restart``,
            ``rewind`` or ``schedule``.
        instance_id: The instance acted on (ignored by ``schedule``).
        values: The form's fields (``name``, ``payload``, ``reason``, ``recursive``,
            ``new_id``, ``instance_id``, ``input``, ``start``).
    """
    reason = values.get("reason", "").strip()
    if action == "raise":
        return actions.raise_event(instance_id, values.get("name", ""), values.get("payload", ""))
    if action == "suspend":
        return actions.suspend(instance_id, reason)
    if action == "resume":
        return actions.resume(instance_id, reason)
    if action == "terminate":
        return actions.terminate(instance_id, reason, _yes(values.get("recursive"), True))
    if action == "purge":
        return actions.purge(instance_id)
    if action == "restart":
        return actions.restart(instance_id, _yes(values.get("new_id"), False))
    if action == "rewind":
        return actions.rewind(instance_id, reason)
    if action == "schedule":
        try:
            start = parse_start_time(values.get("start", ""))
        except ValueError as err:
            return ActionResult(False, str(err))
        name, new_id = values.get("name", ""), values.get("instance_id", "")
        return actions.schedule(name, new_id, values.get("input", ""), start)
    return ActionResult(False, f"no action {action!r}")
