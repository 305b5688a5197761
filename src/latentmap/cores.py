"""How a process that trains or measures computes on the CPU."""

import torch


def use_cores(threads: int) -> None:
    """Compute with ``threads`` threads, subnormal floats flushed to zero.

    Late in training, Adam's moments for inputs that are always zero (MNIST's border pixels)
    and weights that stop moving decay into subnormal floats, and the CPU computes with those
    up to ten times slower: an RAE epoch went from 3 s to 28 s at epoch 7 (8.5x on its
    checkpoint, `bench/bench_training.py`). Values under 1.2e-38 change nothing a float32 sum
    of weights, gradients or pixels can show."""
    torch.set_num_threads(max(1, threads))
    torch.set_flush_denormal(True)  # False (and nothing changed) where the CPU cannot
