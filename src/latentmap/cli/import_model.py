"""``latentmap import-model ENCODER.onnx DECODER.onnx``: an autoencoder trained elsewhere as a
run directory that every command takes."""

import argparse
import sys

from .common import add_data_options


def cmd_import_model(args: argparse.Namespace) -> None:
    from ..train.external import conventions_line
    from ..train.onnx_run import import_onnx

    run = import_onnx(
        args.encoder,
        args.decoder,
        args.dataset,
        args.out,
        input_scale=args.input_scale if args.input_scale == "auto" else float(args.input_scale),
        decoder_output=args.decoder_output,
        prior=args.prior,
        overwrite=args.overwrite,
        data={"data_dir": args.data_dir, "fonts_dir": args.fonts_dir, "cache_dir": args.cache_dir},
    )
    layout = " x ".join(["N", *map(str, run.input_shape)])
    print(f"imported {run.path}: encoder takes {layout}, {run.d_latent}-dim codes")
    conventions = run.config["onnx"]["conventions"]
    print(f"  {conventions_line(conventions, run.input_scale, run.decoder_output)}")
    if "warning" in conventions:
        print(f"latentmap: warning: {conventions['warning']}", file=sys.stderr)
    print(f"  try: latentmap compare {run.path} ... or latentmap embed {run.path}")


def register(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "import-model",
        help="an autoencoder of your own (ONNX encoder + decoder) as a run directory",
        description="Make a run directory from an ONNX encoder and decoder (exported with torch.onnx.export, "
        "tf2onnx, jax2onnx): evaluate, compare, embed, explore and sweep take it like a trained run.",
    )
    sub.add_argument(
        "encoder", help="ONNX model: images (N x 784, N x 28 x 28, N x 1 x 28 x 28 or N x 28 x 28 x 1) -> codes"
    )
    sub.add_argument("decoder", help="ONNX model: codes (N x d) -> 784 pixels per code")
    sub.add_argument(
        "--dataset", required=True, help="the dataset the model was trained on (a spec or an imported name)"
    )
    sub.add_argument("--out", required=True, help="run directory to create")
    sub.add_argument(
        "--input_scale",
        "--input-scale",
        choices=["auto", "1", "255"],
        default="auto",
        help="pixel scale the encoder expects: 1 ([0, 1]), 255, or auto: the one that reconstructs "
        "the dataset's test images best (default: %(default)s)",
    )
    sub.add_argument(
        "--decoder_output",
        "--decoder-output",
        choices=["auto", "probs", "logits"],
        default="auto",
        help="what the decoder gives: pixel values (probs), logits (a decoder without its sigmoid), or auto: "
        "the one that reconstructs best (default: %(default)s)",
    )
    sub.add_argument(
        "--prior", action="store_true", help="the codes were trained towards N(0, I) (a VAE): offer the prior sampler"
    )
    sub.add_argument("--overwrite", action="store_true", help="replace a run at --out")
    add_data_options(sub)
    sub.set_defaults(handler=cmd_import_model)
