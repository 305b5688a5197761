"""How training and measuring compute on the CPU: each process's share of the cores, and
subnormal floats flushed to zero."""

import contextlib
import os
from collections.abc import Iterator

import torch

from .errors import LatentmapError


def threads_per_process(processes: int) -> int:
    """Torch threads for each of ``processes`` working at once: their share of the cores, or
    LATENTMAP_THREADS where it is set (by a sweep for its runs, or by the user: two sweeps side
    by side, or a machine shared with other work; more threads than cores leave OpenMP's
    workers spinning on each other, and an epoch takes 8 times longer)."""
    given = os.environ.get("LATENTMAP_THREADS", "").strip()
    if not given:
        return max(1, (os.cpu_count() or 1) // processes)
    if not given.isdigit() or int(given) < 1:
        raise LatentmapError(f"LATENTMAP_THREADS must be a positive whole number, got {given!r}")
    return int(given)


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Inside: torch computes on ``count`` threads; after: on as many as before (a library
    call in the user's notebook leaves its thread count alone)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def flushing() -> bool:
    """Whether this thread flushes subnormal floats to zero now."""
    return bool((torch.tensor([1e-39], dtype=torch.float32) * 1.0).item() == 0.0)


@contextlib.contextmanager
def flushed_subnormals() -> Iterator[None]:
    """Inside: this thread computes with subnormal floats flushed to zero; after: as before.

    Late in training, Adam's moments for inputs that are always zero (MNIST's border pixels)
    and weights that stop moving decay into subnormals, and the CPU computes with those up to
    ten times slower: an RAE epoch went from 3 s to 28 s at epoch 7 (`bench/bench_training.py`).
    Values under 1.2e-38 change nothing a float32 sum of weights, gradients or pixels can show.
    The flag is CPU state of the thread (torch's other intra-op threads keep theirs: one
    thread gains most), and other code relies on it (hypothesis refuses to run under it), so it
    is set only while training or measuring and restored after."""
    before = flushing()
    torch.set_flush_denormal(True)  # False (and nothing changed) where the CPU cannot
    try:
        yield
    finally:
        torch.set_flush_denormal(before)
