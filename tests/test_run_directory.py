"""Training runs under misuse: --overwrite, hard stops, --resume with new flags, dropout,
stale temporary files, file modes, weights an embedding was not made from, evaluation on
the run's own input distribution."""

import json
import os
import stat
import warnings

import numpy as np
import pytest
from safetensors.numpy import load_file

from latentmap import atomic, load_dataset
from latentmap.cli import main
from latentmap.embed import EmbeddingError, EmbedJob, embed_run
from latentmap.errors import LatentmapWarning
from latentmap.spaces import LatentSpace
from latentmap.train import TrainOptions, train
from latentmap.train.evaluate import evaluate
from latentmap.train.run import checkpoint_epoch, load_run, weights_epoch
from tests.test_training import history, quick_options


def stop_at(epoch, exception=KeyboardInterrupt):
    def hook(done):
        if done == epoch:
            raise exception

    return hook


def same_weights(a, b):
    a, b = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_overwrite_starts_from_an_empty_run_directory(tmp_path, data_opts):
    out = tmp_path / "run"
    train(quick_options(out, "dense", data_opts, stages=1), progress=False)
    (out / "evaluation.json").write_text("{}")
    assert (out / "figures").is_dir()
    replacement = quick_options(out, "dense", data_opts, d_latent=5, epochs=2, overwrite=True)
    with pytest.raises(KeyboardInterrupt):  # stopped after the first epoch of the new run
        train(replacement, progress=False, on_epoch_end=stop_at(1))
    assert not (out / "evaluation.json").exists() and not (out / "figures").exists()
    assert len(history(out)) == 1 and load_run(out).d_latent == 5
    assert not list(tmp_path.glob(".run.replaced-*"))  # the old run is gone once the new one checkpointed


def test_overwrite_moves_the_old_run_aside_in_one_rename(tmp_path, data_opts):
    from latentmap.train.run import prepare_run_dir

    out = tmp_path / "run"
    train(quick_options(out, "dense", data_opts, epochs=1), progress=False)
    before = sorted(p.name for p in out.iterdir())
    aside = prepare_run_dir(out, overwrite=True)  # as a new run starts, before its first checkpoint
    assert aside is not None and sorted(p.name for p in aside.iterdir()) == before  # nothing lost yet
    assert out.is_dir() and not list(out.iterdir())
    # A run killed before its first checkpoint leaves its aside folder: the next one removes it.
    stale = aside.rename(tmp_path / ".run.replaced-999999999-1")
    (out / "config.json").write_text("{}")
    prepare_run_dir(out, overwrite=True)
    assert not stale.exists()


def test_resume_is_exact_with_dropout(tmp_path, data_opts):
    extra = {"dropout_layer": 0, "dropout_rate": 0.3, "epochs": 2, "stages": 2}
    whole = train(quick_options(tmp_path / "whole", "dense", data_opts, **extra), progress=False)
    partial = quick_options(tmp_path / "partial", "dense", data_opts, **extra)
    with pytest.raises(KeyboardInterrupt):
        train(partial, progress=False, on_epoch_end=stop_at(3))
    train(TrainOptions(out=str(tmp_path / "partial"), resume=True, no_plot=True, **data_opts), progress=False)
    assert same_weights(whole, tmp_path / "partial")


def test_resume_extends_with_epochs_and_refuses_other_flags(tmp_path, data_opts, capsys):
    out = tmp_path / "run"
    train(quick_options(out, "dense", data_opts, epochs=2), progress=False)
    data = ["--data-dir", data_opts["data_dir"], "--cache-dir", data_opts["cache_dir"]]
    assert main(["train", "dense", "--resume", "--out", str(out), "--layers", "32", "--no_plot", *data]) == 2
    err = capsys.readouterr().err
    assert "--layers cannot change" in err and len(err.strip().splitlines()) == 1
    assert main(["train", "dense", "--resume", "--out", str(out), "--epochs", "4", "--no_plot", *data]) == 0
    assert len(history(out)) == 4 and json.loads((out / "config.json").read_text())["training"]["epochs"] == 4
    assert weights_epoch(out) == 4


def test_hard_stop_leaves_stale_weights_that_resume_fixes(tmp_path, data_opts):
    out = tmp_path / "run"
    # A crash (not Ctrl-C) after epoch 3 of a 4-epoch stage: the checkpoint has epoch 3,
    # the weights are still those of nothing (stage 1 ended at 2).
    with pytest.raises(RuntimeError):
        train(
            quick_options(out, "dense", data_opts, epochs=2, stages=2),
            progress=False,
            on_epoch_end=stop_at(3, RuntimeError),
        )
    assert checkpoint_epoch(out) == 3 and weights_epoch(out) == 2
    with pytest.warns(LatentmapWarning, match="checkpoint \\(epoch 3\\) is newer"):
        load_run(out)
    train(TrainOptions(out=str(out), resume=True, no_plot=True, **data_opts), progress=False)
    assert weights_epoch(out) == checkpoint_epoch(out) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_run(out)


@pytest.mark.parametrize("value", ["0", "-5"])
def test_max_train_must_be_positive(tmp_path, data_opts, capsys, value):
    data = ["--data-dir", data_opts["data_dir"], "--cache-dir", data_opts["cache_dir"]]
    out = tmp_path / "run"
    assert main(["train", "dense", "--max_train", value, "--out", str(out), "--no_plot", *data]) == 2
    assert "--max_train must be at least 1" in capsys.readouterr().err
    assert not out.exists()


def test_stale_temporary_files_are_removed_and_modes_follow_the_umask(tmp_path):
    target = tmp_path / "model.safetensors"
    dead = tmp_path / ".model.999999999.abcd1234.tmp.safetensors"  # no such process
    alive = tmp_path / f".model.{os.getpid()}.abcd1234.tmp.safetensors"  # a writer still at work
    dead.write_bytes(b"x" * 100)
    alive.write_bytes(b"x")
    old = os.umask(0o022)
    try:
        atomic.write_bytes(target, b"data")
    finally:
        os.umask(old)
    assert not dead.exists() and alive.exists() and target.read_bytes() == b"data"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_embedding_refuses_weights_it_was_not_made_from(tmp_path, data_opts):
    out = tmp_path / "run"
    train(quick_options(out, "dense", data_opts, epochs=1), progress=False)
    job = EmbedJob(run=str(out), methods=["pca"], max_points=500, map_size=256, out_dir=str(tmp_path), **data_opts)
    (path,) = [p for p in embed_run(job, log=lambda *a: None) if p.suffix == ".npz"]
    LatentSpace.load(path, **data_opts)
    train(quick_options(out, "dense", data_opts, epochs=1, seed=1, overwrite=True), progress=False)  # same shape
    with pytest.raises(EmbeddingError, match="other weights"):
        LatentSpace.load(path, **data_opts)


def test_evaluation_uses_the_runs_own_input_distribution(tmp_path, data_opts):
    test = load_dataset("digits", split="test", **data_opts)
    images, labels = test.images[:500], test.labels[:500]
    binary = load_run(
        train(quick_options(tmp_path / "bin", "dense", data_opts, binary_input=True, epochs=1), progress=False)
    )
    result = evaluate(binary, images, labels, test.label_names)
    targets = (images.reshape(500, -1) / 255 > 0.5).astype(np.float32)
    expected = ((binary.reconstruct(images).reshape(500, -1) - targets) ** 2).mean()
    assert result["mse"] == pytest.approx(expected, rel=1e-5) and "binarized" in result["mse_input"]
    mse_vae = load_run(train(quick_options(tmp_path / "vae", "vae", data_opts, epochs=1), progress=False))
    result = evaluate(mse_vae, images, labels, test.label_names)
    assert "not the likelihood this model was trained on" in result["likelihood_note"]
    bernoulli = quick_options(tmp_path / "bern", "vae-bernoulli", data_opts, epochs=1)
    result = evaluate(load_run(train(bernoulli, progress=False)), images, labels, test.label_names)
    assert "likelihood_note" not in result and result["likelihood_input"].endswith("as in training")
