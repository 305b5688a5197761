"""Measuring many runs at once: ``measure_cached`` for each run in a pool of worker
processes, each measuring whole runs with its share of the cores. The workers only fill the
runs' measurement caches; the caller then reads them in order (and measures itself, with
its own error, whatever a worker could not)."""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import cache
from pathlib import Path
from typing import Any

DataArgs = tuple[str | None, str | None, str | None]  # data_dir, fonts_dir, cache_dir
WORKER: dict[str, Any] = {}  # the parent's settings, in each worker (start_worker)


def snapshot() -> dict[str, Any]:
    """The measurement settings of this process (sizes, the judge's training settings),
    handed to the workers so they measure exactly as it would."""
    from ..train import samplers
    from . import judge, metric_table, metrics, stats

    sizes = {name: getattr(metrics, name) for name in ("REAL_SAMPLES", "PRIOR_SAMPLES", "TRAIN_CODES")}
    replicates = {name: getattr(stats, name) for name in ("N_BOOT", "N_BOOT_SETWISE")}
    registered = metric_table.registered()  # pickled by reference: their compute must be importable
    return {"sizes": sizes, "replicates": replicates, "fit_codes": samplers.FIT_CODES, "judge": dict(judge.SETTINGS),
            "metrics": registered}  # fmt: skip


def start_worker(settings: dict[str, Any], threads: int) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    from ..train import samplers
    from . import metric_table, metrics, stats

    torch.set_num_threads(threads)
    threadpool_limits(threads)  # numpy's BLAS too: two workers on two cores, not four threads
    for name, value in settings["sizes"].items():
        setattr(metrics, name, value)
    for name, value in settings["replicates"].items():
        setattr(stats, name, value)
    samplers.FIT_CODES = settings["fit_codes"]
    for metric in settings["metrics"]:
        metric_table.register_metric(metric)
    WORKER.update(settings)


@cache
def context(spec: str, data: DataArgs, pairs: int, seed: int, net: str) -> tuple[Any, Any, Any]:
    """Dataset, judge (a network of the panel) and probe, once per worker."""
    from ..data import load_dataset
    from ..data.sources import DataPaths
    from .judge import judge_for
    from .metrics import make_probe

    dataset = load_dataset(spec, data_dir=data[0], fonts_dir=data[1], cache_dir=data[2])
    cache_dir = DataPaths.resolve(*data).cache
    judge = judge_for(dataset, cache_dir, train_if_missing=False, progress=False, **{**WORKER["judge"], "net": net})
    return dataset, judge, make_probe(dataset, pairs, seed)


def measure_one(directory: str, spec: str, data: DataArgs, pairs: int, seed: int, nets: tuple[str, ...]) -> None:
    from ..cores import flushed_subnormals
    from ..train.run import load_run
    from .compare import measure_cached

    run = load_run(directory)
    for net in nets:
        dataset, judge, probe = context(spec, data, pairs, seed, net)
        with flushed_subnormals():
            measure_cached(run, dataset, judge, probe)


def measure_all(
    directories: list[Path],
    spec: str,
    data: DataArgs,
    pairs: int,
    seed: int,
    jobs: int,
    nets: tuple[str, ...] = ("cnn",),
    log: Any = print,
) -> None:
    """Fill the measurement caches of ``directories``, by each judge network of ``nets``,
    with ``jobs`` processes (nothing to do for one job or one run: the caller measures); a
    line per run as it is done."""
    if jobs < 2 or len(directories) < 2:
        return
    from ..cores import threads_per_process

    threads = threads_per_process(jobs)
    spawn = multiprocessing.get_context("spawn")  # no forked torch or BLAS thread pools
    with ProcessPoolExecutor(jobs, mp_context=spawn, initializer=start_worker, initargs=(snapshot(), threads)) as pool:
        futures = {pool.submit(measure_one, str(d), spec, data, pairs, seed, nets): d for d in directories}
        started = time.perf_counter()
        for done, future in enumerate(as_completed(futures), start=1):
            # a run the worker could not measure is measured (and reported) by the caller
            how = "could not be measured here" if future.exception() else "measured"
            log(f"[{done}/{len(futures)}] {futures[future].name}: {how} ({time.perf_counter() - started:.0f} s so far)")
