"""Pixel preprocessing as a scikit-learn style estimator: scale, binarize, PCA, whiten.

``transform`` maps uint8 images (N, 28, 28) to float32 features (N, D);
``inverse_transform`` maps features back to images in [0, 1], so every decode of a model
that works in PCA space still returns images. The fitted arrays are plain numpy arrays
(saved in the run's safetensors file).
"""

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import LatentmapError

PIXELS = 28 * 28
# Whitening divides by each component's standard deviation; near-null components (MNIST's
# border pixels) have ~2e-6 and would blow test data up. Variances are floored at this
# fraction of the largest one.
WHITEN_VARIANCE_FLOOR = 1e-4


@dataclass
class Preprocessor:
    pca_dims: float = 0  # 0: none; int >= 1: components; 0 < float < 1: variance kept
    whiten: bool = False
    binarize: bool = False
    seed: int = 0

    mean_: np.ndarray | None = None  # (784,)
    components_: np.ndarray | None = None  # (D, 784), orthonormal rows
    scale_: np.ndarray | None = None  # (D,), standard deviation of each component

    def __post_init__(self) -> None:
        if self.pca_dims < 0 or (self.pca_dims >= 1 and self.pca_dims != int(self.pca_dims)):
            raise LatentmapError(
                f"--pca_dims {self.pca_dims} is invalid: use 0 (no PCA), an integer number of dimensions,"
                " or a fraction of variance between 0 and 1"
            )
        if self.whiten and not self.pca_dims:
            raise LatentmapError("--whiten needs --pca_dims (it z-scores each PCA feature)")

    @property
    def uses_pca(self) -> bool:
        return bool(self.pca_dims)

    @property
    def n_features(self) -> int:
        return PIXELS if self.components_ is None else len(self.components_)

    def scale(self, images: np.ndarray) -> np.ndarray:
        """uint8 images -> float32 pixels in [0, 1] (or {0, 1} when binarizing), flattened."""
        pixels = np.asarray(images, dtype=np.float32).reshape(len(images), PIXELS) / 255.0
        return (pixels > 0.5).astype(np.float32) if self.binarize else pixels

    def fit(self, images: np.ndarray) -> "Preprocessor":
        if not self.uses_pca:
            return self
        from sklearn.decomposition import PCA

        pixels = self.scale(images)
        limit = min(pixels.shape)
        if self.pca_dims >= 1 and self.pca_dims > limit:
            raise LatentmapError(f"--pca_dims {int(self.pca_dims)} is larger than the data allows (at most {limit})")
        n_components: float | int = int(self.pca_dims) if self.pca_dims >= 1 else float(self.pca_dims)
        solver = "randomized" if self.pca_dims >= 1 and self.pca_dims < limit // 4 else "full"
        pca = PCA(n_components=n_components, svd_solver=solver, random_state=self.seed).fit(pixels)
        self.mean_ = pca.mean_.astype(np.float32)
        self.components_ = pca.components_.astype(np.float32)
        variance = np.maximum(pca.explained_variance_, WHITEN_VARIANCE_FLOOR * pca.explained_variance_.max())
        self.scale_ = np.sqrt(variance).astype(np.float32)
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        pixels = self.scale(images)
        if not self.uses_pca:
            return pixels
        self._check_fitted()
        assert self.mean_ is not None and self.components_ is not None and self.scale_ is not None
        features = (pixels - self.mean_) @ self.components_.T
        return features / self.scale_ if self.whiten else features

    def fit_transform(self, images: np.ndarray) -> np.ndarray:
        return self.fit(images).transform(images)

    def inverse_transform(self, features: np.ndarray) -> np.ndarray:
        """Features -> images (N, 28, 28) float32 clipped to [0, 1]."""
        features = np.asarray(features, dtype=np.float32)
        if self.uses_pca:
            self._check_fitted()
            assert self.mean_ is not None and self.components_ is not None and self.scale_ is not None
            if self.whiten:
                features = features * self.scale_
            features = features @ self.components_ + self.mean_
        return np.clip(features, 0.0, 1.0).reshape(len(features), 28, 28)

    def _check_fitted(self) -> None:
        if self.components_ is None:
            raise LatentmapError("the preprocessor is not fitted: call fit() first")

    # ---------------------------------------------------------------- persistence

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.endswith("_")}

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.uses_pca:
            return {}
        self._check_fitted()
        assert self.mean_ is not None and self.components_ is not None and self.scale_ is not None
        return {"mean": self.mean_, "components": self.components_, "scale": self.scale_}

    @classmethod
    def from_saved(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> "Preprocessor":
        pre = cls(**params)
        if pre.uses_pca:
            try:
                pre.mean_, pre.components_, pre.scale_ = arrays["mean"], arrays["components"], arrays["scale"]
            except KeyError as exc:
                raise LatentmapError(f"saved preprocessor is missing its PCA array {exc}") from exc
            if pre.components_.ndim != 2 or pre.components_.shape[1] != PIXELS or pre.mean_.shape != (PIXELS,):
                raise LatentmapError("saved PCA arrays have the wrong shapes")
        return pre
