"""The text panes: replay state, pending work, the selected event, problems, locals."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.reactive import reactive

from engine import sdk
from engine.frames import Frame
from engine.history import HistoryEvent
from engine.payload_refs import payload_ref
from engine.waiting import waiting_on
from inspector.formatting import event_time, stamp_ms
from inspector.style import status_style
from inspector.text import short_kind
from inspector.widgets.highlight import highlight_json, highlight_traceback, parse_json_text
from inspector.widgets.scrolling import TextPane
from inspector.widgets.waiting import task_lines, waiting_text


@dataclass(frozen=True)
class OrchestrationInfo:
    """What the state pane shows that never changes during a session."""

    instance_id: str
    name: str
    version: str | None
    with_code: bool


SHORT_LABELS = {
    "orchestration": "name",
    "IsReplaying": "replaying",
    "replay clock": "clock",
    "custom status": "custom",
    "critical section": "section",
    "step did": "did",
    "waiting on": "waits on",
}
"""Labels for a narrow state pane, so values keep their line."""


def _labelled(rows: list[tuple[str, Text | str]], width: int = 14, *, short: bool = False) -> Text:
    out = Text()
    for i, (label, value) in enumerate(rows):
        if i:
            out.append("\n")
        if short:
            label = SHORT_LABELS.get(label, label)
        out.append(f"{label:<{width}}", "bold")
        out.append(value if isinstance(value, Text) else Text(value))
    return out


def position_words(index: int, total: int) -> Text:
    """``step #9  (events #0–#13)``: the step is the event index (never a 1-based count)."""
    last = f"#0–#{total - 1}" if total else "no events"
    if index < 0:
        return Text(f"before step #0  (events {last})", "bold")
    out = Text(f"step #{index}", "bold")
    out.append(f"  (events {last})", "dim")
    return out


_ACTION_ID = re.compile(r"^(\w+) #(\d+)")


def action_words(summary: str) -> str:
    """``scheduleTask (task 4) 'add'`` for ``scheduleTask #4 'add'``: ``#`` is kept for event
    indices, so a task id never reads like one."""
    return _ACTION_ID.sub(r"\1 (task \2)", summary, count=1)


def where(location: Any) -> str:
    """``file:line in function``, the file relative to the working directory when inside it."""
    if location is None:
        return "-"
    file = location.file
    try:
        rel = os.path.relpath(file)
        if not rel.startswith(".."):
            file = rel
    except ValueError:
        pass
    return f"{file}:{location.line} in {location.function}"


class StatePane(TextPane):
    """Instance, orchestration, IsReplaying, clock, status, step N of M, replay progress."""

    frame: reactive[Frame | None] = reactive(None, always_update=True, init=False)
    """The frame shown."""
    recorded: reactive[int] = reactive(0, init=False)
    """How many events are replayed so far."""
    waiting_for: reactive[int | None] = reactive(None, init=False)
    """An event a jump waits for while replay has not reached it yet."""

    SHORT_BELOW = 44
    """Below this many columns of content, short labels (``clock``) leave room for the values."""

    def __init__(self, info: OrchestrationInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = info
        self.summary = ""
        """The pane's text, plain (for tests and screen readers)."""

    def watch_frame(self) -> None:
        self._redraw()

    def reset(self) -> None:
        """No frame, nothing recorded, no jump waiting (the next frame redraws)."""
        super().reset()
        self.set_reactive(StatePane.frame, None)
        self.set_reactive(StatePane.recorded, 0)
        self.set_reactive(StatePane.waiting_for, None)

    def watch_recorded(self) -> None:
        self._redraw()

    def watch_waiting_for(self) -> None:
        self._redraw()

    def on_mount(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        frame = self.frame
        info = self.info
        version = f"  v{info.version}" if info.version else ""
        rows: list[tuple[str, Text | str]] = [
            ("instance", info.instance_id or "-"),
            ("orchestration", f"{info.name or '-'}{version}"),
        ]
        if frame is not None:
            rows.append(("position", position_words(frame.index, frame.total)))
            if frame.event is not None:
                room = self.content_size.width - (10 if self._short() else 14) - 7
                event = Text(short_kind(frame.event.kind, room if room > 8 else 99))
                event.append(f" ({frame.lane})", "dim")
            else:
                event = Text("-", "dim")
            rows.append(("event", event))
            replaying = Text(
                "yes" if frame.is_replaying else "no", "yellow" if frame.is_replaying else "green"
            )
            rows.append(("IsReplaying", replaying))
            clock = frame.current_utc_datetime
            rows.append(("replay clock", stamp_ms(clock)))
            status = Text(frame.status, status_style(frame.status))
            if frame.suspended and frame.status != "SUSPENDED":
                status.append("  (suspended)", "yellow")
            rows.append(("status", status))
            rows.append(("waiting on", Text(waiting_on(frame).summary, "cyan")))
            rows.append(("custom status", frame.custom_status or "-"))
            section = None
            if not sdk.is_dapr():  # entities exist only in durabletask's flavour
                from engine.entities import critical_section_text

                section = critical_section_text(frame.open_tasks)
            if section is not None:
                rows.append(("critical section", Text(section, "magenta")))
            rows.append(("step did", frame.note or "-"))
            total = frame.total
        else:
            total = 0
        # Replay progress: a row while recording (it matters then), the border's subtitle once done.
        subtitle = ""
        if total:
            if self.recorded < total:
                pct = 100 * self.recorded // total
                rows.append(
                    ("replay", Text(f"recording {self.recorded:,} / {total:,} ({pct}%)", "yellow"))
                )
            else:
                subtitle = f"replay done, {total:,} events"
        if self.waiting_for is not None:
            rows.append(
                ("jump", Text(f"waiting for replay to reach #{self.waiting_for}", "yellow"))
            )
        self.border_subtitle = subtitle
        short = self._short()
        text = _labelled(rows, width=10 if short else 14, short=short)
        if text.plain == self.summary:
            return
        relayout = text.plain.count("\n") != self.summary.count("\n")
        self.summary = text.plain
        self.update(text, layout=relayout)

    def _short(self) -> bool:
        """Whether the pane is narrow enough for short labels."""
        return 0 < self.content_size.width < self.SHORT_BELOW


class ActionsPane(TextPane):
    """Pending actions (what the response would carry now), open tasks and buffered events."""

    frame: reactive[Frame | None] = reactive(None, always_update=True, init=False)
    """The frame shown."""

    MAX_ITEMS = 200

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: object = None
        self._text: Text | None = None
        self.summary = ""
        """The pane's text, plain."""

    def watch_frame(self, frame: Frame | None) -> None:
        out = Text()
        if frame is None:
            self._text = out
            self.update(out)
            return
        key = (
            frame.with_code,
            frame.status,
            frame.pending_actions,
            frame.open_tasks,
            frame.buffered_events,
            frame.awaiting,
            frame.lost,
            self._width(),
        )
        if key == self._shown:
            return
        self._shown = key
        waiting = waiting_on(frame)
        self._heading(out, "waiting on", 0, first=True)
        waiting_text(out, frame, waiting, width=self._width())
        self._heading(out, "pending actions", len(frame.pending_actions))
        if not frame.with_code:
            out.append("  known only with --app", "dim")
        elif not frame.pending_actions:
            out.append("  none", "dim")
        for action in frame.pending_actions[: self.MAX_ITEMS]:
            out.append("\n  • ")
            out.append(action_words(action.summary))
        self._more(out, len(frame.pending_actions))
        if waiting.abandoned:
            self._heading(out, "left unfinished", len(waiting.abandoned))
            task_lines(out, waiting.abandoned, frame, self.MAX_ITEMS, mark_lost=True)
        elif waiting.tree is not None:
            # every open task is in the tree, lost a race, or is awaited by nothing now
            if waiting.lost:
                self._heading(out, "lost a race, still running", len(waiting.lost))
                task_lines(out, waiting.lost, frame, self.MAX_ITEMS)
            if waiting.idle:
                self._heading(out, "open, not awaited now", len(waiting.idle))
                task_lines(out, waiting.idle, frame, self.MAX_ITEMS)
        else:
            self._heading(out, "open tasks", len(frame.open_tasks))
            if not frame.open_tasks:
                out.append("  none", "dim")
            task_lines(out, frame.open_tasks, frame, self.MAX_ITEMS)
        if frame.buffered_events:
            self._heading(out, "buffered events", len(frame.buffered_events))
            for ev in frame.buffered_events[: self.MAX_ITEMS]:
                out.append("\n  • ")
                out.append(ev.name, "magenta")
                out.append(f"  {ev.data or ''}  (arrived at #{ev.received_at})", "dim")
            self._more(out, len(frame.buffered_events))
        if out == self._text:
            return  # drawn at a new width, the same text: no layout of the screen again
        self._text = out
        self.summary = out.plain
        self.update(out)

    def reset(self) -> None:
        """No frame shown (the next one is drawn whatever it holds)."""
        super().reset()
        self.set_reactive(ActionsPane.frame, None)
        self._shown = None
        self._text = None

    def _width(self) -> int:
        """The room for a line (0 before the first layout), less the scrollbar's column."""
        width = self.content_size.width
        return max(width - 1, 1) if width else 0

    def on_resize(self) -> None:
        self.watch_frame(self.frame)

    @staticmethod
    def _heading(out: Text, title: str, count: int, *, first: bool = False) -> None:
        if not first:
            out.append("\n")
        out.append(title, "bold underline")
        if count:
            out.append(f" ({count:,})", "dim")

    def _more(self, out: Text, count: int) -> None:
        if count > self.MAX_ITEMS:
            out.append(f"\n  … and {count - self.MAX_ITEMS:,} more", "dim")


class ProblemPane(TextPane):
    """Non-determinism (recorded vs asked, the source line), what a rewind changes, or the
    orchestration's failure."""

    frame: reactive[Frame | None] = reactive(None, always_update=True, init=False)
    """The frame shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: object = ()
        self.summary = ""
        """The pane's text, plain."""

    def watch_frame(self, frame: Frame | None) -> None:
        out = Text()
        nd = frame.nondeterminism if frame is not None else None
        failure = frame.failure if frame is not None else None
        rewind = frame.rewind if frame is not None else None
        if (nd, failure, rewind) == self._shown:
            return
        self._shown = (nd, failure, rewind)
        if nd is None and rewind is not None:
            self.border_title = "rewind" if rewind.rewinds_now else "rewound"
            rows: list[tuple[str, Text | str]] = [
                (label, Text(text, "magenta")) for label, text in rewind.rows()
            ]
            out.append(_labelled(rows, width=13))
        elif nd is not None:
            # The facts first (the pane is short); the SDK's long message after them.
            self.border_title = f"non-determinism at event #{nd.event_index}"
            out.append(
                _labelled(
                    [
                        ("history has", Text(nd.recorded, "green")),
                        ("code asked", Text(nd.asked, "bold red")),
                        ("asked at", where(nd.location)),
                    ],
                    width=12,
                )
            )
            out.append("\n")
            out.append(nd.message, "red")
        elif failure is not None:
            self.border_title = "orchestration failed"
            out.append(f"{failure.error_type}: ", "bold red")
            out.append(failure.message)
            if failure.stack_trace:
                out.append("\n")
                out.append(highlight_traceback(failure.stack_trace.rstrip()))
        self.set_class(nd is not None or failure is not None or rewind is not None, "-shown")
        self.summary = out.plain
        self.update(out)

    def reset(self) -> None:
        """No problem shown, no title (the next frame draws its own)."""
        super().reset()
        self.set_reactive(ProblemPane.frame, None)
        self._shown = ()
        self.border_title = None


class LocalsPane(TextPane):
    """The orchestrator's locals where it is suspended."""

    frame: reactive[Frame | None] = reactive(None, always_update=True, init=False)
    """The frame shown."""

    _shown: object = None
    summary = ""
    """The pane's text, plain."""

    def reset(self) -> None:
        """No locals shown (the next frame draws its own)."""
        super().reset()
        self.set_reactive(LocalsPane.frame, None)
        self._shown = None

    def watch_frame(self, frame: Frame | None) -> None:
        key = frame.locals if frame is not None else None
        if key == self._shown and key is not None:
            return
        self._shown = key
        if frame is None or not frame.locals:
            self.summary = "no locals here"
            self.update(Text(self.summary, "dim"))
            return
        width = min(16, max(len(name) for name, _ in frame.locals))
        out = Text()
        for i, (name, value) in enumerate(frame.locals):
            if i:
                out.append("\n")
            out.append(f"{name:<{width}}", "bold cyan")
            out.append(" = ")
            out.append(value)
        self.summary = out.plain
        self.update(out)


class DetailPane(TextPane):
    """The selected event in full: JSON payloads pretty-printed, failures with stack traces."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index: int | None = None
        """The event shown."""
        self.summary = ""
        """The pane's text, plain."""

    def show_event(
        self, index: int | None, event: HistoryEvent | None, lane: str, name: str | None
    ) -> None:
        """Show one event (``None``: nothing selected)."""
        self.index = index
        if event is None or index is None:
            self.body.update(Text("no event selected", "dim"))
            self.summary = ""
            return
        out = Text()
        out.append(f"#{index} {event.kind}", "bold")
        out.append(f"  eventId {event.event_id}  {lane}", "dim")
        if name:
            out.append(f"  {name}", "bold cyan")
        out.append(f"\ntime {event_time(event.timestamp)}", "dim")
        details = event.details()
        traces: list[tuple[str, str]] = []
        shown: dict[str, Any] = {}
        for key, value in details.items():
            if key in ("event_id", "timestamp"):
                continue
            ref = payload_ref(value) if isinstance(value, str) else None
            if ref is not None:
                value = ref.document()
            elif isinstance(value, str) and value[:1] in '{["-0123456789tfn' and value:
                value = parse_json_text(value)
            shown[key] = _strip_traces(key, value, traces)
        out.append("\n")
        out.append(highlight_json(shown))
        for label, trace in traces:
            out.append(f"\n\n{label}\n", "bold red")
            out.append(highlight_traceback(trace.rstrip()))
        self.summary = out.plain
        self.body.update(out)
        self.scroll_home(animate=False)


def _strip_traces(key: str, value: Any, traces: list[tuple[str, str]]) -> Any:
    """Move stack traces out of failure dicts (they read better unescaped, below the JSON)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "stack_trace" and isinstance(v, str):
                traces.append((f"{key} stack trace", v))
                out[k] = "(below)"
            else:
                out[k] = _strip_traces(f"{key}.{k}", v, traces)
        return out
    return value
