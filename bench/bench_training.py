"""Training throughput: our loop vs a textbook PyTorch loop, side by side.

The textbook loop is what most tutorials write: a ``Dataset`` returning one image per
``__getitem__``, a shuffling ``DataLoader``, ``zero_grad``/``backward``/``step``. Ours keeps
the whole dataset as a tensor on the device and batches by indexing a permutation.

Targets on CPU: >= 1.3x the textbook loop's samples/s on the original small models, and
>= 85% of the machine's matmul GFLOP/s on 784-1000-500-250-30 (compute bound).

Late in training: an RAE 784-256-2 trained 8 epochs with subnormal floats kept (Adam's
moments for the always-zero border pixels decay into them), then one epoch from that same
state with them kept and with them flushed to zero (`latentmap.cores.flushed_subnormals`, what every
training and measuring worker does, in its own thread). Target: flushed >= 3x.

    python bench/bench_training.py [--device cpu|cuda] [--epochs 1]
"""

import argparse
import copy
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from latentmap import load_dataset
from latentmap.cores import flushed_subnormals
from latentmap.models import ModelConfig, build_model
from latentmap.train import TrainData, Trainer
from latentmap.train.preprocess import Preprocessor

MODELS = {
    "dense 784-16 (dense.py defaults)": ModelConfig(kind="dense", n_features=784, d_latent=16, layers=[]),
    "vae 784-64-16 (vae.py defaults)": ModelConfig(kind="vae", n_features=784, d_latent=16, layers=[64]),
    "dense 784-1000-500-250-30": ModelConfig(kind="dense", n_features=784, d_latent=30, layers=[1000, 500, 250]),
}
BATCH = 256


class ImageDataset(Dataset):
    def __init__(self, images: np.ndarray) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.from_numpy(self.images[i].reshape(-1).astype(np.float32) / 255)


def textbook_epoch(config: ModelConfig, images: np.ndarray, device: torch.device) -> float:
    torch.manual_seed(0)
    model = build_model(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(ImageDataset(images), batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    model.train()
    for x in loader:
        x = x.to(device)
        loss, _ = model.loss(x, model(x), 0.01)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def our_epoch(config: ModelConfig, data: TrainData, device: torch.device, run_dir) -> float:
    training = {
        "epochs": 1,
        "stages": 1,
        "batch_size": BATCH,
        "learn_rate": 1e-3,
        "seed": 0,
        "dynamic_binarization": False,
    }
    beta = {"kind": "constant", "high": 0.01}
    trainer = Trainer(
        run_dir,
        {"model": config.to_json(), "training": training, "beta": beta},
        data,
        Preprocessor(),
        device,
        progress=False,
        figures=False,
    )
    trainer.train_epoch()  # warm-up (allocator, kernels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.train_epoch()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def subnormals(trainer: Trainer) -> int:
    tiny = torch.finfo(torch.float32).tiny
    tensors = [*trainer.model.parameters()]
    tensors += [t for state in trainer.optimizer.state.values() for t in state.values() if t.numel() > 1]
    return sum(int(((t != 0) & (t.abs() < tiny)).sum()) for t in tensors)


def late_epochs(data: TrainData, device: torch.device, run_dir: Path, warm: int = 8) -> tuple[float, float, int]:
    """Seconds of one epoch after ``warm`` epochs, subnormals kept and flushed, from one state."""
    config = ModelConfig(kind="rae", n_features=784, d_latent=2, layers=[256])
    training = {"epochs": warm + 1, "stages": 1, "batch_size": BATCH, "learn_rate": 1e-3, "seed": 0}
    setup = {
        "model": config.to_json(),
        "training": {**training, "dynamic_binarization": False},
        "beta": {"kind": "constant"},
    }
    trainer = Trainer(run_dir, setup, data, Preprocessor(), device, progress=False, figures=False)
    torch.set_flush_denormal(False)
    for _ in range(warm):
        trainer.train_epoch()
        trainer.epoch += 1
    state = copy.deepcopy((trainer.model.state_dict(), trainer.optimizer.state_dict()))
    found = subnormals(trainer)

    def one_epoch() -> float:
        trainer.model.load_state_dict(state[0])
        trainer.optimizer.load_state_dict(state[1])
        start = time.perf_counter()
        trainer.train_epoch()
        return time.perf_counter() - start

    kept = one_epoch()
    with flushed_subnormals():  # as training does
        flushed = one_epoch()
    return kept, flushed, found


def matmul_gflops(device: torch.device, n: int = 2048, repeat: int = 10) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * repeat / (time.perf_counter() - start) / 1e9


def training_flops_per_sample(model: torch.nn.Module) -> int:
    """Forward matmul FLOPs x 3 (forward, gradient w.r.t. inputs, gradient w.r.t. weights)."""
    linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return 3 * sum(2 * m.in_features * m.out_features for m in linear)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(os.cpu_count() or 1)
    digits = load_dataset("digits")
    train, test = digits.split("train"), digits.split("test")
    data = TrainData(train.images, train.labels, test.images[:1000], test.labels[:1000], digits.label_names)
    peak = matmul_gflops(device)
    print(f"device {device}, {torch.get_num_threads()} threads, matmul {peak:.0f} GFLOP/s (2048x2048 fp32)")
    print(f"{'model':<34} {'textbook/s':>11} {'ours/s':>9} {'ratio':>6} {'GFLOP/s':>8} {'of matmul':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in MODELS.items():
            textbook = len(train) / textbook_epoch(config, train.images, device)
            ours = len(train) / our_epoch(config, data, device, Path(tmp))
            gflops = ours * training_flops_per_sample(build_model(config)) / 1e9
            ratio, share = ours / textbook, gflops / peak
            print(f"{name:<34} {textbook:>11,.0f} {ours:>9,.0f} {ratio:>5.2f}x {gflops:>8.1f} {share:>8.0%}")
        if device.type == "cpu":
            kept, flushed, found = late_epochs(data, device, Path(tmp))
            print(
                f"rae 784-256-2 after 8 epochs ({found:,} subnormal values): an epoch {kept:.1f} s with them kept, "
                f"{flushed:.1f} s flushed to zero: {kept / flushed:.1f}x"
            )


if __name__ == "__main__":
    main()
