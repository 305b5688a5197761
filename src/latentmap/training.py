"""The training loop: whole dataset as tensors on the device, batches by indexing a
permutation, stages of epochs with figures and a checkpoint, exact resume, clean Ctrl-C.
"""

import contextlib
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from . import __version__, distributed, runs
from .atomic import ensure_writable_dir, pid_alive
from .data import Dataset, load_dataset
from .distributed import World
from .errors import LatentmapError
from .models import Autoencoder, ModelConfig
from .preprocess import Preprocessor
from .schedules import BetaSchedule

EVAL_BATCH = 4096


@dataclass
class TrainOptions:
    """Every option of ``dense.py`` / ``vae.py`` / ``latentmap train`` (same names)."""

    kind: str = "dense"
    dataset: str = "digits"
    out: str | None = None
    d_latent: int = 16
    layers: list[int] = field(default_factory=list)
    dec_layers: list[int] | None = None
    activation: str = "relu"
    dropout_layer: int | None = None
    dropout_rate: float = 0.5
    pca_dims: float = 0
    whiten: bool = False
    binary_input: bool = False
    batch_size: int = 256
    epochs: int = 25
    stages: int = 1
    learn_rate: float = 1e-3
    seed: int = 0
    device: str = "auto"
    no_plot: bool = False
    resume: bool = False
    overwrite: bool = False
    max_train: int | None = None
    # sparse
    sparsity_lambda: float = 1e-3
    binary_codes: bool = False
    # vae
    reg_lambda: float | None = None
    likelihood: str = "mse"
    dynamic_binarization: bool = False
    beta_schedule: str = "constant"
    beta_low: float = 0.0
    beta_high: float | None = None
    warmup: float = 0.25
    cycles: int = 4
    cycle_lead: float = 0.0
    cycle_ramp: float = 0.5
    # data locations
    data_dir: str | None = None
    fonts_dir: str | None = None
    cache_dir: str | None = None
    # options the user set explicitly; on --resume only epochs and stages may change
    explicit: frozenset[str] = frozenset()


# What --resume may be told besides the run to continue: where the data is, where to
# compute, whether to show figures, and a longer schedule.
RESUME_MAY_CHANGE = {"resume", "out", "no_plot", "device", "data_dir", "fonts_dir", "cache_dir", "epochs", "stages"}
NOT_SAVED = ("data_dir", "fonts_dir", "cache_dir", "explicit")


def default_out(options: TrainOptions) -> Path:
    dataset = Path(options.dataset).stem if options.dataset.endswith(".json") else options.dataset
    dims = "-".join(str(n) for n in [*options.layers, options.d_latent])
    return Path("runs") / f"{dataset}-{options.kind}-{dims}"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise LatentmapError(f"unknown device '{name}': use auto, cpu or cuda") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise LatentmapError("--device cuda was asked for but no CUDA GPU is available")
    return device


def build_config(options: TrainOptions, n_features: int) -> dict[str, Any]:
    """The run's config.json content; validates every option (raises before any file is written)."""
    if options.kind not in ("dense", "sparse", "vae"):
        raise LatentmapError(f"unknown model kind '{options.kind}'")
    for name in ("epochs", "stages", "batch_size"):
        if getattr(options, name) < 1:
            raise LatentmapError(f"--{name} must be at least 1")
    if not options.learn_rate > 0:
        raise LatentmapError("--learn_rate must be positive")
    if options.max_train is not None and options.max_train < 1:
        raise LatentmapError(f"--max_train must be at least 1, got {options.max_train}")
    bernoulli = options.kind == "vae" and options.likelihood == "bernoulli"
    if options.dynamic_binarization and not bernoulli:
        raise LatentmapError("--dynamic_binarization goes with --likelihood bernoulli")
    reg_lambda = options.reg_lambda if options.reg_lambda is not None else (1.0 if bernoulli else 0.01)
    model = ModelConfig(
        kind=options.kind,
        n_features=n_features,
        d_latent=options.d_latent,
        layers=list(options.layers),
        dec_layers=None if options.dec_layers is None else list(options.dec_layers),
        activation=options.activation,
        dropout_layer=options.dropout_layer,
        dropout_rate=options.dropout_rate,
        pixel_output=not options.pca_dims,
        sparsity_lambda=options.sparsity_lambda,
        binary_codes=options.binary_codes,
        likelihood=options.likelihood if options.kind == "vae" else "mse",
    )
    beta = BetaSchedule(
        kind=options.beta_schedule if options.kind == "vae" else "constant",
        low=options.beta_low,
        high=options.beta_high if options.beta_high is not None else reg_lambda,
        warmup=options.warmup,
        cycles=options.cycles,
        lead=options.cycle_lead,
        ramp=options.cycle_ramp,
    )
    return {
        "model": model.to_json(),
        "preprocess": {},  # filled once the preprocessor is built
        "dataset": options.dataset,
        "training": {
            "epochs": options.epochs,
            "stages": options.stages,
            "batch_size": options.batch_size,
            "learn_rate": options.learn_rate,
            "seed": options.seed,
            "reg_lambda": reg_lambda if options.kind == "vae" else None,
            "dynamic_binarization": options.dynamic_binarization,
            "max_train": options.max_train,
        },
        "beta": beta.to_json(),
        "versions": {
            "latentmap": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "options": {k: v for k, v in asdict(options).items() if k not in NOT_SAVED},
    }


@dataclass
class TrainData:
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    label_names: list[str]


def load_train_data(dataset: Dataset, max_train: int | None, seed: int) -> TrainData:
    train, test = dataset.split("train"), dataset.split("test")
    if len(train) == 0 or len(test) == 0:
        raise LatentmapError(f"dataset {dataset.spec} has an empty train or test split")
    if max_train is not None and max_train < len(train):
        keep = np.sort(np.random.default_rng(seed).choice(len(train), size=max_train, replace=False))
        train = train.subset(keep)
    return TrainData(train.images, train.labels, test.images, test.labels, dataset.label_names)


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
    ) -> None:
        self.world = world or World()
        self.run_dir, self.config, self.data, self.pre = run_dir, config, data, preprocessor
        self.replaced = replaced  # the old run --overwrite moved aside, deleted at the first checkpoint
        # Only the main process reports, draws figures and writes the run directory.
        progress, figures = progress and self.world.is_main, figures and self.world.is_main
        self.device, self.progress, self.figures, self.on_epoch_end = device, progress, figures, on_epoch_end
        training = config["training"]
        self.epochs_per_stage, self.stages = training["epochs"], training["stages"]
        self.batch_size, self.seed = training["batch_size"], training["seed"]
        self.dynamic = bool(training["dynamic_binarization"])
        self.beta = BetaSchedule(**config["beta"])
        torch.manual_seed(self.seed)
        self.model: Autoencoder = runs.model_from_config(config).to(device)
        self.optimizer = make_optimizer(self.model, training["learn_rate"])
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
        self.x_train = torch.from_numpy(preprocessor.transform(data.train_images)).to(device)
        self.x_test = torch.from_numpy(preprocessor.transform(data.test_images)).to(device)
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
        state = {
            "epoch": self.epoch,
            "device": self.device.type,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "shuffle_rng": self.shuffle_rng.get_state(),
            "noise_rng": self.noise_rng.get_state(),
            "torch_rng": torch.get_rng_state(),  # dropout draws from the global generator
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def restore(self, state: dict[str, Any]) -> None:
        runs.restore_model(self.model, state["model"], str(self.run_dir / runs.CHECKPOINT))
        self.optimizer.load_state_dict(state["optimizer"])  # moves the moments to the model's device
        self.shuffle_rng.set_state(state["shuffle_rng"])
        self.epoch = int(state["epoch"])
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
        if state.get("device", "cpu") == self.device.type and not self.world.distributed:
            self.noise_rng.set_state(state["noise_rng"])
            if "cuda_rng" in state:
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        else:
            # A CPU generator's state means nothing to a CUDA one (and back), and the
            # checkpoint holds only the main rank's: continue with a fresh, seeded noise
            # stream. Everything else resumes exactly.
            self.noise_rng.manual_seed(self.seed + 1 + self.epoch + 1000 * self.world.rank)
            if self.progress and not self.world.distributed:
                tqdm.write(
                    f"resuming a {state.get('device', 'cpu')} checkpoint on {self.device.type}: new noise stream"
                )
        self.history = [row for row in runs.read_history(self.run_dir) if row["epoch"] <= self.epoch]

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
        for start in range(0, len(x), EVAL_BATCH):
            batch = x[start : start + EVAL_BATCH]
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
                    "beta": train["beta"],
                    "seconds": time.perf_counter() - started,
                }
                self.history.append(row)
                if self.world.is_main:
                    runs.write_history(self.run_dir, self.history)
                    runs.save_checkpoint(self.run_dir, self.state())
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

            run = runs.Run(self.run_dir, self.config, self.model, self.pre, self.device)
            paths = figures.stage_figures(run, self.history, self.data, stage, self.run_dir / "figures")
            if self.progress:
                tqdm.write(f"stage {stage}: weights and {len(paths)} figures in {self.run_dir}")


def make_optimizer(model: torch.nn.Module, learn_rate: float) -> torch.optim.Optimizer:
    # The fused Adam kernel cuts per-step overhead for small models on CPU and GPU alike.
    with contextlib.suppress(RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=learn_rate, fused=True)
    return torch.optim.Adam(model.parameters(), lr=learn_rate)


def refuse_existing_run(out: Path) -> None:
    if (out / runs.CONFIG).exists():
        raise LatentmapError(
            f"{out} already holds a run: use --resume to continue it, --overwrite to replace it, "
            "or --out for a new directory"
        )


def prepare_run_dir(out: Path, overwrite: bool) -> Path | None:
    """A new run directory at ``out``. With ``overwrite``, an old run there is moved aside
    in one rename (returned; the trainer deletes it at its first checkpoint), so nothing of
    it (weights, checkpoint, history, figures) can be mistaken for the new run's."""
    replaced = None
    if (out / runs.CONFIG).exists():
        if not overwrite:
            refuse_existing_run(out)
        replaced = out.with_name(f".{out.name}.replaced-{os.getpid()}-{time.time_ns()}")
        try:
            os.rename(out, replaced)
        except OSError as exc:
            raise LatentmapError(f"cannot move the old run {out} aside: {exc.strerror}") from exc
    for stale in out.parent.glob(f".{out.name}.replaced-*"):  # left by a run killed before its first epoch
        if stale != replaced and not pid_alive(stale.name.split("-")[-2]):
            shutil.rmtree(stale, ignore_errors=True)
    ensure_writable_dir(out)
    return replaced


def resume_options(options: TrainOptions, out: Path) -> tuple[TrainOptions, dict[str, Any]]:
    """The saved options of the run in ``out``, with a longer schedule if asked for."""
    if not (out / runs.CONFIG).is_file():
        raise LatentmapError(f"cannot resume: {out} is not a run directory")
    config = runs.read_config(out)
    refused = sorted(options.explicit - RESUME_MAY_CHANGE)
    if refused:
        flags = ", ".join(f"--{name}" for name in refused)
        raise LatentmapError(
            f"--resume continues {out} with its saved settings; {flags} cannot change "
            "(only --epochs and --stages can extend it): start a new run with --out"
        )
    saved = {k: v for k, v in config["options"].items() if k not in NOT_SAVED}
    extended: dict[str, Any] = {k: getattr(options, k) for k in ("epochs", "stages") if k in options.explicit}
    resumed = TrainOptions(
        **{
            **saved,
            **extended,
            "resume": True,
            "out": str(out),
            "no_plot": options.no_plot,
            "device": options.device,
            "data_dir": options.data_dir,
            "fonts_dir": options.fonts_dir,
            "cache_dir": options.cache_dir,
        }
    )
    return resumed, extended


def train(options: TrainOptions, progress: bool = True, on_epoch_end: Callable[[int], None] | None = None) -> Path:
    """Train a run as the command line does; returns the run directory."""
    out = Path(options.out) if options.out else default_out(options)
    extended: dict[str, Any] = {}
    if options.resume:
        options, extended = resume_options(options, out)
    pixel_likelihood = options.kind == "vae" and options.likelihood == "bernoulli"
    preprocessor = Preprocessor(
        pca_dims=options.pca_dims,
        whiten=options.whiten,
        binarize=options.binary_input or (pixel_likelihood and not options.dynamic_binarization),
        seed=options.seed,
    )
    build_config(options, n_features=784)  # validate the options before loading data
    world = distributed.world_from_env()
    if options.batch_size < world.size:
        raise LatentmapError(
            f"--batch_size {options.batch_size} is smaller than the {world.size} processes (ranks): "
            f"each needs at least one image per batch; use --batch_size >= {world.size}"
        )
    if not options.resume and not options.overwrite:
        refuse_existing_run(out)  # the same one-line refusal on every rank, before any write
    device = distributed.start(world, resolve_device(options.device))
    dataset = load_dataset(
        options.dataset,
        data_dir=options.data_dir,
        fonts_dir=options.fonts_dir,
        cache_dir=options.cache_dir,
        progress=progress,
    )
    data = load_train_data(dataset, options.max_train, options.seed)
    preprocessor.fit(data.train_images)
    config = build_config(options, n_features=preprocessor.n_features)
    config["preprocess"] = preprocessor.get_params()
    config["dataset_size"] = {"train": len(data.train_labels), "test": len(data.test_labels)}
    config["label_names"] = data.label_names
    config["training"].update(
        world_size=world.size,
        batch_size_per_rank=options.batch_size // world.size,
        global_batch_size=options.batch_size // world.size * world.size,
    )
    replaced = None
    if not options.resume and world.is_main:
        replaced = prepare_run_dir(out, overwrite=options.overwrite)
        runs.write_config(out, config)
    distributed.barrier(world)  # the other ranks start once the run directory exists
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world.local_size))
    trainer = Trainer(
        out,
        config,
        data,
        preprocessor,
        device,
        progress=progress,
        figures=True,
        on_epoch_end=on_epoch_end,
        replaced=replaced,
        world=world,
    )
    try:
        fit(trainer, out, options, config, extended, preprocessor)
    finally:
        distributed.stop(world)
    if not options.no_plot and world.is_main:
        from . import figures

        figures.show_if_interactive(out / "figures")
    return out


def fit(
    trainer: Trainer,
    out: Path,
    options: TrainOptions,
    config: dict[str, Any],
    extended: dict[str, Any],
    preprocessor: Preprocessor,
) -> None:
    """Resume (if asked), bring stale weights up to date, and train the remaining epochs."""
    main = trainer.world.is_main
    if options.resume:
        trainer.restore(runs.load_checkpoint(out))
        if trainer.epoch > trainer.total_epochs:
            raise LatentmapError(
                f"{out} has trained {trainer.epoch} epochs already: ask for more with --epochs / --stages"
            )
        if extended and main:
            runs.write_config(out, config)  # the longer schedule is now the run's own
        if runs.weights_epoch(out) != trainer.epoch and main:
            # Killed between the checkpoint and the weights (or never at a stage end):
            # the weights catch up with the checkpoint before training goes on.
            runs.save_weights(out, trainer.model, preprocessor, config, trainer.epoch)
    trainer.fit()
