"""``train(options)``: what ``latentmap train`` does, from options to a finished run
directory (validation, data, run directory, torchrun world, resume, the loop, figures).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..cores import flushed_subnormals, threads_per_process
from ..data import load_dataset
from ..errors import LatentmapError
from . import distributed
from . import run as runs
from .board import board_installed
from .data import load_train_data
from .loop import Trainer
from .options import TrainOptions, build_config, default_out, resume_options
from .preprocess import Preprocessor
from .run import check_run_out, prepare_run_dir, resolve_device


def train(options: TrainOptions, progress: bool = True, on_epoch_end: Callable[[int], None] | None = None) -> Path:
    """Train a run as the command line does; returns the run directory."""
    out = Path(options.out) if options.out else default_out(options)
    extended: dict[str, Any] = {}
    if options.resume and options.overwrite:
        raise LatentmapError("--resume continues the run in --out and --overwrite replaces it: give one of them")
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
    threads = threads_per_process(world.local_size)  # a sweep shares the cores between its runs
    if options.batch_size < world.size:
        raise LatentmapError(
            f"--batch_size {options.batch_size} is smaller than the {world.size} processes (ranks): "
            f"each needs at least one image per batch; use --batch_size >= {world.size}"
        )
    if not options.resume:
        check_run_out(out, options.overwrite)  # the same one-line refusal on every rank, before any write
    device = distributed.start(world, resolve_device(options.device))
    dataset = load_dataset(
        options.dataset,
        data_dir=options.data_dir,
        fonts_dir=options.fonts_dir,
        cache_dir=options.cache_dir,
        progress=progress,
    )
    data = load_train_data(dataset, options.max_train, options.seed, by_typeface=options.kind == "typeface")
    preprocessor.fit(data.train_images)
    config = build_config(options, n_features=preprocessor.n_features, n_chars=len(data.label_names))
    config["preprocess"] = preprocessor.get_params()
    config["dataset_size"] = {"train": len(data.train_labels), "test": len(data.test_labels)}
    if data.grids is not None:  # a typeface run: the sizes in typefaces too
        config["dataset_size"].update(train_typefaces=len(data.grids[0]), test_typefaces=len(data.grids[1]))
    config["label_names"] = data.label_names
    config["training"].update(
        world_size=world.size,
        batch_size_per_rank=options.batch_size // world.size,
        global_batch_size=options.batch_size // world.size * world.size,
    )
    replaced = None
    if not options.resume and world.is_main:
        if options.overwrite and progress and (out / runs.CONFIG).exists():
            print(f"--overwrite: replacing the run in {out} ({describe_run(out)})")
        replaced = prepare_run_dir(out, overwrite=options.overwrite)
        runs.write_config(out, config)
    distributed.barrier(world)  # the other ranks start once the run directory exists
    torch.set_num_threads(threads)
    tensorboard = not options.no_tensorboard and board_installed()
    if not options.no_tensorboard and not tensorboard and progress and world.is_main:
        print("no TensorBoard logs: the tensorboard package is missing (pip install 'latentmap[tensorboard]')")
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
        tensorboard=tensorboard,
    )
    try:
        with flushed_subnormals():
            fit(trainer, out, options, config, extended, preprocessor)
    finally:
        distributed.stop(world)
    if not options.no_plot and world.is_main:
        from . import figures

        figures.show_if_interactive(out / "figures")
    return out


def describe_run(out: Path) -> str:
    """What a run directory holds, in a few words: kind, dataset, epochs trained."""
    try:
        config = runs.read_config(out)
        epochs = runs.checkpoint_epoch(out) or 0
        return f"a {config['model']['kind']} of {config['dataset']}, {epochs} epoch(s) trained"
    except (LatentmapError, KeyError, TypeError):
        return "an unreadable run"


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
        if trainer.epoch == trainer.total_epochs and main and trainer.progress:
            print(
                f"{out} is already complete ({trainer.epoch} epochs): nothing to train; "
                "extend it with --epochs or --stages"
            )
        elif main and trainer.progress:
            print(f"resuming {out} after epoch {trainer.epoch} of {trainer.total_epochs}")
    trainer.fit()
