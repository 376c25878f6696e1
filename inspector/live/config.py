"""What the live app is started with (``attach``'s and ``demo``'s command lines build it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.app_loader import UserApp
from engine.worker import ConnectionOptions, WorkerOptions

if TYPE_CHECKING:
    from engine.tap import TapOptions


@dataclass
class LiveConfig:
    """What ``attach`` connects to and serves with."""

    connection: ConnectionOptions
    worker_options: WorkerOptions | None = None
    """The embedded worker's options (None: no worker, instances only)."""
    tap_options: TapOptions | None = None
    """``inspector tap --ui``: the tap whose work items are listed (``TapLiveApp`` runs it)."""
    user_app: UserApp | None = None
    """APP loaded in this process, for the stepper with code."""
    save_dir: Path | None = None
    """Where ``s`` writes (default: the current folder)."""
    title: str = ""
    on_close: list[Callable[[], None]] = field(default_factory=list)
    """Called once when the app closes, after the worker stopped (the demo stops its peers)."""
