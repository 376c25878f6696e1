"""A footer that rebuilds its keys once per refresh, however often the bindings changed, and
draws each key with :class:`KeyHint` (Textual's own key widget is not public)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Footer


class KeyHint(Widget):
    """One key of the footer: the key, then what it does; a click presses it.

    Drawn as Textual's footer draws its keys (the same theme variables and padding), with
    its compact look set once, when it is made: the footer never changes it afterwards.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-hint--key", "key-hint--description"}

    DEFAULT_CSS = """
    KeyHint {
        width: auto;
        height: 1;
        text-wrap: nowrap;
        background: $footer-item-background;
        .key-hint--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
            padding: 0 1;
        }
        .key-hint--description {
            padding: 0 1 0 0;
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        &:hover {
            pointer: pointer;
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
        &.-disabled { text-style: dim; }
        &.-compact {
            .key-hint--key { padding: 0; }
            .key-hint--description { padding: 0 0 0 1; }
        }
    }
    """

    def __init__(
        self,
        binding: Binding,
        key_display: str,
        *,
        enabled: bool = True,
        tooltip: str = "",
        compact: bool = False,
        classes: str = "",
    ) -> None:
        super().__init__(classes=classes)
        self.key = binding.key
        """The key pressed by a click."""
        self.key_display = key_display
        self.description = binding.description
        self.action = binding.action
        self.enabled = enabled
        self.set_class(not enabled, "-disabled", update=False)
        self.set_class(compact, "-compact", update=False)
        self.set_reactive(Widget.shrink, False)
        if tooltip:
            self.tooltip = tooltip

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-hint--key")
        text = Text()  # styled by spans: the widget's own style goes under them (below)
        if not self.description:
            text.append(self.key_display, key_style)  # a bare key has no padding
        else:
            key_pad = self.get_component_styles("key-hint--key").padding
            text.append(" " * key_pad.left + self.key_display + " " * key_pad.right, key_style)
            style = self.get_component_rich_style("key-hint--description")
            pad = self.get_component_styles("key-hint--description").padding
            text.append(" " * pad.left + self.description + " " * pad.right, style)
        text.stylize_before(self.rich_style)
        return text

    def on_mouse_down(self) -> None:
        if self.enabled:
            self.app.simulate_key(self.key)
        else:
            self.app.bell()


class CoalescingFooter(Footer):
    """Textual's footer, with at most one rebuild of its keys waiting at a time.

    Textual's footer schedules a rebuild (a widget mounted per key) each time the screen says
    its bindings changed, and a starting screen says so several times in a row (mount, focus,
    resize): each rebuild would mount every key again while the replay is being recorded.
    A rebuild reads the bindings when it runs, so one rebuild after the changes shows the
    same keys; and a rebuild that would build the keys already shown is skipped (a focus
    change or a refresh of the bindings most often changes nothing the footer draws).

    Its keys are :class:`KeyHint`: one per action shown (the first of its keys), then the
    palette's on the right. The inspector's bindings have no groups: a grouped binding is
    shown as any other.
    """

    DEFAULT_CSS = """
    CoalescingFooter {
        KeyHint.-command-palette {
            dock: right;
            padding-right: 1;
            border-left: vkey $foreground 20%;
        }
        &.-compact {
            KeyHint { margin-right: 1; }
            KeyHint.-command-palette { padding-right: 0; }
        }
    }
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
        """The keys shown, each made with its look already set (no restyle once mounted)."""
        if not self._bindings_ready:
            return
        self._built = self._keys_shown()
        active = self.screen.active_bindings
        get_display = self.app.get_key_display
        actions: set[str] = set()
        for _, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in actions:
                continue  # a binding's other keys (``n,right``) share its action
            actions.add(binding.action)
            yield KeyHint(
                binding,
                get_display(binding),
                enabled=enabled,
                tooltip=tooltip,
                compact=self.compact,
            )
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _, binding, enabled, _ = palette
                yield KeyHint(
                    binding,
                    get_display(binding),
                    enabled=enabled,
                    tooltip=binding.tooltip or binding.description,
                    compact=True,
                    classes="-command-palette",
                )

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
