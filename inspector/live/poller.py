"""The instance poller: lists the sidecar's instances about once a second, in a thread.

It reports only by posting :class:`~inspector.messages.InstancesLoaded` and
:class:`~inspector.messages.ConnectionChanged`, and backs off while the sidecar is away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import grpc
from textual.message import Message

from engine.live import Backoff, LiveClient, status_value
from inspector.messages import ConnectionChanged, InstancesLoaded
from inspector.widgets.live import Filters

POLL_SECONDS = 1.0
"""How often the instances are listed again."""


def status_code_name(err: grpc.RpcError) -> str:
    """The gRPC status name of a failed call (the error's type for one without a status)."""
    code = err.code() if hasattr(err, "code") else None
    return code.name if isinstance(code, grpc.StatusCode) else type(err).__name__


class InstancePoller:
    """Lists the instances until halted.

    Args:
        client: The sidecar's client.
        filters: Asked before each listing (the user may change them meanwhile).
        post: Posts a message to the app (thread-safe).
        halt: Set to stop.
    """

    def __init__(
        self,
        client: LiveClient,
        filters: Callable[[], Filters],
        post: Callable[[Message], object],
        halt: threading.Event,
    ) -> None:
        self.client = client
        self.filters = filters
        self.post = post
        self.halt = halt
        self.poll_now = threading.Event()
        """Set to list again at once (the filters changed)."""

    def run(self) -> None:
        """List, report, wait; back off while the sidecar does not answer."""
        backoff = Backoff()
        while not self.halt.is_set():
            filters = self.filters()
            statuses = [status_value(filters.status)] if filters.status else []
            try:
                rows = self.client.query_instances(statuses=statuses, name=filters.name)
            except grpc.RpcError as err:
                self._count_down(backoff.next_delay(), status_code_name(err))
                continue
            except Exception as err:  # noqa: BLE001 - shown, then retried
                self.post(ConnectionChanged(f"error: {type(err).__name__}: {err}"))
                self.halt.wait(2.0)
                continue
            backoff.reset()
            self.post(ConnectionChanged("connected"))
            self.post(InstancesLoaded(rows))
            self.poll_now.clear()
            end = time.monotonic() + POLL_SECONDS
            while not self.halt.is_set() and time.monotonic() < end:
                if self.poll_now.wait(0.05):
                    break

    def _count_down(self, delay: float, why: str) -> None:
        end = time.monotonic() + delay
        while not self.halt.is_set() and time.monotonic() < end:
            left = end - time.monotonic()
            self.post(ConnectionChanged(f"{why}: reconnecting in {left:.0f} s"))
            self.halt.wait(min(1.0, max(0.05, left)))
