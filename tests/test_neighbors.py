import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from latentmap import load_dataset
from latentmap.embed.neighbors import neighbor_graph
from latentmap.errors import LatentmapError


@pytest.fixture(scope="module")
def codes(datasets_dir, session_cache):
    """4,000 MNIST test images as 16-dim PCA codes: real, low-dimensional data like latent codes."""
    digits = load_dataset("digits", data_dir=str(datasets_dir), cache_dir=str(session_cache))
    pixels = digits.images[digits.is_test][:4000].reshape(4000, -1).astype(np.float32) / 255
    return PCA(n_components=16, random_state=0).fit_transform(pixels).astype(np.float32)


def sklearn_neighbours(codes, k, metric="euclidean"):
    distances, indices = NearestNeighbors(n_neighbors=k + 1, metric=metric).fit(codes).kneighbors(codes)
    return indices[:, 1:], distances[:, 1:]


def recall(found, truth):
    return np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(found, truth, strict=True)])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_search_is_scikit_learns_without_the_point_itself(codes, metric):
    graph = neighbor_graph(codes, 20, metric=metric, method="exact")
    indices, distances = sklearn_neighbours(codes, 20, metric)
    assert graph.indices.shape == (4000, 20) and graph.k == 20 and graph.method == "exact"
    assert not (graph.indices == np.arange(4000)[:, None]).any()
    np.testing.assert_allclose(graph.distances, distances, rtol=1e-4, atol=1e-5)
    assert recall(graph.indices, indices) > 0.999  # ties may swap equal-distance neighbours
    assert (np.diff(graph.distances, axis=1) >= -1e-6).all()  # nearest first


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_hnsw_finds_nearly_all_true_neighbours_with_true_distances(codes, metric):
    graph = neighbor_graph(codes, 30, metric=metric, method="hnsw")
    indices, _ = sklearn_neighbours(codes, 30, metric)
    assert graph.method == "hnsw" and graph.indices.shape == (4000, 30)
    assert not (graph.indices == np.arange(4000)[:, None]).any()
    assert recall(graph.indices, indices) > 0.97
    # its distances are real distances (rooted, not squared) between the listed points
    rows = np.repeat(np.arange(4000), 30)
    if metric == "euclidean":
        expected = np.linalg.norm(codes[rows] - codes[graph.indices.ravel()], axis=1)
    else:
        a, b = codes[rows], codes[graph.indices.ravel()]
        expected = 1 - (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(graph.distances.ravel(), expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("method", ["exact", "hnsw"])
def test_duplicated_codes_list_their_twin_not_themselves(codes, method):
    twice = np.vstack([codes[:1000], codes[:1000]])
    graph = neighbor_graph(twice, 10, method=method)
    own = np.arange(2000)
    assert graph.indices.shape == (2000, 10) and not (graph.indices == own[:, None]).any()
    twins = (own + 1000) % 2000
    found = (graph.indices == twins[:, None]).any(axis=1)
    assert found.mean() > 0.99
    assert np.allclose(graph.distances[found, 0], 0, atol=1e-3)


def test_the_graph_in_each_librarys_format(codes):
    graph = neighbor_graph(codes, 20, method="exact")
    indices, distances = graph.for_umap(15)  # umap-learn counts the point itself
    assert indices.shape == distances.shape == (4000, 15)
    np.testing.assert_array_equal(indices[:, 0], np.arange(4000))
    assert (distances[:, 0] == 0).all()
    np.testing.assert_array_equal(indices[:, 1:], graph.indices[:, :14])
    prepared = graph.for_opentsne(12)
    built_indices, built_distances = prepared.build()
    assert prepared.k == 12 and built_indices.shape == (4000, 12)
    np.testing.assert_allclose(built_distances, graph.distances[:, :12], rtol=1e-6)


def test_bad_requests_are_one_clear_error(codes):
    with pytest.raises(LatentmapError, match="supports euclidean, cosine, not 'manhattan'"):
        neighbor_graph(codes, 5, metric="manhattan")
    with pytest.raises(LatentmapError, match="10 neighbours need more than 10 points, got 10"):
        neighbor_graph(codes[:10], 10)
    with pytest.raises(LatentmapError, match="unknown neighbour search 'kd'"):
        neighbor_graph(codes, 5, method="kd")
