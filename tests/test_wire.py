"""Wire compatibility of our generated schema with the durabletask SDK's.

Both generated modules are loaded in this one process (ours has a package, the SDK's has none,
so their descriptors do not clash). For every message the two share we fill an instance with
every field set, move it across in both directions and demand identical bytes and JSON.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import durabletask.internal.orchestrator_service_pb2 as sdk_pb
import grpc
import pytest
from google.protobuf import json_format, wrappers_pb2
from google.protobuf.descriptor import FieldDescriptor

from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SidecarStub, method_path
from tests.wire_filler import Filler, all_set_fields, as_json, ser, variants

OURS = pb.DESCRIPTOR
SDK = sdk_pb.DESCRIPTOR

SHARED_MESSAGES = sorted(
    name for name in OURS.message_types_by_name if name in SDK.message_types_by_name
)


def cases() -> Iterator[Any]:
    for name in SHARED_MESSAGES:
        for forced in variants(OURS.message_types_by_name[name]):
            label = name + "".join(f"[{member}]" for member in forced.values())
            yield pytest.param(name, forced, id=label)


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


def test_shared_message_set_is_everything_we_declare() -> None:
    assert len(SHARED_MESSAGES) > 80
    assert set(SHARED_MESSAGES) == set(OURS.message_types_by_name)
    assert set(OURS.enum_types_by_name) <= set(SDK.enum_types_by_name)


@pytest.mark.parametrize(("name", "forced"), list(cases()))
def test_sdk_to_ours_and_back(name: str, forced: dict[str, str]) -> None:
    sdk_msg = Filler(forced).fill(getattr(sdk_pb, name)())
    data = ser(sdk_msg)
    assert data or not OURS.message_types_by_name[name].fields

    ours_msg = getattr(pb, name).FromString(data)
    assert ser(ours_msg) == data
    # JSON drops unknown fields, so equal JSON proves we understood every field.
    assert as_json(ours_msg) == as_json(sdk_msg)
    for oneof, member in forced.items():
        assert ours_msg.WhichOneof(oneof) == member


@pytest.mark.parametrize(("name", "forced"), list(cases()))
def test_ours_to_sdk_and_back(name: str, forced: dict[str, str]) -> None:
    ours_msg = Filler(forced).fill(getattr(pb, name)())
    data = ser(ours_msg)

    sdk_msg = getattr(sdk_pb, name).FromString(data)
    assert ser(sdk_msg) == data
    assert as_json(sdk_msg) == as_json(ours_msg)
    # Built independently from each side's own descriptor, the bytes must agree too.
    assert ser(Filler(forced).fill(getattr(sdk_pb, name)())) == data


def test_filler_sets_every_field_of_every_shared_message() -> None:
    """Guards the round trips above: a filler that skipped fields would prove nothing."""
    for name in SHARED_MESSAGES:
        desc = OURS.message_types_by_name[name]
        reached: set[str] = set()
        for forced in variants(desc):
            msg = Filler(forced).fill(getattr(pb, name)())
            reached |= {f.name for f, _ in msg.ListFields()}
        assert reached == {f.name for f in desc.fields}, name


def test_nested_history_is_deep() -> None:
    request = Filler().fill(pb.OrchestratorRequest())
    assert len(request.pastEvents) == 2 and len(request.newEvents) == 2
    assert request.pastEvents[0].WhichOneof("eventType") is not None
    assert "google.protobuf.Value.struct_value" in all_set_fields(request)


def test_json_names_match_sdk() -> None:
    request = pb.GetWorkItemsRequest(worker_instance_id="w1", maxConcurrentActivityWorkItems=3)
    assert as_json(request) == {"workerInstanceId": "w1", "maxConcurrentActivityWorkItems": 3}
    sdk_json = json_format.MessageToJson(sdk_pb.GetWorkItemsRequest(worker_instance_id="w1"))
    assert json_format.Parse(sdk_json, pb.GetWorkItemsRequest()).worker_instance_id == "w1"


# ---------------------------------------------------------------------------------------------
# Descriptor comparison
# ---------------------------------------------------------------------------------------------


def _type_name(field: FieldDescriptor) -> str | None:
    target = field.message_type or field.enum_type
    if target is None:
        return None
    # Our types live in package durableinspector, the SDK's at top level.
    return target.full_name.removeprefix(OURS.package + ".")


@pytest.mark.parametrize("name", SHARED_MESSAGES)
def test_fields_equal_sdk(name: str) -> None:
    ours = OURS.message_types_by_name[name]
    theirs = SDK.message_types_by_name[name]
    assert sorted(ours.fields_by_number) == sorted(theirs.fields_by_number)
    for number, field in ours.fields_by_number.items():
        other = theirs.fields_by_number[number]
        assert field.name == other.name
        assert field.json_name == other.json_name
        assert field.type == other.type
        assert field.is_repeated == other.is_repeated
        assert field.has_presence == other.has_presence
        assert _type_name(field) == _type_name(other)
        ours_oneof = field.containing_oneof.name if field.containing_oneof else None
        their_oneof = other.containing_oneof.name if other.containing_oneof else None
        assert ours_oneof == their_oneof
        assert field.GetOptions().deprecated == other.GetOptions().deprecated
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            assert other.message_type.GetOptions().map_entry
            for part in ("key", "value"):
                mine = field.message_type.fields_by_name[part]
                their = other.message_type.fields_by_name[part]
                assert (mine.type, _type_name(mine)) == (their.type, _type_name(their))


@pytest.mark.parametrize("name", sorted(pb.DESCRIPTOR.enum_types_by_name))
def test_enums_equal_sdk(name: str) -> None:
    ours = OURS.enum_types_by_name[name]
    theirs = SDK.enum_types_by_name[name]
    assert [(v.name, v.number) for v in ours.values] == [(v.name, v.number) for v in theirs.values]


def test_every_history_event_member_present() -> None:
    oneof = OURS.message_types_by_name["HistoryEvent"].oneofs_by_name["eventType"]
    assert sorted(f.number for f in oneof.fields) == list(range(3, 31))
    sdk_oneof = SDK.message_types_by_name["HistoryEvent"].oneofs_by_name["eventType"]
    assert {f.name for f in oneof.fields} == {f.name for f in sdk_oneof.fields}
    assert "entityLockGranted" in {f.name for f in oneof.fields}


def test_every_orchestrator_action_member_present() -> None:
    oneof = OURS.message_types_by_name["OrchestratorAction"].oneofs_by_name[
        "orchestratorActionType"
    ]
    assert sorted(f.number for f in oneof.fields) == list(range(2, 10))
    sdk_oneof = SDK.message_types_by_name["OrchestratorAction"].oneofs_by_name[
        "orchestratorActionType"
    ]
    assert {f.name for f in oneof.fields} == {f.name for f in sdk_oneof.fields}


def test_work_item_members_and_no_service() -> None:
    work_item = OURS.message_types_by_name["WorkItem"]
    assert sorted(f.number for f in work_item.oneofs_by_name["request"].fields) == [1, 2, 3, 4, 5]
    assert work_item.fields_by_name["completionToken"].number == 10
    assert OURS.name == "durable_inspector/orchestrator_service.proto"
    assert OURS.package == "durableinspector"
    assert not OURS.services_by_name
    assert method_path("GetWorkItems") == "/TaskHubSidecarService/GetWorkItems"
    assert "GetWorkItems" in SDK.services_by_name["TaskHubSidecarService"].methods_by_name


def test_every_stub_method_exists_in_sdk_service() -> None:
    service = SDK.services_by_name["TaskHubSidecarService"]
    used = {
        "Hello": ("google.protobuf.Empty", "google.protobuf.Empty"),
        "GetWorkItems": ("GetWorkItemsRequest", "WorkItem"),
        "CompleteActivityTask": ("ActivityResponse", "CompleteTaskResponse"),
        "CompleteOrchestratorTask": ("OrchestratorResponse", "CompleteTaskResponse"),
        "AbandonTaskActivityWorkItem": (
            "AbandonActivityTaskRequest",
            "AbandonActivityTaskResponse",
        ),
        "AbandonTaskOrchestratorWorkItem": (
            "AbandonOrchestrationTaskRequest",
            "AbandonOrchestrationTaskResponse",
        ),
        "StartInstance": ("CreateInstanceRequest", "CreateInstanceResponse"),
        "GetInstance": ("GetInstanceRequest", "GetInstanceResponse"),
        "WaitForInstanceStart": ("GetInstanceRequest", "GetInstanceResponse"),
        "WaitForInstanceCompletion": ("GetInstanceRequest", "GetInstanceResponse"),
        "RaiseEvent": ("RaiseEventRequest", "RaiseEventResponse"),
        "TerminateInstance": ("TerminateRequest", "TerminateResponse"),
        "SuspendInstance": ("SuspendRequest", "SuspendResponse"),
        "ResumeInstance": ("ResumeRequest", "ResumeResponse"),
        "QueryInstances": ("QueryInstancesRequest", "QueryInstancesResponse"),
        "StreamInstanceHistory": ("StreamInstanceHistoryRequest", "HistoryChunk"),
        "PurgeInstances": ("PurgeInstancesRequest", "PurgeInstancesResponse"),
    }
    streaming = {"GetWorkItems", "StreamInstanceHistory"}
    for method, (request, response) in used.items():
        sdk_method = service.methods_by_name[method]
        assert (sdk_method.input_type.full_name, sdk_method.output_type.full_name) == (
            request,
            response,
        )
        assert sdk_method.server_streaming == (method in streaming)
        for type_name in (request, response):
            if not type_name.startswith("google."):
                assert type_name in OURS.message_types_by_name


# ---------------------------------------------------------------------------------------------
# SidecarStub against the SDK's real in-memory sidecar
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def sidecar() -> Iterator[SidecarStub]:
    from durabletask.testing import InMemoryOrchestrationBackend

    backend = InMemoryOrchestrationBackend(port=_free_port())
    channel = None
    try:
        address = backend.start()
        port = address.rsplit(":", 1)[1]
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield SidecarStub(channel)
    finally:
        if channel is not None:
            channel.close()
        backend.stop()


def test_stub_against_in_memory_sidecar(sidecar: SidecarStub) -> None:
    sidecar.hello(timeout=10)

    created = sidecar.start_instance(
        pb.CreateInstanceRequest(name="x", input=wrappers_pb2.StringValue(value="1")),
        timeout=10,
    )
    assert created.instanceId

    got = sidecar.get_instance(
        pb.GetInstanceRequest(instanceId=created.instanceId, getInputsAndOutputs=True), timeout=10
    )
    assert got.exists
    state = got.orchestrationState
    assert state.instanceId == created.instanceId
    assert state.name == "x"
    assert state.orchestrationStatus == pb.ORCHESTRATION_STATUS_PENDING
    assert state.input.value == "1"

    missing = sidecar.get_instance(pb.GetInstanceRequest(instanceId="no-such-id"), timeout=10)
    assert not missing.exists

    listed = sidecar.query_instances(
        pb.QueryInstancesRequest(query=pb.InstanceQuery(maxInstanceCount=10)), timeout=10
    )
    assert [s.instanceId for s in listed.orchestrationState] == [created.instanceId]
    pending_only = sidecar.query_instances(
        pb.QueryInstancesRequest(
            query=pb.InstanceQuery(runtimeStatus=[pb.ORCHESTRATION_STATUS_COMPLETED])
        ),
        timeout=10,
    )
    assert not pending_only.orchestrationState


def test_stub_runs_one_orchestration_turn(sidecar: SidecarStub) -> None:
    created = sidecar.start_instance(pb.CreateInstanceRequest(name="x"), timeout=10)
    stream = sidecar.get_work_items(pb.GetWorkItemsRequest(worker_instance_id="t"), timeout=30)
    try:
        item = next(iter(stream))
    finally:
        stream.cancel()
    assert item.WhichOneof("request") == "orchestratorRequest"
    assert item.completionToken
    request = item.orchestratorRequest
    assert request.instanceId == created.instanceId
    kinds = [e.WhichOneof("eventType") for e in request.newEvents]
    assert kinds == ["orchestratorStarted", "executionStarted"]
    assert request.newEvents[1].executionStarted.name == "x"

    result = pb.OrchestratorResponse(
        instanceId=created.instanceId, completionToken=item.completionToken
    )
    action = result.actions.add(id=1)
    action.completeOrchestration.orchestrationStatus = pb.ORCHESTRATION_STATUS_COMPLETED
    action.completeOrchestration.result.value = '"done"'
    sidecar.complete_orchestrator_task(result, timeout=10).result()

    done = sidecar.wait_for_instance_completion(
        pb.GetInstanceRequest(instanceId=created.instanceId, getInputsAndOutputs=True), timeout=10
    )
    assert done.orchestrationState.orchestrationStatus == pb.ORCHESTRATION_STATUS_COMPLETED
    assert done.orchestrationState.output.value == '"done"'

    chunks = list(
        sidecar.stream_instance_history(
            pb.StreamInstanceHistoryRequest(instanceId=created.instanceId), timeout=10
        )
    )
    events = [e.WhichOneof("eventType") for chunk in chunks for e in chunk.events]
    assert events[:2] == ["orchestratorStarted", "executionStarted"]
    assert events[-1] == "executionCompleted"
