"""``latentmap`` command line: ``data prepare|info|sample``, ``train dense|sparse|vae``,
``evaluate``.

Each command is a thin function over the importable core; errors the user can fix
(:class:`LatentmapError`) print one line and exit with status 2.
"""

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from . import __version__
from .cli_common import DefaultsFormatter, OneLineParser, add_data_options, run
from .data import BUILTIN_SPECS, Dataset, load_dataset
from .errors import LatentmapError
from .images import labelled_rows, save_png, tile


def dataset_from_args(args: argparse.Namespace, spec: str, progress: bool = True, force: bool = False) -> Dataset:
    return load_dataset(
        spec,
        data_dir=args.data_dir,
        fonts_dir=args.fonts_dir,
        cache_dir=args.cache_dir,
        progress=progress,
        force=force,
    )


SPEC_HELP = f"dataset spec: {', '.join(BUILTIN_SPECS)} or a path to a font_set.json"


def cmd_data_prepare(args: argparse.Namespace) -> None:
    for spec in args.specs:
        dataset = dataset_from_args(args, spec, force=args.force)
        print(f"{spec}: {len(dataset):,} images, {len(dataset.label_names)} classes -> {dataset.cache_path}")
        print(f"  source: {dataset.source}")


def cmd_data_info(args: argparse.Namespace) -> None:
    dataset = dataset_from_args(args, args.spec)
    print(f"dataset   {dataset.spec}")
    print(f"source    {dataset.source}")
    print(f"cache     {dataset.cache_path}")
    print(f"images    {len(dataset):,} ({(~dataset.is_test).sum():,} train, {dataset.is_test.sum():,} test)")
    if dataset.typeface_ids is not None:
        test_fonts = np.unique(dataset.typeface_ids[dataset.is_test])
        all_fonts = np.unique(dataset.typeface_ids)
        print(f"typefaces {len(all_fonts):,} ({len(all_fonts) - len(test_fonts):,} train, {len(test_fonts):,} test)")
    train = np.bincount(dataset.labels[~dataset.is_test], minlength=len(dataset.label_names))
    test = np.bincount(dataset.labels[dataset.is_test], minlength=len(dataset.label_names))
    width = max(len(n) for n in dataset.label_names)
    print(f"{'class':<{width}}  {'train':>7}  {'test':>7}")
    for name, n_train, n_test in zip(dataset.label_names, train, test, strict=True):
        print(f"{name:<{width}}  {n_train:>7,}  {n_test:>7,}")


def cmd_data_sample(args: argparse.Namespace) -> None:
    dataset = dataset_from_args(args, args.spec).split(args.split)
    rng = np.random.default_rng(args.seed)
    rows, names = [], []
    for label, name in enumerate(dataset.label_names):
        (members,) = np.nonzero(dataset.labels == label)
        if len(members) == 0:
            continue
        chosen = rng.choice(members, size=min(args.per_class, len(members)), replace=False)
        rows.append(tile(dataset.images[np.sort(chosen)], ncols=args.per_class))
        names.append(name)
    if not rows:
        raise LatentmapError(f"{args.spec} has no images in split '{args.split}'")
    save_png(labelled_rows(rows, names), args.out)
    print(f"wrote {args.out}: {args.per_class} random images for each of {len(rows)} classes")


def cmd_evaluate(args: argparse.Namespace) -> None:
    import json

    from .atomic import write_text
    from .metrics import evaluate
    from .runs import load_run

    run = load_run(args.run, device=args.device)
    test = dataset_from_args(args, run.dataset_spec).split("test")
    result = evaluate(run, test.images, test.labels, test.label_names, nll_samples=args.nll_samples)
    print(f"test MSE (pixel space): {result['mse']:.5f}")
    for name, value in result["mse_per_class"].items():
        print(f"  {name:<12} {value:.5f}")
    if "elbo" in result:
        elbo = result["elbo"]
        print(
            f"negative ELBO {elbo['negative_elbo']:.2f} nats ="
            f" reconstruction {elbo['reconstruction']:.2f} + KL {elbo['kl']:.2f}"
        )
        print(f"active units: {result['active_units']} of {run.d_latent}")
    if "nll" in result:
        print(f"importance-weighted NLL ({args.nll_samples} samples): {result['nll']['nats']:.2f} nats")
    out = run.path / "evaluation.json"
    write_text(out, json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="latentmap", description="Learn and explore latent representations of MNIST-style images."
    )
    parser.add_argument("--version", action="version", version=f"latentmap {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="prepare, describe and preview datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    prepare = data_commands.add_parser("prepare", help="build the dataset caches (download or render as needed)")
    prepare.add_argument("specs", nargs="+", metavar="SPEC", help=SPEC_HELP)
    prepare.add_argument("--force", action="store_true", help="rebuild even if a valid cache exists")
    add_data_options(prepare)
    prepare.set_defaults(handler=cmd_data_prepare)

    info = data_commands.add_parser("info", help="counts per split and class, sources and cache path")
    info.add_argument("spec", help=SPEC_HELP)
    add_data_options(info)
    info.set_defaults(handler=cmd_data_info)

    sample = data_commands.add_parser("sample", help="save a mosaic of random images per class")
    sample.add_argument("spec", help=SPEC_HELP)
    sample.add_argument("--out", default="samples.png", help="PNG to write (default: %(default)s)")
    sample.add_argument(
        "--per-class", "--per_class", type=int, default=12, help="images per class (default: %(default)s)"
    )
    sample.add_argument("--split", choices=["train", "test", "all"], default="train", help="(default: %(default)s)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    add_data_options(sample)
    sample.set_defaults(handler=cmd_data_sample)

    from .train_cli import DESCRIPTIONS, run_training
    from .train_cli import build_parser as train_parser

    training = commands.add_parser("train", help="train an autoencoder (same flags as dense.py / vae.py)")
    kinds = training.add_subparsers(dest="train_kind", required=True, metavar="KIND")
    for kind, description in DESCRIPTIONS.items():
        sub = kinds.add_parser(
            kind,
            parents=[train_parser(kind, add_help=False)],
            help=description,
            description=description,
            formatter_class=DefaultsFormatter,
        )
        sub.set_defaults(handler=lambda a, k=kind: run_training(k, a))

    from .embed_cli import add_arguments as embed_arguments
    from .embed_cli import run_embed

    embed = commands.add_parser(
        "embed",
        help="project a run's latent codes to 2D (PCA, t-SNE, UMAP) and draw the map",
        formatter_class=DefaultsFormatter,
    )
    embed_arguments(embed)
    embed.set_defaults(handler=run_embed)

    from . import demo, explore_cli, fonts_cli

    explore = commands.add_parser("explore", help="open the latent explorer web app on embedding file(s)")
    explore_cli.add_arguments(explore)
    explore.set_defaults(handler=explore_cli.run_explore)

    fonts = commands.add_parser("fonts", help="the typeface clustering app: curate and save a font_set.json")
    fonts_cli.add_arguments(fonts)
    fonts.set_defaults(handler=fonts_cli.run_fonts)

    demo_parser = commands.add_parser("demo", help="train a small AE and VAE on MNIST, embed them, open the explorer")
    demo.add_arguments(demo_parser)
    explore_cli.add_server_arguments(demo_parser)
    demo_parser.set_defaults(handler=demo.run_demo)

    evaluation = commands.add_parser("evaluate", help="test MSE per class; ELBO, active units and NLL for VAEs")
    evaluation.add_argument("run", help="run directory or its model.safetensors")
    evaluation.add_argument(
        "--nll_samples",
        "--nll-samples",
        type=int,
        default=0,
        help="importance samples for the NLL (e.g. 5000; 0 skips it)",
    )
    evaluation.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    add_data_options(evaluation)
    evaluation.set_defaults(handler=cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
