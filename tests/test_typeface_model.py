"""The typeface model: one code per typeface from a few glyphs, whole alphabets decoded.
Real TMNIST glyphs rendered from ~20 real fonts; train and test typefaces by family."""

import numpy as np
import pytest
import torch
from PIL import Image

from latentmap.cli import main
from latentmap.data import load_dataset
from latentmap.data.glyphs import glyph_grid
from latentmap.errors import LatentmapError
from latentmap.models import ModelConfig, build_model
from latentmap.models.typeface import random_shots
from latentmap.quality.completion_scores import completion_scores, nearest_completion
from latentmap.train import load_run
from latentmap.train.typeface import TypefaceRun
from tests.test_distributed import torchrun
from tests.test_training import history

TINY = ["--layers", "64", "--d_latent", "8", "--batch_size", "4", "--max_shots", "4", "--no_plot"]


@pytest.fixture(scope="module")
def data(datasets_dir, small_fonts_dir, session_cache):
    return ["--data-dir", str(datasets_dir), "--fonts-dir", str(small_fonts_dir), "--cache-dir", str(session_cache)]


@pytest.fixture(scope="module")
def alphanumeric(datasets_dir, small_fonts_dir, session_cache):
    return load_dataset("alphanumeric", data_dir=datasets_dir, fonts_dir=small_fonts_dir, cache_dir=session_cache)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data):
    """A typeface AE trained for 2 epochs with per-stage figures."""
    out = tmp_path_factory.mktemp("typeface") / "run"
    assert (
        main(["train", "typeface", *TINY, "--epochs", "2", "--dataset", "alphanumeric", "--out", str(out), *data]) == 0
    )
    return out


def tiny_model(variational: bool = False, n_chars: int = 5) -> torch.nn.Module:
    config = ModelConfig(
        kind="typeface",
        n_features=784,
        d_latent=3,
        layers=[16],
        n_chars=n_chars,
        variational=variational,
        options={"max_shots": 3},
    )
    torch.manual_seed(0)
    return build_model(config).eval()


def test_the_code_does_not_depend_on_the_order_of_the_given_glyphs():
    model = tiny_model()
    glyphs, chars = torch.rand(4, 784), torch.tensor([0, 3, 1, 4])
    owner = torch.zeros(4, dtype=torch.long)
    order = torch.tensor([2, 0, 3, 1])
    a = model.posterior(glyphs, chars, owner, 1)
    b = model.posterior(glyphs[order], chars[order], owner, 1)
    assert torch.allclose(a, b, atol=1e-6)
    # ... but it does depend on which character each glyph is
    c = model.posterior(glyphs, chars[order], owner, 1)
    assert not torch.allclose(a, c, atol=1e-4)
    # two typefaces in one batch are pooled apart: each equals its own batch of one
    both = model.posterior(glyphs, chars, torch.tensor([0, 0, 1, 1]), 2)
    assert torch.allclose(both[1], model.posterior(glyphs[2:], chars[2:], torch.zeros(2, dtype=torch.long), 1)[0])


def test_shapes_and_the_loss_counts_only_glyphs_a_typeface_has():
    model = tiny_model()
    x = torch.rand(2, 5, 784)
    x[0, 1] = float("nan")  # typeface 0 has no glyph for character 1
    x[1, 3:] = float("nan")
    out = model(x, generator=torch.Generator().manual_seed(0))  # evaluation: every glyph is a target
    present = ~torch.isnan(x[..., 0])
    assert out["code"].shape == (2, 3) and out["recon"].shape == (int(present.sum()), 784)
    assert not out["given"][0, 1] and not out["given"][1, 3:].any() and torch.equal(out["targets"], present)
    loss, _ = model.loss(x, out, beta=1.0)
    full = model.decode(out["code"])  # (2, 5, 784): every character of each typeface
    by_hand = torch.stack([((full[t, c] - x[t, c]) ** 2).mean() for t, c in present.nonzero()]).mean()
    assert torch.isclose(loss, by_hand) and torch.isfinite(loss)
    assert model.decode_logits(torch.zeros(7, 3)).shape == (7, 5, 784)


def test_training_steps_reconstruct_a_random_subset_of_each_typeface():
    from latentmap.models.typeface import TRAIN_TARGETS

    model = tiny_model(n_chars=40).train()
    x = torch.rand(3, 40, 784)
    x[2, 10:] = float("nan")  # a typeface with 10 glyphs: all of them are targets
    out = model(x, generator=torch.Generator().manual_seed(2))
    assert out["targets"].sum(dim=1).tolist() == [TRAIN_TARGETS, TRAIN_TARGETS, 10]
    assert out["recon"].shape == (2 * TRAIN_TARGETS + 10, 784)
    loss, _ = model.loss(x, out, beta=1.0)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_the_bernoulli_likelihood_is_the_mean_binary_cross_entropy_of_the_targets():
    config = ModelConfig(
        kind="typeface", n_features=784, d_latent=3, layers=[16], n_chars=5, options={"likelihood": "bernoulli"}
    )
    model = build_model(config).eval()
    x = torch.rand(2, 5, 784)
    x[1, 2] = float("nan")
    out = model(x, generator=torch.Generator().manual_seed(0))
    loss, _ = model.loss(x, out, beta=1.0)
    p, t = out["recon"], x[~torch.isnan(x[..., 0])]
    by_hand = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
    assert torch.isclose(loss, by_hand, rtol=1e-4)


def test_a_typeface_vae_adds_the_mean_kl():
    model = tiny_model(variational=True)
    x = torch.rand(3, 5, 784)
    out = model(x, generator=torch.Generator().manual_seed(1))
    loss, terms = model.loss(x, out, beta=0.5)
    kl = 0.5 * (out["mu"] ** 2 + out["logvar"].exp() - 1 - out["logvar"]).mean()
    assert torch.isclose(terms["kl"], kl) and torch.isclose(loss, terms["recon"] + 0.5 * kl)


def test_random_shots_show_one_to_max_shots_present_glyphs():
    present = torch.rand(500, 12) < 0.7
    present[:, 0] = True
    given = random_shots(present, 4, torch.Generator().manual_seed(0))
    counts = given.sum(dim=1)
    assert not (given & ~present).any()
    assert counts.min() == 1 and counts.max() == 4
    assert (counts <= present.sum(dim=1)).all()
    assert set(counts.tolist()) == {1, 2, 3, 4}  # every k is drawn


def test_glyph_grid_regroups_the_dataset_by_typeface(alphanumeric):
    grid = glyph_grid(alphanumeric)
    assert grid.images.shape == (len(alphanumeric.fonts["name"]), 94, 28, 28)
    row, column = grid.row_of("Roboto-Regular"), alphanumeric.label_names.index("R")
    hit = (alphanumeric.typefaces == "Roboto-Regular") & (alphanumeric.labels == column)
    assert np.array_equal(grid.images[row, column], alphanumeric.images[hit][0])
    assert grid.present.sum() == len(alphanumeric)
    assert grid.is_test[row] and not grid.is_test[grid.row_of("OpenSans-Bold")]  # the family split
    with pytest.raises(LatentmapError, match="unknown typeface 'Robotto'"):
        grid.row_of("Robotto")


def test_a_trained_typeface_run_encodes_decodes_and_samples(trained, alphanumeric):
    run = load_run(trained)
    assert isinstance(run, TypefaceRun) and run.d_latent == 8 and len(run.chars) == 94
    assert run.config["dataset_size"]["test_typefaces"] >= 3
    assert {p.name for p in (trained / "figures").iterdir()} >= {"stage-1-typefaces.png", "stage-1-samples.png"}
    grid = glyph_grid(alphanumeric)
    row = grid.row_of("Roboto-Regular")
    columns = run.positions("Hamb")
    code = run.encode_typeface(grid.images[row, columns], "Hamb")
    shuffled = run.encode_typeface(grid.images[row, columns[::-1]], "bmaH")
    assert code.shape == (8,) and np.allclose(code, shuffled, atol=1e-5)
    as_list = run.encode_typeface(grid.images[row, columns], ["H", "a", "m", "b"])  # any sequence of characters
    np.testing.assert_array_equal(as_list, code)
    glyphs = run.decode(code[None], "xyz")
    assert glyphs.shape == (1, 3, 28, 28) and glyphs.min() >= 0 and glyphs.max() <= 1
    assert np.allclose(run.decode(code[None])[0, run.positions("xyz")], glyphs[0], atol=1e-6)
    sampled = run.sample(3, "gmm", seed=2, dataset=alphanumeric)
    assert sampled.shape == (3, 94, 28, 28)
    assert np.array_equal(run.sample(3, "gmm", seed=2, dataset=alphanumeric), sampled)
    with pytest.raises(LatentmapError, match="has no prior"):
        run.sample(2, "prior")
    with pytest.raises(LatentmapError, match="one code per typeface"):
        run.encode(grid.images[row, :3])
    with pytest.raises(LatentmapError, match="not in this model's charset"):
        run.encode_typeface(grid.images[row, :1], "é")
    with pytest.raises(LatentmapError, match="2 glyph image"):
        run.encode_typeface(grid.images[row, :2], "H")


def test_the_nearest_typeface_baseline_finds_a_typeface_itself(alphanumeric):
    grid = glyph_grid(alphanumeric)
    train = grid.split("train")
    given = np.zeros(train.present.shape, bool)
    given[:, [10, 33, 40]] = True  # '+', 'B', 'I': glyphs every font has
    borrowed = nearest_completion(train, train.images, given & train.present)
    assert np.array_equal(borrowed[train.present], train.images[train.present])


def test_the_zero_shot_and_k_nearest_baselines(alphanumeric):
    from latentmap.quality.completion_scores import lender_order, zero_shot_completion

    train = glyph_grid(alphanumeric).split("train")
    mean = zero_shot_completion(train)
    for c in (10, 33):  # '+', 'B'
        np.testing.assert_allclose(mean[c], train.images[train.present[:, c], c].mean(axis=0) / 255, atol=1e-6)
    given = np.zeros(train.present.shape, bool)
    given[:, [10, 33, 40]] = True
    given &= train.present
    one = nearest_completion(train, train.images[:3], given[:3])
    five = nearest_completion(train, train.images[:3], given[:3], k=5)
    reference = train.images.reshape(len(train), train.images.shape[1], -1).astype(np.float32) / 255
    order = lender_order(train, reference, train.images[1], given[1])
    lenders = order[train.present[order, 33]][:5]
    np.testing.assert_allclose(five[1, 33], train.images[lenders, 33].mean(axis=0), atol=1e-4)  # by hand
    assert np.array_equal(one[1, 33], train.images[lenders[0], 33])  # k = 1: the nearest alone


def test_the_scoring_judge_never_learns_a_glyph_the_baselines_lend(alphanumeric):
    from latentmap.quality.completion_scores import completion_task, scoring_judge_data

    grid = glyph_grid(alphanumeric)
    lenders = set(completion_task(grid, None, 4, 0).train.names.tolist())
    judge_data = scoring_judge_data(alphanumeric)
    taught = set(judge_data.typefaces[~judge_data.is_test].tolist())
    train = set(alphanumeric.typefaces[~alphanumeric.is_test].tolist())
    assert lenders and taught and not lenders & taught and lenders | taught == train  # two halves of train
    # whole split groups on each side; the judge is still measured on every test typeface
    group = dict(zip(alphanumeric.fonts["name"].tolist(), alphanumeric.fonts["group"].tolist(), strict=True))
    assert not {group[n] for n in lenders} & {group[n] for n in taught}
    assert set(judge_data.typefaces[judge_data.is_test]) == set(alphanumeric.typefaces[alphanumeric.is_test])
    assert judge_data.spec != alphanumeric.spec  # cached as a judge of its own


def test_ssim_per_glyph_is_scikit_images():
    from skimage.metrics import structural_similarity

    from latentmap.quality.completion_scores import ssim

    rng = np.random.default_rng(0)
    real = rng.random((3, 5, 28, 28))
    noisy = np.clip(real + rng.normal(0, 0.2, real.shape), 0, 1)
    scores = ssim(noisy, real)
    assert scores.shape == (3, 5)
    expected = [
        [structural_similarity(a, b, data_range=1.0) for a, b in zip(x, y, strict=True)]
        for x, y in zip(noisy, real, strict=True)
    ]
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    np.testing.assert_allclose(ssim(real, real), 1.0, atol=1e-6)
    assert ssim(real[:1, :1] * 0, real[:1, :1])[0, 0] < 0.1  # a blank glyph shares no structure


def test_completion_scores_compare_the_model_with_the_baseline(trained, alphanumeric):
    rows = completion_scores(load_run(trained), glyph_grid(alphanumeric), judge=None, shots=(1, 4))
    assert [row["shots"] for row in rows] == [1, 4]
    for row in rows:
        assert row["typefaces"] >= 3 and row["glyphs"] > 0
        low, high = row["mse_minus_baseline_ci"]
        assert low <= row["mse_minus_baseline"] <= high
        assert row["mse_minus_baseline"] == pytest.approx(row["mse"] - row["baseline_mse"])
        assert row["zero_shot_mse"] > 0 and row["knearest_mse"] > 0
        for name in ("ssim", "baseline_ssim", "knearest_ssim", "zero_shot_ssim"):
            assert -1 <= row[name] <= 1
        assert row["baseline_ssim"] > row["zero_shot_ssim"]  # a real typeface's glyphs share more structure
    assert rows[0]["glyphs"] > rows[1]["glyphs"]  # more given, fewer to generate


def test_complete_from_names_and_from_images_agree(trained, alphanumeric, tmp_path, data, capsys):
    by_name = tmp_path / "by_name.png"
    command = ["typeface", "complete", str(trained), "--font", "Roboto-Regular", "--given", "Ha/b", *data]
    assert main([*command, "--out", str(by_name)]) == 0
    assert "completed 94 characters from 4" in capsys.readouterr().out
    assert Image.open(by_name).size[0] > 24 * 56
    grid = glyph_grid(alphanumeric)
    row = grid.row_of("Roboto-Regular")
    folder = tmp_path / "glyphs"
    folder.mkdir()
    for char, name in zip("Ha/b", ["H", "U+0061", "U+002F", "b"], strict=True):  # black ink on white, too
        pixels = grid.images[row, alphanumeric.label_names.index(char)]
        Image.fromarray(255 - pixels if char == "H" else pixels).save(folder / f"{name}.png")
    run = load_run(trained)
    from latentmap.typefaces.completion import read_glyph_folder

    images, chars = read_glyph_folder(folder)
    assert sorted(chars) == sorted("Ha/b")
    from_files = run.encode_typeface(images, chars)
    from_names = run.encode_typeface(grid.images[row, run.positions("Ha/b")], "Ha/b")
    assert np.allclose(from_files, from_names, atol=1e-5)  # TMNIST glyphs are fixed points of the recipe
    assert main(["typeface", "complete", str(trained), "--images", str(folder), "--out", str(tmp_path / "f.png")]) == 0
    # A glyph drawn large and off-centre (a scan, a drawing app) goes through the same recipe.
    drawn = tmp_path / "drawn"
    drawn.mkdir()
    original = grid.images[row, alphanumeric.label_names.index("b")]
    canvas = np.full((90, 70), 255, np.uint8)
    canvas[5:61, 3:59] = 255 - np.asarray(Image.fromarray(original).resize((56, 56), Image.Resampling.NEAREST))
    Image.fromarray(canvas).save(drawn / "b.png")
    [fitted], _ = read_glyph_folder(drawn)
    assert np.abs(fitted.astype(int) - original).mean() < 8  # back to the data's size and place


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--font", "NoSuchFont-Regular", "--given", "Ha"], "unknown typeface 'NoSuchFont-Regular'"),
        (["--font", "Roboto-Regular", "--given", "Hä"], "not in this model's charset"),
        (["--font", "Roboto-Regular"], "--font needs --given"),
        ([], "give the glyphs with --font"),
        (["--images", "BLANK"], "holds no glyph"),
        (["--images", "NOT_A_FOLDER"], "is not a folder of glyph PNGs"),
    ],
)
def test_bad_completion_requests_are_one_line(args, message, trained, tmp_path, data, capsys):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(wrong / "A.png")
    args = [str(wrong) if a == "BLANK" else str(tmp_path / "none") if a == "NOT_A_FOLDER" else a for a in args]
    out = tmp_path / "sheet.png"
    assert main(["typeface", "complete", str(trained), *args, "--out", str(out), *data]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_commands_refuse_a_run_that_is_not_a_typeface_run(tmp_path, data, datasets_dir, capsys):
    out = tmp_path / "dense"
    quick = ["--epochs", "1", "--max_train", "300", "--d_latent", "4", "--no_plot"]
    assert main(["train", "dense", *quick, "--out", str(out), *data]) == 0
    assert main(["typeface", "sample", str(out), "--out", str(tmp_path / "s.png"), *data]) == 2
    assert "is a dense run" in capsys.readouterr().err
    assert main(["train", "typeface", "--dataset", "digits", *TINY, "--out", str(tmp_path / "t"), *data]) == 2
    assert "has no typefaces" in capsys.readouterr().err and not (tmp_path / "t" / "config.json").exists()


def test_sample_sheet_and_a_typeface_vae_with_its_prior(tmp_path, data, capsys):
    out = tmp_path / "vae"
    args = ["train", "typeface", "--kind", "vae", "--arch", "conv", "--channels", "4", "8", *TINY, "--epochs", "1"]
    assert main([*args, "--dataset", "alphanumeric", "--out", str(out), *data]) == 0
    run = load_run(out)
    assert run.has_prior and run.model.config.variational and "beta" in history(out)[0]
    sheet = tmp_path / "prior.png"
    assert main(["typeface", "sample", str(out), "--sampler", "prior", "--n", "2", "--out", str(sheet), *data]) == 0
    assert Image.open(sheet).size[1] > 2 * 4 * 56  # two alphabets of four rows of glyphs


def test_resume_of_a_typeface_run_is_exact(tmp_path, data):
    args = ["train", "typeface", *TINY, "--dataset", "alphanumeric", *data]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main([*args, "--epochs", "2", "--out", str(whole)]) == 0
    assert main([*args, "--epochs", "1", "--out", str(part)]) == 0
    assert main(["train", "typeface", "--resume", "--epochs", "2", "--out", str(part), *data]) == 0
    a, b = load_run(whole).model.state_dict(), load_run(part).model.state_dict()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_a_typeface_run_trains_under_torchrun(tmp_path, small_fonts_dir, datasets_dir, session_cache):
    out = tmp_path / "ddp"
    args = ["-m", "latentmap", "train", "typeface", *TINY, "--epochs", "1", "--dataset", "alphanumeric"]
    opts = {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}
    result = torchrun([*args, "--fonts-dir", str(small_fonts_dir), "--out", str(out)], opts)
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_run(out).config["training"]["world_size"] == 2


def test_the_fonts_app_clusters_typefaces_by_their_learned_codes(trained, alphanumeric, tmp_path):
    from fastapi.testclient import TestClient

    from latentmap.typefaces import TypefaceCorpus
    from latentmap.typefaces.clustering import ClusterParams, cluster_typefaces
    from latentmap.typefaces.corpus import typeface_codes
    from latentmap.web.fonts import FontsApp, create_app

    codes = typeface_codes(alphanumeric, str(trained))
    run = load_run(trained)
    grid = glyph_grid(alphanumeric)
    expected = run.encode_typefaces(grid.images, grid.present)[grid.row_of("Lobster-Regular")]
    font_id = alphanumeric.fonts["name"].tolist().index("Lobster-Regular")
    assert np.allclose(codes[font_id], expected, atol=1e-5)
    corpus = TypefaceCorpus(alphanumeric, codes, str(trained))
    by_codes = cluster_typefaces(corpus, "Ag", ClusterParams(n_clusters=3, features="codes"))
    assert by_codes.summary["features"] == 8 and sum(by_codes.summary["sizes"]) == len(corpus.complete("Ag"))
    client = TestClient(create_app(FontsApp(corpus, tmp_path)), base_url="http://127.0.0.1:8001")
    headers = {"Origin": "http://127.0.0.1:8001"}
    assert client.get("/api/info").json()["codes"] == str(trained)
    answer = client.post("/api/cluster", json={"chars": ["A"], "n_clusters": 2, "features": "codes"}, headers=headers)
    assert answer.status_code == 200 and answer.json()["summary"]["features"] == 8
    plain = TestClient(create_app(FontsApp(TypefaceCorpus(alphanumeric), tmp_path)), base_url="http://127.0.0.1:8001")
    refused = plain.post("/api/cluster", json={"chars": ["A"], "features": "codes"}, headers=headers)
    assert refused.status_code in (400, 422) and "--codes" in refused.text


def test_compare_of_typeface_runs(trained, tmp_path, data, capsys):
    import json

    other = tmp_path / "other"
    assert (
        main(["train", "typeface", *TINY, "--epochs", "1", "--dataset", "alphanumeric", "--out", str(other), *data])
        == 0
    )
    out = tmp_path / "compared"
    assert main(["compare", str(trained), str(other), "--pairs", "20", "--out", str(out), *data]) == 0
    result = json.loads((out / "compare.json").read_text())
    first, second = result["runs"]
    assert {"completion_mse", "nearest_mse", "interpolation_validity", "gmm_validity"} <= first["metrics"].keys()
    assert first["metrics"]["nearest_mse"] == second["metrics"]["nearest_mse"]  # the baseline is the model's own
    assert "nearest_mse" not in second["against_first"]  # one baseline for every run: nothing to mark
    assert "nearest_ssim" not in second["against_first"] and "completion_ssim" in second["against_first"]
    assert "trained on half of the training typefaces" in (out / "compare.md").read_text()
    for run in result["runs"]:
        for name, value in run["metrics"].items():
            low, high = run["ci"][name]
            assert low <= value <= high and (name.endswith(("mse", "ssim")) or 0 <= value <= 1)
    difference = second["against_first"]["completion_mse"][0]
    assert difference == pytest.approx(second["metrics"]["completion_mse"] - first["metrics"]["completion_mse"])
    assert "| interpolation_validity |" in (out / "compare.md").read_text() and (out / "compare.png").is_file()
    dense = tmp_path / "dense"
    quick = ["--epochs", "1", "--max_train", "300", "--d_latent", "4", "--no_plot", "--dataset", "alphanumeric"]
    assert main(["train", "dense", *quick, "--out", str(dense), *data]) == 0
    capsys.readouterr()
    assert main(["compare", str(trained), str(dense), "--out", str(tmp_path / "mixed"), *data]) == 2
    assert "typeface runs are compared with typeface runs only" in capsys.readouterr().err
