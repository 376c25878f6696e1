"""The committed entity recordings (``samples/entity_requests``) still replay and run as
recorded: turns to the SDK executor's response, batches to the SDK worker's result."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from batch_compare import normalized_batch
from replay_compare import normalized, parse_response

from engine import load_app, load_request, replay_request
from engine.entity_batch import run_batch
from engine.entity_view import load_entity_item
from inspector.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "samples" / "entity_requests"
STEMS: list[str] = json.loads((DIR / "INDEX.json").read_text())["stems"]


def _bytes(name: str) -> bytes:
    return base64.b64decode((DIR / name).read_bytes())


@pytest.mark.parametrize("stem", [s for s in STEMS if "-turn" in s])
def test_a_committed_turn_replays_to_its_response(stem: str) -> None:
    request = load_request(DIR / f"{stem}.b64")
    outcome = replay_request(request, load_app("samples.entities"))
    theirs = parse_response(_bytes(f"{stem}.response.b64"))
    assert normalized(outcome.response) == normalized(theirs)


@pytest.mark.parametrize("stem", [s for s in STEMS if "-batch" in s])
def test_a_committed_batch_runs_to_its_result(stem: str) -> None:
    item = load_entity_item(DIR / f"{stem}.b64")
    assert item is not None
    ours = run_batch(load_app("samples.entities").entities, item).result
    assert normalized_batch(ours) == normalized_batch(_bytes(f"{stem}.result.b64"))


def test_inspector_replay_on_an_entity_turn(capsys: pytest.CaptureFixture[str]) -> None:
    stem = next(s for s in STEMS if s.startswith("rec-entity_transfer-turn"))
    code = main(["replay", str(DIR / f"{stem}.b64"), "--app", "samples.entities"])
    out = capsys.readouterr().out
    assert code == 0
    ours = parse_response(base64.b64decode(out.strip()))
    assert ours.actions[0].HasField("sendEntityMessage")
    assert normalized(ours) == normalized(parse_response(_bytes(f"{stem}.response.b64")))
