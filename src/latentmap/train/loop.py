"""The training loop: whole dataset as tensors on the device, batches by indexing a
permutation, stages of epochs with figures and a checkpoint, exact resume, clean Ctrl-C.
"""

import contextlib
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ..models import Autoencoder
from . import distributed
from . import run as runs
from .board import Board
from .data import TrainData, model_inputs
from .distributed import World
from .preprocess import Preprocessor
from .schedules import BetaSchedule, learn_rate_factor

EVAL_BATCH = 4096


class Trainer:
    """Trains one run; ``on_epoch_end(epoch)`` is a hook (tests use it to interrupt)."""

    def __init__(
        self,
        run_dir: Path,
        config: dict[str, Any],
        data: TrainData,
        preprocessor: Preprocessor,
        device: torch.device,
        progress: bool = True,
        figures: bool = True,
        on_epoch_end: Callable[[int], None] | None = None,
        replaced: Path | None = None,
        world: World | None = None,
        tensorboard: bool = True,
    ) -> None:
        self.world = world or World()
        self.run_dir, self.config, self.data, self.pre = run_dir, config, data, preprocessor
        self.replaced = replaced  # the old run --overwrite moved aside, deleted at the first checkpoint
        # Only the main process reports, draws figures and writes the run directory.
        progress, figures = progress and self.world.is_main, figures and self.world.is_main
        self.device, self.progress, self.figures, self.on_epoch_end = device, progress, figures, on_epoch_end
        self.board = Board(run_dir / "tensorboard") if tensorboard and self.world.is_main else None
        training = config["training"]
        self.epochs_per_stage, self.stages = training["epochs"], training["stages"]
        self.batch_size, self.seed = training["batch_size"], training["seed"]
        self.dynamic = bool(training["dynamic_binarization"])
        self.beta = BetaSchedule(**config["beta"])
        torch.manual_seed(self.seed)
        self.model: Autoencoder = runs.model_from_config(config).to(device)
        self.learn_rate, self.lr_schedule = training["learn_rate"], training.get("lr_schedule", "constant")
        self.optimizer = make_optimizer(self.model, self.learn_rate)
        # Under torchrun the model runs through DistributedDataParallel (gradients averaged
        # over ranks); every rank holds its own batch_size / world_size slice of each batch.
        self.forward: torch.nn.Module = self.model
        if self.world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            self.forward = DistributedDataParallel(self.model, device_ids=[device] if device.type == "cuda" else None)
            torch.manual_seed(self.seed + self.world.rank)  # each rank its own dropout masks
        self.local_batch = self.batch_size // self.world.size
        self.shuffle_rng = torch.Generator().manual_seed(self.seed)  # the same permutation on every rank
        self.noise_rng = torch.Generator(device=device).manual_seed(self.seed + 1 + 1000 * self.world.rank)
        x_train, x_test = model_inputs(data, preprocessor)
        self.x_train, self.x_test = torch.from_numpy(x_train).to(device), torch.from_numpy(x_test).to(device)
        if self.dynamic:  # evaluate on one fixed stochastic binarization of the test set
            fixed = torch.Generator(device=device).manual_seed(self.seed + 2)
            self.x_test = torch.bernoulli(self.x_test, generator=fixed)
        self.history: list[dict[str, float]] = []
        self.epoch = 0  # completed epochs

    @property
    def total_epochs(self) -> int:
        return self.epochs_per_stage * self.stages

    # ------------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        """The checkpoint. Under torchrun every rank must call it (the random states of all
        ranks are gathered, so each rank resumes with its own dropout and noise draws)."""
        torch_rng, noise_rng = torch.get_rng_state(), self.noise_rng.get_state()
        state = {
            "epoch": self.epoch,
            "device": self.device.type,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "shuffle_rng": self.shuffle_rng.get_state(),
            "noise_rng": noise_rng,
            "torch_rng": torch_rng,  # dropout draws from the global generator
            "world_size": self.world.size,
        }
        if self.world.distributed:
            state["rank_torch_rng"] = distributed.gathered(torch_rng, self.world, self.device)
            state["rank_noise_rng"] = distributed.gathered(noise_rng, self.world, self.device)
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def restore(self, state: dict[str, Any]) -> None:
        runs.restore_model(self.model, state["model"], str(self.run_dir / runs.CHECKPOINT))
        self.optimizer.load_state_dict(state["optimizer"])  # moves the moments to the model's device
        self.shuffle_rng.set_state(state["shuffle_rng"])
        self.epoch = int(state["epoch"])
        # Each rank's own random states where the checkpoint has them for this many ranks
        # (written under torchrun with the same world size); else rank 0's.
        same_world = int(state.get("world_size", 1)) == self.world.size
        per_rank = same_world and self.world.distributed and "rank_torch_rng" in state
        torch_rng = state["rank_torch_rng"][self.world.rank] if per_rank else state.get("torch_rng")
        if torch_rng is not None:
            torch.set_rng_state(torch_rng)
        if state.get("device", "cpu") == self.device.type and same_world and (per_rank or not self.world.distributed):
            self.noise_rng.set_state(state["rank_noise_rng"][self.world.rank] if per_rank else state["noise_rng"])
            if "cuda_rng" in state and not self.world.distributed:
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        else:
            # A CPU generator's state means nothing to a CUDA one (and back), and another
            # number of ranks draws other streams: continue with a fresh, seeded noise
            # stream. Everything else resumes exactly.
            self.noise_rng.manual_seed(self.seed + 1 + self.epoch + 1000 * self.world.rank)
            if self.progress:
                tqdm.write(
                    f"resuming a {state.get('device', 'cpu')} checkpoint of {state.get('world_size', 1)} process(es) "
                    f"on {self.device.type} with {self.world.size}: new noise stream"
                )
        self.history = [row for row in runs.read_history(self.run_dir) if row["epoch"] <= self.epoch]
        if self.board is not None:
            self.board.resume_at(self.epoch)

    # ------------------------------------------------------------------ loop

    def train_epoch(self) -> dict[str, float]:
        self.model.train()
        order = distributed.shard(torch.randperm(len(self.x_train), generator=self.shuffle_rng), self.world)
        order = order.to(self.device)
        n, batch_size = len(order), self.local_batch
        steps = -(-n // batch_size)
        step0 = self.epoch * steps
        total_steps = self.total_epochs * steps
        sums: dict[str, torch.Tensor] = {}
        bar = tqdm(
            total=steps,
            desc=f"epoch {self.epoch + 1}/{self.total_epochs}",
            leave=False,
            disable=None if self.progress else True,
        )
        with bar:
            for step in range(steps):
                batch = self.x_train[order[step * batch_size : (step + 1) * batch_size]]
                if self.dynamic:
                    batch = torch.bernoulli(batch, generator=self.noise_rng)
                beta = self.beta((step0 + step) / total_steps)
                if self.lr_schedule != "constant":  # a function of progress, so --resume continues it exactly
                    learn_rate = self.learn_rate * learn_rate_factor(self.lr_schedule, (step0 + step) / total_steps)
                    for group in self.optimizer.param_groups:
                        group["lr"] = learn_rate
                out = self.forward(batch, generator=self.noise_rng)
                loss, terms = self.model.loss(batch, out, beta)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                weight = len(batch)
                for name, value in {"loss": loss, **terms}.items():
                    sums[name] = sums.get(name, 0) + value.detach() * weight
                bar.update()
                if step % 25 == 0 and not bar.disable:
                    bar.set_postfix({k: f"{(v / ((step * batch_size) + weight)).item():.4g}" for k, v in sums.items()})
        totals = distributed.summed({**sums, "samples": torch.tensor(float(n))}, self.world)
        samples = totals.pop("samples")
        return {**{k: (v / samples).item() for k, v in totals.items()}, "beta": beta}

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor) -> dict[str, float]:
        self.model.eval()
        rng = torch.Generator(device=self.device).manual_seed(self.seed + 3)
        beta = self.beta(self.epoch / self.total_epochs)
        sums: dict[str, float] = {}
        step = max(1, EVAL_BATCH // (x.shape[1] if x.dim() == 3 else 1))  # a typeface is a stack of glyphs
        for start in range(0, len(x), step):
            batch = x[start : start + step]
            loss, terms = self.model.loss(batch, self.model(batch, generator=rng), beta)
            for name, value in {"loss": loss, **terms}.items():
                sums[name] = sums.get(name, 0.0) + value.item() * len(batch)
        return {k: v / len(x) for k, v in sums.items()}

    def fit(self) -> None:
        """Train the remaining epochs. Ctrl-C stops cleanly: the last finished epoch's
        checkpoint stays, and model.safetensors is written from it."""
        try:
            while self.epoch < self.total_epochs:
                started = time.perf_counter()
                train = self.train_epoch()
                test = self.evaluate(self.x_test)
                self.epoch += 1
                stage = -(-self.epoch // self.epochs_per_stage)
                row = {
                    "epoch": self.epoch,
                    "stage": stage,
                    **{f"train_{k}": v for k, v in train.items() if k != "beta"},
                    **{f"test_{k}": v for k, v in test.items()},
                    **({"beta": train["beta"]} if runs.has_kl(self.model.config) else {}),  # the KL weight
                    "seconds": time.perf_counter() - started,
                }
                self.history.append(row)
                state = self.state()  # a collective under torchrun: every rank takes part
                if self.world.is_main:
                    runs.write_history(self.run_dir, self.history)
                    runs.save_checkpoint(self.run_dir, state)
                if self.board is not None:
                    self.board.epoch(row)
                if self.replaced is not None:  # the new run can now stand on its own
                    shutil.rmtree(self.replaced, ignore_errors=True)
                    self.replaced = None
                self.report(row)
                if self.epoch % self.epochs_per_stage == 0:
                    self.end_stage(stage)
                if self.on_epoch_end is not None:
                    self.on_epoch_end(self.epoch)
        except KeyboardInterrupt:
            if self.epoch > 0 and self.world.is_main:
                self.restore(runs.load_checkpoint(self.run_dir))
                runs.save_weights(self.run_dir, self.model, self.pre, self.config, self.epoch)
                tqdm.write(f"stopped after epoch {self.epoch}; continue with --resume --out {self.run_dir}")
            raise
        finally:
            if self.board is not None:
                self.board.close()

    def report(self, row: dict[str, float]) -> None:
        if not self.progress:
            return
        terms = "  ".join(f"{k.removeprefix('train_')} {v:.4g}" for k, v in row.items() if k.startswith("train_"))
        tqdm.write(
            f"epoch {self.epoch:>3}/{self.total_epochs}  {terms}  test_loss {row['test_loss']:.4g}"
            f"  ({row['seconds']:.1f} s)"
        )

    def end_stage(self, stage: int) -> None:
        if not self.world.is_main:
            return
        runs.save_weights(self.run_dir, self.model, self.pre, self.config, self.epoch)
        if self.figures:
            from . import figures

            run = runs.make_run(self.run_dir, self.config, self.model, self.pre, self.device)
            paths = figures.stage_figures(run, self.history, self.data, stage, self.run_dir / "figures")
            if self.board is not None:
                self.board.figures(paths, self.epoch)
            if self.progress:
                tqdm.write(f"stage {stage}: weights and {len(paths)} figures in {self.run_dir}")


def make_optimizer(model: torch.nn.Module, learn_rate: float) -> torch.optim.Optimizer:
    # The fused Adam kernel cuts per-step overhead for small models on CPU and GPU alike.
    with contextlib.suppress(RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=learn_rate, fused=True)
    return torch.optim.Adam(model.parameters(), lr=learn_rate)
