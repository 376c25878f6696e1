"""The live app of ``inspector attach`` and ``inspector demo``."""

from inspector.live.app import LiveApp
from inspector.live.config import LiveConfig

__all__ = ["LiveApp", "LiveConfig"]
