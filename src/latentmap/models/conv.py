"""Convolutional building blocks for 28x28 images: strided 4x4 convolutions with BatchNorm
and ReLU down to 7x7, then a linear layer to the code; the decoder mirrors them with
transposed convolutions. ``channels`` sets the widths, one per stride-2 block (two blocks
reach 7x7; more blocks keep 7x7 with stride-1 3x3 convolutions)."""

from torch import nn

SIDE = 28


def conv_trunk(channels: list[int]) -> tuple[nn.Sequential, int]:
    """Images (N, 784) -> features (N, width): returns the trunk and its output width."""
    layers: list[nn.Module] = [nn.Unflatten(1, (1, SIDE, SIDE))]
    size, previous = SIDE, 1
    for k, width in enumerate(channels):
        stride_two = k < 2  # 28 -> 14 -> 7, then 7 stays
        layers.append(nn.Conv2d(previous, width, 4 if stride_two else 3, 2 if stride_two else 1, 1))
        layers += [nn.BatchNorm2d(width), nn.ReLU()]
        size, previous = (size // 2 if stride_two else size), width
    layers.append(nn.Flatten())
    return nn.Sequential(*layers), previous * size * size


def conv_decoder(d_latent: int, channels: list[int]) -> nn.Sequential:
    """Codes (N, d) -> pixel logits (N, 784), mirroring :func:`conv_trunk`."""
    reversed_channels = list(reversed(channels))
    size = SIDE // 4 if len(channels) >= 2 else SIDE // 2
    layers: list[nn.Module] = [nn.Linear(d_latent, reversed_channels[0] * size * size)]
    layers += [nn.Unflatten(1, (reversed_channels[0], size, size)), nn.ReLU()]
    for k, width in enumerate(reversed_channels):
        upsample = k >= len(channels) - 2  # the last two blocks undo the two strides
        out = reversed_channels[k + 1] if k + 1 < len(channels) else 1
        if upsample:
            layers.append(nn.ConvTranspose2d(width, out, 4, 2, 1))
        else:
            layers.append(nn.Conv2d(width, out, 3, 1, 1))
        if out != 1:
            layers += [nn.BatchNorm2d(out), nn.ReLU()]
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)
