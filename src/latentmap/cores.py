"""How training and measuring compute on the CPU: subnormal floats flushed to zero."""

import contextlib
from collections.abc import Iterator

import torch


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
