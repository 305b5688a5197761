"""Dense autoencoder: ReLU hidden layers (or convolutions), a linear code layer, MSE loss."""

import torch
from torch import nn

from .common import Autoencoder, ModelConfig, mlp
from .family import Family, register


class DenseAutoencoder(Autoencoder):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        if config.arch == "conv":
            trunk, width = self.trunk_of()
            self.encoder = nn.Sequential(trunk, nn.Linear(width, config.d_latent))
        else:
            self.encoder = mlp(
                [config.n_features, *config.layers, config.d_latent],
                config.activation,
                dropout_after=config.dropout_layer,
                dropout_rate=config.dropout_rate,
            )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


FAMILY = register(
    Family("dense", "Train a dense autoencoder (ReLU hidden layers, linear code, MSE loss).", DenseAutoencoder, rank=0)
)
