"""The tap's engine modules stay headless: importing them loads neither Textual nor Rich."""

from __future__ import annotations

import subprocess
import sys

from .support import ROOT


def test_engine_tap_imports_no_ui() -> None:
    code = (
        "import sys, engine.tap, engine.tap._forward, engine.tap._capture, engine.tap._wire\n"
        "import engine.tap._hold\n"
        "ui = ('textual', 'rich', 'inspector')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ui))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
