"""``latentmap.explore(...)``: the explorer served from Python in a background thread, for a
run of one's own (trained, imported or wrapped) or for saved embedding files."""

import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import LatentmapError

SERVERS: list[Any] = []  # kept alive with the interpreter; ``stop_all`` ends them


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def prepare_spaces(
    target: Any,
    method: str = "pca",
    max_points: int | None = 5000,
    judge: bool = True,
    out_dir: str | os.PathLike[str] | None = None,
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
    log: Any = None,
) -> list[Any]:
    """The explorer's spaces for ``target``: a run (``load_run``, ``wrap_model``), a run
    directory, or embedding file(s). A run is embedded first (``method``, ``max_points`` of
    its train images; a 2-dim run: its code plane, no projection) into ``out_dir`` (default:
    a temporary folder); ``log`` hears the steps."""
    from ..embed import EmbedJob, embed_run
    from ..embed.methods import PLANE
    from ..spaces.load import load_spaces
    from ..train.run import Run, load_run

    quiet = log or (lambda *_: None)
    targets = target if isinstance(target, (list, tuple)) else [target]
    run = None
    if len(targets) == 1 and not str(targets[0]).endswith(".npz"):
        run = targets[0] if isinstance(targets[0], Run) else load_run(targets[0])
        method = PLANE if run.d_latent == 2 else method  # a 2-dim space is its own map
        folder = str(out_dir or tempfile.mkdtemp(prefix="latentmap-explore-"))
        job = EmbedJob(run=run, methods=[method], max_points=max_points, out_dir=folder, map_size=1024)
        job.data_dir, job.fonts_dir, job.cache_dir = data_dir, fonts_dir, cache_dir
        job.progress = log is not None
        embed_run(job, log=quiet)
        targets = [Path(folder) / f"{run.path.name}.embed-{method}.npz"]
    return load_spaces([str(t) for t in targets], data_dir, fonts_dir, cache_dir, judge, quiet, run)


def explore(
    target: Any,
    method: str = "pca",
    max_points: int | None = 5000,
    port: int = 0,
    judge: bool = True,
    out_dir: str | os.PathLike[str] | None = None,
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
) -> str:
    """Serve the explorer on 127.0.0.1 in a background thread and return its URL.

    ``target``: as for :func:`prepare_spaces`. ``port`` 0 picks a free one. ``judge``:
    verdicts and the validity layer (the dataset's judge, trained in the background when
    there is none).
    """
    import uvicorn

    from .explorer import create_app
    from .security import Policy

    spaces = prepare_spaces(target, method, max_points, judge, out_dir, data_dir, fonts_dir, cache_dir)
    host = "127.0.0.1"
    port = port or free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(create_app(spaces, Policy.for_server(host)), host=host, port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True, name=f"latentmap-explore-{port}").start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not any(t.name == f"latentmap-explore-{port}" for t in threading.enumerate()):
            raise LatentmapError(f"the explorer could not start on {host}:{port} (is the port taken?)")
        time.sleep(0.05)
    SERVERS.append(server)
    return f"http://{host}:{port}/"


def stop_all() -> None:
    """End every explorer started with :func:`explore`."""
    while SERVERS:
        SERVERS.pop().should_exit = True
