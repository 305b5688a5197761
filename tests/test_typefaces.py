import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from latentmap import load_dataset
from latentmap.data import Dataset, write_font_set
from latentmap.typefaces import (
    ClusteringError,
    ClusterParams,
    TypefaceCorpus,
    cluster_typefaces,
    dataset_sizes,
    font_set_for,
    select,
    take_count,
)

REPO = Path(__file__).resolve().parents[1]
CHARS = "AB"


@pytest.fixture(scope="module")
def synthetic():
    """Three groups of 30 typefaces whose glyphs are a group prototype plus a little noise;
    typeface 0 lacks 'B', typeface 1 lacks 'C'."""
    rng = np.random.default_rng(0)
    prototypes = rng.integers(0, 256, size=(3, 3, 28, 28))
    group = np.repeat(np.arange(3), 30)
    images, labels, faces = [], [], []
    for face, g in enumerate(group):
        for char in range(3):
            if (face, char) in ((0, 1), (1, 2)):
                continue
            noisy = prototypes[g, char] + rng.normal(0, 8, size=(28, 28))
            images.append(np.clip(noisy, 0, 255).astype(np.uint8))
            labels.append(char)
            faces.append(face)
    names = np.array([f"Face{i:02d}-Regular" for i in range(90)])
    dataset = Dataset(
        spec="synthetic",
        images=np.stack(images),
        labels=np.array(labels),
        label_names=list("ABC"),
        is_test=np.zeros(len(labels), bool),
        typeface_ids=np.array(faces, dtype=np.int32),
        fonts={"name": names, **{k: np.full(90, "", dtype="<U1") for k in ("family", "weight", "style", "category")}},
    )
    return TypefaceCorpus(dataset), group


ALGORITHMS = [
    ClusterParams(algorithm="kmeans", n_clusters=3),
    ClusterParams(algorithm="kmeans", n_clusters=3, metric="cosine"),
    ClusterParams(algorithm="spectral", n_clusters=3, n_neighbors=8),
    ClusterParams(algorithm="dbscan", eps=5.0, min_samples=4),
    ClusterParams(algorithm="dbscan-auto", min_samples=10),
    ClusterParams(algorithm="kmeans", n_clusters=3, pca_dims=5),
]


@pytest.mark.parametrize("params", ALGORITHMS, ids=lambda p: f"{p.algorithm}-{p.metric}-pca{p.pca_dims}")
def test_algorithms_recover_well_separated_clusters(synthetic, params):
    corpus, group = synthetic
    result = cluster_typefaces(corpus, CHARS, params)
    assert 0 not in result.font_ids and len(result.font_ids) == 89  # Face00 lacks 'B'
    assert result.summary["missing"] == 1 and result.summary["clusters"] == 3
    predicted = np.full(90, -1)
    for k, members in enumerate(result.clusters):
        predicted[members] = k
    assert adjusted_rand_score(group[result.font_ids], predicted[result.font_ids]) == 1.0
    for distances in result.distances:
        assert np.all(np.diff(distances) >= 0)  # nearest the centre first


def test_kmeans_distances_are_to_the_centroid(synthetic):
    corpus, _ = synthetic
    result = cluster_typefaces(corpus, CHARS, ClusterParams(algorithm="kmeans", n_clusters=3))
    ids, x = corpus.vectors(CHARS)
    row_of = {f: i for i, f in enumerate(ids)}
    for members, distances in zip(result.clusters, result.distances, strict=True):
        points = x[[row_of[f] for f in members]]
        np.testing.assert_allclose(distances, np.linalg.norm(points - points.mean(axis=0), axis=1), rtol=1e-4)


def test_dbscan_distances_are_to_the_nearest_core_point(synthetic):
    corpus, _ = synthetic
    result = cluster_typefaces(corpus, CHARS, ClusterParams(algorithm="dbscan", eps=5.0, min_samples=4))
    assert all(d[0] == 0 for d in result.distances)  # core points sit at distance 0
    auto = cluster_typefaces(corpus, CHARS, ClusterParams(algorithm="dbscan-auto", min_samples=10))
    sweep = auto.summary["sweep"]
    assert max(sweep["clusters"]) == 3 and len(sweep["eps"]) == len(sweep["clusters"])
    assert 0 <= auto.summary["eps_relative"] <= 1
    low, high = auto.summary["eps_range"]
    assert low <= auto.summary["eps"] <= high


def test_fractions_take_the_farthest_first_deterministically(synthetic):
    corpus, _ = synthetic
    result = cluster_typefaces(corpus, CHARS, ClusterParams(algorithm="kmeans", n_clusters=3))
    chosen = select(result, [0.5, 0.0, 1.0])
    members = result.clusters[0]
    assert list(chosen[0]) == list(members[::-1][: take_count(len(members), 0.5)])
    assert len(chosen[1]) == 0 and sorted(chosen[2]) == sorted(result.clusters[2])
    farthest = result.distances[0][::-1][: len(chosen[0])]
    assert farthest.min() >= result.distances[0][: len(members) - len(chosen[0])].max()
    again = select(cluster_typefaces(corpus, CHARS, ClusterParams(algorithm="kmeans", n_clusters=3)), [0.5, 0, 1])
    assert all(np.array_equal(a, b) for a, b in zip(chosen, again, strict=True))


def test_take_count():
    assert [take_count(10, f) for f in (0, 0.01, 0.25, 0.34, 0.5, 1)] == [0, 1, 3, 3, 5, 10]
    with pytest.raises(ClusteringError):
        take_count(10, 1.5)


def test_dataset_size_arithmetic(synthetic):
    corpus, _ = synthetic
    chosen = np.array([1, 2, 3])  # Face01 lacks 'C'
    sizes = dataset_sizes(corpus, chosen, n_selected_chars=2)
    assert sizes == {"typefaces": 3, "DS-S": 6, "DS-G": 3 + 3 + 2, "DS-A": 3 + 3 + 2}


@pytest.mark.parametrize(
    ("chars", "params", "message"),
    [
        ("AZ", ClusterParams(), "unknown characters"),
        ("", ClusterParams(), "at least one character"),
        ("AB", ClusterParams(n_clusters=500), "between 1 and 89"),
        ("AB", ClusterParams(algorithm="dbscan", eps=0), "eps must be > 0"),
        ("AB", ClusterParams(pca_dims=5000), "PCA dims"),
        ("AB", ClusterParams(algorithm="spectral", n_neighbors=1), "k must be"),
        ("AB", ClusterParams(algorithm="optics"), "unknown algorithm"),
        ("AB", ClusterParams(metric="manhattan"), "unknown K-means metric"),
    ],
)
def test_impossible_parameters(synthetic, chars, params, message):
    corpus, _ = synthetic
    with pytest.raises(ClusteringError, match=message):
        cluster_typefaces(corpus, chars, params)


def test_saved_font_set_round_trips_and_trains(data_env, tmp_path):
    corpus = TypefaceCorpus(load_dataset("alphanumeric"))
    result = cluster_typefaces(corpus, "AGag", ClusterParams(algorithm="kmeans", n_clusters=3))
    font_set, chosen_ids = font_set_for(result, corpus, [1.0, 0.5, 0.0])
    assert sorted(corpus.names[chosen_ids].tolist()) == sorted(font_set.font_names)
    path = tmp_path / "font_set.json"
    write_font_set(path, font_set)
    saved = json.loads(path.read_text())
    assert saved["charset"] == list("AGag") and saved["algorithm"] == "kmeans"
    assert saved["fractions"] == [1.0, 0.5] and len(saved["clusters"]) == 2
    data = load_dataset(str(path), split="all")
    chosen = [n for c in select(result, [1.0, 0.5, 0.0]) for n in corpus.names[c]]
    assert sorted(set(data.typefaces.tolist())) == sorted(chosen)
    assert data.label_names == list("AGag") and len(data) == 4 * len(chosen)
    assert data.is_test.any() and not data.is_test.all()
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "dense.py"),
            "--dataset",
            str(path),
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "run"),
            "--no_plot",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_sweep_counts_match_dbscan(synthetic):
    from sklearn.cluster import DBSCAN
    from sklearn.metrics import pairwise_distances

    from latentmap.typefaces import DbscanSweep

    corpus, _ = synthetic
    _, x = corpus.vectors("ABC")
    x = x + np.random.default_rng(1).normal(0, 0.5, size=x.shape)  # less regular than the groups
    distances = pairwise_distances(x)
    sweep = DbscanSweep(distances, min_samples=4)
    for eps in np.linspace(distances[distances > 0].min(), distances.max(), 25):
        labels = DBSCAN(eps=eps, min_samples=4, metric="precomputed").fit_predict(distances)
        assert sweep.count(eps) == len(set(labels) - {-1}), eps


def test_prim_spanning_tree_matches_scipy():
    from scipy.sparse.csgraph import minimum_spanning_tree

    from latentmap.typefaces.clustering import mst_edge_weights

    rng = np.random.default_rng(0)
    points = rng.normal(size=(60, 3))
    weights = np.linalg.norm(points[:, None] - points[None], axis=-1)
    edges = mst_edge_weights(weights)
    assert len(edges) == 59
    assert edges.sum() == pytest.approx(minimum_spanning_tree(weights).sum())


def test_the_clustering_bound_counts_what_each_algorithm_does():
    """At the full corpus' size: a 500-cluster spectral run (500 eigenvectors) and DBSCAN's
    dense matrices over a large fonts folder are refused before any work."""
    from latentmap.typefaces.clustering import ClusterParams, check_work
    from latentmap.typefaces.corpus import ClusteringError

    example = ClusterParams(algorithm="spectral", n_clusters=500, n_neighbors=500, pca_dims=10)
    with pytest.raises(ClusteringError, match="fewer clusters or neighbours"):
        check_work(3000, 784, example)
    check_work(3000, 784, ClusterParams(algorithm="spectral", n_clusters=8, n_neighbors=10, pca_dims=10))  # the default
    with pytest.raises(ClusteringError, match="GB of distance matrices"):
        check_work(40_000, 784, ClusterParams(algorithm="dbscan", pca_dims=10))
    check_work(3000, 784, ClusterParams(algorithm="dbscan-auto", pca_dims=10))  # the full corpus fits
    with pytest.raises(ClusteringError, match="fewer clusters"):
        check_work(3000, 784 * 94, ClusterParams(algorithm="kmeans", n_clusters=500))
