"""Embedding: a run's codes projected to 2D (PCA, t-SNE, UMAP over one shared neighbour
graph), rendered as a large map. Reads a run directory and its dataset; produces embedding
files (``<run>.embed-<method>.npz``), ``.map.png`` pictures and TensorBoard projector files.
"""

from .file import Embedding, EmbeddingError, load_embedding
from .job import EmbedJob, embed_run
from .methods import METHODS, EmbedParams, project

__all__ = [
    "METHODS",
    "EmbedJob",
    "EmbedParams",
    "Embedding",
    "EmbeddingError",
    "embed_run",
    "load_embedding",
    "project",
]
