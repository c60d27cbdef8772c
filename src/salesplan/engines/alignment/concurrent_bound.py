"""The Lagrangian bound on a second processor while the search goes on.

The search is single-threaded; on its own the bound gets only the time the search
leaves (under a third of a 60 s run), at 0.06–0.09 processor seconds a step on a few
thousand units. Started in a child process as soon as the starts give a first plan
(its cost is the Volume steps' target, its unit costs a start for the multipliers), the
bound steps on the second core until the deadline while the parent keeps searching and
passes each better plan's cost on as the new target.

The child is a ``spawn`` process, never ``fork``: ``optimise`` runs inside Django
workers that hold threads and database connections, which a forked child would copy
in whatever state they were in. (A spawned child imports the parent's main module as
``__mp_main__``: scripts that run work at import need the usual ``if __name__ ==
"__main__"`` guard.) What the child proves is written to shared memory after every step
rather than sent through a pipe, so a child that is never read cannot block, and one
that dies or is ended keeps what it had proved: every value it reports is some L(λ), a
proven bound whatever happens to the steps after it.

Failure never reaches the caller: a child that cannot start, raises or does not finish
in time is ended, and ``optimise`` runs the bound itself in the time left.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from .bounds import lagrangian_bound
from .instance import Instance

# The child's start-up (a fresh interpreter importing numpy and scipy, then the cost
# matrix) costs about a processor second; below a few hundred units the bound reaches
# its best in about that long on its own, and the parent's bound after the search gets
# the time the search leaves anyway.
CONCURRENT_MIN_UNITS = 500
# Seconds past the deadline the parent waits for the child's last step to end.
_GRACE = 1.0

_RUNNING, _DONE, _FAILED = 0, 1, 2


def processors() -> int:
    """Processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


class ConcurrentBound:
    """At most one bound child; a context manager that always ends it.

    ``start`` launches it; ``improve`` passes a better plan's cost on; ``result`` waits
    for it (until the deadline and a grace second) and returns the best bound it proved
    and its steps, or None when it failed and the caller must prove the bound itself.
    With ``follow=False`` the child keeps the first plan's cost as its target, so its
    result depends only on its inputs and step budget (reproducible runs).
    """

    def __init__(self) -> None:
        self.process: BaseProcess | None = None
        self._shared: Any = None

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, inst: Instance, upper_bound: float, unit_costs: np.ndarray,
              deadline: float, max_iterations: int, follow: bool = True) -> bool:
        context = multiprocessing.get_context("spawn")
        # target (plan cost), best bound, steps, state: plain shared doubles, each
        # written whole by one side only.
        shared = context.RawArray("d", [upper_bound, 0.0, 0.0, _RUNNING])
        process = context.Process(
            target=_prove, name="alignment-bound", daemon=True,
            args=(shared, follow, inst, upper_bound, unit_costs,
                  time.time() + (deadline - time.monotonic()), max_iterations))
        try:
            process.start()
        except (OSError, RuntimeError, ValueError):  # no processes here: bound in-process
            return False
        self.process, self._shared = process, shared
        return True

    def improve(self, plan_cost: float) -> None:
        if self._shared is not None and plan_cost < self._shared[0]:
            self._shared[0] = plan_cost

    def result(self, deadline: float) -> tuple[float, int, bool]:
        """(best bound the child proved, steps it took, whether it finished): a child
        that failed or was ended may still have proved something on the way."""
        if self.process is None or self._shared is None:
            return 0.0, 0, False
        timeout = None if math.isinf(deadline) else max(0.0, deadline + _GRACE - time.monotonic())
        self.process.join(timeout)
        best, steps, state = self._shared[1], int(self._shared[2]), self._shared[3]
        self.close()
        return best, steps, state == _DONE

    def close(self) -> None:
        """End the child if it still runs (an exception, a time limit)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.is_alive():
            process.terminate()
            process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join()
        process.close()

    def __enter__(self) -> ConcurrentBound:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _prove(shared, follow: bool, inst: Instance, upper_bound: float, unit_costs: np.ndarray,
           wall_deadline: float, max_iterations: int) -> None:
    """The child: Volume steps until the deadline, the best bound in ``shared``.

    The deadline comes on the wall clock (monotonic clocks need not agree between
    processes) and is turned back into the monotonic clock at once; the start-up counts
    against it.
    """
    deadline = time.monotonic() + (wall_deadline - time.time())

    def on_step(best: float, steps: int) -> None:
        shared[2] = steps
        shared[1] = max(shared[1], best)

    try:
        value = lagrangian_bound(inst, upper_bound, unit_costs, deadline, max_iterations,
                                 target_now=(lambda: shared[0]) if follow else None,
                                 on_step=on_step)
        shared[1] = max(shared[1], value)
        shared[3] = _DONE
    except BaseException:
        shared[3] = _FAILED
        raise
