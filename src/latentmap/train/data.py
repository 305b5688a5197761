"""The arrays a training run works on: the dataset's train and test parts (for a typeface
run also regrouped by typeface), and the model inputs made from them."""

from dataclasses import dataclass

import numpy as np

from ..data import Dataset
from ..data.glyphs import GlyphGrid, glyph_grid
from ..errors import LatentmapError
from .preprocess import Preprocessor


@dataclass
class TrainData:
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    label_names: list[str]
    grids: tuple[GlyphGrid, GlyphGrid] | None = None  # typeface runs: the (train, test) typefaces


def load_train_data(dataset: Dataset, max_train: int | None, seed: int, by_typeface: bool = False) -> TrainData:
    """``max_train``: a seeded subsample of that many train images (typefaces, ``by_typeface``)."""
    if by_typeface:
        return typeface_data(dataset, max_train, seed)
    train, test = dataset.split("train"), dataset.split("test")
    if len(train) == 0 or len(test) == 0:
        raise LatentmapError(f"dataset {dataset.spec} has an empty train or test split")
    if max_train is not None and max_train < len(train):
        keep = np.sort(np.random.default_rng(seed).choice(len(train), size=max_train, replace=False))
        train = train.subset(keep)
    return TrainData(train.images, train.labels, test.images, test.labels, dataset.label_names)


def typeface_data(dataset: Dataset, max_train: int | None, seed: int) -> TrainData:
    grid = glyph_grid(dataset)
    train, test = grid.split("train"), grid.split("test")
    if len(train) == 0 or len(test) == 0:
        raise LatentmapError(f"dataset {dataset.spec} has no train or no test typefaces")
    if max_train is not None and max_train < len(train):
        train = train.subset(np.sort(np.random.default_rng(seed).choice(len(train), size=max_train, replace=False)))
    columns = np.arange(len(grid.chars))
    return TrainData(
        train.images[train.present],
        np.broadcast_to(columns, train.present.shape)[train.present],
        test.images[test.present],
        np.broadcast_to(columns, test.present.shape)[test.present],
        dataset.label_names,
        grids=(train, test),
    )


def stacked_features(grid: GlyphGrid, preprocessor: Preprocessor) -> np.ndarray:
    """A typeface model's input: (T, C, features) float32, NaN rows for missing glyphs."""
    features = np.full((*grid.present.shape, preprocessor.n_features), np.nan, np.float32)
    features[grid.present] = preprocessor.transform(grid.images[grid.present])
    return features


def model_inputs(data: TrainData, preprocessor: Preprocessor) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) inputs: image features, or typeface stacks for a typeface run."""
    if data.grids is not None:
        return stacked_features(data.grids[0], preprocessor), stacked_features(data.grids[1], preprocessor)
    return preprocessor.transform(data.train_images), preprocessor.transform(data.test_images)
