"""The original `python cluster_fonts.py`; same as `latentmap fonts`."""

import sys

from latentmap.cli.fonts import script_main

if __name__ == "__main__":
    sys.exit(script_main())
