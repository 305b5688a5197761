"""Generated pages of the manual (run by mkdocs-gen-files at build time): the command
reference, from the argparse parsers."""

import mkdocs_gen_files

from latentmap.cli.reference import reference_markdown

with mkdocs_gen_files.open("reference/cli.md", "w") as page:
    page.write(reference_markdown())
