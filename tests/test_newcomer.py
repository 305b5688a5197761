"""What a newcomer meets on the README's path: every step says what it did, skipped or
reused, and conflicting or impossible requests get one line that says what to do."""

import csv
import json

import pytest

from latentmap.cli import main
from latentmap.train import TrainOptions
from latentmap.train.options import default_out

QUICK = ["--layers", "32", "--d_latent", "4", "--epochs", "1", "--max_train", "600", "--no_plot"]


@pytest.fixture(scope="module")
def data(datasets_dir, session_cache):
    return ["--data-dir", str(datasets_dir), "--cache-dir", str(session_cache)]


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("newcomer") / "vae"
    assert main(["train", "vae", *QUICK, "--out", str(out), *data]) == 0
    return out


def test_resume_of_a_finished_run_says_it_is_complete(vae_run, data, capsys):
    assert main(["train", "vae", "--resume", "--out", str(vae_run), "--no_plot", *data]) == 0
    assert "is already complete (1 epochs): nothing to train; extend it with --epochs" in capsys.readouterr().out


def test_resume_and_overwrite_conflict(vae_run, data, capsys):
    assert main(["train", "vae", "--resume", "--overwrite", "--out", str(vae_run), *data]) == 2
    err = capsys.readouterr().err
    assert "--resume continues" in err and "--overwrite replaces it: give one of them" in err


def test_overwrite_says_what_it_replaced(tmp_path, data, capsys):
    out = tmp_path / "run"
    assert main(["train", "dense", *QUICK, "--out", str(out), *data]) == 0
    assert main(["train", "dense", *QUICK, "--out", str(out), "--overwrite", *data]) == 0
    assert f"--overwrite: replacing the run in {out} (a dense of digits, 1 epoch(s) trained)" in capsys.readouterr().out


def test_a_stopped_run_without_weights_suggests_resume(tmp_path, data, capsys):
    out = tmp_path / "stopped"
    assert main(["train", "vae", *QUICK, "--epochs", "2", "--stages", "1", "--out", str(out), *data]) == 0
    (out / "model.safetensors").unlink()  # as if stopped before the first stage ended
    assert main(["evaluate", str(out), "--pairs", "0", *data]) == 2
    assert f"continue it with `latentmap train vae --resume --out {out}`" in capsys.readouterr().err


def test_default_run_names_hold_the_settings_that_change_the_model():
    names = {
        default_out(TrainOptions(kind="vae", layers=[64])).name,
        default_out(TrainOptions(kind="vae", layers=[64], pca_dims=0.95, whiten=True)).name,
        default_out(TrainOptions(kind="vae", layers=[64], pca_dims=0.95)).name,
        default_out(TrainOptions(kind="vae", layers=[64], likelihood="bernoulli")).name,
        default_out(TrainOptions(kind="sparse", layers=[256], d_latent=128, binary_codes=True)).name,
        default_out(TrainOptions(kind="sparse", layers=[256], d_latent=128)).name,
        default_out(TrainOptions(kind="dense", binary_input=True)).name,
    }
    assert len(names) == 7
    assert "digits-vae-64-16-pca0.95w" in names and "digits-sparse-256-128-binary" in names


def test_only_a_vae_history_has_a_beta_column(vae_run, tmp_path, data):
    dense = tmp_path / "dense"
    assert main(["train", "dense", *QUICK, "--out", str(dense), *data]) == 0
    with open(dense / "history.csv") as handle:
        assert "beta" not in next(csv.reader(handle))
    with open(vae_run / "history.csv") as handle:
        assert "beta" in next(csv.reader(handle))


def test_evaluate_on_a_missing_gpu_is_one_line(vae_run, data, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["evaluate", str(vae_run), "--device", "cuda", *data]) == 2
    err = capsys.readouterr().err
    assert "no CUDA GPU is available" in err and "Traceback" not in err


def test_evaluate_says_what_it_skips_and_keeps_what_it_had(vae_run, tmp_path, data, capsys, monkeypatch):
    from latentmap.quality import judge

    monkeypatch.setattr(judge, "SETTINGS", {**judge.SETTINGS, "epochs": 1, "max_train": 2000})
    cache = ["--cache-dir", str(tmp_path)]  # no judge there yet
    assert main(["evaluate", str(vae_run), "--pairs", "20", "--nll_samples", "3", *data, *cache]) == 0
    out = capsys.readouterr().out
    assert "no judge for digits yet: training one first" in out and "NLL with 3 importance samples" in out
    first = json.loads((vae_run / "evaluation.json").read_text())
    assert "latent_quality" in first and first["nll"]["samples"] == 3
    assert main(["evaluate", str(vae_run), "--pairs", "0", *data, *cache]) == 0
    out = capsys.readouterr().out
    assert "kept from the earlier evaluation of these weights" in out and "NLL: kept" in out
    again = json.loads((vae_run / "evaluation.json").read_text())
    assert again["latent_quality"] == first["latent_quality"] and again["nll"] == first["nll"]
    dense = tmp_path / "dense"
    assert main(["train", "dense", *QUICK, "--out", str(dense), *data]) == 0
    assert main(["evaluate", str(dense), "--pairs", "0", "--nll_samples", "5", *data]) == 0
    assert "skipped: NLL (--nll_samples 5): a dense run has no likelihood model" in capsys.readouterr().out


def test_data_prepare_says_whether_it_built_or_reused(datasets_dir, tmp_path, capsys):
    args = ["--data-dir", str(datasets_dir), "--cache-dir", str(tmp_path)]
    assert main(["data", "prepare", "digits", *args]) == 0
    assert "(built in" in capsys.readouterr().out
    assert main(["data", "prepare", "digits", *args]) == 0
    assert "(cache up to date, reused)" in capsys.readouterr().out
    assert main(["data", "info", "digits", *args]) == 0
    table = capsys.readouterr().out.splitlines()
    header = next(line for line in table if line.startswith("class"))
    row = next(line for line in table if line.startswith("0 "))
    assert header.index("train") + len("train") == row.index("5,923") + len("5,923")  # columns line up


def test_runs_write_tensorboard_event_files(tmp_path, data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "vae"
    args = ["train", "vae", *QUICK, "--epochs", "1", "--stages", "2", "--out", str(out), *data]
    assert main(args) == 0
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0}).Reload()
    tags = events.Tags()
    assert {"train/loss", "test/loss", "train/kl", "beta"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]
    assert any(tag.startswith("figures/") for tag in tags["images"])
    quiet = tmp_path / "quiet"
    assert main(["train", "dense", *QUICK, "--no_tensorboard", "--out", str(quiet), *data]) == 0
    assert not (quiet / "tensorboard").exists()
