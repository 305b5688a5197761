import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentmap import load_dataset, load_run
from latentmap.embed import EmbeddingError, EmbedJob, EmbedParams, embed_run, load_embedding, project
from latentmap.embed.file import check_matches
from latentmap.embed.maps import map_positions
from latentmap.embed.methods import knn_accuracy
from latentmap.errors import LatentmapError
from latentmap.train import TrainOptions, train

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, data_opts):
    out = tmp_path_factory.mktemp("embed") / "digits-dense-64-8"
    options = TrainOptions(
        kind="dense",
        layers=[64],
        d_latent=8,
        epochs=6,
        max_train=20000,
        batch_size=128,
        out=str(out),
        no_plot=True,
        **data_opts,
    )
    return train(options, progress=False)


@pytest.fixture(scope="module")
def embedded(run_dir, tmp_path_factory, data_opts):
    out = tmp_path_factory.mktemp("embeddings")
    job = EmbedJob(
        run=str(run_dir),
        methods=["pca", "tsne", "umap"],
        split="test",
        max_points=3000,
        map_size=768,
        out_dir=str(out),
        projector_dir=str(out / "projector"),
        **data_opts,
    )
    embed_run(job, log=lambda *a: None)
    return out


def test_files_shapes_and_dtypes(embedded, run_dir, data_opts):
    for method in ("pca", "tsne", "umap"):
        emb = load_embedding(embedded / f"{run_dir.name}.embed-{method}.npz")
        assert emb.xy.shape == (3000, 2) and emb.xy.dtype == np.float32
        assert emb.codes.shape == (3000, 8) and emb.codes.dtype == np.float32
        assert emb.indices.dtype == np.int64 and emb.labels.dtype == np.int64 and emb.split == "test"
        assert emb.method == method and emb.metadata["dataset"] == "digits"
        assert {"knn10_accuracy_2d", "knn10_accuracy_latent", "trustworthiness"} <= emb.metadata["quality"].keys()
        assert emb.metadata["seconds"][method] > 0
        # 3,000 codes: t-SNE and UMAP share one exact neighbour graph; PCA needs none
        assert emb.metadata["neighbors"] == (None if method == "pca" else "exact")
        assert ("neighbors" in emb.metadata["seconds"]) == (method != "pca")
        data = load_dataset("digits", **data_opts)
        assert data.is_test[emb.indices].all()
        np.testing.assert_array_equal(data.labels[emb.indices], emb.labels)
        np.testing.assert_allclose(emb.codes, load_run(run_dir).encode(data.images[emb.indices]), atol=1e-5)
        check_matches(emb, "digits", len(data), d_latent=8)
        with np.load(embedded / f"{run_dir.name}.embed-{method}.npz", allow_pickle=False) as npz:
            assert set(npz.files) == {"xy", "codes", "indices", "labels", "split", "metadata"}


def test_pca_matches_scikit_learn(embedded, run_dir):
    from sklearn.decomposition import PCA

    emb = load_embedding(embedded / f"{run_dir.name}.embed-pca.npz")
    expected = PCA(n_components=2).fit_transform(emb.codes)
    for axis in range(2):  # components are defined up to sign
        sign = np.sign(np.dot(expected[:, axis], emb.xy[:, axis]))
        np.testing.assert_allclose(emb.xy[:, axis], sign * expected[:, axis], atol=1e-3)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_nonlinear_methods_separate_classes(embedded, run_dir, method):
    emb = load_embedding(embedded / f"{run_dir.name}.embed-{method}.npz")
    assert knn_accuracy(emb.xy, emb.labels) > 0.7  # chance is 0.1
    assert emb.metadata["quality"]["knn10_accuracy_2d"] > 0.7


def test_both_methods_share_one_neighbour_search(run_dir, tmp_path, data_opts, monkeypatch):
    from latentmap.embed import neighbors

    searches = []
    real_search = neighbors.neighbor_graph

    def counting(codes, k, *args, **kwargs):
        searches.append(k)
        return real_search(codes, k, *args, **kwargs)

    monkeypatch.setattr(neighbors, "neighbor_graph", counting)
    job = EmbedJob(
        run=str(run_dir),
        methods=["tsne", "umap"],
        split="test",
        max_points=600,
        map_size=256,
        out_dir=str(tmp_path),
        **data_opts,
    )
    embed_run(job, log=lambda *a: None)
    assert searches == [90]  # once, enough for both: 3 x perplexity 30 for t-SNE, 14 (+ itself) for UMAP


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_shared_graph_embeds_as_well_as_the_librarys_own_search(embedded, run_dir, method):
    from latentmap.embed.methods import quality

    emb = load_embedding(embedded / f"{run_dir.name}.embed-{method}.npz")
    own, _ = project(emb.codes, method, EmbedParams(neighbors="library"))
    ours = emb.metadata["quality"]
    theirs = quality(emb.codes, own, emb.labels)
    assert ours["knn10_accuracy_2d"] >= theirs["knn10_accuracy_2d"] - 0.03
    assert ours["trustworthiness"] >= theirs["trustworthiness"] - 0.01


def test_map_drawn_in_slices_is_the_picture_drawn_one_thumbnail_at_a_time(data_opts):
    from latentmap.embed.maps import palette, render_map

    digits = load_dataset("digits", **data_opts)
    n = 12_000  # three slices of the drawing order
    xy = np.random.default_rng(1).normal(size=(n, 2)).astype(np.float32)
    images, labels = digits.images[:n], digits.labels[:n]
    picture = np.asarray(render_map(xy, images, labels, digits.label_names, size=512, seed=4))
    expected = np.zeros((512, 512, 3), np.uint8)
    colours = palette(10)
    pos = map_positions(xy, 512)
    for i in np.random.default_rng(4).permutation(n):  # later thumbnails on top, ink only
        x, y = pos[i]
        ink = images[i] > 0
        tile = expected[y : y + 28, x : x + 28]
        tile[ink] = (images[i][ink].astype(np.uint16)[:, None] * colours[labels[i]] // 255).astype(np.uint8)
    legend_rows, legend_cols = np.nonzero((picture == 20).all(axis=-1))
    expected[: legend_rows.max() + 1, : legend_cols.max() + 1] = picture[
        : legend_rows.max() + 1, : legend_cols.max() + 1
    ]
    np.testing.assert_array_equal(picture, expected)


def test_well_separated_blobs_are_separated():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10, size=(4, 6))
    labels = np.repeat(np.arange(4), 300)
    codes = centres[labels] + rng.normal(size=(1200, 6))
    for method in ("tsne", "umap"):
        xy, _ = project(codes, method, EmbedParams(seed=1))
        assert knn_accuracy(xy, labels) > 0.99


def test_map_has_points_where_the_embedding_puts_them(embedded, run_dir):
    picture = np.asarray(Image.open(embedded / f"{run_dir.name}.embed-umap.map.png"))
    assert picture.shape == (768, 768, 3)
    emb = load_embedding(embedded / f"{run_dir.name}.embed-umap.npz")
    pos = map_positions(emb.xy, 768)
    ink_at_points = [picture[y : y + 28, x : x + 28].max() for x, y in pos[:200]]
    assert min(ink_at_points) > 0
    empty = np.ones((768, 768), bool)
    for x, y in pos:
        empty[y : y + 28, x : x + 28] = False
    legend_rows, legend_cols = np.nonzero((picture == 20).all(axis=-1))  # the legend's dark grey box
    empty[: legend_rows.max() + 1, : legend_cols.max() + 1] = False
    assert picture[empty].max() == 0


def test_projector_export(embedded):
    folder = embedded / "projector"
    tensors = np.loadtxt(folder / "tensors.tsv", delimiter="\t")
    metadata = (folder / "metadata.tsv").read_text().splitlines()
    assert tensors.shape == (3000, 8) and len(metadata) == 3001 and metadata[0] == "label\tclass"
    sprite = Image.open(folder / "sprite.png")
    config = json.loads((folder / "projector_config.json").read_text())["embeddings"][0]
    side = config["sprite"]["singleImageDim"][0]
    columns = int(np.ceil(np.sqrt(3000)))
    assert sprite.width == columns * side <= 8192 and sprite.height <= 8192
    assert "single_image_dim: 28" in (folder / "projector_config.pbtxt").read_text()


def test_sprite_scales_down_to_fit_the_limit():
    from latentmap.embed.projector import sprite_layout

    columns, side = sprite_layout(300_000)
    assert columns * side <= 8192 and side >= 4


# --------------------------------------------------------------------------- bad input


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "latentmap", *args], capture_output=True, text=True)


def assert_one_line_error(result, message):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--methods", "isomap"], "unknown embedding method"),
        (["--split", "validation"], "invalid choice"),
        (["--export", "csv", "x"], "unknown export format"),
        (["--neighbors", "kd_tree"], "invalid choice"),
    ],
)
def test_bad_arguments(run_dir, tmp_path, data_env, args, message):
    result = run_cli("embed", str(run_dir), "--out_dir", str(tmp_path / "out"), *args)
    assert_one_line_error(result, message)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_not_a_run(tmp_path, data_env):
    assert_one_line_error(run_cli("embed", str(tmp_path)), "not a run")


def test_unwritable_output(run_dir, tmp_path, data_env):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(run_cli("embed", str(run_dir), "--out_dir", str(blocker / "x")), "cannot create directory")


def test_dataset_unavailable(run_dir, tmp_path, data_env):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["dataset"] = str(tmp_path / "gone" / "font_set.json")
    (copy / "config.json").write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, str(REPO / "embed.py"), str(copy), "--out_dir", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert_one_line_error(result, "cannot read")
    assert not list((tmp_path / "o").glob("*")) if (tmp_path / "o").exists() else True


def test_corrupt_and_foreign_files(tmp_path, embedded, run_dir):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes((embedded / f"{run_dir.name}.embed-pca.npz").read_bytes()[:500])
    with pytest.raises(EmbeddingError, match="not a readable"):
        load_embedding(corrupt)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    with pytest.raises(EmbeddingError, match="not a latentmap embedding"):
        load_embedding(foreign)
    with pytest.raises(EmbeddingError, match="does not exist"):
        load_embedding(tmp_path / "nope.npz")


def test_mismatched_dataset_is_reported(embedded, run_dir):
    emb = load_embedding(embedded / f"{run_dir.name}.embed-pca.npz")
    with pytest.raises(EmbeddingError, match="re-run `latentmap embed`"):
        check_matches(emb, "digits", 1000)
    with pytest.raises(EmbeddingError, match="dimensions"):
        check_matches(emb, "digits", 70000, d_latent=16)


def test_umap_is_reproducible_single_threaded():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(600, 5))
    first, _ = project(codes, "umap", EmbedParams(seed=3, n_jobs=1))
    second, _ = project(codes, "umap", EmbedParams(seed=3, n_jobs=1))
    np.testing.assert_array_equal(first, second)


def test_fewer_points_than_umap_neighbours_is_one_clear_error():
    codes = np.random.default_rng(0).normal(size=(12, 4))
    with pytest.raises(LatentmapError, match="--n_neighbors 15 needs more than 15 points, got 12"):
        project(codes, "umap", EmbedParams())


def test_an_embedding_is_never_replaced_silently(run_dir, embedded, data_opts):
    """The same job again keeps the file (nothing recomputed); another split, subsample or
    parameter set is refused in one line unless --overwrite; --export reuses what exists."""
    path = embedded / f"{run_dir.name}.embed-pca.npz"
    before = path.stat().st_mtime_ns
    same = EmbedJob(
        run=str(run_dir), methods=["pca"], split="test", max_points=3000, map_size=768, out_dir=str(embedded)
    )
    lines: list[str] = []
    embed_run(EmbedJob(**{**same.__dict__, **data_opts}), log=lines.append)
    assert path.stat().st_mtime_ns == before and any("already holds this embedding" in line for line in lines)
    other = EmbedJob(**{**same.__dict__, "max_points": 500, **data_opts})
    with pytest.raises(LatentmapError, match=r"already holds an embedding of pca of 3,000 test images.*--overwrite"):
        embed_run(other, log=lambda *a: None)
    assert path.stat().st_mtime_ns == before and len(load_embedding(path).xy) == 3000
    embed_run(EmbedJob(**{**other.__dict__, "overwrite": True}), log=lambda *a: None)
    assert len(load_embedding(path).xy) == 500
    projector = embedded / "projector-again"
    lines.clear()
    exported = EmbedJob(**{**other.__dict__, "projector_dir": str(projector)})
    embed_run(exported, log=lines.append)
    assert (
        any("already holds this embedding" in line for line in lines)
        and (projector / "projector_config.pbtxt").exists()
    )


def test_a_two_dim_space_is_its_own_map_and_decodes_exactly(tmp_path, data_opts):
    from latentmap.web.background import prepare_spaces

    plane = train(
        TrainOptions(kind="dense", layers=[32], d_latent=2, epochs=1, max_train=2000, out=str(tmp_path / "d2"),
                     no_plot=True, no_tensorboard=True, **data_opts),
        progress=False,
    )  # fmt: skip
    (space,) = prepare_spaces(str(plane), method="tsne", max_points=300, judge=False, out_dir=tmp_path / "emb",
                              data_dir=data_opts["data_dir"], cache_dir=data_opts["cache_dir"])  # fmt: skip
    assert space.info["method"] == "codes" and "2-dim code plane" in space.inverse.method  # no t-SNE asked for
    np.testing.assert_array_equal(space.xy, space.codes)  # the map is the codes
    run = load_run(plane)
    np.testing.assert_allclose(space.inverse(space.xy[:5]), space.codes[:5])
    np.testing.assert_allclose(
        run.decode(space.inverse([[0.3, -1.2]])), run.decode(np.array([[0.3, -1.2]], np.float32))
    )
    with pytest.raises(LatentmapError, match="maps 2-dim codes as they are"):
        project(np.zeros((10, 8), np.float32), "codes", EmbedParams())


def test_the_first_umap_says_it_compiles_once_and_the_next_is_quiet(tmp_path, monkeypatch, capsys):
    """A pip user never ran `make setup`'s warm step: the first UMAP of a machine says it
    compiles (and where the cache goes), and after a UMAP has run into that cache, no more."""
    from latentmap.embed import jit_cache

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert jit_cache.use_user_cache() is False
    assert "compiling its numba code once" in capsys.readouterr().err
    jit_cache.mark_compiled()
    assert jit_cache.use_user_cache() is True and capsys.readouterr().err == ""
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setenv("LATENTMAP_CACHE", str(tmp_path / "data-cache"))  # a data cache does not move it
    assert jit_cache.numba_cache_dir() == tmp_path / "user-cache" / "latentmap" / "numba"
