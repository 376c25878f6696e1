"""Loading requests: every encoding is detected, every bad input is one clear line.

The bad-input tests run the real command line in a subprocess and demand exit status 2,
exactly one line on stderr and no traceback; the fuzz test demands that ``load_request``
only ever returns a request or raises ``LoadError``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import LoadError
from engine.history import OrchestrationRequest, TaskScheduled
from engine.load import decode_request_bytes, load_recording, load_request, load_request_proto
from engine.proto import orchestrator_service_pb2 as pb
from engine.recording import AbandonNote, ActivityCall, ActivityResult, TurnResponse

ROOT = Path(__file__).resolve().parents[1]


def make_request(n_turns: int = 3, instance_id: str = "inst-1") -> pb.OrchestratorRequest:
    """A small activity chain: started, then ``n_turns`` scheduled/completed activities."""
    req = pb.OrchestratorRequest(instanceId=instance_id)
    req.executionId.value = "exec-1"

    def add(lane: list[pb.HistoryEvent], event_id: int, second: int) -> pb.HistoryEvent:
        ev = pb.HistoryEvent(eventId=event_id)
        ev.timestamp.seconds = 1_700_000_000 + second
        ev.timestamp.nanos = 123_000_000
        lane.append(ev)
        return ev

    past: list[pb.HistoryEvent] = []
    add(past, -1, 0).orchestratorStarted.SetInParent()
    started = add(past, -1, 0).executionStarted
    started.name = "chain"
    started.version.value = "2"
    started.input.value = '{"items": [1, 2, 3]}'
    started.orchestrationInstance.instanceId = instance_id
    for i in range(n_turns):
        sched = add(past, i, i).taskScheduled
        sched.name = "step"
        sched.input.value = json.dumps({"i": i})
        add(past, -1, i).orchestratorCompleted.SetInParent()
        add(past, -1, i + 1).orchestratorStarted.SetInParent()
        done = add(past, -1, i + 1).taskCompleted
        done.taskScheduledId = i
        done.result.value = json.dumps({"i": i, "ok": True})
    req.pastEvents.extend(past[:-2])
    req.newEvents.extend(past[-2:])
    return req


REQUEST = make_request()
RAW = REQUEST.SerializeToString()
N_EVENTS = len(REQUEST.pastEvents) + len(REQUEST.newEvents)


def run_show(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_inspector("show", *args, stdin=stdin)


def run_inspector(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[bytes], *needles: str) -> str:
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("inspector: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert proc.stdout == b""
    return lines[0]


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --- bad inputs, each through the real CLI ---------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.b64")
    assert_one_line_error(run_show(missing), f"no such file: {missing}")


def test_directory(tmp_path: Path) -> None:
    assert_one_line_error(run_show(str(tmp_path)), str(tmp_path), "directory")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.b64", base64.b64encode(RAW))
    os.chmod(path, 0)
    assert_one_line_error(run_show(path), path, "permission denied")


def test_unreadable_file_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root the subprocess test above cannot take away read permission; fake the refusal.
    path = write(tmp_path, "locked.b64", base64.b64encode(RAW))
    import builtins

    real_open = builtins.open

    def refusing_open(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == path:
            raise PermissionError(13, "Permission denied", path)
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", refusing_open)
    with pytest.raises(LoadError, match="permission denied"):
        load_request(path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.b64", b"")
    assert_one_line_error(run_show(path), path, "empty input")


def test_whitespace_only_stdin() -> None:
    assert_one_line_error(run_show("-", stdin=b"  \n\t\n"), "<stdin>", "empty input")


def test_text_that_is_not_base64(tmp_path: Path) -> None:
    text = base64.b64encode(RAW)
    bad = text[:17] + b"*" + text[17:]
    path = write(tmp_path, "bad.b64", bad)
    assert_one_line_error(run_show(path), path, "'*'", "byte 17")


def test_non_ascii_text(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.txt", "hello wörld, no request here\n".encode())
    assert_one_line_error(run_show(path), "'ö'", "byte 7")


def test_base64_of_bytes_that_are_not_protobuf(tmp_path: Path) -> None:
    path = write(tmp_path, "text.b64", base64.b64encode(b"hello world, this is not protobuf"))
    assert_one_line_error(run_show(path), "base64 decodes to 33 bytes", "not a protobuf")


def test_truncated_base64(tmp_path: Path) -> None:
    text = base64.b64encode(RAW)
    path = write(tmp_path, "cut.b64", text[: (len(text) // 4 - 1) * 4 + 1])
    assert_one_line_error(run_show(path), path, "cannot be complete")


def test_truncated_protobuf_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.bin", RAW[:-7])
    line = assert_one_line_error(run_show(path), "newEvents[1]", "at byte", "remain")
    assert "truncated" in line


def test_truncated_protobuf_inside_base64(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.b64", base64.b64encode(RAW[: len(RAW) // 2]))
    assert_one_line_error(run_show(path), "pastEvents[", "at byte", "truncated")


def test_json_that_is_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", b'{\n  "instanceId": "x",\n  "pastEvents": [,]\n}\n')
    assert_one_line_error(run_show(path), "not valid JSON", "line 3 column")


def test_json_of_the_wrong_shape(tmp_path: Path) -> None:
    doc = {"instanceId": "x", "pastEvents": [{"eventId": 1, "taskScheduled": {"nme": "a"}}]}
    path = write(tmp_path, "shape.json", json.dumps(doc).encode())
    assert_one_line_error(run_show(path), "nme", "pastEvents[0]")


def test_json_wrong_type_of_value(tmp_path: Path) -> None:
    path = write(tmp_path, "shape.json", b'{"instanceId": "x", "pastEvents": 5}')
    assert_one_line_error(run_show(path), "pastEvents")


def test_json_array(tmp_path: Path) -> None:
    path = write(tmp_path, "list.json", b"[1, 2]")
    assert_one_line_error(run_show(path), "expected an object")


def test_message_without_events_or_instance_id(tmp_path: Path) -> None:
    empty = pb.OrchestratorRequest()
    empty.requiresHistoryStreaming = True
    path = write(tmp_path, "hollow.b64", base64.b64encode(empty.SerializeToString()))
    assert_one_line_error(run_show(path), "no history events and no instance id")


def test_json_without_events_or_instance_id(tmp_path: Path) -> None:
    path = write(tmp_path, "hollow.json", b"{}")
    assert_one_line_error(run_show(path), "no history events and no instance id")


def test_random_binary(tmp_path: Path) -> None:
    noise = bytes((i * 97 + 13) % 256 for i in range(512))
    path = write(tmp_path, "noise.bin", noise)
    assert_one_line_error(run_show(path), path, "not a protobuf")


def test_work_item_with_an_activity(tmp_path: Path) -> None:
    item = pb.WorkItem(completionToken="t")
    item.activityRequest.name = "act"
    path = write(tmp_path, "activity.bin", item.SerializeToString())
    assert_one_line_error(run_show(path), "activityRequest")


def test_response_is_named(tmp_path: Path) -> None:
    # `show` reads a response (every file --record writes); a request's readers name it.
    resp = pb.OrchestratorResponse(instanceId="inst-1", completionToken="tok")
    resp.actions.add(id=0).scheduleTask.name = "step"
    path = write(tmp_path, "response.b64", base64.b64encode(resp.SerializeToString()))
    replayed = run_inspector("replay", path, "--app", "samples.orchestrations")
    assert_one_line_error(replayed, path, "OrchestratorResponse", "not an OrchestratorRequest")
    with pytest.raises(LoadError, match="this is an OrchestratorResponse"):
        load_request(path)
    shown = run_show(path)
    assert shown.returncode == 0 and shown.stderr == b""
    assert "OrchestratorResponse" in shown.stdout.decode()


def test_timestamp_out_of_range(tmp_path: Path) -> None:
    req = make_request(1)
    req.newEvents[0].timestamp.seconds = 2**60
    path = write(tmp_path, "far.bin", req.SerializeToString())
    assert_one_line_error(run_show(path), "newEvents[0]", "out of range")


def test_nested_timestamp_out_of_range(tmp_path: Path) -> None:
    req = make_request(1)
    timer = req.pastEvents.add(eventId=7).timerCreated
    timer.fireAt.seconds = -(2**50)
    path = write(tmp_path, "timer.bin", req.SerializeToString())
    proc = run_show(path)
    # A nested time the engine can tolerate (shown as unknown) or reject, never a traceback.
    if proc.returncode == 0:
        assert proc.stderr == b"" and b"timerCreated" in proc.stdout
    else:
        assert_one_line_error(proc, "timerCreated", "out of range")


# --- good inputs ------------------------------------------------------------------------------


def assert_is_request(loaded: OrchestrationRequest) -> None:
    assert loaded.instance_id == "inst-1"
    assert loaded.execution_id == "exec-1"
    assert len(loaded.past_events) + len(loaded.new_events) == N_EVENTS
    assert len(loaded.new_events) == 2
    first = next(e for e in loaded.events if isinstance(e, TaskScheduled))
    assert first.task_name == "step"


ENCODINGS = {
    "std-base64": base64.b64encode(RAW),
    "std-base64-newline": base64.b64encode(RAW) + b"\n",
    "urlsafe-unpadded": base64.urlsafe_b64encode(RAW).rstrip(b"="),
    "line-broken": b"\r\n  ".join(
        base64.b64encode(RAW)[i : i + 19] for i in range(0, len(base64.b64encode(RAW)), 19)
    ),
    "binary": RAW,
    "json": json_format.MessageToJson(REQUEST).encode(),
    "json-original-names": json.dumps(
        json_format.MessageToDict(REQUEST, preserving_proto_field_name=True)
    ).encode(),
    "json-base64-string": json.dumps(base64.b64encode(RAW).decode()).encode(),
    "workitem-binary": pb.WorkItem(orchestratorRequest=REQUEST).SerializeToString(),
    "workitem-with-token-base64": base64.b64encode(
        pb.WorkItem(orchestratorRequest=REQUEST, completionToken="tok-1").SerializeToString()
    ),
    "workitem-json": json_format.MessageToJson(
        pb.WorkItem(orchestratorRequest=REQUEST, completionToken="tok-1")
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_each_encoding_loads(name: str, tmp_path: Path) -> None:
    data = ENCODINGS[name]
    assert_is_request(load_request(data))
    path = write(tmp_path, f"{name}.req", data)
    assert_is_request(load_request(path))
    assert_is_request(load_request(Path(path)))
    assert load_request_proto(path) == REQUEST


@pytest.mark.parametrize("name", ["std-base64", "urlsafe-unpadded", "binary", "workitem-json"])
def test_each_encoding_through_the_cli(name: str, tmp_path: Path) -> None:
    path = write(tmp_path, f"{name}.req", ENCODINGS[name])
    proc = run_show(path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert "inst-1" in proc.stdout.decode()


def test_stdin_dash() -> None:
    proc = run_show("-", stdin=base64.b64encode(RAW))
    assert proc.returncode == 0, proc.stderr.decode()
    assert "chain (version 2)" in proc.stdout.decode()


def test_decode_request_bytes_names_where() -> None:
    assert decode_request_bytes(RAW, "x") == REQUEST
    with pytest.raises(LoadError, match=r"^capture\.bin: .*at byte"):
        decode_request_bytes(RAW[:-3], "capture.bin")


def test_instance_id_only_is_accepted() -> None:
    req = pb.OrchestratorRequest(instanceId="lonely")
    loaded = load_request(req.SerializeToString())
    assert loaded.instance_id == "lonely"
    assert loaded.events == ()


def test_big_request_converts_like_one_by_one() -> None:
    from engine.history import event_from_proto

    req = make_request(500)
    loaded = load_request(req.SerializeToString())
    expected = tuple(event_from_proto(e) for e in req.pastEvents)
    assert loaded.past_events == expected


# --- the other files --record writes ---------------------------------------------------------


def activity_request(task_id: int, with_input: bool) -> pb.ActivityRequest:
    msg = pb.ActivityRequest(name="step", taskId=task_id)
    msg.orchestrationInstance.instanceId = "inst-1"
    msg.orchestrationInstance.executionId.value = "exec-1"
    if with_input:
        msg.input.value = '{"i": 0}'
    return msg


def activity_response(task_id: int, failed: bool) -> pb.ActivityResponse:
    msg = pb.ActivityResponse(instanceId="inst-1", taskId=task_id, completionToken="tok-9")
    if failed:
        msg.failureDetails.errorType = "builtins.ValueError"
        msg.failureDetails.errorMessage = "bad input"
    else:
        msg.result.value = '{"ok": true}'
    return msg


def turn_response(n_actions: int) -> pb.OrchestratorResponse:
    msg = pb.OrchestratorResponse(instanceId="inst-1", completionToken="tok-3")
    msg.customStatus.value = '"waiting"'
    for i in range(n_actions):
        msg.actions.add(id=i).scheduleTask.name = "step"
    return msg


RECORDED: dict[str, tuple[Any, type, str]] = {
    "activity-request": (activity_request(3, True), ActivityCall, "ActivityRequest"),
    "activity-request-task-0": (activity_request(0, False), ActivityCall, "ActivityRequest"),
    "activity-response": (activity_response(3, False), ActivityResult, "ActivityResponse"),
    "activity-failure": (activity_response(3, True), ActivityResult, "ActivityResponse"),
    "activity-response-task-0": (activity_response(0, False), ActivityResult, "ActivityResponse"),
    "turn-response": (turn_response(2), TurnResponse, "OrchestratorResponse"),
    "turn-response-no-actions": (turn_response(0), TurnResponse, "OrchestratorResponse"),
}


@pytest.mark.parametrize("name", sorted(RECORDED))
@pytest.mark.parametrize("encode", [base64.b64encode, lambda raw: raw], ids=["base64", "binary"])
def test_each_recorded_kind_is_recognised(name: str, encode: Any, tmp_path: Path) -> None:
    msg, kind, proto_name = RECORDED[name]
    path = write(tmp_path, f"{name}.b64", encode(msg.SerializeToString()))
    found = load_recording(path)
    assert type(found) is kind
    assert found.instance_id == "inst-1"
    if isinstance(found, ActivityCall):
        assert (found.name, found.task_id, found.execution_id) == ("step", msg.taskId, "exec-1")
        assert found.input == (msg.input.value if msg.HasField("input") else None)
    elif isinstance(found, ActivityResult):
        assert found.task_id == msg.taskId and found.completion_token == "tok-9"
        assert (found.failure is None) == (found.result == '{"ok": true}')
    else:
        assert len(found.actions) == len(msg.actions) and found.custom_status == '"waiting"'
    with pytest.raises(LoadError, match=f"^{path}: this is an {proto_name} .*, not an Orch"):
        load_request(path)


def test_requests_still_load_as_requests() -> None:
    for name in ENCODINGS:
        assert_is_request(load_recording(ENCODINGS[name]))  # type: ignore[arg-type]


def test_abandon_note_is_named_by_the_recorder(tmp_path: Path) -> None:
    # All base64 letters: only the name tells the note from a (broken) request.
    path = write(tmp_path, "000004-inst-1-turn.abandoned", b"timedout\n")
    note = load_recording(path)
    assert note == AbandonNote(reason="timedout", request_file="000004-inst-1-turn.b64")
    with pytest.raises(LoadError, match="this is an abandon note .*000004-inst-1-turn.b64"):
        load_request(path)
    assert_one_line_error(
        run_inspector("replay", path, "--app", "samples.orchestrations"), "abandon note"
    )
    other = write(tmp_path, "notes.txt", b"timedout\n")
    with pytest.raises(LoadError, match="not a protobuf"):
        load_recording(other)


def test_recorded_kinds_in_the_cli(tmp_path: Path) -> None:
    msg, _, _ = RECORDED["activity-request"]
    path = write(
        tmp_path, "000002-inst-1-activity-step.b64", base64.b64encode(msg.SerializeToString())
    )
    shown = run_show(path)
    assert shown.returncode == 0 and shown.stderr == b""
    text = shown.stdout.decode()
    for line in ("activity:      step", 'input:         {"i": 0}', "instance:      inst-1"):
        assert line in text
    assert "task id:       3" in text
    line = assert_one_line_error(run_inspector("open", path), "ActivityRequest", "activity 'step'")
    assert "task 3" in line


# --- fuzz -------------------------------------------------------------------------------------

ENCODED_SEEDS = [ENCODINGS[k] for k in ("std-base64", "binary", "json", "workitem-binary")] + [
    RECORDED[k][0].SerializeToString() for k in ("activity-request", "activity-failure")
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(ENCODED_SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 8))]
    return bytes(data)


def _load_or_error(data: bytes) -> None:
    try:
        result = load_request(data)
    except LoadError as exc:
        message = str(exc)
        assert message and "\n" not in message
    else:
        assert isinstance(result, OrchestrationRequest)
    try:
        found = load_recording(data)
    except LoadError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(found, (OrchestrationRequest, TurnResponse, ActivityCall, ActivityResult))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzz_mutations_only_load_or_raise_load_error(data: bytes) -> None:
    _load_or_error(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_random_bytes_only_load_or_raise_load_error(data: bytes) -> None:
    _load_or_error(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_random_text_only_load_or_raise_load_error(text: str) -> None:
    _load_or_error(text.encode("utf-8", errors="surrogatepass"))


UNUSUAL_IDS = ["tab\there", "no\u00a0break", "zero\u200bwidth", "soft\u00adhyphen", "line\u2028sep"]


@pytest.mark.parametrize("instance_id", UNUSUAL_IDS)
def test_any_instance_id_the_protocol_allows_loads(instance_id: str, tmp_path: Path) -> None:
    from engine.worker import Recorder

    req = pb.OrchestratorRequest(instanceId=instance_id)
    req.newEvents.add().executionStarted.name = "orch"
    for data in (req.SerializeToString(), base64.b64encode(req.SerializeToString())):
        assert load_request(data).instance_id == instance_id
    # Without events too, and the worker's own --record files of such an instance read back.
    bare = pb.OrchestratorRequest(instanceId=instance_id)
    assert load_request(bare.SerializeToString()).instance_id == instance_id
    recorder = Recorder(str(tmp_path))
    stem = recorder.stem(1, "turn", instance_id, "")
    recorder.request(stem, req.SerializeToString())
    assert load_request(tmp_path / f"{stem}.b64").instance_id == instance_id


def test_junk_base64_fails_on_its_first_field() -> None:
    # 8 MB of base64 lines that decode to "AAA...": once tried whole as protobuf, twice.
    junk = base64.encodebytes(b"A" * (6 * 1024 * 1024))
    with pytest.raises(LoadError) as caught:
        load_request(junk)
    message = str(caught.value)
    assert "base64 decodes to bytes that are not a protobuf: " in message
    assert "the first field (number 8, wire type 1) starts no OrchestratorRequest" in message
