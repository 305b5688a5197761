"""The arrays a training run works on: the dataset's train and test parts."""

from dataclasses import dataclass

import numpy as np

from ..data import Dataset
from ..errors import LatentmapError


@dataclass
class TrainData:
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    label_names: list[str]


def load_train_data(dataset: Dataset, max_train: int | None, seed: int) -> TrainData:
    train, test = dataset.split("train"), dataset.split("test")
    if len(train) == 0 or len(test) == 0:
        raise LatentmapError(f"dataset {dataset.spec} has an empty train or test split")
    if max_train is not None and max_train < len(train):
        keep = np.sort(np.random.default_rng(seed).choice(len(train), size=max_train, replace=False))
        train = train.subset(keep)
    return TrainData(train.images, train.labels, test.images, test.labels, dataset.label_names)
