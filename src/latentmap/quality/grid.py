"""Grid files for ``latentmap sweep``: TOML that names training runs by their flags.

```toml
[common]            # flags every run gets
epochs = 20
layers = [256]

[grid]              # lists that multiply: 2 datasets x 2 kinds x 3 seeds = 12 runs
dataset = ["digits", "fashion"]
kind = ["dense", "vae"]
seed = [0, 1, 2]

[[runs]]            # a variant: crossed with the [grid] keys it does not set itself
kind = "vae"
likelihood = "bernoulli"

[[runs]]            # a run made elsewhere (latentmap import-model, another sweep): compared as it is
run = "runs/my-ae"
```

Keys are the training flags' names (``latentmap train --help``), ``kind`` and ``dataset``
included; a flag that a run's kind does not have (``reg_lambda`` for a dense run) is left
out of that run. Each combination is a :class:`RunSpec` whose directory name is readable
(dataset, kind, the settings that vary in the sweep, seed) and ends in a hash of its
settings: the same settings always land in the same directory, changed ones in a new one.
Runs are trained by ``latentmap train`` with these flags, so every default is the command
line's.
"""

import hashlib
import itertools
import json
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import LatentmapError
from ..models.family import every_flag
from ..train.options import TrainOptions, applies, build_config, with_kind_defaults

# How a run is trained, not what is trained: allowed in [common] and [[runs]], passed to the
# training command, never part of a run's identity (its directory and comparisons).
HOW_KEYS = ("no_plot", "no_tensorboard", "device")
# Where runs go and what the sweep itself decides: never in a grid.
NOT_GRID_KEYS = {"out", "resume", "overwrite", "explicit", "family", "data_dir", "fonts_dir", "cache_dir", *HOW_KEYS}


def grid_keys() -> list[str]:
    """The common training flags and every registered family's own (its Flags in models/)."""
    return sorted(({f.name for f in fields(TrainOptions)} - NOT_GRID_KEYS) | set(every_flag()))


SECTIONS = {"common", "grid", "runs"}


@dataclass(frozen=True)
class RunSpec:
    name: str  # readable and unique within the sweep, seed included
    options: dict[str, Any]  # every training flag of the run (TrainOptions names)
    how: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)  # HOW_KEYS, not identity

    @property
    def existing(self) -> Path | None:
        """A run directory listed by ``run = PATH``: measured, never trained."""
        return Path(self.options["run"]) if "run" in self.options else None

    def path_in(self, out: Path) -> Path:
        return self.existing or out / "runs" / self.directory

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.options, sort_keys=True).encode()).hexdigest()[:6]

    @property
    def directory(self) -> str:
        return self.existing.name if self.existing else f"{self.name}-{self.key}"

    @property
    def model(self) -> str:
        """The run's name without its seed: runs that differ only in seed share a model."""
        return self.name.rsplit("-s", 1)[0]

    @property
    def dataset(self) -> str:
        return str(self.options["dataset"])


def read_grid(path: str | os.PathLike[str]) -> list[RunSpec]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise LatentmapError(f"cannot read grid file {path}: {exc.strerror}") from exc
    try:
        grid = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LatentmapError(f"{path} is not valid TOML: {exc}") from exc
    return expand(grid, str(path))


def check_keys(table: dict[str, Any], where: str, how_allowed: bool = True) -> None:
    how = sorted(set(table) & set(HOW_KEYS))
    if how and not how_allowed:
        raise LatentmapError(
            f"{', '.join(how)} in {where} says how runs train, not what they are: set it in [common] or [[runs]]"
        )
    keys = grid_keys()
    unknown = sorted(set(table) - set(keys) - set(HOW_KEYS))
    if unknown:
        raise LatentmapError(
            f"unknown key(s) {', '.join(unknown)} in {where}: use training flag names "
            f"({', '.join(keys[:8])}, ...; see `latentmap train dense --help`)"
        )


def expand(grid: dict[str, Any], source: str = "the grid") -> list[RunSpec]:
    """Every run of a parsed grid file, validated (one line for the first bad one)."""
    extra = sorted(set(grid) - SECTIONS)
    if extra:
        raise LatentmapError(f"unknown section(s) {', '.join(extra)} in {source}: use [common], [grid], [[runs]]")
    common, axes, variants = grid.get("common", {}), grid.get("grid", {}), grid.get("runs", [{}]) or [{}]
    if not isinstance(common, dict) or not isinstance(axes, dict) or not isinstance(variants, list):
        raise LatentmapError(f"{source}: [common] and [grid] are tables, [[runs]] an array of tables")
    check_keys(common, f"[common] of {source}")
    check_keys(axes, f"[grid] of {source}", how_allowed=False)
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise LatentmapError(f"[grid] {key} in {source} must be a non-empty list, e.g. {key} = [{values!r}]")
    combos, listed = [], []
    for variant in variants:
        if isinstance(variant, dict) and "run" in variant:
            listed.append(existing_run(variant, source))
            continue
        check_keys(variant, f"[[runs]] of {source}")
        free = [k for k in axes if k not in variant]
        for values in itertools.product(*(axes[k] for k in free)):
            combos.append({**common, **dict(zip(free, values, strict=True)), **variant})
    how = [{k: combo.pop(k) for k in HOW_KEYS if k in combo} for combo in combos]
    specs = [validated(combo, source) for combo in combos]
    unique = {json.dumps(o, sort_keys=True): (o, h) for o, h in zip(specs, how, strict=True)}
    named = name_runs([o for o, _ in unique.values()])
    return [RunSpec(s.name, s.options, h) for s, (_, h) in zip(named, unique.values(), strict=True)] + listed


def existing_run(entry: dict[str, Any], source: str) -> RunSpec:
    """``[[runs]] run = "PATH"``: a run directory made elsewhere (its dataset and kind from
    its config.json), relative paths from where the sweep starts."""
    from ..train.run import read_config, run_dir_of

    if set(entry) != {"run"} or not isinstance(entry["run"], str):
        raise LatentmapError(f"[[runs]] run = PATH in {source} takes no other keys (got {', '.join(sorted(entry))})")
    directory = run_dir_of(entry["run"]).resolve()
    config = read_config(directory)
    options = {"run": str(directory), "dataset": str(config["dataset"]), "kind": str(config["model"].get("kind"))}
    return RunSpec(directory.name, {**options, "seed": 0})


def validated(combo: dict[str, Any], source: str) -> dict[str, Any]:
    """The run's flags (those that apply to its kind; dataset, kind and seed always), checked
    as `latentmap train` would check them."""
    run = {"kind": "dense", "dataset": "digits", "seed": 0, **combo}
    run = {k: v for k, v in run.items() if applies(k, str(run["kind"]))}
    try:
        options = with_kind_defaults(run)
    except TypeError as exc:
        raise LatentmapError(f"{source}: {exc}") from exc
    build_config(options, n_features=784)  # raises LatentmapError on a bad value
    return run


def name_runs(all_options: list[dict[str, Any]]) -> list[RunSpec]:
    """Readable names: dataset, kind, the settings that differ between runs of the sweep, seed."""
    keys = sorted({k for o in all_options for k in o} - {"dataset", "kind", "seed"})
    varying = [k for k in keys if len({json.dumps(o.get(k)) for o in all_options}) > 1]
    specs = []
    for options in all_options:
        dataset = Path(options["dataset"]).stem if str(options["dataset"]).endswith(".json") else options["dataset"]
        parts = [str(dataset), options["kind"], *(f"{k}={text(options[k])}" for k in varying if k in options)]
        specs.append(RunSpec("-".join([*parts, f"s{options['seed']}"]), options))
    return specs


def text(value: Any) -> str:
    if isinstance(value, list):
        return "x".join(text(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
