"""Command lines of the original ``dense.py`` / ``vae.py`` (same flags, same meaning), shared
by the scripts at the repository root and ``latentmap train dense|sparse|vae``.
Every flag also has a hyphenated alias (``--d-latent`` for ``--d_latent``).
"""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import fields

from ..models import FAMILIES, trainable_kinds
from ..train import TrainOptions, train
from ..train.schedules import LR_SCHEDULES
from .common import DefaultsFormatter, OneLineParser, add_data_options, from_args, run


def flag(group: argparse._ActionsContainer, name: str, *aliases: str, **kwargs: object) -> None:
    """``--name`` plus its hyphenated alias when the name has an underscore, and ``aliases``."""
    names = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else []) + [f"--{a}" for a in aliases]
    group.add_argument(*names, dest=name, **kwargs)  # type: ignore[arg-type]


def positive_fraction_or_int(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value < 0 or (value >= 1 and value != int(value)):
        raise argparse.ArgumentTypeError("use 0, an integer number of dimensions, or a fraction in (0, 1)")
    return value


def layer_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"layer size '{text}' is not a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"layer size {value} is not a positive integer")
    return value


def build_parser(kind: str, prog: str | None = None, add_help: bool = True) -> OneLineParser:
    """``latentmap train KIND``'s flags: data, model (and the family's own), training."""
    parser = OneLineParser(
        prog=prog,
        description=FAMILIES[kind].help,
        formatter_class=DefaultsFormatter,
        add_help=add_help,
    )
    add_data_flags(parser, kind)
    add_data_options(parser)
    add_model_flags(parser, kind)
    add_family_flags(parser, kind)
    add_training_flags(parser, kind)
    return parser


def add_data_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    data = parser.add_argument_group("data")
    typeface = kind == "typeface"
    flag(
        data,
        "dataset",
        default="alphanumeric" if typeface else "digits",
        help="numeric | alphanumeric | path to a font_set.json"
        if typeface
        else "digits | fashion | numeric | alphanumeric | path to a font_set.json",
    )
    flag(
        data,
        "pca_dims",
        type=positive_fraction_or_int,
        default=0,
        help="0: no PCA, only scaling; int > 0: PCA dimensions; 0 < float < 1: fraction of variance kept",
    )
    flag(data, "whiten", action="store_true", help="z-score each PCA feature")
    flag(data, "binary_input", action="store_true", help="binarize inputs (pixel > 0.5)")
    flag(
        data,
        "max_train",
        type=int,
        default=None,
        help=f"train on a seeded subsample of this many {'typefaces' if typeface else 'images'}",
    )


def add_model_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    model = parser.add_argument_group("model")
    flag(model, "d_latent", type=layer_size, default=FAMILIES[kind].d_latent, help="code size")
    flag(
        model,
        "layers",
        type=layer_size,
        nargs="*",
        default=list(FAMILIES[kind].layers),
        help="encoder hidden layer sizes, e.g. --layers 512 128",
    )
    flag(
        model,
        "dec_layers",
        type=layer_size,
        nargs="*",
        default=None,
        help="decoder hidden layer sizes (default: the encoder's reversed)",
    )
    flag(model, "activation", choices=["relu", "tanh", "elu"], default="relu", help="hidden-layer activation")
    flag(
        model,
        "dropout_layer",
        type=int,
        default=None,
        help="index into --layers of the encoding layer followed by dropout (never the code layer)",
    )
    flag(model, "dropout_rate", type=float, default=0.5, help="dropout probability")
    flag(
        model,
        "arch",
        choices=["mlp", "conv"],
        default="mlp",
        help="mlp: dense layers (--layers); conv: strided 4x4 convolutions + BatchNorm (--channels), pixels only",
    )
    flag(
        model,
        "channels",
        type=layer_size,
        nargs="+",
        default=[16, 32],
        help="conv: channels of each block (the pythae / RAE benchmark size is 128 256 512 1024, for GPUs)",
    )


def add_family_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    """The flags only this family has, as its module declares them (in their --help sections)."""
    groups = {group.title: group for group in parser._action_groups if group.title}
    for spec in FAMILIES[kind].flags:  # the flags only this family has, as its module declares them
        group = groups.get(spec.group) or groups.setdefault(spec.group, parser.add_argument_group(spec.group))
        if spec.switch:
            flag(group, spec.name, *spec.aliases, action="store_true", help=spec.help)
            continue
        kwargs: dict[str, object] = {"default": spec.default, "help": spec.help}
        if spec.choices:
            kwargs["choices"] = list(spec.choices)
        if spec.type is not None:
            kwargs["type"] = layer_size if spec.positive else spec.type
        flag(group, spec.name, *spec.aliases, **kwargs)


def add_training_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    typeface = kind == "typeface"
    training = parser.add_argument_group("training")
    flag(
        training,
        "batch_size",
        type=int,
        default=FAMILIES[kind].batch_size,
        help="typefaces per batch" if typeface else "batch size",
    )
    flag(training, "epochs", type=int, default=25, help="epochs per stage")
    flag(training, "stages", type=int, default=1, help="stages; figures and a checkpoint after each")
    flag(training, "learn_rate", type=float, default=1e-3, help="Adam learning rate")
    flag(
        training,
        "lr_schedule",
        choices=list(LR_SCHEDULES),
        default="constant",
        help="constant, or cosine: decay the rate to 0 over the run (for long runs to converge)",
    )
    flag(training, "seed", type=int, default=0, help="random seed (runs are reproducible)")
    flag(training, "device", default="auto", help="auto (CUDA when available), cpu or cuda")
    flag(training, "out", default=None, help="run directory (default: runs/<dataset>-<kind>-<dims>)")
    flag(training, "resume", action="store_true", help="continue the interrupted run in --out exactly")
    flag(training, "overwrite", action="store_true", help="replace an existing run in --out")
    flag(training, "no_plot", action="store_true", help="save figures without opening windows")
    flag(
        training,
        "no_tensorboard",
        action="store_true",
        help="write no TensorBoard event files (default: <run>/tensorboard/, for tensorboard --logdir)",
    )


def options_from_args(kind: str, args: argparse.Namespace) -> TrainOptions:
    own = FAMILIES[kind].options  # the kind's flags: its TrainOptions.family mapping
    known = ({f.name for f in fields(TrainOptions)} - {"explicit", "family"}) | own
    # A flag counts as set when it differs from its default (what --resume may not change).
    defaults = vars(build_parser(kind).parse_args([]))
    explicit = frozenset(k for k, v in vars(args).items() if k in known and v != defaults.get(k))
    family = {name: getattr(args, name) for name in own if hasattr(args, name)}
    return from_args(TrainOptions, args, kind=kind, explicit=explicit, family=family)


def run_training(kind: str, args: argparse.Namespace) -> None:
    from ..train.distributed import world_from_env

    out = train(options_from_args(kind, args))
    if world_from_env().is_main:  # under torchrun, once
        print(f"run saved in {out}")


def register(commands: argparse._SubParsersAction) -> None:
    training = commands.add_parser("train", help="train an autoencoder (same flags as dense.py / vae.py)")
    kinds = training.add_subparsers(dest="train_kind", required=True, metavar="KIND")
    for kind in trainable_kinds():
        description = FAMILIES[kind].help
        sub = kinds.add_parser(
            kind,
            parents=[build_parser(kind, add_help=False)],
            help=description,
            description=description,
            formatter_class=DefaultsFormatter,
        )
        sub.set_defaults(handler=lambda a, k=kind: run_training(k, a))


def script_main(kind: str, argv: Sequence[str] | None = None) -> int:
    """Entry point of the thin ``dense.py`` / ``vae.py`` scripts."""
    args = build_parser(kind, prog=f"{kind}.py").parse_args(argv)
    return run(lambda a: run_training(kind, a), args)


if __name__ == "__main__":
    sys.exit(script_main("dense"))
