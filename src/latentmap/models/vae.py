"""Variational autoencoder: Gaussian encoder (mean, log-variance), reparameterisation,
KL to N(0, I).

Losses: ``mse`` (the original tool's): mean pixel MSE + beta x KL averaged over batch and
latent dimensions; ``bernoulli``: the negative ELBO in nats per image (Bernoulli pixels,
summed over pixels, KL summed over latent dimensions) with beta as the KL weight.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .common import Autoencoder, ModelConfig
from .family import Family, Flag, register


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) for each sample and dimension, in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


class VariationalAutoencoder(Autoencoder):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.trunk, width = self.trunk_of()
        self.mu = nn.Linear(width, config.d_latent)
        self.logvar = nn.Linear(width, config.d_latent)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.mu(h), self.logvar(h)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean: the deterministic code used for maps and arithmetic."""
        return self.posterior(x)[0]

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.posterior(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        return {"code": mu, "mu": mu, "logvar": logvar, "z": z, "logits": self.decode_logits(z)}

    def reconstruction_nats(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per image for Bernoulli pixels."""
        return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)

    def loss(
        self, x: torch.Tensor, out: dict[str, torch.Tensor], beta: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        kl = kl_per_dim(out["mu"], out["logvar"])
        if self.config.likelihood == "bernoulli":
            recon = self.reconstruction_nats(x, out["logits"]).mean()
            kl_term = kl.sum(dim=1).mean()
        else:
            prediction = torch.sigmoid(out["logits"]) if self.config.pixel_output else out["logits"]
            recon = torch.mean((prediction - x) ** 2)
            kl_term = kl.mean()
        return recon + beta * kl_term, {"recon": recon, "kl": kl_term}

    def log_weights(self, x: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """log p(x, z_i) - log q(z_i | x) for k posterior samples: (k, N) importance weights
        for Bernoulli pixels (decoder outputs read as pixel probabilities)."""
        mu, logvar = self.posterior(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + std * eps
        log_q = (-0.5 * eps.pow(2) - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_prior = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)
        logits = self.decode_logits(z)
        if self.config.likelihood != "bernoulli":  # MSE-trained: outputs are pixel means
            p = torch.sigmoid(logits).clamp(1e-6, 1 - 1e-6)
            logits = torch.log(p) - torch.log1p(-p)
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        return log_px + log_prior - log_q


SCHEDULE = "KL weight schedule"
SCHEDULE_FLAGS = (
    Flag(
        "beta_schedule",
        "constant, linear warm-up, or cyclical annealing (Fu et al. 2019)",
        default="constant",
        choices=("constant", "linear", "cyclical"),
        group=SCHEDULE,
    ),
    Flag("beta_low", "low KL weight of the warm-up / cycles", float, 0.0, group=SCHEDULE),
    Flag("beta_high", "high KL weight (default: --reg_lambda)", float, None, group=SCHEDULE),
    Flag("warmup", "linear: fraction of training spent warming up", float, 0.25, group=SCHEDULE),
    Flag("cycles", "cyclical: number of cycles", int, 4, group=SCHEDULE),
    Flag("cycle_lead", "cyclical: lead-in fraction held at the low value", float, 0.0, group=SCHEDULE),
    Flag("cycle_ramp", "cyclical: fraction of each cycle spent ramping up", float, 0.5, group=SCHEDULE),
)

FAMILY = register(
    Family(
        "vae",
        "Train a variational autoencoder (Gaussian encoder, KL to N(0, I), KL weight schedules).",
        VariationalAutoencoder,
        layers=(64,),
        flags=(
            Flag(
                "reg_lambda",
                "weight of the KL term; --beta is the same flag (a beta-VAE: --likelihood bernoulli --beta 4) "
                "(default 0.01 with --likelihood mse, 1 with bernoulli)",
                float,
                None,
                aliases=("beta",),
            ),
            Flag(
                "likelihood",
                "mse: the original loss (mean pixel MSE + reg_lambda x mean KL); bernoulli: the ELBO on binary data",
                default="mse",
                choices=("mse", "bernoulli"),
            ),
            Flag("dynamic_binarization", "with bernoulli: resample binary pixels every batch", switch=True),
            *SCHEDULE_FLAGS,
        ),
        has_prior=True,
        rank=2,
    )
)
