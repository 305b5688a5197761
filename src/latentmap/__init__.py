"""latentmap: learn and explore latent representations of MNIST-style images."""

from typing import TYPE_CHECKING, Any

from .data import Dataset, load_dataset
from .errors import LatentmapError
from .version import __version__

if TYPE_CHECKING:
    from .embed import Embedding, load_embedding
    from .train import Run, load_run, wrap_model


__all__ = [
    "Dataset",
    "Embedding",
    "LatentmapError",
    "Run",
    "__version__",
    "explore",
    "load_dataset",
    "load_embedding",
    "load_run",
    "widget",
    "wrap_model",
]


def __getattr__(name: str) -> Any:
    # Lazy: the data layer and the CLI's data commands should not pay for importing torch.
    if name in ("load_run", "Run", "wrap_model"):
        from . import train

        return getattr(train, name)
    if name == "explore":  # the explorer served from Python: latentmap.explore(run or embedding) -> URL
        from .web.background import explore

        return explore
    if name == "widget":  # the explorer in a notebook cell (anywidget)
        from .web.widget import widget

        return widget
    if name in ("load_embedding", "Embedding"):
        from . import embed

        return getattr(embed, name)
    raise AttributeError(f"module 'latentmap' has no attribute '{name}'")
