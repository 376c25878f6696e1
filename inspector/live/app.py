"""The live app: ``inspector attach`` (and ``inspector demo``) on a running sidecar.

:class:`LiveApp` owns the sidecar connections: a :class:`~engine.live.LiveClient` polled about
once a second for the instances and, with an APP, the embedded :class:`~engine.worker.Worker`.
Its threads (the poller, the history reader, the worker's callbacks) report only by posting
the messages of :mod:`inspector.messages`; the app keeps the state and pushes it down into the
:class:`~inspector.screens.live.LiveScreen`'s reactives. Any instance or orchestration work item
opens in the same stepper as ``inspector open``; escape comes back to the list. Its parts:
acting on instances (:mod:`inspector.live.control`), hold mode
(:mod:`inspector.live.hold_control`) and the work items (:mod:`inspector.live.work_items`).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import grpc
from rich.text import Text
from textual import events, on, work

from engine.channel import describe_failure
from engine.errors import InspectorError
from engine.holds import HoldGate
from engine.live import InstanceRow, LiveClient, read_instance
from engine.worker import Worker, WorkItemEvent
from inspector.formatting import clock
from inspector.live.collector import TICK_SECONDS, CollectorPacer
from inspector.live.config import LiveConfig
from inspector.live.poller import InstancePoller
from inspector.live.state import WorkerLink, WorkItems, WorkItemSource
from inspector.live.work_items import WorkItemControl
from inspector.messages import (
    ConnectionChanged,
    HistoryRead,
    HistoryReadFailed,
    InstancesLoaded,
    LiveClosed,
    LiveQuitRequested,
    NameFilterSet,
    StatusFilterCycled,
    WorkerConnectionChanged,
    WorkerLogged,
    WorkerStarted,
    WorkerStartFailed,
    WorkItemReported,
)
from inspector.screens.live import LiveScreen, LiveStepperScreen
from inspector.screens.live_modals import StoppingScreen
from inspector.widgets.live import (
    Filters,
    InstancesTable,
    StatusLine,
)

REFRESH_SECONDS = 0.25
"""How often the work-item list and the status line are redrawn (at most)."""

KEEP_NOTICES = 200
"""The worker's notices kept for the log (the newest)."""

STATUS_FILTERS = ("", "RUNNING", "PENDING", "COMPLETED", "FAILED", "TERMINATED", "SUSPENDED")

APP_CSS = Path(__file__).resolve().parent.parent / "app.tcss"


class LiveApp(WorkItemControl):
    """``inspector attach``: instances and (with an APP) work items, live."""

    CSS_PATH = str(APP_CSS)
    TITLE = "Durable Task Inspector"

    def __init__(self, config: LiveConfig) -> None:
        super().__init__()
        self.config = config
        conn = config.connection
        self.sub_title = config.title or f"attach {conn.address}"
        self.client = LiveClient(
            conn.address,
            tls=conn.tls,
            ca_file=conn.ca_file,
            headers=conn.headers,
            dialect=conn.dialect,
        )
        self.filters = Filters()
        """The instance list's filters (the poller reads them before each listing)."""
        self.connection_state = "connecting"
        """The instance poller's connection state."""
        self.link = WorkerLink(config.worker_options is not None)
        """The embedded worker's connection."""
        self.instances: list[InstanceRow] = []
        """The sidecar's instances, newest first."""
        self.work_items = WorkItems()
        """The work items kept."""
        self.notices: collections.deque[str] = collections.deque(maxlen=KEEP_NOTICES)
        """The embedded worker's notices, each with its time, oldest first."""
        self.holds = HoldGate()
        """The hold rules and whether hold is armed (the worker's threads ask it)."""
        self.stopping = False
        """Whether quitting has begun (the stopping overlay is up, the stop runs in a thread)."""
        self.known_instances: tuple[str, ...] = ()
        """The instances the work items named, oldest first (listed where the sidecar cannot
        be queried for its instances)."""
        self._items_changed = False
        self._halt = threading.Event()
        self.poller = InstancePoller(
            self.client,
            lambda: self.filters,
            self.post_message,
            self._halt,
            (lambda: self.known_instances) if config.worker_options is not None else None,
            self._instances_in_sight,
        )
        """Lists the instances in a thread."""
        self._live_closed = False
        self.collector = CollectorPacer()
        """Keeps the collector's full passes off the keys."""
        self._close_lock = threading.Lock()
        self._screen: LiveScreen | None = None
        self._steppers: dict[bool, LiveStepperScreen] = {}
        """The steppers kept to be loaded again, by whether they show code (their panes)."""
        self.worker: WorkItemSource | None = None
        """Where the work items come from: the embedded worker, or the tap (None: neither)."""
        if config.worker_options is not None:
            # Spawning user processes starts multiprocessing's resource tracker, which hands
            # it stderr's descriptor: start it now, while stderr is still the real one.
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
            self.worker = Worker(
                conn,
                config.worker_options,
                on_event=self._report_work_item,
                on_received=self._report_work_item,
                log=self._report_notice,
                hold=self._hold_turn,
                on_connection=self._report_connection,
            )
        self._worker_thread: threading.Thread | None = None

    @property
    def worker_state(self) -> str:
        """The embedded worker's state (see :attr:`WorkerLink.state`)."""
        return self.link.state

    # --- life cycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        self._screen = LiveScreen(self.worker is not None)
        self.push_screen(self._screen)
        self._screen.call_after_refresh(self.prepare_stepper)  # once the list is first drawn
        self._show_status()
        self._show_hold()
        self._poll()
        self.set_interval(REFRESH_SECONDS, self._refresh)
        self.set_interval(TICK_SECONDS, self.collector.tick)
        if self.worker is not None:
            self._worker_thread = threading.Thread(
                target=self._start_worker, name="live-worker-start", daemon=True
            )
            self._worker_thread.start()

    def _start_worker(self) -> None:
        assert self.worker is not None
        try:
            self.worker.start()
        except InspectorError as exc:
            self.post_message(WorkerStartFailed(str(exc)))
        except Exception as exc:  # noqa: BLE001 - shown in the status line
            self.post_message(WorkerStartFailed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(WorkerStarted())

    def on_worker_started(self, message: WorkerStarted) -> None:
        self.link.started()
        self._show_status()

    def on_worker_start_failed(self, message: WorkerStartFailed) -> None:
        self.link.state = f"error: {message.error}"
        self._add_notice(f"the worker could not start: {message.error}")
        self._show_status()

    @on(LiveQuitRequested)
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
            self.post_message(LiveClosed())

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.collector.key_pressed()
        await super().on_event(event)

    def on_live_closed(self, message: LiveClosed) -> None:
        self.exit()

    def close(self) -> None:
        """Stop the worker (held turns are abandoned), the poller and what the demo started.

        Safe to call twice and from any thread: a second call waits for the first to finish.
        """
        with self._close_lock:
            if self._live_closed:
                return
            self._live_closed = True
            self.collector.stop()
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

    # --- the embedded worker's callbacks (its threads): they only post ----------------

    def _report_work_item(self, event: WorkItemEvent) -> None:
        self.post_message(WorkItemReported(event))

    def _report_notice(self, line: str) -> None:
        self.post_message(WorkerLogged(line, datetime.now(timezone.utc)))

    def _report_connection(self, state: str, detail: str, retry_in: float | None) -> None:
        retry_at = None if retry_in is None else time.monotonic() + retry_in
        message = WorkerConnectionChanged(state, detail, retry_at)
        if not self.post_message(message):
            # the app has closed: no message loop is left to race with, or to tell
            self.link.changed(state, detail, retry_at)

    def on_worker_connection_changed(self, message: WorkerConnectionChanged) -> None:
        self.link.changed(message.state, message.detail, message.retry_at)
        self._show_status()

    def on_worker_logged(self, message: WorkerLogged) -> None:
        self._add_notice(message.line, message.at)

    def _add_notice(self, line: str, at: datetime | None = None) -> None:
        self.notices.append(f"{clock(at or datetime.now(timezone.utc))} {line}")
        if self._screen is not None:
            self._screen.notices = tuple(self.notices)

    # --- instances -------------------------------------------------------------------

    def _instances_in_sight(self) -> tuple[datetime, datetime] | None:
        """The created times of the oldest and newest instance drawn (the poller's thread)."""
        screen = self._screen
        return screen.instance_list.in_sight if screen is not None else None

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll(self) -> None:
        self.poller.run()

    def on_instances_loaded(self, message: InstancesLoaded) -> None:
        self.instances = message.rows
        if self._screen is not None:
            self._screen.instances = tuple(message.rows)
        self._show_status()
        self.collector.start()

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.connection_state = message.state
        self._show_status()

    def on_status_filter_cycled(self, message: StatusFilterCycled) -> None:
        index = STATUS_FILTERS.index(self.filters.status)
        status = STATUS_FILTERS[(index + 1) % len(STATUS_FILTERS)]
        self._set_filters(replace(self.filters, status=status))

    def on_name_filter_set(self, message: NameFilterSet) -> None:
        self._set_filters(replace(self.filters, name=message.name))

    def _set_filters(self, filters: Filters) -> None:
        # the sidecar is asked by status only (the lists apply the name filter themselves), so
        # a new name filter needs no listing: one of every instance would take the poller's
        # thread (and the interpreter) from the list for 100 ms at 10,000 instances
        ask = filters.status != self.filters.status
        self.filters = filters
        if self._screen is not None:
            self._screen.filters = filters
        if ask:
            self.poller.poll_now.set()

    def on_instances_table_chosen(self, message: InstancesTable.Chosen) -> None:
        self.open_instance(message.instance_id)

    def open_instance(self, instance_id: str) -> None:
        """Read the instance's history and open it in the history-only stepper."""
        self.notify(f"reading the history of {instance_id}…", timeout=2)
        self._read_history(instance_id)

    @work(thread=True, group="history", exit_on_error=False)
    def _read_history(self, instance_id: str) -> None:
        try:
            request, source = read_instance(self.client, instance_id)
        except (LookupError, InspectorError) as exc:
            self.post_message(HistoryReadFailed(str(exc)))
        except grpc.RpcError as err:
            why = describe_failure(err, "StreamInstanceHistory")
            self.post_message(HistoryReadFailed(f"cannot read the history of {instance_id}: {why}"))
        else:
            self.post_message(HistoryRead(request, source))

    def on_history_read(self, message: HistoryRead) -> None:
        session, origin = self._instance_session(message)
        if session is None:
            return
        self.push_screen(self._stepper(session, origin=origin))

    def on_history_read_failed(self, message: HistoryReadFailed) -> None:
        self.notify(message.error, severity="error")

    def _refresh(self) -> None:
        """Redraw what changed since the last time (the status line counts down)."""
        if self._items_changed:
            self._show_items()
        self._show_status()

    # --- status and hold lines -------------------------------------------------------

    def _show_status(self) -> None:
        if self._screen is not None:
            self._screen.status = self.status_line()

    def status_line(self) -> StatusLine:
        """What the status line says now."""
        line = StatusLine(self.config.connection.address, self.connection_state)
        if self.worker is None:
            return line
        return self.link.status(line, self.worker, self.work_items.failed())

    def status_text(self) -> Text:
        """``sidecar HOST:PORT connected · worker connected · served 3 · failed 0 · …``."""
        return self.status_line().text()
