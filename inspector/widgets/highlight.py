"""Pygments tokens turned into Rich ``Text`` (no Rich syntax wrapper, so lines stay ours)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pygments.lexer import Lexer
from pygments.lexers import JsonLexer, PythonLexer, PythonTracebackLexer
from pygments.styles import get_style_by_name
from pygments.token import _TokenType
from rich.style import Style
from rich.text import Text

from inspector.text import relative_paths

PYGMENTS_STYLE = "monokai"


@lru_cache(maxsize=256)
def _token_style(token: _TokenType) -> Style:
    spec = get_style_by_name(PYGMENTS_STYLE).style_for_token(token)
    color = spec.get("color")
    return Style(
        color=f"#{color}" if color else None,
        bold=bool(spec.get("bold")) or None,
        italic=bool(spec.get("italic")) or None,
        underline=bool(spec.get("underline")) or None,
    )


def highlight(code: str, lexer: Lexer) -> Text:
    """The whole of ``code`` as one highlighted ``Text``."""
    text = Text()
    for token, value in lexer.get_tokens(code):
        text.append(value, _token_style(token))
    if code and not code.endswith("\n") and text.plain.endswith("\n"):
        text.right_crop(1)
    return text


def highlight_python_lines(code: str) -> list[Text]:
    """Python source, one highlighted ``Text`` per line."""
    text = highlight(code, PythonLexer(stripnl=False, ensurenl=False))
    return list(text.split("\n", allow_blank=True))


def highlight_json(value: Any) -> Text:
    """A Python value pretty-printed as JSON and highlighted."""
    return highlight(json.dumps(value, indent=2, ensure_ascii=False), JsonLexer())


def highlight_traceback(trace: str) -> Text:
    """A Python stack trace, highlighted when it looks like one, the user's frames first, and
    the files under the current folder named relative to it."""
    if "Traceback" in trace or 'File "' in trace:
        return highlight(relative_paths(user_code_first(trace)), PythonTracebackLexer())
    return Text(trace)


SDK_PATHS = ("/durabletask/", "\\durabletask\\", "/site-packages/", "\\site-packages\\")
"""Where a frame of a stack trace is the SDK's or a library's, not the user's code."""


def user_code_first(trace: str) -> str:
    """A stack trace with the user's frames first and the SDK's (and libraries') after them.

    A failure recorded by a sidecar's worker often starts with the SDK's own frames, the
    user's frame further down; a trace with no such frame is returned as it is.
    """
    lines = trace.split("\n")
    blocks: list[list[str]] = []
    head: list[str] = []
    tail: list[str] = []
    for line in lines:
        if line.lstrip().startswith('File "'):
            blocks.append([line])
        elif blocks and line.startswith("    ") and not tail:
            blocks[-1].append(line)
        elif blocks:
            tail.append(line)
        else:
            head.append(line)
    internal = [b for b in blocks if any(p in b[0] for p in SDK_PATHS)]
    user = [b for b in blocks if not any(p in b[0] for p in SDK_PATHS)]
    if not internal or not user or blocks[: len(user)] == user:
        return trace
    out = head + [line for b in user for line in b]
    out.append(f"  ({len(internal)} frame(s) of the SDK and libraries, below)")
    out += [line for b in internal for line in b]
    return "\n".join(out + tail)


def parse_json_text(value: str | None) -> Any:
    """The JSON value a payload string holds, or the string itself when it is not JSON."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value
