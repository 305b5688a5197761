"""Wasserstein autoencoder, MMD variant (Tolstikhin et al. 2018): a deterministic
autoencoder whose code distribution is pulled to the prior N(0, I) by the maximum mean
discrepancy between a batch of codes and as many prior draws, with the inverse
multiquadratic kernel k(x, y) = C / (C + ||x - y||^2), C = 2 d s over scales s.

Loss per image: summed squared error + ``mmd_weight`` x MMD^2 (unbiased estimate).
"""

import torch

from .dense import DenseAutoencoder
from .family import Family, Flag, register
from .rae import summed_squared_error

SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
MMD_BLOCK = 512  # codes per MMD estimate (a training batch is one)


def imq_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Sum over SCALES of C / (C + ||a_i - b_j||^2), C = 2 d s: (n, m)."""
    squared = torch.cdist(a, b) ** 2
    base = 2.0 * a.shape[1]
    return sum(base * s / (base * s + squared) for s in SCALES)  # type: ignore[return-value]


def mmd_imq(z: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD^2 between codes and prior samples (same count n >= 2)."""
    n = len(z)
    off_diagonal = 1.0 - torch.eye(n, device=z.device, dtype=z.dtype)
    within_z = (imq_kernel(z, z) * off_diagonal).sum() / (n * (n - 1))
    within_prior = (imq_kernel(prior, prior) * off_diagonal).sum() / (n * (n - 1))
    across = imq_kernel(z, prior).mean()
    return within_z + within_prior - 2 * across


def blockwise_mmd(z: torch.Tensor, prior: torch.Tensor, block: int = MMD_BLOCK) -> torch.Tensor:
    """The mean of :func:`mmd_imq` over blocks of ``block`` codes: the same expectation as
    one big estimate (each is unbiased) at a fraction of the n^2 kernel work, which matters
    for test losses over thousands of codes. A batch up to ``block`` is one estimate."""
    if len(z) <= block:
        return mmd_imq(z, prior)
    blocks = [(z[s : s + block], prior[s : s + block]) for s in range(0, len(z), block)]
    return torch.stack([mmd_imq(a, b) for a, b in blocks if len(a) > 1]).mean()  # one code has no pairs


class WassersteinAutoencoder(DenseAutoencoder):
    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        out = super().forward(x, generator)
        code = out["code"]
        out["prior"] = torch.randn(code.shape, generator=generator, device=code.device, dtype=code.dtype)
        return out

    def loss(
        self, x: torch.Tensor, out: dict[str, torch.Tensor], beta: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        recon = summed_squared_error(out["recon"], x)
        mmd = blockwise_mmd(out["code"], out["prior"]) if len(x) > 1 else out["code"].sum() * 0
        return recon + self.config.mmd_weight * mmd, {"recon": recon, "mmd": mmd}


FAMILY = register(
    Family(
        "wae",
        "Train a Wasserstein autoencoder (Tolstikhin et al. 2018): codes pulled to N(0, I) by an MMD penalty.",
        WassersteinAutoencoder,
        flags=(Flag("mmd_weight", "weight of the MMD to N(0, I) (IMQ kernel)", float, 10.0, minimum=0),),
        has_prior=True,
        rank=4,
    )
)
