"""The judge's networks: a small CNN (the judge every part uses) and a pixel MLP (a second
judge of another kind, so a verdict can be checked against a judge that sees images
differently). Both give class logits and a 128-unit feature layer (FID, precision/recall)."""

import torch
from torch import nn
from torch.nn import functional as F

FEATURES = 128


class JudgeNetwork(nn.Module):
    """What a judge's network offers: ``features(x)`` (N, 128) and ``out`` (features -> logits)."""

    out: nn.Linear
    dropout: nn.Dropout

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(self.features(x)))


class JudgeNet(JudgeNetwork):
    """Two conv blocks (16 and 32 channels) and a 128-unit feature layer: 99.3% on MNIST,
    90.8% on Fashion-MNIST, trained in about a minute on two cores, and small enough to
    judge a 110-image grid in ~7 ms (twice the channels cost 3x per request for +0.1%)."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.dropout = nn.Dropout(0.25)
        self.hidden = nn.Linear(32 * 7 * 7, FEATURES)
        self.out = nn.Linear(FEATURES, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.hidden(self.dropout(x.flatten(1))))


class PixelJudgeNet(JudgeNetwork):
    """Pixels through two dense layers (512, then the 128 features): no convolution, so it
    has no built-in sense of strokes and their positions; 98.4% on MNIST, trained in 26 s on two
    cores (tau 0.959 at the 5th percentile, where the CNN's is 0.988)."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.first = nn.Linear(28 * 28, 512)
        self.hidden = nn.Linear(512, FEATURES)
        self.dropout = nn.Dropout(0.25)
        self.out = nn.Linear(FEATURES, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.hidden(self.dropout(F.relu(self.first(x.flatten(1))))))


NETS: dict[str, type[JudgeNetwork]] = {"cnn": JudgeNet, "mlp": PixelJudgeNet}
