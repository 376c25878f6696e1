"""The instance poller: lists the sidecar's instances about once a second, in a thread.

Each second it asks for what can change in sight (:class:`~engine.live_listing.InstanceListing`:
the new instances and the rows the user sees), and every instance now and then or when told
(:attr:`InstancePoller.poll_now`: a filter changed, an action ran). It posts a listing only
when it changed.

It reports only by posting :class:`~inspector.messages.InstancesLoaded` and
:class:`~inspector.messages.ConnectionChanged`, and backs off while the sidecar is away, saying
why (name resolution, refused, TLS, unauthenticated). A sidecar that does not implement
``QueryInstances`` (durabletask-go, the engine under Dapr) is said so once; from then on the
instances listed are those the work items named, each read with ``GetInstance``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import grpc
from textual.message import Message

from engine.channel import describe_failure, is_unimplemented
from engine.live import Backoff, InstanceRow, LiveClient, status_value
from engine.live_listing import InstanceListing, Window
from inspector.messages import ConnectionChanged, InstancesLoaded
from inspector.widgets.live import Filters

POLL_SECONDS = 1.0
"""How often the instances are listed again."""


NO_QUERY = "connected · this sidecar does not implement QueryInstances: listing the instances "
"""The connection state once the sidecar said it lacks ``QueryInstances`` (then how many)."""


class InstancePoller:
    """Lists the instances until halted.

    Args:
        client: The sidecar's client.
        filters: Asked before each listing (the user may change them meanwhile).
        post: Posts a message to the app (thread-safe).
        halt: Set to stop.
        known: The instance ids the work items named (asked where ``QueryInstances`` is
            missing; None: no embedded worker, so none are known).
        in_sight: The created times of the oldest and newest instance the user sees (None:
            none), asked before each listing.
    """

    def __init__(
        self,
        client: LiveClient,
        filters: Callable[[], Filters],
        post: Callable[[Message], object],
        halt: threading.Event,
        known: Callable[[], Iterable[str]] | None = None,
        in_sight: Callable[[], Window | None] = lambda: None,
    ) -> None:
        self.client = client
        self.in_sight = in_sight
        self.listing_state = InstanceListing(client)
        """The instances as last listed (kept fresh a window at a time)."""
        self.known = known
        self.filters = filters
        self.post = post
        self.halt = halt
        self.poll_now = threading.Event()
        """Set to list again at once (the filters changed)."""
        self.no_query = False
        """The sidecar answered UNIMPLEMENTED to ``QueryInstances``."""

    def run(self) -> None:
        """List, report, wait; back off while the sidecar does not answer."""
        backoff = Backoff()
        full = True
        posted = False
        while not self.halt.is_set():
            full = full or self.poll_now.is_set()
            self.poll_now.clear()
            try:
                rows, changed = self._list(self.filters(), full)
            except grpc.RpcError as err:
                if is_unimplemented(err) and not self.no_query:
                    self.no_query = True
                    continue
                why = describe_failure(err, "GetInstance" if self.no_query else "QueryInstances")
                self._count_down(backoff.next_delay(), why)
                full = True
                continue
            except Exception as err:  # noqa: BLE001 - shown, then retried
                self.post(ConnectionChanged(f"error: {type(err).__name__}: {err}"))
                self.halt.wait(2.0)
                full = True
                continue
            backoff.reset()
            full = False
            self.post(ConnectionChanged(self._state(len(rows))))
            if changed or not posted:
                self.post(InstancesLoaded(rows))
                posted = True
            end = time.monotonic() + POLL_SECONDS
            while not self.halt.is_set() and time.monotonic() < end:
                if self.poll_now.wait(0.05):
                    break

    def listing(self, filters: Filters, full: bool = True) -> list[InstanceRow]:
        """List the instances once (every one unless ``full`` is False), as :meth:`run` does."""
        return self._list(filters, full)[0]

    def _list(self, filters: Filters, full: bool) -> tuple[list[InstanceRow], bool]:
        # the text filter (name or id) is applied by the lists themselves
        statuses = [status_value(filters.status)] if filters.status else []
        if not self.no_query:
            listing = self.listing_state
            changed = listing.refresh(statuses, self.in_sight(), full=full)
            return listing.rows, changed
        known = self.known() if self.known is not None else ()
        return self.client.instances_by_id(known, statuses=statuses), True

    def _state(self, count: int) -> str:
        if not self.no_query:
            return "connected"
        if self.known is None:
            return f"{NO_QUERY}its work items name (with --app)"
        return f"{NO_QUERY}seen in work items ({count})"

    def _count_down(self, delay: float, why: str) -> None:
        end = time.monotonic() + delay
        while not self.halt.is_set() and time.monotonic() < end:
            left = end - time.monotonic()
            self.post(ConnectionChanged(f"{why}: reconnecting in {left:.0f} s"))
            self.halt.wait(min(1.0, max(0.05, left)))
