"""Load on the explorer: concurrent clients against a live server on 127.0.0.1.

50 clients (asyncio + httpx) for 20 s send a mix of interpolate (10 sources), decode
(64 codes) and atlas requests, as fast as answers come back. Reports requests/s, p50/p99
latency per route and errors. Targets: 0 errors, p99 <= 5x p50. Traffic stays on the
loopback interface and the run is bounded in time and in request count.

    python bench/bench_load_api.py [--clients 50] [--seconds 20] [--max_requests 200000]
"""

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

from latentmap.embed import EmbedJob, embed_run
from latentmap.spaces import LatentSpace
from latentmap.train import TrainOptions, train
from latentmap.web.background import free_port
from latentmap.web.explorer import create_app


def requests_for(space: LatentSpace, rng: np.random.Generator) -> list[tuple[str, str, object]]:
    """A fixed, seeded mix of the three routes (the clients cycle through it)."""
    mix: list[tuple[str, str, object]] = []
    atlases = space.info["atlas"]["count"]
    for i in range(300):
        kind = ("interpolate", "decode", "atlas")[i % 3]
        if kind == "interpolate":
            body = {
                "sources": rng.choice(space.count, 10, replace=False).tolist(),
                "target": int(rng.integers(space.count)),
            }
            mix.append((kind, "/api/spaces/0/interpolate", body))
        elif kind == "decode":
            codes = space.codes[rng.choice(space.count, 64)] + rng.normal(0, 0.1, (64, space.codes.shape[1]))
            mix.append((kind, "/api/spaces/0/decode", {"codes": codes.tolist()}))
        else:
            mix.append((kind, f"/api/spaces/0/atlas/{int(rng.integers(atlases))}.png", None))
    return mix


async def client_loop(
    url: str,
    mix: list[tuple[str, str, object]],
    offset: int,
    deadline: float,
    budget: list[int],
    latencies: dict[str, list[float]],
    errors: dict[str, int],
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        i = offset
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            kind, path, body = mix[i % len(mix)]
            i += 1
            start = time.perf_counter()
            try:
                response = await (client.get(path) if body is None else client.post(path, json=body))
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies[kind].append((time.perf_counter() - start) * 1000)
            if not ok:
                errors[kind] += 1


async def load(url: str, mix: list[tuple[str, str, object]], clients: int, seconds: float, max_requests: int):
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    budget = [max_requests]
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    await asyncio.gather(*(client_loop(url, mix, k * 7, deadline, budget, latencies, errors) for k in range(clients)))
    return latencies, errors, time.perf_counter() - start


def serve(path: str, port: int) -> None:
    """The server, in a process of its own: the load generator must not share its GIL."""
    import uvicorn

    uvicorn.run(create_app([LatentSpace.load(path)]), host="127.0.0.1", port=port, log_level="warning")


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a run on digits (default: train a small VAE)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max_requests", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or train(
            TrainOptions(kind="vae", layers=[256], epochs=2, out=f"{tmp}/run", no_plot=True), progress=False
        )
        job = EmbedJob(run=str(run), methods=["pca"], max_points=20000, out_dir=tmp, map_size=512)
        embed_run(job, log=lambda *a: None)
        path = str(next(Path(tmp).glob("*.embed-pca.npz")))
        mix = requests_for(LatentSpace.load(path), np.random.default_rng(0))
        port = free_port("127.0.0.1")
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(path, port), daemon=True)
        server.start()
        try:
            wait_for(port)
            url = f"http://127.0.0.1:{port}"
            latencies, errors, wall = asyncio.run(load(url, mix, args.clients, args.seconds, args.max_requests))
        finally:
            server.terminate()
            server.join(10)
    total = sum(len(v) for v in latencies.values())
    every = [t for v in latencies.values() for t in v]
    print(f"{args.clients} clients, {wall:.1f} s, {total:,} requests: {total / wall:,.0f} requests/s")
    for kind, times in sorted(latencies.items()):
        p50, p99 = statistics.median(times), float(np.percentile(times, 99))
        print(f"  {kind:<12} {len(times):>7,} requests  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  errors {errors[kind]}")
    p50, p99 = statistics.median(every), float(np.percentile(every, 99))
    verdict = "meets" if sum(errors.values()) == 0 and p99 <= 5 * p50 else "misses"
    print(
        f"all routes: p50 {p50:.1f} ms, p99 {p99:.1f} ms (p99/p50 {p99 / p50:.1f}, target <= 5), "
        f"errors {sum(errors.values())} (target 0): {verdict} the targets"
    )


if __name__ == "__main__":
    main()
