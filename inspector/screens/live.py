"""The live TUI: ``inspector attach`` (and ``inspector demo``) on a running sidecar.

The :class:`LiveApp` owns the sidecar connections: a :class:`~engine.live.LiveClient` polled
about once a second for the instances, and with an APP the embedded
:class:`~engine.worker.Worker`, whose callbacks (from worker threads) only append to a queue
that the UI drains on a timer. Any instance or orchestration work item opens in the same
stepper as ``inspector open``; escape comes back to the list.
"""

from __future__ import annotations

import collections
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf import json_format
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static

from engine.app_loader import UserApp
from engine.errors import InspectorError
from engine.live import Backoff, HoldRule, InstanceRow, LiveClient, matches_any, status_value
from engine.load import to_request
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import ReplaySession
from engine.worker import ConnectionOptions, Worker, WorkerOptions, WorkItemEvent
from engine.worker._record import Recorder
from inspector.screens.main import StepperScreen
from inspector.screens.modals import PromptModal
from inspector.widgets.live import (
    InstancesTable,
    LiveStatus,
    WorkItemRow,
    WorkItemsTable,
    outcome_of,
)

POLL_SECONDS = 1.0
"""How often the instances are listed again."""

DRAIN_SECONDS = 0.25
"""How often work-item events are moved from the worker's queue into the list."""

KEEP_ITEMS = 500
"""Work items kept in the list (the newest)."""

STATUS_FILTERS = ("", "RUNNING", "PENDING", "COMPLETED", "FAILED", "TERMINATED", "SUSPENDED")

_WORKER_ACTIONS = {"switch", "hold_rules", "hold", "release", "abandon", "save"}

APP_CSS = Path(__file__).resolve().parent.parent / "app.tcss"


@dataclass
class LiveConfig:
    """What ``attach`` connects to and serves with."""

    connection: ConnectionOptions
    worker_options: WorkerOptions | None = None
    """The embedded worker's options (None: no worker, instances only)."""
    user_app: UserApp | None = None
    """APP loaded in this process, for the stepper with code."""
    save_dir: Path | None = None
    """Where ``s`` writes (default: the current folder)."""
    title: str = ""
    on_close: list[Callable[[], None]] = field(default_factory=list)
    """Called once when the app closes, after the worker stopped (the demo stops its peers)."""


# --- messages ----------------------------------------------------------------------------


class InstancesLoaded(Message):
    """A fresh instance list."""

    def __init__(self, rows: list[InstanceRow]) -> None:
        super().__init__()
        self.rows = rows


class ConnectionChanged(Message):
    """The instance poller's connection state text."""

    def __init__(self, state: str) -> None:
        super().__init__()
        self.state = state


class RequestReady(Message):
    """An instance's history was read: open it."""

    def __init__(self, request: pb.OrchestratorRequest, source: str) -> None:
        super().__init__()
        self.request = request
        self.source = source


# --- screens -----------------------------------------------------------------------------


class LiveStepperScreen(StepperScreen):
    """The stepper of ``inspector open``, plus escape back to the list and r / a on a held turn."""

    BINDINGS = [
        Binding("escape", "back_to_list", "Back", tooltip="Back to the live list", id="live-back"),
        Binding("r", "release", "Release", tooltip="Send our response (held turn)", id="release"),
        Binding("a", "abandon", "Abandon", tooltip="Abandon for redelivery (held)", id="abandon"),
    ]

    def __init__(
        self,
        session: ReplaySession,
        *,
        save_dir: Path | None = None,
        held_token: str = "",
        origin: str = "",
    ) -> None:
        super().__init__(session, save_dir=save_dir)
        self.held_token = held_token
        self.origin = origin

    DEFAULT_CSS = """
    LiveStepperScreen #live-banner { dock: top; height: 1; padding: 0 1; background: $boost; }
    LiveStepperScreen #live-banner.-held { background: $warning; color: $text; text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="live-banner")
        yield from super().compose()

    def on_mount(self) -> None:
        super().on_mount()
        self._title()

    def _title(self) -> None:
        held = " · HELD: r sends our response, a abandons it" if self.held_token else ""
        text = f"{self.info.name} · {self.info.instance_id} · {self.origin}{held} · esc back"
        self.sub_title = text
        for banner in self.query("#live-banner").results(Static):
            banner.update(text)
            banner.set_class(bool(self.held_token), "-held")

    def action_back_to_list(self) -> None:
        """Back to the live list."""
        self.workers.cancel_group(self, "replay")
        self.app.pop_screen()

    def action_release(self) -> None:
        """Complete the held turn with our response."""
        if not self.held_token:
            self.notify("this work item is not held", severity="warning")
            return
        live = self.app
        assert isinstance(live, LiveApp)
        live.release(self.held_token)
        self.held_token = ""
        self._title()

    def action_abandon(self) -> None:
        """Give the held turn back to the sidecar."""
        if not self.held_token:
            self.notify("this work item is not held", severity="warning")
            return
        live = self.app
        assert isinstance(live, LiveApp)
        live.abandon(self.held_token)
        self.held_token = ""
        self._title()

    async def action_quit(self) -> None:
        """Leave the inspector."""
        self.workers.cancel_group(self, "replay")
        live = self.app
        if isinstance(live, LiveApp):
            live.action_quit_live()
        else:
            self.app.exit()


class StoppingScreen(ModalScreen[None]):
    """Shown while quitting: the worker finishes or abandons its work items, the rest closes."""

    BINDINGS = [Binding("q,escape", "ignore", "", show=False)]

    def __init__(self, with_worker: bool) -> None:
        super().__init__()
        self.text = (
            "stopping… the worker finishes or abandons its work items"
            if with_worker
            else "stopping…"
        )
        """What the overlay says."""

    def compose(self) -> ComposeResult:
        yield Static(Text(self.text, "bold"), id="stopping-box")

    def action_ignore(self) -> None:
        """Quitting is under way already."""


class ActivityScreen(ModalScreen[None]):
    """An activity work item's request and response, as JSON."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close")]

    DEFAULT_CSS = """
    ActivityScreen { align: center middle; }
    ActivityScreen > VerticalScroll {
        width: 90%; height: 80%; border: round $primary; padding: 0 1; background: $surface;
    }
    """

    def __init__(self, event: WorkItemEvent) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        ev = self.event
        text = Text()
        text.append(f"activity {ev.name} · {ev.instance_id} · #{ev.number}\n", "bold")
        text.append(f"outcome: {outcome_of(ev)} {ev.result}\n\n")
        request = pb.ActivityRequest.FromString(ev.request) if ev.request else None
        response = pb.ActivityResponse.FromString(ev.response) if ev.response else None
        for label, message in (("request", request), ("response", response)):
            text.append(f"{label}\n", "bold underline")
            if message is None:
                text.append("-\n\n")
                continue
            text.append(json.dumps(json_format.MessageToDict(message), indent=2) + "\n\n")
        with VerticalScroll():
            yield Static(text)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)


class LiveScreen(Screen[None]):
    """Work items (with an APP) and instances, live."""

    BINDINGS = [
        Binding("tab", "switch", "Switch list", tooltip="Work items / instances", id="switch"),
        Binding("f", "status_filter", "Status", tooltip="Cycle the instance status filter"),
        Binding("slash", "name_filter", "Name", tooltip="Filter instances by name"),
        Binding("b", "hold_rules", "Breakpoints", tooltip="Hold rules: kind, name, instance"),
        Binding("h", "hold", "Hold", tooltip="Hold the next matching turn"),
        Binding("r", "release", "Release", tooltip="Complete the selected held turn"),
        Binding("a", "abandon", "Abandon", tooltip="Abandon the selected held turn"),
        Binding("s", "save", "Save", tooltip="Save the selected work item"),
        Binding("q", "quit_live", "Quit", tooltip="Stop everything and leave"),
    ]

    DEFAULT_CSS = """
    LiveScreen LiveStatus { height: 1; padding: 0 1; background: $boost; }
    LiveScreen #live-hold { height: 1; padding: 0 1; color: $text-muted; }
    LiveScreen DataTable { height: 1fr; border: round $primary 50%; }
    LiveScreen DataTable:focus { border: round $primary; }
    LiveScreen #instances.-small { height: 40%; }
    """

    def __init__(self, with_worker: bool) -> None:
        super().__init__()
        self.with_worker = with_worker

    def compose(self) -> ComposeResult:
        yield LiveStatus(id="live-status")
        yield Static("", id="live-hold")
        with Vertical(id="live-main"):
            if self.with_worker:
                yield WorkItemsTable(id="workitems")
            yield InstancesTable(id="instances", classes="-small" if self.with_worker else "")
        yield Footer()

    def on_mount(self) -> None:
        instances = self.query_one(InstancesTable)
        instances.border_title = "instances"
        if self.with_worker:
            items = self.query_one(WorkItemsTable)
            items.border_title = "work items · newest first"
            items.focus()
        else:
            instances.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Without the embedded worker, the work-item keys are hidden."""
        if not self.with_worker and action in _WORKER_ACTIONS:
            return None
        return True

    def action_switch(self) -> None:
        """Move the focus to the other list."""
        if not self.with_worker:
            return
        items = self.query_one(WorkItemsTable)
        if items.has_focus:
            self.query_one(InstancesTable).focus()
        else:
            items.focus()

    @property
    def live(self) -> LiveApp:
        app = self.app
        assert isinstance(app, LiveApp)
        return app

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key is None:
            return
        if isinstance(event.data_table, WorkItemsTable):
            self.live.open_work_item(int(key))
        else:
            self.live.open_instance(str(key))

    def action_status_filter(self) -> None:
        """Cycle the status filter."""
        live = self.live
        index = STATUS_FILTERS.index(live.status_filter)
        live.status_filter = STATUS_FILTERS[(index + 1) % len(STATUS_FILTERS)]
        live.refresh_status()
        live.poll_now.set()

    def action_name_filter(self) -> None:
        """Ask for the name filter."""

        def answer(text: str | None) -> None:
            if text is not None:
                self.live.name_filter = text.strip()
                self.live.refresh_status()
                self.live.poll_now.set()

        self.app.push_screen(
            PromptModal(
                "Filter instances by orchestrator name",
                "instances whose name contains this; empty shows all",
                value=self.live.name_filter,
                placeholder="name",
            ),
            answer,
        )

    def action_hold_rules(self) -> None:
        """Add or remove a hold rule."""

        def answer(text: str | None) -> None:
            if text is None:
                return
            try:
                self.live.toggle_rule(text)
            except ValueError as exc:
                self.notify(str(exc), severity="error")

        rules = ", ".join(r.describe() for r in self.live.rules) or "none"
        self.app.push_screen(
            PromptModal(
                "Hold rule: kind=… name=… instance=… (toggles; empty clears all)",
                f"now: {rules}. A bare word is a name; h arms hold for the next match",
                placeholder="kind=eventRaised name=Approval instance=sample-",
            ),
            answer,
        )

    def action_hold(self) -> None:
        """Arm (or disarm) hold mode."""
        self.live.toggle_hold()

    def _selected_item(self) -> WorkItemRow | None:
        if not self.with_worker:
            return None
        key = self.query_one(WorkItemsTable).selected_key()
        return self.live.items.get(int(key)) if key is not None else None

    def action_release(self) -> None:
        """Complete the selected held turn."""
        row = self._selected_item()
        if row is None or row.outcome != "held":
            self.notify("select a held work item", severity="warning")
            return
        self.live.release(row.event.token)

    def action_abandon(self) -> None:
        """Abandon the selected held turn."""
        row = self._selected_item()
        if row is None or row.outcome != "held":
            self.notify("select a held work item", severity="warning")
            return
        self.live.abandon(row.event.token)

    def action_save(self) -> None:
        """Save the selected work item's request and response."""
        row = self._selected_item()
        if row is None:
            self.notify("select a work item to save", severity="warning")
            return
        try:
            paths = self.live.save_item(row)
        except OSError as exc:
            self.notify(f"cannot save: {exc}", severity="error")
            return
        self.notify("saved " + ", ".join(paths), title="saved", timeout=6)

    def action_quit_live(self) -> None:
        """Stop everything and leave."""
        self.live.action_quit_live()


# --- the app -----------------------------------------------------------------------------


class LiveApp(App[None]):
    """``inspector attach``: instances and (with an APP) work items, live."""

    CSS_PATH = str(APP_CSS)
    TITLE = "Durable Task Inspector"

    def __init__(self, config: LiveConfig) -> None:
        super().__init__()
        self.config = config
        conn = config.connection
        self.sub_title = config.title or f"attach {conn.address}"
        self.client = LiveClient(
            conn.address, tls=conn.tls, ca_file=conn.ca_file, headers=conn.headers
        )
        self.status_filter = ""
        self.name_filter = ""
        self.connection_state = "connecting"
        self.worker_state = "starting" if config.worker_options else ""
        """The embedded worker's state: ``starting``, ``connecting``, ``connected``,
        ``reconnecting``, ``stopped`` or ``error: …``."""
        self.worker_retry_at: float | None = None
        """While reconnecting: when (``time.monotonic()``) the worker tries again."""
        self.worker_failure = ""
        """While reconnecting: why (a gRPC status name, or the stream ended)."""
        self.instances: list[InstanceRow] = []
        self.items: dict[int, WorkItemRow] = {}
        self.rules: list[HoldRule] = []
        self.hold_armed = False
        self.poll_now = threading.Event()
        self.opened: list[str] = []
        """What was opened in the stepper, in order (``instance:<id>`` / ``item:<n>``)."""
        self._hold_lock = threading.Lock()
        self._events: collections.deque[WorkItemEvent] = collections.deque()
        self._logs: collections.deque[str] = collections.deque(maxlen=200)
        self._halt = threading.Event()
        self._live_closed = False
        self._close_lock = threading.Lock()
        self.stopping = False
        """Whether quitting has begun (the stopping overlay is up, the stop runs in a thread)."""
        self._items_dirty = False
        self.worker: Worker | None = None
        if config.worker_options is not None:
            # Spawning user processes starts multiprocessing's resource tracker, which hands
            # it stderr's descriptor: start it now, while stderr is still the real one.
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
            self.worker = Worker(
                conn,
                config.worker_options,
                on_event=self._events.append,
                on_received=self._events.append,
                log=self._logs.append,
                hold=self._hold_predicate,
                on_connection=self._worker_connection,
            )
        self._worker_thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(LiveScreen(self.worker is not None))
        self.refresh_status()
        self._poll()
        if self.worker is not None:
            self._worker_thread = threading.Thread(
                target=self._start_worker, name="live-worker-start", daemon=True
            )
            self._worker_thread.start()
            self.set_interval(DRAIN_SECONDS, self._drain)

    def _start_worker(self) -> None:
        assert self.worker is not None
        try:
            self.worker.start()
            if self.worker_state == "starting":
                self.worker_state = "connecting"
        except InspectorError as exc:
            self.worker_state = f"error: {exc}"
        except Exception as exc:  # noqa: BLE001 - shown in the status line
            self.worker_state = f"error: {type(exc).__name__}: {exc}"

    def _worker_connection(self, state: str, detail: str, retry_in: float | None) -> None:
        """The worker's ``on_connection`` callback (from its threads): only sets attributes."""
        if state == "connected":
            self.worker_retry_at = None
            self.worker_failure = ""
            self.worker_state = "connected"
        elif state in ("failed", "ended"):
            self.worker_failure = "stream ended" if state == "ended" else detail
            self.worker_retry_at = time.monotonic() + (retry_in or 0.0)
            self.worker_state = "reconnecting"
        elif state == "stopped":
            self.worker_retry_at = None
            self.worker_state = "stopped"

    def action_quit_live(self) -> None:
        """Say that everything is stopping, stop it in a thread, then leave."""
        if self.stopping:
            return
        self.stopping = True
        self._halt.set()
        self.push_screen(StoppingScreen(self.worker is not None))
        self._close_then_exit()

    @work(thread=True, exclusive=True, group="close", exit_on_error=False)
    def _close_then_exit(self) -> None:
        try:
            self.close()
        finally:
            self.call_from_thread(self.exit)

    def close(self) -> None:
        """Stop the worker (held turns are abandoned), the poller and what the demo started.

        Safe to call twice and from any thread: a second call waits for the first to finish.
        """
        with self._close_lock:
            if self._live_closed:
                return
            self._live_closed = True
            self._halt.set()
            if self._worker_thread is not None:
                self._worker_thread.join(60)
            if self.worker is not None:
                self.worker.stop()
            self.client.close()
            for callback in self.config.on_close:
                try:
                    callback()
                except Exception:  # noqa: BLE001, S110 - closing must go on
                    pass

    # --- instances -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll(self) -> None:
        backoff = Backoff()
        while not self._halt.is_set():
            statuses = [status_value(self.status_filter)] if self.status_filter else []
            try:
                rows = self.client.query_instances(statuses=statuses, name=self.name_filter)
            except grpc.RpcError as err:
                code = err.code() if hasattr(err, "code") else None
                name = code.name if code is not None else type(err).__name__
                delay = backoff.next_delay()
                end = time.monotonic() + delay
                while not self._halt.is_set() and time.monotonic() < end:
                    left = end - time.monotonic()
                    self.post_message(ConnectionChanged(f"{name}: reconnecting in {left:.0f} s"))
                    self._halt.wait(min(1.0, max(0.05, left)))
                continue
            except Exception as err:  # noqa: BLE001 - shown, then retried
                self.post_message(ConnectionChanged(f"error: {type(err).__name__}: {err}"))
                self._halt.wait(2.0)
                continue
            backoff.reset()
            self.post_message(ConnectionChanged("connected"))
            self.post_message(InstancesLoaded(rows))
            self.poll_now.clear()
            end = time.monotonic() + POLL_SECONDS
            while not self._halt.is_set() and time.monotonic() < end:
                if self.poll_now.wait(0.05):
                    break

    def on_instances_loaded(self, message: InstancesLoaded) -> None:
        self.instances = message.rows
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                for table in screen.query(InstancesTable):
                    table.show_rows(message.rows)
                    table.border_title = self._instances_title()
        self.refresh_status()

    def _instances_title(self) -> str:
        parts = [f"instances · {len(self.instances)}"]
        if self.status_filter:
            parts.append(f"status {self.status_filter}")
        if self.name_filter:
            parts.append(f"name ~ {self.name_filter}")
        return " · ".join(parts) + " · f status, / name"

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.connection_state = message.state
        self.refresh_status()

    def open_instance(self, instance_id: str) -> None:
        """Read the instance's history and open it in the history-only stepper."""
        self.notify(f"reading the history of {instance_id}…", timeout=2)
        self._read_history(instance_id)

    @work(thread=True, group="history", exit_on_error=False)
    def _read_history(self, instance_id: str) -> None:
        try:
            request, history = self.client.request_for(instance_id)
        except LookupError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        except grpc.RpcError as err:
            code = err.code() if hasattr(err, "code") else None
            self.call_from_thread(
                self.notify, f"cannot read the history ({code})", severity="error"
            )
            return
        self.post_message(RequestReady(request, history.source))

    def on_request_ready(self, message: RequestReady) -> None:
        request = message.request
        try:
            session = ReplaySession(to_request(request, f"instance {request.instanceId}"))
        except InspectorError as exc:
            self.notify(str(exc), severity="error")
            return
        self.opened.append(f"instance:{request.instanceId}")
        self.push_screen(
            LiveStepperScreen(
                session,
                save_dir=self.config.save_dir,
                origin=f"history via {message.source}",
            )
        )

    # --- work items ------------------------------------------------------------------

    def _drain(self) -> None:
        changed = False
        held: list[WorkItemRow] = []
        while self._events:
            event = self._events.popleft()
            row = self.items.get(event.number)
            if row is None:
                row = WorkItemRow(event, event.time)
                self.items[event.number] = row
            elif event.result == "RECEIVED":
                continue
            else:
                row.event = event
            if event.result == "HELD":
                held.append(row)
            changed = True
        if len(self.items) > KEEP_ITEMS:
            for number in sorted(self.items)[: len(self.items) - KEEP_ITEMS]:
                del self.items[number]
        if changed:
            for screen in self.screen_stack:
                if isinstance(screen, LiveScreen):
                    rows = [self.items[n] for n in sorted(self.items, reverse=True)]
                    for table in screen.query(WorkItemsTable):
                        table.show_rows(rows)
        self.refresh_status()
        for row in held:
            self.notify(
                f"held turn #{row.event.number} of {row.event.instance_id}: r sends, a abandons",
                title="hold",
                timeout=8,
            )
            self.open_work_item(row.event.number)

    def open_work_item(self, number: int) -> None:
        """Open a work item: a turn in the stepper with the APP's code, an activity as JSON."""
        row = self.items.get(number)
        if row is None:
            return
        event = row.event
        if not event.request:
            self.notify("no request recorded for this work item", severity="warning")
            return
        if not row.is_turn:
            self.opened.append(f"item:{number}")
            self.push_screen(ActivityScreen(event))
            return
        request = pb.OrchestratorRequest.FromString(event.request)
        try:
            session = ReplaySession(
                to_request(request, f"work item #{number}"), self.config.user_app
            )
        except InspectorError as exc:
            self.notify(str(exc), severity="error")
            return
        token = event.token if row.outcome == "held" else ""
        self.opened.append(f"item:{number}")
        self.push_screen(
            LiveStepperScreen(
                session,
                save_dir=self.config.save_dir,
                held_token=token,
                origin=f"work item #{number} ({row.outcome})",
            )
        )

    def save_item(self, row: WorkItemRow) -> list[str]:
        """Write the work item's request and response as ``--record`` does; return the paths."""
        folder = self.config.save_dir or Path.cwd()
        recorder = Recorder(str(folder))
        ev = row.event
        stem = recorder.stem(
            ev.number, "turn" if row.is_turn else "activity", ev.instance_id, ev.name
        )
        paths = []
        recorder.request(stem, ev.request)
        paths.append(str(folder / f"{stem}.b64"))
        if ev.response:
            recorder.response(stem, ev.response)
            paths.append(str(folder / f"{stem}.response.b64"))
        return paths

    # --- hold ------------------------------------------------------------------------

    def _hold_predicate(self, event: WorkItemEvent) -> bool:
        if not self.hold_armed:
            return False
        request = pb.OrchestratorRequest.FromString(event.request)
        with self._hold_lock:
            if not self.hold_armed or not matches_any(self.rules, request, event.name):
                return False
            self.hold_armed = False
            return True

    def toggle_rule(self, text: str) -> None:
        """Add a rule, or remove it if present; empty text clears every rule."""
        text = text.strip()
        if not text:
            self.rules.clear()
            self.refresh_status()
            return
        values: dict[str, str] = {}
        for word in text.split():
            key, sep, value = word.partition("=")
            if not sep:
                key, value = "name", word
            if key not in ("kind", "name", "instance"):
                raise ValueError(f"unknown field {key!r}: use kind=, name= or instance=")
            values[key] = value
        rule = HoldRule(**values)
        if rule in self.rules:
            self.rules.remove(rule)
        else:
            self.rules.append(rule)
        self.refresh_status()

    def toggle_hold(self) -> None:
        """Arm hold mode for the next matching turn, or disarm it."""
        if self.worker is None:
            self.notify("hold needs --app (the embedded worker)", severity="warning")
            return
        with self._hold_lock:
            self.hold_armed = not self.hold_armed
        what = ", ".join(r.describe() for r in self.rules) or "any turn"
        self.notify(f"hold {'armed: ' + what if self.hold_armed else 'disarmed'}", timeout=3)
        self.refresh_status()

    def release(self, token: str) -> None:
        """Complete a held turn (in a thread: it is a call to the sidecar)."""
        self._held_call(token, release=True)

    def abandon(self, token: str) -> None:
        """Abandon a held turn for redelivery."""
        self._held_call(token, release=False)

    @work(thread=True, group="held", exit_on_error=False)
    def _held_call(self, token: str, release: bool) -> None:
        worker = self.worker
        if worker is None:
            return
        done = worker.release_held(token) if release else worker.abandon_held(token)
        what = "released (our response sent)" if release else "abandoned (will be redelivered)"
        text = what if done else "not held any more"
        self.call_from_thread(self.notify, f"held turn {text}", timeout=4)

    # --- status line -----------------------------------------------------------------

    def refresh_status(self) -> None:
        """Redraw the status line and the hold line."""
        for screen in self.screen_stack:
            if not isinstance(screen, LiveScreen):
                continue
            for status in screen.query(LiveStatus):
                status.update(self.status_text())
            for line in screen.query("#live-hold").results(Static):
                line.update(self.hold_text())

    def status_text(self) -> Text:
        """``sidecar HOST:PORT connected · worker connected · served 3 · failed 0 · …``."""
        text = Text()
        text.append(f"sidecar {self.config.connection.address} ", "bold")
        state = self.connection_state
        text.append(state, "green" if state == "connected" else "bold yellow")
        worker = self.worker
        if worker is not None:
            text.append(" · worker ")
            ws = self.worker_state
            text.append(self.worker_state_text(), "green" if ws == "connected" else "bold yellow")
            stats = worker.stats
            failed = sum(1 for r in self.items.values() if r.outcome == "failed")
            held = len(worker.held_tokens())
            in_flight = stats.received - stats.completed - stats.abandoned - stats.undelivered
            text.append(f" · served {stats.completed} · failed {failed}")
            text.append(f" · in flight {max(0, in_flight)}")
            if stats.abandoned:
                text.append(f" · abandoned {stats.abandoned}")
            if held:
                text.append(f" · held {held}", "bold reverse yellow")
        return text

    def worker_state_text(self) -> str:
        """``connected``, ``reconnecting in 3 s (UNAVAILABLE)``, ``reconnecting…``, ``stopped``."""
        ws = self.worker_state
        if ws != "reconnecting":
            return ws
        why = f" ({self.worker_failure})" if self.worker_failure else ""
        retry_at = self.worker_retry_at
        left = 0.0 if retry_at is None else retry_at - time.monotonic()
        if left > 0.05:
            return f"reconnecting in {math.ceil(left)} s{why}"
        return f"reconnecting…{why}"

    def hold_text(self) -> str:
        """The hold rules and whether hold is armed."""
        if self.worker is None:
            return "enter opens an instance's history · f status · / name · q quit"
        rules = ", ".join(r.describe() for r in self.rules) or "any turn"
        armed = "ARMED" if self.hold_armed else "off (h arms)"
        return f"hold: {armed} · breakpoints (b): {rules} · enter opens · tab switches list"
