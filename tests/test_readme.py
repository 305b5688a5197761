"""The README's Python examples run as written, on the runs its own commands make."""

import re
import shlex
from pathlib import Path

import numpy as np

from latentmap.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
# Small sizes for the README's commands: the same run directory, a fraction of the work.
QUICK = ["--epochs", "1", "--stages", "1", "--max_train", "500", "--no_plot"]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def command(prefix: str) -> list[str]:
    """The first README command line that starts with ``prefix``, as arguments."""
    for block in blocks("bash"):
        for line in block.splitlines():
            if line.startswith(prefix):
                return shlex.split(line.split("#")[0])[len(shlex.split(prefix)) :]
    raise AssertionError(f"the README has no '{prefix}' command")


def test_python_examples_run_as_written(data_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "dense", *command("python dense.py"), *QUICK]) == 0
    examples = blocks("python")
    assert len(examples) >= 2, "the README's Python examples went missing"
    for example in examples:
        namespace: dict = {}
        exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["decoded"].shape == (len(namespace["images"]), 28, 28)
    assert namespace["codes"].shape[1] == namespace["run"].d_latent
    assert np.isfinite(namespace["decoded"]).all()
