"""Data-parallel training with torchrun: two CPU processes (gloo) on real MNIST."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from latentmap.runs import load_run
from tests.test_training import history

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--layers", "64", "--d_latent", "8", "--max_train", "4000", "--batch_size", "128", "--no_plot"]


def torchrun(args, data_opts, nproc=2):
    data = ["--data-dir", data_opts["data_dir"], "--cache-dir", data_opts["cache_dir"]]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args, *data]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def data_opts(datasets_dir, session_cache):
    return {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}


def test_two_processes_match_one_with_the_same_global_batch(tmp_path, data_opts):
    from latentmap.cli import main

    two, one = tmp_path / "two", tmp_path / "one"
    result = torchrun(["-m", "latentmap", "train", "dense", *QUICK, "--epochs", "2", "--out", str(two)], data_opts)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("run saved in") == 1  # only rank 0 reports and writes
    data = ["--data-dir", data_opts["data_dir"], "--cache-dir", data_opts["cache_dir"]]
    assert main(["train", "dense", *QUICK, "--epochs", "2", "--out", str(one), *data]) == 0
    config = json.loads((two / "config.json").read_text())["training"]
    assert (config["world_size"], config["batch_size_per_rank"], config["global_batch_size"]) == (2, 64, 128)
    for a, b in zip(history(one), history(two), strict=True):
        assert float(a["train_loss"]) == pytest.approx(float(b["train_loss"]), rel=1e-4)
        assert float(a["test_loss"]) == pytest.approx(float(b["test_loss"]), rel=1e-4)
    assert load_run(two).d_latent == 8


def test_resume_and_the_original_script_under_torchrun(tmp_path, data_opts):
    out = tmp_path / "run"
    first = torchrun([str(REPO / "vae.py"), *QUICK, "--epochs", "1", "--out", str(out)], data_opts)
    assert first.returncode == 0, first.stderr[-2000:]
    again = torchrun(["-m", "latentmap", "train", "vae", "--resume", "--epochs", "2", "--out", str(out)], data_opts)
    assert again.returncode == 0, again.stderr[-2000:]
    assert [int(float(r["epoch"])) for r in history(out)] == [1, 2]
    assert load_run(out).kind == "vae"


def test_batch_smaller_than_the_ranks_is_one_clear_line(tmp_path, data_opts):
    args = ["-m", "latentmap", "train", "dense", *QUICK, "--batch_size", "1", "--out", str(tmp_path / "run")]
    result = torchrun(args, data_opts)
    assert result.returncode != 0
    assert "--batch_size 1 is smaller than the 2 processes" in result.stderr
    assert "latentmap/" not in result.stderr  # torchrun's own report follows, but no traceback through our code
    assert not (tmp_path / "run").exists()
