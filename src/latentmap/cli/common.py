"""Command-line plumbing shared by ``latentmap`` and the original scripts."""

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from ..errors import LatentmapError, LatentmapWarning

default_show_warning = warnings.showwarning
Command = Callable[[argparse.Namespace], None]


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults in --help, except None (the help text says what happens then)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line (what was wrong and where to look), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


T = TypeVar("T")


def from_args(cls: type[T], args: argparse.Namespace, **given: Any) -> T:
    """The dataclass ``cls`` with each field the parsed ``args`` hold (same names), and ``given``."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)} - set(given)  # type: ignore[arg-type]
    return cls(**{name: getattr(args, name) for name in names if hasattr(args, name)}, **given)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data locations")
    group.add_argument("--data-dir", "--data_dir", help="data root (default: $LATENTMAP_DATA or the user cache dir)")
    group.add_argument(
        "--fonts-dir",
        "--fonts_dir",
        help="font files for rebuilding TMNIST (default: $LATENTMAP_FONTS or <data root>/fonts)",
    )
    group.add_argument(
        "--cache-dir",
        "--cache_dir",
        help="where parsed datasets are cached (default: $LATENTMAP_CACHE or <data root>/cache)",
    )


def add_server_arguments(parser: argparse.ArgumentParser, port: int = 8000) -> None:
    """Where a web app listens and who may reach it (see ``latentmap.web.security``)."""
    group = parser.add_argument_group("server")
    group.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default: %(default)s, this machine only; any other address needs the printed token)",
    )
    group.add_argument("--port", type=int, default=port, help="port (default: %(default)s)")
    group.add_argument("--no_browser", "--no-browser", action="store_true", help="do not open a browser")
    group.add_argument(
        "--allow_host",
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests addressed to this host name (repeatable; e.g. a reverse proxy's name)",
    )
    group.add_argument(
        "--no_token",
        "--no-token",
        action="store_true",
        help="bound to a non-loopback address, serve without a token (anyone who can reach it may use it)",
    )
    add_data_options(parser)


def script_main(
    prog: str,
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    command: Command,
    argv: Sequence[str] | None = None,
) -> int:
    """Entry point of an original script (``explore_latent.py``, ``cluster_fonts.py``, ...)."""
    parser = OneLineParser(prog=prog, description=description)
    add_arguments(parser)
    return run(command, parser.parse_args(argv))


def show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    """Our warnings as one line (no file and line number: they are about the user's files)."""
    if issubclass(category, LatentmapWarning):
        print(f"latentmap: warning: {message}", file=sys.stderr)
    else:
        default_show_warning(message, category, *args, **kwargs)  # type: ignore[arg-type]


def run(command: Command, args: argparse.Namespace) -> int:
    """Run a command, turning user-fixable errors into one line on stderr."""
    warnings.showwarning = show_warning
    try:
        command(args)
    except LatentmapError as exc:
        print(f"latentmap: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("latentmap: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
