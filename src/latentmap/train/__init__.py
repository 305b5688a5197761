"""Training: options -> preprocessing -> the loop (stages, checkpoints, exact resume, torchrun)
-> a run directory (config.json, model.safetensors, history.csv, figures/). Reads a dataset
spec; produces run directories that ``load_run`` turns back into an encoder/decoder.
"""

from .data import TrainData
from .external import ExternalRun, wrap_model
from .launch import train
from .loop import Trainer
from .onnx_run import import_onnx  # registers the ONNX run loader with load_run
from .options import TrainOptions
from .run import Run, RunError, load_run
from .typeface import TypefaceRun  # registers the typeface run class with load_run

__all__ = [
    "ExternalRun",
    "Run",
    "RunError",
    "TrainData",
    "TrainOptions",
    "Trainer",
    "TypefaceRun",
    "import_onnx",
    "load_run",
    "train",
    "wrap_model",
]
