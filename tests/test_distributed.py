"""Data-parallel training with torchrun: two CPU processes (gloo) on real MNIST."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from latentmap.train.run import load_run
from tests.test_training import history

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--layers", "64", "--d_latent", "8", "--max_train", "4000", "--batch_size", "128", "--no_plot"]


def torchrun(args, data_opts, nproc=2):
    data = ["--data-dir", data_opts["data_dir"], "--cache-dir", data_opts["cache_dir"]]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args, *data]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)


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


# The VAE draws its noise per rank and drops out; ACAI (conv) adds a critic trained in the
# same backward pass, its Adam moments and BatchNorm buffers.
RESUMED = {
    "vae": [*QUICK, "--dropout_layer", "0", "--dropout_rate", "0.5"],
    "acai": [*QUICK[4:], "--arch", "conv", "--channels", "4", "8", "--max_train", "1000"],
}


@pytest.mark.parametrize("kind", ["vae", "acai"])
def test_resume_under_torchrun_is_exact_on_every_rank(kind, tmp_path, data_opts):
    """Each rank resumes with its own dropout and noise random states: a run stopped after
    epoch 1 and resumed ends with the very weights of a run that never stopped."""
    from safetensors.numpy import load_file

    args = ["-m", "latentmap", "train", kind, *RESUMED[kind]]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert torchrun([*args, "--epochs", "2", "--out", str(whole)], data_opts).returncode == 0
    first = torchrun([*args, "--epochs", "1", "--out", str(resumed)], data_opts)
    assert first.returncode == 0, first.stderr[-2000:]
    again = torchrun(["-m", "latentmap", "train", kind, "--resume", "--epochs", "2", "--out", str(resumed)], data_opts)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "new noise stream" not in again.stdout + again.stderr
    assert [int(float(r["epoch"])) for r in history(resumed)] == [1, 2] and load_run(resumed).kind == kind
    a, b = load_file(whole / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert any("critic" in name for name in a) == (kind == "acai")
    for name in a:
        if name.startswith("model."):
            assert (a[name] == b[name]).all(), name


def test_batch_smaller_than_the_ranks_is_one_clear_line(tmp_path, data_opts):
    args = ["-m", "latentmap", "train", "dense", *QUICK, "--batch_size", "1", "--out", str(tmp_path / "run")]
    result = torchrun(args, data_opts)
    assert result.returncode != 0
    assert "--batch_size 1 is smaller than the 2 processes" in result.stderr
    assert "latentmap/" not in result.stderr  # torchrun's own report follows, but no traceback through our code
    assert not (tmp_path / "run").exists()


def worker_of(launcher_pid: int, rank: int) -> int | None:
    """Pid of the torchrun worker with this LOCAL_RANK (a child of the launcher)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == launcher_pid and f"LOCAL_RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find the worker")
def test_a_rank_that_dies_leaves_the_run_at_its_last_checkpoint(tmp_path, data_opts):
    import os
    import signal
    import time

    from latentmap.cli import main
    from latentmap.train.run import checkpoint_epoch, load_checkpoint

    out = tmp_path / "run"
    data = ["--data-dir", data_opts["data_dir"], "--cache-dir", data_opts["cache_dir"]]
    args = ["-m", "latentmap", "train", "dense", *QUICK, "--epochs", "60", "--out", str(out), *data]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]
    launcher = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while (checkpoint_epoch(out) or 0) < 2 and launcher.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        victim = worker_of(launcher.pid, 1)
        assert victim is not None and launcher.poll() is None, "the run ended before a rank could be killed"
        os.kill(victim, signal.SIGKILL)
        _, stderr = launcher.communicate(timeout=120)
    finally:
        launcher.kill()
    assert launcher.returncode != 0
    assert "ChildFailedError" in stderr and "Signal 9 (SIGKILL)" in stderr  # torchrun's own report
    reached = checkpoint_epoch(out)
    assert reached is not None and 2 <= reached < 60
    assert load_checkpoint(out)["epoch"] == reached  # intact (the weights file comes at the stage's end)
    # and the run continues from its checkpoint, here in one process
    assert main(["train", "dense", "--resume", "--epochs", str(reached + 1), "--out", str(out), *data]) == 0
    assert [int(float(r["epoch"])) for r in history(out)] == list(range(1, reached + 2))
    assert load_run(out).d_latent == 8
