"""Model families: each module in ``models/`` declares its own (kind, help, defaults, the
training options only it has, whether its codes have a prior) with :func:`register`, and the
command line, the option checks, the samplers and the sweep read them from ``FAMILIES``.
A model that latentmap did not train (an imported ONNX pair, a wrapped pair of functions) is
a family without a network class."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Flag:
    """A training flag only one family has, as `latentmap train KIND` offers it (the command
    line adds ``--name``, its hyphenated alias and ``aliases``)."""

    name: str
    help: str
    type: Any = None  # float, int, str; None with choices or a switch
    default: Any = None
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()
    switch: bool = False  # on when given (store_true)
    positive: bool = False  # an integer >= 1
    group: str = "model"  # the --help section


@dataclass(frozen=True)
class Family:
    kind: str
    help: str  # one sentence: `latentmap train KIND --help` and the list of kinds
    model: Any = None  # the Autoencoder class; None: not trained by latentmap
    layers: tuple[int, ...] = ()  # default --layers
    d_latent: int = 16  # default --d_latent
    batch_size: int = 256  # default --batch_size
    flags: tuple[Flag, ...] = ()  # training flags only this family has
    has_prior: bool = False  # the codes were pulled towards N(0, I): the prior sampler is offered
    rank: int = 100  # where it is listed (`latentmap train --help`): the plain AE first

    @property
    def trainable(self) -> bool:
        return self.model is not None

    @property
    def options(self) -> frozenset[str]:
        return frozenset(flag.name for flag in self.flags)


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.kind] = family
    ordered = sorted(FAMILIES.values(), key=lambda f: (f.rank, f.kind))
    FAMILIES.clear()
    FAMILIES.update((f.kind, f) for f in ordered)
    return family


def trainable_kinds() -> tuple[str, ...]:
    return tuple(kind for kind, family in FAMILIES.items() if family.trainable)
