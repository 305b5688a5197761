"""The command reference of the manual, generated from the argparse parsers themselves
(``docs/gen_reference.py`` writes it at build time), so no flag is documented by hand."""

import argparse
import os
from collections.abc import Iterator
from unittest import mock

WIDTH = 100  # the help's line width in the manual, whatever terminal builds it


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(command line, its --help) for ``parser`` and every sub-command under it, in order;
    an alias is listed once, under its first name."""
    yield " ".join(path), parser.format_help()
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    yield from commands(sub, (*path, name))


def reference_markdown() -> str:
    from . import build_parser

    with mock.patch.dict(os.environ, {"COLUMNS": str(WIDTH)}):  # argparse wraps to the terminal's width
        found = list(commands(build_parser(), ("latentmap",)))
    lines = [
        "# Command reference",
        "",
        "Every command's `--help`, generated from the parsers when the manual is built.",
        "",
    ]
    for line, text in found:
        lines += [f"## `{line}`", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(lines)
