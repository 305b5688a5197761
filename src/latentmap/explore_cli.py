"""``latentmap explore <embedding>...`` and the original ``python explore_latent.py <embedding>``."""

import argparse
import sys
from collections.abc import Sequence

from . import cli_common


def add_server_arguments(parser: argparse.ArgumentParser, port: int = 8000) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s, this machine only)"
    )
    parser.add_argument("--port", type=int, default=port, help="port (default: %(default)s)")
    parser.add_argument("--no_browser", "--no-browser", action="store_true", help="do not open a browser")
    cli_common.add_data_options(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "embeddings",
        nargs="+",
        metavar="EMBEDDING",
        help="embedding file(s) from `latentmap embed`; several can be switched between on the page",
    )
    add_server_arguments(parser)


def explore(
    embeddings: list[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = True,
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
) -> None:
    from .latent_ops import LatentSpace
    from .web.common import serve
    from .web.explorer import create_app

    spaces = [LatentSpace.load(path, data_dir, fonts_dir, cache_dir) for path in embeddings]
    for space in spaces:
        print(f"loaded {space.info['name']}: {space.count:,} points, {space.info['kind']} run {space.info['run']}")
    serve(create_app(spaces), host, port, open_browser)


def run_explore(args: argparse.Namespace) -> None:
    explore(args.embeddings, args.host, args.port, not args.no_browser, args.data_dir, args.fonts_dir, args.cache_dir)


def script_main(argv: Sequence[str] | None = None) -> int:
    return cli_common.script_main(
        "explore_latent.py", "Explore a latent space in the browser.", add_arguments, run_explore, argv
    )


if __name__ == "__main__":
    sys.exit(script_main())
