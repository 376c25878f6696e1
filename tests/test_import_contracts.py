"""The import contracts in pyproject.toml cover every private engine module and every room."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["name"]: c for c in config["contracts"]}


def _modules(predicate: object) -> set[str]:
    found = set()
    for path in (ROOT / "engine").rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        if "proto" in rel.parts or rel.name == "__init__":
            continue
        if predicate(rel):  # type: ignore[operator]
            found.add(".".join(rel.parts))
    return found


def _contract(words: str) -> dict[str, object]:
    matches = [c for name, c in _contracts().items() if words in name]
    assert len(matches) == 1, f"one contract named like {words!r}"
    return matches[0]


def test_every_private_engine_module_is_forbidden_to_the_ui() -> None:
    private = _modules(lambda rel: rel.name.startswith("_"))
    assert private, "the walk found the engine's private modules"
    forbidden = set(_contract("private ones")["forbidden_modules"])  # type: ignore[arg-type]
    missing = sorted(private - forbidden)
    assert not missing, f"add these to the inspector contract in pyproject.toml: {missing}"
    assert "engine.proto" in forbidden


def test_the_step_machine_contract_names_modules_that_exist() -> None:
    contract = _contract("step machine")
    modules = _modules(lambda rel: True)
    sources = set(contract["source_modules"])  # type: ignore[arg-type]
    assert sources <= modules, f"stale names: {sorted(sources - modules)}"
    assert {"engine.replay", "engine.session", "engine.frames", "engine.turn"} <= sources
