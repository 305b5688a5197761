"""Autoencoders latentmap did not train: any two callables (:func:`wrap_model`) or an ONNX
encoder/decoder pair (``latentmap import-model``, :mod:`.onnx_run`), behind the :class:`Run`
interface, so that ``compare``, ``embed``, ``evaluate``, samplers and the explorer take them
like a trained run.

The callables see images in the layout and scale the model was trained on (``input_shape``:
(28, 28), (784,), (1, 28, 28) or (28, 28, 1); ``input_scale`` 1 or 255); an encoder that
returns a tuple (a VAE's mean and log-variance) is read by its first element; the decoder's
output may be probabilities or logits (``decoder_output``), in any shape of 784 per image.

Most PyTorch and Keras decoders end without their sigmoid and many encoders take 0..255, and
a wrong guess decodes black without an error. So both default to ``auto``
(:func:`choose_conventions`): the four combinations reconstruct a few hundred test images
of the dataset, the best is kept and the choice said with its margin; a model whose best
reconstruction is worse than the dataset's mean image is of other data and refused.
"""

import hashlib
import os
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import LatentmapError
from ..models import Family, register
from .preprocess import Preprocessor
from .run import Run

LAYOUTS = {"flat": (784,), "image": (28, 28), "channels_first": (1, 28, 28), "channels_last": (28, 28, 1)}
OUTPUTS = ("probs", "logits")
SCALES = (1.0, 255.0)
PROBE = 8  # images pushed through at wrap time: the code size and a fingerprint of the weights
CONVENTION_IMAGES = 256  # test images that decide input_scale / decoder_output when they are auto


def to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, (tuple, list)):  # (mean, log-variance): the mean is the code
        value = value[0]
    if isinstance(value, dict):
        raise LatentmapError("the encoder returned a dict: wrap a function that returns the code array")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def takes_torch(function: Callable[..., Any]) -> bool:
    """A torch module, or a method of one, is called with tensors; anything else with arrays."""
    owner = getattr(function, "__self__", None)
    return isinstance(function, torch.nn.Module) or isinstance(owner, torch.nn.Module)


@dataclass(eq=False)
class ExternalRun(Run):
    """A latent space behind two functions, arrays in, arrays out (see the module docs)."""

    encode_fn: Callable[[np.ndarray], Any] = field(default=lambda x: x, repr=False)
    decode_fn: Callable[[np.ndarray], Any] = field(default=lambda z: z, repr=False)
    input_shape: tuple[int, ...] = (28, 28)
    input_scale: float = 1.0
    decoder_output: str = "probs"
    codes_dims: int = 0
    prior: bool = False

    @property
    def kind(self) -> str:
        return str(self.config["model"]["kind"])

    @property
    def label(self) -> str:
        """What messages call it: its name, which the folder it is built in may not have."""
        return str(self.config.get("name") or self.path.name)

    @property
    def d_latent(self) -> int:
        return self.codes_dims

    @property
    def has_prior(self) -> bool:
        return self.prior

    def features(self, images: np.ndarray) -> torch.Tensor:
        raise LatentmapError(f"{self.label} is a {self.kind} model: latentmap has no network to train or probe")

    def inputs(self, images: np.ndarray) -> np.ndarray:
        pixels = images.astype(np.float32) / 255 if images.dtype == np.uint8 else images.astype(np.float32)
        return (pixels * self.input_scale).reshape(len(pixels), *self.input_shape)

    def encode_batch(self, images: np.ndarray) -> np.ndarray:
        """(Run.encode checks the shape and quantises, as for a trained run.)"""
        codes = self.call(self.encode_fn, self.inputs(images))
        check_finite(codes, f"the encoder of {self.label}", "codes")
        if codes.ndim != 2 or len(codes) != len(images) or (self.codes_dims and codes.shape[1] != self.codes_dims):
            raise LatentmapError(f"the encoder of {self.label} returned shape {codes.shape} for {len(images)} images")
        return codes

    def decode_batch(self, codes: np.ndarray) -> np.ndarray:
        return as_pixels(self.raw_decode(codes), self.decoder_output, self.input_scale)

    def raw_decode(self, codes: np.ndarray) -> np.ndarray:
        """What the decoder gives, (n, 784), before the output convention is applied."""
        out = self.call(self.decode_fn, codes)
        if out.size != len(codes) * 784:
            raise LatentmapError(
                f"the decoder of {self.label} gave {out.size // max(len(codes), 1)} values per code: "
                "it must give 784 pixels (28x28)"
            )
        check_finite(out, f"the decoder of {self.label}", "pixels")
        return out.reshape(len(codes), 784)

    @staticmethod
    def call(function: Callable[[Any], Any], array: np.ndarray) -> np.ndarray:
        try:
            if takes_torch(function):
                with torch.no_grad():
                    return to_numpy(function(torch.from_numpy(array)))
            return to_numpy(function(array))
        except LatentmapError:
            raise
        except Exception as exc:  # the user's own code: say whose call failed, in one line
            raise LatentmapError(
                f"the model's function failed on input {array.shape}: {type(exc).__name__}: {exc}"
            ) from exc

    def fingerprint(self) -> tuple[int, str]:
        """The code size, and a hash of what the two functions compute on fixed inputs: a
        wrapped model has no weights file, so samplers and embeddings are keyed by this."""
        probe = np.random.default_rng(0).integers(0, 256, (PROBE, 28, 28)).astype(np.uint8)
        codes = self.encode(probe)
        if codes.ndim != 2:
            raise LatentmapError(f"the encoder must return one code vector per image, got shape {codes.shape}")
        self.codes_dims = codes.shape[1]
        decoded = self.decode(codes)
        digest = hashlib.sha256(self.kind.encode() + codes.tobytes() + decoded.tobytes())
        return self.codes_dims, digest.hexdigest()


def check_finite(values: np.ndarray, who: str, what: str) -> None:
    """NaN or inf from the user's model stops at the boundary, in one line (else it surfaces
    later as a traceback in an embedding or as NaN in a JSON file)."""
    if not np.isfinite(values).all():
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise LatentmapError(
            f"{who} returned NaN or inf ({bad} of {values.size} {what}): latentmap needs finite values"
        )


def as_pixels(raw: np.ndarray, decoder_output: str, input_scale: float) -> np.ndarray:
    """Decoder output -> pixels in [0, 1]: a sigmoid for logits, the input's scale for probs."""
    out = 1 / (1 + np.exp(-np.clip(raw, -80, 80))) if decoder_output == "logits" else raw / input_scale
    return np.clip(out, 0, 1).reshape(-1, 28, 28).astype(np.float32)


def check_options(input_shape: tuple[int, ...], input_scale: float | str, decoder_output: str) -> None:
    if int(np.prod(input_shape)) != 784:
        raise LatentmapError(f"input_shape {input_shape} is not 784 pixels: use one of {list(LAYOUTS.values())}")
    if input_scale != "auto" and input_scale not in SCALES:
        raise LatentmapError(f"input_scale must be auto, 1 (pixels in [0, 1]) or 255, got {input_scale}")
    if decoder_output != "auto" and decoder_output not in OUTPUTS:
        raise LatentmapError(f"decoder_output must be auto or one of {', '.join(OUTPUTS)}, got '{decoder_output}'")


def describe_conventions(input_scale: float, decoder_output: str) -> str:
    return f"{'0..255' if input_scale == 255 else '0..1'} in, {decoder_output} out"


def choose_conventions(
    run: ExternalRun, images: np.ndarray, input_scale: float | str = "auto", decoder_output: str = "auto"
) -> dict[str, Any]:
    """Set the run's input scale and decoder output, each as given or (``auto``) the one that
    reconstructs ``images`` best; returns what was tried and chosen, for config.json and the
    line the user reads. Refuses an automatic choice whose best reconstruction is worse than
    the images' mean image (a model of other data, or one that is not an autoencoder)."""
    pixels = images.astype(np.float32).reshape(len(images), 784) / 255
    baseline = float(np.mean((pixels - pixels.mean(axis=0)) ** 2))
    scales = SCALES if input_scale == "auto" else (float(input_scale),)
    outputs = OUTPUTS if decoder_output == "auto" else (decoder_output,)
    errors: dict[tuple[float, str], float] = {}
    raws = {}
    for scale in scales:
        run.input_scale = scale
        raws[scale] = run.raw_decode(run.encode_batch(images))
        for output in outputs:
            decoded = as_pixels(raws[scale], output, scale).reshape(len(images), 784)
            errors[scale, output] = float(np.mean((decoded - pixels) ** 2))
    ranked = sorted(errors, key=errors.__getitem__)
    (scale, output), automatic = ranked[0], len(errors) > 1
    run.input_scale, run.decoder_output = scale, output
    report: dict[str, Any] = {
        "auto": [k for k, v in (("input_scale", input_scale), ("decoder_output", decoder_output)) if v == "auto"],
        "mse": {describe_conventions(*k): round(v, 6) for k, v in errors.items()},
        "mean_image_mse": round(baseline, 6),
        "images": len(images),
    }
    name = run.label
    if automatic and errors[ranked[0]] >= baseline:
        raise LatentmapError(
            f"{name} reconstructs {len(images)} test images of {run.dataset_spec} worse than their mean image does "
            f"(best: {describe_conventions(scale, output)}, MSE {errors[ranked[0]]:.4f} vs {baseline:.4f}): "
            "is it a model of this dataset? (set input_scale and decoder_output to take it anyway)"
        )
    span = raws[scale] / scale
    if output == "probs" and (span.min() < -0.01 or span.max() > 1.01):
        report["warning"] = (
            f"the decoder gives values in [{span.min():.3g}, {span.max():.3g}] at this scale, not probabilities in "
            "[0, 1]: they are clipped (if it ends without its sigmoid, use decoder_output logits)"
        )
    return report


def conventions_line(report: dict[str, Any], input_scale: float, decoder_output: str) -> str:
    """One line on what was chosen and by how much: '… (auto: MSE 0.012; next best … 3.1x worse)'."""
    chosen = describe_conventions(input_scale, decoder_output)
    errors = report["mse"]
    line = f"{chosen}, reconstruction MSE {errors[chosen]:.4g} (mean image {report['mean_image_mse']:.4g})"
    others = sorted((v, k) for k, v in errors.items() if k != chosen)
    if report["auto"] and others:
        ratio = others[0][0] / max(errors[chosen], 1e-12)
        line += f"; auto chose it over {others[0][1]} ({ratio:.1f}x the error)"
    return line


def external_config(kind: str, name: str, dataset: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"model": {"kind": kind}, "preprocess": {}, "dataset": dataset, "name": name, kind: options}


def wrap_model(
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Any],
    dataset: str,
    name: str = "wrapped",
    input_shape: tuple[int, ...] = (28, 28),
    input_scale: float | str = "auto",
    decoder_output: str = "auto",
    prior: bool = False,
    folder: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = print,
) -> ExternalRun:
    """Any encoder and decoder as a run: numpy or torch in and out (torch for a module or its
    methods). ``input_scale`` (1, 255) and ``decoder_output`` (probs, logits) default to
    ``auto``: chosen by reconstructing test images of ``dataset``, and said in one line to
    ``log``. ``prior``: the codes were trained towards N(0, I) (offers the prior sampler).
    ``folder`` keeps fitted samplers (default: a temporary folder, removed with the run)."""
    check_options(tuple(input_shape), input_scale, decoder_output)
    if not callable(encode) or not callable(decode):
        raise LatentmapError("wrap_model needs two callables: encode(images) -> codes and decode(codes) -> images")
    scratch = Path(tempfile.gettempdir()) / f"latentmap-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    path = Path(folder) if folder is not None else scratch / name  # made only if a sampler is saved
    run = ExternalRun(
        path,
        external_config("wrapped", name, dataset, {"input_shape": list(input_shape), "prior": prior}),
        None,  # type: ignore[arg-type]  # no latentmap network behind it
        Preprocessor(),  # pixels in [0, 1]: what test MSE is measured on
        torch.device("cpu"),
        encode_fn=encode,
        decode_fn=decode,
        input_shape=tuple(input_shape),
        prior=prior,
    )
    _, run.weights_sha256 = run.fingerprint()  # the code size first: a misfit is refused in one line
    report = choose_conventions(run, convention_images(dataset), input_scale, decoder_output)
    run.config["wrapped"].update(input_scale=run.input_scale, decoder_output=run.decoder_output, conventions=report)
    _, run.weights_sha256 = run.fingerprint()  # of what the run now decodes
    if log is not None:
        log(f"{name}: {conventions_line(report, run.input_scale, run.decoder_output)}")
        if "warning" in report:
            log(f"{name}: warning: {report['warning']}")
    if folder is None:  # the scratch folder goes with the run (or the process)
        weakref.finalize(run, shutil.rmtree, scratch, True)
    return run


def convention_images(dataset: str, data: dict[str, Any] | None = None) -> np.ndarray:
    """The first test images of ``dataset`` that decide the automatic conventions."""
    from ..data import load_dataset

    return load_dataset(dataset, split="test", **(data or {})).images[:CONVENTION_IMAGES]


register(Family("wrapped", "Two Python functions, encode and decode (latentmap.wrap_model).", rank=201))
