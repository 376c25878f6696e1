"""The stepper opened from the live list mounts once, like the stepper of ``inspector open``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from engine.load import load_request
from engine.session import ReplaySession
from inspector.screens.live import LiveStepperScreen
from inspector.screens.main import StepperScreen
from tests.live.test_attach import SIZE, wait_for

REQUEST = Path(__file__).resolve().parents[2] / "samples" / "requests" / "activity_chain-turn5.b64"


class _Host(App[None]):
    CSS_PATH = str(Path(__file__).resolve().parents[2] / "inspector" / "app.tcss")

    def __init__(self, screen: LiveStepperScreen) -> None:
        super().__init__()
        self.stepper = screen

    def on_mount(self) -> None:
        self.push_screen(self.stepper)


async def test_the_live_stepper_mounts_its_stepper_once(monkeypatch: Any) -> None:
    starts: list[StepperScreen] = []
    first_painted = StepperScreen._first_painted

    def counted(self: StepperScreen) -> None:
        starts.append(self)
        first_painted(self)

    monkeypatch.setattr(StepperScreen, "_first_painted", counted)
    session = ReplaySession(load_request(str(REQUEST)))
    screen = LiveStepperScreen(session, origin="work item #1 (completed)")
    app = _Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.replay_done)
        await pilot.pause()
        assert starts == [screen]  # one replay, not one per class that handles the mount
        assert "work item #1 (completed)" in str(screen.sub_title)
