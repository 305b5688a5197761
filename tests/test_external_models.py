"""Models latentmap did not train: an ONNX export of a trained run gives the native run's
numbers, a plain nn.Module written here works through wrap_model, bad files get one line."""

import json

import httpx
import numpy as np
import pytest
import torch
from torch import nn

import latentmap
from latentmap import load_run, wrap_model
from latentmap.cli import main
from latentmap.embed import EmbedJob, embed_run, load_embedding
from latentmap.quality.compare import compare_runs
from latentmap.quality.judge import train_judge
from latentmap.train import train
from latentmap.train.onnx_run import import_onnx
from tests.test_training import quick_options


@pytest.fixture(scope="module")
def native(tmp_path_factory, data_opts):
    out = tmp_path_factory.mktemp("native") / "vae"
    # Trained enough (4 s) to reconstruct far better than the mean image: what `auto` looks for.
    trained = quick_options(out, "vae", data_opts, epochs=2, max_train=20000, learn_rate=3e-3)
    return load_run(train(trained, progress=False))


class Encoder(nn.Module):
    def __init__(self, model: nn.Module, flat: bool) -> None:
        super().__init__()
        self.model, self.flat = model, flat

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.encode(images.reshape(len(images), 784))


class Decoder(nn.Module):
    def __init__(self, model: nn.Module, logits: bool) -> None:
        super().__init__()
        self.model, self.logits = model, logits

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        out = self.model.decode_logits(codes) if self.logits else self.model.decode(codes)
        return out.reshape(len(codes), 1, 28, 28)


def export(module: nn.Module, example: torch.Tensor, path) -> None:
    module.eval()
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
    )


@pytest.fixture(scope="module")
def onnx_pair(native, tmp_path_factory):
    """The native run's encoder (N x 1 x 28 x 28 in) and decoder (logits out) as ONNX files."""
    folder = tmp_path_factory.mktemp("onnx")
    export(Encoder(native.model, flat=False), torch.rand(4, 1, 28, 28), folder / "enc.onnx")
    export(Decoder(native.model, logits=True), torch.zeros(4, native.d_latent), folder / "dec.onnx")
    return folder / "enc.onnx", folder / "dec.onnx"


@pytest.fixture(scope="module")
def imported(onnx_pair, tmp_path_factory, data_opts):
    out = tmp_path_factory.mktemp("imported") / "mine"
    import_onnx(*onnx_pair, "digits", out, decoder_output="logits", prior=True, data=data_opts)
    return load_run(out)


def test_onnx_run_encodes_and_decodes_as_the_native_run(native, imported, digits):
    images = digits.split("test").images[:300]
    assert imported.kind == "onnx" and imported.d_latent == native.d_latent and imported.input_shape == (1, 28, 28)
    np.testing.assert_allclose(imported.encode(images), native.encode(images), atol=1e-5)
    codes = native.encode(images)
    np.testing.assert_allclose(imported.decode(codes), native.decode(codes), atol=1e-5)
    np.testing.assert_allclose(imported.sample(5, "prior"), native.sample(5, "prior"), atol=1e-5)


def test_compare_and_embed_give_the_native_numbers(native, imported, digits, tmp_path, data_opts):
    judge = train_judge(digits, epochs=1, max_train=2000, progress=False)
    result = compare_runs([native, imported], digits, judge, pairs=40, log=lambda *_: None)
    a, b = (item["metrics"] for item in result.to_json()["runs"])
    for name, value in a.items():
        if isinstance(value, float):
            assert b[name] == pytest.approx(value, abs=1e-5), name
    xy = []
    for run in (native, imported):
        job = EmbedJob(
            run=str(run.path), methods=["pca"], max_points=500, out_dir=str(tmp_path), map_size=256, **data_opts
        )
        job.progress = False
        [path] = embed_run(job, log=lambda *_: None)[:1]
        xy.append(load_embedding(path).xy)
    np.testing.assert_allclose(np.abs(xy[0]), np.abs(xy[1]), atol=1e-4)  # PCA's axes may flip sign


class TinyAutoencoder(nn.Module):
    """A user's own model, written the way people write them."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 3))
        self.dec = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 784), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z).reshape(-1, 28, 28)


def test_a_plain_module_wrapped_works_like_a_run(digits, tmp_path, data_opts):
    model = TinyAutoencoder().eval()
    untrained = {"input_scale": 1, "decoder_output": "probs"}  # auto would refuse it: worse than the mean image
    run = wrap_model(model.encode, model.decode, "digits", name="tiny", folder=tmp_path / "tiny", **untrained)
    images = digits.split("test").images[:50]
    codes = run.encode(images)
    with torch.no_grad():
        expected = model.encode(torch.from_numpy(images.astype(np.float32) / 255)).numpy()
    np.testing.assert_allclose(codes, expected, atol=1e-6)
    assert run.decode(codes).shape == (50, 28, 28) and run.d_latent == 3
    assert run.sample(4, "gmm", dataset=digits).shape == (4, 28, 28)
    with pytest.raises(latentmap.LatentmapError, match="no prior"):
        run.sample(2, "prior")
    numpy_run = wrap_model(
        lambda x: x.reshape(-1, 784)[:, :5], lambda z: np.zeros((len(z), 784)), "digits", **untrained
    )
    assert numpy_run.encode(images[:3]).shape == (3, 5)
    judge = train_judge(digits, epochs=1, max_train=1000, progress=False)
    result = compare_runs([run], digits, judge, pairs=20, log=lambda *_: None).to_json()
    assert result["runs"][0]["kind"] == "wrapped"
    url = latentmap.explore(run, max_points=300, judge=False, out_dir=tmp_path / "maps", **data_opts)
    info = httpx.get(url + "api/spaces").json()
    assert info[0]["kind"] == "wrapped" and info[0]["count"] == 300


def test_bad_models_get_one_line_and_nothing_written(onnx_pair, tmp_path, capsys, monkeypatch, data_opts):
    monkeypatch.setenv("LATENTMAP_DATA", data_opts["data_dir"])
    monkeypatch.setenv("LATENTMAP_CACHE", data_opts["cache_dir"])
    encoder, decoder = onnx_pair
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    wide = tmp_path / "wide.onnx"
    export(nn.Linear(8, 100), torch.zeros(2, 8), wide)
    cases = [
        [str(tmp_path / "bad.onnx"), str(decoder)],
        [str(encoder), str(wide)],  # 100 values per code, not 784
        [str(decoder), str(decoder)],  # an encoder that takes codes, not images
        [str(encoder), str(decoder), "--dataset", "nosuch"],
    ]
    for number, files in enumerate(cases):
        out = tmp_path / f"run{number}"
        args = ["import-model", *files, "--out", str(out)]
        assert main(args if "--dataset" in args else [*args, "--dataset", "digits"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("latentmap: error:") and "Traceback" not in err, err
        assert not out.exists() and not list(tmp_path.glob(".run*"))
    assert main(["import-model", str(encoder), str(decoder), "--dataset", "digits", "--out", str(tmp_path / "ok")]) == 0
    config = json.loads((tmp_path / "ok" / "config.json").read_text())
    assert config["model"]["kind"] == "onnx" and config["onnx"]["input_shape"] == [1, 28, 28]


def test_a_sweep_grid_lists_an_imported_run_beside_trained_ones(imported, tmp_path, data_opts, monkeypatch):
    from latentmap.quality import judge
    from latentmap.quality.sweep import SweepOptions, run_sweep

    monkeypatch.setattr(judge, "SETTINGS", {**judge.SETTINGS, "epochs": 1, "max_train": 2000})
    grid = tmp_path / "grid.toml"
    grid.write_text(
        "[common]\nepochs = 1\nmax_train = 1000\nlayers = [64]\nd_latent = 8\n"
        f'[grid]\nkind = ["dense"]\n[[runs]]\n[[runs]]\nrun = "{imported.path}"\n'
    )
    options = SweepOptions(grid=str(grid), out=str(tmp_path / "out"), pairs=20, progress=False, jobs=1, **data_opts)
    outcomes = run_sweep(options, log=lambda *_: None)
    assert sorted(o.status for o in outcomes) == ["complete", "trained"]
    report = json.loads((tmp_path / "out" / "digits" / "compare.json").read_text())
    assert [r["kind"] for r in report["runs"]] == ["dense", "onnx"]
    assert not (tmp_path / "out" / "runs" / imported.path.name).exists()  # measured where it is, never trained
