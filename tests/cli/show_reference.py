"""``inspector show``'s former per-event path, kept as the reference the fast path must equal.

This is the listing and the ``--json`` document as they were written before the rows were read
straight from the protobuf messages: every event converted to its dataclass
(:mod:`engine.convert`), names from :func:`engine.session.display_names`, and the document
built as one dict tree and encoded at once. ``tests/cli/test_show_fast_path.py`` compares the
two, byte for byte, on every sample and on requests holding every event kind.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from engine.history import ExecutionCompleted, FailureDetails, OrchestrationRequest, status_name
from engine.payload_refs import payload_ref, shown_payload
from engine.rewind import RewindView, rewind_view
from engine.session import display_names
from inspector.cli_show import (
    SHOW_JSON_FORMAT,
    _state_document,
    _state_lines,
)
from engine.session import ReplaySession


def final_state(request: OrchestrationRequest):
    """The session's last frame: the frame-recorded replay, as ``show`` read it before."""
    return ReplaySession(request).run_to_end()


from inspector.formatting import UNKNOWN, iso_ms, known
from inspector.text import short_text

PAYLOAD_WIDTH = 60
NAME_WIDTH = 40


class _Stamp:
    """ISO-8601 UTC text with millisecond precision, cached per datetime (events share them)."""

    def __init__(self) -> None:
        self._cache: dict[datetime, str | None] = {}
        self._last: datetime | None = None
        self._last_text: str | None = None

    def __call__(self, value: datetime | None) -> str | None:
        """``None`` for an unknown time (absent, or the zero time), as the TUI shows ``-``."""
        if value is None:
            return None
        if value is self._last:  # the events of a turn share one datetime object
            return self._last_text
        text = self._cache.get(value)
        if text is None:
            text = iso_ms(value) if known(value) else None
            self._cache[value] = text
        self._last, self._last_text = value, text
        return text


def reference_text(request: OrchestrationRequest) -> str:
    """The listing: one aligned line per event, then a summary."""
    events = request.events
    n_past = len(request.past_events)
    stamp = _Stamp()
    names = display_names(events)
    shown_names: dict[str | None, str] = {}  # a history repeats its few task names
    rows = []
    for i, ev in enumerate(events):
        name = names[i]
        shown = shown_names.get(name)
        if shown is None:
            shown = shown_names[name] = short_text(name, NAME_WIDTH) or "-"
        rows.append(
            (
                str(ev.event_id),
                stamp(ev.timestamp) or UNKNOWN,
                ev.kind,
                shown,
                _dapr_note(request, i, short_text(shown_payload(ev.payload), PAYLOAD_WIDTH)),
            )
        )
    w_index = max(len("#"), len(str(len(events) - 1)))
    w_id = max([len("eventId")] + [len(r[0]) for r in rows])
    w_time = max([len("timestamp")] + [len(r[1]) for r in rows])
    w_kind = max([len("kind")] + [len(r[2]) for r in rows])
    w_name = max([len("name")] + [len(r[3]) for r in rows])
    header = (
        f"{'#':>{w_index}}  lane  {'eventId':>{w_id}}  {'timestamp':<{w_time}}  "
        f"{'kind':<{w_kind}}  {'name':<{w_name}}  payload"
    )
    lines = [header]
    append = lines.append
    rewind = rewind_view(request.proto, kinds=(ev.kind for ev in events))
    dropped = set(rewind.dropped) if rewind is not None else set()
    # str.rjust/ljust: the same text as nested format specs, several times faster per line
    for index, (eid, ts, kind, name, payload) in enumerate(rows):
        lane = "past" if index < n_past else "new "
        mark = "  (the rewind drops it)" if index in dropped else ""
        append(
            f"{str(index).rjust(w_index)}  {lane}  {eid.rjust(w_id)}  {ts.ljust(w_time)}  "
            f"{kind.ljust(w_kind)}  {name.ljust(w_name)}  {payload}{mark}".rstrip()
        )
    lines.append("")
    lines.extend(_summary_lines(request, rewind))
    return "\n".join(lines) + "\n"


def _dapr_note(request: OrchestrationRequest, index: int, payload: str) -> str:
    """The payload, and what a Dapr event says beyond Microsoft's fields, in brackets."""
    if request.dapr is None:
        return payload
    note = request.dapr_facts(index).describe()
    return f"{payload}  [{note}]".lstrip() if note else payload


def _summary_lines(request: OrchestrationRequest, rewind: RewindView | None) -> list[str]:
    started = request.started()
    counts = Counter(ev.kind for ev in request.events)
    out = [f"instance:      {request.instance_id or '-'}"]
    if request.dapr is not None:
        out.append("dialect:       dapr (read as Dapr Workflow's protocol)")
    if request.execution_id:
        out.append(f"execution:     {request.execution_id}")
    if started is not None:
        version = f" (version {started.version})" if started.version else ""
        out.append(f"orchestration: {started.orchestration_name}{version}")
        ref = payload_ref(started.input)
        shown = started.input if ref is None else ref.label
        out.append(f"input:         {short_text(shown, PAYLOAD_WIDTH * 2) or '-'}")
        if ref is not None:
            out.append(f"  token:       {ref.token}")
    else:
        out.append("orchestration: - (no executionStarted event)")
    out.extend(_state_lines(final_state(request)))
    if rewind is not None:
        out.extend(f"{label + ':':<15}{text}" for label, text in rewind.rows())
    out.append(
        f"events:        {len(request.events)}"
        f" ({len(request.past_events)} past, {len(request.new_events)} new)"
    )
    width = max((len(kind) for kind in counts), default=0)
    for kind, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"  {kind:<{width}}  {count}")
    return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


_ISO_CACHE: dict[datetime, str] = {}


_PLAIN_AS_IS = frozenset({type(None), str, int, float, bool})
"""The types :func:`_plain` returns unchanged (checked by exact type, on the hot path)."""


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, datetime):
        text = _ISO_CACHE.get(value)
        if text is None:
            if len(_ISO_CACHE) > 200_000:
                _ISO_CACHE.clear()
            text = _ISO_CACHE[value] = value.isoformat().replace("+00:00", "Z")
        return text
    if not value:
        return [] if isinstance(value, (tuple, list)) else ({} if isinstance(value, dict) else "")
    if isinstance(value, FailureDetails):
        return {name: _plain(getattr(value, name)) for name in _names(type(value))}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        from dataclasses import fields

        names = tuple(f.name for f in fields(cls))
        _FIELD_NAMES[cls] = names
    return names


def show_document(request: OrchestrationRequest) -> dict[str, Any]:
    """The ``durable-inspector/show/1`` document (see docs/show-json.md)."""
    started = request.started()
    stamp = _Stamp()
    n_past = len(request.past_events)
    events_out: list[dict[str, Any]] = []
    append = events_out.append
    plain_as_is = _PLAIN_AS_IS
    for index, ev in enumerate(request.events):
        # most fields are None, text or numbers, which _plain returns as they are
        details = {
            name: v if type(v := getattr(ev, name)) in plain_as_is else _plain(v)
            for name in _names(type(ev))
        }
        if isinstance(ev, ExecutionCompleted):
            details["status_name"] = status_name(ev.status)
        row = {
            "index": index,
            "lane": "past" if index < n_past else "new",
            "eventId": ev.event_id,
            "timestamp": stamp(ev.timestamp),
            "kind": ev.kind,
            "name": ev.name,
            "payload": ev.payload,
            "details": details,
        }
        ref = payload_ref(ev.payload)
        if ref is not None:
            row["payloadRef"] = ref.document()["storedPayload"]
        append(row)
    by_kind = Counter(ev.kind for ev in request.events)
    state = _state_document(final_state(request))
    return {
        "format": SHOW_JSON_FORMAT,
        "kind": "orchestratorRequest",
        "instanceId": request.instance_id,
        "executionId": request.execution_id,
        "orchestration": {
            "name": started.orchestration_name if started else None,
            "version": started.version if started else None,
            "input": started.input if started else None,
        },
        "status": state["status"],
        "state": state,
        "rewind": _rewind_document(request),
        "counts": {
            "total": len(request.events),
            "past": n_past,
            "new": len(request.new_events),
            "byKind": dict(sorted(by_kind.items())),
        },
        "events": events_out,
    }


def _rewind_document(request: OrchestrationRequest) -> dict[str, Any] | None:
    view = rewind_view(request.proto, kinds=(ev.kind for ev in request.events))
    if view is None:
        return None
    return {
        "eventIndex": view.event_index,
        "reason": view.reason,
        "rewindsNow": view.rewinds_now,
        "rewound": [{"id": t.id, "kind": t.kind, "name": t.name} for t in view.rewound],
        "dropped": list(view.dropped),
        "kept": view.kept if view.rewinds_now else None,
    }


def reference_json(request: OrchestrationRequest) -> str:
    """The ``--json`` output: the document on one line (the C encoder is fast on 100k events)."""
    return json.dumps(show_document(request), ensure_ascii=False) + "\n"
