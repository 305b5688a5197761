"""Pieces shared by every autoencoder: the model config, MLP stacks, the base class."""

import itertools
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch
from torch import nn

from ..errors import LatentmapError
from .conv import conv_decoder, conv_trunk
from .family import FAMILIES, family_value

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU}


@dataclass
class ModelConfig:
    kind: str  # dense | sparse | vae | rae | wae | acai | typeface
    n_features: int  # 784 pixels, or the number of PCA features
    d_latent: int = 16
    layers: list[int] = field(default_factory=list)
    dec_layers: list[int] | None = None  # None: the encoder's layers reversed
    activation: str = "relu"
    dropout_layer: int | None = None
    dropout_rate: float = 0.5
    pixel_output: bool = True  # sigmoid outputs in [0, 1]; False in PCA space (linear)
    arch: str = "mlp"  # mlp | conv (strided 4x4 convolutions, 28x28 pixels only)
    channels: list[int] = field(default_factory=lambda: [16, 32])  # conv: widths of the blocks
    n_chars: int = 0  # typeface: characters of the charset (glyphs per typeface)
    variational: bool = False  # typeface: a Gaussian posterior and a KL to N(0, I)
    # The family's own hyper-parameters (its Flags: code_weight, likelihood, ...), read as
    # attributes (config.code_weight): checked against the family's flags, defaults filled in.
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sizes = [*self.layers, *(self.dec_layers or []), self.d_latent, self.n_features]
        if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise LatentmapError(f"layer sizes must be positive integers, got {sizes}")
        if self.dropout_layer is not None and not 0 <= self.dropout_layer < len(self.layers):
            raise LatentmapError(
                f"--dropout_layer {self.dropout_layer} is out of range: it indexes --layers "
                f"({len(self.layers)} encoding layers; the code layer never gets dropout)"
            )
        if not 0 <= self.dropout_rate < 1:
            raise LatentmapError(f"--dropout_rate must be in [0, 1), got {self.dropout_rate}")
        if self.activation not in ACTIVATIONS:
            raise LatentmapError(f"unknown activation '{self.activation}': use {', '.join(ACTIVATIONS)}")
        family = FAMILIES.get(self.kind)
        if family is not None and family.trainable:
            self.options = family.check_values(self.options)
        if self.likelihood == "bernoulli" and not self.pixel_output:
            raise LatentmapError("--likelihood bernoulli models pixels: it cannot be combined with --pca_dims")
        if self.arch not in ("mlp", "conv"):
            raise LatentmapError(f"unknown --arch '{self.arch}': use mlp or conv")
        if self.arch == "conv" and (not self.pixel_output or self.n_features != 784):
            raise LatentmapError("--arch conv works on 28x28 pixels: it cannot be combined with --pca_dims / --whiten")
        if self.arch == "conv" and not (self.channels and all(isinstance(c, int) and c > 0 for c in self.channels)):
            raise LatentmapError(f"--channels must be positive integers, got {self.channels}")
        if self.kind == "typeface" and (self.n_chars < 1 or self.max_shots < 1):
            raise LatentmapError(
                f"a typeface model needs characters and --max_shots >= 1, got {self.n_chars} and {self.max_shots}"
            )
        if self.kind == "typeface" and not self.pixel_output:
            raise LatentmapError("the typeface model works on pixels: it cannot be combined with --pca_dims / --whiten")

    @property
    def decoder_layers(self) -> list[int]:
        return list(reversed(self.layers)) if self.dec_layers is None else list(self.dec_layers)

    def __getattr__(self, name: str) -> Any:
        # Only for names that are no field: a family flag, from ``options`` or its default.
        if name.startswith("__") or name == "options":
            raise AttributeError(name)
        return family_value(self.options, name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> "ModelConfig":
        """A saved config; one written before the family mapping keeps its flags at the top."""
        known = {f.name for f in fields(cls)}
        flags = {k: v for k, v in saved.items() if k not in known}
        options = {**flags, **saved.get("options", {})}
        family = FAMILIES.get(str(saved.get("kind")))
        if family is not None:  # older configs saved every family's flags: keep the kind's own
            options = {k: v for k, v in options.items() if k in family.options}
        return cls(**{k: v for k, v in saved.items() if k in known and k != "options"}, options=options)


def mlp(
    sizes: list[int],
    activation: str,
    last_activation: bool = False,
    dropout_after: int | None = None,
    dropout_rate: float = 0.0,
) -> nn.Sequential:
    """Linear layers ``sizes[0] -> ... -> sizes[-1]`` with an activation after each hidden
    layer (and after the last one if ``last_activation``); dropout after hidden layer
    ``dropout_after`` (an index into ``sizes[1:-1]``)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or last_activation:
            layers.append(ACTIVATIONS[activation]())
            if i == dropout_after and dropout_rate > 0:
                layers.append(nn.Dropout(dropout_rate))
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Base class: ``encode`` gives the deterministic code, ``decode`` the reconstruction in
    feature space; ``forward`` returns what ``loss`` needs."""

    config: ModelConfig
    decoder: nn.Sequential

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        inputs = self.decoder_inputs()
        self.decoder = (
            conv_decoder(inputs, config.channels)
            if config.arch == "conv"
            else mlp([inputs, *config.decoder_layers, config.n_features], config.activation)
        )

    def decoder_inputs(self) -> int:
        """Width of what the decoder reads: the code (a typeface model adds the character)."""
        return self.config.d_latent

    def trunk_of(self) -> tuple[nn.Module, int]:
        """The encoder body, pixels or features -> hidden features, and their width."""
        config = self.config
        if config.arch == "conv":
            return conv_trunk(config.channels)
        body = mlp(
            [config.n_features, *config.layers],
            config.activation,
            last_activation=True,
            dropout_after=config.dropout_layer,
            dropout_rate=config.dropout_rate,
        )
        return body, config.layers[-1] if config.layers else config.n_features

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (..., d) -> logits (..., features): leading dimensions (importance samples x
        images) are flattened for the decoder, which a convolutional one needs."""
        if z.dim() == 2:
            return self.decoder(z)
        return self.decoder(z.reshape(-1, z.shape[-1])).reshape(*z.shape[:-1], -1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.decode_logits(z)
        return torch.sigmoid(out) if self.config.pixel_output else out

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        code = self.encode(x)
        return {"code": code, "recon": self.decode(code)}

    def loss(
        self, x: torch.Tensor, out: dict[str, torch.Tensor], beta: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        recon = torch.mean((out["recon"] - x) ** 2)
        return recon, {"recon": recon}
