"""The model families that shape latent spaces (RAE, WAE, ACAI, beta-VAE), the conv architecture,
and the samplers every run offers: real training on small MNIST slices, losses checked
against hand computations."""

import numpy as np
import pytest
import torch

from latentmap.cli import main
from latentmap.errors import LatentmapError
from latentmap.models import ModelConfig, build_model
from latentmap.models.wae import SCALES, blockwise_mmd, mmd_imq
from latentmap.train import load_run
from latentmap.train.samplers import fit

QUICK = ["--epochs", "1", "--max_train", "600", "--batch_size", "100", "--d_latent", "6", "--no_plot"]


@pytest.fixture(scope="module")
def data(datasets_dir, session_cache):
    return ["--data-dir", str(datasets_dir), "--cache-dir", str(session_cache)]


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("kind", ["dense", "vae", "rae", "wae", "acai"])
def test_every_kind_and_arch_trains_reloads_and_samples(kind, arch, tmp_path, data, datasets_dir, session_cache):
    from latentmap import load_dataset

    out = tmp_path / f"{kind}-{arch}"
    extra = ["--channels", "8", "16"] if arch == "conv" else ["--layers", "32"]
    assert main(["train", kind, "--arch", arch, *extra, *QUICK, "--out", str(out), *data]) == 0
    run = load_run(out)
    assert run.kind == kind and run.model.config.arch == arch
    digits = load_dataset("digits", data_dir=datasets_dir, cache_dir=session_cache)
    images = digits.split("test").images[:20]
    codes = run.encode(images)
    assert codes.shape == (20, 6) and run.decode(codes).shape == (20, 28, 28)
    gmm = run.sample(16, "gmm", seed=1, dataset=digits)
    assert gmm.shape == (16, 28, 28) and gmm.min() >= 0 and gmm.max() <= 1
    assert (out / "samplers" / "gmm.npz").is_file()  # fitted once, kept in the run
    assert np.array_equal(run.sample(16, "gmm", seed=1), gmm)  # from the stored sampler, same draw
    if kind == "vae":  # the importance-weighted NLL decodes (samples x images) codes at once
        from latentmap.train.evaluate import binarize, importance_weighted_nll

        nll = importance_weighted_nll(run.model, binarize(images[:5]), 4)
        assert nll.shape == (5,) and bool(torch.isfinite(nll).all()) and bool((nll > 0).all())
    if kind in ("vae", "wae"):
        assert run.sample(4, "prior").shape == (4, 28, 28)
    else:
        with pytest.raises(LatentmapError, match=f"a {kind} run has no prior"):
            run.sample(4, "prior")


@pytest.mark.parametrize("kind", ["wae", "acai"])
def test_resume_of_a_conv_run_is_exact(kind, tmp_path, data):
    """Random prior draws (WAE), the critic and its Adam moments (ACAI) all resume exactly."""
    args = ["train", kind, "--arch", "conv", "--channels", "8", "16", *QUICK[2:], *data]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main([*args, "--epochs", "2", "--out", str(whole)]) == 0
    assert main([*args, "--epochs", "1", "--out", str(part)]) == 0
    assert main(["train", kind, "--resume", "--epochs", "2", "--out", str(part), *data]) == 0
    a, b = load_run(whole).model.state_dict(), load_run(part).model.state_dict()
    assert any(name.startswith("critic.") for name in a) == (kind == "acai")
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_mmd_with_the_imq_kernel_equals_a_hand_computation():
    z = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    p = torch.tensor([[0.5, 0.5], [-1.0, 0.0], [0.0, -2.0]])

    def k(a, b):
        c = 2.0 * 2  # 2 d, d = 2
        return sum(c * s / (c * s + float(((a - b) ** 2).sum())) for s in SCALES)

    n = 3
    within_z = sum(k(z[i], z[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    within_p = sum(k(p[i], p[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    across = sum(k(z[i], p[j]) for i in range(n) for j in range(n)) / n**2
    assert float(mmd_imq(z, p)) == pytest.approx(within_z + within_p - 2 * across, rel=1e-5)
    assert float(mmd_imq(z, z)) < float(mmd_imq(z, p))
    # Test losses over thousands of codes average estimates over blocks (a batch is one).
    big_z, big_p = torch.randn(1200, 2), torch.randn(1200, 2)
    blocks = [mmd_imq(big_z[s : s + 512], big_p[s : s + 512]) for s in (0, 512, 1024)]
    assert float(blockwise_mmd(big_z, big_p)) == pytest.approx(float(sum(blocks) / 3), rel=1e-6)
    assert float(blockwise_mmd(z, p)) == float(mmd_imq(z, p))


def test_rae_losses_equal_hand_computations():
    torch.manual_seed(0)
    config = ModelConfig(kind="rae", n_features=784, d_latent=3, options={"code_weight": 0.1, "decoder_weight": 0.01})
    model = build_model(config)
    x = torch.rand(4, 784)
    out = model(x)
    loss, terms = model.loss(x, out, beta=1.0)
    recon = ((out["recon"] - x) ** 2).sum(dim=1).mean()
    code = 0.5 * (out["code"] ** 2).sum(dim=1).mean()
    weights = model.decoder[0].weight  # a linear decoder: one weight matrix
    assert float(terms["recon"]) == pytest.approx(float(recon))
    assert float(terms["code"]) == pytest.approx(float(code))
    assert float(terms["decoder"]) == pytest.approx(float((weights**2).sum()))
    assert float(loss) == pytest.approx(float(recon + 0.1 * code + 0.01 * (weights**2).sum()), rel=1e-6)
    gp = build_model(ModelConfig(kind="rae", n_features=784, d_latent=3, options={"decoder_reg": "gp"}))
    z = torch.zeros(2, 3)  # sigmoid(W z + b): gradient sigmoid'(b) * W
    s = torch.sigmoid(gp.decoder[0].bias)
    jacobian = (s * (1 - s))[:, None] * gp.decoder[0].weight  # (784, 3)
    expected = (jacobian.sum(dim=0) ** 2).sum()  # grad of the summed outputs w.r.t. z
    assert float(gp.decoder_penalty(z)) == pytest.approx(float(expected), rel=1e-5)


def test_acai_critic_targets_and_gradients_equal_hand_computations():
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="acai", n_features=784, d_latent=3, layers=[8], options={"adv_weight": 0.5}))
    x = torch.rand(5, 784)
    out = model(x, generator=torch.Generator().manual_seed(1))
    alpha = out["alpha"]
    assert alpha.shape == (5,) and float(alpha.min()) >= 0 and float(alpha.max()) <= 0.5
    code = model.encode(x)
    mix = alpha[:, None] * code + (1 - alpha[:, None]) * code.flip(0)  # each code with the batch reversed
    torch.testing.assert_close(out["mixed"], model.decode(mix))
    loss, terms = model.loss(x, out, beta=1.0)
    critic = model.critic
    on_mix = critic(out["mixed"])
    blended = 0.2 * x + 0.8 * out["recon"]
    expected_critic = ((on_mix - alpha) ** 2).mean() + (critic(blended) ** 2).mean()
    assert float(terms["recon"]) == pytest.approx(float(((out["recon"] - x) ** 2).mean()), rel=1e-6)
    assert float(terms["adversarial"]) == pytest.approx(float((on_mix**2).mean()), rel=1e-6)
    assert float(terms["critic"]) == pytest.approx(float(expected_critic), rel=1e-6)
    assert float(loss) == pytest.approx(float(terms["recon"] + 0.5 * terms["adversarial"] + terms["critic"]), rel=1e-6)
    # Each side learns only from its own term: the adversarial term moves the autoencoder,
    # never the critic; the critic's loss moves the critic, never the autoencoder.
    critic_params = list(critic.parameters())
    ae_params = [p for n, p in model.named_parameters() if not n.startswith("critic.")]
    every = critic_params + ae_params
    adv_grads = torch.autograd.grad(terms["adversarial"], every, allow_unused=True, retain_graph=True)
    assert all(g is None or not g.any() for g in adv_grads[: len(critic_params)])
    assert any(g is not None and g.any() for g in adv_grads[len(critic_params) :])
    critic_grads = torch.autograd.grad(terms["critic"], every, allow_unused=True)
    assert all(g is not None for g in critic_grads[: len(critic_params)])
    assert all(g is None or not g.any() for g in critic_grads[len(critic_params) :])


def test_the_gmm_sampler_fits_held_out_codes_better_than_one_gaussian():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, size=(6, 5))
    codes = centres[rng.integers(6, size=6000)] + rng.normal(0, 0.5, size=(6000, 5))
    train, test = codes[:5000], codes[5000:]
    gaussian, gmm = fit("gaussian", train), fit("gmm", train)
    assert gmm.log_likelihood(test).mean() > gaussian.log_likelihood(test).mean() + 1.0
    from scipy.stats import multivariate_normal

    expected = multivariate_normal(gaussian.means[0], gaussian.covariances[0]).logpdf(test)
    np.testing.assert_allclose(gaussian.log_likelihood(test), expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dense", "--arch", "conv", "--pca_dims", "50"], "--arch conv works on 28x28 pixels"),
        (["rae", "--code_weight", "-1"], "--code_weight must not be negative"),
        (["wae", "--mmd_weight", "-0.5"], "--mmd_weight must not be negative"),
        (["rae", "--decoder_reg", "l1"], "invalid choice"),
        (["acai", "--adv_weight", "-1"], "--adv_weight must not be negative"),
        (["acai", "--critic_gamma", "1.5"], "--critic_gamma must be in [0, 1]"),
    ],
)
def test_bad_combinations_are_one_line_and_write_nothing(args, message, tmp_path, data, capsys):
    out = tmp_path / "run"
    try:
        code = main(["train", *args, "--out", str(out), *data])
    except SystemExit as exit:  # argparse's own refusal
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_beta_is_the_kl_weight_of_a_beta_vae(tmp_path, data):
    out = tmp_path / "beta"
    assert main(["train", "vae", "--likelihood", "bernoulli", "--beta", "4", *QUICK, "--out", str(out), *data]) == 0
    assert load_run(out).config["training"]["reg_lambda"] == 4.0


def test_a_fitted_sampler_is_keyed_by_the_data_too(tmp_path, datasets_dir, session_cache):
    """Fitted to one dataset, a sampler is not reused for another (same weights)."""
    from latentmap import load_dataset

    out = tmp_path / "dense"
    data = ["--data-dir", str(datasets_dir), "--cache-dir", str(session_cache)]
    assert main(["train", "dense", "--layers", "32", *QUICK, "--out", str(out), *data]) == 0
    run = load_run(out)
    digits = load_dataset("digits", data_dir=datasets_dir, cache_dir=session_cache)
    fashion = load_dataset("fashion", data_dir=datasets_dir, cache_dir=session_cache)
    on_digits = run.sampler("gmm", digits)
    on_fashion = run.sampler("gmm", fashion)
    assert not np.allclose(on_digits.means, on_fashion.means)  # refitted, not the digits one
    assert np.allclose(run.sampler("gmm", fashion).means, on_fashion.means)  # and kept for fashion


@pytest.fixture
def shrink_family():
    """A throwaway family, as a contributor adds one: a model module with one hyper-parameter
    declared once, by its Flag; registered for one test and forgotten after."""
    from latentmap.models import family as families
    from latentmap.models.dense import DenseAutoencoder

    class ShrinkingAutoencoder(DenseAutoencoder):
        def loss(self, x, out, beta):
            recon, terms = super().loss(x, out, beta)
            shrink = (out["code"] ** 2).sum(dim=1).mean()
            return recon + self.config.shrink * shrink, {**terms, "shrink": shrink}

    saved = dict(families.FAMILIES)
    flag = families.Flag("shrink", "weight of the squared code norm", float, 0.05, minimum=0)
    families.register(
        families.Family("shrinkae", "Train an AE whose codes shrink.", ShrinkingAutoencoder, flags=(flag,))
    )
    yield
    families.FAMILIES.clear()
    families.FAMILIES.update(saved)


def test_a_family_added_from_its_module_alone_reaches_help_checks_grids_runs_and_resume(
    shrink_family, tmp_path, data, capsys
):
    from latentmap.quality.grid import expand

    with pytest.raises(SystemExit):
        main(["train", "shrinkae", "--help"])
    assert "--shrink SHRINK" in capsys.readouterr().out
    assert main(["train", "shrinkae", "--shrink", "-1", *QUICK, "--out", str(tmp_path / "bad"), *data]) == 2
    assert "--shrink must not be negative, got -1" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    runs = expand({"grid": {"kind": ["shrinkae", "dense"], "shrink": [0.0, 0.5], "seed": [0]}})
    shrinking = [r for r in runs if r.options["kind"] == "shrinkae"]
    assert len(shrinking) == 2 and len(runs) == 3  # the dense AE has no --shrink: one run, not two
    out = tmp_path / "run"
    assert main(["train", "shrinkae", "--shrink", "0.5", "--layers", "32", *QUICK, "--out", str(out), *data]) == 0
    run = load_run(out)
    assert run.model.config.shrink == 0.5 and run.config["options"]["family"] == {"shrink": 0.5}
    assert main(["train", "shrinkae", "--resume", "--shrink", "0.1", "--out", str(out), *data]) == 2
    assert "--shrink cannot change" in capsys.readouterr().err
