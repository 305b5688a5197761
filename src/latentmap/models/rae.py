"""Regularised autoencoder (Ghosh et al. 2020, "From variational to deterministic
autoencoders"): a deterministic autoencoder whose codes are kept small and whose decoder is
kept smooth, sampled after training from a density fitted to its codes (``gmm``).

Loss per image: summed squared error + ``code_weight`` x 0.5 ||z||^2 + ``decoder_weight`` x
the decoder regulariser: ``l2``, the squared L2 norm of the decoder's weights, or ``gp``,
the squared norm of the decoder's gradient with respect to the code.
"""

import torch

from .dense import DenseAutoencoder
from .family import Family, Flag, register


def summed_squared_error(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error summed over pixels, averaged over the batch (the papers' scale)."""
    return ((recon - x) ** 2).sum(dim=1).mean()


class RegularisedAutoencoder(DenseAutoencoder):
    def decoder_penalty(self, code: torch.Tensor) -> torch.Tensor:
        if self.config.decoder_reg == "l2":
            return sum((p**2).sum() for name, p in self.decoder.named_parameters() if name.endswith("weight"))  # type: ignore[return-value]
        training = torch.is_grad_enabled()
        with torch.enable_grad():  # also when measured under no_grad (test losses)
            z = code.detach().requires_grad_(True)
            out = self.decode(z)
            (gradient,) = torch.autograd.grad(out, z, torch.ones_like(out), create_graph=training)
        return (gradient**2).sum(dim=1).mean()

    def loss(
        self, x: torch.Tensor, out: dict[str, torch.Tensor], beta: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        recon = summed_squared_error(out["recon"], x)
        code = 0.5 * (out["code"] ** 2).sum(dim=1).mean()
        decoder = self.decoder_penalty(out["code"])
        total = recon + self.config.code_weight * code + self.config.decoder_weight * decoder
        return total, {"recon": recon, "code": code, "decoder": decoder}


FAMILY = register(
    Family(
        "rae",
        "Train a regularised autoencoder (Ghosh et al. 2020): code penalty and a smooth decoder, "
        "sampled from a density fitted to its codes.",
        RegularisedAutoencoder,
        flags=(
            Flag("code_weight", "beta of the 0.5 ||z||^2 code penalty", float, 1e-2, minimum=0),
            Flag("decoder_reg", "l2: decoder weights; gp: gradient penalty", default="l2", choices=("l2", "gp")),
            Flag("decoder_weight", "weight of the decoder regulariser", float, 1e-4, minimum=0),
        ),
        rank=3,
    )
)
