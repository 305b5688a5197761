"""Sparse autoencoder: many code units with an L1 activity penalty; optionally binary
codes (a Heaviside step whose gradient passes straight through, clipped to |h| <= 1)."""

import torch

from .dense import DenseAutoencoder
from .family import Family, Flag, register


def binary_step(h: torch.Tensor) -> torch.Tensor:
    """Exactly 0/1 forward; the gradient of clamp(h, -1, 1) backward."""
    clipped = h.clamp(-1.0, 1.0)
    return (h > 0).to(h.dtype) + (clipped - clipped.detach())


class SparseAutoencoder(DenseAutoencoder):
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        return binary_step(h) if self.config.binary_codes else torch.relu(h)

    def loss(
        self, x: torch.Tensor, out: dict[str, torch.Tensor], beta: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        recon = torch.mean((out["recon"] - x) ** 2)
        l1 = out["code"].abs().sum(dim=1).mean()
        return recon + self.config.sparsity_lambda * l1, {"recon": recon, "l1": l1}


FAMILY = register(
    Family(
        "sparse",
        "Train a sparse autoencoder (many code units, L1 activity penalty, optional binary codes).",
        SparseAutoencoder,
        layers=(256,),
        d_latent=128,
        flags=(
            Flag("sparsity_lambda", "weight of the L1 activity penalty on the code", float, 1e-3, minimum=0),
            Flag("binary_codes", "binary codes: Heaviside step, straight-through gradient", switch=True),
        ),
        rank=1,
    )
)
