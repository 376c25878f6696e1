"""``inspector tap``: a transparent proxy between any worker and its sidecar.

Every call is forwarded as raw bytes by its path (known or not), and the work items of the
``GetWorkItems`` stream are paired with their completions and reported as the embedded
worker reports its own (:class:`engine.worker.WorkItemEvent`, with the serving worker's peer
in ``worker``); an orchestrator completion can be held before it is forwarded. Usage::

    from engine.tap import Tap, TapOptions

    from engine.channel import ConnectionOptions

    tap = Tap(TapOptions("127.0.0.1:4002", ConnectionOptions("127.0.0.1:4001")), on_event=print)
    tap.start()
    ...
    tap.stop()
"""

from engine.errors import TapError
from engine.tap._capture import Capture, TapStats
from engine.tap._tap import Tap, TapOptions, check_listen

__all__ = ["Capture", "Tap", "TapError", "TapOptions", "TapStats", "check_listen"]
