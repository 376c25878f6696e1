"""The headless engine never loads Textual or Rich (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADLESS = ["engine", "engine.session", "engine.load", "engine.replay", "engine.frames"]


def test_engine_imports_neither_textual_nor_rich() -> None:
    code = (
        "import importlib, importlib.util, json, sys\n"
        f"names = {HEADLESS!r}\n"
        "if importlib.util.find_spec('engine.worker') is not None:\n"
        "    names.append('engine.worker')\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'})\n"
        "print(json.dumps({'loaded': loaded, 'engine': 'engine.frames' in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"loaded": [], "engine": True}


def test_the_check_would_see_textual_if_it_were_loaded() -> None:
    code = "import sys, textual\nprint('textual' in sys.modules)\n"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "True"
