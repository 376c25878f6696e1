"""Starting the worker's two pools of user processes, the turn pool and the activity pool."""

from __future__ import annotations

import threading
from collections.abc import Callable

from engine.worker._job import Job
from engine.worker._options import WorkerOptions
from engine.worker._pool import Pool
from engine.worker._process import JobResult, UserProcess


def start_pools(
    options: WorkerOptions,
    report_dir: str,
    on_result: Callable[[Job, JobResult], None],
    echo: Callable[[str, str], None],
) -> tuple[Pool, Pool]:
    """Start the turn pool and the activity pool at once; each proves the APP loads.

    Args:
        options: The APP, the limits and the timeouts.
        report_dir: Folder for the user processes' stack-report files.
        on_result: Called in a slot's thread with each job and its result.
        echo: Called with ``(label, line)`` for each line a user process prints.

    Raises:
        WorkerError: the APP does not load in a user process (both pools are shut down).
    """
    interval = options.maximum_timer_interval
    seconds = (
        interval if isinstance(interval, str) or interval is None else interval.total_seconds()
    )

    def spawner(kind: str) -> Callable[[int], UserProcess]:
        def spawn(index: int) -> UserProcess:
            label = f"{kind}-{index + 1}"
            return UserProcess(
                options.app, label, report_dir, seconds, options.start_method, echo=echo
            )

        return spawn

    pools = (
        Pool("turn", options.max_orchestrations, spawner("turn"), options.turn_timeout, on_result),
        Pool(
            "activity",
            options.max_activities,
            spawner("activity"),
            options.activity_timeout,
            on_result,
        ),
    )
    errors: list[BaseException] = []

    def boot(pool: Pool) -> None:
        try:
            pool.start()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    booting = [threading.Thread(target=boot, args=(pool,)) for pool in pools]
    for thread in booting:
        thread.start()
    for thread in booting:
        thread.join()
    if errors:
        for pool in pools:
            pool.shutdown(1.0)
        raise errors[0]
    return pools
