"""Models: the autoencoders, one module per kind over shared building blocks, each an
``nn.Module`` with ``encode()``/``decode()`` and its loss. Reads a ``ModelConfig``; produces
networks that ``train`` fits and a run directory stores.
"""

from .acai import AdversarialAutoencoder
from .common import Autoencoder, ModelConfig
from .dense import DenseAutoencoder
from .rae import RegularisedAutoencoder
from .sparse import SparseAutoencoder
from .typeface import TypefaceAutoencoder
from .vae import VariationalAutoencoder
from .wae import WassersteinAutoencoder

KINDS: dict[str, type[Autoencoder]] = {
    "dense": DenseAutoencoder,
    "sparse": SparseAutoencoder,
    "vae": VariationalAutoencoder,
    "rae": RegularisedAutoencoder,
    "wae": WassersteinAutoencoder,
    "acai": AdversarialAutoencoder,
    "typeface": TypefaceAutoencoder,
}


def build_model(config: ModelConfig) -> Autoencoder:
    return KINDS[config.kind](config)


__all__ = ["KINDS", "Autoencoder", "ModelConfig", "build_model"]
