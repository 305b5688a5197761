"""The typeface model: one code per typeface, pooled from any few of its glyphs, and every
glyph of the typeface decoded from (code, character).

A batch is a stack of typefaces, (B, C, features): row c of a typeface is its glyph of
character c, NaN where the typeface has no such glyph. Each training step shows the encoder
k random glyphs of each typeface (k uniform in 1..max_shots) and asks the decoder for all
of them, so a code made from a handful of glyphs must carry the whole style. The encoder
sees each given glyph with its character, maps both to one vector and averages the vectors:
the code does not depend on the order of the given glyphs. With ``variational`` the pooled
vector gives a Gaussian posterior (mean, log-variance) and the loss adds the KL to N(0, I)
(the original VAE loss: mean pixel MSE + beta x mean KL).
"""

import torch
from torch import nn
from torch.nn import functional as F

from .common import ACTIVATIONS, Autoencoder, ModelConfig
from .family import Family, Flag, register
from .vae import kl_per_dim

CHAR_DIM = 32  # width of the learned character embeddings
# Glyphs a training step reconstructs per typeface (random among those it has): a step
# costs what its decodes cost, so 16 of 94 buys ~6x more optimiser steps for the same time.
TRAIN_TARGETS = 16


def present_glyphs(x: torch.Tensor) -> torch.Tensor:
    """(B, C, F) glyph stacks -> (B, C) bool: which glyphs exist (missing ones are NaN)."""
    return ~torch.isnan(x[..., 0])


def random_glyphs(present: torch.Tensor, k: torch.Tensor | int, generator: torch.Generator | None) -> torch.Tensor:
    """(B, C) bool: k random present glyphs per typeface (all of them where it has fewer)."""
    scores = torch.rand(present.shape, generator=generator, device=present.device).masked_fill(~present, 2.0)
    ranks = scores.argsort(dim=1).argsort(dim=1)
    return (ranks < k) & present


def random_shots(present: torch.Tensor, max_shots: int, generator: torch.Generator | None) -> torch.Tensor:
    """(B, C) bool: k present glyphs per typeface, k uniform in 1..max_shots (at most all of them)."""
    k = torch.randint(1, max_shots + 1, (len(present), 1), generator=generator, device=present.device)
    return random_glyphs(present, k, generator)


class TypefaceAutoencoder(Autoencoder):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        trunk, width = self.trunk_of()
        activation = ACTIVATIONS[config.activation]
        self.glyph_encoder = trunk
        self.encoder_chars = nn.Embedding(config.n_chars, CHAR_DIM)
        self.mix = nn.Sequential(nn.Linear(width + CHAR_DIM, width), activation())
        outputs = 2 * config.d_latent if config.variational else config.d_latent
        self.head = nn.Sequential(nn.Linear(width, width), activation(), nn.Linear(width, outputs))
        self.decoder_chars = nn.Embedding(config.n_chars, CHAR_DIM)

    def decoder_inputs(self) -> int:
        return self.config.d_latent + CHAR_DIM

    # ------------------------------------------------------------------ encoder

    def posterior(self, glyphs: torch.Tensor, chars: torch.Tensor, owner: torch.Tensor, n: int) -> torch.Tensor:
        """Given glyphs (G, F) of characters ``chars`` (G,) belonging to typefaces ``owner``
        (G,) in 0..n-1 -> (n, d) codes, or (n, 2d) mean and log-variance when variational."""
        vectors = self.mix(torch.cat([self.glyph_encoder(glyphs), self.encoder_chars(chars)], dim=1))
        sums = torch.zeros(n, vectors.shape[1], device=vectors.device, dtype=vectors.dtype).index_add(0, owner, vectors)
        counts = torch.zeros(n, device=vectors.device, dtype=vectors.dtype).index_add(
            0, owner, torch.ones_like(owner, dtype=vectors.dtype)
        )
        return self.head(sums / counts.clamp(min=1)[:, None])

    def posterior_of(self, x: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
        """Stacks (B, C, F) and which glyphs are given (B, C) -> the head's output (B, d or 2d)."""
        owner, chars = given.nonzero(as_tuple=True)
        return self.posterior(x[owner, chars], chars, owner, len(x))

    def encode(self, x: torch.Tensor, given: torch.Tensor | None = None) -> torch.Tensor:
        """The typeface code (the posterior mean when variational) from the given glyphs
        (default: every glyph present)."""
        out = self.posterior_of(x, present_glyphs(x) if given is None else given)
        return out[:, : self.config.d_latent]

    # ------------------------------------------------------------------ decoder

    def decode_glyphs(self, z: torch.Tensor, chars: torch.Tensor) -> torch.Tensor:
        """Codes (G, d) and characters (G,) -> glyph logits (G, F)."""
        return self.decoder(torch.cat([z, self.decoder_chars(chars)], dim=1))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (..., d) -> logits of every character's glyph (..., C, F)."""
        flat = z.reshape(-1, z.shape[-1])
        n, c = len(flat), self.config.n_chars
        chars = torch.arange(c, device=z.device).repeat(n)
        logits = self.decode_glyphs(flat.repeat_interleave(c, dim=0), chars)
        return logits.reshape(*z.shape[:-1], c, -1)

    # ------------------------------------------------------------------ training

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Codes from random shots; reconstructions (G, F) of the ``targets`` (B, C): in
        training TRAIN_TARGETS random glyphs per typeface, in evaluation every glyph it has."""
        present = present_glyphs(x)
        given = random_shots(present, self.config.max_shots, generator)
        targets = random_glyphs(present, TRAIN_TARGETS, generator) if self.training else present
        out = self.posterior_of(x, given)
        d = self.config.d_latent
        owner, chars = targets.nonzero(as_tuple=True)
        if not self.config.variational:
            recon = torch.sigmoid(self.decode_glyphs(out[owner], chars))
            return {"code": out, "recon": recon, "given": given, "targets": targets}
        mu, logvar = out[:, :d], out[:, d:]
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        recon = torch.sigmoid(self.decode_glyphs(z[owner], chars))
        return {"code": mu, "mu": mu, "logvar": logvar, "recon": recon, "given": given, "targets": targets}

    def loss(
        self, x: torch.Tensor, out: dict[str, torch.Tensor], beta: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean pixel MSE (or binary cross-entropy, ``likelihood`` bernoulli: sharper strokes)
        over the target glyphs (given or not), + beta x mean KL."""
        target = x[out["targets"]]
        if self.config.likelihood == "bernoulli":
            recon = F.binary_cross_entropy(out["recon"].clamp(1e-6, 1 - 1e-6), target)
        else:
            recon = torch.mean((out["recon"] - target) ** 2)
        if not self.config.variational:
            return recon, {"recon": recon}
        kl = kl_per_dim(out["mu"], out["logvar"]).mean()
        return recon + beta * kl, {"recon": recon, "kl": kl}


FAMILY = register(
    Family(
        "typeface",
        "Train a typeface model: one code per typeface, pooled from a few of its glyphs, and the whole "
        "alphabet decoded from it (TMNIST datasets and font sets).",
        TypefaceAutoencoder,
        layers=(512, 256),
        d_latent=32,
        batch_size=32,  # typefaces per batch, each a stack of glyphs
        flags=(
            Flag(
                "typeface_kind",
                "ae: a deterministic code per typeface; vae: a Gaussian posterior and a KL to N(0, I)",
                default="ae",
                choices=("ae", "vae"),
                aliases=("kind",),
            ),
            Flag("max_shots", "the encoder sees 1..max_shots glyphs per typeface", int, 8, positive=True),
            Flag("reg_lambda", "--kind vae: weight of the KL term (0.01)", float, None, aliases=("beta",)),
            Flag(
                "likelihood",
                "reconstruction loss per pixel: mse, or bernoulli (binary cross-entropy: sharper strokes)",
                default="mse",
                choices=("mse", "bernoulli"),
            ),
        ),
        rank=6,
    )
)
