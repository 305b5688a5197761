"""``latentmap answer REPORT.json...``: the answer's tables, reading and verdict in words,
generated from a sweep's reports, printed or written between a page's markers, and drawn in
one picture."""

import argparse

from .common import DefaultsFormatter


def cmd_answer(args: argparse.Namespace) -> None:
    from ..quality.verdict import answer

    print(answer(args.reports, args.write, args.block, args.picture))


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "answer",
        help="the answer generated from sweep reports: tables, verdict in words, one picture",
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        formatter_class=DefaultsFormatter,
    )
    parser.add_argument(
        "reports", nargs="+", metavar="REPORT", help="report.json of each dataset (a sweep writes <out>/<dataset>/)"
    )
    parser.add_argument("--write", metavar="FILE", help="put the block between FILE's markers of --block")
    parser.add_argument("--block", default="answer", help="the markers' name: <!-- NAME: begin -->")
    parser.add_argument("--picture", metavar="PNG", help="also draw the answer in one picture")
    parser.set_defaults(handler=cmd_answer)
