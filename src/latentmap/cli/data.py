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


SPEC_HELP = (
    f"dataset spec: {', '.join(BUILTIN_SPECS)}, a path to a font_set.json, or a name given to `latentmap data import`"
)


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
    if dataset.manifest is not None:
        print_manifest(dataset.manifest, every_source=args.sources)
    if dataset.typeface_ids is not None:
        test_fonts = np.unique(dataset.typeface_ids[dataset.is_test])
        all_fonts = np.unique(dataset.typeface_ids)
        print(f"typefaces {len(all_fonts):,} ({len(all_fonts) - len(test_fonts):,} train, {len(test_fonts):,} test)")
        moved, families = dataset.regrouped
        groups = len(np.unique(dataset.fonts["group"])) if "group" in dataset.fonts else 0
        print(
            f"split     by {groups:,} groups of related families (names that extend another's, identical "
            f"glyphs): {moved:,} typefaces of {families:,} families moved to their group's side"
        )
        print_skipped(dataset)
    train = np.bincount(dataset.labels[~dataset.is_test], minlength=len(dataset.label_names))
    test = np.bincount(dataset.labels[dataset.is_test], minlength=len(dataset.label_names))
    width = max(len("class"), *(len(n) for n in dataset.label_names))
    print(f"{'class':<{width}}  {'train':>7}  {'test':>7}")
    for name, n_train, n_test in zip(dataset.label_names, train, test, strict=True):
        print(f"{name:<{width}}  {n_train:>7,}  {n_test:>7,}")


SOURCES_SHOWN = 5  # a 20,000-file import is summarised; --sources lists every file


def print_manifest(manifest: dict, every_source: bool = False) -> None:
    options = manifest.get("options", {})
    made_by = f"latentmap {manifest.get('latentmap')}"
    print(f"imported  {manifest.get('format')} with {made_by}; split from {manifest.get('split_from')}")
    print(f"options   {', '.join(f'{k}={v}' for k, v in options.items() if v not in (None, False))}")
    sources = manifest.get("sources", [])
    for source in sources if every_source else sources[:SOURCES_SHOWN]:
        print(f"  {source['path']}  {source['bytes']:,} bytes  sha256 {source['sha256'][:16]}")
    if len(sources) > SOURCES_SHOWN and not every_source:
        total = sum(int(source["bytes"]) for source in sources)
        print(
            f"  ... {len(sources) - SOURCES_SHOWN:,} more files ({len(sources):,} in all, {total:,} bytes; --sources)"
        )
    if manifest.get("inverted"):
        print(f"inverted  dark ink on light paper in {', '.join(manifest['inverted'])}")
    if manifest.get("resized"):
        print(f"resized   {manifest['resized']:,} pictures fitted to 28x28 (--fit {options.get('fit')})")
    if not manifest.get("labelled", True):
        print("labels    none: everything runs but the judge's metrics")
    if manifest.get("skipped_total"):
        print(f"skipped   {manifest['skipped_total']:,} unreadable file(s), e.g. {manifest['skipped'][0]['file']}")


def cmd_data_import(args: argparse.Namespace) -> None:
    from ..data.imports import ImportOptions, import_dataset, reader_options

    options = ImportOptions(
        format=args.format,
        label_names=args.label_names,
        read={name: getattr(args, name) for name in reader_options()},
        invert=args.invert,
        fit=args.fit,
        test_fraction=args.test_fraction,
        seed=args.seed,
    )
    result = import_dataset(
        args.sources, args.name, options, data_dir=args.data_dir, cache_dir=args.cache_dir, overwrite=args.overwrite
    )
    manifest = result.manifest
    if result.reused:
        print(f"{args.name}: already imported from these sources with these options, reused -> {result.manifest_path}")
        return
    for file, why in result.problems[:20]:
        print(f"  skipped {file}: {why}")
    if len(result.problems) > 20:
        print(f"  ... and {len(result.problems) - 20} more (listed in {result.manifest_path})")
    for source in manifest["inverted"]:
        print(f"  {source}: dark ink on light paper, inverted (--invert no keeps it)")
    train, test = (sum(manifest["counts"][s].values()) for s in ("train", "test"))
    classes = f"{len(manifest['label_names'])} classes" if manifest["labelled"] else "no labels"
    print(
        f"{args.name}: {train + test:,} images ({train:,} train, {test:,} test; split from {manifest['split_from']}), "
        f"{classes}, imported in {manifest['seconds']} s -> {result.manifest_path}"
    )
    print(f"  use it as a dataset spec: latentmap train vae --dataset {args.name}")


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

    add_import_parser(data_commands)

    info = data_commands.add_parser("info", help="counts per split and class, sources and cache path")
    info.add_argument("spec", help=SPEC_HELP)
    info.add_argument("--sources", action="store_true", help="list every source file of an imported dataset")
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


def add_import_parser(data_commands: argparse._SubParsersAction) -> None:
    from ..data.imports import FITS, INVERTS, formats, reader_options

    sub = data_commands.add_parser(
        "import",
        help="import your own images (folders, IDX, npz/npy, parquet) as a dataset spec",
        description="Import images as a dataset that every command takes by NAME: 28x28 grey, white on black. "
        "Folders of images (class sub-folders, train/ and test/), IDX files (EMNIST, KMNIST), .npz, "
        "a folder of .npy files one class each (QuickDraw), Parquet as Hugging Face exports it.",
    )
    sub.add_argument("sources", nargs="+", metavar="SOURCE", help="files or folders to import (one format)")
    sub.add_argument("--name", required=True, help="the dataset's name, used as --dataset NAME afterwards")
    sub.add_argument(
        "--format", choices=formats(), default="auto", help="source format (default: %(default)s, detected)"
    )
    sub.add_argument(
        "--label_names", "--label-names", help="class names: one per line, or EMNIST's mapping file (label code)"
    )
    own = sub.add_argument_group("options of one format (each format's reader declares its own)")
    for name, (reader, option) in reader_options().items():
        flags = [f"--{name}", *([f"--{name.replace('_', '-')}"] if "_" in name else [])]
        own.add_argument(
            *flags, action="store_true" if option.switch else "store", help=f"{reader.format}: {option.help}"
        )
    sub.add_argument(
        "--invert",
        choices=INVERTS,
        default="auto",
        help="dark ink on light paper -> white on black (default: %(default)s: detected)",
    )
    sub.add_argument(
        "--fit",
        choices=FITS,
        default="mnist",
        help="pictures that are not 28x28: mnist (crop to ink, 20 px box, centre of mass), pad or stretch "
        "(default: %(default)s)",
    )
    sub.add_argument(
        "--test_fraction",
        "--test-fraction",
        type=float,
        default=0.15,
        help="test share when the source has no split (default: %(default)s)",
    )
    sub.add_argument("--seed", type=int, default=0, help="seed of that split (default: %(default)s)")
    sub.add_argument("--overwrite", action="store_true", help="replace a dataset of that name imported otherwise")
    add_data_options(sub)
    sub.set_defaults(handler=cmd_data_import)
