"""``latentmap fonts`` and the original ``python cluster_fonts.py``: the typeface clustering app."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import common


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", default="alphanumeric", help="TMNIST dataset to cluster: alphanumeric (default) or numeric"
    )
    parser.add_argument(
        "--out_dir",
        "--out-dir",
        default=".",
        help="folder that relative save paths start from (default: the current directory)",
    )
    parser.add_argument(
        "--codes",
        metavar="RUN",
        help="a typeface run (latentmap train typeface): also cluster typefaces by its learned codes (on the page)",
    )
    common.add_server_arguments(parser, port=8001)  # the explorer's 8000 stays free: both can run at once


def run_fonts(args: argparse.Namespace) -> None:
    import numpy as np

    from ..atomic import ensure_writable_dir
    from ..data import load_dataset
    from ..typefaces import TypefaceCorpus
    from ..typefaces.corpus import typeface_codes
    from ..web.common import serve
    from ..web.fonts import FontsApp, create_app
    from ..web.security import Policy

    policy = Policy.for_server(args.host, args.allow_host, args.no_token)  # refused before loading
    out_dir = ensure_writable_dir(Path(args.out_dir).resolve())
    dataset = load_dataset(
        args.dataset, data_dir=args.data_dir, fonts_dir=args.fonts_dir, cache_dir=args.cache_dir, progress=True
    )
    paths = {"data_dir": args.data_dir, "fonts_dir": args.fonts_dir, "cache_dir": args.cache_dir}
    codes = typeface_codes(dataset, args.codes, **paths) if args.codes else None
    corpus = TypefaceCorpus(dataset, codes, args.codes or "")
    if codes is not None:
        print(f"learned codes of {int(np.isfinite(codes).all(axis=1).sum()):,} typefaces from {args.codes}")
    print(f"{len(corpus.names):,} typefaces x {len(corpus.chars)} characters ({dataset.source})")
    serve(create_app(FontsApp(corpus, out_dir), policy), args.host, args.port, not args.no_browser, policy)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("fonts", help="the typeface clustering app: curate and save a font_set.json")
    add_arguments(parser)
    parser.set_defaults(handler=run_fonts)


def script_main(argv: Sequence[str] | None = None) -> int:
    return common.script_main(
        "cluster_fonts.py", "Cluster typefaces and save a balanced font_set.json.", add_arguments, run_fonts, argv
    )


if __name__ == "__main__":
    sys.exit(script_main())
