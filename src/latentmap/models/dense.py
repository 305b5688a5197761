"""Dense autoencoder: ReLU hidden layers, a linear code layer, MSE loss."""

import torch

from .common import Autoencoder, ModelConfig, mlp


class DenseAutoencoder(Autoencoder):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.encoder = mlp(
            [config.n_features, *config.layers, config.d_latent],
            config.activation,
            dropout_after=config.dropout_layer,
            dropout_rate=config.dropout_rate,
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)
