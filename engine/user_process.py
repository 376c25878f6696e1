"""Where a worker's user process starts: the APP is imported before anything of the engine.

The APP's imports choose the SDK flavour of the process (:mod:`engine.sdk`: a Dapr app runs on
Dapr's fork, which cannot share a process with durabletask), and the worker's modules ask for
the flavour as they load, so the process entry point lives outside ``engine.worker`` (whose
package imports the replay engine) and imports the APP first.
"""

from __future__ import annotations

from typing import Any


def run_user_process(app_spec: str, *args: Any) -> None:
    """Import the APP, then run :func:`engine.worker._child.child_main` with the same arguments."""
    from engine.app_loader import import_app

    import_app(app_spec)
    from engine.worker._child import child_main

    child_main(app_spec, *args)
