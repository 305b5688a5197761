"""The judge: one small CNN classifier per dataset, used to score decoded images.

It gives class probabilities and a feature vector (its penultimate layer) for any batch
of 28x28 images. A decode is *valid* when the judge's top probability reaches ``tau``, the
5th percentile of its top-class confidence on real test images (so about 95% of real
images are valid by construction).

Files: ``<cache>/judge/<spec>-<data hash>-<settings hash>.safetensors`` (weights) and
``.json`` (test accuracy, tau, confusion matrix, confidence quantiles, confusable groups,
training settings, versions). The data hash covers the images, labels and split, so a judge
is retrained when the data change; the settings hash covers epochs, batch size, subsample and
seed, so a quick ``latentmap judge train --epochs 1`` is kept apart from the judge that
``compare``, ``evaluate`` and the explorer use (the one with the default ``SETTINGS``).
"""

import contextlib
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch.nn import functional as F
from tqdm import tqdm

from ..atomic import write_bytes, write_text
from ..cores import threads_per_process, torch_threads
from ..data import Dataset
from ..errors import LatentmapError
from ..version import __version__
from .judge_nets import FEATURES, NETS, JudgeNetwork
from .metric_table import LABEL_FREE

TAU_QUANTILE = 0.05
QUANTILES = (0.01, 0.05, 0.1, 0.2, 0.25, 0.5)  # of the top-class confidence on real test images
CONFUSABLE = 0.15  # share of a class predicted as another that makes the two one group
# The judge all parts use: a CNN ("net": "mlp" is a pixel MLP, a second judge of another kind).
# ("net", not "arch": a model's --arch is mlp | conv, a judge's network is cnn | mlp.)
SETTINGS: dict[str, Any] = {"epochs": 6, "batch_size": 128, "max_train": None, "seed": 0, "net": "cnn"}


class JudgeError(LatentmapError):
    """A judge file is missing, corrupt, or was trained on other data."""


class UnlabelledError(JudgeError):
    """The dataset has no labels: no classifier can be trained to judge it."""


# What a judge reads (everything `compare` measures but these) cannot be had without labels.


def require_labels(dataset: Dataset) -> None:
    if not dataset.labelled:
        raise UnlabelledError(
            f"{dataset.spec} has no labels, and the judge is a classifier trained on them: validity, accuracy, "
            f"precision/recall, FID and analogies need labels (only {', '.join(LABEL_FREE)} do not); "
            "import it again with class folders or --labels CSV"
        )


def as_batch(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 28, 28) or float in [0, 1] -> (N, 1, 28, 28) float32 in [0, 1]."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise LatentmapError(f"the judge takes images of shape (N, 28, 28), got {images.shape}")
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    if images.dtype == np.uint8:
        x = x / 255.0
    return x[:, None]


def data_hash(dataset: Dataset) -> str:
    digest = hashlib.sha256()
    for array in (dataset.images, dataset.labels, dataset.is_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps(dataset.label_names).encode())
    return digest.hexdigest()[:16]


def judge_key(dataset: Dataset, settings: dict[str, Any]) -> str:
    """Names a judge by its data and its training settings (the CNN's without its network, so
    judges trained before there was a choice keep their names; the setting keeps its first
    name, "arch", in the key, so cached judges keep theirs too)."""
    named = {("arch" if k == "net" else k): v for k, v in settings.items() if not (k == "net" and v == "cnn")}
    digest = hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()[:8]
    return f"{data_hash(dataset)}-{digest}"


def judge_settings(**overrides: Any) -> dict[str, Any]:
    unknown = set(overrides) - set(SETTINGS)
    if unknown:
        raise LatentmapError(f"unknown judge setting(s) {', '.join(sorted(unknown))}: use {', '.join(SETTINGS)}")
    if overrides.get("net", "cnn") not in NETS:
        raise LatentmapError(f"unknown judge network '{overrides['net']}': use {', '.join(NETS)}")
    return {**SETTINGS, **overrides}


def judge_paths(spec: str, digest: str, cache_dir: Path) -> tuple[Path, Path]:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(spec).stem if spec.endswith(".json") else spec)
    stem = cache_dir / "judge" / f"{slug}-{digest}"
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


@dataclass
class Judge:
    """A trained judge and what it knows about its data."""

    net: JudgeNetwork
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def tau(self) -> float:
        return float(self.info["tau"])

    def at(self, quantile: float) -> "Judge":
        """The same judge with tau at another quantile of its confidence on real test images
        (0.01 strict ... 0.2 lenient): a verdict should not hang on one threshold."""
        quantiles = self.info.get("confidence_quantiles", {})
        if str(quantile) not in quantiles:
            raise JudgeError(f"this judge keeps the quantiles {', '.join(quantiles)}: retrain it for {quantile}")
        return Judge(self.net, {**self.info, "tau": quantiles[str(quantile)], "tau_quantile": quantile})

    @functools.cached_property
    def fingerprint(self) -> str:
        """Identifies this judge: its weights and tau (a retrained judge differs in both)."""
        return hashlib.sha256(f"{self.tau!r}-{self.weights_fingerprint}".encode()).hexdigest()[:16]

    @functools.cached_property
    def weights_fingerprint(self) -> str:
        """Identifies the network alone: what it says of an image at any tau."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.net.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (N, classes) and features (N, 128) of any batch of images."""
        self.net.eval()
        x = as_batch(images)
        probs, feats = [], []
        for start in range(0, len(x), batch_size):
            h = self.net.features(x[start : start + batch_size])
            probs.append(F.softmax(self.net.out(h), dim=1).numpy())
            feats.append(h.numpy())
        if not probs:
            return np.zeros((0, len(self.info["label_names"])), np.float32), np.zeros((0, FEATURES), np.float32)
        return np.concatenate(probs), np.concatenate(feats)

    def valid(self, probs: np.ndarray) -> np.ndarray:
        return probs.max(axis=1) >= self.tau


def confusable_groups(confusion: np.ndarray, names: list[str], threshold: float = CONFUSABLE) -> list[list[int]]:
    """Classes the judge mixes up (either way, at least ``threshold`` of a class's test
    images), joined transitively: l I | 1 and O 0 o in TMNIST. Only groups of two or more."""
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero((rates >= threshold) | (threshold <= rates.T)), strict=True):
        if i != j:
            parent[root(int(i))] = root(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(names)):
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def group_of(groups: list[list[int]], n_classes: int) -> np.ndarray:
    """Per class the id of its confusable group (its own id when it has none)."""
    ids = np.arange(n_classes)
    for group in groups:
        ids[group] = min(group)
    return ids


def train_judge(
    dataset: Dataset,
    epochs: int = SETTINGS["epochs"],
    batch_size: int = SETTINGS["batch_size"],
    max_train: int | None = SETTINGS["max_train"],
    seed: int = SETTINGS["seed"],
    progress: bool = True,
    net: str = SETTINGS["net"],
) -> Judge:
    """Train on the dataset's train split; measure on its test split."""
    require_labels(dataset)
    threads = threads_per_process(1)  # LATENTMAP_THREADS, the rule every training process follows
    if epochs < 1 or (max_train is not None and max_train < 1):
        raise LatentmapError("judge training needs --epochs >= 1 and --max_train >= 1")
    train, test = dataset.split("train"), dataset.split("test")
    if len(train) == 0 or len(test) == 0:
        raise LatentmapError(f"{dataset.spec} has an empty train or test split: no judge can be trained")
    rng = np.random.default_rng(seed)
    rows = np.arange(len(train))
    if max_train is not None and max_train < len(rows):
        rows = np.sort(rng.choice(rows, size=max_train, replace=False))
    torch.manual_seed(seed)
    n_classes = len(dataset.label_names)
    network = NETS[net](n_classes)
    optimizer = torch.optim.Adam(network.parameters(), lr=2e-3)
    steps = -(-len(rows) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=epochs * steps)
    x_all, y_all = as_batch(train.images[rows]), torch.from_numpy(train.labels[rows])
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    bar = tqdm(total=epochs * steps, desc=f"training the judge for {dataset.spec}", disable=None if progress else True)
    with bar, torch_threads(threads):
        for _ in range(epochs):
            network.train()
            order = torch.randperm(len(rows), generator=generator)
            for step in range(steps):
                batch = order[step * batch_size : (step + 1) * batch_size]
                loss = F.cross_entropy(network(x_all[batch]), y_all[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                bar.update()
                if step % 50 == 0 and not bar.disable:
                    bar.set_postfix(loss=f"{loss.item():.3f}")
    seconds = time.perf_counter() - started
    judge = Judge(network, {"label_names": dataset.label_names})
    probs, _ = judge.predict(test.images)
    predicted = probs.argmax(axis=1)
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (test.labels, predicted), 1)
    confidence = probs.max(axis=1)
    groups = confusable_groups(confusion, dataset.label_names) if n_classes > 20 else []
    ids = group_of(groups, n_classes)
    judge.info.update(
        {
            "dataset": dataset.spec,
            "data_hash": data_hash(dataset),
            "accuracy": float((predicted == test.labels).mean()),
            "group_accuracy": float((ids[predicted] == ids[test.labels]).mean()),
            "confusable_groups": [[dataset.label_names[i] for i in g] for g in groups],
            "tau": float(np.quantile(confidence, TAU_QUANTILE)),
            "confidence_quantiles": {str(q): float(np.quantile(confidence, q)) for q in QUANTILES},
            "confusion": confusion.tolist(),
            "test_images": len(test),
            "train_images": len(rows),
            "epochs": epochs,
            "seed": seed,
            "settings": {
                "epochs": epochs,
                "batch_size": batch_size,
                "max_train": max_train,
                "seed": seed,
                "net": net,
            },
            "train_seconds": seconds,
            "versions": {"latentmap": __version__, "torch": torch.__version__},
        }
    )
    return judge


def save_judge(judge: Judge, weights: Path, info: Path) -> None:
    state = {k: v.contiguous() for k, v in judge.net.state_dict().items()}
    write_bytes(weights, save(state))
    write_text(info, json.dumps(judge.info, indent=1) + "\n")


def read_judge(weights: Path, info_path: Path, expected_hash: str | None = None) -> Judge:
    try:
        info = json.loads(info_path.read_text())
        state = load_file(weights)
    except FileNotFoundError:
        raise JudgeError(f"no judge at {info_path}: run `latentmap judge train`") from None
    except (OSError, ValueError, SafetensorError) as exc:
        raise JudgeError(
            f"judge file {weights.name} or {info_path.name} is corrupt ({exc}): delete it and retrain"
        ) from exc
    if not isinstance(info, dict) or not {"tau", "label_names", "data_hash", "accuracy"} <= info.keys():
        raise JudgeError(f"{info_path} is not a judge description: delete it and retrain")
    if expected_hash is not None and info["data_hash"] != expected_hash:
        raise JudgeError(f"judge {info_path.name} was trained on other data: run `latentmap judge train`")
    settings = info.get("settings", {})
    kind = settings.get("net", settings.get("arch", "cnn"))  # judges from before the choice are CNNs
    if kind not in NETS:
        raise JudgeError(f"{info_path} describes a judge of unknown network '{kind}': delete it and retrain")
    net = NETS[kind](len(info["label_names"]))
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError) as exc:
        raise JudgeError(f"judge weights {weights.name} do not fit its description: delete them and retrain") from exc
    return Judge(net.eval(), info)


def judge_for(
    dataset: Dataset,
    cache_dir: Path,
    train_if_missing: bool = True,
    progress: bool = True,
    announce: Callable[[str], Any] | None = None,
    **settings: Any,
) -> Judge:
    """The judge for ``dataset`` trained with ``settings`` (default: ``SETTINGS``) from the
    cache, trained (and saved) first if missing or stale; ``announce`` is told before a
    training starts (it takes a minute: a command should say why it waits)."""
    require_labels(dataset)
    chosen = judge_settings(**settings)
    weights, info = judge_paths(dataset.spec, judge_key(dataset, chosen), cache_dir)
    if info.is_file() or weights.is_file():
        return read_judge(weights, info, data_hash(dataset))
    if not train_if_missing:
        raise JudgeError(f"no judge for {dataset.spec} yet: run `latentmap judge train {dataset.spec}`")
    # Two processes that need the same judge (a sweep and an explorer, two test workers)
    # train it once: the second waits for the first and reads what it saved.
    with judge_lock(weights):
        if info.is_file() or weights.is_file():
            return read_judge(weights, info, data_hash(dataset))
        if announce is not None:
            announce(
                f"no {'' if chosen['net'] == 'cnn' else chosen['net'] + ' '}judge for {dataset.spec} yet: training "
                "one first (about a minute on 2 cores; cached for next time)"
            )
        judge = train_judge(dataset, progress=progress, **chosen)
        save_judge(judge, weights, info)
    return judge


@contextlib.contextmanager
def judge_lock(weights: Path) -> Iterator[None]:
    """A file lock beside the judge's file; where none can be made (a read-only cache), none."""
    from filelock import FileLock

    try:
        weights.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(f"{weights}.lock")
        lock.acquire()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.release()


class JudgeSlot:
    """The judge of one dataset for a long-running app: ready, or trained in a background
    thread (the app works meanwhile and shows verdicts once it is ready)."""

    def __init__(self, judge: Judge | None = None, status: str | None = None) -> None:
        self.judge = judge
        self.status = status or ("ready" if judge is not None else "missing")

    @classmethod
    def for_dataset(cls, dataset: Dataset, cache_dir: Path, train: bool = True) -> "JudgeSlot":
        """From the cache, or (with ``train``) trained in the background."""
        import threading

        try:
            return cls(judge_for(dataset, cache_dir, train_if_missing=False))
        except UnlabelledError:
            return cls(None, f"unavailable: {dataset.spec} has no labels to train a judge on")
        except JudgeError as exc:
            if not train:
                return cls(None, f"unavailable: {exc}")
        slot = cls(None, "training")

        def work() -> None:
            try:
                slot.judge = judge_for(dataset, cache_dir, progress=False)
                slot.status = "ready"
            except LatentmapError as error:
                slot.status = f"unavailable: {error}"

        threading.Thread(target=work, daemon=True).start()
        return slot
