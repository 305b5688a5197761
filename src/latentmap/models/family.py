"""Model families: each module in ``models/`` declares its own (kind, help, defaults, the
training options only it has, whether its codes have a prior) with :func:`register`, and the
command line, the option checks, the samplers and the sweep read them from ``FAMILIES``.
A model that latentmap did not train (an imported ONNX pair, a wrapped pair of functions) is
a family without a network class."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Family:
    kind: str
    help: str  # one sentence: `latentmap train KIND --help` and the list of kinds
    model: Any = None  # the Autoencoder class; None: not trained by latentmap
    layers: tuple[int, ...] = ()  # default --layers
    d_latent: int = 16  # default --d_latent
    batch_size: int = 256  # default --batch_size
    options: frozenset[str] = field(default_factory=frozenset)  # training flags only this family has
    has_prior: bool = False  # the codes were pulled towards N(0, I): the prior sampler is offered
    rank: int = 100  # where it is listed (`latentmap train --help`): the plain AE first

    @property
    def trainable(self) -> bool:
        return self.model is not None


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.kind] = family
    ordered = sorted(FAMILIES.values(), key=lambda f: (f.rank, f.kind))
    FAMILIES.clear()
    FAMILIES.update((f.kind, f) for f in ordered)
    return family


def trainable_kinds() -> tuple[str, ...]:
    return tuple(kind for kind, family in FAMILIES.items() if family.trainable)
