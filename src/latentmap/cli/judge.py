"""``latentmap judge train|info SPEC`` and ``latentmap compare RUN...``: the judge classifier
and latent-space quality in numbers."""

import argparse
from pathlib import Path
from typing import Any

from .common import add_data_options
from .data import SPEC_HELP, dataset_from_args


def cache_dir_of(args: argparse.Namespace) -> Path:
    from ..data.sources import DataPaths

    return DataPaths.resolve(args.data_dir, args.fonts_dir, args.cache_dir).cache


def print_judge(info: dict, weights: Path) -> None:
    quantiles = ", ".join(f"{float(q):.0%} {v:.3f}" for q, v in info["confidence_quantiles"].items())
    print(f"judge for {info['dataset']} ({weights})")
    print(f"  test accuracy {info['accuracy']:.4f} on {info['test_images']:,} images", end="")
    if info.get("confusable_groups"):
        groups = "  ".join("".join(g) for g in info["confusable_groups"])
        print(f"; {info['group_accuracy']:.4f} counting confusable groups as one class: {groups}")
    else:
        print()
    print(f"  tau {info['tau']:.3f} (5th percentile of the top-class confidence on real test images)")
    print(f"  confidence quantiles: {quantiles}")
    print(
        f"  trained on {info['train_images']:,} images, {info['epochs']} epochs, {info['train_seconds']:.0f} s;"
        f" data hash {info['data_hash']}"
    )


def cmd_judge_train(args: argparse.Namespace) -> None:
    from ..quality.judge import SETTINGS, judge_key, judge_paths, judge_settings, save_judge, train_judge

    dataset = dataset_from_args(args, args.spec)
    settings = judge_settings(epochs=args.epochs, max_train=args.max_train, seed=args.seed, net=args.net)
    judge = train_judge(dataset, **settings)
    weights, info = judge_paths(dataset.spec, judge_key(dataset, settings), cache_dir_of(args))
    save_judge(judge, weights, info)
    print_judge(judge.info, weights)
    if settings != SETTINGS:
        print(
            "  note: trained with other settings than the default judge "
            f"({', '.join(f'{k} {v}' for k, v in SETTINGS.items())}); compare, evaluate and the explorer use "
            "the default one, never this one"
        )


def cmd_judge_info(args: argparse.Namespace) -> None:
    from ..quality.judge import SETTINGS, judge_for, judge_key, judge_paths

    dataset = dataset_from_args(args, args.spec)
    judge = judge_for(dataset, cache_dir_of(args), train_if_missing=False)
    print_judge(judge.info, judge_paths(dataset.spec, judge_key(dataset, SETTINGS), cache_dir_of(args))[0])


def cmd_compare(args: argparse.Namespace) -> None:
    from ..atomic import ensure_writable_dir
    from ..errors import LatentmapError
    from ..quality.compare import check_same_dataset, compare_runs, markdown, write_outputs
    from ..quality.judge import judge_for
    from ..train.run import load_run
    from ..train.typeface import TypefaceRun

    if args.pairs < 2:
        raise LatentmapError(f"--pairs must be at least 2 (one same-class and one cross-class pair), got {args.pairs}")
    ensure_writable_dir(args.out)  # fail before minutes of work, not after
    runs = [load_run(path) for path in args.runs]
    spec = check_same_dataset(runs)
    typeface_runs = [run for run in runs if isinstance(run, TypefaceRun)]
    if typeface_runs and len(typeface_runs) != len(runs):
        raise LatentmapError("typeface runs are compared with typeface runs only: their spaces hold typefaces")
    dataset = dataset_from_args(args, spec)
    if typeface_runs:
        from ..quality.completion_scores import scoring_judge

        compare_typefaces(typeface_runs, dataset, scoring_judge(dataset, cache_dir_of(args), announce=print), args)
        return
    judge = judge_for(dataset, cache_dir_of(args))
    comparison = compare_runs(runs, dataset, judge, args.pairs, args.seed, args.mode)
    print(markdown(comparison))
    for path in write_outputs(comparison, args.out):
        print(f"wrote {path}")


def compare_typefaces(runs: list, dataset: Any, judge: Any, args: argparse.Namespace) -> None:
    import json

    from ..atomic import write_bytes
    from ..data.glyphs import glyph_grid
    from ..quality.compare import finite
    from ..quality.typeface_compare import compare_typeface_runs, typeface_markdown, typeface_picture

    result = compare_typeface_runs(runs, glyph_grid(dataset), judge, args.pairs, args.seed, dataset)
    text = typeface_markdown(result)
    print(text)
    contents = [
        (json.dumps(finite(result), indent=1, allow_nan=False) + "\n").encode(),
        text.encode(),
        typeface_picture(result),  # rendered before anything is written: no partial set of files
    ]
    for name, data in zip(("compare.json", "compare.md", "compare.png"), contents, strict=True):
        write_bytes(Path(args.out) / name, data)
        print(f"wrote {Path(args.out) / name}")


def register(commands: argparse._SubParsersAction) -> None:
    judge = commands.add_parser("judge", help="the per-dataset classifier that scores decoded images")
    actions = judge.add_subparsers(dest="judge_command", required=True, metavar="ACTION")
    train = actions.add_parser("train", help="train (or retrain) the judge of a dataset; saved in the cache dir")
    train.add_argument("spec", help=SPEC_HELP)
    train.add_argument(
        "--epochs",
        type=int,
        default=6,
        help="training epochs (default: %(default)s; other settings than the "
        "defaults give a separate judge that compare, evaluate and the explorer do not use)",
    )
    train.add_argument("--max_train", "--max-train", type=int, default=None, help="train on a seeded subsample")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    train.add_argument(
        "--net",
        choices=["cnn", "mlp"],
        default="cnn",
        help="cnn (the judge every part uses) or mlp (a pixel MLP: a second judge of another kind)",
    )
    add_data_options(train)
    train.set_defaults(handler=cmd_judge_train)
    info = actions.add_parser("info", help="accuracy, tau, confidence quantiles and confusable groups")
    info.add_argument("spec", help=SPEC_HELP)
    add_data_options(info)
    info.set_defaults(handler=cmd_judge_info)

    compare = commands.add_parser(
        "compare", help="latent-space quality of runs side by side: validity, smoothness, realism, prior, holes"
    )
    compare.add_argument("runs", nargs="+", metavar="RUN", help="run directories (or model.safetensors) of one dataset")
    compare.add_argument("--pairs", type=int, default=1000, help="seeded test pairs (default: %(default)s)")
    compare.add_argument("--seed", type=int, default=0, help="random seed of pairs and samples (default: %(default)s)")
    compare.add_argument(
        "--mode", choices=["linear", "slerp"], default="linear", help="interpolation (default: linear)"
    )
    compare.add_argument("--out", default="compare", help="folder for compare.json/.md/.png (default: %(default)s)")
    add_data_options(compare)
    compare.set_defaults(handler=cmd_compare)
