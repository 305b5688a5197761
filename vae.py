"""The original `python vae.py [flags]` command line; same as `latentmap train vae`."""

import sys

from latentmap.cli.train import script_main

if __name__ == "__main__":
    sys.exit(script_main("vae"))
