"""Autoencoders latentmap did not train: any two callables (:func:`wrap_model`) or an ONNX
encoder/decoder pair (``latentmap import-model``), behind the :class:`Run` interface, so that
``compare``, ``embed``, ``evaluate``, samplers and the explorer take them like a trained run.

The callables see images in the layout and scale the model was trained on (``input_shape``:
(28, 28), (784,), (1, 28, 28) or (28, 28, 1); ``input_scale`` 1 or 255); an encoder that
returns a tuple (a VAE's mean and log-variance) is read by its first element; the decoder's
output may be probabilities or logits (``decoder_output``), in any shape of 784 per image.
"""

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import ensure_writable_dir, write_text
from ..errors import LatentmapError
from ..models import Family, register
from .preprocess import Preprocessor
from .run import CONFIG, RUN_LOADERS, Run, RunError

LAYOUTS = {"flat": (784,), "image": (28, 28), "channels_first": (1, 28, 28), "channels_last": (28, 28, 1)}
OUTPUTS = ("probs", "logits")
ENCODER, DECODER = "encoder.onnx", "decoder.onnx"
PROBE = 8  # images pushed through at wrap time: the code size and a fingerprint of the weights


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
    def d_latent(self) -> int:
        return self.codes_dims

    @property
    def has_prior(self) -> bool:
        return self.prior

    def features(self, images: np.ndarray) -> torch.Tensor:
        raise LatentmapError(f"{self.path.name} is a {self.kind} model: latentmap has no network to train or probe")

    def inputs(self, images: np.ndarray) -> np.ndarray:
        pixels = images.astype(np.float32) / 255 if images.dtype == np.uint8 else images.astype(np.float32)
        return (pixels * self.input_scale).reshape(len(pixels), *self.input_shape)

    def encode_batch(self, images: np.ndarray) -> np.ndarray:
        """(Run.encode checks the shape and quantises, as for a trained run.)"""
        codes = self.call(self.encode_fn, self.inputs(images))
        if codes.ndim != 2 or len(codes) != len(images) or (self.codes_dims and codes.shape[1] != self.codes_dims):
            raise LatentmapError(
                f"the encoder of {self.path.name} returned shape {codes.shape} for {len(images)} images"
            )
        return codes

    def decode_batch(self, codes: np.ndarray) -> np.ndarray:
        out = self.call(self.decode_fn, codes)
        if out.size != len(codes) * 784:
            raise LatentmapError(
                f"the decoder of {self.path.name} gave {out.size // max(len(codes), 1)} values per code: "
                "it must give 784 pixels (28x28)"
            )
        out = 1 / (1 + np.exp(-out)) if self.decoder_output == "logits" else out / self.input_scale
        return np.clip(out, 0, 1).reshape(-1, 28, 28).astype(np.float32)

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


def check_options(input_shape: tuple[int, ...], input_scale: float, decoder_output: str) -> None:
    if int(np.prod(input_shape)) != 784:
        raise LatentmapError(f"input_shape {input_shape} is not 784 pixels: use one of {list(LAYOUTS.values())}")
    if input_scale not in (1, 255):
        raise LatentmapError(f"input_scale must be 1 (pixels in [0, 1]) or 255, got {input_scale}")
    if decoder_output not in OUTPUTS:
        raise LatentmapError(f"decoder_output must be one of {', '.join(OUTPUTS)}, got '{decoder_output}'")


def external_config(kind: str, name: str, dataset: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"model": {"kind": kind}, "preprocess": {}, "dataset": dataset, "name": name, kind: options}


def wrap_model(
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Any],
    dataset: str,
    name: str = "wrapped",
    input_shape: tuple[int, ...] = (28, 28),
    input_scale: float = 1.0,
    decoder_output: str = "probs",
    prior: bool = False,
    folder: str | os.PathLike[str] | None = None,
) -> ExternalRun:
    """Any encoder and decoder as a run: numpy or torch in and out (torch for a module or its
    methods). ``prior``: the codes were trained towards N(0, I) (offers the prior sampler).
    ``folder`` keeps fitted samplers (default: a temporary folder named after ``name``)."""
    check_options(tuple(input_shape), input_scale, decoder_output)
    if not callable(encode) or not callable(decode):
        raise LatentmapError("wrap_model needs two callables: encode(images) -> codes and decode(codes) -> images")
    path = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="latentmap-")) / name
    options = {"input_shape": list(input_shape), "input_scale": input_scale, "decoder_output": decoder_output}
    run = ExternalRun(
        path,
        external_config("wrapped", name, dataset, {**options, "prior": prior}),
        None,  # type: ignore[arg-type]  # no latentmap network behind it
        Preprocessor(),  # pixels in [0, 1]: what test MSE is measured on
        torch.device("cpu"),
        encode_fn=encode,
        decode_fn=decode,
        input_shape=tuple(input_shape),
        input_scale=input_scale,
        decoder_output=decoder_output,
        prior=prior,
    )
    _, run.weights_sha256 = run.fingerprint()
    return run


# --------------------------------------------------------------------------- ONNX


def onnx_session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("LATENTMAP_THREADS", "0"))
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for a bad file
        raise LatentmapError(f"{path} is not a readable ONNX model: {str(exc).splitlines()[0][:300]}") from exc


def pack_onnx(source: Path, target: Path) -> None:
    """Copy a model as one self-contained file: exporters (torch's dynamo exporter among them)
    may keep the weights in a ``.data`` file beside it, which a run directory would lose."""
    import onnx

    try:
        model = onnx.load(str(source))  # protobuf, and the external data next to it
    except Exception as exc:  # onnx raises DecodeError, OSError, ValidationError, ...
        raise LatentmapError(f"{source} is not a readable ONNX model: {str(exc).splitlines()[0][:300]}") from exc
    onnx.save_model(model, str(target))


def onnx_function(session: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A session as a function of one array, in batches of the model's fixed size if it has one."""
    first = session.get_inputs()[0]
    fixed = first.shape[0] if isinstance(first.shape[0], int) and first.shape[0] > 0 else None

    def run(array: np.ndarray) -> np.ndarray:
        if fixed is None:
            return np.asarray(session.run(None, {first.name: array})[0])
        outs = []
        for i in range(0, len(array), fixed):
            part = array[i : i + fixed]
            padded = np.concatenate([part, np.zeros((fixed - len(part), *part.shape[1:]), part.dtype)])
            outs.append(np.asarray(session.run(None, {first.name: padded})[0])[: len(part)])
        return np.concatenate(outs)

    return run


def input_layout(session: Any, path: Path) -> tuple[int, ...]:
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise LatentmapError(f"{path} takes {len(inputs)} inputs: an encoder takes one batch of images")
    per_image = tuple(d if isinstance(d, int) else -1 for d in inputs[0].shape[1:])
    for shape in LAYOUTS.values():
        if per_image == shape:
            return shape
    raise LatentmapError(
        f"{path} takes images of shape {list(inputs[0].shape)}: expected N x 784, N x 28 x 28, N x 1 x 28 x 28 "
        "or N x 28 x 28 x 1"
    )


def load_onnx_run(run_dir: Path, config: dict[str, Any]) -> ExternalRun:
    options = config.get("onnx", {})
    encoder, decoder = run_dir / ENCODER, run_dir / DECODER
    for path in (encoder, decoder):
        if not path.is_file():
            raise RunError(f"{run_dir} is an imported ONNX run but {path.name} is missing")
    enc_session, dec_session = onnx_session(encoder), onnx_session(decoder)
    shape = input_layout(enc_session, encoder)
    if options.get("input_shape") and tuple(options["input_shape"]) != shape:
        raise RunError(f"{encoder} takes images of shape {shape}, config.json says {options['input_shape']}")
    run = ExternalRun(
        run_dir,
        config,
        None,  # type: ignore[arg-type]  # no latentmap network behind it
        Preprocessor(),
        torch.device("cpu"),
        encode_fn=onnx_function(enc_session),
        decode_fn=onnx_function(dec_session),
        input_shape=shape,
        input_scale=float(options.get("input_scale", 1)),
        decoder_output=str(options.get("decoder_output", "probs")),
        prior=bool(options.get("prior", False)),
    )
    run.codes_dims, _ = run.fingerprint()
    digest = hashlib.sha256()
    for path in (encoder, decoder):
        digest.update(path.read_bytes())
    run.weights_sha256 = digest.hexdigest()
    return run


def import_onnx(
    encoder: str | os.PathLike[str],
    decoder: str | os.PathLike[str],
    dataset: str,
    out: str | os.PathLike[str],
    input_scale: float = 1.0,
    decoder_output: str = "probs",
    prior: bool = False,
    overwrite: bool = False,
    data: dict[str, Any] | None = None,
) -> ExternalRun:
    """A run directory from an ONNX encoder/decoder pair: the two files and a config.json.
    Checked before anything is written: both load, the encoder takes 28x28 images, the
    decoder gives 784 pixels per code."""
    from ..data import load_dataset

    check_options((784,), input_scale, decoder_output)
    encoder, decoder, out = Path(encoder), Path(decoder), Path(out)
    for path in (encoder, decoder):
        if not path.is_file():
            raise LatentmapError(f"{path} does not exist")
    if (out / CONFIG).exists() and not overwrite:
        raise LatentmapError(f"{out} already holds a run: add --overwrite to replace it, or choose another --out")
    load_dataset(dataset, **(data or {}))  # an unknown dataset is refused before anything is written
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=ensure_writable_dir(out.parent)))
    try:
        pack_onnx(encoder, staging / ENCODER)
        pack_onnx(decoder, staging / DECODER)
        shape = input_layout(onnx_session(staging / ENCODER), encoder)
        options = {"input_shape": list(shape), "input_scale": input_scale, "decoder_output": decoder_output}
        config = external_config(
            "onnx", out.name, dataset, {**options, "prior": prior, "files": [encoder.name, decoder.name]}
        )
        write_text(staging / CONFIG, json.dumps(config, indent=2) + "\n")
        run = load_onnx_run(staging, config)  # probes both models: a misfit is refused here
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    run.path = out
    return run


RUN_LOADERS["onnx"] = load_onnx_run
# Families without a latentmap network: listed beside the trained ones, never trained.
register(Family("onnx", "An ONNX encoder and decoder made elsewhere (latentmap import-model).", rank=200))
register(Family("wrapped", "Two Python functions, encode and decode (latentmap.wrap_model).", rank=201))
