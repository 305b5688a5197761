"""The explorer's experiments, one module each: its request models with their bounds, the
computation it asks of the space, its routes (``router``, an ``APIRouter``), the paths whose
answer is its grid (``GRIDS``) and, where the notebook widget's picks make a request by
themselves, ``from_picks(picks, target, b)``. ``EXPERIMENTS`` is the one table the app
includes and the widget reads (``w.result()``: the experiment's grid for the picks, else the
last grid the view showed)."""

import re
from types import ModuleType

from . import analogy, attribute, interpolation, morph, samples

EXPERIMENTS: dict[str, ModuleType] = {
    "interpolation": interpolation,
    "analogy": analogy,
    "morph": morph,
    "attribute": attribute,
    "samples": samples,
}


def grid_routes() -> re.Pattern[str]:
    """The request paths whose answer is an experiment's grid (``{space_id}``: any space)."""
    paths = [path for one in EXPERIMENTS.values() for path in one.GRIDS]
    pattern = "|".join(re.escape(path).replace(re.escape("{space_id}"), r"\d+") for path in paths)
    return re.compile(f"^(?:{pattern})$")
