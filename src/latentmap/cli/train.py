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
from .common import DefaultsFormatter, OneLineParser, add_data_options, run


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
    parser = OneLineParser(
        prog=prog,
        description=FAMILIES[kind].help,
        formatter_class=DefaultsFormatter,
        add_help=add_help,
    )
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

    add_data_options(parser)

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
    if kind == "rae":
        flag(model, "code_weight", type=float, default=1e-2, help="beta of the 0.5 ||z||^2 code penalty")
        flag(model, "decoder_reg", choices=["l2", "gp"], default="l2", help="l2: decoder weights; gp: gradient penalty")
        flag(model, "decoder_weight", type=float, default=1e-4, help="weight of the decoder regulariser")
    if kind == "wae":
        flag(model, "mmd_weight", type=float, default=10.0, help="weight of the MMD to N(0, I) (IMQ kernel)")
    if kind == "acai":
        flag(model, "adv_weight", type=float, default=0.5, help="lambda: weight of the critic's answer on interpolants")
        flag(model, "critic_gamma", type=float, default=0.2, help="the critic also sees gamma x + (1 - gamma) recon(x)")
    if typeface:
        flag(
            model,
            "typeface_kind",
            "kind",
            choices=["ae", "vae"],
            default="ae",
            help="ae: a deterministic code per typeface; vae: a Gaussian posterior and a KL to N(0, I)",
        )
        flag(model, "max_shots", type=layer_size, default=8, help="the encoder sees 1..max_shots glyphs per typeface")
        flag(model, "reg_lambda", "beta", type=float, default=None, help="--kind vae: weight of the KL term (0.01)")
        flag(
            model,
            "likelihood",
            choices=["mse", "bernoulli"],
            default="mse",
            help="reconstruction loss per pixel: mse, or bernoulli (binary cross-entropy: sharper strokes)",
        )
    if kind == "sparse":
        flag(model, "sparsity_lambda", type=float, default=1e-3, help="weight of the L1 activity penalty on the code")
        flag(model, "binary_codes", action="store_true", help="binary codes: Heaviside step, straight-through gradient")
    if kind == "vae":
        flag(
            model,
            "reg_lambda",
            "beta",
            type=float,
            default=None,
            help="weight of the KL term; --beta is the same flag (a beta-VAE: --likelihood bernoulli --beta 4) "
            "(default 0.01 with --likelihood mse, 1 with bernoulli)",
        )
        flag(
            model,
            "likelihood",
            choices=["mse", "bernoulli"],
            default="mse",
            help="mse: the original loss (mean pixel MSE + reg_lambda x mean KL); bernoulli: the ELBO on binary data",
        )
        flag(
            model,
            "dynamic_binarization",
            action="store_true",
            help="with bernoulli: resample binary pixels every batch",
        )
        schedule = parser.add_argument_group("KL weight schedule")
        flag(
            schedule,
            "beta_schedule",
            choices=["constant", "linear", "cyclical"],
            default="constant",
            help="constant, linear warm-up, or cyclical annealing (Fu et al. 2019)",
        )
        flag(schedule, "beta_low", type=float, default=0.0, help="low KL weight of the warm-up / cycles")
        flag(schedule, "beta_high", type=float, default=None, help="high KL weight (default: --reg_lambda)")
        flag(schedule, "warmup", type=float, default=0.25, help="linear: fraction of training spent warming up")
        flag(schedule, "cycles", type=int, default=4, help="cyclical: number of cycles")
        flag(schedule, "cycle_lead", type=float, default=0.0, help="cyclical: lead-in fraction held at the low value")
        flag(schedule, "cycle_ramp", type=float, default=0.5, help="cyclical: fraction of each cycle spent ramping up")

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
    return parser


def options_from_args(kind: str, args: argparse.Namespace) -> TrainOptions:
    known = {f.name for f in fields(TrainOptions)} - {"explicit"}
    # A flag counts as set when it differs from its default (what --resume may not change).
    defaults = vars(build_parser(kind).parse_args([]))
    explicit = frozenset(k for k, v in vars(args).items() if k in known and v != defaults.get(k))
    return TrainOptions(kind=kind, explicit=explicit, **{k: v for k, v in vars(args).items() if k in known})


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
