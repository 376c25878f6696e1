"""``inspector tap``: a transparent proxy between any worker and its sidecar.

Every call is passed on unchanged: relayed as HTTP/2 frames (:mod:`engine.tap._relay`) where
no call may need rewriting, else forwarded as raw bytes by its path (known or not) through
gRPC (holds, TLS or headers to the sidecar). The work items of the ``GetWorkItems`` stream are
paired with their completions and reported as the embedded worker reports its own
(:class:`engine.worker.WorkItemEvent`, with the serving worker's peer in ``worker``); an
orchestrator completion can be held before it is forwarded. Usage::

    from engine.tap import Tap, TapOptions

    from engine.channel import ConnectionOptions

    tap = Tap(TapOptions("127.0.0.1:4002", ConnectionOptions("127.0.0.1:4001")), on_event=print)
    tap.start()
    ...
    tap.stop()
"""

from engine.errors import TapError
from engine.tap._capture import Capture, TapStats
from engine.tap._tap import Tap, TapOptions, check_listen, read_listen_tls

__all__ = [
    "Capture",
    "Tap",
    "TapError",
    "TapOptions",
    "TapStats",
    "check_listen",
    "read_listen_tls",
]
