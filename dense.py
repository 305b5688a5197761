"""The original `python dense.py [flags]` command line; same as `latentmap train dense`."""

import sys

from latentmap.cli.train import script_main

if __name__ == "__main__":
    sys.exit(script_main("dense"))
