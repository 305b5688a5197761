"""``latentmap demo``: the whole story in one command.

Prepares MNIST (or ``--dataset NAME``, one the user imported), trains a small dense AE and
a small VAE (a few epochs each), embeds both with UMAP and opens the explorer on the VAE
with a switch to the AE. Runs and embeddings already in the demo folder are reused, so a
second start is quick.
"""

import argparse
from pathlib import Path

from ..embed.job import EmbedJob, embed_run
from ..embed.methods import EmbedParams
from ..train import TrainOptions, train
from .explore import explore

DEMO_POINTS = 20000  # UMAP on 20k codes takes seconds; the map stays dense enough to explore


def run_demo(args: argparse.Namespace) -> None:
    from ..data import load_dataset

    folder = Path(args.out)
    data = {"data_dir": args.data_dir, "fonts_dir": args.fonts_dir, "cache_dir": args.cache_dir}
    spec = args.dataset
    print(f"1/4 preparing {'MNIST (digits)' if spec == 'digits' else spec}")
    load_dataset(spec, progress=True, **data)
    models = {
        "vae": TrainOptions(kind="vae", layers=[256], d_latent=16, epochs=args.epochs, reg_lambda=0.01),
        "ae": TrainOptions(kind="dense", layers=[256], d_latent=16, epochs=args.epochs),
    }
    embeddings = []
    for step, (name, options) in enumerate(models.items(), start=2):
        run_dir = folder / f"{Path(spec).stem}-{name}"
        options.out, options.no_plot, options.dataset = str(run_dir), True, spec
        options.data_dir, options.fonts_dir, options.cache_dir = args.data_dir, args.fonts_dir, args.cache_dir
        if (run_dir / "model.safetensors").is_file() and not args.overwrite:
            print(f"{step}/4 reusing the {name.upper()} in {run_dir}")
        else:
            print(f"{step}/4 training a small {name.upper()} ({args.epochs} epochs)")
            options.overwrite = True
            train(options)
        embedding = folder / "embeddings" / f"{run_dir.name}.embed-umap.npz"
        if args.overwrite or not embedding_is_current(embedding, run_dir):
            print(f"    embedding {DEMO_POINTS:,} training codes with UMAP")
            embed_run(
                EmbedJob(
                    run=str(run_dir),
                    methods=["umap"],
                    max_points=DEMO_POINTS,
                    params=EmbedParams(),
                    overwrite=True,  # stale (checked above): replaced
                    out_dir=str(folder / "embeddings"),
                    map_size=2048,
                    **data,
                )
            )
        embeddings.append(str(embedding))
    print("4/4 starting the explorer (VAE first; switch to the AE at the top of the page)")
    explore(
        embeddings,
        args.host,
        args.port,
        not args.no_browser,
        **data,
        allow_hosts=args.allow_host,
        no_token=args.no_token,
    )


def embedding_is_current(path: Path, run_dir: Path) -> bool:
    """The embedding exists, is readable and was made from the run's present weights."""
    from ..embed.file import EmbeddingError, check_weights, load_embedding
    from ..train.run import load_run

    try:
        check_weights(load_embedding(path), load_run(run_dir).weights_sha256)
    except EmbeddingError:
        return False
    return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="latentmap-demo", help="folder for the demo runs (default: %(default)s)")
    parser.add_argument(
        "--dataset", default="digits", help="dataset spec or a name given to `latentmap data import` (default: digits)"
    )
    parser.add_argument("--epochs", type=int, default=6, help="training epochs per model (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="retrain and re-embed even if results exist")


def register(commands: argparse._SubParsersAction) -> None:
    from .common import add_server_arguments

    parser = commands.add_parser("demo", help="train a small AE and VAE on MNIST (or --dataset), embed, explore")
    add_arguments(parser)
    add_server_arguments(parser)
    parser.set_defaults(handler=run_demo)
