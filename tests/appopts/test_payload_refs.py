"""Large-payload tokens without their store: history-only ``show`` and ``open`` show each one
as a reference (which store, which key, the size when known), on turns the SDK's worker served
with a payload store (``tests/appopts/fixtures/record_payload_turns.py`` recorded them)."""

from __future__ import annotations

import json
from pathlib import Path

from appopts_support import run_cli

from engine.load import load_request
from engine.payload_refs import payload_ref, shown_payload
from samples.payload_worker import PREFIX

TURN = Path(__file__).resolve().parent / "fixtures" / "payload_tokens-turn2.b64"


def _tokens() -> list[str]:
    request = load_request(TURN)
    found = [ev.payload for ev in request.events if ev.payload and ev.payload.startswith(PREFIX)]
    assert len(found) == 3  # the input, the activity's input and its result
    return found


def test_tokens_are_recognised_and_payloads_are_not() -> None:
    folder = payload_ref("folder:v1:abc123")
    assert folder is not None and (folder.store, folder.version, folder.key) == (
        "folder",
        1,
        "abc123",
    )
    assert folder.container is None and folder.size is None
    blob = payload_ref("blob:v1:payloads:big-1/0b9e.json")
    assert blob is not None
    assert (blob.store, blob.container, blob.key) == ("blob", "payloads", "big-1/0b9e.json")
    assert blob.label == "stored payload blob:v1 payloads/big-1/0b9e.json, size unknown"
    for payload in ('"blob:v1:a:b"', "42", '{"a": 1}', "plain words", "", None, "http://x"):
        assert payload_ref(payload) is None, payload
        assert shown_payload(payload) == payload


def test_show_lists_each_token_as_a_stored_payload() -> None:
    done = run_cli("show", str(TURN))
    assert done.returncode == 0, done.stderr
    rows = done.stdout.split("\n\n")[0].splitlines()[1:]
    stored = [row for row in rows if "stored payload folder:v1" in row]
    assert [row.split()[4] for row in stored] == [
        "executionStarted",
        "taskScheduled",
        "taskCompleted",
    ]
    assert all(row.endswith(", size unknown") for row in stored)
    assert not any(PREFIX in row for row in rows)  # no raw token in the payload column
    input_token = _tokens()[0]
    assert f"  token:       {input_token}" in done.stdout.splitlines()


def test_show_json_describes_every_token() -> None:
    done = run_cli("show", "--json", str(TURN))
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["events"]
    refs = [(ev["payload"], ev["payloadRef"]) for ev in events if "payloadRef" in ev]
    assert [token for token, _ in refs] == _tokens()
    for token, ref in refs:
        assert ref == {
            "store": "folder",
            "version": 1,
            "container": None,
            "key": token[len(PREFIX) :],
            "size": None,
            "token": token,
        }
    assert all(
        "payloadRef" not in ev for ev in events if not (ev["payload"] or "").startswith(PREFIX)
    )
