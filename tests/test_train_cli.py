import subprocess
import sys
from pathlib import Path

import pytest

from latentmap.cli.train import build_parser, options_from_args

REPO = Path(__file__).resolve().parents[1]

DENSE_FLAGS = [
    "--dataset",
    "fashion",
    "--pca_dims",
    "0.95",
    "--whiten",
    "--dropout_layer",
    "0",
    "--dropout_rate",
    "0.2",
    "--batch_size",
    "128",
    "--d_latent",
    "8",
    "--layers",
    "256",
    "64",
    "--dec_layers",
    "64",
    "256",
    "--epochs",
    "3",
    "--stages",
    "2",
    "--learn_rate",
    "0.002",
    "--no_plot",
    "--binary_input",
]


def test_dense_command_line_parses_every_documented_flag():
    options = options_from_args("dense", build_parser("dense").parse_args(DENSE_FLAGS))
    assert options.dataset == "fashion" and options.pca_dims == 0.95 and options.whiten
    assert options.dropout_layer == 0 and options.dropout_rate == 0.2 and options.batch_size == 128
    assert options.d_latent == 8 and options.layers == [256, 64] and options.dec_layers == [64, 256]
    assert options.epochs == 3 and options.stages == 2 and options.learn_rate == 0.002
    assert options.no_plot and options.binary_input


def test_defaults_match_the_originals():
    dense = options_from_args("dense", build_parser("dense").parse_args([]))
    vae = options_from_args("vae", build_parser("vae").parse_args([]))
    assert (dense.batch_size, dense.d_latent, dense.layers, dense.epochs, dense.stages) == (256, 16, [], 25, 1)
    assert dense.learn_rate == 1e-3 and dense.pca_dims == 0 and dense.dec_layers is None
    assert vae.layers == [64] and vae.reg_lambda is None and vae.likelihood == "mse"


def test_vae_command_line_and_hyphenated_aliases():
    args = build_parser("vae").parse_args(
        [
            *DENSE_FLAGS,
            "--reg-lambda",
            "0.5",
            "--likelihood",
            "bernoulli",
            "--dynamic-binarization",
            "--beta-schedule",
            "cyclical",
            "--cycles",
            "3",
            "--cycle-lead",
            "0.1",
            "--cycle-ramp",
            "0.4",
            "--beta-low",
            "0.05",
            "--beta-high",
            "0.9",
            "--d-latent",
            "4",
        ]
    )
    options = options_from_args("vae", args)
    assert options.reg_lambda == 0.5 and options.likelihood == "bernoulli" and options.dynamic_binarization
    assert (options.beta_schedule, options.cycles, options.cycle_lead, options.cycle_ramp) == ("cyclical", 3, 0.1, 0.4)
    assert (options.beta_low, options.beta_high, options.d_latent) == (0.05, 0.9, 4)


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("dense.py", ["--layers", "0"], "not a positive integer"),
        ("dense.py", ["--layers", "12.5"], "not a positive integer"),
        ("vae.py", ["--pca_dims", "-3"], "--pca_dims"),
        ("dense.py", ["--dropout_layer", "0"], "out of range"),
        ("vae.py", ["--dataset", "nope", "--out", "/tmp/latentmap-never"], "unknown dataset"),
    ],
)
def test_scripts_report_bad_input_in_one_line(data_env, script, args, message):
    result = subprocess.run([sys.executable, str(REPO / script), *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_help_shows_defaults():
    text = build_parser("vae").format_help()
    assert "--reg_lambda" in text and "--d_latent" in text and "(default: 64)" not in text
    assert "default: 256" in text and "default: 25" in text
