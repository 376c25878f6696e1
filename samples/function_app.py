"""A Durable Functions app written with ``durabletask-azurefunctions`` (``DFApp`` decorators).

The module's names hold the Functions library's builders, not the functions: the inspector finds
them through ``app.get_functions()`` (``--app samples/function_app.py``). Orchestrators take
``(context, input)`` as the SDK calls them; activities take their input alone, as the
trigger's ``input_name``. The HTTP starter is for the Functions host only.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.functions as func
from durabletask import task
from durabletask.azurefunctions import DFApp

app = DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orchestrators/{name}")
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Start an orchestration by name (the Functions host runs this; the inspector never does)."""
    instance_id = await client.schedule_new_orchestration(req.route_params["name"])
    return func.HttpResponse(instance_id)


@app.orchestration_trigger(context_name="context")
def greet_cities(
    context: task.OrchestrationContext, cities: list[str]
) -> Generator[Any, Any, list[str]]:
    """One greeting per city, in turn, then all of them shouted at once."""
    greetings = []
    for city in cities:
        greetings.append((yield context.call_activity("say_hello", input=city)))
    loud = yield task.when_all([context.call_activity("shout", input=g) for g in greetings])
    context.set_custom_status({"greeted": len(greetings)})
    return list(loud)


@app.orchestration_trigger(context_name="context")
def careful_order(context: task.OrchestrationContext, item: str) -> Generator[Any, Any, str]:
    """A failing activity caught, a timer, then an approval event."""
    try:
        yield context.call_activity("reserve", input=item)
    except task.TaskFailedError as err:
        context.set_custom_status(f"reserve failed: {err.details.message}")
    yield context.create_timer(context.current_utc_datetime)
    approval = yield context.wait_for_external_event("approval")
    return f"{item}: {approval}"


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}"


@app.activity_trigger(input_name="text")
def shout(text: str) -> str:
    return text.upper()


@app.activity_trigger(input_name="item")
def reserve(item: str) -> str:
    raise RuntimeError(f"{item} is out of stock")
