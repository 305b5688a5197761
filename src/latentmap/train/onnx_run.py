"""``latentmap import-model ENCODER.onnx DECODER.onnx``: an autoencoder exported elsewhere as
a run directory (``config.json`` and two ``.onnx`` files) that every command takes.

The files are the user's, or someone else's, and are run, not trusted:
- a run holds one self-contained file per model, and a model that refers to external data
  is refused when a run is loaded (onnxruntime would open whatever path the file names,
  hardlinks included); models over protobuf's 2 GB cannot be one file and are refused;
- every call runs with a time limit that grows with the batch (a ``Loop`` of 2^62
  iterations would otherwise hang this command and every later one that opens the run),
  and Ctrl-C stops it; onnxruntime's memory arena is off, so memory goes back after a call;
- its threads follow the one rule of :mod:`latentmap.cores`.
"""

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import publish_folder, staging_folder, write_text
from ..cores import threads_per_process
from ..errors import LatentmapError
from ..extras import require
from ..models import Family, register
from .external import (
    LAYOUTS,
    ExternalRun,
    check_options,
    choose_conventions,
    convention_images,
    external_config,
)
from .preprocess import Preprocessor
from .run import CONFIG, RUN_LOADERS, RunError, check_run_out

ENCODER, DECODER = "encoder.onnx", "decoder.onnx"
# A call may take CALL_SECONDS plus ITEM_SECONDS per image or code: minutes for a batch of
# 8192 through a large conv net on a slow CPU, seconds for the probes made at load.
CALL_SECONDS = 30.0
ITEM_SECONDS = 0.02
PROTOBUF_LIMIT = 2**31 - 1


def first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]


def onnx_session(model: bytes, name: str) -> Any:
    ort = require("onnxruntime", "onnx", "running an ONNX model")

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads_per_process(1)
    options.enable_cpu_mem_arena = False  # what a call allocated goes back when it returns
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for a bad file
        raise LatentmapError(f"{name} is not a readable ONNX model: {first_line(exc)}") from exc


def tensors(graph: Any) -> Iterator[Any]:
    """Every tensor a graph holds: initializers, constants in attributes, subgraphs'."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield from (sparse.values, sparse.indices)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            for sub in [attribute.g] if attribute.HasField("g") else []:
                yield from tensors(sub)
            for sub in attribute.graphs:
                yield from tensors(sub)


def read_run_model(path: Path) -> bytes:
    """A run's model file, refused if any tensor lives in external data."""
    onnx = require("onnx", "onnx", "an imported (ONNX) run")
    from onnx.external_data_helper import uses_external_data

    try:
        blob = path.read_bytes()
        model = onnx.load_model_from_string(blob)
    except Exception as exc:  # DecodeError, OSError, ...
        raise RunError(f"{path} is not a readable ONNX model: {first_line(exc)}") from exc
    if any(uses_external_data(tensor) for tensor in tensors(model.graph)):
        raise RunError(
            f"{path} refers to weights in external data files: an imported run holds self-contained models "
            "(import it again with latentmap import-model)"
        )
    return blob


def pack_onnx(source: Path, target: Path) -> None:
    """Copy a model as one self-contained file: exporters (torch's dynamo exporter among them)
    may keep the weights in a ``.data`` file beside it, which a run directory would lose."""
    onnx = require("onnx", "onnx", "latentmap import-model")

    try:
        model = onnx.load(str(source), load_external_data=False)
        if external_bytes(model, source.parent) + model.ByteSize() > PROTOBUF_LIMIT:  # before reading any of it
            raise LatentmapError(
                f"{source} holds over 2 GB: an imported model must fit in one ONNX file (2 GB at most)"
            )
        onnx.load_external_data_for_model(model, str(source.parent))  # the weights exporters keep beside it
    except LatentmapError:
        raise
    except Exception as exc:  # onnx raises DecodeError, OSError, ValidationError, ...
        raise LatentmapError(f"{source} is not a readable ONNX model: {first_line(exc)}") from exc
    try:
        onnx.save_model(model, str(target))
    except (ValueError, OSError) as exc:
        raise LatentmapError(f"cannot save {source} as one ONNX file: {first_line(exc)}") from exc


def external_bytes(model: Any, folder: Path) -> int:
    """What a model's external data would add: each tensor's stated length, else its file's size."""
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    total = 0
    for tensor in tensors(model.graph):
        if uses_external_data(tensor):
            info = ExternalDataInfo(tensor)
            path = folder / info.location
            total += int(info.length) if info.length else (path.stat().st_size if path.is_file() else 0)
    return total


def timed_run(session: Any, feeds: dict[str, np.ndarray], name: str, items: int) -> list[Any]:
    """``session.run`` within its time limit, stopped by Ctrl-C too: the call runs in a worker
    thread (onnxruntime releases the GIL) and is ended with RunOptions.terminate."""
    import onnxruntime as ort

    seconds = CALL_SECONDS + ITEM_SECONDS * items
    options, result = ort.RunOptions(), {}
    options.log_severity_level = 4  # its errors reach the user as our one line, not as its log

    finished = threading.Event()  # not Thread.join: on 3.11 a join that Ctrl-C broke returns at once after

    def work() -> None:
        try:
            result["out"] = session.run(None, feeds, options)
        except Exception as exc:  # reported below, in the caller's thread
            result["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=work, name="latentmap-onnx", daemon=True).start()
    try:
        finished.wait(seconds)
    except KeyboardInterrupt:
        options.terminate = True
        finished.wait(10)
        raise
    if not finished.is_set():
        options.terminate = True
        finished.wait(10)
        raise LatentmapError(
            f"{name} ran longer than {seconds:.0f} s on {items} inputs and was stopped: "
            "a model that loops, or one far too large for this machine"
        )
    if "error" in result:
        raise LatentmapError(f"{name} failed on input {feeds_shape(feeds)}: {first_line(result['error'])}")
    return list(result["out"])


def feeds_shape(feeds: dict[str, np.ndarray]) -> tuple[int, ...]:
    return next(iter(feeds.values())).shape


def onnx_function(session: Any, name: str) -> Callable[[np.ndarray], np.ndarray]:
    """A session as a function of one array, in batches of the model's fixed size if it has one."""
    first = session.get_inputs()[0]
    fixed = first.shape[0] if isinstance(first.shape[0], int) and first.shape[0] > 0 else None

    def call(array: np.ndarray) -> np.ndarray:
        return np.asarray(timed_run(session, {first.name: array}, name, len(array))[0])

    def run(array: np.ndarray) -> np.ndarray:
        if fixed is None:
            return call(array)
        outs = []
        for i in range(0, len(array), fixed):
            part = array[i : i + fixed]
            padded = np.concatenate([part, np.zeros((fixed - len(part), *part.shape[1:]), part.dtype)])
            outs.append(call(padded)[: len(part)])
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


def load_onnx_run(run_dir: Path, config: dict[str, Any], name: str | None = None) -> ExternalRun:
    """``name``: what messages call the run (its folder's name; an import's staging folder is
    named after the folder it becomes)."""
    options, name = config.get("onnx", {}), name or run_dir.name
    encoder, decoder = run_dir / ENCODER, run_dir / DECODER
    for path in (encoder, decoder):
        if not path.is_file() or path.is_symlink():
            raise RunError(f"{run_dir} is an imported ONNX run but {path.name} is missing")
    blobs = [read_run_model(path) for path in (encoder, decoder)]
    enc_session, dec_session = onnx_session(blobs[0], str(encoder)), onnx_session(blobs[1], str(decoder))
    shape = input_layout(enc_session, encoder)
    if options.get("input_shape") and tuple(options["input_shape"]) != shape:
        raise RunError(f"{encoder} takes images of shape {shape}, config.json says {options['input_shape']}")
    input_scale, decoder_output = options.get("input_scale", 1.0), options.get("decoder_output", "probs")
    try:
        check_options(shape, input_scale, decoder_output)
        if input_scale == "auto" or decoder_output == "auto":
            raise LatentmapError("config.json must hold the chosen input_scale and decoder_output, not auto")
    except LatentmapError as exc:
        raise RunError(f"{run_dir / CONFIG}: {exc}") from exc
    run = ExternalRun(
        run_dir,
        config,
        None,  # type: ignore[arg-type]  # no latentmap network behind it
        Preprocessor(),
        torch.device("cpu"),
        encode_fn=onnx_function(enc_session, f"the encoder of {name}"),
        decode_fn=onnx_function(dec_session, f"the decoder of {name}"),
        input_shape=shape,
        input_scale=float(input_scale),
        decoder_output=str(decoder_output),
        prior=bool(options.get("prior", False)),
    )
    run.codes_dims, _ = run.fingerprint()
    run.weights_sha256 = hashlib.sha256(b"".join(hashlib.sha256(blob).digest() for blob in blobs)).hexdigest()
    return run


def import_onnx(
    encoder: str | os.PathLike[str],
    decoder: str | os.PathLike[str],
    dataset: str,
    out: str | os.PathLike[str],
    input_scale: float | str = "auto",
    decoder_output: str = "auto",
    prior: bool = False,
    overwrite: bool = False,
    data: dict[str, Any] | None = None,
) -> ExternalRun:
    """A run directory from an ONNX encoder/decoder pair: the two files and a config.json.
    Checked before anything is written: both load, the encoder takes 28x28 images, the
    decoder gives 784 finite pixels per code, and the conventions (``auto``: the best of
    the four on test images) reconstruct better than the mean image."""
    check_options((784,), input_scale, decoder_output)
    encoder, decoder, out = Path(encoder), Path(decoder), Path(out)
    for path in (encoder, decoder):
        if not path.is_file():
            raise LatentmapError(f"{path} does not exist")
    check_run_out(out, overwrite)
    images = convention_images(dataset, data)  # an unknown dataset is refused before anything is written
    staging = staging_folder(out)
    try:
        pack_onnx(encoder, staging / ENCODER)
        pack_onnx(decoder, staging / DECODER)
        shape = input_layout(onnx_session((staging / ENCODER).read_bytes(), str(encoder)), encoder)
        options = {"input_shape": list(shape), "input_scale": 1.0, "decoder_output": "probs"}
        config = external_config(
            "onnx", out.name, dataset, {**options, "prior": prior, "files": [encoder.name, decoder.name]}
        )
        run = load_onnx_run(staging, config, out.name)  # probes both models: a misfit is refused here
        report = choose_conventions(run, images, input_scale, decoder_output)
        config["onnx"].update(input_scale=run.input_scale, decoder_output=run.decoder_output, conventions=report)
        write_text(staging / CONFIG, json.dumps(config, indent=2) + "\n")
        check_run_out(out, overwrite)  # nothing of the user's appeared there meanwhile
        publish_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    run.path = out
    return run


RUN_LOADERS["onnx"] = load_onnx_run
# Families without a latentmap network: listed beside the trained ones, never trained.
register(Family("onnx", "An ONNX encoder and decoder made elsewhere (latentmap import-model).", rank=200))
