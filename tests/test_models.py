import numpy as np
import pytest
import torch

from latentmap.errors import LatentmapError
from latentmap.models import ModelConfig, build_model
from latentmap.models.sparse import binary_step
from latentmap.models.vae import kl_per_dim
from latentmap.train.schedules import BetaSchedule


def test_kl_is_non_negative_and_zero_at_the_prior():
    mu, logvar = torch.randn(500, 8) * 3, torch.randn(500, 8) * 2
    assert (kl_per_dim(mu, logvar) >= 0).all()
    assert torch.allclose(kl_per_dim(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3, 4))


def test_straight_through_binary_codes():
    h = torch.linspace(-2, 2, 41, requires_grad=True)
    codes = binary_step(h)
    assert set(codes.detach().unique().tolist()) == {0.0, 1.0}
    codes.sum().backward()
    expected = (h.detach().abs() <= 1).float()  # gradient of the clipped identity
    assert torch.equal(h.grad, expected)


def test_sparse_binary_model_codes_are_exactly_binary():
    model = build_model(
        ModelConfig(kind="sparse", n_features=784, d_latent=64, layers=[32], options={"binary_codes": True})
    )
    codes = model.encode(torch.rand(50, 784))
    assert set(codes.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("kind", ["dense", "sparse", "vae"])
def test_shapes_and_dropout_placement(kind):
    config = ModelConfig(kind=kind, n_features=784, d_latent=7, layers=[40, 20], dropout_layer=1)
    model = build_model(config)
    x = torch.rand(5, 784)
    assert model.encode(x).shape == (5, 7)
    assert model.decode(model.encode(x)).shape == (5, 784)
    assert model.decode(model.encode(x)).min() >= 0 and model.decode(model.encode(x)).max() <= 1
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(dropouts) == 1


def test_decoder_defaults_to_the_reversed_encoder():
    model = build_model(ModelConfig(kind="dense", n_features=784, d_latent=8, layers=[100, 50]))
    sizes = [m.out_features for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert sizes == [50, 100, 784]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": [10, 0]}, "positive integers"),
        ({"layers": [10], "dropout_layer": 1}, "out of range"),
        ({"layers": [], "dropout_layer": 0}, "out of range"),
        ({"dropout_rate": 1.0}, "dropout_rate"),
        ({"options": {"likelihood": "poisson"}}, "likelihood"),
        ({"options": {"likelihood": "bernoulli"}, "pixel_output": False}, "--pca_dims"),
        ({"options": {"code_weight": 0.1}}, "has no code_weight: --code_weight belongs to rae"),
    ],
)
def test_bad_model_configs(kwargs, message):
    with pytest.raises(LatentmapError, match=message):
        ModelConfig(kind="vae", n_features=784, **kwargs)


def test_beta_schedules():
    assert BetaSchedule("constant", high=0.3)(0.7) == 0.3
    linear = BetaSchedule("linear", low=0.0, high=1.0, warmup=0.5)
    assert [linear(p) for p in (0, 0.25, 0.5, 0.9)] == [0, 0.5, 1, 1]
    cyc = BetaSchedule("cyclical", low=0.1, high=1.0, cycles=2, lead=0.2, ramp=0.5)
    assert cyc(0.1) == pytest.approx(0.1)  # lead-in held low
    assert cyc(0.2) == pytest.approx(0.1)  # cycle 1 starts low
    assert cyc(0.2 + 0.4 * 0.25) == pytest.approx(0.55)  # half-way up the ramp
    assert cyc(0.2 + 0.4 * 0.75) == pytest.approx(1.0)  # held high for the rest of the cycle
    assert cyc(0.6 + 1e-9) == pytest.approx(0.1, abs=1e-6)  # cycle 2 restarts low
    x, y = cyc.curve(101)
    assert len(x) == len(y) == 101 and np.isclose(y.max(), 1.0)
    with pytest.raises(LatentmapError):
        BetaSchedule("exponential")
