"""`latentmap import-model` with models and folders nobody here made: conventions found without
flags, the user's folders never emptied, hostile models stopped in one line."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from latentmap import load_run
from latentmap.cli import main
from latentmap.train import onnx_run
from tests.test_external_models import Decoder, export, native, onnx_pair  # noqa: F401  (fixtures)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("latentmap: error:") and "Traceback" not in err, err
    return err


@pytest.fixture(autouse=True)
def data_env(monkeypatch, data_opts):
    monkeypatch.setenv("LATENTMAP_DATA", data_opts["data_dir"])
    monkeypatch.setenv("LATENTMAP_CACHE", data_opts["cache_dir"])


class ChannelsLastEncoder(nn.Module):
    """How a Keras-minded user exports: N x 28 x 28 x 1 on 0..255 pixels."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.encode(images.reshape(len(images), 784) / 255)


def test_a_logits_decoder_on_255_input_imports_without_flags(native, tmp_path, capsys):  # noqa: F811
    encoder, decoder = tmp_path / "enc.onnx", tmp_path / "dec.onnx"
    torch.onnx.export(ChannelsLastEncoder(native.model).eval(), (torch.rand(1, 28, 28, 1) * 255,), str(encoder))
    torch.onnx.export(Decoder(native.model, logits=True).eval(), (torch.zeros(1, native.d_latent),), str(decoder))
    out = tmp_path / "mine"
    assert main(["import-model", str(encoder), str(decoder), "--dataset", "digits", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "0..255 in, logits out" in said and "auto chose it over" in said, said
    config = json.loads((out / "config.json").read_text())["onnx"]
    assert (config["input_scale"], config["decoder_output"]) == (255, "logits")
    errors = config["conventions"]["mse"]
    assert errors["0..255 in, logits out"] < min(v for k, v in errors.items() if k != "0..255 in, logits out")
    run, images = load_run(out), np.random.default_rng(0).integers(0, 256, (40, 28, 28)).astype(np.uint8)
    np.testing.assert_allclose(run.encode(images), native.encode(images), atol=1e-5)
    codes = native.encode(images)
    np.testing.assert_allclose(run.decode(codes), native.decode(codes), atol=1e-5)
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~current_umask())  # not mkdtemp's 0700


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_model_of_other_data_is_refused_and_a_probs_mismatch_flagged(onnx_pair, tmp_path, capsys):  # noqa: F811
    encoder, decoder = onnx_pair
    blank = tmp_path / "blank.onnx"
    export(nn.Linear(8, 784).requires_grad_(False).apply(lambda m: nn.init.zeros_(m.weight)), torch.zeros(2, 8), blank)
    out = tmp_path / "run"
    assert main(["import-model", str(encoder), str(blank), "--dataset", "digits", "--out", str(out)]) == 2
    assert "worse than their mean image" in one_line_error(capsys)
    assert not out.exists() and not list(tmp_path.glob(".run*"))
    # Logits taken for probabilities because the user said so: imported, and flagged.
    args = ["import-model", str(encoder), str(decoder), "--dataset", "digits", "--out", str(out)]
    assert main([*args, "--decoder_output", "probs"]) == 0
    err = capsys.readouterr().err
    assert "not probabilities" in err and "decoder_output logits" in err, err


class Poisoned(nn.Module):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.reshape(len(images), 784)[:, :8] * float("nan")


def test_nan_from_a_model_is_refused_at_the_boundary(onnx_pair, tmp_path, capsys):  # noqa: F811
    _, decoder = onnx_pair
    nan = tmp_path / "nan.onnx"
    export(Poisoned(), torch.zeros(2, 1, 28, 28), nan)
    out = tmp_path / "run"
    assert main(["import-model", str(nan), str(decoder), "--dataset", "digits", "--out", str(out)]) == 2
    assert "NaN or inf" in one_line_error(capsys) and not out.exists()


def looping_decoder(path, d_latent: int) -> None:
    """A decoder whose Loop runs 2^62 times before it gives its 784 zeros."""
    scalar = [helper.make_tensor_value_info(n, t, []) for n, t in (("cond_out", TensorProto.BOOL), ("acc_out", 1))]
    body = helper.make_graph(
        [
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [helper.make_tensor_value_info(n, t, []) for n, t in (("i", 7), ("cond_in", 9), ("acc_in", 1))],
        scalar,
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
    )
    graph = helper.make_graph(
        [
            helper.make_node("Loop", ["M", "cond", "zero"], ["acc"], body=body),
            helper.make_node("MatMul", ["x", "W"], ["y0"]),
            helper.make_node("Mul", ["y0", "acc"], ["y"]),
        ],
        "decoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", d_latent])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 784])],
        [
            helper.make_tensor("M", TensorProto.INT64, [], [2**62]),
            helper.make_tensor("cond", TensorProto.BOOL, [], [True]),
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("W", TensorProto.FLOAT, [d_latent, 784], np.zeros(d_latent * 784).tolist()),
        ],
    )
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_a_model_that_never_returns_is_stopped(native, onnx_pair, tmp_path, capsys, monkeypatch):  # noqa: F811
    encoder, _ = onnx_pair
    looping_decoder(tmp_path / "loop.onnx", native.d_latent)
    monkeypatch.setattr(onnx_run, "CALL_SECONDS", 1.0)
    out = tmp_path / "run"
    started = time.monotonic()
    assert (
        main(["import-model", str(encoder), str(tmp_path / "loop.onnx"), "--dataset", "digits", "--out", str(out)]) == 2
    )
    assert "was stopped" in one_line_error(capsys) and time.monotonic() - started < 20 and not out.exists()
    # A run folder made by hand around it: every command that opens it stops the same way.
    good = tmp_path / "good"
    assert main(["import-model", *map(str, onnx_pair), "--dataset", "digits", "--out", str(good)]) == 0
    (good / "decoder.onnx").write_bytes((tmp_path / "loop.onnx").read_bytes())
    assert main(["evaluate", str(good)]) == 2
    assert "was stopped" in one_line_error(capsys)


def as_from_a_terminal() -> None:
    """In the child, before it runs: SIGINT neither ignored nor blocked, as a shell leaves it. A
    child inherits both from the test worker, where an earlier test's library may have changed
    them, and a Python started with SIGINT ignored never sees Ctrl-C (twice in full runs the
    command ran on to its 30 s limit; alone it stops at once)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_stops_a_looping_model(native, onnx_pair, tmp_path, data_opts):  # noqa: F811
    looping_decoder(tmp_path / "loop.onnx", native.d_latent)
    command = [sys.executable, "-m", "latentmap", "import-model", str(onnx_pair[0]), str(tmp_path / "loop.onnx")]
    process = subprocess.Popen(
        [*command, "--dataset", "digits", "--out", str(tmp_path / "run")],
        stderr=subprocess.PIPE,
        preexec_fn=as_from_a_terminal,
    )
    time.sleep(6)  # past start-up, inside the probe (whose own limit is 30 s)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    assert process.wait(timeout=20) == 130 and time.monotonic() - started < 15
    assert b"interrupted" in process.stderr.read() and not (tmp_path / "run").exists()


def test_a_run_whose_model_refers_to_external_data_is_refused(onnx_pair, tmp_path, capsys):  # noqa: F811
    run = tmp_path / "run"
    assert main(["import-model", *map(str, onnx_pair), "--dataset", "digits", "--out", str(run)]) == 0
    model = onnx.load(str(run / "decoder.onnx"))
    onnx.save_model(model, str(run / "decoder.onnx"), save_as_external_data=True, location="w.bin", size_threshold=0)
    os.link(run / "w.bin", tmp_path / "elsewhere.bin")  # a hardlink, as a crafted folder would hold
    assert main(["evaluate", str(run)]) == 2
    assert "external data" in one_line_error(capsys)


def test_a_model_too_large_for_one_file_is_refused(tmp_path, capsys):
    big = tmp_path / "big.onnx"
    count = 2**29 + 2**20  # 2.004 GB of float32, in a sparse file: no disk is used for it
    with open(tmp_path / "w.bin", "wb") as sparse:
        sparse.truncate(count * 4)
    weight = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[count])
    weight.external_data.add(key="location", value="w.bin")
    weight.data_location = TensorProto.EXTERNAL
    graph = helper.make_graph(
        [helper.make_node("Identity", ["W"], ["y"])], "g", [], [helper.make_tensor_value_info("y", 1, [None])], [weight]
    )
    onnx.save_model(helper.make_model(graph), str(big))
    out = tmp_path / "run"
    assert main(["import-model", str(big), str(big), "--dataset", "digits", "--out", str(out)]) == 2
    assert "2 GB at most" in one_line_error(capsys) and not out.exists()


def test_a_malformed_thread_count_is_one_line(onnx_pair, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("LATENTMAP_THREADS", "abc")
    out = tmp_path / "run"
    assert main(["import-model", *map(str, onnx_pair), "--dataset", "digits", "--out", str(out)]) == 2
    assert "LATENTMAP_THREADS" in one_line_error(capsys) and not out.exists()


# ----------------------------------------------------------------------------- --out


def test_out_never_empties_a_folder_of_the_users(onnx_pair, tmp_path, capsys, monkeypatch):  # noqa: F811
    victim = tmp_path / "runs"
    (victim / "my-training").mkdir(parents=True)
    (victim / "my-training" / "model.safetensors").write_bytes(b"months of work")
    (victim / "notes.txt").write_text("mine")
    files = ["import-model", *map(str, onnx_pair), "--dataset", "digits"]
    for overwrite in ([], ["--overwrite"]):
        assert main([*files, "--out", str(victim), *overwrite]) == 2
        assert "not a run" in one_line_error(capsys)
    assert sorted(p.name for p in victim.rglob("*")) == ["model.safetensors", "my-training", "notes.txt"]
    monkeypatch.chdir(victim)
    for folder in (".", "..", "/", os.path.expanduser("~")):
        assert main([*files, "--out", folder, "--overwrite"]) == 2
        one_line_error(capsys)
    assert (victim / "notes.txt").read_text() == "mine"
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-link").symlink_to(tmp_path / "empty", target_is_directory=True)
    (tmp_path / "empty").mkdir()
    for target in ("a-file", "a-link"):
        assert main([*files, "--out", str(tmp_path / target)]) == 2
        one_line_error(capsys)
    assert (tmp_path / "a-file").read_text() == "x" and not any((tmp_path / "empty").iterdir())
    # An empty folder is filled; a run is replaced only with --overwrite, nothing left aside.
    assert main([*files, "--out", str(tmp_path / "empty")]) == 0
    (tmp_path / f".empty.staging-{2**22 + 7}-1").mkdir()  # a killed import's leftovers (no such process)
    assert main([*files, "--out", str(tmp_path / "empty")]) == 2
    assert "--overwrite" in one_line_error(capsys)
    assert main([*files, "--out", str(tmp_path / "empty"), "--overwrite"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-link", "empty", "runs"]


def test_train_out_never_fills_a_folder_of_the_users(tmp_path, capsys, data_opts):
    victim = tmp_path / "mine"
    victim.mkdir()
    (victim / "figures").mkdir()
    (victim / "figures" / "paper-figure.png").write_bytes(b"png")
    args = ["train", "dense", "--epochs", "1", "--max_train", "500", "--no_plot", "--out", str(victim)]
    for overwrite in ([], ["--overwrite"]):
        assert main([*args, *overwrite, "--data-dir", data_opts["data_dir"]]) == 2
        assert "not a run" in one_line_error(capsys)
    assert [p.name for p in victim.rglob("*")] == ["figures", "paper-figure.png"]


def test_wrap_model_leaves_no_folder_behind(tmp_path):
    import gc
    import tempfile
    from pathlib import Path

    from latentmap import LatentmapError, wrap_model

    def ours() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("latentmap-*"))

    before = ours()
    with pytest.raises(LatentmapError, match="784 pixels"):
        wrap_model(lambda x: x.reshape(-1, 784)[:, :4], lambda z: np.zeros((len(z), 10)), "digits", log=None)
    encode, decode = (lambda x: x.reshape(-1, 784)[:, :4]), (lambda z: np.zeros((len(z), 784)))
    run = wrap_model(encode, decode, "digits", input_scale=1, decoder_output="probs", log=None)
    run.train_codes()  # samplers and codes may be kept in its folder meanwhile
    del run
    gc.collect()
    assert ours() == before
