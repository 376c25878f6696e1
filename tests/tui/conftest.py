"""Fixtures for the TUI tests: apps on sample requests, with the replay already recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from engine.app_loader import load_app
from engine.load import load_request_proto, to_request
from engine.session import ReplaySession
from inspector.app import InspectorApp

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = ROOT / "samples" / "requests"
SAMPLES_APP = ROOT / "samples" / "orchestrations.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NONDETERMINISTIC_APP = FIXTURES / "nondeterministic_orchestrations.py"

AppFactory = Callable[..., InspectorApp]


def build_app(
    request: str, app: Path | None = None, *, save_dir: Path | None = None
) -> InspectorApp:
    """An inspector on ``samples/requests/<request>.b64`` (with ``app``'s code if given)."""
    msg = load_request_proto(REQUESTS / f"{request}.b64")
    session = ReplaySession(to_request(msg, request), load_app(str(app)) if app else None)
    return InspectorApp(session, save_dir=save_dir)


async def replayed(pilot: Pilot[None]) -> None:
    """Wait until the replay worker has recorded every event."""
    app = pilot.app
    assert isinstance(app, InspectorApp)
    for _ in range(500):
        await pilot.pause()
        screen = app.stepper
        if screen.replay_done and screen.current_frame is not None:
            break
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture
def make_app() -> AppFactory:
    """Build an app on a sample request."""
    return build_app


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cursor blink would make snapshots depend on timing."""
    from textual.widgets import Input

    monkeypatch.setattr(Input.__dict__["cursor_blink"], "_default", False)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests here on a fresh event loop (no async plugin needed)."""
    import asyncio
    import inspect

    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
