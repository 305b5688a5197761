"""The embedding file ``embeddings/<run-name>.embed-<method>.npz``: ``xy`` (N, 2), ``codes``
(N, d), ``indices`` into the full dataset, ``labels``, ``split`` and ``metadata`` (a JSON
string: run directory, weights' SHA-256, dataset spec and size, method, parameters, timings,
quality numbers). No pickles: it loads with ``allow_pickle=False``.
"""

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..errors import LatentmapError

FILE_VERSION = 2  # 2: metadata records the weights' SHA-256


class EmbeddingError(LatentmapError):
    """An embedding file is missing, foreign, corrupt or does not match its run/dataset."""


@dataclass
class Embedding:
    xy: np.ndarray  # (N, 2) float32
    codes: np.ndarray  # (N, d) float32
    indices: np.ndarray  # (N,) int64 into the full dataset
    labels: np.ndarray  # (N,) int64
    split: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return str(self.metadata.get("method", ""))

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        meta = json.dumps({**self.metadata, "version": FILE_VERSION})
        with atomic_path(path) as tmp:
            np.savez(
                tmp,
                xy=self.xy,
                codes=self.codes,
                indices=self.indices,
                labels=self.labels,
                split=np.array(self.split),
                metadata=np.array(meta),
            )
        return path


REQUIRED = {"xy", "codes", "indices", "labels", "split", "metadata"}


def load_embedding(path: str | os.PathLike[str]) -> Embedding:
    """Read and validate an embedding file (never unpickles)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = REQUIRED - set(npz.files)
            if missing:
                raise EmbeddingError(f"{path} is not a latentmap embedding (missing {', '.join(sorted(missing))})")
            arrays = {name: npz[name] for name in REQUIRED}
    except FileNotFoundError:
        raise EmbeddingError(f"embedding file {path} does not exist") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise EmbeddingError(f"{path} is not a readable .npz embedding file ({exc})") from exc
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError as exc:
        raise EmbeddingError(f"{path} has corrupt metadata ({exc})") from exc
    n = len(arrays["xy"])
    shapes_ok = (
        arrays["xy"].shape == (n, 2)
        and arrays["codes"].ndim == 2
        and len(arrays["codes"]) == n
        and arrays["indices"].shape == (n,)
        and arrays["labels"].shape == (n,)
        and np.issubdtype(arrays["indices"].dtype, np.integer)
        and np.isfinite(arrays["xy"]).all()
    )
    if not shapes_ok or not isinstance(metadata, dict) or "run" not in metadata or "dataset" not in metadata:
        raise EmbeddingError(f"{path} is malformed: arrays disagree in length or metadata lacks run/dataset")
    return Embedding(
        xy=arrays["xy"].astype(np.float32),
        codes=arrays["codes"].astype(np.float32),
        indices=arrays["indices"].astype(np.int64),
        labels=arrays["labels"].astype(np.int64),
        split=str(arrays["split"]),
        metadata=metadata,
    )


def check_matches(embedding: Embedding, dataset_spec: str, dataset_size: int, d_latent: int | None = None) -> None:
    """The embedding was made from this dataset (same spec and size) and this code size."""
    meta = embedding.metadata
    if meta.get("dataset") != dataset_spec or meta.get("dataset_size") != dataset_size:
        raise EmbeddingError(
            f"embedding was made from dataset '{meta.get('dataset')}' with {meta.get('dataset_size')} images, "
            f"but the run's dataset is now '{dataset_spec}' with {dataset_size}: re-run `latentmap embed`"
        )
    if embedding.indices.size and (embedding.indices.min() < 0 or embedding.indices.max() >= dataset_size):
        raise EmbeddingError("embedding indices point outside the dataset: re-run `latentmap embed`")
    if d_latent is not None and embedding.codes.shape[1] != d_latent:
        raise EmbeddingError(
            f"embedding codes have {embedding.codes.shape[1]} dimensions but the run's code has {d_latent}: "
            "the run was retrained since; re-run `latentmap embed`"
        )


def check_weights(embedding: Embedding, weights_sha256: str) -> None:
    """The embedding's codes came from exactly these weights (not an earlier training)."""
    recorded = embedding.metadata.get("weights_sha256")
    if recorded != weights_sha256:
        why = "records no weights" if recorded is None else "was made from other weights (the run was retrained)"
        raise EmbeddingError(
            f"embedding {embedding.metadata.get('run_name', '')} {why}: its codes would be decoded by the wrong "
            "model; re-run `latentmap embed`"
        )
