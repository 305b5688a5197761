"""``latentmap sweep GRID.toml``: train every run of a grid that is not complete yet, then
compare and report per dataset.

Each run trains in its own process (``python -m latentmap train ...``, its output in
``<out>/logs/<run>.log``), so a crash or a bad flag fails that run alone, and Ctrl-C or
kill -9 of the sweep leaves every run at its last checkpoint: the same command again skips
complete runs, resumes interrupted ones and trains the rest. Locally ``jobs`` runs go at
once, the cores shared between them; with Ray each run is a task on the cluster.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cores import threads_per_process
from ..errors import LatentmapError
from ..extras import require
from ..train import run as runs
from .grid import RunSpec


@dataclass
class Outcome:
    spec: RunSpec
    status: str  # complete (already), trained, resumed, failed
    seconds: float = 0.0
    message: str = ""  # failed: the log's last line; else the final test loss


def state_of(directory: Path) -> str:
    """complete | partial (stopped after a checkpoint: resume it) | new (nothing, or stopped
    before its first checkpoint: start it again)."""
    if not (directory / runs.CONFIG).is_file() or runs.checkpoint_epoch(directory) is None:
        return "new"
    try:
        config = runs.read_config(directory)
        total = int(config["training"]["epochs"]) * int(config["training"]["stages"])
    except (LatentmapError, KeyError, TypeError, ValueError):
        return "new"
    return "complete" if runs.weights_epoch(directory) == total else "partial"


def flags(options: dict[str, Any]) -> list[str]:
    """Training options as command-line flags (kind is the sub-command)."""
    out = []
    for key, value in sorted(options.items()):
        if key == "kind" or value is None or value is False:
            continue
        if value is True:
            out.append(f"--{key}")
        elif isinstance(value, list):
            out += [f"--{key}", *map(str, value)] if value else []
        else:
            out += [f"--{key}", str(value)]
    return out


def train_command(spec: RunSpec, directory: Path, data_args: list[str], resume: bool) -> list[str]:
    base = [sys.executable, "-m", "latentmap", "train", spec.options["kind"]]
    how = flags({k: v for k, v in spec.how.items() if k != "no_plot"})  # sweeps never open windows
    if resume:  # the run keeps its saved settings; how it trains (HOW_KEYS) may change
        return [*base, "--resume", "--out", str(directory), "--no_plot", *how, *data_args]
    # --overwrite: a run stopped before its first checkpoint left a directory to start over in
    return [*base, *flags(spec.options), *how, "--out", str(directory), "--no_plot", "--overwrite", *data_args]


def last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1].strip() if lines else "(empty log)"


def final_test_loss(directory: Path) -> str:
    try:
        history = runs.read_history(directory)
    except (OSError, LatentmapError, ValueError, KeyError):
        return ""
    return f"test_loss {history[-1]['test_loss']:.4g}" if history else ""


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the run gets SIGKILL when the sweep dies (kill -9), so no orphan keeps training."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def training_env(threads: int) -> dict[str, str]:
    """A training process's environment: its share of the cores, output unbuffered for its log."""
    return {**os.environ, "LATENTMAP_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}


@dataclass
class Task:
    spec: RunSpec
    directory: Path
    command: list[str]
    log: Path
    resume: bool


def run_local(tasks: list[Task], jobs: int, threads: int, report: Callable[[Outcome], None]) -> None:
    """At most ``jobs`` training processes at once, each with ``threads`` torch threads."""
    env = training_env(threads)
    waiting = list(tasks)
    running: dict[subprocess.Popen[bytes], tuple[Task, float]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                task = waiting.pop(0)
                task.log.parent.mkdir(parents=True, exist_ok=True)
                with open(task.log, "ab") as log:
                    process = subprocess.Popen(
                        task.command,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        env=env,
                        preexec_fn=die_with_parent if sys.platform == "linux" else None,
                    )
                running[process] = (task, time.perf_counter())
            for process in [p for p in running if p.poll() is not None]:
                task, started = running.pop(process)
                report(finished(task, process.returncode, time.perf_counter() - started))
            time.sleep(0.1)
    except KeyboardInterrupt:
        # The runs got the same Ctrl-C: each saves its last epoch and stops.
        for process in running:
            process.wait()
        raise


def finished(task: Task, returncode: int, seconds: float) -> Outcome:
    if returncode == 0:
        status = "resumed" if task.resume else "trained"
        return Outcome(task.spec, status, seconds, final_test_loss(task.directory))
    return Outcome(task.spec, "failed", seconds, last_line(task.log))


def run_ray(tasks: list[Task], address: str, threads: int, gpus: float, report: Callable[[Outcome], None]) -> None:
    """Each run a Ray task on the cluster at ``address`` ('auto': the one this machine is in;
    'local': start one here). Run directories and logs go to ``tasks``' paths: on a cluster,
    a filesystem every node shares."""
    ray = require("ray", "ray", "latentmap sweep --ray")
    if address == "local":
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    else:
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = "no running Ray cluster was found" if address == "auto" else f"no Ray cluster answered at {address}"
            raise LatentmapError(
                f"{where} ({str(exc).splitlines()[0][:120]}): start one (`ray start --head`) or use --ray local, "
                "which starts one on this machine"
            ) from exc
    try:

        @ray.remote
        def train_remote(command: list[str], log: str) -> tuple[int, float]:
            started = time.perf_counter()
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as handle:
                # the worker's own Python, which has latentmap installed
                command = [sys.executable, *command[1:]]
                code = subprocess.run(
                    command, stdout=handle, stderr=subprocess.STDOUT, env=training_env(threads)
                ).returncode
            return code, time.perf_counter() - started

        placed = train_remote.options(num_cpus=threads, num_gpus=gpus)
        pending = {placed.remote(task.command, str(task.log)): task for task in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            task = pending.pop(done[0])
            code, seconds = ray.get(done[0])
            report(finished(task, code, seconds))
    finally:
        ray.shutdown()


def write_summary(out: Path, outcomes: list[Outcome]) -> Path:
    from ..atomic import write_text

    path = out / "sweep.json"
    rows = [
        {
            "run": o.spec.directory,
            "model": o.spec.model,
            "status": o.status,
            "seconds": round(o.seconds, 1),
            "message": o.message,
            "options": o.spec.options,
        }
        for o in outcomes
    ]
    write_text(path, json.dumps({"runs": rows}, indent=1) + "\n")
    return path


@dataclass
class SweepOptions:
    grid: str
    out: str = "sweep"
    jobs: int | None = None  # local worker processes (default: what fits the cores)
    ray: str | None = None  # Ray address, 'auto' or 'local'
    gpus_per_run: float = 0.0
    pairs: int = 1000
    seed: int = 0
    report: bool = True  # compare and report each dataset once the runs are trained
    judges: tuple[str, ...] = ("cnn", "mlp")  # the report's panel of judge networks, its own judge first
    progress: bool = True
    data_dir: str | None = None
    fonts_dir: str | None = None
    cache_dir: str | None = None

    def data_args(self) -> list[str]:
        pairs = [("--data-dir", self.data_dir), ("--fonts-dir", self.fonts_dir), ("--cache-dir", self.cache_dir)]
        return [part for flag, value in pairs if value for part in (flag, value)]


def default_jobs(specs: list[RunSpec]) -> int:
    """Runs at once on this machine: one per two cores (each keeps two threads busy), at least one."""
    return max(1, min(len(specs), (os.cpu_count() or 1) // 2))


def run_sweep(options: SweepOptions, log: Callable[[str], None] = print) -> list[Outcome]:
    """Train what the grid still needs, then compare and report each dataset."""
    from tqdm import tqdm

    from ..atomic import ensure_writable_dir
    from .grid import read_grid

    specs = read_grid(options.grid)
    if options.pairs < 2:
        raise LatentmapError(f"--pairs must be at least 2, got {options.pairs}")
    jobs = options.jobs or default_jobs(specs)
    if jobs < 1:
        raise LatentmapError(f"--jobs must be at least 1, got {jobs}")
    out = ensure_writable_dir(options.out)
    outcomes: list[Outcome] = []
    tasks = []
    for spec in specs:
        directory = spec.path_in(out)
        state = "complete" if spec.existing else state_of(directory)
        if state == "complete":
            outcomes.append(Outcome(spec, "complete", message=final_test_loss(directory)))
            continue
        command = train_command(spec, directory, options.data_args(), resume=state == "partial")
        tasks.append(Task(spec, directory, command, out / "logs" / f"{spec.directory}.log", state == "partial"))
    resumed = sum(t.resume for t in tasks)
    log(
        f"{len(specs)} runs in {options.grid}: {len(outcomes)} complete, {resumed} to resume, "
        f"{len(tasks) - resumed} to train" + (f" ({jobs} at a time)" if tasks and not options.ray else "")
    )
    bar = tqdm(total=len(tasks), unit="run", desc="sweep", disable=None if options.progress else True)

    def report(outcome: Outcome) -> None:
        outcomes.append(outcome)
        bar.update()
        done = sum(o.status != "complete" for o in outcomes)
        tqdm.write(
            f"[{done}/{len(tasks)}] {outcome.spec.directory}: {outcome.status} in {outcome.seconds:.0f} s"
            + (f"; {outcome.message}" if outcome.message else "")
        )

    with bar:
        threads = threads_per_process(jobs)
        if tasks and options.ray:
            run_ray(tasks, options.ray, threads, options.gpus_per_run, report)
        elif tasks:
            run_local(tasks, jobs, threads, report)
    outcomes.sort(key=lambda o: specs.index(o.spec))
    write_summary(out, outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        log(f"failed: {outcome.spec.directory}: {outcome.message} (log: {out / 'logs' / outcome.spec.directory}.log)")
    ready = [o.spec for o in outcomes if o.status != "failed"] if options.report else []
    for dataset in dict.fromkeys(s.dataset for s in ready):
        report_dataset([s for s in ready if s.dataset == dataset], out, options, log)
    return outcomes


def report_dataset(specs: list[RunSpec], out: Path, options: SweepOptions, log: Callable[[str], None]) -> None:
    """compare.{json,md,png} and report.{json,md,png} in ``<out>/<dataset>/``."""
    from ..data import load_dataset
    from ..data.sources import DataPaths
    from ..train.run import load_run
    from .compare import Comparison, add_run, judge_summary, measure_cached, write_outputs
    from .judge import judge_for
    from .metrics import make_probe
    from .panel import describe, panel_items
    from .pool import measure_all
    from .report import write_report
    from .report_models import models_of

    ordered = [spec for model in models_of(specs) for spec in model.specs]  # the plain AE first
    dataset = load_dataset(
        ordered[0].dataset, data_dir=options.data_dir, fonts_dir=options.fonts_dir, cache_dir=options.cache_dir
    )
    cache = DataPaths.resolve(options.data_dir, options.fonts_dir, options.cache_dir).cache
    judges = {
        net: judge_for(dataset, cache, progress=options.progress, announce=log, net=net) for net in options.judges
    }
    judge = judges[options.judges[0]]
    probe = make_probe(dataset, options.pairs, options.seed)
    directories = [spec.path_in(out) for spec in ordered]
    data = (options.data_dir, options.fonts_dir, options.cache_dir)
    jobs = options.jobs or default_jobs(specs)
    at_once = min(jobs, len(ordered))
    log(
        f"{dataset.spec}: measuring {len(ordered)} runs ({options.pairs} test pairs each, by {len(judges)} judge "
        f"network(s), {at_once} at a time)"
    )
    measure_all(directories, dataset.spec, data, options.pairs, options.seed, jobs, options.judges, log)
    comparison = Comparison(dataset.spec, judge_summary(judge))
    runs = []
    for k, spec in enumerate(ordered, start=1):
        runs.append(load_run(spec.path_in(out)))
        started = time.perf_counter()
        add_run(comparison, runs[-1], *measure_cached(runs[-1], dataset, judge, probe))
        if jobs < 2 or len(ordered) < 2:  # measured here, not in workers: say so run by run
            log(f"[{k}/{len(ordered)}] {spec.directory}: measured in {time.perf_counter() - started:.0f} s")
    panel = panel_items(runs, dataset, judges, probe, log)
    folder = out / Path(dataset.spec).stem
    written = write_outputs(comparison, folder) + write_report(comparison, ordered, folder, panel, describe(judges))
    log(f"{dataset.spec}: {len(ordered)} runs compared; wrote {', '.join(p.name for p in written)} in {folder}")
