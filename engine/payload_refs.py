"""Large-payload tokens recognised without their store (history-only ``show`` and ``open``).

A worker with a payload store puts a token where a large payload was: ``blob:v1:<container>:
<name>`` for the SDKs' Azure Blob store, ``<store>:v<N>:<key>`` for others. Payloads are JSON
text and a token never is (it is not quoted), so a payload that does not parse as JSON and has
the token's shape is a reference to a stored payload. Without the store it cannot be read; it
is shown for what it is: which store, which key, and its size when the token says it (the
known formats do not).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"(?P<store>[A-Za-z][\w.+-]{0,31}):v(?P<version>\d{1,4}):(?P<rest>\S+)")


@dataclass(frozen=True, slots=True)
class PayloadRef:
    """A payload kept in a payload store: what the token says."""

    token: str
    """The token as the message carries it."""
    store: str
    """The store's scheme (``blob`` for the SDKs' Azure Blob store)."""
    version: int
    """The token format's version."""
    key: str
    """The payload's key (for ``blob``: the blob's name)."""
    container: str | None = None
    """The container (``blob`` tokens), or None."""
    size: int | None = None
    """The payload's size in bytes, when the token says it (None: not known)."""

    @property
    def label(self) -> str:
        """One line for a listing: ``stored payload blob:v1 payloads/ab…yz, size unknown``."""
        where = f"{self.container}/{_cut(self.key)}" if self.container else _cut(self.key)
        size = "size unknown" if self.size is None else f"{self.size} bytes"
        return f"stored payload {self.store}:v{self.version} {where}, {size}"

    def brief(self, width: int) -> str:
        """The label in at most ``width`` characters: whole when it fits, else the store and
        the key cut in the middle (``stored blob:v1 ab…yz``)."""
        if len(self.label) <= width:
            return self.label
        head = f"stored {self.store}:v{self.version} "
        if width - len(head) < 8:
            head = "stored "
        return head + _cut(self.key, max(5, width - len(head)))

    def document(self) -> dict[str, Any]:
        """The reference as plain values (``show --json``, the selected-event pane)."""
        return {
            "storedPayload": {
                "store": self.store,
                "version": self.version,
                "container": self.container,
                "key": self.key,
                "size": self.size,
                "token": self.token,
            }
        }


def _cut(text: str, width: int = 16) -> str:
    if len(text) <= width:
        return text
    back = (width - 1) // 2
    return text[: width - 1 - back] + "…" + text[len(text) - back :]


def payload_ref(text: str | None) -> PayloadRef | None:
    """The stored payload ``text`` refers to, or None when it is a payload (or absent)."""
    if not text or len(text) > 2048:
        return None
    found = _TOKEN.fullmatch(text)
    if found is None or _is_json(text):
        return None
    store, rest = found["store"], found["rest"]
    container = None
    if store == "blob" and ":" in rest:
        container, rest = rest.split(":", 1)
    return PayloadRef(text, store, int(found["version"]), rest, container)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def shown_payload(text: str | None, width: int | None = None) -> str | None:
    """A payload as a listing shows it: the text, or a stored payload's one-line label (in at
    most ``width`` characters, when given)."""
    ref = payload_ref(text)
    if ref is None:
        return text
    return ref.label if width is None else ref.brief(width)
