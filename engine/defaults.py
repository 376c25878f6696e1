"""Defaults shared by the replay engine, the worker and the command line (no heavy imports)."""

from __future__ import annotations

from datetime import timedelta

DEFAULT_MAXIMUM_TIMER_INTERVAL = timedelta(days=3)
"""The longest single durable timer, as the SDK's worker has it; longer timers are chained."""
