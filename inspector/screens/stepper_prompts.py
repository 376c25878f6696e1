"""The stepper's keys that ask first (go to, filter, save) and open another screen (timeline,
help); the stepper screen builds on this."""

from __future__ import annotations

from pathlib import Path

from inspector.screens.keys import key_help, write_request_files
from inspector.screens.modals import HelpScreen, filter_modal, goto_modal, save_modal
from inspector.screens.stepper_breakpoints import BreakpointKeys
from inspector.widgets.history import HistoryView


class StepperPrompts(BreakpointKeys):
    """Go to, filter, save, timeline and help."""

    save_dir: Path | None
    saved_paths: list[str]

    def _show_selected(self, index: int | None) -> None:
        """Show the selected event in its pane (the stepper draws it)."""
        raise NotImplementedError

    def action_goto(self) -> None:
        """Ask for an event number and go there."""

        def answer(value: str | None) -> None:
            if not value:
                return
            last = self.session.total - 1
            try:
                index = int(value)
            except ValueError:
                self.notify(f"not an event number: {value}", severity="warning")
                return
            if not 0 <= index <= last:
                self.notify(
                    f"no event #{index}: events are #0–#{last}", severity="warning", timeout=4
                )
                return
            self.goto(index)

        self.app.push_screen(goto_modal(self.session.total), answer)

    def action_filter(self) -> None:
        """Ask for a filter and show only the matching events."""
        history = self.query_one(HistoryView)

        def answer(value: str | None) -> None:
            if value is None:
                return
            count = history.set_filter(value)
            total = self.session.total
            history.border_title = (
                f"history · {count:,} of {total:,} match {history.filter_text!r}"
                if history.filter_text
                else f"history · {total:,} events"
            )
            self._show_selected(history.selected_index)

        self.app.push_screen(filter_modal(history.filter_text), answer)

    def action_save(self) -> None:
        """Ask for a folder (the default shown), then write the request (and response) there."""
        default = str(self.save_dir or Path.cwd())

        def answer(value: str | None) -> None:
            if value is not None:
                self.save_to(Path(value.strip() or default).expanduser())

        self.app.push_screen(save_modal(default), answer)

    def save_to(self, folder: Path) -> None:
        """Write the request (and with code, the response) as base64 files in ``folder``."""
        try:
            written = write_request_files(self.session, self.info.instance_id, folder)
        except OSError as exc:
            self.notify(f"cannot save: {exc.strerror or exc}", severity="error")
            return
        self.saved_paths = written
        names = ", ".join(Path(p).name for p in written)
        self.notify(f"{names}\nin {folder}", title="saved", timeout=6)

    def action_timeline(self) -> None:
        """The request's history as a timeline, the current event marked."""
        from engine.timeline import request_timeline
        from inspector.screens.timeline import TimelineScreen

        current = self.position if self.position >= 0 else None
        title = f"{self.info.name} · {self.info.instance_id}"
        timeline = request_timeline(self.session.request.proto)
        self.app.push_screen(TimelineScreen(timeline, title, current=current))

    def action_help(self) -> None:
        """Show every key."""
        self.app.push_screen(HelpScreen(key_help(self.BINDINGS)))
