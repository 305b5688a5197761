"""The original `python embed.py <weights_file>` command line; same as `latentmap embed <run>`."""

import sys

from latentmap.cli.embed import script_main

if __name__ == "__main__":
    sys.exit(script_main())
