"""``inspector show``'s per-event output, written from :func:`engine.event_rows.event_rows`.

The listing's aligned lines and the ``--json`` document's ``events`` array are the two parts
that grow with the history. The kinds that fill long histories are written from templates
(the JSON text built directly, with the encoder's own string escaping), every other event
through the same dict and :func:`json.dumps` as the rest of the document, so the text is
identical to encoding one whole dict tree (a test compares both on every sample).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from engine.event_rows import EPOCH, FIELDS, MAX_SECONDS, MIN_SECONDS, Row
from engine.history import OrchestrationRequest, status_name
from engine.payload_refs import payload_ref, shown_payload
from inspector.formatting import UNKNOWN, iso_ms
from inspector.text import short_text

PAYLOAD_WIDTH = 60
NAME_WIDTH = 40

_PLAIN_AS_IS = frozenset({type(None), str, int, float, bool})
"""The types :func:`plain` returns unchanged (checked by exact type, on the hot path)."""

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_ISO_CACHE: dict[datetime, str] = {}


_SECONDS = tuple(f"{s:02d}." for s in range(60))
_MILLIS = tuple(f"{ms:03d}Z" for ms in range(1000))


class Stamp:
    """ISO-8601 UTC text with millisecond precision (:func:`inspector.formatting.iso_ms`),
    cached per datetime (events share them); a long history has few distinct days and
    minutes, and a time's text is their texts and two cut-out pieces."""

    def __init__(self) -> None:
        self._cache: dict[datetime, str | None] = {}
        self._days: dict[int, str] = {}
        self._minutes: dict[int, str] = {}
        self._since_epoch: dict[int, str] = {}
        """A raw time's day and minute text, per minute since the epoch."""
        self._last: datetime | None = None
        self._last_text: str | None = None

    def __call__(self, value: datetime | None) -> str | None:
        """``None`` for an unknown time (absent, or the zero time), as the TUI shows ``-``."""
        if value is None:
            return None
        if value is self._last:  # the events of a turn share one datetime object
            return self._last_text
        text = self._cache.get(value)
        if text is None:
            text = self._cache[value] = self.texts((value,))[value]
        self._last, self._last_text = value, text
        return text

    def _minute(self, s: int) -> str:
        """The day and minute text of ``s`` seconds since the epoch (``"2024-01-01T10:20:"``)."""
        day_number, s = divmod(s, 86_400)
        day = self._days.get(day_number)
        if day is None:
            day = self._days[day_number] = iso_ms(EPOCH + timedelta(day_number))[:-13]
        return day + "%02d:%02d:" % (s // 3600, s // 60 % 60)

    def texts(self, values: Iterable[Any]) -> dict[Any, str | None]:
        """The text of each of ``values`` (distinct ones), as calling the stamp on each gives;
        a value may also be a raw ``(seconds, nanos)`` (see :func:`engine.event_rows.
        event_rows`), written as the datetime it stands for."""
        out: dict[Any, str | None] = {}
        days, minutes, since_epoch = self._days, self._minutes, self._since_epoch
        seconds, millis = _SECONDS, _MILLIS
        utc = timezone.utc
        for key in values:
            value = key
            if type(key) is tuple:
                s, nanos = key
                if not (MIN_SECONDS <= s <= MAX_SECONDS and 0 <= nanos < 1_000_000_000):
                    value = EPOCH + timedelta(0, s, nanos // 1000)  # as a datetime row holds it
                elif not s and nanos < 1000:
                    out[key] = None  # the zero time, to the microsecond
                    continue
                else:
                    minute = since_epoch.get(s // 60)  # "2024-01-01T10:20:", per minute
                    if minute is None:
                        minute = since_epoch[s // 60] = self._minute(s)
                    out[key] = minute + seconds[s % 60] + millis[nanos // 1_000_000]
                    continue
            if value is None or value == EPOCH:
                out[key] = None
            elif value.tzinfo is not utc:
                out[key] = iso_ms(value)
            else:
                since = value - EPOCH
                day = days.get(since.days)
                if day is None:
                    day = days[since.days] = iso_ms(value)[:-13]  # "2024-01-01T"
                s = since.seconds
                minute = minutes.get(s // 60)
                if minute is None:
                    minute = minutes[s // 60] = "%02d:%02d:" % (s // 3600, s // 60 % 60)
                out[key] = day + minute + seconds[s % 60] + millis[since.microseconds // 1000]
        return out


def plain(value: Any) -> Any:
    """A field's value as the JSON document holds it (times as ISO text, failures as dicts)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, datetime):
        text = _ISO_CACHE.get(value)
        if text is None:
            if len(_ISO_CACHE) > 200_000:
                _ISO_CACHE.clear()
            text = _ISO_CACHE[value] = value.isoformat().replace("+00:00", "Z")
        return text
    if not value:
        return [] if isinstance(value, (tuple, list)) else ({} if isinstance(value, dict) else "")
    if type(value).__name__ == "FailureDetails":
        return {name: plain(getattr(value, name)) for name in field_names(type(value))}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, in order (cached)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        from dataclasses import fields

        names = tuple(f.name for f in fields(cls))
        _FIELD_NAMES[cls] = names
    return names


# --- the listing -------------------------------------------------------------------------------


def _shown_cell(text: str | None) -> str:
    """A payload's listing cell."""
    if text is None:
        return ""
    if text and len(text) <= PAYLOAD_WIDTH and text.isprintable() and not text[0].isalpha():
        return text
    return _cell(text)


def _cell(text: str | None) -> str:
    if not text:
        return ""
    if text[0].isalpha():  # a stored payload's token starts with a letter; JSON text rarely does
        text = shown_payload(text)
    return short_text(text, PAYLOAD_WIDTH)


def listing_text(
    request: OrchestrationRequest,
    rows: list[Row],
    kinds: list[str],
    dropped: set[int] | frozenset[int],
) -> str:
    """The header and one aligned line per event (``kinds``: the rows' own), each ending in a
    newline.

    Column by column: each distinct time, kind, name and lane-and-id cell is formatted and
    padded once, the index cells are built from templates (:func:`_index_cells`), and the
    text is one join of all the cells. A line ends as ``rstrip`` would end it: only its last
    cell, the name and payload, can end in white space (a line where that cell is all white
    space is written whole).
    """
    n = len(rows)
    w_index = max(len("#"), len(str(n - 1)))
    if not rows:
        return _header(w_index, len("eventId"), len("timestamp"), len("kind"), len("name")) + "\n"
    _, ids, stamps, _, shown, payloads, _ = zip(*rows, strict=True)  # the columns, in C
    time_of = {ts: text or UNKNOWN for ts, text in Stamp().texts(set(stamps)).items()}
    name_of = {name: short_text(name, NAME_WIDTH) or "-" for name in set(shown)}
    w_id = max(len("eventId"), len(str(max(ids))), len(str(min(ids))))
    w_time = max(len("timestamp"), *map(len, time_of.values()))
    kind_set = set(kinds)
    w_kind = max(len("kind"), *map(len, kind_set))
    w_name = max(len("name"), *map(len, name_of.values()))
    time_cell = {  # the times of a long history are all as wide: padding them is rare
        ts: text + "  " if len(text) == w_time else f"{text:<{w_time}}  "
        for ts, text in time_of.items()
    }
    kind_cell = {kind: f"{kind:<{w_kind}}  " for kind in kind_set}
    name_cell = {name: f"{text:<{w_name}}  " for name, text in name_of.items()}
    if request.dapr is None:
        bare = {name: cell.rstrip() for name, cell in name_cell.items()}
        width = PAYLOAD_WIDTH
        tails = [  # most payloads are none, or short one-line JSON shown as they are
            bare[name]
            if p is None
            else (name_cell[name] + p).rstrip()
            if p and len(p) <= width and p.isprintable() and not p[0].isalpha()
            else (name_cell[name] + _cell(p)).rstrip()
            for name, p in zip(shown, payloads, strict=True)
        ]
    else:
        cells = [_dapr_note(request, i, _shown_cell(p)) for i, p in enumerate(payloads)]
        tails = [(name_cell[name] + c).rstrip() for name, c in zip(shown, cells, strict=True)]
    n_past = request.past_count
    # Each line's cells, after the line end before it: index, lane and id, time, kind, the rest.
    pieces: list[str] = [""] * (5 * n)
    pieces[0::5] = _index_cells(n, w_index)
    pieces[1::5] = _lane_cells(ids, n_past, w_id)
    pieces[2::5] = map(time_cell.__getitem__, stamps)
    pieces[3::5] = map(kind_cell.__getitem__, kinds)
    pieces[4::5] = tails
    blank = {i for i, tail in enumerate(tails) if not tail} if not all(tails) else set()
    for index in blank | set(dropped):
        note = "  (the rewind drops it)" if index in dropped else ""
        at = index * 5
        whole = "".join(pieces[at : at + 4]) + name_cell[shown[index]]
        cell = _shown_cell(payloads[index])
        if request.dapr is not None:
            cell = _dapr_note(request, index, cell)
        pieces[at : at + 5] = ((whole + cell + note).rstrip(), "", "", "", "")
    pieces.append("\n")
    return _header(w_index, w_id, w_time, w_kind, w_name) + "".join(pieces)


_LOW_DIGITS = tuple(f"{d:03d}  " for d in range(1000))


def _index_cells(n: int, width: int) -> list[str]:
    """The index cells of ``n`` lines (``"\n"``, the index right-aligned in ``width``, two
    spaces), from templates: past the first thousand, the text of the thousands then that of
    the last three digits."""
    cells = [f"\n{i:>{width}}  " for i in range(min(n, 1000))]
    for high in range(1, (n + 999) // 1000):  # width is 4 or more here
        prefix = f"\n{high:>{width - 3}}"
        cells += [prefix + low for low in _LOW_DIGITS]
    del cells[n:]
    return cells


def _lane_cells(ids: Sequence[int], n_past: int, width: int) -> list[str]:
    """The lane and event id cells of the lines of ``ids``, the first ``n_past`` past (each
    distinct cell formatted once)."""
    cells: list[str] = []
    for lane, lane_ids in (("past", ids[:n_past]), ("new ", ids[n_past:])):
        cell = {eid: f"{lane}  {eid:>{width}}  " for eid in set(lane_ids)}
        cells += map(cell.__getitem__, lane_ids)
    return cells


def _header(w_index: int, w_id: int, w_time: int, w_kind: int, w_name: int) -> str:
    return (
        f"{'#':>{w_index}}  lane  {'eventId':>{w_id}}  {'timestamp':<{w_time}}  "
        f"{'kind':<{w_kind}}  {'name':<{w_name}}  payload"
    )


def _dapr_note(request: OrchestrationRequest, index: int, payload: str) -> str:
    """The payload, and what a Dapr event says beyond Microsoft's fields, in brackets."""
    note = request.dapr_facts(index).describe()
    return f"{payload}  [{note}]".lstrip() if note else payload


# --- the JSON events ---------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)  # type: ignore[no-any-return]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


_DIGITS = tuple(f"{d:03d}" for d in range(1000))
_TWO = tuple(f"{d:02d}" for d in range(60))


class _Times:
    """A datetime's two JSON texts: the row's (milliseconds, ``null`` when unknown) and the
    details' (full precision, as :func:`plain` writes it), cached per datetime; both are cut
    from the minute's cached text, as :class:`Stamp` writes it."""

    def __init__(self) -> None:
        self.stamp = Stamp()
        self.cache: dict[datetime | None, tuple[str, str]] = {None: ("null", "null")}
        self._minutes: dict[int, str] = {}
        """A minute's text (``'"2024-01-01T10:20:'``), per minute since the epoch."""

    def __call__(self, value: datetime | None) -> tuple[str, str]:
        texts = self.cache.get(value)
        if texts is None:
            texts = self.cache[value] = self._texts(value)  # type: ignore[arg-type]
        return texts

    def _texts(self, value: datetime) -> tuple[str, str]:
        if value.tzinfo is not timezone.utc or value == EPOCH or value.year < 1000:
            return _text(self.stamp(value)), _text(plain(value))  # isoformat pads the year
        since = value - EPOCH
        s = since.seconds
        key = since.days * 1440 + s // 60  # minutes since the epoch
        minute = self._minutes.get(key)
        if minute is None:  # '"2024-01-01T10:20:'
            minute = '"' + iso_ms(value)[:-13] + "%02d:%02d:" % (s // 3600, s // 60 % 60)
            self._minutes[key] = minute
        base = minute + _TWO[s % 60]
        micro = since.microseconds
        if not micro:
            return base + '.000Z"', base + 'Z"'
        millis = base + "." + _DIGITS[micro // 1000]
        return millis + 'Z"', millis + _DIGITS[micro % 1000] + 'Z"'


def _ref(payload: str) -> str:
    """``, "payloadRef": {...}`` when the payload is a stored payload's token, else ``""``."""
    ref = payload_ref(payload)
    if ref is None:
        return ""
    return ', "payloadRef": ' + _dumps(ref.document()["storedPayload"])


def event_texts(request: OrchestrationRequest, rows: list[Row]) -> list[str]:
    """The JSON text of each event of the document's ``events`` array."""
    times = _Times()
    cached = times.cache
    text = encode_basestring
    n_past = request.past_count
    out: list[str] = []
    append = out.append
    last: Any = None
    t_row = t_details = "null"
    for index, row in enumerate(rows):
        kind, eid, ts, _name, _shown, payload, extra = row
        lane = "past" if index < n_past else "new"
        if ts is not last:  # the events of a turn share one datetime object
            found = cached.get(ts)
            if found is None:
                found = cached[ts] = times._texts(ts)  # type: ignore[arg-type]
            t_row, t_details = found
            last = ts
        if kind == "orchestratorStarted" or kind == "orchestratorCompleted":
            append(
                f'{{"index": {index}, "lane": "{lane}", "eventId": {eid}, "timestamp": {t_row}, '
                f'"kind": "{kind}", "name": null, "payload": null, "details": '
                f'{{"event_id": {eid}, "timestamp": {t_details}}}}}'
            )
            continue
        if kind != "taskCompleted" and kind != "taskScheduled":
            append(_dumps(_row_document(index, lane, row, times.stamp)))
            continue
        if payload is None:
            p_text, ref = "null", ""
        else:
            p_text = text(payload)
            ref = _ref(payload) if payload and payload[0].isalpha() else ""
        if kind == "taskCompleted":
            append(
                f'{{"index": {index}, "lane": "{lane}", "eventId": {eid}, "timestamp": {t_row}, '
                f'"kind": "taskCompleted", "name": null, "payload": {p_text}, "details": '
                f'{{"event_id": {eid}, "timestamp": {t_details}, "task_scheduled_id": '
                f'{extra[0]}, "result": {p_text}}}{ref}}}'
            )
        else:
            name = text(extra[0])
            version = "null" if extra[1] is None else text(extra[1])
            tags = _dumps(extra[3]) if extra[3] else "{}"
            append(
                f'{{"index": {index}, "lane": "{lane}", "eventId": {eid}, "timestamp": {t_row}, '
                f'"kind": "taskScheduled", "name": {name}, "payload": {p_text}, "details": '
                f'{{"event_id": {eid}, "timestamp": {t_details}, "task_name": {name}, '
                f'"version": {version}, "input": {p_text}, "tags": {tags}}}{ref}}}'
            )
    return out


def _row_document(index: int, lane: str, row: Row, stamp: Stamp) -> dict[str, Any]:
    kind, eid, ts, name, _shown, payload, extra = row
    if kind in FIELDS:
        details = {"event_id": eid, "timestamp": plain(ts)}
        details.update(zip(FIELDS[kind], map(plain, extra), strict=True))
        status = extra[0] if kind == "executionCompleted" else None
    else:
        details = {
            field: v if type(v := getattr(extra, field)) in _PLAIN_AS_IS else plain(v)
            for field in field_names(type(extra))
        }
        status = getattr(extra, "status", None) if kind == "executionCompleted" else None
    if status is not None:
        details["status_name"] = status_name(status)
    document = {
        "index": index,
        "lane": lane,
        "eventId": eid,
        "timestamp": stamp(ts),
        "kind": kind,
        "name": name,
        "payload": payload,
        "details": details,
    }
    ref = payload_ref(payload)
    if ref is not None:
        document["payloadRef"] = ref.document()["storedPayload"]
    return document
