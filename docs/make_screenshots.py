"""Regenerate the README's stepper screenshots: ``python docs/make_screenshots.py``.

Run from the repository root; the live screen's screenshot comes from
``python -m tests.live.test_demo``.
"""

from __future__ import annotations

import asyncio

from engine.app_loader import load_app
from engine.load import load_request
from engine.session import ReplaySession
from inspector.app import InspectorApp


async def shot(request: str, app_spec: str | None, name: str, steps: int) -> None:
    """Open ``request``, step ``steps`` times at 160x48 and save ``docs/screenshots/<name>``."""
    session = ReplaySession(load_request(request), load_app(app_spec) if app_spec else None)
    session.advance()
    app = InspectorApp(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        for _ in range(steps):
            await pilot.press("n")
        await pilot.pause(0.3)
        app.save_screenshot(name, "docs/screenshots")


async def timeline_shot(name: str) -> None:
    """The timeline of a history mixing every kind of bar, at 160x48, opened at event 40."""
    from textual.app import App

    from bench.bench_timeline import mixed_history
    from engine.timeline import request_timeline
    from inspector.screens.timeline import TimelineScreen

    timeline = request_timeline(mixed_history(80))
    app: App[None] = App()
    async with app.run_test(size=(160, 48)) as pilot:
        await app.push_screen(TimelineScreen(timeline, "order_workflow · bench-timeline", 40))
        await pilot.pause(0.5)
        app.save_screenshot(name, "docs/screenshots")


if __name__ == "__main__":
    asyncio.run(timeline_shot("timeline.svg"))
    asyncio.run(
        shot(
            "samples/requests/retry_until_success-turn6.b64",
            "samples/orchestrations.py",
            "open-code.svg",
            14,
        )
    )
    asyncio.run(shot("samples/requests/suspend_resume-turn4.b64", None, "open-history.svg", 9))
