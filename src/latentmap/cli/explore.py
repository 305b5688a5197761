"""``latentmap explore <embedding>...`` and the original ``python explore_latent.py <embedding>``."""

import argparse
import sys
from collections.abc import Sequence

from . import common


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "embeddings",
        nargs="+",
        metavar="EMBEDDING",
        help="embedding file(s) from `latentmap embed`; several can be switched between on the page",
    )
    common.add_server_arguments(parser)
    parser.add_argument(
        "--no_judge",
        "--no-judge",
        action="store_true",
        help="no judge verdicts or validity layer (default: load the dataset's judge, or train it in the background)",
    )


def explore(
    embeddings: list[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = True,
    data_dir: str | None = None,
    fonts_dir: str | None = None,
    cache_dir: str | None = None,
    allow_hosts: list[str] | None = None,
    no_token: bool = False,
    judge: bool = True,
) -> None:
    from ..spaces.load import load_spaces
    from ..web.common import serve
    from ..web.explorer import create_app
    from ..web.security import Policy

    policy = Policy.for_server(host, allow_hosts, no_token)  # a bad --allow_host is refused before loading
    spaces = load_spaces(embeddings, data_dir, fonts_dir, cache_dir, judge)
    serve(create_app(spaces, policy), host, port, open_browser, policy)


def run_explore(args: argparse.Namespace) -> None:
    explore(
        args.embeddings,
        args.host,
        args.port,
        not args.no_browser,
        args.data_dir,
        args.fonts_dir,
        args.cache_dir,
        allow_hosts=args.allow_host,
        no_token=args.no_token,
        judge=not args.no_judge,
    )


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("explore", help="open the latent explorer web app on embedding file(s)")
    add_arguments(parser)
    parser.set_defaults(handler=run_explore)


def script_main(argv: Sequence[str] | None = None) -> int:
    return common.script_main(
        "explore_latent.py", "Explore a latent space in the browser.", add_arguments, run_explore, argv
    )


if __name__ == "__main__":
    sys.exit(script_main())
