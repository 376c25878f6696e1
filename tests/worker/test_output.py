"""User processes' output: split into lines in linear time, each line cut at 4 KB."""

from __future__ import annotations

from engine.worker._process import LINE_LIMIT, LineReader


def test_lines_split_across_chunks_and_crlf() -> None:
    lines: list[str] = []
    reader = LineReader(lines.append)
    for chunk in (b"one\r\ntw", b"o\n", b"", b"\nthree"):
        reader.feed(chunk)
    reader.close()
    assert lines == ["one", "two", "", "three"]


def test_a_long_line_without_newline_is_cut_once_and_counted() -> None:
    lines: list[str] = []
    reader = LineReader(lines.append)
    chunk = b"z" * 65536
    for _ in range(512):  # 32 MB on one line, as a pipe delivers it
        reader.feed(chunk)
    reader.feed(b"tail\nnext\n")
    reader.close()
    cut = 512 * 65536 + 4 - LINE_LIMIT
    assert lines == ["z" * LINE_LIMIT + f" ... {cut} bytes cut", "next"]


def test_a_cut_inside_a_multibyte_character_is_replaced_not_raised() -> None:
    lines: list[str] = []
    reader = LineReader(lines.append, limit=4)
    reader.feed("abc\u00e9\u00e9\n".encode())
    reader.close()
    assert lines == ["abc\ufffd ... 3 bytes cut"]
