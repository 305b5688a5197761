"""Training options (the flags of ``dense.py`` / ``vae.py`` / ``latentmap train``), their
validation, the run's config.json built from them, and the options a resumed run keeps.
"""

import platform
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import LatentmapError
from ..models import FAMILIES, Family, ModelConfig, trainable_kinds
from ..models.family import every_flag, family_value
from ..version import __version__
from . import run as runs
from .schedules import LR_SCHEDULES, BetaSchedule


@dataclass(init=False)  # __init__ below also takes the family flags by name
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
    lr_schedule: str = "constant"
    seed: int = 0
    device: str = "auto"
    no_plot: bool = False
    no_tensorboard: bool = False
    resume: bool = False
    overwrite: bool = False
    max_train: int | None = None
    # architecture (every kind)
    arch: str = "mlp"
    channels: list[int] = field(default_factory=lambda: [16, 32])
    # the kind's own flags, declared once in its models/ module (code_weight, likelihood, the
    # KL schedule, ...): given values, read as attributes with the flag's default otherwise
    family: dict[str, Any] = field(default_factory=dict)
    # data locations
    data_dir: str | None = None
    fonts_dir: str | None = None
    cache_dir: str | None = None
    # options the user set explicitly; on --resume only epochs and stages may change
    explicit: frozenset[str] = frozenset()

    def __getattr__(self, name: str) -> Any:
        # Only for names that are no field: a family flag, as given or its default.
        if name.startswith("__") or name == "family":
            raise AttributeError(name)
        return family_value(self.family, name)

    def __init__(self, **values: Any) -> None:
        """Options by name, as the command line, grid files and Python give them: a family
        flag among them (``likelihood="bernoulli"``) goes into ``family``."""
        known = {f.name: f for f in fields(self)}
        flags = {name: values.pop(name) for name in [k for k in values if k not in known]}
        unknown = sorted(set(flags) - set(every_flag()))
        if unknown:
            raise TypeError(f"TrainOptions has no option(s) {', '.join(unknown)}")
        for name, spec in known.items():
            if name in values:
                setattr(self, name, values[name])
            else:
                setattr(self, name, spec.default if spec.default_factory is MISSING else spec.default_factory())
        self.family = {**self.family, **flags}


def trainable_family(kind: str) -> Family:
    family = FAMILIES.get(kind)
    if family is None or not family.trainable:
        raise LatentmapError(f"unknown model kind '{kind}': use {', '.join(trainable_kinds())}")
    return family


def applies(option: str, kind: str) -> bool:
    """Whether ``latentmap train KIND`` has this flag (the families declare their own)."""
    owners = [family.kind for family in FAMILIES.values() if option in family.options]
    return not owners or kind in owners


def is_variational(options: TrainOptions) -> bool:
    """A Gaussian posterior with a KL term: a vae, or a typeface model with --kind vae."""
    return options.kind == "vae" or (options.kind == "typeface" and options.typeface_kind == "vae")


def with_kind_defaults(options: dict[str, Any]) -> TrainOptions:
    """TrainOptions as ``latentmap train KIND`` fills them in: the kind's own layer and code
    sizes where ``options`` do not set them."""
    family = FAMILIES.get(options.get("kind", "dense"), FAMILIES["dense"])
    defaults = {"layers": list(family.layers), "d_latent": family.d_latent, "batch_size": family.batch_size}
    return TrainOptions(**{**defaults, **options})


# What --resume may be told besides the run to continue: where the data is, where to
# compute, whether to show figures, and a longer schedule.
RESUME_MAY_CHANGE = {
    "resume",
    "out",
    "no_plot",
    "no_tensorboard",
    "device",
    "data_dir",
    "fonts_dir",
    "cache_dir",
    "epochs",
    "stages",
}
NOT_SAVED = ("data_dir", "fonts_dir", "cache_dir", "explicit")


def default_out(options: TrainOptions) -> Path:
    """``runs/<dataset>-<kind>-<layer sizes>-<d_latent>``, plus the settings that change
    the model (PCA input, binary input or codes, the likelihood), so that two different
    models never share a default directory."""
    dataset = Path(options.dataset).stem if options.dataset.endswith(".json") else options.dataset
    kind = f"typeface{options.typeface_kind}" if options.kind == "typeface" else options.kind
    parts = [dataset, kind, *(str(n) for n in [*options.layers, options.d_latent])]
    if options.arch != "mlp":
        parts.append(options.arch)
    if options.pca_dims:
        parts.append(f"pca{options.pca_dims:g}" + ("w" if options.whiten else ""))
    if options.binary_input:
        parts.append("bininput")
    if options.kind == "sparse" and options.binary_codes:
        parts.append("binary")
    if options.kind in ("vae", "typeface") and options.likelihood != "mse":
        parts.append(options.likelihood)
    return Path("runs") / "-".join(parts)


def build_config(options: TrainOptions, n_features: int, n_chars: int = 1) -> dict[str, Any]:
    """The run's config.json content; validates every option (raises before any file is written)."""
    family = trainable_family(options.kind)  # refuses an unknown kind
    values = family.check_values(options.family)  # refuses another kind's flags, bad values
    for name in ("epochs", "stages", "batch_size"):
        if getattr(options, name) < 1:
            raise LatentmapError(f"--{name} must be at least 1")
    if not options.learn_rate > 0:
        raise LatentmapError("--learn_rate must be positive")
    if options.lr_schedule not in LR_SCHEDULES:
        raise LatentmapError(f"unknown --lr_schedule '{options.lr_schedule}': use {', '.join(LR_SCHEDULES)}")
    if options.max_train is not None and options.max_train < 1:
        raise LatentmapError(f"--max_train must be at least 1, got {options.max_train}")
    bernoulli = options.kind == "vae" and options.likelihood == "bernoulli"
    if options.dynamic_binarization and not bernoulli:
        raise LatentmapError("--dynamic_binarization goes with --likelihood bernoulli")
    if options.kind == "typeface" and options.pca_dims:
        raise LatentmapError("the typeface model works on pixels: it cannot be combined with --pca_dims / --whiten")
    variational = is_variational(options)
    reg_lambda = options.reg_lambda if options.reg_lambda is not None else (1.0 if bernoulli else 0.01)
    if reg_lambda < 0:
        raise LatentmapError(f"--reg_lambda (--beta) must not be negative, got {reg_lambda}")
    model = model_config(options, n_features, n_chars)
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
            "lr_schedule": options.lr_schedule,
            "seed": options.seed,
            "reg_lambda": reg_lambda if variational else None,
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
        # every flag of the kind with its value, defaults included: a resume needs no later default
        "options": {**{k: v for k, v in asdict(options).items() if k not in NOT_SAVED}, "family": values},
    }


def model_config(options: TrainOptions, n_features: int, n_chars: int) -> ModelConfig:
    """The network the options describe (ModelConfig checks its own values)."""
    return ModelConfig(
        kind=options.kind,
        n_features=n_features,
        d_latent=options.d_latent,
        layers=list(options.layers),
        dec_layers=None if options.dec_layers is None else list(options.dec_layers),
        activation=options.activation,
        dropout_layer=options.dropout_layer,
        dropout_rate=options.dropout_rate,
        pixel_output=not options.pca_dims,
        arch=options.arch,
        channels=list(options.channels),
        n_chars=n_chars,
        variational=options.kind == "typeface" and is_variational(options),
        options=dict(options.family),
    )


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
            "no_tensorboard": options.no_tensorboard,
            "device": options.device,
            "data_dir": options.data_dir,
            "fonts_dir": options.fonts_dir,
            "cache_dir": options.cache_dir,
        }
    )
    return resumed, extended
