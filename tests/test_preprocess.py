import numpy as np
import pytest

from latentmap import load_dataset
from latentmap.errors import LatentmapError
from latentmap.train.preprocess import Preprocessor


@pytest.fixture(scope="module")
def images(datasets_dir, session_cache):
    return load_dataset("digits", split="test", data_dir=datasets_dir, cache_dir=session_cache).images[:3000]


def test_no_pca_is_scaling(images):
    pre = Preprocessor().fit(images)
    features = pre.transform(images)
    assert features.shape == (len(images), 784) and features.dtype == np.float32
    np.testing.assert_allclose(pre.inverse_transform(features), images / 255, atol=1e-6)


def test_full_pca_round_trip_is_lossless(images):
    pre = Preprocessor(pca_dims=784).fit(images)
    back = pre.inverse_transform(pre.transform(images))
    np.testing.assert_allclose(back, images / 255, atol=2e-4)


def test_variance_fraction_and_round_trip_error(images):
    pre = Preprocessor(pca_dims=0.9).fit(images)
    assert 40 < pre.n_features < 150
    pixels = images.reshape(len(images), -1) / 255
    back = pre.inverse_transform(pre.transform(images)).reshape(len(images), -1)
    residual = ((pixels - back) ** 2).sum(axis=1).mean()
    total = ((pixels - pixels.mean(axis=0)) ** 2).sum(axis=1).mean()
    assert residual / total == pytest.approx(0.1, abs=0.02)  # about the 10% of variance left out


def test_whitening_gives_unit_variance(images):
    pre = Preprocessor(pca_dims=20, whiten=True).fit(images)
    features = pre.transform(images)
    np.testing.assert_allclose(features.std(axis=0, ddof=1), 1, atol=0.02)
    np.testing.assert_allclose(
        pre.inverse_transform(features),
        Preprocessor(pca_dims=20)
        .fit(images)
        .inverse_transform(Preprocessor(pca_dims=20).fit(images).transform(images)),
        atol=1e-4,
    )


def test_saved_arrays_restore_the_same_transform(images):
    pre = Preprocessor(pca_dims=30, whiten=True).fit(images)
    again = Preprocessor.from_saved(pre.get_params(), pre.arrays())
    np.testing.assert_array_equal(again.transform(images[:10]), pre.transform(images[:10]))


def test_binarize():
    pre = Preprocessor(binarize=True)
    assert set(np.unique(pre.transform(np.array([[[0, 127, 128, 255] * 196]], dtype=np.uint8).reshape(1, 28, 28)))) == {
        0,
        1,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"pca_dims": 2.5}, "invalid"), ({"whiten": True}, "needs --pca_dims")]
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(LatentmapError, match=message):
        Preprocessor(**kwargs)


def test_pca_dims_larger_than_the_data(images):
    with pytest.raises(LatentmapError, match="larger than the data allows"):
        Preprocessor(pca_dims=500).fit(images[:100])


def test_whitening_has_a_variance_floor(images, datasets_dir, session_cache):
    from latentmap.train.preprocess import WHITEN_VARIANCE_FLOOR

    pre = Preprocessor(pca_dims=700, whiten=True).fit(images)
    assert pre.scale_ is not None
    assert pre.scale_.min() >= np.sqrt(WHITEN_VARIANCE_FLOOR) * pre.scale_.max() * 0.999
    unseen = load_dataset("digits", split="train", data_dir=datasets_dir, cache_dir=session_cache).images[:2000]
    features = pre.transform(unseen)
    # Without the floor, near-null components (scale ~2e-6) send unseen images to ~1e4.
    assert np.abs(features).max() < 500
    np.testing.assert_allclose(pre.inverse_transform(pre.transform(images)), images / 255, atol=5e-3)
