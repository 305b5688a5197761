"""Adversarially constrained autoencoder interpolation (Berthelot et al. 2019, ACAI): a
critic sees the decode of ``alpha * z1 + (1 - alpha) * z2`` (alpha ~ U(0, 0.5), z2 the
batch reversed) and regresses alpha; the autoencoder is rewarded when the critic answers 0,
i.e. when its interpolants look like reconstructions. The critic also sees
``gamma * x + (1 - gamma) * recon(x)`` with target 0, so it cannot just spot blur.

The critic is an encoder-shaped network (``--arch``'s trunk, then one output) stored in the
model, so its weights live in the checkpoint and model.safetensors. Each term trains only
its own side: the autoencoder's adversarial term goes through the critic with its
parameters detached, and the critic's loss sees detached images. One backward pass and one
Adam over both then equal the paper's two optimizers (Adam is per-parameter), and
DistributedDataParallel needs nothing special.

Loss per batch: mean pixel MSE + ``adv_weight`` x mean critic(x_alpha)^2 (the autoencoder)
+ mean (critic(x_alpha) - alpha)^2 + mean critic(gamma x + (1 - gamma) recon)^2 (the critic).
"""

import torch
from torch import nn
from torch.func import functional_call

from .common import ModelConfig
from .dense import DenseAutoencoder
from .family import Family, Flag, register


class AdversarialAutoencoder(DenseAutoencoder):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        trunk, width = self.trunk_of()
        self.critic = nn.Sequential(trunk, nn.Linear(width, 1), nn.Flatten(0))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        out = super().forward(x, generator)
        code = out["code"]
        uniform = torch.rand((len(code), 1), generator=generator, device=code.device, dtype=code.dtype)
        alpha = 0.5 - (uniform - 0.5).abs()  # U(0, 0.5), as in the paper's code
        out["alpha"] = alpha[:, 0]
        out["mixed"] = self.decode(alpha * code + (1 - alpha) * code.flip(0))
        return out

    def frozen_critic(self, images: torch.Tensor) -> torch.Tensor:
        """The critic's answer with its parameters held fixed: gradients reach only the images."""
        detached = {name: p.detach() for name, p in self.critic.named_parameters()}
        return functional_call(self.critic, detached, (images,))

    def loss(
        self, x: torch.Tensor, out: dict[str, torch.Tensor], beta: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        gamma = self.config.critic_gamma
        recon = torch.mean((out["recon"] - x) ** 2)
        adversarial = torch.mean(self.frozen_critic(out["mixed"]) ** 2)
        blended = gamma * x + (1 - gamma) * out["recon"].detach()
        critic = torch.mean((self.critic(out["mixed"].detach()) - out["alpha"]) ** 2)
        critic = critic + torch.mean(self.critic(blended) ** 2)
        total = recon + self.config.adv_weight * adversarial + critic
        return total, {"recon": recon, "adversarial": adversarial, "critic": critic}


FAMILY = register(
    Family(
        "acai",
        "Train an adversarially constrained autoencoder (Berthelot et al. 2019): a critic that "
        "guesses the mixing weight of decoded interpolants teaches the decoder to make them look real.",
        AdversarialAutoencoder,
        flags=(
            Flag("adv_weight", "lambda: weight of the critic's answer on interpolants", float, 0.5, minimum=0),
            Flag(
                "critic_gamma", "the critic also sees gamma x + (1 - gamma) recon(x)", float, 0.2, minimum=0, maximum=1
            ),
        ),
        rank=5,
    )
)
