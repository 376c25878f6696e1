"""A footer that rebuilds its keys once per refresh, however often the bindings changed."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # not exported; its compact is set here


class CoalescingFooter(Footer):
    """Textual's footer, with at most one rebuild of its keys waiting at a time.

    Textual's footer schedules a rebuild (a widget mounted per key) each time the screen says
    its bindings changed, and a starting screen says so several times in a row (mount, focus,
    resize): each rebuild would mount every key again while the replay is being recorded.
    A rebuild reads the bindings when it runs, so one rebuild after the changes shows the
    same keys; and a rebuild that would build the keys already shown is skipped (a focus
    change or a refresh of the bindings most often changes nothing the footer draws).
    """

    _rebuild_pending = False
    _built: tuple[object, ...] | None = None
    """The bindings the keys were last built from."""

    def __init__(self) -> None:
        super().__init__()
        # The keys are built with the footer, when the screen mounts it (its classes, which
        # some bindings depend on, are set by then): Textual's footer starts empty and builds
        # them after the first frame, laying the whole screen out once more.
        self.set_reactive(Footer._bindings_ready, True)

    def compose(self) -> ComposeResult:
        """Textual's keys, each made with its ``compact`` and its class already set.

        Mounted, a key's ``compact`` starts true and is then bound to the footer's (false):
        two class changes, so two restyles, per key and per rebuild; set first, it has
        neither. The palette's key is not bound and keeps Textual's default.
        """
        if self._bindings_ready:
            self._built = self._keys_shown()
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                compact = widget.has_class("-command-palette") or self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Any) -> None:
        """Schedule a rebuild after the next refresh, unless one is scheduled already."""
        self._bindings_ready = True
        if self._rebuild_pending or not screen.app.app_focus:
            return  # without the app's focus, Textual's footer waits too
        if self.is_attached and screen is self.screen:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return  # its screen was removed before the refresh came
        shown = self._keys_shown()
        if shown == self._built:
            return  # the same keys: a rebuild would mount them again and lay out the screen
        self._built = shown
        await self.recompose()

    def _keys_shown(self) -> tuple[object, ...]:
        """What the keys drawn depend on: the shown bindings and the palette's, as compose
        reads them."""
        active = self.screen.active_bindings
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return (
            *(
                (b.key, b.action, b.description, b.group, enabled, tooltip)
                for _, b, enabled, tooltip in active.values()
                if b.show
            ),
            palette[1:] if palette is not None else None,
            self.show_command_palette,
            self.compact,
        )
