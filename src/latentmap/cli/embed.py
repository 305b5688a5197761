"""Command line of the original ``embed.py <weights_file>`` and ``latentmap embed <run>``."""

import argparse
import sys
from collections.abc import Sequence

from ..embed.job import EmbedJob, embed_run
from ..embed.methods import METHODS, NEIGHBOR_SEARCHES, PLANE, EmbedParams
from .common import DefaultsFormatter, OneLineParser, add_data_options, from_args, run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory or its model.safetensors (the original 'weights file')")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        metavar="METHOD",
        help=f"any of {', '.join(METHODS)}; a 2-dim run also gets {PLANE} (its code plane as the map)",
    )
    parser.add_argument("--split", choices=["train", "test", "all"], default="train", help="images to embed")
    parser.add_argument("--max_points", "--max-points", type=int, default=None, help="seeded subsample size")
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity")
    parser.add_argument("--n_neighbors", "--n-neighbors", type=int, default=15, help="UMAP neighbours")
    parser.add_argument("--min_dist", "--min-dist", type=float, default=0.1, help="UMAP minimum distance")
    parser.add_argument("--metric", default="euclidean", help="distance between codes (t-SNE and UMAP)")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed (UMAP is reproducible only with --n_jobs 1, its single-threaded mode)",
    )
    parser.add_argument(
        "--neighbors",
        choices=NEIGHBOR_SEARCHES,
        default="auto",
        help="nearest-neighbour search, done once for t-SNE and UMAP together: exact, hnsw (approximate, fast "
        "on large sets), auto (exact below 20,000 codes), or library (each library's own search)",
    )
    parser.add_argument("--n_jobs", "--n-jobs", type=int, default=-1, help="CPU threads for t-SNE and UMAP (-1: all)")
    parser.add_argument("--map_size", "--map-size", type=int, default=4096, help="side of map.png in pixels")
    parser.add_argument(
        "--thumbnail",
        default=None,
        help="typeface runs: the character each typeface is drawn as (default: A, else a, else 5)",
    )
    parser.add_argument("--out_dir", "--out-dir", default="embeddings", help="where the files go")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace embeddings at the same path made from other weights or parameters (otherwise refused; "
        "an identical one is kept, not recomputed)",
    )
    parser.add_argument(
        "--export",
        nargs=2,
        metavar=("FORMAT", "DIR"),
        default=None,
        help="also export for another tool: 'projector DIR' (TensorBoard Embedding Projector)",
    )
    add_data_options(parser)


def job_from_args(args: argparse.Namespace) -> EmbedJob:
    from ..errors import LatentmapError

    projector = None
    if args.export:
        kind, projector = args.export
        if kind != "projector":
            raise LatentmapError(f"unknown export format '{kind}': use 'projector DIR'")
    return from_args(EmbedJob, args, params=from_args(EmbedParams, args), projector_dir=projector)


def run_embed(args: argparse.Namespace) -> None:
    embed_run(job_from_args(args))


def register(commands: argparse._SubParsersAction) -> None:
    embed = commands.add_parser(
        "embed",
        help="project a run's latent codes to 2D (PCA, t-SNE, UMAP) and draw the map",
        formatter_class=DefaultsFormatter,
    )
    add_arguments(embed)
    embed.set_defaults(handler=run_embed)


def build_parser(prog: str | None = None, add_help: bool = True) -> OneLineParser:
    parser = OneLineParser(
        prog=prog,
        add_help=add_help,
        formatter_class=DefaultsFormatter,
        description="Encode a dataset with a trained run and project the codes to 2D.",
    )
    add_arguments(parser)
    return parser


def script_main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(prog="embed.py").parse_args(argv)
    return run(run_embed, args)


if __name__ == "__main__":
    sys.exit(script_main())
