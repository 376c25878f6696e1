"""Writing files the user will keep: never through a symlink, never over an existing file.

The stepper's save (``s``), the live app's save and ``--record`` all write here:

- :func:`bounded` keeps a name short (a hash stands for the part cut);
- :func:`fresh_stem` picks ``stem``, ``stem-2``, ``stem-3`` ... so that no file of the set exists;
- :func:`write_new` creates a file that must not exist yet (a symlink planted at its name,
  even a dangling one, is an existing name: it is never followed);
- :func:`replace_file` replaces a file of the worker's own (a capture file) by a new one
  written beside it, so a symlink at the name is replaced, never written through.

This module never imports Textual or Rich.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def bounded(safe: str, whole: str, limit: int) -> str:
    """``safe`` (a file-name-safe form of ``whole``), cut to ``limit`` characters if longer.

    A cut name ends with ``~`` and 12 hex digits of a hash of ``whole``, so two long names
    that share a beginning stay apart.
    """
    if len(safe) <= limit:
        return safe
    digest = hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe[: max(0, limit - 13)]}~{digest}"


def fresh_stem(folder: Path, stem: str, suffixes: Iterable[str]) -> str:
    """The first of ``stem``, ``stem-2``, ... for which no ``folder/<stem><suffix>`` exists."""
    ends = list(suffixes)
    candidate, n = stem, 1
    while any(os.path.lexists(folder / f"{candidate}{end}") for end in ends):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``; it must not exist (nor be a symlink).

    Raises:
        FileExistsError: something (a file, a symlink) has the name already.
        OSError: the file cannot be written (a partly written file is removed).
    """
    fd = os.open(path, _FLAGS, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        os.unlink(path)
        raise


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file beside ``path``, then rename it to ``path``.

    Raises:
        OSError: the file cannot be written (the temporary file is removed).
    """
    tmp = path.with_name(f".{path.name[:180]}.{secrets.token_hex(4)}.tmp")
    write_new(tmp, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_set(folder: Path, stem: str, files: dict[str, bytes]) -> list[Path]:
    """Write ``folder/<stem'><suffix>`` for each ``suffix: data``, under a :func:`fresh_stem`.

    Nothing is overwritten and no symlink is followed; returns the paths written.

    Raises:
        OSError: a file cannot be written.
    """
    chosen = fresh_stem(folder, stem, files)
    written: list[Path] = []
    for suffix, data in files.items():
        path = folder / f"{chosen}{suffix}"
        write_new(path, data)
        written.append(path)
    return written
