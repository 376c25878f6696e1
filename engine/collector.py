"""Holding the cyclic garbage collector off while a long history is worked through.

A replay, a listing or a recorded session makes many long-lived objects (tasks, actions,
rows, frames) and few cycles: generational collections would walk all of them again and
again for nothing. Every place that holds the collector off does it through here, and puts
it back as it found it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_held() -> Iterator[None]:
    """Hold the cyclic collector off for the block; re-enable it only if it was on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
