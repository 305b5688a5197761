"""A report's models: the runs of a sweep grouped by model (its seeds), the units behind
each metric, and which plain AE each model is compared with."""

from dataclasses import dataclass, field
from typing import Any

from .compare import Comparison
from .grid import RunSpec
from .stats import Items


@dataclass
class Model:
    name: str
    specs: list[RunSpec] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)  # indices into the comparison's runs

    @property
    def kind(self) -> str:
        return str(self.specs[0].options["kind"])

    @property
    def seeds(self) -> list[int]:
        return [int(s.options["seed"]) for s in self.specs]


def models_of(specs: list[RunSpec]) -> list[Model]:
    """Runs grouped by model, in the order the specs come; the plain AE first if there is one."""
    models: dict[str, Model] = {}
    for k, spec in enumerate(specs):
        model = models.setdefault(spec.model, Model(spec.model))
        model.specs.append(spec)
        model.runs.append(k)
    ordered = list(models.values())
    dense = [m for m in ordered if m.kind == "dense"]
    return dense[:1] + [m for m in ordered if m not in dense[:1]]


def items_of(comparison: Comparison, model: Model, metric: str, seeds: list[int] | None = None) -> list[Items]:
    chosen = model.seeds if seeds is None else seeds
    return [comparison.items[model.runs[model.seeds.index(s)]][metric] for s in chosen]


def measured(comparison: Comparison, model: Model, metric: str) -> bool:
    """Whether every run of the model has the metric (prior_* only where there is a prior)."""
    return all(metric in comparison.runs[k]["metrics"] for k in model.runs)


def shape(model: Model) -> tuple[Any, str, Any]:
    """What a model is compared within: its latent size, architecture and training length."""
    options = model.specs[0].options
    return options.get("d_latent"), options.get("arch", "mlp"), options.get("epochs")


def baselines_of(models: list[Model]) -> dict[str, Model]:
    """Each model's plain AE: the first dense model of its shape (latent size, architecture and
    epochs), so that a grid over sizes, architectures or training lengths asks the question
    within each; a plain AE of
    another architecture is judged against the first plain AE of its size (what the
    architecture alone changes); a model whose size has no plain AE, against the first one.
    {} without a dense model."""
    dense = [m for m in models if m.kind == "dense"]
    if not dense:
        return {}
    by_shape: dict[tuple[Any, str, Any], Model] = {}
    by_size: dict[Any, Model] = {}
    for model in dense:
        by_shape.setdefault(shape(model), model)
        by_size.setdefault(shape(model)[0], model)
    chosen = {}
    for model in models:
        baseline = by_shape.get(shape(model))
        if baseline is None or baseline is model:  # no AE of its shape, or it is that AE
            baseline = by_size.get(shape(model)[0], dense[0])
        if baseline is not model:
            chosen[model.name] = baseline
    return chosen
