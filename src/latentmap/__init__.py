"""latentmap: learn and explore latent representations of MNIST-style images."""

from .data import Dataset, load_dataset
from .errors import LatentmapError

__version__ = "0.1.0"

__all__ = ["Dataset", "LatentmapError", "__version__", "load_dataset"]
