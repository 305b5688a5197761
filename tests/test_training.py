import csv
import itertools
import json
import math

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

import latentmap
from latentmap.cli import main
from latentmap.errors import LatentmapError
from latentmap.train import TrainOptions, train
from latentmap.train.evaluate import binarize, elbo_terms, importance_weighted_nll
from latentmap.train.run import RunError, load_run

KINDS = {
    "dense": {},
    "sparse": {"d_latent": 64, "sparsity_lambda": 1e-3},
    "sparse-binary": {"d_latent": 64, "binary_codes": True},
    "vae": {"reg_lambda": 0.01},
    "vae-bernoulli": {"likelihood": "bernoulli", "dynamic_binarization": True, "beta_schedule": "linear"},
    "dense-pca": {"pca_dims": 50, "whiten": True},
}


def quick_options(out, name, data_opts, **extra):
    kind = name.split("-")[0]
    base = {"layers": [64], "d_latent": 8, "epochs": 3, "max_train": 3000, "batch_size": 128, "no_plot": True}
    return TrainOptions(kind=kind, out=str(out), **{**base, **KINDS.get(name, {}), **data_opts, **extra})


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_opts):
    root = tmp_path_factory.mktemp("runs")
    return {name: train(quick_options(root / name, name, data_opts), progress=False) for name in KINDS}


def history(run_dir):
    with open(run_dir / "history.csv") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", list(KINDS))
def test_losses_fall_for_every_kind(trained, name):
    rows = history(trained[name])
    assert len(rows) == 3
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    assert float(rows[-1]["test_loss"]) < float(rows[0]["test_loss"])
    assert {"epoch", "stage", "train_loss", "test_loss", "seconds"} <= rows[0].keys()
    assert ("beta" in rows[0]) == name.startswith("vae")  # the KL weight, a VAE's alone
    if name.startswith("vae"):
        assert all(float(r["train_kl"]) >= 0 for r in rows)


@pytest.mark.parametrize("name", list(KINDS))
def test_run_directory_and_figures(trained, name):
    run_dir = trained[name]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["dataset"] == "digits" and config["model"]["kind"] == name.split("-")[0]
    figures = {p.name for p in (run_dir / "figures").glob("*.png")}
    assert {"stage-1-loss.png", "stage-1-reconstruction.png", "stage-1-difference.png", "stage-1-latent.png"} <= figures
    if name.startswith("vae"):
        assert {"stage-1-prior-samples.png", "stage-1-kl.png"} <= figures
    if name.startswith("sparse"):
        assert {"stage-1-active-units.png", "stage-1-codes.png"} <= figures


@pytest.mark.parametrize("name", list(KINDS))
def test_save_load_round_trip(trained, name, data_opts):
    run = latentmap.load_run(trained[name])
    again = load_run(trained[name] / "model.safetensors")
    images = latentmap.load_dataset("digits", split="test", **data_opts).images[:64]
    codes = run.encode(images)
    assert codes.shape == (64, run.d_latent) and codes.dtype == np.float32
    np.testing.assert_array_equal(codes, again.encode(images))
    decoded = run.decode(codes)
    assert decoded.shape == (64, 28, 28) and decoded.dtype == np.float32
    assert decoded.min() >= 0 and decoded.max() <= 1
    np.testing.assert_array_equal(decoded, again.decode(codes))
    # the in-memory state at the end of training is what was saved
    checkpoint = torch.load(trained[name] / "checkpoint" / "state.pt", weights_only=True)
    for key, value in checkpoint["model"].items():
        assert torch.equal(run.model.state_dict()[key], value)
    if name == "sparse-binary":
        assert set(np.unique(codes)) <= {0.0, 1.0}
    if name == "dense-pca":
        assert run.preprocessor.n_features == 50


def test_subnormals_are_flushed_only_while_training(tmp_path, data_opts):
    # Flushing is CPU state of the thread: on while a run trains (an RAE epoch 9x faster late
    # in training, bench/bench_training.py), never left behind for the caller's code.
    from latentmap.cores import flushed_subnormals, flushing

    before = flushing()  # off in a plain process; whatever it is, training leaves it so
    seen: list[bool] = []
    train(
        quick_options(tmp_path / "run", "dense", data_opts, epochs=1),
        progress=False,
        on_epoch_end=lambda _: seen.append(flushing()),
    )
    assert seen == [True] and flushing() == before
    with flushed_subnormals():
        with flushed_subnormals():
            assert flushing()
        assert flushing()  # an inner block restores what it found
    assert flushing() == before


def test_resume_reproduces_an_uninterrupted_run(tmp_path, data_opts):
    # With the cosine learning-rate schedule: the rate is a function of progress, so the
    # resumed run continues the curve where the interrupted one left it.
    cosine = {"stages": 2, "epochs": 2, "lr_schedule": "cosine"}
    whole = train(quick_options(tmp_path / "whole", "vae", data_opts, **cosine), progress=False)

    def interrupt(epoch):
        if epoch == 3:
            raise KeyboardInterrupt

    partial = quick_options(tmp_path / "partial", "vae", data_opts, **cosine)
    with pytest.raises(KeyboardInterrupt):
        train(partial, progress=False, on_epoch_end=interrupt)
    assert len(history(tmp_path / "partial")) == 3
    load_run(tmp_path / "partial")  # usable weights after Ctrl-C
    resumed = TrainOptions(kind="vae", out=str(tmp_path / "partial"), resume=True, no_plot=True, **data_opts)
    train(resumed, progress=False)
    a, b = load_file(whole / "model.safetensors"), load_file(tmp_path / "partial" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert [r["train_loss"] for r in history(whole)] == [r["train_loss"] for r in history(tmp_path / "partial")]
    assert {"stage-1-loss.png", "stage-2-loss.png"} <= {p.name for p in (whole / "figures").iterdir()}
    constant = train(quick_options(tmp_path / "constant", "vae", data_opts, stages=2, epochs=2), progress=False)
    assert history(constant)[-1]["train_loss"] != history(whole)[-1]["train_loss"]  # the schedule acts


def test_cosine_learning_rate_falls_from_the_rate_to_zero():
    from latentmap.train.schedules import learn_rate_factor

    factors = [learn_rate_factor("cosine", p) for p in np.linspace(0, 1, 11)]
    assert factors[0] == 1.0 and factors[-1] == pytest.approx(0.0, abs=1e-12)
    assert factors[5] == pytest.approx(0.5) and all(a > b for a, b in itertools.pairwise(factors))
    assert learn_rate_factor("constant", 0.9) == 1.0


def test_importance_weighted_bound(trained, data_opts):
    run = load_run(trained["vae-bernoulli"])
    images = latentmap.load_dataset("digits", split="test", **data_opts).images[:200]
    x = binarize(images)
    elbo = elbo_terms(run.model, x)
    # k = 1 is the ELBO: average many single-sample estimates
    k1 = torch.stack([importance_weighted_nll(run.model, x, 1, seed=s) for s in range(30)]).mean()
    analytic = elbo_terms(run.model, x)["kl"] + np.mean(
        [elbo_terms(run.model, x, seed=s)["reconstruction"] for s in range(30)]
    )
    assert float(k1) == pytest.approx(analytic, rel=0.02)
    assert math.isfinite(elbo["negative_elbo"])
    k50 = float(importance_weighted_nll(run.model, x, 50, sample_chunk=16).mean())
    k500 = float(importance_weighted_nll(run.model, x, 500, sample_chunk=128).mean())
    assert k500 < k50 < float(k1)


def test_evaluate_command(trained, data_opts, capsys, monkeypatch):
    from latentmap.quality import judge

    monkeypatch.setattr(judge, "SETTINGS", {**judge.SETTINGS, "epochs": 1, "max_train": 3000})  # a quick judge
    run_dir = trained["vae-bernoulli"]
    args = [
        "evaluate",
        str(run_dir),
        "--nll_samples",
        "20",
        "--pairs",
        "50",
        "--data-dir",
        data_opts["data_dir"],
        "--cache-dir",
        data_opts["cache_dir"],
    ]
    assert main(args) == 0
    result = json.loads((run_dir / "evaluation.json").read_text())
    assert set(result["mse_per_class"]) == {str(d) for d in range(10)}
    assert result["nll"]["nats"] > 0 and 0 <= result["active_units"] <= 8
    quality = result["latent_quality"]
    assert quality["sizes"]["pairs"] == 50 and 0 <= quality["metrics"]["interpolation_validity"] <= 1
    assert "importance-weighted NLL" in capsys.readouterr().out


# --------------------------------------------------------------------------- bad input


def test_existing_run_is_not_overwritten(trained, data_opts):
    run_dir = trained["dense"]
    before = (run_dir / "model.safetensors").read_bytes()
    with pytest.raises(LatentmapError, match="already holds a run"):
        train(quick_options(run_dir, "dense", data_opts), progress=False)
    assert (run_dir / "model.safetensors").read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"dataset": "nope"}, "unknown dataset"),
        ({"pca_dims": 5000}, "larger than the data allows"),
        ({"dropout_layer": 1}, "out of range"),
        ({"epochs": 0}, "at least 1"),
        ({"lr_schedule": "step"}, "unknown --lr_schedule"),
        ({"kind": "vae", "dynamic_binarization": True}, "goes with --likelihood bernoulli"),
    ],
)
def test_bad_options_write_nothing(tmp_path, data_opts, extra, message):
    kind = extra.pop("kind", "dense")
    with pytest.raises(LatentmapError, match=message):
        train(quick_options(tmp_path / "out", kind, data_opts, **extra), progress=False)
    assert not (tmp_path / "out").exists()


def test_a_malformed_thread_count_writes_nothing(tmp_path, data_opts, monkeypatch):
    monkeypatch.setenv("LATENTMAP_THREADS", "two")
    with pytest.raises(LatentmapError, match="LATENTMAP_THREADS must be a positive whole number"):
        train(quick_options(tmp_path / "out", "dense", data_opts), progress=False)
    assert not (tmp_path / "out").exists()


def test_unwritable_output_directory(tmp_path, data_opts):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LatentmapError, match="cannot create directory"):
        train(quick_options(blocker / "run", "dense", data_opts), progress=False)


def test_weights_that_do_not_match_the_config(trained, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained["dense"], copy)
    config = json.loads((copy / "config.json").read_text())
    config["model"]["d_latent"] = 9
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunError, match="does not match its config"):
        load_run(copy)
    (copy / "model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(RunError, match="corrupt"):
        load_run(copy)
    (copy / "config.json").write_text("{not json")
    with pytest.raises(RunError, match="not JSON"):
        load_run(copy)
    with pytest.raises(RunError, match="not a run"):
        load_run(tmp_path)
