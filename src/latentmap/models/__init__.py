"""Models: the autoencoders, one module per kind over shared building blocks, each an
``nn.Module`` with ``encode()``/``decode()`` and its loss. Reads a ``ModelConfig``; produces
networks that ``train`` fits and a run directory stores.
"""

import importlib
import pkgutil

from .common import Autoencoder, ModelConfig
from .family import FAMILIES, Family, register, trainable_kinds

# Every module here may declare a family: importing them all is what registers them, so a
# new family is one new file.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build_model(config: ModelConfig) -> Autoencoder:
    family = FAMILIES.get(config.kind)
    if family is None or not family.trainable:
        raise ValueError(f"no network for model kind '{config.kind}'")
    model: Autoencoder = family.model(config)
    return model


__all__ = ["FAMILIES", "Autoencoder", "Family", "ModelConfig", "build_model", "register", "trainable_kinds"]
