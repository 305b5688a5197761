"""The run directory: ``config.json``, ``model.safetensors``, ``history.csv``,
``figures/``, ``checkpoint/``; and :func:`load_run`, the trained model as a plain object.
"""

import contextlib
import csv
import hashlib
import io
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load as load_numpy
from safetensors.torch import save as save_torch_bytes

from ..atomic import (
    atomic_path,
    check_output_folder,
    ensure_writable_dir,
    move_aside,
    remove_stale_folders,
    write_bytes,
    write_text,
)
from ..errors import LatentmapError, LatentmapWarning
from ..images import to_uint8
from ..models import FAMILIES, Autoencoder, ModelConfig, build_model
from . import samplers
from .preprocess import Preprocessor

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
HISTORY = "history.csv"
CHECKPOINT = "checkpoint/state.pt"
CHECKPOINT_EPOCH = "checkpoint/state.json"  # {"epoch": N}: read without loading the checkpoint


class RunError(LatentmapError):
    """A run directory is missing, incomplete, corrupt or inconsistent."""


def run_dir_of(path: str | os.PathLike[str]) -> Path:
    """Accept a run directory or its ``model.safetensors``."""
    path = Path(path)
    if path.is_file() and path.suffix == ".safetensors":
        return path.parent
    if path.is_dir():
        return path
    raise RunError(f"{path} is not a run directory or a model.safetensors file")


def read_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CONFIG
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a run: it has no {CONFIG}") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path} is unreadable or not JSON: {exc}") from exc
    if not isinstance(config, dict) or not {"model", "preprocess", "dataset"} <= config.keys():
        raise RunError(f"{path} is not a latentmap run config (needs model, preprocess, dataset)")
    return config


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    write_text(run_dir / CONFIG, json.dumps(config, indent=2) + "\n")


def save_weights(
    run_dir: Path, model: Autoencoder, preprocessor: Preprocessor, config: dict[str, Any], epoch: int
) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update(
        {f"preprocess.{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in preprocessor.arrays().items()}
    )
    metadata = {"config": json.dumps(config), "epoch": str(epoch)}
    write_bytes(run_dir / WEIGHTS, save_torch_bytes(tensors, metadata=metadata))


def weights_epoch(run_dir: Path) -> int | None:
    """The epoch ``model.safetensors`` was saved at (None: missing, or saved by an older version)."""
    try:
        with safe_open(str(run_dir / WEIGHTS), framework="numpy") as handle:
            epoch = (handle.metadata() or {}).get("epoch")
    except (OSError, SafetensorError):
        return None
    return int(epoch) if epoch is not None and epoch.isdigit() else None


def checkpoint_epoch(run_dir: Path) -> int | None:
    try:
        return int(json.loads((run_dir / CHECKPOINT_EPOCH).read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_history(run_dir: Path, rows: list[dict[str, float]]) -> None:
    if not rows:
        return
    fields = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(run_dir / HISTORY, out.getvalue())


def read_history(run_dir: Path) -> list[dict[str, float]]:
    path = run_dir / HISTORY
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> None:
    with atomic_path(run_dir / CHECKPOINT) as tmp:
        torch.save(state, tmp)
    write_text(run_dir / CHECKPOINT_EPOCH, json.dumps({"epoch": int(state["epoch"])}) + "\n")


def load_checkpoint(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CHECKPOINT
    if not path.is_file():
        raise RunError(f"{run_dir} has no checkpoint to resume from ({CHECKPOINT})")
    try:
        state: dict[str, Any] = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises many types for a corrupt file
        raise RunError(f"checkpoint {path} is corrupt: {exc}") from exc
    return state


def model_from_config(config: dict[str, Any]) -> Autoencoder:
    return build_model(ModelConfig.from_json(config["model"]))


def has_kl(model: ModelConfig) -> bool:
    """Whether the model has a Gaussian posterior and a KL term (a KL weight to report)."""
    return model.kind == "vae" or model.variational


def restore_model(model: Autoencoder, weights: dict[str, torch.Tensor], source: str) -> None:
    expected = model.state_dict()
    if set(weights) != set(expected) or any(weights[k].shape != expected[k].shape for k in expected):
        missing = sorted(set(expected) - set(weights))[:3]
        raise RunError(
            f"{source} does not match its config.json (missing or mis-shaped weights: {missing or 'shapes'})"
        )
    model.load_state_dict(weights)


@dataclass
class Run:
    """A trained autoencoder and everything needed to use it on images."""

    path: Path
    config: dict[str, Any]
    model: Autoencoder
    preprocessor: Preprocessor
    device: torch.device
    weights_sha256: str = ""  # of model.safetensors: embeddings record it to detect retraining

    @property
    def dataset_spec(self) -> str:
        return str(self.config["dataset"])

    @property
    def kind(self) -> str:
        return self.model.config.kind

    @property
    def d_latent(self) -> int:
        return self.model.config.d_latent

    @property
    def has_prior(self) -> bool:
        """Whether the codes were pulled towards N(0, I) (the ``prior`` sampler is offered)."""
        family = FAMILIES.get(self.kind)
        return family is not None and family.has_prior

    def features(self, images: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.preprocessor.transform(images)).to(self.device)

    def encode(self, images: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """uint8 or float images (N, 28, 28) -> codes (N, d_latent) float32."""
        images = np.asarray(images)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise LatentmapError(f"expected images of shape (N, 28, 28), got {images.shape}")
        if images.dtype != np.uint8:
            images = to_uint8(images)
        codes = [self.encode_batch(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
        return np.concatenate(codes) if codes else np.zeros((0, self.d_latent), np.float32)

    @torch.no_grad()
    def encode_batch(self, images: np.ndarray) -> np.ndarray:
        """One batch of uint8 images -> codes: what a run without this network overrides."""
        self.model.eval()
        return self.model.encode(self.features(images)).cpu().numpy()

    def decode(self, codes: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """codes (N, d_latent) -> images (N, 28, 28) float32 in [0, 1]."""
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.d_latent:
            raise LatentmapError(f"expected codes of shape (N, {self.d_latent}), got {codes.shape}")
        parts = [self.decode_batch(codes[i : i + batch_size]) for i in range(0, len(codes), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, 28, 28), np.float32)

    @torch.no_grad()
    def decode_batch(self, codes: np.ndarray) -> np.ndarray:
        """One batch of codes -> images (n, 28, 28) in [0, 1]."""
        self.model.eval()
        features = self.model.decode(torch.from_numpy(codes).to(self.device)).cpu().numpy()
        return self.preprocessor.inverse_transform(features)

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(images))

    def train_codes(self, dataset: Any = None, seed: int = 0) -> np.ndarray:
        """Codes of (a seeded subsample of) the run's train split, what samplers are fitted to."""
        from ..data import load_dataset

        data = (dataset if dataset is not None else load_dataset(self.dataset_spec)).split("train")
        rows = np.arange(len(data))
        if len(rows) > samplers.FIT_CODES:
            rows = np.sort(np.random.default_rng(seed).choice(rows, samplers.FIT_CODES, replace=False))
        return self.encode(data.images[rows])

    def sampler(self, name: str = "gmm", dataset: Any = None) -> samplers.Sampler:
        """The fitted sampler ``name`` (prior, gaussian, gmm): from ``samplers/`` in the run
        directory, or fitted to the train codes (of ``dataset``, default the run's own) and
        kept there (a read-only run directory keeps nothing)."""
        samplers.check(name, self.kind, self.has_prior)
        folder = self.path / "samplers"
        # Keyed by the weights and, for fitted samplers, the data their codes came from:
        # without a dataset, one fitted to the run's own dataset spec serves.
        if name == "prior":
            stored = samplers.load(name, folder, self.weights_sha256)
        elif dataset is None:
            stored = samplers.load(name, folder, lambda info: self.fitted_to_own_data(info))
        else:
            stored = samplers.load(name, folder, f"{self.weights_sha256}:{dataset.fingerprint()}")
        if stored is not None:
            return stored
        if name != "prior" and dataset is None:
            from ..data import load_dataset

            dataset = load_dataset(self.dataset_spec)
        key = self.weights_sha256 if name == "prior" else f"{self.weights_sha256}:{dataset.fingerprint()}"
        codes = self.train_codes(dataset) if name != "prior" else np.zeros((1, self.d_latent), np.float32)
        fitted = samplers.fit(name, codes)
        info = {"sampler": name, "codes": len(codes), "components": len(fitted.weights)}
        info["dataset"] = self.dataset_spec if dataset is None else dataset.spec
        with contextlib.suppress(OSError, LatentmapError):  # a read-only run directory keeps nothing
            samplers.save(fitted, folder, key, info)
        return fitted

    def fitted_to_own_data(self, info: dict[str, Any]) -> bool:
        """A stored sampler of these weights, fitted to codes of the run's own dataset spec."""
        same_weights = str(info.get("key", "")).startswith(f"{self.weights_sha256}:")
        return same_weights and info.get("dataset") == self.dataset_spec

    def sample(self, n: int, sampler: str = "prior", seed: int = 0, dataset: Any = None) -> np.ndarray:
        """``n`` new images (N, 28, 28) float32 in [0, 1], decoded from the sampler's codes."""
        if n < 1:
            raise LatentmapError(f"asked for {n} samples: ask for at least one")
        return self.decode(self.sampler(sampler, dataset).sample(n, seed))


# Run classes by model kind beyond the plain Run: the typeface module adds its TypefaceRun
# when the train package is imported (its __init__ imports it), before any run can load.
RUN_CLASSES: dict[str, type[Run]] = {}
# Loaders of run directories that hold no latentmap network (an imported ONNX pair), by
# config kind: the external module adds its own when the train package is imported.
RUN_LOADERS: dict[str, "Callable[[Path, dict[str, Any]], Run]"] = {}


def make_run(
    path: Path,
    config: dict[str, Any],
    model: Autoencoder,
    preprocessor: Preprocessor,
    device: torch.device,
    sha: str = "",
) -> Run:
    """A :class:`Run`, or the kind's own class (a typeface model's TypefaceRun)."""
    return RUN_CLASSES.get(model.config.kind, Run)(path, config, model, preprocessor, device, sha)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise LatentmapError(f"unknown device '{name}': use auto, cpu or cuda") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise LatentmapError("--device cuda was asked for but no CUDA GPU is available")
    return device


def load_run(path: str | os.PathLike[str], device: str = "cpu") -> Run:
    """Load a trained run from its directory or its ``model.safetensors``; ``device``: cpu,
    cuda, cuda:N or auto."""
    torch_device = resolve_device(device)
    run_dir = run_dir_of(path)
    config = read_config(run_dir)
    kind = config["model"].get("kind") if isinstance(config["model"], dict) else None
    if kind in RUN_LOADERS:
        return RUN_LOADERS[kind](run_dir, config)
    weights_path = run_dir / WEIGHTS
    if not weights_path.is_file():
        stopped = checkpoint_epoch(run_dir)
        hint = (
            f"; it was stopped after epoch {stopped}: continue it with "
            f"`latentmap train {config.get('model', {}).get('kind', 'KIND')} --resume --out {run_dir}`"
            if stopped
            else ""
        )
        raise RunError(f"{run_dir} has no {WEIGHTS} yet (training has not finished a stage){hint}")
    try:
        blob = weights_path.read_bytes()
        arrays = load_numpy(blob)
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunError(f"{weights_path} is corrupt: {exc}") from exc
    saved, checkpointed = weights_epoch(run_dir), checkpoint_epoch(run_dir)
    if saved is not None and checkpointed is not None and checkpointed > saved:
        warnings.warn(
            f"{run_dir}: the checkpoint (epoch {checkpointed}) is newer than {WEIGHTS} (epoch {saved}); "
            f"the run was stopped hard: `latentmap train ... --resume --out {run_dir}` brings the weights up to date",
            LatentmapWarning,
            stacklevel=2,
        )
    try:
        model = model_from_config(config)
        preprocessor = Preprocessor.from_saved(
            config["preprocess"],
            {k.removeprefix("preprocess."): v for k, v in arrays.items() if k.startswith("preprocess.")},
        )
    except (TypeError, KeyError) as exc:
        raise RunError(f"{run_dir / CONFIG} is inconsistent: {exc}") from exc
    weights = {k.removeprefix("model."): torch.from_numpy(v) for k, v in arrays.items() if k.startswith("model.")}
    restore_model(model, weights, str(weights_path))
    if preprocessor.n_features != model.config.n_features:
        raise RunError(
            f"{weights_path}: the preprocessor gives {preprocessor.n_features} features,"
            f" the model expects {model.config.n_features}"
        )
    model.to(torch_device).eval()
    return make_run(run_dir, config, model, preprocessor, torch_device, hashlib.sha256(blob).hexdigest())


def is_run_dir(folder: Path) -> bool:
    return (folder / CONFIG).is_file()


def check_run_out(out: Path, overwrite: bool) -> None:
    """The one-line refusals of a run's --out, before any write: a file, a link, a protected
    or foreign folder, or an existing run without --overwrite."""
    if is_run_dir(out) and not overwrite and not out.is_symlink():
        raise LatentmapError(
            f"{out} already holds a run: use --resume to continue it, --overwrite to replace it, "
            "or --out for a new directory"
        )
    check_output_folder(out, is_run_dir, "run", overwrite)


def prepare_run_dir(out: Path, overwrite: bool) -> Path | None:
    """A new run directory at ``out``. With ``overwrite``, an old run there is moved aside
    in one rename (returned; the trainer deletes it at its first checkpoint), so nothing of
    it (weights, checkpoint, history, figures) can be mistaken for the new run's."""
    check_run_out(out, overwrite)
    remove_stale_folders(out)  # left by a run killed before its first epoch
    replaced = move_aside(out) if is_run_dir(out) else None
    ensure_writable_dir(out)
    return replaced
