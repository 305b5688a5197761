"""latentmap: learn and explore latent representations of MNIST-style images."""

from typing import TYPE_CHECKING, Any

from .data import Dataset, load_dataset
from .errors import LatentmapError

if TYPE_CHECKING:
    from .embedding import Embedding, load_embedding
    from .runs import Run, load_run

__version__ = "0.1.0"

__all__ = ["Dataset", "Embedding", "LatentmapError", "Run", "__version__", "load_dataset", "load_embedding", "load_run"]


def __getattr__(name: str) -> Any:
    # Lazy: the data layer and the CLI's data commands should not pay for importing torch.
    if name in ("load_run", "Run"):
        from . import runs

        return getattr(runs, name)
    if name in ("load_embedding", "Embedding"):
        from . import embedding

        return getattr(embedding, name)
    raise AttributeError(f"module 'latentmap' has no attribute '{name}'")
