"""The headless engine never loads Textual or Rich (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _headless_modules() -> list[str]:
    """Every module of the engine (generated protobuf code aside), found on disk."""
    names = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if "proto" in rel.parts:
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        names.append(".".join(parts))
    return names


HEADLESS = _headless_modules()


def test_the_walk_finds_the_engine() -> None:
    assert {"engine", "engine.session", "engine.worker", "engine.live"} <= set(HEADLESS)


@pytest.mark.parametrize("module", HEADLESS)
def test_engine_module_imports_neither_textual_nor_rich(module: str) -> None:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'})\n"
        f"print(json.dumps({{'loaded': loaded, 'imported': {module!r} in sys.modules}}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"loaded": [], "imported": True}


def test_the_check_would_see_textual_if_it_were_loaded() -> None:
    code = "import sys, textual\nprint('textual' in sys.modules)\n"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "True"
