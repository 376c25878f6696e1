"""Defaults shared by the replay engine, the worker and the command line (no heavy imports)."""

from __future__ import annotations

from datetime import timedelta

DEFAULT_MAXIMUM_TIMER_INTERVAL = timedelta(days=3)
"""The longest single durable timer, as the SDK's worker has it; longer timers are chained."""

DIALECTS = ("durabletask", "dapr")
"""The protocol dialects a sidecar or a request file can speak: Microsoft's (the durabletask
SDK's) and Dapr Workflow's (``engine.dapr_wire`` converts). The first is the default."""
