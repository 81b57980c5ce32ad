"""``softcut batch --ray``: the same job on a Ray cluster through Ray Data. The inputs become a dataset of
(source, relative, previous record) rows, ``map_batches`` runs them through an actor pool whose actors each
hold one model session (:class:`~.job.Cutter`; a GPU each where the cluster has GPUs) and write the outputs
themselves (atomically, into DST, which every node must see: a shared folder or a URL), and the records stream back to
this process, which writes the manifest as they land. Ray retries the work of an actor, task or node that
dies (Ray Data's actors restart and their tasks are retried without limit); a record is written once, when
its result arrives, so nothing is recorded twice and a rerun does what never landed.

Resources: each actor asks for at most one CPU and leaves one CPU of the cluster free for Ray Data's own
tasks (reading the rows, collecting the results), so a 2-CPU machine does not deadlock."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

import numpy as np

from core.errors import ParameterError
from softcut_app.batchjob.job import Cutter, Job

INSTALL = "pip install 'softcut[ray]' (Ray Data: pip install 'ray[data]')"
MAX_BLOCKS = 20_000
"""The dataset's blocks: one input each up to this many inputs (a dead actor's block is redone, so small
blocks redo little), then several inputs a block."""
ACTOR_NAME = "softcut-actor"


def need_ray():
    """The ray module with Ray Data, or a :class:`ParameterError` that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ParameterError(f"--ray needs Ray with Ray Data, which is not installed here ({exc.name or exc}): "
                             f"{INSTALL}") from None
    return ray


class CutterActor:
    """A Ray Data actor: one :class:`Cutter` (its model session), cutting out a batch of rows."""

    def __init__(self, job: Job, threads: int) -> None:
        from softcut_app.batchjob.local import _name_process

        self._name = _name_process
        self.cutter = Cutter(job, threads=threads)
        self._name(ACTOR_NAME)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        records = []
        for source, relative, previous in zip(batch["source"], batch["relative"], batch["previous"]):
            self._name(("sc-" + str(relative).rsplit("/", 1)[-1])[:15])  # ps shows the input being cut
            record = self.cutter.run(str(source), str(relative), json.loads(previous) if previous else None)
            records.append(json.dumps(record))
        self._name(ACTOR_NAME)
        return {"record": np.array(records, dtype=object)}


def actor_resources(cpus: float, gpus: float, workers: int) -> tuple[int, dict]:
    """(actors, each one's Ray resources): one actor a GPU where there are GPUs, else one a CPU; each asks for
    at most one CPU, and all together leave one CPU free (see the module's docstring). ``workers`` > 0: that
    many actors."""
    if gpus >= 1:
        n = workers or int(gpus)
        return n, {"num_gpus": 1, "num_cpus": min(1.0, max(0.1, (cpus - 1) / n))}
    n = workers or max(1, int(cpus))
    return n, {"num_cpus": round(min(1.0, max(0.1, (cpus - 1) / n)), 3)}


def run_ray(job: Job, work: Iterator[tuple[str, str, dict | None]], address: str, on_record: Callable[[dict], None],
            *, console, workers: int = 0) -> None:
    """Run the job on Ray (``address``: "local" starts one here for this job; "auto" or an address joins a
    cluster); ``on_record`` gets each record in this process as it lands."""
    ray = need_ray()
    rows = [{"source": s, "relative": r, "previous": json.dumps(p) if p else ""} for s, r, p in work]
    start = time.monotonic()
    options = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address == "local":
        ray.init(include_dashboard=False, **options)
    else:
        ray.init(address=address, **options)
    try:
        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        resources = ray.cluster_resources()
        cpus, gpus = float(resources.get("CPU", 1)), float(resources.get("GPU", 0))
        n, each = actor_resources(cpus, gpus, workers)
        console.info(f"ray: {'started' if address == 'local' else 'joined'} in {time.monotonic() - start:.1f} s; "
                     f"{len(ray.nodes())} node(s), {cpus:g} CPUs, {gpus:g} GPUs; {n} actor(s) of {each}")
        data = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), MAX_BLOCKS)))
        del rows
        results = data.map_batches(
            CutterActor, fn_constructor_kwargs={"job": job, "threads": 1}, batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=n, max_tasks_in_flight_per_actor=1), **each)
        for row in results.iter_rows():
            on_record(json.loads(row["record"]))
    finally:
        ray.shutdown()
