import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from latentmap.cli import main


def test_prepare_and_info(data_env, capsys):
    assert main(["data", "prepare", "digits", "numeric"]) == 0
    out = capsys.readouterr().out
    assert "digits: 70,000 images, 10 classes" in out and str(data_env / "digits.npz") in out
    assert main(["data", "info", "fashion"]) == 0
    out = capsys.readouterr().out
    assert "60,000 train, 10,000 test" in out and "Ankle boot     6,000    1,000" in out


def test_sample_mosaic(data_env, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["data", "sample", "digits", "--out", str(out), "--per-class", "5"]) == 0
    image = np.asarray(Image.open(out))
    assert image.ndim == 2 and image.shape[0] > 10 * 28 and image.shape[1] > 5 * 28
    assert image.max() == 255


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "latentmap", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "info", "mnist"], "unknown dataset 'mnist'"),
        (["data", "info", "missing_font_set.json"], "cannot read missing_font_set.json"),
        (["data", "sample", "digits", "--out", "/proc/forbidden/grid.png"], "cannot"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(data_env, args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_bad_data_dir(tmp_path):
    result = run_cli(
        "data",
        "info",
        "alphanumeric",
        "--data-dir",
        str(tmp_path),
        "--fonts-dir",
        str(tmp_path / "x"),
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert result.returncode == 2 and "no Typography-MNIST source" in result.stderr
    assert not list((tmp_path / "c").glob("*.npz")) if (tmp_path / "c").exists() else True
