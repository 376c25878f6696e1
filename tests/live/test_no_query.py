"""A sidecar without instance queries: said once, the worker keeps serving, instances still listed.

durabletask-go (the engine under Dapr) answers UNIMPLEMENTED to ``QueryInstances`` and
``StreamInstanceHistory``; neither it nor Dapr can run here, so a stand-in, as small as it can
be, plays that sidecar: a gRPC server with only ``Hello``, ``GetWorkItems`` (one orchestrator
work item, then the stream stays open), ``GetInstance`` and ``CompleteOrchestratorTask`` (so
the worker's answer lands). Every other method of the service is UNIMPLEMENTED, as gRPC answers
for a method no handler serves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2

from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SERVICE_NAME
from inspector.live import LiveApp
from inspector.screens.live import LiveStepperScreen
from inspector.widgets.live import InstancesTable
from tests.live.conftest import free_port
from tests.live.test_actions import _act, _select
from tests.live.test_attach import SIZE, wait_for, worker_config

INSTANCE = "lonely-1"


class NoQuerySidecar:
    """The stand-in: one work item, its instance's state, and nothing else."""

    def __init__(self) -> None:
        self.completed: list[pb.OrchestratorResponse] = []
        self.stop = threading.Event()
        self.port = free_port()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handlers = {
            "Hello": grpc.unary_unary_rpc_method_handler(
                lambda req, ctx: empty_pb2.Empty(),
                request_deserializer=empty_pb2.Empty.FromString,
                response_serializer=empty_pb2.Empty.SerializeToString,
            ),
            "GetWorkItems": grpc.unary_stream_rpc_method_handler(
                self.work_items,
                request_deserializer=pb.GetWorkItemsRequest.FromString,
                response_serializer=pb.WorkItem.SerializeToString,
            ),
            "GetInstance": grpc.unary_unary_rpc_method_handler(
                self.get_instance,
                request_deserializer=pb.GetInstanceRequest.FromString,
                response_serializer=pb.GetInstanceResponse.SerializeToString,
            ),
            "CompleteOrchestratorTask": grpc.unary_unary_rpc_method_handler(
                self.complete,
                request_deserializer=pb.OrchestratorResponse.FromString,
                response_serializer=pb.CompleteTaskResponse.SerializeToString,
            ),
        }
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),)
        )
        self.server.add_insecure_port(f"127.0.0.1:{self.port}")

    def work_items(self, request: Any, context: grpc.ServicerContext) -> Iterator[pb.WorkItem]:
        item = pb.WorkItem(completionToken="t1")
        req = item.orchestratorRequest
        req.instanceId = INSTANCE
        req.newEvents.add(eventId=-1).orchestratorStarted.SetInParent()
        started = req.newEvents.add(eventId=-1).executionStarted
        started.name = "single_activity"
        started.input.value = '"x"'
        started.orchestrationInstance.instanceId = INSTANCE
        yield item
        while not self.stop.is_set() and context.is_active():
            self.stop.wait(0.2)

    def get_instance(self, request: Any, context: grpc.ServicerContext) -> pb.GetInstanceResponse:
        if request.instanceId != INSTANCE:
            return pb.GetInstanceResponse(exists=False)
        state = pb.OrchestrationState(instanceId=INSTANCE, name="single_activity")
        state.orchestrationStatus = pb.ORCHESTRATION_STATUS_RUNNING
        state.input.value = '"x"'
        state.createdTimestamp.GetCurrentTime()
        return pb.GetInstanceResponse(exists=True, orchestrationState=state)

    def complete(self, request: Any, context: grpc.ServicerContext) -> pb.CompleteTaskResponse:
        self.completed.append(request)
        return pb.CompleteTaskResponse()


async def test_a_sidecar_without_query_instances() -> None:
    sidecar = NoQuerySidecar()
    sidecar.server.start()
    app = LiveApp(worker_config(f"127.0.0.1:{sidecar.port}"))
    try:
        async with app.run_test(size=SIZE) as pilot:
            # the worker keeps serving: the work item is answered
            await wait_for(pilot, lambda: sidecar.completed)
            assert sidecar.completed[0].instanceId == INSTANCE
            # said once, in the status line, instead of a reconnect loop
            await wait_for(
                pilot, lambda: "does not implement QueryInstances" in app.connection_state
            )
            assert "reconnecting" not in str(app.status_text())
            # the instances known from the work items are listed, read with GetInstance
            table = app.screen.query_one(InstancesTable)
            await wait_for(pilot, lambda: [r.instance_id for r in table._rows] == [INSTANCE])
            assert table._rows[0].status == "RUNNING"
            assert "seen in work items (1)" in app.connection_state

            # an action the sidecar lacks is said in one line
            await _select(pilot, app, INSTANCE)
            result = await _act(pilot, app, "p", {})
            assert not result.ok
            assert (
                result.text
                == f"cannot suspend {INSTANCE}: this sidecar does not implement SuspendInstance"
            )

            # the instance opens from GetInstance (no StreamInstanceHistory), with the APP's code
            await pilot.press("enter")
            screen = await wait_for(
                pilot, lambda: app.screen if isinstance(app.screen, LiveStepperScreen) else None
            )
            assert "history via GetInstance · code" in screen.origin
            assert screen.session.app is not None
    finally:
        app.close()
        sidecar.stop.set()
        sidecar.server.stop(grace=0)
