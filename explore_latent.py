"""The original `python explore_latent.py <embedding_file>`; same as `latentmap explore`."""

import sys

from latentmap.cli.explore import script_main

if __name__ == "__main__":
    sys.exit(script_main())
