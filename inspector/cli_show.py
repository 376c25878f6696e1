"""``inspector show REQUEST [--json]``: a request's history and state, or any recorded file.

For a request, the listing has one aligned line per event, then a summary and the state the
history alone implies; ``--json`` prints the ``durable-inspector/show/1`` document. Every other
file ``--record`` writes (a response, an activity's request or response, an abandon note) is
named and shown field by field; ``--json`` prints a ``durable-inspector/record/1`` document.
Both documents are described in docs/show-json.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Union

from engine.collector import collector_held
from engine.errors import LoadError
from engine.event_rows import Ends, OutOfRange, Row, event_rows, started_fields
from engine.history import OrchestrationRequest
from engine.history_final import FinalState
from engine.history_final import final_state as _final_state
from engine.load import load_recording, source_name
from engine.payload_refs import payload_ref
from engine.rewind import RewindView, rewind_view
from inspector.show_events import PAYLOAD_WIDTH, event_texts, listing_text
from inspector.show_events import plain as _plain
from inspector.text import short_text

SHOW_JSON_FORMAT = "durable-inspector/show/1"
RECORD_JSON_FORMAT = "durable-inspector/record/1"


def run(args: argparse.Namespace) -> int:
    """``inspector show REQUEST [--json]``."""
    # No scan of the whole history when loading: the rows check every event as they read it.
    found = load_recording(args.request, getattr(args, "dialect", None), scan=False)
    if isinstance(found, OrchestrationRequest):
        try:
            with collector_held():  # a long history's rows: many small objects, no cycles
                text = show_json(found) if args.json else show_text(found)
        except OutOfRange as exc:
            raise LoadError(f"{source_name(args.request)}: {exc}") from None
    else:  # the other files --record writes (engine.recording loads only for them)
        from inspector.show_records import record_document, record_text

        text = (
            json.dumps(record_document(found), ensure_ascii=False) + "\n"
            if args.json
            else record_text(found)
        )
    return _write_stdout(text)


def _write_stdout(text: str) -> int:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`inspector show x | head`): silence the final flush too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 0


if TYPE_CHECKING:
    from engine.frames import Frame

State = Union[FinalState, "Frame"]
"""The state after the last event: a frame's fields (status, clock, open tasks...)."""


def final_state(
    request: OrchestrationRequest,
    rows: list[Row],
    rewind: RewindView | None,
    kinds: list[str] | None = None,
    counts: Counter[str] | None = None,
    ends: Ends | None = None,
) -> State:
    """The history-only replay's state after the last event (the state the history implies).

    A rewind changes the frame of its step, which the session records: a request holding one
    is replayed by the session; any other only to its end, from its rows (``kinds``,
    ``counts`` and ``ends``, if given: their kinds, how many of each, and the ``ends`` they
    were read with).
    """
    if rewind is not None:
        from engine.session import ReplaySession

        return ReplaySession(request).run_to_end()
    return _final_state(request, rows, kinds, counts, ends)


def _state_document(frame: State) -> dict[str, Any]:
    return {
        "status": frame.status,
        "suspended": frame.suspended,
        "clock": _plain(frame.current_utc_datetime),
        "openTasks": [
            {"id": t.id, "kind": t.kind, "name": t.name, "openedAt": t.opened_at}
            for t in frame.open_tasks
        ],
        "bufferedEvents": [
            {"name": b.name, "data": b.data, "receivedAt": b.received_at}
            for b in frame.buffered_events
        ],
        "customStatus": frame.custom_status,
        "failure": _plain(frame.failure),
    }


def _state_lines(frame: State) -> list[str]:
    out = [f"status:        {frame.status} (from the history alone)"]
    if frame.current_utc_datetime is not None:
        out.append(f"clock:         {_plain(frame.current_utc_datetime)}")
    if frame.failure is not None:
        out.append(f"failure:       {frame.failure.error_type}: {frame.failure.message}")
    out.append(f"open tasks:    {len(frame.open_tasks) or '-'}")
    for t in frame.open_tasks[:20]:
        number = f"#{t.id} " if isinstance(t.id, int) and t.id >= 0 else ""  # not entity keys
        out.append(f"  {number}{t.kind} {t.name} (opened at event {t.opened_at})")
    if len(frame.open_tasks) > 20:
        out.append(f"  ... {len(frame.open_tasks) - 20} more")
    out.append(f"buffered:      {len(frame.buffered_events) or '-'}")
    for b in frame.buffered_events[:20]:
        out.append(f"  {b.name} {short_text(b.data, PAYLOAD_WIDTH)} (event {b.received_at})")
    out.append("custom status: - (not recorded in history; replay with --app to see it)")
    return out


def show_text(request: OrchestrationRequest) -> str:
    """The listing: one aligned line per event, then a summary."""
    ends: Ends = ({}, {})
    rows = event_rows(request, details=False, ends=ends)  # the listing: no version nor tags
    kinds = list(map(itemgetter(0), rows))
    counts = Counter(kinds)
    rewind = rewind_view(request.proto, kinds=counts)
    frame = final_state(request, rows, rewind, kinds, counts, ends)
    dropped = set(rewind.dropped) if rewind is not None else set()
    listing = listing_text(request, rows, kinds, dropped)
    summary = "\n".join(_summary_lines(request, rewind, rows, counts, frame))
    return f"{listing}\n{summary}\n"


def _summary_lines(
    request: OrchestrationRequest,
    rewind: RewindView | None,
    rows: list[Row],
    counts: Counter[str],
    frame: State,
) -> list[str]:
    """The summary's lines (``counts``: how many events of each kind ``rows`` hold)."""
    started = started_fields(rows)
    total = len(rows)
    n_past = request.past_count
    out = [f"instance:      {request.instance_id or '-'}"]
    if request.dapr is not None:
        out.append("dialect:       dapr (read as Dapr Workflow's protocol)")
    if request.execution_id:
        out.append(f"execution:     {request.execution_id}")
    if started is not None:
        name, version, text = started
        version = f" (version {version})" if version else ""
        out.append(f"orchestration: {name}{version}")
        ref = payload_ref(text)
        shown = text if ref is None else ref.label
        out.append(f"input:         {short_text(shown, PAYLOAD_WIDTH * 2) or '-'}")
        if ref is not None:
            out.append(f"  token:       {ref.token}")
    else:
        out.append("orchestration: - (no executionStarted event)")
    out.extend(_state_lines(frame))
    if rewind is not None:
        out.extend(f"{label + ':':<15}{text}" for label, text in rewind.rows())
    out.append(f"events:        {total} ({n_past} past, {total - n_past} new)")
    width = max((len(kind) for kind in counts), default=0)
    for kind, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"  {kind:<{width}}  {count}")
    return out


def _head_document(
    request: OrchestrationRequest,
    rows: list[Row],
    counts: Counter[str],
    frame: State,
    rewind: RewindView | None,
) -> dict[str, Any]:
    """The ``durable-inspector/show/1`` document without its ``events`` (the last key)."""
    started = started_fields(rows)
    n_past = request.past_count
    state = _state_document(frame)
    return {
        "format": SHOW_JSON_FORMAT,
        "kind": "orchestratorRequest",
        "instanceId": request.instance_id,
        "executionId": request.execution_id,
        "orchestration": {
            "name": started[0] if started else None,
            "version": started[1] if started else None,
            "input": started[2] if started else None,
        },
        "status": state["status"],
        "state": state,
        "rewind": _rewind_document(rewind),
        "counts": {
            "total": len(rows),
            "past": n_past,
            "new": len(rows) - n_past,
            "byKind": dict(sorted(counts.items())),
        },
    }


def _rewind_document(view: RewindView | None) -> dict[str, Any] | None:
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


def show_json(request: OrchestrationRequest) -> str:
    """The ``--json`` output: the document on one line, its events written row by row."""
    ends: Ends = ({}, {})
    rows = event_rows(request, ends=ends)
    kinds = list(map(itemgetter(0), rows))
    counts = Counter(kinds)
    rewind = rewind_view(request.proto, kinds=counts)
    frame = final_state(request, rows, rewind, kinds, counts, ends)
    head = json.dumps(_head_document(request, rows, counts, frame, rewind), ensure_ascii=False)
    events = ", ".join(event_texts(request, rows))
    return f'{head[:-1]}, "events": [{events}]}}\n'


def show_document(request: OrchestrationRequest) -> dict[str, Any]:
    """The ``durable-inspector/show/1`` document (see docs/show-json.md)."""
    document: dict[str, Any] = json.loads(show_json(request))
    return document
