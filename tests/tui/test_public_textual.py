"""The inspector uses only Textual's public API: no module of Textual's whose name starts with
an underscore (they change without notice between releases)."""

from __future__ import annotations

import ast
from pathlib import Path

INSPECTOR = Path(__file__).resolve().parents[2] / "inspector"


def _private_textual_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "textual" and any(p.startswith("_") for p in parts[1:]):
                found.append(f"{path.relative_to(INSPECTOR.parent)}:{node.lineno}: {name}")
    return found


def test_the_inspector_imports_no_private_textual_module() -> None:
    found = [
        hit for path in sorted(INSPECTOR.rglob("*.py")) for hit in _private_textual_imports(path)
    ]
    assert found == []
