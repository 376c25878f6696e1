"""What the live app is started with (``attach``'s and ``demo``'s command lines build it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.app_loader import UserApp
from engine.worker import ConnectionOptions, WorkerOptions


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
