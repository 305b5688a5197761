"""Model families: each module in ``models/`` declares its own (kind, help, defaults, the
training options only it has, whether its codes have a prior) with :func:`register`, and the
command line, the option checks, the samplers and the sweep read them from ``FAMILIES``.
A family's hyper-parameter is declared once, as a :class:`Flag`: the command line offers
it, a run's options and model config carry it in their ``family`` / ``options`` mapping
(checked by :meth:`Family.check_values`), and the sweep accepts it as a grid key.
A model that latentmap did not train (an imported ONNX pair, a wrapped pair of functions) is
a family without a network class."""

from dataclasses import dataclass
from typing import Any

from ..errors import LatentmapError


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
    minimum: float | None = None  # the least value it takes (a weight: 0)
    maximum: float | None = None

    @property
    def initial(self) -> Any:
        """Its value when not given: the default (a switch: off)."""
        return False if self.switch and self.default is None else self.default

    def check(self, value: Any) -> None:
        """One line saying what is wrong with ``value`` for this flag, if anything is."""
        name, low, high = f"--{self.name}", self.minimum, self.maximum
        if value is None:
            if self.initial is not None:
                raise LatentmapError(f"{name} needs a value (default {self.initial})")
            return
        if self.choices and value not in self.choices:
            raise LatentmapError(f"unknown {name} '{value}': use {', '.join(self.choices)}")
        if self.switch and not isinstance(value, bool):
            raise LatentmapError(f"{name} is a switch (true or false), got {value!r}")
        if self.type in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise LatentmapError(f"{name} must be a number, got {value!r}")
        if self.type is int and not float(value).is_integer():
            raise LatentmapError(f"{name} must be a whole number, got {value}")
        if self.positive and value < 1:
            raise LatentmapError(f"{name} must be at least 1, got {value}")
        if low is not None and high is not None and not low <= value <= high:
            raise LatentmapError(f"{name} must be in [{low:g}, {high:g}], got {value}")
        if low is not None and value < low:
            raise LatentmapError(
                f"{name} must not be negative, got {value}"
                if low == 0
                else f"{name} must be at least {low:g}, got {value}"
            )
        if high is not None and value > high:
            raise LatentmapError(f"{name} must be at most {high:g}, got {value}")


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

    def check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Every flag of this family with its value (given, else its default), each checked;
        a value for a flag this family does not have is refused."""
        foreign = sorted(set(values) - self.options)
        if foreign:
            owners = {name: [f.kind for f in FAMILIES.values() if name in f.options] for name in foreign}
            said = "; ".join(f"--{name} belongs to {', '.join(owners[name]) or 'no model kind'}" for name in foreign)
            raise LatentmapError(f"`latentmap train {self.kind}` has no {', '.join(foreign)}: {said}")
        checked = {flag.name: values.get(flag.name, flag.initial) for flag in self.flags}
        for flag in self.flags:
            flag.check(checked[flag.name])
        return checked


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.kind] = family
    ordered = sorted(FAMILIES.values(), key=lambda f: (f.rank, f.kind))
    FAMILIES.clear()
    FAMILIES.update((f.kind, f) for f in ordered)
    return family


def every_flag() -> dict[str, Flag]:
    """Each family flag by name (a name two families share, --likelihood, has one default)."""
    found: dict[str, Flag] = {}
    for family in FAMILIES.values():
        for flag in family.flags:
            found.setdefault(flag.name, flag)
    return found


def family_value(values: dict[str, Any], name: str) -> Any:
    """A family flag read from a run's mapping: its value there, else its declared default."""
    if name in values:  # a model reads its weights every step: no walk over the families
        return values[name]
    flags = every_flag()
    if name not in flags:
        raise AttributeError(name)
    return values.get(name, flags[name].initial)


def trainable_kinds() -> tuple[str, ...]:
    return tuple(kind for kind, family in FAMILIES.items() if family.trainable)
