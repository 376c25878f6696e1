"""Where a stuck user process is stuck: the innermost user frame of a faulthandler dump."""

from __future__ import annotations

import linecache
import os
import re
import sysconfig
from pathlib import Path

_STACK_LINE = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in (?P<func>.+?)\s*$')


def _library_roots() -> tuple[str, ...]:
    import engine
    from engine import sdk

    roots = {
        str(Path(engine.__file__).resolve().parent),
        str(Path(sdk.task_module().__file__ or "").resolve().parent),
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(str(Path(path).resolve()))
    return tuple(sorted(roots, key=len, reverse=True))


_ROOTS: tuple[str, ...] | None = None


def stuck_location(stack: str) -> str:
    """The innermost user-code frame of a :mod:`faulthandler` dump, as ``file:line in fn: src``.

    Frames in the standard library, installed packages, the SDK and this engine are skipped;
    when only those are on the stack the innermost frame is named.

    Args:
        stack: The text faulthandler wrote (most recent call first).

    Returns:
        The location, or ``"unknown location"`` when the dump holds no frame.
    """
    global _ROOTS
    if _ROOTS is None:
        _ROOTS = _library_roots()
    frames: list[tuple[str, int, str]] = []
    for line in stack.splitlines():
        match = _STACK_LINE.match(line)
        if match:
            frames.append((match["file"], int(match["line"]), match["func"]))
    if not frames:
        return "unknown location"
    chosen = frames[0]
    for frame in frames:
        path = frame[0]
        if path.startswith("<"):
            continue
        try:
            resolved = str(Path(path).resolve())
        except OSError:
            resolved = path
        if not any(resolved.startswith(root + os.sep) for root in _ROOTS):
            chosen = frame
            break
    path, lineno, func = chosen
    source = linecache.getline(path, lineno).strip()
    text = f"{path}:{lineno} in {func}"
    return f"{text}: {source}" if source else text
