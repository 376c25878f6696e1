"""``inspector tap``: a transparent proxy between any worker and its sidecar.

Every call is forwarded as raw bytes by its path (known or not), and the work items of the
``GetWorkItems`` stream are paired with their completions and reported as the embedded
worker reports its own (:class:`engine.worker.WorkItemEvent`). Usage::

    from engine.tap import Tap, TapOptions

    tap = Tap(TapOptions("127.0.0.1:4002", sidecar="127.0.0.1:4001"), on_event=print)
    tap.start()
    ...
    tap.stop()
"""

from engine.tap._capture import Capture, TapEvent, TapStats
from engine.tap._tap import Tap, TapError, TapOptions

__all__ = ["Capture", "Tap", "TapError", "TapEvent", "TapOptions", "TapStats"]
