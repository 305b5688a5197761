"""``latentmap`` command line: the thin shell over the importable core.

One module per command family (``data``, ``train``, ``typeface``, ``evaluate``, ``judge``, ``sweep``,
``embed``, ``explore``, ``fonts``, ``demo``), each with a ``register(commands)`` that adds its sub-commands.
Errors the user can fix (:class:`LatentmapError`) print one line and exit with status 2.
"""

import io
import sys
from collections.abc import Sequence

from ..version import __version__
from .common import OneLineParser, run


def build_parser() -> OneLineParser:
    from . import answer, data, demo, embed, evaluate, explore, fonts, import_model, judge, sweep, train, typeface

    parser = OneLineParser(
        prog="latentmap", description="Learn and explore latent representations of MNIST-style images."
    )
    parser.add_argument("--version", action="version", version=f"latentmap {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in (data, train, import_model, typeface, evaluate, judge, sweep, answer, embed, explore, fonts, demo):
        family.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):  # redirected to a log: each line as it is printed
        sys.stdout.reconfigure(line_buffering=True)
    args = build_parser().parse_args(argv)
    return run(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
