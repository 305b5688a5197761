"""``latentmap data prepare|info|sample``."""

import argparse
import time

import numpy as np

from ..data import BUILTIN_SPECS, Dataset, load_dataset
from ..errors import LatentmapError
from ..images import labelled_rows, save_png, tile
from .common import add_data_options


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
        start = time.perf_counter()
        dataset = dataset_from_args(args, spec, force=args.force)
        how = f"built in {time.perf_counter() - start:.1f} s" if dataset.built else "cache up to date, reused"
        print(f"{spec}: {len(dataset):,} images, {len(dataset.label_names)} classes ({how}) -> {dataset.cache_path}")
        print(f"  source: {dataset.source}")
        print_skipped(dataset)


def print_skipped(dataset: Dataset) -> None:
    if dataset.skipped:
        print(f"  {len(dataset.skipped)} font(s) left out:")
        for name, why in dataset.skipped.items():
            print(f"    {name}: {why}")
    if dataset.dropped:
        print(f"  {len(dataset.dropped)} font(s) with glyphs left out:")
        for name, why in dataset.dropped.items():
            print(f"    {name}: {why}")


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
        print_skipped(dataset)
    train = np.bincount(dataset.labels[~dataset.is_test], minlength=len(dataset.label_names))
    test = np.bincount(dataset.labels[dataset.is_test], minlength=len(dataset.label_names))
    width = max(len("class"), *(len(n) for n in dataset.label_names))
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


def register(commands: argparse._SubParsersAction) -> None:
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
